//! Output-pixel measurements shared by the recall examples (`mask_recall`, `gt_recall`).

use obscura::core::Frame;

/// Share of the pixels of box `(x, y, w, h)` (clipped to the frame) whose luma or chroma
/// in `redacted` differs from `source` (both YUV 4:2:0). A box entirely outside the frame
/// counts as hidden (there is nothing of it to see).
pub fn hidden_share(source: &Frame, redacted: &Frame, x: f32, y: f32, w: f32, h: f32) -> f64 {
    let x0 = (x.max(0.0).floor() as usize).min(source.width as usize);
    let y0 = (y.max(0.0).floor() as usize).min(source.height as usize);
    let x1 = ((x + w).ceil().max(0.0) as usize).min(source.width as usize);
    let y1 = ((y + h).ceil().max(0.0) as usize).min(source.height as usize);
    if x1 <= x0 || y1 <= y0 {
        return 1.0;
    }
    let changed = (y0..y1)
        .flat_map(|y| (x0..x1).map(move |x| (x, y)))
        .filter(|&(x, y)| pixel_changed(source, redacted, x, y))
        .count();
    changed as f64 / ((x1 - x0) * (y1 - y0)) as f64
}

/// Whether pixel `(x, y)`'s luma or chroma sample in `redacted` differs from `source` (both
/// YUV 4:2:0): on a lossless encode, the pixel was masked.
pub fn pixel_changed(source: &Frame, redacted: &Frame, x: usize, y: usize) -> bool {
    let (s, r) = (&source.planes, &redacted.planes);
    s[0].row(y)[x] != r[0].row(y)[x]
        || (1..3).any(|p| s[p].row(y / 2)[x / 2] != r[p].row(y / 2)[x / 2])
}
