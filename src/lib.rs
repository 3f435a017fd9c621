//! Obscura: privacy-safe, encrypted, signed exports of surveillance footage.
//!
//! This crate is the partner-facing facade: it only re-exports the workspace crates, so a
//! partner depends on one crate and one version.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use obscura_audit as audit;
pub use obscura_core as core;
pub use obscura_detect as detect;
pub use obscura_media as media;
pub use obscura_pipeline as pipeline;
pub use obscura_render as render;
pub use obscura_request as request;
pub use obscura_seal as seal;
pub use obscura_track as track;
