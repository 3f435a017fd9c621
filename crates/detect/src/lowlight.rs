//! Low-light and low-contrast frames stretched for the detectors (never for the output).
//!
//! A night camera's picture can sit in a narrow band of dark greys where YOLOX and YuNet miss
//! people they find at day contrast. When a frame's luma is dark or flat, the detectors get a
//! copy that is first smoothed (a 3x3 box filter on every plane: a dark picture's sensor
//! noise, stretched with it, otherwise drowns a dim figure: on the ground truth's night copies
//! a person behind a shop window scored 0.01 unsmoothed, 0.28 smoothed) and then has its luma
//! stretched: the 1st..99th percentile mapped linearly onto the full range. Frames with normal
//! contrast are passed on untouched (no copy). The output video is never changed by this.

use std::borrow::Cow;

use obscura_core::{Detection, Frame, ObjectClass, PixelFormat, Plane, Rect};

/// A frame whose 1st..99th luma percentile spans fewer levels than this is stretched.
pub const MIN_SPAN: u8 = 150;
/// A frame whose median luma is below this is stretched.
pub const DARK_MEDIAN: u8 = 60;

/// The 1st, 50th and 99th percentile of luma (0..255, full range: for YUV the Y values as
/// stored), from every 4th pixel of every 4th row.
pub fn luma_percentiles(frame: &Frame) -> (u8, u8, u8) {
    let mut hist = [0u64; 256];
    let (w, h) = (frame.width as usize, frame.height as usize);
    for y in (0..h).step_by(4) {
        match frame.format {
            PixelFormat::Yuv420p => {
                for &v in frame.planes[0].row(y)[..w].iter().step_by(4) {
                    hist[v as usize] += 1;
                }
            }
            PixelFormat::Rgb24 | PixelFormat::Rgba => {
                let n = if frame.format == PixelFormat::Rgb24 {
                    3
                } else {
                    4
                };
                for p in frame.planes[0].row(y)[..w * n].chunks_exact(n).step_by(4) {
                    let l =
                        (77 * u32::from(p[0]) + 150 * u32::from(p[1]) + 29 * u32::from(p[2])) >> 8;
                    hist[l as usize] += 1;
                }
            }
        }
    }
    let total: u64 = hist.iter().sum();
    let at = |q: f64| {
        let want = (q * total as f64).ceil() as u64;
        let mut seen = 0;
        for (v, &c) in hist.iter().enumerate() {
            seen += c;
            if seen >= want.max(1) {
                return v as u8;
            }
        }
        255
    };
    (at(0.01), at(0.5), at(0.99))
}

/// The frame the detectors should see: `frame` itself, or a copy with its luma stretched
/// when it is dark or flat (see the module docs).
pub fn for_detection(frame: &Frame) -> Cow<'_, Frame> {
    if frame.width == 0 || frame.height == 0 || frame.validate().is_err() {
        return Cow::Borrowed(frame);
    }
    let (lo, mid, hi) = luma_percentiles(frame);
    if hi.saturating_sub(lo) >= MIN_SPAN && mid >= DARK_MEDIAN {
        return Cow::Borrowed(frame);
    }
    let span = f32::from(hi.saturating_sub(lo).max(16));
    // YUV stores limited range (16..235); packed RGB is full range.
    let (out_lo, out_hi) = match frame.format {
        PixelFormat::Yuv420p => (16.0, 235.0),
        _ => (0.0, 255.0),
    };
    let lut: Vec<u8> = (0..256)
        .map(|v| {
            let t = (v as f32 - f32::from(lo)) / span;
            (out_lo + t * (out_hi - out_lo)).round().clamp(0.0, 255.0) as u8
        })
        .collect();
    let mut out = frame.clone();
    let (w, h) = (frame.width as usize, frame.height as usize);
    for (i, (src, dst)) in frame.planes.iter().zip(&mut out.planes).enumerate() {
        let (pw, ph, _) = frame.format.plane_dims(i, w, h);
        let n = match frame.format {
            PixelFormat::Yuv420p => 1,
            PixelFormat::Rgb24 => 3,
            PixelFormat::Rgba => 4,
        };
        smooth3(src, dst, pw, ph, n);
    }
    match frame.format {
        PixelFormat::Yuv420p => {
            let p = &mut out.planes[0];
            for y in 0..h {
                for v in &mut p.row_mut(y)[..w] {
                    *v = lut[*v as usize];
                }
            }
        }
        PixelFormat::Rgb24 | PixelFormat::Rgba => {
            let n = if frame.format == PixelFormat::Rgb24 {
                3
            } else {
                4
            };
            let p = &mut out.planes[0];
            for y in 0..h {
                for px in p.row_mut(y)[..w * n].chunks_exact_mut(n) {
                    for c in &mut px[..3] {
                        *c = lut[*c as usize];
                    }
                }
            }
        }
    }
    Cow::Owned(out)
}

