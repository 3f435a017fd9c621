//! Masking compositor for Obscura: hides people and privacy zones in decoded frames.
//!
//! [`apply`] takes a [`Frame`] (YUV 4:2:0, RGB24 or RGBA) and a [`Mask`] (a list of
//! [`Region`]s, each a [`Shape`] with a [`Style`]) and rewrites the covered pixels in place.
//! [`apply_planes`] does the same on borrowed planes (for example an FFmpeg frame's buffers).
//!
//! # Styles, and which to use
//! - [`Style::Fill`]: solid colour (black by default). Nothing of the source survives.
//! - [`Style::Pixelate`] (the default): a grey mosaic of block brightness means, at most
//!   [`DEFAULT_MAX_BLOCKS_ACROSS`] (3) blocks along the region's longer side whatever its
//!   size (8 blocks across a face-sized region is still detected as a face by YuNet;
//!   clothing colour is dropped, as it identifies a person too). `pixelate:N` sets N.
//! - [`Style::Blur`]: three box passes each way (Gaussian quality), radius scaled to the
//!   region with a floor ([`MIN_BLUR_RADIUS`]).
//!
//! **For access-request exports use fill or pixelate.** Blurring is a linear filter: blurred
//! text, number plates and codes can often be read back by deconvolution or by matching
//! candidates, so blur is only for looks where nothing readable is inside.
//!
//! # Exactness
//! - A pixel outside every region (after dilation, outward rounding and clipping) is left
//!   bit-for-bit unchanged. Partly covered pixels count as covered.
//! - Inside a fill region no source value survives, in every plane: on YUV 4:2:0 each chroma
//!   sample that covers a masked luma pixel is masked as well (no RGB round trip).
//! - Regions that extend past the frame are clipped, not skipped.
//! - A region whose shape has a non-finite coordinate (NaN, infinity) **covers the whole
//!   frame** in its style: the compositor fails closed rather than skipping it. Invalid
//!   parameters (negative or non-finite margins, zero blocks, blur strength below 1) are
//!   rejected with [`Error::InvalidRegion`] before any pixel is written.
//! - Face boxes need a margin: masking exactly a detector's tight face box leaves hair, ears
//!   and chin, and YuNet still finds a head-shaped face there after any style. Use the
//!   pipeline's default 10% + 4 px (or more).
//! - Feathering blends the style in over `feather_px` pixels *outside* the covered area;
//!   the covered area itself is always masked in full.
//!
//! # Speed
//! The inner loops run through a table of kernels chosen once at run time (AVX2, SSE4.1 or
//! the scalar reference; see [`cpu_features`]). YUV planes are processed in parallel with
//! rayon when the masked area is large enough to pay for it.
#![deny(missing_docs)]
#![deny(unsafe_code)]

mod coverage;
mod kernels;
mod mask;
mod render;

use obscura_core::{Frame, PixelFormat};

pub use mask::{
    Color, Cutout, DEFAULT_BLUR_STRENGTH, DEFAULT_MAX_BLOCKS_ACROSS, DEFAULT_MIN_BLOCK,
    MAX_BLUR_RADIUS, MIN_BLUR_RADIUS, Mask, PrivacyZone, Region, Shape, Style,
};

use coverage::{Cov, Raster};
use kernels::Kernels;
use render::{Op, PlaneBuf, Scratch};

/// Errors of the compositor.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The frame's planes do not match its format and size.
    #[error(transparent)]
    Frame(#[from] obscura_core::Error),
    /// Borrowed planes that do not fit the stated format and size.
    #[error("invalid planes: {reason}")]
    InvalidPlanes {
        /// What is wrong.
        reason: String,
    },
    /// A region or style parameter out of range.
    #[error("invalid mask region{}: {reason}", region.map(|i| format!(" {i}")).unwrap_or_default())]
    InvalidRegion {
        /// Index of the region in the mask, when known.
        region: Option<usize>,
        /// What is wrong.
        reason: String,
    },
}

