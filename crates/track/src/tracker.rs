//! The ByteTrack-family tracker.

use obscura_core::{Detection, ObjectClass, Rect};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::kalman::KalmanBox;

/// A track identifier. Never reused within a tracker.
pub type TrackId = u64;

/// Source of track identifiers (pluggable, e.g. to continue numbering across files).
/// Implementations must never return the same id twice.
pub trait IdGenerator: Send {
    /// The next unused identifier.
    fn next_id(&mut self) -> TrackId;
}

/// 1, 2, 3, ...: the default generator.
#[derive(Debug, Clone)]
pub struct SequentialIds {
    next: TrackId,
}

impl SequentialIds {
    /// Starts at `first`.
    pub fn starting_at(first: TrackId) -> Self {
        Self { next: first }
    }
}

impl Default for SequentialIds {
    fn default() -> Self {
        Self::starting_at(1)
    }
}

impl IdGenerator for SequentialIds {
    fn next_id(&mut self) -> TrackId {
        let id = self.next;
        self.next += 1;
        id
    }
}

/// Tracker settings. Frame counts are in frames of the video (not detection steps).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrackerConfig {
    /// Detections at or above this score take part in the first association stage (0.5).
    pub high_score: f32,
    /// Detections below this are ignored; those between `low_score` and `high_score` only
    /// extend existing tracks in the second stage (0.1).
    pub low_score: f32,
    /// An unmatched detection at or above this score starts a new track (0.12, equal to the
    /// person detector's threshold so that every detection it reports is masked).
    pub new_track_score: f32,
    /// Minimum IoU of a first-stage match (0.2, ByteTrack's `match_thresh` 0.8 as a cost).
    pub match_iou: f32,
    /// Minimum IoU of a second-stage (low-score) match (0.5).
    pub low_match_iou: f32,
    /// Buffer of the buffered IoU used for matching (C-BIoU): both boxes are widened by this
    /// fraction of their size on each side before the IoU, so fast or low-frame-rate motion
    /// still overlaps (0.3).
    pub iou_buffer: f32,
    /// Absolute buffer in pixels added on each side (4): tiny boxes (distant faces a few pixels
    /// wide) move by more than their size between frames.
    pub iou_buffer_px: f32,
    /// Extra buffer per frame since the track was last matched, for detection every Nth frame
    /// and re-finding lost tracks (0.05); the total buffer is capped at 1.0.
    pub iou_buffer_per_frame: f32,
    /// Frames a track that lost its detection keeps being reported with its predicted box,
    /// so a mask never blinks off across short misses (15).
    pub hold_frames: u32,
    /// Frames a lost track can still be re-found under its old id (30, ByteTrack's buffer);
    /// at least `hold_frames`.
    pub max_lost_frames: u32,
    /// A person detection matched to a track followed on the previous detection, but
    /// narrower or shorter than this share of the track's predicted box (0.8), is taken for
    /// part of the person (legs lost against the floor, a body half found): the box reported
    /// is the hull of both, so a person's mask never shrinks by more than this from one
    /// detection to the next. The motion model still follows the detection, so a person
    /// who really is hidden from now on gets a tighter box over the next detections. 0
    /// reports detections as they are.
    #[serde(default = "default_shrink_floor")]
    pub shrink_floor: f32,
}

/// [`TrackerConfig::shrink_floor`] of tracks files written before it existed.
fn default_shrink_floor() -> f32 {
    0.8
}

impl Default for TrackerConfig {
    fn default() -> Self {
        Self {
            high_score: 0.5,
            low_score: 0.1,
            new_track_score: 0.12,
            match_iou: 0.2,
            low_match_iou: 0.5,
            iou_buffer: 0.3,
            iou_buffer_px: 4.0,
            iou_buffer_per_frame: 0.05,
            hold_frames: 15,
            max_lost_frames: 30,
            shrink_floor: default_shrink_floor(),
        }
    }
}

