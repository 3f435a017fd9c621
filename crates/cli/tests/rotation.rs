//! Footage stored sideways is redacted as it is shown: a video with a display rotation and
//! a JPEG with EXIF Orientation 6 give upright outputs with the masks on the people, the
//! same as the upright originals. Uses the real footage and models (skipped without them).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use obscura_testkit::clips::run_ffmpeg;

fn obscura() -> Command {
    let mut c = Command::cargo_bin("obscura").unwrap();
    c.env("OBSCURA_AUDIT_LOG", obscura_testkit::scratch_audit_log());
    c.timeout(std::time::Duration::from_secs(600));
    c
}

fn footage() -> Option<PathBuf> {
    obscura_testkit::model_file("yolox_nano_416.onnx")?;
    obscura_testkit::model_file("yunet_n_dynamic.onnx")?;
    obscura_testkit::shared_file("footage/vtest.avi")
}

/// Luma of every frame of `clip` at its displayed size (ffmpeg CLI, autorotate on).
fn gray_frames(clip: &Path) -> (Vec<u8>, String) {
    let probe = obscura_testkit::clips::run_ffprobe(&[
        "-v",
        "error",
        "-select_streams",
        "v:0",
        "-show_entries",
        "stream=width,height",
        "-of",
        "csv=p=0",
        clip.to_str().unwrap(),
    ]);
    (
        run_ffmpeg(
            &[
                "-i",
                clip.to_str().unwrap(),
                "-f",
                "rawvideo",
                "-pix_fmt",
                "gray",
                "-",
            ],
            None,
        ),
        probe.trim().to_string(),
    )
}

fn mean_abs_diff(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from(x.abs_diff(*y)))
        .sum::<f64>()
        / a.len() as f64
}

fn redact_json(input: &Path, output: &Path, extra: &[&str]) -> serde_json::Value {
    let a = obscura()
        .arg("--quiet")
        .arg("redact")
        .arg(input)
        .arg("-o")
        .arg(output)
        .args(["--json", "--style", "fill"])
        .args(extra)
        .assert()
        .success();
    serde_json::from_slice(&a.get_output().stdout).unwrap()
}

fn masked(json: &serde_json::Value) -> usize {
    json["report"]["masked"].as_array().map_or(0, Vec::len)
}

#[test]
fn a_video_with_a_display_rotation_is_redacted_upright() {
    let Some(vtest) = footage() else { return };
    let dir = tempfile::tempdir().unwrap();
    let upright = dir.path().join("upright.mp4");
    let v = vtest.to_str().unwrap();
    run_ffmpeg(
        &[
            "-i",
            v,
            "-frames:v",
            "20",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-qp",
            "0",
            upright.to_str().unwrap(),
        ],
        None,
    );
    // Stored sideways (turned clockwise), with the display matrix that turns it back, as a
    // phone or corridor-mode camera writes it.
    // (FFmpeg 5.1 writes the tag as a display matrix on a stream copy only.)
    let turned = dir.path().join("turned.mp4");
    run_ffmpeg(
        &[
            "-i",
            upright.to_str().unwrap(),
            "-vf",
            "transpose=clock",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-qp",
            "0",
            turned.to_str().unwrap(),
        ],
        None,
    );
    let sideways = dir.path().join("sideways.mp4");
    run_ffmpeg(
        &[
            "-i",
            turned.to_str().unwrap(),
            "-c",
            "copy",
            "-metadata:s:v",
            "rotate=90",
            sideways.to_str().unwrap(),
        ],
        None,
    );
    let a = obscura()
        .args(["probe", "--json"])
        .arg(&sideways)
        .assert()
        .success();
    let probe: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    assert_eq!(probe["streams"][0]["orientation"], "rotate270");
    assert_eq!(probe["streams"][0]["width"], 576, "stored size");

    let out_up = dir.path().join("out-up.mp4");
    let out_side = dir.path().join("out-side.mp4");
    let j_up = redact_json(&upright, &out_up, &[]);
    let j_side = redact_json(&sideways, &out_side, &[]);
    assert!(masked(&j_up) >= 3, "{j_up}");
    assert!(
        masked(&j_side) + 1 >= masked(&j_up),
        "sideways masked {} of the {} upright",
        masked(&j_side),
        masked(&j_up)
    );
    let (g_up, size_up) = gray_frames(&out_up);
    let (g_side, size_side) = gray_frames(&out_side);
    assert_eq!(size_side, "768,576", "the output is upright");
    assert_eq!(size_up, size_side);
    let (src, _) = gray_frames(&upright);
    let same = mean_abs_diff(&g_up, &g_side);
    let masking = mean_abs_diff(&g_up, &src);
    eprintln!("mean |upright out - sideways out| = {same:.2}, mean |out - source| = {masking:.2}");
    assert!(
        masking > 2.0,
        "the masks changed the picture ({masking:.2})"
    );
    assert!(
        same < masking / 3.0,
        "masks in the same places: {same:.2} vs {masking:.2}"
    );
}

/// `jpeg` with an EXIF APP1 segment holding only Orientation = `value`.
fn with_exif_orientation(jpeg: &[u8], value: u16) -> Vec<u8> {
    let mut app1 = vec![0xFF, 0xE1, 0, 34];
    app1.extend_from_slice(b"Exif\0\0II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0");
    app1.extend_from_slice(&value.to_le_bytes());
    app1.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    assert_eq!(app1.len(), 36);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[test]
fn a_jpeg_with_exif_orientation_is_redacted_upright() {
    let Some(vtest) = footage() else { return };
    let dir = tempfile::tempdir().unwrap();
    let frame = dir.path().join("frame.png");
    run_ffmpeg(
        &[
            "-i",
            vtest.to_str().unwrap(),
            "-vf",
            "select=eq(n\\,100)",
            "-frames:v",
            "1",
            frame.to_str().unwrap(),
        ],
        None,
    );
    let img = image::open(&frame).unwrap().to_rgb8();
    let upright = dir.path().join("upright.jpg");
    img.save(&upright).unwrap();
    // Stored turned counter-clockwise; Orientation 6 says "turn 90° clockwise to show".
    let stored = image::imageops::rotate270(&img);
    let mut buf = Vec::new();
    image::DynamicImage::ImageRgb8(stored)
        .write_to(
            &mut std::io::Cursor::new(&mut buf),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    let sideways = dir.path().join("sideways.jpg");
    std::fs::write(&sideways, with_exif_orientation(&buf, 6)).unwrap();

    let out_up = dir.path().join("out-up.png");
    let out_side = dir.path().join("out-side.png");
    let j_up = redact_json(&upright, &out_up, &[]);
    let j_side = redact_json(&sideways, &out_side, &[]);
    assert!(masked(&j_up) >= 3, "{j_up}");
    assert!(
        masked(&j_side) + 1 >= masked(&j_up),
        "sideways masked {} of the {} upright",
        masked(&j_side),
        masked(&j_up)
    );
    let a = image::open(&out_up).unwrap().to_luma8();
    let b = image::open(&out_side).unwrap().to_luma8();
    assert_eq!(b.dimensions(), (768, 576), "the output is upright");
    let src = image::open(&upright).unwrap().to_luma8();
    let same = mean_abs_diff(a.as_raw(), b.as_raw());
    let masking = mean_abs_diff(a.as_raw(), src.as_raw());
    eprintln!(
        "still: mean |upright out - sideways out| = {same:.2}, mean |out - source| = {masking:.2}"
    );
    assert!(
        same < masking / 3.0,
        "masks in the same places: {same:.2} vs {masking:.2}"
    );
}
