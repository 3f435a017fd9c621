//! `obscura purge DIR [--dry-run]`: retention; delete expired packages.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use obscura_request::PurgeResult;

use crate::Outcome;
use crate::cmd_seal::signer_public;

/// Arguments of `obscura purge`.
#[derive(Args, Debug)]
pub struct PurgeArgs {
    /// Folder holding .obx packages (not searched recursively).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Only report what would be deleted.
    #[arg(long)]
    pub dry_run: bool,
    /// Only trust packages signed by this key (NAME.sign.pub or key line); others are
    /// reported as unverifiable and kept.
    #[arg(long, value_name = "SIGNING_PUB")]
    pub signer: Option<String>,
    /// Pseudonymous operator id for the audit records.
    #[arg(long, value_name = "PSEUDONYM")]
    pub operator: Option<String>,
    /// Audit log (default: $OBSCURA_AUDIT_LOG or ~/.local/state/obscura/audit.jsonl).
    #[arg(long, value_name = "PATH")]
    pub audit_log: Option<PathBuf>,
    /// Print one JSON document on standard output (format `obscura-purge/1`, docs/JSON.md).
    #[arg(long)]
    pub json: bool,
}

/// Runs `obscura purge`. Exit 1 when a package could not be verified (it is kept).
pub fn run(args: PurgeArgs, _quiet: bool) -> Result<Outcome> {
    let signer = args.signer.as_deref().map(signer_public).transpose()?;
    let log = obscura_audit::AuditLog::resolve(args.audit_log.as_deref())?;
    let operator = args
        .operator
        .clone()
        .or_else(crate::cmd_audit::operator_from_env);
    let out = obscura_request::purge(
        &args.dir,
        args.dry_run,
        signer.as_ref(),
        Some(&log),
        operator.as_deref(),
    )?;
    let (mut removed, mut kept, mut bad) = (0, 0, 0);
    let mut rows = Vec::new();
    for i in &out.items {
        let (result, reason) = match &i.result {
            PurgeResult::Removed => ("removed", None),
            PurgeResult::WouldRemove => ("would_remove", None),
            PurgeResult::Kept => ("kept", None),
            PurgeResult::Unverifiable(r) => ("unverifiable", Some(r.to_string())),
        };
        rows.push(serde_json::json!({
            "path": i.path.display().to_string(),
            "expires": i.expires,
            "result": result,
            "reason": reason,
        }));
        if args.json {
            match &i.result {
                PurgeResult::Removed | PurgeResult::WouldRemove => removed += 1,
                PurgeResult::Kept => kept += 1,
                PurgeResult::Unverifiable(_) => bad += 1,
            }
            continue;
        }
        // Names in the folder and manifest strings are not the operator's: escaped.
        let exp = crate::cmd_verify::shown(i.expires.as_deref().unwrap_or("never"));
        let name = crate::cmd_verify::shown(&i.path.display().to_string());
        match &i.result {
            PurgeResult::Removed => {
                removed += 1;
                println!("removed       {name} (expired {exp})");
            }
            PurgeResult::WouldRemove => {
                removed += 1;
                println!("would remove  {name} (expired {exp})");
            }
            PurgeResult::Kept => {
                kept += 1;
                println!("kept          {name} (expires {exp})");
            }
            PurgeResult::Unverifiable(r) => {
                bad += 1;
                println!(
                    "UNVERIFIABLE  {name} (kept): {}",
                    crate::cmd_verify::shown(&r.to_string())
                );
            }
        }
    }
    if args.json {
        crate::output::print_json(
            "purge",
            &serde_json::json!({
                "dir": args.dir.display().to_string(),
                "dry_run": args.dry_run,
                "packages": rows,
                "removed": removed,
                "kept": kept,
                "unverifiable": bad,
                "audit_log": log.path().display().to_string(),
            }),
        )?;
        return Ok(if bad > 0 {
            Outcome::Findings
        } else {
            Outcome::Ok
        });
    }
    let verb = if args.dry_run {
        "would remove"
    } else {
        "removed"
    };
    println!(
        "{verb} {removed}, kept {kept}, unverifiable {bad} (audit log {})",
        log.path().display()
    );
    Ok(if bad > 0 {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}
