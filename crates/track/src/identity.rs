//! Identities: the people of a file, not the tracker's fragments of them.
//!
//! A tracker id is not a person: ids switch between people who cross (the track follows the
//! other one) and one person gets several ids across occlusions and exits. From appearance
//! samples (unit-length re-identification vectors of a track's detected boxes, made by the
//! caller) this module
//! 1. **splits** each track where its appearance changes for good (an id switch): the mean of
//!    the samples before and after a point disagree ([`IdentityConfig::split_similarity`]);
//! 2. **links** the resulting tracklets into identities, greedily from the most similar pair
//!    (cosine of tracklet centroids), only when they never coexist on a detected frame (one
//!    person is never in two places), the appearance is close enough
//!    ([`IdentityConfig::link_similarity`], stricter across long gaps) and the motion is
//!    plausible (the gap between one's last and the other's first box is walkable in the time
//!    between). Deterministic: ties go to lower ids;
//! 3. attaches **fragments** (tracklets without samples: a few detections too small or always
//!    overlapped to embed) to the one person they continue by motion or duplicate (a second
//!    box inside theirs); a fragment two people could explain stays on its own.
//!
//! Pure and deterministic; the redactor verifies every kept box again on every frame, so a
//! wrong link is caught there (fail closed), but linking still errs on the side of keeping
//! people apart.

use std::collections::BTreeMap;

use obscura_core::Rect;
use serde::{Deserialize, Serialize};

use crate::tracker::TrackId;
use crate::trackset::TrackSet;

/// An identity (person) identifier, unique in a [`TrackSet`]: 1, 2, ... by first appearance.
pub type IdentityId = u64;

/// One appearance sample of a track: the unit-length embedding of its box on `frame`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Frame of the (detected) box embedded.
    pub frame: u64,
    /// Unit-length appearance vector.
    pub embedding: Vec<f32>,
}

/// Settings of splitting and linking.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IdentityConfig {
    /// A track is split where the mean of the `split_window` samples before a point and the
    /// mean of those after it have a cosine below this (0.55; the same person scores ~0.8,
    /// different people ~0.25-0.45 with person-reidentification-retail-0248).
    pub split_similarity: f32,
    /// Samples on each side of a candidate split point (3).
    pub split_window: usize,
    /// Tracklets link when their centroids' cosine is at least this (0.8; dark-clad people
    /// in vtest.avi score up to ~0.75 against each other, the same person 0.85-0.95).
    pub link_similarity: f32,
    /// ... and at least this when the gap between them exceeds `short_gap_seconds` (0.85).
    pub link_similarity_far: f32,
    /// Gaps up to this many seconds must also be plausible by motion (5.0).
    pub short_gap_seconds: f64,
    /// Walking speed bound for the motion check, in box heights per second (1.5), plus one
    /// box height of slack.
    pub max_speed_heights: f32,
    /// A fragment (a tracklet without appearance samples: a few detections, too small or
    /// always overlapped to recognise) joins the one person it continues within this many
    /// seconds (end to start, by motion) or duplicates (each of its detections lies inside
    /// that person's box on the same frame); with two or more such people it stays on its
    /// own (1.0; 0: off).
    pub fragment_gap_seconds: f64,
    /// A fragment's detection lies inside a person's box when at least this share of it is
    /// covered (0.8).
    pub duplicate_inside: f32,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        Self {
            split_similarity: 0.55,
            split_window: 3,
            link_similarity: 0.8,
            link_similarity_far: 0.85,
            short_gap_seconds: 5.0,
            max_speed_heights: 1.5,
            fragment_gap_seconds: 1.0,
            duplicate_inside: 0.8,
        }
    }
}

/// A tracklet: the frames `first_frame..=last_frame` of one track, one person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackletRecord {
    /// The track.
    pub track: TrackId,
    /// First frame (inclusive).
    pub first_frame: u64,
    /// Last frame (inclusive).
    pub last_frame: u64,
    /// Time of the first frame, seconds.
    pub first_pts: f64,
    /// Time of the last frame, seconds.
    pub last_pts: f64,
    /// Appearance samples it has.
    pub samples: usize,
}

