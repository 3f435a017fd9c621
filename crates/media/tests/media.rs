//! End-to-end tests of obscura-media against the real FFmpeg, with the ffmpeg CLI as the
//! independent oracle.

use std::path::Path;

use obscura_core::{Interval, IntervalSet, PixelFormat, Rational, Timestamp};
use obscura_media::{
    AudioMode, DecodeOptions, Decoder, Encoder, EncoderSettings, Error, LimitKind, Limits, Preset,
    StreamKind, VideoSpec, cut, probe,
};
use obscura_testkit::clips::{
    IndexedClip, MovingBoxesClip, decode_indices_with_ffmpeg, ffprobe_frame_count,
    ffprobe_frame_times, ffprobe_video_entry, run_ffmpeg, run_ffprobe, write_lavfi_clip,
};

fn fast() -> EncoderSettings {
    EncoderSettings::builder()
        .preset(Preset::Ultrafast)
        .crf(18)
        .build()
        .unwrap()
}

fn secs(a: &str, b: &str) -> Interval {
    Interval::new(Timestamp::parse(a).unwrap(), Timestamp::parse(b).unwrap()).unwrap()
}

/// Indices read by our own decoder from the frames' luma planes.
fn our_indices(path: &Path) -> Vec<u32> {
    Decoder::open(path, &DecodeOptions::default())
        .unwrap()
        .map(|f| {
            let f = f.unwrap();
            assert_eq!(f.format, PixelFormat::Yuv420p);
            IndexedClip::index_of_luma(&f.planes[0].data, f.planes[0].stride)
                .expect("readable index")
        })
        .collect()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn decodes_every_frame_with_exact_pts_and_index() {
    let dir = tempfile::tempdir().unwrap();
    let clip = IndexedClip::write(dir.path(), 30, 10);
    let mut dec = Decoder::open(&clip, &DecodeOptions::default()).unwrap();
    let info = dec.info().clone();
    assert_eq!(
        (info.width, info.height, info.codec.as_str()),
        (128, 96, "h264")
    );
    assert_eq!(info.frame_rate, Some(Rational::new(10, 1).unwrap()));
    assert_eq!(info.frame_count, Some(30));
    assert!(!info.has_audio);
    let mut n = 0u32;
    while let Some(f) = dec.next_frame().unwrap() {
        assert_eq!(f.index, u64::from(n));
        assert_eq!(
            f.pts,
            Timestamp::new(i64::from(n), Rational::new(1, 10).unwrap()),
            "frame {n}"
        );
        assert_eq!(f.pts.time_base, info.time_base);
        assert_eq!(
            IndexedClip::index_of_luma(&f.planes[0].data, f.planes[0].stride),
            Some(n)
        );
        n += 1;
    }
    assert_eq!(n, 30);
    assert!(dec.next_frame().unwrap().is_none(), "stays at the end");
}

#[test]
fn decodes_other_codecs_and_containers() {
    let dir = tempfile::tempdir().unwrap();
    let want: Vec<u32> = (0..12).collect();
    for (name, args, codec) in [
        (
            "h265.mkv",
            &[
                "-c:v",
                "libx265",
                "-preset",
                "ultrafast",
                "-x265-params",
                "log-level=none:lossless=1",
            ][..],
            "hevc",
        ),
        ("mpeg4.avi", &["-c:v", "mpeg4", "-q:v", "2"][..], "mpeg4"),
        (
            "msmpeg4.avi",
            &["-c:v", "msmpeg4", "-q:v", "2"][..],
            "msmpeg4v3",
        ),
        ("mjpeg.mov", &["-c:v", "mjpeg", "-q:v", "2"][..], "mjpeg"),
        ("anim.gif", &["-c:v", "gif"][..], "gif"),
    ] {
        let clip = IndexedClip::write_with(dir.path(), name, 12, 10, args);
        let dec = Decoder::open(&clip, &DecodeOptions::default()).unwrap();
        assert_eq!(dec.info().codec, codec, "{name}");
        assert_eq!(our_indices(&clip), want, "{name}");
    }
}

#[test]
fn decodes_single_png_and_jpeg_stills() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["still.png", "still.jpg"] {
        let out = dir.path().join(name);
        run_ffmpeg(
            &[
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=64x48:rate=1",
                "-frames:v",
                "1",
                out.to_str().unwrap(),
            ],
            None,
        );
        let frames: Vec<_> = Decoder::open(&out, &DecodeOptions::default())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(frames.len(), 1, "{name}");
        let f = &frames[0];
        assert_eq!(
            (f.width, f.height, f.format),
            (64, 48, PixelFormat::Yuv420p)
        );
        f.validate().unwrap();
    }
}

