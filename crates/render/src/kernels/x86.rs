//! AVX2 and SSE4.1 kernels. The only module of the crate with `unsafe` code.
//!
//! Each public constructor returns the table only after `is_x86_feature_detected!` confirmed
//! the instruction set, and the function pointers in it are private wrappers around
//! `#[target_feature]` functions, so safe code can never reach an instruction the CPU lacks.
//! All loads and stores are unaligned and bounded by slice lengths checked at entry.

#[cfg(target_arch = "x86")]
use std::arch::x86::*;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use super::{Kernels, scalar};

/// The AVX2 table, if the CPU has AVX2 (and so SSE4.1).
pub(super) fn avx2() -> Option<Kernels> {
    (is_x86_feature_detected!("avx2") && is_x86_feature_detected!("sse4.1")).then_some(Kernels {
        name: "avx2",
        accumulate: accumulate_avx2_entry,
        box_row: box_row_avx2_entry,
        blend: blend_avx2_entry,
        transpose: transpose_sse41_entry,
    })
}

/// The SSE4.1 table, if the CPU has SSE4.1.
pub(super) fn sse41() -> Option<Kernels> {
    is_x86_feature_detected!("sse4.1").then_some(Kernels {
        name: "sse4.1",
        accumulate: accumulate_sse41_entry,
        box_row: box_row_sse41_entry,
        blend: blend_sse41_entry,
        transpose: transpose_sse41_entry,
    })
}

fn accumulate_avx2_entry(acc: &mut [u32], row: &[u8]) {
    assert_eq!(acc.len(), row.len());
    // SAFETY: this pointer is only handed out by `avx2()`, after AVX2 and SSE4.1 were detected.
    unsafe { accumulate_avx2(acc, row) }
}
fn box_row_avx2_entry(acc: &mut [u32], out: &mut [u8], add: &[u8], sub: &[u8], mul: u32) {
    assert!(acc.len() == out.len() && acc.len() == add.len() && acc.len() == sub.len());
    // SAFETY: only handed out by `avx2()`, after AVX2 and SSE4.1 were detected.
    unsafe { box_row_avx2(acc, out, add, sub, mul) }
}
fn blend_avx2_entry(dst: &mut [u8], src: &[u8], alpha: &[u8]) {
    assert!(dst.len() == src.len() && dst.len() == alpha.len());
    // SAFETY: only handed out by `avx2()`, after AVX2 and SSE4.1 were detected.
    unsafe { blend_avx2(dst, src, alpha) }
}
fn accumulate_sse41_entry(acc: &mut [u32], row: &[u8]) {
    assert_eq!(acc.len(), row.len());
    // SAFETY: only handed out by `sse41()`, after SSE4.1 was detected.
    unsafe { accumulate_sse41(acc, row) }
}
fn box_row_sse41_entry(acc: &mut [u32], out: &mut [u8], add: &[u8], sub: &[u8], mul: u32) {
    assert!(acc.len() == out.len() && acc.len() == add.len() && acc.len() == sub.len());
    // SAFETY: only handed out by `sse41()`, after SSE4.1 was detected.
    unsafe { box_row_sse41(acc, out, add, sub, mul) }
}
fn blend_sse41_entry(dst: &mut [u8], src: &[u8], alpha: &[u8]) {
    assert!(dst.len() == src.len() && dst.len() == alpha.len());
    // SAFETY: only handed out by `sse41()`, after SSE4.1 was detected.
    unsafe { blend_sse41(dst, src, alpha) }
}

fn transpose_sse41_entry(
    src: &[u8],
    src_stride: usize,
    dst: &mut [u8],
    dst_stride: usize,
    rows: usize,
    cols: usize,
) {
    if rows == 0 || cols == 0 {
        return;
    }
    assert!(src_stride >= cols && dst_stride >= rows);
    assert!(
        src.len() >= (rows - 1) * src_stride + cols && dst.len() >= (cols - 1) * dst_stride + rows
    );
    // SAFETY: only handed out by `sse41()` or `avx2()`, after SSE4.1 was detected; bounds
    // checked just above.
    unsafe { transpose_sse41(src, src_stride, dst, dst_stride, rows, cols) }
}

