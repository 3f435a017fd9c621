//! Tamper detection and crash behaviour of the audit log, on real files.

use std::fs;
use std::path::{Path, PathBuf};

use obscura_audit::{Action, AuditLog, Entry, VerifyOptions, verify};

fn log_with(dir: &Path, n: usize) -> PathBuf {
    let path = dir.join("state").join("audit.jsonl");
    let log = AuditLog::at(&path);
    for i in 0..n {
        let mut e = Entry::new(
            [Action::Export, Action::Verify, Action::Open, Action::Purge][i % 4],
            "ok",
        );
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
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    fs::write(
        path,
        lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
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
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

#[test]
fn every_single_field_edit_is_detected() {
    let d = tempfile::tempdir().unwrap();
    let p = log_with(d.path(), 4);
    let orig = lines(&p);
    let edits: [(&str, &str); 6] = [
        ("\"REQ-2\"", "\"REQ-9\""),
        ("\"op-7\"", "\"op-8\""),
        ("\"ok\"", "\"no\""),
        ("\"n\":2", "\"n\":3"),
        ("\"seq\":3", "\"seq\":7"),
        ("\"open\"", "\"purge\""),
    ];
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
    assert_eq!(
        first_bad_line(&p),
        4,
        "a replayed copy of record 3 after record 3"
    );
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
    let r = verify(
        &p,
        &VerifyOptions {
            expect_head: Some(head.clone()),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(r.problem.unwrap().reason.contains("removed from the end"));
    write_lines(&p, &orig);
    assert!(
        verify(
            &p,
            &VerifyOptions {
                expect_head: Some(head),
                ..Default::default()
            }
        )
        .unwrap()
        .is_valid()
    );
}

#[test]
fn every_truncation_is_detected_or_is_a_whole_prefix() {
    let d = tempfile::tempdir().unwrap();
    let p = log_with(d.path(), 3);
    let bytes = fs::read(&p).unwrap();
    let ends: Vec<usize> = bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i + 1)
        .collect();
    let t = d.path().join("t.jsonl");
    for len in 0..bytes.len() {
        fs::write(&t, &bytes[..len]).unwrap();
        let r = verify(&t, &VerifyOptions::default()).unwrap();
        if len == 0 || ends.contains(&len) {
            assert!(
                r.is_valid(),
                "prefix of whole records (len {len}) is a valid shorter log"
            );
        } else {
            let prob = r
                .problem
                .unwrap_or_else(|| panic!("truncation to {len} bytes not detected"));
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
    let r = AuditLog::at(&p)
        .append(Entry::new(Action::Verify, "ok"))
        .unwrap();
    assert_eq!(r.seq, 3);
    assert_eq!(r.detail["recovered_torn_bytes"], 19);
    let rep = verify(&p, &VerifyOptions::default()).unwrap();
    assert!(rep.is_valid(), "{:?}", rep.problem);
    assert_eq!(rep.records, 3);
}

#[test]
fn append_refuses_an_edited_last_record() {
    let d = tempfile::tempdir().unwrap();
    let p = log_with(d.path(), 3);
    let mut l = lines(&p);
    l[2] = l[2].replacen("\"REQ-2\"", "\"REQ-9\"", 1);
    write_lines(&p, &l);
    let e = AuditLog::at(&p)
        .append(Entry::new(Action::Export, "ok"))
        .unwrap_err();
    assert!(matches!(e, obscura_audit::Error::Damaged { .. }), "{e}");
    assert_eq!(lines(&p), l, "nothing appended");
    // An edit further up is not re-read by an append (O(1)); verify finds it, and a signed
    // checkpoint made after it would not hide it either (its signature covers the chain).
    let mut l = lines(&log_with(&d.path().join("b"), 3));
    l[0] = l[0].replacen("\"REQ-0\"", "\"REQ-9\"", 1);
    let p = d.path().join("b").join("state").join("audit.jsonl");
    write_lines(&p, &l);
    AuditLog::at(&p)
        .append(Entry::new(Action::Export, "ok"))
        .unwrap();
    assert_eq!(first_bad_line(&p), 1);
}

#[test]
fn appends_read_only_the_tail() {
    // 3000 records of ~1.2 KB each (3.6 MB): the last append costs about what the first did.
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("big.jsonl");
    let log = AuditLog::at(&p);
    let big = "x".repeat(1000);
    let mut text = String::new();
    let mut prev = obscura_audit::GENESIS_HASH.to_string();
    for seq in 1..=3000u64 {
        // built directly (no fsync per record) to keep the test fast
        // (Record is non-exhaustive: made from its JSON form.)
        let mut r: obscura_audit::Record = serde_json::from_value(serde_json::json!({
            "seq": seq, "time": "2026-11-28T04:18:00Z", "action": "verify", "result": "ok",
            "detail": { "pad": big }, "prev_hash": prev, "hash": "",
        }))
        .unwrap();
        r.hash = r.compute_hash();
        prev = r.hash.clone();
        text += &r.to_line();
        text.push('\n');
    }
    fs::write(&p, text).unwrap();
    let r = log.append(Entry::new(Action::Export, "ok")).unwrap();
    assert_eq!((r.seq, r.prev_hash.as_str()), (3001, prev.as_str()));
    let rep = verify(&p, &VerifyOptions::default()).unwrap();
    assert!(rep.is_valid() && rep.records == 3001, "{:?}", rep.problem);
    // a last record longer than one read block (64 KiB) is found whole
    let mut e = Entry::new(Action::Export, "ok");
    e.detail = serde_json::json!({ "pad": "y".repeat(200_000) });
    log.append(e).unwrap();
    assert_eq!(
        log.append(Entry::new(Action::Export, "ok")).unwrap().seq,
        3003
    );
    assert!(verify(&p, &VerifyOptions::default()).unwrap().is_valid());
}

#[test]
fn signed_checkpoints_expose_a_rewritten_chain() {
    use obscura_seal::{Signer, SigningKey};
    let d = tempfile::tempdir().unwrap();
    let p = log_with(d.path(), 4);
    let site = SigningKey::generate().unwrap();
    let log = AuditLog::at(&p);
    let cp = log.checkpoint(&site, Some("op-7".into())).unwrap();
    assert_eq!((cp.seq, cp.action), (5, Action::Checkpoint));
    log.append(Entry::new(Action::Open, "ok")).unwrap();
    let signers = VerifyOptions {
        signers: Some(vec![site.public_key()]),
        ..Default::default()
    };
    let r = verify(&p, &signers).unwrap();
    assert!(r.is_valid(), "{:?}", r.problem);
    assert_eq!(
        (
            r.checkpoints,
            r.unsigned_tail,
            r.last_checkpoint.as_ref().map(|c| c.seq)
        ),
        (1, 1, Some(5))
    );

    // Whoever can write the file deletes record 2 and recomputes every later hash: the
    // unkeyed chain is valid again, the checkpoint's signature is not.
    let mut recs = obscura_audit::read_records(&p).unwrap();
    recs.remove(1);
    let mut prev = obscura_audit::GENESIS_HASH.to_string();
    for (i, r) in recs.iter_mut().enumerate() {
        r.seq = i as u64 + 1;
        r.prev_hash = prev.clone();
        r.hash = r.compute_hash();
        prev = r.hash.clone();
    }
    let orig = fs::read(&p).unwrap();
    write_lines(&p, &recs.iter().map(|r| r.to_line()).collect::<Vec<_>>());
    let r = verify(&p, &VerifyOptions::default()).unwrap();
    let prob = r.problem.expect("rewritten chain must be detected");
    assert!(
        prob.reason.contains("checkpoint signature does not verify"),
        "{prob}"
    );
    assert_eq!(prob.line, 4);

    // A checkpoint by another key is refused when the site key is expected.
    fs::write(&p, &orig).unwrap();
    let other = SigningKey::generate().unwrap();
    log.checkpoint(&other, None).unwrap();
    let r = verify(&p, &signers).unwrap();
    assert!(r.problem.unwrap().reason.contains("not an expected signer"));
    // No checkpoint at all: refused when a signer is expected, fine otherwise.
    let q = log_with(&d.path().join("q"), 2);
    assert!(
        verify(&q, &signers)
            .unwrap()
            .problem
            .unwrap()
            .reason
            .contains("no signed checkpoint")
    );
    assert!(verify(&q, &VerifyOptions::default()).unwrap().is_valid());
    // A forged checkpoint (signature of another message) is refused.
    fs::write(&p, &orig).unwrap();
    let mut recs = obscura_audit::read_records(&p).unwrap();
    let sig = site.sign(b"something else").unwrap();
    recs[4].detail["signature"] =
        serde_json::json!(sig.iter().map(|b| format!("{b:02x}")).collect::<String>());
    recs[4].hash = recs[4].compute_hash();
    recs[5].prev_hash = recs[4].hash.clone();
    recs[5].hash = recs[5].compute_hash();
    write_lines(&p, &recs.iter().map(|r| r.to_line()).collect::<Vec<_>>());
    assert!(
        verify(&p, &VerifyOptions::default())
            .unwrap()
            .problem
            .unwrap()
            .reason
            .contains("signature does not verify")
    );
    // Truncating back to the checkpoint is a valid shorter log: the noted head detects it.
    fs::write(&p, &orig).unwrap();
    let head = verify(&p, &signers).unwrap().last.unwrap().hash;
    write_lines(&p, &lines(&p)[..5]);
    assert!(verify(&p, &signers).unwrap().is_valid());
    let r = verify(
        &p,
        &VerifyOptions {
            expect_head: Some(head),
            ..signers.clone()
        },
    )
    .unwrap();
    assert!(r.problem.unwrap().reason.contains("removed from the end"));
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
                    AuditLog::at(&p)
                        .append(Entry::new(Action::Verify, format!("ok {t}/{i}")))
                        .unwrap();
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
    assert!(
        !d.path().join("a.jsonl").exists()
            || fs::read(d.path().join("a.jsonl")).unwrap().is_empty()
    );
}
