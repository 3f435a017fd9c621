//! Real-model tests on frames of ../shared/footage (skipped with a message when absent).

use std::path::Path;
use std::process::Command;

use obscura_core::{Frame, ObjectClass, PixelFormat, Plane, Timestamp};
use obscura_detect::models::ModelStore;
use obscura_detect::{
    Detector, FaceConfig, FaceDetector, PersonFaceConfig, PersonFaceDetector, PersonScan,
    ScanConfig, YoloxConfig, YoloxDetector,
};
use obscura_testkit::{model_file, shared_file};

/// Frame `n` of `video`, extracted with the ffmpeg CLI (an independent decoder) as RGB.
fn frame_of(video: &Path, n: u32) -> Frame {
    frame_filtered(video, n, "null")
}

/// Frame `n` of `video` passed through the ffmpeg filter `vf` (e.g. a scale), as RGB.
fn frame_filtered(video: &Path, n: u32, vf: &str) -> Frame {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("f.png");
    let st = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(video)
        .args(["-vf", &format!("select=eq(n\\,{n}),{vf}"), "-frames:v", "1"])
        .arg(&png)
        .status()
        .expect("ffmpeg CLI");
    assert!(st.success());
    let img = image::open(&png).unwrap().to_rgb8();
    let (w, h) = img.dimensions();
    Frame {
        index: u64::from(n),
        pts: Timestamp::zero(),
        width: w,
        height: h,
        format: PixelFormat::Rgb24,
        planes: vec![Plane {
            data: img.into_raw(),
            stride: w as usize * 3,
            row_bytes: w as usize * 3,
            height: h as usize,
        }],
    }
}

fn store() -> Option<ModelStore> {
    let m = model_file("yolox_nano_416.onnx")?;
    model_file("yunet_n_dynamic.onnx")?;
    Some(ModelStore::new(m.parent().unwrap()).unwrap())
}

#[test]
fn yolox_finds_all_walkers_in_vtest_frame_200_from_rgb_and_yuv() {
    let (Some(store), Some(video)) = (store(), shared_file("footage/vtest.avi")) else {
        return;
    };
    let rgb = frame_of(&video, 200);
    let yuv = Frame::from_rgb24_to_yuv420(
        &rgb.to_rgb24(),
        rgb.width,
        rgb.height,
        200,
        Timestamp::zero(),
    )
    .unwrap();
    let mut det = YoloxDetector::person(&store, YoloxConfig::default()).unwrap();
    for frame in [&rgb, &yuv] {
        let persons = det.detect(frame).unwrap();
        let strong = persons.iter().filter(|d| d.score >= 0.4).count();
        eprintln!(
            "{:?}: {} persons ({} >= 0.4): {:?}",
            frame.format,
            persons.len(),
            strong,
            persons
                .iter()
                .map(|d| (d.rect.x as i32, d.rect.y as i32, d.rect.h as i32, d.score))
                .collect::<Vec<_>>()
        );
        assert!(
            persons.len() >= 8,
            "expected the ~8 walkers, got {}",
            persons.len()
        );
        assert!(persons.iter().all(|d| d.class == ObjectClass::Person));
        // Boxes are in source pixels (letterbox undone): inside the 768x576 frame; the ones
        // scored like walkers are walker-sized (the low threshold also reports small boxes).
        for d in &persons {
            assert!(
                d.rect.x > -10.0
                    && d.rect.right() < 778.0
                    && d.rect.y > -10.0
                    && d.rect.bottom() < 586.0,
                "{d:?}"
            );
        }
        for d in persons.iter().filter(|d| d.score >= 0.4) {
            assert!(
                d.rect.h > 20.0 && d.rect.h < 300.0 && d.rect.h > d.rect.w,
                "{d:?}"
            );
        }
    }
}

