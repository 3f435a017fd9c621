//! The inner loops, as a table of function pointers chosen once at run time.
//!
//! [`scalar`] is the reference; `x86` holds AVX2 and SSE4.1 versions that must produce the
//! same bytes (checked by the differential tests below). The table for the best level the
//! CPU supports is built once; `OBSCURA_RENDER_SIMD=scalar|sse4.1|avx2` caps it.

use std::sync::OnceLock;

pub(crate) mod scalar;
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
#[allow(unsafe_code)]
mod x86;

/// Signature of [`Kernels::box_row`]: `(acc, out, add, sub, mul)`.
pub(crate) type BoxRowFn = fn(&mut [u32], &mut [u8], &[u8], &[u8], u32);

/// Signature of [`Kernels::transpose`]: `(src, src_stride, dst, dst_stride, rows, cols)`.
pub(crate) type TransposeFn = fn(&[u8], usize, &mut [u8], usize, usize, usize);

/// The kernels, as plain safe function pointers. Every function requires its slices to have
/// equal lengths (the SIMD versions assert it).
#[derive(Clone, Copy)]
pub(crate) struct Kernels {
    /// Name of the instruction set level.
    pub name: &'static str,
    /// `acc[i] += row[i]`.
    pub accumulate: fn(&mut [u32], &[u8]),
    /// `out[i] = min(255, (acc[i] * mul + 2^22) >> 23); acc[i] += add[i] - sub[i]` (wrapping).
    pub box_row: BoxRowFn,
    /// `dst[i] = round((dst[i] * (255 - a[i]) + src[i] * a[i]) / 255)`.
    pub blend: fn(&mut [u8], &[u8], &[u8]),
    /// Byte transpose of `rows` x `cols` (strided) into `cols` x `rows` (strided).
    pub transpose: TransposeFn,
}

impl Kernels {
    /// The scalar reference.
    pub fn scalar() -> Kernels {
        Kernels {
            name: "scalar",
            accumulate: scalar::accumulate,
            box_row: scalar::box_row,
            blend: scalar::blend,
            transpose: scalar::transpose,
        }
    }

    /// Every level this CPU supports, best first, scalar last.
    pub fn available() -> Vec<Kernels> {
        let mut v = Vec::new();
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        {
            v.extend(x86::avx2());
            v.extend(x86::sse41());
        }
        v.push(Kernels::scalar());
        v
    }

    /// The best level, capped by `OBSCURA_RENDER_SIMD`; chosen once.
    pub fn detected() -> Kernels {
        static CHOSEN: OnceLock<Kernels> = OnceLock::new();
        *CHOSEN.get_or_init(|| {
            let cap = std::env::var("OBSCURA_RENDER_SIMD").ok();
            let all = Kernels::available();
            match cap.as_deref() {
                Some(want) => all
                    .iter()
                    .find(|k| k.name == want)
                    .copied()
                    .unwrap_or_else(Kernels::scalar),
                None => all[0],
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bytes(len: usize, seed: u64) -> Vec<u8> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..len).map(|_| rng.random()).collect()
    }

    #[test]
    fn a_simd_level_is_available_on_x86_64() {
        if cfg!(target_arch = "x86_64") && std::is_x86_feature_detected!("sse4.1") {
            assert!(Kernels::available().len() >= 2);
        }
    }

    proptest! {
        #[test]
        fn simd_accumulate_matches_scalar(len in 0usize..200, off in 0usize..7, seed in any::<u64>(), start in any::<u32>()) {
            let row = bytes(len + off, seed);
            let row = &row[off..];
            let base: Vec<u32> = (0..len as u32).map(|i| (start >> 10).wrapping_add(i * 7919)).collect();
            let mut want = base.clone();
            scalar::accumulate(&mut want, row);
            for k in Kernels::available() {
                let mut got = base.clone();
                (k.accumulate)(&mut got, row);
                prop_assert_eq!(&got, &want, "{}", k.name);
            }
        }

        #[test]
        fn simd_box_row_matches_scalar(len in 0usize..200, off in 0usize..7, seed in any::<u64>(), r in 0u32..300) {
            let n = 2 * r + 1;
            let mul = ((1u64 << 23) + u64::from(n) / 2) / u64::from(n);
            let add = bytes(len + off, seed);
            let sub = bytes(len + off, seed ^ 1);
            let (add, sub) = (&add[off..], &sub[off..]);
            // Accumulators that hold a window sum >= the leaving sample.
            let base: Vec<u32> = sub.iter().zip(bytes(len, seed ^ 2)).map(|(&s, f)| u32::from(s) + u32::from(f) * (n - 1)).collect();
            let mut want_acc = base.clone();
            let mut want = vec![0u8; len];
            scalar::box_row(&mut want_acc, &mut want, add, sub, mul as u32);
            for k in Kernels::available() {
                let mut acc = base.clone();
                let mut out = vec![0u8; len];
                (k.box_row)(&mut acc, &mut out, add, sub, mul as u32);
                prop_assert_eq!(&out, &want, "{}", k.name);
                prop_assert_eq!(&acc, &want_acc, "{}", k.name);
            }
        }

        #[test]
        fn simd_blend_matches_scalar(len in 0usize..200, off in 0usize..7, seed in any::<u64>()) {
            let src = bytes(len + off, seed);
            let mut alpha = bytes(len, seed ^ 3);
            // Make the exact ends common.
            for (i, a) in alpha.iter_mut().enumerate() {
                if i % 5 == 0 { *a = 255 } else if i % 7 == 0 { *a = 0 }
            }
            let base = bytes(len, seed ^ 4);
            let mut want = base.clone();
            scalar::blend(&mut want, &src[off..], &alpha);
            for k in Kernels::available() {
                let mut got = base.clone();
                (k.blend)(&mut got, &src[off..], &alpha);
                prop_assert_eq!(&got, &want, "{}", k.name);
            }
        }
    }

    #[test]
    fn simd_transpose_matches_scalar_on_odd_shapes_and_strides() {
        for (rows, cols, pad_s, pad_d) in [
            (1, 1, 0, 0),
            (16, 16, 0, 0),
            (17, 33, 3, 5),
            (40, 7, 1, 0),
            (5, 61, 0, 9),
            (48, 32, 16, 16),
            (31, 47, 2, 2),
        ] {
            let (ss, ds) = (cols + pad_s, rows + pad_d);
            let src = bytes(rows * ss, (rows * 1000 + cols) as u64);
            let base = bytes(cols * ds, 99);
            let mut want = base.clone();
            scalar::transpose(&src, ss, &mut want, ds, rows, cols);
            for r in 0..rows {
                for c in 0..cols {
                    assert_eq!(want[c * ds + r], src[r * ss + c]);
                }
            }
            for k in Kernels::available() {
                let mut got = base.clone();
                (k.transpose)(&src, ss, &mut got, ds, rows, cols);
                assert_eq!(got, want, "{} {rows}x{cols}", k.name);
            }
        }
    }

    #[test]
    fn blend_ends_are_exact() {
        for d in 0..=255u8 {
            for s in [0u8, 1, 77, 254, 255] {
                let mut x = [d];
                scalar::blend(&mut x, &[s], &[255]);
                assert_eq!(x[0], s);
                let mut x = [d];
                scalar::blend(&mut x, &[s], &[0]);
                assert_eq!(x[0], d);
            }
        }
    }
}