impl TrackletRecord {
    /// Whether frame `f` of track `track` belongs to this tracklet.
    pub fn holds(&self, track: TrackId, f: u64) -> bool {
        self.track == track && self.first_frame <= f && f <= self.last_frame
    }
}

/// One person over the whole file: the tracklets that are them, in time order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentityRecord {
    /// Identity id.
    pub id: IdentityId,
    /// Tracklets, ordered by first frame.
    pub tracklets: Vec<TrackletRecord>,
    /// First frame of any tracklet.
    pub first_frame: u64,
    /// Last frame of any tracklet.
    pub last_frame: u64,
    /// Time of `first_frame`, seconds.
    pub first_pts: f64,
    /// Time of `last_frame`, seconds.
    pub last_pts: f64,
}

impl IdentityRecord {
    /// Whether frame `f` of track `track` is this person.
    pub fn holds(&self, track: TrackId, f: u64) -> bool {
        self.tracklets.iter().any(|t| t.holds(track, f))
    }
}

/// Cosine of two vectors (0 when the lengths differ or either is zero).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 || !dot.is_finite() {
        0.0
    } else {
        dot / (na * nb)
    }
}

/// The unit-length mean of `vs` (empty when `vs` is).
pub fn centroid<'a>(vs: impl IntoIterator<Item = &'a [f32]>) -> Vec<f32> {
    let mut sum: Vec<f32> = Vec::new();
    for v in vs {
        if sum.is_empty() {
            sum = vec![0.0; v.len()];
        }
        if v.len() == sum.len() {
            sum.iter_mut().zip(v).for_each(|(s, x)| *s += x);
        }
    }
    let n: f32 = sum.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        sum.iter_mut().for_each(|x| *x /= n);
    }
    sum
}

/// The frames of `samples` (in frame order) after which the track changes person: split
/// between sample `j - 1` and sample `j` where the means of the windows on either side have a
/// cosine below the threshold (the lowest point of each such run).
pub fn split_points(samples: &[Sample], cfg: &IdentityConfig) -> Vec<usize> {
    let w = cfg.split_window.max(1);
    if samples.len() < 2 * w {
        return Vec::new();
    }
    let sims: Vec<(usize, f32)> = (w..=samples.len() - w)
        .map(|j| {
            let before = centroid(samples[j - w..j].iter().map(|s| s.embedding.as_slice()));
            let after = centroid(samples[j..j + w].iter().map(|s| s.embedding.as_slice()));
            (j, cosine(&before, &after))
        })
        .collect();
    let mut out: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < sims.len() {
        if sims[i].1 >= cfg.split_similarity {
            i += 1;
            continue;
        }
        let mut best = sims[i];
        while i < sims.len() && sims[i].1 < cfg.split_similarity {
            if sims[i].1 < best.1 {
                best = sims[i];
            }
            i += 1;
        }
        // Keep the parts at least one window apart.
        if out.last().is_none_or(|&p| best.0 >= p + w) {
            out.push(best.0);
        }
    }
    out
}

/// A tracklet while linking: its range, detected frames and centroid.
#[derive(Debug, Clone)]
struct Part {
    track: TrackId,
    first: u64,
    last: u64,
    /// First and last detected box (frame, box).
    first_det: Option<(u64, Rect)>,
    last_det: Option<(u64, Rect)>,
    centroid: Vec<f32>,
    samples: usize,
}