#[test]
fn real_footage_frame_counts_match_ffprobe() {
    for name in [
        "footage/vtest.avi",
        "footage/intel_face-demographics-walking.gif",
        "footage/intel_one-by-one-person-detection.mp4",
    ] {
        let Some(path) = obscura_testkit::shared_file(name) else {
            continue;
        };
        let mut dec = Decoder::open(&path, &DecodeOptions::default()).unwrap();
        let mut n = 0u64;
        let mut last = None;
        while let Some(f) = dec.next_frame().unwrap() {
            assert!(last.is_none_or(|l| f.pts > l), "{name}: PTS increase");
            last = Some(f.pts);
            n += 1;
        }
        assert_eq!(n, ffprobe_frame_count(&path), "{name}");
    }
}

#[test]
fn gif_variable_frame_timing_is_kept_exactly() {
    let Some(path) = obscura_testkit::shared_file("footage/intel_face-demographics-walking.gif")
    else {
        return;
    };
    let ours: Vec<f64> = Decoder::open(&path, &DecodeOptions::default())
        .unwrap()
        .map(|f| f.unwrap().pts.as_secs_f64())
        .collect();
    let theirs = ffprobe_frame_times(&path);
    assert_eq!(ours.len(), theirs.len());
    for (a, b) in ours.iter().zip(&theirs) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
}

#[test]
fn limits_are_enforced_at_open_and_while_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let clip = IndexedClip::write(dir.path(), 20, 10);
    let small =
        DecodeOptions::default().with_limits(Limits::default().with_max_dimensions(100, 100));
    let e = Decoder::open(&clip, &small).unwrap_err();
    assert!(
        matches!(
            e,
            Error::LimitExceeded {
                kind: LimitKind::Width,
                value: 128,
                max: 100,
                ..
            }
        ),
        "{e}"
    );
    // The MP4 declares 20 frames: refused at open.
    let few = DecodeOptions::default().with_limits(Limits::default().with_max_frames(5));
    assert!(matches!(
        Decoder::open(&clip, &few),
        Err(Error::LimitExceeded {
            kind: LimitKind::Frames,
            ..
        })
    ));
    // An MKV declares no count: refused at the sixth frame.
    let mkv = IndexedClip::write_with(
        dir.path(),
        "i.mkv",
        20,
        10,
        &["-c:v", "libx264", "-preset", "ultrafast"],
    );
    let mut dec = Decoder::open(&mkv, &few).unwrap();
    for _ in 0..5 {
        dec.next_frame().unwrap().unwrap();
    }
    assert!(matches!(
        dec.next_frame(),
        Err(Error::LimitExceeded {
            kind: LimitKind::Frames,
            value: 6,
            ..
        })
    ));
    assert!(dec.next().is_none(), "the iterator ends after an error");
    let short = DecodeOptions::default()
        .with_limits(Limits::default().with_max_duration(std::time::Duration::from_secs(1)));
    assert!(matches!(
        Decoder::open(&clip, &short),
        Err(Error::LimitExceeded {
            kind: LimitKind::DurationMillis,
            ..
        })
    ));
}

