//! Which pixels a region covers: outward rounding, clipping, dilation, feathering.
//!
//! Coverage is computed once per region at luma (or packed-pixel) resolution as a bounding
//! box plus, for anything but a hard-edged rectangle, a per-pixel alpha map (255: masked in
//! full, 0: untouched). Chroma coverage is derived from it so that every chroma sample that
//! covers a masked luma pixel is masked at least as strongly.

use crate::mask::{Region, Shape};

/// Coverage of one region on one plane, in that plane's sample units.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cov {
    pub x: usize,
    pub y: usize,
    pub w: usize,
    pub h: usize,
    /// `w * h` alphas, row-major; `None` means every pixel of the box at 255.
    pub alpha: Option<Vec<u8>>,
}

impl Cov {
    pub fn alpha_row(&self, row: usize) -> Option<&[u8]> {
        self.alpha
            .as_deref()
            .map(|a| &a[row * self.w..(row + 1) * self.w])
    }

    /// Coverage on a plane subsampled 2x2 (YUV 4:2:0 chroma): a chroma sample takes the
    /// largest alpha of the up to four luma pixels it covers.
    pub fn halved(&self) -> Cov {
        let (x0, y0) = (self.x / 2, self.y / 2);
        let (x1, y1) = ((self.x + self.w).div_ceil(2), (self.y + self.h).div_ceil(2));
        let (w, h) = (x1 - x0, y1 - y0);
        let alpha = self.alpha.as_ref().map(|a| {
            let mut out = vec![0u8; w * h];
            for ly in 0..self.h {
                let cy = (self.y + ly) / 2 - y0;
                let src = &a[ly * self.w..(ly + 1) * self.w];
                let dst = &mut out[cy * w..(cy + 1) * w];
                for (lx, &v) in src.iter().enumerate() {
                    let cx = (self.x + lx) / 2 - x0;
                    if v > dst[cx] {
                        dst[cx] = v;
                    }
                }
            }
            out
        });
        Cov {
            x: x0,
            y: y0,
            w,
            h,
            alpha,
        }
    }
}

/// A rasterised region: its luma coverage and the size (in pixels, after dilation) that
/// scales its style.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Raster {
    pub cov: Cov,
    pub size: (f32, f32),
}

/// Integer pixel range `[floor(a), ceil(b))` clipped to `[0, limit)`; a zero-width interval
/// on a pixel edge still takes the pixel to its right. `None` when nothing is inside.
fn pixel_range(a: f64, b: f64, limit: usize) -> Option<(usize, usize)> {
    let lo = a.floor();
    let mut hi = b.ceil();
    if hi <= lo {
        hi = lo + 1.0;
    }
    let lo = lo.max(0.0);
    let hi = hi.min(limit as f64);
    (hi > lo).then_some((lo as usize, hi as usize))
}