/// Splits and links the person tracks of `set` into identities, from `samples` per track
/// (each track's samples in any order; tracks without samples become identities of their
/// own). `fps` converts gaps to seconds (25 when unknown).
pub fn build_identities(
    set: &TrackSet,
    samples: &BTreeMap<TrackId, Vec<Sample>>,
    cfg: &IdentityConfig,
) -> Vec<IdentityRecord> {
    let fps = if set.source.fps > 0.0 {
        set.source.fps
    } else {
        25.0
    };
    let mut parts: Vec<Part> = Vec::new();
    for t in set
        .tracks
        .iter()
        .filter(|t| t.class == obscura_core::ObjectClass::Person)
    {
        let mut s: Vec<Sample> = samples.get(&t.id).cloned().unwrap_or_default();
        s.sort_by_key(|x| x.frame);
        let cuts = split_points(&s, cfg);
        // Frame ranges: a cut at sample j ends the part at sample j-1's frame.
        let mut bounds: Vec<(u64, u64, std::ops::Range<usize>)> = Vec::new();
        let mut start_f = t.first_frame;
        let mut start_i = 0;
        for &j in &cuts {
            let end_f = s[j - 1].frame;
            bounds.push((start_f, end_f, start_i..j));
            start_f = end_f + 1;
            start_i = j;
        }
        bounds.push((start_f, t.last_frame, start_i..s.len()));
        for (first, last, range) in bounds {
            let dets: Vec<_> = t
                .boxes
                .iter()
                .filter(|b| !b.predicted && b.frame >= first && b.frame <= last)
                .collect();
            parts.push(Part {
                track: t.id,
                first,
                last,
                first_det: dets.first().map(|b| (b.frame, b.rect())),
                last_det: dets.last().map(|b| (b.frame, b.rect())),
                centroid: centroid(s[range.clone()].iter().map(|x| x.embedding.as_slice())),
                samples: range.len(),
            });
        }
    }
    // Greedy agglomerative linking.
    let n = parts.len();
    let mut group: Vec<usize> = (0..n).collect();
    let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
    for a in 0..n {
        for b in 0..n {
            if a == b || parts[a].centroid.is_empty() || parts[b].centroid.is_empty() {
                continue;
            }
            let (pa, pb) = (&parts[a], &parts[b]);
            // a before b, by detected frames.
            let (Some((fa, ra)), Some((fb, rb))) = (pa.last_det, pb.first_det) else {
                continue;
            };
            if fb <= fa || pb.first_det.map(|d| d.0) <= pa.first_det.map(|d| d.0) {
                continue;
            }
            let sim = cosine(&pa.centroid, &pb.centroid);
            let gap_s = (fb - fa) as f64 / fps;
            let need = if gap_s > cfg.short_gap_seconds {
                cfg.link_similarity_far
            } else {
                cfg.link_similarity
            };
            if sim < need {
                continue;
            }
            if gap_s <= cfg.short_gap_seconds {
                let (ca, cb) = (ra.center(), rb.center());
                let d = ((ca.0 - cb.0).powi(2) + (ca.1 - cb.1).powi(2)).sqrt();
                let h = ra.h.max(rb.h).max(1.0);
                if d > h * (1.0 + cfg.max_speed_heights * gap_s as f32) {
                    continue;
                }
            }
            pairs.push((sim, a, b));
        }
    }
    pairs.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    let overlaps = |x: &Part, y: &Part| -> bool {
        match (x.first_det, x.last_det, y.first_det, y.last_det) {
            (Some(a0), Some(a1), Some(b0), Some(b1)) => a0.0 <= b1.0 && b0.0 <= a1.0,
            _ => false,
        }
    };
    for (_, a, b) in pairs {
        let (ga, gb) = (group[a], group[b]);
        if ga == gb {
            continue;
        }
        let members_a: Vec<usize> = (0..n).filter(|&i| group[i] == ga).collect();
        let members_b: Vec<usize> = (0..n).filter(|&i| group[i] == gb).collect();
        if members_a
            .iter()
            .any(|&i| members_b.iter().any(|&j| overlaps(&parts[i], &parts[j])))
        {
            continue;
        }
        // Average linkage: the groups as a whole must still look alike.
        let ca = centroid(members_a.iter().map(|&i| parts[i].centroid.as_slice()));
        let cb = centroid(members_b.iter().map(|&i| parts[i].centroid.as_slice()));
        if cosine(&ca, &cb) < cfg.link_similarity {
            continue;
        }
        let (keep, drop) = (ga.min(gb), ga.max(gb));
        group
            .iter_mut()
            .filter(|g| **g == drop)
            .for_each(|g| *g = keep);
    }
    // Fragments (no appearance samples) join the one person they continue or duplicate.
    if cfg.fragment_gap_seconds > 0.0 {
        let box_of = |p: &Part, f: u64| -> Option<Rect> {
            if f < p.first || f > p.last {
                return None;
            }
            set.track(p.track)
                .and_then(|t| t.box_at(f))
                .map(|b| b.rect())
        };
        let dets_of = |p: &Part| -> Vec<(u64, Rect)> {
            set.track(p.track)
                .map(|t| {
                    t.boxes
                        .iter()
                        .filter(|b| !b.predicted && b.frame >= p.first && b.frame <= p.last)
                        .map(|b| (b.frame, b.rect()))
                        .collect()
                })
                .unwrap_or_default()
        };
        let walkable = |(fa, ra): (u64, Rect), (fb, rb): (u64, Rect)| -> bool {
            let gap_s = fb.saturating_sub(fa) as f64 / fps;
            let (ca, cb) = (ra.center(), rb.center());
            let d = ((ca.0 - cb.0).powi(2) + (ca.1 - cb.1).powi(2)).sqrt();
            fb > fa
                && gap_s <= cfg.fragment_gap_seconds
                && d <= ra.h.max(rb.h).max(1.0) * (1.0 + cfg.max_speed_heights * gap_s as f32)
        };
        for fi in (0..n).filter(|&i| parts[i].centroid.is_empty()) {
            let dets = dets_of(&parts[fi]);
            let (Some(&d0), Some(&d1)) = (dets.first(), dets.last()) else {
                continue;
            };
            let mut candidates: Vec<usize> = Vec::new();
            for g in (0..n).filter(|&g| group[g] == g && g != group[fi]) {
                let members: Vec<usize> = (0..n).filter(|&i| group[i] == g).collect();
                if !members.iter().any(|&i| !parts[i].centroid.is_empty()) {
                    continue;
                }
                let duplicate = dets.iter().all(|&(f, r)| {
                    members.iter().any(|&i| {
                        box_of(&parts[i], f)
                            .is_some_and(|m| m.coverage_of(&r) >= cfg.duplicate_inside)
                    })
                });
                let coexists = members.iter().any(|&i| overlaps(&parts[i], &parts[fi]));
                let continues = !coexists
                    && members.iter().any(|&i| {
                        let p = &parts[i];
                        p.last_det.is_some_and(|e| walkable(e, d0))
                            || p.first_det.is_some_and(|s| walkable(d1, s))
                    });
                if duplicate || continues {
                    candidates.push(g);
                }
            }
            if let [g] = candidates.as_slice() {
                let drop = group[fi];
                let keep = (*g).min(drop);
                let other = (*g).max(drop);
                group
                    .iter_mut()
                    .filter(|x| **x == other)
                    .for_each(|x| *x = keep);
            }
        }
    }
    let pts_of = |f: u64| -> f64 {
        set.tracks
            .iter()
            .find_map(|t| t.box_at(f).map(|b| b.pts))
            .unwrap_or(f as f64 / fps)
    };
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, g) in group.iter().enumerate() {
        groups.entry(*g).or_default().push(i);
    }
    let mut out: Vec<IdentityRecord> = groups
        .into_values()
        .map(|members| {
            let mut tracklets: Vec<TrackletRecord> = members
                .iter()
                .map(|&i| {
                    let p = &parts[i];
                    TrackletRecord {
                        track: p.track,
                        first_frame: p.first,
                        last_frame: p.last,
                        first_pts: pts_of(p.first),
                        last_pts: pts_of(p.last),
                        samples: p.samples,
                    }
                })
                .collect();
            tracklets.sort_by_key(|t| (t.first_frame, t.track));
            let first = tracklets.iter().map(|t| t.first_frame).min().unwrap_or(0);
            let last = tracklets.iter().map(|t| t.last_frame).max().unwrap_or(0);
            IdentityRecord {
                id: 0,
                first_frame: first,
                last_frame: last,
                first_pts: pts_of(first),
                last_pts: pts_of(last),
                tracklets,
            }
        })
        .collect();
    out.sort_by_key(|r| (r.first_frame, r.tracklets.first().map(|t| t.track)));
    for (i, r) in out.iter_mut().enumerate() {
        r.id = i as IdentityId + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        AnalysisSettings, BoxSource, SourceInfo, TrackBox, TrackSetBuilder, TrackUpdate,
        TrackerConfig,
    };
    use obscura_core::{ObjectClass, Rational, Timestamp};

    /// A unit vector "person" `k` of 8 dimensions with a little per-sample variation.
    fn look(k: usize, i: u64) -> Vec<f32> {
        let mut v = vec![0.05f32; 8];
        v[k] = 1.0;
        v[(k + 1) % 8] += 0.1 * ((i % 3) as f32);
        centroid([v.as_slice()])
    }

    /// Tracks as (id, first frame, last frame, x start, x speed per frame).
    fn set_of(tracks: &[(TrackId, u64, u64, f32, f32)], frames: u64) -> TrackSet {
        let tb = Rational::new(1, 10).unwrap();
        let mut b = TrackSetBuilder::new();
        for f in 0..frames {
            let boxes = tracks
                .iter()
                .filter(|t| t.1 <= f && f <= t.2)
                .map(|&(id, f0, _, x0, vx)| TrackBox {
                    id,
                    class: ObjectClass::Person,
                    rect: Rect::new(x0 + vx * (f - f0) as f32, 100.0, 40.0, 100.0),
                    score: 0.9,
                    source: BoxSource::Detected,
                    detection_index: None,
                    parent: None,
                })
                .collect();
            b.push(
                &TrackUpdate {
                    frame: f,
                    tracks: boxes,
                },
                Timestamp::new(f as i64, tb),
            );
        }
        let source = SourceInfo {
            path: "x".into(),
            sha256: None,
            width: 800,
            height: 400,
            frames,
            time_base: "1/10".into(),
            fps: 10.0,
        };
        let settings = AnalysisSettings {
            every: 1,
            targets: vec![],
            tracker: TrackerConfig::default(),
            thresholds: Default::default(),
            models: vec![],
        };
        b.finish(source, settings, tb)
    }

    fn samples(frames: impl Iterator<Item = u64>, who: impl Fn(u64) -> usize) -> Vec<Sample> {
        frames
            .map(|f| Sample {
                frame: f,
                embedding: look(who(f), f),
            })
            .collect()
    }

    #[test]
    fn an_id_switch_splits_the_track_and_the_halves_join_their_people() {
        // Track 1 is person A until frame 49, then (id switch) person B. Track 2 is B until
        // frame 45 (B's track is lost when the tracker hands B to track 1); track 3 is A from
        // frame 55 on, where A walked on.
        let set = set_of(
            &[
                (1, 0, 99, 100.0, 2.0),
                (2, 0, 45, 300.0, -1.0),
                (3, 55, 99, 210.0, 2.0),
            ],
            100,
        );
        let mut s = BTreeMap::new();
        s.insert(
            1,
            samples((0..100).step_by(3), |f| if f < 50 { 0 } else { 1 }),
        );
        s.insert(2, samples((0..46).step_by(3), |_| 1));
        s.insert(3, samples((55..100).step_by(3), |_| 0));
        let cfg = IdentityConfig::default();
        let cuts = split_points(&s[&1], &cfg);
        assert_eq!(cuts.len(), 1, "{cuts:?}");
        assert_eq!(
            s[&1][cuts[0]].frame, 51,
            "split at the first sample of the other person"
        );
        let ids = build_identities(&set, &s, &cfg);
        assert_eq!(ids.len(), 2, "{ids:#?}");
        let a = ids.iter().find(|i| i.holds(1, 10)).unwrap();
        let b = ids.iter().find(|i| i.holds(2, 10)).unwrap();
        assert_ne!(a.id, b.id);
        assert!(
            a.holds(1, 48) && !a.holds(1, 60) && a.holds(3, 70),
            "{a:#?}"
        );
        assert!(
            b.holds(1, 60) && b.holds(1, 99) && !b.holds(1, 40),
            "{b:#?}"
        );
    }

    #[test]
    fn people_apart_stay_apart_and_coexisting_tracklets_never_link() {
        // Two different people one after another, and two look-alikes at the same time.
        let set = set_of(
            &[
                (1, 0, 30, 100.0, 1.0),
                (2, 40, 80, 140.0, 1.0),
                (3, 0, 80, 500.0, 0.0),
                (4, 10, 80, 600.0, 0.0),
            ],
            81,
        );
        let mut s = BTreeMap::new();
        s.insert(1, samples((0..31).step_by(3), |_| 0));
        s.insert(2, samples((40..81).step_by(3), |_| 2));
        s.insert(3, samples((0..81).step_by(3), |_| 4));
        s.insert(4, samples((10..81).step_by(3), |_| 4));
        let ids = build_identities(&set, &s, &IdentityConfig::default());
        assert_eq!(ids.len(), 4, "{ids:#?}");
        assert!(ids.iter().all(|i| i.tracklets.len() == 1));
        assert_eq!(
            ids.iter().map(|i| i.id).collect::<Vec<_>>(),
            vec![1, 2, 3, 4]
        );
    }

    #[test]
    fn a_person_lost_and_refound_is_one_identity_unless_the_jump_is_impossible() {
        // Same look: track 2 starts 1 s after track 1 ends, near where it ended (linked);
        // track 3 starts 0.2 s after track 2 ends but 600 px away (not walkable: apart).
        let set = set_of(
            &[
                (1, 0, 20, 100.0, 2.0),
                (2, 30, 50, 160.0, 2.0),
                (3, 52, 70, 800.0, 0.0),
            ],
            71,
        );
        let mut s = BTreeMap::new();
        s.insert(1, samples((0..21).step_by(3), |_| 3));
        s.insert(2, samples((30..51).step_by(3), |_| 3));
        s.insert(3, samples((52..71).step_by(3), |_| 3));
        let ids = build_identities(&set, &s, &IdentityConfig::default());
        assert_eq!(ids.len(), 2, "{ids:#?}");
        assert_eq!(
            ids[0].tracklets.iter().map(|t| t.track).collect::<Vec<_>>(),
            vec![1, 2]
        );
        assert_eq!(
            ids[1].tracklets.iter().map(|t| t.track).collect::<Vec<_>>(),
            vec![3]
        );
    }

    #[test]
    fn fragments_join_the_one_person_they_continue_or_duplicate() {
        // Track 2 (no samples: a short fragment) continues track 1's walk 0.3 s later; track 3
        // (no samples) is a second box on track 4's person; track 5 (no samples) starts where
        // two people (6 and 7) both ended: ambiguous, it stays on its own.
        let set = set_of(
            &[
                (1, 0, 30, 100.0, 2.0),
                (2, 33, 40, 166.0, 2.0),
                (3, 10, 14, 500.0, 0.0),
                (4, 0, 60, 500.0, 0.0),
                (5, 52, 58, 320.0, 0.0),
                (6, 0, 50, 250.0, 1.0),
                (7, 0, 50, 390.0, -1.0),
            ],
            61,
        );
        let mut s = BTreeMap::new();
        s.insert(1, samples((0..31).step_by(3), |_| 0));
        s.insert(4, samples((0..61).step_by(3), |_| 1));
        s.insert(6, samples((0..51).step_by(3), |_| 2));
        s.insert(7, samples((0..51).step_by(3), |_| 3));
        let ids = build_identities(&set, &s, &IdentityConfig::default());
        let tracks = |t: TrackId| {
            ids.iter()
                .find(|i| i.tracklets.iter().any(|x| x.track == t))
                .unwrap()
                .tracklets
                .iter()
                .map(|x| x.track)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids.len(), 5, "{ids:#?}");
        assert_eq!(tracks(1), vec![1, 2]);
        assert_eq!(tracks(4), vec![4, 3]);
        assert_eq!(tracks(5), vec![5]);
        // Off: every fragment is its own.
        let off = IdentityConfig {
            fragment_gap_seconds: 0.0,
            ..IdentityConfig::default()
        };
        assert_eq!(build_identities(&set, &s, &off).len(), 7);
    }

    #[test]
    fn steady_tracks_are_not_split() {
        let s = samples(0..40, |_| 5);
        assert!(split_points(&s, &IdentityConfig::default()).is_empty());
        assert!(split_points(&s[..4], &IdentityConfig::default()).is_empty());
    }
}
