//! What a reviewer adds by hand: manual masks (boxes moved between keyframes, or fixed
//! regions for a time range) and identity splits and merges.
//!
//! Manual masks only ever **add** masking: they are painted, in the policy's style and
//! margin, on top of whatever the detector-driven mask already hides, on every output frame
//! whose time they cover. Nothing here can uncover a pixel.
//!
//! Times are microseconds of *source* time (the clip the reviewer looked at). A clip cut from
//! that source (an export's request window) starts at another time: [`ManualMasks::shifted`]
//! moves the masks into the clip's own time.

use obscura_core::{Frame, Rational, Rect, Timestamp};
use obscura_render::Mask;
use obscura_track::{IdentityId, IdentityRecord, TrackSet, TrackletRecord};

use std::path::Path;

use crate::error::Error;
use crate::keep::KeepAt;
use crate::masker::Masker;
use crate::policy::Policy;
use crate::subject;

/// One keyframe of a moving manual box: where the box is at `time_us`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Keyframe {
    /// Source time, microseconds.
    pub time_us: i64,
    /// The box, source-frame pixels.
    pub rect: Rect,
}

/// The outline of one manual mask over time.
#[derive(Debug, Clone, PartialEq)]
pub enum ManualShape {
    /// A box given on one or more frames, linearly interpolated between consecutive
    /// keyframes; it covers the frames from the first keyframe's time to the last one's,
    /// both included (a single keyframe covers exactly the frame at its time).
    Keyframes(Vec<Keyframe>),
    /// A fixed box over the half-open time range `[from_us, until_us)`.
    Region {
        /// Start, microseconds (included).
        from_us: i64,
        /// End, microseconds (excluded).
        until_us: i64,
        /// The box, source-frame pixels.
        rect: Rect,
    },
}

/// A manual mask: a reviewer's name for it and its outline over time.
#[derive(Debug, Clone, PartialEq)]
pub struct ManualMask {
    /// The reviewer's label (unique within an edits file).
    pub id: String,
    /// Where it is, when.
    pub shape: ManualShape,
}

impl ManualMask {
    /// The box this mask covers at source time `t_us`, if any.
    pub fn rect_at(&self, t_us: i64) -> Option<Rect> {
        match &self.shape {
            ManualShape::Region {
                from_us,
                until_us,
                rect,
            } => (*from_us <= t_us && t_us < *until_us).then_some(*rect),
            ManualShape::Keyframes(k) => {
                let (first, last) = (k.first()?, k.last()?);
                if t_us < first.time_us || t_us > last.time_us {
                    return None;
                }
                let i = k.iter().rposition(|f| f.time_us <= t_us)?;
                let a = k[i];
                let Some(b) = k.get(i + 1) else {
                    return Some(a.rect);
                };
                let t = (t_us - a.time_us) as f64 / (b.time_us - a.time_us) as f64;
                let l = |p: f32, q: f32| (f64::from(p) + (f64::from(q) - f64::from(p)) * t) as f32;
                Some(Rect::new(
                    l(a.rect.x, b.rect.x),
                    l(a.rect.y, b.rect.y),
                    l(a.rect.w, b.rect.w),
                    l(a.rect.h, b.rect.h),
                ))
            }
        }
    }

    fn validate(&self) -> Result<(), Error> {
        let bad = |reason: String| Error::InvalidSetting {
            name: "manual mask",
            value: self.id.clone(),
            reason,
        };
        let check_rect = |r: &Rect| -> Result<(), Error> {
            if !(r.x.is_finite() && r.y.is_finite() && r.w.is_finite() && r.h.is_finite())
                || r.w <= 0.0
                || r.h <= 0.0
            {
                return Err(bad(format!(
                    "box {r:?} must have finite coordinates and a positive width and height"
                )));
            }
            Ok(())
        };
        match &self.shape {
            ManualShape::Region {
                from_us,
                until_us,
                rect,
            } => {
                if from_us >= until_us {
                    return Err(bad(format!(
                        "time range {from_us}..{until_us} us is empty (from must come before until)"
                    )));
                }
                check_rect(rect)
            }
            ManualShape::Keyframes(k) => {
                if k.is_empty() {
                    return Err(bad("needs at least one keyframe".into()));
                }
                if let Some(w) = k.windows(2).find(|w| w[0].time_us >= w[1].time_us) {
                    return Err(bad(format!(
                        "keyframe times must increase, got {} us then {} us",
                        w[0].time_us, w[1].time_us
                    )));
                }
                k.iter().try_for_each(|f| check_rect(&f.rect))
            }
        }
    }
}