impl TrackerConfig {
    /// Checks the settings are consistent.
    pub fn validate(&self) -> Result<(), Error> {
        let unit = |v: f32| (0.0..=1.0).contains(&v);
        if !(unit(self.high_score)
            && unit(self.low_score)
            && unit(self.new_track_score)
            && unit(self.match_iou)
            && unit(self.low_match_iou)
            && unit(self.shrink_floor))
        {
            return Err(Error::InvalidConfig {
                reason: format!("scores and IoUs must lie in [0, 1]: {self:?}"),
            });
        }
        if !(self.iou_buffer_px >= 0.0 && self.iou_buffer_px <= 1000.0) {
            return Err(Error::InvalidConfig {
                reason: format!("iou_buffer_px must lie in [0, 1000]: {self:?}"),
            });
        }
        if !(self.iou_buffer >= 0.0
            && self.iou_buffer <= 1.0
            && self.iou_buffer_per_frame >= 0.0
            && self.iou_buffer_per_frame <= 1.0)
        {
            return Err(Error::InvalidConfig {
                reason: format!("iou buffers must lie in [0, 1]: {self:?}"),
            });
        }
        if self.low_score > self.high_score {
            return Err(Error::InvalidConfig {
                reason: format!(
                    "low_score {} exceeds high_score {}",
                    self.low_score, self.high_score
                ),
            });
        }
        if self.max_lost_frames < self.hold_frames {
            return Err(Error::InvalidConfig {
                reason: format!(
                    "max_lost_frames {} is below hold_frames {}",
                    self.max_lost_frames, self.hold_frames
                ),
            });
        }
        Ok(())
    }
}

/// How a reported box was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BoxSource {
    /// Matched to a detection on this frame.
    Detected,
    /// Predicted by the motion model on a frame without detection, or a detection frame
    /// where the track was not matched but is still held.
    Predicted,
}

/// One live track on one frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackBox {
    /// Track identifier.
    pub id: TrackId,
    /// Object class.
    pub class: ObjectClass,
    /// The box: the matched detection's box when detected, else the prediction.
    pub rect: Rect,
    /// Score of the last matched detection.
    pub score: f32,
    /// Detected or predicted.
    pub source: BoxSource,
    /// Index into the detections passed to [`Tracker::step`] when detected on this frame.
    pub detection_index: Option<usize>,
    /// For a face: the person track that contains it, where known.
    pub parent: Option<TrackId>,
}

/// The tracker's output for one frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackUpdate {
    /// Frame index.
    pub frame: u64,
    /// Every reported track, ordered by id.
    pub tracks: Vec<TrackBox>,
}

#[derive(Debug, Clone)]
struct Track {
    id: TrackId,
    class: ObjectClass,
    kf: KalmanBox,
    score: f32,
    last_matched: u64,
    /// Whether the most recent detection frame matched this track.
    matched_last_detection: bool,
    parent: Option<TrackId>,
    /// The box reported on the last frame it was matched ([`TrackerConfig::shrink_floor`]).
    shown: Rect,
}

/// `detection`, or its hull with `predicted` when it is narrower or shorter than `floor`
/// times the prediction ([`TrackerConfig::shrink_floor`]).
fn hold_extent(detection: Rect, predicted: Rect, floor: f32) -> Rect {
    if detection.w < floor * predicted.w || detection.h < floor * predicted.h {
        detection.hull(&predicted)
    } else {
        detection
    }
}

/// A ByteTrack-family multi-object tracker: Kalman constant-velocity motion, two-stage IoU
/// association (high-score detections first, then low-score ones for the remaining tracks),
/// greedy matching by IoU with deterministic tie-breaking (higher IoU, then lower track id,
/// then lower detection index), per-class tracks. Pure and deterministic.
pub struct Tracker {
    config: TrackerConfig,
    ids: Box<dyn IdGenerator>,
    tracks: Vec<Track>,
    last_frame: Option<u64>,
}

impl std::fmt::Debug for Tracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracker")
            .field("config", &self.config)
            .field("tracks", &self.tracks.len())
            .finish_non_exhaustive()
    }
}

impl Tracker {
    /// A tracker numbering tracks 1, 2, 3, ...
    pub fn new(config: TrackerConfig) -> Result<Self, Error> {
        Self::with_ids(config, Box::new(SequentialIds::default()))
    }

    /// A tracker with a custom id generator.
    pub fn with_ids(config: TrackerConfig, ids: Box<dyn IdGenerator>) -> Result<Self, Error> {
        config.validate()?;
        Ok(Self {
            config,
            ids,
            tracks: Vec::new(),
            last_frame: None,
        })
    }

