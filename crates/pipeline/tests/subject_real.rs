//! Keeping a person on real footage (skipped with SKIP: when ../shared or the models are
//! absent; a failure under CI=true): `intel_face-demographics-walking.gif`, a woman and a man
//! walking side by side toward the camera. Kept with a point on the woman, the man (always the
//! person on the right, found by position, not by any track id) is masked on every frame, and
//! the woman is visible on at least 90% of the frames where the detector finds her.

use obscura_core::{Frame, ObjectClass, Rect};
use obscura_detect::models::ModelStore;
use obscura_media::{DecodeOptions, Decoder};
use obscura_pipeline::policy::parse_style;
use obscura_pipeline::{AnalyseOptions, Policy, Redactor, Targets, builtin_detector};

fn available() -> Option<std::path::PathBuf> {
    obscura_testkit::model_file("yolox_nano_416.onnx")?;
    obscura_testkit::model_file("yunet_n_dynamic.onnx")?;
    obscura_testkit::model_file("person-reidentification-retail-0248.onnx")?;
    obscura_testkit::model_file("pose_seg_lite.onnx")?;
    obscura_testkit::shared_file("footage/intel_face-demographics-walking.gif")
}

fn decode(path: &std::path::Path) -> Vec<Frame> {
    Decoder::open(path, &DecodeOptions::default())
        .unwrap()
        .map(|f| f.unwrap())
        .collect()
}

/// Share of `r`'s pixels painted the fill colour #FF00FF (its chroma: U and V both high).
fn magenta_share(f: &Frame, r: Rect) -> f64 {
    let Some(p) = r.to_pixels(f.width, f.height) else {
        return 0.0;
    };
    let (mut n, mut m) = (0u64, 0u64);
    for y in p.y..p.bottom() {
        for x in p.x..p.right() {
            let (u, v) = (
                f.planes[1].row(y as usize / 2)[x as usize / 2],
                f.planes[2].row(y as usize / 2)[x as usize / 2],
            );
            n += 1;
            m += u64::from(u > 170 && v > 180);
        }
    }
    m as f64 / n.max(1) as f64
}

#[test]
fn side_by_side_the_kept_woman_stays_visible_and_the_man_never_shows() {
    let Some(clip) = available() else {
        eprintln!("SKIP: shared footage or models absent");
        return;
    };
    let store = ModelStore::discover().unwrap();
    let options = AnalyseOptions {
        hash_source: false,
        ..AnalyseOptions::default()
    };
    let build = |policy: Policy| {
        let det = builtin_detector(&store, Targets::ALL, &options.detector).unwrap();
        let emb = obscura_detect::reid::ReidEmbedder::new(&store, Default::default()).unwrap();
        Redactor::builder()
            .detector(det)
            .analysis(options.clone())
            .policy(policy)
            .embedder(emb)
            .segmenter(obscura_detect::Segmenter::new(&store, Default::default()).unwrap())
    };
    let set = build(Policy::default())
        .build()
        .unwrap()
        .analyse(&clip)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("kept.mp4");
    let policy = Policy::builder()
        .style(parse_style("fill:#FF00FF").unwrap())
        .build()
        .unwrap();
    // The woman is the left person at 2 s (frame 20), around x=220.
    let rep = build(policy)
        .keep_at("2@220,150".parse().unwrap())
        .build()
        .unwrap()
        .redact(&clip, &out)
        .unwrap();
    assert_eq!(rep.kept_identities.len(), 1, "{rep:?}");
    let (src, dst) = (decode(&clip), decode(&out));
    assert_eq!(src.len(), dst.len());
    let (mut her_frames, mut her_visible, mut man_frames) = (0, 0, 0);
    for (s, o) in src.iter().zip(&dst) {
        // Detected person boxes on this frame, left to right: the woman, then the man.
        let mut persons: Vec<Rect> = set
            .boxes_at(s.index)
            .into_iter()
            .filter(|(t, b)| t.class == ObjectClass::Person && !b.predicted && b.h > 60.0)
            .map(|(_, b)| b.rect())
            .collect();
        persons.sort_by(|a, b| a.center().0.total_cmp(&b.center().0));
        if persons.len() == 2 && persons[0].iou(&persons[1]) < 0.3 {
            let man = persons[1];
            // His box outside hers: fully masked.
            let outside = Rect::new(
                man.x.max(persons[0].right()),
                man.y,
                man.right() - man.x.max(persons[0].right()),
                man.h,
            );
            let share = magenta_share(o, outside);
            assert!(
                share >= 0.95,
                "frame {}: the man is only {:.0}% masked",
                s.index,
                share * 100.0
            );
            man_frames += 1;
        }
        if let Some(her) = persons.first().filter(|_| persons.len() == 2) {
            her_frames += 1;
            if magenta_share(o, *her) <= 0.5 {
                her_visible += 1;
            }
        }
    }
    assert!(
        man_frames >= 25,
        "the man was checked on only {man_frames} frames"
    );
    assert!(
        her_visible * 10 >= her_frames * 9,
        "the woman is visible on {her_visible} of {her_frames} frames"
    );
    eprintln!("woman visible on {her_visible} of {her_frames} frames; man masked on {man_frames}");
}

