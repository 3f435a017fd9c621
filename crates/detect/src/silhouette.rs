//! Person silhouettes: which pixels of a person box are that person (`pose_seg_lite`, the
//! segmentation branch of MediaPipe BlazePose lite).
//!
//! The model takes `input_1` f32 NHWC `[N, S, S, 3]`, RGB 0..1, a square crop centred on one
//! person box (side 1.25 x the box's longer side, black outside the frame), and gives
//! `seg_logits` f32 NCHW `[N, 1, S, S]`: the person the crop is centred on where > 0. It
//! mostly leaves neighbours in the same crop out. The pipeline uses silhouettes only to keep
//! a requester's own pixels visible inside a neighbour's box (see `obscura_pipeline::policy`),
//! never to shrink anybody's mask on its own.

use obscura_core::{Frame, Rect};

use crate::models::ModelStore;
use crate::reid::pixel;
use crate::session::{OnnxModel, SessionConfig};
use crate::{Error, ModelId};

/// The registry name of the silhouette model.
pub const SILHOUETTE_MODEL: &str = "pose_seg_lite";
/// Side of the model's square input, in cells (it was trained at 256; at 160 and below the
/// silhouette collapses).
pub const SILHOUETTE_SIDE: usize = 192;
/// The crop's side as a multiple of the person box's longer side.
pub const CROP_SCALE: f32 = 1.25;

/// The silhouette of one person: a square grid of cells over the frame, `true` where the
/// person is.
#[derive(Debug, Clone, PartialEq)]
pub struct Silhouette {
    /// Left edge of the grid, frame pixels.
    pub x: f32,
    /// Top edge of the grid, frame pixels.
    pub y: f32,
    /// Side of one cell, frame pixels.
    pub cell: f32,
    /// Cells per side.
    pub side: usize,
    /// `side * side` flags, row-major.
    pub person: Vec<bool>,
}

impl Silhouette {
    /// The grid for a crop centred on `rect` (no person marked yet).
    pub fn grid_for(rect: &Rect, side: usize) -> Silhouette {
        let s = CROP_SCALE * rect.w.max(rect.h).max(1.0);
        let (cx, cy) = rect.center();
        Silhouette {
            x: cx - s / 2.0,
            y: cy - s / 2.0,
            cell: s / side as f32,
            side,
            person: vec![false; side * side],
        }
    }

    /// Whether frame point `(x, y)` falls on the person (outside the grid: no).
    pub fn contains(&self, x: f32, y: f32) -> bool {
        let (c, r) = ((x - self.x) / self.cell, (y - self.y) / self.cell);
        if !(c >= 0.0 && r >= 0.0) {
            return false;
        }
        let (c, r) = (c as usize, r as usize);
        c < self.side && r < self.side && self.person[r * self.side + c]
    }

    /// The silhouette grown by `pixels` frame pixels in every direction (a square
    /// neighbourhood, rounded up to whole cells).
    pub fn dilated(&self, pixels: f32) -> Silhouette {
        let k = (pixels / self.cell).ceil().max(0.0) as usize;
        let n = self.side;
        let grow = |src: &[bool], horizontal: bool| {
            let mut out = vec![false; n * n];
            for r in 0..n {
                for c in 0..n {
                    if !src[r * n + c] {
                        continue;
                    }
                    let (lo, hi) = if horizontal {
                        (c.saturating_sub(k), (c + k).min(n - 1))
                    } else {
                        (r.saturating_sub(k), (r + k).min(n - 1))
                    };
                    for t in lo..=hi {
                        if horizontal {
                            out[r * n + t] = true;
                        } else {
                            out[t * n + c] = true;
                        }
                    }
                }
            }
            out
        };
        let person = grow(&grow(&self.person, true), false);
        Silhouette {
            person,
            ..self.clone()
        }
    }

    /// How many cells are marked.
    pub fn cells(&self) -> usize {
        self.person.iter().filter(|&&p| p).count()
    }
}