    /// The settings in use.
    pub fn config(&self) -> &TrackerConfig {
        &self.config
    }

    /// Advances to `frame` (strictly increasing; frames skipped are predicted through) and,
    /// when `detections` is given (a detection frame), associates them. Returns the boxes of
    /// every reported track on this frame.
    pub fn step(
        &mut self,
        frame: u64,
        detections: Option<&[Detection]>,
    ) -> Result<TrackUpdate, Error> {
        let steps = match self.last_frame {
            Some(last) if frame <= last => {
                return Err(Error::InvalidConfig {
                    reason: format!("frame {frame} does not follow frame {last}"),
                });
            }
            Some(last) => frame - last,
            None => 1,
        };
        self.last_frame = Some(frame);
        for t in &mut self.tracks {
            for _ in 0..steps {
                t.kf.predict();
            }
        }
        let mut matched: Vec<(usize, usize)> = Vec::new(); // (track position, detection index)
        if let Some(dets) = detections {
            let (high, low): (Vec<usize>, Vec<usize>) = (0..dets.len())
                .filter(|&i| dets[i].score >= self.config.low_score && dets[i].score.is_finite())
                .partition(|&i| dets[i].score >= self.config.high_score);
            let all_tracks: Vec<usize> = (0..self.tracks.len()).collect();
            let first = self.associate(frame, &all_tracks, &high, dets, self.config.match_iou);
            let left_tracks: Vec<usize> = all_tracks
                .iter()
                .copied()
                .filter(|t| !first.iter().any(|m| m.0 == *t))
                .collect();
            // Second stage: only tracks matched on the previous detection frame (ByteTrack
            // pairs low-score boxes with tracked, not lost, tracks).
            let recent: Vec<usize> = left_tracks
                .iter()
                .copied()
                .filter(|&t| self.tracks[t].matched_last_detection)
                .collect();
            let second = self.associate(frame, &recent, &low, dets, self.config.low_match_iou);
            matched.extend(first);
            matched.extend(second);
            // Third stage: a lost track may take an unmatched low-score detection that would
            // otherwise start a new track (it is confident enough to be masked anyway), so a
            // person re-detected weakly after an occlusion keeps their id.
            let lost: Vec<usize> = left_tracks
                .iter()
                .copied()
                .filter(|t| !matched.iter().any(|m| m.0 == *t))
                .collect();
            let spare: Vec<usize> = low
                .iter()
                .copied()
                .filter(|&d| {
                    dets[d].score >= self.config.new_track_score
                        && !matched.iter().any(|m| m.1 == d)
                })
                .collect();
            let third = self.associate(frame, &lost, &spare, dets, self.config.match_iou);
            matched.extend(third);
            let floor = self.config.shrink_floor;
            for &(t, d) in &matched {
                let tr = &mut self.tracks[t];
                let followed = tr.matched_last_detection && tr.class == ObjectClass::Person;
                tr.shown = if followed {
                    hold_extent(dets[d].rect, tr.kf.rect(), floor)
                } else {
                    dets[d].rect
                };
            }
            for t in &mut self.tracks {
                t.matched_last_detection = false;
            }
            for &(t, d) in &matched {
                let tr = &mut self.tracks[t];
                tr.kf.update(&dets[d].rect);
                tr.score = dets[d].score;
                tr.last_matched = frame;
                tr.matched_last_detection = true;
            }
            // New tracks from unmatched confident detections, in detection order.
            for (d, det) in dets.iter().enumerate() {
                if det.score >= self.config.new_track_score
                    && det.score.is_finite()
                    && !matched.iter().any(|m| m.1 == d)
                {
                    let id = self.ids.next_id();
                    self.tracks.push(Track {
                        id,
                        class: det.class,
                        kf: KalmanBox::new(&det.rect),
                        score: det.score,
                        last_matched: frame,
                        matched_last_detection: true,
                        parent: None,
                        shown: det.rect,
                    });
                    matched.push((self.tracks.len() - 1, d));
                }
            }
            // Forget tracks lost for too long; stop lost tracks drifting past the hold time.
            let max_lost = u64::from(self.config.max_lost_frames);
            let hold = u64::from(self.config.hold_frames);
            let keep: Vec<bool> = self
                .tracks
                .iter()
                .map(|t| t.matched_last_detection || frame - t.last_matched <= max_lost)
                .collect();
            for t in &mut self.tracks {
                if !t.matched_last_detection && frame - t.last_matched > hold {
                    t.kf.stop();
                }
            }
            let mut remap = Vec::with_capacity(self.tracks.len());
            let mut n = 0;
            for &k in &keep {
                remap.push(if k { Some(n) } else { None });
                n += usize::from(k);
            }
            matched = matched
                .into_iter()
                .filter_map(|(t, d)| remap[t].map(|t| (t, d)))
                .collect();
            let mut it = keep.iter();
            self.tracks
                .retain(|_| *it.next().expect("one flag per track"));
        }
        self.assign_parents(&matched, detections);
        let hold = u64::from(self.config.hold_frames);
        let mut out: Vec<TrackBox> = Vec::new();
        for (pos, t) in self.tracks.iter().enumerate() {
            let det = matched.iter().find(|m| m.0 == pos).map(|m| m.1);
            if det.is_none() && !t.matched_last_detection && frame - t.last_matched > hold {
                continue;
            }
            let (rect, source) = match (det, detections) {
                (Some(_), Some(_)) => (t.shown, BoxSource::Detected),
                _ => (t.kf.rect(), BoxSource::Predicted),
            };
            out.push(TrackBox {
                id: t.id,
                class: t.class,
                rect,
                score: t.score,
                source,
                detection_index: det,
                parent: t.parent,
            });
        }
        out.sort_by_key(|b| b.id);
        Ok(TrackUpdate { frame, tracks: out })
    }

