//! Read the tracks of a video: who is in it, when, and where.
//!
//! Give it the JSON written by `obscura tracks IN -o tracks.json` (format
//! `obscura-tracks/1`, docs/TRACKS-JSON.md), or a video to analyse on the spot:
//!
//! ```text
//! cargo run --release --example read_tracks -- tracks.json
//! cargo run --release --example read_tracks -- IN.mp4
//! ```

use std::path::PathBuf;

use obscura::core::ObjectClass;
use obscura::detect::models::ModelStore;
use obscura::pipeline::{AnalyseOptions, Targets, analyse, builtin_detector};
use obscura::track::TrackSet;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(path) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: read_tracks TRACKS.json|VIDEO");
        std::process::exit(2);
    };
    let set: TrackSet = if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_slice(&std::fs::read(&path)?)?
    } else {
        obscura::detect::runtime::init(None)?;
        let store = ModelStore::discover()?;
        let options = AnalyseOptions::default();
        let mut detector = builtin_detector(&store, Targets::ALL, &options.detector)?;
        analyse(&path, detector.as_mut(), &options, |done, total| {
            eprint!("\ranalysing {done}/{}", total.unwrap_or(0))
        })?
    };
    eprintln!();
    println!(
        "{} ({}x{}, {} frames, {:.2} fps)",
        set.source.path, set.source.width, set.source.height, set.source.frames, set.source.fps
    );
    for t in &set.tracks {
        let kind = match t.class {
            ObjectClass::Person => "person".to_string(),
            other => format!(
                "{} of {}",
                other.name(),
                t.parent.map_or("?".into(), |p| p.to_string())
            ),
        };
        let best = t
            .best_box()
            .map(|b| {
                format!(
                    "best box {:.0},{:.0} {:.0}x{:.0} at {:.1} s (score {:.2})",
                    b.x, b.y, b.w, b.h, b.pts, b.score
                )
            })
            .unwrap_or_default();
        println!(
            "track {:>4} {:<16} {:>7.1} s - {:>7.1} s  {:>5} boxes ({} detected)  {best}",
            t.id,
            kind,
            t.first_pts,
            t.last_pts,
            t.boxes.len(),
            t.detections()
        );
    }
    Ok(())
}
