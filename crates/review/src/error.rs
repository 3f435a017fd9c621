//! The review crate's error type.

use std::path::PathBuf;

/// What can go wrong reading an edits file or running the review server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The edits file is not valid JSON, or breaks a rule of docs/EDITS.md.
    #[error("{}: {reason}", path.display())]
    Edits {
        /// The edits file.
        path: PathBuf,
        /// The problem, naming the field.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("{}: cannot read or write the file", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The analysis or rendering of the reviewed clip failed.
    #[error(transparent)]
    Pipeline(#[from] obscura_pipeline::Error),
    /// The local server could not start.
    #[error("review server: {0}")]
    Server(String),
}
