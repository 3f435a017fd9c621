//! `--edits` (docs/EDITS.md) as the binary sees it: a bad edits file is one line naming the
//! file and the problem, exit 2, before anything is decoded or written. The browser test of
//! `obscura review` and of an export with its edits file is scripts/test-review.sh.

use std::path::Path;

use assert_cmd::Command;

fn obscura() -> Command {
    Command::cargo_bin("obscura").unwrap()
}

fn one_line_exit_2(cmd: &mut Command, want: &[&str]) {
    let a = cmd.assert().code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    for w in want {
        assert!(err.contains(w), "{w:?} not in {err}");
    }
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn bad_edits_files_are_refused_naming_the_file_and_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "cam1.mp4", "not really a video, never decoded");
    let out = dir.path().join("out.mp4");
    let cases = [
        ("syntax.json", "{\"format\": 1,", "EOF"),
        (
            "version.json",
            r#"{"format": 7, "reviewer": "op-1", "reviewed_at": "2026-12-02T01:00:00Z"}"#,
            "format 7 is not supported",
        ),
        (
            "reason.json",
            r#"{"format": 1, "reviewer": "op-1", "reviewed_at": "2026-12-02T01:00:00Z", "unmask": [{"person": {"time": "1", "x": 5, "y": 5}, "reason": "ok"}]}"#,
            "needs a reason",
        ),
        (
            "mask.json",
            r#"{"format": 1, "reviewer": "op-1", "reviewed_at": "2026-12-02T01:00:00Z", "masks": [{"id": "m", "from": "2", "until": "1", "box": [0, 0, 5, 5]}]}"#,
            "masks[0]",
        ),
        (
            "other.json",
            &format!(
                r#"{{"format": 1, "source": {{"name": "cam1.mp4", "sha256": "{}"}}, "reviewer": "op-1", "reviewed_at": "2026-12-02T01:00:00Z"}}"#,
                "ab".repeat(32)
            ),
            "made on another file",
        ),
    ];
    for (name, text, want) in cases {
        let edits = write(dir.path(), name, text);
        one_line_exit_2(
            obscura().arg("redact").arg(&input).arg("-o").arg(&out).arg("--edits").arg(&edits),
            &[name, want],
        );
        one_line_exit_2(obscura().arg("review").arg(&input).arg("--edits").arg(&edits), &[name, want]);
    }
    one_line_exit_2(
        obscura()
            .arg("redact")
            .arg(&input)
            .arg("-o")
            .arg(&out)
            .arg("--edits")
            .arg(dir.path().join("missing.json")),
        &["missing.json"],
    );
    assert!(!out.exists());
    // Nothing but the inputs was written.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 6);
}

#[test]
fn edits_are_for_access_exports_of_one_video() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "cam1.mp4", "x");
    let edits = write(
        dir.path(),
        "e.json",
        r#"{"format": 1, "reviewer": "op-1", "reviewed_at": "2026-12-02T01:00:00Z"}"#,
    );
    one_line_exit_2(
        obscura()
            .args(["export", "--mode", "erasure"])
            .arg(&input)
            .args(["--exclude", "1..2", "--sign", "none.key", "--passphrase-file", "none.txt", "-o"])
            .arg(dir.path().join("o.obx"))
            .arg("--edits")
            .arg(&edits),
        &["access requests"],
    );
    let still = dir.path().join("s.png");
    image::RgbImage::new(8, 8).save(&still).unwrap();
    one_line_exit_2(
        obscura()
            .arg("redact")
            .arg(&still)
            .arg("-o")
            .arg(dir.path().join("o.png"))
            .arg("--edits")
            .arg(&edits),
        &["applies to videos"],
    );
    one_line_exit_2(
        obscura()
            .arg("redact")
            .arg(&input)
            .arg(&input)
            .arg("-o")
            .arg(dir.path())
            .arg("--edits")
            .arg(&edits),
        &["one input"],
    );
}