/// Share of its height by which a person box found on a frame [`for_detection`] had to
/// stretch is grown on every side (0.06): noise and low contrast shift and shrink the boxes
/// of dim figures (on the ground truth's night copies a child beside a bench stayed 11%
/// visible, a figure in a dark shop 15%), and a person partly shown is a breach.
pub const DARK_BOX_GROWTH: f32 = 0.06;

/// Grows the person boxes of `dets`, found on `seen` (what [`for_detection`] gave), by
/// [`DARK_BOX_GROWTH`] of their height on every side, within the frame, when `seen` is a
/// stretched copy; boxes from a frame passed on untouched stay as they are.
#[expect(
    clippy::ptr_arg,
    reason = "the variant, borrowed or owned, is what says whether the frame was stretched"
)]
pub fn widen_dark_boxes(seen: &Cow<'_, Frame>, dets: &mut [Detection]) {
    if matches!(seen, Cow::Borrowed(_)) {
        return;
    }
    let frame = Rect::new(0.0, 0.0, seen.width as f32, seen.height as f32);
    for d in dets.iter_mut().filter(|d| d.class == ObjectClass::Person) {
        let g = d.rect.h * DARK_BOX_GROWTH;
        let grown = Rect::new(
            d.rect.x - g,
            d.rect.y - g,
            d.rect.w + 2.0 * g,
            d.rect.h + 2.0 * g,
        );
        d.rect = grown.intersection(&frame).unwrap_or(d.rect);
    }
}

