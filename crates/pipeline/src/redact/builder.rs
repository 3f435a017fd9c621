//! [`RedactorBuilder`]: every setting of a [`Redactor`], validated by [`RedactorBuilder::build`].

use std::sync::Arc;

use obscura_detect::Detector;
use obscura_detect::reid::Embedder;
use obscura_media::{DecodeOptions, EncoderSettings};
use obscura_track::TrackerConfig;

use super::Redactor;
use crate::analyse::AnalyseOptions;
use crate::control::{CancelToken, Mode, Progress, ProgressFn};
use crate::error::Error;
use crate::identity::IdentityOptions;
use crate::keep::{KeepAt, KeepLike};
use crate::policy::Policy;

/// Builder of a [`Redactor`]. [`RedactorBuilder::build`] validates every setting and returns
/// [`Error::InvalidSetting`] carrying the bad value.
pub struct RedactorBuilder {
    detector: Option<Box<dyn Detector>>,
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
    review: crate::manual::ReviewEdits,
}

impl std::fmt::Debug for RedactorBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedactorBuilder")
            .field("analysis", &self.analysis)
            .field("policy", &self.policy)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl Default for RedactorBuilder {
    fn default() -> Self {
        Self {
            detector: None,
            analysis: AnalyseOptions {
                hash_source: false,
                ..AnalyseOptions::default()
            },
            policy: Policy::default(),
            keep_at: Vec::new(),
            keep_like: None,
            embedder: None,
            segmenter: None,
            identity: IdentityOptions::default(),
            encoder: EncoderSettings::default(),
            decode: DecodeOptions::default(),
            queue: 4,
            max_frames: None,
            mode: Mode::Auto,
            progress: None,
            cancel: CancelToken::new(),
            review: crate::manual::ReviewEdits::default(),
        }
    }
}

impl RedactorBuilder {
    /// The detector (required): the built-in `PersonFaceDetector` or any [`Detector`].
    pub fn detector(mut self, detector: impl Detector + 'static) -> Self {
        self.detector = Some(Box::new(detector));
        self
    }

    /// Analysis settings: detection interval, tracker, hold time, detector thresholds to
    /// record. Use the same as `obscura tracks` so track ids agree (the targets are taken
    /// from the policy).
    pub fn analysis(mut self, options: AnalyseOptions) -> Self {
        self.analysis = options;
        self
    }

    /// Tracker settings (shorthand for the analysis options' tracker).
    pub fn tracker(mut self, config: TrackerConfig) -> Self {
        self.analysis.tracker = config;
        self
    }

    /// Run the detector on every `n`-th frame (1 = all), predicting boxes in between.
    pub fn every(mut self, n: u32) -> Self {
        self.analysis.every = n;
        self.analysis.detect_rate = None;
        self
    }

    /// Run the detector at least `per_second` times per second of video, the interval
    /// derived from each input's frame rate (see [`AnalyseOptions::every_at`]).
    pub fn detect_rate(mut self, per_second: f64) -> Self {
        self.analysis.detect_rate = Some(per_second);
        self
    }

    /// The redaction policy (targets, style, margin, kept ids, zones).
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Also keep the person at this point (needs two passes).
    pub fn keep_at(mut self, at: KeepAt) -> Self {
        self.keep_at.push(at);
        self
    }

    /// Also keep the tracks that look like the person in a reference photo (two passes).
    pub fn keep_like(mut self, like: KeepLike) -> Self {
        self.keep_like = Some(like);
        self
    }

    /// The person segmenter that keeps a kept subject's own pixels visible inside the boxes
    /// of masked people overlapping them (policy rule 7). Without it those boxes are masked
    /// whole.
    pub fn segmenter(mut self, segmenter: obscura_detect::Segmenter) -> Self {
        self.segmenter = Some(segmenter);
        self
    }

    /// The appearance embedder (e.g. [`obscura_detect::reid::ReidEmbedder`]) that turns
    /// tracks into people and checks the kept person on every frame: required to keep anyone
    /// (`--keep`, `keep_at`; `keep_like` brings its own).
    pub fn embedder(mut self, embedder: impl Embedder + 'static) -> Self {
        self.embedder = Some(Box::new(embedder));
        self
    }

    /// Settings of the appearance analysis and of the per-frame check of kept people.
    pub fn identity_options(mut self, options: IdentityOptions) -> Self {
        self.identity = options;
        self
    }

    /// Encoder settings (CRF, preset, audio).
    pub fn encoder(mut self, settings: EncoderSettings) -> Self {
        self.encoder = settings;
        self
    }

