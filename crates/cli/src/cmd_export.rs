//! `obscura export`: one command per data-subject request (access or erasure), producing
//! one sealed package with the clips, the manifest and `report.html`, logged in the audit
//! log. The workflow itself is `obscura_request::export`; this module parses the flags and
//! plugs the redaction pipeline in as the request's `ClipRedactor`.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use obscura_core::Timestamp;
use obscura_detect::SessionConfig;
use obscura_detect::models::ModelStore;
use obscura_detect::reid::ReidEmbedder;
use obscura_media::EncoderSettings;
use obscura_pipeline::{AnalyseOptions, KeepAt, KeepLike, Policy, Redactor, builtin_detector};
use obscura_request::{CameraInput, ClipRedactor, Exclusion, ExportRequest, Lang, RedactionSummary, ReportOptions, RequestMode, SealOptions, SiteConfig, TimeRef};
use obscura_seal::{Date, RedactionPolicy, SigningKey};
use serde_json::json;

use crate::Outcome;
use crate::masking_args::MaskingArgs;
use crate::cmd_seal::{read_passphrase, recipient_public};

/// Request type.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModeArg {
    /// Art. 15: the subject's footage in the window, every other person masked.
    Access,
    /// Art. 17: everything except the --exclude ranges, one clip per remaining period.
    Erasure,
}

/// Arguments of `obscura export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Camera files, each named after its file stem (or use --camera NAME=PATH).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// A camera with an explicit name: NAME=PATH. Repeatable.
    #[arg(long = "camera", value_name = "NAME=PATH")]
    pub cameras: Vec<String>,
    /// access or erasure.
    #[arg(long, value_enum)]
    pub mode: ModeArg,
    /// Start of the request window: clip time (HH:MM:SS[.fff] or seconds) or wall clock
    /// (YYYY-MM-DDTHH:MM:SS, UTC; needs a source with a creation time).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// End of the request window (same forms as --from). `--to TIME` works too (see --to).
    #[arg(long = "until", value_name = "TIME")]
    pub until: Option<String>,
    /// Erasure: a range to leave out, A..B (every camera) or CAMERA=A..B. Repeatable.
    #[arg(long, value_name = "[CAMERA=]A..B")]
    pub exclude: Vec<String>,
    /// Access: keep this person visible (person ids as `obscura tracks` lists them for the
    /// window clip; checked on every frame). Repeatable.
    #[arg(long, value_name = "ID")]
    pub keep: Vec<u64>,
    /// Access: keep the person whose box contains X,Y at TIME (clip time of the source).
    /// CAMERA=TIME@X,Y for one camera. Repeatable.
    #[arg(long, value_name = "[CAMERA=]TIME@X,Y")]
    pub keep_at: Vec<String>,
    /// Access: apply a reviewer's edits file (docs/EDITS.md, written by `obscura review` on
    /// the camera's source file): subject, manual masks, splits/merges, un-masked people. The
    /// signed manifest and the audit record name the reviewer and the file's sha256.
    #[arg(long, value_name = "FILE")]
    pub edits: Option<PathBuf>,
    /// Masking (access mode), detection and encoding options.
    #[command(flatten)]
    pub masking: MaskingArgs,
    /// Output package (written atomically; must not exist).
    #[arg(short = 'o', long = "out", value_name = "OUT.obx")]
    pub out: PathBuf,
    /// Recipient public key file or key line (repeatable), or the end of the request
    /// window: a value that is not an existing file and reads as a time (12.5, 00:01:02,
    /// 2026-11-28T10:15:00) is the window end, anything else a recipient.
    #[arg(long = "to", visible_alias = "recipient", value_name = "RECIPIENT_PUB|TIME")]
    pub to: Vec<String>,
    /// Also (or only) encrypt to the passphrase on the first line of this file.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Signing secret key file (NAME.sign.key).
    #[arg(long, value_name = "SIGNING_KEY")]
    pub sign: PathBuf,
    /// Passphrase file unlocking a passphrase-protected signing key.
    #[arg(long, value_name = "FILE")]
    pub key_passphrase_file: Option<PathBuf>,
    /// Retention expiry: last day (UTC) the package may be opened (default: today plus
    /// --retention-days).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub expires: Option<String>,
    /// Erasure: accept an --exclude that removes nothing from the footage (outside every
    /// camera's recording in the window). Without it that is an error naming the exclusion.
    #[arg(long)]
    pub allow_empty_exclusion: bool,
    /// Retention in days when --expires is not given.
    #[arg(long, default_value_t = obscura_request::DEFAULT_RETENTION_DAYS, value_name = "N")]
    pub retention_days: u32,
    /// Request reference (case number).
    #[arg(long, value_name = "REQ")]
    pub reference: Option<String>,
    /// Pseudonymous operator id (manifest and audit log).
    #[arg(long, value_name = "PSEUDONYM")]
    pub operator: Option<String>,
    /// Print the operator id in the report too.
    #[arg(long)]
    pub show_operator: bool,
    /// Language of the report for the data subject: en or de.
    #[arg(long, default_value = "en", value_name = "en|de")]
    pub lang: String,
    /// Site configuration (controller, contact, DPO, purpose, supervisory authority; see
    /// docs/SITE.md). Default: $OBSCURA_SITE.
    #[arg(long, value_name = "SITE.toml")]
    pub site: Option<PathBuf>,
    /// Do not write the offline opener page (OUT.opener.html) beside the package.
    #[arg(long)]
    pub no_opener: bool,
    /// Audit log (default: $OBSCURA_AUDIT_LOG, $XDG_STATE_HOME/obscura/audit.jsonl or
    /// ~/.local/state/obscura/audit.jsonl).
    #[arg(long, value_name = "PATH")]
    pub audit_log: Option<PathBuf>,
    /// Folder for the private work folder (default: the output's folder).
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
    /// Inference threads.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

