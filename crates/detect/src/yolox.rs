//! YOLOX detectors (persons with `yolox_nano_416`, or any YOLOX-layout export).

use obscura_core::{Detection, Frame, ObjectClass, PixelRect};

use crate::layout::{OutputLayout, decode};
use crate::letterbox::{Letterbox, fill_bgr, full_region, stretch_low_contrast};
use crate::models::ModelStore;
use crate::nms::nms;
use crate::session::{OnnxModel, SessionConfig};
use crate::{Detector, Error, ModelId};

/// The registry name of the default person model (float, [`PersonModel::Float`]).
pub const PERSON_MODEL: &str = "yolox_nano_416";

/// Which of the two built-in person models runs: the same YOLOX-nano weights, as pinned
/// (float) or quantized to int8 (`scripts/derive-models.sh`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PersonModel {
    /// `yolox_nano_416`: the pinned float export; the default.
    #[default]
    Float,
    /// `yolox_nano_int8`: int8 weights and activations (`scripts/derive-models.sh`), opt-in:
    /// on the ground truth it exposes a few more half-hidden people than the float model, for
    /// a speed gain that is small with ONNX Runtime 1.31 (BENCHMARKS.md).
    Int8,
}

impl PersonModel {
    /// The registry name of the model.
    pub fn registry_name(self) -> &'static str {
        match self {
            PersonModel::Float => PERSON_MODEL,
            PersonModel::Int8 => "yolox_nano_int8",
        }
    }
}

impl std::str::FromStr for PersonModel {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim() {
            "int8" => Ok(PersonModel::Int8),
            "float" => Ok(PersonModel::Float),
            other => Err(Error::InvalidInput {
                reason: format!("person model {other:?}: expected int8 or float"),
            }),
        }
    }
}

/// Settings of a YOLOX detector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct YoloxConfig {
    /// Minimum `objectness * class` score kept. The default 0.12 is low on purpose: a missed
    /// person is a data breach while a false box only masks some background. Chosen against
    /// human ground truth (`benches/gt_recall.sh`, BENCHMARKS.md): 0.25 left 5% of the
    /// clearly visible people exposed, 0.15 2%, 0.12 hid two more of them and every one
    /// 20-40 px tall, for the same background masked.
    pub score_threshold: f32,
    /// IoU above which a lower-scored box of the same class is suppressed (0.45, YOLOX's value).
    pub nms_iou: f32,
    /// Run on the picture's own aspect (true): the input is the letterboxed picture padded
    /// only up to multiples of 32 (416x256 for a 16:9 frame) instead of to the full square
    /// (416x416), at the same scale, so 38% fewer pixels go through the network for 16:9.
    /// The session's copy of the model gets symbolic input height and width; this needs an
    /// export without sizes fixed inside the graph (the built-in one has none).
    pub fit_aspect: bool,
    /// Contrast compensation before detection ([`crate::letterbox::stretch_low_contrast`]):
    /// pictures spanning fewer than this many grey levels between their 1st and 99th luma
    /// percentile (night, fog, washed-out cameras) are stretched to the full range (160; 0
    /// turns it off).
    pub low_contrast_range: f32,
    /// Which built-in person model [`YoloxDetector::person`] loads (float).
    pub person_model: PersonModel,
    /// Session options.
    pub session: SessionConfig,
}

impl Default for YoloxConfig {
    fn default() -> Self {
        Self {
            score_threshold: 0.12,
            nms_iou: 0.45,
            fit_aspect: true,
            low_contrast_range: 160.0,
            person_model: PersonModel::Float,
            session: SessionConfig::default(),
        }
    }
}

/// A YOLOX-layout detector: letterbox top-left with pad 114, BGR raw 0-255, packed output.
#[derive(Debug)]
pub struct YoloxDetector {
    model: OnnxModel,
    input_name: String,
    input_w: u32,
    input_h: u32,
    layout: OutputLayout,
    classes: Vec<(usize, ObjectClass)>,
    config: YoloxConfig,
}

/// The person detector: [`YoloxDetector`] over `yolox_nano_416` (or `yolox_nano_int8`), COCO class 0.
pub type PersonDetector = YoloxDetector;

impl YoloxDetector {
    /// The built-in person detector (`config.person_model`, COCO class 0 -> person).
    pub fn person(store: &ModelStore, config: YoloxConfig) -> Result<Self, Error> {
        Self::from_entry(
            store,
            config.person_model.registry_name(),
            vec![(0, ObjectClass::Person)],
            80,
            config,
        )
    }

