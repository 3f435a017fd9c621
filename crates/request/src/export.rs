//! The export workflow (see the crate docs).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use obscura_audit::{Action, AuditLog, Entry, Record};
use obscura_core::{Interval, IntervalSet, Timestamp};
use obscura_media::{Decoder, DecodeOptions, EncoderSettings, Preset};
use obscura_seal::{CameraRecord, Date, Manifest, Passphrase, RecipientPublicKey, RedactionPolicy, SealBuilder, Signer};
use serde_json::json;

use crate::report::{self, CameraReport, ClipReport, ReportData};
use crate::site::ReportOptions;
use crate::time::{TimeRef, WallTime, parse_creation_time};
use crate::workdir::{WorkDir, sweep_stale};
use crate::Error;

/// One camera's footage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraInput {
    /// Camera name as the VMS knows it (letters, digits, `.`, `_`, `-`; used in payload names).
    pub name: String,
    /// The footage file (never modified).
    pub path: PathBuf,
}

impl CameraInput {
    /// A camera named after the file stem of `path`.
    pub fn from_path(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        CameraInput { name: sanitize(&name), path }
    }
}

/// Replaces characters not allowed in camera names by `_`.
fn sanitize(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' }).collect()
}

fn check_camera_name(name: &str) -> Result<(), Error> {
    if name.is_empty() || name.len() > 64 || name.starts_with('.') || !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
        return Err(Error::invalid(format!("camera name {name:?}"), "use 1 to 64 letters, digits, '.', '_' or '-' (not starting with '.')"));
    }
    Ok(())
}

/// A time range to leave out of an erasure export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exclusion {
    /// The camera it applies to (`None`: every camera).
    pub camera: Option<usize>,
    /// Start (included in the exclusion).
    pub from: TimeRef,
    /// End (the first instant exported again).
    pub to: TimeRef,
}

impl Exclusion {
    /// Parses `A..B` or `CAMERA=A..B` (times as [`TimeRef`]), resolving the camera name
    /// against `cameras`.
    pub fn parse(text: &str, cameras: &[CameraInput]) -> Result<Self, Error> {
        let (camera, range) = match text.split_once('=') {
            Some((c, r)) => {
                let i = cameras.iter().position(|k| k.name == c.trim()).ok_or_else(|| {
                    let names: Vec<&str> = cameras.iter().map(|k| k.name.as_str()).collect();
                    Error::invalid(format!("exclusion {text:?}"), format!("no camera {c:?} (cameras: {})", names.join(", ")))
                })?;
                (Some(i), r)
            }
            None => (None, text),
        };
        let (a, b) = range.split_once("..").ok_or_else(|| Error::invalid(format!("exclusion {text:?}"), "expected A..B or CAMERA=A..B"))?;
        Ok(Exclusion { camera, from: a.parse()?, to: b.parse()? })
    }
}

/// Access or erasure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestMode {
    /// GDPR Art. 15: the subject's footage in the window, everyone else masked.
    Access,
    /// GDPR Art. 17: everything except the excluded time ranges.
    Erasure,
}

impl RequestMode {
    /// `access` or `erasure`.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestMode::Access => "access",
            RequestMode::Erasure => "erasure",
        }
    }
}

/// What one redaction did (returned by a [`ClipRedactor`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedactionSummary {
    /// Frames written.
    pub frames: u64,
    /// Track ids left visible (the data subject).
    pub kept_tracks: Vec<u64>,
    /// Person track ids masked.
    pub masked_persons: Vec<u64>,
    /// Face track ids masked (faces are also tracked on their own).
    pub masked_faces: Vec<u64>,
    /// Plain-language notes for the report (e.g. how the subject was chosen).
    pub notes: Vec<String>,
    /// Detector models used, `(name, sha256)`.
    pub models: Vec<(String, String)>,
}

/// Masks everyone but the data subject in one clip. Implemented by the CLI over
/// `obscura_pipeline::Redactor`; partners can plug their own.
pub trait ClipRedactor {
    /// Masks `input` (the request window of `camera`, cut frame-exactly; its time 0 is
    /// source time `offset`) into `output` (H.264 MP4, must be written atomically).
    fn redact(&mut self, camera: &str, input: &Path, output: &Path, offset: Timestamp) -> Result<RedactionSummary, String>;
    /// The redaction policy in plain words, one sentence per entry (for the report).
    fn describe(&self) -> Vec<String>;
    /// The policy for the signed manifest (thresholds, styles, extra); models and kept
    /// track ids are filled in from the summaries.
    fn policy(&self) -> RedactionPolicy;
}

