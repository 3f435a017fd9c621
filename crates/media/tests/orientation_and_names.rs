//! Display rotation is applied at decode; inputs are opened as plain files whatever their
//! name (FFmpeg protocol look-alikes, names that are not UTF-8), never as URLs.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use obscura_media::{
    DecodeOptions, Decoder, EncoderSettings, Error, Orientation, Preset, cut, probe,
};
use obscura_testkit::clips::{IndexedClip, run_ffmpeg};

fn frames(path: &Path) -> Vec<obscura_core::Frame> {
    Decoder::open(path, &DecodeOptions::default())
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// `src` stream-copied with a `rotate` tag, which the MP4 muxer stores as a display matrix.
fn rotated(dir: &Path, src: &Path, deg: u32) -> PathBuf {
    let out = dir.join(format!("rot{deg}.mp4"));
    let tag = format!("rotate={deg}");
    run_ffmpeg(
        &[
            "-i",
            src.to_str().unwrap(),
            "-c",
            "copy",
            "-metadata:s:v",
            &tag,
            out.to_str().unwrap(),
        ],
        None,
    );
    out
}

#[test]
fn display_matrix_rotations_give_upright_frames() {
    let dir = tempfile::tempdir().unwrap();
    let src = IndexedClip::write(dir.path(), 5, 10);
    let upright = frames(&src);
    // What FFmpeg 5.1's muxer makes of the tag, as FFmpeg's own player shows it (checked
    // below against the ffmpeg CLI's autorotated decode, the independent oracle).
    for (deg, o) in [
        (90, Orientation::Rotate270),
        (180, Orientation::Rotate180),
        (270, Orientation::Rotate90),
    ] {
        let path = rotated(dir.path(), &src, deg);
        let oracle = run_ffmpeg(
            &[
                "-i",
                path.to_str().unwrap(),
                "-frames:v",
                "1",
                "-f",
                "rawvideo",
                "-pix_fmt",
                "yuv420p",
                "-",
            ],
            None,
        );
        let info = probe(&path).unwrap();
        assert_eq!(info.streams[0].orientation, Some(o), "{deg}");
        assert_eq!(info.streams[0].pixel_format.as_deref(), Some("yuv420p"));
        let dec = Decoder::open(&path, &DecodeOptions::default()).unwrap();
        let vi = dec.info().clone();
        assert_eq!(vi.orientation, o);
        assert_eq!(
            (vi.width, vi.height),
            o.display_size(IndexedClip::WIDTH, IndexedClip::HEIGHT)
        );
        assert_eq!(
            (vi.coded_width, vi.coded_height),
            (IndexedClip::WIDTH, IndexedClip::HEIGHT)
        );
        let got: Vec<_> = dec.map(Result::unwrap).collect();
        assert_eq!(got.len(), upright.len());
        let luma = (got[0].width * got[0].height) as usize;
        assert_eq!(
            got[0].planes[0].data,
            oracle[..luma],
            "rotation {deg} differs from ffmpeg's autorotate"
        );
        for (g, u) in got.iter().zip(&upright) {
            // The same coded pictures (stream copy), turned exactly as the matrix says.
            assert_eq!(g, &o.apply(u.clone()), "rotation {deg}, frame {}", g.index);
        }
        // A cut re-encodes the upright frames: the output needs no rotation any more.
        let out = dir.path().join(format!("cut{deg}.mp4"));
        let settings = EncoderSettings::builder()
            .preset(Preset::Ultrafast)
            .crf(0)
            .build()
            .unwrap();
        cut(
            &path,
            &out,
            &obscura_core::IntervalSet::single(obscura_core::Interval::parse("0..10").unwrap()),
            &settings,
            |_, _| {},
        )
        .unwrap();
        let oi = probe(&out).unwrap();
        assert_eq!(oi.streams[0].orientation, Some(Orientation::Identity));
        let (w, h) = o.display_size(IndexedClip::WIDTH, IndexedClip::HEIGHT);
        assert_eq!(
            (oi.streams[0].width, oi.streams[0].height),
            (Some(w), Some(h))
        );
        // The index code of frame 0, read upright, survives the re-encode.
        let first = &frames(&out)[0];
        let back = match o {
            Orientation::Rotate90 => Orientation::Rotate270,
            Orientation::Rotate270 => Orientation::Rotate90,
            x => x,
        }
        .apply(first.clone());
        assert_eq!(
            IndexedClip::index_of_luma(&back.planes[0].data, back.planes[0].stride),
            Some(0),
            "rotation {deg}"
        );
    }
}

#[test]
fn creation_time_is_reported_verbatim() {
    let dir = tempfile::tempdir().unwrap();
    let src = IndexedClip::write(dir.path(), 3, 10);
    let out = dir.path().join("dated.mp4");
    run_ffmpeg(
        &[
            "-i",
            src.to_str().unwrap(),
            "-c",
            "copy",
            "-metadata",
            "creation_time=2026-11-28T10:00:00.000000Z",
            out.to_str().unwrap(),
        ],
        None,
    );
    let info = probe(&out).unwrap();
    assert_eq!(
        info.creation_time.as_deref(),
        Some("2026-11-28T10:00:00.000000Z")
    );
    let d = Decoder::open(&out, &DecodeOptions::default()).unwrap();
    assert_eq!(
        d.info().creation_time.as_deref(),
        Some("2026-11-28T10:00:00.000000Z")
    );
    assert_eq!(probe(&src).unwrap().creation_time, None);
}

#[test]
fn protocol_lookalike_and_non_utf8_names_are_plain_files() {
    let dir = tempfile::tempdir().unwrap();
    let clip = IndexedClip::write(dir.path(), 4, 10);
    // Two other clips a `concat:` URL would read instead.
    let other = tempfile::tempdir().unwrap();
    let a = IndexedClip::write(other.path(), 7, 10);
    std::fs::copy(&a, dir.path().join("a.mp4")).unwrap();
    std::fs::copy(&a, dir.path().join("b.mp4")).unwrap();
    let names: Vec<&OsStr> = vec![
        OsStr::new("concat:a.mp4|b.mp4"),
        OsStr::new("file:x.mp4"),
        OsStr::new("subfile,,start,0,end,100,,:a.mp4"),
        OsStr::from_bytes(b"caf\xe9-\xff.mp4"),
    ];
    for n in names {
        let p = dir.path().join(n);
        std::fs::copy(&clip, &p).unwrap();
        // Relative to the folder too, as a user would type it.
        let info = probe(&p).unwrap();
        assert_eq!(info.streams[0].frame_count, Some(4), "{}", p.display());
        assert_eq!(frames(&p).len(), 4, "{}", p.display());
        let out = dir.path().join(Path::new(n).with_extension("out.mp4"));
        let settings = EncoderSettings::builder()
            .preset(Preset::Ultrafast)
            .build()
            .unwrap();
        cut(
            &p,
            &out,
            &obscura_core::IntervalSet::single(obscura_core::Interval::parse("0..10").unwrap()),
            &settings,
            |_, _| {},
        )
        .unwrap();
        assert_eq!(frames(&out).len(), 4, "{}", out.display());
    }
}

#[test]
fn scripts_that_name_other_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let clip = IndexedClip::write(dir.path(), 4, 10);
    let concat = dir.path().join("list.mp4");
    std::fs::write(
        &concat,
        format!("ffconcat version 1.0\nfile '{}'\n", clip.display()),
    )
    .unwrap();
    let playlist = dir.path().join("play.mp4");
    std::fs::write(
        &playlist,
        format!(
            "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n{}\n#EXT-X-ENDLIST\n",
            clip.display()
        ),
    )
    .unwrap();
    for p in [&concat, &playlist] {
        let e = Decoder::open(p, &DecodeOptions::default()).unwrap_err();
        assert!(matches!(e, Error::Unreadable { .. }), "{e}");
        assert!(e.to_string().starts_with(&p.display().to_string()), "{e}");
        assert!(probe(p).is_err());
    }
}

#[test]
fn fifos_and_devices_are_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.mp4");
    let st = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(st.success());
    let e = Decoder::open(&fifo, &DecodeOptions::default()).unwrap_err();
    assert!(e.to_string().contains("named pipe (FIFO)"), "{e}");
    let e = probe("/dev/zero").unwrap_err();
    assert!(
        e.to_string().contains("/dev/zero: is a character device"),
        "{e}"
    );
    let e = obscura_media::open_regular_file(dir.path()).unwrap_err();
    assert!(e.to_string().contains("is a folder"), "{e}");
}