/// Fills `out` (`side` x `side` x RGB 0..1, NHWC) with the crop of `frame` on `grid`,
/// nearest pixel at each cell's centre, black outside the frame.
fn fill_crop(frame: &Frame, grid: &Silhouette, out: &mut [f32]) {
    let (w, h) = (frame.width as f32, frame.height as f32);
    for r in 0..grid.side {
        let y = grid.y + (r as f32 + 0.5) * grid.cell;
        for c in 0..grid.side {
            let x = grid.x + (c as f32 + 0.5) * grid.cell;
            let o = (r * grid.side + c) * 3;
            if x >= 0.0 && y >= 0.0 && x < w && y < h {
                let p = pixel(frame, x as usize, y as usize);
                out[o] = p[0] / 255.0;
                out[o + 1] = p[1] / 255.0;
                out[o + 2] = p[2] / 255.0;
            } else {
                out[o..o + 3].fill(0.0);
            }
        }
    }
}

/// Segments people with `pose_seg_lite.onnx`.
#[derive(Debug)]
pub struct Segmenter {
    model: OnnxModel,
}

impl Segmenter {
    /// Loads the model from the store (sha256 verified) with `session` options.
    pub fn new(store: &ModelStore, session: SessionConfig) -> Result<Self, Error> {
        Ok(Self {
            model: OnnxModel::load(store, SILHOUETTE_MODEL, &session)?,
        })
    }

    /// The segmenter when its model file is installed in `store` and matches its sha256,
    /// else `Err` with why not as the inner value (the caller then masks neighbours whole).
    /// A verified file that does not load is an error.
    pub fn installed(
        store: &ModelStore,
        session: SessionConfig,
    ) -> Result<Result<Self, Error>, Error> {
        if let Err(why) = store.path(SILHOUETTE_MODEL) {
            return Ok(Err(why));
        }
        Self::new(store, session).map(Ok)
    }

    /// The silhouette of the person centred in each of `boxes` on `frame` (one batch).
    pub fn segment(&mut self, frame: &Frame, boxes: &[Rect]) -> Result<Vec<Silhouette>, Error> {
        if boxes.is_empty() {
            return Ok(Vec::new());
        }
        frame.validate().map_err(|e| Error::InvalidInput {
            reason: e.to_string(),
        })?;
        let n = SILHOUETTE_SIDE;
        let per = n * n * 3;
        let mut grids: Vec<Silhouette> = boxes.iter().map(|b| Silhouette::grid_for(b, n)).collect();
        let mut input = vec![0f32; per * boxes.len()];
        for (g, chunk) in grids.iter().zip(input.chunks_mut(per)) {
            fill_crop(frame, g, chunk);
        }
        let out_name = "seg_logits".to_string();
        let mut out = self.model.run(
            "input_1",
            [boxes.len(), n, n, 3],
            &input,
            std::slice::from_ref(&out_name),
        )?;
        let logits = out.remove(&out_name).unwrap_or_default();
        if logits.len() != boxes.len() * n * n {
            return Err(Error::Inference {
                model: SILHOUETTE_MODEL.into(),
                reason: format!(
                    "{} logits for {} crops of {n}x{n}",
                    logits.len(),
                    boxes.len()
                ),
            });
        }
        for (g, l) in grids.iter_mut().zip(logits.chunks(n * n)) {
            // NaN is not > 0: an unusable logit never marks a pixel as a person.
            g.person = l.iter().map(|&v| v > 0.0).collect();
        }
        Ok(grids)
    }

    /// The model this segmenter runs (name and sha256), for manifests.
    pub fn model(&self) -> &ModelId {
        self.model.info()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grid_is_centred_on_its_box_and_dilation_grows_it() {
        let g = Silhouette::grid_for(&Rect::new(100.0, 50.0, 40.0, 80.0), 10);
        // Side 1.25 x 80 = 100 px, centred on (120, 90).
        assert_eq!((g.x, g.y, g.cell), (70.0, 40.0, 10.0));
        let mut one = g.clone();
        one.person[5 * 10 + 5] = true;
        assert!(one.contains(125.0, 95.0));
        assert!(!one.contains(135.0, 95.0));
        assert!(
            !one.contains(-1.0, 95.0),
            "outside the grid is not the person"
        );
        let d = one.dilated(10.0);
        assert_eq!(d.cells(), 9, "one cell grown by one cell each way");
        assert!(d.contains(135.0, 105.0));
        assert!(!d.contains(145.0, 95.0));
    }
}
