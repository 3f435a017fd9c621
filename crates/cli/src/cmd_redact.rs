//! `obscura redact`: mask every person who is not the data subject, in videos, stills
//! (JPEG/PNG) and batches of them.
//!
//! One input: `-o` is the output file. Several inputs or a folder: `-o` is a folder; files
//! run in parallel (`--jobs`, default one per core, inference threads split so the total
//! stays within the cores), one overall progress bar plus one per file, and a result table
//! at the end. A file that fails does not stop the others; the exit code is then 2.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use obscura_core::atomic::sweep_stale_temps;
use obscura_media::{DecodeOptions, Decoder};
use obscura_pipeline::{
    KeepAt, Mode, Progress, RedactReport, RedactionSettings, SheetSpec, is_still,
};
use serde::Serialize;

use crate::Outcome;
use crate::masking_args::MaskingArgs;

/// Arguments of `obscura redact`.
#[derive(Args, Debug)]
pub struct RedactArgs {
    /// Videos, JPEG/PNG stills, or folders of them (never modified).
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// With a folder input, also redact the videos and stills in its sub-folders (outputs
    /// mirror the sub-folders). Without it sub-folders are skipped, and listed as skipped.
    #[arg(long)]
    pub recursive: bool,
    /// Output file (one input) or folder (several inputs or a folder; created if missing).
    /// An existing output file is refused unless --force. Not with --dry-run-sheet (a dry
    /// run writes no video).
    #[arg(
        short,
        long,
        value_name = "OUT",
        required_unless_present = "dry_run_sheet",
        conflicts_with = "dry_run_sheet"
    )]
    pub output: Option<PathBuf>,
    /// Overwrite existing output files (and contact sheets), atomically; an input is never
    /// overwritten.
    #[arg(long)]
    pub force: bool,
    /// Keep (leave visible) this person, by the person id `obscura tracks` lists on the same
    /// input with the same --every, --targets and --hold; their boxes stay visible only where
    /// checked to be them. Repeatable. One input only.
    #[arg(long, value_name = "ID")]
    pub keep: Vec<u64>,
    /// Keep the person whose box contains pixel X,Y at TIME (seconds or HH:MM:SS.fff; the
    /// nearest frame), e.g. `12.5@320,240`. Repeatable. One input only.
    #[arg(long, value_name = "TIME@X,Y")]
    pub keep_at: Vec<String>,
    /// Masking, detection and encoding options.
    #[command(flatten)]
    pub masking: MaskingArgs,
    /// Dry run: mask exactly as a real run would but encode nothing, and write a contact
    /// sheet of 12 evenly spaced masked frames, each labelled with its frame number and source
    /// time, to this PNG (a folder for several inputs). Replaces -o.
    #[arg(long, value_name = "OUT.png")]
    pub dry_run_sheet: Option<PathBuf>,
    /// Apply a reviewer's edits file (docs/EDITS.md, written by `obscura review`): the
    /// subject, manual masks, splits/merges and un-masked people. One video input only;
    /// recorded in the audit log.
    #[arg(long, value_name = "FILE")]
    pub edits: Option<PathBuf>,
    /// Print one JSON document on standard output (format `obscura-redact/1`, or
    /// `obscura-redact-batch/1` for several inputs; docs/JSON.md) instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Only the first N frames of each video are redacted and written.
    #[arg(long, value_name = "N")]
    pub frames: Option<u64>,
    /// Always analyse first, then mask (the default does one streaming pass unless
    /// --keep-at or --keep-like need the tracks first).
    #[arg(long)]
    pub two_pass: bool,
    /// Files processed at the same time (default: one per core, at most the file count).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Inference threads per file (0, the default: one per core, divided among the --jobs
    /// files redacted at the same time).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub threads: usize,
    /// Audit log (default: $OBSCURA_AUDIT_LOG, $XDG_STATE_HOME/obscura/audit.jsonl or
    /// ~/.local/state/obscura/audit.jsonl). One `redact` record per run: file names and
    /// SHA-256 of inputs and outputs, frame and track counts, never footage content. It is
    /// checked before any work; if the record cannot be written, the outputs are removed. With
    /// --edits, a `review` record follows.
    #[arg(long, value_name = "LOG")]
    pub audit_log: Option<PathBuf>,
}

