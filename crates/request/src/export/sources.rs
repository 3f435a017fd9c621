//! Each camera's source facts and the request's times placed on them; validation of the
//! request before anything is cut.

use std::collections::BTreeSet;

use obscura_core::{Interval, IntervalSet, Timestamp};
use obscura_media::{DecodeOptions, Decoder};

use super::request::{CameraInput, ExportRequest, RequestMode, check_camera_name};
use crate::Error;
use crate::time::{TimeRef, WallTime, parse_creation_time};

/// Facts about one camera's source.
pub(super) struct Source {
    pub(super) sha256: String,
    pub(super) span: Interval,
    pub(super) start_wall: Option<WallTime>,
    pub(super) file_name: String,
}

pub(super) fn probe_source(cam: &CameraInput) -> Result<Source, Error> {
    let dec = Decoder::open(&cam.path, &DecodeOptions::default())?;
    let info = dec.info().clone();
    drop(dec);
    let start = info.start_time.unwrap_or_else(Timestamp::zero);
    let duration = match info.duration {
        Some(d) => Some(d),
        None => obscura_media::probe(&cam.path)?.duration,
    };
    let end = match duration {
        Some(d) if d.ticks > 0 => start.saturating_add(d),
        _ => Timestamp::from_secs(10_000_000),
    };
    let span = Interval::new(start, end).map_err(|e| {
        Error::invalid(
            format!("camera {} ({})", cam.name, cam.path.display()),
            e.to_string(),
        )
    })?;
    let start_wall = info.creation_time.as_deref().and_then(parse_creation_time);
    let sha256 =
        obscura_core::digest::sha256_file_hex(&cam.path).map_err(|e| Error::io(&cam.path, e))?;
    let file_name = cam
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Source {
        sha256,
        span,
        start_wall,
        file_name,
    })
}

/// A request time as this camera's source time.
pub(super) fn resolve(
    t: TimeRef,
    cam: &CameraInput,
    src: &Source,
    what: &str,
) -> Result<Timestamp, Error> {
    match t {
        TimeRef::Clip(t) => Ok(t),
        TimeRef::Wall(w) => {
            let base = src.start_wall.ok_or_else(|| {
                Error::invalid(
                    format!("{what} {w}"),
                    format!("camera {} ({}) carries no start time (creation_time), so wall-clock times cannot be placed; give clip times", cam.name, cam.path.display()),
                )
            })?;
            let micros = w.0 - base.0;
            let t = Timestamp::new(micros, obscura_core::Rational::MICROS)
                .saturating_add(src.span.start());
            Ok(t)
        }
    }
}

/// The request window on one camera, within its footage.
pub(super) fn window_of(
    req: &ExportRequest,
    cam: &CameraInput,
    src: &Source,
) -> Result<IntervalSet, Error> {
    let from = match req.from {
        Some(t) => resolve(t, cam, src, "--from")?,
        None => src.span.start(),
    };
    let to = match req.to {
        Some(t) => resolve(t, cam, src, "--to")?,
        None => src.span.end(),
    };
    let window = interval(from, to, "request window")?;
    let window_set = IntervalSet::single(window).intersection(&IntervalSet::single(src.span));
    if window_set.is_empty() {
        return Err(Error::invalid(
            format!("request window {window}"),
            format!("lies outside camera {}'s footage {}", cam.name, src.span),
        ));
    }
    Ok(window_set)
}

/// A camera's footage in words: clip seconds, and the wall clock when known.
fn footage_words(cam: &CameraInput, src: &Source) -> String {
    let (a, b) = (src.span.start(), src.span.end());
    match src.start_wall {
        Some(w) => format!(
            "camera {} runs {} .. {}",
            cam.name,
            w,
            w.plus(Timestamp::new(
                b.rescale_floor(obscura_core::Rational::MICROS).ticks
                    - a.rescale_floor(obscura_core::Rational::MICROS).ticks,
                obscura_core::Rational::MICROS
            ))
        ),
        None => format!(
            "camera {} runs {a} .. {b} (clip time; it carries no wall-clock start)",
            cam.name
        ),
    }
}