/// The redaction pipeline as the request's clip redactor.
struct PipelineRedactor {
    store: ModelStore,
    options: AnalyseOptions,
    policy: Policy,
    style: String,
    zones: usize,
    keep: Vec<u64>,
    keep_at: Vec<(Option<String>, KeepAt, String)>,
    keep_like: Option<(obscura_core::Frame, f32)>,
    encoder: EncoderSettings,
    threads: usize,
    /// The review and the camera it was made on.
    review: Option<(String, obscura_review::LoadedEdits)>,
}

impl ClipRedactor for PipelineRedactor {
    fn redact(&mut self, camera: &str, input: &Path, output: &Path, offset: Timestamp) -> std::result::Result<RedactionSummary, String> {
        let mut det_cfg = self.options.detector;
        det_cfg.person.session.intra_threads = self.threads;
        det_cfg.face.session.intra_threads = self.threads;
        let detector = builtin_detector(&self.store, self.policy.targets(), &det_cfg).map_err(|e| e.to_string())?;
        let mut options = self.options.clone();
        options.detector = det_cfg;
        let mut b = Redactor::builder().detector(detector).analysis(options).policy(self.policy.clone()).encoder(self.encoder.clone());
        let mut notes = Vec::new();
        for (cam, at, text) in &self.keep_at {
            if cam.as_deref().is_some_and(|c| c != camera) {
                continue;
            }
            // Source clip time -> time in the window clip (which starts at `offset`).
            let us = |t: Timestamp| t.rescale_floor(obscura_core::Rational::MICROS).ticks;
            let rel = us(at.time) - us(offset);
            if rel < 0 {
                return Err(format!("--keep-at {text}: the time lies before the request window"));
            }
            b = b.keep_at(KeepAt { time: Timestamp::new(rel, obscura_core::Rational::MICROS), ..*at });
            notes.push(format!("the data subject is the person at ({:.0}, {:.0}) at clip time {}", at.x, at.y, at.time));
        }
        if let Some((_, l)) = self.review.as_ref().filter(|(cam, _)| cam == camera) {
            for at in l.edits.keep_at() {
                let at = crate::cmd_review::shift_keep_at(at, offset).ok_or_else(|| format!("{}: a person's time lies before the request window", l.path.display()))?;
                b = b.keep_at(at);
            }
            b = b.review(crate::cmd_review::review_edits(l, Some(offset)).map_err(|e| e.to_string())?);
            notes.extend(l.edits.describe());
        }
        if let Some((photo, threshold)) = &self.keep_like {
            let embedder = ReidEmbedder::new(&self.store, SessionConfig { intra_threads: self.threads, ..SessionConfig::default() }).map_err(|e| e.to_string())?;
            b = b.keep_like(KeepLike { photo: photo.clone(), embedder: Box::new(embedder), threshold: *threshold, crops_per_track: 4 });
        }
        // People, not track ids: identities and the per-frame check need appearance.
        if !self.policy.keep().is_empty() || !notes.is_empty() {
            let embedder = ReidEmbedder::new(&self.store, SessionConfig { intra_threads: self.threads, ..SessionConfig::default() }).map_err(|e| e.to_string())?;
            b = b.embedder(embedder);
        }
        let mut r = b.build().map_err(|e| e.to_string())?;
        let rep = r.redact(input, output).map_err(|e| {
            // The pipeline names the window clip (a private temporary) and its times.
            let text = e.to_string().replace(&input.display().to_string(), &format!("camera {camera}"));
            format!("{text} (frame numbers and times here count from the request window's start, source time {offset})")
        })?;
        for m in rep.matches.iter().filter(|m| m.matched) {
            notes.push(format!("person {} matched the reference photo (similarity {:.2})", m.track, m.similarity));
        }
        if rep.subject_frames > 0 {
            notes.push(format!(
                "the data subject is visible on {} of the {} frames they are in; masked where they could not be confirmed to be them ({} frames)",
                rep.subject_frames - rep.subject_uncertain_frames,
                rep.subject_frames,
                rep.subject_uncertain_frames
            ));
        }
        if rep.kept.is_empty() {
            notes.push("no person was kept visible: everyone detected is masked".into());
        }
        notes.push(if rep.every == 1 { "detection ran on every frame".to_string() } else { format!("detection ran on one frame in {}", rep.every) });
        use obscura_core::ObjectClass;
        Ok(RedactionSummary {
            frames: rep.frames,
            kept_tracks: rep.kept.clone(),
            masked_persons: rep.masked.iter().filter(|(_, c)| *c == ObjectClass::Person).map(|(t, _)| *t).collect(),
            masked_faces: rep.masked.iter().filter(|(_, c)| *c == ObjectClass::Face).map(|(t, _)| *t).collect(),
            notes,
            models: rep.models.iter().map(|m| (m.name.clone(), m.sha256.clone())).collect(),
        })
    }

