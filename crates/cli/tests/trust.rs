//! The trust store (issue 20, item 3) and terminal-safe manifest strings (item 8), by
//! running the binary: an export signed by an untrusted key is refused by `open` and
//! `verify` unless its key is trusted, pinned with `--signer` or `--any-signer` is given; the
//! signer's fingerprint is always printed; a crafted `reference` cannot write escapes.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

fn obscura(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("obscura").unwrap();
    c.current_dir(dir)
        .env("OBSCURA_AUDIT_LOG", dir.join("audit.jsonl"))
        .env("OBSCURA_TRUST_FILE", dir.join("trust/signers"));
    c
}

fn fingerprint(dir: &Path, pubkey: &str) -> String {
    let text = fs::read_to_string(dir.join(pubkey)).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("obscura-sign-public-1:"))
        .unwrap();
    obscura_seal::SignerPublicKey::from_key_text(line)
        .unwrap()
        .fingerprint()
}

#[test]
fn open_and_verify_require_a_trusted_or_pinned_signer() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    obscura(d).args(["keygen", "-o", "keys"]).assert().success();
    fs::write(d.join("a.txt"), b"payload").unwrap();
    obscura(d)
        .args([
            "seal",
            "a.txt",
            "-o",
            "x.obx",
            "--sign",
            "keys/obscura.sign.key",
            "--recipient",
            "keys/obscura.recipient.pub",
        ])
        .assert()
        .success();
    let fp = fingerprint(d, "keys/obscura.sign.pub");
    // keygen and seal are audited (public fingerprints only); a seal whose record cannot be
    // written leaves no package
    let log = fs::read_to_string(d.join("audit.jsonl")).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert!(
        lines[0].contains("\"action\":\"keygen\"")
            && lines[0].contains(&fp)
            && !log.contains("secret-1"),
        "{log}"
    );
    assert!(
        lines[1].contains("\"action\":\"seal\"") && lines[1].contains("\"package\":\"x.obx\""),
        "{log}"
    );
    obscura(d)
        .args([
            "seal",
            "a.txt",
            "-o",
            "y.obx",
            "--sign",
            "keys/obscura.sign.key",
            "--recipient",
            "keys/obscura.recipient.pub",
            "--audit-log",
            "/dev/null",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not sealed"));
    assert!(!d.join("y.obx").exists());
    let open = |out: &str| {
        let mut c = obscura(d);
        c.args([
            "open",
            "x.obx",
            "--identity",
            "keys/obscura.recipient.key",
            "-o",
            out,
        ]);
        c
    };

    // empty trust store: refused (a finding, exit 1), nothing written, the signer named
    obscura(d)
        .args(["trust", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("no trusted signers"));
    obscura(d)
        .args(["verify", "x.obx"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!(
            "signed by {fp}, which is not a trusted signer"
        )));
    open("o1").assert().code(1).stderr(
        predicate::str::contains("not a trusted signer").and(predicate::str::contains(fp.as_str())),
    );
    assert!(!d.join("o1").exists());
    let log = fs::read_to_string(d.join("audit.jsonl")).unwrap();
    assert!(
        log.lines()
            .last()
            .unwrap()
            .contains("failed: signed by an unknown key"),
        "{log}"
    );

    // explicit opt-out, and pinning
    obscura(d)
        .args(["verify", "x.obx", "--any-signer"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "{fp} (NOT checked against a trusted key"
        )));
    open("o2")
        .arg("--any-signer")
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "signer: {fp} (NOT checked"
        )));
    open("o3")
        .args(["--signer", "keys/obscura.sign.pub"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "signer: {fp} (the required key"
        )));
    obscura(d)
        .args([
            "verify",
            "x.obx",
            "--any-signer",
            "--signer",
            "keys/obscura.sign.pub",
        ])
        .assert()
        .code(2);

    // trusted: accepted with its label; removed: refused again
    obscura(d)
        .args([
            "trust",
            "add",
            "keys/obscura.sign.pub",
            "--label",
            "Site North",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "trusted signer {fp}  Site North"
        )));
    obscura(d)
        .args(["trust", "add", "keys/obscura.sign.pub"])
        .assert()
        .success()
        .stdout(predicate::str::contains("already trusted"));
    obscura(d)
        .args(["trust", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("{fp}  Site North")));
    obscura(d)
        .args(["verify", "x.obx"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "{fp} (trusted: Site North)"
        )));
    open("o4")
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "signer: {fp} (trusted: Site North)"
        )));
    assert_eq!(fs::read(d.join("o4/a.txt")).unwrap(), b"payload");
    obscura(d)
        .args(["trust", "remove", &fp[..10]])
        .assert()
        .success()
        .stdout(predicate::str::contains("no longer trusted"));
    obscura(d).args(["verify", "x.obx"]).assert().code(1);
    obscura(d)
        .args(["trust", "remove", &fp[..10]])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not in the trust store"));
}

