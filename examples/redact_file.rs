//! Redact one video: every person and face is masked except the tracks you keep.
//!
//! ```text
//! obscura tracks IN.mp4 --sheet people.png      # look at the sheet, note the subject's id
//! cargo run --release --example redact_file -- IN.mp4 OUT.mp4 7
//! ```
//!
//! Keeping nobody (no id given) masks everyone. The output is H.264 MP4, written atomically:
//! if anything fails (a frame that cannot be decoded, a detector error) there is no output.

use std::path::PathBuf;

use obscura::detect::models::ModelStore;
use obscura::pipeline::{AnalyseOptions, Policy, Redactor, Targets, builtin_detector};
use obscura::render::Style;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(input), Some(output)) = (
        args.next().map(PathBuf::from),
        args.next().map(PathBuf::from),
    ) else {
        eprintln!("usage: redact_file IN OUT [KEEP_ID...]");
        std::process::exit(2);
    };
    let keep: Vec<u64> = args.map(|a| a.parse()).collect::<Result<_, _>>()?;

    // ONNX Runtime and the sha256-verified models (see `obscura models fetch`).
    obscura::detect::runtime::init(None)?;
    let store = ModelStore::discover()?;
    // Same settings as `obscura tracks` (default), so the ids agree.
    let options = AnalyseOptions::default();
    let detector = builtin_detector(&store, Targets::ALL, &options.detector)?;

    // Fail-closed policy: persons and faces of everyone not kept are masked in every frame
    // they are tracked (detected, predicted or held); black fill, boxes grown by 10% + 4 px.
    let policy = Policy::builder()
        .targets(Targets::ALL)
        .style(Style::fill())
        .keep(keep)
        .build()?;

    let mut redactor = Redactor::builder()
        .detector(detector)
        .analysis(options)
        .policy(policy)
        .progress(|p| {
            eprint!(
                "\r{:?} pass {}/{}: frame {}/{}   ",
                p.pass,
                p.pass_number,
                p.passes,
                p.frames_done,
                p.frames_total.unwrap_or(0)
            )
        })
        .build()?;
    let report = redactor.redact(&input, &output)?;
    eprintln!();
    println!(
        "{} frames at {:.1} frames/s; kept {:?}; masked {} tracks",
        report.frames,
        report.fps,
        report.kept,
        report.masked.len()
    );
    Ok(())
}