/// Her box on hand-checked key frames of vtest.avi (`benches/subject-vtest-keys.txt`, plus 687:
/// she steps out from behind the lamp post, 24 px right of her last box, where the chain
/// alone loses her; `/work/coord/subject-pics/vtest-crossing-f683-690-crop.png`), as frames
/// of the excerpt that starts at source frame [`EXCERPT`]`.0`.
const VTEST_KEYS: &[(u64, [f32; 4])] = &[
    (470, [458.0, 215.0, 27.0, 87.0]),
    (559, [84.0, 171.0, 33.0, 73.0]),
    (607, [1.0, 186.0, 16.0, 67.0]),
    (687, [429.0, 147.0, 17.0, 56.0]),
    (750, [660.0, 115.0, 30.0, 65.0]),
];
/// Source frames of vtest.avi the test redacts: the whole file (the red-jacket woman enters
/// at the right edge at 42 s, walks to the left edge, out and back in, past and near other
/// walkers, to the end). A 240-frame excerpt (400-640) gave the tracker too little context:
/// she was visible on only 130 of 147 frames there.
const EXCERPT: (u64, u64) = (0, 795);

/// Her box on each frame of the excerpt, from the detector's boxes: from each key frame, the
/// box of greatest IoU (>= 0.35, moved by her recent motion) frame by frame forwards and
/// backwards to the neighbouring key frames (and backwards from the first to the start),
/// bridging up to 15 frames. `Some(None)`: the two
/// directions disagree, or one direction only and another box overlaps hers (ambiguous: not
/// counted); absent: she is not found.
fn her_boxes(
    dets: &std::collections::BTreeMap<u64, Vec<Rect>>,
    keys: &[(u64, Rect)],
    frames: u64,
) -> std::collections::BTreeMap<u64, Option<Rect>> {
    let follow = |boxes: &[Rect], r: &Rect, min: f32| {
        boxes
            .iter()
            .map(|b| (b.iou(r), *b))
            .filter(|(i, _)| *i >= min)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, b)| b)
    };
    let chain = |start: Rect, order: Vec<u64>| {
        let mut out = std::collections::BTreeMap::new();
        let (mut cur, mut vel, mut misses) = (start, (0.0f32, 0.0f32), 0u32);
        for f in order {
            let k = (misses + 1) as f32;
            let guess = Rect::new(cur.x + vel.0 * k, cur.y + vel.1 * k, cur.w, cur.h);
            match dets
                .get(&f)
                .and_then(|b| follow(b, &guess, if misses == 0 { 0.35 } else { 0.25 }))
            {
                Some(b) => {
                    let (c0, c1) = (cur.center(), b.center());
                    vel = (
                        0.7 * vel.0 + 0.3 * (c1.0 - c0.0) / k,
                        0.7 * vel.1 + 0.3 * (c1.1 - c0.1) / k,
                    );
                    out.insert(f, b);
                    (cur, misses) = (b, 0);
                }
                None if misses >= 15 => break,
                None => misses += 1,
            }
        }
        out
    };
    let mut out = std::collections::BTreeMap::new();
    let crowded = |f: u64, a: &Rect| {
        dets.get(&f)
            .is_some_and(|b| b.iter().any(|o| o.iou(a) < 0.9 && o.iou(a) > 0.2))
    };
    // Before the first key frame: backwards only (ambiguous where another box overlaps hers).
    if let Some((kf, kr)) = keys.first() {
        let start = dets.get(kf).and_then(|b| follow(b, kr, 0.3)).unwrap_or(*kr);
        for (f, a) in chain(start, (0..*kf).rev().collect()) {
            out.insert(f, (!crowded(f, &a)).then_some(a));
        }
    }
    for (i, (kf, kr)) in keys.iter().enumerate() {
        let start = dets.get(kf).and_then(|b| follow(b, kr, 0.3)).unwrap_or(*kr);
        out.insert(*kf, Some(start));
        let end = keys.get(i + 1).map(|k| k.0);
        let fwd = chain(start, ((kf + 1)..end.unwrap_or(frames)).collect());
        let bwd = match end {
            Some(e) => chain(
                dets.get(&e)
                    .and_then(|b| follow(b, &keys[i + 1].1, 0.3))
                    .unwrap_or(keys[i + 1].1),
                ((kf + 1)..e).rev().collect(),
            ),
            None => Default::default(),
        };
        for f in (kf + 1)..end.unwrap_or(frames) {
            let s = match (fwd.get(&f), bwd.get(&f), end) {
                (Some(a), Some(b), _) if a.iou(b) >= 0.7 => Some(*a),
                (Some(_), Some(_), _) => None,
                (Some(a), None, None) => Some(*a),
                (Some(a), None, Some(_)) | (None, Some(a), Some(_)) => {
                    (!crowded(f, a)).then_some(*a)
                }
                _ => continue,
            };
            out.insert(f, s);
        }
    }
    out
}

