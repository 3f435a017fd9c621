//! The erasure export: keep exactly the frames whose PTS lies in a set of time ranges.
//!
//! [`cut()`] decodes the input once and re-encodes every frame whose presentation timestamp
//! lies in the kept [`IntervalSet`] (half-open intervals, so a frame at exactly the end of
//! an interval is not kept), which makes the cut frame-exact at any position, not only at
//! keyframes. Each interval of the set becomes one output file:
//!
//! * one interval: the output is `OUT` itself;
//! * several: `OUT` with `-001`, `-002`, ... before the extension, in time order
//!   ([`part_path`]).
//!
//! Timing: each part starts at time zero; its frames keep their relative timing exactly
//! (PTS minus the part's first PTS, same time base, same frame rate). Where each part came
//! from in the source is reported in [`CutPart`]; when the source has a `creation_time`,
//! each part carries its own (the source's plus the part's first frame's offset, see
//! [`CutPart::creation_time`]).
//!
//! All parts are published together: they are written to temporary files and renamed only
//! when every part has been encoded, so on any error no part remains.
//!
//! A lossless mode (stream-copy the whole GOPs inside a kept period, re-encode only the
//! boundary GOPs) can be added later as another entry point taking the same inputs and
//! returning the same [`CutPart`]s; part naming ([`part_path`]), period selection
//! ([`period_of`]) and the all-or-nothing publication are independent of the encoding.

use std::path::{Path, PathBuf};

use obscura_core::atomic::PendingFile;
use obscura_core::civil::WallTime;
use obscura_core::{Frame, Interval, IntervalSet, Timestamp};

use crate::decode::{DecodeOptions, Decoder};
use crate::encode::{AudioMode, AudioSource, Encoder, EncoderSettings, VideoSpec};
use crate::error::Error;

/// One output file of a [`cut()`].
#[derive(Debug, Clone, PartialEq)]
pub struct CutPart {
    /// Where the part was written.
    pub path: PathBuf,
    /// The kept interval (of the set passed to [`cut()`]) this part covers.
    pub period: Interval,
    /// Source PTS of the part's first frame.
    pub first_pts: Timestamp,
    /// Source PTS of the part's last frame.
    pub last_pts: Timestamp,
    /// Source time where the part's last frame ends (its PTS plus one frame period, capped
    /// at the period's end); `[first_pts, end)` is the source range the part shows.
    pub end: Timestamp,
    /// Number of frames written.
    pub frames: u64,
    /// Index of the first frame in the source (0-based, decode order of presentation);
    /// `None` when the cut seeked to the first period (long files), where it is unknown.
    pub first_index: Option<u64>,
    /// Wall-clock time of the part's first frame (written as its `creation_time`), when
    /// the source carries a creation time.
    pub creation_time: Option<WallTime>,
}

/// The path of part `number` (1-based) of a multi-part output: `dir/name-001.ext`
/// (`name-001` when `output` has no extension).
pub fn part_path(output: &Path, number: usize) -> PathBuf {
    let stem = output
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match output.extension() {
        Some(ext) => format!("{stem}-{number:03}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{number:03}"),
    };
    output.with_file_name(name)
}

/// The output paths for `count` periods: `[output]` for one, numbered parts otherwise.
pub fn part_paths(output: &Path, count: usize) -> Vec<PathBuf> {
    if count == 1 {
        vec![output.to_path_buf()]
    } else {
        (1..=count).map(|n| part_path(output, n)).collect()
    }
}

/// The intervals of `kept` that none of `parts` covers (periods that held no frame).
pub fn empty_periods(kept: &IntervalSet, parts: &[CutPart]) -> Vec<Interval> {
    kept.intervals()
        .iter()
        .filter(|iv| !parts.iter().any(|p| p.period == **iv))
        .copied()
        .collect()
}

