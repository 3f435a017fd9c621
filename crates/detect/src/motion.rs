//! Which parts of a static camera's picture changed since the fine pass last looked at them.
//!
//! The detector is deterministic: a tile whose pixels are the same as at its last look, and
//! where nobody was found then, gives the same answer again. [`MotionGrid`] splits the frame
//! into square cells, keeps each cell's picture (the mean luma of 4x4 sub-blocks) from the
//! fine pass's last look at it, and says which cells are *dirty*: never looked at, changed
//! since (a sub-block's mean moved by more than a threshold, after the frame's overall
//! brightness change is taken out), holding a person found in the last few seconds, or not
//! looked at for a set time. [`PersonScan`](crate::PersonScan) scans only the dirty cells of a
//! due tile, grown by a margin so a person touching them lies whole inside the region. A
//! moving camera or a lighting change makes every cell dirty: the whole tile is scanned, as
//! without the grid.

use obscura_core::{Frame, PixelFormat, PixelRect, Rect};

/// Sub-blocks per cell side.
const SUB: usize = 4;
/// Sub-blocks per cell.
const SUBS: usize = SUB * SUB;

/// Per-cell memory of what the fine pass last saw (see the module documentation).
#[derive(Debug, Clone)]
pub struct MotionGrid {
    width: u32,
    height: u32,
    cell: u32,
    cols: usize,
    rows: usize,
    /// Mean luma of each sub-block of the frame last observed, `SUBS` per cell, cell by cell
    /// (NaN for a sub-block past the frame's edge).
    current: Vec<f32>,
    /// The same at each cell's last look.
    reference: Vec<f32>,
    /// Video time of each cell's last look.
    looked: Vec<Option<f64>>,
    /// Video time a person was last found overlapping each cell.
    person: Vec<Option<f64>>,
}

impl MotionGrid {
    /// A grid of `cell`-pixel cells over a `width x height` frame, nothing looked at yet.
    pub fn new(width: u32, height: u32, cell: u32) -> Self {
        let cell = cell.max(SUB as u32);
        let cols = width.div_ceil(cell).max(1) as usize;
        let rows = height.div_ceil(cell).max(1) as usize;
        let n = cols * rows;
        Self {
            width,
            height,
            cell,
            cols,
            rows,
            current: vec![0.0; n * SUBS],
            reference: vec![0.0; n * SUBS],
            looked: vec![None; n],
            person: vec![None; n],
        }
    }

    /// Whether this grid was made for these dimensions and cell size.
    pub fn fits(&self, width: u32, height: u32, cell: u32) -> bool {
        (self.width, self.height, self.cell) == (width, height, cell.max(SUB as u32))
    }

    /// The number of cells.
    pub fn len(&self) -> usize {
        self.cols * self.rows
    }

    /// Whether the grid has no cells (never: a grid has at least one).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Cell `i` in frame pixels (clipped to the frame).
    pub fn cell_rect(&self, i: usize) -> PixelRect {
        let (cx, cy) = ((i % self.cols) as u32, (i / self.cols) as u32);
        let (x, y) = (cx * self.cell, cy * self.cell);
        PixelRect {
            x,
            y,
            w: self.cell.min(self.width - x),
            h: self.cell.min(self.height - y),
        }
    }

    /// Takes in `frame` (the grid's size) as the picture [`Self::dirty`] compares with, from
    /// every second pixel of every second row.
    pub fn observe(&mut self, frame: &Frame) {
        let sub = (self.cell as usize).div_ceil(SUB);
        let (w, h) = (self.width as usize, self.height as usize);
        let sub_cols = self.cols * SUB;
        let mut sums = vec![(0u32, 0u32); sub_cols * self.rows * SUB];
        let mut luma = vec![0u8; w];
        for y in (0..h.min(frame.height as usize)).step_by(2) {
            luma_row(frame, y, &mut luma);
            let row = &mut sums[(y / sub) * sub_cols..(y / sub + 1) * sub_cols];
            for x in (0..w.min(frame.width as usize)).step_by(2) {
                let s = &mut row[x / sub];
                s.0 += u32::from(luma[x]);
                s.1 += 1;
            }
        }
        for (k, &(sum, count)) in sums.iter().enumerate() {
            let (sx, sy) = (k % sub_cols, k / sub_cols);
            let cell = (sy / SUB) * self.cols + sx / SUB;
            let slot = cell * SUBS + (sy % SUB) * SUB + sx % SUB;
            // A sub-block past the frame's edge has no pixels: NaN, never compared.
            self.current[slot] = if count == 0 {
                f32::NAN
            } else {
                sum as f32 / count as f32
            };
        }
    }

