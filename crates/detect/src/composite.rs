//! Persons and faces together: faces are searched on upper-body crops of the detected persons
//! (batched) and on a downscaled full frame, never on full-resolution frames.

use obscura_core::{Detection, Frame, ObjectClass, Rect};

use crate::models::ModelStore;
use crate::nms::nms;
use crate::{
    Detector, Error, FaceConfig, FaceDetector, ModelId, PersonScan, ScanConfig, YoloxConfig,
    YoloxDetector,
};

/// Settings of [`PersonFaceDetector`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PersonFaceConfig {
    /// Person detector settings.
    pub person: YoloxConfig,
    /// How persons are searched: coarse whole-frame pass plus fine tiles ([`PersonScan`]).
    pub scan: ScanConfig,
    /// Face detector settings.
    pub face: FaceConfig,
    /// Fraction of a person box's height, from its top, searched for faces (0.5).
    pub upper_body: f32,
    /// Also search the downscaled full frame (catches faces whose person was missed) when
    /// at least this many seconds of video have passed since the last full-frame search
    /// (0.2; 0: on every detection, negative: never). It also runs whenever the timestamps
    /// do not advance (a still, a new clip). At `--every auto` this is one detection in two;
    /// the gap between two searches (under 0.2 s plus one detection interval) stays inside
    /// the pipeline's lead-in (0.5 s) and hold (1 s), so a face found only this way is
    /// masked continuously. Measured with `benches/recall.sh` on the real clips (BENCHMARKS.md).
    pub full_frame_interval: f32,
    /// Persons shorter than this (pixels) get no face crop (40): their face would be under
    /// about 6 px, which the face detector does not find, and their whole body is masked.
    pub min_person_height_for_faces: f32,
}

impl Default for PersonFaceConfig {
    fn default() -> Self {
        Self {
            person: YoloxConfig::default(),
            scan: ScanConfig::default(),
            face: FaceConfig::default(),
            upper_body: 0.5,
            full_frame_interval: 0.2,
            min_person_height_for_faces: 40.0,
        }
    }
}

/// Runs the person detector, then the face detector on upper-body crops (and, if set, on the
/// downscaled full frame); returns persons followed by faces.
#[derive(Debug)]
pub struct PersonFaceDetector {
    person: PersonScan,
    face: FaceDetector,
    config: PersonFaceConfig,
    /// Time of the last full-frame face search, in seconds of video.
    last_full_frame: Option<f64>,
}

impl PersonFaceDetector {
    /// Loads both built-in models from the store.
    pub fn new(store: &ModelStore, config: PersonFaceConfig) -> Result<Self, Error> {
        if !(config.upper_body > 0.0 && config.upper_body <= 1.0) {
            return Err(Error::InvalidInput {
                reason: format!("upper_body must lie in (0, 1], got {}", config.upper_body),
            });
        }
        if config.full_frame_interval.is_nan() {
            return Err(Error::InvalidInput {
                reason: "full_frame_interval is NaN".into(),
            });
        }
        Ok(Self {
            person: PersonScan::new(YoloxDetector::person(store, config.person)?, config.scan)?,
            face: FaceDetector::new(store, config.face)?,
            config,
            last_full_frame: None,
        })
    }

    /// Whether `frame` gets the full-frame face search: the interval allows it and either
    /// none ran yet, enough video time has passed, or time did not advance.
    fn full_frame_due(&self, frame: &Frame) -> bool {
        let interval = f64::from(self.config.full_frame_interval);
        let now = frame.pts.as_secs_f64();
        interval >= 0.0
            && self
                .last_full_frame
                .is_none_or(|last| now <= last || now - last >= interval - 1e-6)
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
        // Dark or flat frames are stretched for the detectors (the output is never changed).
        let seen = crate::lowlight::for_detection(frame);
        let frame: &Frame = &seen;
        let mut persons = self.person.detect(frame)?;
        crate::lowlight::widen_dark_boxes(&seen, &mut persons);
        let regions: Vec<_> = persons
            .iter()
            .filter(|p| p.rect.h >= self.config.min_person_height_for_faces)
            .filter_map(|p| {
                Self::face_region(&p.rect, self.config.upper_body)
                    .to_pixels(frame.width, frame.height)
            })
            .collect();
        let mut faces = self.face.detect_regions(frame, &regions)?;
        if self.full_frame_due(frame) {
            faces.extend(self.face.detect(frame)?);
            self.last_full_frame = Some(frame.pts.as_secs_f64());
        }
        let faces = nms(faces, self.face.config().nms_iou);
        debug_assert!(faces.iter().all(|f| f.class == ObjectClass::Face));
        let mut out = persons;
        out.extend(faces);
        Ok(out)
    }

    fn models(&self) -> Vec<ModelId> {
        let mut m = self.person.models();
        m.extend(self.face.models());
        m
    }
}
