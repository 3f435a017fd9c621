//! [`TrackSet`]: every track of a whole file with its box on every frame it is live, the
//! format of `obscura tracks -o` (docs/TRACKS-JSON.md). A renderer can mask each frame
//! from a TrackSet alone.

use std::collections::BTreeMap;

use obscura_core::{ModelId, ObjectClass, Rational, Rect, Timestamp};
use serde::{Deserialize, Serialize};

use crate::identity::{IdentityId, IdentityRecord};
use crate::tracker::{BoxSource, TrackId, TrackUpdate, TrackerConfig};

/// Format tag written into every TrackSet.
pub const FORMAT: &str = "obscura-tracks/1";

/// The analysed file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// Path as given.
    pub path: String,
    /// sha256 of the file, when computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Frame width in pixels.
    pub width: u32,
    /// Frame height in pixels.
    pub height: u32,
    /// Frames decoded.
    pub frames: u64,
    /// Time base of `pts_ticks`, as `num/den`.
    pub time_base: String,
    /// Average frame rate (frames per second), for display.
    pub fps: f64,
}

/// The settings an analysis ran with, for manifests and reproducibility.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisSettings {
    /// Detection ran on every `every`-th frame (1 = all).
    pub every: u32,
    /// Classes searched for.
    pub targets: Vec<ObjectClass>,
    /// Tracker settings.
    pub tracker: TrackerConfig,
    /// Detector thresholds by name (`person_score`, `face_score`, ...).
    pub thresholds: BTreeMap<String, f32>,
    /// Models that ran, with their sha256.
    pub models: Vec<ModelId>,
}

/// One box of a track on one frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoxRecord {
    /// Frame index (0-based, decode order of presentation).
    pub frame: u64,
    /// Presentation time in seconds (display; the exact value is `pts_ticks * time_base`).
    pub pts: f64,
    /// Exact presentation time in ticks of the source's `time_base`.
    pub pts_ticks: i64,
    /// Left edge, source pixels.
    pub x: f32,
    /// Top edge, source pixels.
    pub y: f32,
    /// Width, source pixels.
    pub w: f32,
    /// Height, source pixels.
    pub h: f32,
    /// Score of the detection (for a predicted box, of the last matched detection).
    pub score: f32,
    /// True when the box is predicted/interpolated rather than detected on this frame.
    pub predicted: bool,
}

impl BoxRecord {
    /// The box as a rectangle.
    pub fn rect(&self) -> Rect {
        Rect::new(self.x, self.y, self.w, self.h)
    }
}

/// One track over the whole file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackRecord {
    /// Track identifier (unique in the set).
    pub id: TrackId,
    /// Object class (`person`, `face`).
    pub class: ObjectClass,
    /// For a face track: the person track it belongs to, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<TrackId>,
    /// First frame with a box.
    pub first_frame: u64,
    /// Last frame with a box.
    pub last_frame: u64,
    /// Time of the first box, seconds.
    pub first_pts: f64,
    /// Time of the last box, seconds.
    pub last_pts: f64,
    /// Boxes, one per frame from `first_frame` to `last_frame`, in frame order.
    pub boxes: Vec<BoxRecord>,
}

impl TrackRecord {
    /// The detected (not predicted) box with the highest score; ties: earliest.
    pub fn best_box(&self) -> Option<&BoxRecord> {
        self.boxes
            .iter()
            .filter(|b| !b.predicted)
            .fold(None, |best: Option<&BoxRecord>, b| match best {
                Some(x) if x.score >= b.score => Some(x),
                _ => Some(b),
            })
    }

    /// The box on `frame`, if the track is live there.
    pub fn box_at(&self, frame: u64) -> Option<&BoxRecord> {
        self.boxes
            .binary_search_by_key(&frame, |b| b.frame)
            .ok()
            .map(|i| &self.boxes[i])
    }

    /// Number of detected boxes.
    pub fn detections(&self) -> usize {
        self.boxes.iter().filter(|b| !b.predicted).count()
    }
}

/// Every track of a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackSet {
    /// [`FORMAT`].
    pub format: String,
    /// The analysed file.
    pub source: SourceInfo,
    /// How it was analysed.
    pub settings: AnalysisSettings,
    /// Tracks ordered by id.
    pub tracks: Vec<TrackRecord>,
    /// The people: person tracks split at id switches and linked across gaps
    /// ([`crate::identity`]); empty when no appearance analysis ran.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identities: Vec<IdentityRecord>,
}

impl TrackSet {
    /// Boxes of every track live on `frame`: `(track, box)`, ordered by track id.
    pub fn boxes_at(&self, frame: u64) -> Vec<(&TrackRecord, &BoxRecord)> {
        self.tracks
            .iter()
            .filter(|t| t.first_frame <= frame && frame <= t.last_frame)
            .filter_map(|t| t.box_at(frame).map(|b| (t, b)))
            .collect()
    }

