//! The package: the policy record and its plain words, the report, and the sealed container.

use std::path::Path;

use obscura_core::ModelId;
use obscura_seal::{RedactionPolicy, SealBuilder};
use serde_json::json;

use super::clips::Gathered;
use super::request::{ClipRedactor, ExportOutcome, ExportRequest, RequestMode, SealOptions};
use super::sources::Source;
use crate::Error;
use crate::report::{self, ClipReport, ReportData};
use crate::workdir::WorkDir;

/// The signed policy record of the export and the report's words for it: the redactor's
/// policy with the kept ids, models and per-camera facts filled in (access), or the erasure
/// record.
pub(super) fn policy_and_words(
    req: &ExportRequest,
    redactor: Option<&dyn ClipRedactor>,
    g: &mut Gathered,
) -> (RedactionPolicy, Vec<String>) {
    let kept_all = std::mem::take(&mut g.kept_all);
    let models = std::mem::take(&mut g.models);
    let per_camera = std::mem::take(&mut g.per_camera);
    let notes = std::mem::take(&mut g.notes);
    let clip_starts = &g.clip_starts;
    match (req.mode, redactor) {
        (RequestMode::Access, Some(r)) => {
            let mut p = r.policy();
            p.kept_track_ids = kept_all.into_iter().collect();
            p.detector_models = models
                .into_iter()
                .map(|(name, sha256)| ModelId { name, sha256 })
                .collect();
            p.extra.insert("mode".into(), json!("access"));
            p.extra
                .insert("cameras".into(), serde_json::Value::Object(per_camera));
            if !clip_starts.is_empty() {
                p.extra.insert(
                    "clip_start_times".into(),
                    serde_json::Value::Object(clip_starts.clone()),
                );
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
                p.extra.insert(
                    "clip_start_times".into(),
                    serde_json::Value::Object(clip_starts.clone()),
                );
            }
            let mut words = vec![
                "Erasure request: the excluded time ranges were removed frame-exactly (no frame whose time lies in an excluded range is in any clip).".to_string(),
                "Everything else in the request window is exported unchanged in content (re-encoded to H.264), one clip per remaining period.".to_string(),
                "No person is masked in an erasure export.".to_string(),
            ];
            words.extend(notes);
            (p, words)
        }
    }
}

/// Writes the report and seals the clips and the report into `out`; the work folder (the
/// plaintext intermediates) is removed before success is reported.
#[allow(clippy::too_many_arguments)]
pub(super) fn seal_package(
    req: &ExportRequest,
    seal: SealOptions<'_>,
    out: &Path,
    sources: &[Source],
    g: Gathered,
    (policy, policy_words): (RedactionPolicy, Vec<String>),
    (work, swept): (WorkDir, Vec<std::path::PathBuf>),
    on_step: &mut dyn FnMut(&str),
) -> Result<ExportOutcome, Error> {
    let Gathered {
        payloads,
        clips,
        thumbs,
        camera_records,
        camera_reports,
        ..
    } = g;
    on_step("writing the report");
    let created = obscura_audit::now_rfc3339();
    let data = ReportData {
        mode: req.mode,
        reference: req.reference.clone(),
        operator: if req.show_operator {
            req.operator.clone()
        } else {
            None
        },
        created: created.clone(),
        expires: req.expires.to_string(),
        window: (req.from, req.to),
        cameras: camera_reports,
        clips: clips
            .iter()
            .zip(thumbs)
            .map(|(c, t)| ClipReport {
                clip: c.clone(),
                thumbnails: t,
            })
            .collect(),
        policy: policy_words,
        redaction: policy.clone(),
        lang: req.report.lang,
        site: req.report.site.clone(),
    };
    let html = report::render(&data);

    on_step(&format!(
        "sealing {} clip(s) and the report into {}",
        clips.len(),
        out.display()
    ));
    let mut b = SealBuilder::new(seal.signer)
        .expires(req.expires)
        .cameras(camera_records)
        .policy(policy);
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
    for (cam, src) in req.cameras.iter().zip(sources) {
        let _ = cam;
        b = b.source(src.file_name.clone(), src.sha256.clone());
    }
    for (name, path) in &payloads {
        b = b.add_payload_file(name.clone(), "video/mp4", path.clone());
    }
    b = b.add_payload_bytes("report.html", "text/html", html.into_bytes());
    let manifest = b.replace_existing(req.replace_existing).write_to(out)?;
    drop(work); // plaintext intermediates gone before we report success
    let package_sha256 =
        obscura_core::digest::sha256_file_hex(out).map_err(|e| Error::io(out, e))?;
    Ok(ExportOutcome {
        package: out.to_path_buf(),
        package_sha256,
        manifest,
        clips,
        audit: None,
        swept,
    })
}
