//! Choosing the data subject: by a point at a time (`keep_at`) or by appearance
//! (`keep_like`, re-identification against a reference photo).

use std::collections::BTreeMap;
use std::path::Path;

use obscura_core::{Frame, ObjectClass, PixelRect, Rational, Timestamp};
use obscura_detect::Detector;
use obscura_detect::reid::cosine;
use obscura_media::{DecodeOptions, Decoder};
use obscura_track::{TrackId, TrackSet};
use serde::Serialize;

use crate::error::{At, Error, Stage};
use crate::redact::{CancelToken, KeepAt, KeepLike, Pass, Progress, ProgressFn};

/// How similar one track is to the reference photo.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubjectMatch {
    /// The person track.
    pub track: TrackId,
    /// Mean cosine similarity of its crops to the reference.
    pub similarity: f32,
    /// Best single-crop similarity.
    pub best: f32,
    /// Crops embedded.
    pub crops: usize,
    /// Whether it reached the threshold (kept).
    pub matched: bool,
}

/// The frame of `pts` nearest to `time` (ties: the earlier frame).
pub fn nearest_frame(pts: &[(u64, Timestamp)], time: Timestamp) -> Option<u64> {
    let us = |t: Timestamp| t.rescale_floor(Rational::MICROS).ticks;
    let target = us(time);
    pts.iter().min_by_key(|(i, t)| ((us(*t) - target).unsigned_abs(), *i)).map(|(i, _)| *i)
}

/// The person track whose box contains the point on the frame nearest to the time. Several
/// boxes containing it: the one whose centre is nearest. None: an error listing the persons
/// on that frame.
pub fn select_at(input: &Path, set: &TrackSet, pts: &[(u64, Timestamp)], at: &KeepAt) -> Result<TrackId, Error> {
    let frame = nearest_frame(pts, at.time).ok_or_else(|| Error::Subject { input: input.into(), reason: "the video has no frames".into() })?;
    let mut persons: Vec<_> = set.boxes_at(frame).into_iter().filter(|(t, _)| t.class == ObjectClass::Person).collect();
    if !set.tracks.iter().any(|t| t.class == ObjectClass::Person) {
        // Faces only (`--targets face`): the point picks a face track.
        persons = set.boxes_at(frame);
    }
    let best = persons
        .iter()
        .filter(|(_, b)| b.rect().contains_point(at.x, at.y))
        .min_by(|a, b| {
            let d = |r: obscura_core::Rect| {
                let (cx, cy) = r.center();
                (cx - at.x).powi(2) + (cy - at.y).powi(2)
            };
            d(a.1.rect()).total_cmp(&d(b.1.rect())).then(a.0.id.cmp(&b.0.id))
        });
    match best {
        Some((t, _)) => Ok(t.id),
        None => {
            let list: Vec<String> = persons
                .iter()
                .map(|(t, b)| format!("{} at x={:.0}..{:.0} y={:.0}..{:.0}", t.id, b.x, b.x + b.w, b.y, b.y + b.h))
                .collect();
            let time = pts.iter().find(|(i, _)| *i == frame).map(|(_, t)| t.to_string()).unwrap_or_default();
            Err(Error::Subject {
                input: input.into(),
                reason: format!(
                    "no person box contains {},{} at frame {frame} ({time}); persons there: {}",
                    at.x,
                    at.y,
                    if list.is_empty() { "none".to_string() } else { list.join("; ") }
                ),
            })
        }
    }
}

/// The crops to embed for each person track: its best-scored detected boxes at least
/// `min_gap` frames apart, at least 24 px tall, up to `per_track`.
pub fn pick_crops(set: &TrackSet, per_track: usize, min_gap: u64) -> BTreeMap<u64, Vec<(TrackId, PixelRect)>> {
    let mut by_frame: BTreeMap<u64, Vec<(TrackId, PixelRect)>> = BTreeMap::new();
    let (w, h) = (set.source.width, set.source.height);
    for t in set.tracks.iter().filter(|t| t.class == ObjectClass::Person) {
        let mut boxes: Vec<_> = t.boxes.iter().filter(|b| !b.predicted && b.h >= 24.0 && b.w >= 8.0).collect();
        boxes.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.frame.cmp(&b.frame)));
        let mut chosen: Vec<u64> = Vec::new();
        for b in boxes {
            if chosen.len() >= per_track {
                break;
            }
            if chosen.iter().any(|&f| f.abs_diff(b.frame) < min_gap) {
                continue;
            }
            if let Some(px) = b.rect().to_pixels(w, h) {
                chosen.push(b.frame);
                by_frame.entry(b.frame).or_default().push((t.id, px));
            }
        }
    }
    by_frame
}