    /// Any YOLOX export listed in the store: `class_map` maps model class indexes to classes
    /// (others are ignored), `num_classes` is the export's class count. The input name and
    /// size come from the entry's `input` table (`name`, `size = [w, h]`), defaulting to
    /// `images` and 416x416.
    pub fn from_entry(
        store: &ModelStore,
        name: &str,
        class_map: Vec<(usize, ObjectClass)>,
        num_classes: usize,
        config: YoloxConfig,
    ) -> Result<Self, Error> {
        if !(0.0..=1.0).contains(&config.score_threshold)
            || !(0.0..=1.0).contains(&config.nms_iou)
            || !(0.0..=255.0).contains(&config.low_contrast_range)
        {
            return Err(Error::InvalidInput {
                reason: format!("thresholds must lie in [0, 1]: {config:?}"),
            });
        }
        let entry = store.entry(name)?;
        let input_name = entry
            .input
            .get("name")
            .and_then(|v| v.as_str())
            .unwrap_or("images")
            .to_string();
        let size: Vec<u32> = entry
            .input
            .get("size")
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_integer())
                    .map(|x| x as u32)
                    .collect()
            })
            .unwrap_or_default();
        let (input_w, input_h) = match size[..] {
            [w, h] if w % 32 == 0 && h % 32 == 0 && w > 0 && h > 0 => (w, h),
            [] => (416, 416),
            _ => {
                return Err(Error::Model {
                    name: name.into(),
                    reason: format!("input size {size:?} is not [w, h] in multiples of 32"),
                });
            }
        };
        let layout = OutputLayout::yolox(num_classes);
        let model = if config.fit_aspect {
            let outputs = layout.output_names();
            let mut free: Vec<(&str, &[usize])> = vec![(&input_name, &[2, 3])];
            free.extend(outputs.iter().map(|o| (o.as_str(), &[1usize][..])));
            OnnxModel::load_freeing(store, name, &config.session, &free)?
        } else {
            OnnxModel::load(store, name, &config.session)?
        };
        Ok(Self {
            model,
            input_name,
            input_w,
            input_h,
            layout,
            classes: class_map,
            config,
        })
    }

    /// Detects within `region` of `frame` only (boxes still in frame pixels), the region
    /// fitted into the model's declared input size.
    pub fn detect_region(
        &mut self,
        frame: &Frame,
        region: PixelRect,
    ) -> Result<Vec<Detection>, Error> {
        let lb = if self.config.fit_aspect {
            Letterbox::scaled_to_multiple(region, f32::INFINITY, self.input_w, self.input_h, 32)
        } else {
            Letterbox::fit(region, self.input_w, self.input_h)
        };
        self.run(frame, &lb)
    }

    /// Detects within `region` of `frame` resized by `scale` (network pixels per frame pixel,
    /// the input padded up to multiples of 32), whatever the declared input size: needs
    /// `fit_aspect` (symbolic input sizes). Boxes are in frame pixels.
    pub fn detect_region_at(
        &mut self,
        frame: &Frame,
        region: PixelRect,
        scale: f32,
    ) -> Result<Vec<Detection>, Error> {
        if !self.config.fit_aspect {
            return Err(Error::InvalidInput {
                reason: "detect_region_at needs fit_aspect (symbolic input sizes)".into(),
            });
        }
        if !(scale.is_finite()
            && scale > 0.0
            && region.w as f32 * scale <= 16384.0
            && region.h as f32 * scale <= 16384.0)
        {
            return Err(Error::InvalidInput {
                reason: format!("scale {scale} of region {region:?} is out of range"),
            });
        }
        self.run(
            frame,
            &Letterbox::scaled_to_multiple(region, scale, u32::MAX, u32::MAX, 32),
        )
    }

    fn run(&mut self, frame: &Frame, lb: &Letterbox) -> Result<Vec<Detection>, Error> {
        let lb = *lb;
        let mut input = vec![0f32; lb.tensor_len()];
        fill_bgr(frame, &lb, &mut input, 114.0)?;
        stretch_low_contrast(&lb, &mut input, self.config.low_contrast_range);
        let shape = [1, 3, lb.input_h as usize, lb.input_w as usize];
        let outputs =
            self.model
                .run(&self.input_name, shape, &input, &self.layout.output_names())?;
        let cands = decode(
            &self.layout,
            &outputs,
            0,
            lb.input_w,
            lb.input_h,
            &self.classes,
            self.config.score_threshold,
        )?;
        let dets = cands
            .into_iter()
            .map(|c| Detection::new(lb.rect_to_source(&c.rect), c.score, c.class))
            .filter(|d| d.rect.w > 0.0 && d.rect.h > 0.0)
            .collect();
        Ok(nms(dets, self.config.nms_iou))
    }

    /// The settings in use.
    pub fn config(&self) -> &YoloxConfig {
        &self.config
    }
}

impl Detector for YoloxDetector {
    fn detect(&mut self, frame: &Frame) -> Result<Vec<Detection>, Error> {
        self.detect_region(frame, full_region(frame))
    }

    fn models(&self) -> Vec<ModelId> {
        vec![self.model.info().clone()]
    }
}
