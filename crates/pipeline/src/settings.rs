//! [`RedactionSettings`]: the one value a redaction is configured with, whoever runs it (the
//! `redact` and `export` commands, a partner's program). It turns into a validated
//! [`Redactor`] per input with [`RedactionSettings::redactor`]: the built-in detector for the
//! policy's targets, the appearance embedder when anyone is kept, and every setting here.

use obscura_core::Frame;
use obscura_detect::SessionConfig;
use obscura_detect::models::ModelStore;
use obscura_detect::reid::ReidEmbedder;
use obscura_media::EncoderSettings;

use crate::analyse::{AnalyseOptions, builtin_detector};
use crate::control::Mode;
use crate::error::Error;
use crate::keep::{KeepAt, KeepLike};
use crate::manual::ReviewEdits;
use crate::policy::Policy;
use crate::redact::{Redactor, RedactorBuilder};

/// A reference photo of the data subject (`keep_like`) and the similarity at or above which
/// a person counts as them.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferencePhoto {
    /// The photo as a frame (see [`crate::subject::frame_from_image`]).
    pub photo: Frame,
    /// Cosine similarity threshold, 0..=1 (0.6 by default in the CLI).
    pub threshold: f32,
}

/// Everything a redaction run is configured with.
///
/// Build it with [`RedactionSettings::new`] and set the public fields; one value serves any
/// number of inputs (each run gets its own detector).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RedactionSettings {
    /// Where the models are (ONNX Runtime must be loaded, see `obscura_detect::runtime::init`).
    pub models: ModelStore,
    /// The detection schedule and detector settings (the same as `obscura tracks` with the
    /// same flags, so track ids agree). `hash_source` is off for redaction.
    pub analysis: AnalyseOptions,
    /// What is masked and how, and the kept track ids.
    pub policy: Policy,
    /// The masking style as given (e.g. `pixelate`, `fill:#808080`), for records and reports.
    pub style: String,
    /// Points that pick the data subject (each run of one input).
    pub keep_at: Vec<KeepAt>,
    /// A reference photo of the data subject.
    pub keep_like: Option<ReferencePhoto>,
    /// Encoder settings of the output.
    pub encoder: EncoderSettings,
    /// Inference threads per run (0: one per core).
    pub threads: usize,
    /// Only the first frames of each input are processed (and written).
    pub max_frames: Option<u64>,
    /// One pass, two passes, or automatic.
    pub mode: Mode,
    /// A reviewer's manual masks and identity edits (empty: none), in the run's own time.
    pub review: ReviewEdits,
    /// Keep a kept subject's own pixels visible inside the boxes of masked people who
    /// overlap them, with the silhouette model (`pose_seg_lite`) where it is installed
    /// (default on; without the model, or off, those boxes are masked whole).
    pub silhouettes: bool,
}

impl RedactionSettings {
    /// Settings with the defaults: persons and faces pixelated, detection as
    /// [`AnalyseOptions::default`] (without hashing the source), nobody kept, the default
    /// encoder, inference threads one per core.
    pub fn new(models: ModelStore) -> Self {
        Self {
            models,
            analysis: AnalyseOptions {
                hash_source: false,
                ..AnalyseOptions::default()
            },
            policy: Policy::default(),
            style: "pixelate".into(),
            keep_at: Vec::new(),
            keep_like: None,
            encoder: EncoderSettings::default(),
            threads: 0,
            max_frames: None,
            mode: Mode::Auto,
            review: ReviewEdits::default(),
            silhouettes: true,
        }
    }

    /// Whether anyone is kept visible (by id, point or photo): such runs need the
    /// re-identification model and several passes.
    pub fn keeps_anyone(&self) -> bool {
        !self.policy.keep().is_empty() || !self.keep_at.is_empty() || self.keep_like.is_some()
    }

    /// A builder for one run with these settings and the subject points `keep_at` instead
    /// of [`RedactionSettings::keep_at`] (a request shifts them into each window clip).
    /// Loads the built-in detector (with [`RedactionSettings::threads`]) and, when anyone is
    /// kept, the appearance embedder. Add a progress callback or a cancel token, then build.
    pub fn builder_with(&self, keep_at: &[KeepAt]) -> Result<RedactorBuilder, Error> {
        let mut options = self.analysis.clone();
        options.detector.person.session.intra_threads = self.threads;
        options.detector.face.session.intra_threads = self.threads;
        let detector = builtin_detector(&self.models, self.policy.targets(), &options.detector)?;
        let mut b = Redactor::builder()
            .detector(detector)
            .analysis(options)
            .policy(self.policy.clone())
            .encoder(self.encoder.clone())
            .mode(self.mode);
        for at in keep_at {
            b = b.keep_at(*at);
        }
        let session = SessionConfig {
            intra_threads: self.threads,
            ..SessionConfig::default()
        };
        if let Some(like) = &self.keep_like {
            let embedder = ReidEmbedder::new(&self.models, session)?;
            b = b.keep_like(KeepLike {
                photo: like.photo.clone(),
                embedder: Box::new(embedder),
                threshold: like.threshold,
                crops_per_track: 4,
            });
        }
        if !keep_at.is_empty() || !self.policy.keep().is_empty() {
            // People, not track ids: identities and the per-frame check need appearance.
            b = b.embedder(ReidEmbedder::new(&self.models, session)?);
        }
        if self.silhouettes && (!keep_at.is_empty() || self.keeps_anyone()) {
            match obscura_detect::Segmenter::installed(&self.models, session)? {
                Ok(seg) => b = b.segmenter(seg),
                Err(e) => tracing::warn!(
                    "silhouettes off (neighbours of the subject are masked whole): {e}"
                ),
            }
        }
        if let Some(n) = self.max_frames {
            b = b.max_frames(n);
        }
        Ok(b.review(self.review.clone()))
    }

    /// [`RedactionSettings::builder_with`] the settings' own subject points.
    pub fn builder(&self) -> Result<RedactorBuilder, Error> {
        self.builder_with(&self.keep_at)
    }

    /// A validated redactor for one run.
    pub fn redactor(&self) -> Result<Redactor, Error> {
        self.builder()?.build()
    }
}
