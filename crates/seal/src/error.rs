//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while sealing, verifying or opening an export.
///
/// Messages never contain key material. Decryption failures are deliberately coarse
/// ([`Error::NoMatchingIdentity`], [`Error::Damaged`]) so that they give no oracle.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A builder or argument value is not acceptable; names the value and the rule.
    #[error("invalid {what}: {problem}")]
    Invalid {
        /// What was given (e.g. `payload name "../x"`).
        what: String,
        /// Why it is refused.
        problem: String,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a well-formed export, or its contents do not match its signed
    /// manifest (truncated, extended, edited, spliced). `reason` says which check failed.
    #[error("export is damaged or tampered: {reason}")]
    Damaged {
        /// The check that failed (never secret-dependent).
        reason: String,
    },
    /// A write failed because the file system is full (or a quota is exhausted): the export
    /// is not at fault. Nothing partial is left.
    #[error("{}: no space left on the file system (disk full or quota exceeded); nothing was written", path.display())]
    DiskFull {
        /// The file being written.
        path: PathBuf,
    },
    /// The manifest signature does not verify.
    #[error("export is damaged or tampered: bad signature")]
    BadSignature,
    /// The signature is valid but made by a key other than the one required.
    #[error("signed by an unknown key (fingerprint {fingerprint}), not the required signer")]
    UnknownSigner {
        /// Fingerprint of the key that did sign.
        fingerprint: String,
    },
    /// The export is intact but past its retention expiry date.
    #[error("export expired on {expires} (signature and hashes are valid)")]
    Expired {
        /// The manifest's expiry date.
        expires: String,
    },
    /// No recipient stanza could be unwrapped with the identity given. Deliberately does not
    /// say whether the key, the passphrase or the stanza was at fault.
    #[error("cannot open: no matching identity or wrong passphrase")]
    NoMatchingIdentity,
    /// A key file could not be read (wrong type, malformed, wrong protection passphrase).
    #[error("invalid key file: {0}")]
    KeyFile(String),
    /// A pluggable [`crate::Signer`] failed.
    #[error("signer failed: {0}")]
    Signer(String),
    /// The operating system's random number generator failed.
    #[error("random number generator failed")]
    Rng,
}

impl Error {
    /// True when the error is a finding about the export itself (damaged, bad signature,
    /// unknown signer, expired), as opposed to bad arguments or I/O trouble. The CLI maps
    /// findings to exit code 1 and everything else to 2.
    pub fn is_finding(&self) -> bool {
        matches!(
            self,
            Error::Damaged { .. }
                | Error::BadSignature
                | Error::UnknownSigner { .. }
                | Error::Expired { .. }
        )
    }

    pub(crate) fn invalid(what: impl Into<String>, problem: impl Into<String>) -> Self {
        Error::Invalid {
            what: what.into(),
            problem: problem.into(),
        }
    }

    /// A refused [`crate::Date`], with the same text as before dates moved to core.
    pub(crate) fn date(e: obscura_core::Error) -> Self {
        match e {
            obscura_core::Error::InvalidDate { what, problem } => Error::invalid(what, problem),
            other => Error::invalid("date", other.to_string()),
        }
    }

    pub(crate) fn damaged(reason: impl Into<String>) -> Self {
        Error::Damaged {
            reason: reason.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        if is_disk_full(&source) {
            return Error::DiskFull { path: path.into() };
        }
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// True for "no space left on device" and "disk quota exceeded".
pub fn is_disk_full(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    ) || matches!(e.raw_os_error(), Some(28) | Some(122))
}

/// Alias used by [`crate::verify`]; the crate has one error type.
pub type VerifyError = Error;
