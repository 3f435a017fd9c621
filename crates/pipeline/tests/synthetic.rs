//! End-to-end redaction of a generated clip: two bright "people" (rectangles of known luma)
//! walk across a textured background and cross in the middle. A test detector finds them
//! by their luma in the decoded pixels (the `Detector` trait is the seam; the real detectors
//! are tested on real footage in `real_footage.rs`). The output is decoded again and its
//! pixels checked: the bystander masked in every frame, the subject visible, the background
//! untouched.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use obscura_core::{Detection, Frame, ObjectClass, PixelFormat, Rational, Rect, Timestamp};
use obscura_detect::{Detector, ModelId};
use obscura_media::{DecodeOptions, Decoder, Encoder, EncoderSettings, Preset, VideoSpec};
use obscura_pipeline::{
    AnalyseOptions, CancelToken, Error, Mode, Policy, Redactor, Stage, analyse,
};
use obscura_render::Style;

const W: u32 = 320;
const H: u32 = 240;
const FRAMES: u64 = 40;
const SUBJECT_Y: u8 = 210;
const BYSTANDER_Y: u8 = 130;
const SIZE: (f32, f32) = (36.0, 90.0);

/// Where the two people are on frame `i`: the subject walks right, the bystander left;
/// they overlap around frame 20.
fn script(i: u64) -> [(u8, Rect); 2] {
    let t = i as f32;
    [
        (SUBJECT_Y, Rect::new(20.0 + 6.0 * t, 60.0, SIZE.0, SIZE.1)),
        (
            BYSTANDER_Y,
            Rect::new(264.0 - 6.0 * t, 80.0, SIZE.0, SIZE.1),
        ),
    ]
}

/// Background luma: a texture between 30 and 80 (never near the people's luma).
fn background(x: u32, y: u32) -> u8 {
    30 + ((x * 7 + y * 3) % 50) as u8
}

fn encoder_settings() -> EncoderSettings {
    EncoderSettings::builder()
        .crf(4)
        .preset(Preset::Ultrafast)
        .build()
        .unwrap()
}

fn make_clip(dir: &Path) -> PathBuf {
    make_clip_from(dir, 0)
}

/// The clip with the bystander entering on frame `bystander_from`.
fn make_clip_from(dir: &Path, bystander_from: u64) -> PathBuf {
    let path = dir.join("walkers.mp4");
    let tb = Rational::new(1, 10).unwrap();
    let spec = VideoSpec {
        width: W,
        height: H,
        time_base: tb,
        frame_rate: Some(Rational::new(10, 1).unwrap()),
        creation_time: None,
    };
    let mut enc = Encoder::create(&path, &spec, &encoder_settings()).unwrap();
    for i in 0..FRAMES {
        let mut f = Frame::black(PixelFormat::Yuv420p, W, H, i, Timestamp::new(i as i64, tb));
        for y in 0..H {
            let row = f.planes[0].row_mut(y as usize);
            for x in 0..W {
                row[x as usize] = background(x, y);
            }
        }
        for (luma, r) in script(i) {
            if luma == BYSTANDER_Y && i < bystander_from {
                continue;
            }
            let p = r.to_pixels(W, H).unwrap();
            for y in p.y..p.bottom() {
                f.planes[0].row_mut(y as usize)[p.x as usize..p.right() as usize].fill(luma);
            }
        }
        enc.write(&f).unwrap();
    }
    enc.finish().unwrap();
    path
}

/// Finds the pixels near each person's luma and reports their bounding box as a person.
struct LumaDetector {
    fail_at: Option<u64>,
    calls: Arc<AtomicU64>,
}

