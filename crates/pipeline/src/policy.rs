//! The redaction policy: which boxes of a frame are masked, and how. Fail closed.
//!
//! Rules, applied to the boxes live on one frame (detected, predicted or held alike):
//! 1. A box whose class is not a target ([`Targets`]) is left alone.
//! 2. A person box stays visible only when its track id is kept ([`Policy::keep`]).
//! 3. A face box stays visible only when it is the subject's own face: its track id is kept,
//!    or its parent person track is kept, or (having no masked parent) it lies (by at least
//!    [`FACE_INSIDE`] of its area) inside a kept person's box; **and**, when it is mostly (by
//!    [`FACE_INSIDE_OTHER`] or more) inside the box of a person who is masked, it sits where
//!    the kept person's head is and not where the masked person's head is ([`at_head`]).
//!
//!    Face priority: the subject's own visible face is not covered by a masked person's
//!    *body* rectangle (the rectangle is drawn around it, in pieces) unless a masked face
//!    overlaps it: people standing side by side keep the requester's face visible, while
//!    another person's face over the subject stays masked.
//! 4. Every other box is masked: a detection without a track, a track of unknown class, a
//!    person not kept. Boxes are grown by the margin before masking.
//! 5. Visible boxes are never drawn: masking only ever adds pixels, so the subject's box cannot
//!    unmask a region that another person's mask covers (the other person's mask wins), the
//!    exceptions being rule 3a's face and rule 7's silhouette.
//! 6. Static privacy zones are masked on every frame.
//! 7. Silhouettes ([`Policy::mask_with_silhouettes`]): where the subject's box and a masked
//!    person's grown box overlap, and both have a silhouette on this frame, the masked box
//!    leaves out the pixels inside the subject's box that the subject's silhouette marks and
//!    the other person's silhouette (grown by the margin) does not. Nothing else of the box is
//!    left out; faces, zones and every other region still mask those pixels.

use std::collections::BTreeSet;

use obscura_core::{Frame, ObjectClass, Rect};
use obscura_detect::{Segmenter, Silhouette};
use obscura_render::{Color, Cutout, Mask, PrivacyZone, Region, Style};
use obscura_track::TrackId;

use crate::error::Error;

/// A face must lie at least this fraction inside a kept person's box to count as theirs.
pub const FACE_INSIDE: f32 = 0.8;
/// A face this much (or more) inside a masked person's box is never the subject's.
pub const FACE_INSIDE_OTHER: f32 = 0.5;

/// Whether `face` sits where the head of the person in `body` is: its centre in the top 30%
/// of the box and the middle 60% of its width.
pub fn at_head(body: &Rect, face: &Rect) -> bool {
    let (cx, cy) = face.center();
    cy <= body.y + 0.3 * body.h && cx >= body.x + 0.2 * body.w && cx <= body.x + 0.8 * body.w
}

/// `r` minus every rectangle of `holes`: up to four pieces per hole (above, below, left and
/// right of it), together covering exactly `r` outside the holes.
pub fn subtract(r: Rect, holes: &[Rect]) -> Vec<Rect> {
    let mut pieces = vec![r];
    for h in holes {
        let mut next = Vec::new();
        for p in pieces {
            let Some(i) = p.intersection(h) else {
                next.push(p);
                continue;
            };
            if i.y > p.y {
                next.push(Rect::new(p.x, p.y, p.w, i.y - p.y));
            }
            if i.bottom() < p.bottom() {
                next.push(Rect::new(p.x, i.bottom(), p.w, p.bottom() - i.bottom()));
            }
            if i.x > p.x {
                next.push(Rect::new(p.x, i.y, i.x - p.x, i.h));
            }
            if i.right() < p.right() {
                next.push(Rect::new(i.right(), i.y, p.right() - i.right(), i.h));
            }
        }
        pieces = next
            .into_iter()
            .filter(|p| p.w > 0.0 && p.h > 0.0)
            .collect();
    }
    pieces
}

/// Which classes are masked: the analysis [`Targets`] (persons, faces). Boxes of other
/// classes (a partner detector's) are always masked unless kept: fail closed.
pub use crate::targets::Targets;

