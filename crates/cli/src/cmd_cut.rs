//! `obscura cut`: the erasure export. Keeps exactly the frames whose timestamps lie in the
//! kept time ranges and writes one MP4 per kept period.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use clap::Args;
use obscura_core::{Interval, IntervalSet, Timestamp};
use obscura_media::{
    AudioMode, CutPart, DecodeOptions, Decoder, EncoderSettings, Preset, VideoInfo,
};
use serde::Serialize;

use crate::{Outcome, progress};

const EXAMPLES: &str =
    "Times are seconds (12, 12.5) or HH:MM:SS[.fff] / MM:SS[.fff], measured from the
start of the clip; A..B means from A up to but not including B. The kept set is the
--include ranges (the whole clip when there are none) minus the --exclude ranges. Every
frame whose timestamp lies in the kept set is written, and no other (frame-exact: the
video is re-encoded as H.264 MP4, upright when the source carries a display rotation). One
kept period gives OUT itself; several give OUT with -001, -002... (numbered by period)
before the extension, in time order; a period that holds no frame gives no file (a note
says so). An --exclude that removes nothing is an error (--allow-empty-exclusion accepts
it). An existing output is refused unless --force. No metadata of the input (GPS, device, titles...) is copied; when the input has a
creation_time, each part gets its own (the wall-clock time of its first frame). Outputs appear only when complete; on any error
nothing is written and the exit code is 2.

Examples:
  # Erase a person who appears from 1:10 to 1:25 (two files: out-001.mp4, out-002.mp4)
  obscura cut camera1.avi -o out.mp4 --exclude 00:01:10..00:01:25

  # Give a requester only the minutes they appear in, with the sound kept
  obscura cut camera1.mp4 -o access.mp4 --include 10:00..12:30 --audio keep

  # Machine-readable summary (files and the source time range of each)
  obscura cut camera1.avi -o out.mp4 --include 5..20 --exclude 8..9.5 --json";

/// Arguments of `obscura cut`.
#[derive(Args, Debug)]
#[command(after_long_help = EXAMPLES)]
pub struct CutArgs {
    /// The input video (any format FFmpeg reads); never modified.
    #[arg(value_name = "IN")]
    pub input: PathBuf,
    /// The output MP4 (numbered -001, -002... when several periods are kept).
    #[arg(short, long, alias = "out", value_name = "OUT")]
    pub output: PathBuf,
    /// Overwrite existing outputs (atomically; never the input).
    #[arg(long)]
    pub force: bool,
    /// Keep this time range, A..B (repeatable). Default: the whole clip.
    #[arg(long, value_name = "A..B")]
    pub include: Vec<String>,
    /// Remove this time range, A..B (repeatable).
    #[arg(long, value_name = "A..B")]
    pub exclude: Vec<String>,
    /// Accept an --exclude that removes nothing (lies outside the clip or the included
    /// ranges). Without it such an exclusion is an error: it usually means a wrong time.
    #[arg(long)]
    pub allow_empty_exclusion: bool,
    /// Print one JSON document on standard output (format `obscura-cut/1`, docs/JSON.md):
    /// the files written and their source time ranges.
    #[arg(long)]
    pub json: bool,
    /// x264 constant rate factor: 0 lossless, 18 visually lossless, 23 smaller, 51 worst.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(i64).range(0..=51))]
    pub crf: i64,
    /// x264 preset: slower presets give smaller files at the same quality.
    #[arg(long, default_value = "veryfast", value_parser = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"])]
    pub preset: String,
    /// Audio: drop it (default), keep it for the kept ranges (AAC), or write silence.
    #[arg(long, default_value = "drop", value_parser = ["drop", "keep", "mute"])]
    pub audio: String,
    /// Audit log (default: $OBSCURA_AUDIT_LOG, $XDG_STATE_HOME/obscura/audit.jsonl or
    /// ~/.local/state/obscura/audit.jsonl). A `cut` record (file names, SHA-256, frame
    /// counts; no footage content); checked before cutting, and if it cannot be written the
    /// parts are removed again.
    #[arg(long, value_name = "LOG")]
    pub audit_log: Option<PathBuf>,
}

/// The clip's span in stream time: `[start, start + duration)`.
fn clip_span(info: &VideoInfo) -> (Timestamp, Option<Timestamp>) {
    let start = info.start_time.unwrap_or(Timestamp::new(0, info.time_base));
    let end = info
        .duration
        .map(|d| if start.ticks == 0 { d } else { add(start, d) });
    (start, end)
}

