//! Thumbnails and contact sheets, the one place Obscura crops, scales and lays out pictures
//! for people to look at: the sheet of a redacted output ([`contact_sheet`]), the dry-run
//! sheet of masked frames (the pipeline's sheet sink), the per-person sheet of `obscura
//! tracks --sheet` ([`people_sheet`]), the review page's close-ups and the report's frame
//! thumbnails ([`close_up`], [`scale_to_width`], [`jpeg`]).

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::Path;

use image::{Rgb, RgbImage, imageops};
use obscura_core::{Frame, ObjectClass, Rect};
use obscura_media::{DecodeOptions, Decoder};
use obscura_track::{BoxRecord, IdentityRecord, TrackSet, TrackletRecord};

use crate::error::{At, Error, Stage};
use crate::font::draw_text;

/// Background of every sheet.
const BACKGROUND: Rgb<u8> = Rgb([40, 40, 40]);
/// Space around and between the tiles of a [`Grid`].
pub const GAP: u32 = 4;

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

/// A decoded frame as packed RGB; `None` when its planes do not fit its size.
pub fn rgb(frame: &Frame) -> Option<RgbImage> {
    RgbImage::from_raw(frame.width, frame.height, frame.to_rgb24())
}

/// `img` scaled to exactly `w` x `h` (triangle filter, as every thumbnail is).
pub fn resize(img: &RgbImage, w: u32, h: u32) -> RgbImage {
    imageops::resize(img, w, h, imageops::FilterType::Triangle)
}

/// `img` scaled to `width` pixels wide, the height in proportion (at least 1).
pub fn scale_to_width(img: &RgbImage, width: u32) -> RgbImage {
    let h = (u64::from(img.height()) * u64::from(width) / u64::from(img.width().max(1))).max(1);
    resize(img, width, h as u32)
}

/// The tile size of a grid sheet for `width` x `height` frames asked at `thumb_width`
/// pixels wide: the width clamped to 16..=4096 and to the frame's, the height in proportion.
pub fn tile_size(width: u32, height: u32, thumb_width: u32) -> (u32, u32) {
    let tw = thumb_width.clamp(16, 4096).min(width.max(16));
    let th = ((u64::from(height) * u64::from(tw)) / u64::from(width.max(1))).max(1) as u32;
    (tw, th)
}

/// A sheet of equal tiles, 4 per row, [`GAP`] pixels around each, `label_h` pixels under
/// each tile for a caption, on a dark grey background.
#[derive(Debug, Clone)]
pub struct Grid {
    canvas: RgbImage,
    cols: u32,
    tile: (u32, u32),
    label_h: u32,
}

impl Grid {
    /// Room for `count` tiles of `tile` (width, height) with `label_h` caption rows.
    pub fn new(count: usize, tile: (u32, u32), label_h: u32) -> Self {
        let (tw, th) = tile;
        let cols = 4u32.min(count.max(1) as u32);
        let rows = (count as u32).div_ceil(cols).max(1);
        let canvas = RgbImage::from_pixel(
            cols * (tw + GAP) + GAP,
            rows * (th + label_h + GAP) + GAP,
            BACKGROUND,
        );
        Grid {
            canvas,
            cols,
            tile,
            label_h,
        }
    }

    /// The tile size.
    pub fn tile(&self) -> (u32, u32) {
        self.tile
    }

    /// Scales `img` to the tile size, puts it in tile `k` (row by row) and returns the
    /// tile's top-left corner.
    pub fn place(&mut self, k: usize, img: &RgbImage) -> (u32, u32) {
        let (tw, th) = self.tile;
        let k = k as u32;
        let (x, y) = (
            GAP + (k % self.cols) * (tw + GAP),
            GAP + (k / self.cols) * (th + self.label_h + GAP),
        );
        imageops::replace(
            &mut self.canvas,
            &resize(img, tw, th),
            i64::from(x),
            i64::from(y),
        );
        (x, y)
    }

    /// The sheet drawn so far, to write captions on.
    pub fn canvas_mut(&mut self) -> &mut RgbImage {
        &mut self.canvas
    }

    /// The finished sheet.
    pub fn into_image(self) -> RgbImage {
        self.canvas
    }
}