const VIDEO_EXTENSIONS: &[&str] = &[
    "mp4", "m4v", "mov", "mkv", "avi", "webm", "ts", "mts", "mpg", "mpeg", "wmv", "flv", "gif",
];

/// One unit of work.
#[derive(Debug, Clone)]
struct Job {
    input: PathBuf,
    output: PathBuf,
    sheet: Option<PathBuf>,
}

/// How one file ended.
#[derive(Debug, Serialize)]
struct FileResult {
    #[serde(serialize_with = "obscura_media::serialize_path_lossy")]
    input: PathBuf,
    #[serde(serialize_with = "obscura_media::serialize_path_lossy")]
    output: PathBuf,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<RedactReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sheet: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// With --edits: the review (reviewer, edits sha256, un-mask reasons), the sentences of
    /// the report and the audit record's number.
    #[serde(skip_serializing_if = "Option::is_none")]
    review: Option<serde_json::Value>,
}

fn has_ext(p: &Path, list: &[&str]) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| list.contains(&e.to_ascii_lowercase().as_str()))
}

fn plan(args: &RedactArgs) -> anyhow::Result<(Vec<Job>, bool)> {
    // A dry run writes its sheet(s) where the output would be.
    let output = args
        .output
        .clone()
        .or_else(|| args.dry_run_sheet.clone())
        .context("give -o OUT or --dry-run-sheet OUT.png")?;
    let mut files = Vec::new();
    let mut folder_given = false;
    for p in &args.inputs {
        if p.is_dir() {
            folder_given = true;
            let mut skipped = Vec::new();
            let mut found = Vec::new();
            scan_folder(p, Path::new(""), args.recursive, &mut found, &mut skipped)?;
            found.sort();
            for (entry, why) in &skipped {
                eprintln!("obscura: note: skipped {}: {why}", entry.display());
            }
            if found.is_empty() {
                bail!(
                    "{}: no videos or JPEG/PNG stills in the folder{}",
                    p.display(),
                    if skipped.is_empty() {
                        ""
                    } else {
                        " (skipped entries listed above)"
                    }
                );
            }
            files.extend(found);
        } else {
            // One line naming the file and what it really is (missing, a device, empty...).
            obscura_media::check_input_file(p)?;
            files.push((p.clone(), PathBuf::new()));
        }
    }
    let batch = folder_given || files.len() > 1 || output.is_dir();
    if !batch {
        let (input, _) = files.remove(0);
        if is_still(&input) && !is_still(&output) {
            bail!(
                "{}: a still image needs a .jpg, .jpeg or .png output, got {}",
                input.display(),
                output.display()
            );
        }
        return Ok((
            vec![Job {
                input,
                output: output.clone(),
                sheet: args.dry_run_sheet.clone(),
            }],
            false,
        ));
    }
    if !args.keep.is_empty() || !args.keep_at.is_empty() || args.edits.is_some() {
        bail!(
            "--keep, --keep-at and --edits name people of one video; give one input (or use --keep-like for a batch)"
        );
    }
    std::fs::create_dir_all(&output)
        .with_context(|| format!("{}: cannot create the output folder", output.display()))?;
    if let Some(s) = &args.dry_run_sheet {
        std::fs::create_dir_all(s)
            .with_context(|| format!("{}: cannot create the sheet folder", s.display()))?;
    }
    let mut seen = BTreeSet::new();
    let mut jobs = Vec::new();
    for (input, sub) in files {
        let name = if is_still(&input) {
            input.file_name().map(PathBuf::from).unwrap_or_default()
        } else {
            PathBuf::from(input.file_stem().unwrap_or_default()).with_extension("mp4")
        };
        // --recursive: outputs mirror the sub-folders of the input folder.
        let name = sub.join(name);
        if !sub.as_os_str().is_empty() {
            let d = output.join(&sub);
            std::fs::create_dir_all(&d)
                .with_context(|| format!("{}: cannot create the output folder", d.display()))?;
            if let Some(s) = &args.dry_run_sheet {
                std::fs::create_dir_all(s.join(&sub)).with_context(|| {
                    format!("{}: cannot create the sheet folder", s.join(&sub).display())
                })?;
            }
        }
        if !seen.insert(name.clone()) {
            bail!(
                "two inputs would both be written to {}; rename one",
                output.join(&name).display()
            );
        }
        let output = output.join(&name);
        let sheet = if is_still(&input) {
            None
        } else {
            args.dry_run_sheet
                .as_ref()
                .map(|d| d.join(name.with_extension("sheet.png")))
        };
        jobs.push(Job {
            input,
            output,
            sheet,
        });
    }
    Ok((jobs, true))
}

