//! `obscura export`: one command per data-subject request (access or erasure), producing
//! one sealed package with the clips, the manifest and `report.html`, logged in the audit
//! log. The workflow itself is `obscura_request::export` (with
//! `obscura_request::PipelineRedactor` as the clip redactor); this module parses the flags.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use obscura_pipeline::KeepAt;
use obscura_request::{
    CameraInput, ClipRedactor, Exclusion, ExportRequest, Lang, PipelineRedactor, ReportOptions,
    RequestMode, SealOptions, SiteConfig, SubjectPoint, TimeRef,
};
use obscura_seal::{Date, SigningKey};

use crate::Outcome;
use crate::cmd_seal::{read_passphrase, recipient_public};
use crate::masking_args::MaskingArgs;

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
    /// End of the request window (same forms as --from).
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
    /// Output package (written atomically; an existing file is refused unless --force).
    #[arg(short = 'o', long = "output", alias = "out", value_name = "OUT.obx")]
    pub out: PathBuf,
    /// Overwrite an existing package and its opener page (atomically; never a camera file).
    #[arg(long)]
    pub force: bool,
    /// Recipient public key file (NAME.recipient.pub) or key line; repeatable.
    #[arg(long = "recipient", alias = "to", value_name = "RECIPIENT_PUB")]
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
    /// Inference threads (0, the default: one per core).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub threads: usize,
    /// Print one JSON document on standard output (format `obscura-export/1`, docs/JSON.md);
    /// the steps and warnings go to standard error.
    #[arg(long)]
    pub json: bool,
}