/// Whether boxes of `class` are masked under `targets`.
pub fn masks_class(targets: Targets, class: ObjectClass) -> bool {
    match class {
        ObjectClass::Person => targets.person,
        ObjectClass::Face => targets.face,
        ObjectClass::Other(_) => true,
    }
}

/// One box on one frame that the policy decides about.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// Its track, or `None` for a detection the tracker did not take (always masked).
    pub track: Option<TrackId>,
    /// Its class.
    pub class: ObjectClass,
    /// The box, source pixels.
    pub rect: Rect,
    /// For a face: the person track it belongs to, where known.
    pub parent: Option<TrackId>,
}

/// What the policy decided for one candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Masked.
    Mask,
    /// Left visible: part of a kept subject.
    Keep,
    /// Left alone: its class is not a target.
    Ignore,
}

/// A validated redaction policy; build with [`Policy::builder`].
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    targets: Targets,
    style: Style,
    margin: f32,
    margin_px: f32,
    keep: BTreeSet<TrackId>,
    zones: Vec<PrivacyZone>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            targets: Targets::ALL,
            style: Style::pixelate(),
            margin: DEFAULT_MARGIN,
            margin_px: DEFAULT_MARGIN_PX,
            keep: BTreeSet::new(),
            zones: Vec::new(),
        }
    }
}

/// Default growth of each masked box per side, as a fraction of its size.
pub const DEFAULT_MARGIN: f32 = 0.1;
/// Default growth of each masked box per side, in pixels (added to the fraction).
pub const DEFAULT_MARGIN_PX: f32 = 4.0;

impl Policy {
    /// A builder starting from the defaults: mask persons, faces and other classes,
    /// pixelate, 10% + 4 px margin, nobody kept, no zones.
    pub fn builder() -> PolicyBuilder {
        PolicyBuilder {
            policy: Policy::default(),
        }
    }

    /// Classes masked.
    pub fn targets(&self) -> Targets {
        self.targets
    }

    /// Masking style.
    pub fn style(&self) -> Style {
        self.style
    }

    /// Track ids of the data subject (visible).
    pub fn keep(&self) -> &BTreeSet<TrackId> {
        &self.keep
    }

    /// Static privacy zones.
    pub fn zones(&self) -> &[PrivacyZone] {
        &self.zones
    }

    /// The same policy keeping `keep` instead (used once the subject's tracks are known).
    pub fn with_keep(&self, keep: impl IntoIterator<Item = TrackId>) -> Policy {
        Policy {
            keep: keep.into_iter().collect(),
            ..self.clone()
        }
    }

    /// Decides every candidate of one frame (same order as `boxes`).
    pub fn decide(&self, boxes: &[Candidate]) -> Vec<Decision> {
        let kept = |c: &Candidate| c.track.is_some_and(|id| self.keep.contains(&id));
        let kept_persons: Vec<Rect> = boxes
            .iter()
            .filter(|c| c.class == ObjectClass::Person && kept(c))
            .map(|c| c.rect)
            .collect();
        let masked_persons: Vec<Rect> = boxes
            .iter()
            .filter(|c| c.class == ObjectClass::Person && !kept(c) && self.targets.person)
            .map(|c| c.rect)
            .collect();
        boxes
            .iter()
            .map(|c| {
                let subject = match c.class {
                    ObjectClass::Person => kept(c),
                    ObjectClass::Face => {
                        // A face linked to a person who is masked is theirs, wherever it is.
                        let parent_masked = c.parent.is_some_and(|p| !self.keep.contains(&p));
                        let own = kept(c)
                            || c.parent.is_some_and(|p| self.keep.contains(&p))
                            || (!parent_masked
                                && kept_persons
                                    .iter()
                                    .any(|p| p.coverage_of(&c.rect) >= FACE_INSIDE));
                        let theirs = |p: &Rect| {
                            p.coverage_of(&c.rect) >= FACE_INSIDE_OTHER
                                && (at_head(p, &c.rect)
                                    || !kept_persons.iter().any(|k| at_head(k, &c.rect)))
                        };
                        own && !masked_persons.iter().any(theirs)
                    }
                    ObjectClass::Other(_) => kept(c),
                };
                if subject {
                    Decision::Keep
                } else if masks_class(self.targets, c.class) {
                    Decision::Mask
                } else {
                    Decision::Ignore
                }
            })
            .collect()
    }

