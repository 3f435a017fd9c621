//! Issue 20's findings against the library, each refused: crafted exports re-signed by a
//! valid key (so only the new rule can refuse them), FIFOs and devices, names that collide
//! after case folding or NFC, Windows-reserved and bidi names, unbounded Argon2id, a
//! malformed `created`, symlinks at the output, 255-byte names.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use obscura_seal::{
    Error, Identity, KdfParams, Passphrase, RecipientSecretKey, SealBuilder, Signer, SigningKey,
    open, verify,
};
use sha2::{Digest, Sha256};

/// The signed-message prefix of a format version (FORMAT.md section 6).
fn sig_context(version: u16) -> Vec<u8> {
    format!("obscura-export-manifest-v{version}\0").into_bytes()
}

/// The parts of an export file (FORMAT.md section 1).
struct Parts {
    version: u16,
    header: String,
    payload: Vec<u8>,
    manifest: String,
}

fn split(bytes: &[u8]) -> Parts {
    let h = u32::from_be_bytes(bytes[10..14].try_into().unwrap()) as usize;
    let n = bytes.len();
    let m = u32::from_be_bytes(bytes[n - 12..n - 8].try_into().unwrap()) as usize;
    let m_off = n - 76 - m;
    Parts {
        version: u16::from_be_bytes([bytes[8], bytes[9]]),
        header: String::from_utf8(bytes[14..14 + h].to_vec()).unwrap(),
        payload: bytes[14 + h..m_off].to_vec(),
        manifest: String::from_utf8(bytes[m_off..m_off + m].to_vec()).unwrap(),
    }
}

