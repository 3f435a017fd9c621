//! `obscura tracks`: find and track every person (and face) in a video, group the person tracks
//! into people (identities: tracks split at id switches and linked across gaps by appearance),
//! write them as JSON (docs/TRACKS-JSON.md) and a contact sheet PNG with one cell per person
//! (the frame in context with their box drawn, a close-up, their time ranges), so an operator
//! can name the data subject ("keep 7").

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use obscura_core::{ObjectClass, atomic::PendingFile};
use obscura_detect::models::{ModelStore, default_model_dir};
use obscura_pipeline::sheet::{self, clock_tenths as clock};
use obscura_pipeline::{AnalyseOptions, Targets};
use obscura_track::{TrackRecord, TrackSet};

use crate::Outcome;

/// Arguments of `obscura tracks`.
#[derive(Args, Debug)]
pub struct TracksArgs {
    /// The video to analyse (never modified).
    pub input: PathBuf,
    /// Write the tracks file (docs/TRACKS-JSON.md) here, or `-` for standard output (the
    /// summary then goes to standard error).
    #[arg(short, long, alias = "out", value_name = "OUT.json|-")]
    pub output: Option<String>,
    /// Write a contact sheet PNG: one thumbnail per person track, labelled with its id and
    /// time range.
    #[arg(long, value_name = "OUT.png")]
    pub sheet: Option<PathBuf>,
    /// Overwrite an existing tracks file or contact sheet (atomically; never the input).
    #[arg(long)]
    pub force: bool,
    /// Print the summary as one JSON document on standard output (format `obscura-tracks-run/1`,
    /// docs/JSON.md); not with `-o -`. The tracks themselves go to -o.
    #[arg(long)]
    pub json: bool,
    /// Run detection on every Nth frame (boxes in between are interpolated); `auto`: 8 times
    /// per second of video, as `obscura redact` does by default (ids then agree).
    #[arg(long, default_value = "auto", value_name = "N|auto")]
    pub every: String,
    /// What to track: `person`, `face` or `person,face`.
    #[arg(long, default_value = "person,face")]
    pub targets: String,
    /// Seconds a lost track keeps its predicted box (so a mask never blinks off).
    #[arg(long, default_value_t = 1.0, value_name = "SECONDS")]
    pub hold: f64,
    /// Path of libonnxruntime.so (default: $OBSCURA_ORT_LIB, $ORT_DYLIB_PATH, lib/ beside
    /// the executable, the build default, /usr/local/lib/obscura).
    #[arg(long, value_name = "PATH")]
    pub ort_lib: Option<PathBuf>,
    /// Folder holding the model files (default: $OBSCURA_MODEL_DIR, else the built-in one).
    #[arg(long, value_name = "DIR")]
    pub models: Option<PathBuf>,
    /// Inference threads (0, the default: one per core).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub threads: usize,
    /// Person search (`--recall`, `--tile`; give the same as to `redact` so ids agree).
    #[command(flatten)]
    pub detection: crate::detection_args::DetectionArgs,
    /// Audit log (default: $OBSCURA_AUDIT_LOG, $XDG_STATE_HOME/obscura/audit.jsonl or
    /// ~/.local/state/obscura/audit.jsonl). A `tracks` record (file names, SHA-256 and
    /// counts; no footage content) is written before the tracks or the contact sheet (which
    /// shows people unmasked) become visible; without it nothing is written.
    #[arg(long, value_name = "LOG")]
    pub audit_log: Option<PathBuf>,
}

