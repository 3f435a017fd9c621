//! Per camera: cutting the kept periods (erasure) or the window and redacting it (access),
//! then hashing and thumbnailing each clip, gathered for the manifest and the report.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::PathBuf;

use obscura_core::{Interval, IntervalSet};
use obscura_media::EncoderSettings;
use obscura_seal::CameraRecord;
use serde_json::json;

use super::request::{CameraInput, ClipRedactor, ClipSummary, ExportRequest};
use super::sources::{Source, interval, resolve};
use crate::report::{self, CameraReport};
use crate::time::WallTime;
use crate::workdir::WorkDir;
use crate::{Error, RedactionError};

/// An access clip of at least this many frames in which nobody was detected gets a warning.
const NO_PERSON_WARN_FRAMES: u64 = 100;

/// One clip of a camera before it is hashed: payload name, file, source range, frames,
/// persons masked (access), wall-clock start.
pub(super) type CutClip = (
    String,
    PathBuf,
    Interval,
    u64,
    Option<usize>,
    Option<WallTime>,
);

/// Everything the cameras gave, for the manifest, the policy record and the report.
#[derive(Default)]
pub(super) struct Gathered {
    pub(super) payloads: Vec<(String, PathBuf)>,
    pub(super) clips: Vec<ClipSummary>,
    pub(super) thumbs: Vec<Vec<String>>,
    pub(super) camera_records: Vec<CameraRecord>,
    pub(super) camera_reports: Vec<CameraReport>,
    pub(super) per_camera: serde_json::Map<String, serde_json::Value>,
    pub(super) kept_all: BTreeSet<u64>,
    pub(super) models: BTreeMap<String, String>,
    pub(super) notes: Vec<String>,
    pub(super) clip_starts: serde_json::Map<String, serde_json::Value>,
}

/// Erasure: the window of camera `ci` minus its exclusions, cut into one clip per period.
/// Returns the source ranges encoded and the clips.
#[allow(clippy::too_many_arguments)]
pub(super) fn erasure_clips(
    req: &ExportRequest,
    ci: usize,
    cam: &CameraInput,
    src: &Source,
    window_set: &IntervalSet,
    work: &WorkDir,
    g: &mut Gathered,
    on_step: &mut dyn FnMut(&str),
) -> Result<(Vec<Interval>, Vec<CutClip>), Error> {
    let mut included = Vec::new();
    let mut cam_clips = Vec::new();
    let notes = &mut g.notes;
    let mut excluded = IntervalSet::new();
    for e in req
        .exclusions
        .iter()
        .filter(|e| e.camera.is_none_or(|c| c == ci))
    {
        let a = resolve(e.from, cam, src, "--exclude")?;
        let b = resolve(e.to, cam, src, "--exclude")?;
        excluded.insert(interval(a, b, "excluded range")?);
    }
    let kept = window_set.difference(&excluded);
    if kept.is_empty() {
        on_step(&format!(
            "camera {}: everything in the window is excluded; no clip",
            cam.name
        ));
    } else {
        on_step(&format!(
            "camera {}: cutting {} period(s)",
            cam.name,
            kept.intervals().len()
        ));
        let dest = work.path().join(format!("{}.mp4", cam.name));
        let parts = obscura_media::cut(&cam.path, &dest, &kept, &req.encoder, |_, _| {})?;
        for iv in obscura_media::empty_periods(&kept, &parts) {
            let note = format!(
                "Camera {}: the remaining period {iv} holds no frame (it lies between or after the last frames), so it gives no clip.",
                cam.name
            );
            on_step(&note);
            notes.push(note);
        }
        for p in parts {
            let name = p
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let range = Interval::new(p.first_pts, p.end)
                .map_err(|e| Error::invalid("cut part", e.to_string()))?;
            included.push(range);
            cam_clips.push((name, p.path.clone(), range, p.frames, None, p.creation_time));
        }
    }
    Ok((included, cam_clips))
}

