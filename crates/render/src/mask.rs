//! What to hide and how: masks, regions, shapes, styles, privacy zones.

use obscura_core::Rect;
use serde::{Deserialize, Serialize};

use crate::Error;

/// Default number of mosaic blocks across a pixelated region's width (3).
///
/// Measured, not guessed: with the pipeline's 10% + 4 px margin, YuNet still found 11 of 13
/// frontal faces (scores 0.53-0.85) mosaicked at 8 blocks across the face region, 3 of 13 at
/// 4 blocks, and none at 3 (`tests/face_detector.rs`). On a whole-person region 3 blocks
/// leave about one block across the face.
pub const DEFAULT_MAX_BLOCKS_ACROSS: u32 = 3;
/// Default smallest mosaic block edge, in luma pixels.
pub const DEFAULT_MIN_BLOCK: u32 = 4;
/// Default blur strength (1.0: box radius of a sixth of the region's smaller side).
pub const DEFAULT_BLUR_STRENGTH: f32 = 1.0;
/// Smallest blur radius in luma pixels, whatever the region size or strength.
pub const MIN_BLUR_RADIUS: u32 = 4;
/// Largest blur radius in luma pixels (keeps the fixed-point box filter exact).
pub const MAX_BLUR_RADIUS: u32 = 4096;

/// A list of regions to hide in one frame. Regions are applied in order; overlaps are fine.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Mask {
    /// The regions, applied in order.
    pub regions: Vec<Region>,
}

impl Mask {
    /// An empty mask (applying it changes nothing).
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a region and returns the mask (builder style).
    pub fn with(mut self, region: Region) -> Self {
        self.regions.push(region);
        self
    }

    /// Appends a region.
    pub fn push(&mut self, region: Region) {
        self.regions.push(region);
    }

    /// Checks every region's margins and style parameters (see [`Region::validate`]).
    pub fn validate(&self) -> Result<(), Error> {
        self.regions
            .iter()
            .enumerate()
            .try_for_each(|(i, r)| r.validate().map_err(|e| e.at_region(i)))
    }
}

/// One area to hide, its style and how far to grow it.
///
/// The covered area is the shape grown by `margin` (a fraction of the shape's width and
/// height, per side) plus `margin_px` pixels per side, rounded outward to whole pixels (a
/// partly covered pixel is masked) and clipped to the frame. With `feather_px > 0`, the
/// style fades out over that many pixels *outside* the covered area; the covered area itself
/// is always masked in full.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Region {
    /// The outline, in source-frame pixels.
    pub shape: Shape,
    /// How the pixels inside are replaced.
    pub style: Style,
    /// Growth per side as a fraction of the shape's width (left/right) and height (top/bottom).
    pub margin: f32,
    /// Growth per side in pixels, added to `margin`.
    pub margin_px: f32,
    /// Width in pixels of a soft edge outside the covered area (0: hard edge).
    pub feather_px: f32,
    /// Pixels this region leaves out (a hole with a hard edge), or `None`. The pipeline uses
    /// it to keep a requester's own silhouette visible inside a neighbour's box; any other
    /// region over those pixels still masks them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub except: Option<Cutout>,
}

/// A set of pixels a [`Region`] leaves out: a `w` x `h` bit map placed at `(x, y)` in frame
/// pixels (luma resolution; a chroma sample is left out only where every luma pixel it
/// covers is).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cutout {
    /// Left edge, frame pixels.
    pub x: u32,
    /// Top edge, frame pixels.
    pub y: u32,
    /// Width in pixels.
    pub w: u32,
    /// Height in pixels.
    pub h: u32,
    /// `w * h` flags, row-major: `true` where the pixel is left out.
    pub bits: Vec<bool>,
}

impl Cutout {
    /// Whether frame pixel `(x, y)` is left out.
    pub fn contains(&self, x: usize, y: usize) -> bool {
        let (x0, y0) = (self.x as usize, self.y as usize);
        x >= x0
            && y >= y0
            && x < x0 + self.w as usize
            && y < y0 + self.h as usize
            && self.bits[(y - y0) * self.w as usize + (x - x0)]
    }

    /// How many pixels are left out.
    pub fn count(&self) -> usize {
        self.bits.iter().filter(|&&b| b).count()
    }
}

