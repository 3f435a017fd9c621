//! Tracker behaviour: scenario tests and properties (proptest).

use std::collections::BTreeMap;

use obscura_core::{Detection, ObjectClass, Rational, Rect, Timestamp};
use obscura_track::*;
use proptest::prelude::*;

fn person(x: f32, y: f32, score: f32) -> Detection {
    Detection::new(Rect::new(x, y, 30.0, 80.0), score, ObjectClass::Person)
}

/// Runs `frames` frames; `dets(f)` gives the detections of a detection frame, `None` others.
fn run(
    config: TrackerConfig,
    frames: u64,
    dets: impl Fn(u64) -> Option<Vec<Detection>>,
) -> Vec<TrackUpdate> {
    let mut t = Tracker::new(config).unwrap();
    (0..frames)
        .map(|f| t.step(f, dets(f).as_deref()).unwrap())
        .collect()
}

#[test]
fn id_is_stable_through_a_short_occlusion_and_the_box_never_blinks_off() {
    // Walks right at 3 px/frame; hidden on frames 20..28 (8 frames < hold 15).
    let ups = run(TrackerConfig::default(), 50, |f| {
        Some(if (20..28).contains(&f) {
            vec![]
        } else {
            vec![person(3.0 * f as f32, 100.0, 0.9)]
        })
    });
    for u in &ups {
        assert_eq!(u.tracks.len(), 1, "frame {}: {:?}", u.frame, u.tracks);
        assert_eq!(u.tracks[0].id, 1, "frame {}", u.frame);
    }
    // During the occlusion the prediction keeps walking.
    let mid = &ups[24].tracks[0];
    assert_eq!(mid.source, BoxSource::Predicted);
    assert!((mid.rect.x - 72.0).abs() < 6.0, "{:?}", mid.rect);
    assert_eq!(ups[28].tracks[0].source, BoxSource::Detected);
}

#[test]
fn lost_track_is_held_for_hold_frames_then_dropped_and_ids_are_not_reused() {
    let cfg = TrackerConfig {
        hold_frames: 5,
        max_lost_frames: 10,
        ..TrackerConfig::default()
    };
    let ups = run(cfg, 40, |f| {
        Some(if f == 0 || f == 30 {
            vec![person(10.0, 10.0, 0.9)]
        } else {
            vec![]
        })
    });
    let live: Vec<u64> = ups
        .iter()
        .filter(|u| !u.tracks.is_empty())
        .map(|u| u.frame)
        .collect();
    assert_eq!(live, [0, 1, 2, 3, 4, 5, 30, 31, 32, 33, 34, 35]);
    assert_eq!(ups[0].tracks[0].id, 1);
    // Same place, but after max_lost_frames: a new id, never the old one.
    assert_eq!(ups[30].tracks[0].id, 2);
}

#[test]
fn every_nth_frame_detection_gives_predicted_boxes_between_and_exact_interpolation_in_the_set() {
    let truth = |f: u64| 5.0 + 2.5 * f as f32;
    let n = 4;
    let ups = run(TrackerConfig::default(), 41, |f| {
        (f % n == 0).then(|| vec![person(truth(f), 50.0, 0.9)])
    });
    let mut b = TrackSetBuilder::new();
    for u in &ups {
        assert_eq!(u.tracks.len(), 1, "frame {}", u.frame);
        let r = &u.tracks[0];
        assert_eq!(r.source == BoxSource::Detected, u.frame % n == 0);
        if u.frame > 12 {
            assert!(
                (r.rect.x - truth(u.frame)).abs() < 4.0,
                "frame {} x {} vs {}",
                u.frame,
                r.rect.x,
                truth(u.frame)
            );
        }
        b.push(
            u,
            Timestamp::new(u.frame as i64, Rational::new(1, 10).unwrap()),
        );
    }
    let set = b.finish(source(), settings(n as u32), Rational::new(1, 10).unwrap());
    let t = &set.tracks[0];
    assert_eq!((t.first_frame, t.last_frame, t.boxes.len()), (0, 40, 41));
    for bx in &t.boxes {
        assert!(
            (bx.x - truth(bx.frame)).abs() < 1e-3,
            "frame {}: {} vs {}",
            bx.frame,
            bx.x,
            truth(bx.frame)
        );
        assert_eq!(bx.predicted, bx.frame % n != 0);
        assert_eq!(bx.pts_ticks, bx.frame as i64);
    }
    assert!((t.last_pts - 4.0).abs() < 1e-9);
}

