//! `obscura export`, `obscura purge` and `obscura audit verify`, by running the binary:
//! access and erasure requests on generated clips (opened and decoded by the ffmpeg CLI),
//! an access request on real footage, audit-log tampering, and the kill test.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use obscura_testkit::clips::{IndexedClip, decode_indices_with_ffmpeg};
use predicates::prelude::*;

fn obscura(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("obscura").unwrap();
    c.current_dir(dir)
        .env("OBSCURA_AUDIT_LOG", dir.join("audit.jsonl"))
        .env("OBSCURA_TRUST_FILE", dir.join("trusted-signers"))
        .env_remove("OBSCURA_OPERATOR");
    c
}

fn keys(dir: &Path) {
    obscura(dir)
        .args(["keygen", "-o", "keys", "--audit-log", "keygen-audit.jsonl"])
        .assert()
        .success();
    obscura(dir)
        .args([
            "trust",
            "add",
            "keys/obscura.sign.pub",
            "--label",
            "test site",
            "--audit-log",
            "keygen-audit.jsonl",
        ])
        .assert()
        .success();
}

fn temps_in(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".obscura-tmp-"))
        .collect()
}

fn open(dir: &Path, obx: &str, out: &str) -> PathBuf {
    obscura(dir)
        .args([
            "open",
            obx,
            "--identity",
            "keys/obscura.recipient.key",
            "-o",
            out,
        ])
        .assert()
        .success();
    dir.join(out)
}

#[test]
fn erasure_request_end_to_end_with_audit_and_tampering() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    keys(d);
    IndexedClip::write_with(
        d,
        "cam1.mp4",
        50,
        25,
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "18",
            "-pix_fmt",
            "yuv420p",
        ],
    );
    obscura(d)
        .args([
            "export",
            "--mode",
            "erasure",
            "--camera",
            "entrance=cam1.mp4",
            "--exclude",
            "0.4..0.8",
            "--exclude",
            "entrance=1.6..1.72",
        ])
        .args([
            "--recipient",
            "keys/obscura.recipient.pub",
            "--sign",
            "keys/obscura.sign.key",
            "-o",
            "req.obx",
            "--reference",
            "REQ-9",
            "--operator",
            "op-4",
        ])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("entrance-003.mp4")
                .and(predicate::str::contains("audit:      record 1")),
        );
    obscura(d)
        .args(["verify", "req.obx", "--signer", "keys/obscura.sign.pub"])
        .assert()
        .success();
    let o = open(d, "req.obx", "opened");
    assert_eq!(
        decode_indices_with_ffmpeg(&o.join("entrance-001.mp4")),
        (0..10).collect::<Vec<_>>()
    );
    assert_eq!(
        decode_indices_with_ffmpeg(&o.join("entrance-002.mp4")),
        (20..40).collect::<Vec<_>>()
    );
    assert_eq!(
        decode_indices_with_ffmpeg(&o.join("entrance-003.mp4")),
        (43..50).collect::<Vec<_>>()
    );
    let html = fs::read_to_string(o.join("report.html")).unwrap();
    assert!(html.contains("REQ-9") && !html.contains("op-4"));

    // The log now holds export, its signed checkpoint, verify, open; it verifies, also
    // against the site key.
    obscura(d)
        .args(["audit", "verify", "audit.jsonl"])
        .assert()
        .success()
        .stdout(predicate::str::contains("intact chain of 4 record(s)"));
    obscura(d)
        .args([
            "audit",
            "verify",
            "audit.jsonl",
            "--signer",
            "keys/obscura.sign.pub",
        ])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("1 signed checkpoint(s); the last at seq 2")
                .and(predicate::str::contains("2 record(s) after it")),
        );
    let log = fs::read_to_string(d.join("audit.jsonl")).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert!(
        lines[0].contains("\"action\":\"export\"")
            && lines[1].contains("\"action\":\"checkpoint\"")
            && lines[2].contains("\"action\":\"verify\"")
            && lines[3].contains("\"action\":\"open\"")
    );
    assert!(
        lines[0].contains("\"reference\":\"REQ-9\"") && lines[0].contains("\"operator\":\"op-4\"")
    );
    assert!(
        !log.contains("cam1.mp4"),
        "no source file names (footage) in the log"
    );
    let check = |text: String, line: &str| {
        fs::write(d.join("t.jsonl"), text).unwrap();
        obscura(d)
            .args(["audit", "verify", "t.jsonl"])
            .assert()
            .code(1)
            .stdout(predicate::str::contains(format!(
                "FAILED: t.jsonl: line {line}"
            )));
    };
    check(log.replacen("REQ-9", "REQ-8", 1), "1"); // edited
    check(format!("{}\n{}\n", lines[0], lines[2]), "2"); // removed
    check(format!("{}\n{}\n{}\n", lines[0], lines[2], lines[1]), "2"); // reordered
    check(log[..log.len() - 7].to_string(), "4"); // truncated (torn last record)
    obscura(d)
        .args(["audit", "verify", "missing.jsonl"])
        .assert()
        .code(2);
    // Appending after an edited last record is refused: an open then fails (exit 2),
    // nothing decrypted. (An edit further up is found by `audit verify`, not by appends,
    // which read only the last record.)
    let last = lines[3];
    fs::write(
        d.join("audit.jsonl"),
        log.replacen(last, &last.replacen("\"seq\":4", "\"seq\":9", 1), 1),
    )
    .unwrap();
    obscura(d)
        .args([
            "open",
            "req.obx",
            "--identity",
            "keys/obscura.recipient.key",
            "-o",
            "again",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("damaged"));
}

