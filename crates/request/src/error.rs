//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while handling a request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A request value is not acceptable; names the value and the rule.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// What was given.
        what: String,
        /// Why it is refused.
        reason: String,
    },
    /// Reading or writing a file or folder failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Decoding, cutting or encoding failed.
    #[error(transparent)]
    Media(#[from] obscura_media::Error),
    /// Sealing or verifying failed.
    #[error(transparent)]
    Seal(#[from] obscura_seal::Error),
    /// The audit log could not be written.
    #[error(transparent)]
    Audit(#[from] obscura_audit::Error),
    /// The redaction of a clip failed (the [`crate::ClipRedactor`]'s error).
    #[error("redaction of camera {camera} failed: {reason}")]
    Redaction {
        /// The camera.
        camera: String,
        /// What went wrong.
        reason: RedactionError,
    },
}

/// Why the redaction of one clip failed (what a [`crate::ClipRedactor`] returns).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedactionError {
    /// A point that picks the subject lies before the request window.
    #[error("--keep-at {point}: the time lies before the request window")]
    PointBeforeWindow {
        /// The point as given.
        point: String,
    },
    /// A reviewer's edits file does not fit the clip (docs/EDITS.md).
    #[error("edits file: {reason}")]
    Review {
        /// What is wrong.
        reason: String,
    },
    /// The redactor could not be set up (a model, a setting). Boxed, as in
    /// [`RedactionError::Pipeline`], to keep every `Result` of this crate small.
    #[error(transparent)]
    Setup(Box<obscura_pipeline::Error>),
    /// The pipeline failed on the window clip of a camera. The message names the camera
    /// rather than the clip (a private temporary) and says that frame numbers and times count
    /// from the window's start.
    #[error("{} (frame numbers and times here count from the request window's start, source time {offset})", error.to_string().replace(&window.display().to_string(), &format!("camera {camera}")))]
    Pipeline {
        /// The camera.
        camera: String,
        /// The window clip the pipeline ran on.
        window: PathBuf,
        /// Source time of the window clip's start.
        offset: obscura_core::Timestamp,
        /// The pipeline's error (boxed: it is large, and rare).
        error: Box<obscura_pipeline::Error>,
    },
    /// The redactor wrote another number of frames than the window holds.
    #[error("{window} frames in the window but {redacted} redacted")]
    FrameCount {
        /// Frames in the window clip.
        window: u64,
        /// Frames the redactor reported.
        redacted: u64,
    },
    /// A partner redactor's own failure.
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl Error {
    pub(crate) fn invalid(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Invalid {
            what: what.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small enough for clippy's `result_large_err` (128 bytes) without an allow: the
    /// pipeline's large error is boxed.
    #[test]
    fn errors_stay_small() {
        assert!(
            std::mem::size_of::<Error>() <= 128,
            "{}",
            std::mem::size_of::<Error>()
        );
        assert!(std::mem::size_of::<RedactionError>() <= 128);
    }
}