    /// Decoder options (resource limits).
    pub fn decode_options(mut self, options: DecodeOptions) -> Self {
        self.decode = options;
        self
    }

    /// Capacity of each queue between stages, in frames (4).
    pub fn queue_depth(mut self, frames: usize) -> Self {
        self.queue = frames;
        self
    }

    /// Only the first `n` frames of the input are processed (and written).
    pub fn max_frames(mut self, n: u64) -> Self {
        self.max_frames = Some(n);
        self
    }

    /// One pass, two passes, or automatic.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// A callback told of progress after every frame.
    pub fn progress(mut self, f: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// A cancellation token; cancelling stops the run and leaves no output.
    pub fn cancel_token(mut self, token: CancelToken) -> Self {
        self.cancel = token;
        self
    }

    /// A reviewer's edits: manual masks painted on every output frame they cover (only adding
    /// masking), and splits/merges of the people applied before the subject is chosen.
    pub fn review(mut self, edits: crate::manual::ReviewEdits) -> Self {
        self.review = edits;
        self
    }

    /// Validates the settings and returns the redactor.
    pub fn build(self) -> Result<Redactor, Error> {
        let detector = self.detector.ok_or_else(|| Error::InvalidSetting {
            name: "detector",
            value: "none".into(),
            reason: "a detector is required".into(),
        })?;
        let mut analysis = self.analysis;
        analysis.targets = self.policy.targets();
        analysis.validate()?;
        if self.queue == 0 || self.queue > 256 {
            return Err(Error::InvalidSetting {
                name: "queue_depth",
                value: self.queue.to_string(),
                reason: "must be 1..=256 frames".into(),
            });
        }
        if self.max_frames == Some(0) {
            return Err(Error::InvalidSetting {
                name: "max_frames",
                value: "0".into(),
                reason: "must be at least 1".into(),
            });
        }
        analysis
            .tracker
            .validate()
            .map_err(|e| Error::InvalidSetting {
                name: "tracker",
                value: format!("{:?}", analysis.tracker),
                reason: e.to_string(),
            })?;
        if let Some(l) = &self.keep_like {
            if !(l.threshold.is_finite() && (0.0..=1.0).contains(&l.threshold)) {
                return Err(Error::InvalidSetting {
                    name: "similarity",
                    value: l.threshold.to_string(),
                    reason: "must lie in 0..=1".into(),
                });
            }
            if !(1..=32).contains(&l.crops_per_track) {
                return Err(Error::InvalidSetting {
                    name: "crops_per_track",
                    value: l.crops_per_track.to_string(),
                    reason: "must be 1..=32".into(),
                });
            }
            l.photo.validate().map_err(|e| Error::InvalidSetting {
                name: "keep-like",
                value: "photo".into(),
                reason: e.to_string(),
            })?;
        }
        let keeps =
            !self.keep_at.is_empty() || self.keep_like.is_some() || !self.policy.keep().is_empty();
        if self.mode == Mode::OnePass && keeps {
            return Err(Error::InvalidSetting {
                name: "mode",
                value: "one-pass".into(),
                reason: "keeping a person (keep, keep-at, keep-like) needs several passes".into(),
            });
        }
        if keeps && self.embedder.is_none() && self.keep_like.is_none() {
            return Err(Error::InvalidSetting {
                name: "embedder",
                value: "none".into(),
                reason: "keeping a person needs the re-identification embedder (person identities and the per-frame check)".into(),
            });
        }
        let o = &self.identity;
        let unit = |v: f32| v.is_finite() && (0.0..=1.0).contains(&v);
        if !(unit(o.verify_similarity)
            && unit(o.same_person)
            && unit(o.verify_margin)
            && unit(o.verify_neighbours)
            && unit(o.max_covered)
            && o.max_jump.is_finite()
            && o.max_jump > 0.0
            && o.samples_per_second > 0.0)
        {
            return Err(Error::InvalidSetting {
                name: "identity",
                value: format!("{o:?}"),
                reason: "similarities must lie in 0..=1, the jump and sample rate be positive"
                    .into(),
            });
        }
        Ok(Redactor {
            detector,
            analysis,
            policy: self.policy,
            keep_at: self.keep_at,
            keep_like: self.keep_like,
            embedder: self.embedder,
            segmenter: self.segmenter,
            identity: self.identity,
            encoder: self.encoder,
            decode: self.decode,
            queue: self.queue,
            max_frames: self.max_frames,
            mode: self.mode,
            progress: self.progress,
            cancel: self.cancel,
            analysis_stages: None,
            review: self.review,
            dry_run: None,
        })
    }
}