#[test]
fn yolox_on_the_frame_aspect_finds_every_walker_the_square_input_finds() {
    let (Some(store), Some(video)) = (store(), shared_file("footage/vtest.avi")) else {
        return;
    };
    let square_config = YoloxConfig {
        fit_aspect: false,
        ..YoloxConfig::default()
    };
    let mut square = YoloxDetector::person(&store, square_config).unwrap();
    let mut fit = YoloxDetector::person(&store, YoloxConfig::default()).unwrap();
    // 4:3 as recorded (416x320 input) and 16:9 as in the 1080p benchmark (416x256 input).
    for (n, vf) in [
        (200, "null"),
        (200, "scale=1920:1080"),
        (600, "scale=1920:1080"),
    ] {
        let frame = frame_filtered(&video, n, vf);
        let reference: Vec<_> = square
            .detect(&frame)
            .unwrap()
            .into_iter()
            .filter(|d| d.score >= 0.4)
            .collect();
        let found = fit.detect(&frame).unwrap();
        eprintln!(
            "frame {n} {vf}: square {} strong, fit-aspect {} boxes",
            reference.len(),
            found.len()
        );
        assert!(
            reference.len() >= 5,
            "frame {n} {vf}: square input found only {}",
            reference.len()
        );
        for r in &reference {
            let best = found
                .iter()
                .map(|d| d.rect.iou(&r.rect))
                .fold(0.0f32, f32::max);
            assert!(
                best >= 0.6,
                "frame {n} {vf}: walker {:?} (score {}) found by the square input has best IoU {best} on the fit-aspect input",
                r.rect,
                r.score
            );
        }
    }
}

#[test]
fn yunet_finds_frontal_faces_in_the_gif_and_person_face_composite_agrees() {
    let (Some(store), Some(gif)) = (
        store(),
        shared_file("footage/intel_face-demographics-walking.gif"),
    ) else {
        return;
    };
    let frame = frame_of(&gif, 20);
    let mut faces = FaceDetector::new(&store, FaceConfig::default()).unwrap();
    let found = faces.detect(&frame).unwrap();
    eprintln!(
        "faces: {:?}",
        found.iter().map(|d| (d.rect, d.score)).collect::<Vec<_>>()
    );
    assert!(
        !found.is_empty(),
        "YuNet found no face in a frame of walkers facing the camera"
    );
    for f in &found {
        let lm = f.landmarks.expect("YuNet gives five landmarks");
        // Eyes (landmarks 0 and 1) lie inside the face box.
        for p in &lm[..2] {
            assert!(f.rect.dilate(0.1, 1.0).contains_point(p[0], p[1]), "{f:?}");
        }
        assert!(f.rect.w >= 8.0 && f.rect.w < 200.0, "{f:?}");
    }
    let mut both = PersonFaceDetector::new(&store, PersonFaceConfig::default()).unwrap();
    let dets = both.detect(&frame).unwrap();
    let persons: Vec<_> = dets
        .iter()
        .filter(|d| d.class == ObjectClass::Person)
        .collect();
    let crop_faces: Vec<_> = dets
        .iter()
        .filter(|d| d.class == ObjectClass::Face)
        .collect();
    assert!(!persons.is_empty());
    assert!(
        crop_faces.len() >= found.len(),
        "composite found {} faces, full frame alone {}",
        crop_faces.len(),
        found.len()
    );
    assert_eq!(
        both.models()
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>(),
        ["yolox_nano_416", "yunet_n_dynamic"]
    );
    assert!(both.models().iter().all(|m| m.sha256.len() == 64));
}

