//! Exactness rules of the compositor, checked against independent geometric oracles on
//! random frames (odd sizes, padded strides, all three pixel formats).

use obscura_core::{Frame, PixelFormat, Plane, Rect, Timestamp};
use obscura_render::{
    Color, Cutout, Error, Mask, PrivacyZone, Region, Shape, Style, apply, apply_reference,
};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};

/// A frame of random bytes with `pad` extra bytes at the end of every row.
fn random_frame(format: PixelFormat, w: u32, h: u32, pad: usize, seed: u64) -> Frame {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let planes = (0..format.plane_count())
        .map(|i| {
            let (pw, ph, bps) = format.plane_dims(i, w as usize, h as usize);
            let stride = pw * bps + pad;
            let data = (0..stride * ph).map(|_| rng.random()).collect();
            Plane {
                data,
                stride,
                row_bytes: pw * bps,
                height: ph,
            }
        })
        .collect();
    let f = Frame {
        index: 0,
        pts: Timestamp::zero(),
        width: w,
        height: h,
        format,
        planes,
    };
    f.validate().unwrap();
    f
}

fn bps(format: PixelFormat) -> usize {
    match format {
        PixelFormat::Yuv420p => 1,
        PixelFormat::Rgb24 => 3,
        PixelFormat::Rgba => 4,
    }
}

/// Oracle: whether pixel `(px, py)`'s unit square meets the region's dilated shape
/// (rectangles and ellipses), computed independently of the crate's rasteriser.
fn touches(region: &Region, px: u32, py: u32) -> bool {
    let (Shape::Rect(r) | Shape::Ellipse(r)) = region.shape else {
        panic!("oracle handles rects and ellipses")
    };
    let r = r.dilate(region.margin, region.margin_px);
    let (x0, y0, x1, y1) = (
        f64::from(r.x),
        f64::from(r.y),
        f64::from(r.right()),
        f64::from(r.bottom()),
    );
    if !(x1 > x0 && y1 > y0) {
        return false;
    }
    let (sx0, sy0, sx1, sy1) = (
        f64::from(px),
        f64::from(py),
        f64::from(px) + 1.0,
        f64::from(py) + 1.0,
    );
    match region.shape {
        Shape::Rect(_) => sx0 < x1 && sx1 > x0 && sy0 < y1 && sy1 > y0,
        _ => {
            // Normalise so the ellipse is the unit circle; nearest point of the square.
            let (cx, cy, a, b) = (
                (x0 + x1) / 2.0,
                (y0 + y1) / 2.0,
                (x1 - x0) / 2.0,
                (y1 - y0) / 2.0,
            );
            let nx = (cx.clamp(sx0, sx1) - cx) / a;
            let ny = (cy.clamp(sy0, sy1) - cy) / b;
            nx * nx + ny * ny <= 1.0 + 1e-9
        }
    }
}

/// Oracle: the pixel is within the region's reach including feathering (a box test, a
/// superset of what may change).
fn may_touch(region: &Region, px: u32, py: u32) -> bool {
    let (Shape::Rect(r) | Shape::Ellipse(r)) = region.shape else {
        panic!()
    };
    let f = region.feather_px.ceil();
    let r = r.dilate(region.margin, region.margin_px);
    let (x0, y0, x1, y1) = (
        r.x.floor() - f,
        r.y.floor() - f,
        r.right().ceil() + f,
        r.bottom().ceil() + f,
    );
    (px as f32) + 1.0 > x0 && (px as f32) < x1 && (py as f32) + 1.0 > y0 && (py as f32) < y1
}

fn arb_format() -> impl Strategy<Value = PixelFormat> {
    prop_oneof![
        Just(PixelFormat::Yuv420p),
        Just(PixelFormat::Rgb24),
        Just(PixelFormat::Rgba)
    ]
}

