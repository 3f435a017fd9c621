//! Display orientation: the display matrix (or legacy `rotate` tag) of a video stream and
//! the EXIF-style transform it asks for, applied to decoded frames so every later stage
//! (detection, masks, encoding) works on the upright picture.
//!
//! FFmpeg's convention is followed exactly (`fftools`' autorotate): the angle is
//! `-round(av_display_rotation_get(matrix))` normalised to `[0, 360)`; 90 means "rotate
//! the decoded picture 90 degrees clockwise to display it", and the signs of the matrix
//! entries tell mirrored variants apart. Angles that are not a multiple of 90 degrees are
//! refused (fail closed) rather than ignored.

use obscura_core::{Frame, Plane};
use serde::Serialize;

/// One of the eight orientations of a picture (the dihedral group of the square): the
/// transform that turns a decoded (stored) picture into the displayed one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Orientation {
    /// Shown as stored.
    #[default]
    Identity,
    /// Rotate 90 degrees clockwise.
    Rotate90,
    /// Rotate 180 degrees.
    Rotate180,
    /// Rotate 270 degrees clockwise (90 counter-clockwise).
    Rotate270,
    /// Mirror left-right.
    FlipHorizontal,
    /// Mirror top-bottom.
    FlipVertical,
    /// Mirror about the main diagonal (rotate 90 counter-clockwise, then flip vertically).
    Transpose,
    /// Mirror about the anti-diagonal (rotate 90 clockwise, then flip vertically).
    Transverse,
}

impl Orientation {
    /// Whether width and height swap.
    pub fn swaps_dimensions(self) -> bool {
        matches!(
            self,
            Orientation::Rotate90
                | Orientation::Rotate270
                | Orientation::Transpose
                | Orientation::Transverse
        )
    }

    /// The clockwise display rotation in degrees (0, 90, 180 or 270), ignoring mirroring.
    pub fn degrees(self) -> u16 {
        match self {
            Orientation::Identity | Orientation::FlipHorizontal => 0,
            Orientation::Rotate90 | Orientation::Transpose => 90,
            Orientation::Rotate180 | Orientation::FlipVertical => 180,
            Orientation::Rotate270 | Orientation::Transverse => 270,
        }
    }

    /// Whether the transform mirrors the picture.
    pub fn mirrored(self) -> bool {
        matches!(
            self,
            Orientation::FlipHorizontal
                | Orientation::FlipVertical
                | Orientation::Transpose
                | Orientation::Transverse
        )
    }

    /// The picture size after the transform.
    pub fn display_size(self, width: u32, height: u32) -> (u32, u32) {
        if self.swaps_dimensions() {
            (height, width)
        } else {
            (width, height)
        }
    }

