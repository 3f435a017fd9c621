//! Generates the format-2 sealed-export test vectors checked in under
//! `crates/seal/tests/vectors-v2/`: one case per file, a text header with the expected
//! outcomes (and, for refusals, a phrase the reason must contain), a `---` line, then the
//! export bytes. Run: `cargo run -p obscura-testkit --bin gen-seal-vectors-v2 --
//! crates/seal/tests/vectors-v2`.
//!
//! Most refusals are *validly signed* by the test signer after the edit (and the header hash
//! fixed where the header changed), so only the rule under test can refuse them.
//! Expectations are written from the construction of each case, never by running the
//! verifier on it.

use std::fs;
use std::path::{Path, PathBuf};

use obscura_core::{Interval, Timestamp};
use obscura_seal::testing::sha256;
use obscura_seal::{
    CameraRecord, Date, Decimal, KdfParams, Passphrase, RecipientSecretKey, RedactionPolicy,
    SealBuilder, Signer, SigningKey,
};

const PASS: &str = "vector passphrase";

struct Vector {
    name: &'static str,
    description: &'static str,
    verify: &'static str,
    open: &'static str,
    reason: Option<&'static str>,
    identity: Option<String>,
    passphrase: Option<&'static str>,
    payloads: Vec<(String, String)>,
    bytes: Vec<u8>,
}

use obscura_core::digest::hex as hexs;

/// An export cut into its parts (FORMAT.md section 1).
#[derive(Clone)]
struct Parts {
    version: u16,
    header: String,
    payload: Vec<u8>,
    manifest: String,
}

fn split(bytes: &[u8]) -> Parts {
    let h = u32::from_be_bytes(bytes[10..14].try_into().expect("4 bytes")) as usize;
    let n = bytes.len();
    let m = u32::from_be_bytes(bytes[n - 12..n - 8].try_into().expect("4 bytes")) as usize;
    let m_off = n - 76 - m;
    Parts {
        version: u16::from_be_bytes([bytes[8], bytes[9]]),
        header: String::from_utf8(bytes[14..14 + h].to_vec()).expect("utf8 header"),
        payload: bytes[14 + h..m_off].to_vec(),
        manifest: String::from_utf8(bytes[m_off..m_off + m].to_vec()).expect("utf8 manifest"),
    }
}

