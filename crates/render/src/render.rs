//! The styles, applied to one plane inside one coverage box.

use crate::coverage::Cov;
use crate::kernels::Kernels;

/// A mutable view of one plane: `height` rows of `stride` bytes, `row_bytes` of pixels.
pub(crate) struct PlaneBuf<'a> {
    pub data: &'a mut [u8],
    pub stride: usize,
    pub row_bytes: usize,
    pub height: usize,
    /// Bytes per sample (1 for YUV planes, 3 or 4 for packed RGB).
    pub bps: usize,
}

impl PlaneBuf<'_> {
    fn row_mut(&mut self, y: usize) -> &mut [u8] {
        let s = y * self.stride;
        &mut self.data[s..s + self.row_bytes]
    }
    fn row(&self, y: usize) -> &[u8] {
        let s = y * self.stride;
        &self.data[s..s + self.row_bytes]
    }
}

/// What to do inside a coverage box, in the plane's own units.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Op<'v> {
    /// Constant sample value (`bps` bytes).
    Fill(&'v [u8]),
    /// Mosaic with square blocks of `block` samples on a grid anchored at (`gx`, `gy`);
    /// with `grey`, packed RGB blocks take their luma in every colour channel.
    Pixelate {
        block: usize,
        gx: usize,
        gy: usize,
        grey: bool,
    },
    /// Three box passes each way with this radius.
    Blur { radius: usize },
}

/// Reusable buffers.
#[derive(Default)]
pub(crate) struct Scratch {
    acc: Vec<u32>,
    row: Vec<u8>,
    alpha: Vec<u8>,
    a: Vec<u8>,
    b: Vec<u8>,
}

/// Applies `op` to the pixels of `plane` that `cov` covers.
pub(crate) fn render(
    plane: &mut PlaneBuf<'_>,
    cov: &Cov,
    op: Op<'_>,
    k: &Kernels,
    s: &mut Scratch,
) {
    if cov.w == 0 || cov.h == 0 {
        return;
    }
    debug_assert!(cov.y + cov.h <= plane.height && (cov.x + cov.w) * plane.bps <= plane.row_bytes);
    let bps = plane.bps;
    let (x0, x1) = (cov.x * bps, (cov.x + cov.w) * bps);
    match op {
        Op::Fill(value) => {
            if cov.alpha.is_none() {
                for y in cov.y..cov.y + cov.h {
                    let row = &mut plane.row_mut(y)[x0..x1];
                    if bps == 1 {
                        row.fill(value[0]);
                    } else {
                        row.chunks_exact_mut(bps)
                            .for_each(|px| px.copy_from_slice(value));
                    }
                }
            } else {
                s.row.clear();
                (0..cov.w).for_each(|_| s.row.extend_from_slice(value));
                for r in 0..cov.h {
                    write_row(plane, cov, r, &s.row, k, &mut s.alpha);
                }
            }
        }
        Op::Pixelate {
            block,
            gx,
            gy,
            grey,
        } => pixelate(plane, cov, block.max(1), gx, gy, grey, k, s),
        Op::Blur { radius } => blur(plane, cov, radius, k, s),
    }
}