/// Index of the interval of `kept` that contains `pts`, if any.
pub fn period_of(kept: &IntervalSet, pts: Timestamp) -> Option<usize> {
    let ivs = kept.intervals();
    let i = ivs.partition_point(|iv| iv.end() <= pts);
    ivs.get(i).filter(|iv| iv.contains(pts)).map(|_| i)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// A cut whose first period starts more than this many seconds into the clip seeks there
/// ([`Decoder::seek`]) instead of decoding from the start.
pub const SEEK_AFTER_SECS: f64 = 10.0;

struct Current {
    period: usize,
    encoder: Encoder,
    part: CutPart,
}

/// Cuts `input` to the frames whose PTS lies in `kept` (source stream time, the clock of
/// [`crate::Decoder`]'s frame PTS), re-encoding with `settings`, and writes one file per
/// interval of `kept` (see the module docs). `progress(done, total)` is called after
/// every decoded frame with an estimate of the frames to decode. When the first period
/// starts more than [`SEEK_AFTER_SECS`] into the clip the decoder seeks there first
/// (exactly: see [`Decoder::seek`]).
///
/// A period of `kept` that holds no frame (say the 50 ms after the last frame) gives no
/// part: the result then has fewer parts than `kept` has intervals, each part naming its
/// period ([`CutPart::period`]), and [`empty_periods`] lists the dropped ones. Part file
/// names stay numbered by period (`-001`, `-003` when period 2 was empty), so a name
/// always says which period it shows.
///
/// Fails with [`Error::InvalidCut`] when `kept` is empty, when no interval of `kept`
/// holds a frame, or when an output path is the input; plus the decoder's and encoder's
/// errors. On any error no output file remains.
pub fn cut(
    input: impl AsRef<Path>,
    output: impl AsRef<Path>,
    kept: &IntervalSet,
    settings: &EncoderSettings,
    progress: impl FnMut(u64, Option<u64>),
) -> Result<Vec<CutPart>, Error> {
    cut_with_options(
        input,
        output,
        kept,
        settings,
        &DecodeOptions::default(),
        progress,
    )
}

/// [`cut()`] with explicit decode options (resource limits).
pub fn cut_with_options(
    input: impl AsRef<Path>,
    output: impl AsRef<Path>,
    kept: &IntervalSet,
    settings: &EncoderSettings,
    decode: &DecodeOptions,
    mut progress: impl FnMut(u64, Option<u64>),
) -> Result<Vec<CutPart>, Error> {
    let (input, output) = (input.as_ref(), output.as_ref());
    let invalid = |reason: String| Error::InvalidCut {
        path: input.to_path_buf(),
        reason,
    };
    if kept.is_empty() {
        return Err(invalid(
            "nothing to keep: the kept time ranges are empty".into(),
        ));
    }
    let periods = kept.intervals();
    let paths = part_paths(output, periods.len());
    for p in &paths {
        if same_file(p, input) {
            return Err(invalid(format!(
                "the output {} would overwrite the input",
                p.display()
            )));
        }
    }
    let mut decoder = Decoder::open(input, decode)?;
    let info = decoder.info().clone();
    let spec = VideoSpec::from_info(&info);
    let last_end = periods[periods.len() - 1].end();
    // Far into the file, seek instead of decoding everything before the first period.
    let clip_start = info.start_time.unwrap_or(Timestamp::new(0, info.time_base));
    let first_start = periods[0].start();
    let mut total = info.frame_count;
    if first_start.as_secs_f64() - clip_start.as_secs_f64() > SEEK_AFTER_SECS {
        decoder.seek(first_start)?;
        if let (Some(r), Some(n)) = (info.frame_rate, total) {
            let span = last_end
                .as_secs_f64()
                .min(clip_start.as_secs_f64() + n as f64 / r.as_f64())
                - first_start.as_secs_f64();
            total = Some((span * r.as_f64()).ceil().max(1.0) as u64);
        }
    }
    let mut done_parts: Vec<(PendingFile, CutPart)> = Vec::new();
    let mut current: Option<Current> = None;
    let nothing = || {
        if periods.len() == 1 {
            invalid(format!("nothing to keep: no frame lies in {}", periods[0]))
        } else {
            invalid(format!(
                "nothing to keep: none of the {} kept periods holds a frame",
                periods.len()
            ))
        }
    };
    let finish = |c: Current, done: &mut Vec<(PendingFile, CutPart)>| -> Result<(), Error> {
        let pending = c.encoder.finish_pending()?;
        done.push((pending, c.part));
        Ok(())
    };
    let mut decoded = 0u64;
    while let Some(frame) = decoder.next_frame()? {
        decoded += 1;
        progress(decoded, total);
        let pts = frame.pts;
        let Some(i) = period_of(kept, pts) else {
            if pts >= last_end {
                break; // nothing more to keep
            }
            continue;
        };
        if current.as_ref().is_none_or(|c| c.period != i) {
            if let Some(c) = current.take() {
                finish(c, &mut done_parts)?;
            }
            let audio = (settings.audio() != AudioMode::Drop).then(|| AudioSource {
                path: input.to_path_buf(),
                kept: IntervalSet::single(
                    Interval::new(pts, periods[i].end()).expect("pts inside the period"),
                ),
                offset: pts,
            });
            // The part's wall-clock start: the source's plus the part's offset into it.
            let part_spec = VideoSpec {
                creation_time: spec.creation_time.map(|w| {
                    w.plus(Timestamp::new(
                        pts.ticks - clip_start.rescale_floor(pts.time_base).ticks,
                        pts.time_base,
                    ))
                }),
                ..spec
            };
            let encoder =
                Encoder::create_with_audio(&paths[i], &part_spec, settings, audio.as_ref())?;
            let part = CutPart {
                path: paths[i].clone(),
                period: periods[i],
                first_pts: pts,
                last_pts: pts,
                end: pts,
                frames: 0,
                first_index: (!decoder.has_seeked()).then_some(frame.index),
                creation_time: part_spec.creation_time,
            };
            current = Some(Current {
                period: i,
                encoder,
                part,
            });
        }
        let c = current.as_mut().expect("set above");
        let rebased = Frame {
            pts: Timestamp::new(pts.ticks - c.part.first_pts.ticks, pts.time_base),
            ..frame
        };
        c.encoder.write(&rebased)?;
        c.part.frames += 1;
        c.part.last_pts = pts;
    }
    if let Some(c) = current.take() {
        finish(c, &mut done_parts)?;
    }
    if done_parts.is_empty() {
        return Err(nothing());
    }
    // Frame ends: one nominal period after the last frame, capped at the kept period's end.
    for (_, part) in &mut done_parts {
        let step = info.frame_rate.map(|r| {
            Timestamp::new(
                1,
                obscura_core::Rational::new(r.den(), r.num()).expect("positive"),
            )
            .rescale_ceil(info.time_base)
            .ticks
        });
        let end = Timestamp::new(
            part.last_pts.ticks + step.unwrap_or(1).max(1),
            info.time_base,
        );
        let end = end.min(part.period.end());
        // In the stream time base when that is exact (a period end typed by a user may not be).
        let in_stream = end.rescale_floor(info.time_base);
        part.end = if in_stream == end { in_stream } else { end };
    }
    // Publish all parts; if one rename fails, withdraw the ones already published.
    let mut published: Vec<PathBuf> = Vec::new();
    let mut parts = Vec::new();
    for (pending, part) in done_parts {
        match pending.commit() {
            Ok(p) => published.push(p),
            Err(source) => {
                for p in &published {
                    let _ = std::fs::remove_file(p);
                }
                return Err(Error::Io {
                    path: part.path,
                    source,
                });
            }
        }
        parts.push(part);
    }
    progress(decoded, Some(total.unwrap_or(decoded).max(decoded)));
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use obscura_core::Rational;

    fn tb() -> Rational {
        Rational::new(1, 10).unwrap()
    }

    fn iv(a: i64, b: i64) -> Interval {
        Interval::new(Timestamp::new(a, tb()), Timestamp::new(b, tb())).unwrap()
    }

    #[test]
    fn part_names_number_before_the_extension() {
        assert_eq!(
            part_path(Path::new("/x/out.mp4"), 1),
            PathBuf::from("/x/out-001.mp4")
        );
        assert_eq!(
            part_path(Path::new("out.tar.mp4"), 12),
            PathBuf::from("out.tar-012.mp4")
        );
        assert_eq!(
            part_path(Path::new("dir/out"), 3),
            PathBuf::from("dir/out-003")
        );
        assert_eq!(
            part_paths(Path::new("a.mp4"), 1),
            vec![PathBuf::from("a.mp4")]
        );
        assert_eq!(
            part_paths(Path::new("a.mp4"), 2),
            vec![PathBuf::from("a-001.mp4"), PathBuf::from("a-002.mp4")]
        );
    }

    #[test]
    fn frame_selection_is_half_open_and_exact() {
        // Frames at 0.0, 0.1, ... 1.9 s; keep [0.2, 0.5) and [1.0, 1.2).
        let kept = IntervalSet::from_intervals([iv(2, 5), iv(10, 12)]);
        let sel: Vec<(i64, Option<usize>)> = (0..20)
            .map(|t| (t, period_of(&kept, Timestamp::new(t, tb()))))
            .collect();
        let kept_frames: Vec<i64> = sel
            .iter()
            .filter(|(_, p)| p.is_some())
            .map(|(t, _)| *t)
            .collect();
        assert_eq!(kept_frames, vec![2, 3, 4, 10, 11]);
        assert_eq!(sel[4].1, Some(0));
        assert_eq!(sel[10].1, Some(1));
        assert_eq!(sel[5].1, None, "the end of an interval is excluded");
        // A different time base compares by value: 0.25 s is inside [0.2, 0.5).
        assert_eq!(
            period_of(&kept, Timestamp::new(250, Rational::new(1, 1000).unwrap())),
            Some(0)
        );
        assert_eq!(
            period_of(&IntervalSet::new(), Timestamp::new(0, tb())),
            None
        );
    }

    proptest::proptest! {
        /// `period_of` agrees with `IntervalSet::contains` and names the right interval.
        #[test]
        fn period_of_matches_membership(bounds in proptest::collection::vec((0i64..200, 1i64..20), 0..6), t in -5i64..230) {
            let kept = IntervalSet::from_intervals(bounds.iter().map(|&(a, len)| iv(a, a + len)));
            let pts = Timestamp::new(t, tb());
            let p = period_of(&kept, pts);
            proptest::prop_assert_eq!(p.is_some(), kept.contains(pts));
            if let Some(i) = p {
                proptest::prop_assert!(kept.intervals()[i].contains(pts));
            }
        }
    }

    #[test]
    fn empty_kept_set_is_refused_before_opening_anything() {
        let e = cut(
            "/nonexistent/in.mp4",
            "/nonexistent/out.mp4",
            &IntervalSet::new(),
            &EncoderSettings::default(),
            |_, _| {},
        )
        .unwrap_err();
        assert!(matches!(e, Error::InvalidCut { .. }), "{e}");
        assert!(e.to_string().contains("nothing to keep"));
    }
}
