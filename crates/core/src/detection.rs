//! What a detector reports.

use serde::{Deserialize, Serialize};

use crate::Rect;

/// The kind of object a detection or track stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectClass {
    /// A whole person (body box).
    Person,
    /// A face.
    Face,
    /// Another class of a partner's detector, by its model-specific id.
    Other(u32),
}

impl ObjectClass {
    /// Lower-case name used in CLI flags and JSON (`person`, `face`, `other-N`).
    pub fn name(&self) -> String {
        match self {
            ObjectClass::Person => "person".into(),
            ObjectClass::Face => "face".into(),
            ObjectClass::Other(id) => format!("other-{id}"),
        }
    }
}

/// One object found in one frame, in source-frame pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// Bounding box in source-frame pixels (any letterbox already undone).
    pub rect: Rect,
    /// Confidence in `[0, 1]`.
    pub score: f32,
    /// What it is.
    pub class: ObjectClass,
    /// Five facial landmarks (eyes, nose, mouth corners) for face detections, when known.
    pub landmarks: Option<[[f32; 2]; 5]>,
}

impl Detection {
    /// A detection without landmarks.
    pub fn new(rect: Rect, score: f32, class: ObjectClass) -> Self {
        Self {
            rect,
            score,
            class,
            landmarks: None,
        }
    }
}
