//! `obscura tracks` end to end on the shared GIF (skipped when absent).

use assert_cmd::Command;
use obscura_testkit::{model_file, shared_file};

#[test]
fn tracks_json_to_stdout_and_contact_sheet() {
    let (Some(_), Some(gif)) = (
        model_file("yolox_nano_416.onnx"),
        shared_file("footage/intel_face-demographics-walking.gif"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sheet = dir.path().join("sheet.png");
    let out = Command::cargo_bin("obscura")
        .unwrap()
        .env("OBSCURA_AUDIT_LOG", obscura_testkit::scratch_audit_log())
        .args(["tracks", "-q", "-o", "-", "--sheet"])
        .arg(&sheet)
        .arg(&gif)
        .assert()
        .success()
        .get_output()
        .clone();
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is the JSON only");
    assert_eq!(v["source"]["frames"], 35);
    let tracks = v["tracks"].as_array().unwrap();
    assert!(tracks.iter().any(|t| t["class"] == "person"));
    let b = &tracks[0]["boxes"][0];
    for k in ["frame", "pts", "x", "y", "w", "h", "score", "predicted"] {
        assert!(!b[k].is_null(), "box lacks {k}");
    }
    assert!(tracks[0]["first_pts"].is_number() && tracks[0]["last_pts"].is_number());
    // The two walkers are two people, each made of tracklets of existing person tracks.
    let people = v["identities"].as_array().expect("identities listed");
    assert_eq!(people.len(), 2, "{people:?}");
    for p in people {
        let parts = p["tracklets"].as_array().unwrap();
        assert!(!parts.is_empty());
        for t in parts {
            assert!(
                tracks
                    .iter()
                    .any(|k| k["id"] == t["track"] && k["class"] == "person"),
                "{t}"
            );
            assert!(t["first_frame"].as_u64().unwrap() <= t["last_frame"].as_u64().unwrap());
        }
    }
    let img = image::open(&sheet).unwrap();
    assert!(
        img.width() >= 2 * 440 && img.height() >= 240,
        "{}x{}: one cell per person",
        img.width(),
        img.height()
    );
    // Only the sheet is in the folder: no temp files left.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn missing_input_is_a_one_line_error_with_exit_2_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("t.json");
    let out = Command::cargo_bin("obscura")
        .unwrap()
        .env("OBSCURA_AUDIT_LOG", obscura_testkit::scratch_audit_log())
        .args(["tracks", "/nonexistent/in.mp4", "-o"])
        .arg(&json)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/nonexistent/in.mp4") && err.lines().count() == 1,
        "{err}"
    );
    assert!(!json.exists());
    Command::cargo_bin("obscura")
        .unwrap()
        .env("OBSCURA_AUDIT_LOG", obscura_testkit::scratch_audit_log())
        .args(["tracks", "x", "--targets", "dog"])
        .assert()
        .code(2);
}
