//! Redaction of real footage with the real detectors (skipped when ../shared or the models
//! are absent): on the first 100 frames of vtest.avi, `keep_at` on one walker leaves that
//! walker's box as it was (where no one else overlaps it) and every other person box is
//! uniform black in the decoded output.

use std::path::Path;

use obscura_core::{Frame, ObjectClass, Rect};
use obscura_detect::models::ModelStore;
use obscura_media::{DecodeOptions, Decoder};
use obscura_pipeline::{AnalyseOptions, Policy, Redactor, Targets, builtin_detector};
use obscura_render::Style;
use obscura_track::TrackSet;

const FRAMES: u64 = 100;

fn available() -> Option<std::path::PathBuf> {
    obscura_testkit::model_file("yolox_nano_416.onnx")?;
    obscura_testkit::model_file("yunet_n_dynamic.onnx")?;
    obscura_testkit::shared_file("footage/vtest.avi")
}

fn redactor(policy: Policy) -> obscura_pipeline::RedactorBuilder {
    let store = ModelStore::discover().unwrap();
    let options = AnalyseOptions {
        hash_source: false,
        ..AnalyseOptions::default()
    };
    let det = builtin_detector(&store, Targets::ALL, &options.detector).unwrap();
    Redactor::builder()
        .detector(det)
        .analysis(options)
        .policy(policy)
        .max_frames(FRAMES)
}

fn decode(path: &Path) -> Vec<Frame> {
    Decoder::open(path, &DecodeOptions::default())
        .unwrap()
        .take(FRAMES as usize)
        .map(|f| f.unwrap())
        .collect()
}

/// Luma pixels of `r` shrunk by `inset` (whole pixels inside the frame).
fn pixels(f: &Frame, r: Rect, inset: f32) -> Vec<(u32, u32)> {
    let Some(p) = Rect::new(
        r.x + inset,
        r.y + inset,
        r.w - 2.0 * inset,
        r.h - 2.0 * inset,
    )
    .to_pixels(f.width, f.height) else {
        return Vec::new();
    };
    (p.y..p.bottom())
        .flat_map(|y| (p.x..p.right()).map(move |x| (x, y)))
        .collect()
}

fn luma(f: &Frame, (x, y): (u32, u32)) -> u8 {
    f.planes[0].row(y as usize)[x as usize]
}

/// The walker with the most detections among those live on frame 50, and the centre of its
/// box there.
fn pick_walker(set: &TrackSet) -> (u64, f32, f32) {
    let (t, b) = set
        .boxes_at(50)
        .into_iter()
        .filter(|(t, b)| t.class == ObjectClass::Person && !b.predicted && b.h > 60.0)
        .max_by_key(|(t, _)| (t.detections(), std::cmp::Reverse(t.id)))
        .expect("a walker on frame 50");
    let (cx, cy) = b.rect().center();
    (t.id, cx, cy)
}

