//! Output layouts of anchor-free grid detectors, described as data, and one decoder for all
//! of them (the idea of usls' `preds.rs`): a partner's export with another layout needs a new
//! [`OutputLayout`] value, not new decoding code.
//!
//! Every layout here predicts, for each cell `(gx, gy)` of a grid of stride `s` (strides in
//! order, cells row-major): `cx = (o0 + gx) * s`, `cy = (o1 + gy) * s`, `w = exp(o2) * s`,
//! `h = exp(o3) * s`, and landmarks `((k_x + gx) * s, (k_y + gy) * s)`.

use std::collections::HashMap;

use obscura_core::{ObjectClass, Rect};

use crate::Error;

/// How the score of a cell is formed from the heads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoreRule {
    /// `objectness * class_probability` (YOLOX; both already sigmoided in the graph).
    ObjTimesClass,
    /// `sqrt(clip(cls) * clip(obj))`, clips to `[0, 1]` (YuNet).
    SqrtClsObj,
}

/// Where the heads live in the output tensors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heads {
    /// One tensor `[B, cells, columns]` holding every stride's cells in order (YOLOX).
    Packed {
        /// Output tensor name.
        output: String,
        /// Columns per cell.
        columns: usize,
        /// First of the four box columns.
        box_col: usize,
        /// Objectness column, if any.
        obj_col: Option<usize>,
        /// First class column.
        cls_col: usize,
        /// Number of class columns.
        num_classes: usize,
    },
    /// Separate tensors per stride, named by replacing `{s}` with the stride (YuNet:
    /// `cls_{s}` `[B, N, 1]`, `obj_{s}` `[B, N, 1]`, `bbox_{s}` `[B, N, 4]`, `kps_{s}` `[B, N, 10]`).
    PerStride {
        /// Class score tensor pattern (one class).
        cls: String,
        /// Objectness tensor pattern.
        obj: Option<String>,
        /// Box tensor pattern (4 values per cell).
        bbox: String,
        /// Landmark tensor pattern (2 values per landmark per cell).
        kps: Option<String>,
    },
}

/// A detector output layout as data.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputLayout {
    /// Grid strides, in the order the cells appear.
    pub strides: Vec<u32>,
    /// Where the heads are.
    pub heads: Heads,
    /// How a score is formed.
    pub score: ScoreRule,
    /// Number of landmarks per detection (0 or 5).
    pub landmarks: usize,
}

impl OutputLayout {
    /// YOLOX exports (`output` `[1, cells, 5 + classes]`, strides 8/16/32, scores sigmoided).
    pub fn yolox(num_classes: usize) -> Self {
        Self {
            strides: vec![8, 16, 32],
            heads: Heads::Packed {
                output: "output".into(),
                columns: 5 + num_classes,
                box_col: 0,
                obj_col: Some(4),
                cls_col: 5,
                num_classes,
            },
            score: ScoreRule::ObjTimesClass,
            landmarks: 0,
        }
    }

    /// YuNet exports (twelve outputs, strides 8/16/32, one class, five landmarks).
    pub fn yunet() -> Self {
        Self {
            strides: vec![8, 16, 32],
            heads: Heads::PerStride {
                cls: "cls_{s}".into(),
                obj: Some("obj_{s}".into()),
                bbox: "bbox_{s}".into(),
                kps: Some("kps_{s}".into()),
            },
            score: ScoreRule::SqrtClsObj,
            landmarks: 5,
        }
    }

    /// Output tensor names the layout reads.
    pub fn output_names(&self) -> Vec<String> {
        match &self.heads {
            Heads::Packed { output, .. } => vec![output.clone()],
            Heads::PerStride {
                cls,
                obj,
                bbox,
                kps,
            } => {
                let pats = [Some(cls), obj.as_ref(), Some(bbox), kps.as_ref()];
                self.strides
                    .iter()
                    .flat_map(|s| {
                        pats.iter()
                            .flatten()
                            .map(move |p| p.replace("{s}", &s.to_string()))
                    })
                    .collect()
            }
        }
    }

    /// Number of cells for an input of `w x h`.
    pub fn cells(&self, w: u32, h: u32) -> usize {
        self.strides
            .iter()
            .map(|s| (w / s) as usize * (h / s) as usize)
            .sum()
    }
}