impl LumaDetector {
    fn new() -> Self {
        Self {
            fail_at: None,
            calls: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl Detector for LumaDetector {
    fn detect(&mut self, frame: &Frame) -> Result<Vec<Detection>, obscura_detect::Error> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if Some(frame.index) == self.fail_at {
            return Err(obscura_detect::Error::Inference {
                model: "luma".into(),
                reason: "simulated failure".into(),
            });
        }
        let bytes_per_pixel = frame.format.plane_dims(0, 1, 1).2;
        let mut out = Vec::new();
        for target in [SUBJECT_Y, BYSTANDER_Y] {
            let (mut x0, mut y0, mut x1, mut y1, mut n) = (u32::MAX, u32::MAX, 0, 0, 0u32);
            for y in 0..frame.height {
                let row = frame.planes[0].row(y as usize);
                for x in 0..frame.width {
                    let luma = match frame.format {
                        PixelFormat::Yuv420p => row[x as usize],
                        // Grey stills: Y = 16 + 219 * v / 255.
                        _ => (16.0 + 219.0 * f32::from(row[x as usize * bytes_per_pixel]) / 255.0)
                            .round() as u8,
                    };
                    if luma.abs_diff(target) <= 12 {
                        (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
                        n += 1;
                    }
                }
            }
            if n >= 50 {
                out.push(Detection::new(
                    Rect::from_corners(x0 as f32, y0 as f32, (x1 + 1) as f32, (y1 + 1) as f32),
                    0.9,
                    ObjectClass::Person,
                ));
            }
        }
        Ok(out)
    }

    fn models(&self) -> Vec<ModelId> {
        vec![ModelId {
            name: "luma-test".into(),
            sha256: "0".repeat(64),
        }]
    }
}

/// Appearance of the synthetic people: a 16-bin histogram of the luma inside the box (the two
/// walkers have different lumas), unit length. Keeping a person needs an embedder (identities
/// and the per-frame check of kept boxes); the real one is tested on real footage.
struct LumaEmbedder;

impl obscura_detect::reid::Embedder for LumaEmbedder {
    fn embed(
        &mut self,
        frame: &Frame,
        region: obscura_core::PixelRect,
    ) -> Result<Vec<f32>, obscura_detect::Error> {
        let bytes_per_pixel = frame.format.plane_dims(0, 1, 1).2;
        let mut hist = vec![0f32; 16];
        for y in region.y..region.bottom().min(frame.height) {
            let row = frame.planes[0].row(y as usize);
            for x in region.x..region.right().min(frame.width) {
                let v = match frame.format {
                    PixelFormat::Yuv420p => row[x as usize],
                    _ => row[x as usize * bytes_per_pixel],
                };
                hist[usize::from(v / 16)] += 1.0;
            }
        }
        let norm = hist.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-6);
        Ok(hist.into_iter().map(|v| v / norm).collect())
    }

    fn models(&self) -> Vec<ModelId> {
        vec![ModelId {
            name: "luma-histogram-test".into(),
            sha256: "0".repeat(64),
        }]
    }
}

fn decode_all(path: &Path) -> Vec<Frame> {
    Decoder::open(path, &DecodeOptions::default())
        .unwrap()
        .map(|f| f.unwrap())
        .collect()
}

/// Mean, min and max luma over the whole-pixel interior of `r` (shrunk by `inset`).
fn luma_stats(f: &Frame, r: Rect, inset: f32) -> (f64, u8, u8) {
    let p = Rect::new(
        r.x + inset,
        r.y + inset,
        r.w - 2.0 * inset,
        r.h - 2.0 * inset,
    )
    .to_pixels(f.width, f.height)
    .unwrap();
    let (mut sum, mut n, mut min, mut max) = (0u64, 0u64, 255u8, 0u8);
    for y in p.y..p.bottom() {
        for &v in &f.planes[0].row(y as usize)[p.x as usize..p.right() as usize] {
            sum += u64::from(v);
            n += 1;
            min = min.min(v);
            max = max.max(v);
        }
    }
    (sum as f64 / n as f64, min, max)
}

fn fill_policy(keep: &[u64]) -> Policy {
    Policy::builder()
        .style(Style::fill())
        .keep(keep.iter().copied())
        .build()
        .unwrap()
}

/// Checks the output frames: bystander black in every frame, subject visible where the
/// bystander does not overlap it, the overlap masked, background far from both untouched.
fn check_output(out: &[Frame], src: &[Frame]) {
    check_output_excusing(out, src, &[]);
}

/// [`check_output`], where the subject may also be masked on the frames `excused`.
fn check_output_excusing(out: &[Frame], src: &[Frame], excused: &[u64]) {
    assert_eq!(out.len(), FRAMES as usize);
    for (o, s) in out.iter().zip(src) {
        let [(_, subject), (_, bystander)] = script(o.index);
        let (mean, _, max) = luma_stats(o, bystander, 1.0);
        assert!(
            max <= 24 && mean < 20.0,
            "frame {}: bystander not masked (mean {mean}, max {max})",
            o.index
        );
        // The subject is visible wherever the bystander's grown box is clear of it. Where the
        // two overlap, the per-frame check may mask the subject for uncertainty (fail closed):
        // nothing is required of the subject there.
        let grown = bystander.dilate(0.1, 4.0);
        if grown.intersection(&subject).is_none() && !excused.contains(&o.index) {
            let (mean, min, _) = luma_stats(o, subject, 1.0);
            assert!(
                mean > 195.0 && min > 180,
                "frame {}: subject masked (mean {mean}, min {min})",
                o.index
            );
        }
        if let Some(inter) = subject.intersection(&bystander) {
            let (_, _, max) = luma_stats(o, inter, 0.0);
            assert!(
                max <= 24,
                "frame {}: overlap of subject and bystander not masked",
                o.index
            );
        }
        // Background rows below both people (y >= 196) are untouched (up to the re-encode's
        // rounding: CRF 4 leaves a difference of a few levels at most).
        let p = Rect::new(0.0, 196.0, W as f32, 40.0)
            .to_pixels(W, H)
            .unwrap();
        let (mut sum, mut n, mut max) = (0u64, 0u64, 0u8);
        for y in p.y..p.bottom() {
            for (a, b) in o.planes[0]
                .row(y as usize)
                .iter()
                .zip(s.planes[0].row(y as usize))
            {
                sum += u64::from(a.abs_diff(*b));
                n += 1;
                max = max.max(a.abs_diff(*b));
            }
        }
        let mean = sum as f64 / n as f64;
        assert!(
            max <= 4 && mean < 0.5,
            "frame {}: background changed (max {max}, mean {mean})",
            o.index
        );
    }
}

#[test]
fn keeping_masks_the_bystander_keeps_the_subject_and_leaves_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let clip = make_clip(dir.path());
    let out = dir.path().join("out.mp4");
    let mut r = Redactor::builder()
        .detector(LumaDetector::new())
        .embedder(LumaEmbedder)
        .policy(fill_policy(&[1]))
        .encoder(encoder_settings())
        .build()
        .unwrap();
    let rep = r.redact(&clip, &out).unwrap();
    assert_eq!(rep.frames, FRAMES);
    assert!(rep.passes > 1, "keeping a person takes several passes");
    assert_eq!(rep.kept, vec![1]);
    assert_eq!(rep.masked, vec![(2, ObjectClass::Person)]);
    check_output(&decode_all(&out), &decode_all(&clip));

    // A kept id that is nobody: an error listing the people, and no output.
    let out2 = dir.path().join("nobody.mp4");
    let mut r = Redactor::builder()
        .detector(LumaDetector::new())
        .embedder(LumaEmbedder)
        .policy(fill_policy(&[1, 7]))
        .encoder(encoder_settings())
        .build()
        .unwrap();
    let e = r.redact(&clip, &out2).unwrap_err().to_string();
    assert!(
        e.contains("no person 7") && e.contains("1 (") && e.contains("2 ("),
        "{e}"
    );
    assert!(!out2.exists());
}

#[test]
fn detection_every_fourth_frame_still_masks_every_frame() {
    let dir = tempfile::tempdir().unwrap();
    let clip = make_clip(dir.path());
    let out = dir.path().join("out.mp4");
    let det = LumaDetector::new();
    let calls = det.calls.clone();
    let mut r = Redactor::builder()
        .detector(det)
        .embedder(LumaEmbedder)
        .policy(fill_policy(&[1]))
        .every(4)
        .encoder(encoder_settings())
        .build()
        .unwrap();
    r.redact(&clip, &out).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), FRAMES / 4);
    // People move 6 px per frame: predicted + interpolated boxes grown by the margin cover them.
    let out = decode_all(&out);
    assert_eq!(out.len(), FRAMES as usize);
    for o in out {
        let [_, (_, bystander)] = script(o.index);
        let (mean, _, max) = luma_stats(&o, bystander, 1.0);
        assert!(
            max <= 24 && mean < 20.0,
            "frame {}: bystander not masked (mean {mean}, max {max})",
            o.index
        );
    }
}

