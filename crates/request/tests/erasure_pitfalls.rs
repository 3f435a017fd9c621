//! Erasure pitfalls met with real footage: an exclusion that misses the footage (a time
//! zone slip), a remaining period too short to hold a frame, and clips that must stay
//! placeable on the wall clock (each carries its own creation_time).

use std::fs;

use obscura_media::EncoderSettings;
use obscura_request::{CameraInput, Exclusion, ExportRequest, RequestMode, SealOptions, export};
use obscura_seal::{Date, Identity, RecipientSecretKey, SigningKey};
use obscura_testkit::clips::{IndexedClip, decode_indices_with_ffmpeg, run_ffprobe};

fn request(cameras: Vec<CameraInput>, exclusions: Vec<Exclusion>) -> ExportRequest {
    ExportRequest {
        cameras,
        from: None,
        to: None,
        mode: RequestMode::Erasure,
        exclusions,
        reference: None,
        operator: None,
        show_operator: false,
        expires: Date::today_utc().plus_days(30),
        encoder: EncoderSettings::builder()
            .crf(18)
            .preset(obscura_media::Preset::Ultrafast)
            .build()
            .unwrap(),
        work_dir: None,
        allow_empty_exclusions: false,
        report: Default::default(),
        replace_existing: false,
    }
}

/// A 4 s, 10 fps clip recorded from 2026-11-28T10:00:00Z.
fn dated_clip(dir: &std::path::Path) -> std::path::PathBuf {
    IndexedClip::write_with(
        dir,
        "door.mp4",
        40,
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
    )
}

#[test]
fn an_exclusion_that_misses_the_footage_is_an_error_naming_it() {
    let d = tempfile::tempdir().unwrap();
    let clip = dated_clip(d.path());
    let cams = vec![CameraInput::from_path(&clip)];
    let signer = SigningKey::generate().unwrap();
    let rcpt = RecipientSecretKey::generate().unwrap();
    let out = d.path().join("x.obx");
    // 11:00Z where 10:00Z was meant: the footage runs 10:00:00 .. 10:00:04.
    let slip = Exclusion::parse("2026-11-28T11:00:01Z..2026-11-28T11:00:02Z", &cams).unwrap();
    let mut req = request(cams.clone(), vec![slip]);
    let run = |req: &ExportRequest| {
        export(
            req,
            None,
            SealOptions {
                signer: &signer,
                recipients: vec![rcpt.public_key()],
                passphrase: None,
            },
            &out,
            None,
            &mut |_| {},
        )
    };
    let e = run(&req).unwrap_err().to_string();
    assert!(
        e.contains("exclusion 2026-11-28T11:00:01Z..2026-11-28T11:00:02Z"),
        "{e}"
    );
    assert!(e.contains("removes nothing"), "{e}");
    assert!(
        e.contains("camera door runs 2026-11-28T10:00:00Z .. 2026-11-28T10:00:04Z"),
        "{e}"
    );
    assert!(!out.exists());
    // The same slip written with an offset (+01:00) lands inside the footage.
    let ok = Exclusion::parse(
        "2026-11-28T11:00:01+01:00..2026-11-28T11:00:02+01:00",
        &cams,
    )
    .unwrap();
    assert!(run(&request(cams.clone(), vec![ok])).is_ok());
    fs::remove_file(&out).unwrap();
    // Allowed explicitly: everything is exported.
    req.allow_empty_exclusions = true;
    let o = run(&req).unwrap();
    assert_eq!(o.clips.len(), 1);
    assert_eq!(o.clips[0].frames, 40);
}

#[test]
fn an_empty_remaining_period_is_dropped_with_a_note_and_clips_keep_their_wall_clock_start() {
    let d = tempfile::tempdir().unwrap();
    let clip = dated_clip(d.path());
    let cams = vec![CameraInput::from_path(&clip)];
    // Frames at 0.0 .. 3.9 s; the clip ends at 4.0 s. Excluding 1.0 .. 3.95 leaves
    // [3.95, 4.0), which holds no frame: like `--exclude 1:15..1:19.45` on a clip ending
    // at 1:19.5.
    let req = request(
        cams.clone(),
        vec![
            Exclusion::parse("1..3.95", &cams).unwrap(),
            Exclusion::parse("0.5..0.6", &cams).unwrap(),
        ],
    );
    let signer = SigningKey::generate().unwrap();
    let rcpt = RecipientSecretKey::generate().unwrap();
    let out = d.path().join("x.obx");
    let mut steps = Vec::new();
    let o = export(
        &req,
        None,
        SealOptions {
            signer: &signer,
            recipients: vec![rcpt.public_key()],
            passphrase: None,
        },
        &out,
        None,
        &mut |s| steps.push(s.to_string()),
    )
    .unwrap();
    assert!(
        steps.iter().any(|s| s.contains("holds no frame")),
        "{steps:?}"
    );
    let names: Vec<&str> = o.clips.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["door-001.mp4", "door-002.mp4"],
        "period 3 gave no clip"
    );
    // Wall-clock starts: 10:00:00 and 10:00:00.6 (the first frame after 0.5 .. 0.6).
    let starts: Vec<String> = o
        .clips
        .iter()
        .map(|c| c.start_wall.unwrap().to_string())
        .collect();
    assert_eq!(
        starts,
        ["2026-11-28T10:00:00Z", "2026-11-28T10:00:00.600000Z"]
    );
    let extra = &o.manifest.policy.as_ref().unwrap().extra;
    assert_eq!(
        extra["clip_start_times"]["door-002.mp4"],
        "2026-11-28T10:00:00.600000Z"
    );
    let opened = d.path().join("opened");
    fs::create_dir(&opened).unwrap();
    obscura_seal::open(&out, &Identity::Recipient(rcpt), &opened, false).unwrap();
    assert_eq!(
        decode_indices_with_ffmpeg(&opened.join("door-002.mp4")),
        (6..10).collect::<Vec<_>>()
    );
    // The clip itself carries its start (MP4 keeps whole seconds).
    let probed = run_ffprobe(&[
        "-show_format",
        opened.join("door-002.mp4").to_str().unwrap(),
    ]);
    assert!(
        probed.contains("TAG:creation_time=2026-11-28T10:00:00.000000Z"),
        "{probed}"
    );
    let html = fs::read_to_string(opened.join("report.html")).unwrap();
    assert!(
        html.contains("holds no frame"),
        "the report notes the dropped period"
    );
    assert!(
        html.contains("creation_time 2026-11-28T10:00:00.600000Z"),
        "the report lists each clip's start"
    );
}
