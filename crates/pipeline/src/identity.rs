//! People, not track ids: appearance samples of every person track
//! ([`pick_samples`] embedded in one more decode), identities built from them
//! ([`obscura_track::build_identities`]: split at id switches, linked across gaps), and the
//! per-frame check of the kept person ([`verify_subject`]): a kept box is left visible only on
//! frames where it is confidently the subject, everything else is masked (fail closed).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use obscura_core::{ObjectClass, PixelRect, Rect};
use obscura_detect::reid::Embedder;
use obscura_media::{DecodeOptions, Decoder};
use obscura_track::identity::{centroid, cosine};
use obscura_track::{IdentityConfig, IdentityId, Sample, TrackId, TrackSet, build_identities};
use serde::Serialize;

use crate::control::{CancelToken, Pass, Progress, ProgressFn};
use crate::error::{At, Error, Stage};

/// Settings of the appearance analysis and of the per-frame check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IdentityOptions {
    /// Appearance samples per second of video per track (3; on detected boxes only).
    pub samples_per_second: f64,
    /// Boxes shorter than this (pixels) are too small to embed or verify (24).
    pub min_height: f32,
    /// A box this much (or more) covered by another person's box gives a mixed sample and is
    /// not sampled (0.3).
    pub max_covered: f32,
    /// Splitting and linking.
    pub link: IdentityConfig,
    /// Other identities whose centroid is at least this close to a kept person's reference
    /// (0.8) are checked as possibly them too (the same person seen twice at once, e.g. a
    /// duplicate box, or fragments the linking kept apart); their boxes, like the kept
    /// person's, are shown only where each one passes the per-frame check.
    pub same_person: f32,
    /// A kept box is visible only when its cosine to the subject's reference is at least this
    /// (0.65)...
    pub verify_similarity: f32,
    /// ... and exceeds its cosine to every other identity by this much (0.1)...
    pub verify_margin: f32,
    /// ... and its neighbours on the frames before and after score at least this (0.45).
    pub verify_neighbours: f32,
    /// A kept box that jumps by more than this fraction of its height from one frame to the
    /// next is not the same person's motion (0.5).
    pub max_jump: f32,
    /// Another track's box lying at least this much (0.9) inside a cleared box of the subject
    /// (grown by the mask margin) is a duplicate of the subject (a second, partial detection
    /// of them, or the held box of such a track) when its own crop passes the check (a
    /// detected box) or its track's last detection did (a held box); it stays visible.
    pub duplicate_inside: f32,
    /// A box that misses the similarity or neighbour test but still looks like the person (at
    /// least `verify_neighbours`, by the margin) stays visible when confident, steady boxes of
    /// the same tracklet lie within this many frames before and after it and it moves
    /// steadily (3; 0: off).
    pub bridge_frames: u64,
}

impl Default for IdentityOptions {
    fn default() -> Self {
        Self {
            samples_per_second: 3.0,
            min_height: 24.0,
            max_covered: 0.3,
            link: IdentityConfig::default(),
            same_person: 0.8,
            verify_similarity: 0.65,
            verify_margin: 0.1,
            verify_neighbours: 0.45,
            max_jump: 0.5,
            duplicate_inside: 0.9,
            bridge_frames: 3,
        }
    }
}

/// What the appearance analysis found: every sample, and each identity's centroid.
#[derive(Debug, Clone, Default)]
pub struct Appearance {
    /// Samples per person track.
    pub samples: BTreeMap<TrackId, Vec<Sample>>,
    /// Unit-length centroid of each identity's samples (identities without samples absent).
    pub centroids: BTreeMap<IdentityId, Vec<f32>>,
}

impl Appearance {
    /// The centroid of the samples of `identity`'s tracklets that look like `seed` (a centroid)
    /// by at least `min` (so a wrongly linked tracklet does not shift the reference).
    pub fn reference(
        &self,
        set: &TrackSet,
        identity: IdentityId,
        seed: Option<&[f32]>,
        min: f32,
    ) -> Vec<f32> {
        let Some(id) = set.identity(identity) else {
            return Vec::new();
        };
        let mut parts: Vec<Vec<f32>> = Vec::new();
        for t in &id.tracklets {
            let s: Vec<&[f32]> = self
                .samples
                .get(&t.track)
                .into_iter()
                .flatten()
                .filter(|s| s.frame >= t.first_frame && s.frame <= t.last_frame)
                .map(|s| s.embedding.as_slice())
                .collect();
            if s.is_empty() {
                continue;
            }
            let c = centroid(s.iter().copied());
            if seed.is_none_or(|seed| cosine(seed, &c) >= min) {
                parts.extend(s.iter().map(|v| v.to_vec()));
            }
        }
        centroid(parts.iter().map(Vec::as_slice))
    }

