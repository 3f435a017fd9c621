//! Subject bench: for a kept data subject, how many output frames show another person, and
//! on how many of the subject's frames the subject is visible. Measured on output pixels.
//!
//! Ground truth does not come from the tracker's ids (those are what fails): the reference is
//! the detector's boxes on every frame (`obscura tracks --every 1 --targets person -o`,
//! only the boxes are read, never the ids), and the subject's box on each frame is found from
//! a hand-checked list of her box on a handful of key frames (`frame x y w h` per line): from
//! each key frame the detector box of greatest IoU is followed frame by frame forwards and
//! backwards to the neighbouring key frames; where the two directions disagree the frame is
//! *ambiguous* (both candidates then count as hers for the bystander check, neither for her
//! visibility). `--montage OUT.ppm` draws her crop on every 10th frame so the chain can be
//! checked by eye. Where the chain has no box, appearance fills in: the one detector box
//! clearly most like her key-frame crops (person re-identification) is hers.
//!
//! The redacted video must be lossless with a fill colour the footage lacks
//! (`--crf 0 --style fill:#FF00FF`): a pixel counts as hidden when it differs from the source.
//! - A bystander box (a detector box with IoU below 0.3 against the subject's) counts as
//!   *unmasked* when fewer than 95% of its pixels outside the subject's box are hidden.
//! - The subject counts as *visible* on a frame when at least half of her box is unhidden.
//!
//! ```text
//! cargo run --release --example subject_bench -- REF.json SOURCE REDACTED KEYS.txt [--montage OUT.ppm] [--list] [--gt OUT.txt]
//! ```
//!
//! `--gt OUT.txt` writes her reference box and visible share on each counted frame
//! (`frame x y w h visible`), for `examples/subject_diag.rs` to explain the misses.

use std::collections::BTreeMap;
use std::path::PathBuf;

use obscura::core::{Frame, ObjectClass, Rect};
use obscura::media::{DecodeOptions, Decoder};
use obscura::track::TrackSet;

/// Share of a bystander's pixels (outside the subject's box) that must be hidden.
const MIN_HIDDEN: f64 = 0.95;
/// Share of the subject's box that must be unhidden for her to count as visible.
const MIN_VISIBLE: f64 = 0.5;

/// The subject on one frame.
#[derive(Debug, Clone, Copy)]
enum Subject {
    /// Not found by the detector on this frame.
    Absent,
    /// This detector box is hers.
    At(Rect),
    /// The two directions of the chain disagree.
    Ambiguous(Rect, Rect),
}

fn parse_keys(text: &str) -> Result<Vec<(u64, Rect)>, String> {
    let mut keys = Vec::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let v: Vec<f32> = line
            .split_whitespace()
            .map(|s| {
                s.parse::<f32>()
                    .map_err(|_| format!("bad key frame line {line:?}"))
            })
            .collect::<Result<_, _>>()?;
        let [f, x, y, w, h] = v.as_slice() else {
            return Err(format!("key frame line {line:?}: expected frame x y w h"));
        };
        keys.push((*f as u64, Rect::new(*x, *y, *w, *h)));
    }
    keys.sort_by_key(|k| k.0);
    Ok(keys)
}

/// The detector box of greatest IoU with `r` (at least `min`).
fn follow(boxes: &[Rect], r: &Rect, min: f32) -> Option<Rect> {
    boxes
        .iter()
        .map(|b| (b.iou(r), *b))
        .filter(|(i, _)| *i >= min)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, b)| b)
}

/// Follows the subject from `start` through `frames` (in the order given): on each frame the
/// detector box of greatest IoU with her last box moved by her recent motion; up to 15 frames
/// without one are bridged; stops when lost longer.
fn chain(
    dets: &BTreeMap<u64, Vec<Rect>>,
    start: Rect,
    frames: impl Iterator<Item = u64>,
) -> BTreeMap<u64, Rect> {
    let mut out = BTreeMap::new();
    let (mut cur, mut vel) = (start, (0.0f32, 0.0f32));
    let mut misses = 0u32;
    for f in frames {
        let k = (misses + 1) as f32;
        let guess = Rect::new(cur.x + vel.0 * k, cur.y + vel.1 * k, cur.w, cur.h);
        match dets
            .get(&f)
            .and_then(|b| follow(b, &guess, if misses == 0 { 0.35 } else { 0.25 }))
        {
            Some(b) => {
                let (c0, c1) = (cur.center(), b.center());
                let v = ((c1.0 - c0.0) / k, (c1.1 - c0.1) / k);
                vel = (0.7 * vel.0 + 0.3 * v.0, 0.7 * vel.1 + 0.3 * v.1);
                out.insert(f, b);
                cur = b;
                misses = 0;
            }
            None => {
                misses += 1;
                if misses > 15 {
                    break;
                }
            }
        }
    }
    out
}

