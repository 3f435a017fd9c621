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
    /// The redaction of a clip failed (message from the [`crate::ClipRedactor`]).
    #[error("redaction of camera {camera} failed: {reason}")]
    Redaction {
        /// The camera.
        camera: String,
        /// What went wrong.
        reason: String,
    },
}

impl Error {
    pub(crate) fn invalid(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Invalid { what: what.into(), reason: reason.into() }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}
