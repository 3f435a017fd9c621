//! `obscura probe` and `obscura cut` run as a binary (assert_cmd), checked with the ffmpeg
//! CLI as the independent oracle.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use obscura_testkit::clips::{
    IndexedClip, decode_indices_with_ffmpeg, ffprobe_video_entry, run_ffmpeg,
};
use sha2::{Digest, Sha256};

fn obscura() -> Command {
    let mut c = Command::cargo_bin("obscura").unwrap();
    c.env("OBSCURA_AUDIT_LOG", obscura_testkit::scratch_audit_log());
    c
}

fn sha256(p: &Path) -> Vec<u8> {
    Sha256::digest(std::fs::read(p).unwrap()).to_vec()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A 30-frame 10 fps indexed clip in its own folder, and an empty output folder.
fn setup() -> (tempfile::TempDir, PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let clip = IndexedClip::write(dir.path(), 30, 10);
    (dir, clip, tempfile::tempdir().unwrap())
}

#[test]
fn probe_prints_streams_as_text_and_json() {
    let (_d, clip, _o) = setup();
    let out = obscura()
        .arg("probe")
        .arg(&clip)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("indexed.mp4: mov,mp4"), "{text}");
    assert!(
        text.contains("#0 video h264 128x96 10.000 fps (10/1)"),
        "{text}"
    );
    assert!(text.contains("30 frames (container)"), "{text}");
    assert!(text.contains("no audio"));
    let out = obscura()
        .args(["probe", "--json"])
        .arg(&clip)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["streams"][0]["codec"], "h264");
    assert_eq!(json["streams"][0]["width"], 128);
    assert_eq!(json["streams"][0]["frame_count"], 30);
    assert_eq!(json["streams"][0]["frame_rate"]["num"], 10);
    assert_eq!(json["has_audio"], false);
}

#[test]
fn probe_real_footage() {
    let Some(avi) = obscura_testkit::shared_file("footage/vtest.avi") else {
        return;
    };
    let out = obscura()
        .arg("probe")
        .arg(&avi)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("#0 video msmpeg4v3 768x576 10.000 fps (10/1), time base 1/10"),
        "{text}"
    );
    assert!(text.contains("795 frames"), "{text}");
}