    /// The region that hides `rect` (grown by the margin, in the policy's style).
    pub fn region_for(&self, rect: Rect) -> Region {
        Region::rect(rect, self.style).with_margin(self.margin, self.margin_px)
    }

    /// The mask of one `width` x `height` frame: the privacy zones, then every masked box.
    /// `extra` are boxes masked regardless of the rules (look-ahead boxes of non-kept tracks
    /// that the caller already decided).
    pub fn mask(&self, boxes: &[Candidate], width: u32, height: u32) -> Mask {
        self.mask_with_silhouettes(boxes, width, height, &[])
    }

    /// Whether a masked person box on this frame overlaps a kept person's box (grown by the
    /// margin): only then can silhouettes change the mask ([`Policy::mask_with_silhouettes`]).
    /// Returns the indices of `boxes` worth segmenting: the kept persons, then those masked
    /// persons; empty when there is none.
    pub fn silhouettes_wanted(&self, boxes: &[Candidate]) -> Vec<usize> {
        let decisions = self.decide(boxes);
        let persons = |want: Decision| {
            boxes
                .iter()
                .zip(&decisions)
                .enumerate()
                .filter(move |(_, (c, d))| c.class == ObjectClass::Person && **d == want)
                .map(|(i, (c, _))| (i, c.rect))
        };
        let kept: Vec<(usize, Rect)> = persons(Decision::Keep).collect();
        let near: Vec<usize> = persons(Decision::Mask)
            .filter(|(_, r)| {
                let g = r.dilate(self.margin, self.margin_px);
                kept.iter().any(|(_, k)| g.intersection(k).is_some())
            })
            .map(|(i, _)| i)
            .collect();
        if near.is_empty() {
            return Vec::new();
        }
        kept.into_iter().map(|(i, _)| i).chain(near).collect()
    }

    /// The silhouettes rule 7 needs on `frame`, one entry per box of `boxes` (`None` where
    /// none is needed), from `segmenter` in one batch. Empty when no masked person overlaps a
    /// kept one, or when segmentation fails (every box is then masked whole: fail closed).
    pub fn silhouettes(
        &self,
        boxes: &[Candidate],
        frame: &Frame,
        segmenter: &mut Segmenter,
    ) -> Vec<Option<Silhouette>> {
        let wanted = self.silhouettes_wanted(boxes);
        if wanted.is_empty() {
            return Vec::new();
        }
        let rects: Vec<Rect> = wanted.iter().map(|&k| boxes[k].rect).collect();
        let Ok(found) = segmenter.segment(frame, &rects) else {
            return Vec::new();
        };
        let mut out = vec![None; boxes.len()];
        for (k, s) in wanted.into_iter().zip(found) {
            out[k] = Some(s);
        }
        out
    }

