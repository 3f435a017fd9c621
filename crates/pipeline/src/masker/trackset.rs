//! [`TrackSetMasker`]: masks from a finished [`TrackSet`] (the second pass).

use obscura_core::{Frame, ObjectClass, Rect};
use obscura_detect::Segmenter;
use obscura_render::Mask;
use obscura_track::TrackSet;

use super::{Masker, VERIFIED_SUBJECT, backfill_rect};
use crate::error::Error;
use crate::identity::SubjectFrames;
use crate::policy::{Candidate, Policy};

/// Masks from a [`TrackSet`] (second pass): every box of every track on the frame, plus the
/// first box of tracks born within the next `every` frames (as the live look-ahead does).
pub(crate) struct TrackSetMasker<'a> {
    set: &'a TrackSet,
    policy: &'a Policy,
    /// The kept people's verified boxes: those (and their faces) get [`VERIFIED_SUBJECT`].
    subject: Option<&'a SubjectFrames>,
    every: u64,
    /// Each track's first detected box: `(frame, box, candidate)`.
    births: Vec<(u64, Rect, Candidate)>,
    /// Segments the subject and the people whose boxes overlap theirs (policy rule 7).
    segmenter: Option<&'a mut Segmenter>,
    /// Frames on which silhouettes were computed.
    pub(crate) segmented_frames: u64,
}

impl<'a> TrackSetMasker<'a> {
    pub(crate) fn new(
        set: &'a TrackSet,
        policy: &'a Policy,
        subject: Option<&'a SubjectFrames>,
        every: u64,
    ) -> Self {
        let births = set
            .tracks
            .iter()
            .filter_map(|t| {
                let b = t.boxes.iter().find(|b| !b.predicted).or(t.boxes.first())?;
                Some((
                    b.frame,
                    b.rect(),
                    Candidate {
                        track: Some(t.id),
                        class: t.class,
                        rect: b.rect(),
                        parent: t.parent,
                    },
                ))
            })
            .collect();
        Self {
            set,
            policy,
            subject,
            every,
            births,
            segmenter: None,
            segmented_frames: 0,
        }
    }

    /// Keeps the subject's own pixels visible inside overlapping neighbours' boxes with
    /// `segmenter`'s silhouettes (only where a subject is verified on the frame).
    pub(crate) fn with_segmenter(mut self, segmenter: Option<&'a mut Segmenter>) -> Self {
        self.segmenter = segmenter;
        self
    }
}

impl Masker for TrackSetMasker<'_> {
    fn push(&mut self, frame: Frame, out: &mut Vec<(Frame, Mask)>) -> Result<(), Error> {
        let i = frame.index;
        let every = self.every;
        let mut c: Vec<Candidate> = self
            .set
            .boxes_at(i)
            .into_iter()
            .map(|(t, b)| {
                // Between two consecutive scheduled detections: their hull, as the live
                // look-ahead masks it.
                let detected = |f: u64| t.box_at(f).filter(|d| !d.predicted);
                let prev = (1..every)
                    .filter_map(|d| i.checked_sub(d))
                    .find_map(detected);
                let next = (1..every).find_map(|d| detected(i + d));
                let rect = match (b.predicted, prev, next) {
                    (true, Some(p), Some(n)) if n.frame - p.frame <= every => {
                        p.rect().hull(&n.rect()).hull(&b.rect())
                    }
                    _ => b.rect(),
                };
                let mut c = Candidate {
                    track: Some(t.id),
                    class: t.class,
                    rect,
                    parent: t.parent,
                };
                if let Some(s) = self.subject {
                    // Only a box verified on this very frame is the subject; the same track on
                    // any other frame is whoever it is then (masked).
                    if t.class == ObjectClass::Person && s.shows(i, t.id) {
                        c.track = Some(VERIFIED_SUBJECT);
                    }
                    if c.parent.is_some_and(|p| s.shows(i, p)) {
                        c.parent = Some(VERIFIED_SUBJECT);
                    } else if c.parent.is_some() {
                        c.parent = None;
                    }
                }
                c
            })
            .collect();
        // Frames just before a track's first detection: its first box widened for motion
        // (the TrackSet's lead-in gives the box as it is further back).
        for (f, rect, cand) in self
            .births
            .iter()
            .filter(|(f, _, _)| *f > i && *f < i + self.every)
        {
            c.push(Candidate {
                rect: backfill_rect(*rect, f - i),
                ..*cand
            });
        }
        let silhouettes = match self.segmenter.as_deref_mut() {
            Some(seg) => self.policy.silhouettes(&c, &frame, seg),
            None => Vec::new(),
        };
        if !silhouettes.is_empty() {
            self.segmented_frames += 1;
        }
        let m = self
            .policy
            .mask_with_silhouettes(&c, frame.width, frame.height, &silhouettes);
        out.push((frame, m));
        Ok(())
    }

    fn finish(&mut self, _out: &mut Vec<(Frame, Mask)>) {}
}