/// Runs `obscura tracks`.
pub fn run(args: TracksArgs, quiet: bool) -> anyhow::Result<Outcome> {
    let input = &args.input;
    if !input.is_file() {
        bail!("{}: no such file", input.display());
    }
    let targets = Targets::parse(&args.targets)?;
    let to_stdout = args.output.as_deref() == Some("-");
    if to_stdout && args.json {
        bail!(
            "-o - writes the tracks on standard output, which --json needs for the summary; give -o FILE"
        );
    }
    let file_out = args.output.as_deref().filter(|o| *o != "-").map(Path::new);
    for out in file_out.into_iter().chain(args.sheet.as_deref()) {
        crate::output::check_output(out, args.force, [input.as_path()])?;
    }
    if file_out.is_some() && file_out == args.sheet.as_deref() {
        bail!("-o and --sheet name the same file");
    }
    let threads = crate::output::threads(args.threads, 1);
    let log = crate::cmd_audit::preflight(args.audit_log.as_deref())?;
    let lib = obscura_detect::runtime::init(args.ort_lib.as_deref())?;
    let store = ModelStore::new(args.models.clone().unwrap_or_else(default_model_dir))?;
    let (every, detect_rate) = crate::masking_args::parse_every(&args.every)?;
    let mut options = AnalyseOptions {
        every,
        detect_rate,
        targets,
        hold_seconds: Some(args.hold),
        ..AnalyseOptions::default()
    };
    args.detection.apply(&mut options)?;
    options.detector.person.session.intra_threads = threads;
    options.detector.face.session.intra_threads = threads;
    let started = Instant::now();
    let set = crate::people::analyse_people(input, &store, targets, &options, threads, quiet)?;
    let secs = started.elapsed().as_secs_f64();

    // Both outputs are written into unnamed files first; they get their names only after
    // the audit record is written.
    let json = serde_json::to_vec(&set)?;
    let mut pending = Vec::new();
    let mut outputs = Vec::new();
    if let Some(sheet) = &args.sheet {
        let png = sheet::png(&sheet::people_sheet(input, &set)?).map_err(anyhow::Error::msg)?;
        let p = prepare(sheet, &png)
            .with_context(|| format!("{}: cannot write the contact sheet", sheet.display()))?;
        outputs.push(serde_json::json!({ "sheet": crate::cmd_audit::file_name(sheet), "sha256": obscura_audit::sha256_file(p.temp_path()).ok() }));
        pending.push((p, "contact sheet"));
    }
    match args.output.as_deref() {
        Some("-") => outputs.push(serde_json::json!({ "json": "-" })),
        Some(path) => {
            let p = prepare(Path::new(path), &json)
                .with_context(|| format!("{path}: cannot write the tracks"))?;
            outputs.push(serde_json::json!({ "json": crate::cmd_audit::file_name(Path::new(path)), "sha256": obscura_audit::sha256_file(p.temp_path()).ok() }));
            pending.push((p, "tracks"));
        }
        None => {}
    }
    let mut entry = obscura_audit::Entry::new(obscura_audit::Action::Tracks, "ok");
    entry.operator = crate::cmd_audit::operator_from_env();
    entry.detail = serde_json::json!({
        "input": crate::cmd_audit::file_name(input),
        "input_sha256": obscura_audit::sha256_file(input).ok(),
        "frames": set.source.frames,
        "person_tracks": set.tracks.iter().filter(|t| t.class == ObjectClass::Person).count(),
        "face_tracks": set.tracks.iter().filter(|t| t.class == ObjectClass::Face).count(),
        "people": set.identities.len(),
        "outputs": outputs,
    });
    log.append(entry)
        .context("cannot write the audit record; no tracks or contact sheet were written")?;
    for (p, what) in pending {
        let dest = p.dest().to_path_buf();
        let committed = if args.force {
            p.commit()
        } else {
            p.commit_new()
        };
        committed.with_context(|| {
            format!(
                "{}: cannot write the {what} (an existing file is replaced only with --force)",
                dest.display()
            )
        })?;
    }
    if to_stdout {
        let mut out = std::io::stdout().lock();
        out.write_all(&json)?;
        out.write_all(b"\n")?;
    }
    if args.json {
        return crate::output::print_json("tracks-run", &run_summary(&set, secs, &lib, &args))
            .map(|()| Outcome::Ok);
    }
    let summary = summarise(&set, secs, &lib);
    if to_stdout {
        if !quiet {
            eprint!("{summary}");
        }
    } else {
        print!("{summary}");
    }
    Ok(Outcome::Ok)
}

