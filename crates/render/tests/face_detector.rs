//! The real check: YuNet finds the frontal faces of a real clip, and no longer finds them
//! once they are blurred or pixelated at default strength. Skipped (with a message) when the
//! footage or the model is absent.
//!
//! Set `OBSCURA_RENDER_DUMP_DIR` to also write before/after PPM crops there for inspection.

use std::path::Path;
use std::process::Command;

use obscura_core::{Detection, Frame, PixelFormat, Rect, Timestamp};
use obscura_detect::models::ModelStore;
use obscura_detect::{Detector, FaceConfig, FaceDetector};
use obscura_render::{Mask, Region, Style, apply};
use obscura_testkit::{model_file, shared_file};

/// Frame `n` of `video` decoded by the ffmpeg CLI (an independent decoder) to a binary PPM.
fn frame_of(video: &Path, n: u32) -> Frame {
    let dir = tempfile::tempdir().unwrap();
    let ppm = dir.path().join("f.ppm");
    let st = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(video)
        .args([
            "-vf",
            &format!("select=eq(n\\,{n})"),
            "-frames:v",
            "1",
            "-c:v",
            "ppm",
        ])
        .arg(&ppm)
        .status()
        .expect("the ffmpeg CLI runs");
    assert!(
        st.success(),
        "ffmpeg could not extract frame {n} of {}",
        video.display()
    );
    let bytes = std::fs::read(&ppm).unwrap();
    // "P6\n<w> <h>\n255\n" then RGB bytes.
    let mut fields = Vec::new();
    let mut pos = 0;
    while fields.len() < 4 {
        while bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        let start = pos;
        while !bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        fields.push(String::from_utf8(bytes[start..pos].to_vec()).unwrap());
    }
    assert_eq!((fields[0].as_str(), fields[3].as_str()), ("P6", "255"));
    let (w, h): (u32, u32) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let rgb = bytes[pos + 1..].to_vec();
    assert_eq!(rgb.len(), (w * h * 3) as usize);
    Frame::from_rgb24_to_yuv420(&rgb, w, h, u64::from(n), Timestamp::zero()).unwrap()
}

fn dump(frame: &Frame, around: &Rect, name: &str) {
    let Some(dir) = std::env::var_os("OBSCURA_RENDER_DUMP_DIR") else {
        return;
    };
    let r = around
        .dilate(1.0, 0.0)
        .to_pixels(frame.width, frame.height)
        .unwrap();
    let rgb = frame.to_rgb24();
    let mut out = format!("P6\n{} {}\n255\n", r.w, r.h).into_bytes();
    for y in r.y..r.bottom() {
        let s = ((y * frame.width + r.x) * 3) as usize;
        out.extend_from_slice(&rgb[s..s + r.w as usize * 3]);
    }
    std::fs::write(Path::new(&dir).join(format!("{name}.ppm")), out).unwrap();
}

/// Faces found anywhere near `face`: on the whole frame and on an upscaled crop around it.
fn faces_near(det: &mut FaceDetector, frame: &Frame, face: &Rect) -> Vec<Detection> {
    let mut found = det.detect(frame).unwrap();
    if let Some(crop) = face.dilate(1.0, 0.0).to_pixels(frame.width, frame.height) {
        found.extend(det.detect_regions(frame, &[crop]).unwrap());
    }
    let zone = face.dilate(0.5, 0.0);
    found
        .into_iter()
        .filter(|d| zone.coverage_of(&d.rect) > 0.3 || d.rect.iou(face) > 0.1)
        .collect()
}

const MARGIN: f32 = 0.1;
const MARGIN_PX: f32 = 4.0;

#[test]
fn yunet_no_longer_finds_faces_after_blur_or_pixelate_at_default_strength() {
    let (Some(model), Some(gif)) = (
        model_file("yunet_n_dynamic.onnx"),
        shared_file("footage/intel_face-demographics-walking.gif"),
    ) else {
        return;
    };
    let store = ModelStore::new(model.parent().unwrap()).unwrap();
    let mut det = FaceDetector::new(&store, FaceConfig::default()).unwrap();
    let mut checked = 0;
    for n in [5u32, 10, 15, 20, 25, 30] {
        let frame = frame_of(&gif, n);
        assert_eq!(frame.format, PixelFormat::Yuv420p);
        let faces: Vec<Detection> = det
            .detect(&frame)
            .unwrap()
            .into_iter()
            .filter(|d| d.score >= 0.6)
            .collect();
        eprintln!(
            "frame {n}: {} faces {:?}",
            faces.len(),
            faces.iter().map(|d| (d.rect, d.score)).collect::<Vec<_>>()
        );
        for (i, face) in faces.iter().enumerate() {
            // The detector must find this face before masking, or the check proves nothing.
            let before = faces_near(&mut det, &frame, &face.rect);
            assert!(
                !before.is_empty(),
                "frame {n} face {i}: not found again before masking"
            );
            dump(&frame, &face.rect, &format!("f{n}_face{i}_before"));
            for (name, style) in [("blur", Style::blur()), ("pixelate", Style::pixelate())] {
                let mut masked = frame.clone();
                // The pipeline's default margin (obscura-pipeline policy: 10% + 4 px per side).
                // With no margin at all, a blurred 17 px face still reads as a head-shaped blob
                // in context and YuNet scores it about 0.6.
                apply(
                    &mut masked,
                    &Mask::new()
                        .with(Region::rect(face.rect, style).with_margin(MARGIN, MARGIN_PX)),
                )
                .unwrap();
                dump(&masked, &face.rect, &format!("f{n}_face{i}_{name}"));
                let after = faces_near(&mut det, &masked, &face.rect);
                assert!(
                    after.is_empty(),
                    "frame {n} face {i} at {:?} (score {}) still found after {name}: {:?}",
                    face.rect,
                    face.score,
                    after.iter().map(|d| (d.rect, d.score)).collect::<Vec<_>>()
                );
            }
            checked += 1;
        }
    }
    eprintln!("{checked} faces checked");
    assert!(
        checked >= 8,
        "expected at least eight clearly frontal faces in frames 5..=30; got {checked}"
    );
}