#[test]
fn lead_in_gives_a_track_its_first_box_on_the_frames_before_it() {
    let mut t = Tracker::new(TrackerConfig::default()).unwrap();
    let mut b = TrackSetBuilder::new().with_lead_in(3);
    for f in 0..10u64 {
        let dets = if f >= 5 {
            vec![person(100.0, 50.0, 0.9)]
        } else {
            vec![]
        };
        b.push(
            &t.step(f, Some(&dets)).unwrap(),
            Timestamp::new(f as i64, Rational::new(1, 10).unwrap()),
        );
    }
    let set = b.finish(source(), settings(1), Rational::new(1, 10).unwrap());
    let tr = &set.tracks[0];
    assert_eq!((tr.first_frame, tr.last_frame), (2, 9));
    assert!(tr.boxes[..3].iter().all(|x| x.predicted && x.x == 100.0));
    assert!(!tr.boxes[3].predicted);
}

#[test]
fn low_score_detections_extend_tracks_but_do_not_start_them() {
    let ups = run(TrackerConfig::default(), 6, |f| {
        Some(match f {
            0..=2 => vec![person(100.0 + f as f32, 100.0, 0.9)],
            _ => vec![
                person(100.0 + f as f32, 100.0, 0.11),
                person(400.0, 100.0, 0.11),
            ],
        })
    });
    let last = &ups[5].tracks;
    assert_eq!(last.len(), 1, "{last:?}");
    assert_eq!(
        (last[0].id, last[0].detection_index, last[0].source),
        (1, Some(0), BoxSource::Detected)
    );
}

#[test]
fn a_lost_track_is_re_found_by_a_weaker_detection_under_its_old_id() {
    // Strong for 10 frames, missed for 4, then back at a score below high_score (0.35).
    let ups = run(TrackerConfig::default(), 20, |f| {
        Some(match f {
            0..=9 => vec![person(2.0 * f as f32, 50.0, 0.9)],
            10..=13 => vec![],
            _ => vec![person(2.0 * f as f32, 50.0, 0.35)],
        })
    });
    assert!(
        ups.iter()
            .all(|u| u.tracks.len() == 1 && u.tracks[0].id == 1),
        "{:?}",
        ups.last()
    );
    assert_eq!(ups[15].tracks[0].source, BoxSource::Detected);
}

#[test]
fn every_fifth_frame_fast_walker_keeps_one_id() {
    // 6 px/frame, 30 px wide: detections 30 px apart do not overlap without the buffer.
    let ups = run(TrackerConfig::default(), 60, |f| {
        (f % 5 == 0).then(|| vec![person(6.0 * f as f32, 50.0, 0.8)])
    });
    assert!(
        ups.iter()
            .all(|u| u.tracks.len() == 1 && u.tracks[0].id == 1)
    );
}

#[test]
fn faces_are_linked_to_the_person_that_contains_them() {
    let face = |x: f32| {
        Detection::new(
            Rect::new(x + 8.0, 102.0, 14.0, 16.0),
            0.8,
            ObjectClass::Face,
        )
    };
    let ups = run(TrackerConfig::default(), 3, |_| {
        Some(vec![
            person(0.0, 100.0, 0.9),
            person(200.0, 100.0, 0.9),
            face(200.0),
            face(0.0),
        ])
    });
    let u = &ups[2];
    let by_id: BTreeMap<_, _> = u.tracks.iter().map(|t| (t.id, t)).collect();
    assert_eq!(by_id[&3].class, ObjectClass::Face);
    assert_eq!(by_id[&3].parent, Some(2));
    assert_eq!(by_id[&4].parent, Some(1));
    assert_eq!(by_id[&1].parent, None);
    // detection_index points back into the input.
    assert_eq!(by_id[&3].detection_index, Some(2));
    assert_eq!(by_id[&4].detection_index, Some(3));
}

#[test]
fn frames_must_increase_and_bad_config_is_refused() {
    let mut t = Tracker::new(TrackerConfig::default()).unwrap();
    t.step(5, None).unwrap();
    assert!(t.step(5, None).is_err());
    assert!(
        Tracker::new(TrackerConfig {
            hold_frames: 40,
            max_lost_frames: 30,
            ..TrackerConfig::default()
        })
        .is_err()
    );
    assert!(
        Tracker::new(TrackerConfig {
            low_score: 0.9,
            ..TrackerConfig::default()
        })
        .is_err()
    );
}

