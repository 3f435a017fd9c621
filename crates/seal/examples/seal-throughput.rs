//! Throughput driver for `scripts/bench-seal.sh`: seals, verifies or opens one file with
//! fixed benchmark keys and prints bytes, seconds and MB/s (MB = 10^6 bytes, like
//! `openssl speed`). Run one operation per process so peak RSS can be measured per step.
//!
//! ```text
//! seal-throughput seal INPUT OUT.obx
//! seal-throughput verify OUT.obx
//! seal-throughput open OUT.obx OUTDIR
//! ```

use std::path::Path;
use std::time::Instant;

use obscura_seal::{Identity, RecipientSecretKey, SealBuilder, Signer, SigningKey};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let signer = SigningKey::from_seed(&[0x5e; 32]);
    let recipient = RecipientSecretKey::from_bytes(&[0x4e; 32]);
    let t = Instant::now();
    let bytes = match args.get(1).map(String::as_str) {
        Some("seal") if args.len() == 4 => {
            let input = Path::new(&args[2]);
            let m = SealBuilder::new(&signer)
                .recipient(recipient.public_key())
                .add_payload_file("payload.bin", "application/octet-stream", input)
                .write_to(Path::new(&args[3]))?;
            m.payloads[0].plaintext_size
        }
        Some("verify") if args.len() == 3 => {
            let v = obscura_seal::verify(Path::new(&args[2]), Some(&signer.public_key()))?;
            v.file_size
        }
        Some("open") if args.len() == 4 => {
            std::fs::create_dir_all(&args[3])?;
            let files = obscura_seal::open(
                Path::new(&args[2]),
                &Identity::Recipient(recipient),
                Path::new(&args[3]),
                false,
            )?;
            files
                .iter()
                .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
                .sum()
        }
        _ => {
            eprintln!(
                "usage: seal-throughput (seal INPUT OUT.obx | verify OUT.obx | open OUT.obx OUTDIR)"
            );
            std::process::exit(2);
        }
    };
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{} bytes {bytes} seconds {secs:.3} MB/s {:.1}",
        args[1],
        bytes as f64 / secs / 1e6
    );
    Ok(())
}