#[test]
fn full_frame_face_search_runs_by_video_time_and_whenever_time_does_not_advance() {
    let (Some(store), Some(gif)) = (
        store(),
        shared_file("footage/intel_face-demographics-walking.gif"),
    ) else {
        return;
    };
    let mut frame = frame_of(&gif, 20);
    // No person scores 1.0, so every face found comes from the full-frame search.
    let person = YoloxConfig {
        score_threshold: 1.0,
        ..YoloxConfig::default()
    };
    let mut faces_at = |interval: f32, times_ms: &[i64]| -> Vec<usize> {
        let mut both = PersonFaceDetector::new(
            &store,
            PersonFaceConfig {
                person,
                full_frame_interval: interval,
                ..PersonFaceConfig::default()
            },
        )
        .unwrap();
        times_ms
            .iter()
            .map(|&ms| {
                frame.pts = Timestamp::from_millis(ms);
                let dets = both.detect(&frame).unwrap();
                assert!(
                    dets.iter().all(|d| d.class == ObjectClass::Face),
                    "a person passed a score threshold of 1.0"
                );
                dets.len()
            })
            .collect()
    };
    let default = faces_at(0.2, &[0, 100, 200, 200, 250, 120, 400]);
    eprintln!("faces per call at 0.2 s: {default:?}");
    let searched: Vec<bool> = default.iter().map(|&n| n > 0).collect();
    // 0 first, 200 after 0.2 s, 200 again (time stood still), 120 (time went back), 400.
    assert_eq!(searched, [true, false, true, true, false, true, true]);
    assert!(
        faces_at(0.0, &[0, 40, 80]).iter().all(|&n| n > 0),
        "interval 0 searches on every detection"
    );
    assert!(
        faces_at(-1.0, &[0, 400]).iter().all(|&n| n == 0),
        "a negative interval never searches"
    );
}

#[test]
fn faces_on_upper_body_crops_only() {
    let (Some(store), Some(gif)) = (
        store(),
        shared_file("footage/intel_face-demographics-walking.gif"),
    ) else {
        return;
    };
    let frame = frame_of(&gif, 20);
    let cfg = PersonFaceConfig {
        full_frame_interval: -1.0,
        ..PersonFaceConfig::default()
    };
    let mut both = PersonFaceDetector::new(&store, cfg).unwrap();
    let dets = both.detect(&frame).unwrap();
    let persons: Vec<_> = dets
        .iter()
        .filter(|d| d.class == ObjectClass::Person)
        .collect();
    let faces: Vec<_> = dets
        .iter()
        .filter(|d| d.class == ObjectClass::Face)
        .collect();
    eprintln!(
        "{} persons, {} faces from crops",
        persons.len(),
        faces.len()
    );
    assert!(!faces.is_empty(), "no face found on upper-body crops");
    for f in faces {
        assert!(
            persons
                .iter()
                .any(|p| PersonFaceDetector::face_region(&p.rect, 0.5).coverage_of(&f.rect) > 0.5),
            "{f:?} outside every crop"
        );
    }
}

#[test]
fn the_scan_finds_distant_walkers_the_coarse_pass_misses() {
    // vtest frame 200 shrunk to half and placed in a 1080p canvas: walkers 15-50 px tall,
    // as distant people are in a wide 1080p view. The old 416 px whole-frame pass finds
    // almost none of them; the scan's native-resolution tiles find most.
    let (Some(store), Some(video)) = (store(), shared_file("footage/vtest.avi")) else {
        return;
    };
    let small = frame_filtered(
        &video,
        200,
        "scale=384:288,pad=1920:1080:768:396:color=0x727272",
    );
    let reference = frame_of(&video, 200);
    let mut plain = YoloxDetector::person(&store, YoloxConfig::default()).unwrap();
    let walkers: Vec<_> = plain
        .detect(&reference)
        .unwrap()
        .into_iter()
        .filter(|d| d.score >= 0.4)
        .map(|d| d.rect)
        .collect();
    assert!(
        walkers.len() >= 7,
        "reference frame: {} walkers",
        walkers.len()
    );
    let in_canvas = |r: &obscura_core::Rect| {
        obscura_core::Rect::new(768.0 + r.x / 2.0, 396.0 + r.y / 2.0, r.w / 2.0, r.h / 2.0)
    };
    let found_by = |dets: &[obscura_core::Detection]| {
        walkers
            .iter()
            .filter(|w| dets.iter().any(|d| d.rect.iou(&in_canvas(w)) >= 0.3))
            .count()
    };
    let coarse = plain
        .detect_region_at(
            &small,
            obscura_detect::letterbox::full_region(&small),
            416.0 / 1920.0,
        )
        .unwrap();
    let mut scan = PersonScan::new(
        YoloxDetector::person(&store, YoloxConfig::default()).unwrap(),
        ScanConfig::default(),
    )
    .unwrap();
    let scanned = scan.detect(&small).unwrap();
    let (before, after) = (found_by(&coarse), found_by(&scanned));
    eprintln!(
        "distant walkers found: 416 px pass {before}, scan {after} of {}",
        walkers.len()
    );
    assert!(
        after >= walkers.len() - 1,
        "the scan found {after} of {} distant walkers",
        walkers.len()
    );
    assert!(
        after > before,
        "the scan ({after}) should find more than the 416 px pass ({before})"
    );
}

