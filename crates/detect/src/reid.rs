//! Person re-identification: an appearance embedding of a person crop, compared by cosine
//! similarity (`person-reidentification-retail-0248`, Intel Open Model Zoo).
//!
//! Used to find the data subject from a reference photo (`obscura redact --keep-like`).
//! The model takes `inputs:0` f32 NHWC `[1, 256, 128, 3]`, BGR raw 0-255 (the graph
//! normalises), the crop stretched to 128x256; it outputs a 256-d vector. On vtest.avi the
//! same person scores about 0.84 and different people about 0.24.

use obscura_core::{Frame, PixelFormat, PixelRect};

use crate::models::ModelStore;
use crate::session::{OnnxModel, SessionConfig};
use crate::{Error, ModelId};

/// The registry name of the built-in re-identification model.
pub const REID_MODEL: &str = "person_reid_0248";

/// Something that turns a person crop into an appearance vector (L2-normalised), so that the
/// cosine similarity of two vectors says how alike the two people look.
pub trait Embedder: Send {
    /// Embeds `region` of `frame` (Yuv420p, Rgb24 or Rgba). The vector has unit length.
    fn embed(&mut self, frame: &Frame, region: PixelRect) -> Result<Vec<f32>, Error>;

    /// Embeds several regions of one frame (one vector per region, same order). The default
    /// embeds them one by one; the built-in embedder runs them as one batch.
    fn embed_batch(
        &mut self,
        frame: &Frame,
        regions: &[PixelRect],
    ) -> Result<Vec<Vec<f32>>, Error> {
        regions.iter().map(|r| self.embed(frame, *r)).collect()
    }

    /// The models this embedder runs (name and sha256), for manifests.
    fn models(&self) -> Vec<ModelId>;
}

/// Cosine similarity of two vectors (0 when either is zero or the lengths differ).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 || !dot.is_finite() {
        0.0
    } else {
        dot / (na * nb)
    }
}

/// The built-in embedder over `person-reidentification-retail-0248.onnx`.
#[derive(Debug)]
pub struct ReidEmbedder {
    model: OnnxModel,
    input_name: String,
    output_name: String,
    input_w: u32,
    input_h: u32,
    /// Whether the graph takes batches larger than one (found out on the first batch).
    batches: Option<bool>,
}

impl ReidEmbedder {
    /// Loads the model from the store (sha256 verified) with `session` options.
    pub fn new(store: &ModelStore, session: SessionConfig) -> Result<Self, Error> {
        let entry = store.entry(REID_MODEL)?;
        let input_name = entry
            .input
            .get("name")
            .and_then(|v| v.as_str())
            .unwrap_or("inputs:0")
            .to_string();
        let model = OnnxModel::load(store, REID_MODEL, &session)?;
        Ok(Self {
            model,
            input_name,
            output_name: "Identity:0".into(),
            input_w: 128,
            input_h: 256,
            batches: None,
        })
    }
}

impl Embedder for ReidEmbedder {
    fn embed(&mut self, frame: &Frame, region: PixelRect) -> Result<Vec<f32>, Error> {
        let mut input = vec![0f32; (self.input_w * self.input_h * 3) as usize];
        fill_nhwc_bgr(frame, region, self.input_w, self.input_h, &mut input)?;
        let shape = [1, self.input_h as usize, self.input_w as usize, 3];
        let mut out = self.model.run(
            &self.input_name,
            shape,
            &input,
            std::slice::from_ref(&self.output_name),
        )?;
        let v = out.remove(&self.output_name).unwrap_or_default();
        if v.is_empty() || v.iter().any(|x| !x.is_finite()) {
            return Err(Error::Inference {
                model: REID_MODEL.into(),
                reason: format!("unusable embedding of {} values", v.len()),
            });
        }
        Ok(normalise(v))
    }