/// One request.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    /// The cameras (at least one; names unique).
    pub cameras: Vec<CameraInput>,
    /// Start of the request window (`None`: start of each clip).
    pub from: Option<TimeRef>,
    /// End of the request window (`None`: end of each clip).
    pub to: Option<TimeRef>,
    /// Access or erasure.
    pub mode: RequestMode,
    /// Erasure: the ranges to leave out (at least one).
    pub exclusions: Vec<Exclusion>,
    /// Request reference (case number).
    pub reference: Option<String>,
    /// Pseudonymous operator id (manifest and audit log; in the report only with
    /// `show_operator`).
    pub operator: Option<String>,
    /// Print the operator id in the report.
    pub show_operator: bool,
    /// Retention expiry: the last day the package may be opened.
    pub expires: Date,
    /// Encoder settings of the exported clips.
    pub encoder: EncoderSettings,
    /// Where the private work folder goes (default: the output's folder).
    pub work_dir: Option<PathBuf>,
    /// Erasure: accept an exclusion that removes nothing from any camera's footage in the
    /// window. Without it such an exclusion is an error naming it (a wrong date or time
    /// zone would otherwise export everything without a word).
    pub allow_empty_exclusions: bool,
    /// Language and site configuration of the data-subject report.
    pub report: ReportOptions,
}

/// Who can open the package and who signs it.
pub struct SealOptions<'a> {
    /// The signing key (or an HSM/KMS through [`Signer`]).
    pub signer: &'a dyn Signer,
    /// X25519 recipients.
    pub recipients: Vec<RecipientPublicKey>,
    /// A passphrase recipient.
    pub passphrase: Option<Passphrase>,
}

/// One exported clip.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipSummary {
    /// Payload name.
    pub name: String,
    /// Camera name.
    pub camera: String,
    /// Source range the clip shows `[first frame, end of last frame)`.
    pub range: Interval,
    /// Frames in the clip.
    pub frames: u64,
    /// SHA-256 of the clip, hex.
    pub sha256: String,
    /// Persons masked (access mode).
    pub masked_persons: Option<usize>,
    /// Wall-clock time of the clip's first frame (also written into the clip as its
    /// `creation_time`), when the source carries a start time.
    pub start_wall: Option<WallTime>,
}

/// What [`export`] produced.
#[derive(Debug, Clone)]
pub struct ExportOutcome {
    /// The package.
    pub package: PathBuf,
    /// SHA-256 of the package file, hex.
    pub package_sha256: String,
    /// The signed manifest.
    pub manifest: Manifest,
    /// The clips, in payload order.
    pub clips: Vec<ClipSummary>,
    /// The audit record appended.
    pub audit: Option<Record>,
    /// Stale temporaries of dead processes removed before starting.
    pub swept: Vec<PathBuf>,
}

/// Facts about one camera's source.
struct Source {
    sha256: String,
    span: Interval,
    start_wall: Option<WallTime>,
    file_name: String,
}

fn probe_source(cam: &CameraInput) -> Result<Source, Error> {
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
    let span = Interval::new(start, end).map_err(|e| Error::invalid(format!("camera {} ({})", cam.name, cam.path.display()), e.to_string()))?;
    let start_wall = info.creation_time.as_deref().and_then(parse_creation_time);
    let sha256 = obscura_audit::sha256_file(&cam.path).map_err(|e| Error::io(&cam.path, e))?;
    let file_name = cam.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(Source { sha256, span, start_wall, file_name })
}

/// A request time as this camera's source time.
fn resolve(t: TimeRef, cam: &CameraInput, src: &Source, what: &str) -> Result<Timestamp, Error> {
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
            let t = Timestamp::new(micros, obscura_core::Rational::MICROS).saturating_add(src.span.start());
            Ok(t)
        }
    }
}

/// An access clip of at least this many frames in which nobody was detected gets a warning.
const NO_PERSON_WARN_FRAMES: u64 = 100;

