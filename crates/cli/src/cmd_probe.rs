//! `obscura probe`: what a media file holds (container, streams, codec, size, pixel format,
//! rotation, frame rate, duration, start time, creation time, frame count).

use std::path::PathBuf;

use clap::Args;
use obscura_core::Timestamp;
use obscura_media::{CountSource, MediaInfo, Orientation, StreamKind, probe};

use crate::Outcome;

const EXAMPLES: &str = "Examples:
  obscura probe camera1.avi
  obscura probe --json camera1.avi > camera1.json

Frame counts come from the container when it declares them (MP4, AVI, GIF); otherwise
(Matroska, MPEG-TS...) the packets of the stream are counted, which reads the whole file.
Times are exact: the JSON gives each as ticks of a time base (ticks x num/den seconds).
A video stored sideways (display matrix or rotate tag) is listed with its stored size and
its orientation; every command decodes it upright (the size shown after 'processed as').";

/// Arguments of `obscura probe`.
#[derive(Args, Debug)]
#[command(after_long_help = EXAMPLES)]
pub struct ProbeArgs {
    /// The media file to inspect (any format FFmpeg reads).
    #[arg(value_name = "IN")]
    pub input: PathBuf,
    /// Print one JSON document on standard output (format `obscura-probe/1`, docs/JSON.md)
    /// instead of text.
    #[arg(long)]
    pub json: bool,
}

fn secs(t: Option<Timestamp>) -> String {
    t.map_or_else(
        || "unknown".to_string(),
        |t| format!("{:.3} s", t.as_secs_f64()),
    )
}

/// The human-readable report.
pub fn render(info: &MediaInfo) -> String {
    let mut out = format!(
        "{}: {} ({}), duration {}, {} stream{}, {}\n",
        info.path.display(),
        info.format,
        info.format_long,
        secs(info.duration),
        info.streams.len(),
        if info.streams.len() == 1 { "" } else { "s" },
        if info.has_audio {
            "has audio"
        } else {
            "no audio"
        },
    );
    if let Some(t) = &info.creation_time {
        out.push_str(&format!("  creation time {t}\n"));
    }
    for s in &info.streams {
        let kind = match s.kind {
            StreamKind::Video => "video",
            StreamKind::Audio => "audio",
            StreamKind::Subtitle => "subtitle",
            StreamKind::Data => "data",
            StreamKind::Attachment => "attachment",
            _ => "unknown",
        };
        let mut line = format!("  #{} {kind} {}", s.index, s.codec);
        if !s.decodable {
            line.push_str(" (no decoder)");
        }
        if let (Some(w), Some(h)) = (s.width, s.height) {
            line.push_str(&format!(" {w}x{h}"));
        }
        if let Some(r) = s.frame_rate {
            line.push_str(&format!(" {:.3} fps ({r})", r.as_f64()));
        }
        if let Some(rate) = s.sample_rate {
            line.push_str(&format!(" {rate} Hz"));
        }
        if let Some(c) = s.channels {
            line.push_str(&format!(" {c} ch"));
        }
        if let Some(tb) = s.time_base {
            line.push_str(&format!(", time base {tb}"));
        }
        if let Some(p) = &s.pixel_format {
            line.push_str(&format!(", {p}"));
        }
        match (s.orientation, &s.orientation_error) {
            (Some(o), _) if o != Orientation::Identity => {
                let (w, h) = o.display_size(s.width.unwrap_or(0), s.height.unwrap_or(0));
                line.push_str(&format!(
                    ", {} (shown and processed as {w}x{h})",
                    o.describe()
                ));
            }
            (_, Some(e)) => line.push_str(&format!(", unsupported rotation: {e}")),
            _ => {}
        }
        line.push_str(&format!(
            ", start {}, duration {}",
            secs(s.start_time),
            secs(s.duration)
        ));
        if let Some(n) = s.frame_count {
            let how = match s.frame_count_source {
                Some(CountSource::Packets) => "counted packets",
                _ => "container",
            };
            line.push_str(&format!(", {n} frames ({how})"));
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Runs `obscura probe`.
pub fn run(args: ProbeArgs, _quiet: bool) -> anyhow::Result<Outcome> {
    let info = probe(&args.input)?;
    if args.json {
        // `format` is the document's; the container format is `container`.
        let mut v = serde_json::to_value(&info)?;
        if let Some(m) = v.as_object_mut()
            && let Some(f) = m.remove("format")
        {
            m.insert("container".into(), f);
        }
        crate::output::print_json("probe", &v)?;
    } else {
        print!("{}", render(&info));
    }
    Ok(Outcome::Ok)
}