#[test]
fn vtest_red_jacket_kept_by_a_point_no_one_else_shows_and_she_is_mostly_visible() {
    let Some(source) = available().and_then(|_| obscura_testkit::shared_file("footage/vtest.avi"))
    else {
        eprintln!("SKIP: shared footage or models absent");
        return;
    };
    // The excerpt, re-encoded losslessly (the detector sees the source's pixels).
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("excerpt.mp4");
    {
        let mut dec = Decoder::open(&source, &DecodeOptions::default()).unwrap();
        let tb = obscura_core::Rational::new(1, 10).unwrap();
        let spec = obscura_media::VideoSpec {
            width: 768,
            height: 576,
            time_base: tb,
            frame_rate: Some(obscura_core::Rational::new(10, 1).unwrap()),
            creation_time: None,
        };
        let settings = obscura_media::EncoderSettings::builder()
            .crf(0)
            .preset(obscura_media::Preset::Ultrafast)
            .build()
            .unwrap();
        let mut enc = obscura_media::Encoder::create(&clip, &spec, &settings).unwrap();
        while let Some(mut f) = dec.next_frame().unwrap() {
            if f.index >= EXCERPT.1 {
                break;
            }
            if f.index >= EXCERPT.0 {
                f.index -= EXCERPT.0;
                f.pts = obscura_core::Timestamp::new(f.index as i64, tb);
                enc.write(&f).unwrap();
            }
        }
        enc.finish().unwrap();
    }
    let store = ModelStore::discover().unwrap();
    let options = AnalyseOptions {
        hash_source: false,
        ..AnalyseOptions::default()
    };
    let det = builtin_detector(&store, Targets::ALL, &options.detector).unwrap();
    let emb = obscura_detect::reid::ReidEmbedder::new(&store, Default::default()).unwrap();
    let policy = Policy::builder()
        .style(parse_style("fill:#FF00FF").unwrap())
        .build()
        .unwrap();
    let out = dir.path().join("kept.mp4");
    // The point of `benches/subject.sh`: 47 s @ 470,250 in the source.
    let mut r = Redactor::builder()
        .detector(det)
        .analysis(options)
        .policy(policy)
        .embedder(emb)
        .segmenter(obscura_detect::Segmenter::new(&store, Default::default()).unwrap())
        .keep_at("47@470,250".parse().unwrap())
        .build()
        .unwrap();
    let rep = r.redact(&clip, &out).unwrap();
    assert_eq!(rep.kept_identities.len(), 1, "{rep:?}");
    // The reference: the detector's boxes of the same analysis (boxes only, never the ids).
    let set = r.analyse(&clip).unwrap();
    let mut dets: std::collections::BTreeMap<u64, Vec<Rect>> = Default::default();
    for t in set.tracks.iter().filter(|t| t.class == ObjectClass::Person) {
        for b in t.boxes.iter().filter(|b| !b.predicted) {
            dets.entry(b.frame).or_default().push(b.rect());
        }
    }
    let keys: Vec<(u64, Rect)> = VTEST_KEYS
        .iter()
        .map(|(f, [x, y, w, h])| (f - EXCERPT.0, Rect::new(*x, *y, *w, *h)))
        .collect();
    let hers = her_boxes(&dets, &keys, EXCERPT.1 - EXCERPT.0);
    let (src, dst) = (decode(&clip), decode(&out));
    assert_eq!(src.len(), dst.len());
    let (mut her_frames, mut her_visible, mut bystanders) = (0u32, 0u32, 0u32);
    let mut hidden: Vec<u64> = Vec::new();
    for o in &dst {
        let her = hers.get(&o.index).copied();
        for d in dets.get(&o.index).map(Vec::as_slice).unwrap_or(&[]) {
            // Not her (nor a box that may be hers): masked outside her box.
            if matches!(her, Some(None)) || her.flatten().is_some_and(|h| h.iou(d) >= 0.3) {
                continue;
            }
            let outside: Vec<Rect> = match her.flatten() {
                // Its columns left and right of her box, where the two meet.
                Some(h) if d.intersection(&h).is_some() => {
                    let x1 = d.x.max(h.right());
                    [
                        Rect::new(d.x, d.y, (d.right().min(h.x) - d.x).max(0.0), d.h),
                        Rect::new(x1, d.y, (d.right() - x1).max(0.0), d.h),
                    ]
                    .into_iter()
                    .filter(|r| r.w >= 2.0)
                    .collect()
                }
                _ => vec![*d],
            };
            for r in outside.iter().filter(|r| r.w * r.h >= 20.0) {
                let share = magenta_share(o, *r);
                assert!(
                    share >= 0.95,
                    "frame {} (source {}): person at {d:?} only {:.0}% masked",
                    o.index,
                    o.index + EXCERPT.0,
                    share * 100.0
                );
            }
            bystanders += 1;
        }
        if let Some(Some(h)) = her {
            her_frames += 1;
            if magenta_share(o, h) <= 0.5 {
                her_visible += 1;
            } else {
                hidden.push(o.index + EXCERPT.0);
            }
        }
    }
    eprintln!(
        "vtest: she is visible on {her_visible} of {her_frames} frames (hidden on frames {hidden:?}); {bystanders} bystander boxes masked"
    );
    assert!(
        her_frames >= 250,
        "her reference covers only {her_frames} frames"
    );
    assert!(
        bystanders >= 3000,
        "only {bystanders} bystander boxes checked"
    );
    // Issue 17 asks for 90% of the frames where a detector finds her. This reference also
    // counts frames `benches/subject.sh` leaves ambiguous (she crosses or walks beside others,
    // and their masks cover her: fail closed). With rectangles only: 257 of 294 (87.4%); with
    // her silhouette kept inside overlapping neighbours' boxes (policy rule 7): 267 of 294
    // (90.8%; the bench: 267 of 279, 95.7%).
    assert!(
        her_visible * 10 >= her_frames * 9,
        "she is visible on only {her_visible} of {her_frames} frames (hidden: {hidden:?})"
    );
}