/// `a + b`, exact when they share a time base (microseconds otherwise).
fn add(a: Timestamp, b: Timestamp) -> Timestamp {
    if a.ticks == 0 {
        return b;
    }
    if b.ticks == 0 {
        return a;
    }
    a.saturating_add(b)
}

/// Seconds of `t` after `start`, for display and JSON (exact times are printed as ticks).
fn since(t: Timestamp, start: Timestamp) -> f64 {
    // ticks * num / den (not ticks * (num / den)) so that 12288 @ 1/10240 prints as 1.2.
    let secs =
        |t: Timestamp| t.ticks as f64 * f64::from(t.time_base.num()) / f64::from(t.time_base.den());
    if start.ticks == 0 {
        secs(t)
    } else {
        secs(t) - secs(start)
    }
}

/// Parses one `A..B` option into stream time, checking it against the clip.
fn parse_range(
    input: &Path,
    flag: &str,
    text: &str,
    start: Timestamp,
    end: Option<Timestamp>,
) -> anyhow::Result<Interval> {
    let bad = |why: String| anyhow!("{}: {flag} {text:?}: {why}", input.display());
    let iv = Interval::parse(text).map_err(|e| bad(e.to_string()))?;
    let shifted = Interval::new(add(start, iv.start()), add(start, iv.end()))
        .map_err(|e| bad(e.to_string()))?;
    if let Some(end) = end
        && shifted.start() >= end
    {
        return Err(bad(format!(
            "lies outside the clip, which lasts {:.3} s",
            since(end, start)
        )));
    }
    Ok(shifted)
}

/// Builds the kept set: (includes, or the whole clip) minus excludes, within the clip.
pub fn kept_set(
    input: &Path,
    info: &VideoInfo,
    include: &[String],
    exclude: &[String],
    allow_empty_exclusion: bool,
) -> anyhow::Result<IntervalSet> {
    let (start, end) = clip_span(info);
    // Without a known duration the clip runs to "forever" (about 292 years).
    let end_or_max = end.unwrap_or(Timestamp::new(i64::MAX / 2, obscura_core::Rational::MICROS));
    let span = Interval::new(start, end_or_max).map_err(|e| anyhow!("{}: {e}", input.display()))?;
    let includes = include
        .iter()
        .map(|t| parse_range(input, "--include", t, start, end))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let base = if includes.is_empty() {
        IntervalSet::single(span)
    } else {
        IntervalSet::from_intervals(includes)
    };
    let mut excludes = Vec::new();
    for t in exclude {
        let iv = match parse_range(input, "--exclude", t, start, end) {
            Ok(iv) => iv,
            // Starting after the end of the clip: it removes nothing.
            Err(_) if allow_empty_exclusion && Interval::parse(t).is_ok() => continue,
            Err(e) => return Err(e),
        };
        let hits = IntervalSet::single(iv)
            .intersection(&base)
            .intersection(&IntervalSet::single(span));
        if hits.is_empty() && !allow_empty_exclusion {
            return Err(anyhow!(
                "{}: --exclude {t:?} removes nothing: it lies outside the {} (a wrong time or time zone?); pass --allow-empty-exclusion if that is intended",
                input.display(),
                if include.is_empty() {
                    "clip"
                } else {
                    "included ranges"
                }
            ));
        }
        excludes.push(iv);
    }
    let kept = base
        .difference(&IntervalSet::from_intervals(excludes))
        .intersection(&IntervalSet::single(span));
    if kept.is_empty() {
        return Err(anyhow!(
            "{}: nothing left to keep: the excludes remove every included range",
            input.display()
        ));
    }
    Ok(kept)
}

#[derive(Serialize)]
struct JsonTime {
    ticks: i64,
    time_base: String,
}

#[derive(Serialize)]
struct JsonPart {
    #[serde(serialize_with = "obscura_media::serialize_path_lossy")]
    path: PathBuf,
    frames: u64,
    /// Index of the part's first frame in the source (null when the cut seeked).
    first_frame_index: Option<u64>,
    /// Source range shown by the part, seconds from the clip start.
    source_start_secs: f64,
    source_end_secs: f64,
    /// The same range as exact stream timestamps (absolute PTS).
    source_start: JsonTime,
    source_end: JsonTime,
    /// Wall-clock time of the part's first frame (its creation_time), when the source has one.
    creation_time: Option<String>,
}