#[test]
fn two_pass_keep_at_picks_the_subject_by_a_point() {
    let dir = tempfile::tempdir().unwrap();
    let clip = make_clip(dir.path());
    let out = dir.path().join("out.mp4");
    // At 1.0 s (frame 10) the subject is at x 80..116, y 60..150.
    let mut r = Redactor::builder()
        .detector(LumaDetector::new())
        .embedder(LumaEmbedder)
        .policy(fill_policy(&[]))
        .keep_at("1.0@100,100".parse().unwrap())
        .encoder(encoder_settings())
        .build()
        .unwrap();
    let rep = r.redact(&clip, &out).unwrap();
    assert!(rep.passes > 1, "keeping a person takes several passes");
    assert_eq!(rep.kept, vec![1]);
    check_output(&decode_all(&out), &decode_all(&clip));

    // A point on nobody: an error listing the persons there, and no output.
    let out2 = dir.path().join("none.mp4");
    let mut r = Redactor::builder()
        .detector(LumaDetector::new())
        .embedder(LumaEmbedder)
        .policy(fill_policy(&[]))
        .keep_at("1.0@5,5".parse().unwrap())
        .build()
        .unwrap();
    let e = r.redact(&clip, &out2).unwrap_err().to_string();
    assert!(
        e.contains("no person box contains 5,5 at frame 10")
            && e.contains("1 at")
            && e.contains("2 at"),
        "{e}"
    );
    assert!(!out2.exists());
}