/// Lists the videos and stills of `dir` (relative output folder `sub`) into `found`, and
/// every entry left out, with the reason, into `skipped`: hidden entries, files of other
/// types, and sub-folders (descended into with `recursive`; symbolic links to folders are
/// never followed, so a link loop cannot trap the scan).
fn scan_folder(
    dir: &Path,
    sub: &Path,
    recursive: bool,
    found: &mut Vec<(PathBuf, PathBuf)>,
    skipped: &mut Vec<(PathBuf, &'static str)>,
) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot list the folder", dir.display()))?;
    for e in entries {
        let e = e.with_context(|| format!("{}: cannot list the folder", dir.display()))?;
        let path = e.path();
        if e.file_name().as_encoded_bytes().starts_with(b".") {
            skipped.push((path, "hidden"));
            continue;
        }
        let Ok(ft) = e.file_type() else {
            skipped.push((path, "cannot read its type"));
            continue;
        };
        if ft.is_dir() {
            if recursive {
                scan_folder(&path, &sub.join(e.file_name()), true, found, skipped)?;
            } else {
                skipped.push((
                    path,
                    "a sub-folder (use --recursive to include sub-folders)",
                ));
            }
            continue;
        }
        let is_file = std::fs::metadata(&path).is_ok_and(|m| m.is_file());
        if ft.is_symlink() && std::fs::metadata(&path).is_ok_and(|m| m.is_dir()) {
            skipped.push((path, "a link to a folder (not followed)"));
        } else if !is_file {
            skipped.push((path, "not a regular file"));
        } else if is_still(&path) || has_ext(&path, VIDEO_EXTENSIONS) {
            found.push((path, sub.to_path_buf()));
        } else {
            skipped.push((path, "not a video or JPEG/PNG still (by its extension)"));
        }
    }
    Ok(())
}

fn bar_style(per_file: bool) -> ProgressStyle {
    let t = if per_file {
        "  {msg:<32!} [{bar:30}] {pos}/{len} {per_sec}"
    } else {
        "{msg:>12} [{bar:40}] {pos}/{len} frames ({per_sec}, ETA {eta})"
    };
    ProgressStyle::with_template(t)
        .expect("static template")
        .progress_chars("=> ")
}

fn frame_estimate(path: &Path, limit: Option<u64>) -> u64 {
    if is_still(path) {
        return 1;
    }
    let n = Decoder::open(path, &DecodeOptions::default())
        .ok()
        .and_then(|d| d.info().frame_count)
        .unwrap_or(0);
    limit.map_or(n, |l| n.min(l))
}

/// Runs one file with its own detector (and embedder), reporting progress to `bar` and
/// `overall`.
fn run_one(
    job: &Job,
    settings: &RedactionSettings,
    bar: &ProgressBar,
    overall: &ProgressBar,
) -> Result<(RedactReport, Option<PathBuf>), String> {
    let (b, o) = (bar.clone(), overall.clone());
    let last = Arc::new(Mutex::new((0u32, 0u64)));
    let builder = settings
        .builder()
        .map_err(|e| e.to_string())?
        .progress(move |p: &Progress| {
            let mut l = last.lock().unwrap_or_else(|e| e.into_inner());
            let delta = if l.0 == p.pass_number {
                p.frames_done.saturating_sub(l.1)
            } else {
                p.frames_done
            };
            *l = (p.pass_number, p.frames_done);
            if let Some(t) = p.frames_total {
                b.set_length(t.max(p.frames_done));
            }
            b.set_position(p.frames_done);
            b.set_message(
                format!(
                    "{} ({}/{} {:?})",
                    b.prefix(),
                    p.pass_number,
                    p.passes,
                    p.pass
                )
                .to_lowercase(),
            );
            o.inc(delta);
        });
    let mut redactor = builder.build().map_err(|e| e.to_string())?;
    if is_still(&job.input) {
        let rep = redactor
            .redact_still(&job.input, &job.output)
            .map_err(|e| e.to_string())?;
        overall.inc(1);
        return Ok((rep, None));
    }
    if let Some(s) = &job.sheet {
        let rep = redactor
            .dry_run(&job.input, s, SheetSpec::default())
            .map_err(|e| e.to_string())?;
        return Ok((rep, Some(s.clone())));
    }
    let rep = redactor
        .redact(&job.input, &job.output)
        .map_err(|e| e.to_string())?;
    Ok((rep, None))
}

