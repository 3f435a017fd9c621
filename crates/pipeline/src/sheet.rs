//! Contact sheets of a redacted output: evenly spaced frames of the *written* file, decoded
//! again, so an operator can check the masking without playing the video.

use std::path::Path;

use image::RgbImage;
use obscura_media::{DecodeOptions, Decoder};

use crate::error::{At, Error, Stage};

/// The frame indexes sampled from `frames` frames: `count` evenly spaced, first and last
/// included (fewer when the clip is shorter).
pub fn sample_indexes(frames: u64, count: usize) -> Vec<u64> {
    if frames == 0 || count == 0 {
        return Vec::new();
    }
    let n = (count as u64).min(frames);
    if n == 1 {
        return vec![0];
    }
    (0..n).map(|i| i * (frames - 1) / (n - 1)).collect()
}

/// Decodes `video` and writes a PNG grid of `count` evenly spaced frames (4 per row, each
/// `thumb_width` pixels wide) to `sheet`, atomically. Returns the frame indexes shown.
pub fn contact_sheet(
    video: &Path,
    frames: u64,
    sheet: &Path,
    count: usize,
    thumb_width: u32,
) -> Result<Vec<u64>, Error> {
    let fail = |stage: Stage, at: At, e: String| Error::stage(video, stage, at, e);
    let wanted = sample_indexes(frames, count);
    let mut dec = Decoder::open(video, &DecodeOptions::default())
        .map_err(|e| fail(Stage::Decode, At::NONE, e.to_string()))?;
    let (w, h) = (dec.info().width, dec.info().height);
    let tw = thumb_width.clamp(16, 4096).min(w.max(16));
    let th = ((u64::from(h) * u64::from(tw)) / u64::from(w.max(1))).max(1) as u32;
    let cols = 4u32.min(wanted.len().max(1) as u32);
    let rows = (wanted.len() as u32).div_ceil(cols).max(1);
    let gap = 4;
    let mut canvas = RgbImage::from_pixel(
        cols * (tw + gap) + gap,
        rows * (th + gap) + gap,
        image::Rgb([40, 40, 40]),
    );
    let mut shown = Vec::new();
    let mut next = wanted.iter().peekable();
    while let Some(&&target) = next.peek() {
        let Some(frame) = dec.next_frame().map_err(|e| {
            fail(
                Stage::Decode,
                At {
                    frame: Some(dec.frames_decoded()),
                    time: None,
                },
                e.to_string(),
            )
        })?
        else {
            break;
        };
        if frame.index != target {
            continue;
        }
        next.next();
        let rgb = RgbImage::from_raw(frame.width, frame.height, frame.to_rgb24())
            .ok_or_else(|| fail(Stage::Write, At::NONE, "bad frame".into()))?;
        let thumb = image::imageops::resize(&rgb, tw, th, image::imageops::FilterType::Triangle);
        let k = shown.len() as u32;
        let (x, y) = (gap + (k % cols) * (tw + gap), gap + (k / cols) * (th + gap));
        image::imageops::replace(&mut canvas, &thumb, i64::from(x), i64::from(y));
        shown.push(frame.index);
    }
    crate::still::write_png(sheet, &canvas)
        .map_err(|e| fail(Stage::Write, At::NONE, format!("{}: {e}", sheet.display())))?;
    Ok(shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_even_and_include_both_ends() {
        assert_eq!(sample_indexes(100, 5), vec![0, 24, 49, 74, 99]);
        assert_eq!(sample_indexes(3, 12), vec![0, 1, 2]);
        assert_eq!(sample_indexes(1, 12), vec![0]);
        assert!(sample_indexes(0, 12).is_empty());
    }
}