#[test]
fn redact_with_tracks_checks_each_kept_box_so_an_id_switch_shows_nobody_else() {
    let dir = tempfile::tempdir().unwrap();
    let clip = make_clip(dir.path());
    let mut set = Redactor::builder()
        .detector(LumaDetector::new())
        .build()
        .unwrap()
        .analyse(&clip)
        .unwrap();
    assert_eq!(set.tracks.len(), 2);
    // An id switch after the crossing: from frame 25 on, track 1 follows the bystander and
    // track 2 the subject (as a tracker that swaps people who cross).
    let (a, b) = set.tracks.split_at_mut(1);
    for (x, y) in a[0]
        .boxes
        .iter_mut()
        .zip(b[0].boxes.iter_mut())
        .filter(|(x, _)| x.frame >= 25)
    {
        std::mem::swap(x, y);
    }
    let out = dir.path().join("out.mp4");
    let mut r = Redactor::builder()
        .detector(LumaDetector::new())
        .embedder(LumaEmbedder)
        .policy(fill_policy(&[]))
        .encoder(encoder_settings())
        .build()
        .unwrap();
    // Person 1 is the subject (track 1 until the switch, then track 2): kept by identity.
    let rep = r.redact_with_tracks(&clip, &out, &set, &[1]).unwrap();
    assert_eq!(
        rep.passes, 3,
        "appearance analysis, per-frame check, masking"
    );
    assert_eq!(rep.kept_identities, vec![1]);
    assert_eq!(
        rep.kept,
        vec![1, 2],
        "both tracks are shown, each only on the subject's frames"
    );
    // The frames on either side of the switch fail the check's continuity tests (the box's
    // neighbour frame is someone else, or it jumps): masked for uncertainty, and reported.
    let uncertain: Vec<u64> = rep
        .subject_uncertain
        .iter()
        .flat_map(|s| s.first_frame..=s.last_frame)
        .collect();
    assert!(
        uncertain.contains(&24) && uncertain.contains(&25),
        "{uncertain:?}"
    );
    check_output_excusing(&decode_all(&out), &decode_all(&clip), &[24, 25]);

    // Keeping needs the embedder; a kept id that is nobody is an error listing the people.
    let mut r = Redactor::builder()
        .detector(LumaDetector::new())
        .policy(fill_policy(&[]))
        .build()
        .unwrap();
    let e = r
        .redact_with_tracks(&clip, &dir.path().join("x.mp4"), &set, &[1])
        .unwrap_err()
        .to_string();
    assert!(e.contains("embedder"), "{e}");
    let mut r = Redactor::builder()
        .detector(LumaDetector::new())
        .embedder(LumaEmbedder)
        .policy(fill_policy(&[]))
        .build()
        .unwrap();
    let e = r
        .redact_with_tracks(&clip, &dir.path().join("y.mp4"), &set, &[9])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no person 9") && e.contains("1 (") && e.contains("2 ("),
        "{e}"
    );
    assert!(!dir.path().join("y.mp4").exists());
}

#[test]
fn streaming_ids_equal_those_of_analyse() {
    let dir = tempfile::tempdir().unwrap();
    let clip = make_clip(dir.path());
    for every in [1, 3] {
        let options = AnalyseOptions {
            every,
            hash_source: false,
            ..AnalyseOptions::default()
        };
        let reference = analyse(&clip, &mut LumaDetector::new(), &options, |_, _| {}).unwrap();
        let mut r = Redactor::builder()
            .detector(LumaDetector::new())
            .analysis(options.clone())
            .build()
            .unwrap();
        let ours = r.analyse(&clip).unwrap();
        assert_eq!(ours.tracks, reference.tracks, "every {every}");
        assert_eq!(ours.settings, reference.settings, "every {every}");
    }
}

#[test]
fn cancelling_leaves_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let clip = make_clip(dir.path());
    let out = dir.path().join("out.mp4");
    let token = CancelToken::new();
    let t = token.clone();
    let mut r = Redactor::builder()
        .detector(LumaDetector::new())
        .cancel_token(token)
        .progress(move |p| {
            if p.frames_done == 10 {
                t.cancel();
            }
        })
        .build()
        .unwrap();
    let e = r.redact(&clip, &out).unwrap_err();
    assert!(e.is_cancelled(), "{e}");
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "only the clip is left (no temp file)"
    );
}

