//! The redaction engine: [`RedactorBuilder`] -> [`Redactor`] -> [`Redactor::redact`].
//!
//! Stages run on their own threads, connected by bounded crossbeam channels (so peak memory
//! does not depend on clip length):
//!
//! ```text
//! decode ──frames──▶ detect + track + policy (look-ahead of `every` frames) ──frame+mask──▶ render + encode
//! ```
//!
//! See the crate documentation for the one-pass / two-pass choice.

use std::path::Path;
use std::time::Instant;

use obscura_core::{Interval, IntervalSet, Timestamp};
use obscura_detect::Detector;
use obscura_detect::reid::Embedder;
use obscura_media::{
    AudioMode, AudioSource, DecodeOptions, Decoder, Encoder, EncoderSettings, VideoInfo, VideoSpec,
};
use obscura_track::{ModelId, TrackSet, TrackerConfig};

use crate::analyse::{AnalyseOptions, PassControl, analysis_pass, fps_of, live_masker};
use crate::control::progress_ref;
use crate::error::{At, Error, Stage};
use crate::identity::IdentityOptions;
use crate::policy::Policy;
use crate::report::ms;
use crate::runner::{PassOutcome, run_pass};
use crate::sink::{SheetSink, SheetSpec, Sink};

mod builder;
mod two_pass;

use crate::analyse::effective_tracker;
pub use builder::RedactorBuilder;
// The types a run takes and gives live in their own modules; their old paths still work.
pub use crate::control::{CancelToken, Mode, Pass, Progress, ProgressFn};
pub use crate::keep::{KeepAt, KeepLike};
pub use crate::report::{RedactReport, StageTimes};

