//! Detector throughput on a real frame (vtest.avi frame 200, 768x576, extracted with the
//! ffmpeg CLI): pre-processing alone, YOLOX persons (on the frame's aspect and on the square
//! 416 input), YuNet on the downscaled frame, and persons + faces on upper-body crops. Skips (prints why) when footage or models are absent.
//!
//! `cargo bench -p obscura-detect -- --warm-up-time 1 --measurement-time 3`

use std::process::Command;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use obscura_core::{Frame, Timestamp};
use obscura_detect::letterbox::{Letterbox, fill_bgr, full_region};
use obscura_detect::models::ModelStore;
use obscura_detect::{
    Detector, FaceConfig, FaceDetector, PersonFaceConfig, PersonFaceDetector, YoloxConfig,
    YoloxDetector,
};

fn frame() -> Option<Frame> {
    let video = obscura_testkit::shared_file("footage/vtest.avi")?;
    let dir = tempfile::tempdir().ok()?;
    let png = dir.path().join("f.png");
    let ok = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&video)
        .args(["-vf", "select=eq(n\\,200)", "-frames:v", "1"])
        .arg(&png)
        .status()
        .ok()?
        .success();
    if !ok {
        return None;
    }
    let img = image::open(&png).ok()?.to_rgb8();
    let (w, h) = img.dimensions();
    Frame::from_rgb24_to_yuv420(img.as_raw(), w, h, 200, Timestamp::zero()).ok()
}

fn bench(c: &mut Criterion) {
    let (Some(model), Some(frame)) = (obscura_testkit::model_file("yolox_nano_416.onnx"), frame())
    else {
        return;
    };
    let store = ModelStore::new(model.parent().unwrap()).unwrap();
    let mut g = c.benchmark_group("detect_768x576_yuv");
    g.throughput(Throughput::Elements(1));
    g.sample_size(10);
    let lb = Letterbox::fit(full_region(&frame), 416, 416);
    let mut t = vec![0f32; lb.tensor_len()];
    g.bench_function("letterbox_416_bgr", |b| {
        b.iter(|| fill_bgr(&frame, &lb, &mut t, 114.0).unwrap())
    });
    let mut persons = YoloxDetector::person(&store, YoloxConfig::default()).unwrap();
    g.bench_function("yolox_nano_persons", |b| {
        b.iter(|| persons.detect(&frame).unwrap())
    });
    let mut square = YoloxDetector::person(
        &store,
        YoloxConfig {
            fit_aspect: false,
            ..YoloxConfig::default()
        },
    )
    .unwrap();
    g.bench_function("yolox_nano_persons_square_416", |b| {
        b.iter(|| square.detect(&frame).unwrap())
    });
    let mut faces = FaceDetector::new(&store, FaceConfig::default()).unwrap();
    g.bench_function("yunet_full_frame_640", |b| {
        b.iter(|| faces.detect(&frame).unwrap())
    });
    let mut both = PersonFaceDetector::new(
        &store,
        PersonFaceConfig {
            full_frame_interval: -1.0,
            ..PersonFaceConfig::default()
        },
    )
    .unwrap();
    g.bench_function("persons_then_faces_on_crops", |b| {
        b.iter(|| both.detect(&frame).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
