//! One review: the analysed clip (every frame cached as JPEG, the tracks and people), the
//! current edits, and the masked preview of any frame with those edits applied.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use image::{ImageFormat, RgbImage};
use obscura_core::{Frame, ObjectClass, Rational, Timestamp};
use obscura_media::{DecodeOptions, Decoder};
use obscura_pipeline::manual::{apply_identity_edits, micros};
use obscura_pipeline::sheet;
use obscura_pipeline::{Candidate, ManualMasks, Policy};
use obscura_track::{IdentityId, TrackSet};
use serde::Serialize;
use serde_json::{Value, json};

use crate::edits::{Edits, PersonRef};
use crate::error::Error;

/// JPEG quality of the cached source frames and of the preview.
const JPEG_QUALITY: u8 = 88;

/// Where the Save button writes, and whether it may replace the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveTarget {
    /// The edits file.
    pub path: PathBuf,
    /// True when the review was opened with this existing file (`--edits FILE`).
    pub overwrite: bool,
}

/// A clip under review.
pub struct Session {
    input: PathBuf,
    name: String,
    width: u32,
    height: u32,
    fps: f64,
    pts: Vec<(u64, Timestamp)>,
    frames: Vec<Vec<u8>>,
    base: TrackSet,
    set: TrackSet,
    policy: Policy,
    style: String,
    edits: Edits,
    manual: ManualMasks,
    /// Kept people's identity ids (subject first), after the identity edits.
    kept: Vec<IdentityId>,
    save: SaveTarget,
    saved: Option<String>,
    /// The export's request window (source time), when the review was told it.
    window: (Option<Timestamp>, Option<Timestamp>),
    /// Silhouettes for the preview, as the export uses them (policy rule 7).
    segmenter: Option<std::sync::Mutex<obscura_detect::Segmenter>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("input", &self.input)
            .field("frames", &self.frames.len())
            .finish_non_exhaustive()
    }
}

fn jpeg(img: &RgbImage) -> Result<Vec<u8>, String> {
    sheet::jpeg(img, JPEG_QUALITY)
}

/// `S.ffffff`: a time in seconds with exactly six decimals (what the page writes back).
pub fn seconds_text(t: Timestamp) -> String {
    let us = micros(t);
    format!(
        "{}{}.{:06}",
        if us < 0 { "-" } else { "" },
        us.unsigned_abs() / 1_000_000,
        us.unsigned_abs() % 1_000_000
    )
}

impl Session {
    /// Decodes every frame of `input` into the preview cache (JPEG, full size) and starts a
    /// review of it with the analysis `set` (from `obscura tracks`' analysis with the same
    /// settings, people included), masking in `policy`'s style (`style` names it).
    pub fn open(
        input: &Path,
        set: TrackSet,
        policy: Policy,
        style: &str,
        edits: Edits,
        save: SaveTarget,
    ) -> Result<Session, Error> {
        let fail = |e: String| Error::Server(format!("{}: {e}", input.display()));
        let mut dec =
            Decoder::open(input, &DecodeOptions::default()).map_err(|e| fail(e.to_string()))?;
        let info = dec.info().clone();
        let mut pts = Vec::new();
        let mut frames = Vec::new();
        while let Some(f) = dec.next_frame().map_err(|e| fail(e.to_string()))? {
            let rgb = RgbImage::from_raw(f.width, f.height, f.to_rgb24())
                .ok_or_else(|| fail("bad frame".into()))?;
            frames.push(jpeg(&rgb).map_err(fail)?);
            pts.push((f.index, f.pts));
            if set.source.frames > 0 && frames.len() as u64 >= set.source.frames {
                break;
            }
        }
        if frames.is_empty() {
            return Err(fail("no frames".into()));
        }
        let fps = info
            .frame_rate
            .map(Rational::as_f64)
            .filter(|f| f.is_finite() && *f > 0.0)
            .unwrap_or(set.source.fps);
        let name = input
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut s = Session {
            input: input.to_path_buf(),
            name,
            width: info.width,
            height: info.height,
            fps,
            pts,
            frames,
            set: set.clone(),
            base: set,
            policy,
            style: style.to_string(),
            edits: Edits::new("", ""),
            manual: ManualMasks::default(),
            kept: Vec::new(),
            save,
            saved: None,
            window: (None, None),
            segmenter: None,
        };
        s.set_edits(edits)?;
        Ok(s)
    }

