//! `-v` logs: stage timings at debug on stderr, nothing by default, no paths in the logs.

use assert_cmd::Command;
use obscura_testkit::clips::run_ffmpeg;

#[test]
fn verbose_logs_stage_timings_without_paths_and_default_logs_nothing() {
    if obscura_testkit::model_file("yolox_nano_416.onnx").is_none()
        || obscura_testkit::model_file("yunet_n_dynamic.onnx").is_none()
    {
        eprintln!("SKIP: models not present");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("Jane-Doe-lobby.mp4");
    let args = [
        "-v",
        "error",
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=10",
        "-t",
        "1",
        "-pix_fmt",
        "yuv420p",
    ];
    run_ffmpeg(&[&args[..], &[input.to_str().unwrap()]].concat(), None);
    let run = |verbose: bool, out: &str| {
        let mut c = Command::cargo_bin("obscura").unwrap();
        c.env_remove("RUST_LOG");
        if verbose {
            c.arg("-v");
        }
        let o = c
            .args(["-q", "redact"])
            .arg(&input)
            .arg("-o")
            .arg(dir.path().join(out))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let quiet = run(false, "a.mp4");
    assert!(!quiet.contains("DEBUG"), "{quiet}");
    let logs = run(true, "b.mp4");
    let line = logs
        .lines()
        .find(|l| l.contains("redaction done"))
        .unwrap_or_else(|| panic!("{logs}"));
    assert!(
        line.contains("DEBUG") && line.contains("frames=10"),
        "{line}"
    );
    for stage in [
        "decode_ms=",
        "detect_ms=",
        "track_policy_ms=",
        "render_ms=",
        "encode_ms=",
    ] {
        assert!(line.contains(stage), "{stage} missing: {line}");
    }
    assert!(
        !logs.contains("Jane-Doe") && !logs.contains(dir.path().to_str().unwrap()),
        "{logs}"
    );
}