/// The reference vector of `photo`: when the photo is a scene (the best-scored person box
/// the detector finds covers less than half of it), that box; otherwise (a crop of the
/// person, or nobody found) the whole picture.
pub(crate) fn reference(input: &Path, like: &mut KeepLike, detector: &mut dyn Detector) -> Result<Vec<f32>, Error> {
    let photo = &like.photo;
    let whole = PixelRect { x: 0, y: 0, w: photo.width, h: photo.height };
    let region = match detector.detect(photo) {
        Ok(d) => d
            .iter()
            .filter(|d| d.class == ObjectClass::Person)
            .max_by(|a, b| a.score.total_cmp(&b.score))
            .and_then(|d| d.rect.to_pixels(photo.width, photo.height))
            .filter(|p| u64::from(p.w) * u64::from(p.h) * 2 < u64::from(photo.width) * u64::from(photo.height))
            .unwrap_or(whole),
        Err(e) => return Err(Error::stage(input, Stage::Subject, At::NONE, format!("detecting the person in the reference photo: {e}"))),
    };
    like.embedder.embed(photo, region).map_err(|e| Error::stage(input, Stage::Subject, At::NONE, format!("embedding the reference photo: {e}")))
}

/// Scores every person track of `set` against the reference photo (decoding `input` once
/// more for the crops) and marks those at or above the threshold. Errors when none matches,
/// listing the best scores.
#[allow(clippy::too_many_arguments)]
pub fn select_like(
    input: &Path,
    set: &TrackSet,
    like: &mut KeepLike,
    detector: &mut dyn Detector,
    decode: &DecodeOptions,
    max_frames: Option<u64>,
    cancel: &CancelToken,
    progress: Option<&ProgressFn>,
) -> Result<Vec<SubjectMatch>, Error> {
    let reference = reference(input, like, detector)?;
    let crops = pick_crops(set, like.crops_per_track, 5);
    let mut sims: BTreeMap<TrackId, Vec<f32>> = BTreeMap::new();
    if let Some(&last) = crops.keys().next_back() {
        let mut dec = Decoder::open(input, decode).map_err(|e| Error::stage(input, Stage::Decode, At::NONE, e))?;
        let limit = max_frames.unwrap_or(u64::MAX).min(last + 1);
        let total = Some(limit);
        while dec.frames_decoded() < limit {
            if cancel.is_cancelled() {
                return Err(Error::Cancelled { input: input.into() });
            }
            let Some(frame) = dec.next_frame().map_err(|e| Error::stage(input, Stage::Decode, At { frame: Some(dec.frames_decoded()), time: None }, e))? else { break };
            if let Some(list) = crops.get(&frame.index) {
                for (id, rect) in list {
                    let v = like.embedder.embed(&frame, *rect).map_err(|e| Error::stage(input, Stage::Subject, At::frame(frame.index, frame.pts), e))?;
                    sims.entry(*id).or_default().push(cosine(&reference, &v));
                }
            }
            if let Some(p) = progress {
                p(&Progress { pass: Pass::Embed, pass_number: 2, passes: 3, frames_done: frame.index + 1, frames_total: total });
            }
        }
    }
    let mut out: Vec<SubjectMatch> = sims
        .into_iter()
        .map(|(track, s)| {
            let similarity = s.iter().sum::<f32>() / s.len() as f32;
            let best = s.iter().copied().fold(f32::MIN, f32::max);
            SubjectMatch { track, similarity, best, crops: s.len(), matched: similarity >= like.threshold }
        })
        .collect();
    out.sort_by(|a, b| b.similarity.total_cmp(&a.similarity).then(a.track.cmp(&b.track)));
    if !out.iter().any(|m| m.matched) {
        let list: Vec<String> = out.iter().take(5).map(|m| format!("{} ({:.2})", m.track, m.similarity)).collect();
        return Err(Error::Subject {
            input: input.into(),
            reason: format!(
                "no track is similar enough to the reference photo (threshold {:.2}); best: {}",
                like.threshold,
                if list.is_empty() { "no person tracks".into() } else { list.join(", ") }
            ),
        });
    }
    Ok(out)
}