/// `dst` = `src` smoothed by a 3x3 box filter (edges replicated), for a plane `w` pixels of
/// `n` interleaved channels wide and `h` rows tall; an alpha channel (the 4th) is copied.
fn smooth3(src: &Plane, dst: &mut Plane, w: usize, h: usize, n: usize) {
    if w == 0 || h == 0 {
        return;
    }
    let mut cols = vec![0u16; w * n];
    for y in 0..h {
        let (a, b, c) = (
            src.row(y.saturating_sub(1)),
            src.row(y),
            src.row((y + 1).min(h - 1)),
        );
        for (k, s) in cols.iter_mut().enumerate() {
            *s = u16::from(a[k]) + u16::from(b[k]) + u16::from(c[k]);
        }
        let out = &mut dst.row_mut(y)[..w * n];
        for x in 0..w {
            let (l, r) = (x.saturating_sub(1), (x + 1).min(w - 1));
            for ch in 0..n.min(3) {
                let sum = cols[l * n + ch] + cols[x * n + ch] + cols[r * n + ch];
                out[x * n + ch] = ((sum + 4) / 9) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use obscura_core::Timestamp;

    fn gradient(lo: u8, hi: u8) -> Frame {
        let rgb: Vec<u8> = (0..64 * 64)
            .flat_map(|i| {
                let v = lo as usize + (i % 64) * (hi - lo) as usize / 63;
                [v as u8; 3]
            })
            .collect();
        Frame::from_rgb24_to_yuv420(&rgb, 64, 64, 0, Timestamp::zero()).unwrap()
    }

    #[test]
    fn normal_frames_pass_untouched_dark_and_flat_ones_are_stretched() {
        let day = gradient(0, 255);
        assert!(matches!(for_detection(&day), Cow::Borrowed(_)));
        let night = gradient(10, 70);
        let (lo, _, hi) = luma_percentiles(&night);
        assert!(hi - lo < MIN_SPAN);
        let s = for_detection(&night);
        let (slo, _, shi) = luma_percentiles(&s);
        assert!(slo <= 20 && shi >= 230, "stretched to {slo}..{shi}");
        // The chroma of a flat gradient is flat: smoothing leaves it as it was.
        assert_eq!(s.planes[1], night.planes[1]);
    }

    #[test]
    fn stretched_frames_are_smoothed_first() {
        // Dark noise: alternating 20/60 pixels average out to 40 before the stretch.
        let rgb: Vec<u8> = (0..64 * 64)
            .flat_map(|i| [if (i + i / 64) % 2 == 0 { 20 } else { 60 }; 3])
            .collect();
        let noisy = Frame::from_rgb24_to_yuv420(&rgb, 64, 64, 0, Timestamp::zero()).unwrap();
        let s = for_detection(&noisy);
        let inner: Vec<u8> = (1..63)
            .flat_map(|y| s.planes[0].row(y)[1..63].to_vec())
            .collect();
        let (min, max) = (inner.iter().min().unwrap(), inner.iter().max().unwrap());
        // A 3x3 window of a checkerboard holds 4 or 5 bright pixels: neighbours differ by
        // one ninth of the 40-level swing, stretched; unsmoothed they would span 16..235.
        assert!(
            max - min < 120,
            "smoothed and stretched luma spans {min}..{max}"
        );
    }

    #[test]
    fn dark_person_boxes_grow_by_a_share_of_their_height_within_the_frame() {
        let det = |class, x, y, w, h| Detection {
            rect: Rect::new(x, y, w, h),
            score: 0.5,
            class,
            landmarks: None,
        };
        let mut dets = vec![
            det(ObjectClass::Person, 100.0, 20.0, 40.0, 100.0),
            det(ObjectClass::Person, 2.0, 150.0, 20.0, 50.0),
            det(ObjectClass::Face, 300.0, 100.0, 20.0, 20.0),
        ];
        let day = Frame::from_rgb24_to_yuv420(
            &(0..640 * 200 * 3)
                .map(|i| (i % 256) as u8)
                .collect::<Vec<_>>(),
            640,
            200,
            0,
            Timestamp::zero(),
        )
        .unwrap();
        let seen = for_detection(&day);
        assert!(matches!(seen, Cow::Borrowed(_)));
        let before = dets.clone();
        widen_dark_boxes(&seen, &mut dets);
        assert_eq!(dets, before, "a frame passed on untouched keeps its boxes");
        widen_dark_boxes(&Cow::Owned(day.clone()), &mut dets);
        // 6% of 100 px on every side, the narrow side too.
        assert_eq!(dets[0].rect, Rect::new(94.0, 14.0, 52.0, 112.0));
        // Cut at the frame's left and bottom edges.
        let r = dets[1].rect;
        assert!((r.x, r.y, r.bottom()) == (0.0, 147.0, 200.0), "{r:?}");
        // Faces are left as they are.
        assert_eq!(dets[2].rect, Rect::new(300.0, 100.0, 20.0, 20.0));
    }

    #[test]
    fn smoothing_averages_a_3x3_window_and_keeps_alpha() {
        let mut src = Plane::zeroed(3 * 4, 3);
        src.row_mut(1)[4..8].copy_from_slice(&[90, 180, 45, 7]);
        let mut dst = src.clone();
        smooth3(&src, &mut dst, 3, 3, 4);
        // Every pixel's window holds the centre once: 90/9, 180/9, 45/9; alpha untouched.
        assert_eq!(&dst.row(0)[0..4], &[10, 20, 5, 0]);
        assert_eq!(&dst.row(1)[4..8], &[10, 20, 5, 7]);
    }
}