#[test]
fn bad_inputs_are_typed_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let opts = DecodeOptions::default();
    let clip = IndexedClip::write(dir.path(), 20, 10);
    let bytes = std::fs::read(&clip).unwrap();
    let truncated = dir.path().join("truncated.mp4");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let e = Decoder::open(&truncated, &opts).unwrap_err();
    assert!(matches!(e, Error::Unreadable { .. }), "{e}");
    assert!(e.to_string().contains("truncated.mp4"));
    let wav = dir.path().join("tone.wav");
    run_ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=duration=1",
            wav.to_str().unwrap(),
        ],
        None,
    );
    assert!(matches!(
        Decoder::open(&wav, &opts),
        Err(Error::NoVideo { .. })
    ));
    // An AVI whose FourCC no decoder knows (XVID patched to QQQQ).
    let xvid = IndexedClip::write_with(
        dir.path(),
        "xvid.avi",
        5,
        10,
        &["-c:v", "mpeg4", "-vtag", "XVID"],
    );
    let mut avi = std::fs::read(&xvid).unwrap();
    for i in 0..avi.len() - 4 {
        if &avi[i..i + 4] == b"XVID" {
            avi[i..i + 4].copy_from_slice(b"QQQQ");
        }
    }
    let unknown = dir.path().join("unknown.avi");
    std::fs::write(&unknown, avi).unwrap();
    let e = Decoder::open(&unknown, &opts).unwrap_err();
    assert!(matches!(e, Error::UnsupportedCodec { .. }), "{e}");
}

#[test]
fn probe_reports_streams_audio_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let clip = write_lavfi_clip(
        dir.path(),
        "av.mkv",
        "160x120",
        2,
        10,
        true,
        &[],
        &["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"],
    );
    let info = probe(&clip).unwrap();
    assert_eq!(info.format, "matroska,webm");
    assert!(info.has_audio);
    assert_eq!(info.streams.len(), 2);
    let v = info.video().unwrap();
    assert_eq!(
        (v.kind, v.codec.as_str(), v.width, v.height),
        (StreamKind::Video, "h264", Some(160), Some(120))
    );
    assert_eq!(v.frame_rate, Some(Rational::new(10, 1).unwrap()));
    // Matroska declares no frame count: packets are counted.
    assert_eq!(v.frame_count, Some(20));
    assert_eq!(
        v.frame_count_source,
        Some(obscura_media::CountSource::Packets)
    );
    let a = info
        .streams
        .iter()
        .find(|s| s.kind == StreamKind::Audio)
        .unwrap();
    assert_eq!(
        (a.codec.as_str(), a.sample_rate, a.channels),
        ("aac", Some(44100), Some(1))
    );
    let json = serde_json::to_value(&info).unwrap();
    assert_eq!(json["streams"][0]["kind"], "video");
    if let Some(p) = obscura_testkit::shared_file("footage/vtest.avi") {
        let info = probe(&p).unwrap();
        let v = info.video().unwrap();
        assert_eq!(
            (v.codec.as_str(), v.width, v.height, v.frame_count),
            ("msmpeg4v3", Some(768), Some(576), Some(795))
        );
        assert!(!info.has_audio);
    }
}

#[test]
fn encoder_round_trip_keeps_frames_timing_and_rate() {
    let dir = tempfile::tempdir().unwrap();
    let clip = IndexedClip::write(dir.path(), 25, 10);
    let dec = Decoder::open(&clip, &DecodeOptions::default()).unwrap();
    let spec = VideoSpec::from_info(dec.info());
    let out = dir.path().join("out.mp4");
    let mut enc = Encoder::create(&out, &spec, &fast()).unwrap();
    for f in dec {
        enc.write(&f.unwrap()).unwrap();
    }
    assert_eq!(enc.finish().unwrap(), out);
    assert_eq!(
        decode_indices_with_ffmpeg(&out),
        (0..25).collect::<Vec<_>>()
    );
    assert_eq!(ffprobe_video_entry(&out, "r_frame_rate"), "10/1");
    assert_eq!(ffprobe_video_entry(&out, "codec_name"), "h264");
    let times = ffprobe_frame_times(&out);
    for (i, t) in times.iter().enumerate() {
        assert!((t - i as f64 / 10.0).abs() < 1e-3, "frame {i} at {t}");
    }
}