    /// The track with `id`.
    pub fn track(&self, id: TrackId) -> Option<&TrackRecord> {
        self.tracks.iter().find(|t| t.id == id)
    }

    /// The identity with `id`.
    pub fn identity(&self, id: IdentityId) -> Option<&IdentityRecord> {
        self.identities.iter().find(|i| i.id == id)
    }

    /// The identity that frame `frame` of track `track` belongs to.
    pub fn identity_of(&self, track: TrackId, frame: u64) -> Option<&IdentityRecord> {
        self.identities.iter().find(|i| i.holds(track, frame))
    }
}

/// Raw boxes of one track as pushed: (frame, box, score, predicted).
type RawBoxes = Vec<(u64, Rect, f32, bool)>;

/// Collects [`TrackUpdate`]s frame by frame and builds the [`TrackSet`]. On finishing, the
/// predicted boxes between two detections of a track (and any gap where a lost track was
/// re-found) are replaced by linear interpolation of the two detected boxes, so every frame
/// between a track's detections has a box.
#[derive(Debug, Clone, Default)]
pub struct TrackSetBuilder {
    lead_in: u64,
    frames: Vec<(u64, Timestamp)>,
    tracks: BTreeMap<TrackId, (ObjectClass, Option<TrackId>, RawBoxes)>,
}

impl TrackSetBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Also gives each track its first detected box on the `frames` frames before its first
    /// detection (marked predicted). Offline analysis can look back: a person entering at the
    /// frame edge is usually visible for a few frames before the detector fires, and the
    /// first box sits where they entered.
    pub fn with_lead_in(mut self, frames: u64) -> Self {
        self.lead_in = frames;
        self
    }

    /// Records the tracker's output for one frame at `pts`.
    pub fn push(&mut self, update: &TrackUpdate, pts: Timestamp) {
        self.frames.push((update.frame, pts));
        for b in &update.tracks {
            let e = self
                .tracks
                .entry(b.id)
                .or_insert_with(|| (b.class, None, Vec::new()));
            if b.parent.is_some() {
                e.1 = b.parent;
            }
            e.2.push((
                update.frame,
                b.rect,
                b.score,
                b.source == BoxSource::Predicted,
            ));
        }
    }

    /// Builds the set; `time_base` is the one `pts_ticks` are expressed in.
    pub fn finish(
        self,
        source: SourceInfo,
        settings: AnalysisSettings,
        time_base: Rational,
    ) -> TrackSet {
        let pts_of: BTreeMap<u64, Timestamp> = self.frames.iter().copied().collect();
        let record = |frame: u64, r: Rect, score: f32, predicted: bool| {
            let ts = pts_of.get(&frame).copied().unwrap_or_else(Timestamp::zero);
            let exact = ts.rescale_floor(time_base);
            BoxRecord {
                frame,
                pts: ts.as_secs_f64(),
                pts_ticks: exact.ticks,
                x: r.x,
                y: r.y,
                w: r.w,
                h: r.h,
                score,
                predicted,
            }
        };
        let mut tracks = Vec::new();
        for (id, (class, parent, raw)) in self.tracks {
            let mut boxes: Vec<BoxRecord> = Vec::with_capacity(raw.len());
            let mut last_det: Option<(u64, Rect, f32)> = None;
            for (frame, rect, score, predicted) in raw {
                if !predicted {
                    if let Some((f0, r0, s0)) = last_det {
                        // Interpolate over every frame strictly between the two detections.
                        boxes.retain(|b| b.frame <= f0);
                        for (&f, _) in pts_of.range(f0 + 1..frame) {
                            let t = (f - f0) as f32 / (frame - f0) as f32;
                            let lerp = |a: f32, b: f32| a + (b - a) * t;
                            let r = Rect::new(
                                lerp(r0.x, rect.x),
                                lerp(r0.y, rect.y),
                                lerp(r0.w, rect.w),
                                lerp(r0.h, rect.h),
                            );
                            boxes.push(record(f, r, s0.min(score), true));
                        }
                    }
                    last_det = Some((frame, rect, score));
                }
                boxes.push(record(frame, rect, score, predicted));
            }
            if let Some(first) = boxes.first().cloned() {
                let from = first.frame.saturating_sub(self.lead_in);
                let mut lead: Vec<BoxRecord> = pts_of
                    .range(from..first.frame)
                    .map(|(&f, _)| record(f, first.rect(), first.score, true))
                    .collect();
                lead.append(&mut boxes);
                boxes = lead;
            }
            let (Some(first), Some(last)) = (boxes.first(), boxes.last()) else {
                continue;
            };
            tracks.push(TrackRecord {
                id,
                class,
                parent,
                first_frame: first.frame,
                last_frame: last.frame,
                first_pts: first.pts,
                last_pts: last.pts,
                boxes,
            });
        }
        TrackSet {
            format: FORMAT.into(),
            source,
            settings,
            tracks,
            identities: Vec::new(),
        }
    }
}
