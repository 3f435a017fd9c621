//! Person and face detection for Obscura over ONNX Runtime.
#![deny(missing_docs)]

pub mod models;

use thiserror::Error;

/// Errors of the detection crate.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A model is missing, fails its sha256 check, or cannot be loaded.
    #[error("model {name}: {reason}")]
    Model {
        /// Model name from the registry.
        name: String,
        /// What is wrong.
        reason: String,
    },
}
