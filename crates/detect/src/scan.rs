//! Person detection at every distance: a coarse whole-frame pass on every call, plus a fine
//! pass at (or near) the frame's native pixel density over overlapping tiles, a rotating
//! share of the tiles per call.
//!
//! YOLOX-nano on a 1080p frame downscaled to 416 px sees a person 100 px tall as 22 px and
//! misses most people under 100 px. The fine pass runs the same fully convolutional network
//! on tiles of the frame at `fine_long_side` (1920 px: native for 1080p), where people 30 px
//! tall are found. It costs about 20 times the coarse pass, so each call scans only as many
//! tiles as keep a full sweep within [`ScanConfig::sweep_seconds`] of video (at least one);
//! the tracker holds a person's box between two looks at its tile, and the pipeline's lead-in
//! masks a newly found person back over the frames before it was found (the sweep is shorter
//! than both). The first call, and any call whose timestamp does not advance (a still, a new
//! clip, a seek), scans every tile.
//!
//! On a static camera most of a due tile looks as it did at its last look, where nobody was
//! found, and the deterministic network would answer the same again: a motion gate
//! ([`crate::motion::MotionGrid`], [`ScanConfig::motion_threshold`]) scans only the parts of
//! a due tile that changed since, held a person in the last [`ScanConfig::person_memory`]
//! seconds or were not looked at for [`ScanConfig::motion_refresh`], grown by the tile overlap. A moving camera or
//! a lighting change leaves most cells changed, and the whole tile is scanned.
//!
//! Coarse and fine boxes are merged by NMS; none is dropped for its size: a tall person split
//! across tiles is masked twice, which is cheap. Boxes too squat to be a whole person (an
//! upper body above a railing) are grown downward ([`complete_body`]).

use obscura_core::{Detection, Frame, PixelRect, Rect};

use crate::motion::MotionGrid;
use crate::nms::nms;
use crate::{Detector, Error, ModelId, YoloxDetector};

/// Settings of [`PersonScan`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScanConfig {
    /// Long side, in network pixels, of the coarse whole-frame pass run on every call (640).
    pub coarse_long_side: u32,
    /// Long side the frame is scaled to for the fine pass (1920: native density for 1080p,
    /// half for 4K); 0 turns the fine pass off.
    pub fine_long_side: u32,
    /// Largest scale of the fine pass (1.0: never upscale).
    pub fine_max_scale: f32,
    /// A second fine pass, over tiles of its own, at this multiple of the fine pass's scale
    /// on every call (0: none; `--recall max`: 1.5, 1080p upscaled to 2880 px, which finds
    /// people 10-30 px tall more often, at 2.25 times the fine pass's cost). Its boxes are
    /// merged with the others', so it only ever adds persons.
    pub upscale: f32,
    /// The fine pass runs only where its scale is at least this many times the coarse
    /// pass's (1.25): on small frames the coarse pass is already near native density.
    pub fine_min_gain: f32,
    /// Largest tile side in network pixels (1088); tiles are spread evenly over the scaled
    /// frame.
    pub tile: u32,
    /// Overlap of neighbouring tiles in network pixels (128): a person narrower or shorter
    /// than this lies whole inside one tile.
    pub overlap: u32,
    /// Every tile is scanned at least once per this many seconds of video plus one detection
    /// interval (0.36; at most 0.48 s at 25 fps with detection on every 3rd frame), and each
    /// call scans at least one tile. Keep the sum below the pipeline's lead-in (0.5 s) and
    /// hold (1 s) so that a person found on a tile is masked from the frame they appear on.
    /// 0 scans every tile on every call.
    pub sweep_seconds: f32,
    /// IoU above which a box of one pass suppresses a lower-scored box of another (0.6,
    /// higher than YOLOX's 0.45 within a pass so that neighbours in a crowd are kept).
    pub merge_iou: f32,
    /// Motion gate of the fine pass (4.0 levels of 8-bit luma; 0 turns it off): a due tile is
    /// scanned only over its [`MotionGrid`] cells that changed by more than this since their
    /// last look, held a person within `person_memory` seconds, or were not looked at for
    /// `motion_refresh` seconds, grown by `overlap` (see [`crate::motion`]). On a static
    /// camera most of the picture is not rescanned; a moving camera or a lighting change
    /// scans the whole tile.
    pub motion_threshold: f32,
    /// The longest a cell of the motion gate goes without a fine look whatever it says, in
    /// seconds of video (1.0, the tracker's hold).
    pub motion_refresh: f32,
    /// Seconds a cell where a person too small for the coarse pass was found stays due (4.0):
    /// a person standing still keeps being looked at though nothing moves.
    pub person_memory: f32,
    /// Person boxes shorter than this many times their width are taken for a body cut off by
    /// something in front (a railing, a counter, a car) and grown downward to that shape, by
    /// at most their own height (2.2; 0 turns it off): the legs seen through glass or between
    /// obstacles are masked too.
    pub complete_bodies: f32,
}

