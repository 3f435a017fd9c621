//! `analyse` over real footage (skipped with a message when ../shared or the models are absent).

use obscura_core::ObjectClass;
use obscura_detect::models::ModelStore;
use obscura_pipeline::{AnalyseOptions, Targets, analyse, builtin_detector};
use obscura_testkit::{model_file, shared_file};

fn store() -> Option<ModelStore> {
    let m = model_file("yolox_nano_416.onnx")?;
    model_file("yunet_n_dynamic.onnx")?;
    Some(ModelStore::new(m.parent().unwrap()).unwrap())
}

#[test]
fn gif_gives_person_and_face_tracks_with_a_box_on_every_live_frame() {
    let (Some(store), Some(gif)) = (
        store(),
        shared_file("footage/intel_face-demographics-walking.gif"),
    ) else {
        return;
    };
    let opts = AnalyseOptions::default();
    let mut det = builtin_detector(&store, Targets::ALL, &opts.detector).unwrap();
    let mut calls = Vec::new();
    let set = analyse(&gif, det.as_mut(), &opts, |done, total| {
        calls.push((done, total))
    })
    .unwrap();
    assert_eq!(set.source.frames, 35);
    assert_eq!(calls.last().unwrap().0, 35);
    assert_eq!((set.source.width, set.source.height), (480, 270));
    let persons = set
        .tracks
        .iter()
        .filter(|t| t.class == ObjectClass::Person)
        .count();
    let faces: Vec<_> = set
        .tracks
        .iter()
        .filter(|t| t.class == ObjectClass::Face)
        .collect();
    eprintln!("{persons} person tracks, {} face tracks", faces.len());
    assert!(persons >= 1 && !faces.is_empty());
    assert!(
        faces.iter().any(|f| f.parent.is_some()),
        "no face linked to a person"
    );
    for t in &set.tracks {
        // One box per frame from first to last: a mask never blinks off.
        let frames: Vec<u64> = t.boxes.iter().map(|b| b.frame).collect();
        assert_eq!(
            frames,
            (t.first_frame..=t.last_frame).collect::<Vec<_>>(),
            "track {}",
            t.id
        );
        assert!(t.boxes.windows(2).all(|w| w[0].pts < w[1].pts));
    }
    let names: Vec<_> = set
        .settings
        .models
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(names, ["yolox_nano_416", "yunet_n_dynamic"]);
    assert_eq!(set.source.sha256.as_deref().map(str::len), Some(64));
}

#[test]
fn vtest_every_fifth_frame_tracks_the_walkers() {
    let (Some(store), Some(video)) = (store(), shared_file("footage/vtest.avi")) else {
        return;
    };
    let opts = AnalyseOptions {
        every: 5,
        targets: Targets {
            person: true,
            face: false,
        },
        ..AnalyseOptions::default()
    };
    let mut det = builtin_detector(&store, opts.targets, &opts.detector).unwrap();
    let set = analyse(&video, det.as_mut(), &opts, |_, _| {}).unwrap();
    assert_eq!(set.source.frames, 795);
    assert!(set.tracks.iter().all(|t| t.class == ObjectClass::Person));
    let long: Vec<_> = set.tracks.iter().filter(|t| t.detections() >= 20).collect();
    eprintln!(
        "{} tracks, {} with >= 20 detections",
        set.tracks.len(),
        long.len()
    );
    assert!(long.len() >= 5, "expected the ~7 walkers as long tracks");
    // Frame 200 has ~8 walkers: each has a box there (detected or interpolated).
    assert!(
        set.boxes_at(200).len() >= 7,
        "{} boxes on frame 200",
        set.boxes_at(200).len()
    );
    assert!(
        set.boxes_at(202).len() >= 7,
        "{} boxes on frame 202 (between detections)",
        set.boxes_at(202).len()
    );
}

#[test]
fn bad_settings_and_missing_files_are_errors() {
    let Some(store) = store() else { return };
    let opts = AnalyseOptions {
        every: 0,
        ..AnalyseOptions::default()
    };
    let mut det = builtin_detector(&store, Targets::ALL, &opts.detector).unwrap();
    let e = analyse(
        std::path::Path::new("/nonexistent.mp4"),
        det.as_mut(),
        &opts,
        |_, _| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("every"), "{e}");
    let e = analyse(
        std::path::Path::new("/nonexistent.mp4"),
        det.as_mut(),
        &AnalyseOptions::default(),
        |_, _| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("/nonexistent.mp4"), "{e}");
    assert!(Targets::parse("person,dog").is_err());
    assert_eq!(
        Targets::parse("face").unwrap(),
        Targets {
            person: false,
            face: true
        }
    );
}
