//! Pre-processing: resize a frame region into a model's input tensor, keeping the aspect
//! ratio, pasted at the top-left and padded (the YOLOX and YuNet convention), converting to
//! BGR planes of raw 0-255 floats in the same pass (no intermediate RGB copy).

use obscura_core::{Frame, PixelFormat, PixelRect, Rect};

use crate::Error;

/// How a source region maps into a model input: `input = (source - origin) * scale`, the
/// resized picture occupies `[0, resized_w) x [0, resized_h)` of the `input_w x input_h`
/// tensor and the rest is padding.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Letterbox {
    /// The source region (frame pixels) that is resized.
    pub region: PixelRect,
    /// Input pixels per source pixel.
    pub scale: f32,
    /// Width of the resized picture inside the input.
    pub resized_w: u32,
    /// Height of the resized picture inside the input.
    pub resized_h: u32,
    /// Input tensor width.
    pub input_w: u32,
    /// Input tensor height.
    pub input_h: u32,
}

impl Letterbox {
    /// Fits `region` into a fixed `input_w x input_h` input: `r = min(input_w / w, input_h / h)`,
    /// resized size `floor(w * r) x floor(h * r)` (YOLOX's reference pre-processing).
    pub fn fit(region: PixelRect, input_w: u32, input_h: u32) -> Self {
        let r = (input_w as f32 / region.w as f32).min(input_h as f32 / region.h as f32);
        Self::with_scale(region, r, input_w, input_h)
    }

    /// Resizes `region` by `scale` (capped so it fits `max_w x max_h`) and pads the input up to
    /// the next multiple of `multiple` on each side (YuNet needs multiples of 32).
    pub fn scaled_to_multiple(
        region: PixelRect,
        scale: f32,
        max_w: u32,
        max_h: u32,
        multiple: u32,
    ) -> Self {
        let r = scale
            .min(max_w as f32 / region.w as f32)
            .min(max_h as f32 / region.h as f32);
        let rw = ((region.w as f32 * r).floor() as u32).max(1);
        let rh = ((region.h as f32 * r).floor() as u32).max(1);
        let m = multiple.max(1);
        Self::with_scale(region, r, rw.div_ceil(m) * m, rh.div_ceil(m) * m)
    }

    /// Resizes `region` by `r` into an `input_w x input_h` input (the resized picture is
    /// clipped to the input if it would not fit).
    pub fn with_scale(region: PixelRect, r: f32, input_w: u32, input_h: u32) -> Self {
        let resized_w = ((region.w as f32 * r).floor() as u32).clamp(1, input_w);
        let resized_h = ((region.h as f32 * r).floor() as u32).clamp(1, input_h);
        Self {
            region,
            scale: r,
            resized_w,
            resized_h,
            input_w,
            input_h,
        }
    }

    /// Maps a point of the input tensor back to source-frame pixels.
    pub fn point_to_source(&self, x: f32, y: f32) -> [f32; 2] {
        [
            x / self.scale + self.region.x as f32,
            y / self.scale + self.region.y as f32,
        ]
    }

    /// Maps a box of the input tensor back to source-frame pixels (undoes the letterbox).
    pub fn rect_to_source(&self, r: &Rect) -> Rect {
        let [x, y] = self.point_to_source(r.x, r.y);
        Rect::new(x, y, r.w / self.scale, r.h / self.scale)
    }

    /// Number of floats of one image's CHW tensor.
    pub fn tensor_len(&self) -> usize {
        3 * self.input_w as usize * self.input_h as usize
    }
}

