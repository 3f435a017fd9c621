//! `obscura seal`: encrypt and sign files into one export. Also the key-loading helpers
//! shared by `verify` and `open`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use obscura_seal::{
    Date, Passphrase, RecipientPublicKey, RecipientSecretKey, SealBuilder, SignerPublicKey,
    SigningKey,
};

use crate::Outcome;

/// Arguments of `obscura seal`.
#[derive(Args, Debug)]
pub struct SealArgs {
    /// Audit log to append the sealing to (default: $OBSCURA_AUDIT_LOG or
    /// ~/.local/state/obscura/audit.jsonl); if it cannot be written the package is removed.
    #[arg(long, value_name = "PATH")]
    pub audit_log: Option<PathBuf>,
    /// Files to seal (each becomes a payload named after its file name).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output export (written atomically; an existing file is refused unless --force).
    #[arg(short = 'o', long = "output", alias = "out", value_name = "OUT.obx")]
    pub out: PathBuf,
    /// Overwrite an existing output (atomically; never an input).
    #[arg(long)]
    pub force: bool,
    /// Signing secret key file (NAME.sign.key).
    #[arg(long, value_name = "SIGNING_KEY")]
    pub sign: PathBuf,
    /// Recipient public key file (NAME.recipient.pub) or key line; repeatable.
    #[arg(long = "recipient", alias = "to", value_name = "RECIPIENT_PUB")]
    pub to: Vec<String>,
    /// Also (or only) encrypt to the passphrase on the first line of this file (Argon2id 64 MiB, t=3).
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Retention expiry: last day (UTC) the export may be opened, YYYY-MM-DD (default:
    /// today plus --retention-days, the same default as `obscura export`).
    #[arg(long, value_name = "YYYY-MM-DD", conflicts_with = "never_expires")]
    pub expires: Option<String>,
    /// Retention in days when --expires is not given.
    #[arg(long, default_value_t = obscura_request::DEFAULT_RETENTION_DAYS, value_name = "N", conflicts_with = "never_expires")]
    pub retention_days: u32,
    /// Seal without any expiry date (the export never expires; `purge` never deletes it).
    #[arg(long)]
    pub never_expires: bool,
    /// Request reference (case number) recorded in the manifest.
    #[arg(long, value_name = "REF")]
    pub reference: Option<String>,
    /// Pseudonymous operator id recorded in the manifest (not a person's name).
    #[arg(long, value_name = "ID")]
    pub operator: Option<String>,
    /// Passphrase file unlocking a passphrase-protected signing key.
    #[arg(long, value_name = "FILE")]
    pub key_passphrase_file: Option<PathBuf>,
    /// Print one JSON document on standard output (format `obscura-seal/1`, docs/JSON.md).
    #[arg(long)]
    pub json: bool,
}

/// Media type from a file extension (payload metadata only).
pub fn media_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("mp4" | "m4v") => "video/mp4",
        Some("mkv") => "video/x-matroska",
        Some("webm") => "video/webm",
        Some("avi") => "video/x-msvideo",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("json") => "application/json",
        Some("pdf") => "application/pdf",
        Some("txt" | "md") => "text/plain",
        Some("csv") => "text/csv",
        _ => "application/octet-stream",
    }
}

/// Reads an optional passphrase file.
pub fn read_passphrase(path: Option<&PathBuf>) -> Result<Option<Passphrase>> {
    Ok(match path {
        Some(p) => Some(Passphrase::read_file(p)?),
        None => None,
    })
}

/// A recipient public key from a file path or a literal key line.
pub fn recipient_public(arg: &str) -> Result<RecipientPublicKey> {
    if arg.starts_with("obscura-") && arg.contains(':') && !Path::new(arg).exists() {
        return Ok(RecipientPublicKey::from_key_text(arg)?);
    }
    Ok(RecipientPublicKey::read_file(Path::new(arg))?)
}

/// A signer public key from a file path or a literal key line.
pub fn signer_public(arg: &str) -> Result<SignerPublicKey> {
    if arg.starts_with("obscura-") && arg.contains(':') && !Path::new(arg).exists() {
        return Ok(SignerPublicKey::from_key_text(arg)?);
    }
    Ok(SignerPublicKey::read_file(Path::new(arg))?)
}

