//! `obscura --version` says which FFmpeg, ONNX Runtime and models the binary runs with.

use assert_cmd::Command;

#[test]
fn long_version_names_ffmpeg_onnx_runtime_and_every_pinned_model() {
    let out = Command::cargo_bin("obscura")
        .unwrap()
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(&format!("obscura {}\n", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    let ffmpeg = text
        .lines()
        .find(|l| l.starts_with("FFmpeg: libavcodec "))
        .expect("an FFmpeg line");
    assert!(
        ffmpeg.contains("libavformat ") && ffmpeg.contains("libavutil "),
        "{ffmpeg}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("ONNX Runtime: ")),
        "{text}"
    );
    let registry = obscura_detect::models::ModelStore::new("unused").unwrap();
    for m in registry.entries() {
        assert!(
            text.contains(&format!("  {} sha256 {} (", m.name, m.sha256)),
            "{} missing in:\n{text}",
            m.name
        );
    }
    // The short form stays one line.
    let short = Command::cargo_bin("obscura")
        .unwrap()
        .arg("-V")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(short.stdout).unwrap(),
        format!("obscura {}\n", env!("CARGO_PKG_VERSION"))
    );
}