fn hexs(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Reassembles an export, fixing `header_sha256` and re-signing the manifest with `signer`.
fn join(p: &Parts, signer: &SigningKey) -> Vec<u8> {
    let old = p.manifest.split("\"header_sha256\":\"").nth(1).unwrap()[..64].to_string();
    let manifest = p
        .manifest
        .replace(&old, &hexs(&Sha256::digest(p.header.as_bytes())));
    let mut msg = sig_context(p.version);
    msg.extend_from_slice(manifest.as_bytes());
    let sig = signer.sign(&msg).unwrap();
    let mut out = b"\x89OBX\r\n\x1a\n".to_vec();
    out.extend_from_slice(&p.version.to_be_bytes());
    out.extend_from_slice(&(p.header.len() as u32).to_be_bytes());
    out.extend_from_slice(p.header.as_bytes());
    out.extend_from_slice(&p.payload);
    out.extend_from_slice(manifest.as_bytes());
    out.extend_from_slice(&sig);
    out.extend_from_slice(&(manifest.len() as u32).to_be_bytes());
    out.extend_from_slice(b"OBX-END\n");
    out
}

fn is_empty(d: &Path) -> bool {
    fs::read_dir(d).unwrap().next().is_none()
}

#[test]
fn a_resigned_export_with_the_original_edit_still_verifies() {
    // The helpers above are sound: re-signing an unedited export gives a valid export.
    let dir = tempfile::tempdir().unwrap();
    let signer = SigningKey::generate().unwrap();
    let rk = RecipientSecretKey::generate().unwrap();
    let out = dir.path().join("x.obx");
    SealBuilder::new(&signer)
        .recipient(rk.public_key())
        .add_payload_bytes("a.bin", "t/p", b"abc".to_vec())
        .write_to(&out)
        .unwrap();
    let re = dir.path().join("re.obx");
    fs::write(&re, join(&split(&fs::read(&out).unwrap()), &signer)).unwrap();
    verify(&re, Some(&signer.public_key())).unwrap();
}

#[test]
fn passphrase_stanza_is_alone_single_and_cost_capped() {
    let dir = tempfile::tempdir().unwrap();
    let signer = SigningKey::generate().unwrap();
    let rk = RecipientSecretKey::generate().unwrap();
    let pass = Passphrase::new("pw").unwrap();
    // writers: a passphrase is the only recipient
    let e = SealBuilder::new(&signer)
        .recipient(rk.public_key())
        .passphrase_with_params(pass.clone(), KdfParams::insecure_test_params())
        .add_payload_bytes("a", "t/p", vec![1])
        .write_to(&dir.path().join("mixed.obx"))
        .unwrap_err();
    assert!(e.to_string().contains("only recipient"), "{e}");
    assert!(KdfParams::new(KdfParams::MAX_M_KIB * 2, 3, 1).is_err());

    let out = dir.path().join("p.obx");
    SealBuilder::new(&signer)
        .passphrase_with_params(pass.clone(), KdfParams::insecure_test_params())
        .add_payload_bytes("a", "t/p", vec![1])
        .write_to(&out)
        .unwrap();
    let parts = split(&fs::read(&out).unwrap());
    // two passphrase stanzas (validly signed): refused before any Argon2id runs
    let stanza = parts
        .header
        .split("\"recipients\":[")
        .nth(1)
        .unwrap()
        .split(']')
        .next()
        .unwrap()
        .to_string();
    let two_manifest = parts.manifest.replace(
        "\"recipients\":[{\"type\":\"argon2id\"}]",
        "\"recipients\":[{\"type\":\"argon2id\"},{\"type\":\"argon2id\"}]",
    );
    let two = Parts {
        version: parts.version,
        header: parts.header.replace(&stanza, &format!("{stanza},{stanza}")),
        payload: parts.payload.clone(),
        manifest: two_manifest,
    };
    let f = dir.path().join("two.obx");
    fs::write(&f, join(&two, &signer)).unwrap();
    let e = verify(&f, None).unwrap_err();
    assert!(
        e.to_string().contains("more than one passphrase stanza"),
        "{e}"
    );
    // 2 GiB of Argon2id memory (validly signed): refused at once, not computed
    let big = Parts {
        version: parts.version,
        header: parts.header.replace("\"m_kib\":8", "\"m_kib\":2097152"),
        payload: parts.payload.clone(),
        manifest: parts.manifest.clone(),
    };
    let f = dir.path().join("big.obx");
    fs::write(&f, join(&big, &signer)).unwrap();
    let od = dir.path().join("o");
    fs::create_dir(&od).unwrap();
    let t = Instant::now();
    let e = open(&f, &Identity::Passphrase(pass), &od, false).unwrap_err();
    assert!(
        e.is_finding() && e.to_string().contains("malformed recipient stanza"),
        "{e}"
    );
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(is_empty(&od));
}

#[test]
fn names_that_collide_or_are_unsafe_are_refused_at_seal_and_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let signer = SigningKey::generate().unwrap();
    let rk = RecipientSecretKey::generate().unwrap();
    let b = || SealBuilder::new(&signer).recipient(rk.public_key());
    for (names, why) in [
        (vec!["a.bin", "A.BIN"], "used twice"),
        (vec!["caf\u{e9}.txt", "cafe\u{301}.txt"], "used twice"),
        (vec!["CON"], "reserved on Windows"),
        (vec!["lpt1.txt"], "reserved on Windows"),
        (vec!["a:b"], "not allowed on Windows"),
        (vec!["trailing "], "ends with a space"),
        (vec!["evil\u{202e}4pm.exe"], "bidirectional"),
    ] {
        let mut s = b();
        for n in &names {
            s = s.add_payload_bytes(*n, "t/p", b"x".to_vec());
        }
        let e = s.write_to(&dir.path().join("n.obx")).unwrap_err();
        assert!(e.to_string().contains(why), "{names:?}: {e}");
        assert!(!dir.path().join("n.obx").exists());
    }
    // at open: exports made by another writer, validly signed, with such names
    let out = dir.path().join("x.obx");
    b().add_payload_bytes("a.bin", "t/p", b"one".to_vec())
        .add_payload_bytes("b.bin", "t/p", b"two".to_vec())
        .write_to(&out)
        .unwrap();
    let parts = split(&fs::read(&out).unwrap());
    for (rename, why) in [
        ("A.BIN", "only in case"),
        ("CON", "reserved on Windows"),
        ("x\u{202e}y", "bidirectional"),
    ] {
        let p = Parts {
            version: parts.version,
            header: parts.header.clone(),
            payload: parts.payload.clone(),
            manifest: parts
                .manifest
                .replace("\"name\":\"b.bin\"", &format!("\"name\":\"{rename}\"")),
        };
        let f = dir.path().join("crafted.obx");
        fs::write(&f, join(&p, &signer)).unwrap();
        verify(&f, Some(&signer.public_key())).unwrap(); // a valid export...
        let od = tempfile::tempdir().unwrap();
        let e = open(
            &f,
            &Identity::Recipient(
                RecipientSecretKey::from_key_text(&rk.to_key_text(None).unwrap(), None).unwrap(),
            ),
            od.path(),
            false,
        )
        .unwrap_err();
        assert!(e.to_string().contains(why), "{rename:?}: {e}"); // ...that is not written
        assert!(is_empty(od.path()));
    }
}

