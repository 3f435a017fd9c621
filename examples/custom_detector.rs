//! Plug your own detector into the redaction pipeline.
//!
//! Anything that implements [`obscura::detect::Detector`] (a frame in, boxes in source-frame
//! pixels out) can drive the tracker, the policy and the masking. This example wraps the
//! built-in person detector and adds a second source of boxes: pixels of a marker colour
//! (say, the hi-vis vests of staff who must be hidden even when the person model misses
//! them). Boxes of classes other than person and face are always masked (fail closed).
//!
//! For another ONNX model with a YOLOX-style output, no code is needed: add it to
//! `models/models.toml` and load it with `obscura::detect::YoloxDetector::from_entry`.
//!
//! ```text
//! cargo run --release --example custom_detector -- IN.mp4 OUT.mp4
//! ```

use std::path::PathBuf;

use obscura::core::{Detection, Frame, ObjectClass, PixelFormat, Rect};
use obscura::detect::models::ModelStore;
use obscura::detect::{Detector, ModelId, PersonDetector, YoloxConfig};
use obscura::pipeline::{Policy, Redactor};

/// Persons from YOLOX, plus one box around every pixel of a bright yellow-green colour.
struct PersonsAndVests {
    persons: PersonDetector,
}

impl Detector for PersonsAndVests {
    fn detect(&mut self, frame: &Frame) -> Result<Vec<Detection>, obscura::detect::Error> {
        let mut out = self.persons.detect(frame)?;
        if frame.format == PixelFormat::Yuv420p {
            // Hi-vis yellow: high luma, low U (blue difference), V near neutral.
            let (y, u, v) = (&frame.planes[0], &frame.planes[1], &frame.planes[2]);
            let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
            for cy in 0..u.height {
                for cx in 0..u.row_bytes {
                    let (uu, vv, yy) = (u.row(cy)[cx], v.row(cy)[cx], y.row(cy * 2)[cx * 2]);
                    if yy > 170 && uu < 70 && (110..=160).contains(&vv) {
                        let (px, py) = (cx as u32 * 2, cy as u32 * 2);
                        (x0, y0, x1, y1) = (x0.min(px), y0.min(py), x1.max(px + 2), y1.max(py + 2));
                    }
                }
            }
            if x1 > x0 {
                out.push(Detection::new(
                    Rect::from_corners(x0 as f32, y0 as f32, x1 as f32, y1 as f32),
                    0.9,
                    ObjectClass::Other(1),
                ));
            }
        }
        Ok(out)
    }

    fn models(&self) -> Vec<ModelId> {
        let mut m = self.persons.models();
        m.push(ModelId {
            name: "hi-vis-colour".into(),
            sha256: "none".into(),
        });
        m
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).map(PathBuf::from);
    let (Some(input), Some(output)) = (args.next(), args.next()) else {
        eprintln!("usage: custom_detector IN OUT");
        std::process::exit(2);
    };
    obscura::detect::runtime::init(None)?;
    let store = ModelStore::discover()?;
    let persons = PersonDetector::person(&store, YoloxConfig::default())?;
    let mut redactor = Redactor::builder()
        .detector(PersonsAndVests { persons })
        .policy(Policy::default())
        .build()?;
    let report = redactor.redact(&input, &output)?;
    println!(
        "{} frames, {} tracks masked, {} untracked boxes masked",
        report.frames,
        report.masked.len(),
        report.untracked_detections
    );
    Ok(())
}