#[test]
fn vtest_keep_at_one_walker_leaves_them_visible_and_blacks_out_everyone_else() {
    let Some(clip) = available() else { return };
    let dir = tempfile::tempdir().unwrap();
    let set = redactor(Policy::default())
        .build()
        .unwrap()
        .analyse(&clip)
        .unwrap();
    let (subject, cx, cy) = pick_walker(&set);
    let persons = set
        .tracks
        .iter()
        .filter(|t| t.class == ObjectClass::Person)
        .count();
    assert!(
        persons >= 5,
        "only {persons} person tracks in the first {FRAMES} frames"
    );

    let out = dir.path().join("vtest-redacted.mp4");
    let policy = Policy::builder().style(Style::fill()).build().unwrap();
    let at = format!("5.0@{cx},{cy}").parse().unwrap();
    let embedder = obscura_detect::reid::ReidEmbedder::new(
        &ModelStore::discover().unwrap(),
        Default::default(),
    )
    .unwrap();
    let rep = redactor(policy)
        .keep_at(at)
        .embedder(embedder)
        .build()
        .unwrap()
        .redact(&clip, &out)
        .unwrap();
    // The shown tracks include the walker's (others of theirs may be the same person under an
    // earlier id; the pixel checks below fail if anyone else is shown).
    assert!(
        rep.kept.contains(&subject),
        "keep-at picked another track: {:?}",
        rep.kept
    );
    assert!(rep.subject_frames > 0);
    assert_eq!(rep.frames, FRAMES);

    let (src, dst) = (decode(&clip), decode(&out));
    assert_eq!(dst.len(), FRAMES as usize);
    let (mut subject_frames, mut masked_boxes) = (0, 0);
    for (s, o) in src.iter().zip(&dst) {
        let boxes = set.boxes_at(o.index);
        let masked: Vec<Rect> = boxes
            .iter()
            .filter(|(t, _)| {
                !rep.kept.contains(&t.id) && !t.parent.is_some_and(|p| rep.kept.contains(&p))
            })
            .map(|(_, b)| b.rect())
            .collect();
        // The walker may be seen by several tracks over time (track ids are not people): the
        // shown boxes of the kept tracks on one frame must all be one person, in one place.
        let shown: Vec<Rect> = boxes
            .iter()
            .filter(|(t, b)| {
                t.class == ObjectClass::Person && rep.kept.contains(&t.id) && {
                    let px = pixels(o, b.rect(), 2.0);
                    px.len() >= 20
                        && (px.iter().filter(|p| luma(o, **p) <= 30).count() as f64)
                            < 0.97 * px.len() as f64
                }
            })
            .map(|(_, b)| b.rect())
            .collect();
        // A partial duplicate (the detector's second box on a part of the walker, at least half
        // inside the walker's box grown by the mask margin, as the redactor's duplicate test;
        // frame 15 of vtest: his left side with the cone beside him; frame 60: his head and
        // shoulder) is the same person. Others' pixels are checked below either way.
        let one = |a: &Rect, b: &Rect| {
            a.iou(b) >= 0.3
                || a.dilate(0.1, 6.0).coverage_of(b) >= 0.5
                || b.dilate(0.1, 6.0).coverage_of(a) >= 0.5
        };
        assert!(
            shown.iter().all(|a| shown.iter().all(|b| one(a, b))),
            "frame {}: two people shown: {shown:?}",
            o.index
        );
        // Every person box of a track never kept: uniform black inside (fill, then H.264 at CRF 20).
        for (t, b) in boxes
            .iter()
            .filter(|(t, _)| t.class == ObjectClass::Person && !rep.kept.contains(&t.id))
        {
            // Pixels inside the shown walker's box are left out: their own face stays visible
            // over a neighbour's body rectangle (face priority).
            let px: Vec<(u32, u32)> = pixels(o, b.rect(), 2.0)
                .into_iter()
                .filter(|(x, y)| {
                    !shown
                        .iter()
                        .any(|w| w.contains_point(*x as f32 + 0.5, *y as f32 + 0.5))
                })
                .collect();
            if px.len() < 20 {
                continue;
            }
            let dark = px.iter().filter(|p| luma(o, **p) <= 30).count() as f64 / px.len() as f64;
            let mean = px.iter().map(|p| f64::from(luma(o, *p))).sum::<f64>() / px.len() as f64;
            assert!(
                dark >= 0.97 && mean <= 22.0,
                "frame {}: person {} not masked ({:.0}% dark, mean {mean:.1})",
                o.index,
                t.id,
                dark * 100.0
            );
            masked_boxes += 1;
        }
        // The subject, where the per-frame check showed it: where no masked box (grown by the
        // margin) covers it, as in the source.
        // Boxes of the other kept tracks may be masked for uncertainty on this frame: the
        // subject's pixels under them are not counted either.
        let others: Vec<Rect> = boxes
            .iter()
            .filter(|(t, _)| t.id != subject && rep.kept.contains(&t.id))
            .map(|(_, b)| b.rect())
            .collect();
        if let Some((_, b)) = boxes.iter().find(|(t, _)| t.id == subject) {
            let px = pixels(o, b.rect(), 2.0);
            let shown =
                px.iter().filter(|p| luma(o, **p) > 30).count() as f64 / px.len().max(1) as f64;
            if shown < 0.5 {
                continue; // masked for uncertainty on this frame
            }
            let free: Vec<(u32, u32)> = pixels(o, b.rect(), 1.0)
                .into_iter()
                .filter(|(x, y)| {
                    !masked.iter().chain(&others).any(|m| {
                        m.dilate(0.1, 6.0)
                            .contains_point(*x as f32 + 0.5, *y as f32 + 0.5)
                    })
                })
                .collect();
            if free.len() as f32 >= 0.3 * b.w * b.h {
                let diff = free
                    .iter()
                    .map(|p| f64::from(luma(o, *p).abs_diff(luma(s, *p))))
                    .sum::<f64>()
                    / free.len() as f64;
                assert!(
                    diff < 8.0,
                    "frame {}: subject {subject} changed (mean difference {diff:.1})",
                    o.index
                );
                subject_frames += 1;
            }
        }
    }
    assert!(
        subject_frames >= 20,
        "the subject was checked on only {subject_frames} frames"
    );
    assert!(
        masked_boxes >= 200,
        "only {masked_boxes} masked person boxes checked"
    );
    eprintln!(
        "subject {subject}: visible on {subject_frames} frames; {masked_boxes} other person boxes black"
    );
}

