//! Privacy recall against human ground truth: for every person a person drew a box around
//! (MOTChallenge `gt.txt`), the share of that box masked in a redacted video, measured on
//! its pixels.
//!
//! The redacted video must be lossless (`obscura redact ... --crf 0`) and masked with a fill
//! colour footage does not contain (`--style fill:#FF00FF`), so that an unmasked pixel decodes
//! to exactly its source value (see `mask_recall`). Each ground-truth box is classed as
//! **hidden** (at least 90% of its pixels masked), **partial** (50-90%) or **exposed** (under
//! 50%), and tallied per sequence, by height and by visibility. The share of the picture masked
//! outside every ground-truth box (grown by 10%) is printed beside: background hidden by
//! mistake, the price of recall. `benches/gt_recall.sh` runs it
//! on the sequences under `../shared/footage/gt/`.
//!
//! People counted (FOOTAGE.md): `flag == 1` boxes of classes 1 (pedestrian), 2 (person on a
//! vehicle) and 7 (static person) are the main table; the `all people` line adds every box of
//! classes 1, 2, 7, 8 (distractor) and 12 (reflection) whatever its flag, since those are
//! people too for privacy purposes.
//!
//! ```text
//! cargo run --release --example gt_recall -- NAME,SOURCE,GT.txt,REDACTED[,SCALE,DX,DY[,FRAMES_BEFORE]] ... [--misses]
//! ```
//!
//! `SOURCE` is the video the redaction was made from. For a derived sequence (a downscaled or
//! darkened copy made by `benches/gt_recall.sh`), `SCALE,DX,DY` map the ground truth into it:
//! `x' = x * SCALE + DX`; `FRAMES_BEFORE` frames were put before the sequence (the `-warm`
//! copies: the detector's schedule in its steady state, not on a cold start). `--misses` lists every main-table box not hidden (sequence, frame,
//! id, box, visibility, hidden share).

use std::collections::BTreeMap;
use std::path::Path;

use obscura::media::{DecodeOptions, Decoder};

#[path = "common/pixels.rs"]
mod pixels;
use pixels::{hidden_share, pixel_changed};

/// Share of a box's pixels that must be masked for the person to count as hidden.
const HIDDEN: f64 = 0.9;
/// Below this share the person counts as exposed.
const EXPOSED: f64 = 0.5;
/// Height bins in source pixels: `[lower, upper)`.
const HEIGHTS: [(f32, f32, &str); 4] = [
    (0.0, 40.0, "< 40 px"),
    (40.0, 100.0, "40-100 px"),
    (100.0, 200.0, "100-200 px"),
    (200.0, f32::INFINITY, "> 200 px"),
];
/// Visibility bins: `[lower, upper)`.
const VISIBILITY: [(f32, f32, &str); 4] = [
    (0.0, 0.25, "vis < 0.25"),
    (0.25, 0.5, "vis 0.25-0.5"),
    (0.5, 0.75, "vis 0.5-0.75"),
    (0.75, 1.01, "vis >= 0.75"),
];

/// One ground-truth box.
#[derive(Debug, Clone)]
struct GtBox {
    frame: u64,
    id: i64,
    x: f32,
    y: f32,
    w: f32,
    h: f32,
    main: bool,
    visibility: f32,
}

#[derive(Default, Clone, Copy)]
struct Tally {
    boxes: u64,
    hidden: u64,
    partial: u64,
    exposed: u64,
}

impl Tally {
    fn add(&mut self, share: f64) {
        self.boxes += 1;
        if share >= HIDDEN {
            self.hidden += 1;
        } else if share >= EXPOSED {
            self.partial += 1;
        } else {
            self.exposed += 1;
        }
    }

    fn line(&self, label: &str) -> String {
        let pct = |n: u64| 100.0 * n as f64 / self.boxes.max(1) as f64;
        format!(
            "{label:<34} {:>5}  hidden {:>5} {:>6.1}%  partial {:>4} {:>5.1}%  exposed {:>4} {:>5.1}%",
            self.boxes,
            self.hidden,
            pct(self.hidden),
            self.partial,
            pct(self.partial),
            self.exposed,
            pct(self.exposed)
        )
    }
}

