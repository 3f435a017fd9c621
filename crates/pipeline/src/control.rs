//! Run controls shared by every pass: cancellation, progress reporting and the pass layout.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

/// A cancellation flag shared with the caller: set it and the run stops, leaving no output.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A fresh, unset token.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks every run holding this token to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// The underlying flag (for signal handlers).
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.0.clone()
    }
}

impl From<Arc<AtomicBool>> for CancelToken {
    fn from(flag: Arc<AtomicBool>) -> Self {
        Self(flag)
    }
}

/// Which pass of a run is reporting progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Pass {
    /// Detection and tracking only (two-pass mode, first pass).
    Analyse,
    /// Embedding crops of the tracks (appearance analysis: identities).
    Embed,
    /// Checking every box of the kept people (per-frame verification).
    Verify,
    /// Masking and encoding the output.
    Redact,
}

/// Progress of a run, reported after every frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The pass reporting.
    pub pass: Pass,
    /// 1-based number of this pass.
    pub pass_number: u32,
    /// Number of passes of this run (1 for a streaming run, 2 or 3 otherwise).
    pub passes: u32,
    /// Frames done in this pass.
    pub frames_done: u64,
    /// Frames expected in this pass (the container's count), when known.
    pub frames_total: Option<u64>,
}

/// A progress callback; called from a pipeline thread, keep it cheap.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// How the run is organised (see the crate docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// One streaming pass when the subject is given by track ids (or there is none), two
    /// passes when it must be found first (`keep_at`, `keep_like`).
    #[default]
    Auto,
    /// Always one pass (fails at build time if `keep_at` or `keep_like` is set).
    OnePass,
    /// Always two passes: analyse to a [`obscura_track::TrackSet`], then mask from it.
    TwoPass,
}

/// The callback as the runner takes it (a borrowed `Fn`, so a caller's non-`'static` closure
/// fits too).
pub(crate) fn progress_ref(p: Option<&ProgressFn>) -> Option<&(dyn Fn(&Progress) + Sync)> {
    p.map(|f| f.as_ref() as &(dyn Fn(&Progress) + Sync))
}