impl Default for ScanConfig {
    fn default() -> Self {
        Self {
            coarse_long_side: 640,
            fine_long_side: 1920,
            fine_max_scale: 1.0,
            upscale: 0.0,
            fine_min_gain: 1.25,
            tile: 1088,
            overlap: 128,
            sweep_seconds: 0.36,
            merge_iou: 0.6,
            motion_threshold: 4.0,
            motion_refresh: 1.0,
            person_memory: 4.0,
            complete_bodies: 2.2,
        }
    }
}

/// How hard to look for people: a preset of [`ScanConfig`] (`--recall`). Measured against
/// human ground truth in BENCHMARKS.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Recall {
    /// The default: coarse pass on every detection, fine tiles at native density (up to a
    /// 1920 px long side) swept within about 0.4 s of video.
    #[default]
    Standard,
    /// Every fine tile, whole, on every detection: no sweep and no motion gate (several times
    /// the detection cost at 1080p).
    High,
    /// `high` plus a second fine pass with the frame upscaled 1.5 times (2880 px long side
    /// at 1080p): people 10-30 px tall are found more often, at several times the cost of
    /// `high`, and nobody `high` finds is lost.
    Max,
}

impl Recall {
    /// The scan settings of this preset.
    pub fn scan(self) -> ScanConfig {
        let d = ScanConfig::default();
        match self {
            Recall::Standard => d,
            Recall::High => ScanConfig {
                sweep_seconds: 0.0,
                motion_threshold: 0.0,
                ..d
            },
            Recall::Max => ScanConfig {
                sweep_seconds: 0.0,
                motion_threshold: 0.0,
                upscale: 1.5,
                ..d
            },
        }
    }

    /// The preset's name (`standard`, `high`, `max`).
    pub fn name(self) -> &'static str {
        match self {
            Recall::Standard => "standard",
            Recall::High => "high",
            Recall::Max => "max",
        }
    }
}

impl std::str::FromStr for Recall {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim() {
            "standard" => Ok(Recall::Standard),
            "high" => Ok(Recall::High),
            "max" => Ok(Recall::Max),
            other => Err(Error::InvalidInput {
                reason: format!("recall {other:?}: expected standard, high or max"),
            }),
        }
    }
}