    /// The centroid of the samples of one tracklet: frames `first..=last` of `track`.
    pub fn tracklet_centroid(&self, track: TrackId, first: u64, last: u64) -> Vec<f32> {
        centroid(
            self.samples
                .get(&track)
                .into_iter()
                .flatten()
                .filter(|s| s.frame >= first && s.frame <= last)
                .map(|s| s.embedding.as_slice()),
        )
    }
}

/// The boxes of every person track to embed, by frame: detected boxes at least `gap` frames
/// apart, tall enough, and not much covered by another person's box.
pub fn pick_samples(
    set: &TrackSet,
    options: &IdentityOptions,
) -> BTreeMap<u64, Vec<(TrackId, PixelRect)>> {
    let fps = if set.source.fps > 0.0 {
        set.source.fps
    } else {
        25.0
    };
    let gap = ((fps / options.samples_per_second.max(0.01)).round() as u64).max(1);
    let mut by_frame: BTreeMap<u64, Vec<(TrackId, PixelRect)>> = BTreeMap::new();
    let persons: Vec<_> = set
        .tracks
        .iter()
        .filter(|t| t.class == ObjectClass::Person)
        .collect();
    for t in &persons {
        let mut last: Option<u64> = None;
        for b in t
            .boxes
            .iter()
            .filter(|b| !b.predicted && b.h >= options.min_height && b.w >= 8.0)
        {
            if last.is_some_and(|l| b.frame < l + gap) {
                continue;
            }
            let r = b.rect();
            let covered = persons
                .iter()
                .filter(|o| o.id != t.id)
                .filter_map(|o| o.box_at(b.frame))
                .any(|o| o.rect().coverage_of(&r) > options.max_covered);
            if covered {
                continue;
            }
            if let Some(px) = r.to_pixels(set.source.width, set.source.height) {
                by_frame.entry(b.frame).or_default().push((t.id, px));
                last = Some(b.frame);
            }
        }
    }
    by_frame
}

/// Appearance embeddings by frame: each wanted box's key and its embedding.
type Embeddings<K> = BTreeMap<u64, Vec<(K, Vec<f32>)>>;

/// Decodes `input` once more and embeds the boxes of `wanted` (frame -> boxes, each with a
/// key), calling `progress` with `pass`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn embed_boxes<K: Copy>(
    input: &Path,
    wanted: &BTreeMap<u64, Vec<(K, PixelRect)>>,
    embedder: &mut dyn Embedder,
    decode: &DecodeOptions,
    max_frames: Option<u64>,
    cancel: &CancelToken,
    progress: Option<&ProgressFn>,
    (pass, pass_number, passes): (Pass, u32, u32),
) -> Result<Embeddings<K>, Error> {
    let mut out = BTreeMap::new();
    let Some(&last) = wanted.keys().next_back() else {
        return Ok(out);
    };
    let mut dec = Decoder::open(input, decode)
        .map_err(|e| Error::stage(input, Stage::Decode, At::NONE, e))?;
    let limit = max_frames.unwrap_or(u64::MAX).min(last + 1);
    while dec.frames_decoded() < limit {
        if cancel.is_cancelled() {
            return Err(Error::Cancelled {
                input: input.into(),
            });
        }
        let Some(frame) = dec.next_frame().map_err(|e| {
            Error::stage(
                input,
                Stage::Decode,
                At {
                    frame: Some(dec.frames_decoded()),
                    time: None,
                },
                e,
            )
        })?
        else {
            break;
        };
        if let Some(list) = wanted.get(&frame.index) {
            let rects: Vec<PixelRect> = list.iter().map(|(_, r)| *r).collect();
            let vs = embedder.embed_batch(&frame, &rects).map_err(|e| {
                Error::stage(input, Stage::Subject, At::frame(frame.index, frame.pts), e)
            })?;
            out.insert(frame.index, list.iter().map(|(k, _)| *k).zip(vs).collect());
        }
        if let Some(p) = progress {
            p(&Progress {
                pass,
                pass_number,
                passes,
                frames_done: frame.index + 1,
                frames_total: Some(limit),
            });
        }
    }
    Ok(out)
}