    /// Tells the review the export's request window (`export --from/--until`, source time),
    /// so the page shows what will be exported and which periods of the clip will not.
    pub fn set_window(&mut self, from: Option<Timestamp>, until: Option<Timestamp>) {
        self.window = (from, until);
    }

    /// The current edits.
    pub fn edits(&self) -> &Edits {
        &self.edits
    }

    /// Where Save writes.
    pub fn save_target(&self) -> &SaveTarget {
        &self.save
    }

    /// Replaces the current edits (the reviewer's pseudonym and time may still be empty: they
    /// are set on save). The identity edits are applied to the analysis and every person is
    /// resolved; an edit naming nobody is refused.
    pub fn set_edits(&mut self, edits: Edits) -> Result<(), Error> {
        let origin = Path::new("edits");
        let mut probe = edits.clone();
        if probe.reviewer.trim().is_empty() {
            probe.reviewer = "unsaved".into();
        }
        if probe.reviewed_at.is_empty() {
            probe.reviewed_at = "2000-01-01T00:00:00Z".into();
        }
        probe.validate(origin)?;
        let manual = edits.manual_masks().map_err(|reason| Error::Edits {
            path: origin.into(),
            reason,
        })?;
        let mut set = self.base.clone();
        apply_identity_edits(&self.input, &mut set, &self.pts, &edits.identity_edits())?;
        let mut kept = Vec::new();
        for at in edits.keep_at() {
            let (id, _) = obscura_pipeline::subject::select_at(&self.input, &set, &self.pts, &at)?;
            if !kept.contains(&id) {
                kept.push(id);
            }
        }
        self.set = set;
        self.manual = manual;
        self.kept = kept;
        self.edits = edits;
        Ok(())
    }

    /// Saves the current edits by `reviewer` at `now` (UTC RFC 3339) to the save target;
    /// returns the sha256 of the bytes written.
    pub fn save(&mut self, reviewer: &str, now: &str) -> Result<String, Error> {
        let mut e = self.edits.clone();
        e.reviewer = reviewer.trim().to_string();
        e.reviewed_at = now.to_string();
        let overwrite = self.save.overwrite || self.saved.is_some();
        e.write(&self.save.path, overwrite)?;
        let loaded = crate::edits::LoadedEdits::read(&self.save.path)?;
        self.edits = e;
        self.saved = Some(loaded.sha256.clone());
        Ok(loaded.sha256)
    }

    /// Frames in the clip.
    pub fn frame_count(&self) -> u64 {
        self.frames.len() as u64
    }

    /// The person (identity) whose box contains `(x, y)` on frame `i`, if exactly one.
    pub fn person_at(&self, i: u64, x: f32, y: f32) -> Option<IdentityId> {
        let t = self.pts.get(i as usize)?.1;
        obscura_pipeline::subject::select_at(
            &self.input,
            &self.set,
            &self.pts,
            &obscura_pipeline::KeepAt { time: t, x, y },
        )
        .ok()
        .map(|(id, _)| id)
    }

    /// The source frame `i` as JPEG (for the operator only: unmasked).
    pub fn source_jpeg(&self, i: u64) -> Option<&[u8]> {
        self.frames.get(i as usize).map(Vec::as_slice)
    }