fn subject_frames(
    dets: &BTreeMap<u64, Vec<Rect>>,
    keys: &[(u64, Rect)],
    frames: u64,
) -> BTreeMap<u64, Subject> {
    let mut out: BTreeMap<u64, Subject> = (0..frames).map(|f| (f, Subject::Absent)).collect();
    for (i, (kf, kr)) in keys.iter().enumerate() {
        let start = dets.get(kf).and_then(|b| follow(b, kr, 0.3)).unwrap_or(*kr);
        out.insert(*kf, Subject::At(start));
        let end = keys.get(i + 1).map(|k| k.0);
        let fwd = chain(dets, start, (kf + 1)..end.unwrap_or(frames));
        let bwd = match end {
            Some(e) => {
                let s = dets
                    .get(&e)
                    .and_then(|b| follow(b, &keys[i + 1].1, 0.3))
                    .unwrap_or(keys[i + 1].1);
                chain(dets, s, ((kf + 1)..e).rev())
            }
            None => BTreeMap::new(),
        };
        for f in (kf + 1)..end.unwrap_or(frames) {
            let s = match (fwd.get(&f), bwd.get(&f), end) {
                (Some(a), Some(b), _) if a.iou(b) >= 0.7 => Subject::At(*a),
                (Some(a), Some(b), _) => Subject::Ambiguous(*a, *b),
                (Some(a), None, None) => Subject::At(*a),
                (Some(a), None, Some(_)) | (None, Some(a), Some(_)) => {
                    // One direction only: hers if no other detector box overlaps it much.
                    let crowded = dets
                        .get(&f)
                        .is_some_and(|b| b.iter().any(|o| o.iou(a) < 0.9 && o.iou(a) > 0.2));
                    if crowded {
                        Subject::Ambiguous(*a, *a)
                    } else {
                        Subject::At(*a)
                    }
                }
                _ => Subject::Absent,
            };
            out.insert(f, s);
        }
    }
    // Before the first key frame: followed backwards from it.
    if let Some((kf, kr)) = keys.first() {
        let start = dets.get(kf).and_then(|b| follow(b, kr, 0.3)).unwrap_or(*kr);
        for (f, r) in chain(dets, start, (0..*kf).rev()) {
            out.insert(f, Subject::At(r));
        }
    }
    out
}

/// Similarity a detector box needs to the key frames' crops to be hers without the chain.
const APPEARANCE: f32 = 0.65;

/// Adds appearance (person re-identification against the centroid of her key-frame crops) to
/// the chain: where the chain has no box, the one box clearly most like her (cosine at least
/// [`APPEARANCE`] and 0.15 above any other) is hers; where another box looks clearly more like
/// her than the chain's box, the frame is ambiguous.
fn by_appearance(
    source: &str,
    dets: &BTreeMap<u64, Vec<Rect>>,
    keys: &[(u64, Rect)],
    chained: BTreeMap<u64, Subject>,
) -> Result<BTreeMap<u64, Subject>, Box<dyn std::error::Error>> {
    use obscura::detect::reid::{Embedder, ReidEmbedder, cosine, normalise};
    obscura::detect::runtime::init(None)?;
    let store = obscura::detect::models::ModelStore::discover()?;
    let mut e = ReidEmbedder::new(&store, Default::default())?;
    let mut dec = Decoder::open(source, &DecodeOptions::default())?;
    let mut sims: BTreeMap<u64, Vec<(Rect, f32)>> = BTreeMap::new();
    let mut key_vecs: Vec<Vec<f32>> = Vec::new();
    let mut all: BTreeMap<u64, Vec<(Rect, Vec<f32>)>> = BTreeMap::new();
    while let Some(f) = dec.next_frame()? {
        let boxes: Vec<Rect> = dets
            .get(&f.index)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|b| b.h >= 24.0)
            .collect();
        let px: Vec<_> = boxes
            .iter()
            .filter_map(|b| b.to_pixels(f.width, f.height).map(|p| (*b, p)))
            .collect();
        let vs = e.embed_batch(&f, &px.iter().map(|x| x.1).collect::<Vec<_>>())?;
        if let Some((_, kr)) = keys.iter().find(|k| k.0 == f.index)
            && let Some(i) = px
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.0.iou(kr).total_cmp(&b.1.0.iou(kr)))
                .map(|x| x.0)
        {
            key_vecs.push(vs[i].clone());
        }
        all.insert(f.index, px.iter().map(|x| x.0).zip(vs).collect());
    }
    let mut reference = vec![0f32; key_vecs.first().map_or(0, Vec::len)];
    for v in &key_vecs {
        reference.iter_mut().zip(v).for_each(|(r, x)| *r += x);
    }
    let reference = normalise(reference);
    for (f, list) in all {
        sims.insert(
            f,
            list.into_iter()
                .map(|(r, v)| (r, cosine(&reference, &v)))
                .collect(),
        );
    }
    let mut out = BTreeMap::new();
    for (f, s) in chained {
        let mut cands: Vec<(Rect, f32)> = sims.get(&f).cloned().unwrap_or_default();
        cands.sort_by(|a, b| b.1.total_cmp(&a.1));
        let best = cands.first().copied();
        let second = cands.get(1).map_or(-1.0, |c| c.1);
        let v = match s {
            Subject::At(r) => {
                let own = cands
                    .iter()
                    .find(|c| c.0.iou(&r) > 0.9)
                    .map_or(0.0, |c| c.1);
                match best {
                    Some((b, bs)) if b.iou(&r) < 0.3 && bs >= APPEARANCE && bs > own + 0.15 => {
                        Subject::Ambiguous(r, b)
                    }
                    // The chain's box does not look like her (it may have jumped to someone
                    // crossing): not counted either way.
                    Some((b, _)) if own < 0.5 => Subject::Ambiguous(r, b),
                    _ => Subject::At(r),
                }
            }
            Subject::Absent => match best {
                Some((b, bs)) if bs >= APPEARANCE && bs > second + 0.15 => Subject::At(b),
                Some((b, bs)) if bs >= APPEARANCE => Subject::Ambiguous(b, cands[1].0),
                _ => Subject::Absent,
            },
            a => a,
        };
        out.insert(f, v);
    }
    Ok(out)
}