/// Loads 8 bytes (unaligned) into the low half of a vector.
#[inline(always)]
unsafe fn load8(p: *const u8) -> __m128i {
    // SAFETY: the caller guarantees 8 readable bytes at `p`; `_mm_loadl_epi64` has no
    // alignment requirement.
    unsafe { _mm_loadl_epi64(p.cast()) }
}

/// Loads 4 bytes (unaligned) into the low lane of a vector.
#[inline(always)]
unsafe fn load4(p: *const u8) -> __m128i {
    // SAFETY: the caller guarantees 4 readable bytes at `p`; read_unaligned has no alignment
    // requirement.
    unsafe { _mm_cvtsi32_si128(p.cast::<i32>().read_unaligned()) }
}

#[target_feature(enable = "avx2,sse4.1")]
unsafe fn accumulate_avx2(acc: &mut [u32], row: &[u8]) {
    let n = acc.len();
    let mut i = 0;
    while i + 8 <= n {
        // SAFETY: i + 8 <= n == acc.len() == row.len(), so 8 bytes of `row` and 8 u32 of
        // `acc` are in bounds; all accesses are unaligned loads/stores.
        unsafe {
            let r = _mm256_cvtepu8_epi32(load8(row.as_ptr().add(i)));
            let pa = acc.as_mut_ptr().add(i).cast::<__m256i>();
            _mm256_storeu_si256(pa, _mm256_add_epi32(_mm256_loadu_si256(pa), r));
        }
        i += 8;
    }
    scalar::accumulate(&mut acc[i..], &row[i..]);
}

#[target_feature(enable = "avx2,sse4.1")]
unsafe fn box_row_avx2(acc: &mut [u32], out: &mut [u8], add: &[u8], sub: &[u8], mul: u32) {
    let n = acc.len();
    let vmul = _mm256_set1_epi32(mul as i32);
    let half = _mm256_set1_epi32(1 << 22);
    let mut i = 0;
    while i + 8 <= n {
        // SAFETY: i + 8 <= n and all four slices have length n (checked by the entry), so
        // every 8-element access is in bounds; loads and stores are unaligned.
        unsafe {
            let pa = acc.as_mut_ptr().add(i).cast::<__m256i>();
            let a = _mm256_loadu_si256(pa);
            let v = _mm256_srli_epi32::<23>(_mm256_add_epi32(_mm256_mullo_epi32(a, vmul), half));
            let p16 = _mm_packus_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
            let p8 = _mm_packus_epi16(p16, p16);
            _mm_storel_epi64(out.as_mut_ptr().add(i).cast(), p8);
            let va = _mm256_cvtepu8_epi32(load8(add.as_ptr().add(i)));
            let vs = _mm256_cvtepu8_epi32(load8(sub.as_ptr().add(i)));
            _mm256_storeu_si256(pa, _mm256_sub_epi32(_mm256_add_epi32(a, va), vs));
        }
        i += 8;
    }
    scalar::box_row(&mut acc[i..], &mut out[i..], &add[i..], &sub[i..], mul);
}

