//! Round trips and refusals through the library API.

use std::fs;
use std::path::Path;

use obscura_seal::{
    Date, Error, Identity, KdfParams, Passphrase, RecipientSecretKey, RedactionPolicy, SealBuilder,
    Signer, SigningKey, inspect, open, verify,
};
use sha2::{Digest, Sha256};

fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (i as u32)
                .wrapping_mul(2_654_435_761)
                .rotate_left(seed as u32) as u8
                ^ seed
        })
        .collect()
}

fn empty_dir(d: &Path) -> bool {
    fs::read_dir(d).unwrap().next().is_none()
}

#[test]
fn round_trip_at_chunk_boundaries_real_chunk_size() {
    let dir = tempfile::tempdir().unwrap();
    let signer = SigningKey::generate().unwrap();
    let rk = RecipientSecretKey::generate().unwrap();
    const C: usize = 65_536;
    let sizes = [0, 1, C - 1, C, C + 1, 2 * C, 5 * C + 3];
    let mut b = SealBuilder::new(&signer)
        .recipient(rk.public_key())
        .reference("REQ-1")
        .operator("op-7f3a");
    let big = dir.path().join("big.bin");
    fs::write(&big, data(3 * C + 17, 3)).unwrap();
    for (i, s) in sizes.iter().enumerate() {
        b = b.add_payload_bytes(
            format!("p{i}.bin"),
            "application/octet-stream",
            data(*s, i as u8),
        );
    }
    b = b
        .add_payload_file("big.bin", "video/mp4", &big)
        .source_file(&big);
    let out = dir.path().join("x.obx");
    let m = b.write_to(&out).unwrap();
    assert_eq!(m.payloads.len(), sizes.len() + 1);
    for (e, s) in m.payloads.iter().zip(sizes) {
        assert_eq!(e.plaintext_size, s as u64);
        assert_eq!(
            e.ciphertext_size,
            s as u64 + 16 * (s.div_ceil(C).max(1)) as u64
        );
    }
    assert_eq!(
        m.sources[0].sha256,
        hex(&Sha256::digest(fs::read(&big).unwrap()))
    );

    let v = verify(&out, Some(&signer.public_key())).unwrap();
    assert!(v.signer_pinned);
    assert_eq!(v.manifest, m);
    assert_eq!(inspect(&out).unwrap(), m);
    let od = dir.path().join("open");
    fs::create_dir(&od).unwrap();
    let files = open(&out, &Identity::Recipient(rk), &od, false).unwrap();
    assert_eq!(files.len(), sizes.len() + 1);
    for (i, s) in sizes.iter().enumerate() {
        assert_eq!(
            fs::read(od.join(format!("p{i}.bin"))).unwrap(),
            data(*s, i as u8)
        );
    }
    assert_eq!(
        fs::read(od.join("big.bin")).unwrap(),
        fs::read(&big).unwrap()
    );
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn passphrase_and_multiple_recipients() {
    let dir = tempfile::tempdir().unwrap();
    let signer = SigningKey::generate().unwrap();
    let (a, b) = (
        RecipientSecretKey::generate().unwrap(),
        RecipientSecretKey::generate().unwrap(),
    );
    let pass = Passphrase::new("correct horse battery staple").unwrap();
    let out = dir.path().join("x.obx");
    SealBuilder::new(&signer)
        .recipient(a.public_key())
        .recipient(b.public_key())
        .legacy_mixed_stanzas_for_tests()
        .passphrase_with_params(pass.clone(), KdfParams::insecure_test_params())
        .add_payload_bytes("r.txt", "text/plain", b"report".to_vec())
        .write_to(&out)
        .unwrap();
    for (i, id) in [
        Identity::Recipient(a),
        Identity::Recipient(b),
        Identity::Passphrase(pass),
    ]
    .iter()
    .enumerate()
    {
        let od = dir.path().join(format!("o{i}"));
        fs::create_dir(&od).unwrap();
        open(&out, id, &od, false).unwrap();
        assert_eq!(fs::read(od.join("r.txt")).unwrap(), b"report");
    }
    // wrong identity and wrong passphrase: the same coarse error, nothing written
    let od = dir.path().join("wrong");
    fs::create_dir(&od).unwrap();
    for id in [
        Identity::Recipient(RecipientSecretKey::generate().unwrap()),
        Identity::Passphrase(Passphrase::new("wrong").unwrap()),
    ] {
        let e = open(&out, &id, &od, false).unwrap_err();
        assert!(matches!(e, Error::NoMatchingIdentity), "{e}");
        assert_eq!(
            e.to_string(),
            "cannot open: no matching identity or wrong passphrase"
        );
        assert!(empty_dir(&od));
    }
}

#[test]
fn passphrase_only_export_refuses_recipient_key_and_vice_versa() {
    let dir = tempfile::tempdir().unwrap();
    let signer = SigningKey::generate().unwrap();
    let out = dir.path().join("x.obx");
    SealBuilder::new(&signer)
        .passphrase_with_params(
            Passphrase::new("pw").unwrap(),
            KdfParams::insecure_test_params(),
        )
        .add_payload_bytes("a", "text/plain", vec![1])
        .write_to(&out)
        .unwrap();
    let e = open(
        &out,
        &Identity::Recipient(RecipientSecretKey::generate().unwrap()),
        dir.path(),
        false,
    )
    .unwrap_err();
    assert!(matches!(e, Error::NoMatchingIdentity));
}

#[test]
fn wrong_signer_is_refused_when_pinned() {
    let dir = tempfile::tempdir().unwrap();
    let signer = SigningKey::generate().unwrap();
    let other = SigningKey::generate().unwrap();
    let out = dir.path().join("x.obx");
    SealBuilder::new(&signer)
        .recipient(RecipientSecretKey::generate().unwrap().public_key())
        .add_payload_bytes("a", "text/plain", vec![1, 2, 3])
        .write_to(&out)
        .unwrap();
    let e = verify(&out, Some(&other.public_key())).unwrap_err();
    assert!(matches!(e, Error::UnknownSigner { .. }), "{e}");
    assert!(e.is_finding());
    let od = dir.path().join("o");
    fs::create_dir(&od).unwrap();
    let opts = obscura_seal::OpenOptions {
        signer: Some(other.public_key()),
        ..Default::default()
    };
    let e = obscura_seal::open_with(
        &out,
        &Identity::Recipient(RecipientSecretKey::generate().unwrap()),
        &od,
        &opts,
    )
    .unwrap_err();
    assert!(matches!(e, Error::UnknownSigner { .. }), "{e}");
    assert!(empty_dir(&od));
    let v = verify(&out, None).unwrap();
    assert!(!v.signer_pinned);
    assert_eq!(v.signer, signer.public_key());
}

/// Splits an export into (preamble+header, payload regions, manifest+sig+trailer).
fn split(bytes: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>, Vec<u8>) {
    let m = obscura_seal::inspect_bytes(bytes).unwrap();
    let h = u32::from_be_bytes(bytes[10..14].try_into().unwrap()) as usize;
    let mut off = 14 + h;
    let head = bytes[..off].to_vec();
    let mut regions = Vec::new();
    for p in &m.payloads {
        regions.push(bytes[off..off + p.ciphertext_size as usize].to_vec());
        off += p.ciphertext_size as usize;
    }
    (head, regions, bytes[off..].to_vec())
}

#[test]
fn swapped_payloads_and_replayed_manifest_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let signer = SigningKey::generate().unwrap();
    let rk = RecipientSecretKey::generate().unwrap();
    let make = |name: &str| {
        let out = dir.path().join(name);
        SealBuilder::new(&signer)
            .recipient(rk.public_key())
            .chunk_size_for_tests(64)
            .add_payload_bytes("a.bin", "application/octet-stream", data(200, 1))
            .add_payload_bytes("b.bin", "application/octet-stream", data(200, 2))
            .write_to(&out)
            .unwrap();
        fs::read(&out).unwrap()
    };
    let (x, y) = (make("x.obx"), make("y.obx"));
    let id = Identity::Recipient(rk);
    let od = dir.path().join("o");
    fs::create_dir(&od).unwrap();
    let check = |bytes: Vec<u8>, what: &str| {
        let p = dir.path().join("t.obx");
        fs::write(&p, bytes).unwrap();
        let e = verify(&p, Some(&signer.public_key())).unwrap_err();
        assert!(e.is_finding(), "{what}: {e}");
        let e = open(&p, &id, &od, false).unwrap_err();
        assert!(
            matches!(e, Error::Damaged { .. } | Error::BadSignature),
            "{what}: {e}"
        );
        assert!(empty_dir(&od), "{what}");
        e.to_string()
    };
    let (hx, rx, tx) = split(&x);
    let (hy, ry, ty) = split(&y);
    // payload ciphertexts swapped within one export
    check(
        [hx.clone(), rx[1].clone(), rx[0].clone(), tx.clone()].concat(),
        "swap",
    );
    // a payload spliced in from another export (same key holder, same sizes)
    check(
        [hx.clone(), ry[0].clone(), rx[1].clone(), tx.clone()].concat(),
        "splice",
    );
    // chunks swapped inside a payload (chunk 0 and 1 of payload a, 80 bytes each)
    let mut a = rx[0].clone();
    let (c0, c1) = (a[..80].to_vec(), a[80..160].to_vec());
    a[..80].copy_from_slice(&c1);
    a[80..160].copy_from_slice(&c0);
    check(
        [hx.clone(), a, rx[1].clone(), tx.clone()].concat(),
        "chunk swap",
    );
    // the manifest (with its valid signature) of export y replayed on export x
    let msg = check(
        [hx.clone(), rx[0].clone(), rx[1].clone(), ty.clone()].concat(),
        "replay",
    );
    assert!(msg.contains("another"), "{msg}");
    // and y's header with x's body and manifest
    check(
        [hy, rx[0].clone(), rx[1].clone(), tx].concat(),
        "header replay",
    );
    // the untouched exports still verify and open
    for (n, b) in [("x", &x), ("y", &y)] {
        let p = dir.path().join(format!("{n}.obx"));
        assert_eq!(&fs::read(&p).unwrap(), b);
        verify(&p, Some(&signer.public_key())).unwrap();
    }
}