impl ScanConfig {
    /// Checks the settings.
    // `!(a && b)` rather than `!a || !b`: a NaN fails every comparison and so is refused.
    #[allow(clippy::nonminimal_bool)]
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |reason: String| Err(Error::InvalidInput { reason });
        if !(32..=8192).contains(&self.coarse_long_side) {
            return bad(format!(
                "coarse_long_side {} must lie in 32..=8192",
                self.coarse_long_side
            ));
        }
        if self.fine_long_side > 16384 {
            return bad(format!(
                "fine_long_side {} must be at most 16384",
                self.fine_long_side
            ));
        }
        if !(self.fine_max_scale > 0.0 && self.fine_max_scale <= 4.0)
            || !(self.fine_min_gain >= 1.0 && self.fine_min_gain <= 100.0)
            || !(self.upscale == 0.0 || (self.upscale > 1.0 && self.upscale <= 4.0))
        {
            return bad(format!(
                "fine_max_scale must lie in (0, 4], fine_min_gain in [1, 100] and upscale be 0 \
                 or in (1, 4]: {self:?}"
            ));
        }
        if !(64..=8192).contains(&self.tile) || self.overlap * 2 > self.tile {
            return bad(format!(
                "tile {} must lie in 64..=8192 with overlap {} at most half of it",
                self.tile, self.overlap
            ));
        }
        if !(self.sweep_seconds >= 0.0 && self.sweep_seconds <= 60.0)
            || !(0.0..=1.0).contains(&self.merge_iou)
        {
            return bad(format!(
                "sweep_seconds must lie in [0, 60] and merge_iou in [0, 1]: {self:?}"
            ));
        }
        if !(self.motion_threshold >= 0.0 && self.motion_threshold <= 255.0)
            || !(self.motion_refresh > 0.0 && self.motion_refresh <= 60.0)
            || !(self.person_memory > 0.0 && self.person_memory <= 60.0)
        {
            return bad(format!(
                "motion_threshold must lie in [0, 255], motion_refresh and person_memory in \
                 (0, 60]: {self:?}"
            ));
        }
        Ok(())
    }

    /// The scales (network pixels per source pixel) of the coarse pass and, where it runs, the
    /// fine pass for a `width x height` frame.
    pub fn scales(&self, width: u32, height: u32) -> (f32, Option<f32>) {
        let long = width.max(height).max(1) as f32;
        let coarse = self.coarse_long_side as f32 / long;
        let fine = (self.fine_long_side as f32 / long).min(self.fine_max_scale);
        (
            coarse,
            (self.fine_long_side > 0 && fine >= coarse * self.fine_min_gain).then_some(fine),
        )
    }

    /// The fine-pass tiles of a `width x height` frame at `scale`, in frame pixels: the fewest
    /// tiles of at most `tile` network pixels a side overlapping by at least `overlap`, spread
    /// evenly, row by row.
    pub fn tiles(&self, width: u32, height: u32, scale: f32) -> Vec<PixelRect> {
        let axis = |len: u32| -> Vec<(u32, u32)> {
            let scaled = len as f32 * scale;
            let (t, o) = (self.tile as f32, self.overlap as f32);
            let n = if scaled <= t {
                1
            } else {
                ((scaled - o) / (t - o)).ceil() as u32
            };
            // Tile length in frame pixels: n tiles with n-1 overlaps cover the axis.
            let side = (((scaled + (n - 1) as f32 * o) / n as f32) / scale)
                .ceil()
                .min(len as f32) as u32;
            (0..n)
                .map(|i| {
                    let start = if n == 1 {
                        0
                    } else {
                        ((len - side) as f64 * f64::from(i) / f64::from(n - 1)).round() as u32
                    };
                    (start, side)
                })
                .collect()
        };
        let (cols, rows) = (axis(width), axis(height));
        rows.iter()
            .flat_map(|&(y, h)| cols.iter().map(move |&(x, w)| PixelRect { x, y, w, h }))
            .collect()
    }
}

/// Runs a YOLOX person detector coarse on the whole frame and fine on rotating tiles (see the
/// module documentation). Returns persons in frame pixels.
#[derive(Debug)]
pub struct PersonScan {
    detector: YoloxDetector,
    config: ScanConfig,
    schedule: SweepSchedule,
    gate: Option<TileGate>,
    /// Network pixels the fine pass has looked at, and would have without the motion gate.
    fine_area: (u64, u64),
}

/// Side of a motion cell in network pixels of the fine pass.
const MOTION_CELL: u32 = 64;

/// Height in network pixels of the coarse pass from which YOLOX-nano finds a standing person
/// reliably (80: 240 px at 1080p with the 640 px coarse pass; people of 100-200 px were
/// exposed in 52% of the ground truth's boxes at 416 px, where they are 22-43 px tall).
const COARSE_SURE_HEIGHT: f32 = 80.0;

/// The motion grid of the fine pass and which tile each of its cells belongs to.
#[derive(Debug, Clone)]
struct TileGate {
    grid: MotionGrid,
    /// For each cell, the tile whose centre is nearest to the cell's centre.
    owner: Vec<usize>,
    tiles: Vec<PixelRect>,
    /// Frame width and height.
    size: (u32, u32),
}