#[test]
fn custom_id_generator_is_used() {
    let mut t = Tracker::with_ids(
        TrackerConfig::default(),
        Box::new(SequentialIds::starting_at(1000)),
    )
    .unwrap();
    let u = t
        .step(0, Some(&[person(0.0, 0.0, 0.9), person(300.0, 0.0, 0.9)]))
        .unwrap();
    assert_eq!(
        u.tracks.iter().map(|t| t.id).collect::<Vec<_>>(),
        [1000, 1001]
    );
}

#[test]
fn trackset_json_round_trips_with_the_documented_shape() {
    let ups = run(TrackerConfig::default(), 3, |f| {
        Some(vec![person(10.0 * f as f32, 0.0, 0.9)])
    });
    let mut b = TrackSetBuilder::new();
    for u in &ups {
        b.push(
            u,
            Timestamp::new(u.frame as i64 * 3, Rational::new(1, 30).unwrap()),
        );
    }
    let set = b.finish(source(), settings(1), Rational::new(1, 30).unwrap());
    let v: serde_json::Value = serde_json::to_value(&set).unwrap();
    let t = &v["tracks"][0];
    assert_eq!(t["id"], 1);
    assert_eq!(t["class"], "person");
    assert_eq!(t["boxes"][1]["frame"], 1);
    assert!((t["boxes"][1]["pts"].as_f64().unwrap() - 0.1).abs() < 1e-9);
    assert_eq!(t["boxes"][1]["pts_ticks"], 3);
    assert_eq!(t["boxes"][1]["predicted"], false);
    for k in ["x", "y", "w", "h", "score"] {
        assert!(t["boxes"][0][k].is_number(), "{k}");
    }
    let back: TrackSet = serde_json::from_value(v).unwrap();
    assert_eq!(back, set);
    assert_eq!(set.boxes_at(2).len(), 1);
    assert_eq!(set.tracks[0].best_box().unwrap().frame, 0);
}

fn source() -> SourceInfo {
    SourceInfo {
        path: "test.mp4".into(),
        sha256: None,
        width: 640,
        height: 480,
        frames: 41,
        time_base: "1/10".into(),
        fps: 10.0,
    }
}

fn settings(every: u32) -> AnalysisSettings {
    AnalysisSettings {
        every,
        targets: vec![ObjectClass::Person],
        tracker: TrackerConfig::default(),
        thresholds: BTreeMap::new(),
        models: vec![],
    }
}

/// Random scenes: a few walkers with random start, velocity, visibility and scores, plus
/// clutter; detection every `every` frames.
fn scene() -> impl Strategy<Value = (Vec<Vec<Detection>>, u64)> {
    let walker = (
        0f32..600.0,
        0f32..400.0,
        -6f32..6.0,
        -3f32..3.0,
        0u64..40,
        5u64..60,
        0.05f32..1.0,
    );
    (
        prop::collection::vec(walker, 0..6),
        prop::collection::vec((0f32..600.0, 0f32..400.0, 0.0f32..1.0, 0u64..60), 0..8),
        1u64..5,
    )
        .prop_map(|(walkers, clutter, every)| {
            let frames = 60;
            let mut per: Vec<Vec<Detection>> = vec![Vec::new(); frames];
            for (f, slot) in per.iter_mut().enumerate() {
                let f = f as u64;
                for &(x, y, vx, vy, start, len, score) in &walkers {
                    // Flickering visibility: skip when (f * 7 + start) % 5 == 0.
                    if f >= start && f < start + len && !(f * 7 + start).is_multiple_of(5) {
                        slot.push(person(x + vx * f as f32, y + vy * f as f32, score));
                    }
                }
                for &(x, y, s, at) in &clutter {
                    if at == f {
                        slot.push(Detection::new(
                            Rect::new(x, y, 20.0, 20.0),
                            s,
                            if at % 2 == 0 {
                                ObjectClass::Person
                            } else {
                                ObjectClass::Face
                            },
                        ));
                    }
                }
            }
            (per, every)
        })
}