#[test]
fn expired_exports_are_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let signer = SigningKey::generate().unwrap();
    let rk = RecipientSecretKey::generate().unwrap();
    let out = dir.path().join("x.obx");
    let yesterday = Date::today_utc().plus_days(-1);
    SealBuilder::new(&signer)
        .recipient(rk.public_key())
        .expires(yesterday)
        .add_payload_bytes("a", "text/plain", vec![7])
        .write_to(&out)
        .unwrap();
    let e = verify(&out, None).unwrap_err();
    assert!(matches!(e, Error::Expired { .. }), "{e}");
    let id = Identity::Recipient(rk);
    assert!(matches!(
        open(&out, &id, dir.path(), false).unwrap_err(),
        Error::Expired { .. }
    ));
    assert!(!dir.path().join("a").exists());
    open(&out, &id, dir.path(), true).unwrap();
    assert_eq!(fs::read(dir.path().join("a")).unwrap(), [7]);
    // an export expiring today is still valid
    let out2 = dir.path().join("y.obx");
    SealBuilder::new(&signer)
        .recipient(id_pub(&id))
        .expires(Date::today_utc())
        .add_payload_bytes("b", "text/plain", vec![8])
        .write_to(&out2)
        .unwrap();
    verify(&out2, None).unwrap();
}

