//! Erasure exports on generated clips whose frames show their own index: sealed, verified,
//! opened, and every opened clip decoded by the ffmpeg CLI (the independent oracle) to check
//! exactly which source frames are present.

use std::fs;
use std::path::Path;

use obscura_audit::{AuditLog, VerifyOptions};
use obscura_core::{Interval, Timestamp};
use obscura_media::EncoderSettings;
use obscura_request::{
    CameraInput, Exclusion, ExportRequest, RequestMode, SealOptions, TimeRef, export,
};
use obscura_seal::{Date, Identity, RecipientSecretKey, Signer, SigningKey};
use obscura_testkit::clips::{IndexedClip, decode_indices_with_ffmpeg, run_ffmpeg};

fn request(cameras: Vec<CameraInput>, exclusions: Vec<Exclusion>) -> ExportRequest {
    ExportRequest {
        cameras,
        from: None,
        to: None,
        mode: RequestMode::Erasure,
        exclusions,
        reference: Some("REQ-2026-0042".into()),
        operator: Some("op-17".into()),
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

fn t(s: &str) -> TimeRef {
    s.parse().unwrap()
}

fn no_temps(dir: &Path) {
    let left: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".obscura-tmp-"))
        .collect();
    assert!(left.is_empty(), "temporaries left behind: {left:?}");
}

#[test]
fn erasure_export_two_cameras_is_frame_exact_sealed_reported_and_audited() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("src");
    fs::create_dir(&src).unwrap();
    // Camera A: 100 frames at 25 fps (4 s). Camera B: 60 frames at 20 fps (3 s) with a
    // creation time, so a wall-clock exclusion can be placed on it.
    let a = IndexedClip::write_with(
        &src,
        "lobby.mp4",
        100,
        25,
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "18",
            "-pix_fmt",
            "yuv420p",
        ],
    );
    let b = IndexedClip::write_with(
        &src,
        "door.mp4",
        60,
        20,
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
    let cams = vec![
        CameraInput::from_path(&a),
        CameraInput {
            name: "door-1".into(),
            path: b.clone(),
        },
    ];
    // Everyone: 1.0 s .. 1.6 s. Door only: wall clock 10:00:02.5 .. (end) -> frames 50..59 of B.
    let ex = vec![
        Exclusion::parse("1..1.6", &cams).unwrap(),
        Exclusion::parse("door-1=2026-11-28T10:00:02.5..2026-11-28T10:00:09", &cams).unwrap(),
    ];
    let req = request(cams, ex);
    let signer = SigningKey::generate().unwrap();
    let rcpt = RecipientSecretKey::generate().unwrap();
    let out_dir = d.path().join("out");
    fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("req42.obx");
    let log = AuditLog::at(d.path().join("audit.jsonl"));
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
        Some(&log),
        &mut |s| steps.push(s.to_string()),
    )
    .unwrap();
    assert!(!steps.is_empty());
    no_temps(&out_dir);

    let names: Vec<&str> = o
        .manifest
        .payloads
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "lobby-001.mp4",
            "lobby-002.mp4",
            "door-1-001.mp4",
            "door-1-002.mp4",
            "report.html"
        ]
    );
    let v = obscura_seal::verify(&out, Some(&signer.public_key())).unwrap();
    assert_eq!(v.manifest, o.manifest);
    assert_eq!(o.manifest.reference.as_deref(), Some("REQ-2026-0042"));
    // Manifest intervals are exactly the frames encoded: [first pts, last pts + 1 frame).
    let ms = Timestamp::from_millis;
    let lobby = &o.manifest.cameras[0];
    assert_eq!(lobby.camera, "lobby");
    assert_eq!(
        lobby.included,
        vec![
            Interval::new(ms(0), ms(1000)).unwrap(),
            Interval::new(ms(1600), ms(4000)).unwrap()
        ]
    );
    assert_eq!(
        lobby.excluded,
        vec![Interval::new(ms(1000), ms(1600)).unwrap()]
    );
    let door = &o.manifest.cameras[1];
    assert_eq!(
        door.included,
        vec![
            Interval::new(ms(0), ms(1000)).unwrap(),
            Interval::new(ms(1600), ms(2500)).unwrap()
        ]
    );
    assert_eq!(
        door.excluded,
        vec![
            Interval::new(ms(1000), ms(1600)).unwrap(),
            Interval::new(ms(2500), ms(3000)).unwrap()
        ]
    );
    assert_eq!(o.manifest.policy.as_ref().unwrap().extra["mode"], "erasure");

    let opened = d.path().join("opened");
    fs::create_dir(&opened).unwrap();
    obscura_seal::open(&out, &Identity::Recipient(rcpt), &opened, false).unwrap();
    let idx = |n: &str| decode_indices_with_ffmpeg(&opened.join(n));
    assert_eq!(idx("lobby-001.mp4"), (0..25).collect::<Vec<_>>());
    assert_eq!(idx("lobby-002.mp4"), (40..100).collect::<Vec<_>>());
    assert_eq!(idx("door-1-001.mp4"), (0..20).collect::<Vec<_>>());
    assert_eq!(idx("door-1-002.mp4"), (32..50).collect::<Vec<_>>());

    let html = fs::read_to_string(opened.join("report.html")).unwrap();
    for needle in [
        "REQ-2026-0042",
        "Erasure request",
        "lobby-002.mp4",
        "door-1",
        "data:image/jpeg;base64,",
        "2026-11-28T10:00:02.500000Z",
        &o.clips[0].sha256,
    ] {
        assert!(html.contains(needle), "report lacks {needle:?}");
    }
    assert!(
        !html.contains("op-17"),
        "operator shown without show_operator"
    );
    assert_eq!(
        html.matches("<img ").count(),
        4 * 3,
        "three thumbnails per clip"
    );
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "self-contained"
    );

    let rep = log.verify(&VerifyOptions::default()).unwrap();
    assert!(rep.is_valid());
    let rec = rep.last.unwrap();
    assert_eq!(
        (rec.seq, rec.result.as_str(), rec.operator.as_deref()),
        (1, "ok", Some("op-17"))
    );
    assert_eq!(
        rec.package_sha256.as_deref(),
        Some(o.package_sha256.as_str())
    );
    assert_eq!(rec.package.as_deref(), Some("req42.obx"));

    // Never overwrites an existing package; a failure is logged too.
    let e = export(
        &req,
        None,
        SealOptions {
            signer: &signer,
            recipients: vec![],
            passphrase: None,
        },
        &out,
        Some(&log),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
    let recs = obscura_audit::read_records(log.path()).unwrap();
    assert!(recs[1].result.starts_with("failed: "), "{:?}", recs[1]);
}

