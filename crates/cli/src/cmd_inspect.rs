//! `obscura inspect`: show an export's manifest without decrypting anything.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::Outcome;

/// Arguments of `obscura inspect`.
#[derive(Args, Debug)]
pub struct InspectArgs {
    /// The export to show.
    #[arg(value_name = "FILE.obx")]
    pub file: PathBuf,
    /// Print one JSON document on standard output (format `obscura-inspect/1`, docs/JSON.md):
    /// the manifest, NOT verified.
    #[arg(long)]
    pub json: bool,
}

/// Runs `obscura inspect`.
pub fn run(args: InspectArgs, _quiet: bool) -> Result<Outcome> {
    match obscura_seal::inspect(&args.file) {
        Ok(m) => {
            if args.json {
                crate::output::print_json(
                    "inspect",
                    &serde_json::json!({
                        "file": args.file.display().to_string(),
                        "verified": false,
                        "manifest": m,
                    }),
                )?;
            } else {
                println!(
                    "{} (manifest NOT verified; run `obscura verify`)",
                    args.file.display()
                );
                use crate::cmd_verify::shown;
                println!(
                    "  signer:     {} (claimed, NOT verified)",
                    shown(&m.signer.fingerprint)
                );
                crate::cmd_verify::print_summary(&m);
                for s in &m.sources {
                    println!(
                        "  source:     {} sha256 {}",
                        shown(&s.name),
                        shown(&s.sha256)
                    );
                }
                for c in &m.cameras {
                    println!(
                        "  camera {}: {} included, {} excluded interval(s)",
                        shown(&c.camera),
                        c.included.len(),
                        c.excluded.len()
                    );
                }
            }
            Ok(Outcome::Ok)
        }
        Err(e) if e.is_finding() && args.json => {
            crate::output::print_json(
                "inspect",
                &serde_json::json!({
                    "file": args.file.display().to_string(),
                    "verified": false,
                    "manifest": null,
                    "reason": e.to_string(),
                }),
            )?;
            Ok(Outcome::Findings)
        }
        Err(e) if e.is_finding() => {
            println!(
                "FAILED: {}: {}",
                args.file.display(),
                crate::cmd_verify::shown(&e.to_string())
            );
            Ok(Outcome::Findings)
        }
        Err(e) => Err(e.into()),
    }
}