fn cameras(args: &ExportArgs) -> Result<Vec<CameraInput>> {
    let mut v: Vec<CameraInput> = args.files.iter().map(CameraInput::from_path).collect();
    for c in &args.cameras {
        let (name, path) = c
            .split_once('=')
            .with_context(|| format!("--camera {c:?}: expected NAME=PATH"))?;
        v.push(CameraInput {
            name: name.trim().to_string(),
            path: PathBuf::from(path),
        });
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
fn edits_camera(
    path: &Path,
    cams: &[CameraInput],
) -> Result<(String, obscura_review::LoadedEdits)> {
    let l = obscura_review::LoadedEdits::read(path)?;
    let want = l.edits.source.as_ref().and_then(|s| s.sha256.clone());
    for c in cams {
        let sha = obscura_audit::sha256_file(&c.path)
            .with_context(|| format!("{}: cannot read", c.path.display()))?;
        if want
            .as_deref()
            .is_some_and(|w| w.eq_ignore_ascii_case(&sha))
            || (want.is_none() && cams.len() == 1)
        {
            return Ok((c.name.clone(), l));
        }
    }
    match want {
        Some(w) => bail!(
            "{}: was made on a file with sha256 {w}, which is none of the cameras given",
            path.display()
        ),
        None => bail!(
            "{}: names no source sha256, so it cannot be matched to one of {} cameras",
            path.display(),
            cams.len()
        ),
    }
}

/// The request's form of a reviewer's edits for the camera they were made on.
fn clip_review((camera, l): (String, obscura_review::LoadedEdits)) -> obscura_request::ClipReview {
    let keep_at = l.edits.keep_at();
    let notes = l.edits.describe();
    let record = l.record();
    let picks_subject = l.edits.subject.is_some();
    obscura_request::ClipReview {
        camera,
        keep_at,
        notes,
        record,
        picks_subject,
        edits_for: Box::new(move |offset| {
            crate::cmd_review::review_edits(&l, Some(offset)).map_err(|e| e.to_string())
        }),
    }
}

/// Writes the opener page to `dest` (replacing an existing one, atomically, when `force`).
fn write_opener(dest: &Path, force: bool) -> Result<PathBuf> {
    if !force {
        return Ok(obscura_request::opener::write(dest)?);
    }
    let page = obscura_request::opener::page()?;
    Ok(obscura_core::atomic::write_atomically(
        dest,
        page.as_bytes(),
    )?)
}

/// Runs `obscura export`.
pub fn run(args: ExportArgs, quiet: bool) -> Result<Outcome> {
    let cams = cameras(&args)?;
    if args.to.is_empty() && args.passphrase_file.is_none() {
        bail!("give at least one --recipient RECIPIENT_PUB or --passphrase-file");
    }
    for t in &args.to {
        // `--to` once also took the window end; it names a recipient only now.
        if !Path::new(t).exists() && !t.starts_with("obscura-") && TimeRef::from_str(t).is_ok() {
            bail!(
                "--recipient {t}: no such key file (it reads as a time: the end of the request window is --until {t})"
            );
        }
    }
    crate::output::refuse_input(&args.out, cams.iter().map(|c| c.path.as_path()))?;
    let cams_paths: Vec<PathBuf> = cams.iter().map(|c| c.path.clone()).collect();
    // An existing package is refused (and the refusal recorded) by obscura_request::export.
    let mode = match args.mode {
        ModeArg::Access => RequestMode::Access,
        ModeArg::Erasure => RequestMode::Erasure,
    };
    let from = args.from.as_deref().map(TimeRef::from_str).transpose()?;
    let to = args.until.as_deref().map(TimeRef::from_str).transpose()?;
    let exclusions = args
        .exclude
        .iter()
        .map(|e| Exclusion::parse(e, &cams))
        .collect::<std::result::Result<Vec<_>, _>>()?;
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
    let subject_given = !args.keep.is_empty()
        || !args.keep_at.is_empty()
        || args.masking.keep_like.is_some()
        || args.edits.is_some();
    let mut redactor = match mode {
        RequestMode::Erasure => {
            if subject_given {
                bail!("--keep, --keep-at, --keep-like and --edits are for access requests");
            }
            None
        }
        RequestMode::Access => {
            // Bad masking flags are reported before bad --keep-at points.
            args.masking.policy(&args.keep)?;
            let mut points = Vec::new();
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
                points.push(SubjectPoint {
                    camera: cam,
                    at: KeepAt::from_str(spec)?,
                    text: k.clone(),
                });
            }
            let mut settings = args.masking.settings(&args.keep)?;
            settings.threads = crate::output::threads(args.threads, 1);
            let redactor = PipelineRedactor::new(settings, points);
            Some(match &args.edits {
                Some(p) => redactor.with_review(clip_review(edits_camera(p, &cams)?)),
                None => redactor,
            })
        }
    };
    let lang: Lang = args.lang.parse()?;
    let site_path = args.site.clone().or_else(|| {
        std::env::var_os("OBSCURA_SITE")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    let site = site_path
        .as_deref()
        .map(SiteConfig::read_file)
        .transpose()?;
    if site.is_none() && !quiet {
        eprintln!(
            "warning: no site configuration (--site or $OBSCURA_SITE, docs/SITE.md): the report cannot name the controller, DPO or supervisory authority"
        );
    }
    let opener = (!args.no_opener).then(|| obscura_request::opener::path_beside(&args.out));
    if let Some(o) = &opener {
        crate::output::refuse_input(o, cams_paths.iter().map(PathBuf::as_path))?;
        if !args.force && std::fs::symlink_metadata(o).is_ok() {
            bail!(
                "{}: the opener page already exists (not overwritten; pass --force to overwrite it, or --no-opener)",
                o.display()
            );
        }
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
        replace_existing: args.force,
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
    let o = obscura_request::export(
        &req,
        red,
        SealOptions {
            signer: &signer,
            recipients,
            passphrase,
        },
        &args.out,
        Some(&log),
        &mut step,
    )
    .with_context(|| format!("export to {} failed", args.out.display()))?;
    crate::cmd_audit::checkpoint_after(&log, &signer);
    let opener_written = match &opener {
        Some(o) => Some(write_opener(o, args.force).with_context(|| {
            format!(
                "the package {} was written, but its opener page was not",
                o.display()
            )
        })?),
        None => None,
    };
    if args.json {
        crate::output::print_json(
            "export",
            &serde_json::json!({
                "mode": req.mode.as_str(),
                "package": o.package.display().to_string(),
                "export_id": o.manifest.export_id,
                "sha256": o.package_sha256,
                "expires": o.manifest.expires,
                "signer_fingerprint": o.manifest.signer.fingerprint,
                "clips": o.clips.iter().map(|c| serde_json::json!({
                    "name": c.name,
                    "camera": c.camera,
                    "source_start": c.range.start().to_string(),
                    "source_end": c.range.end().to_string(),
                    "frames": c.frames,
                    "masked_persons": c.masked_persons,
                })).collect::<Vec<_>>(),
                "opener": opener_written.as_ref().map(|w| w.display().to_string()),
                "audit": o.audit.as_ref().map(|r| serde_json::json!({
                    "seq": r.seq,
                    "log": log.path().display().to_string(),
                })),
            }),
        )?;
        return Ok(Outcome::Ok);
    }
    println!(
        "exported {} request into {}",
        req.mode.as_str(),
        o.package.display()
    );
    println!("  export id:  {}", o.manifest.export_id);
    println!("  sha256:     {}", o.package_sha256);
    println!(
        "  expires:    {}",
        o.manifest.expires.as_deref().unwrap_or("never")
    );
    println!(
        "  signer:     {} (give this fingerprint to the data subject separately, to compare in the opener)",
        o.manifest.signer.fingerprint
    );
    for c in &o.clips {
        let masked = c
            .masked_persons
            .map(|n| format!(", {n} person(s) masked"))
            .unwrap_or_default();
        println!(
            "  {}: camera {}, source {} .. {}, {} frames{masked}",
            c.name,
            c.camera,
            c.range.start(),
            c.range.end(),
            c.frames
        );
    }
    println!("  report.html");
    if let Some(written) = &opener_written {
        println!(
            "  opener:     {} (open it in a browser to check and decrypt the package offline)",
            written.display()
        );
    }
    if let Some(r) = &o.audit {
        println!("  audit:      record {} in {}", r.seq, log.path().display());
    }
    Ok(Outcome::Ok)
}