/// Fills `out` (one CHW image of `lb.input_w x lb.input_h`, channels B, G, R, raw 0-255) with
/// the bilinear resize of `lb.region` of `frame`, pasted at the top-left, and `pad` elsewhere.
/// Yuv420p, Rgb24 and Rgba frames are read directly (colour conversion fused with the resize).
pub fn fill_bgr(frame: &Frame, lb: &Letterbox, out: &mut [f32], pad: f32) -> Result<(), Error> {
    frame.validate().map_err(|e| Error::InvalidInput {
        reason: e.to_string(),
    })?;
    let reg = lb.region;
    if reg.w == 0 || reg.h == 0 || reg.right() > frame.width || reg.bottom() > frame.height {
        return Err(Error::InvalidInput {
            reason: format!(
                "region {reg:?} is outside the {}x{} frame",
                frame.width, frame.height
            ),
        });
    }
    if out.len() != lb.tensor_len() {
        return Err(Error::InvalidInput {
            reason: format!(
                "tensor of {} floats, expected {}",
                out.len(),
                lb.tensor_len()
            ),
        });
    }
    out.fill(pad);
    let (iw, plane) = (
        lb.input_w as usize,
        lb.input_w as usize * lb.input_h as usize,
    );
    let xs: Vec<(usize, usize, f32)> = (0..lb.resized_w)
        .map(|d| taps(d, lb.scale, reg.x, reg.w))
        .collect();
    let (b_out, rest) = out.split_at_mut(plane);
    let (g_out, r_out) = rest.split_at_mut(plane);
    for dy in 0..lb.resized_h as usize {
        let (y0, y1, fy) = taps(dy as u32, lb.scale, reg.y, reg.h);
        let row = dy * iw;
        match frame.format {
            PixelFormat::Yuv420p => {
                let [py, pu, pv] = [&frame.planes[0], &frame.planes[1], &frame.planes[2]];
                let (ya, yb) = (py.row(y0), py.row(y1));
                let cy = if fy < 0.5 { y0 } else { y1 } / 2;
                let (ur, vr) = (pu.row(cy), pv.row(cy));
                for (dx, &(x0, x1, fx)) in xs.iter().enumerate() {
                    let top = f32::from(ya[x0]) + (f32::from(ya[x1]) - f32::from(ya[x0])) * fx;
                    let bot = f32::from(yb[x0]) + (f32::from(yb[x1]) - f32::from(yb[x0])) * fx;
                    let luma = top + (bot - top) * fy;
                    let cx = if fx < 0.5 { x0 } else { x1 } / 2;
                    let [r, g, b] = yuv_to_rgb_f32(luma, ur[cx], vr[cx]);
                    b_out[row + dx] = b;
                    g_out[row + dx] = g;
                    r_out[row + dx] = r;
                }
            }
            PixelFormat::Rgb24 | PixelFormat::Rgba => {
                let bpp = if frame.format == PixelFormat::Rgb24 {
                    3
                } else {
                    4
                };
                let (ra, rb) = (frame.planes[0].row(y0), frame.planes[0].row(y1));
                for (dx, &(x0, x1, fx)) in xs.iter().enumerate() {
                    let mut px = [0f32; 3];
                    for (c, v) in px.iter_mut().enumerate() {
                        let (a0, a1) = (f32::from(ra[x0 * bpp + c]), f32::from(ra[x1 * bpp + c]));
                        let (b0, b1) = (f32::from(rb[x0 * bpp + c]), f32::from(rb[x1 * bpp + c]));
                        let top = a0 + (a1 - a0) * fx;
                        let bot = b0 + (b1 - b0) * fx;
                        *v = top + (bot - top) * fy;
                    }
                    r_out[row + dx] = px[0];
                    g_out[row + dx] = px[1];
                    b_out[row + dx] = px[2];
                }
            }
        }
    }
    Ok(())
}

/// Bilinear taps for destination coordinate `d` (half-pixel centres, like OpenCV's
/// `INTER_LINEAR`): two source indexes in `[start, start + len)` and the weight of the second.
fn taps(d: u32, scale: f32, start: u32, len: u32) -> (usize, usize, f32) {
    let s = ((d as f32 + 0.5) / scale - 0.5).clamp(0.0, (len - 1) as f32);
    let i0 = s.floor() as u32;
    let i1 = (i0 + 1).min(len - 1);
    ((start + i0) as usize, (start + i1) as usize, s - i0 as f32)
}

/// BT.601 limited-range YUV to RGB (the same matrix as `obscura_core::Frame::to_rgb24`).
fn yuv_to_rgb_f32(y: f32, u: u8, v: u8) -> [f32; 3] {
    let c = 1.164_383 * (y - 16.0);
    let d = f32::from(u) - 128.0;
    let e = f32::from(v) - 128.0;
    [
        (c + 1.596_027 * e).clamp(0.0, 255.0),
        (c - 0.391_762 * d - 0.812_968 * e).clamp(0.0, 255.0),
        (c + 2.017_232 * d).clamp(0.0, 255.0),
    ]
}

