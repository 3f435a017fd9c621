//! Walk-through of the export commands by running the `obscura` binary: keygen, seal two
//! files for a recipient, verify, tamper one byte, verify again, open.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

/// The binary, run in `dir`, with its audit log kept inside `dir` (never the user's own).
fn obscura(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("obscura").unwrap();
    c.current_dir(dir)
        .env("OBSCURA_AUDIT_LOG", dir.join("audit.jsonl"))
        .env("OBSCURA_TRUST_FILE", dir.join("trusted-signers"));
    c
}

/// Trusts a signing key (open and verify accept only trusted signers without --signer).
fn trust(dir: &Path, pubkey: &str) {
    obscura(dir)
        .args(["trust", "add", pubkey])
        .assert()
        .success()
        .stdout(predicate::str::contains("trusted signer"));
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn keygen_seal_verify_tamper_open() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let keys = d.join("keys");
    obscura(d)
        .args(["keygen", "-o"])
        .arg(&keys)
        .assert()
        .success()
        .stdout(predicate::str::contains("mode 0600"));
    trust(d, "keys/obscura.sign.pub");
    for (f, m) in [
        ("obscura.sign.key", 0o600),
        ("obscura.recipient.key", 0o600),
        ("obscura.sign.pub", 0o644),
        ("obscura.recipient.pub", 0o644),
    ] {
        assert_eq!(mode(&keys.join(f)), m, "{f}");
    }
    // never overwrites
    let before = fs::read(keys.join("obscura.sign.key")).unwrap();
    obscura(d)
        .args(["keygen", "-o"])
        .arg(&keys)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists"));
    assert_eq!(fs::read(keys.join("obscura.sign.key")).unwrap(), before);

    let clip: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    fs::write(d.join("clip.mp4"), &clip).unwrap();
    fs::write(d.join("report.txt"), b"redaction report\n").unwrap();
    let out = d.join("out.obx");
    obscura(d)
        .args([
            "seal",
            "clip.mp4",
            "report.txt",
            "-o",
            "out.obx",
            "--sign",
            "keys/obscura.sign.key",
            "--recipient",
            "keys/obscura.recipient.pub",
        ])
        .args(["--reference", "REQ-1", "--operator", "op-9"])
        .assert()
        .success()
        .stdout(predicate::str::contains("sealed 2 payload(s)"));

    obscura(d)
        .args(["verify", "out.obx", "--signer", "keys/obscura.sign.pub"])
        .assert()
        .success()
        .stdout(predicate::str::contains("OK:"));
    let json = obscura(d)
        .args(["verify", "out.obx", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["manifest"]["payloads"][0]["name"], "clip.mp4");
    assert_eq!(v["manifest"]["reference"], "REQ-1");
    obscura(d)
        .args(["inspect", "out.obx", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"operator\": \"op-9\""));

    // a signer that is not the required one
    let other = d.join("other");
    obscura(d)
        .args(["keygen", "-o"])
        .arg(&other)
        .assert()
        .success();
    obscura(d)
        .args(["verify", "out.obx", "--signer", "other/obscura.sign.pub"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("unknown key"));

    obscura(d)
        .args([
            "open",
            "out.obx",
            "--identity",
            "keys/obscura.recipient.key",
            "--signer",
            "other/obscura.sign.pub",
            "-o",
            "opened_other",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("unknown key"));
    assert!(!d.join("opened_other").exists());

    // tamper one byte in the middle of the first payload
    let mut bytes = fs::read(&out).unwrap();
    let bad = d.join("bad.obx");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    fs::write(&bad, &bytes).unwrap();
    obscura(d)
        .args(["verify", "bad.obx"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("damaged or tampered"));
    let verdict = obscura(d)
        .args(["verify", "bad.obx", "--json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let verdict: serde_json::Value = serde_json::from_slice(&verdict).unwrap();
    assert_eq!(
        (verdict["format"].as_str(), verdict["valid"].as_bool()),
        (Some("obscura-verify/1"), Some(false))
    );
    obscura(d)
        .args([
            "open",
            "bad.obx",
            "--identity",
            "keys/obscura.recipient.key",
            "-o",
            "opened_bad",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("damaged or tampered"));
    assert!(
        !d.join("opened_bad").exists(),
        "no partial plaintext left behind"
    );
    // truncation
    fs::write(&bad, &fs::read(&out).unwrap()[..1000]).unwrap();
    obscura(d)
        .args(["verify", "bad.obx"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("truncated"));

    // wrong identity: coarse error, nothing written
    obscura(d)
        .args([
            "open",
            "out.obx",
            "--identity",
            "other/obscura.recipient.key",
            "-o",
            "opened_wrong",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no matching identity or wrong passphrase",
        ));
    assert!(!d.join("opened_wrong").exists());

    // the good one opens to identical bytes, with 0600 plaintext files
    obscura(d)
        .args([
            "open",
            "out.obx",
            "--identity",
            "keys/obscura.recipient.key",
            "--signer",
            "keys/obscura.sign.pub",
            "-o",
            "opened",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("2 payload(s)"));
    assert_eq!(fs::read(d.join("opened/clip.mp4")).unwrap(), clip);
    assert_eq!(
        fs::read(d.join("opened/report.txt")).unwrap(),
        b"redaction report\n"
    );
    // opening again never overwrites
    obscura(d)
        .args([
            "open",
            "out.obx",
            "--identity",
            "keys/obscura.recipient.key",
            "-o",
            "opened",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists"));
    assert_eq!(fs::read(d.join("opened/clip.mp4")).unwrap(), clip);
}

#[test]
fn expired_exports_and_passphrases() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    obscura(d)
        .args(["keygen", "-o", "k", "--name", "lab"])
        .current_dir(d)
        .assert()
        .success();
    trust(d, "k/lab.sign.pub");
    fs::write(d.join("a.txt"), b"a").unwrap();
    fs::write(d.join("pw"), b"correct horse battery\n").unwrap();
    fs::write(d.join("wrong"), b"incorrect\n").unwrap();
    // seal refuses a past expiry and a seal without recipients
    obscura(d)
        .args([
            "seal",
            "a.txt",
            "-o",
            "x.obx",
            "--sign",
            "k/lab.sign.key",
            "--recipient",
            "k/lab.recipient.pub",
            "--expires",
            "2020-01-01",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("in the past"));
    obscura(d)
        .args(["seal", "a.txt", "-o", "x.obx", "--sign", "k/lab.sign.key"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--recipient"));
    assert!(!d.join("x.obx").exists());

    // an expired export made through the library (the CLI refuses past dates)
    let signer = obscura_seal::SigningKey::read_file(&d.join("k/lab.sign.key"), None).unwrap();
    let rpub = obscura_seal::RecipientPublicKey::read_file(&d.join("k/lab.recipient.pub")).unwrap();
    obscura_seal::SealBuilder::new(&signer)
        .recipient(rpub)
        .expires(obscura_seal::Date::today_utc().plus_days(-1))
        .add_payload_bytes("old.txt", "text/plain", b"old".to_vec())
        .write_to(&d.join("old.obx"))
        .unwrap();
    obscura(d)
        .args(["verify", "old.obx"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("expired"));
    obscura(d)
        .args([
            "open",
            "old.obx",
            "--identity",
            "k/lab.recipient.key",
            "-o",
            "o1",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("expired"));
    assert!(!d.join("o1").exists());
    obscura(d)
        .args([
            "open",
            "old.obx",
            "--identity",
            "k/lab.recipient.key",
            "-o",
            "o1",
            "--allow-expired",
        ])
        .assert()
        .success();
    assert_eq!(fs::read(d.join("o1/old.txt")).unwrap(), b"old");

    // passphrase export (real Argon2id parameters: 64 MiB, t=3)
    obscura(d)
        .args([
            "seal",
            "a.txt",
            "-o",
            "p.obx",
            "--sign",
            "k/lab.sign.key",
            "--passphrase-file",
            "pw",
            "--expires",
            "2099-12-31",
        ])
        .assert()
        .success();
    obscura(d)
        .args(["open", "p.obx", "--passphrase-file", "wrong", "-o", "o2"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no matching identity or wrong passphrase",
        ));
    obscura(d)
        .args(["open", "p.obx", "--passphrase-file", "pw", "-o", "o2"])
        .assert()
        .success();
    assert_eq!(fs::read(d.join("o2/a.txt")).unwrap(), b"a");
    // neither identity nor passphrase: usage error
    obscura(d)
        .args(["open", "p.obx", "-o", "o3"])
        .assert()
        .code(2);
}

#[test]
fn protected_key_files() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    fs::write(d.join("kp"), b"key passphrase\n").unwrap();
    obscura(d)
        .args(["keygen", "-o", "k", "--protect-with-passphrase-file", "kp"])
        .assert()
        .success();
    trust(d, "k/obscura.sign.pub");
    let text = fs::read_to_string(d.join("k/obscura.sign.key")).unwrap();
    assert!(text.contains("obscura-sign-secret-1-argon2id:"));
    fs::write(d.join("a.txt"), b"a").unwrap();
    obscura(d)
        .args([
            "seal",
            "a.txt",
            "-o",
            "x.obx",
            "--sign",
            "k/obscura.sign.key",
            "--recipient",
            "k/obscura.recipient.pub",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("passphrase-protected"));
    obscura(d)
        .args([
            "seal",
            "a.txt",
            "-o",
            "x.obx",
            "--sign",
            "k/obscura.sign.key",
            "--recipient",
            "k/obscura.recipient.pub",
            "--key-passphrase-file",
            "kp",
        ])
        .assert()
        .success();
    obscura(d)
        .args([
            "open",
            "x.obx",
            "--identity",
            "k/obscura.recipient.key",
            "--key-passphrase-file",
            "kp",
            "-o",
            "o",
        ])
        .assert()
        .success();
    assert_eq!(fs::read(d.join("o/a.txt")).unwrap(), b"a");
}