#[derive(Serialize)]
struct JsonSummary {
    #[serde(serialize_with = "obscura_media::serialize_path_lossy")]
    input: PathBuf,
    frames_written: u64,
    parts: Vec<JsonPart>,
}

fn json_time(t: Timestamp) -> JsonTime {
    JsonTime {
        ticks: t.ticks,
        time_base: t.time_base.to_string(),
    }
}

/// Runs `obscura cut`.
pub fn run(args: CutArgs, quiet: bool) -> anyhow::Result<Outcome> {
    let input = &args.input;
    let info = Decoder::open(input, &DecodeOptions::default())?
        .info()
        .clone();
    let kept = kept_set(
        input,
        &info,
        &args.include,
        &args.exclude,
        args.allow_empty_exclusion,
    )?;
    for p in obscura_media::cut::part_paths(&args.output, kept.intervals().len()) {
        crate::output::check_output(&p, args.force, [input.as_path()])?;
    }
    let log = crate::cmd_audit::preflight(args.audit_log.as_deref())?;
    let settings = EncoderSettings::builder()
        .crf(args.crf)
        .preset(args.preset.parse::<Preset>()?)
        .audio(args.audio.parse::<AudioMode>()?)
        .build()?;
    let bar = progress::bar(info.frame_count, quiet, "cutting");
    let parts: Vec<CutPart> =
        obscura_media::cut(input, &args.output, &kept, &settings, |done, total| {
            if let Some(t) = total
                && bar.length() != Some(t)
            {
                bar.set_length(t);
            }
            bar.set_position(done);
        })
        .inspect_err(|_| bar.abandon())?;
    bar.finish_and_clear();
    record_cut(&log, input, &parts)?;
    let (start, _) = clip_span(&info);
    for iv in obscura_media::empty_periods(&kept, &parts) {
        eprintln!(
            "obscura: note: {}: the kept period {:.3} s .. {:.3} s holds no frame; no file for it",
            obscura_media::Shown(input),
            since(iv.start(), start),
            since(iv.end(), start)
        );
    }
    if args.json {
        let summary = JsonSummary {
            input: input.clone(),
            frames_written: parts.iter().map(|p| p.frames).sum(),
            parts: parts
                .iter()
                .map(|p| JsonPart {
                    path: p.path.clone(),
                    frames: p.frames,
                    first_frame_index: p.first_index,
                    source_start_secs: since(p.first_pts, start),
                    source_end_secs: since(p.end, start),
                    source_start: json_time(p.first_pts),
                    source_end: json_time(p.end),
                    creation_time: p.creation_time.map(|w| w.to_string()),
                })
                .collect(),
        };
        crate::output::print_json("cut", &summary)?;
    } else {
        for p in &parts {
            println!(
                "wrote {}: {} frames, source {:.3} s .. {:.3} s{}",
                p.path.display(),
                p.frames,
                since(p.first_pts, start),
                since(p.end, start),
                p.creation_time
                    .map(|w| format!(", starts {w}"))
                    .unwrap_or_default()
            );
        }
    }
    Ok(Outcome::Ok)
}

/// Appends the `cut` record (names, hashes and frame counts of the input and the parts);
/// if it cannot be written the parts are removed again and the cut fails.
fn record_cut(
    log: &obscura_audit::AuditLog,
    input: &Path,
    parts: &[CutPart],
) -> anyhow::Result<()> {
    use crate::cmd_audit::file_name;
    let mut entry = obscura_audit::Entry::new(obscura_audit::Action::Cut, "ok");
    entry.operator = crate::cmd_audit::operator_from_env();
    entry.detail = serde_json::json!({
        "input": file_name(input),
        "input_sha256": obscura_audit::sha256_file(input).ok(),
        "parts": parts
            .iter()
            .map(|p| serde_json::json!({ "name": file_name(&p.path), "sha256": obscura_audit::sha256_file(&p.path).ok(), "frames": p.frames }))
            .collect::<Vec<_>>(),
    });
    if let Err(e) = log.append(entry) {
        for p in parts {
            let _ = std::fs::remove_file(&p.path);
        }
        return Err(anyhow::Error::new(e).context(format!(
            "cannot write the audit record; the {} cut part(s) were removed again",
            parts.len()
        )));
    }
    Ok(())
}