    /// Which cells are dirty at video time `now`: never looked at; a sub-block's mean luma
    /// moved by more than `threshold` levels since the cell's last look, beyond the frame's
    /// median move; a person found on it within `person_memory` seconds; or last looked at
    /// more than `refresh` seconds ago. A `threshold` of 0 makes every cell dirty.
    pub fn dirty(&self, now: f64, threshold: f32, refresh: f32, person_memory: f32) -> Vec<bool> {
        let (refresh, memory) = (f64::from(refresh), f64::from(person_memory));
        let offset = self.median_move();
        (0..self.len())
            .map(|i| {
                let Some(looked) = self.looked[i] else {
                    return true;
                };
                if threshold <= 0.0
                    || now - looked > refresh
                    || self.person[i].is_some_and(|t| now - t <= memory)
                {
                    return true;
                }
                let (cur, refs) = (
                    &self.current[i * SUBS..(i + 1) * SUBS],
                    &self.reference[i * SUBS..(i + 1) * SUBS],
                );
                cur.iter()
                    .zip(refs)
                    .any(|(c, r)| (c - r - offset).abs() > threshold)
            })
            .collect()
    }

    /// The median, over the sub-blocks of cells looked at before, of the mean luma's move
    /// since that look: an exposure or lighting change shared by the whole picture.
    fn median_move(&self) -> f32 {
        let mut moves: Vec<f32> = (0..self.len())
            .filter(|&i| self.looked[i].is_some())
            .flat_map(|i| {
                let (cur, refs) = (
                    &self.current[i * SUBS..(i + 1) * SUBS],
                    &self.reference[i * SUBS..(i + 1) * SUBS],
                );
                cur.iter().zip(refs).map(|(c, r)| c - r)
            })
            .filter(|m| !m.is_nan())
            .collect();
        if moves.is_empty() {
            return 0.0;
        }
        let mid = moves.len() / 2;
        *moves.select_nth_unstable_by(mid, f32::total_cmp).1
    }

    /// Records that the fine pass looked at the cells flagged in `cells` at video time `now`:
    /// their picture now is what later frames are compared with.
    pub fn look(&mut self, cells: &[bool], now: f64) {
        for (i, _) in cells.iter().enumerate().filter(|(_, on)| **on) {
            self.reference[i * SUBS..(i + 1) * SUBS]
                .copy_from_slice(&self.current[i * SUBS..(i + 1) * SUBS]);
            self.looked[i] = Some(now);
        }
    }

    /// Records persons found at video time `now`: the cells their boxes overlap stay dirty
    /// for the `person_memory` of [`Self::dirty`], so a person standing still is looked at
    /// again.
    pub fn saw_persons(&mut self, boxes: &[Rect], now: f64) {
        let c = self.cell as f32;
        for b in boxes {
            let x0 = (b.x / c).floor().max(0.0) as usize;
            let y0 = (b.y / c).floor().max(0.0) as usize;
            let x1 = ((b.right() / c).ceil().max(0.0) as usize).min(self.cols);
            let y1 = ((b.bottom() / c).ceil().max(0.0) as usize).min(self.rows);
            for y in y0..y1 {
                for x in x0..x1 {
                    self.person[y * self.cols + x] = Some(now);
                }
            }
        }
    }