    /// Frame `i` masked as the export will be (approximately: see [`Session::mask_at`]), JPEG.
    pub fn preview_jpeg(&self, i: u64) -> Result<Vec<u8>, Error> {
        let bad = |e: String| Error::Server(format!("frame {i}: {e}"));
        let data = self
            .source_jpeg(i)
            .ok_or_else(|| bad("no such frame".into()))?;
        let img = image::load_from_memory_with_format(data, ImageFormat::Jpeg)
            .map_err(|e| bad(e.to_string()))?
            .to_rgb8();
        let (w, h) = img.dimensions();
        let pts = self.pts[i as usize].1;
        let mut frame = Frame::from_rgb24_to_yuv420(img.as_raw(), w, h, i, pts)
            .map_err(|e| bad(e.to_string()))?;
        let mask = self.mask_of(i, Some(&frame));
        obscura_render::apply(&mut frame, &mask).map_err(|e| bad(e.to_string()))?;
        let out =
            RgbImage::from_raw(w, h, frame.to_rgb24()).ok_or_else(|| bad("bad frame".into()))?;
        jpeg(&out).map_err(bad)
    }

    /// Keeps the kept people's own silhouettes visible inside overlapping neighbours' boxes
    /// in the preview, as the export does (`obscura_pipeline::policy`, rule 7).
    pub fn with_segmenter(mut self, segmenter: obscura_detect::Segmenter) -> Self {
        self.segmenter = Some(std::sync::Mutex::new(segmenter));
        self
    }

    /// The mask of frame `i`: every tracked box masked except the boxes of kept people on
    /// the frames they hold, plus the manual masks. The export masks more (it also checks the
    /// kept person's appearance on every frame and masks the look-ahead boxes), never less;
    /// both leave the kept person's own silhouette out of a neighbour's box, which needs the
    /// frame's pixels ([`Session::preview_jpeg`]), so this mask has whole rectangles.
    pub fn mask_at(&self, i: u64) -> obscura_render::Mask {
        self.mask_of(i, None)
    }