/// A decoded detection in input-tensor coordinates, before NMS and before the letterbox is
/// undone.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Box in input pixels.
    pub rect: Rect,
    /// Score in `[0, 1]`.
    pub score: f32,
    /// Mapped class.
    pub class: ObjectClass,
    /// Landmarks in input pixels, when the layout has five.
    pub landmarks: Option<[[f32; 2]; 5]>,
}

/// Decodes image `batch` of the outputs (`outputs[name]` is the whole flat tensor) of an
/// `input_w x input_h` input. `classes` maps model class indexes to [`ObjectClass`]es; other
/// classes are ignored. Cells scoring below `threshold` are dropped.
pub fn decode(
    layout: &OutputLayout,
    outputs: &HashMap<String, Vec<f32>>,
    batch: usize,
    input_w: u32,
    input_h: u32,
    classes: &[(usize, ObjectClass)],
    threshold: f32,
) -> Result<Vec<Candidate>, Error> {
    let get = |name: &str, per_cell: usize, cells: usize| -> Result<&[f32], Error> {
        let t = outputs.get(name).ok_or_else(|| Error::Inference {
            model: "decoder".into(),
            reason: format!("no output {name}"),
        })?;
        let n = per_cell * cells;
        t.get(batch * n..(batch + 1) * n)
            .ok_or_else(|| Error::Inference {
                model: "decoder".into(),
                reason: format!(
                    "output {name} has {} values, expected {} per image for image {batch}",
                    t.len(),
                    n
                ),
            })
    };
    let mut out = Vec::new();
    let mut cell_base = 0usize;
    let total = layout.cells(input_w, input_h);
    for &s in &layout.strides {
        let (gw, gh) = ((input_w / s) as usize, (input_h / s) as usize);
        let n = gw * gh;
        let sf = s as f32;
        // Per-stride views: (box, obj, cls values, landmark values, cls stride) per cell.
        match &layout.heads {
            Heads::Packed {
                output,
                columns,
                box_col,
                obj_col,
                cls_col,
                num_classes,
            } => {
                let t = get(output, *columns, total)?;
                for i in 0..n {
                    let row = &t[(cell_base + i) * columns..(cell_base + i + 1) * columns];
                    let obj = obj_col.map_or(1.0, |c| row[c]);
                    for &(ci, class) in classes {
                        if ci >= *num_classes {
                            continue;
                        }
                        let score = score_of(layout.score, row[cls_col + ci], obj);
                        if score >= threshold {
                            let b = &row[*box_col..*box_col + 4];
                            out.push(Candidate {
                                rect: grid_box(b, i % gw, i / gw, sf),
                                score,
                                class,
                                landmarks: None,
                            });
                        }
                    }
                }
            }
            Heads::PerStride {
                cls,
                obj,
                bbox,
                kps,
            } => {
                let name = |p: &str| p.replace("{s}", &s.to_string());
                let cls_t = get(&name(cls), 1, n)?;
                let obj_t = obj.as_ref().map(|p| get(&name(p), 1, n)).transpose()?;
                let box_t = get(&name(bbox), 4, n)?;
                let kps_t = kps
                    .as_ref()
                    .map(|p| get(&name(p), 2 * layout.landmarks, n))
                    .transpose()?;
                let Some(&(_, class)) = classes.iter().find(|(ci, _)| *ci == 0) else {
                    continue;
                };
                for i in 0..n {
                    let score = score_of(layout.score, cls_t[i], obj_t.map_or(1.0, |o| o[i]));
                    if score < threshold {
                        continue;
                    }
                    let (gx, gy) = (i % gw, i / gw);
                    let landmarks = match (kps_t, layout.landmarks) {
                        (Some(k), 5) => {
                            let k = &k[i * 10..i * 10 + 10];
                            let mut l = [[0f32; 2]; 5];
                            for (j, p) in l.iter_mut().enumerate() {
                                *p = [(k[2 * j] + gx as f32) * sf, (k[2 * j + 1] + gy as f32) * sf];
                            }
                            Some(l)
                        }
                        _ => None,
                    };
                    out.push(Candidate {
                        rect: grid_box(&box_t[i * 4..i * 4 + 4], gx, gy, sf),
                        score,
                        class,
                        landmarks,
                    });
                }
            }
        }
        cell_base += n;
    }
    Ok(out)
}

fn score_of(rule: ScoreRule, cls: f32, obj: f32) -> f32 {
    match rule {
        ScoreRule::ObjTimesClass => cls * obj,
        ScoreRule::SqrtClsObj => (cls.clamp(0.0, 1.0) * obj.clamp(0.0, 1.0)).sqrt(),
    }
}