fn arb_style() -> impl Strategy<Value = Style> {
    prop_oneof![
        (any::<[u8; 3]>()).prop_map(|c| Style::Fill {
            color: Color::Rgb(c)
        }),
        (1u32..12, 1u32..6).prop_map(|(a, m)| Style::Pixelate {
            max_blocks_across: a,
            min_block: m
        }),
        (1.0f32..3.0).prop_map(|s| Style::Blur { strength: s }),
    ]
}

fn arb_region(w: u32, h: u32, feather: bool) -> impl Strategy<Value = Region> {
    let (fw, fh) = (w as f32, h as f32);
    (
        -fw * 0.3..fw * 1.1,
        -fh * 0.3..fh * 1.1,
        0.0f32..fw * 0.8,
        0.0f32..fh * 0.8,
        any::<bool>(),
        arb_style(),
        0.0f32..0.3,
        0.0f32..3.0,
        if feather {
            (0.0f32..4.0).boxed()
        } else {
            Just(0.0f32).boxed()
        },
    )
        .prop_map(|(x, y, rw, rh, ellipse, style, m, mpx, f)| {
            let r = Rect::new(x, y, rw, rh);
            let shape = if ellipse {
                Shape::Ellipse(r)
            } else {
                Shape::Rect(r)
            };
            Region::new(shape, style)
                .with_margin(m, mpx)
                .with_feather(f)
        })
}

fn arb_case(
    feather: bool,
) -> impl Strategy<Value = (PixelFormat, u32, u32, usize, u64, Vec<Region>)> {
    (arb_format(), 1u32..70, 1u32..50, 0usize..9, any::<u64>()).prop_flat_map(
        move |(f, w, h, pad, seed)| {
            (
                Just(f),
                Just(w),
                Just(h),
                Just(pad),
                Just(seed),
                prop::collection::vec(arb_region(w, h, feather), 0..5),
            )
        },
    )
}

/// Luma (or packed) pixels that may change, and the YUV chroma samples that may change.
fn reach(regions: &[Region], w: u32, h: u32, feathered: bool) -> Vec<bool> {
    let mut m = vec![false; (w * h) as usize];
    for y in 0..h {
        for x in 0..w {
            m[(y * w + x) as usize] = regions.iter().any(|r| {
                if feathered {
                    may_touch(r, x, y)
                } else {
                    touches(r, x, y)
                }
            });
        }
    }
    m
}

