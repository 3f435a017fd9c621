//! Non-maximum suppression, class-aware and deterministic.

use obscura_core::Detection;

/// Keeps, per class, the highest-scoring detections and drops any overlapping a kept one by
/// IoU above `iou_threshold`. Output is sorted by descending score; ties keep input order,
/// so the result is deterministic.
pub fn nms(mut dets: Vec<Detection>, iou_threshold: f32) -> Vec<Detection> {
    // Stable sort: equal scores keep their input order.
    dets.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut keep: Vec<Detection> = Vec::with_capacity(dets.len());
    for d in dets {
        if keep
            .iter()
            .all(|k| k.class != d.class || k.rect.iou(&d.rect) <= iou_threshold)
        {
            keep.push(d);
        }
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;
    use obscura_core::{ObjectClass, Rect};

    fn det(x: f32, score: f32, class: ObjectClass) -> Detection {
        Detection::new(Rect::new(x, 0.0, 10.0, 10.0), score, class)
    }

    #[test]
    fn suppresses_overlaps_of_the_same_class_only() {
        let out = nms(
            vec![
                det(0.0, 0.6, ObjectClass::Person),
                det(1.0, 0.9, ObjectClass::Person), // IoU with the first 0.82: suppresses it
                det(1.0, 0.5, ObjectClass::Face),   // other class: kept
                det(8.0, 0.7, ObjectClass::Person), // IoU with x=1 is 0.18: kept
            ],
            0.45,
        );
        let got: Vec<_> = out.iter().map(|d| (d.rect.x, d.score)).collect();
        assert_eq!(got, [(1.0, 0.9), (8.0, 0.7), (1.0, 0.5)]);
    }

    #[test]
    fn ties_keep_input_order() {
        let a = nms(
            vec![
                det(0.0, 0.5, ObjectClass::Person),
                det(1.0, 0.5, ObjectClass::Person),
            ],
            0.45,
        );
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].rect.x, 0.0);
    }
}
