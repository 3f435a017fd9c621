//! `obscura trust add|list|remove`: the signer keys `open` and `verify` accept without
//! `--signer` (the trust store, see docs/FORMAT.md section 12); and the signer policy those
//! commands share.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};
use obscura_seal::{SignerPublicKey, TrustStore};

use crate::Outcome;
use crate::cmd_verify::shown;

/// `obscura trust ...`
#[derive(Subcommand, Debug)]
pub enum TrustCommand {
    /// Trust a signing public key (NAME.sign.pub or key line).
    Add(TrustAddArgs),
    /// List the trusted signer keys.
    List(TrustListArgs),
    /// Stop trusting a key, by fingerprint (at least 8 leading hex digits) or key file.
    Remove(TrustRemoveArgs),
}

/// Where the trust store is.
#[derive(Args, Debug, Clone)]
pub struct TrustFileArgs {
    /// Trust store file (default: $OBSCURA_TRUST_FILE, $XDG_CONFIG_HOME/obscura/trusted-signers
    /// or ~/.config/obscura/trusted-signers).
    #[arg(long, value_name = "FILE")]
    pub trust_file: Option<PathBuf>,
}

/// Arguments of `obscura trust list`.
#[derive(Args, Debug)]
pub struct TrustListArgs {
    /// Print one JSON document on standard output (format `obscura-trust-list/1`,
    /// docs/JSON.md).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub file: TrustFileArgs,
}

/// Arguments of `obscura trust add`.
#[derive(Args, Debug)]
pub struct TrustAddArgs {
    /// The signing public key (NAME.sign.pub or key line).
    #[arg(value_name = "SIGNING_PUB")]
    pub key: String,
    /// A label shown by `trust list`, `open` and `verify` (e.g. the site's name).
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub label: String,
    /// Audit log for the `trust` record (fingerprint only; default: $OBSCURA_AUDIT_LOG,
    /// $XDG_STATE_HOME/obscura/audit.jsonl or ~/.local/state/obscura/audit.jsonl); best
    /// effort: a warning if it cannot be written.
    #[arg(long, value_name = "LOG")]
    pub audit_log: Option<PathBuf>,
    /// Print one JSON document on standard output (format `obscura-trust/1`, docs/JSON.md).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub file: TrustFileArgs,
}

/// Arguments of `obscura trust remove`.
#[derive(Args, Debug)]
pub struct TrustRemoveArgs {
    /// Fingerprint (or its first 8+ hex digits), or the key file / key line.
    #[arg(value_name = "FINGERPRINT|SIGNING_PUB")]
    pub key: String,
    /// Audit log for the `trust` record (fingerprint only; default: $OBSCURA_AUDIT_LOG,
    /// $XDG_STATE_HOME/obscura/audit.jsonl or ~/.local/state/obscura/audit.jsonl); best
    /// effort: a warning if it cannot be written.
    #[arg(long, value_name = "LOG")]
    pub audit_log: Option<PathBuf>,
    /// Print one JSON document on standard output (format `obscura-trust/1`, docs/JSON.md).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub file: TrustFileArgs,
}

fn store_path(file: &TrustFileArgs) -> Result<PathBuf> {
    Ok(match &file.trust_file {
        Some(p) => p.clone(),
        None => TrustStore::default_path()?,
    })
}

fn store(file: &TrustFileArgs) -> Result<TrustStore> {
    Ok(TrustStore::load(&store_path(file)?)?)
}

/// Runs `obscura trust ...`.
pub fn run(cmd: TrustCommand, _quiet: bool) -> Result<Outcome> {
    match cmd {
        TrustCommand::Add(a) => {
            let key = crate::cmd_seal::signer_public(&a.key)?;
            let mut s = store(&a.file)?;
            let added = s.add(key, &a.label)?;
            if added {
                s.save()?;
                record(a.audit_log.as_deref(), "added", &key.fingerprint());
            }
            if a.json {
                crate::output::print_json(
                    "trust",
                    &serde_json::json!({
                        "change": if added { "added" } else { "already_trusted" },
                        "fingerprint": key.fingerprint(),
                        "label": a.label,
                        "trust_file": store_path(&a.file)?.display().to_string(),
                    }),
                )?;
            } else if added {
                println!("trusted signer {}{}", key.fingerprint(), label(&a.label));
            } else {
                println!("already trusted: {}", key.fingerprint());
            }
        }
        TrustCommand::List(l) => {
            let s = store(&l.file)?;
            if l.json {
                crate::output::print_json(
                    "trust-list",
                    &serde_json::json!({
                        "trust_file": store_path(&l.file)?.display().to_string(),
                        "signers": s.signers().iter().map(|t| serde_json::json!({
                            "fingerprint": t.key.fingerprint(),
                            "label": t.label,
                        })).collect::<Vec<_>>(),
                    }),
                )?;
                return Ok(Outcome::Ok);
            }
            if s.signers().is_empty() {
                println!("no trusted signers (add one with `obscura trust add NAME.sign.pub`)");
            }
            for t in s.signers() {
                println!("{}{}", t.key.fingerprint(), label(&t.label));
            }
        }
        TrustCommand::Remove(a) => {
            let fp = if a.key.starts_with("obscura-") || std::path::Path::new(&a.key).exists() {
                crate::cmd_seal::signer_public(&a.key)?.fingerprint()
            } else {
                a.key.clone()
            };
            let mut s = store(&a.file)?;
            let gone = s.remove(&fp)?;
            s.save()?;
            record(a.audit_log.as_deref(), "removed", &gone.key.fingerprint());
            if a.json {
                crate::output::print_json(
                    "trust",
                    &serde_json::json!({
                        "change": "removed",
                        "fingerprint": gone.key.fingerprint(),
                        "label": gone.label,
                        "trust_file": store_path(&a.file)?.display().to_string(),
                    }),
                )?;
                return Ok(Outcome::Ok);
            }
            println!(
                "no longer trusted: {}{}",
                gone.key.fingerprint(),
                label(&gone.label)
            );
        }
    }
    Ok(Outcome::Ok)
}