/// Network-pixel multiple that the gate's regions are grown to (128): ONNX Runtime keeps
/// buffers for every input shape it has run, and free-sized regions would make ever new ones.
const SHAPE_STEP: u32 = 128;

/// `r` grown about its centre to multiples of `step` pixels (at most the frame, `size`) and
/// moved inside the frame.
fn round_up(r: PixelRect, step: u32, size: (u32, u32)) -> PixelRect {
    let axis = |start: u32, len: u32, frame: u32| {
        let grown = len.div_ceil(step).saturating_mul(step).min(frame).max(len);
        let start = start.saturating_sub((grown - len) / 2).min(frame - grown);
        (start, grown)
    };
    let (x, w) = axis(r.x, r.w, size.0);
    let (y, h) = axis(r.y, r.h, size.1);
    PixelRect { x, y, w, h }
}

impl TileGate {
    fn new(width: u32, height: u32, cell: u32, tiles: &[PixelRect]) -> Self {
        let grid = MotionGrid::new(width, height, cell);
        let centre = |r: &PixelRect| (r.x as f32 + r.w as f32 / 2.0, r.y as f32 + r.h as f32 / 2.0);
        let owner = (0..grid.len())
            .map(|i| {
                let (cx, cy) = centre(&grid.cell_rect(i));
                (0..tiles.len())
                    .min_by(|&a, &b| {
                        let d = |t: usize| {
                            let (tx, ty) = centre(&tiles[t]);
                            (tx - cx).powi(2) + (ty - cy).powi(2)
                        };
                        d(a).total_cmp(&d(b))
                    })
                    .unwrap_or(0)
            })
            .collect();
        Self {
            grid,
            owner,
            tiles: tiles.to_vec(),
            size: (width, height),
        }
    }

    /// The parts of tile `tile` to scan now, given the grid's `dirty` cells: its own dirty
    /// cells grown by `margin` cells and merged (then counted as looked at), or the whole tile
    /// when they cover at least 3/4 of it (one run costs less than several); none when none of
    /// its cells is dirty.
    fn regions(
        &mut self,
        tile: usize,
        dirty: &[bool],
        now: f64,
        margin: usize,
        scale: f32,
    ) -> Vec<PixelRect> {
        let mine: Vec<bool> = dirty
            .iter()
            .zip(&self.owner)
            .map(|(&d, &o)| d && o == tile)
            .collect();
        let step = ((SHAPE_STEP as f32 / scale).round() as u32).max(1);
        let regions: Vec<PixelRect> = self
            .grid
            .regions(&mine, margin)
            .into_iter()
            .map(|r| round_up(r, step, self.size))
            .collect();
        self.grid.look(&mine, now);
        let whole = self.tiles[tile];
        let area: u64 = regions.iter().map(|r| tile_net_area(r, scale)).sum();
        if area * 4 >= tile_net_area(&whole, scale) * 3 {
            vec![whole]
        } else {
            regions
        }
    }
}

/// Which fine tiles a call scans: all of them on a cold start (first call, time not
/// advancing, another tile count) or without sweep time, else the whole tiles owed for the
/// video time since the previous call (at least one), round-robin, so that each tile is
/// scanned at least once per `sweep` seconds plus one detection interval.
#[derive(Debug, Clone, Default)]
pub struct SweepSchedule {
    /// Index of the next tile to scan.
    next_tile: usize,
    /// Timestamp (seconds) and tile count of the previous call.
    last: Option<(f64, usize)>,
    /// Tiles owed: a fraction of a tile carries over to the next call.
    credit: f64,
}

impl SweepSchedule {
    /// The indexes of the tiles (of `n`) to scan at video time `now` for a sweep of `sweep`
    /// seconds.
    pub fn due(&mut self, now: f64, n: usize, sweep: f32) -> Vec<usize> {
        let count = match self.last {
            Some((t, prev_n)) if n > 0 && now > t && prev_n == n && sweep > 0.0 => {
                let owed = self.credit + n as f64 * (now - t) / f64::from(sweep);
                // At least one tile: a second look at a moving scene finds people the first
                // missed (measured on the ground truth: BENCHMARKS.md).
                let due = ((owed + 1e-9).floor() as usize).clamp(1, n);
                self.credit = (owed - due as f64).min(n as f64);
                due
            }
            _ => {
                self.credit = 0.0;
                self.next_tile = 0;
                n
            }
        };
        self.last = Some((now, n));
        let start = self.next_tile;
        self.next_tile = if n == 0 { 0 } else { (start + count) % n };
        (0..count).map(|k| (start + k) % n).collect()
    }
}

