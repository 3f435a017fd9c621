//! How much of what the detector sees ends up hidden: the share of reference boxes masked in
//! a redacted video, measured on its pixels.
//!
//! The reference is an `obscura tracks --every 1` JSON (every box the detector itself found
//! on every frame; predicted boxes are left out). The redacted video must be lossless
//! (`obscura redact ... --crf 0`) so that an unmasked pixel decodes to exactly its source
//! value, and masked with a fill colour footage does not contain (`--style fill:#FF00FF`;
//! black would equal dark clothes): a pixel counts as hidden when its luma or its chroma
//! sample differs from the source's. A box counts as hidden when at least `MIN_HIDDEN` of
//! its pixels are. `benches/recall.sh` runs it to
//! compare detection schedules (`--every N`) against detection on every frame.
//!
//! ```text
//! cargo run --release --example mask_recall -- REFERENCE.json SOURCE.mp4 REDACTED.mp4 [--misses]
//! ```
//!
//! `--misses` also lists every box not counted as hidden (frame, track, box, hidden share).

use std::collections::BTreeMap;
use std::path::PathBuf;

use obscura::core::ObjectClass;
use obscura::media::{DecodeOptions, Decoder};
use obscura::track::TrackSet;

#[path = "common/pixels.rs"]
mod pixels;
use pixels::hidden_share;

/// Share of a box's pixels that must be hidden for the box to count as hidden.
const MIN_HIDDEN: f64 = 0.95;

#[derive(Default)]
struct Tally {
    boxes: u64,
    hidden: u64,
    exposed: u64,
    hidden_share_sum: f64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    let list_misses = args.last().is_some_and(|a| a.as_os_str() == "--misses");
    if list_misses {
        args.pop();
    }
    let [reference, source, redacted] = args.as_slice() else {
        eprintln!("usage: mask_recall REFERENCE.json SOURCE REDACTED [--misses]");
        std::process::exit(2);
    };
    let set: TrackSet = serde_json::from_slice(&std::fs::read(reference)?)?;
    let mut src = Decoder::open(source, &DecodeOptions::default())?;
    let mut out = Decoder::open(redacted, &DecodeOptions::default())?;
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut frames = 0u64;
    while let (Some(a), Some(b)) = (src.next_frame()?, out.next_frame()?) {
        if (a.width, a.height) != (b.width, b.height) {
            return Err(format!(
                "frame {}: {}x{} against {}x{}",
                a.index, a.width, a.height, b.width, b.height
            )
            .into());
        }
        for (track, b_rec) in set
            .boxes_at(a.index)
            .into_iter()
            .filter(|(_, b)| !b.predicted)
        {
            let share = hidden_share(&a, &b, b_rec.x, b_rec.y, b_rec.w, b_rec.h);
            let name = match track.class {
                ObjectClass::Person => "person".to_string(),
                ObjectClass::Face => "face".to_string(),
                other => format!("{other:?}"),
            };
            let t = tallies.entry(name).or_default();
            t.boxes += 1;
            t.hidden_share_sum += share;
            t.hidden += u64::from(share >= MIN_HIDDEN);
            t.exposed += u64::from(share < 0.5);
            if list_misses && share < MIN_HIDDEN {
                println!(
                    "miss: frame {} track {} {:?} box {:.0},{:.0} {:.0}x{:.0} hidden {share:.3}",
                    a.index, track.id, track.class, b_rec.x, b_rec.y, b_rec.w, b_rec.h
                );
            }
        }
        frames += 1;
    }
    println!("frames compared: {frames}");
    for (class, t) in &tallies {
        let n = t.boxes.max(1) as f64;
        println!(
            "{class:<7} reference boxes {:>6}  hidden (>= {:.0}% of pixels) {:>6} = {:>6.2}%  mean hidden share {:.4}  exposed (< 50% hidden) {}",
            t.boxes,
            MIN_HIDDEN * 100.0,
            t.hidden,
            100.0 * t.hidden as f64 / n,
            t.hidden_share_sum / n,
            t.exposed
        );
    }
    Ok(())
}