#[test]
fn vtest_keep_like_finds_the_walker_of_a_reference_crop() {
    let Some(clip) = available() else { return };
    if obscura_testkit::model_file("person-reidentification-retail-0248.onnx").is_none() {
        return;
    }
    const N: u64 = 60;
    let dir = tempfile::tempdir().unwrap();
    let set = redactor(Policy::default())
        .max_frames(N)
        .build()
        .unwrap()
        .analyse(&clip)
        .unwrap();
    // The reference photo: the largest walker's box on the last frame (the one nearest the
    // camera: re-identification needs some pixels), cropped from the decoded frame.
    let (t, b) = set
        .boxes_at(N - 1)
        .into_iter()
        .filter(|(t, b)| t.class == ObjectClass::Person && !b.predicted && t.detections() >= 20)
        .max_by(|a, b| a.1.h.total_cmp(&b.1.h))
        .expect("a walker on the last frame");
    let frame = decode(&clip).into_iter().nth((N - 1) as usize).unwrap();
    let rgb = image::RgbImage::from_raw(frame.width, frame.height, frame.to_rgb24()).unwrap();
    let p = b.rect().to_pixels(frame.width, frame.height).unwrap();
    let crop = image::DynamicImage::ImageRgb8(
        image::imageops::crop_imm(&rgb, p.x, p.y, p.w, p.h).to_image(),
    );
    let photo = obscura_pipeline::subject::frame_from_image(&crop);

    let store = ModelStore::discover().unwrap();
    let embedder = obscura_detect::reid::ReidEmbedder::new(&store, Default::default()).unwrap();
    let like = obscura_pipeline::KeepLike {
        photo,
        embedder: Box::new(embedder),
        threshold: 0.6,
        crops_per_track: 4,
    };
    let out = dir.path().join("like.mp4");
    let rep = redactor(Policy::default())
        .max_frames(N)
        .keep_like(like)
        .build()
        .unwrap()
        .redact(&clip, &out)
        .unwrap_or_else(|e| panic!("walker {}: {e}", t.id));
    assert_eq!(rep.passes, 4);
    assert!(
        rep.kept.contains(&t.id),
        "walker {} not kept: {:?} {:?}",
        t.id,
        rep.kept,
        rep.matches
    );
    let best = &rep.matches[0];
    assert_eq!(rep.kept_identities, vec![best.track], "{:?}", rep.matches);
    assert!(
        rep.matches
            .iter()
            .skip(1)
            .all(|m| m.similarity < best.similarity - 0.2),
        "{:?}",
        rep.matches
    );
    assert!(out.exists());
}