impl PersonScan {
    /// Wraps `detector`, which must run on symbolic input sizes (`fit_aspect`).
    pub fn new(detector: YoloxDetector, config: ScanConfig) -> Result<Self, Error> {
        config.validate()?;
        if !detector.config().fit_aspect {
            return Err(Error::InvalidInput {
                reason: "the scanning person detector needs fit_aspect (symbolic input sizes)"
                    .into(),
            });
        }
        Ok(Self {
            detector,
            config,
            schedule: SweepSchedule::default(),
            gate: None,
            fine_area: (0, 0),
        })
    }

    /// The settings in use.
    pub fn config(&self) -> &ScanConfig {
        &self.config
    }

    /// The wrapped detector.
    pub fn detector(&self) -> &YoloxDetector {
        &self.detector
    }

    /// Detects persons in `frame`.
    pub fn detect(&mut self, frame: &Frame) -> Result<Vec<Detection>, Error> {
        let full = crate::letterbox::full_region(frame);
        let (coarse, fine) = self.config.scales(frame.width, frame.height);
        let mut dets = self.detector.detect_region_at(frame, full, coarse)?;
        let now = frame.pts.as_secs_f64();
        let (tiles, scale) = match fine {
            Some(scale) => (self.config.tiles(frame.width, frame.height, scale), scale),
            None => (Vec::new(), 1.0),
        };
        let advancing = self.schedule.last.is_some_and(|(t, _)| now > t);
        let due = self
            .schedule
            .due(now, tiles.len(), self.config.sweep_seconds);
        let gated = self.config.motion_threshold > 0.0 && !tiles.is_empty();
        let cell = ((MOTION_CELL as f32 / scale).round() as u32).max(8);
        // A new clip, a seek or a still (time not advancing) or another size: start afresh.
        if !gated
            || !advancing
            || self
                .gate
                .as_ref()
                .is_none_or(|g| !g.grid.fits(frame.width, frame.height, cell) || g.tiles != tiles)
        {
            self.gate = gated.then(|| TileGate::new(frame.width, frame.height, cell, &tiles));
        }
        let dirty = self.gate.as_mut().map(|g| {
            g.grid.observe(frame);
            g.grid.dirty(
                now,
                self.config.motion_threshold,
                self.config.motion_refresh,
                self.config.person_memory,
            )
        });
        let margin = self.config.overlap.div_ceil(MOTION_CELL) as usize;
        for i in due {
            let tile = tiles[i];
            let tile_area = tile_net_area(&tile, scale);
            self.fine_area.1 += tile_area;
            let regions = match (&mut self.gate, &dirty) {
                (Some(g), Some(dirty)) => g.regions(i, dirty, now, margin, scale),
                _ => vec![tile],
            };
            for r in regions {
                self.fine_area.0 += tile_net_area(&r, scale);
                dets.extend(self.detector.detect_region_at(frame, r, scale)?);
            }
        }
        if fine.is_some() && self.config.upscale > 0.0 {
            let up = scale * self.config.upscale;
            for tile in self.config.tiles(frame.width, frame.height, up) {
                let area = tile_net_area(&tile, up);
                self.fine_area.0 += area;
                self.fine_area.1 += area;
                dets.extend(self.detector.detect_region_at(frame, tile, up)?);
            }
        }
        let mut dets = nms(dets, self.config.merge_iou);
        if self.config.complete_bodies > 0.0 {
            for d in &mut dets {
                d.rect = complete_body(d.rect, self.config.complete_bodies);
            }
        }
        if let Some(g) = &mut self.gate {
            // Persons tall enough for the coarse pass, which runs on every call, need no
            // fine rescan while they stand still; the smaller ones keep their cells due.
            let boxes: Vec<Rect> = dets
                .iter()
                .map(|d| d.rect)
                .filter(|r| r.h * coarse < COARSE_SURE_HEIGHT)
                .collect();
            g.grid.saw_persons(&boxes, now);
        }
        Ok(dets)
    }

