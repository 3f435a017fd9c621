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
            obscura()
                .arg("redact")
                .arg(&input)
                .arg("-o")
                .arg(&out)
                .arg("--edits")
                .arg(&edits),
            &[name, want],
        );
        one_line_exit_2(
            obscura()
                .arg("review")
                .arg(&input)
                .arg("--edits")
                .arg(&edits),
            &[name, want],
        );
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
            .args([
                "--exclude",
                "1..2",
                "--sign",
                "none.key",
                "--passphrase-file",
                "none.txt",
                "-o",
            ])
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

/// vtest.avi (768x576, 10 fps) from ../shared, when it and the models are there.
fn footage() -> Option<std::path::PathBuf> {
    obscura_testkit::model_file("yolox_nano_416.onnx")?;
    obscura_testkit::model_file("yunet_n_dynamic.onnx")?;
    obscura_testkit::shared_file("footage/vtest.avi")
}

/// The first `n` frames of `path` as 8-bit luma planes (768x576).
fn luma_frames(path: &Path, n: usize) -> Vec<Vec<u8>> {
    let raw = obscura_testkit::clips::run_ffmpeg(
        &[
            "-i",
            path.to_str().unwrap(),
            "-frames:v",
            &n.to_string(),
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ],
        None,
    );
    raw.chunks(768 * 576).map(<[u8]>::to_vec).collect()
}

/// Mean luma of `f` over x0..x1, y0..y1.
fn mean(f: &[u8], (x0, y0, x1, y1): (usize, usize, usize, usize)) -> f64 {
    let mut s = 0u64;
    for y in y0..y1 {
        s += f[y * 768 + x0..y * 768 + x1]
            .iter()
            .map(|&v| u64::from(v))
            .sum::<u64>();
    }
    s as f64 / ((x1 - x0) * (y1 - y0)) as f64
}

#[test]
fn redact_with_edits_paints_manual_masks_and_records_the_unmask_reason() {
    let Some(clip) = footage() else { return };
    let dir = tempfile::tempdir().unwrap();
    let reason = "second requester, consent on file REQ-2026-078";
    // Grass, nobody there: a region for 1.0..3.0 s (frames 10..29), and a box moving 50 px
    // right from 0 s to 5.9 s (frames 0..59). On frame 50 a walker stands around x 371..399,
    // y 179..258: left visible, with a reason.
    let edits = write(
        dir.path(),
        "vtest.edits.json",
        &format!(
            r#"{{"format": 1, "reviewer": "op-17", "reviewed_at": "2026-12-02T03:00:00Z",
               "masks": [
                 {{"id": "grass", "from": "1.0", "until": "3.0", "box": [100, 420, 160, 100]}},
                 {{"id": "moving", "keyframes": [{{"time": "0", "box": [550, 420, 100, 80]}}, {{"time": "5.9", "box": [600, 420, 100, 80]}}]}}
               ],
               "unmask": [{{"person": {{"time": "5.0", "x": 385, "y": 220}}, "reason": "{reason}"}}]}}"#
        ),
    );
    let out = dir.path().join("redacted.mp4");
    let audit = dir.path().join("audit.jsonl");
    let a = obscura()
        .arg("redact")
        .arg(&clip)
        .arg("-o")
        .arg(&out)
        .args([
            "--frames", "60", "--style", "fill", "--json", "-q", "--edits",
        ])
        .arg(&edits)
        .arg("--audit-log")
        .arg(&audit)
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    // The report: the reviewer, the manual masks and the reason, in the summary and on stderr.
    let sha = {
        use sha2::Digest;
        let d = sha2::Sha256::digest(std::fs::read(&edits).unwrap());
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let rev = &json["review"];
    assert_eq!(rev["reviewer"], "op-17", "{json}");
    assert_eq!(rev["edits_sha256"], sha.as_str(), "{json}");
    assert_eq!(rev["manual_masks"], 2, "{json}");
    assert_eq!(rev["unmasked"][0]["reason"], reason, "{json}");
    assert!(
        rev["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains(reason)),
        "{json}"
    );
    assert!(err.contains(reason), "{err}");
    assert_eq!(
        json["report"]["kept_identities"].as_array().unwrap().len(),
        1,
        "{json}"
    );
    // The audit log: a review record naming the reviewer, the file's sha256 and the reason.
    let log: Vec<serde_json::Value> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let r = log
        .iter()
        .find(|r| r["action"] == "review")
        .expect("a review record");
    assert_eq!(r["operator"], "op-17");
    assert_eq!(r["detail"]["edits_sha256"], sha.as_str());
    assert_eq!(r["detail"]["unmasked"][0]["reason"], reason);
    assert_eq!(rev["audit_seq"], r["seq"]);
    // The pixels.
    let src = luma_frames(&clip, 60);
    let dst = luma_frames(&out, 60);
    assert_eq!((src.len(), dst.len()), (60, 60));
    let region = (104, 424, 256, 516);
    let moving_common = (604, 424, 646, 496); // inside the box on every frame
    for i in 0..60 {
        let (s, d) = (mean(&src[i], region), mean(&dst[i], region));
        assert!(
            s > 40.0,
            "frame {i}: the grass is not dark in the source ({s:.1})"
        );
        if (10..30).contains(&i) {
            assert!(
                d < 20.0,
                "frame {i}: the region mask is not painted ({d:.1})"
            );
        } else {
            assert!(
                (d - s).abs() < 10.0,
                "frame {i}: outside its time range the region is masked ({d:.1} vs {s:.1})"
            );
        }
        let d = mean(&dst[i], moving_common);
        assert!(
            d < 20.0,
            "frame {i}: the keyframed box is not painted ({d:.1})"
        );
    }
    // The box moves: at frame 0 its left edge is masked, at frame 59 it is not.
    let left = (554, 424, 576, 496); // the box plus its padding leaves it by frame 59
    assert!(mean(&dst[0], left) < 20.0);
    assert!((mean(&dst[59], left) - mean(&src[59], left)).abs() < 10.0);
    // The un-masked walker is visible on frame 50 (his right edge, x >= 392, touches the
    // masked neighbour's box, which stays masked: only his own middle is checked).
    let walker = (373, 185, 390, 255);
    let (s, d) = (mean(&src[50], walker), mean(&dst[50], walker));
    assert!(
        (d - s).abs() < 8.0,
        "the un-masked person is not visible ({d:.1} vs {s:.1})"
    );
}