impl Error {
    fn at_region(self, index: usize) -> Self {
        match self {
            Error::InvalidRegion { reason, .. } => Error::InvalidRegion {
                region: Some(index),
                reason,
            },
            other => other,
        }
    }
}

/// One borrowed plane: pixel rows `stride` bytes apart.
#[derive(Debug)]
pub struct PlaneMut<'a> {
    /// The plane's bytes, at least `stride * (rows - 1) + row bytes` long.
    pub data: &'a mut [u8],
    /// Distance in bytes between the starts of two rows.
    pub stride: usize,
}

/// The SIMD level the dispatch chose for this process: `"avx2"`, `"sse4.1"` or `"scalar"`.
/// `OBSCURA_RENDER_SIMD=scalar|sse4.1|avx2` caps it (read once).
pub fn cpu_features() -> &'static str {
    Kernels::detected().name
}

/// Masks `frame` in place. Nothing is written when an error is returned.
pub fn apply(frame: &mut Frame, mask: &Mask) -> Result<(), Error> {
    apply_frame(frame, mask, Kernels::detected())
}

/// [`apply`] with the scalar reference kernels only (for differential tests and benchmarks).
pub fn apply_reference(frame: &mut Frame, mask: &Mask) -> Result<(), Error> {
    apply_frame(frame, mask, Kernels::scalar())
}

fn apply_frame(frame: &mut Frame, mask: &Mask, k: Kernels) -> Result<(), Error> {
    frame.validate()?;
    let mut planes: Vec<PlaneMut<'_>> = frame
        .planes
        .iter_mut()
        .map(|p| PlaneMut {
            stride: p.stride,
            data: &mut p.data[..],
        })
        .collect();
    apply_inner(
        frame.format,
        frame.width,
        frame.height,
        &mut planes,
        mask,
        k,
    )
}

