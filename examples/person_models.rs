//! The two built-in person models side by side on real frames: inference time of the fine
//! pass's tiles and of the coarse whole-frame pass, interleaved call by call so that other
//! load on the machine falls on both alike, and how many of the float model's persons the
//! int8 model finds too (IoU >= 0.5). `benches/person_models.sh` runs it on a 1080p clip.
//!
//! ```text
//! cargo run --release --example person_models -- VIDEO [FRAMES]
//! ```

use std::time::Instant;

use obscura::core::{Detection, Frame};
use obscura::detect::letterbox::full_region;
use obscura::detect::models::ModelStore;
use obscura::detect::{PersonModel, ScanConfig, YoloxConfig, YoloxDetector};
use obscura::media::{DecodeOptions, Decoder};

/// Median of `v` (sorted in place).
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// How many of `reference` have a box of `found` overlapping them by IoU >= 0.5.
fn matched(reference: &[Detection], found: &[Detection]) -> usize {
    reference
        .iter()
        .filter(|r| found.iter().any(|f| f.rect.iou(&r.rect) >= 0.5))
        .count()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let video = args.next().ok_or("usage: person_models VIDEO [FRAMES]")?;
    let count: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(12);
    let store = ModelStore::discover()?;
    let load = |m: PersonModel| {
        YoloxDetector::person(
            &store,
            YoloxConfig {
                person_model: m,
                ..YoloxConfig::default()
            },
        )
    };
    let mut models = [
        (PersonModel::Float, load(PersonModel::Float)?),
        (PersonModel::Int8, load(PersonModel::Int8)?),
    ];

    // Frames spread over the clip.
    let mut dec = Decoder::open(&video, &DecodeOptions::default())?;
    let mut frames: Vec<Frame> = Vec::new();
    let mut n = 0u64;
    while let Some(f) = dec.next_frame()? {
        if n.is_multiple_of(20) && frames.len() < count {
            frames.push(f);
        }
        n += 1;
    }
    let frame0 = frames.first().ok_or("no frames decoded")?;
    let scan = ScanConfig::default();
    let (coarse, fine) = scan.scales(frame0.width, frame0.height);
    let fine = fine.unwrap_or(1.0);
    let tiles = scan.tiles(frame0.width, frame0.height, fine);
    println!(
        "{video}: {}x{}, {} frames, {} tiles at scale {fine:.2}, coarse scale {coarse:.3}",
        frame0.width,
        frame0.height,
        frames.len(),
        tiles.len()
    );

    let mut ms = [[Vec::new(), Vec::new()], [Vec::new(), Vec::new()]]; // [model][coarse, tile]
    let mut found = [0usize; 2];
    let mut both = 0usize;
    for frame in &frames {
        let full = full_region(frame);
        let mut dets: [Vec<Detection>; 2] = [Vec::new(), Vec::new()];
        for (i, (_, det)) in models.iter_mut().enumerate() {
            let t = Instant::now();
            dets[i].extend(det.detect_region_at(frame, full, coarse)?);
            ms[i][0].push(t.elapsed().as_secs_f64() * 1e3);
            for tile in &tiles {
                let t = Instant::now();
                dets[i].extend(det.detect_region_at(frame, *tile, fine)?);
                ms[i][1].push(t.elapsed().as_secs_f64() * 1e3);
            }
        }
        found[0] += dets[0].len();
        found[1] += dets[1].len();
        both += matched(&dets[0], &dets[1]);
    }
    let (fc, ft) = (median(&mut ms[0][0]), median(&mut ms[0][1]));
    let (ic, it) = (median(&mut ms[1][0]), median(&mut ms[1][1]));
    for (i, (m, _)) in models.iter().enumerate() {
        println!(
            "{:<6} coarse {:7.1} ms  tile {:7.1} ms (median)  persons {}",
            format!("{m:?}"),
            median(&mut ms[i][0]),
            median(&mut ms[i][1]),
            found[i]
        );
    }
    println!(
        "ratio float/int8: coarse {:.2}x  tile {:.2}x",
        fc / ic,
        ft / it
    );
    println!(
        "float persons also found by int8 (IoU >= 0.5): {both} of {} ({:.1}%)",
        found[0],
        100.0 * both as f64 / found[0].max(1) as f64
    );
    Ok(())
}
