//! Shared types for Obscura. No FFmpeg, no ONNX Runtime, no cryptography: only the
//! vocabulary the other crates exchange.
//!
//! - [`Rational`] and [`Timestamp`]: exact media time (ticks in a rational time base, no floats).
//! - [`Interval`] and [`IntervalSet`]: half-open time ranges and normalised sets of them.
//! - [`Rect`] and [`PixelRect`]: geometry in source-frame pixels.
//! - [`Frame`] and [`Plane`]: decoded pictures (YUV 4:2:0 or packed RGB/RGBA).
//! - [`Detection`] and [`ObjectClass`]: what a detector found, in source-frame pixels.
//! - [`ModelId`]: a detection model pinned by hash (name and sha256).
//! - [`atomic`]: crash-safe output files (temp + fsync + rename).
//! - [`civil`]: UTC calendar work (on jiff) for RFC 3339 stamps, wall-clock times and dates.
//! - [`digest`]: SHA-256 of bytes and of files, lowercase hex.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod atomic;
pub mod civil;
mod detection;
pub mod digest;
mod error;
mod frame;
mod geometry;
mod interval;
mod model;
mod time;

pub use detection::{Detection, ObjectClass};
pub use error::Error;
pub use frame::{Frame, PixelFormat, Plane};
pub use geometry::{PixelRect, Rect};
pub use interval::{Interval, IntervalSet};
pub use model::ModelId;
pub use time::{Rational, Timestamp};