    /// A short description (`rotated 90° clockwise`, `mirrored`, `upright`).
    pub fn describe(self) -> &'static str {
        match self {
            Orientation::Identity => "upright",
            Orientation::Rotate90 => "rotated 90° clockwise",
            Orientation::Rotate180 => "rotated 180°",
            Orientation::Rotate270 => "rotated 270° clockwise",
            Orientation::FlipHorizontal => "mirrored left-right",
            Orientation::FlipVertical => "mirrored top-bottom",
            Orientation::Transpose => "transposed (rotated 90° counter-clockwise and mirrored)",
            Orientation::Transverse => "transversed (rotated 90° clockwise and mirrored)",
        }
    }

    /// The orientation asked for by a display matrix (nine 16.16/2.30 fixed-point entries,
    /// as FFmpeg stores them). `Err(angle)` when the angle is not a multiple of 90 degrees
    /// (or the matrix is degenerate: `NaN`).
    pub fn from_display_matrix(m: &[i32; 9]) -> Result<Self, f64> {
        let f = |i: usize| f64::from(m[i]) / 65536.0;
        let (s0, s1) = (f(0).hypot(f(3)), f(1).hypot(f(4)));
        if s0 == 0.0 || s1 == 0.0 {
            return Err(f64::NAN);
        }
        let rot = -(f(1) / s1).atan2(f(0) / s0).to_degrees();
        // fftools get_rotation: theta = -round(rotation), normalised to [0, 360).
        let mut theta = -rot.round();
        theta -= 360.0 * (theta / 360.0 + 0.9 / 360.0).floor();
        let near = |a: f64| (theta - a).abs() < 1.0;
        Ok(if near(90.0) {
            if m[3] > 0 {
                Orientation::Transpose
            } else {
                Orientation::Rotate90
            }
        } else if near(180.0) {
            match (m[0] < 0, m[4] < 0) {
                (true, true) => Orientation::Rotate180,
                (true, false) => Orientation::FlipHorizontal,
                (false, true) => Orientation::FlipVertical,
                (false, false) => Orientation::Identity,
            }
        } else if near(270.0) {
            if m[3] < 0 {
                Orientation::Transverse
            } else {
                Orientation::Rotate270
            }
        } else if near(0.0) || near(360.0) {
            if m[4] < 0 {
                Orientation::FlipVertical
            } else {
                Orientation::Identity
            }
        } else {
            return Err(theta);
        })
    }

    /// The orientation of a legacy `rotate` tag (clockwise degrees).
    pub fn from_rotate_tag(tag: &str) -> Result<Self, String> {
        let deg: i64 = tag.trim().parse().map_err(|_| tag.to_string())?;
        match deg.rem_euclid(360) {
            0 => Ok(Orientation::Identity),
            90 => Ok(Orientation::Rotate90),
            180 => Ok(Orientation::Rotate180),
            270 => Ok(Orientation::Rotate270),
            _ => Err(tag.to_string()),
        }
    }

    /// The orientation of an EXIF `Orientation` value (1..=8); others give `None`.
    pub fn from_exif(value: u16) -> Option<Self> {
        Some(match value {
            1 => Orientation::Identity,
            2 => Orientation::FlipHorizontal,
            3 => Orientation::Rotate180,
            4 => Orientation::FlipVertical,
            5 => Orientation::Transpose,
            6 => Orientation::Rotate90,
            7 => Orientation::Transverse,
            8 => Orientation::Rotate270,
            _ => return None,
        })
    }

    /// Source coordinates of output pixel `(ox, oy)` for a plane of `w` x `h` (source).
    #[inline]
    fn source_of(self, ox: usize, oy: usize, w: usize, h: usize) -> (usize, usize) {
        match self {
            Orientation::Identity => (ox, oy),
            Orientation::Rotate90 => (oy, h - 1 - ox),
            Orientation::Rotate180 => (w - 1 - ox, h - 1 - oy),
            Orientation::Rotate270 => (w - 1 - oy, ox),
            Orientation::FlipHorizontal => (w - 1 - ox, oy),
            Orientation::FlipVertical => (ox, h - 1 - oy),
            Orientation::Transpose => (oy, ox),
            Orientation::Transverse => (w - 1 - oy, h - 1 - ox),
        }
    }

    /// Applies the transform to a frame (any pixel format of whole bytes per sample:
    /// every plane is transformed with its own size, so 4:2:0 chroma stays aligned, also
    /// for odd sizes). Index and PTS are kept.
    pub fn apply(self, frame: Frame) -> Frame {
        if self == Orientation::Identity {
            return frame;
        }
        let (width, height) = self.display_size(frame.width, frame.height);
        let planes = frame
            .planes
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let (w, h, bpp) =
                    frame
                        .format
                        .plane_dims(i, frame.width as usize, frame.height as usize);
                let (ow, oh) = if self.swaps_dimensions() {
                    (h, w)
                } else {
                    (w, h)
                };
                let mut data = vec![0u8; ow * oh * bpp];
                for oy in 0..oh {
                    let row = &mut data[oy * ow * bpp..(oy + 1) * ow * bpp];
                    for ox in 0..ow {
                        let (sx, sy) = self.source_of(ox, oy, w, h);
                        let s = sy * p.stride + sx * bpp;
                        row[ox * bpp..(ox + 1) * bpp].copy_from_slice(&p.data[s..s + bpp]);
                    }
                }
                Plane {
                    data,
                    stride: ow * bpp,
                    row_bytes: ow * bpp,
                    height: oh,
                }
            })
            .collect();
        Frame {
            width,
            height,
            planes,
            ..frame
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use obscura_core::{PixelFormat, Timestamp};

    fn matrix(deg: f64, hflip: bool) -> [i32; 9] {
        // av_display_rotation_set(angle = -deg) (clockwise deg), then optional hflip.
        let r = (-deg).to_radians();
        let (c, s) = (r.cos(), r.sin());
        let fx = |v: f64| (v * 65536.0).round() as i32;
        let mut m = [fx(c), fx(-s), 0, fx(s), fx(c), 0, 0, 0, 1 << 30];
        if hflip {
            m[0] = -m[0];
            m[3] = -m[3];
        }
        m
    }

    #[test]
    fn display_matrices_map_like_ffmpeg() {
        assert_eq!(
            Orientation::from_display_matrix(&matrix(0.0, false)),
            Ok(Orientation::Identity)
        );
        // The matrix FFmpeg 5.1's MP4 muxer writes for `-metadata:s:v rotate=90` (ffprobe:
        // rotation=90, i.e. counter-clockwise); ffmpeg's autorotate turns it `cclock`.
        let m = [0, -65536, 0, 65536, 0, 0, 0, 0, 1 << 30];
        assert_eq!(
            Orientation::from_display_matrix(&m),
            Ok(Orientation::Rotate270)
        );
        assert_eq!(
            Orientation::from_display_matrix(&matrix(90.0, false)),
            Ok(Orientation::Rotate90)
        );
        assert_eq!(
            Orientation::from_display_matrix(&matrix(180.0, false)),
            Ok(Orientation::Rotate180)
        );
        assert_eq!(
            Orientation::from_display_matrix(&matrix(270.0, false)),
            Ok(Orientation::Rotate270)
        );
        assert_eq!(
            Orientation::from_display_matrix(&matrix(0.0, true)),
            Ok(Orientation::FlipHorizontal)
        );
        assert!(Orientation::from_display_matrix(&matrix(45.0, false)).is_err());
        assert!(Orientation::from_display_matrix(&[0; 9]).is_err());
        assert_eq!(
            Orientation::from_rotate_tag("-90"),
            Ok(Orientation::Rotate270)
        );
        assert!(Orientation::from_rotate_tag("30").is_err());
        assert_eq!(Orientation::from_exif(6), Some(Orientation::Rotate90));
        assert_eq!(Orientation::from_exif(9), None);
    }

    fn numbered(w: u32, h: u32) -> Frame {
        let mut f = Frame::black(PixelFormat::Yuv420p, w, h, 3, Timestamp::zero());
        for p in &mut f.planes {
            for (i, b) in p.data.iter_mut().enumerate() {
                *b = i as u8;
            }
        }
        f
    }

    #[test]
    fn rotations_move_pixels_where_they_belong_and_compose() {
        let f = numbered(5, 3);
        let r = Orientation::Rotate90.apply(f.clone());
        assert_eq!((r.width, r.height), (3, 5));
        r.validate().unwrap();
        // Clockwise: the top-left source pixel lands top-right; the bottom-left top-left.
        assert_eq!(r.planes[0].row(0), &[10, 5, 0]);
        assert_eq!(r.planes[0].row(4), &[14, 9, 4]);
        // Chroma of an odd size: 3x2 becomes 2x3.
        assert_eq!((r.planes[1].row_bytes, r.planes[1].height), (2, 3));
        let back = Orientation::Rotate270.apply(r);
        assert_eq!(back, f);
        let twice = Orientation::Rotate180.apply(Orientation::Rotate180.apply(f.clone()));
        assert_eq!(twice, f);
        for o in [
            Orientation::FlipHorizontal,
            Orientation::FlipVertical,
            Orientation::Transpose,
            Orientation::Transverse,
        ] {
            assert_eq!(o.apply(o.apply(f.clone())), f, "{o:?} is its own inverse");
        }
        let t = Orientation::Transpose.apply(f.clone());
        assert_eq!(t.planes[0].row(0), &[0, 5, 10]);
    }
}
