//! Persons and faces together: faces are searched on upper-body crops of the detected persons
//! (batched) and on a downscaled full frame, never on full-resolution frames.

use obscura_core::{Detection, Frame, ObjectClass, Rect};

use crate::models::ModelStore;
use crate::nms::nms;
use crate::{Detector, Error, FaceConfig, FaceDetector, ModelInfo, YoloxConfig, YoloxDetector};

/// Settings of [`PersonFaceDetector`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PersonFaceConfig {
    /// Person detector settings.
    pub person: YoloxConfig,
    /// Face detector settings.
    pub face: FaceConfig,
    /// Fraction of a person box's height, from its top, searched for faces (0.5).
    pub upper_body: f32,
    /// Also search the downscaled full frame (catches faces whose person was missed; true).
    pub full_frame_faces: bool,
}

impl Default for PersonFaceConfig {
    fn default() -> Self {
        Self { person: YoloxConfig::default(), face: FaceConfig::default(), upper_body: 0.5, full_frame_faces: true }
    }
}

/// Runs the person detector, then the face detector on upper-body crops (and, if set, on the
/// downscaled full frame); returns persons followed by faces.
#[derive(Debug)]
pub struct PersonFaceDetector {
    person: YoloxDetector,
    face: FaceDetector,
    config: PersonFaceConfig,
}

impl PersonFaceDetector {
    /// Loads both built-in models from the store.
    pub fn new(store: &ModelStore, config: PersonFaceConfig) -> Result<Self, Error> {
        if !(config.upper_body > 0.0 && config.upper_body <= 1.0) {
            return Err(Error::InvalidInput { reason: format!("upper_body must lie in (0, 1], got {}", config.upper_body) });
        }
        Ok(Self { person: YoloxDetector::person(store, config.person)?, face: FaceDetector::new(store, config.face)?, config })
    }

    /// The upper-body crop searched for a face of `person`: the top `upper_body` of the box,
    /// widened by 15% each side so heads at the edge of a box are inside.
    pub fn face_region(person: &Rect, upper_body: f32) -> Rect {
        let top = Rect::new(person.x, person.y, person.w, person.h * upper_body);
        top.dilate(0.15, 2.0)
    }
}

impl Detector for PersonFaceDetector {
    fn detect(&mut self, frame: &Frame) -> Result<Vec<Detection>, Error> {
        let persons = self.person.detect(frame)?;
        let regions: Vec<_> = persons
            .iter()
            .filter_map(|p| Self::face_region(&p.rect, self.config.upper_body).to_pixels(frame.width, frame.height))
            .collect();
        let mut faces = self.face.detect_regions(frame, &regions)?;
        if self.config.full_frame_faces {
            faces.extend(self.face.detect(frame)?);
        }
        let faces = nms(faces, self.face.config().nms_iou);
        debug_assert!(faces.iter().all(|f| f.class == ObjectClass::Face));
        let mut out = persons;
        out.extend(faces);
        Ok(out)
    }

    fn models(&self) -> Vec<ModelInfo> {
        let mut m = self.person.models();
        m.extend(self.face.models());
        m
    }
}
