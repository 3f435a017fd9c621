//! `obscura keygen`: a signing key pair and a recipient key pair as text files.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use obscura_seal::{
    KdfParams, Passphrase, RecipientSecretKey, Signer, SigningKey, create_key_file,
};

use zeroize::Zeroizing;

use crate::Outcome;

/// Arguments of `obscura keygen`.
#[derive(Args, Debug)]
pub struct KeygenArgs {
    /// Folder to write the key files into (created if missing). Key files are never
    /// overwritten, not even with --force: a replaced secret key could no longer open the
    /// exports sealed to it; use another --name or folder.
    #[arg(short = 'o', long = "output", alias = "out", value_name = "DIR")]
    pub out: PathBuf,
    /// Base name of the files: NAME.sign.key, NAME.sign.pub, NAME.recipient.key, NAME.recipient.pub.
    #[arg(long, default_value = "obscura")]
    pub name: String,
    /// Protect the two secret files with the passphrase on the first line of this file
    /// (Argon2id, 64 MiB, t=3, then AES-256-GCM).
    #[arg(long, value_name = "FILE")]
    pub protect_with_passphrase_file: Option<PathBuf>,
    /// Audit log to record the new keys' public fingerprints in (default: $OBSCURA_AUDIT_LOG or
    /// ~/.local/state/obscura/audit.jsonl); best effort: a warning if it cannot be written.
    #[arg(long, value_name = "PATH")]
    pub audit_log: Option<PathBuf>,
    /// Print one JSON document on standard output (format `obscura-keygen/1`, docs/JSON.md).
    #[arg(long)]
    pub json: bool,
}

/// Runs `obscura keygen`.
pub fn run(args: KeygenArgs, _quiet: bool) -> Result<Outcome> {
    if args.name.is_empty() || args.name.contains(['/', '\\']) || args.name.starts_with('.') {
        bail!("invalid --name {:?}: must be a plain file name", args.name);
    }
    let protect = match &args.protect_with_passphrase_file {
        Some(f) => Some(Passphrase::read_file(f)?),
        None => None,
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create folder", args.out.display()))?;
    let path = |ext: &str| args.out.join(format!("{}.{ext}", args.name));
    let files = [
        path("sign.key"),
        path("sign.pub"),
        path("recipient.key"),
        path("recipient.pub"),
    ];
    for f in &files {
        if f.symlink_metadata().is_ok() {
            bail!(
                "{}: already exists (key files are never overwritten, not even with --force; use another --name or folder)",
                f.display()
            );
        }
    }
    let sk = SigningKey::generate()?;
    let rk = RecipientSecretKey::generate()?;
    let p = protect.as_ref().map(|p| (p, KdfParams::default()));
    let texts = [
        (sk.to_key_text(p)?, true),
        (Zeroizing::new(sk.public_key().to_key_text()), false),
        (rk.to_key_text(p)?, true),
        (Zeroizing::new(rk.public_key().to_key_text()), false),
    ];
    let mut written: Vec<&Path> = Vec::new();
    for (f, (text, secret)) in files.iter().zip(&texts) {
        if let Err(e) = create_key_file(f, text.as_str(), *secret) {
            for w in &written {
                let _ = std::fs::remove_file(w);
            }
            return Err(e.into());
        }
        written.push(f);
    }
    let record = |e: obscura_audit::Entry| {
        if let Err(e) = crate::cmd_audit::append(args.audit_log.as_deref(), e) {
            eprintln!("obscura: warning: {e:#}");
        }
    };
    let mut entry = obscura_audit::Entry::new(obscura_audit::Action::Keygen, "ok");
    entry.operator = crate::cmd_audit::operator_from_env();
    entry.detail = serde_json::json!({
        "signing_fingerprint": sk.public_key().fingerprint(),
        "recipient_fingerprint": rk.public_key().fingerprint(),
        "protected": protect.is_some(),
    });
    if args.json {
        record(entry);
        let shown = |p: &Path| p.display().to_string();
        crate::output::print_json(
            "keygen",
            &serde_json::json!({
                "signing": {
                    "secret": shown(&files[0]),
                    "public": shown(&files[1]),
                    "fingerprint": sk.public_key().fingerprint(),
                },
                "recipient": {
                    "secret": shown(&files[2]),
                    "public": shown(&files[3]),
                    "fingerprint": rk.public_key().fingerprint(),
                },
                "protected": protect.is_some(),
            }),
        )?;
        return Ok(Outcome::Ok);
    }
    println!("signing key:   {} (secret, mode 0600)", files[0].display());
    println!(
        "               {} (public, fingerprint {})",
        files[1].display(),
        sk.public_key().fingerprint()
    );
    println!("recipient key: {} (secret, mode 0600)", files[2].display());
    println!(
        "               {} (public, fingerprint {})",
        files[3].display(),
        rk.public_key().fingerprint()
    );
    if protect.is_some() {
        println!("secret files are passphrase-protected");
    }
    record(entry);
    Ok(Outcome::Ok)
}
