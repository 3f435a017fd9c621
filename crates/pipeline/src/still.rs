//! Still images (JPEG/PNG alarm pictures): the same detector and policy, one frame, written
//! in the input's format with `image` (no metadata is copied), atomically.

use std::collections::BTreeSet;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use image::{DynamicImage, ImageFormat};
use obscura_core::atomic::PendingFile;
use obscura_core::{Frame, ObjectClass, PixelFormat, Timestamp};
use obscura_detect::reid::cosine;
use obscura_track::{TrackId, Tracker};

use crate::error::{At, Error, Stage};
use crate::policy::Candidate;
use crate::redact::Redactor;
use crate::report::RedactReport;
use crate::subject::{SubjectMatch, frame_from_image};

/// Whether `path` names a still image the pipeline handles (`.jpg`, `.jpeg`, `.png`).
pub fn is_still(path: &Path) -> bool {
    still_format(path).is_some()
}

/// The still format of a path, by its extension.
pub fn still_format(path: &Path) -> Option<ImageFormat> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "jpg" | "jpeg" => Some(ImageFormat::Jpeg),
        "png" => Some(ImageFormat::Png),
        _ => None,
    }
}

fn to_frame(img: &DynamicImage, keep_alpha: bool) -> Frame {
    if keep_alpha {
        let rgba = img.to_rgba8();
        let (w, h) = rgba.dimensions();
        let mut f = Frame::black(PixelFormat::Rgba, w, h, 0, Timestamp::zero());
        f.planes[0].data.copy_from_slice(rgba.as_raw());
        f
    } else {
        frame_from_image(img)
    }
}

/// Reads a still as a plain regular file (no FIFO or device can block it; see
/// [`obscura_media::open_regular_file`]) and turns it upright by its EXIF `Orientation`,
/// so detection, masks and the output all see the picture as a viewer shows it. The
/// output carries no EXIF, so it is written upright.
pub fn read_upright(input: &Path) -> Result<DynamicImage, String> {
    use image::ImageDecoder;
    let file = obscura_media::open_regular_file(input).map_err(|e| e.to_string())?;
    let reader = image::ImageReader::new(std::io::BufReader::new(file))
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    let mut decoder = reader.into_decoder().map_err(|e| e.to_string())?;
    // The declared size is checked before anything is allocated for it (a 100000 x 100000
    // PNG header must be refused, not abort the process on a 30 GB allocation).
    let (w, h) = decoder.dimensions();
    obscura_media::Limits::default()
        .check_dimensions(input, w, h)
        .map_err(|e| e.to_string())?;
    let orientation = decoder.orientation().map_err(|e| e.to_string())?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| e.to_string())?;
    img.apply_orientation(orientation);
    Ok(img)
}