/// Low-contrast compensation of the picture inside `out` (the resized area of one
/// BGR tensor filled by [`fill_bgr`]; padding untouched). Night footage, dark interiors and
/// washed-out cameras otherwise hide people from a detector trained on daylight pictures:
/// when the 1st to 99th percentile of luma spans fewer than `min_range` grey levels, every
/// channel is stretched linearly so that those percentiles become 0 and 255. (A gamma curve
/// lifting dark pictures was measured too and lost people on night footage: BENCHMARKS.md.)
///
/// Returns whether anything was changed. `min_range` 0 turns it off.
pub fn stretch_low_contrast(lb: &Letterbox, out: &mut [f32], min_range: f32) -> bool {
    let (iw, plane) = (
        lb.input_w as usize,
        lb.input_w as usize * lb.input_h as usize,
    );
    if min_range <= 0.0 || out.len() < 3 * plane || lb.resized_w == 0 || lb.resized_h == 0 {
        return false;
    }
    let mut hist = [0u32; 256];
    let step = if lb.resized_w as usize * lb.resized_h as usize > 65_536 {
        3
    } else {
        1
    };
    for y in (0..lb.resized_h as usize).step_by(step) {
        for x in (0..lb.resized_w as usize).step_by(step) {
            let i = y * iw + x;
            let luma = 0.114 * out[i] + 0.587 * out[plane + i] + 0.299 * out[2 * plane + i];
            hist[luma.clamp(0.0, 255.0) as usize] += 1;
        }
    }
    let total: u32 = hist.iter().sum();
    let percentile = |p: f32| {
        let want = ((total as f32 * p).ceil() as u32).max(1);
        let mut seen = 0;
        hist.iter()
            .position(|&n| {
                seen += n;
                seen >= want
            })
            .unwrap_or(255) as f32
    };
    let (lo, hi) = (percentile(0.01), percentile(0.99));
    if hi - lo >= min_range || hi <= lo {
        return false;
    }
    let gain = 255.0 / (hi - lo);
    for c in 0..3 {
        for y in 0..lb.resized_h as usize {
            let row = &mut out[c * plane + y * iw..c * plane + y * iw + lb.resized_w as usize];
            for v in row {
                *v = ((*v - lo) * gain).clamp(0.0, 255.0);
            }
        }
    }
    true
}

