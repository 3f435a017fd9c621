//! `obscura audit verify LOG`: check the hash chain of an audit log; and the helper every
//! logging command uses to append its record.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use obscura_audit::{AuditLog, Entry, VerifyOptions};
use serde_json::json;

use crate::Outcome;

/// `obscura audit ...`
#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check every record's hash chain; exit 0 when intact, 1 naming the first bad record.
    Verify(AuditVerifyArgs),
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
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `obscura audit ...`.
pub fn run(cmd: AuditCommand, _quiet: bool) -> Result<Outcome> {
    match cmd {
        AuditCommand::Verify(a) => verify(a),
    }
}

fn verify(args: AuditVerifyArgs) -> Result<Outcome> {
    let path = obscura_audit::resolve_path(args.log.as_deref())?;
    let report = obscura_audit::verify(&path, &VerifyOptions { expect_head: args.head.clone() })?;
    let head = report.last.as_ref().map(|r| (r.seq, r.hash.clone()));
    if args.json {
        println!(
            "{}",
            json!({
                "log": path.display().to_string(),
                "valid": report.is_valid(),
                "records": report.records,
                "head_seq": head.as_ref().map(|h| h.0),
                "head_hash": head.as_ref().map(|h| h.1.clone()),
                "problem": report.problem.as_ref().map(|p| json!({"line": p.line, "reason": p.reason})),
            })
        );
    } else if let Some(p) = &report.problem {
        println!("FAILED: {}: {p}", path.display());
        println!("  {} record(s) before it verified", report.records);
    } else {
        println!("OK: {} is an intact chain of {} record(s)", path.display(), report.records);
        if let Some((seq, hash)) = head {
            println!("  head: seq {seq}, hash {hash}");
        }
    }
    Ok(if report.is_valid() { Outcome::Ok } else { Outcome::Findings })
}

/// Appends `entry` to the log at `explicit` (or the default location), with a context
/// naming the log on failure.
pub fn append(explicit: Option<&Path>, entry: Entry) -> Result<obscura_audit::Record> {
    let log = AuditLog::resolve(explicit)?;
    log.append(entry).with_context(|| "cannot write the audit record".to_string())
}

/// An entry for `action` on package `file` (hashing the file when it exists; reading the
/// reference and operator from its manifest when `inspect` can parse it).
pub fn package_entry(action: obscura_audit::Action, file: &Path, result: impl Into<String>) -> Entry {
    obscura_request::package_entry(action, file, result, operator_from_env().as_deref())
}

/// The pseudonymous operator of this session from `OBSCURA_OPERATOR` (for commands that
/// have no `--operator` flag).
pub fn operator_from_env() -> Option<String> {
    std::env::var("OBSCURA_OPERATOR").ok().filter(|s| !s.trim().is_empty())
}