#[target_feature(enable = "avx2,sse4.1")]
unsafe fn blend_avx2(dst: &mut [u8], src: &[u8], alpha: &[u8]) {
    let n = dst.len();
    let c255 = _mm256_set1_epi16(255);
    let c128 = _mm256_set1_epi16(128);
    let mut i = 0;
    while i + 16 <= n {
        // SAFETY: i + 16 <= n and the three slices have length n (checked by the entry);
        // 16-byte unaligned loads and store.
        unsafe {
            let pd = dst.as_mut_ptr().add(i).cast::<__m128i>();
            let d = _mm256_cvtepu8_epi16(_mm_loadu_si128(pd));
            let s = _mm256_cvtepu8_epi16(_mm_loadu_si128(src.as_ptr().add(i).cast()));
            let a = _mm256_cvtepu8_epi16(_mm_loadu_si128(alpha.as_ptr().add(i).cast()));
            let x = _mm256_add_epi16(
                _mm256_add_epi16(
                    _mm256_mullo_epi16(d, _mm256_sub_epi16(c255, a)),
                    _mm256_mullo_epi16(s, a),
                ),
                c128,
            );
            let y = _mm256_srli_epi16::<8>(_mm256_add_epi16(x, _mm256_srli_epi16::<8>(x)));
            let p = _mm_packus_epi16(_mm256_castsi256_si128(y), _mm256_extracti128_si256::<1>(y));
            _mm_storeu_si128(pd, p);
        }
        i += 16;
    }
    scalar::blend(&mut dst[i..], &src[i..], &alpha[i..]);
}

#[target_feature(enable = "sse4.1")]
unsafe fn accumulate_sse41(acc: &mut [u32], row: &[u8]) {
    let n = acc.len();
    let mut i = 0;
    while i + 4 <= n {
        // SAFETY: i + 4 <= n == acc.len() == row.len(); unaligned 4-byte load and 16-byte
        // load/store of 4 u32.
        unsafe {
            let r = _mm_cvtepu8_epi32(load4(row.as_ptr().add(i)));
            let pa = acc.as_mut_ptr().add(i).cast::<__m128i>();
            _mm_storeu_si128(pa, _mm_add_epi32(_mm_loadu_si128(pa), r));
        }
        i += 4;
    }
    scalar::accumulate(&mut acc[i..], &row[i..]);
}

#[target_feature(enable = "sse4.1")]
unsafe fn box_row_sse41(acc: &mut [u32], out: &mut [u8], add: &[u8], sub: &[u8], mul: u32) {
    let n = acc.len();
    let vmul = _mm_set1_epi32(mul as i32);
    let half = _mm_set1_epi32(1 << 22);
    let mut i = 0;
    while i + 4 <= n {
        // SAFETY: i + 4 <= n and all four slices have length n; unaligned accesses only.
        unsafe {
            let pa = acc.as_mut_ptr().add(i).cast::<__m128i>();
            let a = _mm_loadu_si128(pa);
            let v = _mm_srli_epi32::<23>(_mm_add_epi32(_mm_mullo_epi32(a, vmul), half));
            let p16 = _mm_packus_epi32(v, v);
            let p8 = _mm_packus_epi16(p16, p16);
            out.as_mut_ptr()
                .add(i)
                .cast::<i32>()
                .write_unaligned(_mm_cvtsi128_si32(p8));
            let va = _mm_cvtepu8_epi32(load4(add.as_ptr().add(i)));
            let vs = _mm_cvtepu8_epi32(load4(sub.as_ptr().add(i)));
            _mm_storeu_si128(pa, _mm_sub_epi32(_mm_add_epi32(a, va), vs));
        }
        i += 4;
    }
    scalar::box_row(&mut acc[i..], &mut out[i..], &add[i..], &sub[i..], mul);
}

#[target_feature(enable = "sse4.1")]
unsafe fn blend_sse41(dst: &mut [u8], src: &[u8], alpha: &[u8]) {
    let n = dst.len();
    let c255 = _mm_set1_epi16(255);
    let c128 = _mm_set1_epi16(128);
    let mut i = 0;
    while i + 8 <= n {
        // SAFETY: i + 8 <= n and the three slices have length n; 8-byte unaligned loads and
        // store.
        unsafe {
            let pd = dst.as_mut_ptr().add(i);
            let d = _mm_cvtepu8_epi16(load8(pd));
            let s = _mm_cvtepu8_epi16(load8(src.as_ptr().add(i)));
            let a = _mm_cvtepu8_epi16(load8(alpha.as_ptr().add(i)));
            let x = _mm_add_epi16(
                _mm_add_epi16(
                    _mm_mullo_epi16(d, _mm_sub_epi16(c255, a)),
                    _mm_mullo_epi16(s, a),
                ),
                c128,
            );
            let y = _mm_srli_epi16::<8>(_mm_add_epi16(x, _mm_srli_epi16::<8>(x)));
            _mm_storel_epi64(pd.cast(), _mm_packus_epi16(y, y));
        }
        i += 8;
    }
    scalar::blend(&mut dst[i..], &src[i..], &alpha[i..]);
}

