//! Scalar reference kernels (safe Rust). The SIMD versions must match them bit for bit.

/// `acc[i] += row[i]`.
pub(crate) fn accumulate(acc: &mut [u32], row: &[u8]) {
    assert_eq!(acc.len(), row.len());
    for (a, &r) in acc.iter_mut().zip(row) {
        *a = a.wrapping_add(u32::from(r));
    }
}

/// One output row of a sliding box filter and the window slide.
pub(crate) fn box_row(acc: &mut [u32], out: &mut [u8], add: &[u8], sub: &[u8], mul: u32) {
    assert!(acc.len() == out.len() && acc.len() == add.len() && acc.len() == sub.len());
    for i in 0..acc.len() {
        let a = acc[i];
        out[i] = (a.wrapping_mul(mul).wrapping_add(1 << 22) >> 23).min(255) as u8;
        acc[i] = a
            .wrapping_add(u32::from(add[i]))
            .wrapping_sub(u32::from(sub[i]));
    }
}

/// Exact rounded `(d * (255 - a) + s * a) / 255`: `a == 255` gives `s`, `a == 0` gives `d`.
pub(crate) fn blend(dst: &mut [u8], src: &[u8], alpha: &[u8]) {
    assert!(dst.len() == src.len() && dst.len() == alpha.len());
    for i in 0..dst.len() {
        let a = u16::from(alpha[i]);
        let x = u16::from(dst[i]) * (255 - a) + u16::from(src[i]) * a + 128;
        dst[i] = ((x + (x >> 8)) >> 8) as u8;
    }
}

/// Transposes `rows` x `cols` bytes (rows `src_stride` apart) into `cols` x `rows` bytes
/// (rows `dst_stride` apart).
pub(crate) fn transpose(
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
    const T: usize = 16;
    for rb in (0..rows).step_by(T) {
        for cb in (0..cols).step_by(T) {
            for r in rb..(rb + T).min(rows) {
                for c in cb..(cb + T).min(cols) {
                    dst[c * dst_stride + r] = src[r * src_stride + c];
                }
            }
        }
    }
}
