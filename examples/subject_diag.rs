//! Why is the kept subject masked? For each frame where `subject_bench --gt` found her hidden,
//! the cause, from the same analysis the redactor makes: her box not tracked, her box in an
//! identity that is not checked as her (a fragment the linking left apart), her box checked
//! and masked for uncertainty (which test failed, with the scores), or her box cleared but
//! covered by another person's mask (whose).
//!
//! ```text
//! obscura tracks SOURCE -o TRACKS.json             # the redactor's analysis (same flags)
//! subject_bench REF.json SOURCE REDACTED KEYS.txt --gt GT.txt
//! cargo run --release --example subject_diag -- TRACKS.json SOURCE GT.txt TIME@X,Y [--all]
//! ```
//!
//! Runs the appearance analysis and the per-frame check again (two decodes with
//! re-identification), exactly as `redact --keep-at` does.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use obscura::core::{ObjectClass, Rect, Timestamp};
use obscura::detect::reid::ReidEmbedder;
use obscura::media::DecodeOptions;
use obscura::pipeline::identity::{identify, verify_subject};
use obscura::pipeline::{CancelToken, IdentityOptions, KeepAt, Pass};
use obscura::track::TrackSet;
use obscura::track::identity::cosine;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let all = args.iter().any(|a| a == "--all");
    args.retain(|a| a != "--all");
    let [tracks, source, gt, keep] = args.as_slice() else {
        eprintln!("usage: subject_diag TRACKS.json SOURCE GT.txt TIME@X,Y [--all]");
        std::process::exit(2);
    };
    let source = Path::new(source);
    let mut set: TrackSet = serde_json::from_slice(&std::fs::read(tracks)?)?;
    let at: KeepAt = keep.parse()?;
    obscura::detect::runtime::init(None)?;
    let store = obscura::detect::models::ModelStore::discover()?;
    let mut embedder = ReidEmbedder::new(&store, Default::default())?;
    let options = IdentityOptions::default();
    let (decode, cancel) = (DecodeOptions::default(), CancelToken::new());
    let appearance = identify(
        source,
        &mut set,
        &mut embedder,
        &options,
        &decode,
        None,
        &cancel,
        None,
        (Pass::Embed, 1, 2),
    )?;
    let persons = set
        .tracks
        .iter()
        .filter(|t| t.class == ObjectClass::Person)
        .count();
    println!(
        "person tracks: {persons}, identities: {}",
        set.identities.len()
    );
    if std::env::var_os("DIAG_IDENTITIES").is_some() {
        for i in &set.identities {
            let samples: usize = i.tracklets.iter().map(|t| t.samples).sum();
            let dets: usize = i
                .tracklets
                .iter()
                .map(|t| {
                    set.track(t.track).map_or(0, |r| {
                        r.boxes
                            .iter()
                            .filter(|b| {
                                !b.predicted && b.frame >= t.first_frame && b.frame <= t.last_frame
                            })
                            .count()
                    })
                })
                .sum();
            println!(
                "identity {}: frames {}-{} tracklets {} samples {samples} detected {dets} {:?}",
                i.id,
                i.first_frame,
                i.last_frame,
                i.tracklets.len(),
                i.tracklets
                    .iter()
                    .map(|t| (t.track, t.first_frame, t.last_frame))
                    .collect::<Vec<_>>()
            );
        }
    }
    let fps = if set.source.fps > 0.0 {
        set.source.fps
    } else {
        25.0
    };
    let pts: Vec<(u64, Timestamp)> = (0..set.source.frames)
        .map(|f| {
            (
                f,
                Timestamp::parse(&format!("{:.6}", f as f64 / fps)).expect("time"),
            )
        })
        .collect();
    let (id, seed) = obscura::pipeline::subject::select_at(source, &set, &pts, &at)?;
    let seed_c = appearance.tracklet_centroid(seed.track, seed.first_frame, seed.last_frame);
    let reference = appearance.reference(&set, id, Some(&seed_c), options.link.link_similarity);
    let mut references = BTreeMap::new();
    references.insert(id, reference.clone());
    for (other, c) in &appearance.centroids {
        if *other != id && cosine(c, &reference) >= options.same_person {
            references.insert(*other, reference.clone());
        }
    }
    let subj = set.identity(id).expect("kept identity");
    println!(
        "kept person {id}: {} tracklets {:?}; also checked: {:?}",
        subj.tracklets.len(),
        subj.tracklets
            .iter()
            .map(|t| (t.track, t.first_frame, t.last_frame))
            .collect::<Vec<_>>(),
        references.keys().filter(|k| **k != id).collect::<Vec<_>>()
    );
    let frames = verify_subject(
        source,
        &set,
        &references,
        &appearance,
        &mut embedder,
        &options,
        &decode,
        None,
        &cancel,
        None,
        (Pass::Verify, 2, 2),
    )?;
    if let Ok(spec) = std::env::var("DIAG_SCORES") {
        // DIAG_SCORES=FIRST-LAST: every check of the kept boxes on those frames.
        let (a, b) = spec
            .split_once('-')
            .map(|(a, b)| (a.parse::<u64>().unwrap_or(0), b.parse::<u64>().unwrap_or(0)))
            .unwrap_or((0, 0));
        for ((f, t), c) in frames.checks.range((a, 0)..=(b, u64::MAX)) {
            println!(
                "  check frame {f} track {t}: own {:.2} other {:.2} confident {} neighbours {} steady {} bridged {}",
                c.own, c.other, c.confident, c.neighbours, c.steady, c.bridged
            );
        }
    }
    let mut causes: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    // Boxes of others over her cleared box, to embed: frame -> (track, box, coverage by her box).
    let mut over: BTreeMap<u64, Vec<(u64, Rect, f32, bool)>> = BTreeMap::new();
    let mut fragments: BTreeMap<u64, BTreeSet<u64>> = BTreeMap::new();
    for line in std::fs::read_to_string(gt)?.lines() {
        let v: Vec<f32> = line
            .split_whitespace()
            .filter_map(|s| s.parse().ok())
            .collect();
        let [f, x, y, w, h, vis] = v.as_slice() else {
            continue;
        };
        let (f, her) = (*f as u64, Rect::new(*x, *y, *w, *h));
        let hidden = *vis < 0.5;
        if !hidden && !all {
            continue;
        }
        let boxes: Vec<_> = set
            .boxes_at(f)
            .into_iter()
            .filter(|(t, _)| t.class == ObjectClass::Person)
            .collect();
        let best = boxes
            .iter()
            .map(|(t, b)| (b.rect().iou(&her), *t, *b))
            .max_by(|a, b| a.0.total_cmp(&b.0));
        let (cause, detail) = match best {
            Some((iou, t, b)) if iou >= 0.3 => {
                let ident = set.identity_of(t.id, f).map_or(0, |i| i.id);
                match frames.checks.get(&(f, t.id)) {
                    _ if !references.contains_key(&ident) => {
                        let c = appearance
                            .centroids
                            .get(&ident)
                            .map_or(-1.0, |c| cosine(c, &reference));
                        fragments.entry(ident).or_default().insert(f);
                        (
                            "fragment (identity not checked as her)".to_string(),
                            format!("track {} identity {ident} cos-to-ref {c:.2}", t.id),
                        )
                    }
                    None => (
                        "not checked (predicted, outside detections, or small)".into(),
                        format!("track {} predicted={} h={:.0}", t.id, b.predicted, b.h),
                    ),
                    Some(c) if !c.passed() => {
                        let why = if !c.confident {
                            if c.own < options.verify_similarity {
                                "check: own < threshold"
                            } else {
                                "check: margin to another"
                            }
                        } else if !c.neighbours {
                            "check: neighbour frames"
                        } else {
                            "check: jump"
                        };
                        (
                            why.into(),
                            format!("track {} own {:.2} other {:.2}", t.id, c.own, c.other),
                        )
                    }
                    Some(_) => {
                        let covers: Vec<String> = boxes
                            .iter()
                            .filter(|(o, _)| o.id != t.id && !frames.shows(f, o.id))
                            .map(|(o, ob)| (o.id, ob.rect().dilate(0.1, 4.0).coverage_of(&her)))
                            .filter(|(_, c)| *c > 0.05)
                            .map(|(o, c)| format!("track {o} covers {:.0}%", c * 100.0))
                            .collect();
                        for (o, ob) in boxes
                            .iter()
                            .filter(|(o, _)| o.id != t.id && !frames.shows(f, o.id))
                        {
                            if ob.rect().dilate(0.1, 4.0).coverage_of(&her) > 0.05 {
                                over.entry(f).or_default().push((
                                    o.id,
                                    ob.rect(),
                                    b.rect().coverage_of(&ob.rect()),
                                    ob.predicted,
                                ));
                            }
                        }
                        let faces = set
                            .boxes_at(f)
                            .into_iter()
                            .filter(|(t, _)| t.class == ObjectClass::Face)
                            .filter(|(_, b)| b.rect().coverage_of(&her) > 0.0)
                            .count();
                        (
                            if hidden {
                                "cleared, but covered"
                            } else {
                                "visible"
                            }
                            .into(),
                            format!("track {} {}; faces on her {faces}", t.id, covers.join(", ")),
                        )
                    }
                }
            }
            Some((iou, t, _)) => (
                "not tracked (best IoU < 0.3)".into(),
                format!("best track {} IoU {iou:.2}", t.id),
            ),
            None => ("not tracked (no person box)".into(), String::new()),
        };
        println!("frame {f}: vis {vis:.2} {cause}: {detail}");
        causes.entry(cause).or_default().push(f);
    }
    // The covering boxes: how much of each lies in her box, and whom its crop looks like.
    let mut dec = obscura::media::Decoder::open(source, &decode)?;
    while let Some(fr) = dec.next_frame()? {
        let Some(list) = over.get(&fr.index) else {
            continue;
        };
        let px: Vec<_> = list
            .iter()
            .filter_map(|(_, r, _, _)| r.to_pixels(fr.width, fr.height))
            .collect();
        if px.len() != list.len() {
            continue;
        }
        let vs = obscura::detect::reid::Embedder::embed_batch(&mut embedder, &fr, &px)?;
        for ((o, r, inside, predicted), v) in list.iter().zip(vs) {
            let own = cosine(&v, &reference);
            let other = appearance
                .centroids
                .iter()
                .filter(|(k, _)| !references.contains_key(k))
                .map(|(_, c)| cosine(&v, c))
                .fold(-1.0f32, f32::max);
            let tr = set.track(*o).expect("track");
            println!(
                "  over her on frame {}: track {o} ({}-{}) predicted={predicted} h={:.0} inside-her-box {:.0}% own {own:.2} other {other:.2}",
                fr.index,
                tr.first_frame,
                tr.last_frame,
                r.h,
                inside * 100.0
            );
        }
    }
    println!("summary:");
    for (c, fs) in &causes {
        println!("  {c}: {} frames", fs.len());
    }
    for (i, fs) in &fragments {
        let r = set.identity(*i).expect("identity");
        println!(
            "  fragment identity {i}: {} frames hidden; tracklets {:?}",
            fs.len(),
            r.tracklets
                .iter()
                .map(|t| (t.track, t.first_frame, t.last_frame))
                .collect::<Vec<_>>()
        );
    }
    Ok(())
}