/// Every manual mask of a review, validated, in one clip's time.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ManualMasks {
    masks: Vec<ManualMask>,
    /// Source time of the clip's time zero, microseconds.
    offset_us: i64,
}

/// A time as whole microseconds (rounded down: every frame keeps the time it is listed at).
pub fn micros(t: Timestamp) -> i64 {
    t.rescale_floor(Rational::MICROS).ticks
}

impl ManualMasks {
    /// Validates `masks` (positive finite boxes, increasing keyframe times, non-empty time
    /// ranges, unique ids); [`Error::InvalidSetting`] names the bad mask.
    pub fn new(masks: Vec<ManualMask>) -> Result<Self, Error> {
        for (i, m) in masks.iter().enumerate() {
            m.validate()?;
            if masks[..i].iter().any(|o| o.id == m.id) {
                return Err(Error::InvalidSetting {
                    name: "manual mask",
                    value: m.id.clone(),
                    reason: "two masks have this id".into(),
                });
            }
        }
        Ok(Self {
            masks,
            offset_us: 0,
        })
    }

    /// The masks.
    pub fn masks(&self) -> &[ManualMask] {
        &self.masks
    }

    /// Whether there is no mask.
    pub fn is_empty(&self) -> bool {
        self.masks.is_empty()
    }

    /// The same masks for a clip whose time zero is source time `offset` (e.g. an export's
    /// request window, cut from the source).
    pub fn shifted(&self, offset: Timestamp) -> Self {
        Self {
            masks: self.masks.clone(),
            offset_us: micros(offset),
        }
    }

    /// The boxes covered at clip time `pts`.
    pub fn rects_at(&self, pts: Timestamp) -> Vec<Rect> {
        let t = micros(pts).saturating_add(self.offset_us);
        self.masks.iter().filter_map(|m| m.rect_at(t)).collect()
    }

    /// Appends the regions hiding every manual box at clip time `pts`, in `policy`'s style
    /// and margin, to `mask`. Returns how many were added.
    pub fn add_to(&self, mask: &mut Mask, pts: Timestamp, policy: &Policy) -> usize {
        let rects = self.rects_at(pts);
        for r in &rects {
            mask.push(policy.region_for(*r));
        }
        rects.len()
    }
}

/// What a review adds to a redaction run (see [`crate::RedactorBuilder::review`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReviewEdits {
    /// Manual masks, in the time of the clip redacted.
    pub masks: ManualMasks,
    /// Splits and merges of the people found, applied before the subject is chosen.
    pub identity: Vec<IdentityEdit>,
}

/// A masker that adds the manual masks to every frame another masker releases.
pub(crate) struct ManualMasker<'a> {
    pub(crate) inner: &'a mut dyn Masker,
    pub(crate) masks: &'a ManualMasks,
    pub(crate) policy: &'a Policy,
}

impl ManualMasker<'_> {
    fn add(&self, out: &mut [(Frame, Mask)], from: usize) {
        for (f, m) in &mut out[from..] {
            self.masks.add_to(m, f.pts, self.policy);
        }
    }
}

impl Masker for ManualMasker<'_> {
    fn push(&mut self, frame: Frame, out: &mut Vec<(Frame, Mask)>) -> Result<(), Error> {
        let n = out.len();
        self.inner.push(frame, out)?;
        self.add(out, n);
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<(Frame, Mask)>) {
        let n = out.len();
        self.inner.finish(out);
        self.add(out, n);
    }
}