/// Appends the `trust` record of a change to the store (best effort, like keygen's).
fn record(log: Option<&std::path::Path>, change: &str, fingerprint: &str) {
    let mut entry = obscura_audit::Entry::new(obscura_audit::Action::Trust, "ok");
    entry.operator = crate::cmd_audit::operator_from_env();
    entry.detail = serde_json::json!({ "change": change, "signer_fingerprint": fingerprint });
    if let Err(e) = crate::cmd_audit::append(log, entry) {
        eprintln!("obscura: warning: {e:#}");
    }
}

fn label(l: &str) -> String {
    if l.is_empty() {
        String::new()
    } else {
        format!("  {}", shown(l))
    }
}

/// The signer flags `open` and `verify` share.
#[derive(Args, Debug, Clone)]
pub struct SignerArgs {
    /// Require this signer (NAME.sign.pub or key line). Without it, the signer must be in
    /// the trust store (`obscura trust add`).
    #[arg(long, value_name = "SIGNING_PUB")]
    pub signer: Option<String>,
    /// Accept any valid signature, trusted or not (the signature then proves integrity, not
    /// origin). The signer's fingerprint is printed either way.
    #[arg(long, conflicts_with = "signer")]
    pub any_signer: bool,
    #[command(flatten)]
    pub trust: TrustFileArgs,
}

/// What the signer flags resolve to.
pub enum SignerPolicy {
    /// `--signer KEY`.
    Pinned(SignerPublicKey),
    /// The trust store's keys (the default).
    Trusted(TrustStore),
    /// `--any-signer`.
    Any,
}

impl SignerArgs {
    /// Resolves the flags (loads the trust store by default).
    pub fn policy(&self) -> Result<SignerPolicy> {
        if let Some(s) = &self.signer {
            return Ok(SignerPolicy::Pinned(crate::cmd_seal::signer_public(s)?));
        }
        if self.any_signer {
            return Ok(SignerPolicy::Any);
        }
        Ok(SignerPolicy::Trusted(store(&self.trust)?))
    }
}

impl SignerPolicy {
    /// The seal's options for this policy (which signers `open` and `verify` accept).
    pub fn open_options(&self, allow_expired: bool) -> obscura_seal::OpenOptions {
        match self {
            SignerPolicy::Pinned(k) => obscura_seal::OpenOptions {
                allow_expired,
                signer: Some(*k),
                trusted: None,
                ..Default::default()
            },
            SignerPolicy::Trusted(t) => obscura_seal::OpenOptions {
                allow_expired,
                signer: None,
                trusted: Some(t.keys()),
                ..Default::default()
            },
            SignerPolicy::Any => obscura_seal::OpenOptions {
                allow_expired,
                signer: None,
                trusted: None,
                ..Default::default()
            },
        }
    }

    /// How the actual signer stands under this policy, for printing: `None` when refused.
    pub fn describe(&self, signer: &SignerPublicKey) -> Option<String> {
        match self {
            SignerPolicy::Pinned(k) => {
                (k == signer).then(|| "the required key (--signer)".to_string())
            }
            SignerPolicy::Trusted(t) => t.get(signer).map(|e| {
                if e.label.is_empty() {
                    "trusted".to_string()
                } else {
                    format!("trusted: {}", shown(&e.label))
                }
            }),
            SignerPolicy::Any => {
                Some("NOT checked against a trusted key (--any-signer)".to_string())
            }
        }
    }

    /// The message for a valid export whose signer this policy refuses.
    pub fn refusal(&self, fingerprint: &str) -> String {
        match self {
            SignerPolicy::Pinned(_) => format!(
                "signed by an unknown key (fingerprint {fingerprint}), not the required signer"
            ),
            _ => format!(
                "signed by {fingerprint}, which is not a trusted signer (check it with the sender, then `obscura trust add KEY`, or pass --signer KEY; --any-signer skips the check)"
            ),
        }
    }
}