/// Appearance analysis: embeds sampled boxes of every person track of `set`, splits and links
/// the tracks into identities (stored in `set.identities`) and returns the samples and each
/// identity's centroid.
#[allow(clippy::too_many_arguments)]
pub fn identify(
    input: &Path,
    set: &mut TrackSet,
    embedder: &mut dyn Embedder,
    options: &IdentityOptions,
    decode: &DecodeOptions,
    max_frames: Option<u64>,
    cancel: &CancelToken,
    progress: Option<&ProgressFn>,
    pass: (Pass, u32, u32),
) -> Result<Appearance, Error> {
    let wanted = pick_samples(set, options);
    let got = embed_boxes(
        input, &wanted, embedder, decode, max_frames, cancel, progress, pass,
    )?;
    let mut samples: BTreeMap<TrackId, Vec<Sample>> = BTreeMap::new();
    for (frame, list) in got {
        for (track, embedding) in list {
            samples
                .entry(track)
                .or_default()
                .push(Sample { frame, embedding });
        }
    }
    set.identities = build_identities(set, &samples, &options.link);
    let mut app = Appearance {
        samples,
        centroids: BTreeMap::new(),
    };
    for id in &set.identities {
        let c = app.reference(set, id.id, None, 0.0);
        if !c.is_empty() {
            app.centroids.insert(id.id, c);
        }
    }
    Ok(app)
}

/// Consecutive frames, as the report gives them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrameSpan {
    /// First frame.
    pub first_frame: u64,
    /// Last frame (inclusive).
    pub last_frame: u64,
    /// Time of the first frame, seconds.
    pub first_pts: f64,
    /// Time of the last frame, seconds.
    pub last_pts: f64,
}

/// The kept people, frame by frame, after the per-frame check.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct SubjectFrames {
    /// Per frame, the (track, box) of a kept person cleared to stay visible.
    pub visible: BTreeMap<u64, Vec<(TrackId, Rect)>>,
    /// Frames where a kept person had a box.
    pub frames: u64,
    /// Frames where every box of a kept person was masked for uncertainty.
    pub uncertain: Vec<u64>,
    /// The lowest similarity of a box left visible (1.0 when none).
    pub min_visible_similarity: f32,
    /// Every box of a kept person that was checked, by (frame, track): why it stayed visible
    /// or was masked.
    pub checks: BTreeMap<(u64, TrackId), BoxCheck>,
}

/// The per-frame check of one box of a kept person.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoxCheck {
    /// The kept identity the box belongs to.
    pub identity: IdentityId,
    /// Cosine of the box's appearance to the identity's reference (-1 when not embedded:
    /// outside its tracklet's detections, or too small).
    pub own: f32,
    /// Best cosine to another (not kept) identity's centroid.
    pub other: f32,
    /// Whether `own` reached the threshold and the margin over `other`.
    pub confident: bool,
    /// Whether the boxes of the frames before and after also looked like the person.
    pub neighbours: bool,
    /// Whether the box moved plausibly from the frame before.
    pub steady: bool,
    /// Whether it failed a test narrowly but lies in a short dip between frames cleared
    /// outright (see [`IdentityOptions::bridge_frames`]).
    pub bridged: bool,
}

impl BoxCheck {
    /// Whether the box stays visible.
    pub fn passed(&self) -> bool {
        (self.confident && self.neighbours && self.steady) || self.bridged
    }
}

impl SubjectFrames {
    /// Whether the box of `track` on `frame` stays visible.
    pub fn shows(&self, frame: u64, track: TrackId) -> bool {
        self.visible
            .get(&frame)
            .is_some_and(|v| v.iter().any(|(t, _)| *t == track))
    }