/// Parses `gt.txt` lines `frame,id,left,top,width,height,flag,class,visibility` (1-based frame
/// and pixel coordinates) into 0-based frames and pixels, clipped to the picture size of the
/// `seqinfo.ini` beside it, mapped by `scale`, `dx`, `dy` and moved `frames_before` frames
/// later; boxes of classes that are not people are left out.
fn read_gt(
    path: &Path,
    scale: f32,
    dx: f32,
    dy: f32,
    frames_before: u64,
) -> Result<Vec<GtBox>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let picture = picture_size(&path.with_file_name("seqinfo.ini"));
    let mut out = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let f: Vec<f64> = line
            .split(',')
            .map(|v| v.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{}:{}: {e}", path.display(), n + 1))?;
        let [frame, id, x, y, w, h, flag, class, vis] = f[..] else {
            return Err(format!(
                "{}:{}: expected 9 fields, got {}",
                path.display(),
                n + 1,
                f.len()
            ));
        };
        let class = class as i64;
        if ![1, 2, 7, 8, 12].contains(&class) || frame < 1.0 {
            continue;
        }
        let main = flag == 1.0 && [1, 2, 7].contains(&class);
        // Clipped to the sequence's own picture (boxes may reach outside it), then mapped.
        let (x0, y0) = ((x as f32 - 1.0).max(0.0), (y as f32 - 1.0).max(0.0));
        let (x1, y1) = ((x + w) as f32 - 1.0, (y + h) as f32 - 1.0);
        let (x1, y1) = picture.map_or((x1, y1), |(pw, ph)| (x1.min(pw), y1.min(ph)));
        if x1 <= x0 || y1 <= y0 {
            continue;
        }
        let (x, y) = (x0 * scale + dx, y0 * scale + dy);
        out.push(GtBox {
            frame: frame as u64 - 1 + frames_before,
            id: id as i64,
            x,
            y,
            w: (x1 - x0) * scale,
            h: (y1 - y0) * scale,
            main,
            visibility: vis as f32,
        });
    }
    Ok(out)
}

/// `imWidth` and `imHeight` of a MOTChallenge `seqinfo.ini`, when present.
fn picture_size(path: &Path) -> Option<(f32, f32)> {
    let text = std::fs::read_to_string(path).ok()?;
    let field = |key: &str| {
        text.lines().find_map(|l| {
            l.strip_prefix(key)?
                .trim_start()
                .strip_prefix('=')?
                .trim()
                .parse::<f32>()
                .ok()
        })
    };
    Some((field("imWidth")?, field("imHeight")?))
}

/// Share of the picture masked outside every ground-truth box (all classes, grown by 10%):
/// background hidden by mistake, the price of recall.
fn background_share(
    source: &obscura::core::Frame,
    redacted: &obscura::core::Frame,
    boxes: &[&GtBox],
) -> (u64, u64) {
    let grown: Vec<[f32; 4]> = boxes
        .iter()
        .map(|b| {
            [
                b.x - 0.1 * b.w,
                b.y - 0.1 * b.h,
                b.x + 1.1 * b.w,
                b.y + 1.1 * b.h,
            ]
        })
        .collect();
    let (mut masked, mut outside) = (0u64, 0u64);
    for y in (0..source.height as usize).step_by(2) {
        for x in (0..source.width as usize).step_by(2) {
            let (fx, fy) = (x as f32, y as f32);
            if grown
                .iter()
                .any(|g| fx >= g[0] && fx < g[2] && fy >= g[1] && fy < g[3])
            {
                continue;
            }
            outside += 1;
            masked += u64::from(pixel_changed(source, redacted, x, y));
        }
    }
    (masked, outside)
}

/// Every ground-truth box with its hidden share, and (masked, looked at) background pixels.
type Measured = (Vec<(GtBox, f64)>, (u64, u64));