    /// Greedy buffered-IoU matching of `tracks` x `dets` (same class only, IoU >= `min_iou`).
    fn associate(
        &self,
        frame: u64,
        tracks: &[usize],
        dets_idx: &[usize],
        dets: &[Detection],
        min_iou: f32,
    ) -> Vec<(usize, usize)> {
        let mut pairs: Vec<(f32, TrackId, usize, usize)> = Vec::new();
        for &t in tracks {
            let tr = &self.tracks[t];
            let gap = frame
                .saturating_sub(tr.last_matched)
                .saturating_sub(1)
                .min(100) as f32;
            let b = (self.config.iou_buffer + self.config.iou_buffer_per_frame * gap).min(1.0);
            let px = self.config.iou_buffer_px;
            let pred = tr.kf.rect().dilate(b, px);
            for &d in dets_idx {
                if dets[d].class != tr.class {
                    continue;
                }
                let iou = pred.iou(&dets[d].rect.dilate(b, px));
                if iou >= min_iou && iou > 0.0 {
                    pairs.push((iou, tr.id, t, d));
                }
            }
        }
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.3.cmp(&b.3)));
        let (mut used_t, mut used_d) = (Vec::new(), Vec::new());
        let mut out = Vec::new();
        for (_, _, t, d) in pairs {
            if !used_t.contains(&t) && !used_d.contains(&d) {
                used_t.push(t);
                used_d.push(d);
                out.push((t, d));
            }
        }
        out
    }

    /// Links each face track to the person track whose upper half holds most of the face
    /// (ties: lower id); keeps the previous parent when no person contains it now.
    fn assign_parents(&mut self, matched: &[(usize, usize)], detections: Option<&[Detection]>) {
        let boxes: Vec<Rect> = self
            .tracks
            .iter()
            .enumerate()
            .map(
                |(p, t)| match (matched.iter().find(|m| m.0 == p), detections) {
                    (Some(m), Some(d)) => d[m.1].rect,
                    _ => t.kf.rect(),
                },
            )
            .collect();
        let persons: Vec<(TrackId, Rect)> = self
            .tracks
            .iter()
            .zip(&boxes)
            .filter(|(t, _)| t.class == ObjectClass::Person)
            .map(|(t, r)| (t.id, Rect::new(r.x, r.y, r.w, r.h * 0.6)))
            .collect();
        for (t, face) in self.tracks.iter_mut().zip(&boxes) {
            if t.class != ObjectClass::Face {
                continue;
            }
            let best = persons
                .iter()
                .map(|(id, upper)| (upper.coverage_of(face), *id))
                .filter(|(c, _)| *c >= 0.5)
                .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
            if let Some((_, id)) = best {
                t.parent = Some(id);
            }
        }
    }
}
