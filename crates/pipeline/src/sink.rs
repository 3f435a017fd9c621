//! Where a redaction pass's masked frames go: the video encoder, or, for a dry run, a
//! contact sheet of evenly spaced masked frames (nothing encoded), each tile labelled with its
//! frame number and source time.

use std::path::{Path, PathBuf};

use image::Rgb;
use obscura_core::{Frame, Timestamp};
use obscura_media::Encoder;

use crate::font::{draw_text, text_width};
use crate::sheet::{Grid, rgb, sample_indexes, tile_size};

/// What a dry run draws: how many tiles, how wide each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SheetSpec {
    /// Tiles (evenly spaced frames, first and last included).
    pub count: usize,
    /// Width of each tile in pixels.
    pub thumb_width: u32,
}

impl Default for SheetSpec {
    fn default() -> Self {
        SheetSpec {
            count: 12,
            thumb_width: 320,
        }
    }
}

/// The masked frames' destination (one per run, so the variants' sizes do not matter).
#[allow(clippy::large_enum_variant)]
pub(crate) enum Sink {
    /// Encoded into the output video.
    Video(Encoder),
    /// Sampled into a contact sheet (a dry run).
    Sheet(SheetSink),
}

impl Sink {
    /// Takes one masked frame.
    pub(crate) fn write(&mut self, frame: &Frame) -> Result<(), String> {
        match self {
            Sink::Video(e) => e.write(frame).map_err(|e| e.to_string()),
            Sink::Sheet(s) => s.write(frame),
        }
    }

    /// Frames taken so far.
    pub(crate) fn frames_written(&self) -> u64 {
        match self {
            Sink::Video(e) => e.frames_written(),
            Sink::Sheet(s) => s.taken,
        }
    }

    /// Publishes the output (atomically).
    pub(crate) fn finish(self) -> Result<(), String> {
        match self {
            Sink::Video(e) => e.finish().map(|_| ()).map_err(|e| e.to_string()),
            Sink::Sheet(s) => s.finish(),
        }
    }
}

/// A contact sheet being filled: 4 tiles per row, each a masked frame with `#INDEX HH:MM:SS.mmm`
/// (source time) below it.
pub(crate) struct SheetSink {
    path: PathBuf,
    wanted: Vec<u64>,
    grid: Grid,
    taken: u64,
    placed: usize,
}

const LABEL_H: u32 = 22;

/// `HH:MM:SS.mmm` of a time (rounded down to the millisecond).
pub fn clock_text(t: Timestamp) -> String {
    let ms = t
        .rescale_floor(obscura_core::Rational::new(1, 1000).expect("1/1000"))
        .ticks
        .max(0);
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

impl SheetSink {
    /// A sheet of `spec.count` tiles out of `frames` frames of `width` x `height`, written to
    /// `path` by [`Sink::finish`].
    pub(crate) fn new(
        path: &Path,
        frames: u64,
        width: u32,
        height: u32,
        spec: SheetSpec,
    ) -> SheetSink {
        let wanted = sample_indexes(frames, spec.count);
        let grid = Grid::new(
            wanted.len(),
            tile_size(width, height, spec.thumb_width),
            LABEL_H,
        );
        SheetSink {
            path: path.to_path_buf(),
            wanted,
            grid,
            taken: 0,
            placed: 0,
        }
    }

    fn write(&mut self, frame: &Frame) -> Result<(), String> {
        self.taken += 1;
        let Some(k) = self.wanted.iter().position(|&i| i == frame.index) else {
            return Ok(());
        };
        let rgb = rgb(frame).ok_or("bad frame")?;
        let (x, y) = self.grid.place(k, &rgb);
        let (tw, th) = self.grid.tile();
        let label = format!("#{} {}", frame.index, clock_text(frame.pts));
        let scale = if text_width(&label, 2) <= tw { 2 } else { 1 };
        draw_text(
            self.grid.canvas_mut(),
            x + 2,
            y + th + 4,
            &label,
            scale,
            Rgb([255, 255, 255]),
        );
        self.placed += 1;
        Ok(())
    }

    fn finish(self) -> Result<(), String> {
        crate::still::write_png(&self.path, &self.grid.into_image())
            .map_err(|e| format!("{}: {e}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sheet::GAP;

    #[test]
    fn clock_text_is_exact_to_the_millisecond() {
        assert_eq!(
            clock_text(Timestamp::from_millis(3_723_456)),
            "01:02:03.456"
        );
        assert_eq!(
            clock_text(Timestamp::new(
                1001,
                obscura_core::Rational::new(1, 30000).unwrap()
            )),
            "00:00:00.033"
        );
    }

    #[test]
    fn a_sheet_places_the_sampled_frames_with_labels() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.png");
        let mut s = SheetSink::new(
            &p,
            10,
            64,
            48,
            SheetSpec {
                count: 3,
                thumb_width: 64,
            },
        );
        for i in 0..10u64 {
            let mut f = Frame::black(
                obscura_core::PixelFormat::Yuv420p,
                64,
                48,
                i,
                Timestamp::from_millis(i as i64 * 100),
            );
            f.planes[0].data.fill(200);
            s.write(&f).unwrap();
        }
        assert_eq!((s.taken, s.placed), (10, 3));
        Sink::Sheet(s).finish().unwrap();
        let img = image::open(&p).unwrap().to_rgb8();
        assert_eq!(img.width(), 3 * (64 + GAP) + GAP);
        // A tile's pixel is the frame's grey, the label row has white text on the background.
        assert!(img.get_pixel(GAP + 10, GAP + 10)[0] > 150);
        let label_row = GAP + 48 + 4;
        assert!(
            (GAP..GAP + 64)
                .any(|x| (label_row..label_row + 14).any(|y| img.get_pixel(x, y)[0] == 255))
        );
    }
}