    fn embed_batch(
        &mut self,
        frame: &Frame,
        regions: &[PixelRect],
    ) -> Result<Vec<Vec<f32>>, Error> {
        if regions.len() < 2 || self.batches == Some(false) {
            return regions.iter().map(|r| self.embed(frame, *r)).collect();
        }
        let per = (self.input_w * self.input_h * 3) as usize;
        let mut input = vec![0f32; per * regions.len()];
        for (r, chunk) in regions.iter().zip(input.chunks_mut(per)) {
            fill_nhwc_bgr(frame, *r, self.input_w, self.input_h, chunk)?;
        }
        let shape = [
            regions.len(),
            self.input_h as usize,
            self.input_w as usize,
            3,
        ];
        match self.model.run(
            &self.input_name,
            shape,
            &input,
            std::slice::from_ref(&self.output_name),
        ) {
            Ok(mut out) => {
                let v = out.remove(&self.output_name).unwrap_or_default();
                if v.len() % regions.len() != 0 || v.is_empty() || v.iter().any(|x| !x.is_finite())
                {
                    return Err(Error::Inference {
                        model: REID_MODEL.into(),
                        reason: format!(
                            "unusable batch of {} values for {} crops",
                            v.len(),
                            regions.len()
                        ),
                    });
                }
                self.batches = Some(true);
                Ok(v.chunks(v.len() / regions.len())
                    .map(|c| normalise(c.to_vec()))
                    .collect())
            }
            // A graph with a fixed batch of one: crop by crop from now on.
            Err(_) if self.batches.is_none() => {
                self.batches = Some(false);
                regions.iter().map(|r| self.embed(frame, *r)).collect()
            }
            Err(e) => Err(e),
        }
    }

    fn models(&self) -> Vec<ModelId> {
        vec![self.model.info().clone()]
    }
}

/// Scales `v` to unit length (unchanged when it is zero).
pub fn normalise(mut v: Vec<f32>) -> Vec<f32> {
    let n: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
    v
}

/// BT.601 limited-range YUV to RGB in floats.
fn yuv_rgb(y: f32, u: f32, v: f32) -> [f32; 3] {
    let c = 1.164_383 * (y - 16.0);
    let (d, e) = (u - 128.0, v - 128.0);
    [
        (c + 1.596_027 * e).clamp(0.0, 255.0),
        (c - 0.391_762 * d - 0.812_968 * e).clamp(0.0, 255.0),
        (c + 2.017_232 * d).clamp(0.0, 255.0),
    ]
}

/// The RGB value of pixel `(x, y)` of `frame` (coordinates inside the frame).
pub(crate) fn pixel(frame: &Frame, x: usize, y: usize) -> [f32; 3] {
    match frame.format {
        PixelFormat::Yuv420p => {
            let p = &frame.planes;
            yuv_rgb(
                f32::from(p[0].row(y)[x]),
                f32::from(p[1].row(y / 2)[x / 2]),
                f32::from(p[2].row(y / 2)[x / 2]),
            )
        }
        PixelFormat::Rgb24 => {
            let r = &frame.planes[0].row(y)[x * 3..x * 3 + 3];
            [f32::from(r[0]), f32::from(r[1]), f32::from(r[2])]
        }
        PixelFormat::Rgba => {
            let r = &frame.planes[0].row(y)[x * 4..x * 4 + 3];
            [f32::from(r[0]), f32::from(r[1]), f32::from(r[2])]
        }
    }
}