    fn describe(&self) -> Vec<String> {
        let t = self.policy.targets();
        let what = match (t.person, t.face) {
            (true, true) => "every detected person (whole body) and every detected face",
            (true, false) => "every detected person (whole body)",
            _ => "every detected face",
        };
        let mut v = vec![format!("Access request: {what} is masked ({}) in every frame, except the data subject.", self.style)];
        let mut how = Vec::new();
        if !self.keep.is_empty() {
            how.push(format!("person ids {:?} (as `obscura tracks` lists them)", self.keep));
        }
        if !self.keep_at.is_empty() {
            how.push(format!("{} point(s) in time and space ({})", self.keep_at.len(), self.keep_at.iter().map(|k| k.2.as_str()).collect::<Vec<_>>().join(", ")));
        }
        if let Some((_, th)) = &self.keep_like {
            how.push(format!("appearance similarity to a reference photo of at least {th:.2}"));
        }
        if let Some((_, l)) = &self.review
            && l.edits.subject.is_some()
        {
            how.push("a reviewer's pick on the review page".to_string());
        }
        if how.is_empty() {
            v.push("No data subject was selected: every person is masked.".into());
        } else {
            v.push(format!("The data subject was selected by {}.", how.join(" and ")));
        }
        v.push("Fail closed: any detection not confidently part of the subject's track is masked, and the subject's box never unmasks another person overlapping it.".into());
        v.push(format!(
            "Detection runs on {}; between detections boxes are tracked and held for {:.1} s after a person is lost.",
            match (self.options.detect_rate, self.options.every) {
                (Some(r), _) => format!("at least {r} frames per second of video (one frame in N, N set from each camera's frame rate)"),
                (None, 1) => "every frame".to_string(),
                (None, n) => format!("one frame in {n}"),
            },
            self.options.hold_seconds.unwrap_or(0.0)
        ));
        if self.zones > 0 {
            v.push(format!("{} static privacy zone(s) are masked in every frame.", self.zones));
        }
        v.push("Only the request window is exported; the window was cut frame-exactly before masking.".into());
        v
    }