/// Refuses outputs (and sheets) that exist without --force, and any that is an input.
fn check_outputs(jobs: &[Job], force: bool) -> anyhow::Result<()> {
    let inputs: Vec<&Path> = jobs.iter().map(|j| j.input.as_path()).collect();
    for j in jobs {
        // A dry run writes only its sheet.
        let written = match &j.sheet {
            Some(s) => s,
            None => &j.output,
        };
        crate::output::check_output(written, force, inputs.iter().copied())?;
    }
    Ok(())
}

/// Runs `obscura redact`.
pub fn run(args: RedactArgs, quiet: bool) -> anyhow::Result<Outcome> {
    let (jobs, batch) = plan(&args)?;
    check_outputs(&jobs, args.force)?;
    let log = crate::cmd_audit::preflight(args.audit_log.as_deref())?;
    let mut keep_at = args
        .keep_at
        .iter()
        .map(|s| KeepAt::from_str(s))
        .collect::<Result<Vec<_>, _>>()?;
    let edits = crate::cmd_review::load_edits_for(args.edits.as_deref(), &jobs[0].input)?;
    let review = match &edits {
        Some(l) => {
            keep_at.extend(l.edits.keep_at());
            crate::cmd_review::review_edits(l, None)?
        }
        None => obscura_pipeline::ReviewEdits::default(),
    };
    let mut settings = args.masking.settings(&args.keep)?;
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let jobs_n = args.jobs.unwrap_or(cores).clamp(1, jobs.len().max(1));
    settings.threads = crate::output::threads(args.threads, jobs_n);
    settings.keep_at = keep_at;
    settings.max_frames = args.frames;
    settings.mode = if args.two_pass {
        Mode::TwoPass
    } else {
        Mode::Auto
    };
    settings.review = review;
    for j in &jobs {
        if let Some(dir) = j.output.parent().filter(|d| d.is_dir()) {
            let _ = sweep_stale_temps(dir);
        }
    }

    let multi = MultiProgress::new();
    if quiet {
        multi.set_draw_target(ProgressDrawTarget::hidden());
    }
    let total: u64 = jobs
        .iter()
        .map(|j| frame_estimate(&j.input, args.frames))
        .sum();
    let passes = if !settings.keep_at.is_empty() || settings.keep_like.is_some() || args.two_pass {
        2
    } else {
        1
    };
    let overall = multi.add(ProgressBar::new(total * passes));
    overall.set_style(bar_style(false));
    overall.set_message("redacting");
    let started = Instant::now();
    let queue = Mutex::new(
        jobs.iter()
            .enumerate()
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>(),
    );
    let results: Mutex<Vec<(usize, FileResult)>> = Mutex::new(Vec::new());
    let done = AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..jobs_n {
            s.spawn(|| {
                loop {
                    let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop();
                    let Some((i, job)) = next else { break };
                    let bar = if batch {
                        multi.add(ProgressBar::new(0))
                    } else {
                        multi.add(ProgressBar::hidden())
                    };
                    bar.set_style(bar_style(true));
                    let name = job
                        .input
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    bar.set_prefix(name.clone());
                    bar.set_message(name);
                    let r = run_one(job, &settings, &bar, &overall);
                    bar.finish_and_clear();
                    multi.remove(&bar);
                    done.fetch_add(1, Ordering::SeqCst);
                    let fr = match r {
                        Ok((report, sheet)) => FileResult {
                            input: job.input.clone(),
                            output: job.output.clone(),
                            ok: true,
                            report: Some(report),
                            sheet,
                            error: None,
                            review: None,
                        },
                        Err(e) => {
                            if batch && !quiet {
                                let _ = multi.println(format!("failed: {e}"));
                            }
                            FileResult {
                                input: job.input.clone(),
                                output: job.output.clone(),
                                ok: false,
                                report: None,
                                sheet: None,
                                error: Some(e),
                                review: None,
                            }
                        }
                    };
                    results
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((i, fr));
                }
            });
        }
    });
    overall.finish_and_clear();
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(i, _)| *i);
    let mut results: Vec<FileResult> = results.into_iter().map(|(_, r)| r).collect();
    let failed = results.iter().filter(|r| !r.ok).count();
    let secs = started.elapsed().as_secs_f64();
    record_run(&log, &args, &results)?;

    if !batch {
        let r = &mut results[0];
        if let Some(e) = &r.error {
            bail!("{e}");
        }
        if let Some(l) = &edits {
            let rec =
                crate::cmd_review::audit_review(args.audit_log.as_deref(), l, &r.input, &r.output)?;
            let notes = l.edits.describe();
            for line in &notes {
                eprintln!("review: {line}");
            }
            eprintln!(
                "review: recorded as audit record {} (edits sha256 {})",
                rec.seq, l.sha256
            );
            let mut v = l.record();
            v["notes"] = serde_json::json!(notes);
            v["audit_seq"] = serde_json::json!(rec.seq);
            r.review = Some(v);
        }
    }
    if args.json {
        if batch {
            #[derive(Serialize)]
            struct Summary<'a> {
                files: &'a [FileResult],
                ok: usize,
                failed: usize,
                seconds: f64,
            }
            crate::output::print_json(
                "redact-batch",
                &Summary {
                    files: &results,
                    ok: results.len() - failed,
                    failed,
                    seconds: secs,
                },
            )?;
        } else {
            crate::output::print_json("redact", &results[0])?;
        }
        // The warnings of the table, on standard error.
        for r in &results {
            if let Some(w) = r.report.as_ref().and_then(no_person_warning) {
                eprintln!("obscura: warning: {}: {w}", r.input.display());
            }
        }
    } else {
        print_table(&results, batch);
    }
    if failed > 0 {
        bail!("{failed} of {} file(s) failed", results.len());
    }
    Ok(Outcome::Ok)
}

