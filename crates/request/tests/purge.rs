//! Retention: expired packages are deleted (after their signature and hashes verify),
//! others kept, tampered ones reported and kept; every action is in the audit log.

use std::fs;

use obscura_audit::{AuditLog, VerifyOptions};
use obscura_request::{PurgeResult, purge};
use obscura_seal::{Date, RecipientSecretKey, SealBuilder, Signer, SigningKey};

fn package(
    dir: &std::path::Path,
    name: &str,
    expires: Option<Date>,
    signer: &SigningKey,
) -> std::path::PathBuf {
    let r = RecipientSecretKey::generate().unwrap();
    let mut b = SealBuilder::new(signer)
        .recipient(r.public_key())
        .reference(format!("REQ-{name}"))
        .add_payload_bytes("clip.mp4", "video/mp4", vec![7u8; 3000]);
    if let Some(e) = expires {
        b = b.expires(e);
    }
    let p = dir.join(name);
    b.write_to(&p).unwrap();
    p
}

#[test]
fn purge_removes_only_verified_expired_packages_and_logs_it() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("exports");
    fs::create_dir(&dir).unwrap();
    let signer = SigningKey::generate().unwrap();
    let today = Date::today_utc();
    let past = package(&dir, "past.obx", Some(today.plus_days(-1)), &signer);
    let long_past = package(
        &dir,
        "long-past.obx",
        Some(Date::new(2020, 1, 31).unwrap()),
        &signer,
    );
    let today_p = package(&dir, "today.obx", Some(today), &signer);
    let future = package(&dir, "future.obx", Some(today.plus_days(30)), &signer);
    let never = package(&dir, "never.obx", None, &signer);
    // An expired package whose bytes were tampered with: reported, not deleted.
    let tampered = package(&dir, "tampered.obx", Some(today.plus_days(-3)), &signer);
    let mut bytes = fs::read(&tampered).unwrap();
    let n = bytes.len();
    bytes[n - 10] ^= 1;
    fs::write(&tampered, &bytes).unwrap();
    // Signed by someone else: unverifiable when a signer is required.
    let other = SigningKey::generate().unwrap();
    let foreign = package(&dir, "foreign.obx", Some(today.plus_days(-3)), &other);
    fs::write(dir.join("notes.txt"), b"not a package").unwrap();

    let log = AuditLog::at(d.path().join("audit.jsonl"));
    // Dry run first: nothing deleted.
    let dry = purge(
        &dir,
        true,
        Some(&signer.public_key()),
        Some(&log),
        Some("op-3"),
    )
    .unwrap();
    let would: Vec<_> = dry
        .items
        .iter()
        .filter(|i| i.result == PurgeResult::WouldRemove)
        .map(|i| i.path.clone())
        .collect();
    assert_eq!(would, vec![long_past.clone(), past.clone()]);
    assert!(past.exists() && long_past.exists());

    let o = purge(
        &dir,
        false,
        Some(&signer.public_key()),
        Some(&log),
        Some("op-3"),
    )
    .unwrap();
    let get = |p: &std::path::Path| o.items.iter().find(|i| i.path == p).unwrap().result.clone();
    assert_eq!(get(&past), PurgeResult::Removed);
    assert_eq!(get(&long_past), PurgeResult::Removed);
    assert_eq!(get(&today_p), PurgeResult::Kept);
    assert_eq!(get(&future), PurgeResult::Kept);
    assert_eq!(get(&never), PurgeResult::Kept);
    assert!(matches!(get(&tampered), PurgeResult::Unverifiable(_)));
    assert!(matches!(get(&foreign), PurgeResult::Unverifiable(_)));
    assert!(!past.exists() && !long_past.exists());
    for p in [&today_p, &future, &never, &tampered, &foreign] {
        assert!(p.exists(), "{} kept", p.display());
    }
    assert!(dir.join("notes.txt").exists());

    let rep = log.verify(&VerifyOptions::default()).unwrap();
    assert!(rep.is_valid());
    let recs = obscura_audit::read_records(log.path()).unwrap();
    let results: Vec<(String, String)> = recs
        .iter()
        .map(|r| (r.package.clone().unwrap(), r.result.clone()))
        .collect();
    assert!(results.contains(&("past.obx".into(), "removed".into())));
    assert!(results.contains(&("long-past.obx".into(), "would-remove (dry run)".into())));
    assert!(
        results
            .iter()
            .any(|(p, r)| p == "tampered.obx" && r.starts_with("kept: unverifiable"))
    );
    let removed = recs
        .iter()
        .find(|r| r.result == "removed" && r.package.as_deref() == Some("past.obx"))
        .unwrap();
    assert_eq!(removed.reference.as_deref(), Some("REQ-past.obx"));
    assert_eq!(removed.operator.as_deref(), Some("op-3"));
    assert_eq!(removed.package_sha256.as_ref().map(String::len), Some(64));

    // A second run finds nothing more to remove.
    let again = purge(&dir, false, Some(&signer.public_key()), None, None).unwrap();
    assert!(again.items.iter().all(|i| i.result != PurgeResult::Removed));
}