/// Reassembles an export: fixes `header_sha256` to the (possibly edited) header and signs
/// the manifest with `signer` under the signature context `context`.
fn join_with(p: &Parts, signer: &SigningKey, context: &[u8]) -> Vec<u8> {
    let old = p
        .manifest
        .split("\"header_sha256\":\"")
        .nth(1)
        .expect("header_sha256")[..64]
        .to_string();
    let manifest = p
        .manifest
        .replace(&old, &hexs(&sha256(p.header.as_bytes())));
    let mut msg = context.to_vec();
    msg.extend_from_slice(manifest.as_bytes());
    let sig = signer.sign(&msg).expect("sign");
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

fn join(p: &Parts, signer: &SigningKey) -> Vec<u8> {
    join_with(
        p,
        signer,
        format!("obscura-export-manifest-v{}\0", p.version).as_bytes(),
    )
}

fn replace_once(s: &str, from: &str, to: &str) -> String {
    assert!(s.contains(from), "{from} not in {s}");
    s.replacen(from, to, 1)
}

fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn seal(
    dir: &Path,
    b: SealBuilder<'_>,
    payloads: &[(&str, Vec<u8>)],
) -> (Vec<u8>, Vec<(String, String)>) {
    let mut b = b;
    for (n, d) in payloads {
        b = b.add_payload_bytes(*n, "application/octet-stream", d.clone());
    }
    let out = dir.join("tmp.obx");
    let _ = fs::remove_file(&out);
    b.write_to(&out).expect("seal");
    let bytes = fs::read(&out).expect("read");
    (
        bytes,
        payloads
            .iter()
            .map(|(n, d)| (n.to_string(), hexs(&sha256(d))))
            .collect(),
    )
}

fn main() {
    let out_dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "crates/seal/tests/vectors-v2".into()),
    );
    fs::create_dir_all(&out_dir).expect("create output folder");
    let scratch = tempfile::tempdir().expect("tempdir");
    let dir = scratch.path();
    let signer = SigningKey::from_seed(&[1; 32]);
    let recipient = RecipientSecretKey::from_bytes(&[3; 32]);
    let other_recipient = RecipientSecretKey::from_bytes(&[4; 32]);
    let id = |k: &RecipientSecretKey| {
        k.to_key_text(None)
            .expect("key text")
            .lines()
            .last()
            .expect("key line")
            .to_string()
    };
    let rid = id(&recipient);
    let pass = Passphrase::new(PASS).expect("passphrase");
    let v = |name,
             description,
             verify,
             open,
             reason,
             bytes: Vec<u8>,
             payloads: Vec<(String, String)>| Vector {
        name,
        description,
        verify,
        open,
        reason,
        identity: Some(rid.clone()),
        passphrase: None,
        payloads,
        bytes,
    };
    let base = || {
        SealBuilder::new(&signer)
            .recipient(recipient.public_key())
            .chunk_size_for_tests(64)
            .reference("REQ-2026-0002")
            .operator("op-7f3a")
    };
    let mut out = Vec::new();

    // --- accepted ---
    let t = |s: &str| Timestamp::parse(s).expect("time");
    let mut policy = RedactionPolicy::default();
    policy
        .thresholds
        .insert("face_score".into(), Decimal::from(0.6f32));
    policy
        .thresholds
        .insert("person_score".into(), Decimal::from(0.35f32));
    policy.styles.insert("person".into(), "pixelate:8".into());
    policy.kept_track_ids = vec![4, 9_007_199_254_740_991];
    policy
        .extra
        .insert("detect_rate_per_second".into(), serde_json::json!(2.5));
    policy.extra.insert("every".into(), serde_json::json!(3));
    let cams = vec![CameraRecord {
        camera: "cam-1".into(),
        included: vec![Interval::new(t("10"), t("20.5")).expect("interval")],
        excluded: vec![Interval::new(t("0"), t("10")).expect("interval")],
    }];
    let (ok, ok_p) = seal(
        dir,
        base()
            .policy(policy)
            .cameras(cams)
            .source("cam1.mp4", "ab".repeat(32)),
        &[("clip.bin", data(200, 1)), ("empty.bin", vec![])],
    );
    out.push(v("ok-x25519", "format 2, one X25519 recipient, chunk 64, decimal thresholds, extra float as a decimal string, intervals", "ok", "ok", None, ok.clone(), ok_p.clone()));
    let (pw, pw_p) = seal(
        dir,
        SealBuilder::new(&signer)
            .chunk_size_for_tests(64)
            .passphrase_with_params(pass.clone(), KdfParams::insecure_test_params()),
        &[("note.txt", b"hello".to_vec())],
    );
    let mut pv = v(
        "ok-passphrase",
        "format 2, a passphrase stanza alone (test-only Argon2id m=8 KiB t=1)",
        "ok",
        "ok",
        None,
        pw.clone(),
        pw_p,
    );
    pv.identity = None;
    pv.passphrase = Some(PASS);
    out.push(pv);
    let (two, two_p) = seal(
        dir,
        base().recipient(other_recipient.public_key()),
        &[("a.bin", data(65, 2))],
    );
    out.push(v(
        "ok-second-recipient",
        "format 2, two X25519 recipients, opened by the first",
        "ok",
        "ok",
        None,
        two.clone(),
        two_p,
    ));
    let (exp, _) = seal(
        dir,
        base().expires(Date::parse("2020-01-01").expect("date")),
        &[("old.bin", data(10, 5))],
    );
    out.push(v(
        "expired",
        "format 2, retention expiry 2020-01-01 has passed",
        "expired",
        "expired",
        None,
        exp,
        vec![],
    ));

    // --- refused: integrity ---
    let p = split(&ok);
    let mut x = ok.clone();
    x[20] ^= 0x01;
    out.push(v(
        "tampered-header",
        "one bit flipped inside the header JSON (not re-signed)",
        "damaged",
        "damaged",
        None,
        x,
        vec![],
    ));
    let mut x = ok.clone();
    let n = x.len();
    x[n - 76 + 5] ^= 0x01;
    out.push(v(
        "wrong-signature",
        "one bit flipped in the signature",
        "bad-signature",
        "bad-signature",
        Some("signature"),
        x,
        vec![],
    ));
    let x = join_with(&p, &signer, b"obscura-export-manifest-v1\0");
    out.push(v(
        "v1-signature-context",
        "format-2 manifest signed under the format-1 signature context",
        "bad-signature",
        "bad-signature",
        Some("signature"),
        x,
        vec![],
    ));
    out.push(v(
        "truncated",
        "the last 100 bytes removed",
        "damaged",
        "damaged",
        None,
        ok[..ok.len() - 100].to_vec(),
        vec![],
    ));
    let mut x = ok.clone();
    let body = 14 + p.header.len();
    x[body + 10] ^= 0x40;
    out.push(v(
        "tampered-payload",
        "one bit flipped in the first payload's ciphertext",
        "damaged",
        "damaged",
        Some("signed hash"),
        x,
        vec![],
    ));

    // --- refused: canonical form (validly re-signed) ---
    let edit = |f: &dyn Fn(&str) -> String| {
        let mut q = p.clone();
        q.manifest = f(&q.manifest);
        join(&q, &signer)
    };
    out.push(v(
        "duplicate-key",
        "manifest with the key \"operator\" twice (re-signed)",
        "damaged",
        "damaged",
        Some("canonical"),
        edit(&|m| {
            replace_once(
                m,
                "\"operator\":\"op-7f3a\",",
                "\"operator\":\"op-7f3a\",\"operator\":\"op-7f3a\",",
            )
        }),
        vec![],
    ));
    out.push(v(
        "reordered-keys",
        "manifest keys \"export_id\" and \"created\" in the wrong order (re-signed)",
        "damaged",
        "damaged",
        Some("canonical"),
        edit(&|m| {
            let created = m.split("\"created\":\"").nth(1).expect("created")[..20].to_string();
            let id = m.split("\"export_id\":\"").nth(1).expect("export_id")[..32].to_string();
            let a = format!("\"created\":\"{created}\",");
            let b = format!("\"export_id\":\"{id}\",");
            let m = replace_once(m, &a, "");
            replace_once(&m, &b, &format!("{b}{a}"))
        }),
        vec![],
    ));
    out.push(v(
        "whitespace",
        "a space after the first '{' (re-signed)",
        "damaged",
        "damaged",
        Some("canonical"),
        edit(&|m| replace_once(m, "{", "{ ")),
        vec![],
    ));
    out.push(v(
        "float-threshold",
        "format 2 with the threshold 0.35 as a JSON float (re-signed)",
        "damaged",
        "damaged",
        Some("not an integer"),
        edit(&|m| replace_once(m, "\"person_score\":\"0.35\"", "\"person_score\":0.35")),
        vec![],
    ));
    out.push(v(
        "float-in-extra",
        "format 2 with a float inside policy.extra (re-signed)",
        "damaged",
        "damaged",
        Some("not an integer"),
        edit(&|m| replace_once(m, "\"every\":3", "\"every\":3.0")),
        vec![],
    ));
    out.push(v(
        "exponent-integer",
        "format 2 with an integer written 3e0 (re-signed)",
        "damaged",
        "damaged",
        Some("not an integer"),
        edit(&|m| replace_once(m, "\"every\":3", "\"every\":3e0")),
        vec![],
    ));
    out.push(v(
        "integer-out-of-range",
        "kept track id 2^53 (re-signed)",
        "damaged",
        "damaged",
        Some("out of range"),
        edit(&|m| replace_once(m, "9007199254740991", "9007199254740992")),
        vec![],
    ));
    out.push(v(
        "non-canonical-decimal",
        "threshold \"0.350\" (trailing zero; re-signed)",
        "damaged",
        "damaged",
        Some("decimal"),
        edit(&|m| replace_once(m, "\"0.35\"", "\"0.350\"")),
        vec![],
    ));
    out.push(v(
        "null-value",
        "\"operator\":null (re-signed)",
        "damaged",
        "damaged",
        Some("null"),
        edit(&|m| replace_once(m, "\"operator\":\"op-7f3a\"", "\"operator\":null")),
        vec![],
    ));
    out.push(v(
        "escaped-slash",
        "reference written with \\/ (re-signed)",
        "damaged",
        "damaged",
        Some("canonical"),
        edit(&|m| {
            replace_once(
                m,
                "\"reference\":\"REQ-2026-0002\"",
                "\"reference\":\"REQ\\/2026\"",
            )
        }),
        vec![],
    ));

    // --- refused: format-2 structure (validly re-signed) ---
    out.push(v(
        "unknown-top-level-key",
        "an unknown top-level manifest key (re-signed; format 1 would ignore it)",
        "damaged",
        "damaged",
        Some("unknown"),
        edit(&|m| replace_once(m, "\"export_id\":", "\"eu_only\":true,\"export_id\":")),
        vec![],
    ));
    out.push(v(
        "unknown-entry-key",
        "an unknown key inside a payload entry (re-signed)",
        "damaged",
        "damaged",
        Some("unknown field"),
        edit(&|m| replace_once(m, "\"media_type\":", "\"hidden\":true,\"media_type\":")),
        vec![],
    ));
    out.push(v(
        "oversized-reference",
        "reference of 1025 bytes (re-signed; at most 1024)",
        "damaged",
        "damaged",
        Some("1024"),
        edit(&|m| {
            replace_once(
                m,
                "\"reference\":\"REQ-2026-0002\"",
                &format!("\"reference\":\"{}\"", "R".repeat(1025)),
            )
        }),
        vec![],
    ));
    out.push(v(
        "control-in-operator",
        "operator with an escaped ESC character (re-signed)",
        "damaged",
        "damaged",
        Some("control"),
        edit(&|m| {
            replace_once(
                m,
                "\"operator\":\"op-7f3a\"",
                "\"operator\":\"op\\u001b[2K\"",
            )
        }),
        vec![],
    ));
    out.push(v(
        "bad-media-type",
        "media type \"Application/Octet-Stream\" (upper case; re-signed)",
        "damaged",
        "damaged",
        Some("media type"),
        edit(&|m| replace_once(m, "application/octet-stream", "Application/Octet-Stream")),
        vec![],
    ));
    out.push(v(
        "media-type-parameters",
        "media type with parameters (re-signed)",
        "damaged",
        "damaged",
        Some("media type"),
        edit(&|m| replace_once(m, "application/octet-stream", "text/plain; charset=utf-8")),
        vec![],
    ));
    out.push(v(
        "empty-interval",
        "an included interval whose end equals its start (re-signed)",
        "damaged",
        "damaged",
        Some("interval"),
        edit(&|m| {
            replace_once(
                m,
                "\"included\":[{\"end\":{\"ticks\":205,\"time_base\":{\"den\":10,",
                "\"included\":[{\"end\":{\"ticks\":10,\"time_base\":{\"den\":1,",
            )
        }),
        vec![],
    ));
    out.push(v(
        "zero-time-base",
        "a time base with denominator 0 (re-signed)",
        "damaged",
        "damaged",
        Some("time base"),
        edit(&|m| replace_once(m, "\"den\":10,", "\"den\":0,")),
        vec![],
    ));
    out.push(v(
        "oversized-source-name",
        "source name of 256 bytes (re-signed; at most 255)",
        "damaged",
        "damaged",
        Some("255"),
        edit(&|m| {
            replace_once(
                m,
                "\"name\":\"cam1.mp4\"",
                &format!("\"name\":\"{}\"", "s".repeat(256)),
            )
        }),
        vec![],
    ));
    let (pw_two, _) = seal(
        dir,
        SealBuilder::new(&signer)
            .chunk_size_for_tests(64)
            .recipient(recipient.public_key())
            .passphrase_with_params(pass.clone(), KdfParams::insecure_test_params())
            .legacy_mixed_stanzas_for_tests(),
        &[("note.txt", b"hello".to_vec())],
    );
    let mut q = split(&pw_two);
    q.version = 2;
    q.header = replace_once(&q.header, "\"version\":1", "\"version\":2");
    q.manifest = replace_once(&q.manifest, "\"format_version\":1", "\"format_version\":2");
    out.push(v(
        "passphrase-beside-x25519",
        "format 2 with an X25519 and a passphrase stanza (re-signed; allowed in format 1 only)",
        "damaged",
        "damaged",
        Some("only stanza"),
        join(&q, &signer),
        vec![],
    ));
    let mut q = p.clone();
    q.manifest = replace_once(
        &q.manifest,
        &recipient.public_key().fingerprint(),
        &other_recipient.public_key().fingerprint(),
    );
    out.push(v("fingerprint-not-bound", "the manifest lists another key's fingerprint for the only stanza (re-signed): the listed key cannot open it, the real one does not try", "ok", "no-match", None, join(&q, &signer), vec![]));
    let mut q = split(&two);
    let fa = recipient.public_key().fingerprint();
    let fb = other_recipient.public_key().fingerprint();
    q.manifest = replace_once(
        &replace_once(&replace_once(&q.manifest, &fa, "FP-A"), &fb, &fa),
        "FP-A",
        &fb,
    );
    out.push(v(
        "fingerprints-swapped",
        "two stanzas whose listed fingerprints are exchanged (re-signed)",
        "ok",
        "no-match",
        None,
        join(&q, &signer),
        vec![],
    ));

    // --- refused: versions and bounds ---
    let mut q = p.clone();
    q.header = replace_once(&q.header, "\"version\":2", "\"version\":1");
    out.push(v(
        "header-version-1-in-v2-file",
        "preamble version 2, header version 1 (re-signed)",
        "damaged",
        "damaged",
        Some("version"),
        join(&q, &signer),
        vec![],
    ));
    let mut q = p.clone();
    q.version = 1;
    q.header = replace_once(&q.header, "\"version\":2", "\"version\":1");
    q.manifest = replace_once(&q.manifest, "\"format_version\":2", "\"format_version\":1");
    out.push(v(
        "decimal-string-in-v1",
        "a format-1 file whose thresholds are strings (re-signed; format 1 has numbers there)",
        "damaged",
        "damaged",
        Some("numbers"),
        join(&q, &signer),
        vec![],
    ));
    let mut x = ok.clone();
    x[8..10].copy_from_slice(&3u16.to_be_bytes());
    out.push(v(
        "unsupported-version",
        "preamble version 3",
        "damaged",
        "damaged",
        Some("version 3"),
        x,
        vec![],
    ));
    let mut x = ok.clone();
    x[10..14].copy_from_slice(&((1u32 << 20) + 1).to_be_bytes());
    out.push(v(
        "oversized-header-length",
        "header length 1 MiB + 1 in the preamble",
        "damaged",
        "damaged",
        Some("header length"),
        x,
        vec![],
    ));
    let mut x = ok.clone();
    let n = x.len();
    x[n - 12..n - 8].copy_from_slice(&((16u32 << 20) + 1).to_be_bytes());
    out.push(v(
        "oversized-manifest-length",
        "manifest length 16 MiB + 1 in the trailer",
        "damaged",
        "damaged",
        Some("manifest length"),
        x,
        vec![],
    ));

    for (i, vec) in out.iter().enumerate() {
        let mut text = String::from("obscura-seal test vector 1\nformat: 2\n");
        text += &format!("description: {}\n", vec.description);
        text += &format!("expect-verify: {}\n", vec.verify);
        text += &format!("expect-open: {}\n", vec.open);
        if let Some(r) = vec.reason {
            text += &format!("expect-reason: {r}\n");
        }
        text += &format!(
            "signer: {}\n",
            signer
                .public_key()
                .to_key_text()
                .lines()
                .last()
                .expect("key line")
        );
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