/// Rasterises `region` on a `width` x `height` frame. `None` when it covers no pixel.
/// A shape with a non-finite coordinate covers the whole frame (fail closed).
pub(crate) fn rasterize(region: &Region, width: usize, height: usize) -> Option<Raster> {
    if width == 0 || height == 0 {
        return None;
    }
    let whole = || Raster {
        cov: Cov {
            x: 0,
            y: 0,
            w: width,
            h: height,
            alpha: None,
        },
        size: (width as f32, height as f32),
    };
    if let Shape::Polygon(p) = &region.shape
        && p.is_empty()
    {
        return None;
    }
    let Some(b) = region.shape.bounds() else {
        return Some(whole());
    };
    let (bx, by, bw, bh) = (
        f64::from(b.x),
        f64::from(b.y),
        f64::from(b.w),
        f64::from(b.h),
    );
    let (m, mpx) = (
        f64::from(region.margin.max(0.0)),
        f64::from(region.margin_px.max(0.0)),
    );
    let (dx, dy) = (bw.max(0.0) * m + mpx, bh.max(0.0) * m + mpx);
    if !(dx.is_finite() && dy.is_finite()) {
        return Some(whole());
    }
    // The dilated bounding box (continuous).
    let (x0, y0, x1, y1) = (bx - dx, by - dy, bx + bw + dx, by + bh + dy);
    let size = ((x1 - x0) as f32, (y1 - y0) as f32);
    let polygon_line = matches!(&region.shape, Shape::Polygon(_)) && (dx > 0.0 || dy > 0.0);
    if !polygon_line && (x1 <= x0 || y1 <= y0) {
        return None;
    }
    let (hx0, hx1) = pixel_range(x0, x1, width)?;
    let (hy0, hy1) = pixel_range(y0, y1, height)?;
    let feather = f64::from(region.feather_px.max(0.0));
    let fpx = feather.ceil() as usize;
    if fpx == 0
        && region.except.is_none()
        && let Shape::Rect(_) = region.shape
    {
        return Some(Raster {
            cov: Cov {
                x: hx0,
                y: hy0,
                w: hx1 - hx0,
                h: hy1 - hy0,
                alpha: None,
            },
            size,
        });
    }
    // Box of the alpha map: the hard box grown by the feather, clipped.
    let (mx0, my0) = (hx0.saturating_sub(fpx), hy0.saturating_sub(fpx));
    let (mx1, my1) = ((hx1 + fpx).min(width), (hy1 + fpx).min(height));
    let (mw, mh) = (mx1 - mx0, my1 - my0);
    let mut alpha = vec![0u8; mw * mh];
    let mut mark = |row: usize, lo: usize, hi: usize| {
        // Spans never leave the hard box (a zero-width touch on its edge adds nothing).
        let (lo, hi) = (lo.max(hx0), hi.min(hx1));
        if lo >= hi {
            return;
        }
        let r = (row - my0) * mw;
        alpha[r + lo - mx0..r + hi - mx0].fill(255);
    };
    match &region.shape {
        Shape::Rect(_) => {
            for row in hy0..hy1 {
                mark(row, hx0, hx1);
            }
        }
        Shape::Ellipse(_) => {
            let (cx, cy, a, bb) = (
                (x0 + x1) / 2.0,
                (y0 + y1) / 2.0,
                (x1 - x0) / 2.0,
                (y1 - y0) / 2.0,
            );
            for row in hy0..hy1 {
                // The widest point of the ellipse within the band [row, row + 1].
                let yc = cy.clamp(row as f64, row as f64 + 1.0);
                let t = (yc - cy) / bb;
                if t.abs() > 1.0 {
                    continue;
                }
                let hw = a * (1.0 - t * t).max(0.0).sqrt();
                if let Some((lo, hi)) = pixel_range(cx - hw, cx + hw, width) {
                    mark(row, lo, hi);
                }
            }
        }
        Shape::Polygon(pts) => {
            let pts: Vec<(f64, f64)> = pts
                .iter()
                .map(|&(x, y)| (f64::from(x), f64::from(y)))
                .collect();
            let mut spans = Vec::new();
            for row in hy0..hy1 {
                polygon_band(&pts, row as f64 - dy, row as f64 + 1.0 + dy, &mut spans);
                for &(a, b) in &spans {
                    if let Some((lo, hi)) = pixel_range(a - dx, b + dx, width) {
                        mark(row, lo, hi);
                    }
                }
            }
        }
    }
    if fpx > 0 {
        feather_alpha(&mut alpha, mw, mh, feather);
    }
    if let Some(cut) = &region.except
        && cut.bits.len() == cut.w as usize * cut.h as usize
    {
        // The hole has a hard edge (it is cut after feathering).
        for row in my0..my1 {
            for col in mx0..mx1 {
                if cut.contains(col, row) {
                    alpha[(row - my0) * mw + col - mx0] = 0;
                }
            }
        }
    }
    if alpha.iter().all(|&a| a == 0) {
        return None;
    }
    Some(Raster {
        cov: Cov {
            x: mx0,
            y: my0,
            w: mw,
            h: mh,
            alpha: Some(alpha),
        },
        size,
    })
}

/// The x-intervals of (closed polygon) ∩ (horizontal band `[y0, y1]`). Exact projection:
/// every point of the intersection either lies straight below an edge crossing inside the
/// band (covered by that edge's clipped x-range) or sees the top line `y0` through the
/// interior (covered by the even-odd spans at `y0`).
fn polygon_band(pts: &[(f64, f64)], y0: f64, y1: f64, out: &mut Vec<(f64, f64)>) {
    out.clear();
    let n = pts.len();
    let mut xs = Vec::new();
    for i in 0..n {
        let (p, q) = (pts[i], pts[(i + 1) % n]);
        let (lo, hi) = (p.1.min(q.1), p.1.max(q.1));
        if hi >= y0 && lo <= y1 {
            // Clip the edge to the band.
            let (xa, xb) = if (q.1 - p.1).abs() < 1e-12 {
                (p.0, q.0)
            } else {
                let at = |y: f64| p.0 + (q.0 - p.0) * ((y - p.1) / (q.1 - p.1));
                (at(lo.max(y0)), at(hi.min(y1)))
            };
            out.push((xa.min(xb), xa.max(xb)));
        }
        // Even-odd crossings of the line y = y0 (half-open rule).
        if (p.1 <= y0 && y0 < q.1) || (q.1 <= y0 && y0 < p.1) {
            xs.push(p.0 + (q.0 - p.0) * ((y0 - p.1) / (q.1 - p.1)));
        }
    }
    xs.sort_by(f64::total_cmp);
    for pair in xs.chunks_exact(2) {
        out.push((pair[0], pair[1]));
    }
}