/// The redaction pipeline, built by [`RedactorBuilder`]. One redactor runs one file at a
/// time and can be reused for many.
pub struct Redactor {
    detector: Box<dyn Detector>,
    analysis: AnalyseOptions,
    policy: Policy,
    keep_at: Vec<KeepAt>,
    keep_like: Option<KeepLike>,
    embedder: Option<Box<dyn Embedder>>,
    segmenter: Option<obscura_detect::Segmenter>,
    identity: IdentityOptions,
    encoder: EncoderSettings,
    decode: DecodeOptions,
    queue: usize,
    max_frames: Option<u64>,
    mode: Mode,
    progress: Option<ProgressFn>,
    cancel: CancelToken,
    analysis_stages: Option<StageTimes>,
    review: crate::manual::ReviewEdits,
    /// Set during [`Redactor::dry_run`]: frames go to a contact sheet, nothing is encoded.
    dry_run: Option<SheetSpec>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("analysis", &self.analysis)
            .field("policy", &self.policy)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl Redactor {
    /// A builder with the defaults.
    pub fn builder() -> RedactorBuilder {
        RedactorBuilder::default()
    }

    /// The policy in use.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The cancellation token (cancel it from another thread to stop a run).
    pub fn cancel_token(&self) -> CancelToken {
        self.cancel.clone()
    }

    pub(super) fn models(&self) -> Vec<ModelId> {
        self.detector.models()
    }

    fn needs_two_passes(&self) -> bool {
        match self.mode {
            Mode::OnePass => false,
            Mode::TwoPass => true,
            Mode::Auto => {
                !self.keep_at.is_empty()
                    || self.keep_like.is_some()
                    || !self.policy.keep().is_empty()
            }
        }
    }

    pub(super) fn open(&self, input: &Path) -> Result<Decoder, Error> {
        Decoder::open(input, &self.decode)
            .map_err(|e| Error::stage(input, Stage::Decode, At::NONE, e))
    }

    pub(super) fn create_encoder(
        &self,
        input: &Path,
        output: &Path,
        info: &VideoInfo,
    ) -> Result<Sink, Error> {
        if let Some(sheet) = self.dry_run {
            let frames = match (info.frame_count, self.max_frames) {
                (Some(n), Some(m)) => n.min(m),
                (Some(n), None) => n,
                (None, m) => count_frames(self.open(input)?, m),
            };
            return Ok(Sink::Sheet(SheetSink::new(
                output,
                frames,
                info.width,
                info.height,
                sheet,
            )));
        }
        let spec = VideoSpec::from_info(info);
        let audio = match self.encoder.audio() {
            AudioMode::Keep => {
                let start = info
                    .start_time
                    .unwrap_or_else(Timestamp::zero)
                    .min(Timestamp::zero());
                let span = Interval::new(start, Timestamp::from_secs(10_000_000))
                    .map_err(|e| Error::stage(input, Stage::Encode, At::NONE, e))?;
                Some(AudioSource {
                    path: input.to_path_buf(),
                    kept: IntervalSet::single(span),
                    offset: Timestamp::zero(),
                })
            }
            _ => None,
        };
        Encoder::create_with_audio(output, &spec, &self.encoder, audio.as_ref())
            .map(Sink::Video)
            .map_err(|e| Error::stage(input, Stage::Encode, At::NONE, e))
    }

    /// A dry run: masks `input` exactly as [`Redactor::redact`] would, but encodes nothing:
    /// writes a PNG contact sheet of `spec.count` evenly spaced masked frames to `sheet`
    /// (atomically), each labelled with its frame number and source time.
    pub fn dry_run(
        &mut self,
        input: &Path,
        sheet: &Path,
        spec: SheetSpec,
    ) -> Result<RedactReport, Error> {
        self.dry_run = Some(spec);
        let r = self.redact(input, sheet);
        self.dry_run = None;
        r
    }

    /// Redacts the video `input` into `output` (H.264 MP4, written atomically). Nothing is
    /// written when any stage fails or the run is cancelled.
    pub fn redact(&mut self, input: &Path, output: &Path) -> Result<RedactReport, Error> {
        let result = self.redact_run(input, output);
        match &result {
            Ok(rep) => rep.log_timings(),
            // The variant only: messages name files.
            Err(e) => tracing::debug!(error_kind = ?std::mem::discriminant(e), "redaction failed"),
        }
        result
    }

    fn redact_run(&mut self, input: &Path, output: &Path) -> Result<RedactReport, Error> {
        let start = Instant::now();
        self.analysis_stages = None;
        if same_file(input, output) {
            return Err(Error::InvalidSetting {
                name: "output",
                value: output.display().to_string(),
                reason: "is the input (inputs are never modified)".into(),
            });
        }
        if self.needs_two_passes() {
            return self.redact_two_pass(input, output, start);
        }
        let policy = self.policy.clone();
        let mut dec = self.open(input)?;
        let info = dec.info().clone();
        let enc = self.create_encoder(input, output, &info)?;
        let (mut masker, _) = live_masker(
            input,
            self.detector.as_mut(),
            &self.analysis,
            Some(&policy),
            &info,
            false,
        )?;
        let mut manual = crate::manual::ManualMasker {
            inner: &mut masker,
            masks: &self.review.masks,
            policy: &policy,
        };
        let outcome = run_pass(
            input,
            &mut dec,
            &mut manual,
            Some(enc),
            self.queue,
            self.max_frames,
            &self.cancel,
            progress_ref(self.progress.as_ref()),
            (Pass::Redact, 1, 1),
        )?;
        let mut outcome_stages = outcome.stages;
        outcome_stages.detect_ms = ms(masker.detect_time);
        outcome_stages.track_policy_ms -= outcome_stages.detect_ms;
        let seen = std::mem::take(&mut masker.seen);
        let untracked = masker.untracked;
        drop(masker);
        let frames = outcome.frames;
        self.commit(input, outcome)?;
        let secs = start.elapsed().as_secs_f64();
        Ok(RedactReport {
            input: input.to_path_buf(),
            output: output.to_path_buf(),
            passes: 1,
            frames,
            width: info.width,
            height: info.height,
            every: self.analysis.every_at(fps_of(&info)),
            seconds: secs,
            fps: frames as f64 / secs.max(1e-9),
            kept: seen
                .keys()
                .copied()
                .filter(|id| policy.keep().contains(id))
                .collect(),
            kept_identities: Vec::new(),
            subject_frames: 0,
            subject_uncertain_frames: 0,
            subject_uncertain: Vec::new(),
            silhouette_frames: 0,
            keep_not_found: policy
                .keep()
                .iter()
                .copied()
                .filter(|id| !seen.contains_key(id))
                .collect(),
            masked: seen
                .into_iter()
                .filter(|(id, c)| {
                    !policy.keep().contains(id) && crate::policy::masks_class(policy.targets(), *c)
                })
                .collect(),
            untracked_detections: untracked,
            stages: outcome_stages,
            matches: Vec::new(),
            models: self.models(),
        })
    }

    pub(super) fn commit(&self, input: &Path, outcome: PassOutcome) -> Result<(), Error> {
        if self.cancel.is_cancelled() {
            return Err(Error::Cancelled {
                input: input.to_path_buf(),
            });
        }
        if let Some(enc) = outcome.encoder {
            if enc.frames_written() != outcome.frames {
                return Err(Error::stage(
                    input,
                    Stage::Encode,
                    At::NONE,
                    format!(
                        "{} frames decoded but {} written",
                        outcome.frames,
                        enc.frames_written()
                    ),
                ));
            }
            enc.finish()
                .map_err(|e| Error::stage(input, Stage::Encode, At::NONE, e))?;
        }
        Ok(())
    }

    /// First pass only: detects and tracks every frame of `input` and returns the
    /// [`TrackSet`] (the `obscura tracks` data), with the same ids a streaming run gives.
    pub fn analyse(&mut self, input: &Path) -> Result<TrackSet, Error> {
        self.analyse_inner(input, 1).map(|(s, _)| s)
    }

    pub(super) fn analyse_inner(
        &mut self,
        input: &Path,
        passes: u32,
    ) -> Result<(TrackSet, Vec<(u64, Timestamp)>), Error> {
        let mut dec = self.open(input)?;
        let control = PassControl {
            queue: self.queue,
            max_frames: self.max_frames,
            cancel: &self.cancel,
            progress: progress_ref(self.progress.as_ref()),
            passes,
        };
        let analysis = analysis_pass(
            input,
            &mut dec,
            self.detector.as_mut(),
            &self.analysis,
            control,
        )?;
        self.analysis_stages = Some(analysis.stages);
        Ok((analysis.set, analysis.pts))
    }

    /// Access for the still-image path.
    pub(crate) fn parts(
        &mut self,
    ) -> (
        &mut dyn Detector,
        TrackerConfig,
        &Policy,
        &[KeepAt],
        Option<&mut KeepLike>,
    ) {
        (
            self.detector.as_mut(),
            effective_tracker(&self.analysis, None),
            &self.policy,
            &self.keep_at,
            self.keep_like.as_mut(),
        )
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Frames of a stream whose container does not say (a dry run's sheet needs the count).
fn count_frames(mut dec: Decoder, limit: Option<u64>) -> u64 {
    let mut n = 0;
    while n < limit.unwrap_or(u64::MAX) && matches!(dec.next_frame(), Ok(Some(_))) {
        n += 1;
    }
    n
}