    fn policy(&self) -> RedactionPolicy {
        let c = &self.options.detector;
        let mut p = RedactionPolicy::default();
        p.thresholds.insert("person_score".into(), c.person.score_threshold.into());
        p.thresholds.insert("face_score".into(), c.face.score_threshold.into());
        let t = self.policy.targets();
        if t.person {
            p.styles.insert("person".into(), self.style.clone());
        }
        if t.face {
            p.styles.insert("face".into(), self.style.clone());
        }
        match self.options.detect_rate {
            Some(r) => p.extra.insert("detect_rate_per_second".into(), json!(r)),
            None => p.extra.insert("every".into(), json!(self.options.every)),
        };
        p.extra.insert("zones".into(), json!(self.zones));
        p.extra.insert("keep_at".into(), json!(self.keep_at.iter().map(|k| k.2.clone()).collect::<Vec<_>>()));
        if let Some((_, th)) = &self.keep_like {
            p.extra.insert("keep_like_similarity".into(), json!(th));
        }
        if let Some((cam, l)) = &self.review {
            let mut r = l.record();
            r["camera"] = json!(cam);
            p.extra.insert("review".into(), r);
        }
        p
    }
}

fn cameras(args: &ExportArgs) -> Result<Vec<CameraInput>> {
    let mut v: Vec<CameraInput> = args.files.iter().map(CameraInput::from_path).collect();
    for c in &args.cameras {
        let (name, path) = c.split_once('=').with_context(|| format!("--camera {c:?}: expected NAME=PATH"))?;
        v.push(CameraInput { name: name.trim().to_string(), path: PathBuf::from(path) });
    }
    if v.is_empty() {
        bail!("give at least one camera file (FILE or --camera NAME=PATH)");
    }
    for c in &v {
        if !c.path.is_file() {
            bail!("{}: no such file (camera {})", c.path.display(), c.name);
        }
    }
    Ok(v)
}

/// Reads `--edits FILE` and finds its camera: the one whose file it was made on (by sha256),
/// or the only camera.
fn edits_camera(path: &Path, cams: &[CameraInput]) -> Result<(String, obscura_review::LoadedEdits)> {
    let l = obscura_review::LoadedEdits::read(path)?;
    let want = l.edits.source.as_ref().and_then(|s| s.sha256.clone());
    for c in cams {
        let sha = obscura_audit::sha256_file(&c.path).with_context(|| format!("{}: cannot read", c.path.display()))?;
        if want.as_deref().is_some_and(|w| w.eq_ignore_ascii_case(&sha)) || (want.is_none() && cams.len() == 1) {
            return Ok((c.name.clone(), l));
        }
    }
    match want {
        Some(w) => bail!("{}: was made on a file with sha256 {w}, which is none of the cameras given", path.display()),
        None => bail!("{}: names no source sha256, so it cannot be matched to one of {} cameras", path.display(), cams.len()),
    }
}