/// Fills `out` (NHWC, `out_h` rows of `out_w` pixels of B, G, R raw 0-255) with `region` of
/// `frame` stretched (bilinear) to `out_w x out_h`.
pub fn fill_nhwc_bgr(
    frame: &Frame,
    region: PixelRect,
    out_w: u32,
    out_h: u32,
    out: &mut [f32],
) -> Result<(), Error> {
    frame.validate().map_err(|e| Error::InvalidInput {
        reason: e.to_string(),
    })?;
    if region.w == 0
        || region.h == 0
        || region.right() > frame.width
        || region.bottom() > frame.height
    {
        return Err(Error::InvalidInput {
            reason: format!(
                "region {region:?} is outside the {}x{} frame",
                frame.width, frame.height
            ),
        });
    }
    if out.len() != (out_w * out_h * 3) as usize {
        return Err(Error::InvalidInput {
            reason: format!(
                "output buffer of {} floats does not fit {out_w}x{out_h}x3",
                out.len()
            ),
        });
    }
    let sx = region.w as f32 / out_w as f32;
    let sy = region.h as f32 / out_h as f32;
    let (x_max, y_max) = (region.right() as usize - 1, region.bottom() as usize - 1);
    for oy in 0..out_h as usize {
        let fy = (region.y as f32 + (oy as f32 + 0.5) * sy - 0.5).max(region.y as f32);
        let y0 = (fy.floor() as usize).min(y_max);
        let y1 = (y0 + 1).min(y_max);
        let wy = fy - y0 as f32;
        for ox in 0..out_w as usize {
            let fx = (region.x as f32 + (ox as f32 + 0.5) * sx - 0.5).max(region.x as f32);
            let x0 = (fx.floor() as usize).min(x_max);
            let x1 = (x0 + 1).min(x_max);
            let wx = fx - x0 as f32;
            let (a, b, c, d) = (
                pixel(frame, x0, y0),
                pixel(frame, x1, y0),
                pixel(frame, x0, y1),
                pixel(frame, x1, y1),
            );
            let o = &mut out[(oy * out_w as usize + ox) * 3..][..3];
            for ch in 0..3 {
                let top = a[ch] + (b[ch] - a[ch]) * wx;
                let bottom = c[ch] + (d[ch] - c[ch]) * wx;
                // BGR order: channel 0 of the output is blue (RGB index 2).
                o[2 - ch] = top + (bottom - top) * wy;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use obscura_core::Timestamp;

    #[test]
    fn cosine_of_parallel_orthogonal_and_mismatched() {
        assert!((cosine(&[1.0, 2.0], &[2.0, 4.0]) - 1.0).abs() < 1e-6);
        assert_eq!(cosine(&[1.0, 0.0], &[0.0, 1.0]), 0.0);
        assert_eq!(cosine(&[1.0], &[1.0, 0.0]), 0.0);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
        let n = normalise(vec![3.0, 4.0]);
        assert!((n[0] - 0.6).abs() < 1e-6 && (n[1] - 0.8).abs() < 1e-6);
    }

    #[test]
    fn crop_is_stretched_in_bgr_order() {
        // 4x2 RGB frame: left half red, right half blue.
        let mut rgb = Vec::new();
        for _y in 0..2 {
            for x in 0..4 {
                rgb.extend_from_slice(if x < 2 {
                    &[255u8, 0, 0]
                } else {
                    &[0u8, 0, 255]
                });
            }
        }
        let mut f = Frame::black(PixelFormat::Rgb24, 4, 2, 0, Timestamp::zero());
        f.planes[0].data.copy_from_slice(&rgb);
        let mut out = vec![0f32; 8 * 4 * 3];
        fill_nhwc_bgr(
            &f,
            PixelRect {
                x: 0,
                y: 0,
                w: 4,
                h: 2,
            },
            8,
            4,
            &mut out,
        )
        .unwrap();
        // Leftmost output pixel is red: B=0, G=0, R=255.
        assert_eq!(&out[0..3], &[0.0, 0.0, 255.0]);
        // Rightmost pixel of the first row is blue: B=255.
        assert_eq!(&out[7 * 3..8 * 3], &[255.0, 0.0, 0.0]);
        assert!(
            fill_nhwc_bgr(
                &f,
                PixelRect {
                    x: 2,
                    y: 0,
                    w: 4,
                    h: 2
                },
                8,
                4,
                &mut out
            )
            .is_err()
        );
    }

    #[test]
    fn real_model_embeds_a_crop_to_a_unit_vector() {
        if obscura_testkit_model().is_none() {
            return;
        }
        // The pipeline crate's tests exercise the model on real crops; here we only check
        // that it loads and embeds a crop to a unit vector.
        let store = crate::models::ModelStore::discover().unwrap();
        let mut e = ReidEmbedder::new(&store, SessionConfig::default()).unwrap();
        let mut f = Frame::black(PixelFormat::Yuv420p, 64, 128, 0, Timestamp::zero());
        f.planes[0]
            .data
            .iter_mut()
            .enumerate()
            .for_each(|(i, v)| *v = (i % 200) as u8 + 16);
        let v = e
            .embed(
                &f,
                PixelRect {
                    x: 0,
                    y: 0,
                    w: 64,
                    h: 128,
                },
            )
            .unwrap();
        assert_eq!(v.len(), 256);
        assert!((v.iter().map(|x| x * x).sum::<f32>() - 1.0).abs() < 1e-3);
        assert!(cosine(&v, &v) > 0.999);
        // A batch gives the same vectors as one by one.
        let r2 = PixelRect {
            x: 8,
            y: 16,
            w: 40,
            h: 100,
        };
        let batch = e
            .embed_batch(
                &f,
                &[
                    PixelRect {
                        x: 0,
                        y: 0,
                        w: 64,
                        h: 128,
                    },
                    r2,
                ],
            )
            .unwrap();
        let single = e.embed(&f, r2).unwrap();
        assert_eq!(batch.len(), 2);
        assert!(cosine(&batch[0], &v) > 0.999 && cosine(&batch[1], &single) > 0.999);
    }

    fn obscura_testkit_model() -> Option<std::path::PathBuf> {
        obscura_testkit::model_file("person-reidentification-retail-0248.onnx")
    }
}
