//! The Obscura pipeline: wires decoding (obscura-media), detection (obscura-detect) and
//! tracking (obscura-track) over whole files.
//!
//! - [`analyse`](analyse::analyse): decode -> detect (every Nth frame) -> track, producing a
//!   [`obscura_track::TrackSet`] with every live track's box on every frame (what
//!   `obscura tracks` prints and what the redaction renderer masks from).
//! - [`Error`]: one error type naming the input, the stage and the frame that failed.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod analyse;
mod error;
pub mod policy;
pub mod redact;
pub mod sheet;
pub mod still;
pub mod subject;

pub use analyse::{AnalyseOptions, Targets, analyse, builtin_detector};
pub use error::{At, Cause, Error, Stage};
pub use policy::{Candidate, Decision, Policy, PolicyBuilder};
pub use redact::{CancelToken, KeepAt, KeepLike, Mode, Pass, Progress, ProgressFn, RedactReport, Redactor, RedactorBuilder};
pub use sheet::contact_sheet;
pub use still::is_still;
pub use subject::SubjectMatch;