/// Runs `obscura export`.
pub fn run(args: ExportArgs, quiet: bool) -> Result<Outcome> {
    let cams = cameras(&args)?;
    let mut args = args;
    let mut recipients_args = Vec::new();
    for t in std::mem::take(&mut args.to) {
        let is_time = !Path::new(&t).exists() && !t.starts_with("obscura-") && TimeRef::from_str(&t).is_ok();
        if is_time {
            if args.until.is_some() {
                bail!("the request window end is given twice (--to {t} and --until/--to)");
            }
            args.until = Some(t);
        } else {
            recipients_args.push(t);
        }
    }
    args.to = recipients_args;
    if args.to.is_empty() && args.passphrase_file.is_none() {
        bail!("give at least one --to RECIPIENT_PUB or --passphrase-file");
    }
    let mode = match args.mode {
        ModeArg::Access => RequestMode::Access,
        ModeArg::Erasure => RequestMode::Erasure,
    };
    let from = args.from.as_deref().map(TimeRef::from_str).transpose()?;
    let to = args.until.as_deref().map(TimeRef::from_str).transpose()?;
    let exclusions = args.exclude.iter().map(|e| Exclusion::parse(e, &cams)).collect::<std::result::Result<Vec<_>, _>>()?;
    let expires = match &args.expires {
        Some(e) => {
            let d = Date::parse(e)?;
            if d < Date::today_utc() {
                bail!("--expires {e} is in the past");
            }
            d
        }
        None => Date::today_utc().plus_days(i64::from(args.retention_days)),
    };
    let encoder = args.masking.encoder()?;
    let subject_given = !args.keep.is_empty() || !args.keep_at.is_empty() || args.masking.keep_like.is_some() || args.edits.is_some();
    let mut redactor = match mode {
        RequestMode::Erasure => {
            if subject_given {
                bail!("--keep, --keep-at, --keep-like and --edits are for access requests");
            }
            None
        }
        RequestMode::Access => {
            let (policy, targets) = args.masking.policy(&args.keep)?;
            let mut keep_at = Vec::new();
            for k in &args.keep_at {
                let (cam, spec) = match k.split_once('=') {
                    Some((c, s)) => {
                        if !cams.iter().any(|x| x.name == c) {
                            bail!("--keep-at {k}: no camera {c:?}");
                        }
                        (Some(c.to_string()), s)
                    }
                    None => (None, k.as_str()),
                };
                keep_at.push((cam, KeepAt::from_str(spec)?, k.clone()));
            }
            let keep_like = args.masking.keep_like()?;
            let store = args.masking.model_store()?;
            let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
            let options = args.masking.analyse_options(targets)?;
            let review = match &args.edits {
                Some(p) => Some(edits_camera(p, &cams)?),
                None => None,
            };
            Some(PipelineRedactor {
                store,
                options,
                policy,
                style: args.masking.style.clone(),
                zones: args.masking.zone.len(),
                keep: args.keep.clone(),
                keep_at,
                keep_like,
                encoder: encoder.clone(),
                threads,
                review,
            })
        }
    };
    let lang: Lang = args.lang.parse()?;
    let site_path = args.site.clone().or_else(|| std::env::var_os("OBSCURA_SITE").filter(|v| !v.is_empty()).map(PathBuf::from));
    let site = site_path.as_deref().map(SiteConfig::read_file).transpose()?;
    if site.is_none() && !quiet {
        eprintln!("warning: no site configuration (--site or $OBSCURA_SITE, docs/SITE.md): the report cannot name the controller, DPO or supervisory authority");
    }
    let opener = (!args.no_opener).then(|| obscura_request::opener::path_beside(&args.out));
    if let Some(o) = &opener
        && std::fs::symlink_metadata(o).is_ok()
    {
        bail!("{}: the opener page already exists (never overwritten; remove it or use --no-opener)", o.display());
    }
    let req = ExportRequest {
        cameras: cams,
        from,
        to,
        mode,
        exclusions,
        reference: args.reference.clone(),
        operator: args.operator.clone(),
        show_operator: args.show_operator,
        expires,
        encoder,
        work_dir: args.work_dir.clone(),
        allow_empty_exclusions: args.allow_empty_exclusion,
        report: ReportOptions { lang, site },
    };
    let key_pass = read_passphrase(args.key_passphrase_file.as_ref())?;
    let signer = SigningKey::read_file(&args.sign, key_pass.as_ref())?;
    let mut recipients = Vec::new();
    for t in &args.to {
        recipients.push(recipient_public(t)?);
    }
    let passphrase = read_passphrase(args.passphrase_file.as_ref())?;
    let log = obscura_audit::AuditLog::resolve(args.audit_log.as_deref())?;
    let mut step = |s: &str| {
        if !quiet {
            eprintln!("  {s}");
        }
    };
    let red: Option<&mut dyn ClipRedactor> = redactor.as_mut().map(|r| r as &mut dyn ClipRedactor);
    let o = obscura_request::export(&req, red, SealOptions { signer: &signer, recipients, passphrase }, &args.out, Some(&log), &mut step)
        .with_context(|| format!("export to {} failed", args.out.display()))?;
    crate::cmd_audit::checkpoint_after(&log, &signer);
    println!("exported {} request into {}", req.mode.as_str(), o.package.display());
    println!("  export id:  {}", o.manifest.export_id);
    println!("  sha256:     {}", o.package_sha256);
    println!("  expires:    {}", o.manifest.expires.as_deref().unwrap_or("never"));
    println!("  signer:     {} (give this fingerprint to the data subject separately, to compare in the opener)", o.manifest.signer.fingerprint);
    for c in &o.clips {
        let masked = c.masked_persons.map(|n| format!(", {n} person(s) masked")).unwrap_or_default();
        println!("  {}: camera {}, source {} .. {}, {} frames{masked}", c.name, c.camera, c.range.start(), c.range.end(), c.frames);
    }
    println!("  report.html");
    if let Some(o) = &opener {
        let written = obscura_request::opener::write(o).with_context(|| format!("the package {} was written, but its opener page was not", o.display()))?;
        println!("  opener:     {} (open it in a browser to check and decrypt the package offline)", written.display());
    }
    if let Some(r) = &o.audit {
        println!("  audit:      record {} in {}", r.seq, log.path().display());
    }
    Ok(Outcome::Ok)
}