#[test]
fn variable_frame_rate_survives_encoding() {
    let Some(gif) = obscura_testkit::shared_file("footage/intel_face-demographics-walking.gif")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gif.mp4");
    let parts = cut(
        &gif,
        &out,
        &IntervalSet::single(secs("0", "100")),
        &fast(),
        |_, _| {},
    )
    .unwrap();
    assert_eq!(parts[0].frames, 35);
    let src = ffprobe_frame_times(&gif);
    let ours = ffprobe_frame_times(&out);
    assert_eq!(src.len(), ours.len());
    for (a, b) in src.iter().zip(&ours) {
        assert!((a - b).abs() < 1e-3, "source {a} s, output {b} s");
    }
}

#[test]
fn odd_sizes_are_padded_to_even() {
    let dir = tempfile::tempdir().unwrap();
    let still = dir.path().join("odd.png");
    run_ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=64x48:rate=1",
            "-vf",
            "scale=65:47",
            "-frames:v",
            "1",
            still.to_str().unwrap(),
        ],
        None,
    );
    let out = dir.path().join("odd.mp4");
    let parts = cut(
        &still,
        &out,
        &IntervalSet::single(secs("0", "1")),
        &fast(),
        |_, _| {},
    )
    .unwrap();
    assert_eq!(parts[0].frames, 1);
    assert_eq!(ffprobe_video_entry(&out, "width,height"), "66,48");
}

#[test]
fn decode_and_encode_run_on_different_threads() {
    let dir = tempfile::tempdir().unwrap();
    let clip = MovingBoxesClip::new(3, 96, 64, 15, 10, 2).write(dir.path(), "boxes.mp4");
    let dec = Decoder::open(&clip, &DecodeOptions::default()).unwrap();
    let spec = VideoSpec::from_info(dec.info());
    let out = dir.path().join("threads.mp4");
    let enc = Encoder::create(&out, &spec, &fast()).unwrap();
    let (tx, rx) = std::sync::mpsc::sync_channel(2);
    let producer = std::thread::spawn(move || {
        for f in dec {
            tx.send(f.unwrap()).unwrap();
        }
    });
    let consumer = std::thread::spawn(move || {
        let mut enc = enc;
        for f in rx {
            enc.write(&f).unwrap();
        }
        enc.finish().unwrap()
    });
    producer.join().unwrap();
    let written = consumer.join().unwrap();
    assert_eq!(ffprobe_frame_count(&written), 15);
}

