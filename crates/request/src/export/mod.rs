//! The export workflow (see the crate docs): [`request`] (the request and outcome types),
//! [`sources`] (each camera's facts, times placed on them, validation), [`clips`] (cutting
//! and redacting per camera), [`package`] (policy record, report, seal); [`export`] runs
//! them and writes the audit record.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use obscura_audit::{Action, AuditLog, Entry};
use obscura_media::{EncoderSettings, Preset};
use serde_json::json;

use crate::Error;
use crate::workdir::{WorkDir, sweep_stale};

mod clips;
mod package;
mod request;
mod sources;

pub use request::{
    CameraInput, ClipRedactor, ClipSummary, Exclusion, ExportOutcome, ExportRequest,
    RedactionSummary, RequestMode, SealOptions,
};

use clips::Gathered;
use sources::{check_exclusions, probe_source, validate, window_of};

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
            if let Some(r) = o
                .manifest
                .policy
                .as_ref()
                .and_then(|p| p.extra.get("review"))
            {
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
    // Stage timings at debug: counts, indexes and milliseconds only (no names, paths or times
    // of the request, which can identify the data subject).
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    validate(req, redactor.is_some())?;
    let (work, swept) = prepare_work(req, out)?;
    tracing::debug!(
        mode = req.mode.as_str(),
        cameras = req.cameras.len(),
        swept = swept.len(),
        ms = ms(t),
        "export: prepared"
    );

    let t = Instant::now();
    let mut sources = Vec::new();
    for cam in &req.cameras {
        on_step(&format!(
            "reading camera {} ({})",
            cam.name,
            cam.path.display()
        ));
        sources.push(probe_source(cam)?);
    }

    tracing::debug!(ms = ms(t), "export: sources probed");

    // The intermediate window cut of an access request: near-lossless, fast.
    let intermediate = EncoderSettings::builder()
        .crf(10)
        .preset(Preset::Ultrafast)
        .audio(req.encoder.audio())
        .build()?;
    let mut g = Gathered::default();
    check_exclusions(req, &sources)?;
    for (ci, (cam, src)) in req.cameras.iter().zip(&sources).enumerate() {
        let t = Instant::now();
        let window_set = window_of(req, cam, src)?;
        let (included, cam_clips) = match req.mode {
            RequestMode::Erasure => {
                clips::erasure_clips(req, ci, cam, src, &window_set, &work, &mut g, on_step)?
            }
            RequestMode::Access => {
                let red = redactor.as_deref_mut().expect("validated");
                clips::access_clip(red, cam, &window_set, &intermediate, &work, &mut g, on_step)?
            }
        };
        g.record_camera(cam, src, included, cam_clips, on_step)?;
        tracing::debug!(
            camera_index = ci,
            clips = g.clips.len(),
            ms = ms(t),
            "export: camera done"
        );
    }
    if g.clips.is_empty() {
        return Err(Error::invalid(
            "erasure request",
            "the exclusions cover all footage of every camera: nothing to export",
        ));
    }

    let t = Instant::now();
    let policy = package::policy_and_words(req, redactor.as_deref(), &mut g);
    let sealed = package::seal_package(req, seal, out, &sources, g, policy, (work, swept), on_step);
    tracing::debug!(ok = sealed.is_ok(), ms = ms(t), "export: package sealed");
    sealed
}

/// Checks the output (its folder exists, it does not), sweeps stale temporaries of dead
/// processes from the output and work folders and creates the private work folder.
fn prepare_work(req: &ExportRequest, out: &Path) -> Result<(WorkDir, Vec<PathBuf>), Error> {
    let out_dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !out_dir.is_dir() {
        return Err(Error::invalid(
            format!("output folder {}", out_dir.display()),
            "does not exist",
        ));
    }
    if !req.replace_existing && fs::symlink_metadata(out).is_ok() {
        return Err(Error::invalid(
            format!("output {}", out.display()),
            "already exists (not overwritten; --force replaces it)",
        ));
    }
    let work_parent = req.work_dir.clone().unwrap_or_else(|| out_dir.clone());
    let mut swept = sweep_stale(&out_dir)?;
    if work_parent != out_dir {
        fs::create_dir_all(&work_parent).map_err(|e| Error::io(&work_parent, e))?;
        swept.extend(sweep_stale(&work_parent)?);
    }
    let work = WorkDir::create(&work_parent)?;
    Ok((work, swept))
}