/// The request window on one camera, within its footage.
fn window_of(req: &ExportRequest, cam: &CameraInput, src: &Source) -> Result<IntervalSet, Error> {
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
        return Err(Error::invalid(format!("request window {window}"), format!("lies outside camera {}'s footage {}", cam.name, src.span)));
    }
    Ok(window_set)
}

/// A camera's footage in words: clip seconds, and the wall clock when known.
fn footage_words(cam: &CameraInput, src: &Source) -> String {
    let (a, b) = (src.span.start(), src.span.end());
    match src.start_wall {
        Some(w) => format!("camera {} runs {} .. {}", cam.name, w, w.plus(Timestamp::new(b.rescale_floor(obscura_core::Rational::MICROS).ticks - a.rescale_floor(obscura_core::Rational::MICROS).ticks, obscura_core::Rational::MICROS))),
        None => format!("camera {} runs {a} .. {b} (clip time; it carries no wall-clock start)", cam.name),
    }
}

/// Erasure: every exclusion must remove something from the window of some camera it
/// applies to, unless `allow_empty_exclusions`. Checked before anything is cut.
fn check_exclusions(req: &ExportRequest, sources: &[Source]) -> Result<(), Error> {
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
            let which = e.camera.map_or_else(|| "every camera".to_string(), |c| format!("camera {}", req.cameras[c].name));
            return Err(Error::invalid(
                format!("exclusion {}..{} ({which})", e.from, e.to),
                format!("removes nothing: it lies outside the footage in the request window ({}); check the date and time zone, or allow it (--allow-empty-exclusion)", spans.join("; ")),
            ));
        }
    }
    Ok(())
}

fn interval(a: Timestamp, b: Timestamp, what: &str) -> Result<Interval, Error> {
    Interval::new(a, b).map_err(|_| Error::invalid(what.to_string(), format!("the end {b} is not after the start {a}")))
}

fn validate(req: &ExportRequest, redactor: bool) -> Result<(), Error> {
    if req.cameras.is_empty() {
        return Err(Error::invalid("cameras", "none given"));
    }
    let mut names = BTreeSet::new();
    for c in &req.cameras {
        check_camera_name(&c.name)?;
        if !names.insert(c.name.as_str()) {
            return Err(Error::invalid(format!("camera name {:?}", c.name), "given twice"));
        }
        if !c.path.is_file() {
            return Err(Error::invalid(format!("camera {} file {}", c.name, c.path.display()), "does not exist or is not a file"));
        }
    }
    match req.mode {
        RequestMode::Access => {
            if !req.exclusions.is_empty() {
                return Err(Error::invalid("--exclude", "only for erasure requests"));
            }
            if !redactor {
                return Err(Error::invalid("access request", "needs a redactor (who is the data subject?)"));
            }
            if req.from.is_none() || req.to.is_none() {
                return Err(Error::invalid("access request", "needs a window (--from and --to)"));
            }
        }
        RequestMode::Erasure => {
            if req.exclusions.is_empty() {
                return Err(Error::invalid("erasure request", "needs at least one excluded range (--exclude A..B)"));
            }
            if redactor {
                return Err(Error::invalid("erasure request", "takes no subject selection (--keep...)"));
            }
        }
    }
    if let Some(c) = req.exclusions.iter().filter_map(|e| e.camera).find(|c| *c >= req.cameras.len()) {
        return Err(Error::invalid("exclusion camera index", c.to_string()));
    }
    for (what, v) in [("reference", &req.reference), ("operator", &req.operator)] {
        if let Some(v) = v
            && (v.is_empty() || v.len() > 256 || v.chars().any(char::is_control))
        {
            return Err(Error::invalid(format!("{what} {v:?}"), "must be 1 to 256 printable characters"));
        }
    }
    Ok(())
}

