//! Retention: delete packages whose signed expiry date has passed.

use std::fs;
use std::path::{Path, PathBuf};

use obscura_audit::{Action, AuditLog, Entry};
use obscura_seal::{SignerPublicKey, VerifyError};
use serde_json::json;

use crate::Error;

/// What happened to one package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PurgeResult {
    /// Expired and deleted.
    Removed,
    /// Expired; would be deleted (dry run).
    WouldRemove,
    /// Valid and not expired yet (or no expiry date).
    Kept,
    /// Its signature or hashes do not verify: reported, never deleted.
    Unverifiable(String),
}

/// One package seen by [`purge`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgeItem {
    /// The package.
    pub path: PathBuf,
    /// Its signed expiry date.
    pub expires: Option<String>,
    /// Its request reference.
    pub reference: Option<String>,
    /// What was done.
    pub result: PurgeResult,
}

/// Everything [`purge`] saw, in path order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PurgeOutcome {
    /// One entry per `.obx` file.
    pub items: Vec<PurgeItem>,
}

/// Deletes every `*.obx` package directly in `dir` whose signed manifest says it expired
/// (expiry date before today, UTC). Each package is verified first (signature, hashes;
/// signed by `signer` when given); one that does not verify is reported and kept. With
/// `dry_run` nothing is deleted. Every removal (or would-be removal) and every unverifiable
/// package is appended to `audit` when given.
pub fn purge(
    dir: &Path,
    dry_run: bool,
    signer: Option<&SignerPublicKey>,
    audit: Option<&AuditLog>,
    operator: Option<&str>,
) -> Result<PurgeOutcome, Error> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "obx") && p.is_file())
        .filter(|p| {
            !p.file_name().is_some_and(|n| {
                n.to_string_lossy()
                    .starts_with(obscura_core::atomic::TEMP_PREFIX)
            })
        })
        .collect();
    paths.sort();
    let mut out = PurgeOutcome::default();
    for path in paths {
        let sha = obscura_core::digest::sha256_file_hex(&path).ok();
        let (result, manifest) = match obscura_seal::verify(&path, signer) {
            Ok(v) => (PurgeResult::Kept, Some(v.manifest)),
            Err(VerifyError::Expired { .. }) => {
                // Expired is reported only when signature and hashes are valid.
                let m = obscura_seal::inspect(&path).ok();
                (
                    if dry_run {
                        PurgeResult::WouldRemove
                    } else {
                        PurgeResult::Removed
                    },
                    m,
                )
            }
            Err(e) => (PurgeResult::Unverifiable(e.to_string()), None),
        };
        let item = PurgeItem {
            path: path.clone(),
            expires: manifest.as_ref().and_then(|m| m.expires.clone()),
            reference: manifest.as_ref().and_then(|m| m.reference.clone()),
            result: result.clone(),
        };
        // Log first, then delete: no package disappears without its record.
        if let Some(log) = audit
            && result != PurgeResult::Kept
        {
            let text = match &result {
                PurgeResult::Removed => "removed".to_string(),
                PurgeResult::WouldRemove => "would-remove (dry run)".to_string(),
                PurgeResult::Unverifiable(r) => format!("kept: unverifiable: {r}"),
                PurgeResult::Kept => unreachable!("filtered above"),
            };
            let mut e = Entry::new(Action::Purge, text);
            e.operator = operator.map(str::to_string);
            e.reference = item.reference.clone();
            e.package = Some(path.display().to_string());
            e.package_sha256 = sha;
            e.detail = json!({ "expires": item.expires, "export_id": manifest.as_ref().map(|m| m.export_id.clone()) });
            log.append(e)?;
        }
        if result == PurgeResult::Removed {
            fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
            let d = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            if let Ok(d) = fs::File::open(d) {
                let _ = d.sync_all();
            }
        }
        out.items.push(item);
    }
    Ok(out)
}
