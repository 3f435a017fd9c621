//! YuNet face detector (`yunet_n_dynamic`): boxes and five landmarks.

use obscura_core::{Detection, Frame, ObjectClass, PixelRect};

use crate::layout::{OutputLayout, decode};
use crate::letterbox::{Letterbox, fill_bgr, full_region};
use crate::models::ModelStore;
use crate::nms::nms;
use crate::session::{OnnxModel, SessionConfig};
use crate::{Detector, Error, ModelId};

/// The registry name of the built-in face model.
pub const FACE_MODEL: &str = "yunet_n_dynamic";

/// Settings of the face detector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceConfig {
    /// Minimum score kept (0.5; OpenCV's demo uses 0.9, we favour recall).
    pub score_threshold: f32,
    /// NMS IoU (0.3, as measured in MODELS.md).
    pub nms_iou: f32,
    /// [`Detector::detect`] downscales the frame so its longer side is at most this (640):
    /// full-resolution YuNet costs ~100 ms per 1080p frame on 2 cores.
    pub max_side: u32,
    /// Side of the square input each crop of [`FaceDetector::detect_regions`] is fitted into
    /// (a multiple of 32; 128).
    pub crop_size: u32,
    /// Largest upscale applied to a small crop (2.0): small faces become detectable.
    pub max_crop_upscale: f32,
    /// Crops per batched inference call (8).
    pub max_batch: usize,
    /// Session options.
    pub session: SessionConfig,
}

impl Default for FaceConfig {
    fn default() -> Self {
        Self {
            score_threshold: 0.5,
            nms_iou: 0.3,
            max_side: 640,
            crop_size: 128,
            max_crop_upscale: 2.0,
            max_batch: 8,
            session: SessionConfig::default(),
        }
    }
}

/// YuNet: inputs padded bottom/right with 0 to multiples of 32, BGR raw 0-255; twelve
/// per-stride outputs decoded through [`OutputLayout::yunet`].
#[derive(Debug)]
pub struct FaceDetector {
    model: OnnxModel,
    layout: OutputLayout,
    config: FaceConfig,
}

impl FaceDetector {
    /// Loads `yunet_n_dynamic` from the store.
    pub fn new(store: &ModelStore, config: FaceConfig) -> Result<Self, Error> {
        if config.crop_size == 0
            || !config.crop_size.is_multiple_of(32)
            || config.max_side < 32
            || config.max_batch == 0
        {
            return Err(Error::InvalidInput {
                reason: format!(
                    "crop_size must be a positive multiple of 32, max_side >= 32, max_batch > 0: {config:?}"
                ),
            });
        }
        let model = OnnxModel::load(store, FACE_MODEL, &config.session)?;
        Ok(Self {
            model,
            layout: OutputLayout::yunet(),
            config,
        })
    }

    /// The settings in use.
    pub fn config(&self) -> &FaceConfig {
        &self.config
    }

    fn run_batch(&mut self, frame: &Frame, lbs: &[Letterbox]) -> Result<Vec<Detection>, Error> {
        let Some(first) = lbs.first() else {
            return Ok(Vec::new());
        };
        let (w, h) = (first.input_w, first.input_h);
        let per = first.tensor_len();
        let mut input = vec![0f32; per * lbs.len()];
        for (lb, chunk) in lbs.iter().zip(input.chunks_exact_mut(per)) {
            fill_bgr(frame, lb, chunk, 0.0)?;
        }
        let shape = [lbs.len(), 3, h as usize, w as usize];
        let outputs = self
            .model
            .run("input", shape, &input, &self.layout.output_names())?;
        let mut dets = Vec::new();
        for (b, lb) in lbs.iter().enumerate() {
            for c in decode(
                &self.layout,
                &outputs,
                b,
                w,
                h,
                &[(0, ObjectClass::Face)],
                self.config.score_threshold,
            )? {
                let mut d = Detection::new(lb.rect_to_source(&c.rect), c.score, ObjectClass::Face);
                d.landmarks = c
                    .landmarks
                    .map(|l| l.map(|[x, y]| lb.point_to_source(x, y)));
                dets.push(d);
            }
        }
        Ok(dets)
    }

    /// Faces inside each of `regions` (clipped to the frame), each fitted into a
    /// `crop_size` square and run in batches; results in frame pixels, after NMS.
    pub fn detect_regions(
        &mut self,
        frame: &Frame,
        regions: &[PixelRect],
    ) -> Result<Vec<Detection>, Error> {
        let s = self.config.crop_size;
        let lbs: Vec<Letterbox> = regions
            .iter()
            .filter_map(|r| clip(r, frame))
            .map(|r| {
                let scale = (s as f32 / r.w as f32)
                    .min(s as f32 / r.h as f32)
                    .min(self.config.max_crop_upscale);
                Letterbox::with_scale(r, scale, s, s)
            })
            .collect();
        let mut dets = Vec::new();
        for batch in lbs.chunks(self.config.max_batch) {
            dets.extend(self.run_batch(frame, batch)?);
        }
        Ok(nms(dets, self.config.nms_iou))
    }
}

fn clip(r: &PixelRect, frame: &Frame) -> Option<PixelRect> {
    let x1 = r.right().min(frame.width);
    let y1 = r.bottom().min(frame.height);
    (x1 > r.x && y1 > r.y).then(|| PixelRect {
        x: r.x,
        y: r.y,
        w: x1 - r.x,
        h: y1 - r.y,
    })
}

impl Detector for FaceDetector {
    /// Faces in the whole frame, downscaled so its longer side is at most `max_side`.
    fn detect(&mut self, frame: &Frame) -> Result<Vec<Detection>, Error> {
        let m = self.config.max_side;
        let lb = Letterbox::scaled_to_multiple(full_region(frame), 1.0, m, m, 32);
        let dets = self.run_batch(frame, &[lb])?;
        Ok(nms(dets, self.config.nms_iou))
    }

    fn models(&self) -> Vec<ModelId> {
        vec![self.model.info().clone()]
    }
}
