//! One grammar across commands (docs/JSON.md, issue #21 item 6), by running the binary:
//! `--json` on every command prints one JSON document whose first field is `format`; an
//! existing output is refused (exit 2, naming the file and `--force`) unless `--force`, an
//! input never even with it; `-o/--output` everywhere (`--out` still read), `--recipient`
//! (`--to` still read, a recipient only), `--models` (`--dir` still read on `models`).

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;

use assert_cmd::Command;
use obscura_testkit::clips::IndexedClip;
use predicates::prelude::*;

fn obscura(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("obscura").unwrap();
    c.current_dir(dir)
        .env("OBSCURA_AUDIT_LOG", dir.join("audit.jsonl"))
        .env("OBSCURA_TRUST_FILE", dir.join("trusted-signers"))
        .env_remove("OBSCURA_SITE")
        .env_remove("OBSCURA_OPERATOR");
    c
}

/// Runs `args` in `dir` expecting exit `code`; returns the stdout parsed as the one JSON
/// document it must be, after checking that `format` is its first field and reads `format`.
fn json(dir: &Path, args: &[&str], code: i32, format: &str) -> serde_json::Value {
    let out = obscura(dir)
        .args(args)
        .assert()
        .code(code)
        .get_output()
        .clone();
    let text = String::from_utf8(out.stdout).unwrap();
    let first_field = text
        .trim_start()
        .strip_prefix('{')
        .map(str::trim_start)
        .unwrap_or("");
    assert!(
        first_field.starts_with(&format!("\"format\": \"{format}\"")),
        "{args:?}: stdout does not start with its format {format}: {text}"
    );
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{args:?}: not one JSON document ({e}): {text}"))
}

/// Asserts the command fails with exit 2 and a message naming `file` and `--force`.
fn refused(dir: &Path, args: &[&str], file: &str) {
    obscura(dir)
        .args(args)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(file).and(predicate::str::contains("--force")));
}