    fn mask_of(&self, i: u64, frame: Option<&Frame>) -> obscura_render::Mask {
        let keep: BTreeSet<u64> = self
            .set
            .boxes_at(i)
            .into_iter()
            .filter(|(t, _)| {
                t.class == ObjectClass::Person
                    && self
                        .kept
                        .iter()
                        .any(|k| self.set.identity(*k).is_some_and(|p| p.holds(t.id, i)))
            })
            .map(|(t, _)| t.id)
            .collect();
        let cands: Vec<Candidate> = self
            .set
            .boxes_at(i)
            .into_iter()
            .map(|(t, b)| Candidate {
                track: Some(t.id),
                class: t.class,
                rect: b.rect(),
                parent: t.parent,
            })
            .collect();
        let policy = self.policy.with_keep(keep);
        let silhouettes = match (frame, &self.segmenter) {
            (Some(frame), Some(seg)) => seg
                .lock()
                .map(|mut seg| policy.silhouettes(&cands, frame, &mut seg))
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let mut mask = policy.mask_with_silhouettes(&cands, self.width, self.height, &silhouettes);
        if let Some((_, pts)) = self.pts.get(i as usize) {
            self.manual.add_to(&mut mask, *pts, &self.policy);
        }
        mask
    }

    /// The boxes on frame `i`, for the page's overlay.
    pub fn boxes(&self, i: u64) -> Value {
        let v: Vec<Value> = self
            .set
            .boxes_at(i)
            .into_iter()
            .map(|(t, b)| {
                let person = if t.class == ObjectClass::Person {
                    self.set.identity_of(t.id, i).map(|p| p.id)
                } else {
                    None
                };
                json!({"track": t.id, "class": t.class.name(), "identity": person, "box": [b.x, b.y, b.w, b.h], "predicted": b.predicted,
                       "kept": person.is_some_and(|p| self.kept.contains(&p))})
            })
            .collect();
        let manual: Vec<Value> = self
            .manual
            .rects_at(self.pts.get(i as usize).map_or(Timestamp::zero(), |p| p.1))
            .iter()
            .map(|r| json!([r.x, r.y, r.w, r.h]))
            .collect();
        json!({"frame": i, "boxes": v, "manual": manual})
    }

    /// A close-up of person `id` (their best detected box), JPEG.
    pub fn thumbnail(&self, id: IdentityId) -> Option<Vec<u8>> {
        let (frame, r) = self.best_box(id)?;
        let img = image::load_from_memory_with_format(self.source_jpeg(frame)?, ImageFormat::Jpeg)
            .ok()?
            .to_rgb8();
        let crop = sheet::close_up(&img, &r, 4.0)?;
        let h = 120u32;
        let w = ((u64::from(crop.width()) * u64::from(h)) / u64::from(crop.height().max(1)))
            .clamp(8, 240) as u32;
        jpeg(&sheet::resize(&crop, w, h)).ok()
    }

    fn best_box(&self, id: IdentityId) -> Option<(u64, obscura_core::Rect)> {
        let p = self.set.identity(id)?;
        p.tracklets
            .iter()
            .filter_map(|tl| self.set.track(tl.track).map(|t| (tl, t)))
            .flat_map(|(tl, t)| {
                t.boxes.iter().filter(move |b| {
                    !b.predicted && b.frame >= tl.first_frame && b.frame <= tl.last_frame
                })
            })
            .max_by(|a, b| {
                (a.h * a.score)
                    .total_cmp(&(b.h * b.score))
                    .then(b.frame.cmp(&a.frame))
            })
            .map(|b| (b.frame, b.rect()))
    }

    /// Frames the reviewer should look at: a person appears, a person's box is held without
    /// a detection (a gap), a kept person is not detected (masked unless confirmed).
    pub fn flags(&self) -> Vec<Flag> {
        flags_of(&self.set, &self.kept)
    }

    /// Everything the page shows besides the pictures.
    pub fn state(&self) -> Value {
        let people: Vec<Value> = self
            .set
            .identities
            .iter()
            .map(|p| {
                let best = self.best_box(p.id);
                let point = best.map(|(f, r)| {
                    let (cx, cy) = r.center();
                    json!({"frame": f, "time": seconds_text(self.pts[f as usize].1), "x": cx.round(), "y": cy.round()})
                });
                json!({"id": p.id, "first": p.first_pts, "last": p.last_pts, "first_frame": p.first_frame, "last_frame": p.last_frame,
                       "tracklets": p.tracklets.len(), "point": point, "kept": self.kept.contains(&p.id),
                       "subject": self.kept.first() == Some(&p.id)})
            })
            .collect();
        let times: Vec<String> = self.pts.iter().map(|(_, t)| seconds_text(*t)).collect();
        let start = self.pts.first().map_or(Timestamp::zero(), |p| p.1);
        let last = self.pts.last().map_or(Timestamp::zero(), |p| p.1);
        let (window, excluded) = export_window(start, last, self.window.0, self.window.1);
        let inside = |t: Timestamp| micros(t) >= micros(window.0) && micros(t) <= micros(window.1);
        let exported: Vec<bool> = self.pts.iter().map(|(_, t)| inside(*t)).collect();
        json!({
            "clip": {"name": self.name, "width": self.width, "height": self.height, "fps": self.fps, "frames": self.frames.len(), "times": times, "exported": exported},
            "people": people,
            "flags": self.flags(),
            "edits": self.edits,
            "save": {"path": self.save.path.display().to_string(), "overwrite": self.save.overwrite, "saved_sha256": self.saved},
            "export": {
                "window": [seconds_text(window.0), seconds_text(window.1)],
                "window_given": self.window.0.is_some() || self.window.1.is_some(),
                "excluded": excluded,
                "style": self.style,
                "masked": "every detected person and face except the requester, where confirmed to be them; plus the manual masks",
                "subject": self.kept.first(),
            },
        })
    }
}

/// The export's window within a clip whose frames run from `start` to `last` (source time),
/// given the request's `from`/`until` (either may be absent: the clip's own end), and the
/// periods of the clip left out of it, as text for the page.
pub fn export_window(
    start: Timestamp,
    last: Timestamp,
    from: Option<Timestamp>,
    until: Option<Timestamp>,
) -> ((Timestamp, Timestamp), Vec<String>) {
    let us = micros;
    let a = from.filter(|f| us(*f) > us(start)).unwrap_or(start);
    let b = until.filter(|u| us(*u) < us(last)).unwrap_or(last);
    let mut excluded = Vec::new();
    if us(a) > us(start) {
        excluded.push(format!(
            "{} \u{2013} {} s (before the request window)",
            seconds_text(start),
            seconds_text(a)
        ));
    }
    if us(b) < us(last) {
        excluded.push(format!(
            "{} \u{2013} {} s (after the request window)",
            seconds_text(b),
            seconds_text(last)
        ));
    }
    if us(a) > us(b) {
        excluded = vec![format!(
            "the whole clip: the request window {} \u{2013} {} s does not overlap it",
            seconds_text(a),
            seconds_text(b)
        )];
    }
    ((a, b), excluded)
}

/// The flagged frames of an analysis (see [`Session::flags`]); `kept` are the people left
/// visible (the requester first).
pub fn flags_of(set: &TrackSet, kept: &[IdentityId]) -> Vec<Flag> {
    let mut v = Vec::new();
    for p in &set.identities {
        v.push(Flag {
            frame: p.first_frame,
            kind: "new-person",
            text: format!("person {} appears", p.id),
        });
    }
    for t in set.tracks.iter().filter(|t| t.class == ObjectClass::Person) {
        // A run of held boxes from `start`, `n` frames long (also one the track ends in).
        let mut flag = |start: u64, n: u64| {
            let person = set.identity_of(t.id, start).map(|p| p.id);
            let is_kept = person.is_some_and(|p| kept.contains(&p));
            let (kind, what) = if is_kept {
                (
                    "subject-uncertain",
                    "the requester is not detected; their box is masked unless confirmed",
                )
            } else {
                ("gap", "detection gap: the box is held")
            };
            if n >= 2 || is_kept {
                v.push(Flag {
                    frame: start,
                    kind,
                    text: format!("{what} (track #{}, {n} frames)", t.id),
                });
            }
        };
        let mut run: Option<u64> = None;
        for b in &t.boxes {
            match (b.predicted, run) {
                (true, None) => run = Some(b.frame),
                (false, Some(start)) => {
                    flag(start, b.frame - start);
                    run = None;
                }
                _ => {}
            }
        }
        if let (Some(start), Some(last)) = (run, t.boxes.last()) {
            flag(start, last.frame - start + 1);
        }
    }
    v.sort_by(|a, b| a.frame.cmp(&b.frame).then(a.kind.cmp(b.kind)));
    v
}

/// A frame worth a look.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flag {
    /// Frame index.
    pub frame: u64,
    /// `new-person`, `gap` or `subject-uncertain`.
    pub kind: &'static str,
    /// What is there.
    pub text: String,
}

