//! Exhaustive tamper tests on a small export: every single-bit flip anywhere in the file and
//! every truncation length must be refused by `verify` and by `open`, and `open` must leave
//! nothing behind.

use std::fs;
use std::path::Path;

use obscura_seal::{
    Error, Identity, KdfParams, Passphrase, RecipientSecretKey, SealBuilder, Signer, SigningKey,
    open, verify,
};

struct Case<'a> {
    dir: &'a Path,
    signer: &'a SigningKey,
    ids: &'a [Identity],
}

impl Case<'_> {
    /// Asserts `bytes` is refused by verify (pinned and unpinned) and by open with every
    /// identity, with nothing written to the output folder.
    fn refused(&self, bytes: &[u8], what: &str) -> usize {
        let p = self.dir.join("t.obx");
        fs::write(&p, bytes).unwrap();
        let out = self.dir.join("out");
        let mut checks = 0;
        for pin in [Some(self.signer.public_key()), None] {
            match verify(&p, pin.as_ref()) {
                Ok(_) => panic!("{what}: verify accepted a tampered export"),
                Err(e) => assert!(e.is_finding(), "{what}: {e}"),
            }
            checks += 1;
        }
        for id in self.ids {
            match open(&p, id, &out, false) {
                Ok(_) => panic!("{what}: open accepted a tampered export"),
                Err(e) => assert!(
                    matches!(
                        e,
                        Error::Damaged { .. } | Error::BadSignature | Error::NoMatchingIdentity
                    ),
                    "{what}: {e}"
                ),
            }
            assert!(
                fs::read_dir(&out).unwrap().next().is_none(),
                "{what}: open left files behind"
            );
            checks += 1;
        }
        checks
    }
}

#[test]
fn every_bit_flip_and_every_truncation_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("out")).unwrap();
    let signer = SigningKey::generate().unwrap();
    let rk = RecipientSecretKey::generate().unwrap();
    let pass = Passphrase::new("pw").unwrap();
    let good = dir.path().join("good.obx");
    // 3 payloads over several 64-byte chunks (one a whole number of chunks, one empty),
    // an X25519 and a passphrase stanza.
    SealBuilder::new(&signer)
        .recipient(rk.public_key())
        .legacy_mixed_stanzas_for_tests()
        .passphrase_with_params(pass.clone(), KdfParams::insecure_test_params())
        .chunk_size_for_tests(64)
        .add_payload_bytes("a.bin", "application/octet-stream", (0..150u8).collect())
        .add_payload_bytes("b.bin", "application/octet-stream", vec![0x5a; 128])
        .add_payload_bytes("c.bin", "application/octet-stream", Vec::new())
        .write_to(&good)
        .unwrap();
    let bytes = fs::read(&good).unwrap();
    let ids = [Identity::Recipient(rk), Identity::Passphrase(pass)];
    let case = Case {
        dir: dir.path(),
        signer: &signer,
        ids: &ids,
    };

    // sanity: the untouched export verifies and opens
    verify(&good, Some(&signer.public_key())).unwrap();
    let ok_dir = dir.path().join("ok");
    fs::create_dir(&ok_dir).unwrap();
    assert_eq!(open(&good, &ids[0], &ok_dir, false).unwrap().len(), 3);

    let mut flips = 0;
    let mut checks = 0;
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut t = bytes.clone();
            t[i] ^= 1 << bit;
            checks += case.refused(&t, &format!("flip byte {i} bit {bit}"));
            flips += 1;
        }
    }
    let mut truncations = 0;
    for len in 0..bytes.len() {
        checks += case.refused(&bytes[..len], &format!("truncate to {len}"));
        truncations += 1;
    }
    // appending anything is refused too
    for extra in [&b"\0"[..], b"OBX-END\n", &bytes[bytes.len() - 12..]] {
        checks += case.refused(&[&bytes[..], extra].concat(), "extension");
    }
    eprintln!(
        "tamper: file {} bytes, {flips} single-bit flips, {truncations} truncations, 3 extensions, {checks} refusals checked",
        bytes.len()
    );
    assert_eq!(flips, bytes.len() * 8);
}
