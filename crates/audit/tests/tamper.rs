//! Tamper detection and crash behaviour of the audit log, on real files.

use std::fs;
use std::path::{Path, PathBuf};

use obscura_audit::{Action, AuditLog, Entry, VerifyOptions, verify};

fn log_with(dir: &Path, n: usize) -> PathBuf {
    let path = dir.join("state").join("audit.jsonl");
    let log = AuditLog::at(&path);
    for i in 0..n {
        let mut e = Entry::new([Action::Export, Action::Verify, Action::Open, Action::Purge][i % 4], "ok");
        e.operator = Some("op-7".into());
        e.reference = Some(format!("REQ-{i}"));
        e.package = Some(format!("/some/folder/pkg-{i}.obx"));
        e.package_sha256 = Some(format!("{:064x}", i + 1));
        e.detail = serde_json::json!({ "n": i });
        let r = log.append(e).unwrap();
        assert_eq!(r.seq, i as u64 + 1);
    }
    path
}

fn lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path).unwrap().lines().map(str::to_string).collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    fs::write(path, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
}

fn first_bad_line(path: &Path) -> usize {
    let r = verify(path, &VerifyOptions::default()).unwrap();
    r.problem.expect("tampering must be detected").line
}

#[test]
fn intact_log_verifies_and_records_chain() {
    let d = tempfile::tempdir().unwrap();
    let p = log_with(d.path(), 5);
    let r = verify(&p, &VerifyOptions::default()).unwrap();
    assert!(r.is_valid(), "{:?}", r.problem);
    assert_eq!(r.records, 5);
    let recs = obscura_audit::read_records(&p).unwrap();
    assert_eq!(recs[0].prev_hash, obscura_audit::GENESIS_HASH);
    for w in recs.windows(2) {
        assert_eq!(w[1].prev_hash, w[0].hash);
    }
    // Folders are stripped from package names.
    assert_eq!(recs[2].package.as_deref(), Some("pkg-2.obx"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
    }
}

#[test]
fn every_single_field_edit_is_detected() {
    let d = tempfile::tempdir().unwrap();
    let p = log_with(d.path(), 4);
    let orig = lines(&p);
    let edits: [(&str, &str); 6] = [("\"REQ-2\"", "\"REQ-9\""), ("\"op-7\"", "\"op-8\""), ("\"ok\"", "\"no\""), ("\"n\":2", "\"n\":3"), ("\"seq\":3", "\"seq\":7"), ("\"open\"", "\"purge\"")];
    for (from, to) in edits {
        let mut l = orig.clone();
        assert!(l[2].contains(from), "{from} in {}", l[2]);
        l[2] = l[2].replacen(from, to, 1);
        write_lines(&p, &l);
        assert_eq!(first_bad_line(&p), 3, "edit {from} -> {to}");
    }
    // Re-hashing the edited record does not help: the next record's prev_hash breaks.
    let mut recs = obscura_audit::read_records(&{
        write_lines(&p, &orig);
        p.clone()
    })
    .unwrap();
    recs[1].result = "failed: forged".into();
    recs[1].hash = recs[1].compute_hash();
    write_lines(&p, &recs.iter().map(|r| r.to_line()).collect::<Vec<_>>());
    assert_eq!(first_bad_line(&p), 3);
    // Whitespace-only edits are edits too.
    let mut l = orig.clone();
    l[0] = l[0].replacen(",", ", ", 1);
    write_lines(&p, &l);
    assert_eq!(first_bad_line(&p), 1);
}

#[test]
fn removed_inserted_and_reordered_records_are_detected() {
    let d = tempfile::tempdir().unwrap();
    let p = log_with(d.path(), 5);
    let orig = lines(&p);
    for i in 0..4 {
        let mut l = orig.clone();
        l.remove(i);
        write_lines(&p, &l);
        assert_eq!(first_bad_line(&p), i + 1, "removed record {}", i + 1);
    }
    let mut l = orig.clone();
    l.swap(1, 3);
    write_lines(&p, &l);
    assert_eq!(first_bad_line(&p), 2);
    let mut l = orig.clone();
    l.insert(2, orig[2].clone());
    write_lines(&p, &l);
    assert_eq!(first_bad_line(&p), 4, "a replayed copy of record 3 after record 3");
    // Removing the tail leaves a valid chain: only a remembered head detects it.
    let head = obscura_audit::read_records(&{
        write_lines(&p, &orig);
        p.clone()
    })
    .unwrap()[4]
        .hash
        .clone();
    write_lines(&p, &orig[..3]);
    assert!(verify(&p, &VerifyOptions::default()).unwrap().is_valid());
    let r = verify(&p, &VerifyOptions { expect_head: Some(head.clone()) }).unwrap();
    assert!(r.problem.unwrap().reason.contains("removed from the end"));
    write_lines(&p, &orig);
    assert!(verify(&p, &VerifyOptions { expect_head: Some(head) }).unwrap().is_valid());
}

#[test]
fn every_truncation_is_detected_or_is_a_whole_prefix() {
    let d = tempfile::tempdir().unwrap();
    let p = log_with(d.path(), 3);
    let bytes = fs::read(&p).unwrap();
    let ends: Vec<usize> = bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i + 1).collect();
    let t = d.path().join("t.jsonl");
    for len in 0..bytes.len() {
        fs::write(&t, &bytes[..len]).unwrap();
        let r = verify(&t, &VerifyOptions::default()).unwrap();
        if len == 0 || ends.contains(&len) {
            assert!(r.is_valid(), "prefix of whole records (len {len}) is a valid shorter log");
        } else {
            let prob = r.problem.unwrap_or_else(|| panic!("truncation to {len} bytes not detected"));
            assert!(prob.reason.contains("incomplete last record"), "{prob}");
        }
    }
}