#[test]
fn a_failing_detector_fails_the_run_naming_the_frame_and_leaves_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let clip = make_clip(dir.path());
    let out = dir.path().join("out.mp4");
    let mut det = LumaDetector::new();
    det.fail_at = Some(7);
    let mut r = Redactor::builder().detector(det).build().unwrap();
    let e = r.redact(&clip, &out).unwrap_err();
    assert_eq!(e.failed_stage(), Some(Stage::Detect));
    let msg = e.to_string();
    assert!(
        msg.contains("detect failed at frame 7 (00:00:00.700000)")
            && msg.contains("simulated failure")
            && msg.contains("walkers.mp4"),
        "{msg}"
    );
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temp file left"
    );
}

#[test]
fn builder_rejects_bad_settings_with_the_value() {
    let e = Redactor::builder()
        .detector(LumaDetector::new())
        .every(0)
        .build()
        .unwrap_err();
    assert!(
        matches!(e, Error::InvalidSetting { name: "every", ref value, .. } if value == "0"),
        "{e}"
    );
    let e = Redactor::builder().build().unwrap_err();
    assert!(e.to_string().contains("detector"), "{e}");
    let e = Redactor::builder()
        .detector(LumaDetector::new())
        .queue_depth(0)
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("queue_depth = 0"), "{e}");
    let e = Redactor::builder()
        .detector(LumaDetector::new())
        .mode(Mode::OnePass)
        .keep_at("1@1,1".parse().unwrap())
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("several passes"), "{e}");
}

#[test]
fn still_png_masks_the_bystander_and_keeps_other_pixels_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("alarm.png");
    let mut img = image::RgbImage::from_fn(W, H, |x, y| {
        let b = background(x, y);
        image::Rgb([b, b, b])
    });
    for (luma, r) in script(5) {
        let p = r.to_pixels(W, H).unwrap();
        let v = ((f32::from(luma) - 16.0) * 255.0 / 219.0).round() as u8;
        for y in p.y..p.bottom() {
            for x in p.x..p.right() {
                img.put_pixel(x, y, image::Rgb([v, v, v]));
            }
        }
    }
    img.save(&input).unwrap();
    let out = dir.path().join("alarm-redacted.png");
    let mut r = Redactor::builder()
        .detector(LumaDetector::new())
        .embedder(LumaEmbedder)
        .policy(fill_policy(&[1]))
        .build()
        .unwrap();
    let rep = r.redact_still(&input, &out).unwrap();
    assert_eq!(rep.kept, vec![1]);
    let o = image::open(&out).unwrap().to_rgb8();
    let [_, (_, bystander)] = script(5);
    // The mask is the box grown by the default margin (10% + 4 px), rounded outward: allow
    // one more pixel of rounding around it.
    let grown = bystander.dilate(0.1, 5.0);
    for y in 0..H {
        for x in 0..W {
            let (a, b) = (img.get_pixel(x, y), o.get_pixel(x, y));
            let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
            if bystander.contains_point(px, py) {
                assert_eq!(b.0, [0, 0, 0], "bystander pixel {x},{y} not black");
            } else if !grown.contains_point(px, py) {
                assert_eq!(a, b, "pixel {x},{y} changed");
            }
        }
    }
}