/// `bytes` written into an unnamed file that becomes `dest` (replacing it) on commit.
fn prepare(dest: &Path, bytes: &[u8]) -> std::io::Result<PendingFile> {
    let p = PendingFile::new(dest)?;
    let mut f = p.create()?;
    f.write_all(bytes)?;
    Ok(p)
}

/// The `--json` summary (docs/JSON.md, `obscura-tracks-run/1`).
fn run_summary(set: &TrackSet, secs: f64, lib: &Path, args: &TracksArgs) -> serde_json::Value {
    let count = |c: ObjectClass| set.tracks.iter().filter(|t| t.class == c).count();
    serde_json::json!({
        "input": set.source.path,
        "frames": set.source.frames,
        "every": set.settings.every,
        "person_tracks": count(ObjectClass::Person),
        "face_tracks": count(ObjectClass::Face),
        "people": set.identities.iter().map(|p| serde_json::json!({
            "id": p.id,
            "first_pts": p.first_pts,
            "last_pts": p.last_pts,
            "tracklets": p.tracklets.iter().map(|t| serde_json::json!({
                "track": t.track,
                "first_pts": t.first_pts,
                "last_pts": t.last_pts,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "tracks_file": args.output,
        "sheet": args.sheet.as_ref().map(|s| s.display().to_string()),
        "seconds": secs,
        "onnx_runtime": lib.display().to_string(),
    })
}

fn summarise(set: &TrackSet, secs: f64, lib: &Path) -> String {
    let persons: Vec<&TrackRecord> = set
        .tracks
        .iter()
        .filter(|t| t.class == ObjectClass::Person)
        .collect();
    let faces = set
        .tracks
        .iter()
        .filter(|t| t.class == ObjectClass::Face)
        .count();
    let mut s = format!(
        "{}: {} frames, {} person tracks, {} face tracks (detection every {} frame(s)); {:.1} frames/s end to end (ONNX Runtime {})\n",
        set.source.path,
        set.source.frames,
        persons.len(),
        faces,
        set.settings.every,
        set.source.frames as f64 / secs.max(1e-9),
        lib.display()
    );
    s.push_str(&format!("{} people (person tracks split at id switches and linked by appearance; `--keep ID` takes these ids):\n", set.identities.len()));
    for p in &set.identities {
        let parts: Vec<String> = p
            .tracklets
            .iter()
            .map(|t| format!("#{} {}-{}", t.track, clock(t.first_pts), clock(t.last_pts)))
            .collect();
        s.push_str(&format!(
            "  person {:<4} {} - {}  tracklets: {}\n",
            p.id,
            clock(p.first_pts),
            clock(p.last_pts),
            parts.join(", ")
        ));
    }
    if set.identities.is_empty() {
        for t in persons {
            s.push_str(&format!(
                "  person track #{:<4} {} - {}  ({} detections)\n",
                t.id,
                clock(t.first_pts),
                clock(t.last_pts),
                t.detections()
            ));
        }
    }
    s
}

/// `M:SS.s` (or `H:MM:SS.s`).
#[cfg(test)]
mod tests {
    use image::{Rgb, RgbImage};
    use obscura_pipeline::font::{draw_text, glyph};

    #[test]
    fn glyphs_draw_where_expected() {
        let mut img = RgbImage::new(40, 10);
        draw_text(&mut img, 0, 0, "1-", 1, Rgb([255, 0, 0]));
        // '1' has its stem at column 2 on every row but the last row's serif.
        assert!((0..7).all(|y| img.get_pixel(2, y)[0] == 255));
        // '-' is row 3 of the second cell (x 6..11).
        assert!((6..11).all(|x| img.get_pixel(x, 3)[0] == 255));
        assert_eq!(img.get_pixel(6, 2)[0], 0);
        // Every label character has a glyph.
        assert!("#0123456789:.-T".chars().all(|c| glyph(c) != [0; 7]));
    }
}
