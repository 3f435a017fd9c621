//! Resource limits for untrusted media (after image-rs `io/limits.rs`).

use std::path::Path;
use std::time::Duration;

use crate::error::{Error, LimitKind};

/// Upper bounds checked when a file is opened (from the container's claims) and again
/// while decoding (from what the frames really are). Exceeding one is
/// [`Error::LimitExceeded`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Maximum picture width in pixels (default 8192).
    pub max_width: u32,
    /// Maximum picture height in pixels (default 8192).
    pub max_height: u32,
    /// Maximum pixels per picture (default 8192 x 8192).
    pub max_pixels: u64,
    /// Maximum number of frames decoded from one file (default 24 h at 120 fps).
    pub max_frames: u64,
    /// Maximum media duration (default 24 hours).
    pub max_duration: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_width: 8192,
            max_height: 8192,
            max_pixels: 8192 * 8192,
            max_frames: 24 * 3600 * 120,
            max_duration: Duration::from_secs(24 * 3600),
        }
    }
}

impl Limits {
    /// No practical limit (every maximum at its type's largest value). For trusted input only.
    pub fn unlimited() -> Self {
        Self {
            max_width: u32::MAX,
            max_height: u32::MAX,
            max_pixels: u64::MAX,
            max_frames: u64::MAX,
            max_duration: Duration::MAX,
        }
    }

    /// Sets the maximum width and height.
    pub fn with_max_dimensions(mut self, width: u32, height: u32) -> Self {
        self.max_width = width;
        self.max_height = height;
        self
    }

    /// Sets the maximum pixels per picture.
    pub fn with_max_pixels(mut self, pixels: u64) -> Self {
        self.max_pixels = pixels;
        self
    }

    /// Sets the maximum number of frames.
    pub fn with_max_frames(mut self, frames: u64) -> Self {
        self.max_frames = frames;
        self
    }

    /// Sets the maximum duration.
    pub fn with_max_duration(mut self, duration: Duration) -> Self {
        self.max_duration = duration;
        self
    }

    /// Checks a picture size.
    pub fn check_dimensions(&self, path: &Path, width: u32, height: u32) -> Result<(), Error> {
        let over = |kind, value: u64, max: u64| Error::LimitExceeded {
            path: path.to_path_buf(),
            kind,
            value,
            max,
        };
        if width > self.max_width {
            return Err(over(LimitKind::Width, width.into(), self.max_width.into()));
        }
        if height > self.max_height {
            return Err(over(
                LimitKind::Height,
                height.into(),
                self.max_height.into(),
            ));
        }
        let pixels = u64::from(width) * u64::from(height);
        if pixels > self.max_pixels {
            return Err(over(LimitKind::Pixels, pixels, self.max_pixels));
        }
        Ok(())
    }

    /// Checks a frame count (the number of frames decoded so far, or a container's claim).
    pub fn check_frames(&self, path: &Path, frames: u64) -> Result<(), Error> {
        if frames > self.max_frames {
            return Err(Error::LimitExceeded {
                path: path.to_path_buf(),
                kind: LimitKind::Frames,
                value: frames,
                max: self.max_frames,
            });
        }
        Ok(())
    }

    /// Checks a duration in seconds (negative values pass).
    pub fn check_duration(&self, path: &Path, secs: f64) -> Result<(), Error> {
        if secs.is_finite() && secs > self.max_duration.as_secs_f64() {
            let ms = |s: f64| (s * 1000.0).min(u64::MAX as f64) as u64;
            return Err(Error::LimitExceeded {
                path: path.to_path_buf(),
                kind: LimitKind::DurationMillis,
                value: ms(secs),
                max: u64::try_from(self.max_duration.as_millis()).unwrap_or(u64::MAX),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_accept_4k_and_reject_oversize() {
        let l = Limits::default();
        let p = Path::new("clip.mp4");
        assert!(l.check_dimensions(p, 3840, 2160).is_ok());
        assert!(l.check_dimensions(p, 8192, 8192).is_ok());
        let e = l.check_dimensions(p, 8193, 10).unwrap_err();
        assert!(
            matches!(
                e,
                Error::LimitExceeded {
                    kind: LimitKind::Width,
                    value: 8193,
                    max: 8192,
                    ..
                }
            ),
            "{e}"
        );
        let e = l.check_dimensions(p, 10, 9000).unwrap_err();
        assert!(matches!(
            e,
            Error::LimitExceeded {
                kind: LimitKind::Height,
                value: 9000,
                ..
            }
        ));
    }

    #[test]
    fn pixel_frame_and_duration_limits() {
        let l = Limits::default()
            .with_max_pixels(100)
            .with_max_frames(5)
            .with_max_duration(Duration::from_secs(2));
        let p = Path::new("x.avi");
        let e = l.check_dimensions(p, 20, 6).unwrap_err();
        assert!(matches!(
            e,
            Error::LimitExceeded {
                kind: LimitKind::Pixels,
                value: 120,
                max: 100,
                ..
            }
        ));
        assert!(l.check_frames(p, 5).is_ok());
        assert!(matches!(
            l.check_frames(p, 6),
            Err(Error::LimitExceeded {
                kind: LimitKind::Frames,
                value: 6,
                ..
            })
        ));
        assert!(l.check_duration(p, 2.0).is_ok());
        let e = l.check_duration(p, 2.5).unwrap_err();
        assert!(matches!(
            e,
            Error::LimitExceeded {
                kind: LimitKind::DurationMillis,
                value: 2500,
                max: 2000,
                ..
            }
        ));
        assert!(
            e.to_string()
                .starts_with("x.avi: duration (ms) 2500 exceeds"),
            "{e}"
        );
    }

    #[test]
    fn unlimited_accepts_everything() {
        let l = Limits::unlimited();
        let p = Path::new("y");
        assert!(l.check_dimensions(p, u32::MAX, u32::MAX).is_ok());
        assert!(l.check_frames(p, u64::MAX).is_ok());
        assert!(l.check_duration(p, 1e12).is_ok());
    }
}