/// 16x16 byte tiles transposed with four rounds of unpacks; the ragged right and bottom
/// edges go through the scalar kernel.
#[target_feature(enable = "sse4.1")]
unsafe fn transpose_sse41(
    src: &[u8],
    ss: usize,
    dst: &mut [u8],
    ds: usize,
    rows: usize,
    cols: usize,
) {
    let (rt, ct) = (rows / 16 * 16, cols / 16 * 16);
    for rb in (0..rt).step_by(16) {
        for cb in (0..ct).step_by(16) {
            let mut a = [_mm_setzero_si128(); 16];
            for (i, v) in a.iter_mut().enumerate() {
                // SAFETY: row rb + i < rows and columns cb..cb + 16 <= cols, so the 16 bytes
                // at (rb + i) * ss + cb are inside `src` (length checked by the entry).
                *v = unsafe { _mm_loadu_si128(src.as_ptr().add((rb + i) * ss + cb).cast()) };
            }
            let mut b = [_mm_setzero_si128(); 16];
            for i in 0..8 {
                b[2 * i] = _mm_unpacklo_epi8(a[2 * i], a[2 * i + 1]);
                b[2 * i + 1] = _mm_unpackhi_epi8(a[2 * i], a[2 * i + 1]);
            }
            // c[4j + k]: columns 4k..4k+4 of rows 4j..4j+4.
            let mut c = [_mm_setzero_si128(); 16];
            for j in 0..4 {
                c[4 * j] = _mm_unpacklo_epi16(b[4 * j], b[4 * j + 2]);
                c[4 * j + 1] = _mm_unpackhi_epi16(b[4 * j], b[4 * j + 2]);
                c[4 * j + 2] = _mm_unpacklo_epi16(b[4 * j + 1], b[4 * j + 3]);
                c[4 * j + 3] = _mm_unpackhi_epi16(b[4 * j + 1], b[4 * j + 3]);
            }
            // d[h][2k + m]: columns 4k+2m, 4k+2m+1 of rows 8h..8h+8.
            let mut d = [[_mm_setzero_si128(); 8]; 2];
            for (h, dh) in d.iter_mut().enumerate() {
                for k in 0..4 {
                    dh[2 * k] = _mm_unpacklo_epi32(c[8 * h + k], c[8 * h + 4 + k]);
                    dh[2 * k + 1] = _mm_unpackhi_epi32(c[8 * h + k], c[8 * h + 4 + k]);
                }
            }
            let [top, bottom] = d;
            for (q, (&t, &b)) in top.iter().zip(&bottom).enumerate() {
                let lo = _mm_unpacklo_epi64(t, b);
                let hi = _mm_unpackhi_epi64(t, b);
                // SAFETY: columns cb + 2q, cb + 2q + 1 < cols and rows rb..rb + 16 <= rows, so
                // the 16 bytes at (cb + 2q [+1]) * ds + rb are inside `dst`.
                unsafe {
                    _mm_storeu_si128(dst.as_mut_ptr().add((cb + 2 * q) * ds + rb).cast(), lo);
                    _mm_storeu_si128(dst.as_mut_ptr().add((cb + 2 * q + 1) * ds + rb).cast(), hi);
                }
            }
        }
    }
    // Ragged edges: the right strip (all rows) and the bottom strip (tiled columns).
    if ct < cols {
        scalar::transpose(&src[ct..], ss, &mut dst[ct * ds..], ds, rows, cols - ct);
    }
    if rt < rows && ct > 0 {
        scalar::transpose(&src[rt * ss..], ss, &mut dst[rt..], ds, rows - rt, ct);
    }
}