/// The Evidence test: cut a clip whose frames carry their own index, with excludes, and
/// decode the result with the ffmpeg CLI.
#[test]
fn cut_is_frame_exact_checked_by_ffmpeg() {
    let dir = tempfile::tempdir().unwrap();
    let clip = IndexedClip::write(dir.path(), 60, 10); // frames 0..60 at 0.0, 0.1, ... 5.9 s
    // Keep 0.5 s .. 5.0 s minus [1.25, 2.0) minus [3.0, 3.3): frame 12 (1.2 s) kept, 13..19
    // gone; 30, 31, 32 gone; 33 kept.
    let kept = IntervalSet::single(secs("0.5", "5")).difference(&IntervalSet::from_intervals([
        secs("1.25", "2"),
        secs("3", "3.3"),
    ]));
    assert_eq!(kept.intervals().len(), 3);
    let out = dir.path().join("cut.mp4");
    let mut calls = 0;
    let parts = cut(&clip, &out, &kept, &fast(), |_, _| calls += 1).unwrap();
    assert!(calls >= 50);
    assert_eq!(parts.len(), 3);
    let mut seen = Vec::new();
    for (n, part) in parts.iter().enumerate() {
        assert_eq!(part.path, dir.path().join(format!("cut-{:03}.mp4", n + 1)));
        let idx = decode_indices_with_ffmpeg(&part.path);
        assert_eq!(idx.len() as u64, part.frames);
        assert_eq!(ffprobe_video_entry(&part.path, "r_frame_rate"), "10/1");
        // Each part starts at 0 and keeps the 0.1 s spacing.
        let times = ffprobe_frame_times(&part.path);
        assert!(times[0].abs() < 1e-3, "part {n} starts at {}", times[0]);
        for w in times.windows(2) {
            assert!((w[1] - w[0] - 0.1).abs() < 1e-3);
        }
        seen.extend(idx);
    }
    let expected: Vec<u32> = (5..50)
        .filter(|i| !(13..20).contains(i) && !(30..33).contains(i))
        .collect();
    assert_eq!(
        seen, expected,
        "excluded frames absent, every kept frame present, in order, once"
    );
    assert_eq!(
        (
            parts[0].first_index,
            parts[1].first_index,
            parts[2].first_index
        ),
        (Some(5), Some(20), Some(33))
    );
    assert_eq!(
        files_in(dir.path()),
        vec!["cut-001.mp4", "cut-002.mp4", "cut-003.mp4", "indexed.mp4"]
    );
}

/// The same with a source that has B-frames (decode order differs from presentation
/// order) in Matroska, whose timestamps are in milliseconds.
#[test]
fn cut_of_b_frame_source_is_frame_exact() {
    let dir = tempfile::tempdir().unwrap();
    let clip = IndexedClip::write_with(
        dir.path(),
        "bframes.mkv",
        50,
        10,
        &[
            "-c:v", "libx264", "-preset", "fast", "-bf", "3", "-g", "12", "-crf", "16",
        ],
    );
    let kept = IntervalSet::single(secs("0.3", "4.45"))
        .difference(&IntervalSet::single(secs("1.7", "2.95")));
    let out = dir.path().join("b.mp4");
    let parts = cut(&clip, &out, &kept, &fast(), |_, _| {}).unwrap();
    let seen: Vec<u32> = parts
        .iter()
        .flat_map(|p| decode_indices_with_ffmpeg(&p.path))
        .collect();
    let expected: Vec<u32> = (3..45).filter(|i| !(17..30).contains(i)).collect();
    assert_eq!(seen, expected);
    assert_eq!(
        parts.iter().map(|p| p.frames).sum::<u64>(),
        expected.len() as u64
    );
}

#[test]
fn seek_gives_the_same_frames_as_reading_through() {
    let dir = tempfile::tempdir().unwrap();
    let clip = IndexedClip::write_with(
        dir.path(),
        "long.mp4",
        150,
        10,
        &[
            "-c:v", "libx264", "-preset", "fast", "-bf", "3", "-g", "25", "-crf", "16",
        ],
    );
    let all: Vec<_> = Decoder::open(&clip, &DecodeOptions::default())
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for t in ["0", "2.05", "7.5", "12", "14.9"] {
        let at = Timestamp::parse(t).unwrap();
        let mut dec = Decoder::open(&clip, &DecodeOptions::default()).unwrap();
        dec.seek(at).unwrap();
        let rest: Vec<_> = dec.map(Result::unwrap).collect();
        let expected: Vec<_> = all.iter().filter(|f| f.pts >= at).collect();
        assert_eq!(rest.len(), expected.len(), "seek to {t}");
        for (a, b) in rest.iter().zip(expected) {
            assert_eq!(
                (a.pts, &a.planes),
                (b.pts, &b.planes),
                "seek to {t}: same pixels and PTS"
            );
        }
    }
    // A cut far into the file seeks, and is still frame-exact.
    let out = dir.path().join("late.mp4");
    let parts = cut(
        &clip,
        &out,
        &IntervalSet::single(secs("12", "13.05")),
        &fast(),
        |_, _| {},
    )
    .unwrap();
    assert_eq!(
        decode_indices_with_ffmpeg(&out),
        (120..131).collect::<Vec<_>>()
    );
    assert_eq!(parts[0].first_index, None, "unknown after a seek");
    assert_eq!(parts[0].first_pts, Timestamp::from_secs(12));
}