/// A reviewer's correction of the people found: one person is really two (split at a time),
/// or two are really one (merged). People are named by a point on them ([`KeepAt`]: the
/// person whose box contains the point on the frame nearest the time), so an edit made on
/// the whole source also applies to a clip cut from it (shift the times with [`KeepAt`]'s
/// offset, as `keep_at` is).
#[derive(Debug, Clone, PartialEq)]
pub enum IdentityEdit {
    /// The person at `person` is someone else from `person.time` on: their tracklets (parts
    /// of them) from that frame on become a new person (the next free id).
    Split {
        /// A point on the person, at the first frame of the new person.
        person: KeepAt,
    },
    /// The people are one person: all become the first listed.
    Merge {
        /// A point on each person; the first keeps its id.
        people: Vec<KeepAt>,
    },
}

/// An [`IdentityEdit`] with its people resolved to identity ids.
#[derive(Debug, Clone, PartialEq)]
enum Resolved {
    Split { identity: IdentityId, frame: u64 },
    Merge { identities: Vec<IdentityId> },
}

/// Applies `edits` in order to `set.identities` (`pts`: every frame's time, as the analysis
/// listed them); returns the ids created by splits, in edit order. A point on nobody (or on
/// several people), or a split at a person's first frame, is an error naming the edit.
pub fn apply_identity_edits(
    input: &Path,
    set: &mut TrackSet,
    pts: &[(u64, Timestamp)],
    edits: &[IdentityEdit],
) -> Result<Vec<IdentityId>, Error> {
    let mut created = Vec::new();
    for e in edits {
        let r = match e {
            IdentityEdit::Split { person } => {
                let (identity, _) = subject::select_at(input, set, pts, person)?;
                let frame = subject::nearest_frame(pts, person.time).unwrap_or(0);
                Resolved::Split { identity, frame }
            }
            IdentityEdit::Merge { people } => {
                let identities = people
                    .iter()
                    .map(|p| subject::select_at(input, set, pts, p).map(|(id, _)| id))
                    .collect::<Result<Vec<_>, _>>()?;
                Resolved::Merge { identities }
            }
        };
        created.extend(apply_resolved(set, &r)?);
    }
    Ok(created)
}

fn apply_resolved(set: &mut TrackSet, e: &Resolved) -> Result<Option<IdentityId>, Error> {
    let pts_of = |set: &TrackSet, track, frame| {
        set.track(track)
            .and_then(|t| t.box_at(frame))
            .map(|b| b.pts)
    };
    let missing = |id: IdentityId| Error::InvalidSetting {
        name: "identity edit",
        value: format!("{e:?}"),
        reason: format!("there is no person {id}"),
    };
    let mut created = None;
    match e {
        Resolved::Split { identity, frame } => {
            let i = set
                .identities
                .iter()
                .position(|p| p.id == *identity)
                .ok_or_else(|| missing(*identity))?;
            let p = &set.identities[i];
            if *frame <= p.first_frame || *frame > p.last_frame {
                return Err(Error::InvalidSetting {
                    name: "identity edit",
                    value: format!("split of person {identity} at frame {frame}"),
                    reason: format!(
                        "person {identity} is seen on frames {}..={}: a split must lie after the first of them",
                        p.first_frame, p.last_frame
                    ),
                });
            }
            let (mut before, mut after) = (Vec::new(), Vec::new());
            for t in &p.tracklets {
                if t.last_frame < *frame {
                    before.push(t.clone());
                } else if t.first_frame >= *frame {
                    after.push(t.clone());
                } else {
                    let mut a = t.clone();
                    let mut b = t.clone();
                    a.last_frame = frame - 1;
                    a.last_pts = pts_of(set, t.track, frame - 1).unwrap_or(t.first_pts);
                    b.first_frame = *frame;
                    b.first_pts = pts_of(set, t.track, *frame).unwrap_or(t.last_pts);
                    before.push(a);
                    after.push(b);
                }
            }
            let new_id = set.identities.iter().map(|p| p.id).max().unwrap_or(0) + 1;
            set.identities[i] = identity_of(*identity, before);
            set.identities.push(identity_of(new_id, after));
            created = Some(new_id);
        }
        Resolved::Merge { identities } => {
            let mut ids: Vec<IdentityId> = Vec::new();
            for id in identities {
                if !ids.contains(id) {
                    ids.push(*id);
                }
            }
            let Some((&keep, rest)) = ids.split_first() else {
                return Ok(None);
            };
            let mut tracklets = Vec::new();
            for id in &ids {
                let p = set
                    .identities
                    .iter()
                    .find(|p| p.id == *id)
                    .ok_or_else(|| missing(*id))?;
                tracklets.extend(p.tracklets.iter().cloned());
            }
            set.identities.retain(|p| !rest.contains(&p.id));
            let i = set
                .identities
                .iter()
                .position(|p| p.id == keep)
                .expect("checked above");
            set.identities[i] = identity_of(keep, tracklets);
        }
    }
    set.identities.sort_by_key(|p| p.id);
    Ok(created)
}