#[test]
fn every_export_command_prints_one_json_document_with_its_format() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let v = json(
        d,
        &["keygen", "-o", "keys", "--json"],
        0,
        "obscura-keygen/1",
    );
    let fp = v["signing"]["fingerprint"].as_str().unwrap().to_string();
    assert_eq!(v["recipient"]["public"], "keys/obscura.recipient.pub");
    // key files are never overwritten (no --force for keys)
    obscura(d)
        .args(["keygen", "--out", "keys"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("obscura.sign.key: already exists"));

    let v = json(
        d,
        &[
            "trust",
            "add",
            "keys/obscura.sign.pub",
            "--label",
            "site",
            "--json",
        ],
        0,
        "obscura-trust/1",
    );
    assert_eq!(
        (v["change"].as_str(), v["fingerprint"].as_str()),
        (Some("added"), Some(fp.as_str()))
    );
    let v = json(d, &["trust", "list", "--json"], 0, "obscura-trust-list/1");
    assert_eq!(v["signers"][0]["label"], "site");

    fs::write(d.join("a.txt"), b"first\n").unwrap();
    let seal = |out: &str, extra: &[&str]| {
        let mut a = vec![
            "seal",
            "a.txt",
            "-o",
            out,
            "--sign",
            "keys/obscura.sign.key",
        ];
        a.extend_from_slice(extra);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let args = seal(
        "a.obx",
        &["--recipient", "keys/obscura.recipient.pub", "--json"],
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let v = json(d, &args, 0, "obscura-seal/1");
    assert_eq!(v["payloads"][0]["name"], "a.txt");
    assert_eq!(v["signer_fingerprint"], fp.as_str());
    let first = fs::read(d.join("a.obx")).unwrap();
    // an existing output: refused without --force (the file untouched), replaced with it
    let again = seal("a.obx", &["--to", "keys/obscura.recipient.pub"]);
    let again: Vec<&str> = again.iter().map(String::as_str).collect();
    refused(d, &again, "a.obx");
    assert_eq!(fs::read(d.join("a.obx")).unwrap(), first);
    let mut forced = again.clone();
    forced.push("--force");
    obscura(d).args(&forced).assert().success();
    assert_ne!(
        fs::read(d.join("a.obx")).unwrap(),
        first,
        "--force wrote a new export"
    );
    // through a symlink: the link is replaced, its target never written
    fs::write(d.join("target.bin"), b"not an export").unwrap();
    std::os::unix::fs::symlink("target.bin", d.join("link.obx")).unwrap();
    let linked = seal("link.obx", &["--recipient", "keys/obscura.recipient.pub"]);
    let mut linked: Vec<&str> = linked.iter().map(String::as_str).collect();
    refused(d, &linked, "link.obx");
    linked.push("--force");
    obscura(d).args(&linked).assert().success();
    assert_eq!(fs::read(d.join("target.bin")).unwrap(), b"not an export");
    assert!(
        !fs::symlink_metadata(d.join("link.obx"))
            .unwrap()
            .is_symlink()
    );
    // an input is never the output, not even with --force
    let onto_input = seal(
        "a.txt",
        &["--recipient", "keys/obscura.recipient.pub", "--force"],
    );
    let onto_input: Vec<&str> = onto_input.iter().map(String::as_str).collect();
    obscura(d)
        .args(&onto_input)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not even with --force"));
    assert_eq!(fs::read(d.join("a.txt")).unwrap(), b"first\n");

    let v = json(d, &["verify", "a.obx", "--json"], 0, "obscura-verify/1");
    assert_eq!(v["valid"], true);
    let v = json(d, &["inspect", "a.obx", "--json"], 0, "obscura-inspect/1");
    assert_eq!(
        (
            v["verified"].as_bool(),
            v["manifest"]["payloads"][0]["name"].as_str()
        ),
        (Some(false), Some("a.txt"))
    );
    let v = json(
        d,
        &[
            "open",
            "a.obx",
            "--identity",
            "keys/obscura.recipient.key",
            "--output",
            "opened",
            "--json",
        ],
        0,
        "obscura-open/1",
    );
    assert_eq!(
        (v["opened"].as_bool(), v["files"].as_array().map(Vec::len)),
        (Some(true), Some(1))
    );
    assert_eq!(fs::read(d.join("opened/a.txt")).unwrap(), b"first\n");
    // opening again: refused up front, replaced with --force
    let reopen = [
        "open",
        "a.obx",
        "--identity",
        "keys/obscura.recipient.key",
        "-o",
        "opened",
    ];
    fs::write(d.join("opened/a.txt"), b"edited\n").unwrap();
    refused(d, &reopen, "a.txt");
    assert_eq!(fs::read(d.join("opened/a.txt")).unwrap(), b"edited\n");
    let mut forced = reopen.to_vec();
    forced.push("--force");
    obscura(d).args(&forced).assert().success();
    assert_eq!(fs::read(d.join("opened/a.txt")).unwrap(), b"first\n");
    fs::write(d.join("bad.obx"), b"not an export at all").unwrap();
    let v = json(d, &["verify", "bad.obx", "--json"], 1, "obscura-verify/1");
    assert_eq!(v["valid"], false);

    fs::create_dir(d.join("packages")).unwrap();
    fs::copy(d.join("a.obx"), d.join("packages/a.obx")).unwrap();
    let v = json(
        d,
        &["purge", "packages", "--dry-run", "--json"],
        0,
        "obscura-purge/1",
    );
    assert_eq!(
        (v["kept"].as_u64(), v["packages"][0]["result"].as_str()),
        (Some(1), Some("kept"))
    );

    let v = json(
        d,
        &[
            "audit",
            "checkpoint",
            "--sign",
            "keys/obscura.sign.key",
            "--json",
        ],
        0,
        "obscura-audit-checkpoint/1",
    );
    assert_eq!(v["signer_fingerprint"], fp.as_str());
    let v = json(
        d,
        &["audit", "verify", "--json"],
        0,
        "obscura-audit-verify/1",
    );
    assert_eq!(v["valid"], true);
    let v = json(d, &["trust", "remove", &fp, "--json"], 0, "obscura-trust/1");
    assert_eq!(v["change"], "removed");

    // an empty model folder: listed as missing (exit 1), by --models or the older --dir
    fs::create_dir(d.join("no-models")).unwrap();
    for flag in ["--models", "--dir"] {
        let v = json(
            d,
            &["models", "list", flag, "no-models", "--json"],
            1,
            "obscura-models-list/1",
        );
        assert_eq!(v["all_ok"], false);
        assert!(v["dir"].as_str().unwrap().ends_with("no-models"));
    }
}

#[test]
fn media_commands_print_json_and_refuse_existing_outputs() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let clip = IndexedClip::write(d, 30, 10);
    let clip = clip.file_name().unwrap().to_str().unwrap().to_string();
    let v = json(d, &["probe", &clip, "--json"], 0, "obscura-probe/1");
    assert_eq!(v["streams"][0]["frame_count"], 30);
    assert!(v["container"].as_str().unwrap().contains("mp4"), "{v}");

    let cut = [
        "cut",
        "-q",
        &clip,
        "-o",
        "part.mp4",
        "--preset",
        "ultrafast",
        "--exclude",
        "1..2",
    ];
    let mut with_json = cut.to_vec();
    with_json.push("--json");
    let v = json(d, &with_json, 0, "obscura-cut/1");
    assert_eq!(v["parts"].as_array().unwrap().len(), 2);
    let first = fs::read(d.join("part-001.mp4")).unwrap();
    refused(d, &cut, "part-001.mp4");
    let mut forced = cut.to_vec();
    forced.push("--force");
    obscura(d).args(&forced).assert().success();
    assert!(d.join("part-002.mp4").is_file());
    assert_eq!(fs::read(d.join("part-001.mp4")).unwrap().len(), first.len());
    obscura(d)
        .args(["cut", "-q", &clip, "--out", &clip, "--force"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not even with --force"));

    // erasure export, no models needed
    obscura(d).args(["keygen", "-o", "keys"]).assert().success();
    let export = [
        "export",
        "-q",
        "--mode",
        "erasure",
        &clip,
        "--exclude",
        "0.5..1",
        "--recipient",
        "keys/obscura.recipient.pub",
        "--sign",
        "keys/obscura.sign.key",
        "-o",
        "req.obx",
        "--no-opener",
        "--preset",
        "ultrafast",
        "--json",
    ];
    let v = json(d, &export, 0, "obscura-export/1");
    assert_eq!(v["mode"], "erasure");
    assert_eq!(v["clips"].as_array().unwrap().len(), 2);
    assert!(v["sha256"].as_str().unwrap().len() == 64 && v["opener"].is_null());
    let sha = v["sha256"].as_str().unwrap().to_string();
    refused(d, &export, "req.obx");
    let mut forced = export.to_vec();
    forced.push("--force");
    let v = json(d, &forced, 0, "obscura-export/1");
    assert_ne!(v["sha256"].as_str(), Some(sha.as_str()), "a new package");
    // the opener page beside it is refused and replaced the same way
    let with_opener: Vec<&str> = export
        .iter()
        .copied()
        .filter(|a| *a != "--no-opener")
        .collect();
    let mut with_opener_forced = with_opener.clone();
    with_opener_forced.push("--force");
    obscura(d).args(&with_opener_forced).assert().success();
    assert!(d.join("req.opener.html").is_file());
    refused(d, &with_opener, "req.opener.html");
    fs::write(d.join("req.opener.html"), b"old page").unwrap();
    obscura(d).args(&with_opener_forced).assert().success();
    assert_ne!(fs::read(d.join("req.opener.html")).unwrap(), b"old page");
    // `--to` names a recipient only; a time there points to --until
    obscura(d)
        .args([
            "export",
            "--mode",
            "erasure",
            &clip,
            "--exclude",
            "0.5..1",
            "--to",
            "2.5",
        ])
        .args(["--sign", "keys/obscura.sign.key", "-o", "other.obx"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--until 2.5"));
    assert!(!d.join("other.obx").exists());
}

fn models() -> bool {
    obscura_testkit::model_file("yolox_nano_416.onnx").is_some()
        && obscura_testkit::model_file("yunet_n_dynamic.onnx").is_some()
}

#[test]
fn model_commands_print_json_and_refuse_existing_outputs() {
    if !models() {
        eprintln!("SKIP: models missing");
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let clip = IndexedClip::write(d, 20, 10);
    let clip = clip.file_name().unwrap().to_str().unwrap().to_string();

    let redact = [
        "redact",
        "-q",
        &clip,
        "-o",
        "red.mp4",
        "--style",
        "fill",
        "--threads",
        "1",
    ];
    let mut with_json = redact.to_vec();
    with_json.push("--json");
    let v = json(d, &with_json, 0, "obscura-redact/1");
    assert_eq!(v["report"]["frames"], 20);
    refused(d, &redact, "red.mp4");
    let mut forced = redact.to_vec();
    forced.push("--force");
    obscura(d).args(&forced).assert().success();
    obscura(d)
        .args(["redact", "-q", &clip, "-o", &clip, "--force"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not even with --force"));

    // a batch: its own format, one entry per file; a second run refused file by file
    fs::copy(d.join(&clip), d.join("second.mp4")).unwrap();
    let batch = [
        "redact",
        "-q",
        &clip,
        "second.mp4",
        "-o",
        "batch",
        "--threads",
        "1",
    ];
    let mut with_json = batch.to_vec();
    with_json.push("--json");
    let v = json(d, &with_json, 0, "obscura-redact-batch/1");
    assert_eq!(
        (v["ok"].as_u64(), v["files"].as_array().map(Vec::len)),
        (Some(2), Some(2))
    );
    assert!(v["files"][0].get("format").is_none());
    refused(d, &batch, "batch/");

    // models fetch from a local mirror into a new folder, then list it
    let models_dir = obscura_testkit::model_file("yolox_nano_416.onnx").unwrap();
    let mirror = models_dir.parent().unwrap().to_str().unwrap();
    let v = json(
        d,
        &[
            "models", "fetch", "--models", "fetched", "--mirror", mirror, "--json",
        ],
        0,
        "obscura-models-fetch/1",
    );
    assert!(!v["messages"].as_array().unwrap().is_empty(), "{v}");
    let v = json(
        d,
        &["models", "list", "--models", "fetched", "--json"],
        0,
        "obscura-models-list/1",
    );
    assert_eq!(v["all_ok"], true);

    let tracks = ["tracks", "-q", &clip, "-o", "t.json", "--sheet", "t.png"];
    let mut with_json = tracks.to_vec();
    with_json.push("--json");
    let v = json(d, &with_json, 0, "obscura-tracks-run/1");
    assert_eq!(
        (v["frames"].as_u64(), v["tracks_file"].as_str()),
        (Some(20), Some("t.json"))
    );
    let file: serde_json::Value =
        serde_json::from_slice(&fs::read(d.join("t.json")).unwrap()).unwrap();
    assert_eq!(file["format"], "obscura-tracks/1");
    refused(d, &tracks, "t.json");
    let mut forced = tracks.to_vec();
    forced.push("--force");
    obscura(d).args(&forced).assert().success();
    obscura(d)
        .args(["tracks", &clip, "-o", "-", "--json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("-o FILE"));

    // review: the document comes once the page is served; then it serves until killed
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("obscura"))
        .current_dir(d)
        .env("OBSCURA_AUDIT_LOG", d.join("audit.jsonl"))
        .args(["review", "-q", &clip, "--json", "--threads", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut doc = String::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        doc.push_str(&line);
        doc.push('\n');
        if line == "}" {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        doc.starts_with("{\n  \"format\": \"obscura-review/1\""),
        "{doc}"
    );
    let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
    assert!(
        v["url"].as_str().unwrap().starts_with("http://127.0.0.1:"),
        "{v}"
    );
    assert_eq!(v["frames"], 20);
}
