//! Deterministic multi-object tracking for Obscura (ByteTrack family); pure, no I/O.
//!
//! - [`Tracker`]: Kalman constant-velocity motion on (centre, aspect, height), two-stage
//!   IoU association (high-score detections, then low-score ones), greedy matching with
//!   deterministic tie-breaking, hold time for lost tracks, detection on every Nth frame
//!   with predictions in between, faces linked to the person track containing them.
//! - [`TrackUpdate`] indexes back into the detections passed in (`detection_index`).
//! - [`IdGenerator`]: pluggable ids, never reused.
//! - [`TrackSet`]: every track's box on every frame of a file (the `tracks` JSON format).
//! - [`identity`]: tracks split where their appearance changes (id switches) and linked into
//!   the people of the file ([`IdentityRecord`]), from re-identification samples.
//!
//! Why not the `similari` crate: see `docs/TRACKS-JSON.md` ("Tracker").
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod identity;
pub mod kalman;
mod tracker;
pub mod trackset;

pub use identity::{
    IdentityConfig, IdentityId, IdentityRecord, Sample, TrackletRecord, build_identities,
};
pub use obscura_core::ModelId;
pub use tracker::{
    BoxSource, IdGenerator, SequentialIds, TrackBox, TrackId, TrackUpdate, Tracker, TrackerConfig,
};
pub use trackset::{
    AnalysisSettings, BoxRecord, SourceInfo, TrackRecord, TrackSet, TrackSetBuilder,
};

use thiserror::Error;

/// Errors of the tracking crate.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting or call is inconsistent.
    #[error("invalid tracker configuration: {reason}")]
    InvalidConfig {
        /// What is wrong.
        reason: String,
    },
}
