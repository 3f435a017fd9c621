//! Decoded pictures shared by decoder, detectors, compositor and encoder.

use serde::{Deserialize, Serialize};

use crate::{Error, Timestamp};

/// Pixel layout of a [`Frame`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PixelFormat {
    /// Planar Y, U, V with chroma halved in both directions (limited range, BT.601 unless
    /// the source says otherwise). Chroma planes are `ceil(w/2) x ceil(h/2)`.
    Yuv420p,
    /// Packed 8-bit R, G, B.
    Rgb24,
    /// Packed 8-bit R, G, B, A.
    Rgba,
}

impl PixelFormat {
    /// Number of planes.
    pub fn plane_count(self) -> usize {
        match self {
            PixelFormat::Yuv420p => 3,
            PixelFormat::Rgb24 | PixelFormat::Rgba => 1,
        }
    }

    /// `(width in samples, height in rows, bytes per sample)` of plane `index` for a
    /// `width` x `height` picture.
    pub fn plane_dims(self, index: usize, width: usize, height: usize) -> (usize, usize, usize) {
        match (self, index) {
            (PixelFormat::Yuv420p, 0) => (width, height, 1),
            (PixelFormat::Yuv420p, _) => (width.div_ceil(2), height.div_ceil(2), 1),
            (PixelFormat::Rgb24, _) => (width, height, 3),
            (PixelFormat::Rgba, _) => (width, height, 4),
        }
    }
}

/// One image plane: `height` rows of `stride` bytes, of which the first
/// `width * bytes_per_sample` carry pixels. Always index rows by `stride`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plane {
    /// Pixel bytes, at least `stride * (height - 1) + row_bytes` long.
    pub data: Vec<u8>,
    /// Distance in bytes between the starts of two rows.
    pub stride: usize,
    /// Row width in bytes that carry pixels.
    pub row_bytes: usize,
    /// Number of rows.
    pub height: usize,
}

impl Plane {
    /// A zero-filled plane with `stride == row_bytes`.
    pub fn zeroed(row_bytes: usize, height: usize) -> Self {
        Self {
            data: vec![0; row_bytes * height],
            stride: row_bytes,
            row_bytes,
            height,
        }
    }

    /// Pixel bytes of row `y`.
    pub fn row(&self, y: usize) -> &[u8] {
        let start = y * self.stride;
        &self.data[start..start + self.row_bytes]
    }

    /// Mutable pixel bytes of row `y`.
    pub fn row_mut(&mut self, y: usize) -> &mut [u8] {
        let start = y * self.stride;
        &mut self.data[start..start + self.row_bytes]
    }
}

/// A decoded picture with its exact presentation time.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// Zero-based index in decode output order of the source.
    pub index: u64,
    /// Presentation timestamp, exact, in the source stream's time base.
    pub pts: Timestamp,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Pixel layout.
    pub format: PixelFormat,
    /// One plane per [`PixelFormat::plane_count`].
    pub planes: Vec<Plane>,
}

impl Frame {
    /// A black frame (Y=16, U=V=128 for YUV; zeros for RGB, opaque alpha).
    pub fn black(format: PixelFormat, width: u32, height: u32, index: u64, pts: Timestamp) -> Self {
        let planes = (0..format.plane_count())
            .map(|i| {
                let (w, h, bps) = format.plane_dims(i, width as usize, height as usize);
                let mut p = Plane::zeroed(w * bps, h);
                match (format, i) {
                    (PixelFormat::Yuv420p, 0) => p.data.fill(16),
                    (PixelFormat::Yuv420p, _) => p.data.fill(128),
                    (PixelFormat::Rgba, _) => p.data.chunks_exact_mut(4).for_each(|px| px[3] = 255),
                    _ => {}
                }
                p
            })
            .collect();
        Self {
            index,
            pts,
            width,
            height,
            format,
            planes,
        }
    }

