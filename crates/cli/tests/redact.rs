//! `obscura redact` run as a binary (assert_cmd): errors, stills, batches and a short run on
//! real footage (skipped without ../shared and the models).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use obscura_testkit::clips::run_ffmpeg;

fn obscura() -> Command {
    let mut c = Command::cargo_bin("obscura").unwrap();
    c.env("OBSCURA_AUDIT_LOG", obscura_testkit::scratch_audit_log());
    c
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn footage() -> Option<PathBuf> {
    obscura_testkit::model_file("yolox_nano_416.onnx")?;
    obscura_testkit::model_file("yunet_n_dynamic.onnx")?;
    obscura_testkit::shared_file("footage/vtest.avi")
}

/// Frame `index` of vtest.avi as a PNG, extracted with the ffmpeg CLI.
fn vtest_still(clip: &Path, index: u32, dest: &Path) {
    let filter = format!("select=eq(n\\,{index})");
    run_ffmpeg(
        &[
            "-v",
            "error",
            "-i",
            clip.to_str().unwrap(),
            "-vf",
            &filter,
            "-frames:v",
            "1",
            "-y",
            dest.to_str().unwrap(),
        ],
        None,
    );
}

#[test]
fn missing_input_is_a_one_line_error_with_exit_2_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.mp4");
    let a = obscura()
        .args(["redact", "/nonexistent/in.mp4", "-o"])
        .arg(&out)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(err.contains("/nonexistent/in.mp4: no such file"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(files_in(dir.path()).is_empty());
}

#[test]
fn bad_settings_name_the_bad_value() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    image::RgbImage::new(16, 16).save(&input).unwrap();
    for (flag, value, expect) in [
        ("--style", "smudge", "smudge"),
        ("--targets", "person,car", "car"),
        ("--zone", "0,0;2,0;1,1", "2,0"),
        ("--keep-at", "soon@1,2", "soon@1,2"),
        ("--audio", "loud", "loud"),
        ("--crf", "99", "99"),
    ] {
        let a = obscura()
            .arg("redact")
            .arg(&input)
            .arg("-o")
            .arg(dir.path().join("out.png"))
            .args([flag, value])
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        assert!(err.contains(expect), "{flag} {value}: {err}");
    }
    assert_eq!(files_in(dir.path()), vec!["in.png"]);
}

#[test]
fn keep_ids_with_several_inputs_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.png"), dir.path().join("b.png"));
    image::RgbImage::new(16, 16).save(&a).unwrap();
    image::RgbImage::new(16, 16).save(&b).unwrap();
    let out = dir.path().join("out");
    let r = obscura()
        .arg("redact")
        .arg(&a)
        .arg(&b)
        .arg("-o")
        .arg(&out)
        .args(["--keep", "3"])
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&r.get_output().stderr).contains("--keep-like for a batch"));
}

#[test]
fn still_from_real_footage_masks_people_and_keeps_the_rest_exactly() {
    let Some(clip) = footage() else { return };
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("alarm.png");
    vtest_still(&clip, 200, &input);
    let out = dir.path().join("alarm-redacted.png");
    let a = obscura()
        .arg("redact")
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .args(["--style", "fill", "--json", "-q"])
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    let masked = json["report"]["masked"].as_array().unwrap();
    assert!(
        masked.len() >= 5,
        "only {} tracks masked on a frame with ~8 walkers: {json}",
        masked.len()
    );
    let (src, dst) = (
        image::open(&input).unwrap().to_rgb8(),
        image::open(&out).unwrap().to_rgb8(),
    );
    assert_eq!(src.dimensions(), dst.dimensions());
    let black = |img: &image::RgbImage| img.pixels().filter(|p| p.0 == [0, 0, 0]).count();
    assert!(
        black(&dst) > black(&src) + 5 * 400,
        "few pixels were masked"
    );
    // The lawn at the bottom right has nobody on it: bit-for-bit unchanged (PNG in, PNG out).
    for y in 500..576 {
        for x in 600..768 {
            assert_eq!(src.get_pixel(x, y), dst.get_pixel(x, y), "pixel {x},{y}");
        }
    }
}