/// The photo as an RGB frame (for `keep_like` and stills).
pub fn frame_from_image(img: &image::DynamicImage) -> Frame {
    let rgb = img.to_rgb8();
    let (w, h) = rgb.dimensions();
    let mut f = Frame::black(obscura_core::PixelFormat::Rgb24, w, h, 0, Timestamp::zero());
    f.planes[0].data.copy_from_slice(rgb.as_raw());
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use obscura_core::{Rect, Timestamp};
    use obscura_track::{AnalysisSettings, BoxSource, SourceInfo, TrackBox, TrackSetBuilder, TrackUpdate, TrackerConfig};

    fn set_with(tracks: &[(TrackId, Rect)], frames: u64) -> (TrackSet, Vec<(u64, Timestamp)>) {
        let tb = Rational::new(1, 10).unwrap();
        let mut b = TrackSetBuilder::new();
        let mut pts = Vec::new();
        for f in 0..frames {
            let boxes = tracks
                .iter()
                .map(|(id, r)| TrackBox { id: *id, class: ObjectClass::Person, rect: *r, score: 0.9, source: BoxSource::Detected, detection_index: None, parent: None })
                .collect();
            b.push(&TrackUpdate { frame: f, tracks: boxes }, Timestamp::new(f as i64, tb));
            pts.push((f, Timestamp::new(f as i64, tb)));
        }
        let source = SourceInfo { path: "x".into(), sha256: None, width: 200, height: 100, frames, time_base: "1/10".into(), fps: 10.0 };
        let settings = AnalysisSettings { every: 1, targets: vec![], tracker: TrackerConfig::default(), thresholds: Default::default(), models: vec![] };
        (b.finish(source, settings, tb), pts)
    }

    #[test]
    fn nearest_frame_rounds_to_the_closest() {
        let tb = Rational::new(1, 10).unwrap();
        let pts: Vec<_> = (0..5).map(|i| (i, Timestamp::new(i as i64, tb))).collect();
        assert_eq!(nearest_frame(&pts, Timestamp::parse("0.26").unwrap()), Some(3));
        assert_eq!(nearest_frame(&pts, Timestamp::parse("9").unwrap()), Some(4));
        assert_eq!(nearest_frame(&[], Timestamp::zero()), None);
    }

    #[test]
    fn point_picks_the_box_containing_it_and_errors_list_candidates() {
        let (set, pts) = set_with(&[(3, Rect::new(10.0, 10.0, 30.0, 80.0)), (5, Rect::new(100.0, 10.0, 30.0, 80.0))], 4);
        let at = |s: &str| s.parse::<KeepAt>().unwrap();
        assert_eq!(select_at(Path::new("in.mp4"), &set, &pts, &at("0.2@110,50")).unwrap(), 5);
        assert_eq!(select_at(Path::new("in.mp4"), &set, &pts, &at("0@20,20")).unwrap(), 3);
        let e = select_at(Path::new("in.mp4"), &set, &pts, &at("0.1@70,50")).unwrap_err().to_string();
        assert!(e.contains("no person box contains 70,50 at frame 1") && e.contains("3 at") && e.contains("5 at"), "{e}");
    }

    #[test]
    fn overlapping_boxes_prefer_the_nearest_centre() {
        let (set, pts) = set_with(&[(1, Rect::new(0.0, 0.0, 60.0, 100.0)), (2, Rect::new(40.0, 0.0, 60.0, 100.0))], 2);
        assert_eq!(select_at(Path::new("x"), &set, &pts, &"0@55,50".parse().unwrap()).unwrap(), 2);
        assert_eq!(select_at(Path::new("x"), &set, &pts, &"0@45,50".parse().unwrap()).unwrap(), 1);
    }

    #[test]
    fn keep_at_parse_rejects_garbage_with_the_value() {
        assert!("12.5@320,240".parse::<KeepAt>().is_ok());
        assert!("00:01:02.5@1,2".parse::<KeepAt>().is_ok());
        for bad in ["12.5", "x@1,2", "1@a,2", "1@1", "1@-1,2"] {
            let e = bad.parse::<KeepAt>().unwrap_err().to_string();
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn crops_are_best_scored_spread_and_bounded() {
        let (set, _) = set_with(&[(1, Rect::new(0.0, 0.0, 30.0, 60.0)), (2, Rect::new(50.0, 0.0, 10.0, 10.0))], 30);
        let crops = pick_crops(&set, 4, 5);
        let n1: usize = crops.values().map(|v| v.iter().filter(|(id, _)| *id == 1).count()).sum();
        let n2: usize = crops.values().map(|v| v.iter().filter(|(id, _)| *id == 2).count()).sum();
        assert_eq!(n1, 4);
        assert_eq!(n2, 0, "tiny boxes are not embedded");
        let frames: Vec<u64> = crops.keys().copied().collect();
        assert!(frames.windows(2).all(|w| w[1] - w[0] >= 5), "{frames:?}");
    }
}