fn grid_box(b: &[f32], gx: usize, gy: usize, s: f32) -> Rect {
    let (cx, cy) = ((b[0] + gx as f32) * s, (b[1] + gy as f32) * s);
    let (w, h) = (b[2].min(20.0).exp() * s, b[3].min(20.0).exp() * s);
    Rect::from_center(cx, cy, w, h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Rect, b: Rect) -> bool {
        [(a.x, b.x), (a.y, b.y), (a.w, b.w), (a.h, b.h)]
            .iter()
            .all(|(p, q)| (p - q).abs() < 1e-3)
    }

    #[test]
    fn yolox_hand_made_row_decodes_to_the_right_box() {
        let layout = OutputLayout::yolox(80);
        let cells = layout.cells(416, 416);
        assert_eq!(cells, 3549);
        let mut t = vec![0f32; cells * 85];
        // Stride 16 (after 52*52 stride-8 cells), cell gx=3, gy=2.
        let i = 52 * 52 + 2 * 26 + 3;
        t[i * 85..i * 85 + 6].copy_from_slice(&[0.5, 0.25, 2f32.ln(), 4f32.ln(), 0.9, 0.8]);
        // A class-1 (bicycle) cell that must be ignored.
        let j = 7;
        t[j * 85 + 4] = 0.99;
        t[j * 85 + 6] = 0.99;
        let outputs = HashMap::from([("output".to_string(), t)]);
        let c = decode(
            &layout,
            &outputs,
            0,
            416,
            416,
            &[(0, ObjectClass::Person)],
            0.3,
        )
        .unwrap();
        assert_eq!(c.len(), 1);
        // cx = 3.5 * 16 = 56, cy = 2.25 * 16 = 36, w = 32, h = 64.
        assert!(
            close(c[0].rect, Rect::new(40.0, 4.0, 32.0, 64.0)),
            "{:?}",
            c[0].rect
        );
        assert!((c[0].score - 0.72).abs() < 1e-6);
        assert_eq!(c[0].class, ObjectClass::Person);
    }

    #[test]
    fn yunet_hand_made_cell_decodes_box_score_and_landmarks() {
        let layout = OutputLayout::yunet();
        let (w, h) = (64, 32);
        let mut outputs = HashMap::new();
        for s in [8u32, 16, 32] {
            let n = ((w / s) * (h / s)) as usize;
            outputs.insert(format!("cls_{s}"), vec![0.0; n]);
            outputs.insert(format!("obj_{s}"), vec![0.0; n]);
            outputs.insert(format!("bbox_{s}"), vec![0.0; n * 4]);
            outputs.insert(format!("kps_{s}"), vec![0.0; n * 10]);
        }
        // Stride 8 grid is 8x4; cell (col 5, row 1) = index 13.
        outputs.get_mut("cls_8").unwrap()[13] = 0.81;
        outputs.get_mut("obj_8").unwrap()[13] = 1.2; // clipped to 1
        outputs.get_mut("bbox_8").unwrap()[52..56].copy_from_slice(&[
            0.5,
            0.5,
            1f32.ln(),
            2f32.ln(),
        ]);
        outputs.get_mut("kps_8").unwrap()[130..132].copy_from_slice(&[0.25, 0.75]);
        let c = decode(&layout, &outputs, 0, w, h, &[(0, ObjectClass::Face)], 0.5).unwrap();
        assert_eq!(c.len(), 1);
        assert!((c[0].score - 0.9).abs() < 1e-6);
        // cx = 5.5*8 = 44, cy = 1.5*8 = 12, w = 8, h = 16.
        assert!(
            close(c[0].rect, Rect::new(40.0, 4.0, 8.0, 16.0)),
            "{:?}",
            c[0].rect
        );
        assert_eq!(c[0].landmarks.unwrap()[0], [42.0, 14.0]);
        assert_eq!(layout.output_names().len(), 12);
    }

    #[test]
    fn short_output_is_an_error_not_a_panic() {
        let outputs = HashMap::from([("output".to_string(), vec![0.0; 10])]);
        assert!(
            decode(
                &OutputLayout::yolox(80),
                &outputs,
                0,
                416,
                416,
                &[(0, ObjectClass::Person)],
                0.3
            )
            .is_err()
        );
    }
}