/// A person reference for the frame `i` at `(x, y)` (what the page stores for a click).
pub fn person_ref(session: &Session, i: u64, x: f32, y: f32) -> Option<PersonRef> {
    let t = session.pts.get(i as usize)?.1;
    Some(PersonRef {
        identity: session.person_at(i, x, y),
        time: seconds_text(t),
        x,
        y,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person_track(id: u64, predicted: &[bool]) -> obscura_track::TrackRecord {
        let boxes = predicted
            .iter()
            .enumerate()
            .map(|(f, &p)| obscura_track::BoxRecord {
                frame: f as u64,
                pts: f as f64 / 10.0,
                pts_ticks: f as i64,
                x: 10.0,
                y: 10.0,
                w: 20.0,
                h: 40.0,
                score: if p { 0.0 } else { 0.9 },
                predicted: p,
            })
            .collect();
        obscura_track::TrackRecord {
            id,
            class: ObjectClass::Person,
            parent: None,
            first_frame: 0,
            last_frame: predicted.len() as u64 - 1,
            first_pts: 0.0,
            last_pts: (predicted.len() - 1) as f64 / 10.0,
            boxes,
        }
    }

    fn person(id: u64, track: u64, first: u64, last: u64) -> obscura_track::IdentityRecord {
        obscura_track::IdentityRecord {
            id,
            tracklets: vec![obscura_track::TrackletRecord {
                track,
                first_frame: first,
                last_frame: last,
                first_pts: first as f64 / 10.0,
                last_pts: last as f64 / 10.0,
                samples: 1,
            }],
            first_frame: first,
            last_frame: last,
            first_pts: first as f64 / 10.0,
            last_pts: last as f64 / 10.0,
        }
    }

    #[test]
    fn flags_name_new_people_detection_gaps_and_an_undetected_requester() {
        use obscura_track::{AnalysisSettings, SourceInfo, TrackSetBuilder, TrackerConfig};
        let source = SourceInfo {
            path: "t.mp4".into(),
            sha256: None,
            width: 64,
            height: 64,
            frames: 12,
            time_base: "1/10".into(),
            fps: 10.0,
        };
        let settings = AnalysisSettings {
            every: 1,
            targets: Vec::new(),
            tracker: TrackerConfig::default(),
            thresholds: Default::default(),
            models: Vec::new(),
        };
        let mut set =
            TrackSetBuilder::new().finish(source, settings, Rational::new(1, 10).expect("rate"));
        // Track 1: held without a detection on frames 3..6 (3 frames) and on frame 9 (1 frame).
        let mut p1 = vec![false; 12];
        p1[3..6].fill(true);
        p1[9] = true;
        // Track 2 (from frame 0 too): one undetected frame, 7.
        let mut p2 = vec![false; 12];
        p2[7] = true;
        // ... and held on its last two frames (10, 11) until it ends.
        p2[10..12].fill(true);
        set.tracks = vec![person_track(1, &p1), person_track(2, &p2)];
        set.identities = vec![person(1, 1, 0, 11), person(2, 2, 0, 11)];
        let kinds = |f: &[Flag]| f.iter().map(|f| (f.frame, f.kind)).collect::<Vec<_>>();
        // Nobody kept: both people appear at 0; only the 3-frame gap is worth a look.
        let f = flags_of(&set, &[]);
        assert_eq!(
            kinds(&f),
            vec![
                (0, "new-person"),
                (0, "new-person"),
                (3, "gap"),
                (10, "gap")
            ]
        );
        assert!(f[2].text.contains("track #1, 3 frames"), "{}", f[2].text);
        assert!(f[3].text.contains("track #2, 2 frames"), "{}", f[3].text);
        // Person 2 is the requester: each frame they are not detected is flagged (masked
        // unless confirmed), however short.
        let f = flags_of(&set, &[2]);
        assert_eq!(
            kinds(&f),
            vec![
                (0, "new-person"),
                (0, "new-person"),
                (3, "gap"),
                (7, "subject-uncertain"),
                (10, "subject-uncertain")
            ]
        );
    }

    fn t(s: f64) -> Timestamp {
        Timestamp::new((s * 1e6).round() as i64, Rational::MICROS)
    }

    #[test]
    fn the_export_window_and_what_it_leaves_out() {
        let ((a, b), ex) = export_window(t(0.0), t(9.9), None, None);
        assert_eq!(
            (seconds_text(a), seconds_text(b)),
            ("0.000000".into(), "9.900000".into())
        );
        assert!(ex.is_empty());
        let ((a, b), ex) = export_window(t(0.0), t(9.9), Some(t(2.5)), Some(t(7.0)));
        assert_eq!(
            (seconds_text(a), seconds_text(b)),
            ("2.500000".into(), "7.000000".into())
        );
        assert_eq!(
            ex,
            vec![
                "0.000000 \u{2013} 2.500000 s (before the request window)".to_string(),
                "7.000000 \u{2013} 9.900000 s (after the request window)".to_string()
            ]
        );
        // A window reaching past the clip is cut to it.
        let ((a, b), ex) = export_window(t(1.0), t(9.9), Some(t(0.0)), Some(t(20.0)));
        assert_eq!(
            (seconds_text(a), seconds_text(b)),
            ("1.000000".into(), "9.900000".into())
        );
        assert!(ex.is_empty());
        // A window outside the clip leaves all of it out.
        let (_, ex) = export_window(t(0.0), t(9.9), Some(t(12.0)), None);
        assert_eq!(ex.len(), 1);
        assert!(ex[0].starts_with("the whole clip"), "{ex:?}");
    }
}