impl Region {
    /// A region with no margin and no feather.
    pub fn new(shape: Shape, style: Style) -> Self {
        Self {
            shape,
            style,
            margin: 0.0,
            margin_px: 0.0,
            feather_px: 0.0,
            except: None,
        }
    }

    /// A rectangle region in `style`.
    pub fn rect(rect: Rect, style: Style) -> Self {
        Self::new(Shape::Rect(rect), style)
    }

    /// Sets the fractional and pixel margins.
    pub fn with_margin(mut self, fraction: f32, pixels: f32) -> Self {
        self.margin = fraction;
        self.margin_px = pixels;
        self
    }

    /// Sets the feather width in pixels.
    pub fn with_feather(mut self, pixels: f32) -> Self {
        self.feather_px = pixels;
        self
    }

    /// Leaves the pixels of `cutout` out of the region.
    pub fn with_cutout(mut self, cutout: Cutout) -> Self {
        self.except = Some(cutout);
        self
    }

    /// Checks the margins, feather and style parameters: each must be finite and not
    /// negative (a negative margin would shrink the mask and could uncover a person).
    /// Non-finite *shape* coordinates are not an error: [`apply`](crate::apply) masks the
    /// whole frame for such a region (fail closed).
    pub fn validate(&self) -> Result<(), Error> {
        for (name, v) in [
            ("margin", self.margin),
            ("margin_px", self.margin_px),
            ("feather_px", self.feather_px),
        ] {
            if !v.is_finite() || v < 0.0 {
                return Err(Error::InvalidRegion {
                    region: None,
                    reason: format!("{name} must be finite and >= 0, got {v}"),
                });
            }
        }
        if let Some(c) = &self.except
            && c.bits.len() != c.w as usize * c.h as usize
        {
            return Err(Error::InvalidRegion {
                region: None,
                reason: format!(
                    "cut-out of {}x{} pixels has {} flags",
                    c.w,
                    c.h,
                    c.bits.len()
                ),
            });
        }
        if self.feather_px > 1024.0 {
            return Err(Error::InvalidRegion {
                region: None,
                reason: format!("feather_px {} is larger than 1024", self.feather_px),
            });
        }
        self.style.validate()
    }
}

/// The outline of a region, in source-frame pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Shape {
    /// An axis-aligned rectangle.
    Rect(Rect),
    /// The ellipse inscribed in a rectangle.
    Ellipse(Rect),
    /// A closed polygon (even-odd rule), vertices in pixels.
    Polygon(Vec<(f32, f32)>),
}

impl Shape {
    /// The bounding rectangle (a negative width or height is read as swapped corners), or
    /// `None` if a coordinate is not finite or there are no points.
    pub fn bounds(&self) -> Option<Rect> {
        let r = match self {
            // A negative width or height is read as swapped corners (covers the span).
            Shape::Rect(r) | Shape::Ellipse(r) => Rect {
                x: r.x.min(r.x + r.w),
                y: r.y.min(r.y + r.h),
                w: r.w.abs(),
                h: r.h.abs(),
            },
            Shape::Polygon(pts) => {
                let first = pts.first()?;
                let (mut x0, mut y0, mut x1, mut y1) = (first.0, first.1, first.0, first.1);
                for &(x, y) in pts {
                    if !(x.is_finite() && y.is_finite()) {
                        return None;
                    }
                    x0 = x0.min(x);
                    y0 = y0.min(y);
                    x1 = x1.max(x);
                    y1 = y1.max(y);
                }
                Rect {
                    x: x0,
                    y: y0,
                    w: x1 - x0,
                    h: y1 - y0,
                }
            }
        };
        (r.x.is_finite() && r.y.is_finite() && r.w.is_finite() && r.h.is_finite()).then_some(r)
    }
}

/// A colour for [`Style::Fill`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Color {
    /// 8-bit R, G, B (converted to BT.601 limited-range YUV for YUV frames).
    Rgb([u8; 3]),
    /// 8-bit Y, U, V, BT.601 limited range (converted to RGB for RGB stills).
    Yuv([u8; 3]),
}

impl Color {
    /// Black.
    pub const BLACK: Color = Color::Rgb([0, 0, 0]);