/// Access: the request window of `cam` cut near-losslessly (`intermediate`) and handed to
/// `red`. Returns the source range encoded and the clip.
pub(super) fn access_clip(
    red: &mut dyn ClipRedactor,
    cam: &CameraInput,
    window_set: &IntervalSet,
    intermediate: &EncoderSettings,
    work: &WorkDir,
    g: &mut Gathered,
    on_step: &mut dyn FnMut(&str),
) -> Result<(Vec<Interval>, Vec<CutClip>), Error> {
    let mut included = Vec::new();
    let mut cam_clips = Vec::new();
    let Gathered {
        kept_all,
        models,
        notes,
        per_camera,
        ..
    } = g;
    on_step(&format!(
        "camera {}: cutting the request window {}",
        cam.name,
        window_set.intervals()[0]
    ));
    let cut_dest = work.path().join(format!("{}.window.mp4", cam.name));
    let parts = obscura_media::cut(&cam.path, &cut_dest, window_set, intermediate, |_, _| {})?;
    let p = parts.into_iter().next().expect("one period, one part");
    let range =
        Interval::new(p.first_pts, p.end).map_err(|e| Error::invalid("cut part", e.to_string()))?;
    on_step(&format!(
        "camera {}: masking everyone but the data subject ({} frames)",
        cam.name, p.frames
    ));
    let dest = work.path().join(format!("{}.mp4", cam.name));
    let s = red
        .redact(&cam.name, &p.path, &dest, p.first_pts)
        .map_err(|reason| Error::Redaction {
            camera: cam.name.clone(),
            reason,
        })?;
    let _ = fs::remove_file(&p.path);
    if s.frames != p.frames {
        return Err(Error::Redaction {
            camera: cam.name.clone(),
            reason: RedactionError::FrameCount {
                window: p.frames,
                redacted: s.frames,
            },
        });
    }
    kept_all.extend(s.kept_tracks.iter().copied());
    for m in &s.models {
        models.insert(m.name.clone(), m.sha256.clone());
    }
    notes.extend(s.notes.iter().map(|n| format!("Camera {}: {n}", cam.name)));
    if p.frames >= NO_PERSON_WARN_FRAMES
        && s.masked_persons.is_empty()
        && s.masked_faces.is_empty()
        && s.kept_tracks.is_empty()
    {
        // Usually sideways or dark footage or a wrong model folder, not an empty scene.
        let w = format!(
            "Camera {}: warning: no person or face was detected in {} frames; check that the footage is upright and lit and that the right models were used before relying on this export.",
            cam.name, p.frames
        );
        eprintln!("obscura: {w}");
        on_step(&w);
        notes.push(w);
    }
    per_camera.insert(
        cam.name.clone(),
        json!({"kept_tracks": s.kept_tracks, "masked_person_tracks": s.masked_persons, "masked_face_tracks": s.masked_faces}),
    );
    included.push(range);
    cam_clips.push((
        format!("{}.mp4", cam.name),
        dest,
        range,
        p.frames,
        Some(s.masked_persons.len()),
        p.creation_time,
    ));
    Ok((included, cam_clips))
}

impl Gathered {
    /// Records what was left out of `cam`'s footage (everything not encoded) and hashes and
    /// thumbnails its clips.
    pub(super) fn record_camera(
        &mut self,
        cam: &CameraInput,
        src: &Source,
        included: Vec<Interval>,
        cam_clips: Vec<CutClip>,
        on_step: &mut dyn FnMut(&str),
    ) -> Result<(), Error> {
        let Gathered {
            payloads,
            clips,
            thumbs,
            camera_records,
            camera_reports,
            clip_starts,
            ..
        } = self;
        // What was left out of this camera's footage: everything not encoded.
        let span_end = included
            .iter()
            .map(|i| i.end())
            .max()
            .map_or(src.span.end(), |e| e.max(src.span.end()));
        let full = Interval::new(src.span.start(), span_end).expect("span");
        let excluded: Vec<Interval> = IntervalSet::from_intervals(included.iter().copied())
            .complement_within(full)
            .intervals()
            .to_vec();
        camera_records.push(CameraRecord {
            camera: cam.name.clone(),
            included: included.clone(),
            excluded: excluded.clone(),
        });
        for (name, path, range, frames, masked, start_wall) in cam_clips {
            if let Some(w) = start_wall {
                clip_starts.insert(name.clone(), json!(w.to_string()));
            }
            on_step(&format!(
                "camera {}: hashing and thumbnailing {name}",
                cam.name
            ));
            let sha256 =
                obscura_core::digest::sha256_file_hex(&path).map_err(|e| Error::io(&path, e))?;
            let t = report::thumbnails(&path, 3, 240)?;
            thumbs.push(t);
            clips.push(ClipSummary {
                name: name.clone(),
                camera: cam.name.clone(),
                range,
                frames,
                sha256,
                masked_persons: masked,
                start_wall,
            });
            payloads.push((name, path));
        }
        camera_reports.push(CameraReport {
            name: cam.name.clone(),
            source_file: src.file_name.clone(),
            source_sha256: src.sha256.clone(),
            start_wall: src.start_wall,
            included,
            excluded,
        });
        Ok(())
    }
}