    /// The regions to scan for the cells flagged in `cells`: each flagged cell grown by
    /// `margin` cells on every side, joined into the bounding boxes of connected groups,
    /// overlapping boxes merged, in frame pixels clipped to the frame.
    pub fn regions(&self, cells: &[bool], margin: usize) -> Vec<PixelRect> {
        let (cols, rows) = (self.cols, self.rows);
        let mut grown = vec![false; cols * rows];
        for (i, _) in cells.iter().enumerate().filter(|(_, on)| **on) {
            let (x, y) = (i % cols, i / cols);
            for gy in y.saturating_sub(margin)..(y + margin + 1).min(rows) {
                for gx in x.saturating_sub(margin)..(x + margin + 1).min(cols) {
                    grown[gy * cols + gx] = true;
                }
            }
        }
        // Bounding boxes (in cells, end exclusive) of 4-connected groups.
        let mut boxes: Vec<[usize; 4]> = Vec::new();
        let mut seen = vec![false; cols * rows];
        for start in 0..grown.len() {
            if !grown[start] || seen[start] {
                continue;
            }
            let mut b = [cols, rows, 0, 0];
            let mut stack = vec![start];
            seen[start] = true;
            while let Some(i) = stack.pop() {
                let (x, y) = (i % cols, i / cols);
                b = [b[0].min(x), b[1].min(y), b[2].max(x + 1), b[3].max(y + 1)];
                let mut push = |j: usize| {
                    if grown[j] && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                };
                if x > 0 {
                    push(i - 1);
                }
                if x + 1 < cols {
                    push(i + 1);
                }
                if y > 0 {
                    push(i - cols);
                }
                if y + 1 < rows {
                    push(i + cols);
                }
            }
            boxes.push(b);
        }
        // Bounding boxes of different groups may still overlap: merge until none does.
        let overlap = |a: &[usize; 4], b: &[usize; 4]| {
            a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]
        };
        let mut merged = true;
        while merged {
            merged = false;
            'outer: for i in 0..boxes.len() {
                for j in i + 1..boxes.len() {
                    if overlap(&boxes[i], &boxes[j]) {
                        let b = boxes.swap_remove(j);
                        let a = &mut boxes[i];
                        *a = [
                            a[0].min(b[0]),
                            a[1].min(b[1]),
                            a[2].max(b[2]),
                            a[3].max(b[3]),
                        ];
                        merged = true;
                        break 'outer;
                    }
                }
            }
        }
        let c = self.cell;
        boxes
            .into_iter()
            .map(|[x0, y0, x1, y1]| {
                let (x, y) = (x0 as u32 * c, y0 as u32 * c);
                PixelRect {
                    x,
                    y,
                    w: (x1 as u32 * c).min(self.width) - x,
                    h: (y1 as u32 * c).min(self.height) - y,
                }
            })
            .collect()
    }
}