#[test]
fn seek_in_real_footage_matches_reading_through() {
    let Some(avi) = obscura_testkit::shared_file("footage/vtest.avi") else {
        return;
    };
    let at = Timestamp::from_secs(30);
    let through = Decoder::open(&avi, &DecodeOptions::default())
        .unwrap()
        .map(Result::unwrap)
        .find(|f| f.pts >= at)
        .unwrap();
    let mut dec = Decoder::open(&avi, &DecodeOptions::default()).unwrap();
    dec.seek(at).unwrap();
    let first = dec.next_frame().unwrap().unwrap();
    assert_eq!(first.pts, at);
    assert_eq!(first.planes, through.planes);
    assert_eq!(1 + dec.count() as u64, 795 - 300);
}

#[test]
fn one_period_gives_the_output_itself() {
    let dir = tempfile::tempdir().unwrap();
    let clip = IndexedClip::write(dir.path(), 40, 10);
    let out = dir.path().join("one.mp4");
    let parts = cut(
        &clip,
        &out,
        &IntervalSet::single(secs("1", "2.05")),
        &fast(),
        |_, _| {},
    )
    .unwrap();
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0].path, out);
    assert_eq!(
        decode_indices_with_ffmpeg(&out),
        (10..21).collect::<Vec<_>>()
    );
    assert_eq!(parts[0].first_pts, Timestamp::from_secs(1));
    assert_eq!(parts[0].last_pts, Timestamp::from_millis(2000));
    assert_eq!(
        parts[0].end,
        Timestamp::from_millis(2050),
        "capped at the period end"
    );
    assert_eq!(
        parts[0].end.time_base, parts[0].first_pts.time_base,
        "in the stream time base when exact"
    );
}

#[test]
fn a_period_without_frames_is_dropped_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let clip = IndexedClip::write(dir.path(), 30, 10);
    let out = dir.path().join("x.mp4");
    // The second period lies between two frames, the third after the last frame (2.9 s
    // + 0.1 s = 3.0 s): both hold none, as `--exclude 1:15..1:19.45` on a clip whose last
    // frame ends at 1:19.5 leaves [79.45, 79.5) empty.
    let kept = IntervalSet::from_intervals([
        secs("0", "1"),
        secs("1.51", "1.59"),
        secs("2", "2.5"),
        secs("2.95", "3"),
    ]);
    let parts = cut(&clip, &out, &kept, &fast(), |_, _| {}).unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(
        obscura_media::empty_periods(&kept, &parts),
        vec![secs("1.51", "1.59"), secs("2.95", "3")]
    );
    // Names stay numbered by period.
    assert_eq!(
        files_in(dir.path()),
        vec!["indexed.mp4", "x-001.mp4", "x-003.mp4"]
    );
    assert_eq!(
        decode_indices_with_ffmpeg(&dir.path().join("x-003.mp4")),
        (20..25).collect::<Vec<_>>()
    );
}

#[test]
fn failed_cut_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let clip = IndexedClip::write(dir.path(), 30, 10);
    let before = std::fs::read(&clip).unwrap();
    let out = dir.path().join("x.mp4");
    // Only periods between two frames: none holds a frame.
    let kept = IntervalSet::from_intervals([secs("1.51", "1.59"), secs("2.01", "2.09")]);
    let e = cut(&clip, &out, &kept, &fast(), |_, _| {}).unwrap_err();
    assert!(
        e.to_string()
            .contains("none of the 2 kept periods holds a frame"),
        "{e}"
    );
    // Beyond the end of the clip.
    let e = cut(
        &clip,
        &out,
        &IntervalSet::single(secs("10", "12")),
        &fast(),
        |_, _| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("nothing to keep"), "{e}");
    // Writing over the input is refused.
    let e = cut(
        &clip,
        &clip,
        &IntervalSet::single(secs("0", "1")),
        &fast(),
        |_, _| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("overwrite the input"), "{e}");
    assert_eq!(
        files_in(dir.path()),
        vec!["indexed.mp4"],
        "nothing left behind"
    );
    assert_eq!(std::fs::read(&clip).unwrap(), before, "input unchanged");
}