#[test]
fn created_must_be_an_rfc3339_utc_time() {
    let dir = tempfile::tempdir().unwrap();
    let signer = SigningKey::generate().unwrap();
    let rk = RecipientSecretKey::generate().unwrap();
    let out = dir.path().join("x.obx");
    SealBuilder::new(&signer)
        .recipient(rk.public_key())
        .add_payload_bytes("a", "t/p", vec![1])
        .write_to(&out)
        .unwrap();
    let parts = split(&fs::read(&out).unwrap());
    let created = parts.manifest.split("\"created\":\"").nth(1).unwrap()[..20].to_string();
    for bad in [
        "yesterday",
        "2026-02-30T00:00:00Z",
        "2026-11-28T24:00:00Z",
        "2026-11-28 04:18:00Z",
        "2026-11-28T04:18:00+01:00",
        "\u{1b}[2K2026",
    ] {
        let p = Parts {
            version: parts.version,
            header: parts.header.clone(),
            payload: parts.payload.clone(),
            manifest: parts
                .manifest
                .replace(&created, bad)
                .replace('\u{1b}', "\\u001b"),
        };
        let f = dir.path().join("c.obx");
        fs::write(&f, join(&p, &signer)).unwrap();
        let e = verify(&f, None).unwrap_err();
        assert!(e.to_string().contains("creation time"), "{bad:?}: {e}");
    }
}

#[test]
fn fifos_and_devices_are_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.obx");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let rk = RecipientSecretKey::generate().unwrap();
    let od = dir.path().join("o");
    fs::create_dir(&od).unwrap();
    for p in [
        fifo.as_path(),
        Path::new("/dev/zero"),
        Path::new("/dev/null"),
        dir.path(),
    ] {
        let t = Instant::now();
        let e = verify(p, None).unwrap_err();
        assert!(
            matches!(e, Error::Invalid { .. }) && e.to_string().contains("not an export file"),
            "{}: {e}",
            p.display()
        );
        let e = obscura_seal::inspect(p).unwrap_err();
        assert!(e.to_string().contains("not an export file"), "{e}");
        let e = open(
            p,
            &Identity::Recipient(
                RecipientSecretKey::from_key_text(&rk.to_key_text(None).unwrap(), None).unwrap(),
            ),
            &od,
            false,
        )
        .unwrap_err();
        assert!(e.to_string().contains("not an export file"), "{e}");
        assert!(t.elapsed() < Duration::from_secs(5));
    }
}

#[test]
fn open_writes_through_no_symlink_and_names_up_to_255_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let signer = SigningKey::generate().unwrap();
    let rk = RecipientSecretKey::generate().unwrap();
    let long = "n".repeat(255);
    let out = dir.path().join("x.obx");
    SealBuilder::new(&signer)
        .recipient(rk.public_key())
        .add_payload_bytes(long.clone(), "t/p", b"long".to_vec())
        .write_to(&out)
        .unwrap();
    let od = dir.path().join("o");
    fs::create_dir(&od).unwrap();
    // no temporary name is ever made in the output folder (the name is 255 bytes already)
    open(
        &out,
        &Identity::Recipient(
            RecipientSecretKey::from_key_text(&rk.to_key_text(None).unwrap(), None).unwrap(),
        ),
        &od,
        false,
    )
    .unwrap();
    assert_eq!(fs::read(od.join(&long)).unwrap(), b"long");
    // a symlink planted at the output name (e.g. by another user of a shared folder) is
    // neither followed nor replaced
    let od2 = dir.path().join("o2");
    fs::create_dir(&od2).unwrap();
    let victim = dir.path().join("victim");
    fs::write(&victim, b"victim").unwrap();
    std::os::unix::fs::symlink(&victim, od2.join(&long)).unwrap();
    let e = open(&out, &Identity::Recipient(rk), &od2, false).unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
    assert_eq!(fs::read(&victim).unwrap(), b"victim");
    // sealing over an existing file (or symlink) is refused too
    let e = SealBuilder::new(&signer)
        .passphrase_with_params(
            Passphrase::new("p").unwrap(),
            KdfParams::insecure_test_params(),
        )
        .add_payload_bytes("a", "t/p", vec![1])
        .write_to(&od2.join(&long))
        .unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
    assert_eq!(fs::read(&victim).unwrap(), b"victim");
}