fn id_pub(id: &Identity) -> obscura_seal::RecipientPublicKey {
    match id {
        Identity::Recipient(k) => k.public_key(),
        _ => unreachable!(),
    }
}

#[test]
fn open_never_overwrites_and_builder_validates() {
    let dir = tempfile::tempdir().unwrap();
    let signer = SigningKey::generate().unwrap();
    let rk = RecipientSecretKey::generate().unwrap();
    let out = dir.path().join("x.obx");
    let b = || SealBuilder::new(&signer).recipient(rk.public_key());
    for (builder, bad) in [
        (
            SealBuilder::new(&signer).add_payload_bytes("a", "t/p", vec![]),
            "recipients",
        ),
        (b(), "payloads"),
        (b().add_payload_bytes("../a", "t/p", vec![]), "payload name"),
        (
            b().add_payload_bytes("a", "t/p", vec![])
                .add_payload_bytes("a", "t/p", vec![]),
            "used twice",
        ),
        (b().add_payload_bytes("a", "", vec![]), "media type"),
        (
            b().add_payload_bytes("a", "t/p", vec![])
                .chunk_size_for_tests(100),
            "chunk size",
        ),
        (
            b().recipient(rk.public_key())
                .add_payload_bytes("a", "t/p", vec![]),
            "given twice",
        ),
        (
            b().add_payload_bytes("a", "t/p", vec![])
                .source("cam.mp4", "zz"),
            "sha256",
        ),
        (
            b().add_payload_file("a", "t/p", dir.path().join("missing")),
            "missing",
        ),
    ] {
        let e = builder.write_to(&out).unwrap_err();
        assert!(e.to_string().contains(bad), "{bad}: {e}");
        assert!(!e.is_finding());
        assert!(!out.exists());
    }
    assert!(KdfParams::new(1024, 3, 1).is_err());
    // the output may not replace an input
    let input = dir.path().join("in.bin");
    fs::write(&input, b"abc").unwrap();
    let e = b()
        .add_payload_file("in.bin", "t/p", &input)
        .write_to(&input)
        .unwrap_err();
    assert!(e.to_string().contains("is one of the inputs"), "{e}");
    assert_eq!(fs::read(&input).unwrap(), b"abc");

    b().add_payload_bytes("a", "t/p", vec![1])
        .write_to(&out)
        .unwrap();
    fs::write(dir.path().join("a"), b"mine").unwrap();
    let e = open(&out, &Identity::Recipient(rk), dir.path(), false).unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
    assert_eq!(fs::read(dir.path().join("a")).unwrap(), b"mine");
}