/// Measures one sequence: every ground-truth box with its hidden share, and the background
/// pixels masked out of those looked at.
fn measure(
    source: &Path,
    redacted: &Path,
    gt: &[GtBox],
) -> Result<Measured, Box<dyn std::error::Error>> {
    let mut by_frame: BTreeMap<u64, Vec<&GtBox>> = BTreeMap::new();
    for b in gt {
        by_frame.entry(b.frame).or_default().push(b);
    }
    let mut src = Decoder::open(source, &DecodeOptions::default())?;
    let mut out = Decoder::open(redacted, &DecodeOptions::default())?;
    let mut shares = Vec::new();
    let mut frames = 0u64;
    let mut background = (0u64, 0u64);
    while let (Some(a), Some(b)) = (src.next_frame()?, out.next_frame()?) {
        if (a.width, a.height) != (b.width, b.height) {
            return Err(format!(
                "frame {}: {}x{} against {}x{}",
                a.index, a.width, a.height, b.width, b.height
            )
            .into());
        }
        let boxes = by_frame
            .get(&a.index)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for g in boxes {
            shares.push(((*g).clone(), hidden_share(&a, &b, g.x, g.y, g.w, g.h)));
        }
        let (m, o) = background_share(&a, &b, boxes);
        background = (background.0 + m, background.1 + o);
        frames += 1;
    }
    let last_gt = by_frame.keys().next_back().copied().unwrap_or(0);
    if frames <= last_gt {
        return Err(format!(
            "{}: {frames} frames decoded, but the ground truth reaches frame {}",
            redacted.display(),
            last_gt + 1
        )
        .into());
    }
    Ok((shares, background))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let list_misses = args.iter().any(|a| a == "--misses");
    args.retain(|a| a != "--misses");
    if args.is_empty() {
        eprintln!(
            "usage: gt_recall NAME,SOURCE,GT,REDACTED[,SCALE,DX,DY[,FRAMES_BEFORE]] ... [--misses]"
        );
        std::process::exit(2);
    }
    let mut total = Tally::default();
    let mut all_people = Tally::default();
    let mut by_height = [Tally::default(); 4];
    let mut by_vis = [Tally::default(); 4];
    let (mut target_40, mut target_20) = (Tally::default(), Tally::default());
    let mut per_seq = Vec::new();
    let mut background = (0u64, 0u64);
    for arg in &args {
        let parts: Vec<&str> = arg.split(',').collect();
        let (name, source, gt_path, redacted, map, before) = match parts[..] {
            [n, s, g, r] => (n, s, g, r, [1.0, 0.0, 0.0], 0),
            [n, s, g, r, k, x, y] => (n, s, g, r, [k.parse()?, x.parse()?, y.parse()?], 0),
            [n, s, g, r, k, x, y, f] => {
                (n, s, g, r, [k.parse()?, x.parse()?, y.parse()?], f.parse()?)
            }
            _ => {
                return Err(format!(
                    "{arg}: expected NAME,SOURCE,GT,REDACTED[,SCALE,DX,DY[,FRAMES_BEFORE]]"
                )
                .into());
            }
        };
        let gt = read_gt(Path::new(gt_path), map[0], map[1], map[2], before)?;
        let (shares, (bg_masked, bg_seen)) = measure(Path::new(source), Path::new(redacted), &gt)?;
        background = (background.0 + bg_masked, background.1 + bg_seen);
        let mut seq = Tally::default();
        for (g, share) in &shares {
            all_people.add(*share);
            if !g.main {
                continue;
            }
            seq.add(*share);
            total.add(*share);
            let hi = HEIGHTS
                .iter()
                .position(|(lo, up, _)| g.h >= *lo && g.h < *up)
                .unwrap_or(3);
            by_height[hi].add(*share);
            let vi = VISIBILITY
                .iter()
                .position(|(lo, up, _)| g.visibility >= *lo && g.visibility < *up)
                .unwrap_or(3);
            by_vis[vi].add(*share);
            if g.visibility >= 0.5 && g.h >= 40.0 {
                target_40.add(*share);
            }
            if g.visibility >= 0.5 && (20.0..40.0).contains(&g.h) {
                target_20.add(*share);
            }
            if list_misses && *share < HIDDEN {
                println!(
                    "miss: {name} frame {} id {} box {:.0},{:.0} {:.0}x{:.0} vis {:.2} hidden {share:.3}",
                    g.frame + 1,
                    g.id,
                    g.x + 1.0,
                    g.y + 1.0,
                    g.w,
                    g.h,
                    g.visibility
                );
            }
        }
        per_seq.push(format!(
            "{}  background masked {:>5.1}%",
            seq.line(name),
            100.0 * bg_masked as f64 / bg_seen.max(1) as f64
        ));
    }
    println!(
        "ground-truth persons (flag 1, classes 1/2/7): hidden >= {:.0}% of the box masked, partial >= {:.0}%, exposed below",
        HIDDEN * 100.0,
        EXPOSED * 100.0
    );
    println!("{:<34} {:>5}", "", "boxes");
    for l in &per_seq {
        println!("{l}");
    }
    println!(
        "{}  background masked {:>5.1}%",
        total.line("all sequences"),
        100.0 * background.0 as f64 / background.1.max(1) as f64
    );
    for ((_, _, label), t) in HEIGHTS.iter().zip(&by_height) {
        println!("{}", t.line(&format!("  height {label}")));
    }
    for ((_, _, label), t) in VISIBILITY.iter().zip(&by_vis) {
        println!("{}", t.line(&format!("  {label}")));
    }
    println!("{}", target_40.line("target: vis >= 0.5, >= 40 px"));
    println!("{}", target_20.line("target: vis >= 0.5, 20-40 px"));
    println!(
        "{}",
        all_people.line("all people (+ classes 8, 12, any flag)")
    );
    Ok(())
}
