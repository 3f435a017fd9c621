//! `obscura audit verify LOG`: check the hash chain and the signed checkpoints of an audit
//! log; `obscura audit checkpoint`: sign its head; and the helpers every logging command
//! uses to append its record.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use obscura_audit::{AuditLog, Entry, VerifyOptions};
use serde_json::json;

use crate::Outcome;

/// `obscura audit ...`
#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check every record's hash chain and every signed checkpoint; exit 0 when intact, 1
    /// naming the first bad record.
    Verify(AuditVerifyArgs),
    /// Append a checkpoint signed with the site's signing key: from then on a rewrite of any
    /// earlier record is detected by `audit verify --signer` (run it periodically, e.g. cron).
    Checkpoint(AuditCheckpointArgs),
}

/// Arguments of `obscura audit checkpoint`.
#[derive(Args, Debug)]
pub struct AuditCheckpointArgs {
    /// The log (default: $OBSCURA_AUDIT_LOG, $XDG_STATE_HOME/obscura/audit.jsonl or
    /// ~/.local/state/obscura/audit.jsonl).
    #[arg(value_name = "LOG")]
    pub log: Option<PathBuf>,
    /// Signing secret key file (NAME.sign.key), the one that signs the site's exports.
    #[arg(long, value_name = "SIGNING_KEY")]
    pub sign: PathBuf,
    /// Passphrase file unlocking a passphrase-protected signing key.
    #[arg(long, value_name = "FILE")]
    pub key_passphrase_file: Option<PathBuf>,
    /// Print one JSON document on standard output (format `obscura-audit-checkpoint/1`,
    /// docs/JSON.md).
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `obscura audit verify`.
#[derive(Args, Debug)]
pub struct AuditVerifyArgs {
    /// The log (default: --audit-log, $OBSCURA_AUDIT_LOG, $XDG_STATE_HOME/obscura/audit.jsonl
    /// or ~/.local/state/obscura/audit.jsonl).
    #[arg(value_name = "LOG")]
    pub log: Option<PathBuf>,
    /// A head hash noted earlier: the log must still contain that record (detects records
    /// removed from the end).
    #[arg(long, value_name = "HASH")]
    pub head: Option<String>,
    /// Require signed checkpoints by this key (NAME.sign.pub or key line; repeatable): every
    /// checkpoint must be signed by one of them and there must be at least one.
    #[arg(long, value_name = "SIGNING_PUB")]
    pub signer: Vec<String>,
    /// Print one JSON document on standard output (format `obscura-audit-verify/1`,
    /// docs/JSON.md).
    #[arg(long)]
    pub json: bool,
}

/// Runs `obscura audit ...`.
pub fn run(cmd: AuditCommand, _quiet: bool) -> Result<Outcome> {
    match cmd {
        AuditCommand::Verify(a) => verify(a),
        AuditCommand::Checkpoint(a) => {
            let key_pass = crate::cmd_seal::read_passphrase(a.key_passphrase_file.as_ref())?;
            let key = obscura_seal::SigningKey::read_file(&a.sign, key_pass.as_ref())?;
            let log = AuditLog::resolve(a.log.as_deref())?;
            let rec = log
                .checkpoint(&key, operator_from_env())
                .with_context(|| format!("{}: checkpoint not written", log.path().display()))?;
            if a.json {
                crate::output::print_json(
                    "audit-checkpoint",
                    &json!({
                        "log": log.path().display().to_string(),
                        "seq": rec.seq,
                        "hash": rec.hash,
                        "signer_fingerprint": obscura_seal::Signer::public_key(&key).fingerprint(),
                    }),
                )?;
                return Ok(Outcome::Ok);
            }
            println!(
                "checkpoint: seq {}, hash {}, signed by {}",
                rec.seq,
                rec.hash,
                obscura_seal::Signer::public_key(&key).fingerprint()
            );
            Ok(Outcome::Ok)
        }
    }
}

fn verify(args: AuditVerifyArgs) -> Result<Outcome> {
    let path = obscura_audit::resolve_path(args.log.as_deref())?;
    let signers = if args.signer.is_empty() {
        None
    } else {
        Some(
            args.signer
                .iter()
                .map(|s| crate::cmd_seal::signer_public(s))
                .collect::<Result<Vec<_>>>()?,
        )
    };
    let report = obscura_audit::verify(
        &path,
        &VerifyOptions {
            expect_head: args.head.clone(),
            signers,
        },
    )?;
    let cp = report.last_checkpoint.as_ref().map(|c| {
        (
            c.seq,
            c.time.clone(),
            c.detail["signer"].as_str().unwrap_or("").to_string(),
        )
    });
    let head = report.last.as_ref().map(|r| (r.seq, r.hash.clone()));
    if args.json {
        crate::output::print_json(
            "audit-verify",
            &json!({
                "log": path.display().to_string(),
                "valid": report.is_valid(),
                "records": report.records,
                "head_seq": head.as_ref().map(|h| h.0),
                "head_hash": head.as_ref().map(|h| h.1.clone()),
                "problem": report.problem.as_ref().map(|p| json!({"line": p.line, "reason": p.reason})),
                "checkpoints": report.checkpoints,
                "last_checkpoint": cp.as_ref().map(|c| json!({"seq": c.0, "time": c.1, "signer": c.2})),
                "unsigned_tail": report.unsigned_tail,
            }),
        )?;
    } else if let Some(p) = &report.problem {
        println!("FAILED: {}: {p}", path.display());
        println!("  {} record(s) before it verified", report.records);
    } else {
        println!(
            "OK: {} is an intact chain of {} record(s)",
            path.display(),
            report.records
        );
        if let Some((seq, hash)) = head {
            println!("  head: seq {seq}, hash {hash}");
        }
        match &cp {
            Some((seq, time, fp)) => println!(
                "  {} signed checkpoint(s); the last at seq {seq} ({time}) by {fp}; {} record(s) after it not yet covered by a signature",
                report.checkpoints, report.unsigned_tail
            ),
            None => println!(
                "  no signed checkpoint: the chain is unkeyed (obscura audit checkpoint --sign KEY)"
            ),
        }
    }
    Ok(if report.is_valid() {
        Outcome::Ok
    } else {
        Outcome::Findings
    })
}

/// Appends `entry` to the log at `explicit` (or the default location), with a context
/// naming the log on failure.
pub fn append(explicit: Option<&Path>, entry: Entry) -> Result<obscura_audit::Record> {
    let log = AuditLog::resolve(explicit)?;
    log.append(entry)
        .with_context(|| "cannot write the audit record".to_string())
}

/// Resolves the log at `explicit` (or the default location) and checks that a record can be
/// appended now, so that a command that reads or writes footage for a long time (redact,
/// tracks, cut) stops before it starts when its record could not be written afterwards.
pub fn preflight(explicit: Option<&Path>) -> Result<AuditLog> {
    let log = AuditLog::resolve(explicit)?;
    log.check_appendable()
        .with_context(|| "cannot write the audit record; nothing was processed".to_string())?;
    Ok(log)
}

/// The file name (no folders) of `path`, for a record.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `text` with every given path replaced by its file name (records name files, never
/// folders).
pub fn strip_folders<'a>(text: &str, paths: impl IntoIterator<Item = &'a Path>) -> String {
    let mut t = text.to_string();
    for p in paths {
        let shown = p.display().to_string();
        if !shown.is_empty() {
            t = t.replace(&shown, &file_name(p));
        }
        // also where the name itself is shown escaped (control characters)
        if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
            t = t.replace(&format!("{}/", dir.display()), "");
        }
    }
    t
}

/// Appends a signed checkpoint after a command's own record (seal, export: they hold the
/// site key). Best effort: the command's record is already written, so a failure is a
/// warning, not an error.
pub fn checkpoint_after(log: &AuditLog, signer: &dyn obscura_seal::Signer) {
    if let Err(e) = log.checkpoint(signer, operator_from_env()) {
        eprintln!(
            "warning: {}: audit checkpoint not written: {e}",
            log.path().display()
        );
    }
}

/// An entry for `action` on package `file` (hashing the file when it exists; reading the
/// reference and operator from its manifest when `inspect` can parse it).
pub fn package_entry(
    action: obscura_audit::Action,
    file: &Path,
    result: impl Into<String>,
) -> Entry {
    obscura_request::package_entry(action, file, result, operator_from_env().as_deref())
}

/// The pseudonymous operator of this session from `OBSCURA_OPERATOR` (for commands that
/// have no `--operator` flag).
pub fn operator_from_env() -> Option<String> {
    std::env::var("OBSCURA_OPERATOR")
        .ok()
        .filter(|s| !s.trim().is_empty())
}