    /// Network pixels the fine pass has run on so far, and how many it would have run on
    /// without the motion gate (every due tile whole).
    pub fn fine_area(&self) -> (u64, u64) {
        self.fine_area
    }
}

/// The area of `r` in network pixels at `scale`.
fn tile_net_area(r: &PixelRect, scale: f32) -> u64 {
    (r.w as f64 * f64::from(scale)) as u64 * (r.h as f64 * f64::from(scale)) as u64
}

/// `rect` grown downward to at least `ratio` times its width tall, by at most its own height.
pub fn complete_body(rect: Rect, ratio: f32) -> Rect {
    let want = (rect.w * ratio).min(rect.h * 2.0);
    if rect.h >= want {
        rect
    } else {
        Rect::new(rect.x, rect.y, rect.w, want)
    }
}

impl Detector for PersonScan {
    /// [`PersonScan::detect`] on the frame as [`crate::lowlight::for_detection`] gives it,
    /// boxes found on a stretched frame widened ([`crate::lowlight::widen_dark_boxes`]).
    fn detect(&mut self, frame: &Frame) -> Result<Vec<Detection>, Error> {
        let seen = crate::lowlight::for_detection(frame);
        let mut dets = PersonScan::detect(self, &seen)?;
        crate::lowlight::widen_dark_boxes(&seen, &mut dets);
        Ok(dets)
    }