#[test]
fn source_metadata_is_stripped() {
    let dir = tempfile::tempdir().unwrap();
    let tags = [
        ("location", "+48.8584+002.2945/"),
        ("creation_time", "2021-03-04T05:06:07Z"),
        ("title", "SECRET-TITLE"),
        ("comment", "CAM-SERIAL-12345"),
        ("encoder", "SourceCamFirmware 9.9"),
    ];
    let clip = write_lavfi_clip(
        dir.path(),
        "tagged.mp4",
        "160x120",
        2,
        10,
        true,
        &tags,
        &["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"],
    );
    let src = run_ffprobe(&["-show_format", "-show_streams", clip.to_str().unwrap()]);
    assert!(
        src.contains("48.8584") && src.contains("2021-03-04"),
        "the source carries the tags:\n{src}"
    );
    let out = dir.path().join("clean.mp4");
    let keep = EncoderSettings::builder()
        .preset(Preset::Ultrafast)
        .audio(AudioMode::Keep)
        .build()
        .unwrap();
    let parts = cut(
        &clip,
        &out,
        &IntervalSet::single(secs("1", "2")),
        &keep,
        |_, _| {},
    )
    .unwrap();
    let probed = run_ffprobe(&["-show_format", "-show_streams", out.to_str().unwrap()]);
    // The one time kept is the part's own start on the wall clock (source start + 1 s),
    // computed, not copied.
    assert_eq!(
        parts[0].creation_time.map(|w| w.to_string()).as_deref(),
        Some("2021-03-04T05:06:08Z")
    );
    assert!(
        probed.contains("TAG:creation_time=2021-03-04T05:06:08.000000Z"),
        "{probed}"
    );
    assert!(
        !probed.contains("05:06:07"),
        "the source's own time leaked:\n{probed}"
    );
    for needle in [
        "48.8584",
        "TAG:location",
        "SECRET",
        "CAM-SERIAL",
        "SourceCam",
    ] {
        assert!(
            !probed.contains(needle),
            "{needle} leaked into the output:\n{probed}"
        );
    }
    // The only tags left are the ones the muxer writes about itself (and creation_time).
    for line in probed.lines().filter(|l| l.starts_with("TAG:")) {
        let key = line.trim_start_matches("TAG:").split('=').next().unwrap();
        assert!(
            [
                "major_brand",
                "minor_version",
                "compatible_brands",
                "encoder",
                "handler_name",
                "vendor_id",
                "language",
                "creation_time"
            ]
            .contains(&key),
            "unexpected tag {line}"
        );
        if key == "encoder" {
            assert!(line.starts_with("TAG:encoder=Lavf"), "{line}");
        }
    }
}