/// The whole frame as a region.
pub fn full_region(frame: &Frame) -> PixelRect {
    PixelRect {
        x: 0,
        y: 0,
        w: frame.width,
        h: frame.height,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use obscura_core::Timestamp;

    fn rgb_frame(w: u32, h: u32, f: impl Fn(u32, u32) -> [u8; 3]) -> Frame {
        let mut fr = Frame::black(PixelFormat::Rgb24, w, h, 0, Timestamp::zero());
        for y in 0..h {
            let row = fr.planes[0].row_mut(y as usize);
            for x in 0..w {
                row[x as usize * 3..x as usize * 3 + 3].copy_from_slice(&f(x, y));
            }
        }
        fr
    }

    #[test]
    fn fit_matches_yolox_reference_maths() {
        let lb = Letterbox::fit(
            PixelRect {
                x: 0,
                y: 0,
                w: 768,
                h: 576,
            },
            416,
            416,
        );
        assert!((lb.scale - 416.0 / 768.0).abs() < 1e-6);
        assert_eq!((lb.resized_w, lb.resized_h), (416, 312));
        let back = lb.rect_to_source(&Rect::new(41.6, 20.8, 104.0, 52.0));
        for (a, b) in [
            (back.x, 76.8),
            (back.y, 38.4),
            (back.w, 192.0),
            (back.h, 96.0),
        ] {
            assert!((a - b).abs() < 1e-3, "{back:?}");
        }
    }

    #[test]
    fn crop_letterbox_maps_back_with_its_origin() {
        let lb = Letterbox::scaled_to_multiple(
            PixelRect {
                x: 100,
                y: 50,
                w: 40,
                h: 30,
            },
            2.0,
            160,
            160,
            32,
        );
        assert_eq!(
            (lb.resized_w, lb.resized_h, lb.input_w, lb.input_h),
            (80, 60, 96, 64)
        );
        assert_eq!(lb.point_to_source(10.0, 20.0), [105.0, 60.0]);
        // Capped by the maximum size.
        let big = Letterbox::scaled_to_multiple(
            PixelRect {
                x: 0,
                y: 0,
                w: 1920,
                h: 1080,
            },
            1.0,
            640,
            640,
            32,
        );
        assert_eq!(
            (big.resized_w, big.resized_h, big.input_w, big.input_h),
            (640, 360, 640, 384)
        );
    }

    #[test]
    fn fill_writes_bgr_planes_and_pads() {
        // Left half red, right half blue, 8x4 into a 8x8 input: pasted top-left, 4 rows padded.
        let f = rgb_frame(8, 4, |x, _| if x < 4 { [200, 10, 0] } else { [0, 20, 250] });
        let lb = Letterbox::fit(full_region(&f), 8, 8);
        assert_eq!((lb.resized_w, lb.resized_h), (8, 4));
        let mut t = vec![0.0; lb.tensor_len()];
        fill_bgr(&f, &lb, &mut t, 114.0).unwrap();
        let at = |c: usize, y: usize, x: usize| t[c * 64 + y * 8 + x];
        assert_eq!([at(0, 1, 1), at(1, 1, 1), at(2, 1, 1)], [0.0, 10.0, 200.0]);
        assert_eq!([at(0, 2, 7), at(1, 2, 7), at(2, 2, 7)], [250.0, 20.0, 0.0]);
        assert!((0..3).all(|c| (4..8).all(|y| (0..8).all(|x| at(c, y, x) == 114.0))));
    }

    #[test]
    fn yuv_and_rgb_inputs_agree() {
        let f = rgb_frame(64, 48, |x, y| [(x * 4) as u8, (y * 5) as u8, 128]);
        let yuv = Frame::from_rgb24_to_yuv420(&f.to_rgb24(), 64, 48, 0, Timestamp::zero()).unwrap();
        let lb = Letterbox::fit(full_region(&f), 32, 32);
        let (mut a, mut b) = (vec![0.0; lb.tensor_len()], vec![0.0; lb.tensor_len()]);
        fill_bgr(&f, &lb, &mut a, 0.0).unwrap();
        fill_bgr(&yuv, &lb, &mut b, 0.0).unwrap();
        let worst = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 12.0, "largest channel difference {worst}");
    }

    #[test]
    fn flat_pictures_are_stretched_and_normal_ones_left_alone() {
        // A dark, flat picture (levels 20..60) is stretched to the full range; padding stays.
        let dark = rgb_frame(16, 8, |x, _| [20 + (x * 40 / 15) as u8; 3]);
        let lb = Letterbox::fit(full_region(&dark), 16, 16);
        let mut t = vec![0.0; lb.tensor_len()];
        fill_bgr(&dark, &lb, &mut t, 114.0).unwrap();
        assert!(stretch_low_contrast(&lb, &mut t, 160.0));
        let (min, max) = t[..16 * 8]
            .iter()
            .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        assert!(min <= 1.0 && max >= 254.0, "{min}..{max}");
        assert!(t[16 * 8..16 * 16].iter().all(|&v| v == 114.0));
        // A picture spanning the whole range is not touched.
        let full = rgb_frame(16, 8, |x, _| [(x * 17) as u8; 3]);
        let mut u = vec![0.0; lb.tensor_len()];
        fill_bgr(&full, &lb, &mut u, 114.0).unwrap();
        let before = u.clone();
        assert!(!stretch_low_contrast(&lb, &mut u, 160.0));
        assert_eq!(u, before);
    }

    #[test]
    fn region_outside_frame_is_refused() {
        let f = rgb_frame(8, 8, |_, _| [0, 0, 0]);
        let lb = Letterbox::fit(
            PixelRect {
                x: 4,
                y: 4,
                w: 8,
                h: 8,
            },
            8,
            8,
        );
        let mut t = vec![0.0; lb.tensor_len()];
        assert!(fill_bgr(&f, &lb, &mut t, 0.0).is_err());
    }
}