    fn models(&self) -> Vec<ModelId> {
        self.detector.models()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_follow_the_frame_size() {
        let c = ScanConfig::default();
        let (coarse, fine) = c.scales(1920, 1080);
        assert!((coarse - 1.0 / 3.0).abs() < 1e-6);
        assert_eq!(fine, Some(1.0));
        // 4K: the fine pass runs at half density.
        assert_eq!(c.scales(3840, 2160).1, Some(0.5));
        // Small frames: the coarse pass is near native, no fine pass.
        assert_eq!(c.scales(768, 576).1, None);
        assert_eq!(c.scales(640, 480).1, None);
        assert_eq!(
            ScanConfig {
                fine_long_side: 0,
                ..c
            }
            .scales(1920, 1080)
            .1,
            None
        );
        // Upscaling only when allowed.
        assert_eq!(
            ScanConfig {
                fine_max_scale: 1.5,
                fine_long_side: 2880,
                ..c
            }
            .scales(1920, 1080)
            .1,
            Some(1.5)
        );
    }

    #[test]
    fn tiles_cover_the_frame_with_overlap() {
        let c = ScanConfig::default();
        for (w, h, scale) in [
            (1920, 1080, 1.0),
            (3840, 2160, 0.5),
            (1920, 1080, 1.5),
            (1280, 720, 1.5),
            (2592, 1944, 0.74),
        ] {
            let tiles = c.tiles(w, h, scale);
            // Every pixel lies in a tile, every tile inside the frame and at most `tile` network px.
            for y in (0..h).step_by(7) {
                for x in (0..w).step_by(7) {
                    assert!(
                        tiles.iter().any(|t| t.contains(x, y)),
                        "{w}x{h}@{scale}: ({x},{y}) uncovered"
                    );
                }
            }
            for t in &tiles {
                assert!(t.right() <= w && t.bottom() <= h, "{t:?}");
                assert!(
                    (t.w.max(t.h) as f32 * scale) <= c.tile as f32 + scale + 0.01,
                    "{w}x{h}@{scale}: {t:?}"
                );
            }
            // Neighbours overlap by at least `overlap` network pixels.
            let mut xs: Vec<_> = tiles.iter().map(|t| (t.x, t.right())).collect();
            xs.dedup();
            for p in xs.windows(2) {
                assert!(
                    (p[0].1 - p[1].0) as f32 * scale >= c.overlap as f32 - 1.0,
                    "{w}x{h}@{scale}: {p:?}"
                );
            }
        }
        assert_eq!(c.tiles(1920, 1080, 1.0).len(), 2);
        assert_eq!(c.tiles(1000, 500, 1.0).len(), 1);
    }

    #[test]
    fn the_sweep_schedule_scans_each_tile_in_time_and_no_more() {
        // 2 tiles, sweep 0.36 s, a detection every 0.12 s: one tile per call (2/3 owed, at
        // least one scanned).
        let mut sched = SweepSchedule::default();
        let mut last_scan = [None::<f64>; 2];
        let mut scanned = 0;
        for k in 0..60 {
            let now = k as f64 * 0.12;
            let due = sched.due(now, 2, 0.36);
            if k == 0 {
                assert_eq!(due, [0, 1], "a cold start scans every tile");
            }
            for &t in &due {
                if let Some(prev) = last_scan[t] {
                    assert!(
                        now - prev <= 0.36 + 0.12 + 1e-6,
                        "tile {t} waited {:.2} s",
                        now - prev
                    );
                }
                last_scan[t] = Some(now);
            }
            scanned += due.len();
        }
        assert_eq!(scanned, 2 + 59, "one tile per call after the cold start");
        // 8 tiles at the same rate: 8 * 0.12 / 0.36 = 2.67 owed per call, 2 or 3 scanned.
        let mut eight = SweepSchedule::default();
        let counts: Vec<usize> = (0..30)
            .map(|k| eight.due(k as f64 * 0.12, 8, 0.36).len())
            .collect();
        assert_eq!(counts[0], 8);
        assert!(counts[1..].iter().all(|&c| c == 2 || c == 3), "{counts:?}");
        // Time not advancing (a still, a new clip) is a cold start again; so is no sweep.
        assert_eq!(sched.due(0.0, 2, 0.36), [0, 1]);
        assert_eq!(sched.due(0.5, 2, 0.0), [0, 1]);
        assert!(sched.due(0.6, 0, 0.36).is_empty());
    }

    #[test]
    fn cut_off_bodies_grow_downward_and_full_ones_stay() {
        // An upper body above a railing (40x60) grows to 2.2 times its width, downward only.
        let r = complete_body(Rect::new(10.0, 20.0, 40.0, 60.0), 2.2);
        assert_eq!((r.x, r.y, r.w), (10.0, 20.0, 40.0));
        assert!((r.h - 88.0).abs() < 1e-4, "{r:?}");
        // A standing person is left alone; a wide box at most doubles.
        assert_eq!(
            complete_body(Rect::new(0.0, 0.0, 40.0, 110.0), 2.2),
            Rect::new(0.0, 0.0, 40.0, 110.0)
        );
        assert_eq!(
            complete_body(Rect::new(0.0, 0.0, 400.0, 100.0), 2.2).h,
            200.0
        );
    }

    #[test]
    fn recall_presets_parse_and_validate() {
        for r in [Recall::Standard, Recall::High, Recall::Max] {
            assert_eq!(r.name().parse::<Recall>().unwrap(), r);
            assert!(r.scan().validate().is_ok());
        }
        assert!("low".parse::<Recall>().is_err());
        assert_eq!(Recall::default().scan(), ScanConfig::default());
        // `high` and `max` scan every tile whole: no sweep, no motion gate.
        for r in [Recall::High, Recall::Max] {
            let c = r.scan();
            assert_eq!((c.sweep_seconds, c.motion_threshold), (0.0, 0.0), "{r:?}");
        }
        // `max` is `high` plus the upscaled pass: the native tiles stay.
        assert_eq!(
            Recall::Max.scan(),
            ScanConfig {
                upscale: 1.5,
                ..Recall::High.scan()
            }
        );
        assert!(ScanConfig::default().motion_threshold > 0.0);
    }

    #[test]
    fn validate_rejects_nonsense() {
        let c = ScanConfig::default();
        assert!(c.validate().is_ok());
        for bad in [
            ScanConfig { overlap: 600, ..c },
            ScanConfig {
                fine_max_scale: 0.0,
                ..c
            },
            ScanConfig { upscale: 0.5, ..c },
            ScanConfig { upscale: 5.0, ..c },
            ScanConfig {
                sweep_seconds: -1.0,
                ..c
            },
            ScanConfig {
                coarse_long_side: 0,
                ..c
            },
            ScanConfig {
                merge_iou: 2.0,
                ..c
            },
            ScanConfig {
                motion_threshold: -1.0,
                ..c
            },
            ScanConfig {
                motion_refresh: 0.0,
                ..c
            },
            ScanConfig {
                person_memory: 61.0,
                ..c
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }

    /// A textured grey 1920x1080 frame with a dark `side`-pixel square at `square`.
    fn street(square: Option<(u32, u32)>, side: u32) -> Frame {
        let (w, h) = (1920u32, 1080u32);
        let mut rgb = Vec::with_capacity((w * h * 3) as usize);
        for py in 0..h {
            for px in 0..w {
                let inside = square.is_some_and(|(x, y)| {
                    (x..x + side).contains(&px) && (y..y + side).contains(&py)
                });
                let v = if inside {
                    30
                } else {
                    100 + ((px / 8 + py / 8) % 5) as u8 * 10
                };
                rgb.extend([v; 3]);
            }
        }
        Frame::from_rgb24_to_yuv420(&rgb, w, h, 0, obscura_core::Timestamp::zero()).unwrap()
    }

    #[test]
    fn gate_regions_grow_to_whole_steps_inside_the_frame() {
        let r = |x, y, w, h| PixelRect { x, y, w, h };
        for (region, grown) in [
            // 200x130 -> 256x256 about its centre.
            (r(500, 500, 200, 130), r(472, 437, 256, 256)),
            // At the frame's edge: moved inside, not cut.
            (r(1850, 0, 70, 60), r(1792, 0, 128, 128)),
            // Never beyond the frame, never smaller than it was.
            (r(0, 0, 1900, 1000), r(0, 0, 1920, 1024)),
            (r(0, 0, 256, 128), r(0, 0, 256, 128)),
        ] {
            assert_eq!(round_up(region, 128, (1920, 1080)), grown, "{region:?}");
        }
    }

    #[test]
    fn the_motion_gate_scans_what_changed_or_held_a_person_and_skips_the_rest() {
        let c = ScanConfig::default();
        let tiles = c.tiles(1920, 1080, 1.0);
        assert_eq!(tiles.len(), 2);
        let mut gate = TileGate::new(1920, 1080, MOTION_CELL, &tiles);
        let margin = c.overlap.div_ceil(MOTION_CELL) as usize;
        let step = |gate: &mut TileGate, frame: &Frame, now: f64| {
            gate.grid.observe(frame);
            let dirty = gate
                .grid
                .dirty(now, c.motion_threshold, c.motion_refresh, c.person_memory);
            [0, 1].map(|t| gate.regions(t, &dirty, now, margin, 1.0))
        };
        // First look: both tiles whole.
        let still = street(None, 0);
        assert_eq!(
            step(&mut gate, &still, 0.0),
            [vec![tiles[0]], vec![tiles[1]]]
        );
        // Nothing changed, nobody found: nothing to scan.
        assert_eq!(step(&mut gate, &still, 0.12), [vec![], vec![]]);
        // Someone appears in tile 0: only around them, and wholly (grown by the overlap).
        let walker = street(Some((300, 500)), 40);
        let [left, right] = step(&mut gate, &walker, 0.24);
        assert!(right.is_empty(), "{right:?}");
        assert!(!left.is_empty() && left.iter().all(|r| r.w < 600 && r.h < 600));
        assert!(left.iter().any(|r| r.x + 128 <= 300
            && r.y + 128 <= 500
            && r.x + r.w >= 340 + 128
            && r.y + r.h >= 540 + 128));
        // Found there, they stay due while they stand still, for `person_memory` seconds.
        gate.grid
            .saw_persons(&[Rect::new(300.0, 500.0, 40.0, 40.0)], 0.24);
        let [held, _] = step(&mut gate, &walker, 0.36);
        assert!(held.iter().any(|r| r.contains(320, 520)), "{held:?}");
        let [later, _] = step(&mut gate, &walker, 1.0);
        assert!(later.iter().any(|r| r.contains(320, 520)), "{later:?}");
        // Every cell is looked at again at least every `motion_refresh` seconds.
        assert_eq!(
            step(&mut gate, &walker, 2.5),
            [vec![tiles[0]], vec![tiles[1]]]
        );
    }
}