    /// [`Policy::mask`] with rule 7: `silhouettes[i]` is the silhouette of `boxes[i]`, where
    /// known (missing entries and `None` mean none; a box without one is masked whole).
    pub fn mask_with_silhouettes(
        &self,
        boxes: &[Candidate],
        width: u32,
        height: u32,
        silhouettes: &[Option<Silhouette>],
    ) -> Mask {
        let sil = |i: usize| silhouettes.get(i).and_then(|s| s.as_ref());
        let mut mask = Mask::new();
        for z in &self.zones {
            mask.push(z.to_region(width, height));
        }
        let decisions = self.decide(boxes);
        let faces = |want: Decision| {
            boxes
                .iter()
                .zip(&decisions)
                .filter(move |(c, d)| c.class == ObjectClass::Face && **d == want)
                .map(|(c, _)| c.rect)
        };
        let masked_faces: Vec<Rect> = faces(Decision::Mask).collect();
        // Rule 3a: the subject's visible faces that no masked face touches.
        let holes: Vec<Rect> = faces(Decision::Keep)
            .filter(|f| {
                !masked_faces.iter().any(|m| {
                    m.dilate(self.margin, self.margin_px)
                        .intersection(f)
                        .is_some()
                })
            })
            .collect();
        // Rule 7: the kept persons with a silhouette.
        let kept_sil: Vec<(Rect, &Silhouette)> = boxes
            .iter()
            .zip(&decisions)
            .enumerate()
            .filter(|(_, (c, d))| c.class == ObjectClass::Person && **d == Decision::Keep)
            .filter_map(|(i, (c, _))| Some((c.rect, sil(i)?)))
            .collect();
        for (i, (c, d)) in boxes.iter().zip(&decisions).enumerate() {
            if *d != Decision::Mask {
                continue;
            }
            let grown = c.rect.dilate(self.margin, self.margin_px);
            let cutout = match (c.class, sil(i)) {
                (ObjectClass::Person, Some(own)) if !kept_sil.is_empty() => {
                    let grow = self.margin * c.rect.w.min(c.rect.h) + self.margin_px;
                    subject_cutout(&grown, &own.dilated(grow), &kept_sil, width, height)
                }
                _ => None,
            };
            let with_cut = |r: Region| match &cutout {
                Some(cut) => r.with_cutout(cut.clone()),
                None => r,
            };
            if c.class == ObjectClass::Person
                && holes.iter().any(|h| grown.intersection(h).is_some())
            {
                for piece in subtract(grown, &holes) {
                    mask.push(with_cut(Region::rect(piece, self.style)));
                }
            } else if cutout.is_some() {
                mask.push(with_cut(Region::rect(grown, self.style)));
            } else {
                mask.push(self.region_for(c.rect));
            }
        }
        mask
    }
}

/// The pixels of `grown` (a masked person's grown box) that are the subject's: inside a kept
/// person's box, marked by that person's silhouette and not by `other` (the masked person's
/// silhouette, already grown). `None` when there is none.
fn subject_cutout(
    grown: &Rect,
    other: &Silhouette,
    kept: &[(Rect, &Silhouette)],
    width: u32,
    height: u32,
) -> Option<Cutout> {
    let frame = Rect::new(0.0, 0.0, width as f32, height as f32);
    let area = kept
        .iter()
        .filter_map(|(k, _)| grown.intersection(k))
        .reduce(|a, b| a.hull(&b))?
        .intersection(&frame)?;
    let (x0, y0) = (area.x.floor() as u32, area.y.floor() as u32);
    let (x1, y1) = (
        (area.right().ceil() as u32).min(width),
        (area.bottom().ceil() as u32).min(height),
    );
    if x1 <= x0 || y1 <= y0 {
        return None;
    }
    let (w, h) = (x1 - x0, y1 - y0);
    let mut bits = vec![false; (w * h) as usize];
    let mut any = false;
    for y in y0..y1 {
        for x in x0..x1 {
            let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
            // The whole pixel inside the grown box and a kept box, on the subject, off the other.
            let inside = |r: &Rect| {
                x as f32 >= r.x
                    && y as f32 >= r.y
                    && (x + 1) as f32 <= r.right()
                    && (y + 1) as f32 <= r.bottom()
            };
            if inside(grown)
                && !other.contains(px, py)
                && kept.iter().any(|(k, s)| inside(k) && s.contains(px, py))
            {
                bits[((y - y0) * w + (x - x0)) as usize] = true;
                any = true;
            }
        }
    }
    any.then_some(Cutout {
        x: x0,
        y: y0,
        w,
        h,
        bits,
    })
}

/// Builder for [`Policy`]; [`PolicyBuilder::build`] validates and returns
/// [`Error::InvalidSetting`] carrying the bad value.
#[derive(Debug, Clone)]
pub struct PolicyBuilder {
    policy: Policy,
}

impl PolicyBuilder {
    /// Classes to mask.
    pub fn targets(mut self, targets: Targets) -> Self {
        self.policy.targets = targets;
        self
    }