/// Evidence through the binary: excludes give numbered parts holding exactly the kept
/// frames, checked by decoding with the ffmpeg CLI.
#[test]
fn cut_with_excludes_writes_numbered_parts_frame_exact() {
    let (_d, clip, outdir) = setup();
    let before = sha256(&clip);
    let out = outdir.path().join("out.mp4");
    let assert = obscura()
        .args(["cut", "--quiet", "--preset", "ultrafast", "--json"])
        .arg(&clip)
        .arg("-o")
        .arg(&out)
        .args([
            "--exclude",
            "0.75..1.2",
            "--exclude",
            "00:00:02.0..00:00:02.25",
        ])
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert!(
        assert.get_output().stderr.is_empty(),
        "--quiet: nothing on stderr"
    );
    assert_eq!(
        files_in(outdir.path()),
        vec!["out-001.mp4", "out-002.mp4", "out-003.mp4"]
    );
    let parts = json["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 3);
    let mut seen = Vec::new();
    for (n, p) in parts.iter().enumerate() {
        let path = PathBuf::from(p["path"].as_str().unwrap());
        assert_eq!(path, outdir.path().join(format!("out-{:03}.mp4", n + 1)));
        let idx = decode_indices_with_ffmpeg(&path);
        assert_eq!(idx.len() as u64, p["frames"].as_u64().unwrap());
        assert_eq!(idx[0] as u64, p["first_frame_index"].as_u64().unwrap());
        assert_eq!(
            ffprobe_video_entry(&path, "r_frame_rate"),
            "10/1",
            "10 fps in, 10 fps out"
        );
        seen.extend(idx);
    }
    // Frames at 0.8, 0.9, 1.0, 1.1 s and 2.0, 2.1, 2.2 s are gone; the rest is there once.
    let expected: Vec<u32> = (0..30)
        .filter(|i| !(8..12).contains(i) && !(20..23).contains(i))
        .collect();
    assert_eq!(seen, expected);
    assert_eq!(parts[0]["source_start_secs"], 0.0);
    assert_eq!(parts[0]["source_end_secs"], 0.75);
    // Exact ticks in the stream time base: ticks x num/den = 1.2 s.
    let ticks = parts[1]["source_start"]["ticks"].as_i64().unwrap();
    let (num, den) = parts[1]["source_start"]["time_base"]
        .as_str()
        .unwrap()
        .split_once('/')
        .unwrap();
    assert_eq!(
        ticks * num.parse::<i64>().unwrap() * 10,
        12 * den.parse::<i64>().unwrap()
    );
    assert_eq!(parts[1]["source_start_secs"], 1.2);
    assert_eq!(parts[2]["source_end_secs"], 3.0);
    assert_eq!(sha256(&clip), before, "input unchanged");
}

#[test]
fn cut_with_one_period_writes_out_itself() {
    let (_d, clip, outdir) = setup();
    let out = outdir.path().join("one.mp4");
    let assert = obscura()
        .args(["cut", "--preset", "ultrafast"])
        .arg(&clip)
        .arg("-o")
        .arg(&out)
        .args([
            "--include",
            "1..2",
            "--include",
            "1.5..2.5",
            "--exclude",
            "2.4..9",
        ])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    assert!(
        stdout.contains("one.mp4: 14 frames, source 1.000 s .. 2.400 s"),
        "{stdout}"
    );
    assert_eq!(files_in(outdir.path()), vec!["one.mp4"]);
    assert_eq!(
        decode_indices_with_ffmpeg(&out),
        (10..24).collect::<Vec<_>>()
    );
    assert_eq!(ffprobe_video_entry(&out, "r_frame_rate"), "10/1");
}

#[test]
fn help_explains_with_examples() {
    let out = obscura()
        .args(["cut", "--help"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    for needle in [
        "--include",
        "--exclude",
        "HH:MM:SS",
        "-001",
        "Examples:",
        "--audio",
    ] {
        assert!(text.contains(needle), "cut --help lacks {needle}:\n{text}");
    }
    let out = obscura()
        .args(["probe", "--help"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8(out).unwrap().contains("Examples:"));
}

/// Runs a failing cut; checks exit 2, a one-line error naming `names` and containing
/// `problem`, nothing in the output folder and the input unchanged.
fn assert_cut_fails(input: &Path, extra: &[&str], names: &str, problem: &str) {
    let outdir = tempfile::tempdir().unwrap();
    let before = input.exists().then(|| sha256(input));
    let out = outdir.path().join("out.mp4");
    let assert = obscura()
        .args(["cut", "--preset", "ultrafast"])
        .arg(input)
        .arg("-o")
        .arg(&out)
        .args(extra)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr:?}");
    assert!(stderr.contains(names), "names {names}: {stderr}");
    assert!(stderr.contains(problem), "says {problem:?}: {stderr}");
    assert!(
        files_in(outdir.path()).is_empty(),
        "nothing left behind: {:?}",
        files_in(outdir.path())
    );
    assert_eq!(
        input.exists().then(|| sha256(input)),
        before,
        "input unchanged"
    );
}

#[test]
fn bad_files_fail_cleanly() {
    let (dir, clip, _o) = setup();
    let d = dir.path();
    assert_cut_fails(&d.join("missing.mp4"), &[], "missing.mp4", "no such file");
    let text = d.join("notes.txt");
    std::fs::write(&text, "not a video\n").unwrap();
    assert_cut_fails(&text, &[], "notes.txt", "not a recognised media file");
    let empty = d.join("empty.mp4");
    std::fs::write(&empty, b"").unwrap();
    assert_cut_fails(&empty, &[], "empty.mp4", "empty (0 bytes)");
    let bytes = std::fs::read(&clip).unwrap();
    let truncated = d.join("truncated.mp4");
    std::fs::write(&truncated, &bytes[..bytes.len() * 2 / 3]).unwrap();
    assert_cut_fails(&truncated, &[], "truncated.mp4", "truncated");
    let wav = d.join("tone.wav");
    run_ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=duration=1",
            wav.to_str().unwrap(),
        ],
        None,
    );
    assert_cut_fails(&wav, &[], "tone.wav", "no video stream");
    // An AVI whose FourCC no decoder knows.
    let xvid = IndexedClip::write_with(d, "xvid.avi", 5, 10, &["-c:v", "mpeg4", "-vtag", "XVID"]);
    let mut avi = std::fs::read(&xvid).unwrap();
    for i in 0..avi.len() - 4 {
        if &avi[i..i + 4] == b"XVID" {
            avi[i..i + 4].copy_from_slice(b"QQQQ");
        }
    }
    let unknown = d.join("unknown.avi");
    std::fs::write(&unknown, avi).unwrap();
    assert_cut_fails(&unknown, &[], "unknown.avi", "unknown video codec");
    // probe fails the same way on non-media.
    let assert = obscura().arg("probe").arg(&text).assert().code(2);
    assert!(String::from_utf8_lossy(&assert.get_output().stderr).contains("notes.txt"));
}

#[test]
fn bad_intervals_fail_cleanly() {
    let (_d, clip, _o) = setup();
    assert_cut_fails(
        &clip,
        &["--include", "2..1"],
        "indexed.mp4",
        "the end must be after the start",
    );
    assert_cut_fails(
        &clip,
        &["--exclude", "1.5..1.5"],
        "indexed.mp4",
        "the end must be after the start",
    );
    assert_cut_fails(
        &clip,
        &["--include", "10..20"],
        "indexed.mp4",
        "lies outside the clip",
    );
    assert_cut_fails(
        &clip,
        &["--exclude", "00:01:00..00:02:00"],
        "indexed.mp4",
        "lies outside the clip",
    );
    assert_cut_fails(
        &clip,
        &["--include", "abc..2"],
        "indexed.mp4",
        "invalid time",
    );
    assert_cut_fails(
        &clip,
        &["--include", "1..2", "--exclude", "0..5"],
        "indexed.mp4",
        "nothing left to keep",
    );
    // A range between two frames keeps no frame.
    assert_cut_fails(
        &clip,
        &["--include", "1.01..1.09"],
        "indexed.mp4",
        "no frame lies in",
    );
    assert_cut_fails(
        &clip,
        &["--audio", "keep"],
        "indexed.mp4",
        "no audio stream",
    );
}

#[test]
fn real_footage_cut_keeps_ten_fps() {
    let Some(avi) = obscura_testkit::shared_file("footage/vtest.avi") else {
        return;
    };
    let outdir = tempfile::tempdir().unwrap();
    let out = outdir.path().join("v.mp4");
    obscura()
        .args(["cut", "-q", "--preset", "ultrafast"])
        .arg(&avi)
        .arg("-o")
        .arg(&out)
        .args(["--include", "00:00:10..00:00:12"])
        .assert()
        .success();
    assert_eq!(ffprobe_video_entry(&out, "r_frame_rate"), "10/1");
    assert_eq!(obscura_testkit::clips::ffprobe_frame_count(&out), 20);
}

/// Times on the command line count from the start of the clip, even when the stream's
/// timestamps do not start at zero (MPEG-TS starts at 1.4 s).
#[test]
fn times_count_from_the_clip_start() {
    let dir = tempfile::tempdir().unwrap();
    let ts = IndexedClip::write_with(
        dir.path(),
        "cam.ts",
        30,
        10,
        &["-c:v", "libx264", "-preset", "ultrafast", "-crf", "16"],
    );
    let out = dir.path().join("ts.mp4");
    let assert = obscura()
        .args(["cut", "-q", "--preset", "ultrafast", "--json"])
        .arg(&ts)
        .arg("-o")
        .arg(&out)
        .args(["--include", "1..2"])
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!(
        decode_indices_with_ffmpeg(&out),
        (10..20).collect::<Vec<_>>()
    );
    let part = &json["parts"][0];
    assert!(
        (part["source_start_secs"].as_f64().unwrap() - 1.0).abs() < 1e-9,
        "{part}"
    );
    // The exact ticks are absolute stream time: 1.4 s later.
    let ticks = part["source_start"]["ticks"].as_i64().unwrap();
    assert_eq!(part["source_start"]["time_base"], "1/90000");
    assert_eq!(ticks, 216_000, "2.4 s at 90 kHz");
}