/// Appends the run's `redact` record (file names and hashes, counts; no footage content).
/// If it cannot be written, the outputs of this run are removed again and the run fails.
fn record_run(
    log: &obscura_audit::AuditLog,
    args: &RedactArgs,
    results: &[FileResult],
) -> anyhow::Result<()> {
    use crate::cmd_audit::{file_name, strip_folders};
    let failed = results.iter().filter(|r| !r.ok).count();
    let files: Vec<serde_json::Value> = results
        .iter()
        .map(|r| {
            let mut v = serde_json::json!({
                "input": file_name(&r.input),
                "input_sha256": obscura_audit::sha256_file(&r.input).ok(),
                "output": file_name(&r.output),
            });
            if let Some(rep) = &r.report {
                v["output_sha256"] = serde_json::json!(obscura_audit::sha256_file(&r.output).ok());
                v["frames"] = serde_json::json!(rep.frames);
                v["masked_tracks"] = serde_json::json!(rep.masked.len());
                v["kept_persons"] = serde_json::json!(rep.kept_identities.len());
            }
            if let Some(e) = &r.error {
                v["error"] =
                    serde_json::json!(strip_folders(e, [r.input.as_path(), r.output.as_path()]));
            }
            v
        })
        .collect();
    let result = if failed == 0 {
        "ok".to_string()
    } else {
        format!("failed: {failed} of {} file(s)", results.len())
    };
    let mut entry = obscura_audit::Entry::new(obscura_audit::Action::Redact, result);
    entry.operator = crate::cmd_audit::operator_from_env();
    entry.detail = serde_json::json!({
        "files": files,
        "keep": args.keep.len() + args.keep_at.len(),
        "keep_like": args.masking.keep_like.is_some(),
    });
    if let Err(e) = log.append(entry) {
        let mut removed = 0;
        for r in results.iter().filter(|r| r.ok) {
            removed += usize::from(std::fs::remove_file(&r.output).is_ok());
            if let Some(s) = &r.sheet {
                let _ = std::fs::remove_file(s);
            }
        }
        return Err(anyhow::Error::new(e).context(format!("cannot write the audit record; the {removed} redacted output(s) of this run were removed again")));
    }
    Ok(())
}

/// Videos at least this many frames long that yield no person at all get a warning.
const NO_PERSON_WARN_FRAMES: u64 = 100;