#[test]
fn recall_max_keeps_every_person_recall_high_finds_and_adds_tiny_ones() {
    // vtest frame 200 at a third of its size in a 1080p canvas: walkers 10-35 px tall.
    // `max` adds an upscaled pass to `high`'s tiles; merged by NMS, it may only add people.
    let (Some(store), Some(video)) = (store(), shared_file("footage/vtest.avi")) else {
        return;
    };
    let tiny = frame_filtered(
        &video,
        200,
        "scale=256:192,pad=1920:1080:832:444:color=0x727272",
    );
    let scan = |recall: obscura_detect::Recall| {
        let mut s = PersonScan::new(
            YoloxDetector::person(&store, YoloxConfig::default()).unwrap(),
            recall.scan(),
        )
        .unwrap();
        let dets = s.detect(&tiny).unwrap();
        (dets, s.fine_area().0)
    };
    let (high, high_area) = scan(obscura_detect::Recall::High);
    let (max, max_area) = scan(obscura_detect::Recall::Max);
    eprintln!("persons: high {}, max {}", high.len(), max.len());
    assert!(!high.is_empty(), "high found nobody");
    for h in &high {
        assert!(
            max.iter().any(|m| m.rect.iou(&h.rect) >= 0.5),
            "max lost {h:?} that high found"
        );
    }
    assert!(max.len() > high.len(), "max found no one more than high");
    // The upscaled pass (6 tiles at 1.5x) comes on top of the native one (2 tiles).
    assert!(max_area > high_area * 3, "{max_area} vs {high_area}");
}

#[test]
fn int8_person_model_finds_the_walkers_the_float_model_finds() {
    let (Some(store), Some(video)) = (store(), shared_file("footage/vtest.avi")) else {
        return;
    };
    if model_file("yolox_nano_int8.onnx").is_none() {
        return;
    }
    use obscura_detect::PersonModel;
    let load = |m: PersonModel| {
        YoloxDetector::person(
            &store,
            YoloxConfig {
                person_model: m,
                ..YoloxConfig::default()
            },
        )
        .unwrap()
    };
    let (mut float, mut int8) = (load(PersonModel::Float), load(PersonModel::Int8));
    assert_eq!(int8.models()[0].name, "yolox_nano_int8");
    let (mut strong, mut matched) = (0, 0);
    for (n, vf) in [(200, "null"), (600, "null"), (200, "scale=1920:1080")] {
        let frame = frame_filtered(&video, n, vf);
        let reference: Vec<_> = float
            .detect(&frame)
            .unwrap()
            .into_iter()
            .filter(|d| d.score >= 0.4)
            .collect();
        let found = int8.detect(&frame).unwrap();
        strong += reference.len();
        matched += reference
            .iter()
            .filter(|r| found.iter().any(|d| d.rect.iou(&r.rect) >= 0.5))
            .count();
    }
    eprintln!("int8 found {matched} of the float model's {strong} confident walkers");
    assert!(
        strong >= 15,
        "the float model found only {strong} confident walkers"
    );
    // Quantization moves scores and boxes a little; it must not lose confident people.
    assert!(
        matched * 100 >= strong * 95,
        "int8 found {matched} of {strong}"
    );
}