/// The part of `frame` inside `rect` widened by 10% plus `grow` pixels each side, clipped
/// to the frame; `None` when nothing of it is inside.
pub fn close_up(frame: &RgbImage, rect: &Rect, grow: f32) -> Option<RgbImage> {
    let p = rect
        .dilate(0.1, grow)
        .to_pixels(frame.width(), frame.height())?;
    Some(imageops::crop_imm(frame, p.x, p.y, p.w, p.h).to_image())
}

/// `img` scaled to fit `max_w` x `max_h`, keeping its shape, at most `max_scale` times up.
pub fn fit(img: &RgbImage, max_w: u32, max_h: u32, max_scale: f32) -> RgbImage {
    let s = (max_w as f32 / img.width() as f32)
        .min(max_h as f32 / img.height() as f32)
        .min(max_scale);
    let (w, h) = (
        ((img.width() as f32 * s) as u32).clamp(1, max_w),
        ((img.height() as f32 * s) as u32).clamp(1, max_h),
    );
    resize(img, w, h)
}

/// The whole frame scaled to fit `max_w` x `max_h`, `rect` drawn on it (yellow, 2 px).
pub fn scene(frame: &RgbImage, rect: &Rect, max_w: u32, max_h: u32) -> RgbImage {
    let s = (max_w as f32 / frame.width() as f32).min(max_h as f32 / frame.height() as f32);
    let (w, h) = (
        ((frame.width() as f32 * s) as u32).clamp(1, max_w),
        ((frame.height() as f32 * s) as u32).clamp(1, max_h),
    );
    let mut img = resize(frame, w, h);
    let (x0, y0) = ((rect.x * s).max(0.0) as u32, (rect.y * s).max(0.0) as u32);
    let (x1, y1) = (
        ((rect.x + rect.w) * s) as u32,
        ((rect.y + rect.h) * s) as u32,
    );
    let (x1, y1) = (x1.min(w - 1).max(x0), y1.min(h - 1).max(y0));
    for t in 0..2u32 {
        for x in x0..=x1 {
            for y in [y0.saturating_sub(t), (y1 + t).min(h - 1)] {
                img.put_pixel(x, y, Rgb([255, 230, 0]));
            }
        }
        for y in y0..=y1 {
            for x in [x0.saturating_sub(t), (x1 + t).min(w - 1)] {
                img.put_pixel(x, y, Rgb([255, 230, 0]));
            }
        }
    }
    img
}

/// `img` as JPEG at `quality` (1-100).
pub fn jpeg(img: &RgbImage, quality: u8) -> Result<Vec<u8>, String> {
    let mut out = Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(img)
        .map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

/// `img` as PNG.
pub fn png(img: &RgbImage) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    Ok(out)
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
    let mut grid = Grid::new(wanted.len(), tile_size(w, h, thumb_width), 0);
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
        let rgb = rgb(&frame).ok_or_else(|| fail(Stage::Write, At::NONE, "bad frame".into()))?;
        grid.place(shown.len(), &rgb);
        shown.push(frame.index);
    }
    crate::still::write_png(sheet, &grid.into_image())
        .map_err(|e| fail(Stage::Write, At::NONE, format!("{}: {e}", sheet.display())))?;
    Ok(shown)
}

/// `M:SS.d` or `H:MM:SS.d` of a time in seconds (to the tenth), as sheet captions and track
/// summaries write it.
pub fn clock_tenths(secs: f64) -> String {
    let tenths = (secs.max(0.0) * 10.0).round() as u64;
    let (h, m, s, d) = (
        tenths / 36000,
        tenths / 600 % 60,
        tenths / 10 % 60,
        tenths % 10,
    );
    if h > 0 {
        format!("{h}:{m:02}:{s:02}.{d}")
    } else {
        format!("{m}:{s:02}.{d}")
    }
}

const SCENE_W: u32 = 320;
const CROP_W: u32 = 120;
const THUMB_H: u32 = 240;
const LABEL_H: u32 = 52;
const COLUMNS: u32 = 3;

/// The box shown for a person: their tallest well-scored detected box (score at least 90% of
/// their best), ties the earliest.
fn pick_box<'a>(set: &'a TrackSet, person: &IdentityRecord) -> Option<&'a BoxRecord> {
    let boxes: Vec<&BoxRecord> = person
        .tracklets
        .iter()
        .filter_map(|tl| set.track(tl.track).map(|t| (tl, t)))
        .flat_map(|(tl, t)| {
            t.boxes.iter().filter(move |b| {
                !b.predicted && b.frame >= tl.first_frame && b.frame <= tl.last_frame
            })
        })
        .collect();
    let best = boxes.iter().map(|b| b.score).fold(0.0f32, f32::max);
    boxes
        .into_iter()
        .filter(|b| b.score >= 0.9 * best)
        .fold(None, |acc: Option<&BoxRecord>, b| match acc {
            Some(a) if a.h >= b.h => Some(a),
            _ => Some(b),
        })
}