/// A warning when a long video yielded no person and no face at all: usually the footage
/// is sideways, dark, or the model folder is wrong, not an empty scene.
fn no_person_warning(rep: &RedactReport) -> Option<String> {
    (rep.frames >= NO_PERSON_WARN_FRAMES && rep.masked.is_empty() && rep.kept.is_empty() && rep.untracked_detections == 0).then(|| {
        format!(
            "no person or face was detected in {} frames; check that the footage is upright and lit, and that the models are the right ones (obscura models list), before trusting this output",
            rep.frames
        )
    })
}

fn print_table(results: &[FileResult], batch: bool) {
    for r in results {
        if let Some(rep) = &r.report {
            if let Some(w) = no_person_warning(rep) {
                eprintln!("obscura: warning: {}: {w}", r.input.display());
            }
            for id in &rep.keep_not_found {
                eprintln!(
                    "obscura: warning: {}: track {id} of --keep never appears (no one was left visible for it)",
                    r.input.display()
                );
            }
            for m in &rep.matches {
                println!(
                    "keep-like: person {:>4} similarity {:.2} (best {:.2}, {} crops){}",
                    m.track,
                    m.similarity,
                    m.best,
                    m.crops,
                    if m.matched { "  -> kept" } else { "" }
                );
            }
        }
    }
    if batch {
        println!(
            "{:<6} {:<40} {:>7} {:>7} {:>6} {:>7}  output / error",
            "status", "input", "frames", "fps", "kept", "masked"
        );
    }
    for r in results {
        match (&r.report, &r.error) {
            (Some(rep), _) if batch => println!(
                "{:<6} {:<40} {:>7} {:>7.1} {:>6} {:>7}  {}",
                "ok",
                r.input.display().to_string(),
                rep.frames,
                rep.fps,
                rep.kept.len(),
                rep.masked.len(),
                r.output.display()
            ),
            (Some(rep), _) => {
                let kept: Vec<String> = rep.kept_identities.iter().map(u64::to_string).collect();
                println!(
                    "{} -> {}: {} frames in {:.1} s ({:.1} frames/s), {} pass(es); kept person(s) [{}]; masked {} track(s), {} untracked detection(s)",
                    r.input.display(),
                    r.output.display(),
                    rep.frames,
                    rep.seconds,
                    rep.fps,
                    rep.passes,
                    kept.join(", "),
                    rep.masked.len(),
                    rep.untracked_detections
                );
                if rep.subject_frames > 0 {
                    let spans: Vec<String> = rep
                        .subject_uncertain
                        .iter()
                        .take(12)
                        .map(|s| format!("{:.1}-{:.1} s", s.first_pts, s.last_pts))
                        .collect();
                    println!(
                        "  subject visible on {} of {} frames; masked for uncertainty on {}{}{}",
                        rep.subject_frames - rep.subject_uncertain_frames,
                        rep.subject_frames,
                        rep.subject_uncertain_frames,
                        if spans.is_empty() {
                            String::new()
                        } else {
                            format!(" ({}", spans.join(", "))
                        },
                        if spans.is_empty() {
                            ""
                        } else if rep.subject_uncertain.len() > 12 {
                            ", ...)"
                        } else {
                            ")"
                        }
                    );
                    if rep.silhouette_frames > 0 {
                        println!(
                            "  subject's silhouette kept visible inside a neighbour's box on {} frames",
                            rep.silhouette_frames
                        );
                    }
                }
                let st = &rep.stages;
                let per = |ms: f64| ms / rep.frames.max(1) as f64;
                if rep.frames > 1 {
                    println!(
                        "busy ms/frame: decode {:.1}, detect {:.1}, track+policy {:.1}, render {:.1}, encode {:.1}",
                        per(st.decode_ms),
                        per(st.detect_ms),
                        per(st.track_policy_ms),
                        per(st.render_ms),
                        per(st.encode_ms)
                    );
                }
                if let Some(s) = &r.sheet {
                    println!("contact sheet: {}", s.display());
                }
            }
            (None, e) => println!(
                "{:<6} {:<40} {:>7} {:>7} {:>6} {:>7}  {}",
                "FAILED",
                r.input.display().to_string(),
                "-",
                "-",
                "-",
                "-",
                e.as_deref().unwrap_or("")
            ),
        }
    }
}