/// A recipient secret key from a key file (never from the command line).
pub fn recipient_secret(path: &Path, key_pass: Option<&Passphrase>) -> Result<RecipientSecretKey> {
    Ok(RecipientSecretKey::read_file(path, key_pass)?)
}

/// Runs `obscura seal`.
pub fn run(args: SealArgs, _quiet: bool) -> Result<Outcome> {
    if args.to.is_empty() && args.passphrase_file.is_none() {
        bail!("give at least one --recipient RECIPIENT_PUB or --passphrase-file");
    }
    crate::output::check_output(
        &args.out,
        args.force,
        args.files.iter().map(PathBuf::as_path),
    )?;
    let key_pass = read_passphrase(args.key_passphrase_file.as_ref())?;
    let signer = SigningKey::read_file(&args.sign, key_pass.as_ref())?;
    let mut b = SealBuilder::new(&signer).replace_existing(args.force);
    for t in &args.to {
        b = b.recipient(recipient_public(t)?);
    }
    if let Some(p) = read_passphrase(args.passphrase_file.as_ref())? {
        b = b.passphrase(p);
    }
    if !args.never_expires {
        let d = match &args.expires {
            Some(e) => {
                let d = Date::parse(e)?;
                if d < Date::today_utc() {
                    bail!("--expires {e} is in the past");
                }
                d
            }
            None => Date::today_utc().plus_days(i64::from(args.retention_days)),
        };
        b = b.expires(d);
    }
    if let Some(r) = &args.reference {
        b = b.reference(r);
    }
    if let Some(o) = &args.operator {
        b = b.operator(o);
    }
    for f in &args.files {
        let meta = std::fs::metadata(f).with_context(|| format!("{}: cannot read", f.display()))?;
        if !meta.is_file() {
            bail!("{}: not a regular file", f.display());
        }
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        b = b.add_payload_file(name, media_type(f), f);
    }
    let m = b.write_to(&args.out)?;
    let mut entry = crate::cmd_audit::package_entry(obscura_audit::Action::Seal, &args.out, "ok");
    entry.detail = serde_json::json!({
        "export_id": m.export_id,
        "expires": m.expires,
        "signer_fingerprint": m.signer.fingerprint,
        "payloads": m.payloads.iter().map(|p| serde_json::json!({"name": p.name, "sha256": p.plaintext_sha256})).collect::<Vec<_>>(),
    });
    if let Err(e) = crate::cmd_audit::append(args.audit_log.as_deref(), entry) {
        let _ = std::fs::remove_file(&args.out); // no package without its record
        return Err(e.context(format!(
            "{}: not sealed (removed again)",
            args.out.display()
        )));
    }
    if let Ok(log) = obscura_audit::AuditLog::resolve(args.audit_log.as_deref()) {
        crate::cmd_audit::checkpoint_after(&log, &signer);
    }
    let size = std::fs::metadata(&args.out).map(|m| m.len()).unwrap_or(0);
    if args.json {
        crate::output::print_json(
            "seal",
            &serde_json::json!({
                "package": args.out.display().to_string(),
                "bytes": size,
                "export_id": m.export_id,
                "signer_fingerprint": m.signer.fingerprint,
                "recipients": m.recipients.len(),
                "expires": m.expires,
                "reference": m.reference,
                "payloads": m.payloads.iter().map(|p| serde_json::json!({
                    "name": p.name,
                    "media_type": p.media_type,
                    "bytes": p.plaintext_size,
                    "sha256": p.plaintext_sha256,
                })).collect::<Vec<_>>(),
            }),
        )?;
        return Ok(Outcome::Ok);
    }
    println!(
        "sealed {} payload(s) into {} ({size} bytes)",
        m.payloads.len(),
        args.out.display()
    );
    println!("  export id: {}", m.export_id);
    println!("  signer:    {}", m.signer.fingerprint);
    println!("  recipients: {}", m.recipients.len());
    Ok(Outcome::Ok)
}