/// Runs one request and writes the sealed package to `out` (atomically; `out` must not
/// exist yet). See the crate docs. `on_step` is told of each stage in plain words.
///
/// On success the export is appended to `audit` (when given); if that append fails, the
/// package is removed again and the error returned, so no package exists without its audit
/// record. A failed export is appended as `failed: ...` (best effort).
pub fn export(
    req: &ExportRequest,
    redactor: Option<&mut dyn ClipRedactor>,
    seal: SealOptions<'_>,
    out: &Path,
    audit: Option<&AuditLog>,
    on_step: &mut dyn FnMut(&str),
) -> Result<ExportOutcome, Error> {
    let result = export_inner(req, redactor, seal, out, on_step);
    match (result, audit) {
        (Ok(mut o), Some(log)) => {
            let mut e = Entry::new(Action::Export, "ok");
            e.operator = req.operator.clone();
            e.reference = req.reference.clone();
            e.package = Some(out.display().to_string());
            e.package_sha256 = Some(o.package_sha256.clone());
            e.detail = json!({
                "mode": req.mode.as_str(),
                "export_id": o.manifest.export_id,
                "expires": o.manifest.expires,
                "cameras": req.cameras.iter().map(|c| &c.name).collect::<Vec<_>>(),
                "payloads": o.manifest.payloads.iter().map(|p| json!({"name": p.name, "sha256": p.plaintext_sha256})).collect::<Vec<_>>(),
            });
            if let Some(r) = o.manifest.policy.as_ref().and_then(|p| p.extra.get("review")) {
                e.detail["review"] = r.clone(); // the reviewer, the edits file's sha256, un-mask reasons
            }
            match log.append(e) {
                Ok(r) => {
                    o.audit = Some(r);
                    Ok(o)
                }
                Err(err) => {
                    let _ = fs::remove_file(&o.package);
                    Err(err.into())
                }
            }
        }
        (Ok(o), None) => Ok(o),
        (Err(err), Some(log)) => {
            // The log names files by name only (no folders).
            let mut text = err.to_string();
            for c in &req.cameras {
                if let Some(n) = c.path.file_name() {
                    text = text.replace(&c.path.display().to_string(), &n.to_string_lossy());
                }
            }
            let mut e = Entry::new(Action::Export, format!("failed: {text}"));
            e.operator = req.operator.clone();
            e.reference = req.reference.clone();
            e.package = Some(out.display().to_string());
            e.detail = json!({ "mode": req.mode.as_str() });
            let _ = log.append(e);
            Err(err)
        }
        (Err(err), None) => Err(err),
    }
}

