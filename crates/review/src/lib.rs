//! The review step of an Obscura export: a person checks and corrects the masking before
//! anything leaves.
//!
//! - [`edits`]: the edits file (docs/EDITS.md): the subject, manual masks (keyframed boxes or
//!   regions for a time range), identity splits and merges, un-mask entries with their
//!   reasons, the reviewer's pseudonym and time. `obscura redact --edits` and
//!   `obscura export --edits` apply it.
//! - [`server`]: `obscura review`: a local HTTP server (127.0.0.1, random port, random token)
//!   serving the embedded review page and the masked preview frames.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod edits;
mod error;
pub mod server;
pub mod session;

pub use edits::{Edits, LoadedEdits, MaskEntry, PersonRef, Unmask};
pub use error::Error;
pub use server::ReviewServer;
pub use session::{SaveTarget, Session};