fn hidden(src: &Frame, out: &Frame, x: u32, y: u32) -> bool {
    let (xs, ys) = (x as usize, y as usize);
    src.planes[0].row(ys)[xs] != out.planes[0].row(ys)[xs]
        || src.planes[1].row(ys / 2)[xs / 2] != out.planes[1].row(ys / 2)[xs / 2]
        || src.planes[2].row(ys / 2)[xs / 2] != out.planes[2].row(ys / 2)[xs / 2]
}

/// Hidden share of `r`'s pixels that lie outside every box of `except`.
fn hidden_share(src: &Frame, out: &Frame, r: &Rect, except: &[Rect]) -> Option<f64> {
    let p = r.to_pixels(src.width, src.height)?;
    let (mut n, mut h) = (0u64, 0u64);
    for y in p.y..p.bottom() {
        for x in p.x..p.right() {
            if except
                .iter()
                .any(|e| e.contains_point(x as f32 + 0.5, y as f32 + 0.5))
            {
                continue;
            }
            n += 1;
            h += u64::from(hidden(src, out, x, y));
        }
    }
    (n >= 20).then(|| h as f64 / n as f64)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let list = args.iter().any(|a| a == "--list");
    args.retain(|a| a != "--list");
    let montage = args.iter().position(|a| a == "--montage").map(|i| {
        let p = PathBuf::from(args.get(i + 1).cloned().unwrap_or_default());
        args.drain(i..(i + 2).min(args.len()));
        p
    });
    let gt_out = args.iter().position(|a| a == "--gt").map(|i| {
        let p = PathBuf::from(args.get(i + 1).cloned().unwrap_or_default());
        args.drain(i..(i + 2).min(args.len()));
        p
    });
    let mut gt_lines = String::new();
    let [reference, source, redacted, keys] = args.as_slice() else {
        eprintln!(
            "usage: subject_bench REF.json SOURCE REDACTED KEYS.txt [--montage OUT.ppm] [--list] [--gt OUT.txt]"
        );
        std::process::exit(2);
    };
    let set: TrackSet = serde_json::from_slice(&std::fs::read(reference)?)?;
    let keys = parse_keys(&std::fs::read_to_string(keys)?)?;
    let mut dets: BTreeMap<u64, Vec<Rect>> = BTreeMap::new();
    for t in set.tracks.iter().filter(|t| t.class == ObjectClass::Person) {
        for b in t.boxes.iter().filter(|b| !b.predicted) {
            dets.entry(b.frame).or_default().push(b.rect());
        }
    }
    let chained = subject_frames(&dets, &keys, set.source.frames);
    let subject = by_appearance(source, &dets, &keys, chained)?;
    let mut src = Decoder::open(source, &DecodeOptions::default())?;
    let mut out = Decoder::open(redacted, &DecodeOptions::default())?;
    let (mut present, mut visible, mut ambiguous, mut leak_frames, mut leak_boxes) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut leaks: Vec<String> = Vec::new();
    let mut hidden_runs: Vec<u64> = Vec::new();
    let mut crops: Vec<(u64, Vec<u8>)> = Vec::new();
    while let (Some(a), Some(b)) = (src.next_frame()?, out.next_frame()?) {
        let s = subject.get(&a.index).copied().unwrap_or(Subject::Absent);
        let hers: Vec<Rect> = match s {
            Subject::Absent => vec![],
            Subject::At(r) => vec![r],
            Subject::Ambiguous(r, q) => vec![r, q],
        };
        let mut leaked = false;
        for d in dets.get(&a.index).map(Vec::as_slice).unwrap_or(&[]) {
            if hers.iter().any(|h| h.iou(d) >= 0.3) {
                continue;
            }
            if let Some(share) = hidden_share(&a, &b, d, &hers).filter(|s| *s < MIN_HIDDEN) {
                leaked = true;
                leak_boxes += 1;
                leaks.push(format!("frame {} ({:.1} s): person at x={:.0} y={:.0} w={:.0} h={:.0} only {:.0}% hidden", a.index, a.index as f64 / set.source.fps.max(1.0), d.x, d.y, d.w, d.h, share * 100.0));
            }
        }
        leak_frames += u64::from(leaked);
        match s {
            Subject::At(r) => {
                present += 1;
                let vis = 1.0 - hidden_share(&a, &b, &r, &[]).unwrap_or(1.0);
                gt_lines.push_str(&format!(
                    "{} {:.1} {:.1} {:.1} {:.1} {:.3}\n",
                    a.index, r.x, r.y, r.w, r.h, vis
                ));
                if vis >= MIN_VISIBLE {
                    visible += 1;
                } else {
                    hidden_runs.push(a.index);
                }
                if montage.is_some()
                    && a.index % 10 == 0
                    && let Some(p) = r.to_pixels(a.width, a.height)
                {
                    crops.push((
                        a.index,
                        crop_scaled(&a.to_rgb24(), a.width, p, CROP_W, CROP_H),
                    ));
                }
            }
            Subject::Ambiguous(..) => ambiguous += 1,
            Subject::Absent => {}
        }
    }
    println!(
        "subject frames (a detector box is hers): {present}, ambiguous frames (not counted): {ambiguous}"
    );
    println!(
        "subject visible (>= {:.0}% of her box unmasked): {visible} of {present} ({:.1}%)",
        MIN_VISIBLE * 100.0,
        100.0 * visible as f64 / present.max(1) as f64
    );
    println!("frames with another person unmasked: {leak_frames} ({leak_boxes} boxes)");
    if list {
        for l in &leaks {
            println!("  leak: {l}");
        }
        println!("  subject hidden on frames: {}", runs(&hidden_runs));
    }
    if let Some(path) = gt_out {
        std::fs::write(&path, gt_lines)?;
    }
    if let Some(path) = montage {
        let cols = 20usize;
        let rows = crops.len().div_ceil(cols).max(1);
        let (mw, mh) = (cols * (CROP_W + 2), rows * (CROP_H + 2));
        let mut m = vec![40u8; mw * mh * 3];
        for (i, (_, c)) in crops.iter().enumerate() {
            let (ox, oy) = (i % cols * (CROP_W + 2), i / cols * (CROP_H + 2));
            for y in 0..CROP_H {
                let d = ((oy + y) * mw + ox) * 3;
                m[d..d + CROP_W * 3].copy_from_slice(&c[y * CROP_W * 3..(y + 1) * CROP_W * 3]);
            }
        }
        let mut ppm = format!("P6\n{mw} {mh}\n255\n").into_bytes();
        ppm.extend_from_slice(&m);
        std::fs::write(&path, ppm)?;
        println!(
            "montage of {} crops (every 10th frame, row-major, from frame {}): {}",
            crops.len(),
            crops.first().map_or(0, |c| c.0),
            path.display()
        );
    }
    Ok(())
}

const CROP_W: usize = 48;
const CROP_H: usize = 120;

/// `p` of an RGB frame `width` wide, scaled (nearest) to `w x h`.
fn crop_scaled(rgb: &[u8], width: u32, p: obscura::core::PixelRect, w: usize, h: usize) -> Vec<u8> {
    let mut out = vec![0u8; w * h * 3];
    for y in 0..h {
        let sy = p.y as usize + y * p.h as usize / h;
        for x in 0..w {
            let sx = p.x as usize + x * p.w as usize / w;
            let s = (sy * width as usize + sx) * 3;
            out[(y * w + x) * 3..][..3].copy_from_slice(&rgb[s..s + 3]);
        }
    }
    out
}

/// `a-b, c, d-e` runs of consecutive frames.
fn runs(frames: &[u64]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < frames.len() {
        let mut j = i;
        while j + 1 < frames.len() && frames[j + 1] == frames[j] + 1 {
            j += 1;
        }
        out.push(if i == j {
            frames[i].to_string()
        } else {
            format!("{}-{}", frames[i], frames[j])
        });
        i = j + 1;
    }
    out.join(", ")
}