/// A signer that stands in for an HSM: signs through the trait, optionally wrongly.
struct Hsm {
    key: SigningKey,
    broken: bool,
}

impl Signer for Hsm {
    fn public_key(&self) -> obscura_seal::SignerPublicKey {
        self.key.public_key()
    }
    fn sign(&self, message: &[u8]) -> Result<[u8; 64], Error> {
        let mut s = self.key.sign(message)?;
        if self.broken {
            s[0] ^= 1;
        }
        Ok(s)
    }
}

#[test]
fn pluggable_signer_and_policy_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let rk = RecipientSecretKey::generate().unwrap();
    let hsm = Hsm {
        key: SigningKey::generate().unwrap(),
        broken: false,
    };
    let out = dir.path().join("x.obx");
    let mut policy = RedactionPolicy::default();
    policy
        .thresholds
        .insert("person_score".into(), obscura_seal::Decimal::from(0.25f64));
    policy.styles.insert("person".into(), "pixelate".into());
    policy.kept_track_ids = vec![3, 9];
    policy
        .extra
        .insert("future".into(), serde_json::json!({"x": [1, "y"]}));
    let t = |s: &str| obscura_core::Timestamp::parse(s).unwrap();
    let cam = obscura_seal::CameraRecord {
        camera: "cam-1".into(),
        included: vec![obscura_core::Interval::new(t("10"), t("20.5")).unwrap()],
        excluded: vec![obscura_core::Interval::new(t("0"), t("10")).unwrap()],
    };
    let m = SealBuilder::new(&hsm)
        .recipient(rk.public_key())
        .policy(policy.clone())
        .cameras(vec![cam.clone()])
        .source("cam1.mp4", "ab".repeat(32))
        .add_payload_bytes("a", "t/p", vec![1])
        .write_to(&out)
        .unwrap();
    let v = verify(&out, Some(&hsm.public_key())).unwrap();
    assert_eq!(v.manifest.policy.as_ref(), Some(&policy));
    assert_eq!(v.manifest.cameras, vec![cam]);
    assert_eq!(v.manifest, m);

    let broken = Hsm {
        key: SigningKey::generate().unwrap(),
        broken: true,
    };
    let out2 = dir.path().join("y.obx");
    let e = SealBuilder::new(&broken)
        .recipient(rk.public_key())
        .add_payload_bytes("a", "t/p", vec![1])
        .write_to(&out2)
        .unwrap_err();
    assert!(matches!(e, Error::Signer(_)), "{e}");
    assert!(!out2.exists());
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temp file left behind"
    );
}

