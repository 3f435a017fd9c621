//! `obscura verify`: integrity and origin of an export, without any decryption key.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use obscura_seal::{Manifest, VerifiedExport};
use serde_json::json;

use crate::Outcome;
use crate::cmd_trust::SignerPolicy;

/// Arguments of `obscura verify`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The export to check.
    #[arg(value_name = "FILE.obx")]
    pub file: PathBuf,
    /// Who may have signed it: `--signer KEY`, the trust store (default) or `--any-signer`.
    #[command(flatten)]
    pub signers: crate::cmd_trust::SignerArgs,
    /// Print one JSON document on standard output (format `obscura-verify/1`, docs/JSON.md).
    #[arg(long)]
    pub json: bool,
    /// Audit log to append the verification to (default: $OBSCURA_AUDIT_LOG or
    /// ~/.local/state/obscura/audit.jsonl; see docs/REQUESTS.md).
    #[arg(long, value_name = "PATH")]
    pub audit_log: Option<PathBuf>,
}

/// A manifest string as it may be shown on a terminal: control characters (C0, DEL, C1:
/// ANSI escapes included), bidirectional controls and invisible format characters are
/// written as `\u{..}`, so a crafted `reference` cannot move the cursor, recolour, or draw a
/// fake line; a backslash is doubled.
pub fn shown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let deceptive = matches!(c, '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2028}' | '\u{2029}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}');
        if c == '\\' {
            out.push_str("\\\\");
        } else if c.is_control() || deceptive {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Prints the human summary of a manifest (shared with `inspect`); every string from the
/// manifest goes through [`shown`].
pub fn print_summary(m: &Manifest) {
    println!("  export id:  {}", shown(&m.export_id));
    println!("  created:    {}", shown(&m.created));
    println!(
        "  expires:    {}",
        shown(m.expires.as_deref().unwrap_or("never"))
    );
    if let Some(r) = &m.reference {
        println!("  reference:  {}", shown(r));
    }
    if let Some(o) = &m.operator {
        println!("  operator:   {}", shown(o));
    }
    println!("  recipients: {}", m.recipients.len());
    println!("  payloads:");
    for p in &m.payloads {
        println!(
            "    {} ({}, {} bytes, sha256 {})",
            shown(&p.name),
            shown(&p.media_type),
            p.plaintext_size,
            shown(&p.plaintext_sha256)
        );
    }
}

/// Runs `obscura verify`.
pub fn run(args: VerifyArgs, _quiet: bool) -> Result<Outcome> {
    let policy = args.signers.policy()?;
    // Best effort: a verification anyone may run is not refused for want of a log.
    let log = obscura_audit::AuditLog::resolve(args.audit_log.as_deref())
        .map_err(|e| eprintln!("obscura: warning: {e}"))
        .ok();
    let operator = crate::cmd_audit::operator_from_env();
    let v = obscura_request::verify(
        &args.file,
        &policy.open_options(false),
        log.as_ref(),
        operator.as_deref(),
    );
    if let Some(Err(e)) = &v.audit {
        eprintln!("obscura: warning: cannot write the audit record: {e}");
    }
    match v.result {
        Ok(v) => {
            report_ok(&args, &v, &policy)?;
            Ok(Outcome::Ok)
        }
        Err(e) if e.is_finding() => {
            let e = match &e {
                obscura_seal::Error::UnknownSigner { fingerprint } => policy.refusal(fingerprint),
                e => e.to_string(),
            };
            if args.json {
                crate::output::print_json(
                    "verify",
                    &json!({"valid": false, "file": args.file.display().to_string(), "reason": e}),
                )?;
            } else {
                println!("FAILED: {}: {}", args.file.display(), shown(&e.to_string()));
            }
            Ok(Outcome::Findings)
        }
        Err(e) => Err(e.into()),
    }
}

fn report_ok(args: &VerifyArgs, v: &VerifiedExport, policy: &SignerPolicy) -> Result<()> {
    let m = &v.manifest;
    if args.json {
        let out = json!({
            "valid": true,
            "file": args.file.display().to_string(),
            "signer_fingerprint": v.signer.fingerprint(),
            "signer_pinned": v.signer_pinned,
            "signer_trusted": !matches!(policy, SignerPolicy::Any),
            "manifest": m,
        });
        return crate::output::print_json("verify", &out);
    }
    println!("OK: {} is intact and validly signed", args.file.display());
    println!(
        "  signer:     {} ({})",
        v.signer.fingerprint(),
        policy.describe(&v.signer).unwrap_or_default()
    );
    print_summary(m);
    Ok(())
}