fn run_scene(per: &[Vec<Detection>], every: u64, cfg: TrackerConfig) -> Vec<TrackUpdate> {
    let mut t = Tracker::new(cfg).unwrap();
    per.iter()
        .enumerate()
        .map(|(f, d)| {
            t.step(
                f as u64,
                (f as u64).is_multiple_of(every).then_some(d.as_slice()),
            )
            .unwrap()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn same_input_same_tracks((per, every) in scene()) {
        let a = run_scene(&per, every, TrackerConfig::default());
        let b = run_scene(&per, every, TrackerConfig::default());
        prop_assert_eq!(a, b);
    }

    #[test]
    fn ids_are_never_reused_and_tracks_never_come_back_after_max_lost((per, every) in scene(), hold in 0u32..10) {
        let cfg = TrackerConfig { hold_frames: hold, max_lost_frames: hold + 5, ..TrackerConfig::default() };
        let ups = run_scene(&per, every, cfg);
        let mut last_seen: BTreeMap<TrackId, u64> = BTreeMap::new();
        let mut max_id = 0;
        for u in &ups {
            for t in &u.tracks {
                match last_seen.get(&t.id) {
                    None => { prop_assert!(t.id > max_id, "new track {} not above {}", t.id, max_id); max_id = t.id; }
                    Some(&prev) => prop_assert!(u.frame - prev <= u64::from(cfg.max_lost_frames) + 1, "track {} came back after {} frames", t.id, u.frame - prev),
                }
                last_seen.insert(t.id, u.frame);
            }
        }
    }

    #[test]
    fn every_confident_detection_is_reported_and_held((per, every) in scene(), hold in 0u32..10) {
        let cfg = TrackerConfig { hold_frames: hold, max_lost_frames: hold + 5, ..TrackerConfig::default() };
        let ups = run_scene(&per, every, cfg);
        for (f, u) in ups.iter().enumerate() {
            let mut seen = Vec::new();
            for t in &u.tracks {
                if let Some(d) = t.detection_index {
                    prop_assert_eq!(t.source, BoxSource::Detected);
                    prop_assert_eq!(t.rect, per[f][d].rect);
                    prop_assert_eq!(t.class, per[f][d].class);
                    prop_assert!(!seen.contains(&d));
                    seen.push(d);
                }
            }
            if (f as u64).is_multiple_of(every) {
                for (d, det) in per[f].iter().enumerate() {
                    if det.score >= cfg.new_track_score {
                        prop_assert!(seen.contains(&d), "frame {}: detection {} ({:?}) has no track", f, d, det);
                    }
                }
            }
            // Hold: a track detected here is reported on each of the next `hold` frames.
            for t in u.tracks.iter().filter(|t| t.source == BoxSource::Detected) {
                for later in ups.iter().skip(f + 1).take(hold as usize) {
                    prop_assert!(later.tracks.iter().any(|x| x.id == t.id), "track {} blinked off on frame {}", t.id, later.frame);
                }
            }
        }
    }
}

#[test]
fn a_person_found_only_in_part_keeps_the_extent_of_the_track() {
    // A walker 30x80 px detected every 3rd frame; on frame 30 only the upper half is found
    // (the legs lost against the floor), from frame 33 on the whole body again.
    let tall = |f: u64| Rect::new(2.0 * f as f32, 100.0, 30.0, 80.0);
    let dets = |f: u64| {
        f.is_multiple_of(3).then(|| {
            let r = tall(f);
            let r = if f == 30 {
                Rect::new(r.x, r.y, r.w, 40.0)
            } else {
                r
            };
            vec![Detection::new(r, 0.9, ObjectClass::Person)]
        })
    };
    let ups = run(TrackerConfig::default(), 40, dets);
    let at30 = &ups[30].tracks[0];
    assert_eq!((at30.id, at30.source), (1, BoxSource::Detected));
    // The mask covers the whole walker, feet included, not just the half found.
    assert!(at30.rect.coverage_of(&tall(30)) > 0.97, "{:?}", at30.rect);
    assert!(
        at30.rect.bottom() >= tall(30).bottom() - 1.0,
        "{:?}",
        at30.rect
    );
    // Growing back is reported as detected.
    assert_eq!(ups[33].tracks[0].rect, tall(33));
    // 0 reports the detection as it is.
    let cfg = TrackerConfig {
        shrink_floor: 0.0,
        ..TrackerConfig::default()
    };
    assert_eq!(run(cfg, 31, dets)[30].tracks[0].rect.h, 40.0);
}

#[test]
fn a_track_found_again_after_a_loss_takes_the_new_box_as_it_is() {
    // Lost on frames 3..12 (no detections), then found again half as tall: no earlier extent
    // is carried over a loss, where the prediction has drifted.
    let ups = run(TrackerConfig::default(), 13, |f| {
        Some(match f {
            0..=2 => vec![person(10.0, 10.0, 0.9)],
            12 => vec![Detection::new(
                Rect::new(10.0, 10.0, 30.0, 40.0),
                0.9,
                ObjectClass::Person,
            )],
            _ => vec![],
        })
    });
    let again = &ups[12].tracks[0];
    assert_eq!((again.id, again.rect.h), (1, 40.0));
}