/// Erasure: every exclusion must remove something from the window of some camera it
/// applies to, unless `allow_empty_exclusions`. Checked before anything is cut.
pub(super) fn check_exclusions(req: &ExportRequest, sources: &[Source]) -> Result<(), Error> {
    if req.mode != RequestMode::Erasure || req.allow_empty_exclusions {
        return Ok(());
    }
    for e in &req.exclusions {
        let mut hit = false;
        let mut spans = Vec::new();
        for (ci, (cam, src)) in req.cameras.iter().zip(sources).enumerate() {
            if e.camera.is_some_and(|c| c != ci) {
                continue;
            }
            let window = window_of(req, cam, src)?;
            let a = resolve(e.from, cam, src, "--exclude")?;
            let b = resolve(e.to, cam, src, "--exclude")?;
            let iv = interval(a, b, "excluded range")?;
            hit |= !IntervalSet::single(iv).intersection(&window).is_empty();
            spans.push(footage_words(cam, src));
        }
        if !hit {
            let which = e.camera.map_or_else(
                || "every camera".to_string(),
                |c| format!("camera {}", req.cameras[c].name),
            );
            return Err(Error::invalid(
                format!("exclusion {}..{} ({which})", e.from, e.to),
                format!(
                    "removes nothing: it lies outside the footage in the request window ({}); check the date and time zone, or allow it (--allow-empty-exclusion)",
                    spans.join("; ")
                ),
            ));
        }
    }
    Ok(())
}

pub(super) fn interval(a: Timestamp, b: Timestamp, what: &str) -> Result<Interval, Error> {
    Interval::new(a, b).map_err(|_| {
        Error::invalid(
            what.to_string(),
            format!("the end {b} is not after the start {a}"),
        )
    })
}

pub(super) fn validate(req: &ExportRequest, redactor: bool) -> Result<(), Error> {
    if req.cameras.is_empty() {
        return Err(Error::invalid("cameras", "none given"));
    }
    let mut names = BTreeSet::new();
    for c in &req.cameras {
        check_camera_name(&c.name)?;
        if !names.insert(c.name.as_str()) {
            return Err(Error::invalid(
                format!("camera name {:?}", c.name),
                "given twice",
            ));
        }
        if !c.path.is_file() {
            return Err(Error::invalid(
                format!("camera {} file {}", c.name, c.path.display()),
                "does not exist or is not a file",
            ));
        }
    }
    match req.mode {
        RequestMode::Access => {
            if !req.exclusions.is_empty() {
                return Err(Error::invalid("--exclude", "only for erasure requests"));
            }
            if !redactor {
                return Err(Error::invalid(
                    "access request",
                    "needs a redactor (who is the data subject?)",
                ));
            }
            if req.from.is_none() || req.to.is_none() {
                return Err(Error::invalid(
                    "access request",
                    "needs a window (--from and --to)",
                ));
            }
        }
        RequestMode::Erasure => {
            if req.exclusions.is_empty() {
                return Err(Error::invalid(
                    "erasure request",
                    "needs at least one excluded range (--exclude A..B)",
                ));
            }
            if redactor {
                return Err(Error::invalid(
                    "erasure request",
                    "takes no subject selection (--keep...)",
                ));
            }
        }
    }
    if let Some(c) = req
        .exclusions
        .iter()
        .filter_map(|e| e.camera)
        .find(|c| *c >= req.cameras.len())
    {
        return Err(Error::invalid("exclusion camera index", c.to_string()));
    }
    for (what, v) in [("reference", &req.reference), ("operator", &req.operator)] {
        if let Some(v) = v
            && (v.is_empty() || v.len() > 256 || v.chars().any(char::is_control))
        {
            return Err(Error::invalid(
                format!("{what} {v:?}"),
                "must be 1 to 256 printable characters",
            ));
        }
    }
    Ok(())
}
