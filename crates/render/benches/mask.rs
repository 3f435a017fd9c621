//! Masking cost per style, frame size and region count, on YUV 4:2:0 frames.
//!
//! Regions are "person-sized": a twelfth of the frame width by a third of its height, spread
//! over the frame (some overlap at 20). Throughput is in covered luma pixels. Run on one
//! core with `RAYON_NUM_THREADS=1`; `OBSCURA_RENDER_SIMD=scalar` forces the reference path
//! (the `scalar_vs_simd` group also measures it directly).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use obscura_core::{Frame, PixelFormat, Rect, Timestamp};
use obscura_render::{Mask, Region, Style, apply, apply_reference, cpu_features};

fn frame(w: u32, h: u32) -> Frame {
    let mut f = Frame::black(PixelFormat::Yuv420p, w, h, 0, Timestamp::zero());
    let mut x: u32 = 0x1234_5678;
    for p in &mut f.planes {
        for b in &mut p.data {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *b = x as u8;
        }
    }
    f
}

fn persons(w: u32, h: u32, n: usize, style: Style) -> Mask {
    let (pw, ph) = (w as f32 / 12.0, h as f32 / 3.0);
    let regions = (0..n)
        .map(|i| {
            let col = (i % 10) as f32;
            let row = (i / 10) as f32;
            let x = 0.02 * w as f32 + col * (w as f32 * 0.097);
            let y = 0.1 * h as f32 + row * (h as f32 * 0.4);
            Region::rect(Rect::new(x, y, pw, ph), style).with_margin(0.05, 0.0)
        })
        .collect();
    Mask { regions }
}

fn covered(mask: &Mask) -> u64 {
    mask.regions
        .iter()
        .map(|r| match r.shape {
            obscura_render::Shape::Rect(b) => {
                (b.w * (1.0 + 2.0 * r.margin)) as u64 * (b.h * (1.0 + 2.0 * r.margin)) as u64
            }
            _ => 0,
        })
        .sum()
}

const SIZES: [(&str, u32, u32); 3] = [
    ("720p", 1280, 720),
    ("1080p", 1920, 1080),
    ("4k", 3840, 2160),
];

fn styles() -> [(&'static str, Style); 3] {
    [
        ("fill", Style::fill()),
        ("pixelate", Style::pixelate()),
        ("blur", Style::blur()),
    ]
}

fn bench_styles(c: &mut Criterion) {
    eprintln!("obscura-render dispatch: {}", cpu_features());
    for (style_name, style) in styles() {
        let mut g = c.benchmark_group(format!("mask/{style_name}"));
        for (size_name, w, h) in SIZES {
            let mut f = frame(w, h);
            for n in [1usize, 5, 10, 20] {
                let mask = persons(w, h, n, style);
                g.throughput(Throughput::Elements(covered(&mask)));
                g.bench_with_input(BenchmarkId::new(size_name, n), &mask, |b, m| {
                    b.iter(|| apply(&mut f, m).unwrap())
                });
            }
        }
        g.finish();
    }
}

fn bench_scalar_vs_simd(c: &mut Criterion) {
    let mut g = c.benchmark_group("scalar_vs_simd/1080p_10");
    let mut f = frame(1920, 1080);
    for (style_name, style) in styles() {
        let mask = persons(1920, 1080, 10, style);
        g.throughput(Throughput::Elements(covered(&mask)));
        g.bench_function(BenchmarkId::new(cpu_features(), style_name), |b| {
            b.iter(|| apply(&mut f, &mask).unwrap())
        });
        g.bench_function(BenchmarkId::new("scalar", style_name), |b| {
            b.iter(|| apply_reference(&mut f, &mask).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench_styles, bench_scalar_vs_simd);
criterion_main!(benches);