#[test]
fn audio_keep_mute_and_drop() {
    let dir = tempfile::tempdir().unwrap();
    let clip = write_lavfi_clip(
        dir.path(),
        "av.mp4",
        "160x120",
        4,
        10,
        true,
        &[],
        &["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"],
    );
    let kept = IntervalSet::single(secs("1", "3"));
    let audio_info = |p: &Path| {
        run_ffprobe(&[
            "-select_streams",
            "a",
            "-show_entries",
            "stream=codec_name,duration",
            "-of",
            "csv=p=0",
            p.to_str().unwrap(),
        ])
    };
    for mode in [AudioMode::Keep, AudioMode::Mute, AudioMode::Drop] {
        let out = dir.path().join(format!("{mode:?}.mp4"));
        let s = EncoderSettings::builder()
            .preset(Preset::Ultrafast)
            .audio(mode)
            .build()
            .unwrap();
        cut(&clip, &out, &kept, &s, |_, _| {}).unwrap();
        let a = audio_info(&out);
        if mode == AudioMode::Drop {
            assert_eq!(a.trim(), "", "no audio stream");
            continue;
        }
        let (codec, dur) = a.trim().split_once(',').unwrap();
        assert_eq!(codec, "aac");
        let dur: f64 = dur.parse().unwrap();
        assert!((dur - 2.0).abs() < 0.05, "{mode:?}: audio lasts {dur}");
        // Loudness: the kept sine is loud, the muted track is silent.
        let stats = std::process::Command::new("ffmpeg")
            .args([
                "-hide_banner",
                "-nostdin",
                "-i",
                out.to_str().unwrap(),
                "-map",
                "0:a",
                "-af",
                "volumedetect",
                "-f",
                "null",
                "-",
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&stats.stderr);
        let max = text
            .lines()
            .find_map(|l| l.split("max_volume: ").nth(1))
            .unwrap()
            .trim_end_matches(" dB")
            .trim()
            .to_string();
        let max: f64 = if max == "-inf" {
            f64::NEG_INFINITY
        } else {
            max.parse().unwrap()
        };
        match mode {
            AudioMode::Keep => assert!(max > -30.0, "kept audio is audible: {max} dB"),
            _ => assert!(max < -80.0, "muted audio is silent: {max} dB"),
        }
    }
    // Keep far into a longer file (the audio input seeks): still the right length.
    let long = write_lavfi_clip(
        dir.path(),
        "long.mp4",
        "96x64",
        16,
        10,
        true,
        &[],
        &["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"],
    );
    let out = dir.path().join("late.mp4");
    let keep = EncoderSettings::builder()
        .preset(Preset::Ultrafast)
        .audio(AudioMode::Keep)
        .build()
        .unwrap();
    cut(
        &long,
        &out,
        &IntervalSet::single(secs("13", "15")),
        &keep,
        |_, _| {},
    )
    .unwrap();
    let dur: f64 = run_ffprobe(&[
        "-select_streams",
        "a",
        "-show_entries",
        "stream=duration",
        "-of",
        "csv=p=0",
        out.to_str().unwrap(),
    ])
    .trim()
    .parse()
    .unwrap();
    assert!((dur - 2.0).abs() < 0.05, "late keep lasts {dur}");
    // Mute on a file without audio: a silent 48 kHz stereo track as long as the video.
    let silent = IndexedClip::write(dir.path(), 20, 10);
    let mute = EncoderSettings::builder()
        .preset(Preset::Ultrafast)
        .audio(AudioMode::Mute)
        .build()
        .unwrap();
    let out = dir.path().join("muted.mp4");
    cut(
        &silent,
        &out,
        &IntervalSet::single(secs("0", "2")),
        &mute,
        |_, _| {},
    )
    .unwrap();
    let a = run_ffprobe(&[
        "-select_streams",
        "a",
        "-show_entries",
        "stream=codec_name,sample_rate,channels,duration",
        "-of",
        "csv=p=0",
        out.to_str().unwrap(),
    ]);
    let fields: Vec<&str> = a.trim().split(',').collect();
    assert_eq!(&fields[..3], &["aac", "48000", "2"], "{a}");
    assert!(
        (fields[3].parse::<f64>().unwrap() - 2.0).abs() < 0.05,
        "{a}"
    );
    // Keep on a file without audio: a typed error, nothing written.
    let keep = EncoderSettings::builder()
        .audio(AudioMode::Keep)
        .build()
        .unwrap();
    let out = dir.path().join("none.mp4");
    assert!(matches!(
        cut(
            &silent,
            &out,
            &IntervalSet::single(secs("0", "1")),
            &keep,
            |_, _| {}
        ),
        Err(Error::NoAudio { .. })
    ));
    assert!(!out.exists());
}