/// Writes `styled` (the box-wide row `r` of styled samples) into the plane, blended by the
/// coverage alpha when there is one.
fn write_row(
    plane: &mut PlaneBuf<'_>,
    cov: &Cov,
    r: usize,
    styled: &[u8],
    k: &Kernels,
    alpha_buf: &mut Vec<u8>,
) {
    let bps = plane.bps;
    let dst = &mut plane.row_mut(cov.y + r)[cov.x * bps..(cov.x + cov.w) * bps];
    match cov.alpha_row(r) {
        None => dst.copy_from_slice(styled),
        Some(a) if bps == 1 => (k.blend)(dst, styled, a),
        Some(a) => {
            alpha_buf.clear();
            a.iter()
                .for_each(|&v| alpha_buf.extend(std::iter::repeat_n(v, bps)));
            (k.blend)(dst, styled, alpha_buf);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn pixelate(
    plane: &mut PlaneBuf<'_>,
    cov: &Cov,
    block: usize,
    gx: usize,
    gy: usize,
    grey: bool,
    k: &Kernels,
    s: &mut Scratch,
) {
    let bps = plane.bps;
    let (bx0, bx1) = (cov.x * bps, (cov.x + cov.w) * bps);
    let width = bx1 - bx0;
    let (cy0, cy1) = (cov.y, cov.y + cov.h);
    let gx = gx.min(cov.x);
    let gy = gy.min(cov.y);
    let mut band = gy + (cy0 - gy) / block * block;
    while band < cy1 {
        let (r0, r1) = (band.max(cy0), (band + block).min(cy1));
        s.acc.clear();
        s.acc.resize(width, 0);
        for y in r0..r1 {
            (k.accumulate)(&mut s.acc, &plane.row(y)[bx0..bx1]);
        }
        s.row.clear();
        s.row.resize(width, 0);
        let mut col = gx + (cov.x - gx) / block * block;
        while col < cov.x + cov.w {
            let (c0, c1) = (
                col.max(cov.x) - cov.x,
                (col + block).min(cov.x + cov.w) - cov.x,
            );
            let n = ((c1 - c0) * (r1 - r0)) as u64;
            let mut means = [0u8; 4];
            for ch in 0..bps {
                let sum: u64 = (c0..c1).map(|c| u64::from(s.acc[c * bps + ch])).sum();
                means[ch.min(3)] = ((sum + n / 2) / n) as u8;
            }
            if grey && bps >= 3 {
                // BT.601 luma of the block mean, in R, G and B (alpha kept).
                let [r, g, b, _] = means.map(u32::from);
                let y = ((77 * r + 150 * g + 29 * b + 128) >> 8) as u8;
                means[..3].fill(y);
            }
            for ch in 0..bps {
                (c0..c1).for_each(|c| s.row[c * bps + ch] = means[ch.min(3)]);
            }
            col += block;
        }
        for y in r0..r1 {
            write_row(plane, cov, y - cy0, &s.row, k, &mut s.alpha);
        }
        band += block;
    }
}

/// Three vertical box passes of `radius` over `rows` x `cols` bytes, `src` to `dst`
/// (ping-pong through both; the result ends in `dst`). Edges are clamped.
fn box3_vertical(
    src: &mut [u8],
    dst: &mut [u8],
    rows: usize,
    cols: usize,
    radius: usize,
    k: &Kernels,
    acc: &mut Vec<u32>,
) {
    let n = 2 * radius + 1;
    let mul = (((1u64 << 23) + n as u64 / 2) / n as u64) as u32;
    let clamp = |y: isize| y.clamp(0, rows as isize - 1) as usize;
    let pass = |from: &[u8], to: &mut [u8], acc: &mut Vec<u32>| {
        acc.clear();
        acc.resize(cols, 0);
        // Initial window for row 0: rows -r..=r clamped (row 0 taken r + 1 times).
        for i in -(radius as isize)..=(radius as isize) {
            let y = clamp(i);
            (k.accumulate)(acc, &from[y * cols..(y + 1) * cols]);
        }
        for y in 0..rows {
            let add = clamp(y as isize + radius as isize + 1);
            let sub = clamp(y as isize - radius as isize);
            (k.box_row)(
                acc,
                &mut to[y * cols..(y + 1) * cols],
                &from[add * cols..(add + 1) * cols],
                &from[sub * cols..(sub + 1) * cols],
                mul,
            );
        }
    };
    pass(src, dst, acc);
    pass(dst, src, acc);
    pass(src, dst, acc);
}

/// Transposes `rows` x `cols` elements of `bps` bytes from `src` into `dst` (`cols` x `rows`).
fn transpose(src: &[u8], dst: &mut [u8], rows: usize, cols: usize, bps: usize, k: &Kernels) {
    if bps == 1 {
        return (k.transpose)(src, cols, dst, rows, rows, cols);
    }
    const T: usize = 16;
    for rb in (0..rows).step_by(T) {
        for cb in (0..cols).step_by(T) {
            for r in rb..(rb + T).min(rows) {
                for c in cb..(cb + T).min(cols) {
                    let (si, di) = ((r * cols + c) * bps, (c * rows + r) * bps);
                    if bps == 1 {
                        dst[di] = src[si];
                    } else {
                        dst[di..di + bps].copy_from_slice(&src[si..si + bps]);
                    }
                }
            }
        }
    }
}

fn blur(plane: &mut PlaneBuf<'_>, cov: &Cov, radius: usize, k: &Kernels, s: &mut Scratch) {
    let bps = plane.bps;
    let (w, h) = (cov.w, cov.h);
    let cols = w * bps;
    let len = cols * h;
    s.a.clear();
    for y in cov.y..cov.y + h {
        s.a.extend_from_slice(&plane.row(y)[cov.x * bps..(cov.x + w) * bps]);
    }
    s.b.clear();
    s.b.resize(len, 0);
    // Vertical: a -> b.
    box3_vertical(&mut s.a, &mut s.b, h, cols, radius, k, &mut s.acc);
    // Horizontal as vertical on the transpose: b -> a (w rows of h samples) -> b -> a.
    transpose(&s.b, &mut s.a, h, w, bps, k);
    box3_vertical(&mut s.a, &mut s.b, w, h * bps, radius, k, &mut s.acc);
    transpose(&s.b, &mut s.a, w, h, bps, k);
    let styled = std::mem::take(&mut s.a);
    for r in 0..h {
        write_row(
            plane,
            cov,
            r,
            &styled[r * cols..(r + 1) * cols],
            k,
            &mut s.alpha,
        );
    }
    s.a = styled;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_round_trips() {
        let (r, c, bps) = (5, 37, 3);
        let src: Vec<u8> = (0..r * c * bps).map(|i| (i * 31 % 251) as u8).collect();
        let mut t = vec![0; src.len()];
        let mut back = vec![0; src.len()];
        let k = Kernels::scalar();
        transpose(&src, &mut t, r, c, bps, &k);
        assert_eq!(
            &t[(4 * r + 2) * bps..(4 * r + 2) * bps + 3],
            &src[(2 * c + 4) * bps..(2 * c + 4) * bps + 3]
        );
        transpose(&t, &mut back, c, r, bps, &k);
        assert_eq!(back, src);
    }

    #[test]
    fn box_filter_of_a_constant_is_the_constant() {
        let (rows, cols) = (9, 13);
        let mut a = vec![77u8; rows * cols];
        let mut b = vec![0u8; rows * cols];
        let mut acc = Vec::new();
        for radius in [0, 1, 4, 20] {
            box3_vertical(
                &mut a,
                &mut b,
                rows,
                cols,
                radius,
                &Kernels::scalar(),
                &mut acc,
            );
            assert!(b.iter().all(|&v| v == 77), "radius {radius}");
        }
    }
}
