//! Generates the sealed-export test vectors checked in under `crates/seal/tests/vectors/`:
//! one case per file, a text header with the expected outcomes, a `---` line, then the
//! export bytes. Run: `cargo run -p obscura-testkit --bin gen-seal-vectors -- crates/seal/tests/vectors`.
//!
//! Expectations are written from the construction of each case (what was changed), never by
//! running the verifier on it.

use std::fs;
use std::path::{Path, PathBuf};

use obscura_seal::testing::{assemble, resign, split};
use obscura_seal::{
    Date, KdfParams, Passphrase, RecipientSecretKey, SealBuilder, Signer, SigningKey,
};

const PASS: &str = "vector passphrase";

struct Keys {
    signer: SigningKey,
    other_signer: SigningKey,
    recipient: RecipientSecretKey,
    other_recipient: RecipientSecretKey,
}

struct Vector {
    name: &'static str,
    description: &'static str,
    verify: &'static str,
    open: &'static str,
    signer: Option<String>,
    identity: Option<String>,
    passphrase: Option<&'static str>,
    payloads: Vec<(String, String)>,
    bytes: Vec<u8>,
}

use obscura_core::digest::sha256_hex;

fn seal(
    dir: &Path,
    keys: &Keys,
    chunk: u32,
    payloads: &[(&str, Vec<u8>)],
    edit: impl FnOnce(SealBuilder<'_>) -> SealBuilder<'_>,
) -> (Vec<u8>, Vec<(String, String)>) {
    let mut b = SealBuilder::new(&keys.signer)
        .recipient(keys.recipient.public_key())
        .chunk_size_for_tests(chunk)
        .reference("REQ-2026-0001")
        .operator("op-7f3a");
    for (n, d) in payloads {
        b = b.add_payload_bytes(*n, "application/octet-stream", d.clone());
    }
    b = edit(b);
    let out = dir.join("tmp.obx");
    let _ = fs::remove_file(&out);
    b.write_to(&out).expect("seal");
    let bytes = fs::read(&out).expect("read");
    (
        bytes,
        payloads
            .iter()
            .map(|(n, d)| (n.to_string(), sha256_hex(d)))
            .collect(),
    )
}

fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn payload_offset(bytes: &[u8]) -> usize {
    14 + u32::from_be_bytes(bytes[10..14].try_into().expect("4 bytes")) as usize
}

fn replace_once(hay: &[u8], from: &str, to: &str) -> Vec<u8> {
    let s = String::from_utf8(hay.to_vec()).expect("manifest is UTF-8");
    assert!(s.contains(from), "{from} not in manifest");
    s.replacen(from, to, 1).into_bytes()
}

fn main() {
    let out_dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "crates/seal/tests/vectors".into()),
    );
    fs::create_dir_all(&out_dir).expect("create output folder");
    let scratch = tempfile::tempdir().expect("tempdir");
    let dir = scratch.path();
    let keys = Keys {
        signer: SigningKey::from_seed(&[1; 32]),
        other_signer: SigningKey::from_seed(&[2; 32]),
        recipient: RecipientSecretKey::from_bytes(&[3; 32]),
        other_recipient: RecipientSecretKey::from_bytes(&[4; 32]),
    };
    let signer_pub = keys
        .signer
        .public_key()
        .to_key_text()
        .lines()
        .last()
        .expect("key line")
        .to_string();
    let other_signer_pub = keys
        .other_signer
        .public_key()
        .to_key_text()
        .lines()
        .last()
        .expect("key line")
        .to_string();
    let id = |k: &RecipientSecretKey| {
        k.to_key_text(None)
            .expect("key text")
            .lines()
            .last()
            .expect("key line")
            .to_string()
    };
    let (rid, other_rid) = (id(&keys.recipient), id(&keys.other_recipient));
    let pass = Passphrase::new(PASS).expect("passphrase");

    let v =
        |name, description, verify, open, bytes: Vec<u8>, payloads: Vec<(String, String)>| Vector {
            name,
            description,
            verify,
            open,
            signer: Some(signer_pub.clone()),
            identity: Some(rid.clone()),
            passphrase: None,
            payloads,
            bytes,
        };
    let mut out = Vec::new();

    let (one, one_p) = seal(dir, &keys, 65_536, &[("clip.bin", data(200, 1))], |b| b);
    out.push(v(
        "ok-x25519",
        "one payload for one X25519 recipient",
        "ok",
        "ok",
        one.clone(),
        one_p.clone(),
    ));

    let (pw, pw_p) = seal(
        dir,
        &keys,
        65_536,
        &[("note.txt", b"hello".to_vec())],
        |b| {
            b.legacy_mixed_stanzas_for_tests()
                .passphrase_with_params(pass.clone(), KdfParams::insecure_test_params())
        },
    );
    let mut pv = v(
        "ok-passphrase",
        "X25519 and passphrase stanzas (test-only Argon2id m=8 KiB t=1), opened with the passphrase",
        "ok",
        "ok",
        pw.clone(),
        pw_p,
    );
    pv.identity = None;
    pv.passphrase = Some(PASS);
    out.push(pv);
    let mut wp = v(
        "wrong-passphrase",
        "the passphrase export opened with a wrong passphrase",
        "ok",
        "no-match",
        pw,
        vec![],
    );
    wp.identity = None;
    wp.passphrase = Some("not the passphrase");
    out.push(wp);

    let multi_payloads = [
        ("empty.bin", vec![]),
        ("one-chunk.bin", data(64, 2)),
        ("chunk-plus-one.bin", data(65, 3)),
        ("many.bin", data(300, 4)),
    ];
    let (multi, multi_p) = seal(dir, &keys, 64, &multi_payloads, |b| b);
    out.push(v(
        "ok-chunk-boundaries",
        "chunk size 64: payloads of 0, 64, 65 and 300 bytes",
        "ok",
        "ok",
        multi.clone(),
        multi_p,
    ));

    let mut wi = v(
        "wrong-identity",
        "valid export opened with another recipient's key",
        "ok",
        "no-match",
        one.clone(),
        vec![],
    );
    wi.identity = Some(other_rid.clone());
    out.push(wi);
    let mut us = v(
        "unknown-signer",
        "valid export, verifier requires another signer",
        "unknown-signer",
        "ok",
        one.clone(),
        one_p.clone(),
    );
    us.signer = Some(other_signer_pub.clone());
    out.push(us);

    let (exp, exp_p) = seal(dir, &keys, 65_536, &[("old.bin", data(10, 5))], |b| {
        b.expires(Date::parse("2020-01-01").expect("date"))
    });
    let _ = exp_p;
    out.push(v(
        "expired",
        "retention expiry 2020-01-01 has passed",
        "expired",
        "expired",
        exp,
        vec![],
    ));

    let off = payload_offset(&one);
    let mut t = one.clone();
    t[20] ^= 0x01;
    out.push(v(
        "flip-header",
        "one bit flipped inside the header JSON",
        "damaged",
        "damaged",
        t,
        vec![],
    ));
    let mut t = one.clone();
    t[off + 50] ^= 0x80;
    out.push(v(
        "flip-payload",
        "one bit flipped inside the payload ciphertext",
        "damaged",
        "damaged",
        t,
        vec![],
    ));
    let mut t = one.clone();
    t[off + 200 + 3] ^= 0x01;
    out.push(v(
        "flip-tag",
        "one bit flipped in the final chunk's GCM tag",
        "damaged",
        "damaged",
        t,
        vec![],
    ));
    let (body, manifest, sig) = split(&one).expect("split");
    let mut t = body.to_vec();
    t.extend_from_slice(&replace_once(manifest, "REQ-2026-0001", "REQ-2026-0002"));
    t.extend_from_slice(&sig);
    t.extend_from_slice(&one[one.len() - 12..]);
    out.push(v(
        "edited-manifest",
        "manifest reference edited without re-signing",
        "bad-signature",
        "bad-signature",
        t,
        vec![],
    ));
    let mut t = one.clone();
    let n = t.len();
    t[n - 76] ^= 0x01;
    out.push(v(
        "flip-signature",
        "one bit flipped in the signature",
        "bad-signature",
        "bad-signature",
        t,
        vec![],
    ));
    let mut t = one.clone();
    t[0] ^= 0x01;
    out.push(v(
        "bad-magic",
        "first magic byte changed",
        "damaged",
        "damaged",
        t,
        vec![],
    ));
    let mut t = one.clone();
    t[9] = 2;
    out.push(v(
        "unsupported-version",
        "preamble version 2",
        "damaged",
        "damaged",
        t,
        vec![],
    ));
    out.push(v(
        "truncated-trailer",
        "last byte removed",
        "damaged",
        "damaged",
        one[..one.len() - 1].to_vec(),
        vec![],
    ));
    out.push(v(
        "truncated-after-payloads",
        "cut right after the payload data (manifest, signature, trailer missing)",
        "damaged",
        "damaged",
        multi[..multi.len() - split(&multi).expect("split").1.len() - 76].to_vec(),
        vec![],
    ));
    out.push(v(
        "extended",
        "one byte appended",
        "damaged",
        "damaged",
        [&one[..], b"\0"].concat(),
        vec![],
    ));

    // last chunk removed and the manifest re-signed to match the shorter ciphertext
    let (mb, mm, _) = split(&multi).expect("split");
    let moff = payload_offset(&multi);
    let ct_total: usize = [16usize, 80, 65 + 32, 300 + 5 * 16].iter().sum();
    assert_eq!(mb.len() - moff, ct_total);
    let dropped_last = &mb[..mb.len() - (300 - 256 + 16)];
    let mm2 = replace_once(mm, "\"ciphertext_size\":380", "\"ciphertext_size\":320");
    let mm2 = String::from_utf8(mm2)
        .expect("utf8")
        .replacen("\"plaintext_size\":300", "\"plaintext_size\":256", 1)
        .into_bytes();
    let t = assemble(dropped_last, &mm2, &keys.signer).expect("assemble");
    out.push(v("resigned-dropped-last-chunk", "final chunk of a payload removed, sizes in the re-signed manifest adjusted (hash no longer matches)", "damaged", "damaged", t, vec![]));

    let t = resign(&one, &keys.signer, |m| {
        let mut x = m.to_vec();
        x.insert(1, b' ');
        x
    })
    .expect("resign");
    out.push(v(
        "non-canonical-manifest",
        "validly signed manifest with a space (not canonical JSON)",
        "damaged",
        "damaged",
        t,
        vec![],
    ));
    let t = resign(&one, &keys.signer, |m| {
        replace_once(m, "\"name\":\"clip.bin\"", "\"name\":\"../clip\"")
    })
    .expect("resign");
    out.push(v(
        "path-traversal-name",
        "validly signed manifest naming a payload ../clip",
        "damaged",
        "damaged",
        t,
        vec![],
    ));
    let t = resign(&one, &keys.other_signer, |m| {
        let ours = keys.signer.public_key();
        let theirs = keys.other_signer.public_key();
        let hex = |k: [u8; 32]| obscura_core::digest::hex(&k);
        let s = String::from_utf8(m.to_vec()).expect("utf8");
        s.replace(&hex(ours.to_bytes()), &hex(theirs.to_bytes()))
            .replace(&ours.fingerprint(), &theirs.fingerprint())
            .into_bytes()
    })
    .expect("resign");
    let mut rs = v(
        "re-signed-by-other",
        "manifest re-signed by another key; verifier pins the original signer",
        "unknown-signer",
        "ok",
        t,
        one_p.clone(),
    );
    rs.signer = Some(signer_pub.clone());
    out.push(rs);

    // two exports with equal payload sizes: replay and splicing
    let pair = [("a.bin", data(150, 6)), ("b.bin", data(150, 7))];
    let (x, _) = seal(dir, &keys, 64, &pair, |b| b);
    let (y, _) = seal(dir, &keys, 64, &pair, |b| b);
    let xo = payload_offset(&x);
    let ct = 150 + 3 * 16;
    let (xb, _, _) = split(&x).expect("split");
    let (_, ym, ysig) = split(&y).expect("split");
    let mut t = xb.to_vec();
    t.extend_from_slice(ym);
    t.extend_from_slice(&ysig);
    t.extend_from_slice(&y[y.len() - 12..]);
    out.push(v(
        "replayed-manifest",
        "export x's header and payloads with export y's validly signed manifest",
        "damaged",
        "damaged",
        t,
        vec![],
    ));
    let mut t = x.clone();
    t[xo..xo + ct].copy_from_slice(&x[xo + ct..xo + 2 * ct]);
    t[xo + ct..xo + 2 * ct].copy_from_slice(&x[xo..xo + ct]);
    out.push(v(
        "swapped-payloads",
        "the two payload ciphertexts exchanged",
        "damaged",
        "damaged",
        t,
        vec![],
    ));
    let mut t = x.clone();
    let yo = payload_offset(&y);
    t[xo..xo + ct].copy_from_slice(&y[yo..yo + ct]);
    out.push(v(
        "spliced-payload",
        "payload 0 replaced by payload 0 of another export",
        "damaged",
        "damaged",
        t,
        vec![],
    ));
    let mut t = x.clone();
    t[xo..xo + 80].copy_from_slice(&x[xo + 80..xo + 160]);
    t[xo + 80..xo + 160].copy_from_slice(&x[xo..xo + 80]);
    out.push(v(
        "swapped-chunks",
        "chunks 0 and 1 of payload 0 exchanged",
        "damaged",
        "damaged",
        t,
        vec![],
    ));

    for (i, vec) in out.iter().enumerate() {
        let mut text = String::from("obscura-seal test vector 1\n");
        text += &format!("description: {}\n", vec.description);
        text += &format!("expect-verify: {}\n", vec.verify);
        text += &format!("expect-open: {}\n", vec.open);
        if let Some(s) = &vec.signer {
            text += &format!("signer: {s}\n");
        }
        if let Some(s) = &vec.identity {
            text += &format!("identity: {s}\n");
        }
        if let Some(s) = vec.passphrase {
            text += &format!("passphrase: {s}\n");
        }
        for (n, h) in &vec.payloads {
            text += &format!("payload: {n} {h}\n");
        }
        text += "---\n";
        let mut bytes = text.into_bytes();
        bytes.extend_from_slice(&vec.bytes);
        let path = out_dir.join(format!("{:02}-{}.vec", i + 1, vec.name));
        fs::write(&path, bytes).expect("write vector");
        println!("{}", path.display());
    }
}