/// The per-person sheet of `obscura tracks --sheet`: one cell per person (identity, ordered
/// by id): the frame they are seen best on, scaled, with their box drawn, beside a close-up;
/// the id, time range and tracklet count below. Without identities, one cell per person
/// track. Decodes `input` once more.
pub fn people_sheet(input: &Path, set: &TrackSet) -> Result<RgbImage, Error> {
    let fail = |e: String| Error::stage(input, Stage::Decode, At::NONE, e);
    let people: Vec<IdentityRecord> = if set.identities.is_empty() {
        set.tracks
            .iter()
            .filter(|t| t.class == ObjectClass::Person)
            .map(|t| IdentityRecord {
                id: t.id,
                tracklets: vec![TrackletRecord {
                    track: t.id,
                    first_frame: t.first_frame,
                    last_frame: t.last_frame,
                    first_pts: t.first_pts,
                    last_pts: t.last_pts,
                    samples: 0,
                }],
                first_frame: t.first_frame,
                last_frame: t.last_frame,
                first_pts: t.first_pts,
                last_pts: t.last_pts,
            })
            .collect()
    } else {
        set.identities.clone()
    };
    let picks: Vec<Option<&BoxRecord>> = people.iter().map(|p| pick_box(set, p)).collect();
    let mut wanted: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, b) in picks.iter().enumerate() {
        if let Some(b) = b {
            wanted.entry(b.frame).or_default().push(i);
        }
    }
    let mut cells: Vec<Option<(RgbImage, RgbImage)>> = vec![None; people.len()];
    if let Some(&last) = wanted.keys().last() {
        let mut dec =
            Decoder::open(input, &DecodeOptions::default()).map_err(|e| fail(e.to_string()))?;
        while let Some(frame) = dec.next_frame().map_err(|e| fail(e.to_string()))? {
            if let Some(list) = wanted.get(&frame.index) {
                let rgb = rgb(&frame).ok_or_else(|| fail("frame size".into()))?;
                for &i in list {
                    let b = picks[i].expect("wanted only with a box");
                    cells[i] = Some((
                        scene(&rgb, &b.rect(), SCENE_W, THUMB_H),
                        close_up(&rgb, &b.rect(), 2.0)
                            .map_or_else(|| RgbImage::new(1, 1), |c| fit(&c, CROP_W, THUMB_H, 4.0)),
                    ));
                }
            }
            if frame.index >= last {
                break;
            }
        }
    }
    let cols = COLUMNS.min(people.len().max(1) as u32);
    let rows = (people.len() as u32).div_ceil(cols).max(1);
    let (cw, ch) = (SCENE_W + CROP_W + 12, THUMB_H + LABEL_H + 8);
    let mut sheet = RgbImage::from_pixel(cols * cw + 8, rows * ch + 8, BACKGROUND);
    if people.is_empty() {
        draw_text(&mut sheet, 16, 16, "-", 3, Rgb([255, 255, 255]));
    }
    for (i, p) in people.iter().enumerate() {
        let (cx, cy) = (8 + (i as u32 % cols) * cw, 8 + (i as u32 / cols) * ch);
        for y in 0..THUMB_H {
            for x in 0..SCENE_W + CROP_W + 4 {
                sheet.put_pixel(cx + x, cy + y, Rgb([0, 0, 0]));
            }
        }
        if let Some((sc, th)) = &cells[i] {
            imageops::overlay(
                &mut sheet,
                sc,
                i64::from(cx),
                i64::from(cy + (THUMB_H - sc.height()) / 2),
            );
            let (ox, oy) = (
                cx + SCENE_W + 4 + (CROP_W - th.width()) / 2,
                cy + (THUMB_H - th.height()) / 2,
            );
            imageops::overlay(&mut sheet, th, i64::from(ox), i64::from(oy));
        }
        let label = if set.identities.is_empty() {
            format!("#{}", p.id)
        } else {
            format!("#{} {}T", p.id, p.tracklets.len())
        };
        draw_text(
            &mut sheet,
            cx + 2,
            cy + THUMB_H + 4,
            &label,
            3,
            Rgb([255, 255, 80]),
        );
        // As many time ranges as fit the cell (glyphs 12 px wide at scale 2), then "+N more".
        let fit = ((cw - 6) / 12) as usize;
        let mut line = String::new();
        for (k, t) in p.tracklets.iter().enumerate() {
            let range = format!(
                "{}{}-{}",
                if k == 0 { "" } else { " " },
                clock_tenths(t.first_pts),
                clock_tenths(t.last_pts)
            );
            let rest = p.tracklets.len() - k - 1;
            let tail = if rest == 0 {
                0
            } else {
                format!(" +{rest}").len()
            };
            if line.len() + range.len() + tail > fit {
                line.push_str(&format!(" +{}", p.tracklets.len() - k));
                break;
            }
            line.push_str(&range);
        }
        draw_text(
            &mut sheet,
            cx + 2,
            cy + THUMB_H + 32,
            &line,
            2,
            Rgb([230, 230, 230]),
        );
    }
    Ok(sheet)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_formats_minutes_and_hours() {
        assert_eq!(clock_tenths(0.0), "0:00.0");
        assert_eq!(clock_tenths(75.26), "1:15.3");
        assert_eq!(clock_tenths(3725.0), "1:02:05.0");
    }

    #[test]
    fn tiles_scale_and_lay_out_four_per_row() {
        assert_eq!(tile_size(1920, 1080, 320), (320, 180));
        assert_eq!(tile_size(64, 48, 320), (64, 48));
        assert_eq!(tile_size(640, 480, 1), (16, 12));
        let mut g = Grid::new(6, (10, 8), 5);
        assert_eq!(
            g.place(0, &RgbImage::from_pixel(20, 16, Rgb([200, 0, 0]))),
            (GAP, GAP)
        );
        assert_eq!(
            g.place(5, &RgbImage::new(3, 3)),
            (GAP + 10 + GAP, GAP + 8 + 5 + GAP)
        );
        let img = g.into_image();
        assert_eq!(
            img.dimensions(),
            (4 * (10 + GAP) + GAP, 2 * (8 + 5 + GAP) + GAP)
        );
        assert_eq!(img.get_pixel(GAP + 5, GAP + 4)[0], 200);
        assert_eq!(*img.get_pixel(0, 0), BACKGROUND);
        assert_eq!(
            Grid::new(2, (10, 8), 0).into_image().width(),
            2 * (10 + GAP) + GAP
        );
    }

    #[test]
    fn crops_fit_and_scale_keep_the_shape() {
        let frame = RgbImage::from_fn(200, 100, |x, _| Rgb([x as u8, 0, 0]));
        let c = close_up(&frame, &Rect::new(50.0, 20.0, 20.0, 40.0), 2.0).unwrap();
        // 10% of the box plus 2 px, each side.
        assert_eq!(c.dimensions(), (28, 52));
        assert_eq!(c.get_pixel(0, 0)[0], 46);
        assert!(close_up(&frame, &Rect::new(500.0, 20.0, 20.0, 40.0), 2.0).is_none());
        assert_eq!(fit(&c, 120, 240, 4.0).dimensions(), (112, 208));
        assert_eq!(fit(&c, 14, 240, 4.0).dimensions(), (14, 26));
        assert_eq!(scale_to_width(&frame, 50).dimensions(), (50, 25));
        let sc = scene(&frame, &Rect::new(50.0, 20.0, 20.0, 40.0), 100, 100);
        assert_eq!(sc.dimensions(), (100, 50));
        assert_eq!(*sc.get_pixel(25, 10), Rgb([255, 230, 0]));
        let j = jpeg(&sc, 80).unwrap();
        assert_eq!(&j[..2], &[0xff, 0xd8]);
        assert_eq!(&png(&sc).unwrap()[1..4], b"PNG");
    }

    #[test]
    fn samples_are_even_and_include_both_ends() {
        assert_eq!(sample_indexes(100, 5), vec![0, 24, 49, 74, 99]);
        assert_eq!(sample_indexes(3, 12), vec![0, 1, 2]);
        assert_eq!(sample_indexes(1, 12), vec![0]);
        assert!(sample_indexes(0, 12).is_empty());
    }
}