/// Asserts that every byte outside `reach` (and every stride padding byte) is unchanged.
fn assert_outside_unchanged(
    before: &Frame,
    after: &Frame,
    reach: &[bool],
) -> Result<(), TestCaseError> {
    let (w, h) = (before.width as usize, before.height as usize);
    for (i, (pb, pa)) in before.planes.iter().zip(&after.planes).enumerate() {
        let sub = usize::from(before.format == PixelFormat::Yuv420p && i > 0);
        let b = bps(before.format);
        for row in 0..pb.height {
            let (rb, ra) = (
                &pb.data[row * pb.stride..(row + 1) * pb.stride],
                &pa.data[row * pa.stride..(row + 1) * pa.stride],
            );
            prop_assert_eq!(
                &rb[pb.row_bytes..],
                &ra[pb.row_bytes..],
                "padding of plane {} row {} changed",
                i,
                row
            );
            for x in 0..pb.row_bytes / b {
                // The luma pixels this sample covers.
                let touched = (0..=sub).any(|dy| {
                    (0..=sub).any(|dx| {
                        let (lx, ly) = ((x << sub) + dx, (row << sub) + dy);
                        lx < w && ly < h && reach[ly * w + lx]
                    })
                });
                if !touched {
                    prop_assert_eq!(
                        &rb[x * b..(x + 1) * b],
                        &ra[x * b..(x + 1) * b],
                        "plane {} sample ({}, {}) changed",
                        i,
                        x,
                        row
                    );
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    #[test]
    fn pixels_outside_every_region_are_unchanged((format, w, h, pad, seed, regions) in arb_case(false)) {
        let before = random_frame(format, w, h, pad, seed);
        let mut after = before.clone();
        apply(&mut after, &Mask { regions: regions.clone() }).unwrap();
        assert_outside_unchanged(&before, &after, &reach(&regions, w, h, false))?;
    }

    #[test]
    fn feathered_regions_change_nothing_beyond_the_feather((format, w, h, pad, seed, regions) in arb_case(true)) {
        let before = random_frame(format, w, h, pad, seed);
        let mut after = before.clone();
        apply(&mut after, &Mask { regions: regions.clone() }).unwrap();
        assert_outside_unchanged(&before, &after, &reach(&regions, w, h, true))?;
    }

    #[test]
    fn inside_a_fill_region_no_source_value_survives(
        (format, w, h, pad, seed, regions) in arb_case(false),
        color in any::<[u8; 3]>(),
        feather in 0.0f32..3.0,
    ) {
        // Whatever the other regions did, the last (fill) region wins everywhere it touches.
        let mut before = random_frame(format, w, h, pad, seed);
        let Some(last) = regions.last().cloned() else { return Ok(()) };
        let fill = Region { style: Style::Fill { color: Color::Rgb(color) }, feather_px: feather, ..last };
        let mut regions = regions;
        regions.push(fill.clone());
        apply(&mut before, &Mask { regions }).unwrap();
        let yuv = Color::Rgb(color).to_yuv();
        for y in 0..h {
            for x in 0..w {
                if !touches(&fill, x, y) {
                    continue;
                }
                match format {
                    PixelFormat::Yuv420p => {
                        prop_assert_eq!(before.planes[0].row(y as usize)[x as usize], yuv[0], "Y at ({}, {})", x, y);
                        prop_assert_eq!(before.planes[1].row(y as usize / 2)[x as usize / 2], yuv[1], "U at ({}, {})", x, y);
                        prop_assert_eq!(before.planes[2].row(y as usize / 2)[x as usize / 2], yuv[2], "V at ({}, {})", x, y);
                    }
                    _ => {
                        let b = bps(format);
                        let px = &before.planes[0].row(y as usize)[x as usize * b..(x as usize + 1) * b];
                        prop_assert_eq!(&px[..3], &color[..], "pixel ({}, {})", x, y);
                        if b == 4 { prop_assert_eq!(px[3], 255); }
                    }
                }
            }
        }
    }

    #[test]
    fn simd_and_scalar_paths_give_identical_frames((format, w, h, pad, seed, regions) in arb_case(true)) {
        let before = random_frame(format, w, h, pad, seed);
        let (mut a, mut b) = (before.clone(), before);
        let mask = Mask { regions };
        apply(&mut a, &mask).unwrap();
        apply_reference(&mut b, &mask).unwrap();
        prop_assert_eq!(a, b);
    }

    #[test]
    fn degenerate_and_extreme_regions_never_panic(
        coords in prop::collection::vec(prop_oneof![any::<f32>(), -1e6f32..1e6, Just(f32::NAN), Just(f32::INFINITY), Just(0.0f32)], 4),
        kind in 0u8..3,
        style in arb_style(),
        format in arb_format(),
    ) {
        let r = Rect { x: coords[0], y: coords[1], w: coords[2], h: coords[3] };
        let shape = match kind {
            0 => Shape::Rect(r),
            1 => Shape::Ellipse(r),
            _ => Shape::Polygon(vec![(coords[0], coords[1]), (coords[2], coords[3]), (coords[1], coords[2])]),
        };
        let mut f = random_frame(format, 17, 9, 3, 1);
        let finite = coords.iter().all(|c| c.is_finite());
        let mask = Mask::new().with(Region::new(shape, style));
        apply(&mut f, &mask).unwrap();
        if !finite {
            // Fail closed: a non-finite shape masks the whole frame.
            if let Style::Fill { color } = style {
                let mut want = random_frame(format, 17, 9, 3, 1);
                apply(&mut want, &Mask::new().with(Region::rect(Rect::new(-1.0, -1.0, 100.0, 100.0), Style::Fill { color }))).unwrap();
                prop_assert_eq!(f, want);
            }
        }
    }
}

#[test]
fn a_region_partly_outside_the_frame_is_clipped_not_skipped() {
    for format in [PixelFormat::Yuv420p, PixelFormat::Rgb24, PixelFormat::Rgba] {
        let mut f = random_frame(format, 40, 30, 0, 7);
        // A person walking in from the left: most of the box is outside the frame.
        apply(
            &mut f,
            &Mask::new().with(Region::rect(
                Rect::new(-50.0, 5.0, 53.5, 20.0),
                Style::fill(),
            )),
        )
        .unwrap();
        let rgb = f.to_rgb24();
        for y in 5..25 {
            for x in 0..4 {
                let i = (y * 40 + x) * 3;
                assert!(
                    rgb[i..i + 3].iter().all(|&v| v < 8),
                    "{format:?} ({x}, {y}) = {:?}",
                    &rgb[i..i + 3]
                );
            }
        }
    }
}

#[test]
fn a_cutout_leaves_its_pixels_out_of_its_region_only() {
    for format in [PixelFormat::Yuv420p, PixelFormat::Rgb24, PixelFormat::Rgba] {
        for style in [Style::fill(), Style::pixelate(), Style::blur()] {
            let src = random_frame(format, 40, 30, 3, 11);
            // The hole: x 10..20, y 8..16 (even edges, so whole chroma samples).
            let (hx, hy, hw, hh) = (10u32, 8u32, 10u32, 8u32);
            let cut = Cutout {
                x: hx,
                y: hy,
                w: hw,
                h: hh,
                bits: vec![true; (hw * hh) as usize],
            };
            let mut f = src.clone();
            let holed =
                Region::rect(Rect::new(4.0, 4.0, 30.0, 20.0), style).with_cutout(cut.clone());
            apply(&mut f, &Mask::new().with(holed.clone())).unwrap();
            let (a, b) = (src.to_rgb24(), f.to_rgb24());
            let px = |v: &[u8], x: u32, y: u32| {
                let i = ((y * 40 + x) * 3) as usize;
                [v[i], v[i + 1], v[i + 2]]
            };
            for y in 0..30 {
                for x in 0..40 {
                    if cut.contains(x as usize, y as usize) {
                        assert_eq!(
                            px(&a, x, y),
                            px(&b, x, y),
                            "{format:?} {style:?}: hole pixel ({x}, {y}) changed"
                        );
                    }
                }
            }
            // Outside the hole the region is masked as without a cut-out.
            let mut plain = src.clone();
            apply(
                &mut plain,
                &Mask::new().with(Region::rect(Rect::new(4.0, 4.0, 30.0, 20.0), style)),
            )
            .unwrap();
            let p = plain.to_rgb24();
            let outside_same = (0..30u32).all(|y| {
                (0..40u32).all(|x| {
                    let near = x + 2 > hx && x < hx + hw + 2 && y + 2 > hy && y < hy + hh + 2;
                    near || style != Style::fill() || px(&p, x, y) == px(&b, x, y)
                })
            });
            assert!(
                outside_same,
                "{format:?}: pixels away from the hole are masked as before"
            );
            // Another region over the hole still masks it.
            let mut g = src.clone();
            let over = Region::rect(
                Rect::new(12.0, 10.0, 4.0, 4.0),
                Style::Fill {
                    color: Color::Rgb([255, 0, 255]),
                },
            );
            apply(&mut g, &Mask::new().with(holed).with(over)).unwrap();
            let c = g.to_rgb24();
            assert_ne!(
                px(&c, 13, 11),
                px(&a, 13, 11),
                "{format:?}: a second region masks the hole"
            );
        }
    }
    let bad = Region::rect(Rect::new(0.0, 0.0, 4.0, 4.0), Style::fill()).with_cutout(Cutout {
        x: 0,
        y: 0,
        w: 2,
        h: 2,
        bits: vec![true],
    });
    assert!(
        bad.validate().is_err(),
        "a cut-out whose flags do not fill it is refused"
    );
}

#[test]
fn a_nan_region_masks_the_whole_frame() {
    let mut f = random_frame(PixelFormat::Yuv420p, 33, 21, 5, 3);
    let r = Region::rect(
        Rect {
            x: 1.0,
            y: f32::NAN,
            w: 3.0,
            h: 3.0,
        },
        Style::fill(),
    );
    apply(&mut f, &Mask::new().with(r)).unwrap();
    assert!(
        f.planes[0]
            .data
            .chunks(f.planes[0].stride)
            .all(|row| row[..33].iter().all(|&v| v == 16))
    );
    assert!(
        f.planes[1]
            .data
            .chunks(f.planes[1].stride)
            .all(|row| row[..17].iter().all(|&v| v == 128))
    );
}

#[test]
fn invalid_parameters_are_refused_before_anything_is_written() {
    let before = random_frame(PixelFormat::Rgb24, 20, 20, 0, 9);
    let good = Region::rect(Rect::new(0.0, 0.0, 10.0, 10.0), Style::fill());
    for bad in [
        good.clone().with_margin(-0.1, 0.0),
        good.clone().with_margin(0.0, f32::NAN),
        good.clone().with_feather(f32::INFINITY),
        Region::rect(
            Rect::new(0.0, 0.0, 5.0, 5.0),
            Style::Pixelate {
                max_blocks_across: 0,
                min_block: 4,
            },
        ),
        Region::rect(Rect::new(0.0, 0.0, 5.0, 5.0), Style::Blur { strength: 0.2 }),
        Region::rect(
            Rect::new(0.0, 0.0, 5.0, 5.0),
            Style::Blur { strength: f32::NAN },
        ),
    ] {
        let mut f = before.clone();
        let err = apply(&mut f, &Mask::new().with(good.clone()).with(bad)).unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidRegion {
                    region: Some(1),
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string().starts_with("invalid mask region 1: "),
            "{err}"
        );
        assert_eq!(f, before);
    }
}

#[test]
fn an_invalid_frame_is_an_error() {
    let mut f = random_frame(PixelFormat::Yuv420p, 8, 8, 0, 1);
    f.planes[2].data.truncate(3);
    assert!(matches!(
        apply(
            &mut f,
            &Mask::new().with(Region::rect(Rect::new(0.0, 0.0, 4.0, 4.0), Style::fill()))
        ),
        Err(Error::Frame(_))
    ));
}

#[test]
fn pixelate_renders_at_most_max_blocks_across_uniform_blocks_whatever_the_size() {
    for (w, rw) in [(64u32, 40.0f32), (300, 200.0), (1000, 900.0)] {
        let f0 = random_frame(PixelFormat::Yuv420p, w, 60, 0, 11);
        let runs_of = |f: &Frame| {
            let row = f.planes[0].row(30);
            row[10..10 + rw as usize]
                .windows(2)
                .filter(|p| p[0] != p[1])
                .count()
                + 1
        };
        // The default: at most 3 blocks across.
        let mut d = f0.clone();
        apply(
            &mut d,
            &Mask::new().with(Region::rect(
                Rect::new(10.0, 0.0, rw, 60.0),
                Style::pixelate(),
            )),
        )
        .unwrap();
        assert!(
            runs_of(&d) <= 3,
            "width {rw}: {} blocks across by default",
            runs_of(&d)
        );
        let (mut f, src) = (f0.clone(), f0);
        let eight = Style::Pixelate {
            max_blocks_across: 8,
            min_block: 4,
        };
        apply(
            &mut f,
            &Mask::new().with(Region::rect(Rect::new(10.0, 0.0, rw, 60.0), eight)),
        )
        .unwrap();
        let runs = runs_of(&f);
        // 8 whole blocks, plus at most one partial block from the even grid on YUV.
        assert!(runs <= 9, "width {rw}: {runs} blocks across");
        // Every block is the rounded mean of its source block (check the first full one).
        let b = (rw.max(60.0) / 8.0).ceil() as usize;
        let b = b.div_ceil(2) * 2;
        let (x0, y0, bh) = (10usize, 0usize, b.min(60));
        let sum: u64 = (y0..y0 + bh)
            .flat_map(|y| {
                src.planes[0].row(y)[x0..x0 + b]
                    .iter()
                    .map(|&v| u64::from(v))
            })
            .sum();
        let n = (b * bh) as u64;
        assert_eq!(
            u64::from(f.planes[0].row(y0)[x0]),
            (sum + n / 2) / n,
            "width {rw}"
        );
        assert!((y0..y0 + bh).all(|y| {
            f.planes[0].row(y)[x0..x0 + b]
                .iter()
                .all(|&v| v == f.planes[0].row(y0)[x0])
        }));
    }
}

#[test]
fn blur_flattens_detail_and_keeps_flat_areas() {
    // A checkerboard blurs to (almost) its mean; a flat area stays exactly flat.
    let mut f = Frame::black(PixelFormat::Yuv420p, 96, 96, 0, Timestamp::zero());
    for y in 0..96 {
        for x in 0..96 {
            f.planes[0].row_mut(y)[x] = if (x / 2 + y / 2) % 2 == 0 { 40 } else { 200 };
        }
    }
    apply(
        &mut f,
        &Mask::new().with(Region::rect(
            Rect::new(16.0, 16.0, 64.0, 64.0),
            Style::blur(),
        )),
    )
    .unwrap();
    let inner: Vec<u8> = (24..72)
        .flat_map(|y| f.planes[0].row(y)[24..72].to_vec())
        .collect();
    assert!(
        inner.iter().all(|&v| (115..=125).contains(&v)),
        "min {:?} max {:?}",
        inner.iter().min(),
        inner.iter().max()
    );
    assert!(f.planes[1].data.iter().all(|&v| v == 128));
}

#[test]
fn privacy_zone_masks_its_polygon_at_every_frame_size() {
    // The right half's lower triangle.
    let zone = PrivacyZone::new(vec![(0.5, 1.0), (1.0, 0.0), (1.0, 1.0)], Style::fill()).unwrap();
    for (w, h) in [(64u32, 48u32), (127, 35)] {
        let mut f = random_frame(PixelFormat::Rgb24, w, h, 0, 5);
        let before = f.clone();
        apply(&mut f, &Mask::new().with(zone.to_region(w, h))).unwrap();
        let (wf, hf) = (w as f32, h as f32);
        for y in 0..h {
            for x in 0..w {
                let px = &f.planes[0].row(y as usize)[x as usize * 3..x as usize * 3 + 3];
                let orig = &before.planes[0].row(y as usize)[x as usize * 3..x as usize * 3 + 3];
                // Pixel corners, normalised.
                let inside = |cx: f32, cy: f32| cx / wf >= 0.5 + 0.5 * (1.0 - cy / hf);
                let corners = [
                    (x as f32, y as f32),
                    (x as f32 + 1.0, y as f32),
                    (x as f32, y as f32 + 1.0),
                    (x as f32 + 1.0, y as f32 + 1.0),
                ];
                if corners.iter().all(|&(cx, cy)| inside(cx, cy)) {
                    assert_eq!(px, [0, 0, 0], "({x}, {y}) inside {w}x{h}");
                } else if x as f32 + 1.0 < wf / 2.0 - 1.0 {
                    assert_eq!(px, orig, "({x}, {y}) outside {w}x{h}");
                }
            }
        }
    }
    assert!(PrivacyZone::new(vec![(0.0, 0.0), (1.0, 1.0)], Style::fill()).is_err());
    assert!(
        PrivacyZone::new(vec![(0.0, 0.0), (1.0, f32::NAN), (0.0, 1.0)], Style::fill()).is_err()
    );
}

#[test]
fn apply_planes_masks_borrowed_buffers_and_checks_their_size() {
    let mut f = random_frame(PixelFormat::Yuv420p, 31, 17, 4, 2);
    let mut want = f.clone();
    let mask = Mask::new().with(Region::new(
        Shape::Ellipse(Rect::new(3.0, 2.0, 20.0, 11.0)),
        Style::pixelate(),
    ));
    apply(&mut want, &mask).unwrap();
    {
        let mut planes: Vec<obscura_render::PlaneMut<'_>> = f
            .planes
            .iter_mut()
            .map(|p| obscura_render::PlaneMut {
                stride: p.stride,
                data: &mut p.data[..],
            })
            .collect();
        obscura_render::apply_planes(PixelFormat::Yuv420p, 31, 17, &mut planes, &mask).unwrap();
        planes[1].data = &mut [];
        assert!(matches!(
            obscura_render::apply_planes(PixelFormat::Yuv420p, 31, 17, &mut planes, &mask),
            Err(Error::InvalidPlanes { .. })
        ));
    }
    assert_eq!(f, want);
}

/// Whether the closed segment `p`-`q` meets the closed box `[x0, x1] x [y0, y1]`
/// (Liang-Barsky clipping).
fn segment_meets_box(p: (f64, f64), q: (f64, f64), b: (f64, f64, f64, f64)) -> bool {
    let (dx, dy) = (q.0 - p.0, q.1 - p.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (den, num) in [
        (-dx, p.0 - b.0),
        (dx, b.2 - p.0),
        (-dy, p.1 - b.1),
        (dy, b.3 - p.1),
    ] {
        if den == 0.0 {
            if num < 0.0 {
                return false;
            }
        } else {
            let t = num / den;
            if den < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    t0 <= t1
}

/// Even-odd point-in-polygon.
fn inside_polygon(pts: &[(f64, f64)], x: f64, y: f64) -> bool {
    let mut inside = false;
    for i in 0..pts.len() {
        let (p, q) = (pts[i], pts[(i + 1) % pts.len()]);
        if (p.1 > y) != (q.1 > y) && x < p.0 + (q.0 - p.0) * (y - p.1) / (q.1 - p.1) {
            inside = !inside;
        }
    }
    inside
}

/// Oracle: whether the box meets the closed polygon.
fn polygon_meets_box(pts: &[(f64, f64)], b: (f64, f64, f64, f64)) -> bool {
    (0..pts.len()).any(|i| segment_meets_box(pts[i], pts[(i + 1) % pts.len()], b))
        || inside_polygon(pts, (b.0 + b.2) / 2.0, (b.1 + b.3) / 2.0)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 120, ..ProptestConfig::default() })]

    /// Polygons (privacy zones, any shape, concave or self-intersecting): a pixel whose square,
    /// grown by the margin, overlaps the polygon is filled; one that does not touch it is
    /// unchanged.
    #[test]
    fn polygon_coverage_matches_a_geometric_oracle(
        pts in prop::collection::vec((-10.0f32..60.0, -10.0f32..40.0), 3..8),
        m in 0.0f32..0.2,
        mpx in 0.0f32..3.0,
        format in arb_format(),
        seed in any::<u64>(),
    ) {
        let (w, h) = (51u32, 31u32);
        let before = random_frame(format, w, h, 2, seed);
        let mut f = before.clone();
        let region = Region::new(Shape::Polygon(pts.clone()), Style::Fill { color: Color::Rgb([1, 2, 3]) }).with_margin(m, mpx);
        apply(&mut f, &Mask::new().with(region.clone())).unwrap();
        let b = region.shape.bounds().unwrap();
        let (dx, dy) = (f64::from(b.w * m + mpx), f64::from(b.h * m + mpx));
        let p64: Vec<(f64, f64)> = pts.iter().map(|&(x, y)| (f64::from(x), f64::from(y))).collect();
        let mut reach = vec![false; (w * h) as usize];
        for y in 0..h {
            for x in 0..w {
                let (x, y) = (f64::from(x), f64::from(y));
                let grown = |e: f64| (x - dx - e, y - dy - e, x + 1.0 + dx + e, y + 1.0 + dy + e);
                let must = polygon_meets_box(&p64, grown(-1e-3));
                let may = polygon_meets_box(&p64, grown(1e-3));
                reach[(y as u32 * w + x as u32) as usize] = may;
                if must && format != PixelFormat::Yuv420p {
                    let b = bps(format);
                    let (xi, yi) = (x as usize, y as usize);
                    prop_assert_eq!(&f.planes[0].row(yi)[xi * b..xi * b + 3], &[1u8, 2, 3][..], "({}, {}) not filled", x, y);
                }
                if must && format == PixelFormat::Yuv420p {
                    prop_assert_eq!(f.planes[0].row(y as usize)[x as usize], Color::Rgb([1, 2, 3]).to_yuv()[0], "Y ({}, {}) not filled", x, y);
                }
            }
        }
        assert_outside_unchanged(&before, &f, &reach)?;
    }
}

#[test]
fn a_negative_size_is_read_as_swapped_corners() {
    let mut a = random_frame(PixelFormat::Rgb24, 30, 20, 0, 4);
    let mut b = a.clone();
    apply(
        &mut a,
        &Mask::new().with(Region::rect(
            Rect {
                x: 20.0,
                y: 15.0,
                w: -10.0,
                h: -8.0,
            },
            Style::fill(),
        )),
    )
    .unwrap();
    apply(
        &mut b,
        &Mask::new().with(Region::rect(Rect::new(10.0, 7.0, 10.0, 8.0), Style::fill())),
    )
    .unwrap();
    assert_eq!(a, b);
    assert_eq!(&a.planes[0].row(10)[12 * 3..12 * 3 + 3], &[0, 0, 0]);
}

#[test]
fn pixelate_is_grey_with_at_most_n_blocks_along_the_longer_side() {
    // A small standing person (12 x 36) in a red jacket: at most 3 blocks tall, no colour.
    let mut f = Frame::black(PixelFormat::Rgb24, 40, 60, 0, Timestamp::zero());
    for y in 0..60 {
        for x in 0..40 {
            let px = &mut f.planes[0].row_mut(y)[x * 3..x * 3 + 3];
            px.copy_from_slice(if (14..26).contains(&x) && (10..46).contains(&y) {
                &[200, 20, 20]
            } else {
                &[40, 120, 40]
            });
        }
    }
    apply(
        &mut f,
        &Mask::new().with(Region::rect(
            Rect::new(14.0, 10.0, 12.0, 36.0),
            Style::pixelate(),
        )),
    )
    .unwrap();
    let mut rows = Vec::new();
    for y in 10..46 {
        let px = &f.planes[0].row(y)[20 * 3..20 * 3 + 3];
        assert!(px[0] == px[1] && px[1] == px[2], "grey, got {px:?}");
        rows.push(px[0]);
    }
    rows.dedup();
    assert!(rows.len() <= 3, "{} blocks along the height", rows.len());
    // YUV: chroma neutral inside, luma a mosaic.
    let mut v = random_frame(PixelFormat::Yuv420p, 64, 64, 0, 5);
    apply(
        &mut v,
        &Mask::new().with(Region::rect(
            Rect::new(8.0, 8.0, 32.0, 32.0),
            Style::pixelate(),
        )),
    )
    .unwrap();
    assert!((4..20).all(|y| v.planes[1].row(y)[4..20].iter().all(|&c| c == 128)));
    assert_eq!(
        Style::parse("pixelate:8"),
        Some(Style::Pixelate {
            max_blocks_across: 8,
            min_block: 4
        })
    );
    assert_eq!(Style::parse("blur:3"), Some(Style::Blur { strength: 3.0 }));
    assert_eq!(
        Style::parse("fill:#ff0000"),
        Some(Style::Fill {
            color: obscura_render::Color::Rgb([255, 0, 0])
        })
    );
    for bad in [
        "pixelate:0",
        "pixelate:17",
        "blur:0.5",
        "blur:nan",
        "smudge",
        "fill:#12",
    ] {
        assert_eq!(Style::parse(bad), None, "{bad}");
    }
}
