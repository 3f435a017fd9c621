//! Person and face detection for Obscura over ONNX Runtime (`ort`).
//!
//! - [`runtime::init`] finds and loads `libonnxruntime.so` once per process.
//! - [`Detector`] is the trait every detector implements: a frame in, [`Detection`]s in
//!   source-frame pixels out (any letterbox is undone inside this crate).
//! - [`YoloxDetector`] (persons, `yolox_nano_416` or `yolox_nano_int8`), [`FaceDetector`] (faces + 5 landmarks,
//!   `yunet_n_dynamic`) and [`PersonFaceDetector`] (persons, then faces on upper-body crops
//!   plus a downscaled full frame) are the built-in detectors.
//! - [`letterbox`] (pre-processing), [`layout`] (output layouts described as data, one
//!   decoder for many exports) and [`nms`] are public so partners can reuse them for their
//!   own ONNX exports.
//! - [`models::ModelStore`] gives sha256-verified model paths.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod composite;
pub mod layout;
pub mod letterbox;
pub mod lowlight;
pub mod models;
pub mod motion;
pub mod nms;
mod onnx_shape;
pub mod reid;
pub mod runtime;
pub mod scan;
pub mod session;
pub mod silhouette;
pub mod yolox;
pub mod yunet;

pub use composite::{PersonFaceConfig, PersonFaceDetector};
pub use obscura_core::{Detection, ModelId, ObjectClass};
pub use scan::{PersonScan, Recall, ScanConfig, SweepSchedule};
pub use session::{OptimizationLevel, SessionConfig};
pub use silhouette::{Segmenter, Silhouette};
pub use yolox::{PersonDetector, PersonModel, YoloxConfig, YoloxDetector};
pub use yunet::{FaceConfig, FaceDetector};

use obscura_core::Frame;
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
    /// The ONNX Runtime library cannot be found or loaded.
    #[error("ONNX Runtime: {reason}")]
    Runtime {
        /// What went wrong, naming the paths tried.
        reason: String,
    },
    /// Running a model failed or its output has an unexpected shape.
    #[error("inference with {model} failed: {reason}")]
    Inference {
        /// Model name.
        model: String,
        /// What went wrong.
        reason: String,
    },
    /// A frame or a setting is unusable.
    #[error("invalid input: {reason}")]
    InvalidInput {
        /// What is wrong with it.
        reason: String,
    },
}

/// A detector: a frame in, detections in source-frame pixels out.
///
/// Implement it to plug another detector into the pipeline; [`YoloxDetector::from_entry`]
/// covers other YOLOX-layout ONNX exports without new code.
pub trait Detector: Send {
    /// Detects objects in `frame` (Yuv420p, Rgb24 or Rgba). Boxes are in the frame's pixels.
    fn detect(&mut self, frame: &Frame) -> Result<Vec<Detection>, Error>;

    /// The models this detector runs (name and sha256), for manifests.
    fn models(&self) -> Vec<ModelId>;

    /// A short name for logs and manifests.
    fn name(&self) -> String {
        self.models()
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>()
            .join("+")
    }
}

impl<D: Detector + ?Sized> Detector for Box<D> {
    fn detect(&mut self, frame: &Frame) -> Result<Vec<Detection>, Error> {
        (**self).detect(frame)
    }
    fn models(&self) -> Vec<ModelId> {
        (**self).models()
    }
    fn name(&self) -> String {
        (**self).name()
    }
}