#[test]
fn control_characters_in_manifest_strings_are_escaped_when_printed() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    obscura(d).args(["keygen", "-o", "keys"]).assert().success();
    fs::write(d.join("a.txt"), b"payload").unwrap();
    obscura(d)
        .args([
            "seal",
            "a.txt",
            "-o",
            "x.obx",
            "--sign",
            "keys/obscura.sign.key",
            "--recipient",
            "keys/obscura.recipient.pub",
            "--reference",
            "REFXX",
        ])
        .assert()
        .success();
    // Another writer's export, validly signed, whose reference draws a fake line. Format 2
    // refuses control characters in the reference outright; a format-1 file (made here from
    // the format-2 one: versions, header hash and signature context changed) may hold them.
    let bytes = fs::read(d.join("x.obx")).unwrap();
    let h = u32::from_be_bytes(bytes[10..14].try_into().unwrap()) as usize;
    let n = bytes.len();
    let m = u32::from_be_bytes(bytes[n - 12..n - 8].try_into().unwrap()) as usize;
    let m_off = n - 76 - m;
    let hexs = |b: [u8; 32]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let header2 = String::from_utf8(bytes[14..14 + h].to_vec()).unwrap();
    let header1 = header2.replace("\"version\":2", "\"version\":1");
    let manifest2 = String::from_utf8(bytes[m_off..m_off + m].to_vec())
        .unwrap()
        .replace("REFXX", "R\\u001b[2K\\r  signer:     trusted");
    let sk = obscura_seal::SigningKey::read_file(&d.join("keys/obscura.sign.key"), None).unwrap();
    let assemble = |version: u16, header: &str, manifest: &str| {
        let mut msg = format!("obscura-export-manifest-v{version}\0").into_bytes();
        msg.extend_from_slice(manifest.as_bytes());
        let sig = obscura_seal::Signer::sign(&sk, &msg).unwrap();
        let mut out = bytes[..8].to_vec();
        out.extend_from_slice(&version.to_be_bytes());
        out.extend_from_slice(&(header.len() as u32).to_be_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(&bytes[14 + h..m_off]);
        out.extend_from_slice(manifest.as_bytes());
        out.extend_from_slice(&sig);
        out.extend_from_slice(&(manifest.len() as u32).to_be_bytes());
        out.extend_from_slice(b"OBX-END\n");
        out
    };
    fs::write(d.join("ansi2.obx"), assemble(2, &header2, &manifest2)).unwrap();
    obscura(d)
        .args(["verify", "ansi2.obx", "--signer", "keys/obscura.sign.pub"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("without control characters"));
    let manifest = manifest2
        .replace("\"format_version\":2", "\"format_version\":1")
        .replace(
            &hexs(obscura_seal::testing::sha256(header2.as_bytes())),
            &hexs(obscura_seal::testing::sha256(header1.as_bytes())),
        );
    let out = assemble(1, &header1, &manifest);
    assert!(h + 14 <= m_off);
    fs::write(d.join("ansi.obx"), out).unwrap();
    for args in [
        vec!["verify", "ansi.obx", "--signer", "keys/obscura.sign.pub"],
        vec!["inspect", "ansi.obx"],
    ] {
        let o = obscura(d)
            .args(&args)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let s = String::from_utf8(o).unwrap();
        assert!(
            !s.contains('\u{1b}') && !s.contains('\r'),
            "{args:?}: raw control characters printed: {s:?}"
        );
        assert!(
            s.contains("reference:  R\\u{1b}[2K\\u{d}  signer:     trusted"),
            "{args:?}: {s}"
        );
    }
}