fn export_inner(
    req: &ExportRequest,
    mut redactor: Option<&mut dyn ClipRedactor>,
    seal: SealOptions<'_>,
    out: &Path,
    on_step: &mut dyn FnMut(&str),
) -> Result<ExportOutcome, Error> {
    validate(req, redactor.is_some())?;
    let out_dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !out_dir.is_dir() {
        return Err(Error::invalid(format!("output folder {}", out_dir.display()), "does not exist"));
    }
    if out.exists() {
        return Err(Error::invalid(format!("output {}", out.display()), "already exists (packages are never overwritten)"));
    }
    let work_parent = req.work_dir.clone().unwrap_or_else(|| out_dir.clone());
    let mut swept = sweep_stale(&out_dir)?;
    if work_parent != out_dir {
        fs::create_dir_all(&work_parent).map_err(|e| Error::io(&work_parent, e))?;
        swept.extend(sweep_stale(&work_parent)?);
    }
    let work = WorkDir::create(&work_parent)?;

    let mut sources = Vec::new();
    for cam in &req.cameras {
        on_step(&format!("reading camera {} ({})", cam.name, cam.path.display()));
        sources.push(probe_source(cam)?);
    }

    // The intermediate window cut of an access request: near-lossless, fast.
    let intermediate = EncoderSettings::builder().crf(10).preset(Preset::Ultrafast).audio(req.encoder.audio()).build()?;
    let mut payloads: Vec<(String, PathBuf)> = Vec::new();
    let mut clips: Vec<ClipSummary> = Vec::new();
    let mut thumbs: Vec<Vec<String>> = Vec::new();
    let mut camera_records = Vec::new();
    let mut camera_reports = Vec::new();
    let mut per_camera = serde_json::Map::new();
    let mut kept_all = BTreeSet::new();
    let mut models = BTreeMap::new();
    let mut notes: Vec<String> = Vec::new();
    check_exclusions(req, &sources)?;
    let mut clip_starts = serde_json::Map::new();
    for (ci, (cam, src)) in req.cameras.iter().zip(&sources).enumerate() {
        let window_set = window_of(req, cam, src)?;
        let mut included = Vec::new();
        let mut cam_clips = Vec::new();
        match req.mode {
            RequestMode::Erasure => {
                let mut excluded = IntervalSet::new();
                for e in req.exclusions.iter().filter(|e| e.camera.is_none_or(|c| c == ci)) {
                    let a = resolve(e.from, cam, src, "--exclude")?;
                    let b = resolve(e.to, cam, src, "--exclude")?;
                    excluded.insert(interval(a, b, "excluded range")?);
                }
                let kept = window_set.difference(&excluded);
                if kept.is_empty() {
                    on_step(&format!("camera {}: everything in the window is excluded; no clip", cam.name));
                } else {
                    on_step(&format!("camera {}: cutting {} period(s)", cam.name, kept.intervals().len()));
                    let dest = work.path().join(format!("{}.mp4", cam.name));
                    let parts = obscura_media::cut(&cam.path, &dest, &kept, &req.encoder, |_, _| {})?;
                    for iv in obscura_media::empty_periods(&kept, &parts) {
                        let note = format!("Camera {}: the remaining period {iv} holds no frame (it lies between or after the last frames), so it gives no clip.", cam.name);
                        on_step(&note);
                        notes.push(note);
                    }
                    for p in parts {
                        let name = p.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                        let range = Interval::new(p.first_pts, p.end).map_err(|e| Error::invalid("cut part", e.to_string()))?;
                        included.push(range);
                        cam_clips.push((name, p.path.clone(), range, p.frames, None, p.creation_time));
                    }
                }
            }
            RequestMode::Access => {
                let red = redactor.as_deref_mut().expect("validated");
                on_step(&format!("camera {}: cutting the request window {}", cam.name, window_set.intervals()[0]));
                let cut_dest = work.path().join(format!("{}.window.mp4", cam.name));
                let parts = obscura_media::cut(&cam.path, &cut_dest, &window_set, &intermediate, |_, _| {})?;
                let p = parts.into_iter().next().expect("one period, one part");
                let range = Interval::new(p.first_pts, p.end).map_err(|e| Error::invalid("cut part", e.to_string()))?;
                on_step(&format!("camera {}: masking everyone but the data subject ({} frames)", cam.name, p.frames));
                let dest = work.path().join(format!("{}.mp4", cam.name));
                let s = red.redact(&cam.name, &p.path, &dest, p.first_pts).map_err(|reason| Error::Redaction { camera: cam.name.clone(), reason })?;
                let _ = fs::remove_file(&p.path);
                if s.frames != p.frames {
                    return Err(Error::Redaction { camera: cam.name.clone(), reason: format!("{} frames in the window but {} redacted", p.frames, s.frames) });
                }
                kept_all.extend(s.kept_tracks.iter().copied());
                for (n, h) in &s.models {
                    models.insert(n.clone(), h.clone());
                }
                notes.extend(s.notes.iter().map(|n| format!("Camera {}: {n}", cam.name)));
                if p.frames >= NO_PERSON_WARN_FRAMES && s.masked_persons.is_empty() && s.masked_faces.is_empty() && s.kept_tracks.is_empty() {
                    // Usually sideways or dark footage or a wrong model folder, not an empty scene.
                    let w = format!("Camera {}: warning: no person or face was detected in {} frames; check that the footage is upright and lit and that the right models were used before relying on this export.", cam.name, p.frames);
                    eprintln!("obscura: {w}");
                    on_step(&w);
                    notes.push(w);
                }
                per_camera.insert(
                    cam.name.clone(),
                    json!({"kept_tracks": s.kept_tracks, "masked_person_tracks": s.masked_persons, "masked_face_tracks": s.masked_faces}),
                );
                included.push(range);
                cam_clips.push((format!("{}.mp4", cam.name), dest, range, p.frames, Some(s.masked_persons.len()), p.creation_time));
            }
        }
        // What was left out of this camera's footage: everything not encoded.
        let span_end = included.iter().map(|i| i.end()).max().map_or(src.span.end(), |e| e.max(src.span.end()));
        let full = Interval::new(src.span.start(), span_end).expect("span");
        let excluded: Vec<Interval> = IntervalSet::from_intervals(included.iter().copied()).complement_within(full).intervals().to_vec();
        camera_records.push(CameraRecord { camera: cam.name.clone(), included: included.clone(), excluded: excluded.clone() });
        for (name, path, range, frames, masked, start_wall) in cam_clips {
            if let Some(w) = start_wall {
                clip_starts.insert(name.clone(), json!(w.to_string()));
            }
            on_step(&format!("camera {}: hashing and thumbnailing {name}", cam.name));
            let sha256 = obscura_audit::sha256_file(&path).map_err(|e| Error::io(&path, e))?;
            let t = report::thumbnails(&path, 3, 240)?;
            thumbs.push(t);
            clips.push(ClipSummary { name: name.clone(), camera: cam.name.clone(), range, frames, sha256, masked_persons: masked, start_wall });
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
    }
    if clips.is_empty() {
        return Err(Error::invalid("erasure request", "the exclusions cover all footage of every camera: nothing to export"));
    }

    let (policy, policy_words) = match (req.mode, redactor.as_deref()) {
        (RequestMode::Access, Some(r)) => {
            let mut p = r.policy();
            p.kept_track_ids = kept_all.into_iter().collect();
            p.detector_models = models.into_iter().map(|(name, sha256)| obscura_seal::ModelRef { name, sha256 }).collect();
            p.extra.insert("mode".into(), json!("access"));
            p.extra.insert("cameras".into(), serde_json::Value::Object(per_camera));
            if !clip_starts.is_empty() {
                p.extra.insert("clip_start_times".into(), serde_json::Value::Object(clip_starts.clone()));
            }
            let mut words = r.describe();
            words.extend(notes);
            (p, words)
        }
        _ => {
            let mut p = RedactionPolicy::default();
            p.extra.insert("mode".into(), json!("erasure"));
            p.extra.insert("masking".into(), json!("none"));
            if !clip_starts.is_empty() {
                p.extra.insert("clip_start_times".into(), serde_json::Value::Object(clip_starts.clone()));
            }
            let mut words = vec![
                "Erasure request: the excluded time ranges were removed frame-exactly (no frame whose time lies in an excluded range is in any clip).".to_string(),
                "Everything else in the request window is exported unchanged in content (re-encoded to H.264), one clip per remaining period.".to_string(),
                "No person is masked in an erasure export.".to_string(),
            ];
            words.extend(notes);
            (p, words)
        }
    };

    on_step("writing the report");
    let created = obscura_audit::now_rfc3339();
    let data = ReportData {
        mode: req.mode,
        reference: req.reference.clone(),
        operator: if req.show_operator { req.operator.clone() } else { None },
        created: created.clone(),
        expires: req.expires.to_string(),
        window: (req.from, req.to),
        cameras: camera_reports,
        clips: clips.iter().zip(thumbs).map(|(c, t)| ClipReport { clip: c.clone(), thumbnails: t }).collect(),
        policy: policy_words,
        redaction: policy.clone(),
        lang: req.report.lang,
        site: req.report.site.clone(),
    };
    let html = report::render(&data);

    on_step(&format!("sealing {} clip(s) and the report into {}", clips.len(), out.display()));
    let mut b = SealBuilder::new(seal.signer).expires(req.expires).cameras(camera_records).policy(policy);
    for r in seal.recipients {
        b = b.recipient(r);
    }
    if let Some(p) = seal.passphrase {
        b = b.passphrase(p);
    }
    if let Some(r) = &req.reference {
        b = b.reference(r);
    }
    if let Some(o) = &req.operator {
        b = b.operator(o);
    }
    for (cam, src) in req.cameras.iter().zip(&sources) {
        let _ = cam;
        b = b.source(src.file_name.clone(), src.sha256.clone());
    }
    for (name, path) in &payloads {
        b = b.add_payload_file(name.clone(), "video/mp4", path.clone());
    }
    b = b.add_payload_bytes("report.html", "text/html", html.into_bytes());
    let manifest = b.write_to(out)?;
    drop(work); // plaintext intermediates gone before we report success
    let package_sha256 = obscura_audit::sha256_file(out).map_err(|e| Error::io(out, e))?;
    Ok(ExportOutcome { package: out.to_path_buf(), package_sha256, manifest, clips, audit: None, swept })
}