#[test]
fn torn_last_line_is_cut_by_the_next_append_and_accounted() {
    let d = tempfile::tempdir().unwrap();
    let p = log_with(d.path(), 2);
    let mut bytes = fs::read(&p).unwrap();
    bytes.extend_from_slice(b"{\"seq\":3,\"time\":\"20");
    fs::write(&p, &bytes).unwrap();
    assert_eq!(first_bad_line(&p), 3);
    let r = AuditLog::at(&p).append(Entry::new(Action::Verify, "ok")).unwrap();
    assert_eq!(r.seq, 3);
    assert_eq!(r.detail["recovered_torn_bytes"], 19);
    let rep = verify(&p, &VerifyOptions::default()).unwrap();
    assert!(rep.is_valid(), "{:?}", rep.problem);
    assert_eq!(rep.records, 3);
}

#[test]
fn append_refuses_a_tampered_log() {
    let d = tempfile::tempdir().unwrap();
    let p = log_with(d.path(), 3);
    let mut l = lines(&p);
    l.swap(0, 1);
    write_lines(&p, &l);
    let e = AuditLog::at(&p).append(Entry::new(Action::Export, "ok")).unwrap_err();
    assert!(matches!(e, obscura_audit::Error::Damaged { .. }), "{e}");
    assert_eq!(lines(&p), l, "nothing appended");
}

#[test]
fn concurrent_appends_from_threads_stay_one_chain() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("audit.jsonl");
    std::thread::scope(|s| {
        for t in 0..4 {
            let p = p.clone();
            s.spawn(move || {
                for i in 0..10 {
                    AuditLog::at(&p).append(Entry::new(Action::Verify, format!("ok {t}/{i}"))).unwrap();
                }
            });
        }
    });
    let r = verify(&p, &VerifyOptions::default()).unwrap();
    assert!(r.is_valid(), "{:?}", r.problem);
    assert_eq!(r.records, 40);
}

#[test]
fn bad_field_values_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let log = AuditLog::at(d.path().join("a.jsonl"));
    let mut e = Entry::new(Action::Export, "ok");
    e.operator = Some("evil\nline".into());
    assert!(log.append(e).is_err());
    let mut e = Entry::new(Action::Export, "ok");
    e.package_sha256 = Some("ABC".into());
    assert!(log.append(e).is_err());
    assert!(!d.path().join("a.jsonl").exists() || fs::read(d.path().join("a.jsonl")).unwrap().is_empty());
}
