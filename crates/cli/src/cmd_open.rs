//! `obscura open`: verify, then decrypt every payload atomically into a folder.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use obscura_request::OpenError;
use obscura_seal::Identity;

use crate::Outcome;
use crate::cmd_seal::{read_passphrase, recipient_secret};

/// Arguments of `obscura open`.
#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("id").required(true).args(["identity", "passphrase_file"])))]
pub struct OpenArgs {
    /// The export to open.
    #[arg(value_name = "FILE.obx")]
    pub file: PathBuf,
    /// Recipient secret key file (NAME.recipient.key).
    #[arg(long, value_name = "RECIPIENT_KEY")]
    pub identity: Option<PathBuf>,
    /// File whose first line is the export's passphrase.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Output folder (created if missing; a payload whose file already exists there is
    /// refused, and nothing written, unless --force).
    #[arg(short = 'o', long = "output", alias = "out", value_name = "DIR")]
    pub out: PathBuf,
    /// Who may have signed it: `--signer KEY`, the trust store (default) or `--any-signer`.
    #[command(flatten)]
    pub signers: crate::cmd_trust::SignerArgs,
    /// Replace files of the payloads' names that already exist in the output folder (each
    /// atomically; never the export itself).
    #[arg(long)]
    pub force: bool,
    /// Open even if the retention expiry date has passed.
    #[arg(long)]
    pub allow_expired: bool,
    /// Passphrase file unlocking a passphrase-protected recipient key.
    #[arg(long, value_name = "FILE")]
    pub key_passphrase_file: Option<PathBuf>,
    /// Audit log to append the opening to (default: $OBSCURA_AUDIT_LOG or
    /// ~/.local/state/obscura/audit.jsonl; see docs/REQUESTS.md).
    #[arg(long, value_name = "PATH")]
    pub audit_log: Option<PathBuf>,
    /// Print one JSON document on standard output (format `obscura-open/1`, docs/JSON.md).
    #[arg(long)]
    pub json: bool,
}

/// Refuses up front (exit 2, naming the file) a payload whose name already exists in the
/// output folder, unless --force, and an output folder holding the export itself. The
/// names come from the manifest as the file claims it; the decryption checks them again.
fn refuse_existing_payloads(args: &OpenArgs) -> Result<()> {
    let Ok(m) = obscura_seal::inspect(&args.file) else {
        return Ok(()); // a broken export is refused, and recorded, by the open itself
    };
    for p in &m.payloads {
        let name = std::path::Path::new(&p.name);
        if name.components().count() != 1 {
            continue; // refused by the decryption
        }
        let dest = args.out.join(name);
        crate::output::check_output(&dest, args.force, [args.file.as_path()])?;
    }
    Ok(())
}

/// Runs `obscura open`.
pub fn run(args: OpenArgs, _quiet: bool) -> Result<Outcome> {
    let identity = match (&args.identity, &args.passphrase_file) {
        (Some(k), _) => {
            let kp = read_passphrase(args.key_passphrase_file.as_ref())?;
            Identity::Recipient(recipient_secret(k, kp.as_ref())?)
        }
        (None, Some(p)) => {
            Identity::Passphrase(read_passphrase(Some(p))?.context("no passphrase")?)
        }
        (None, None) => unreachable!("clap requires one"),
    };
    let log = obscura_audit::AuditLog::resolve(args.audit_log.as_deref())?;
    refuse_existing_payloads(&args)?;
    let created = !args.out.exists();
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create folder", args.out.display()))?;
    let policy = args.signers.policy()?;
    let mut options = policy.open_options(args.allow_expired);
    options.replace_existing = args.force;
    let remove_created = || {
        if created {
            let _ = std::fs::remove_dir(&args.out); // only succeeds when empty
        }
    };
    // Decrypt into unnamed files first: nothing is readable in the folder yet. The audit
    // record is written before any plaintext gets a name; if it cannot be written, the
    // decrypted files are discarded unseen (obscura_request::open).
    let operator = crate::cmd_audit::operator_from_env();
    let opened = match obscura_request::open(
        &args.file,
        &identity,
        &args.out,
        &options,
        &log,
        operator.as_deref(),
    ) {
        Ok(o) => o,
        Err(OpenError::Refused { error: e, audit }) => {
            remove_created();
            if let Some(a) = audit {
                return Err(anyhow::Error::new(a).context("cannot write the audit record"));
            }
            if e.is_finding() {
                let text = match &e {
                    obscura_seal::Error::UnknownSigner { fingerprint } => {
                        policy.refusal(fingerprint)
                    }
                    e => e.to_string(),
                };
                if args.json {
                    crate::output::print_json(
                        "open",
                        &serde_json::json!({
                            "file": args.file.display().to_string(),
                            "opened": false,
                            "reason": text,
                            "files": [],
                        }),
                    )?;
                } else {
                    eprintln!(
                        "obscura: cannot open {}: {}",
                        args.file.display(),
                        crate::cmd_verify::shown(&text)
                    );
                }
                return Ok(Outcome::Findings);
            }
            return Err(anyhow::Error::new(e).context(format!("{}", args.file.display())));
        }
        Err(OpenError::Audit(e)) => {
            remove_created();
            return Err(anyhow::Error::new(e)
                .context("cannot write the audit record")
                .context(format!(
                    "{}: not opened, nothing was written",
                    args.file.display()
                )));
        }
        Err(OpenError::Publish { error, audit }) => {
            remove_created();
            if let Some(a) = audit {
                eprintln!("obscura: warning: cannot write the audit record: {a}");
            }
            return Err(anyhow::Error::new(error).context(format!("{}", args.file.display())));
        }
        Err(e) => {
            remove_created();
            return Err(anyhow::Error::new(e).context(format!("{}", args.file.display())));
        }
    };
    let (files, decrypted_signer) = (&opened.files, opened.signer);
    let fingerprint = decrypted_signer.fingerprint();
    if args.json {
        crate::output::print_json(
            "open",
            &serde_json::json!({
                "file": args.file.display().to_string(),
                "opened": true,
                "signer_fingerprint": fingerprint,
                "signer": policy.describe(&decrypted_signer),
                "export_id": opened.manifest.export_id,
                "files": files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
            }),
        )?;
        return Ok(Outcome::Ok);
    }
    println!(
        "opened {}: {} payload(s) verified and decrypted",
        args.file.display(),
        files.len()
    );
    println!(
        "  signer: {fingerprint} ({})",
        policy.describe(&decrypted_signer).unwrap_or_default()
    );
    for f in files {
        println!("  {}", crate::cmd_verify::shown(&f.display().to_string()));
    }
    Ok(Outcome::Ok)
}