/// Turns a 0/255 map into a feathered one: pixels outside the hard area fade with their
/// (chamfer 3-4) distance to it, reaching 0 beyond `feather` pixels.
fn feather_alpha(alpha: &mut [u8], w: usize, h: usize, feather: f64) {
    const INF: u32 = u32::MAX / 4;
    let mut d: Vec<u32> = alpha
        .iter()
        .map(|&a| if a == 255 { 0 } else { INF })
        .collect();
    for y in 0..h {
        for x in 0..w {
            let mut v = d[y * w + x];
            if x > 0 {
                v = v.min(d[y * w + x - 1] + 3);
            }
            if y > 0 {
                v = v.min(d[(y - 1) * w + x] + 3);
                if x > 0 {
                    v = v.min(d[(y - 1) * w + x - 1] + 4);
                }
                if x + 1 < w {
                    v = v.min(d[(y - 1) * w + x + 1] + 4);
                }
            }
            d[y * w + x] = v;
        }
    }
    for y in (0..h).rev() {
        for x in (0..w).rev() {
            let mut v = d[y * w + x];
            if x + 1 < w {
                v = v.min(d[y * w + x + 1] + 3);
            }
            if y + 1 < h {
                v = v.min(d[(y + 1) * w + x] + 3);
                if x + 1 < w {
                    v = v.min(d[(y + 1) * w + x + 1] + 4);
                }
                if x > 0 {
                    v = v.min(d[(y + 1) * w + x - 1] + 4);
                }
            }
            d[y * w + x] = v;
        }
    }
    for (a, &dist) in alpha.iter_mut().zip(&d) {
        if dist == 0 {
            *a = 255;
        } else {
            let t = 1.0 - (f64::from(dist) / 3.0) / (feather + 1.0);
            *a = (t.max(0.0) * 255.0).round().min(254.0) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mask::Style;
    use obscura_core::Rect;

    #[test]
    fn rect_rounds_outward_and_clips() {
        let r = Region::rect(Rect::new(-3.5, 2.2, 10.0, 5.0), Style::fill());
        let c = rasterize(&r, 100, 6).unwrap().cov;
        assert_eq!((c.x, c.y, c.w, c.h), (0, 2, 7, 4));
        assert!(c.alpha.is_none());
    }

    #[test]
    fn nan_rect_covers_whole_frame() {
        let r = Region::rect(
            Rect {
                x: f32::NAN,
                y: 0.0,
                w: 5.0,
                h: 5.0,
            },
            Style::fill(),
        );
        let c = rasterize(&r, 30, 20).unwrap().cov;
        assert_eq!((c.x, c.y, c.w, c.h), (0, 0, 30, 20));
    }

    #[test]
    fn ellipse_covers_its_centre_row_fully_and_not_the_corners() {
        let r = Region::new(
            Shape::Ellipse(Rect::new(10.0, 10.0, 20.0, 10.0)),
            Style::fill(),
        );
        let c = rasterize(&r, 64, 64).unwrap().cov;
        assert_eq!((c.x, c.y, c.w, c.h), (10, 10, 20, 10));
        let a = c.alpha.unwrap();
        assert!(a[4 * 20..5 * 20].iter().all(|&v| v == 255));
        assert_eq!(a[0], 0);
        assert_eq!(a[20 * 10 - 1], 0);
    }

    #[test]
    fn concave_polygon_leaves_its_notch() {
        // A "U": the notch x in 4..6, y in 0..6 is outside.
        let u = vec![
            (0.0, 0.0),
            (4.0, 0.0),
            (4.0, 6.0),
            (6.0, 6.0),
            (6.0, 0.0),
            (10.0, 0.0),
            (10.0, 10.0),
            (0.0, 10.0),
        ];
        let c = rasterize(&Region::new(Shape::Polygon(u), Style::fill()), 20, 20)
            .unwrap()
            .cov;
        let a = c.alpha.unwrap();
        assert_eq!(a[2 * c.w + 5], 0, "notch pixel masked");
        assert_eq!(a[2 * c.w + 3], 255);
        assert_eq!(a[8 * c.w + 5], 255);
    }

    #[test]
    fn feather_fades_outside_only() {
        let r = Region::rect(Rect::new(10.0, 10.0, 4.0, 4.0), Style::fill()).with_feather(3.0);
        let c = rasterize(&r, 40, 40).unwrap().cov;
        assert_eq!((c.x, c.y, c.w, c.h), (7, 7, 10, 10));
        let a = c.alpha.unwrap();
        assert_eq!(a[3 * 10 + 3], 255);
        assert!(a[3 * 10 + 2] > a[3 * 10 + 1] && a[3 * 10 + 1] > a[3 * 10]);
        assert!(a[3 * 10 + 2] < 255);
    }

    #[test]
    fn halved_takes_the_max_of_the_luma_block() {
        let c = Cov {
            x: 3,
            y: 1,
            w: 2,
            h: 1,
            alpha: Some(vec![0, 200]),
        };
        let h = c.halved();
        assert_eq!((h.x, h.y, h.w, h.h), (1, 0, 2, 1));
        assert_eq!(h.alpha.unwrap(), vec![0, 200]);
    }
}