fn identity_of(id: IdentityId, mut tracklets: Vec<TrackletRecord>) -> IdentityRecord {
    tracklets.sort_by_key(|t| (t.first_frame, t.track));
    let first = tracklets.iter().min_by_key(|t| t.first_frame);
    let last = tracklets.iter().max_by_key(|t| t.last_frame);
    IdentityRecord {
        id,
        first_frame: first.map_or(0, |t| t.first_frame),
        last_frame: last.map_or(0, |t| t.last_frame),
        first_pts: first.map_or(0.0, |t| t.first_pts),
        last_pts: last.map_or(0.0, |t| t.last_pts),
        tracklets,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kf(t: i64, x: f32) -> Keyframe {
        Keyframe {
            time_us: t,
            rect: Rect::new(x, 10.0, 20.0, 30.0),
        }
    }

    #[test]
    fn keyframes_interpolate_linearly_and_cover_only_their_span() {
        let m = ManualMask {
            id: "a".into(),
            shape: ManualShape::Keyframes(vec![
                kf(1_000_000, 0.0),
                kf(2_000_000, 100.0),
                kf(4_000_000, 100.0),
            ]),
        };
        assert_eq!(m.rect_at(999_999), None);
        assert_eq!(m.rect_at(1_000_000).unwrap().x, 0.0);
        assert!((m.rect_at(1_250_000).unwrap().x - 25.0).abs() < 1e-4);
        assert!((m.rect_at(1_500_000).unwrap().x - 50.0).abs() < 1e-4);
        assert_eq!(m.rect_at(3_000_000).unwrap().x, 100.0);
        assert_eq!(m.rect_at(4_000_000).unwrap().x, 100.0);
        assert_eq!(m.rect_at(4_000_001), None);
        let one = ManualMask {
            id: "b".into(),
            shape: ManualShape::Keyframes(vec![kf(40_000, 5.0)]),
        };
        assert_eq!(one.rect_at(40_000).unwrap().x, 5.0);
        assert_eq!(one.rect_at(0), None);
        assert_eq!(one.rect_at(80_000), None);
    }

    #[test]
    fn regions_are_half_open_and_shift_with_the_clip() {
        let r = Rect::new(1.0, 2.0, 3.0, 4.0);
        let set = ManualMasks::new(vec![ManualMask {
            id: "r".into(),
            shape: ManualShape::Region {
                from_us: 10_000_000,
                until_us: 12_000_000,
                rect: r,
            },
        }])
        .unwrap();
        assert_eq!(set.rects_at(Timestamp::from_secs(10)), vec![r]);
        assert!(set.rects_at(Timestamp::from_secs(12)).is_empty());
        // A window clip starting at source 9 s: its time 1 s is source 10 s.
        let w = set.shifted(Timestamp::from_secs(9));
        assert_eq!(w.rects_at(Timestamp::from_secs(1)), vec![r]);
        assert!(w.rects_at(Timestamp::from_secs(10)).is_empty());
    }

    #[test]
    fn bad_masks_are_refused_with_their_id() {
        let dec = ManualMask {
            id: "late".into(),
            shape: ManualShape::Keyframes(vec![kf(2, 0.0), kf(1, 0.0)]),
        };
        assert!(
            ManualMasks::new(vec![dec])
                .unwrap_err()
                .to_string()
                .contains("late")
        );
        let empty = ManualMask {
            id: "e".into(),
            shape: ManualShape::Region {
                from_us: 5,
                until_us: 5,
                rect: Rect::new(0.0, 0.0, 1.0, 1.0),
            },
        };
        assert!(ManualMasks::new(vec![empty]).is_err());
        let flat = ManualMask {
            id: "f".into(),
            shape: ManualShape::Keyframes(vec![Keyframe {
                time_us: 0,
                rect: Rect::new(0.0, 0.0, 0.0, 5.0),
            }]),
        };
        assert!(ManualMasks::new(vec![flat]).is_err());
        let nan = ManualMask {
            id: "n".into(),
            shape: ManualShape::Keyframes(vec![Keyframe {
                time_us: 0,
                rect: Rect::new(f32::NAN, 0.0, 1.0, 5.0),
            }]),
        };
        assert!(ManualMasks::new(vec![nan]).is_err());
        let a = ManualMask {
            id: "same".into(),
            shape: ManualShape::Keyframes(vec![kf(0, 0.0)]),
        };
        assert!(
            ManualMasks::new(vec![a.clone(), a])
                .unwrap_err()
                .to_string()
                .contains("two masks")
        );
    }

    fn tl(track: u64, a: u64, b: u64) -> TrackletRecord {
        TrackletRecord {
            track,
            first_frame: a,
            last_frame: b,
            first_pts: a as f64 / 10.0,
            last_pts: b as f64 / 10.0,
            samples: 1,
        }
    }

    fn set_with(ids: Vec<IdentityRecord>) -> TrackSet {
        use obscura_track::{AnalysisSettings, SourceInfo, TrackSetBuilder, TrackerConfig};
        let source = SourceInfo {
            path: "t.mp4".into(),
            sha256: None,
            width: 64,
            height: 48,
            frames: 30,
            time_base: "1/10".into(),
            fps: 10.0,
        };
        let settings = AnalysisSettings {
            every: 1,
            targets: Vec::new(),
            tracker: TrackerConfig::default(),
            thresholds: Default::default(),
            models: Vec::new(),
        };
        let mut s =
            TrackSetBuilder::new().finish(source, settings, Rational::new(1, 10).expect("rate"));
        s.identities = ids;
        s
    }

    #[test]
    fn split_and_merge_move_tracklets() {
        let mut set = set_with(vec![
            identity_of(1, vec![tl(1, 0, 9), tl(4, 20, 29)]),
            identity_of(2, vec![tl(2, 0, 29)]),
        ]);
        let created = apply_resolved(
            &mut set,
            &Resolved::Split {
                identity: 1,
                frame: 5,
            },
        )
        .unwrap();
        assert_eq!(created, Some(3));
        let p1 = set.identity(1).unwrap();
        assert_eq!((p1.first_frame, p1.last_frame), (0, 4));
        let p3 = set.identity(3).unwrap();
        assert_eq!(
            p3.tracklets
                .iter()
                .map(|t| (t.track, t.first_frame, t.last_frame))
                .collect::<Vec<_>>(),
            vec![(1, 5, 9), (4, 20, 29)]
        );
        apply_resolved(
            &mut set,
            &Resolved::Merge {
                identities: vec![2, 3],
            },
        )
        .unwrap();
        assert!(set.identity(3).is_none());
        assert_eq!(set.identity(2).unwrap().tracklets.len(), 3);
        assert!(
            apply_resolved(
                &mut set,
                &Resolved::Merge {
                    identities: vec![2, 9]
                }
            )
            .unwrap_err()
            .to_string()
            .contains("no person 9")
        );
        assert!(
            apply_resolved(
                &mut set,
                &Resolved::Split {
                    identity: 1,
                    frame: 0
                }
            )
            .is_err()
        );
    }
}