    /// The colour as BT.601 limited-range Y, U, V.
    pub fn to_yuv(self) -> [u8; 3] {
        match self {
            Color::Yuv(c) => c,
            Color::Rgb([r, g, b]) => {
                let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
                let y = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16;
                let u = ((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128;
                let v = ((112 * r - 94 * g - 18 * b + 128) >> 8) + 128;
                [
                    y.clamp(0, 255) as u8,
                    u.clamp(0, 255) as u8,
                    v.clamp(0, 255) as u8,
                ]
            }
        }
    }

    /// The colour as R, G, B.
    pub fn to_rgb(self) -> [u8; 3] {
        match self {
            Color::Rgb(c) => c,
            Color::Yuv([y, u, v]) => {
                let c = i32::from(y) - 16;
                let d = i32::from(u) - 128;
                let e = i32::from(v) - 128;
                let clamp = |x: i32| ((x + 32768) >> 16).clamp(0, 255) as u8;
                [
                    clamp(76309 * c + 104597 * e),
                    clamp(76309 * c - 25675 * d - 53279 * e),
                    clamp(76309 * c + 132201 * d),
                ]
            }
        }
    }
}

impl Default for Color {
    fn default() -> Self {
        Color::BLACK
    }
}

/// How the pixels of a region are replaced.
///
/// For access-request exports use [`Style::Fill`] or [`Style::Pixelate`] (the defaults):
/// they destroy the information. A blur is a reversible-in-part linear filter: blurred text,
/// number plates and codes can often be recovered, so [`Style::Blur`] is for cases where a
/// softer look is wanted and the content is not readable at that radius anyway.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Style {
    /// Solid colour; no source pixel survives (default black). On RGBA the alpha byte is set
    /// to 255 as well; mosaic and blur treat alpha like the colour channels.
    Fill {
        /// The colour.
        color: Color,
    },
    /// Mosaic: each block becomes the brightness (luma) mean of the source block, in grey:
    /// colour is dropped, since a jacket's colour identifies a person as well as a face.
    /// Blocks are square with edge `max(min_block, ceil(longer side / max_blocks_across))`
    /// luma pixels (rounded up to even on YUV frames so chroma blocks align), so a region is
    /// never rendered with more than `max_blocks_across` blocks along either side, whatever
    /// its size: a standing person at the default 3 becomes a column of about three grey
    /// blocks, at 20 pixels as at 400, with no silhouette left.
    Pixelate {
        /// Most blocks across the region's width (default 3; at most 8 is the rule for
        /// anything that must not be recognisable).
        max_blocks_across: u32,
        /// Smallest block edge in luma pixels (default 4).
        min_block: u32,
    },
    /// Gaussian-quality blur (three box passes each way, clamped at the region edge, reading
    /// only pixels inside the region). Box radius in luma pixels:
    /// `clamp(ceil(strength * min(w, h) / 6), MIN_BLUR_RADIUS, MAX_BLUR_RADIUS)`; chroma uses
    /// half. Three passes of radius r give a Gaussian of sigma about r.
    Blur {
        /// Multiplier of the region-relative radius (default 1.0).
        strength: f32,
    },
}

impl Style {
    /// Black fill.
    pub fn fill() -> Self {
        Style::Fill {
            color: Color::BLACK,
        }
    }

    /// Mosaic with the default [`DEFAULT_MAX_BLOCKS_ACROSS`] (3) blocks across and 4-pixel
    /// minimum block.
    pub fn pixelate() -> Self {
        Style::Pixelate {
            max_blocks_across: DEFAULT_MAX_BLOCKS_ACROSS,
            min_block: DEFAULT_MIN_BLOCK,
        }
    }

    /// Blur at the default strength.
    pub fn blur() -> Self {
        Style::Blur {
            strength: DEFAULT_BLUR_STRENGTH,
        }
    }

    /// Checks the parameters: at least one block across, a block of at least one pixel, a
    /// finite strength of at least 1.0 (weaker blurs are refused: they leave faces
    /// recognisable).
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |reason: String| {
            Err(Error::InvalidRegion {
                region: None,
                reason,
            })
        };
        match *self {
            Style::Fill { .. } => Ok(()),
            Style::Pixelate {
                max_blocks_across,
                min_block,
            } => {
                if max_blocks_across == 0 || min_block == 0 {
                    return bad(format!(
                        "pixelate needs max_blocks_across >= 1 and min_block >= 1, got {max_blocks_across} and {min_block}"
                    ));
                }
                Ok(())
            }
            Style::Blur { strength } => {
                if !strength.is_finite() || !(1.0..=64.0).contains(&strength) {
                    return bad(format!(
                        "blur strength must be in 1.0..=64.0, got {strength}"
                    ));
                }
                Ok(())
            }
        }
    }