#[test]
fn a_person_appearing_between_detection_frames_is_masked_from_their_first_frame() {
    // Detection on frames 0, 4, 8, 12...; the bystander appears on frame 10 and is first
    // detected on frame 12: the look-ahead masks the frames before with that first box (the
    // `every - 1` frames widened for motion, the lead-in of 0.5 s = 5 frames before
    // them as it is), in one pass (held frames) and in two passes (from the TrackSet) alike.
    for mode in [Mode::OnePass, Mode::TwoPass] {
        let dir = tempfile::tempdir().unwrap();
        let clip = make_clip_from(dir.path(), 10);
        let out = dir.path().join("out.mp4");
        // Nobody kept: keeping takes several passes, and this is about the bystander.
        let mut r = Redactor::builder()
            .detector(LumaDetector::new())
            .policy(fill_policy(&[]))
            .every(4)
            .mode(mode)
            .encoder(encoder_settings())
            .build()
            .unwrap();
        r.redact(&clip, &out).unwrap();
        let (src, dst) = (decode_all(&clip), decode_all(&out));
        for (o, s) in dst.iter().zip(&src) {
            let [_, (_, bystander)] = script(o.index);
            let (mean, _, max) = luma_stats(o, bystander, 1.0);
            if o.index >= 10 {
                assert!(
                    max <= 24 && mean < 20.0,
                    "{mode:?} frame {}: bystander not masked (mean {mean}, max {max})",
                    o.index
                );
            } else if o.index < 7 {
                // Before the lead-in (frames 7..11) nothing is masked there.
                let (ms, _, _) = luma_stats(s, bystander, 1.0);
                assert!(
                    (mean - ms).abs() < 1.0,
                    "{mode:?} frame {}: background masked before anyone was there",
                    o.index
                );
            }
        }
    }
}

#[test]
fn privacy_zones_are_masked_on_every_frame_even_with_nobody_in_them() {
    let dir = tempfile::tempdir().unwrap();
    let clip = make_clip(dir.path());
    let out = dir.path().join("out.mp4");
    // The top-left quarter-width strip, above both people (they start at y 60).
    let zone = obscura_pipeline::policy::parse_zone("0,0; 0.25,0; 0.25,0.2; 0,0.2", Style::fill())
        .unwrap();
    let policy = Policy::builder()
        .style(Style::fill())
        .keep([1])
        .zone(zone)
        .build()
        .unwrap();
    let mut r = Redactor::builder()
        .detector(LumaDetector::new())
        .embedder(LumaEmbedder)
        .policy(policy)
        .encoder(encoder_settings())
        .build()
        .unwrap();
    r.redact(&clip, &out).unwrap();
    let (src, dst) = (decode_all(&clip), decode_all(&out));
    for (o, s) in dst.iter().zip(&src) {
        let (mean, _, max) = luma_stats(o, Rect::new(0.0, 0.0, 80.0, 48.0), 1.0);
        assert!(
            max <= 24 && mean < 20.0,
            "frame {}: zone not masked (mean {mean}, max {max})",
            o.index
        );
        // Beside the zone, same rows: untouched.
        let (mo, _, _) = luma_stats(o, Rect::new(100.0, 0.0, 60.0, 40.0), 0.0);
        let (ms, _, _) = luma_stats(s, Rect::new(100.0, 0.0, 60.0, 40.0), 0.0);
        assert!(
            (mo - ms).abs() < 1.0,
            "frame {}: pixels beside the zone changed",
            o.index
        );
    }
}