    /// Checks that planes match the format and size (count, row bytes, strides, lengths).
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |reason: String| Err(Error::InvalidFrame { reason });
        if self.width == 0 || self.height == 0 {
            return bad(format!("empty frame {}x{}", self.width, self.height));
        }
        if self.planes.len() != self.format.plane_count() {
            return bad(format!(
                "{:?} needs {} planes, got {}",
                self.format,
                self.format.plane_count(),
                self.planes.len()
            ));
        }
        for (i, p) in self.planes.iter().enumerate() {
            let (w, h, bps) = self
                .format
                .plane_dims(i, self.width as usize, self.height as usize);
            if p.row_bytes != w * bps || p.height != h || p.stride < p.row_bytes {
                return bad(format!(
                    "plane {i}: {}x{} stride {} does not fit {}x{}",
                    p.row_bytes,
                    p.height,
                    p.stride,
                    w * bps,
                    h
                ));
            }
            if p.data.len() < p.stride * (h - 1) + p.row_bytes {
                return bad(format!(
                    "plane {i}: buffer of {} bytes is too short",
                    p.data.len()
                ));
            }
        }
        Ok(())
    }

    /// Packed RGB24 bytes (`width * height * 3`, no padding). YUV is converted with the
    /// BT.601 limited-range matrix in integer arithmetic.
    pub fn to_rgb24(&self) -> Vec<u8> {
        let (w, h) = (self.width as usize, self.height as usize);
        let mut out = vec![0u8; w * h * 3];
        match self.format {
            PixelFormat::Rgb24 => {
                for y in 0..h {
                    out[y * w * 3..(y + 1) * w * 3].copy_from_slice(self.planes[0].row(y));
                }
            }
            PixelFormat::Rgba => {
                for y in 0..h {
                    let src = self.planes[0].row(y);
                    for (d, s) in out[y * w * 3..(y + 1) * w * 3]
                        .chunks_exact_mut(3)
                        .zip(src.chunks_exact(4))
                    {
                        d.copy_from_slice(&s[..3]);
                    }
                }
            }
            PixelFormat::Yuv420p => {
                let [py, pu, pv] = [&self.planes[0], &self.planes[1], &self.planes[2]];
                for y in 0..h {
                    let (yr, ur, vr) = (py.row(y), pu.row(y / 2), pv.row(y / 2));
                    let dst = &mut out[y * w * 3..(y + 1) * w * 3];
                    for x in 0..w {
                        let [r, g, b] = yuv_to_rgb(yr[x], ur[x / 2], vr[x / 2]);
                        dst[x * 3] = r;
                        dst[x * 3 + 1] = g;
                        dst[x * 3 + 2] = b;
                    }
                }
            }
        }
        out
    }

    /// A YUV 4:2:0 frame from packed RGB24 (`width * height * 3` bytes, BT.601 limited
    /// range; chroma is the mean of each 2x2 block).
    pub fn from_rgb24_to_yuv420(
        rgb: &[u8],
        width: u32,
        height: u32,
        index: u64,
        pts: Timestamp,
    ) -> Result<Self, Error> {
        let (w, h) = (width as usize, height as usize);
        if w == 0 || h == 0 || rgb.len() != w * h * 3 {
            return Err(Error::InvalidFrame {
                reason: format!("{} RGB bytes do not make a {w}x{h} picture", rgb.len()),
            });
        }
        let mut f = Frame::black(PixelFormat::Yuv420p, width, height, index, pts);
        for y in 0..h {
            let row = f.planes[0].row_mut(y);
            for x in 0..w {
                let p = &rgb[(y * w + x) * 3..];
                row[x] = rgb_to_yuv(p[0], p[1], p[2])[0];
            }
        }
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        for cy in 0..ch {
            for cx in 0..cw {
                let (mut su, mut sv, mut n) = (0u32, 0u32, 0u32);
                for y in (cy * 2)..(cy * 2 + 2).min(h) {
                    for x in (cx * 2)..(cx * 2 + 2).min(w) {
                        let p = &rgb[(y * w + x) * 3..];
                        let [_, u, v] = rgb_to_yuv(p[0], p[1], p[2]);
                        su += u32::from(u);
                        sv += u32::from(v);
                        n += 1;
                    }
                }
                f.planes[1].row_mut(cy)[cx] = ((su + n / 2) / n) as u8;
                f.planes[2].row_mut(cy)[cx] = ((sv + n / 2) / n) as u8;
            }
        }
        Ok(f)
    }
}

/// BT.601 limited-range YUV to RGB, integer arithmetic (16.16 fixed point).
pub(crate) fn yuv_to_rgb(y: u8, u: u8, v: u8) -> [u8; 3] {
    let c = i32::from(y) - 16;
    let d = i32::from(u) - 128;
    let e = i32::from(v) - 128;
    let clamp = |x: i32| ((x + 32768) >> 16).clamp(0, 255) as u8;
    [
        clamp(76309 * c + 104597 * e),
        clamp(76309 * c - 25675 * d - 53279 * e),
        clamp(76309 * c + 132201 * d),
    ]
}

/// RGB to BT.601 limited-range YUV, integer arithmetic.
pub(crate) fn rgb_to_yuv(r: u8, g: u8, b: u8) -> [u8; 3] {
    let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
    let y = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16;
    let u = ((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128;
    let v = ((112 * r - 94 * g - 18 * b + 128) >> 8) + 128;
    [
        y.clamp(0, 255) as u8,
        u.clamp(0, 255) as u8,
        v.clamp(0, 255) as u8,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_sized_yuv_frame_has_rounded_up_chroma() {
        let f = Frame::black(PixelFormat::Yuv420p, 5, 3, 0, Timestamp::zero());
        f.validate().unwrap();
        assert_eq!(f.planes[1].row_bytes, 3);
        assert_eq!(f.planes[1].height, 2);
    }

    #[test]
    fn rgb_yuv_round_trip_is_close() {
        for &(r, g, b) in &[
            (0u8, 0u8, 0u8),
            (255, 255, 255),
            (200, 30, 90),
            (12, 240, 128),
        ] {
            let [y, u, v] = rgb_to_yuv(r, g, b);
            let [r2, g2, b2] = yuv_to_rgb(y, u, v);
            for (a, b) in [(r, r2), (g, g2), (b, b2)] {
                assert!(
                    (i32::from(a) - i32::from(b)).abs() <= 3,
                    "{r},{g},{b} -> {r2},{g2},{b2}"
                );
            }
        }
    }

    #[test]
    fn validate_rejects_short_buffer() {
        let mut f = Frame::black(PixelFormat::Rgb24, 4, 4, 0, Timestamp::zero());
        f.planes[0].data.truncate(10);
        assert!(f.validate().is_err());
    }
}