    /// Mosaic block edge in luma pixels for a region `width` x `height` pixels: at most
    /// `max_blocks_across` blocks along the longer side, at least `min_block` pixels.
    pub fn block_size(max_blocks_across: u32, min_block: u32, width: f32, height: f32) -> u32 {
        let across = max_blocks_across.max(1) as f32;
        let side = width.max(height);
        let w = if side.is_finite() { side.max(1.0) } else { 1.0 };
        ((w / across).ceil().min(1_000_000.0) as u32).max(min_block.max(1))
    }

    /// Parses a style: `fill`, `fill:#RRGGBB`, `pixelate`, `pixelate:N` (at most N blocks
    /// along a region's longer side, 1..=16), `blur` or `blur:S` (S times the default
    /// region-relative radius, 1..=64). `None` for anything else.
    pub fn parse(text: &str) -> Option<Style> {
        let t = text.trim();
        let (name, arg) = match t.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (t, None),
        };
        match (name, arg) {
            ("fill", None) => Some(Style::fill()),
            ("fill", Some(hex)) => {
                let hex = hex.strip_prefix('#')?;
                if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
                Some(Style::Fill {
                    color: Color::Rgb([byte(0)?, byte(2)?, byte(4)?]),
                })
            }
            ("pixelate", None) => Some(Style::pixelate()),
            ("pixelate", Some(n)) => {
                let n: u32 = n.parse().ok()?;
                (1..=16).contains(&n).then_some(Style::Pixelate {
                    max_blocks_across: n,
                    min_block: DEFAULT_MIN_BLOCK,
                })
            }
            ("blur", None) => Some(Style::blur()),
            ("blur", Some(s)) => {
                let s: f32 = s.parse().ok()?;
                (s.is_finite() && (1.0..=64.0).contains(&s)).then_some(Style::Blur { strength: s })
            }
            _ => None,
        }
    }

    /// Blur box radius in luma pixels for a region of `width` x `height` pixels.
    pub fn blur_radius(strength: f32, width: f32, height: f32) -> u32 {
        let side = width.min(height);
        let side = if side.is_finite() { side.max(0.0) } else { 0.0 };
        let s = if strength.is_finite() {
            strength.max(1.0)
        } else {
            DEFAULT_BLUR_STRENGTH
        };
        ((s * side / 6.0).ceil().min(MAX_BLUR_RADIUS as f32) as u32)
            .clamp(MIN_BLUR_RADIUS, MAX_BLUR_RADIUS)
    }
}

impl Default for Style {
    fn default() -> Self {
        Style::pixelate()
    }
}

/// A fixed area of a camera's view that is hidden on every frame (a window into private
/// property, a screen), as a polygon in normalised coordinates (0..1 of width and height).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrivacyZone {
    /// Vertices, `(x / width, y / height)`.
    pub polygon: Vec<(f32, f32)>,
    /// How the zone is hidden.
    pub style: Style,
}

impl PrivacyZone {
    /// A zone from normalised vertices, checked: at least three points, all finite and
    /// within -1..=2 (a little outside the frame is allowed for zones at the edge).
    pub fn new(polygon: Vec<(f32, f32)>, style: Style) -> Result<Self, Error> {
        if polygon.len() < 3 {
            return Err(Error::InvalidRegion {
                region: None,
                reason: format!(
                    "a privacy zone needs at least 3 points, got {}",
                    polygon.len()
                ),
            });
        }
        if let Some(p) = polygon.iter().find(|(x, y)| {
            !(x.is_finite()
                && y.is_finite()
                && (-1.0..=2.0).contains(x)
                && (-1.0..=2.0).contains(y))
        }) {
            return Err(Error::InvalidRegion {
                region: None,
                reason: format!("privacy zone point {p:?} is not within -1..=2"),
            });
        }
        style.validate()?;
        Ok(Self { polygon, style })
    }

    /// The zone as a pixel region for a `width` x `height` frame.
    pub fn to_region(&self, width: u32, height: u32) -> Region {
        let (w, h) = (width as f32, height as f32);
        Region::new(
            Shape::Polygon(self.polygon.iter().map(|&(x, y)| (x * w, y * h)).collect()),
            self.style,
        )
    }
}
