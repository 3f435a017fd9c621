//! Choosing the data subject, a person (identity, see [`crate::identity`]) rather than a track:
//! by a point at a time (`keep_at`) or by appearance (`keep_like`, re-identification against
//! a reference photo). Ambiguity is an error listing the candidates.

use std::collections::BTreeMap;
use std::path::Path;

use obscura_core::{Frame, ObjectClass, PixelRect, Rational, Timestamp};
use obscura_detect::Detector;
use obscura_detect::reid::cosine;
use obscura_track::{IdentityId, TrackId, TrackSet, TrackletRecord};
use serde::Serialize;

use crate::error::{At, Error, Stage};
use crate::identity::Appearance;
use crate::keep::{KeepAt, KeepLike};

/// How similar one person is to the reference photo.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SubjectMatch {
    /// The person: an identity id for videos (see `obscura tracks`), a track id for stills.
    pub track: TrackId,
    /// Cosine similarity of their appearance centroid to the reference (stills: of the crop).
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
    pts.iter()
        .min_by_key(|(i, t)| ((us(*t) - target).unsigned_abs(), *i))
        .map(|(i, _)| *i)
}

/// The person whose box contains the point on the frame nearest to the time: their identity
/// and the tracklet there (which anchors the reference the per-frame check compares with).
/// A point inside the boxes of several people picks the one whose box centre is nearest only
/// when it is clearly nearer (at most half the distance of the next); otherwise the point is
/// ambiguous, an error listing them. A point on nobody: an error listing the persons on that
/// frame. Without identities in `set` (no appearance analysis), every person track is its own.
pub fn select_at(
    input: &Path,
    set: &TrackSet,
    pts: &[(u64, Timestamp)],
    at: &KeepAt,
) -> Result<(IdentityId, TrackletRecord), Error> {
    let frame = nearest_frame(pts, at.time).ok_or_else(|| Error::Subject {
        input: input.into(),
        reason: "the video has no frames".into(),
    })?;
    let persons: Vec<_> = set
        .boxes_at(frame)
        .into_iter()
        .filter(|(t, _)| t.class == ObjectClass::Person)
        .collect();
    let time = pts
        .iter()
        .find(|(i, _)| *i == frame)
        .map(|(_, t)| t.to_string())
        .unwrap_or_default();
    let person_of = |t: &obscura_track::TrackRecord| -> (IdentityId, TrackletRecord) {
        match set.identity_of(t.id, frame) {
            Some(i) => (
                i.id,
                i.tracklets
                    .iter()
                    .find(|tl| tl.holds(t.id, frame))
                    .cloned()
                    .expect("identity holds the frame"),
            ),
            None => (
                t.id,
                TrackletRecord {
                    track: t.id,
                    first_frame: t.first_frame,
                    last_frame: t.last_frame,
                    first_pts: t.first_pts,
                    last_pts: t.last_pts,
                    samples: 0,
                },
            ),
        }
    };
    let describe = |list: &[(&obscura_track::TrackRecord, &obscura_track::BoxRecord)]| -> String {
        if list.is_empty() {
            return "none".into();
        }
        list.iter()
            .map(|(t, b)| {
                format!(
                    "person {} at x={:.0}..{:.0} y={:.0}..{:.0}",
                    person_of(t).0,
                    b.x,
                    b.x + b.w,
                    b.y,
                    b.y + b.h
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let dist = |r: obscura_core::Rect| {
        let (cx, cy) = r.center();
        ((cx - at.x).powi(2) + (cy - at.y).powi(2)).sqrt()
    };
    let mut hits: Vec<_> = persons
        .iter()
        .copied()
        .filter(|(_, b)| b.rect().contains_point(at.x, at.y))
        .collect();
    hits.sort_by(|a, b| {
        dist(a.1.rect())
            .total_cmp(&dist(b.1.rect()))
            .then(a.0.id.cmp(&b.0.id))
    });
    // Boxes of the same person (a held box beside the new one) count once.
    let mut people: Vec<(IdentityId, TrackletRecord, f32)> = Vec::new();
    for (t, b) in &hits {
        let (id, tl) = person_of(t);
        if !people.iter().any(|p| p.0 == id) {
            people.push((id, tl, dist(b.rect())));
        }
    }
    match people.as_slice() {
        [] => Err(Error::Subject {
            input: input.into(),
            reason: format!(
                "no person box contains {},{} at frame {frame} ({time}); persons there: {}",
                at.x,
                at.y,
                describe(&persons)
            ),
        }),
        [one] => Ok((one.0, one.1.clone())),
        [first, second, ..] if first.2 <= 0.5 * second.2 => Ok((first.0, first.1.clone())),
        _ => Err(Error::Subject {
            input: input.into(),
            reason: format!(
                "{},{} at frame {frame} ({time}) lies on more than one person: {}; give a point on one of them only (or --keep ID from `obscura tracks`)",
                at.x,
                at.y,
                describe(&hits)
            ),
        }),
    }
}

/// The people of `set`, for error messages: `id (first-last s)`.
pub fn list_identities(set: &TrackSet) -> String {
    if set.identities.is_empty() {
        return "none".into();
    }
    set.identities
        .iter()
        .map(|i| format!("{} ({:.1}-{:.1} s)", i.id, i.first_pts, i.last_pts))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The crops to embed for each person track: its best-scored detected boxes at least
/// `min_gap` frames apart, at least 24 px tall, up to `per_track`.
pub fn pick_crops(
    set: &TrackSet,
    per_track: usize,
    min_gap: u64,
) -> BTreeMap<u64, Vec<(TrackId, PixelRect)>> {
    let mut by_frame: BTreeMap<u64, Vec<(TrackId, PixelRect)>> = BTreeMap::new();
    let (w, h) = (set.source.width, set.source.height);
    for t in set.tracks.iter().filter(|t| t.class == ObjectClass::Person) {
        let mut boxes: Vec<_> = t
            .boxes
            .iter()
            .filter(|b| !b.predicted && b.h >= 24.0 && b.w >= 8.0)
            .collect();
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
pub(crate) fn reference(
    input: &Path,
    like: &mut KeepLike,
    detector: &mut dyn Detector,
) -> Result<Vec<f32>, Error> {
    let photo = &like.photo;
    let whole = PixelRect {
        x: 0,
        y: 0,
        w: photo.width,
        h: photo.height,
    };
    let region = match detector.detect(photo) {
        Ok(d) => d
            .iter()
            .filter(|d| d.class == ObjectClass::Person)
            .max_by(|a, b| a.score.total_cmp(&b.score))
            .and_then(|d| d.rect.to_pixels(photo.width, photo.height))
            .filter(|p| {
                u64::from(p.w) * u64::from(p.h) * 2
                    < u64::from(photo.width) * u64::from(photo.height)
            })
            .unwrap_or(whole),
        Err(e) => {
            return Err(Error::stage(
                input,
                Stage::Subject,
                At::NONE,
                format!("detecting the person in the reference photo: {e}"),
            ));
        }
    };
    like.embedder.embed(photo, region).map_err(|e| {
        Error::stage(
            input,
            Stage::Subject,
            At::NONE,
            format!("embedding the reference photo: {e}"),
        )
    })
}

/// Scores every person (identity) of `set` against the reference photo, using the appearance
/// samples of the analysis, and returns the one at or above the threshold with every score.
/// Nobody at the threshold, or more than one person: an error listing the best scores.
pub fn select_like(
    input: &Path,
    set: &TrackSet,
    appearance: &Appearance,
    like: &mut KeepLike,
    detector: &mut dyn Detector,
) -> Result<(IdentityId, Vec<SubjectMatch>), Error> {
    let reference = reference(input, like, detector)?;
    let mut out: Vec<SubjectMatch> = Vec::new();
    for ident in &set.identities {
        let sims: Vec<f32> = ident
            .tracklets
            .iter()
            .flat_map(|tl| {
                appearance
                    .samples
                    .get(&tl.track)
                    .into_iter()
                    .flatten()
                    .filter(move |s| s.frame >= tl.first_frame && s.frame <= tl.last_frame)
            })
            .map(|s| cosine(&reference, &s.embedding))
            .collect();
        if sims.is_empty() {
            continue;
        }
        let similarity = appearance
            .centroids
            .get(&ident.id)
            .map_or(0.0, |c| cosine(&reference, c));
        let best = sims.iter().copied().fold(f32::MIN, f32::max);
        out.push(SubjectMatch {
            track: ident.id,
            similarity,
            best,
            crops: sims.len(),
            matched: similarity >= like.threshold,
        });
    }
    out.sort_by(|a, b| {
        b.similarity
            .total_cmp(&a.similarity)
            .then(a.track.cmp(&b.track))
    });
    let list = |n: usize| -> String {
        let l: Vec<String> = out
            .iter()
            .take(n)
            .map(|m| format!("person {} ({:.2})", m.track, m.similarity))
            .collect();
        if l.is_empty() {
            "no people".into()
        } else {
            l.join(", ")
        }
    };
    let matched: Vec<&SubjectMatch> = out.iter().filter(|m| m.matched).collect();
    match matched.as_slice() {
        [] => Err(Error::Subject {
            input: input.into(),
            reason: format!(
                "no person is similar enough to the reference photo (threshold {:.2}); best: {}",
                like.threshold,
                list(5)
            ),
        }),
        [one] => Ok((one.track, out.clone())),
        many => Err(Error::Subject {
            input: input.into(),
            reason: format!(
                "{} people match the reference photo (threshold {:.2}): {}; choose one with --keep ID (see `obscura tracks`) or raise --similarity",
                many.len(),
                like.threshold,
                list(many.len())
            ),
        }),
    }
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
    use obscura_track::{
        AnalysisSettings, BoxSource, SourceInfo, TrackBox, TrackSetBuilder, TrackUpdate,
        TrackerConfig,
    };

    fn set_with(tracks: &[(TrackId, Rect)], frames: u64) -> (TrackSet, Vec<(u64, Timestamp)>) {
        let tb = Rational::new(1, 10).unwrap();
        let mut b = TrackSetBuilder::new();
        let mut pts = Vec::new();
        for f in 0..frames {
            let boxes = tracks
                .iter()
                .map(|(id, r)| TrackBox {
                    id: *id,
                    class: ObjectClass::Person,
                    rect: *r,
                    score: 0.9,
                    source: BoxSource::Detected,
                    detection_index: None,
                    parent: None,
                })
                .collect();
            b.push(
                &TrackUpdate {
                    frame: f,
                    tracks: boxes,
                },
                Timestamp::new(f as i64, tb),
            );
            pts.push((f, Timestamp::new(f as i64, tb)));
        }
        let source = SourceInfo {
            path: "x".into(),
            sha256: None,
            width: 200,
            height: 100,
            frames,
            time_base: "1/10".into(),
            fps: 10.0,
        };
        let settings = AnalysisSettings {
            every: 1,
            targets: vec![],
            tracker: TrackerConfig::default(),
            thresholds: Default::default(),
            models: vec![],
        };
        (b.finish(source, settings, tb), pts)
    }

    #[test]
    fn nearest_frame_rounds_to_the_closest() {
        let tb = Rational::new(1, 10).unwrap();
        let pts: Vec<_> = (0..5).map(|i| (i, Timestamp::new(i as i64, tb))).collect();
        assert_eq!(
            nearest_frame(&pts, Timestamp::parse("0.26").unwrap()),
            Some(3)
        );
        assert_eq!(nearest_frame(&pts, Timestamp::parse("9").unwrap()), Some(4));
        assert_eq!(nearest_frame(&[], Timestamp::zero()), None);
    }

    #[test]
    fn point_picks_the_box_containing_it_and_errors_list_candidates() {
        let (set, pts) = set_with(
            &[
                (3, Rect::new(10.0, 10.0, 30.0, 80.0)),
                (5, Rect::new(100.0, 10.0, 30.0, 80.0)),
            ],
            4,
        );
        let at = |s: &str| s.parse::<KeepAt>().unwrap();
        assert_eq!(
            select_at(Path::new("in.mp4"), &set, &pts, &at("0.2@110,50"))
                .unwrap()
                .0,
            5
        );
        assert_eq!(
            select_at(Path::new("in.mp4"), &set, &pts, &at("0@20,20"))
                .unwrap()
                .0,
            3
        );
        let e = select_at(Path::new("in.mp4"), &set, &pts, &at("0.1@70,50"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no person box contains 70,50 at frame 1")
                && e.contains("person 3 at")
                && e.contains("person 5 at"),
            "{e}"
        );
    }

    #[test]
    fn a_point_on_two_people_is_an_error_unless_clearly_nearer_one() {
        let (set, pts) = set_with(
            &[
                (1, Rect::new(0.0, 0.0, 60.0, 100.0)),
                (2, Rect::new(40.0, 0.0, 60.0, 100.0)),
            ],
            2,
        );
        // x=68 is 2 px from 2's centre (70), 38 px from 1's centre (30): clearly 2.
        assert_eq!(
            select_at(Path::new("x"), &set, &pts, &"0@68,50".parse().unwrap())
                .unwrap()
                .0,
            2
        );
        let e = select_at(Path::new("x"), &set, &pts, &"0@50,50".parse().unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("more than one person")
                && e.contains("person 1 at")
                && e.contains("person 2 at"),
            "{e}"
        );
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
        let (set, _) = set_with(
            &[
                (1, Rect::new(0.0, 0.0, 30.0, 60.0)),
                (2, Rect::new(50.0, 0.0, 10.0, 10.0)),
            ],
            30,
        );
        let crops = pick_crops(&set, 4, 5);
        let n1: usize = crops
            .values()
            .map(|v| v.iter().filter(|(id, _)| *id == 1).count())
            .sum();
        let n2: usize = crops
            .values()
            .map(|v| v.iter().filter(|(id, _)| *id == 2).count())
            .sum();
        assert_eq!(n1, 4);
        assert_eq!(n2, 0, "tiny boxes are not embedded");
        let frames: Vec<u64> = crops.keys().copied().collect();
        assert!(frames.windows(2).all(|w| w[1] - w[0] >= 5), "{frames:?}");
    }
}
