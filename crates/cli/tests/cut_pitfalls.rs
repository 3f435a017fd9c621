//! `obscura cut` erasure pitfalls: an exclusion that removes nothing is an error naming it
//! (unless --allow-empty-exclusion), a kept period without frames is dropped with a note,
//! and each part carries its wall-clock start when the source has one.

use assert_cmd::Command;
use obscura_testkit::clips::{IndexedClip, decode_indices_with_ffmpeg, run_ffprobe};

fn obscura() -> Command {
    let mut c = Command::cargo_bin("obscura").unwrap();
    c.env("OBSCURA_AUDIT_LOG", obscura_testkit::scratch_audit_log());
    c
}

#[test]
fn exclusions_that_miss_and_periods_without_frames() {
    let dir = tempfile::tempdir().unwrap();
    // 30 frames at 10 fps (0.0 .. 2.9 s, the clip ends at 3.0 s), recorded 10:00:00Z.
    let clip = IndexedClip::write_with(
        dir.path(),
        "cam.mp4",
        30,
        10,
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "18",
            "-pix_fmt",
            "yuv420p",
            "-metadata",
            "creation_time=2026-11-28T10:00:00Z",
        ],
    );
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("out.mp4");
    // Outside the included range: removes nothing.
    let a = obscura()
        .arg("cut")
        .arg(&clip)
        .arg("-o")
        .arg(&out)
        .args(["--include", "0..1", "--exclude", "2..2.5"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(
        err.contains("cam.mp4: --exclude \"2..2.5\" removes nothing"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(std::fs::read_dir(out_dir.path()).unwrap().next().is_none());
    obscura()
        .arg("cut")
        .arg(&clip)
        .arg("-o")
        .arg(&out)
        .args([
            "--include",
            "0..1",
            "--exclude",
            "2..2.5",
            "--allow-empty-exclusion",
        ])
        .assert()
        .success();
    assert_eq!(
        decode_indices_with_ffmpeg(&out),
        (0..10).collect::<Vec<_>>()
    );
    std::fs::remove_file(&out).unwrap();

    // [2.95, 3.0) is left after the exclusion but holds no frame: a note, not an error.
    let a = obscura()
        .arg("cut")
        .arg(&clip)
        .arg("-o")
        .arg(&out)
        .args(["--exclude", "1..2.95", "--json"])
        .assert()
        .success();
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(err.contains("holds no frame; no file for it"), "{err}");
    let json: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    let parts = json["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0]["creation_time"], "2026-11-28T10:00:00Z");
    let part = out_dir.path().join("out-001.mp4");
    assert_eq!(
        decode_indices_with_ffmpeg(&part),
        (0..10).collect::<Vec<_>>()
    );
    let probed = run_ffprobe(&["-show_format", part.to_str().unwrap()]);
    assert!(
        probed.contains("TAG:creation_time=2026-11-28T10:00:00.000000Z"),
        "{probed}"
    );

    // A later part starts later on the wall clock.
    let late = out_dir.path().join("late.mp4");
    let a = obscura()
        .arg("cut")
        .arg(&clip)
        .arg("-o")
        .arg(&late)
        .args(["--include", "2..3", "--json"])
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    assert_eq!(json["parts"][0]["creation_time"], "2026-11-28T10:00:02Z");
}