#[test]
fn batch_continues_after_a_failure_reports_a_table_and_exits_2() {
    let Some(clip) = footage() else { return };
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    std::fs::create_dir(&inputs).unwrap();
    vtest_still(&clip, 100, &inputs.join("a.png"));
    vtest_still(&clip, 300, &inputs.join("b.jpg"));
    std::fs::write(inputs.join("broken.mp4"), b"this is not a video").unwrap();
    let out = dir.path().join("out");
    let a = obscura()
        .arg("redact")
        .arg(&inputs)
        .arg("-o")
        .arg(&out)
        .args(["--jobs", "2", "-q"])
        .assert()
        .code(2);
    let stdout = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    let stderr = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(
        stdout.contains("FAILED")
            && stdout.contains("broken.mp4")
            && stdout.matches("\nok ").count() == 2,
        "{stdout}"
    );
    assert!(stderr.contains("1 of 3 file(s) failed"), "{stderr}");
    assert_eq!(files_in(&out), vec!["a.png", "b.jpg"]);
    assert_eq!(
        image::ImageReader::open(out.join("b.jpg"))
            .unwrap()
            .with_guessed_format()
            .unwrap()
            .format(),
        Some(image::ImageFormat::Jpeg)
    );

    // The same with --json: one entry per file, in input order.
    let out2 = dir.path().join("out2");
    let a = obscura()
        .arg("redact")
        .arg(&inputs)
        .arg("-o")
        .arg(&out2)
        .args(["--json", "-q"])
        .assert()
        .code(2);
    let json: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    let files = json["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    assert_eq!(
        (json["ok"].as_u64(), json["failed"].as_u64()),
        (Some(2), Some(1))
    );
    assert!(
        files
            .iter()
            .any(|f| f["ok"] == false && f["error"].as_str().unwrap().contains("broken.mp4"))
    );
}

#[test]
fn video_keep_at_on_real_footage_writes_output_and_summary_and_a_dry_run_only_a_sheet() {
    let Some(clip) = footage() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("redacted.mp4");
    let sheet = dir.path().join("sheet.png");
    // On frame 50 of vtest.avi a walker stands around x 371..399, y 179..258.
    let a = obscura()
        .arg("redact")
        .arg(&clip)
        .arg("-o")
        .arg(&out)
        .args([
            "--keep-at",
            "5.0@385,220",
            "--frames",
            "60",
            "--style",
            "fill",
            "--json",
            "-q",
        ])
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    let rep = &json["report"];
    assert_eq!(rep["frames"], 60);
    assert_eq!(
        rep["passes"], 4,
        "analyse, appearance, per-frame check, mask"
    );
    assert_eq!(
        rep["kept_identities"].as_array().unwrap().len(),
        1,
        "{json}"
    );
    assert!(!rep["kept"].as_array().unwrap().is_empty(), "{json}");
    assert!(rep["subject_frames"].as_u64().unwrap() > 0, "{json}");
    assert!(rep["masked"].as_array().unwrap().len() >= 4, "{json}");
    assert!(rep["fps"].as_f64().unwrap() > 0.0);
    let probe = obscura_testkit::clips::ffprobe_frame_count(&out);
    assert_eq!(probe, 60);
    // A dry run: the same masking, no video encoded, a sheet of 12 labelled tiles.
    let a = obscura()
        .arg("redact")
        .arg(&clip)
        .args([
            "--frames",
            "60",
            "--style",
            "fill",
            "--json",
            "-q",
            "--dry-run-sheet",
        ])
        .arg(&sheet)
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    assert_eq!(json["report"]["frames"], 60, "{json}");
    assert_eq!(
        json["output"].as_str(),
        Some(sheet.to_str().unwrap()),
        "{json}"
    );
    let s = image::open(&sheet).unwrap().to_rgb8();
    assert!(
        s.width() > 4 * 320 && s.height() > 3 * 200,
        "{}x{}",
        s.width(),
        s.height()
    );
    // Each tile has its label (white text) in the strip under it.
    let label_rows = |top: u32| {
        (top..top + 18).any(|y| (4..320).any(|x| s.get_pixel(x, y).0 == [255, 255, 255]))
    };
    let tile_h = 320 * 576 / 768;
    assert!(label_rows(4 + tile_h + 2), "no label under the first tile");
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec!["redacted.mp4", "sheet.png"],
        "a dry run writes the sheet only"
    );
    // -o and --dry-run-sheet together: refused (a dry run writes no video).
    obscura()
        .arg("redact")
        .arg(&clip)
        .arg("-o")
        .arg(dir.path().join("x.mp4"))
        .arg("--dry-run-sheet")
        .arg(dir.path().join("y.png"))
        .assert()
        .code(2);

    // A point where nobody stands: exit 2, the persons there are listed, no output.
    let out2 = dir.path().join("nobody.mp4");
    let a = obscura()
        .arg("redact")
        .arg(&clip)
        .arg("-o")
        .arg(&out2)
        .args(["--keep-at", "5.0@5,570", "--frames", "60", "-q"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(
        err.contains("no person box contains 5,570 at frame 50") && err.contains("persons there:"),
        "{err}"
    );
    assert!(!out2.exists());
}