#[test]
fn access_request_on_generated_clip_keeps_only_the_window() {
    if obscura_testkit::model_file("yolox_nano_416.onnx").is_none() {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    keys(d);
    IndexedClip::write_with(
        d,
        "hall.mp4",
        40,
        20,
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "12",
            "-pix_fmt",
            "yuv420p",
        ],
    );
    fs::write(d.join("pass.txt"), "a long enough passphrase\n").unwrap();
    obscura(d)
        .args([
            "export",
            "--mode",
            "access",
            "hall.mp4",
            "--from",
            "0.5",
            "--until",
            "00:00:01.25",
            "--style",
            "pixelate",
        ])
        .args([
            "--passphrase-file",
            "pass.txt",
            "--sign",
            "keys/obscura.sign.key",
            "-o",
            "acc.obx",
            "--operator",
            "op-1",
            "--show-operator",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("hall.mp4: camera hall"));
    obscura(d)
        .args([
            "open",
            "acc.obx",
            "--passphrase-file",
            "pass.txt",
            "-o",
            "o",
        ])
        .assert()
        .success();
    assert_eq!(
        decode_indices_with_ffmpeg(&d.join("o/hall.mp4")),
        (10..25).collect::<Vec<_>>()
    );
    let html = fs::read_to_string(d.join("o/report.html")).unwrap();
    assert!(
        html.contains("Access request")
            && html.contains("op-1")
            && html.contains("No data subject was selected")
    );
    // 20 fps: `--every auto` (8 detections a second) ran the detector on one frame in 2.
    assert!(html.contains("detection ran on one frame in 2"), "{html}");
    let m: serde_json::Value = serde_json::from_slice(
        &obscura(d)
            .args(["verify", "acc.obx", "--json"])
            .assert()
            .success()
            .get_output()
            .stdout,
    )
    .unwrap();
    let cam = &m["manifest"]["cameras"][0];
    assert_eq!(cam["camera"], "hall");
    assert_eq!(cam["included"].as_array().unwrap().len(), 1);
    assert_eq!(cam["excluded"].as_array().unwrap().len(), 2);
    assert_eq!(m["manifest"]["policy"]["extra"]["mode"], "access");
    assert!(
        !m["manifest"]["policy"]["detector_models"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(temps_in(d).is_empty());
}

#[test]
fn access_request_on_real_footage_masks_bystanders() {
    let Some(vtest) = obscura_testkit::shared_file("footage/vtest.avi") else {
        return;
    };
    if obscura_testkit::model_file("yolox_nano_416.onnx").is_none() {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    keys(d);
    obscura(d)
        .args(["export", "--mode", "access", "--camera"])
        .arg(format!("street={}", vtest.display()))
        .args([
            "--from",
            "2",
            "--until",
            "4",
            "--keep-at",
            "3@420,240",
            "--recipient",
            "keys/obscura.recipient.pub",
            "--sign",
            "keys/obscura.sign.key",
            "-o",
            "a.obx",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("20 frames"));
    let m: serde_json::Value = serde_json::from_slice(
        &obscura(d)
            .args(["verify", "a.obx", "--json"])
            .assert()
            .success()
            .get_output()
            .stdout,
    )
    .unwrap();
    let p = &m["manifest"]["policy"];
    // The tracks shown where checked to be the subject (one person, possibly several tracks).
    assert!(!p["kept_track_ids"].as_array().unwrap().is_empty(), "{p}");
    let masked = p["extra"]["cameras"]["street"]["masked_person_tracks"]
        .as_array()
        .unwrap()
        .len();
    assert!(
        masked >= 3,
        "vtest has several bystanders in 2..4 s, {masked} masked"
    );
}

#[test]
fn purge_cli_removes_expired_and_logs() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    keys(d);
    fs::create_dir(d.join("store")).unwrap();
    fs::write(d.join("clip.bin"), vec![1u8; 1000]).unwrap();
    let tomorrow = {
        let today = obscura_seal::Date::today_utc();
        today.plus_days(1).to_string()
    };
    obscura(d)
        .args([
            "seal",
            "clip.bin",
            "-o",
            "store/keep.obx",
            "--sign",
            "keys/obscura.sign.key",
            "--recipient",
            "keys/obscura.recipient.pub",
            "--expires",
            &tomorrow,
        ])
        .assert()
        .success();
    // An expired package can only come from the past: seal through the library.
    let signer =
        obscura_seal::SigningKey::read_file(&d.join("keys/obscura.sign.key"), None).unwrap();
    obscura_seal::SealBuilder::new(&signer)
        .recipient(
            obscura_seal::RecipientPublicKey::read_file(&d.join("keys/obscura.recipient.pub"))
                .unwrap(),
        )
        .expires(obscura_seal::Date::new(2025, 6, 1).unwrap())
        .add_payload_bytes("x.mp4", "video/mp4", vec![2u8; 500])
        .write_to(&d.join("store/old.obx"))
        .unwrap();
    obscura(d)
        .args(["purge", "store", "--dry-run"])
        .assert()
        .success()
        .stdout(predicate::str::contains("would remove  store/old.obx"));
    assert!(d.join("store/old.obx").exists());
    obscura(d)
        .args(["purge", "store", "--signer", "keys/obscura.sign.pub"])
        .assert()
        .success()
        .stdout(predicate::str::contains("removed 1, kept 1"));
    assert!(!d.join("store/old.obx").exists() && d.join("store/keep.obx").exists());
    let log = fs::read_to_string(d.join("audit.jsonl")).unwrap();
    assert!(log.contains("\"result\":\"removed\"") && log.contains("\"package\":\"old.obx\""));
    obscura(d)
        .args(["audit", "verify", "audit.jsonl"])
        .assert()
        .success();
}

/// Kills `obscura export` (SIGKILL) at several moments; each time the package must be
/// absent or complete and valid. The next run removes every temporary left behind.
#[test]
fn killed_export_leaves_a_valid_package_or_nothing() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    keys(d);
    IndexedClip::write_with(
        d,
        "cam.mp4",
        600,
        25,
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "18",
            "-pix_fmt",
            "yuv420p",
        ],
    );
    fs::create_dir(d.join("out")).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("obscura");
    let run = |name: &str| {
        let mut c = std::process::Command::new(&bin);
        c.current_dir(d)
            .env("OBSCURA_AUDIT_LOG", d.join("audit.jsonl"))
            .args([
                "-q",
                "export",
                "--mode",
                "erasure",
                "cam.mp4",
                "--exclude",
                "4..6",
                "--exclude",
                "10..12",
                "--preset",
                "ultrafast",
            ])
            .args([
                "--recipient",
                "keys/obscura.recipient.pub",
                "--sign",
                "keys/obscura.sign.key",
                "-o",
            ])
            .arg(format!("out/{name}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };
    // How long a whole run takes here, to spread the kills over it.
    let start = Instant::now();
    assert!(run("full.obx").status().unwrap().success());
    let full = start.elapsed();
    let mut delays: Vec<Duration> = [20u64, 50, 100, 150, 200, 300, 600]
        .iter()
        .map(|ms| Duration::from_millis(*ms))
        .collect();
    delays.extend(
        [0.25, 0.5, 0.75, 0.9, 0.97]
            .iter()
            .map(|f| full.mul_f64(*f)),
    );
    let mut complete = 0;
    let mut left = 0;
    for (i, delay) in delays.iter().enumerate() {
        let name = format!("k{i}.obx");
        let mut child = run(&name).spawn().unwrap();
        std::thread::sleep(*delay);
        let _ = child.kill();
        let _ = child.wait();
        let out = d.join("out").join(&name);
        if out.exists() {
            complete += 1;
            Command::new(&bin)
                .current_dir(d)
                .args([
                    "verify",
                    "--signer",
                    "keys/obscura.sign.pub",
                    "--audit-log",
                    "verify-audit.jsonl",
                ])
                .arg(&out)
                .assert()
                .success();
        }
        // Nothing else under the output's name: no half-written package.
        let stray: Vec<_> = fs::read_dir(d.join("out"))
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(&name) && n != &name)
            .collect();
        assert!(
            stray.iter().all(|n| n.starts_with(".obscura-tmp-")),
            "{stray:?}"
        );
        // Temporaries of this kill (the next run sweeps them).
        left += temps_in(&d.join("out")).len();
    }
    assert!(left > 0, "no kill landed mid-run (full run {full:?})");
    // The next run cleans every temporary of the killed processes.
    assert!(run("after.obx").status().unwrap().success());
    assert_eq!(temps_in(&d.join("out")), Vec::<String>::new());
    assert!(temps_in(d).is_empty());
    // The audit log survived the kills (a torn last record is repaired by the next append).
    Command::new(&bin)
        .current_dir(d)
        .args(["audit", "verify", "audit.jsonl"])
        .assert()
        .success();
    eprintln!(
        "kill test: full run {full:?}, {} kills, {complete} left a complete package, {left} temporaries swept",
        delays.len()
    );
}
