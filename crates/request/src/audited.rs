//! [`verify`] and [`open`]: the seal's verification and decryption with their audit
//! records, so a partner's program leaves the same trail as `obscura verify` and
//! `obscura open`.

use std::path::{Path, PathBuf};

use obscura_audit::{Action, AuditLog, Entry, Record};
use obscura_seal::{Identity, Manifest, OpenOptions, SignerPublicKey, VerifiedExport};
use serde_json::json;

/// The audit entry for `action` on package `file` with outcome `result`: the package's
/// path and sha256 (when it can be read) and, when its manifest parses, the request
/// reference and `detail` with the export id, expiry and the export's operator.
pub fn package_entry(
    action: Action,
    file: &Path,
    result: impl Into<String>,
    operator: Option<&str>,
) -> Entry {
    let mut e = Entry::new(action, result);
    e.package = Some(file.display().to_string());
    e.package_sha256 = obscura_core::digest::sha256_file_hex(file).ok();
    if let Ok(m) = obscura_seal::inspect(file) {
        e.reference = m.reference.clone();
        e.detail = json!({ "export_id": m.export_id, "expires": m.expires, "export_operator": m.operator });
    }
    e.operator = operator.map(str::to_string);
    e
}

/// What [`verify`] found and whether its record was written.
#[derive(Debug)]
#[non_exhaustive]
pub struct Verification {
    /// The verification: the export, or why it is refused.
    pub result: Result<VerifiedExport, obscura_seal::Error>,
    /// The audit record, or why it could not be written (a verification anyone may run is
    /// not refused for want of a log).
    pub audit: Option<Result<Record, obscura_audit::Error>>,
}

/// Verifies `file` without any decryption key ([`obscura_seal::verify`]) against the
/// signers `options` accepts (`signer` pinned, else one of `trusted`, else any;
/// `allow_expired` does not apply), and appends a `verify` record with the outcome to `log`
/// (when given) as `operator`.
pub fn verify(
    file: &Path,
    options: &OpenOptions,
    log: Option<&AuditLog>,
    operator: Option<&str>,
) -> Verification {
    let result = obscura_seal::verify(file, options.signer.as_ref()).and_then(|v| {
        match (&options.signer, &options.trusted) {
            (None, Some(list)) if !list.contains(&v.signer) => {
                Err(obscura_seal::Error::UnknownSigner {
                    fingerprint: v.signer.fingerprint(),
                })
            }
            _ => Ok(v),
        }
    });
    let outcome = match &result {
        Ok(_) => "ok".to_string(),
        Err(e) if e.is_finding() => format!("failed: {e}"),
        Err(e) => format!("error: {e}"),
    };
    let audit = log.map(|l| l.append(package_entry(Action::Verify, file, outcome, operator)));
    Verification { result, audit }
}

/// What [`open`] wrote.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Opened {
    /// The signed manifest.
    pub manifest: Manifest,
    /// The key that signed it.
    pub signer: SignerPublicKey,
    /// The decrypted payload files, in manifest order.
    pub files: Vec<PathBuf>,
}

/// Why [`open`] wrote nothing readable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// Verification or decryption refused the package (recorded as `failed` when the log
    /// allows; `audit` is that record's failure).
    #[error("{error}")]
    Refused {
        /// Why the package was refused.
        error: obscura_seal::Error,
        /// Why the refusal could not be recorded, if it could not.
        audit: Option<obscura_audit::Error>,
    },
    /// The record of the decryption could not be written, so nothing was published: the
    /// decrypted files were discarded unseen.
    #[error("cannot write the audit record: {0}")]
    Audit(obscura_audit::Error),
    /// The decrypted files could not be given their names (recorded as `failed` when the
    /// log allows; `audit` is that record's failure).
    #[error("{error}")]
    Publish {
        /// Why publishing failed.
        error: obscura_seal::Error,
        /// Why the failure could not be recorded, if it could not.
        audit: Option<obscura_audit::Error>,
    },
}

