//! [`LiveMasker`]: detect + track + policy with a bounded look-ahead.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::Path;
use std::time::{Duration, Instant};

use obscura_core::{Detection, Frame, ObjectClass, Rect};
use obscura_detect::Detector;
use obscura_render::Mask;
use obscura_track::{BoxSource, TrackId, TrackSetBuilder, Tracker};

use super::{Masker, backfill_rect};
use crate::error::{At, Error, Stage};
use crate::policy::{Candidate, Policy};
use crate::targets::Targets;

/// Detect + track + policy, with a bounded look-ahead: frames are held until they are at
/// least `lead_in` frames older than the next possible detection frame (and never past the
/// last detection frame). When a detection frame arrives, the held frames also get the
/// boxes interpolated between the two detections of each track, and the first box of every
/// track born there (widened for motion on the `every - 1` frames just before it, as is on
/// the `lead_in` frames before that: people entering at the frame edge are visible a few
/// frames before the detector fires). All of it only adds masked area; nothing is unmasked.
///
/// Without a policy (an analysis pass, whose masks nobody renders) frames are passed on at
/// once with an empty mask and nothing is held; the tracks recorded are the same.
pub(crate) struct LiveMasker<'a> {
    pub(crate) input: &'a Path,
    pub(crate) detector: &'a mut dyn Detector,
    pub(crate) tracker: Tracker,
    pub(crate) policy: Option<&'a Policy>,
    pub(crate) targets: Targets,
    pub(crate) every: u64,
    pub(crate) lead_in: u64,
    pub(crate) held: VecDeque<(Frame, Vec<Candidate>)>,
    pub(crate) last_detected: HashMap<TrackId, (u64, Rect)>,
    pub(crate) seen: BTreeMap<TrackId, ObjectClass>,
    pub(crate) untracked: u64,
    pub(crate) record: Option<TrackSetBuilder>,
    pub(crate) detect_time: Duration,
}

impl LiveMasker<'_> {
    fn candidates(
        update: &obscura_track::TrackUpdate,
        dets: Option<&[Detection]>,
        untracked: &mut u64,
    ) -> Vec<Candidate> {
        let mut c: Vec<Candidate> = update
            .tracks
            .iter()
            .map(|b| Candidate {
                track: Some(b.id),
                class: b.class,
                rect: b.rect,
                parent: b.parent,
            })
            .collect();
        if let Some(dets) = dets {
            for (i, d) in dets.iter().enumerate() {
                if !update.tracks.iter().any(|b| b.detection_index == Some(i)) {
                    *untracked += 1;
                    c.push(Candidate {
                        track: None,
                        class: d.class,
                        rect: d.rect,
                        parent: None,
                    });
                }
            }
        }
        c
    }
}

impl Masker for LiveMasker<'_> {
    fn push(&mut self, frame: Frame, out: &mut Vec<(Frame, Mask)>) -> Result<(), Error> {
        let at = At::frame(frame.index, frame.pts);
        let is_detection = frame.index.is_multiple_of(self.every);
        let mut other_boxes: Vec<Candidate> = Vec::new();
        let dets = if is_detection {
            let t0 = Instant::now();
            let d = self
                .detector
                .detect(&frame)
                .map_err(|e| Error::stage(self.input, Stage::Detect, at, e))?;
            self.detect_time += t0.elapsed();
            if let Some(bad) = d.iter().find(|d| {
                !(d.rect.x.is_finite()
                    && d.rect.y.is_finite()
                    && d.rect.w.is_finite()
                    && d.rect.h.is_finite()
                    && d.score.is_finite())
            }) {
                return Err(Error::stage(
                    self.input,
                    Stage::Detect,
                    at,
                    format!("detector returned a non-finite detection {bad:?}"),
                ));
            }
            // The tracker sees the targeted classes only (as `analyse` does, so ids agree with
            // `obscura tracks`); boxes of a partner's other classes are masked untracked.
            let (tracked, other): (Vec<Detection>, Vec<Detection>) =
                d.into_iter().partition(|d| match d.class {
                    ObjectClass::Person => self.targets.person,
                    ObjectClass::Face => self.targets.face,
                    ObjectClass::Other(_) => false,
                });
            self.untracked += other
                .iter()
                .filter(|d| matches!(d.class, ObjectClass::Other(_)))
                .count() as u64;
            other_boxes = other
                .into_iter()
                .filter(|d| matches!(d.class, ObjectClass::Other(_)))
                .map(|d| Candidate {
                    track: None,
                    class: d.class,
                    rect: d.rect,
                    parent: None,
                })
                .collect();
            Some(tracked)
        } else {
            None
        };
        let update = self
            .tracker
            .step(frame.index, dets.as_deref())
            .map_err(|e| Error::stage(self.input, Stage::Track, at, e))?;
        if let Some(r) = self.record.as_mut() {
            r.push(&update, frame.pts);
        }
        for b in &update.tracks {
            self.seen.entry(b.id).or_insert(b.class);
        }
        let mut cands = Self::candidates(&update, dets.as_deref(), &mut self.untracked);
        cands.extend(other_boxes);
        let k = frame.index;
        let (w, h) = (frame.width, frame.height);
        let Some(policy) = self.policy else {
            out.push((frame, Mask::default()));
            return Ok(());
        };
        self.held.push_back((frame, cands));
        if !is_detection {
            return Ok(());
        }
        let reach = self.lead_in.max(self.every - 1);
        for b in update
            .tracks
            .iter()
            .filter(|b| b.source == BoxSource::Detected)
        {
            let every = self.every;
            let extra = |f: u64| -> Option<Rect> {
                if f >= k {
                    return None;
                }
                match self.last_detected.get(&b.id) {
                    // Between two consecutive scheduled detections: both boxes' hull (the
                    // person may be anywhere on the way; linear interpolation alone lagged
                    // real motion, see BENCHMARKS.md).
                    Some(&(f0, r0)) if f0 < f && k - f0 <= every => Some(r0.hull(&b.rect)),
                    Some(&(f0, r0)) if f0 < f => {
                        let t = (f - f0) as f32 / (k - f0) as f32;
                        let l = |a: f32, z: f32| a + (z - a) * t;
                        Some(Rect::new(
                            l(r0.x, b.rect.x),
                            l(r0.y, b.rect.y),
                            l(r0.w, b.rect.w),
                            l(r0.h, b.rect.h),
                        ))
                    }
                    Some(_) => None,
                    // Born now: the frames since the last detection, widened for motion, and
                    // the lead-in frames before them with the first box as it is.
                    None if k - f < every => Some(backfill_rect(b.rect, k - f)),
                    None if k - f <= reach => Some(b.rect),
                    None => None,
                }
            };
            for (pf, pc) in &mut self.held {
                if let Some(rect) = extra(pf.index) {
                    pc.push(Candidate {
                        track: Some(b.id),
                        class: b.class,
                        rect,
                        parent: b.parent,
                    });
                }
            }
            self.last_detected.insert(b.id, (k, b.rect));
        }
        // A birth on the next detection frame (k + every) reaches back `reach` frames: release
        // the frames it cannot reach.
        while let Some((f, _)) = self.held.front() {
            if f.index + reach >= k + self.every {
                break;
            }
            let (f, c) = self.held.pop_front().expect("front exists");
            let m = policy.mask(&c, w, h);
            out.push((f, m));
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<(Frame, Mask)>) {
        let Some(policy) = self.policy else { return };
        for (f, c) in self.held.drain(..) {
            let m = policy.mask(&c, f.width, f.height);
            out.push((f, m));
        }
    }
}