#[test]
fn bad_requests_fail_cleanly_and_leave_nothing() {
    let d = tempfile::tempdir().unwrap();
    let a = IndexedClip::write(d.path(), 30, 25);
    let cams = vec![CameraInput::from_path(&a)];
    let signer = SigningKey::generate().unwrap();
    let rcpt = RecipientSecretKey::generate().unwrap();
    let out = d.path().join("x.obx");
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
    // Wall-clock time on a source without a creation time.
    let e = run(&request(
        cams.clone(),
        vec![Exclusion::parse("2026-11-28T10:00:00..2026-11-28T10:00:01", &cams).unwrap()],
    ))
    .unwrap_err();
    assert!(e.to_string().contains("carries no start time"), "{e}");
    // Everything excluded.
    let e = run(&request(
        cams.clone(),
        vec![Exclusion::parse("0..100", &cams).unwrap()],
    ))
    .unwrap_err();
    assert!(e.to_string().contains("nothing to export"), "{e}");
    // No exclusion in an erasure request; unknown camera.
    assert!(run(&request(cams.clone(), vec![])).is_err());
    assert!(
        Exclusion::parse("nope=1..2", &cams)
            .unwrap_err()
            .to_string()
            .contains("no camera")
    );
    // A window outside the footage.
    let mut r = request(
        cams.clone(),
        vec![Exclusion::parse("0..0.5", &cams).unwrap()],
    );
    r.from = Some(t("50"));
    r.to = Some(t("60"));
    assert!(run(&r).unwrap_err().to_string().contains("outside"));
    // Access without a redactor.
    let mut r = request(cams, vec![]);
    r.mode = RequestMode::Access;
    r.from = Some(t("0"));
    r.to = Some(t("1"));
    assert!(run(&r).is_err());
    let left: Vec<_> = fs::read_dir(d.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left.len(), 1, "only the input remains: {left:?}");
}

#[test]
fn window_limits_an_erasure_export() {
    let d = tempfile::tempdir().unwrap();
    let a = IndexedClip::write(d.path(), 75, 25);
    let cams = vec![CameraInput::from_path(&a)];
    let mut req = request(
        cams.clone(),
        vec![Exclusion::parse("0.8..1.2", &cams).unwrap()],
    );
    req.from = Some(t("0.4"));
    req.to = Some(t("00:00:02"));
    let signer = SigningKey::generate().unwrap();
    let out = d.path().join("w.obx");
    let pass = obscura_seal::Passphrase::new(b"correct horse battery".to_vec()).unwrap();
    let o = export(
        &req,
        None,
        SealOptions {
            signer: &signer,
            recipients: vec![],
            passphrase: Some(pass),
        },
        &out,
        None,
        &mut |_| {},
    )
    .unwrap();
    let opened = d.path().join("o");
    fs::create_dir(&opened).unwrap();
    let pass = obscura_seal::Passphrase::new(b"correct horse battery".to_vec()).unwrap();
    obscura_seal::open(&out, &Identity::Passphrase(pass), &opened, false).unwrap();
    assert_eq!(
        decode_indices_with_ffmpeg(&opened.join("indexed-001.mp4")),
        (10..20).collect::<Vec<_>>()
    );
    assert_eq!(
        decode_indices_with_ffmpeg(&opened.join("indexed-002.mp4")),
        (30..50).collect::<Vec<_>>()
    );
    // Outside the window counts as excluded too.
    let ms = Timestamp::from_millis;
    assert_eq!(
        o.manifest.cameras[0].excluded,
        vec![
            Interval::new(ms(0), ms(400)).unwrap(),
            Interval::new(ms(800), ms(1200)).unwrap(),
            Interval::new(ms(2000), ms(3000)).unwrap()
        ]
    );
    let _ = run_ffmpeg; // oracle helpers come from testkit
}