    /// Masking style (fill or pixelate recommended for access exports; blur can be reversed
    /// in part).
    pub fn style(mut self, style: Style) -> Self {
        self.policy.style = style;
        self
    }

    /// Growth of each masked box per side: `fraction` of its size plus `pixels`.
    pub fn margin(mut self, fraction: f32, pixels: f32) -> Self {
        self.policy.margin = fraction;
        self.policy.margin_px = pixels;
        self
    }

    /// Keeps (leaves visible) these track ids.
    pub fn keep(mut self, ids: impl IntoIterator<Item = TrackId>) -> Self {
        self.policy.keep.extend(ids);
        self
    }

    /// Adds a static privacy zone.
    pub fn zone(mut self, zone: PrivacyZone) -> Self {
        self.policy.zones.push(zone);
        self
    }

    /// Validates and returns the policy.
    pub fn build(self) -> Result<Policy, Error> {
        let p = self.policy;
        if !(p.margin.is_finite() && (0.0..=2.0).contains(&p.margin)) {
            return Err(Error::InvalidSetting {
                name: "margin",
                value: p.margin.to_string(),
                reason: "must be a fraction in 0..=2".into(),
            });
        }
        if !(p.margin_px.is_finite() && (0.0..=1000.0).contains(&p.margin_px)) {
            return Err(Error::InvalidSetting {
                name: "margin_px",
                value: p.margin_px.to_string(),
                reason: "must be 0..=1000 pixels".into(),
            });
        }
        if let Err(e) = p.style.validate() {
            return Err(Error::InvalidSetting {
                name: "style",
                value: format!("{:?}", p.style),
                reason: e.to_string(),
            });
        }
        if !(p.targets.person || p.targets.face) {
            return Err(Error::InvalidSetting {
                name: "targets",
                value: format!("{:?}", p.targets),
                reason: "name at least one of person, face".into(),
            });
        }
        Ok(p)
    }
}

/// Parses a style name: `fill` (black), `fill:#RRGGBB` (that colour), `pixelate` or `blur`.
pub fn parse_style(s: &str) -> Result<Style, Error> {
    let bad = |reason: &str| Error::InvalidSetting {
        name: "style",
        value: s.into(),
        reason: reason.into(),
    };
    match s {
        "fill" => Ok(Style::fill()),
        "pixelate" => Ok(Style::pixelate()),
        "blur" => Ok(Style::blur()),
        _ => {
            let hex = s
                .strip_prefix("fill:#")
                .ok_or_else(|| bad("expected fill, fill:#RRGGBB, pixelate or blur"))?;
            if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad("a fill colour is six hex digits, e.g. fill:#808080"));
            }
            let byte =
                |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).expect("checked hex digits");
            Ok(Style::Fill {
                color: Color::Rgb([byte(0), byte(2), byte(4)]),
            })
        }
    }
}