#[test]
fn secrets_are_not_in_debug_output() {
    let sk = SigningKey::generate().unwrap();
    let rk = RecipientSecretKey::generate().unwrap();
    let pass = Passphrase::new("hunter2-secret").unwrap();
    let sk_text = sk.to_key_text(None).unwrap();
    let rk_text = rk.to_key_text(None).unwrap();
    let secret_hex = |t: &str| {
        t.lines()
            .find(|l| !l.starts_with('#'))
            .unwrap()
            .split_once(':')
            .unwrap()
            .1
            .to_string()
    };
    let dbg = format!(
        "{sk:?} {rk:?} {pass:?} {:?}",
        Identity::Passphrase(pass.clone())
    );
    assert!(!dbg.contains(&secret_hex(&sk_text)));
    assert!(!dbg.contains(&secret_hex(&rk_text)));
    assert!(!dbg.contains("hunter2"));
    let b = SealBuilder::new(&sk).passphrase(pass);
    assert!(!format!("{b:?}").contains("hunter2"));
}

#[test]
fn replace_existing_swaps_the_export_and_the_opened_files_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let signer = SigningKey::generate().unwrap();
    let rk = RecipientSecretKey::generate().unwrap();
    let seal = |text: &[u8], replace: bool, out: &Path| {
        SealBuilder::new(&signer)
            .recipient(rk.public_key())
            .add_payload_bytes("a.txt", "text/plain", text.to_vec())
            .replace_existing(replace)
            .write_to(out)
    };
    let out = d.join("x.obx");
    seal(b"one", false, &out).unwrap();
    let first = fs::read(&out).unwrap();
    let e = seal(b"two", false, &out).unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
    assert_eq!(fs::read(&out).unwrap(), first);
    seal(b"two", true, &out).unwrap();
    assert_ne!(fs::read(&out).unwrap(), first);
    // a symlink in the output's place is replaced, its target untouched
    fs::write(d.join("target"), b"keep me").unwrap();
    std::os::unix::fs::symlink("target", d.join("link.obx")).unwrap();
    seal(b"three", true, &d.join("link.obx")).unwrap();
    assert_eq!(fs::read(d.join("target")).unwrap(), b"keep me");
    assert!(
        !fs::symlink_metadata(d.join("link.obx"))
            .unwrap()
            .is_symlink()
    );

    let od = d.join("opened");
    fs::create_dir(&od).unwrap();
    fs::write(od.join("a.txt"), b"older").unwrap();
    let id = Identity::Recipient(rk);
    let e = obscura_seal::open_with(&out, &id, &od, &Default::default()).unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
    assert_eq!(fs::read(od.join("a.txt")).unwrap(), b"older");
    let options = obscura_seal::OpenOptions {
        replace_existing: true,
        ..Default::default()
    };
    obscura_seal::open_with(&out, &id, &od, &options).unwrap();
    assert_eq!(fs::read(od.join("a.txt")).unwrap(), b"two");
}