/// Verifies and decrypts `file` into `out_dir` (which must exist) with `identity`
/// ([`obscura_seal::decrypt`]), writing an `open` record to `log` as `operator` before any
/// plaintext gets a name: when the record cannot be written, nothing is published. A
/// refusal is recorded too.
pub fn open(
    file: &Path,
    identity: &Identity,
    out_dir: &Path,
    options: &OpenOptions,
    log: &AuditLog,
    operator: Option<&str>,
) -> Result<Opened, OpenError> {
    let decrypted = match obscura_seal::decrypt(file, identity, out_dir, options) {
        Ok(d) => d,
        Err(e) => {
            let audit = log
                .append(package_entry(
                    Action::Open,
                    file,
                    format!("failed: {e}"),
                    operator,
                ))
                .err();
            return Err(OpenError::Refused { error: e, audit });
        }
    };
    let n = decrypted.manifest.payloads.len();
    let (manifest, signer) = (decrypted.manifest.clone(), decrypted.signer);
    let mut entry = package_entry(
        Action::Open,
        file,
        format!("ok: {n} payload(s) decrypted"),
        operator,
    );
    if let serde_json::Value::Object(d) = &mut entry.detail {
        d.insert("signer_fingerprint".into(), json!(signer.fingerprint()));
    }
    // Dropped unpublished on failure: the files were never named.
    log.append(entry).map_err(OpenError::Audit)?;
    match decrypted.publish() {
        Ok(files) => Ok(Opened {
            manifest,
            signer,
            files,
        }),
        Err(error) => {
            let audit = log
                .append(package_entry(
                    Action::Open,
                    file,
                    format!("failed: {error}"),
                    operator,
                ))
                .err();
            Err(OpenError::Publish { error, audit })
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use obscura_seal::{RecipientSecretKey, SealBuilder, Signer, SigningKey};

    use super::*;

    fn package(dir: &Path, signer: &SigningKey, rk: &RecipientSecretKey) -> PathBuf {
        let out = dir.join("req.obx");
        SealBuilder::new(signer)
            .recipient(rk.public_key())
            .reference("REQ-9")
            .add_payload_bytes("clip.mp4", "video/mp4", b"frames".to_vec())
            .write_to(&out)
            .unwrap();
        out
    }

    #[test]
    fn verify_records_the_outcome_and_applies_the_trusted_list() {
        let d = tempfile::tempdir().unwrap();
        let (signer, rk) = (
            SigningKey::generate().unwrap(),
            RecipientSecretKey::generate().unwrap(),
        );
        let file = package(d.path(), &signer, &rk);
        let log = AuditLog::at(d.path().join("audit.jsonl"));
        let v = verify(&file, &OpenOptions::default(), Some(&log), Some("op-1"));
        assert_eq!(
            v.result.unwrap().manifest.reference.as_deref(),
            Some("REQ-9")
        );
        assert!(matches!(v.audit, Some(Ok(_))));
        let other = SigningKey::generate().unwrap().public_key();
        let refused = verify(
            &file,
            &OpenOptions {
                trusted: Some(vec![other]),
                ..OpenOptions::default()
            },
            Some(&log),
            None,
        );
        assert!(
            matches!(
                refused.result,
                Err(obscura_seal::Error::UnknownSigner { .. })
            ),
            "{:?}",
            refused.result
        );
        let recs = obscura_audit::read_records(log.path()).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(
            (recs[0].action, recs[0].result.as_str()),
            (Action::Verify, "ok")
        );
        assert_eq!(recs[0].operator.as_deref(), Some("op-1"));
        assert_eq!(recs[0].reference.as_deref(), Some("REQ-9"));
        assert_eq!(
            recs[0].package_sha256,
            Some(obscura_core::digest::sha256_file_hex(&file).unwrap())
        );
        assert!(recs[1].result.starts_with("failed: "), "{}", recs[1].result);
        // No log: verified all the same, nothing recorded.
        assert!(
            verify(&file, &OpenOptions::default(), None, None)
                .audit
                .is_none()
        );
    }

    #[test]
    fn open_records_before_publishing_and_publishes_nothing_without_a_record() {
        let d = tempfile::tempdir().unwrap();
        let (signer, rk) = (
            SigningKey::generate().unwrap(),
            RecipientSecretKey::generate().unwrap(),
        );
        let file = package(d.path(), &signer, &rk);
        let id = Identity::Recipient(rk);
        // A log that cannot be written (its folder is a file): nothing is published.
        fs::write(d.path().join("not-a-dir"), b"").unwrap();
        let bad = AuditLog::at(d.path().join("not-a-dir").join("audit.jsonl"));
        let out = d.path().join("out");
        fs::create_dir(&out).unwrap();
        let e = open(&file, &id, &out, &OpenOptions::default(), &bad, None).unwrap_err();
        assert!(matches!(e, OpenError::Audit(_)), "{e:?}");
        assert_eq!(fs::read_dir(&out).unwrap().count(), 0);
        let log = AuditLog::at(d.path().join("audit.jsonl"));
        let o = open(
            &file,
            &id,
            &out,
            &OpenOptions::default(),
            &log,
            Some("op-2"),
        )
        .unwrap();
        assert_eq!(o.files, vec![out.join("clip.mp4")]);
        assert_eq!(fs::read(out.join("clip.mp4")).unwrap(), b"frames");
        assert_eq!(o.signer, signer.public_key());
        // A second open refuses to overwrite; the refusal is recorded.
        let e = open(&file, &id, &out, &OpenOptions::default(), &log, None).unwrap_err();
        let recs = obscura_audit::read_records(log.path()).unwrap();
        assert_eq!(recs[0].result, "ok: 1 payload(s) decrypted");
        assert_eq!(
            recs[0].detail["signer_fingerprint"],
            json!(signer.public_key().fingerprint())
        );
        assert_eq!(recs.len(), 2, "{e}");
        assert!(recs[1].result.starts_with("failed: "), "{}", recs[1].result);
    }
}
