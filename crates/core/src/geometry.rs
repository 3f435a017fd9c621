//! Rectangles in source-frame pixels.

use serde::{Deserialize, Serialize};

/// An axis-aligned rectangle in source-frame pixel coordinates (top-left origin). Floats,
/// because detectors and trackers produce sub-pixel boxes.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Rect {
    /// Left edge.
    pub x: f32,
    /// Top edge.
    pub y: f32,
    /// Width (non-negative).
    pub w: f32,
    /// Height (non-negative).
    pub h: f32,
}

impl Rect {
    /// A rectangle from its top-left corner and size.
    pub fn new(x: f32, y: f32, w: f32, h: f32) -> Self {
        Self {
            x,
            y,
            w: w.max(0.0),
            h: h.max(0.0),
        }
    }

    /// A rectangle from two corners.
    pub fn from_corners(x0: f32, y0: f32, x1: f32, y1: f32) -> Self {
        Self::new(x0.min(x1), y0.min(y1), (x1 - x0).abs(), (y1 - y0).abs())
    }

    /// A rectangle from its centre and size.
    pub fn from_center(cx: f32, cy: f32, w: f32, h: f32) -> Self {
        Self::new(cx - w / 2.0, cy - h / 2.0, w, h)
    }

    /// Right edge.
    pub fn right(&self) -> f32 {
        self.x + self.w
    }

    /// Bottom edge.
    pub fn bottom(&self) -> f32 {
        self.y + self.h
    }

    /// Centre point.
    pub fn center(&self) -> (f32, f32) {
        (self.x + self.w / 2.0, self.y + self.h / 2.0)
    }

    /// Area in square pixels.
    pub fn area(&self) -> f32 {
        self.w * self.h
    }

    /// The overlap of two rectangles, or `None` when they do not overlap.
    pub fn intersection(&self, other: &Rect) -> Option<Rect> {
        let x0 = self.x.max(other.x);
        let y0 = self.y.max(other.y);
        let x1 = self.right().min(other.right());
        let y1 = self.bottom().min(other.bottom());
        (x1 > x0 && y1 > y0).then(|| Rect::new(x0, y0, x1 - x0, y1 - y0))
    }

    /// The smallest rectangle containing both.
    pub fn hull(&self, other: &Rect) -> Rect {
        let x0 = self.x.min(other.x);
        let y0 = self.y.min(other.y);
        Rect::new(
            x0,
            y0,
            self.right().max(other.right()) - x0,
            self.bottom().max(other.bottom()) - y0,
        )
    }

    /// Intersection over union, 0 when disjoint or degenerate.
    pub fn iou(&self, other: &Rect) -> f32 {
        let inter = self.intersection(other).map_or(0.0, |r| r.area());
        let union = self.area() + other.area() - inter;
        if union <= 0.0 { 0.0 } else { inter / union }
    }

    /// Whether the point lies inside (edges included).
    pub fn contains_point(&self, px: f32, py: f32) -> bool {
        px >= self.x && px <= self.right() && py >= self.y && py <= self.bottom()
    }

    /// The fraction of `inner`'s area that lies inside `self`.
    pub fn coverage_of(&self, inner: &Rect) -> f32 {
        let a = inner.area();
        if a <= 0.0 {
            return 0.0;
        }
        self.intersection(inner).map_or(0.0, |r| r.area()) / a
    }

    /// Grows every side by `fraction` of the size plus `pixels`, keeping the centre.
    pub fn dilate(&self, fraction: f32, pixels: f32) -> Rect {
        let dx = self.w * fraction + pixels;
        let dy = self.h * fraction + pixels;
        Rect::new(
            self.x - dx,
            self.y - dy,
            self.w + 2.0 * dx,
            self.h + 2.0 * dy,
        )
    }

    /// The smallest whole-pixel rectangle that covers this one (rounding outwards, so a
    /// mask never loses a partly covered pixel), clipped to a `width` x `height` frame.
    /// `None` when nothing of it is inside the frame.
    pub fn to_pixels(&self, width: u32, height: u32) -> Option<PixelRect> {
        if !(self.x.is_finite() && self.y.is_finite() && self.w.is_finite() && self.h.is_finite()) {
            return None;
        }
        let x0 = self.x.floor().max(0.0);
        let y0 = self.y.floor().max(0.0);
        let x1 = self.right().ceil().min(width as f32);
        let y1 = self.bottom().ceil().min(height as f32);
        (x1 > x0 && y1 > y0).then_some(PixelRect {
            x: x0 as u32,
            y: y0 as u32,
            w: (x1 - x0) as u32,
            h: (y1 - y0) as u32,
        })
    }
}

/// A whole-pixel rectangle known to lie inside a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PixelRect {
    /// Left column.
    pub x: u32,
    /// Top row.
    pub y: u32,
    /// Width in pixels (at least 1).
    pub w: u32,
    /// Height in pixels (at least 1).
    pub h: u32,
}

impl PixelRect {
    /// One past the right column.
    pub fn right(&self) -> u32 {
        self.x + self.w
    }

    /// One past the bottom row.
    pub fn bottom(&self) -> u32 {
        self.y + self.h
    }

    /// Whether pixel `(px, py)` is inside.
    pub fn contains(&self, px: u32, py: u32) -> bool {
        px >= self.x && px < self.right() && py >= self.y && py < self.bottom()
    }
}

impl From<PixelRect> for Rect {
    fn from(r: PixelRect) -> Self {
        Rect::new(r.x as f32, r.y as f32, r.w as f32, r.h as f32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_of_identical_and_disjoint() {
        let a = Rect::new(0.0, 0.0, 10.0, 10.0);
        assert_eq!(a.iou(&a), 1.0);
        assert_eq!(a.iou(&Rect::new(20.0, 20.0, 5.0, 5.0)), 0.0);
        let half = Rect::new(5.0, 0.0, 10.0, 10.0);
        assert!((a.iou(&half) - 50.0 / 150.0).abs() < 1e-6);
    }

    #[test]
    fn to_pixels_rounds_outwards_and_clips() {
        let r = Rect::new(-3.5, 2.2, 10.0, 5.0).to_pixels(100, 6).unwrap();
        assert_eq!(
            r,
            PixelRect {
                x: 0,
                y: 2,
                w: 7,
                h: 4
            }
        );
        assert!(
            Rect::new(200.0, 0.0, 5.0, 5.0)
                .to_pixels(100, 100)
                .is_none()
        );
        assert!(
            Rect::new(f32::NAN, 0.0, 5.0, 5.0)
                .to_pixels(100, 100)
                .is_none()
        );
    }

    #[test]
    fn dilate_keeps_centre() {
        let r = Rect::new(10.0, 10.0, 20.0, 40.0).dilate(0.1, 1.0);
        assert_eq!(r.center(), (20.0, 30.0));
        assert_eq!((r.w, r.h), (20.0 + 2.0 * 3.0, 40.0 + 2.0 * 5.0));
    }
}
