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

#[test]
fn completions_and_man_pages_are_generated_from_the_command_line_grammar() {
    let run = |args: &[&str]| {
        Command::cargo_bin("obscura")
            .unwrap()
            .args(args)
            .output()
            .unwrap()
    };
    let bash = run(&["completions", "bash"]);
    assert!(bash.status.success());
    let bash = String::from_utf8(bash.stdout).unwrap();
    for word in [
        "_obscura()",
        "redact",
        "export",
        "--keep-at",
        "--person-model",
    ] {
        assert!(bash.contains(word), "{word} missing in the bash completion");
    }
    let man = run(&["man", "redact"]);
    assert!(man.status.success());
    let man = String::from_utf8(man.stdout).unwrap();
    assert!(
        man.contains(".TH obscura-redact 1"),
        "{}",
        &man[..200.min(man.len())]
    );
    assert!(man.contains("keep\\-at"), "the page lists --keep-at");
    let top = String::from_utf8(run(&["man"]).stdout).unwrap();
    assert!(
        top.contains(".TH obscura 1") && top.contains("export"),
        "{}",
        &top[..200.min(top.len())]
    );
    // An unknown command is an error naming it, exit 2.
    let bad = run(&["man", "nope"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("\"nope\""));
}