/// Parses a privacy zone polygon in normalised coordinates: `x1,y1;x2,y2;x3,y3[;...]`.
pub fn parse_zone(s: &str, style: Style) -> Result<PrivacyZone, Error> {
    let bad = |reason: String| Error::InvalidSetting {
        name: "zone",
        value: s.into(),
        reason,
    };
    let mut pts = Vec::new();
    for p in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (x, y) = p
            .split_once(',')
            .ok_or_else(|| bad(format!("point {p:?} is not x,y")))?;
        let x: f32 = x
            .trim()
            .parse()
            .map_err(|_| bad(format!("{x:?} is not a number")))?;
        let y: f32 = y
            .trim()
            .parse()
            .map_err(|_| bad(format!("{y:?} is not a number")))?;
        if !(0.0..=1.0).contains(&x) || !(0.0..=1.0).contains(&y) {
            return Err(bad(format!(
                "point {x},{y} is outside 0..1 (coordinates are fractions of the frame)"
            )));
        }
        pts.push((x, y));
    }
    PrivacyZone::new(pts, style).map_err(|e| bad(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: TrackId, x: f32, y: f32, w: f32, h: f32) -> Candidate {
        Candidate {
            track: Some(id),
            class: ObjectClass::Person,
            rect: Rect::new(x, y, w, h),
            parent: None,
        }
    }

    fn face(id: Option<TrackId>, parent: Option<TrackId>, x: f32, y: f32) -> Candidate {
        Candidate {
            track: id,
            class: ObjectClass::Face,
            rect: Rect::new(x, y, 10.0, 10.0),
            parent,
        }
    }

    /// A silhouette over `frame` px (grid of 1 px cells at the origin) marking `rect`.
    fn silhouette(frame: usize, rect: (usize, usize, usize, usize)) -> Silhouette {
        let (x, y, w, h) = rect;
        let mut person = vec![false; frame * frame];
        for r in y..y + h {
            for c in x..x + w {
                person[r * frame + c] = true;
            }
        }
        Silhouette {
            x: 0.0,
            y: 0.0,
            cell: 1.0,
            side: frame,
            person,
        }
    }

    #[test]
    fn a_neighbour_box_leaves_out_only_the_subjects_own_silhouette() {
        let p = Policy::builder()
            .keep([1])
            .margin(0.0, 2.0)
            .style(Style::fill())
            .build()
            .unwrap();
        // The subject 20..60 x 10..110; the neighbour's box 50..90 overlaps her right side.
        let boxes = [
            person(1, 20.0, 10.0, 40.0, 100.0),
            person(2, 50.0, 10.0, 40.0, 100.0),
            person(3, 150.0, 10.0, 40.0, 100.0),
        ];
        assert_eq!(
            p.silhouettes_wanted(&boxes),
            vec![0, 1],
            "the far person is not segmented"
        );
        // She fills x 25..55 of her box; he stands at x 62..88.
        let sils = [
            Some(silhouette(200, (25, 15, 30, 90))),
            Some(silhouette(200, (62, 15, 26, 90))),
            None,
        ];
        let m = p.mask_with_silhouettes(&boxes, 200, 200, &sils);
        assert_eq!(m.regions.len(), 2);
        let cut = m.regions[0]
            .except
            .as_ref()
            .expect("the neighbour's box has a cut-out");
        assert!(
            m.regions[1].except.is_none(),
            "the far person is masked whole"
        );
        // Left out: her pixels inside his grown box (x 48..55) and outside his grown
        // silhouette (x 60..90); kept in: his pixels, the background, everything outside her box.
        for (x, y, out) in [
            (50, 50, true),
            (54, 100, true),
            (56, 50, false), // background inside both boxes
            (63, 50, false), // him
            (58, 50, false), // his silhouette grown by the 2 px margin
            (50, 12, false), // above her silhouette
        ] {
            assert_eq!(cut.contains(x, y), out, "pixel ({x}, {y})");
        }
        // Nothing of his box outside her box is ever left out.
        assert!(cut.x >= 48 && cut.x + cut.w <= 60);
        // Without silhouettes (or without hers) the mask is the plain one.
        assert_eq!(
            p.mask_with_silhouettes(&boxes, 200, 200, &[]),
            p.mask(&boxes, 200, 200)
        );
        let no_hers = [None, sils[1].clone(), None];
        assert!(
            p.mask_with_silhouettes(&boxes, 200, 200, &no_hers)
                .regions
                .iter()
                .all(|r| r.except.is_none())
        );
        // Where his silhouette covers hers, nothing is left out.
        let over = [
            Some(silhouette(200, (25, 15, 30, 90))),
            Some(silhouette(200, (20, 10, 70, 100))),
            None,
        ];
        assert!(
            p.mask_with_silhouettes(&boxes, 200, 200, &over)
                .regions
                .iter()
                .all(|r| r.except.is_none())
        );
    }

    #[test]
    fn everyone_not_kept_is_masked() {
        let p = Policy::builder().keep([1]).build().unwrap();
        let boxes = [
            person(1, 0.0, 0.0, 40.0, 100.0),
            person(2, 100.0, 0.0, 40.0, 100.0),
            person(3, 200.0, 0.0, 40.0, 100.0),
        ];
        assert_eq!(
            p.decide(&boxes),
            vec![Decision::Keep, Decision::Mask, Decision::Mask]
        );
        let m = p.mask(&boxes, 320, 240);
        assert_eq!(m.regions.len(), 2);
    }

    #[test]
    fn untracked_detections_are_masked_even_when_an_id_is_kept() {
        let p = Policy::builder().keep([1]).build().unwrap();
        let stray = Candidate {
            track: None,
            class: ObjectClass::Person,
            rect: Rect::new(5.0, 5.0, 30.0, 90.0),
            parent: None,
        };
        assert_eq!(
            p.decide(&[person(1, 0.0, 0.0, 40.0, 100.0), stray]),
            vec![Decision::Keep, Decision::Mask]
        );
    }

    #[test]
    fn subject_face_stays_visible_by_parent_or_by_containment() {
        let p = Policy::builder().keep([1]).build().unwrap();
        let subject = person(1, 0.0, 0.0, 40.0, 100.0);
        let by_parent = face(Some(7), Some(1), 300.0, 300.0);
        let inside = face(Some(8), None, 10.0, 5.0);
        let stranger = face(Some(9), None, 200.0, 5.0);
        assert_eq!(
            p.decide(&[subject, by_parent, inside, stranger]),
            vec![
                Decision::Keep,
                Decision::Keep,
                Decision::Keep,
                Decision::Mask
            ]
        );
    }

    #[test]
    fn a_face_inside_a_masked_person_is_never_the_subjects() {
        let p = Policy::builder().keep([1]).build().unwrap();
        // Two people overlap; the face lies inside both boxes.
        let subject = person(1, 0.0, 0.0, 60.0, 100.0);
        let other = person(2, 20.0, 0.0, 60.0, 100.0);
        let f = face(Some(8), Some(1), 30.0, 5.0);
        assert_eq!(
            p.decide(&[subject, other, f]),
            vec![Decision::Keep, Decision::Mask, Decision::Mask]
        );
    }

    #[test]
    fn overlap_of_subject_and_other_is_masked() {
        let p = Policy::builder()
            .keep([1])
            .margin(0.0, 0.0)
            .build()
            .unwrap();
        let boxes = [
            person(1, 0.0, 0.0, 60.0, 100.0),
            person(2, 40.0, 0.0, 60.0, 100.0),
        ];
        let m = p.mask(&boxes, 200, 200);
        // The only region is the other person's, which covers the overlap x in 40..60.
        assert_eq!(m.regions.len(), 1);
        assert_eq!(
            m.regions[0].shape,
            obscura_render::Shape::Rect(Rect::new(40.0, 0.0, 60.0, 100.0))
        );
    }

    #[test]
    fn side_by_side_the_subjects_face_stays_visible_but_not_under_another_face() {
        let p = Policy::builder()
            .keep([1])
            .margin(0.1, 4.0)
            .style(Style::fill())
            .build()
            .unwrap();
        // Neighbour 2's box overlaps the subject's head; the subject's face is at their head.
        let subject = person(1, 100.0, 0.0, 60.0, 160.0);
        let other = person(2, 140.0, 0.0, 60.0, 160.0);
        let own_face = Candidate {
            track: Some(8),
            class: ObjectClass::Face,
            rect: Rect::new(118.0, 8.0, 24.0, 26.0),
            parent: Some(1),
        };
        assert_eq!(
            p.decide(&[subject, other, own_face]),
            vec![Decision::Keep, Decision::Mask, Decision::Keep]
        );
        let m = p.mask(&[subject, other, own_face], 400, 200);
        let covers = |x: f32, y: f32| {
            m.regions.iter().any(|r| match &r.shape {
                obscura_render::Shape::Rect(q) => q.contains_point(x, y),
                _ => false,
            })
        };
        assert!(
            !covers(130.0, 20.0) && !covers(140.5, 20.0),
            "the subject's face is left visible"
        );
        assert!(
            covers(170.0, 20.0) && covers(145.0, 60.0) && covers(133.0, 100.0),
            "the rest of the neighbour stays masked"
        );
        // With the neighbour's face overlapping the subject's, nothing is carved out.
        let their_face = Candidate {
            track: Some(9),
            class: ObjectClass::Face,
            rect: Rect::new(136.0, 10.0, 22.0, 24.0),
            parent: Some(2),
        };
        let m = p.mask(&[subject, other, own_face, their_face], 400, 200);
        assert!(m.regions.iter().any(|r| r.shape == obscura_render::Shape::Rect(Rect::new(140.0, 0.0, 60.0, 160.0))), "whole neighbour rectangle");
        // A face at the neighbour's head is theirs even inside the subject's box.
        let at_their_head = Candidate {
            track: Some(10),
            class: ObjectClass::Face,
            rect: Rect::new(150.0, 8.0, 10.0, 12.0),
            parent: Some(1),
        };
        assert_eq!(
            p.decide(&[subject, other, at_their_head])[2],
            Decision::Mask
        );
    }

    #[test]
    fn subtract_leaves_exactly_the_outside() {
        let r = Rect::new(0.0, 0.0, 10.0, 10.0);
        let pieces = subtract(r, &[Rect::new(3.0, 3.0, 4.0, 4.0)]);
        let area: f32 = pieces.iter().map(|p| p.area()).sum();
        assert!((area - 84.0).abs() < 1e-4, "{pieces:?}");
        assert!(pieces.iter().all(|p| {
            p.intersection(&Rect::new(3.0, 3.0, 4.0, 4.0))
                .is_none_or(|i| i.area() < 1e-6)
        }));
        assert_eq!(subtract(r, &[Rect::new(20.0, 20.0, 2.0, 2.0)]), vec![r]);
    }

    #[test]
    fn targets_limit_what_is_masked() {
        let p = Policy::builder()
            .targets(Targets::parse("face").unwrap())
            .build()
            .unwrap();
        let boxes = [
            person(1, 0.0, 0.0, 40.0, 100.0),
            face(Some(2), Some(1), 10.0, 5.0),
        ];
        assert_eq!(p.decide(&boxes), vec![Decision::Ignore, Decision::Mask]);
        let other = Candidate {
            track: None,
            class: ObjectClass::Other(3),
            rect: Rect::new(0.0, 0.0, 5.0, 5.0),
            parent: None,
        };
        assert_eq!(
            Policy::default().decide(&[other]),
            vec![Decision::Mask],
            "partner classes are masked by default"
        );
    }

    #[test]
    fn margin_is_applied_to_regions() {
        let p = Policy::builder()
            .margin(0.25, 2.0)
            .style(Style::fill())
            .build()
            .unwrap();
        let m = p.mask(&[person(1, 10.0, 10.0, 20.0, 40.0)], 100, 100);
        assert_eq!((m.regions[0].margin, m.regions[0].margin_px), (0.25, 2.0));
        assert_eq!(m.regions[0].style, Style::fill());
    }

    #[test]
    fn zones_come_first_on_every_frame() {
        let z = parse_zone("0,0; 0.5,0; 0.5,0.5", Style::fill()).unwrap();
        let p = Policy::builder().zone(z).build().unwrap();
        let m = p.mask(&[], 100, 100);
        assert_eq!(m.regions.len(), 1);
    }

    #[test]
    fn builder_and_parsers_reject_bad_values_with_the_value() {
        let e = Policy::builder().margin(-0.1, 0.0).build().unwrap_err();
        assert!(e.to_string().contains("-0.1"), "{e}");
        let e = Policy::builder()
            .targets(Targets {
                person: false,
                face: false,
            })
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("targets"), "{e}");
        assert!(
            parse_style("smudge")
                .unwrap_err()
                .to_string()
                .contains("smudge")
        );
        assert!(
            parse_style("fill:#12345")
                .unwrap_err()
                .to_string()
                .contains("six hex digits")
        );
        assert!(parse_style("fill:#12345g").is_err());
        assert_eq!(
            parse_style("fill:#FF0080").unwrap(),
            Style::Fill {
                color: Color::Rgb([255, 0, 128])
            }
        );
        assert!(parse_zone("0,0;1,0", Style::fill()).is_err());
        assert!(
            parse_zone("0,0;1.5,0;1,1", Style::fill())
                .unwrap_err()
                .to_string()
                .contains("1.5")
        );
    }
}