    /// The uncertain frames as spans, with times from `set`.
    pub fn uncertain_spans(&self, set: &TrackSet) -> Vec<FrameSpan> {
        let fps = if set.source.fps > 0.0 {
            set.source.fps
        } else {
            25.0
        };
        let pts = |f: u64| {
            set.tracks
                .iter()
                .find_map(|t| t.box_at(f).map(|b| b.pts))
                .unwrap_or(f as f64 / fps)
        };
        let mut out: Vec<FrameSpan> = Vec::new();
        for &f in &self.uncertain {
            match out.last_mut() {
                Some(s) if s.last_frame + 1 == f => {
                    s.last_frame = f;
                    s.last_pts = pts(f);
                }
                _ => out.push(FrameSpan {
                    first_frame: f,
                    last_frame: f,
                    first_pts: pts(f),
                    last_pts: pts(f),
                }),
            }
        }
        out
    }
}

/// The per-frame check of the kept identities: decodes `input` once more and embeds every box
/// of theirs; a box stays visible only where it lies within its tracklet's detections (not a
/// lead-in or hold guess), is tall enough, looks like the person's reference (cosine at least
/// `verify_similarity`, and by `verify_margin` more than like anyone else), its neighbours
/// look like them too, and it did not jump. `references` gives each kept identity's reference.
#[allow(clippy::too_many_arguments)]
pub fn verify_subject(
    input: &Path,
    set: &TrackSet,
    references: &BTreeMap<IdentityId, Vec<f32>>,
    appearance: &Appearance,
    embedder: &mut dyn Embedder,
    options: &IdentityOptions,
    decode: &DecodeOptions,
    max_frames: Option<u64>,
    cancel: &CancelToken,
    progress: Option<&ProgressFn>,
    pass: (Pass, u32, u32),
) -> Result<SubjectFrames, Error> {
    let (w, h) = (set.source.width, set.source.height);
    // (identity, track, frame) -> box, for every box of a kept identity.
    let mut boxes: BTreeMap<(IdentityId, TrackId, u64), Rect> = BTreeMap::new();
    #[allow(clippy::type_complexity)] // frame -> the (identity, track) boxes to embed there
    let mut wanted: BTreeMap<u64, Vec<((IdentityId, TrackId), PixelRect)>> = BTreeMap::new();
    let mut present: BTreeSet<u64> = BTreeSet::new();
    for &iid in references.keys() {
        let Some(id) = set.identity(iid) else {
            continue;
        };
        for tl in &id.tracklets {
            let Some(t) = set.track(tl.track) else {
                continue;
            };
            let dets: Vec<u64> = t
                .boxes
                .iter()
                .filter(|b| !b.predicted && b.frame >= tl.first_frame && b.frame <= tl.last_frame)
                .map(|b| b.frame)
                .collect();
            let (Some(&d0), Some(&d1)) = (dets.first(), dets.last()) else {
                present.extend(
                    t.boxes
                        .iter()
                        .filter(|b| b.frame >= tl.first_frame && b.frame <= tl.last_frame)
                        .map(|b| b.frame),
                );
                continue;
            };
            for b in t
                .boxes
                .iter()
                .filter(|b| b.frame >= tl.first_frame && b.frame <= tl.last_frame)
            {
                present.insert(b.frame);
                if b.frame < d0 || b.frame > d1 || b.h < options.min_height {
                    continue;
                }
                boxes.insert((iid, tl.track, b.frame), b.rect());
                if let Some(px) = b.rect().to_pixels(w, h) {
                    wanted
                        .entry(b.frame)
                        .or_default()
                        .push(((iid, tl.track), px));
                }
            }
        }
    }
    // Detected boxes of other tracks lying inside a kept box: candidate duplicates of the
    // subject, embedded too (keyed by identity 0, which no person has).
    let kept_at: BTreeSet<(TrackId, u64)> = boxes.keys().map(|&(_, t, f)| (t, f)).collect();
    let mut inside_of: BTreeMap<(TrackId, u64), IdentityId> = BTreeMap::new();
    for (&(iid, track, f), rect) in &boxes {
        let grown = rect.dilate(
            crate::policy::DEFAULT_MARGIN,
            crate::policy::DEFAULT_MARGIN_PX,
        );
        for (t, b) in set.boxes_at(f) {
            if t.class != ObjectClass::Person
                || t.id == track
                || kept_at.contains(&(t.id, f))
                || grown.coverage_of(&b.rect()) < options.duplicate_inside
            {
                continue;
            }
            if inside_of.insert((t.id, f), iid).is_none()
                && !b.predicted
                && b.h >= options.min_height
                && let Some(px) = b.rect().to_pixels(w, h)
            {
                wanted.entry(f).or_default().push(((0, t.id), px));
            }
        }
    }
    let got = embed_boxes(
        input, &wanted, embedder, decode, max_frames, cancel, progress, pass,
    )?;
    // (identity, track, frame) -> (similarity to the reference, best similarity to another).
    let mut score: BTreeMap<(IdentityId, TrackId, u64), (f32, f32)> = BTreeMap::new();
    for (frame, list) in got {
        for ((iid, track), v) in list {
            // A candidate duplicate is scored against the person whose box it lies in.
            let iid = if iid == 0 {
                inside_of[&(track, frame)]
            } else {
                iid
            };
            let own = cosine(&v, &references[&iid]);
            let other = appearance
                .centroids
                .iter()
                .filter(|(k, _)| **k != iid && !references.contains_key(k))
                .map(|(_, c)| cosine(&v, c))
                .fold(-1.0f32, f32::max);
            score.insert((iid, track, frame), (own, other));
        }
    }
    let mut out = SubjectFrames {
        frames: 0,
        min_visible_similarity: 1.0,
        ..Default::default()
    };
    for (&(iid, track, f), rect) in &boxes {
        let Some(&(own, other)) = score.get(&(iid, track, f)) else {
            continue;
        };
        let confident = own >= options.verify_similarity && own >= other + options.verify_margin;
        let neighbour_ok = |g: u64| {
            score
                .get(&(iid, track, g))
                .is_none_or(|s| s.0 >= options.verify_neighbours)
        };
        let before = f.checked_sub(1).is_none_or(neighbour_ok);
        let after = neighbour_ok(f + 1);
        let steady = f
            .checked_sub(1)
            .and_then(|g| boxes.get(&(iid, track, g)))
            .is_none_or(|p| {
                let (a, b) = (p.center(), rect.center());
                ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt()
                    <= options.max_jump * rect.h.max(p.h)
            });
        out.checks.insert(
            (f, track),
            BoxCheck {
                identity: iid,
                own,
                other,
                confident,
                neighbours: before && after,
                steady,
                bridged: false,
            },
        );
    }
    // A short dip between confident frames of the same tracklet: a box that still looks like
    // the person (at least `verify_neighbours`, by the margin over anyone else) and moves
    // steadily from the frame before and to the frame after, with confident, steady boxes
    // within `bridge_frames` on both sides. An id switch does not come back, so the frames
    // next to it are not bridged.
    let strict = |iid: IdentityId, track: TrackId, g: u64| {
        out.checks
            .get(&(g, track))
            .is_some_and(|c| c.identity == iid && c.confident && c.steady)
    };
    let jump_ok = |a: &Rect, b: &Rect| {
        let (p, q) = (a.center(), b.center());
        ((p.0 - q.0).powi(2) + (p.1 - q.1).powi(2)).sqrt() <= options.max_jump * a.h.max(b.h)
    };
    let mut bridged: Vec<(u64, TrackId)> = Vec::new();
    for (&(iid, track, f), rect) in &boxes {
        let Some(c) = out.checks.get(&(f, track)) else {
            continue;
        };
        if c.passed()
            || c.own < options.verify_neighbours
            || c.own < c.other + options.verify_margin
        {
            continue;
        }
        let moves = |g: u64| {
            boxes
                .get(&(iid, track, g))
                .is_some_and(|n| jump_ok(n, rect))
        };
        let k = options.bridge_frames;
        let before = (1..=k)
            .filter_map(|d| f.checked_sub(d))
            .any(|g| strict(iid, track, g));
        let after = (1..=k).any(|d| strict(iid, track, f + d));
        if k > 0 && before && after && f.checked_sub(1).is_some_and(moves) && moves(f + 1) {
            bridged.push((f, track));
        }
    }
    for (f, track) in bridged {
        if let Some(c) = out.checks.get_mut(&(f, track)) {
            c.bridged = true;
        }
    }
    for (&(f, track), c) in &out.checks {
        if c.passed() {
            let rect = boxes[&(c.identity, track, f)];
            out.visible.entry(f).or_default().push((track, rect));
            out.min_visible_similarity = out.min_visible_similarity.min(c.own);
        }
    }
    // The subject's duplicates: boxes of other tracks inside a cleared box of theirs.
    let every = u64::from(set.settings.every.max(1));
    for t in set.tracks.iter().filter(|t| t.class == ObjectClass::Person) {
        // Whether the track's last detection was a duplicate of a kept person.
        let mut last_duplicate = false;
        for b in &t.boxes {
            // The kept person's cleared box this one lies in: (identity, whether detected here).
            let container = inside_of.get(&(t.id, b.frame)).and_then(|&iid| {
                out.visible.get(&b.frame)?.iter().find_map(|(vt, r)| {
                    let inside = *vt != t.id
                        && boxes.contains_key(&(iid, *vt, b.frame))
                        && r.dilate(
                            crate::policy::DEFAULT_MARGIN,
                            crate::policy::DEFAULT_MARGIN_PX,
                        )
                        .coverage_of(&b.rect())
                            >= options.duplicate_inside;
                    inside.then(|| {
                        (
                            iid,
                            set.track(*vt)
                                .and_then(|k| k.box_at(b.frame))
                                .is_some_and(|k| !k.predicted),
                        )
                    })
                })
            });
            // A held box: the track is lost (no detection within a detection interval).
            let held = b.predicted
                && !t
                    .boxes
                    .iter()
                    .any(|d| !d.predicted && d.frame.abs_diff(b.frame) < every);
            let duplicate = match (container, b.predicted) {
                (Some((iid, _)), false) => {
                    score
                        .get(&(iid, t.id, b.frame))
                        .is_some_and(|&(own, other)| {
                            own >= options.verify_neighbours && own >= other + options.verify_margin
                        })
                }
                // The held box of a duplicate, or of a lost track sliding over the subject
                // where the detector, running on this frame, finds only the subject.
                (Some((_, subject_detected)), true) => last_duplicate || (held && subject_detected),
                (None, _) => false,
            };
            if !b.predicted {
                last_duplicate = duplicate;
            }
            if duplicate && !out.shows(b.frame, t.id) {
                out.visible
                    .entry(b.frame)
                    .or_default()
                    .push((t.id, b.rect()));
            }
        }
    }
    out.frames = present.len() as u64;
    out.uncertain = present
        .iter()
        .copied()
        .filter(|f| !out.visible.contains_key(f))
        .collect();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use obscura_core::{Rational, Timestamp};
    use obscura_track::{
        AnalysisSettings, BoxSource, SourceInfo, TrackBox, TrackSetBuilder, TrackUpdate,
        TrackerConfig,
    };

    #[test]
    fn samples_skip_small_covered_and_close_boxes() {
        let tb = Rational::new(1, 10).unwrap();
        let mut b = TrackSetBuilder::new();
        for f in 0..30u64 {
            let mut boxes = vec![
                TrackBox {
                    id: 1,
                    class: ObjectClass::Person,
                    rect: Rect::new(10.0, 10.0, 30.0, 80.0),
                    score: 0.9,
                    source: BoxSource::Detected,
                    detection_index: None,
                    parent: None,
                },
                TrackBox {
                    id: 2,
                    class: ObjectClass::Person,
                    rect: Rect::new(100.0, 10.0, 8.0, 20.0),
                    score: 0.9,
                    source: BoxSource::Detected,
                    detection_index: None,
                    parent: None,
                },
            ];
            if f >= 20 {
                // Track 3 stands in front of track 1 from frame 20 on.
                boxes.push(TrackBox {
                    id: 3,
                    class: ObjectClass::Person,
                    rect: Rect::new(15.0, 10.0, 30.0, 80.0),
                    score: 0.9,
                    source: BoxSource::Detected,
                    detection_index: None,
                    parent: None,
                });
            }
            b.push(
                &TrackUpdate {
                    frame: f,
                    tracks: boxes,
                },
                Timestamp::new(f as i64, tb),
            );
        }
        let source = SourceInfo {
            path: "x".into(),
            sha256: None,
            width: 200,
            height: 100,
            frames: 30,
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
        let set = b.finish(source, settings, tb);
        let picks = pick_samples(&set, &IdentityOptions::default());
        let of = |id: TrackId| {
            picks
                .iter()
                .filter(|(_, v)| v.iter().any(|(t, _)| *t == id))
                .map(|(f, _)| *f)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            of(1),
            vec![0, 3, 6, 9, 12, 15, 18],
            "every 3rd frame at 10 fps, none while covered"
        );
        assert!(of(2).is_empty(), "too small");
    }
}