#[test]
fn silhouettes_fill_each_walkers_box_and_little_outside_it() {
    let (Some(store), Some(video)) = (store(), shared_file("footage/vtest.avi")) else {
        return;
    };
    model_file("pose_seg_lite.onnx").expect("the silhouette model (scripts/derive-models.sh)");
    // Frame 655: among others the red-jacket woman and a man walking past her side by side.
    let frame = frame_of(&video, 655);
    let mut det = YoloxDetector::person(&store, YoloxConfig::default()).unwrap();
    let walkers: Vec<obscura_core::Rect> = det
        .detect(&frame)
        .unwrap()
        .into_iter()
        .filter(|d| d.score >= 0.4 && d.rect.h >= 40.0)
        .map(|d| d.rect)
        .collect();
    assert!(walkers.len() >= 4, "{walkers:?}");
    let mut seg = obscura_detect::Segmenter::new(&store, Default::default()).unwrap();
    let sils = seg.segment(&frame, &walkers).unwrap();
    assert_eq!(sils.len(), walkers.len());
    for (r, s) in walkers.iter().zip(&sils) {
        // Cell centres inside the box, and outside the box grown by 15% per side.
        let (mut inside, mut on_inside, mut outside, mut on_outside) = (0, 0, 0, 0);
        let grown = r.dilate(0.15, 0.0);
        for row in 0..s.side {
            for col in 0..s.side {
                let (x, y) = (
                    s.x + (col as f32 + 0.5) * s.cell,
                    s.y + (row as f32 + 0.5) * s.cell,
                );
                let on = s.person[row * s.side + col];
                if r.contains_point(x, y) {
                    inside += 1;
                    on_inside += usize::from(on);
                } else if !grown.contains_point(x, y) {
                    outside += 1;
                    on_outside += usize::from(on);
                }
            }
        }
        let (fill, spill) = (
            on_inside as f64 / inside as f64,
            on_outside as f64 / outside as f64,
        );
        eprintln!(
            "box {:.0},{:.0} {:.0}x{:.0}: {:.0}% of the box, {:.1}% outside",
            r.x,
            r.y,
            r.w,
            r.h,
            fill * 100.0,
            spill * 100.0
        );
        assert!(
            (0.25..=0.9).contains(&fill),
            "box {r:?}: silhouette fills {fill:.2} of it"
        );
        assert!(
            spill <= 0.05,
            "box {r:?}: {spill:.3} of the crop outside it is marked"
        );
    }
}

#[test]
fn the_motion_gate_skips_a_still_scene_but_keeps_finding_its_people() {
    let (Some(store), Some(video)) = (store(), shared_file("footage/vtest.avi")) else {
        return;
    };
    let mut frame = frame_filtered(&video, 200, "scale=1920:1080");
    let mut scan = PersonScan::new(
        YoloxDetector::person(&store, YoloxConfig::default()).unwrap(),
        ScanConfig::default(),
    )
    .unwrap();
    let first = scan.detect(&frame).unwrap();
    assert!(first.len() >= 7, "first look: {} persons", first.len());
    let (cold, _) = scan.fine_area();
    // The same picture for 1.5 s of video at 8 detections a second: the fine pass rescans
    // only where it found people, and finds each of them again every time.
    for k in 1..=12 {
        frame.pts = Timestamp::from_millis(k * 125);
        let again = scan.detect(&frame).unwrap();
        for d in first.iter().filter(|d| d.score >= 0.4) {
            assert!(
                again.iter().any(|a| a.rect.iou(&d.rect) >= 0.5),
                "call {k}: lost the person at {:?}",
                d.rect
            );
        }
    }
    let (scanned, ungated) = scan.fine_area();
    let (warm, warm_ungated) = (scanned - cold, ungated - cold);
    eprintln!("fine pass on a still scene: {warm} of {warm_ungated} network pixels");
    assert!(
        warm * 10 <= warm_ungated * 8,
        "the gate scanned {warm} of {warm_ungated} pixels of a still scene"
    );
}
