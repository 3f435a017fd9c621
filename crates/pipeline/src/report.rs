//! What a run reports: [`RedactReport`] and the busy time per stage ([`StageTimes`]).

use std::path::PathBuf;
use std::time::Duration;

use obscura_core::ObjectClass;
use obscura_track::{ModelId, TrackId};
use serde::Serialize;

use crate::identity::FrameSpan;
use crate::subject::SubjectMatch;

/// Where the time went, summed over the passes of a run, in milliseconds of busy time per
/// stage (stages overlap in time: they run on different threads).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct StageTimes {
    /// Decoding (and converting) frames.
    pub decode_ms: f64,
    /// Running the detector.
    pub detect_ms: f64,
    /// Tracking, look-ahead and building the masks.
    pub track_policy_ms: f64,
    /// Masking the pixels.
    pub render_ms: f64,
    /// Encoding and writing.
    pub encode_ms: f64,
}

impl StageTimes {
    pub(crate) fn add(&mut self, o: &StageTimes) {
        self.decode_ms += o.decode_ms;
        self.detect_ms += o.detect_ms;
        self.track_policy_ms += o.track_policy_ms;
        self.render_ms += o.render_ms;
        self.encode_ms += o.encode_ms;
    }
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// What a run did, for the CLI's `--json` summary and for logs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RedactReport {
    /// The input.
    pub input: PathBuf,
    /// The output written.
    pub output: PathBuf,
    /// One pass or two.
    pub passes: u32,
    /// Frames written.
    pub frames: u64,
    /// Frame size.
    pub width: u32,
    /// Frame height.
    pub height: u32,
    /// The detector ran on every `every`-th frame of this input.
    pub every: u32,
    /// Wall-clock seconds of the whole run.
    pub seconds: f64,
    /// Frames per second of the whole run (frames / seconds).
    pub fps: f64,
    /// Track ids left visible (on the frames where they were verified to be the subject).
    pub kept: Vec<TrackId>,
    /// Identities (people) kept.
    pub kept_identities: Vec<obscura_track::IdentityId>,
    /// Frames where a kept person has a box.
    pub subject_frames: u64,
    /// Frames where a kept person's box was masked because it could not be confirmed to be
    /// them (appearance, motion, size, or a guess before/after their detections).
    pub subject_uncertain_frames: u64,
    /// Where those frames are.
    pub subject_uncertain: Vec<FrameSpan>,
    /// Frames on which the subject's own silhouette was kept visible inside the box of a
    /// masked person overlapping theirs (0 without the silhouette model).
    pub silhouette_frames: u64,
    /// Track ids masked (of targeted classes), with their class.
    pub masked: Vec<(TrackId, ObjectClass)>,
    /// Kept ids that never appeared in the video (nobody was left visible for them).
    pub keep_not_found: Vec<TrackId>,
    /// Detections the tracker did not take (masked where they were).
    pub untracked_detections: u64,
    /// Busy time per stage.
    pub stages: StageTimes,
    /// For `keep_like`: every person track's similarity to the reference, best first.
    pub matches: Vec<SubjectMatch>,
    /// Models the detector ran.
    pub models: Vec<ModelId>,
}

impl RedactReport {
    /// Logs the run's size and stage timings at debug level (counts and times only: no
    /// paths, no track contents).
    pub(crate) fn log_timings(&self) {
        let s = &self.stages;
        tracing::debug!(
            passes = self.passes,
            frames = self.frames,
            width = self.width,
            height = self.height,
            every = self.every,
            seconds = self.seconds,
            fps = self.fps,
            decode_ms = s.decode_ms,
            detect_ms = s.detect_ms,
            track_policy_ms = s.track_policy_ms,
            render_ms = s.render_ms,
            encode_ms = s.encode_ms,
            "redaction done"
        );
    }
}