/// Masks borrowed planes of a `width` x `height` picture in `format` (three planes Y, U, V
/// for YUV 4:2:0; one packed plane for RGB24/RGBA). Nothing is written when an error is
/// returned.
pub fn apply_planes(
    format: PixelFormat,
    width: u32,
    height: u32,
    planes: &mut [PlaneMut<'_>],
    mask: &Mask,
) -> Result<(), Error> {
    if width == 0 || height == 0 {
        return Err(Error::InvalidPlanes {
            reason: format!("empty picture {width}x{height}"),
        });
    }
    if planes.len() != format.plane_count() {
        return Err(Error::InvalidPlanes {
            reason: format!(
                "{format:?} needs {} planes, got {}",
                format.plane_count(),
                planes.len()
            ),
        });
    }
    for (i, p) in planes.iter().enumerate() {
        let (w, h, bps) = format.plane_dims(i, width as usize, height as usize);
        if p.stride < w * bps || p.data.len() < p.stride * (h - 1) + w * bps {
            return Err(Error::InvalidPlanes {
                reason: format!(
                    "plane {i}: {} bytes with stride {} cannot hold {h} rows of {} bytes",
                    p.data.len(),
                    p.stride,
                    w * bps
                ),
            });
        }
    }
    apply_inner(format, width, height, planes, mask, Kernels::detected())
}

/// Below this many covered luma pixels the planes are done on the calling thread.
const PARALLEL_MIN_PIXELS: usize = 1 << 17;

struct Prepared {
    raster: Raster,
    style: Style,
}

fn apply_inner(
    format: PixelFormat,
    width: u32,
    height: u32,
    planes: &mut [PlaneMut<'_>],
    mask: &Mask,
    k: Kernels,
) -> Result<(), Error> {
    mask.validate()?;
    let (w, h) = (width as usize, height as usize);
    let prepared: Vec<Prepared> = mask
        .regions
        .iter()
        .filter_map(|r| {
            coverage::rasterize(r, w, h).map(|raster| Prepared {
                raster,
                style: r.style,
            })
        })
        .collect();
    if prepared.is_empty() {
        return Ok(());
    }
    let mut bufs: Vec<PlaneBuf<'_>> = planes
        .iter_mut()
        .enumerate()
        .map(|(i, p)| {
            let (pw, ph, bps) = format.plane_dims(i, w, h);
            PlaneBuf {
                data: &mut *p.data,
                stride: p.stride,
                row_bytes: pw * bps,
                height: ph,
                bps,
            }
        })
        .collect();
    match format {
        PixelFormat::Yuv420p => {
            let chroma: Vec<Cov> = prepared.iter().map(|p| p.raster.cov.halved()).collect();
            let area: usize = prepared
                .iter()
                .map(|p| p.raster.cov.w * p.raster.cov.h)
                .sum();
            let [py, pu, pv] = &mut bufs[..] else {
                unreachable!("validated: three planes")
            };
            let luma = |py: &mut PlaneBuf<'_>| run_plane(py, &prepared, None, 0, format, &k);
            let chroma_u =
                |pu: &mut PlaneBuf<'_>| run_plane(pu, &prepared, Some(&chroma), 1, format, &k);
            let chroma_v =
                |pv: &mut PlaneBuf<'_>| run_plane(pv, &prepared, Some(&chroma), 2, format, &k);
            if area >= PARALLEL_MIN_PIXELS && rayon::current_num_threads() > 1 {
                rayon::join(
                    || luma(py),
                    || rayon::join(|| chroma_u(pu), || chroma_v(pv)),
                );
            } else {
                luma(py);
                chroma_u(pu);
                chroma_v(pv);
            }
        }
        PixelFormat::Rgb24 | PixelFormat::Rgba => {
            run_plane(&mut bufs[0], &prepared, None, 0, format, &k)
        }
    }
    Ok(())
}

/// Applies every prepared region, in order, to one plane.
fn run_plane(
    plane: &mut PlaneBuf<'_>,
    prepared: &[Prepared],
    chroma: Option<&[Cov]>,
    index: usize,
    format: PixelFormat,
    k: &Kernels,
) {
    let mut scratch = Scratch::default();
    for (i, p) in prepared.iter().enumerate() {
        let cov = chroma.map_or(&p.raster.cov, |c| &c[i]);
        let luma_cov = &p.raster.cov;
        let (sw, sh) = p.raster.size;
        let value: [u8; 4];
        let op = match p.style {
            Style::Fill { color } => {
                value = match format {
                    PixelFormat::Yuv420p => [color.to_yuv()[index], 0, 0, 0],
                    PixelFormat::Rgb24 | PixelFormat::Rgba => {
                        let [r, g, b] = color.to_rgb();
                        [r, g, b, 255]
                    }
                };
                Op::Fill(&value[..plane.bps])
            }
            Style::Pixelate {
                max_blocks_across,
                min_block,
            } => {
                let b = Style::block_size(max_blocks_across, min_block, sw, sh) as usize;
                match format {
                    PixelFormat::Yuv420p => {
                        // Even luma blocks on an even grid; chroma neutral (grey mosaic).
                        let b = b.div_ceil(2) * 2;
                        let (gx, gy) = (luma_cov.x & !1, luma_cov.y & !1);
                        value = [128, 0, 0, 0];
                        if index == 0 {
                            Op::Pixelate {
                                block: b,
                                gx,
                                gy,
                                grey: false,
                            }
                        } else {
                            Op::Fill(&value[..1])
                        }
                    }
                    _ => Op::Pixelate {
                        block: b,
                        gx: luma_cov.x,
                        gy: luma_cov.y,
                        grey: true,
                    },
                }
            }
            Style::Blur { strength } => {
                let r = Style::blur_radius(strength, sw, sh) as usize;
                Op::Blur {
                    radius: if index == 0 { r } else { r.div_ceil(2) },
                }
            }
        };
        render::render(plane, cov, op, k, &mut scratch);
    }
}