impl Redactor {
    /// Redacts one still image into `output` (same format as the input unless `output`'s
    /// extension says otherwise; JPEG quality 92). `keep_at` points are matched without
    /// their time. Nothing is written on error.
    pub fn redact_still(&mut self, input: &Path, output: &Path) -> Result<RedactReport, Error> {
        let start = Instant::now();
        let fail = |stage: Stage, e: String| Error::stage(input, stage, At::NONE, e);
        let img = read_upright(input).map_err(|e| fail(Stage::Decode, e))?;
        let format = still_format(output)
            .or_else(|| still_format(input))
            .unwrap_or(ImageFormat::Png);
        let keep_alpha = format == ImageFormat::Png && img.color().has_alpha();
        let mut frame = to_frame(&img, keep_alpha);
        drop(img);
        let (detector, tracker_cfg, policy, keep_at, keep_like) = self.parts();
        let dets = detector
            .detect(&frame)
            .map_err(|e| Error::stage(input, Stage::Detect, At::frame(0, frame.pts), e))?;
        let mut tracker =
            Tracker::new(tracker_cfg).map_err(|e| fail(Stage::Track, e.to_string()))?;
        let update = tracker
            .step(0, Some(&dets))
            .map_err(|e| fail(Stage::Track, e.to_string()))?;
        let mut cands: Vec<Candidate> = update
            .tracks
            .iter()
            .map(|b| Candidate {
                track: Some(b.id),
                class: b.class,
                rect: b.rect,
                parent: b.parent,
            })
            .collect();
        let mut untracked = 0;
        for (i, d) in dets.iter().enumerate() {
            if !update.tracks.iter().any(|b| b.detection_index == Some(i)) {
                untracked += 1;
                cands.push(Candidate {
                    track: None,
                    class: d.class,
                    rect: d.rect,
                    parent: None,
                });
            }
        }
        let persons: Vec<&Candidate> = cands
            .iter()
            .filter(|c| c.class == ObjectClass::Person && c.track.is_some())
            .collect();
        let mut keep: BTreeSet<TrackId> = policy.keep().clone();
        for at in keep_at {
            let hit = persons
                .iter()
                .filter(|c| c.rect.contains_point(at.x, at.y))
                .min_by(|a, b| {
                    let d = |c: &Candidate| {
                        let (cx, cy) = c.rect.center();
                        (cx - at.x).powi(2) + (cy - at.y).powi(2)
                    };
                    d(a).total_cmp(&d(b))
                });
            match hit.and_then(|c| c.track) {
                Some(id) => {
                    keep.insert(id);
                }
                None => {
                    let list: Vec<String> = persons
                        .iter()
                        .map(|c| {
                            format!(
                                "{} at x={:.0}..{:.0} y={:.0}..{:.0}",
                                c.track.unwrap_or(0),
                                c.rect.x,
                                c.rect.right(),
                                c.rect.y,
                                c.rect.bottom()
                            )
                        })
                        .collect();
                    return Err(Error::Subject {
                        input: input.into(),
                        reason: format!(
                            "no person box contains {},{}; persons: {}",
                            at.x,
                            at.y,
                            if list.is_empty() {
                                "none".into()
                            } else {
                                list.join("; ")
                            }
                        ),
                    });
                }
            }
        }
        let mut matches = Vec::new();
        if let Some(like) = keep_like {
            let reference = crate::subject::reference(input, like, detector)?;
            for c in &persons {
                let Some(px) = c.rect.to_pixels(frame.width, frame.height) else {
                    continue;
                };
                let v = like
                    .embedder
                    .embed(&frame, px)
                    .map_err(|e| fail(Stage::Subject, e.to_string()))?;
                let s = cosine(&reference, &v);
                let id = c.track.expect("tracked");
                matches.push(SubjectMatch {
                    track: id,
                    similarity: s,
                    best: s,
                    crops: 1,
                    matched: s >= like.threshold,
                });
                if s >= like.threshold {
                    keep.insert(id);
                }
            }
            matches.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
        }
        let policy = policy.with_keep(keep.iter().copied());
        let mask = policy.mask(&cands, frame.width, frame.height);
        obscura_render::apply(&mut frame, &mask)
            .map_err(|e| Error::stage(input, Stage::Render, At::frame(0, frame.pts), e))?;
        write_still(input, output, &frame, format)?;
        let secs = start.elapsed().as_secs_f64();
        let masked = cands
            .iter()
            .filter_map(|c| c.track.map(|id| (id, c.class)))
            .filter(|(id, class)| {
                !keep.contains(id) && crate::policy::masks_class(policy.targets(), *class)
            })
            .collect();
        Ok(RedactReport {
            input: input.into(),
            output: output.into(),
            passes: 1,
            frames: 1,
            width: frame.width,
            height: frame.height,
            every: 1,
            seconds: secs,
            fps: 1.0 / secs.max(1e-9),
            keep_not_found: keep
                .iter()
                .copied()
                .filter(|id| !cands.iter().any(|c| c.track == Some(*id)))
                .collect(),
            kept: keep
                .iter()
                .copied()
                .filter(|id| cands.iter().any(|c| c.track == Some(*id)))
                .collect(),
            kept_identities: Vec::new(),
            subject_frames: 0,
            subject_uncertain_frames: 0,
            subject_uncertain: Vec::new(),
            silhouette_frames: 0,
            masked,
            untracked_detections: untracked,
            stages: Default::default(),
            matches,
            models: Vec::new(),
        })
    }
}

/// Writes a redacted frame as an image file, atomically.
fn write_still(
    input: &Path,
    output: &Path,
    frame: &Frame,
    format: ImageFormat,
) -> Result<(), Error> {
    let fail = |e: String| {
        Error::stage(
            input,
            Stage::Write,
            At::NONE,
            format!("{}: {e}", output.display()),
        )
    };
    let (w, h) = (frame.width, frame.height);
    let img = match frame.format {
        PixelFormat::Rgba => {
            let mut buf = Vec::with_capacity((w * h * 4) as usize);
            for y in 0..h as usize {
                buf.extend_from_slice(frame.planes[0].row(y));
            }
            DynamicImage::ImageRgba8(
                image::RgbaImage::from_raw(w, h, buf)
                    .ok_or_else(|| fail("bad RGBA buffer".into()))?,
            )
        }
        _ => DynamicImage::ImageRgb8(
            image::RgbImage::from_raw(w, h, frame.to_rgb24())
                .ok_or_else(|| fail("bad RGB buffer".into()))?,
        ),
    };
    let pending = PendingFile::new(output).map_err(|e| fail(e.to_string()))?;
    {
        let file = pending.create().map_err(|e| fail(e.to_string()))?;
        let mut out = BufWriter::new(file);
        match format {
            ImageFormat::Jpeg => {
                let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 92);
                img.to_rgb8()
                    .write_with_encoder(enc)
                    .map_err(|e| fail(e.to_string()))?;
            }
            _ => img
                .write_to(&mut out, format)
                .map_err(|e| fail(e.to_string()))?,
        }
        let file = out.into_inner().map_err(|e| fail(e.to_string()))?;
        file.sync_all().map_err(|e| fail(e.to_string()))?;
        drop(file);
    }
    pending.commit().map_err(|e| fail(e.to_string()))?;
    Ok(())
}

/// Writes an RGB image atomically as PNG (contact sheets).
pub(crate) fn write_png(output: &Path, img: &image::RgbImage) -> Result<(), std::io::Error> {
    let pending = PendingFile::new(output)?;
    {
        let mut out = BufWriter::new(pending.create()?);
        img.write_to(&mut out, ImageFormat::Png)
            .map_err(std::io::Error::other)?;
        out.flush()?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    }
    pending.commit()?;
    Ok(())
}