/// Row `y` of `frame`'s luma into `out` (the frame's width): the Y plane as stored, or BT.601
/// luma of packed RGB.
fn luma_row(frame: &Frame, y: usize, out: &mut [u8]) {
    let w = (frame.width as usize).min(out.len());
    let row = frame.planes[0].row(y);
    match frame.format {
        PixelFormat::Yuv420p => out[..w].copy_from_slice(&row[..w]),
        PixelFormat::Rgb24 | PixelFormat::Rgba => {
            let n = if frame.format == PixelFormat::Rgb24 {
                3
            } else {
                4
            };
            for (o, p) in out[..w].iter_mut().zip(row.chunks_exact(n)) {
                *o = ((77 * u32::from(p[0]) + 150 * u32::from(p[1]) + 29 * u32::from(p[2])) >> 8)
                    as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use obscura_core::Timestamp;

    /// A 640x360 grey RGB frame with a `side`-pixel dark square at `(x, y)`, brightened by
    /// `gain` levels overall.
    fn scene(square: Option<(u32, u32)>, side: u32, gain: i32) -> Frame {
        let (w, h) = (640u32, 360u32);
        let mut rgb = Vec::with_capacity((w * h * 3) as usize);
        for py in 0..h {
            for px in 0..w {
                // A textured background, so that cells differ from each other.
                let base = 100 + ((px / 8 + py / 8) % 5) as i32 * 10 + gain;
                let v = match square {
                    Some((x, y)) if (x..x + side).contains(&px) && (y..y + side).contains(&py) => {
                        30
                    }
                    _ => base,
                };
                rgb.extend([v as u8; 3]);
            }
        }
        Frame::from_rgb24_to_yuv420(&rgb, w, h, 0, Timestamp::zero()).unwrap()
    }

    fn flagged(cells: &[bool]) -> Vec<usize> {
        cells
            .iter()
            .enumerate()
            .filter(|(_, d)| **d)
            .map(|(i, _)| i)
            .collect()
    }

    #[test]
    fn only_cells_that_changed_since_their_last_look_are_dirty() {
        let mut g = MotionGrid::new(640, 360, 64);
        assert_eq!(g.len(), 10 * 6);
        g.observe(&scene(None, 0, 0));
        assert!(
            g.dirty(0.0, 4.0, 2.0, 2.0).iter().all(|&d| d),
            "never looked at"
        );
        g.look(&vec![true; g.len()], 0.0);
        assert!(
            flagged(&g.dirty(0.1, 4.0, 2.0, 2.0)).is_empty(),
            "nothing moved"
        );
        // A 12 px figure appears inside cell (3, 2): only that cell is dirty.
        g.observe(&scene(Some((200, 140)), 12, 0));
        let dirty = flagged(&g.dirty(0.2, 4.0, 2.0, 2.0));
        assert_eq!(dirty, [2 * 10 + 3]);
        // Until it is looked at, it stays dirty; after the look it is clean.
        let cells = g.dirty(0.3, 4.0, 2.0, 2.0);
        g.look(&cells, 0.3);
        assert!(flagged(&g.dirty(0.4, 4.0, 2.0, 2.0)).is_empty());
        // Cells not looked at for `memory` seconds are dirty again; threshold 0 means all.
        assert_eq!(flagged(&g.dirty(2.1, 4.0, 2.0, 2.0)).len(), g.len() - 1);
        assert_eq!(flagged(&g.dirty(0.4, 0.0, 2.0, 2.0)).len(), g.len());
    }

    #[test]
    fn a_change_of_the_whole_pictures_brightness_is_not_motion() {
        let mut g = MotionGrid::new(640, 360, 64);
        g.observe(&scene(None, 0, 0));
        g.look(&vec![true; g.len()], 0.0);
        g.observe(&scene(None, 0, 20));
        assert!(flagged(&g.dirty(0.1, 4.0, 2.0, 2.0)).is_empty());
        g.observe(&scene(Some((400, 40)), 20, 20));
        assert_eq!(flagged(&g.dirty(0.1, 4.0, 2.0, 2.0)), [6]);
    }

    #[test]
    fn cells_where_a_person_was_found_stay_dirty_for_the_memory() {
        let mut g = MotionGrid::new(640, 360, 64);
        g.observe(&scene(None, 0, 0));
        g.look(&vec![true; g.len()], 0.0);
        // A person box across cells (1..3, 1..2).
        g.saw_persons(&[Rect::new(70.0, 70.0, 100.0, 50.0)], 0.0);
        assert_eq!(flagged(&g.dirty(1.0, 4.0, 2.0, 2.0)), [11, 12]);
        g.look(&g.dirty(1.0, 4.0, 2.0, 2.0), 1.0);
        assert_eq!(
            flagged(&g.dirty(1.5, 4.0, 2.0, 2.0)),
            [11, 12],
            "still within memory"
        );
        // Memory over: those two are clean, the cells last looked at 2.1 s ago are dirty.
        let late = flagged(&g.dirty(2.1, 4.0, 2.0, 2.0));
        assert_eq!(late.len(), g.len() - 2);
        assert!(!late.contains(&11) && !late.contains(&12));
    }

    #[test]
    fn a_person_keeps_cells_due_longer_than_the_refresh_of_empty_ones() {
        let mut g = MotionGrid::new(640, 360, 64);
        g.observe(&scene(None, 0, 0));
        g.look(&vec![true; g.len()], 0.0);
        g.saw_persons(&[Rect::new(10.0, 10.0, 20.0, 20.0)], 0.0);
        // Looked at 0.5 s ago, refresh 1 s: only the person's cell is due, for 4 s.
        let mut cells = vec![false; g.len()];
        cells[0] = true;
        g.look(&cells, 0.5);
        assert_eq!(flagged(&g.dirty(1.0, 4.0, 1.0, 4.0)), [0]);
        g.look(&vec![true; g.len()], 1.2);
        assert_eq!(flagged(&g.dirty(2.0, 4.0, 1.0, 4.0)), [0]);
        assert!(
            flagged(&g.dirty(4.1, 4.0, 1.0, 4.0)).len() == g.len(),
            "refresh over"
        );
        g.look(&vec![true; g.len()], 4.1);
        assert!(
            flagged(&g.dirty(4.5, 4.0, 1.0, 4.0)).is_empty(),
            "memory over"
        );
    }

    #[test]
    fn regions_grow_flagged_cells_by_the_margin_and_merge() {
        let g = MotionGrid::new(640, 360, 64);
        let mut cells = vec![false; g.len()];
        cells[2 * 10 + 3] = true;
        // One cell grown by 2 cells each side: 5x5 cells.
        assert_eq!(
            g.regions(&cells, 2),
            [PixelRect {
                x: 64,
                y: 0,
                w: 320,
                h: 320
            }]
        );
        // A second cell far away is a second region; a third near the first merges.
        cells[5 * 10 + 9] = true;
        cells[2 * 10 + 4] = true;
        let mut r = g.regions(&cells, 1);
        r.sort_by_key(|r| r.x);
        assert_eq!(
            r,
            [
                PixelRect {
                    x: 128,
                    y: 64,
                    w: 256,
                    h: 192
                },
                PixelRect {
                    x: 512,
                    y: 256,
                    w: 128,
                    h: 104
                },
            ]
        );
        // A group inside another's bounding box (not touching it) is merged into it.
        let mut nested = vec![false; g.len()];
        for i in [0, 1, 2, 12, 22, 20] {
            nested[i] = true;
        }
        assert_eq!(
            g.regions(&nested, 0),
            [PixelRect {
                x: 0,
                y: 0,
                w: 192,
                h: 192
            }]
        );
        assert!(g.regions(&vec![false; g.len()], 2).is_empty());
    }
}
