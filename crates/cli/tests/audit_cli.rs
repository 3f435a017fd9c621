//! The audit log's signed checkpoints (issue 20, item 6), by running the binary: `seal`
//! appends a checkpoint signed with the site key after its record, `audit checkpoint` signs
//! the head on demand, and `audit verify --signer` detects a chain that was rewritten (a
//! record deleted and every later hash recomputed) or checkpoints by another key.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

fn obscura(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("obscura").unwrap();
    c.current_dir(dir).env("OBSCURA_AUDIT_LOG", dir.join("audit.jsonl")).env("OBSCURA_TRUST_FILE", dir.join("trusted-signers")).env_remove("OBSCURA_OPERATOR");
    c
}

#[test]
fn checkpoints_are_signed_and_a_rewritten_chain_is_detected() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    obscura(d).args(["keygen", "-o", "keys"]).assert().success();
    obscura(d).args(["keygen", "-o", "keys", "--name", "other"]).assert().success();
    fs::write(d.join("a.txt"), b"payload").unwrap();
    obscura(d).args(["seal", "a.txt", "-o", "x.obx", "--sign", "keys/obscura.sign.key", "--to", "keys/obscura.recipient.pub"]).assert().success();
    obscura(d).args(["verify", "x.obx", "--signer", "keys/obscura.sign.pub"]).assert().success();
    obscura(d).args(["audit", "checkpoint", "--sign", "keys/obscura.sign.key"]).assert().success().stdout(predicate::str::contains("checkpoint: seq 6"));
    // keygen, keygen, seal, checkpoint (by seal), verify, checkpoint
    let actions: Vec<String> = obscura_audit::read_records(&d.join("audit.jsonl")).unwrap().iter().map(|r| r.action.as_str().to_string()).collect();
    assert_eq!(actions, ["keygen", "keygen", "seal", "checkpoint", "verify", "checkpoint"]);
    let ok = obscura(d).args(["audit", "verify", "--signer", "keys/obscura.sign.pub", "--json"]).assert().success().get_output().stdout.clone();
    let v: serde_json::Value = serde_json::from_slice(&ok).unwrap();
    assert_eq!((v["valid"].as_bool(), v["checkpoints"].as_u64(), v["unsigned_tail"].as_u64(), v["last_checkpoint"]["seq"].as_u64()), (Some(true), Some(2), Some(0), Some(6)));
    // another key is not the site's
    obscura(d).args(["audit", "verify", "--signer", "keys/other.sign.pub"]).assert().code(1).stdout(predicate::str::contains("not an expected signer"));

    // Delete the `verify` record and recompute the chain: the unkeyed chain is valid again,
    // the last checkpoint's signature is not.
    let mut recs = obscura_audit::read_records(&d.join("audit.jsonl")).unwrap();
    recs.remove(4);
    let mut prev = obscura_audit::GENESIS_HASH.to_string();
    let mut text = String::new();
    for (i, r) in recs.iter_mut().enumerate() {
        r.seq = i as u64 + 1;
        r.prev_hash = prev.clone();
        r.hash = r.compute_hash();
        prev = r.hash.clone();
        text += &format!("{}\n", r.to_line());
    }
    fs::write(d.join("rewritten.jsonl"), text).unwrap();
    obscura(d)
        .args(["audit", "verify", "rewritten.jsonl", "--signer", "keys/obscura.sign.pub"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("FAILED: rewritten.jsonl: line 5: record 5: checkpoint signature does not verify"));
    // A log without any checkpoint is refused when a signer is required.
    fs::write(d.join("bare.jsonl"), fs::read_to_string(d.join("audit.jsonl")).unwrap().lines().take(3).map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    obscura(d).args(["audit", "verify", "bare.jsonl"]).assert().success().stdout(predicate::str::contains("no signed checkpoint"));
    obscura(d).args(["audit", "verify", "bare.jsonl", "--signer", "keys/obscura.sign.pub"]).assert().code(1).stdout(predicate::str::contains("no signed checkpoint"));
}
