//! Conversions between FFmpeg's types and obscura-core's.

use ffmpeg_next as ff;
use obscura_core::{Frame, PixelFormat, Plane, Rational, Timestamp};

/// FFmpeg rational to a core [`Rational`]; `None` when zero, invalid or negative.
pub(crate) fn rational(r: ff::Rational) -> Option<Rational> {
    if r.numerator() <= 0 || r.denominator() <= 0 {
        return None;
    }
    Rational::new(r.numerator(), r.denominator()).ok()
}

/// Core rational to FFmpeg's.
pub(crate) fn ff_rational(r: Rational) -> ff::Rational {
    ff::Rational::new(r.num(), r.den())
}

/// A stream timestamp (`AV_NOPTS_VALUE` gives `None`).
pub(crate) fn timestamp(ticks: i64, tb: Rational) -> Option<Timestamp> {
    (ticks != ff::ffi::AV_NOPTS_VALUE).then(|| Timestamp::new(ticks, tb))
}

/// Copies a decoded YUV420P picture into a compact [`Frame`] (stride == row bytes).
pub(crate) fn frame_from_yuv420p(src: &ff::frame::Video, index: u64, pts: Timestamp) -> Frame {
    let (w, h) = (src.width(), src.height());
    let planes = (0..3)
        .map(|i| {
            let (pw, ph, _) = PixelFormat::Yuv420p.plane_dims(i, w as usize, h as usize);
            let stride = src.stride(i);
            let data = src.data(i);
            let mut out = Vec::with_capacity(pw * ph);
            for y in 0..ph {
                out.extend_from_slice(&data[y * stride..y * stride + pw]);
            }
            Plane {
                data: out,
                stride: pw,
                row_bytes: pw,
                height: ph,
            }
        })
        .collect();
    Frame {
        index,
        pts,
        width: w,
        height: h,
        format: PixelFormat::Yuv420p,
        planes,
    }
}

/// Copies a YUV420P [`Frame`] into an FFmpeg frame of the same size or one pixel wider
/// and/or taller (allocated by the caller); the extra column and row repeat the edge.
pub(crate) fn fill_yuv420p(dst: &mut ff::frame::Video, frame: &Frame) {
    let (dw, dh) = (dst.width() as usize, dst.height() as usize);
    for i in 0..3 {
        let plane = &frame.planes[i];
        let (pw, ph, _) = PixelFormat::Yuv420p.plane_dims(i, dw, dh);
        let stride = dst.stride(i);
        let data = dst.data_mut(i);
        for y in 0..ph {
            let src = plane.row(y.min(plane.height - 1));
            let row = &mut data[y * stride..y * stride + pw];
            row[..src.len()].copy_from_slice(src);
            let edge = src[src.len() - 1];
            row[src.len()..].fill(edge);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rationals_round_trip_and_reject_zero() {
        let r = rational(ff::Rational::new(2, 20)).unwrap();
        assert_eq!((r.num(), r.den()), (1, 10));
        assert_eq!(ff_rational(r), ff::Rational::new(1, 10));
        assert!(rational(ff::Rational::new(0, 1)).is_none());
        assert!(rational(ff::Rational::new(1, 0)).is_none());
    }

    #[test]
    fn yuv_copy_round_trip_with_odd_size() {
        let tb = Rational::new(1, 10).unwrap();
        let mut f = Frame::black(PixelFormat::Yuv420p, 5, 3, 7, Timestamp::new(7, tb));
        for (i, p) in f.planes.iter_mut().enumerate() {
            for (j, b) in p.data.iter_mut().enumerate() {
                *b = (i * 50 + j) as u8;
            }
        }
        let mut v = ff::frame::Video::new(ff::format::Pixel::YUV420P, 5, 3);
        fill_yuv420p(&mut v, &f);
        let back = frame_from_yuv420p(&v, 7, Timestamp::new(7, tb));
        assert_eq!(back, f);
        // Padded to 6x4: the extra column and row repeat the edge pixels.
        let mut padded = ff::frame::Video::new(ff::format::Pixel::YUV420P, 6, 4);
        fill_yuv420p(&mut padded, &f);
        let p = frame_from_yuv420p(&padded, 7, Timestamp::new(7, tb));
        assert_eq!(p.planes[0].row(0), &[0, 1, 2, 3, 4, 4]);
        assert_eq!(p.planes[0].row(3), &[10, 11, 12, 13, 14, 14]);
        assert_eq!(p.planes[1].row(1), f.planes[1].row(1));
    }
}
