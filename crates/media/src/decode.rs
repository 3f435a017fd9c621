//! Decoding: any FFmpeg input to [`Frame`]s in [`PixelFormat::Yuv420p`] with exact PTS.

use std::path::{Path, PathBuf};

use ffmpeg_next as ff;
use obscura_core::{Frame, PixelFormat, Rational, Timestamp};
use serde::Serialize;

use crate::convert::{frame_from_yuv420p, rational, timestamp};
use crate::error::{Error, describe};
use crate::limits::Limits;
use crate::orient::Orientation;

/// How to open a file for decoding.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct DecodeOptions {
    /// Resource limits checked at open and while decoding.
    pub limits: Limits,
}

impl DecodeOptions {
    /// Options with these limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
}

/// What the decoder knows about the video stream it reads.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VideoInfo {
    /// Index of the video stream in the container.
    pub stream_index: usize,
    /// Picture width in pixels as displayed (every decoded frame has this size: the
    /// stream's [`VideoInfo::orientation`] is applied to every frame).
    pub width: u32,
    /// Picture height in pixels as displayed.
    pub height: u32,
    /// Width as stored in the stream (before the orientation is applied).
    pub coded_width: u32,
    /// Height as stored in the stream.
    pub coded_height: u32,
    /// The display orientation of the stream (display matrix, else `rotate` tag), applied
    /// to every decoded frame so frames are upright.
    pub orientation: Orientation,
    /// The stream's pixel format as FFmpeg names it (`yuv420p`, `yuvj422p`...), when known.
    pub pixel_format: Option<String>,
    /// The container's (else the stream's) `creation_time` tag, verbatim, when present.
    pub creation_time: Option<String>,
    /// Codec name as FFmpeg spells it (`h264`, `msmpeg4v3`, `gif`...).
    pub codec: String,
    /// The stream time base: frame PTS are ticks of this.
    pub time_base: Rational,
    /// Nominal frame rate (average rate when the container gives one, else FFmpeg's guess);
    /// `None` when unknown. Variable-rate streams keep their real PTS regardless.
    pub frame_rate: Option<Rational>,
    /// Stream duration (or the container's when the stream has none).
    pub duration: Option<Timestamp>,
    /// PTS of the first frame as the container declares it.
    pub start_time: Option<Timestamp>,
    /// Frame count: the container's figure, else an estimate from duration x frame rate.
    pub frame_count: Option<u64>,
    /// Whether the file also has an audio stream.
    pub has_audio: bool,
}

/// Converts decoded pictures of any pixel format or size to YUV420P at the stream's
/// nominal size, through an FFmpeg filter graph (`scale`, `format`). A filter graph rather
/// than a bare swscale context because ffmpeg-next's `filter::Graph` is `Send`, so the
/// decoder stays `Send` without unsafe code.
struct Converter {
    key: (ff::format::Pixel, u32, u32),
    graph: ff::filter::Graph,
}

impl Converter {
    fn new(
        src: &ff::frame::Video,
        out_w: u32,
        out_h: u32,
        tb: ff::Rational,
    ) -> Result<Self, ff::Error> {
        let mut graph = ff::filter::Graph::new();
        let pix: ff::ffi::AVPixelFormat = src.format().into();
        let args = format!(
            "video_size={}x{}:pix_fmt={}:time_base={}/{}:pixel_aspect=1/1",
            src.width(),
            src.height(),
            pix as i32,
            tb.numerator().max(1),
            tb.denominator().max(1)
        );
        let buffer = ff::filter::find("buffer").ok_or(ff::Error::FilterNotFound)?;
        let sink = ff::filter::find("buffersink").ok_or(ff::Error::FilterNotFound)?;
        graph.add(&buffer, "in", &args)?;
        graph.add(&sink, "out", "")?;
        graph
            .get("out")
            .ok_or(ff::Error::Bug)?
            .set_pixel_format(ff::format::Pixel::YUV420P);
        graph.output("in", 0)?.input("out", 0)?.parse(&format!(
            "scale=w={out_w}:h={out_h}:out_range=tv,format=yuv420p"
        ))?;
        graph.validate()?;
        Ok(Self {
            key: (src.format(), src.width(), src.height()),
            graph,
        })
    }

    fn convert(
        &mut self,
        src: &ff::frame::Video,
        out: &mut ff::frame::Video,
    ) -> Result<(), ff::Error> {
        self.graph
            .get("in")
            .ok_or(ff::Error::Bug)?
            .source()
            .add(src)?;
        self.graph
            .get("out")
            .ok_or(ff::Error::Bug)?
            .sink()
            .frame(out)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Reading,
    Draining,
    Done,
}

/// Reads the best video stream of a file and yields its frames in presentation order
/// (decoder output order) as [`PixelFormat::Yuv420p`] [`Frame`]s.
///
/// * `Frame::pts` is the stream's own timestamp (FFmpeg's best-effort timestamp) in
///   [`VideoInfo::time_base`], so variable frame rates are kept exactly. A frame without
///   any timestamp, or one not after its predecessor (broken files), gets the previous PTS
///   plus one frame period (or plus one tick), so PTS always increase strictly.
/// * `Frame::index` counts decoded frames from 0.
/// * Pictures of another pixel format or size are converted to YUV420P at the stream's
///   nominal size.
///
/// `Decoder` is `Send` (no unsafe code here: every FFmpeg object it holds is `Send` in
/// ffmpeg-next), so decoding can run on its own thread. It is also an
/// `Iterator<Item = Result<Frame, Error>>` that ends with `None`; after an error it ends.
pub struct Decoder {
    decoder: ff::decoder::Video,
    converter: Option<Converter>,
    input: ff::format::context::Input,
    path: PathBuf,
    info: VideoInfo,
    limits: Limits,
    state: State,
    next_index: u64,
    last_pts: Option<i64>,
    period_ticks: Option<i64>,
    raw: ff::frame::Video,
    converted: ff::frame::Video,
    /// After [`Decoder::seek`]: frames before this time are dropped.
    skip_before: Option<Timestamp>,
    /// After a seek: whether the first frame is still to come, and whether the fallback
    /// (back to the file start) was already taken.
    seek_check: Option<bool>,
    seeked: bool,
}

/// Initialises FFmpeg once and silences its log (errors reach the user through [`Error`]).
pub(crate) fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = ff::init();
        ff::util::log::set_level(ff::util::log::Level::Quiet);
    });
}

pub(crate) use crate::source::open_input;

/// The display orientation of a stream: its display-matrix side data, else its legacy
/// `rotate` tag. `Err` describes an angle that is not a multiple of 90 degrees.
pub(crate) fn stream_orientation(
    stream: &ff::format::stream::Stream,
) -> Result<Orientation, String> {
    for sd in stream.side_data() {
        if sd.kind() == ff::codec::packet::side_data::Type::DisplayMatrix {
            let d = sd.data();
            if d.len() < 36 {
                return Err("a truncated display matrix".into());
            }
            let mut m = [0i32; 9];
            for (i, v) in m.iter_mut().enumerate() {
                *v = i32::from_ne_bytes(d[i * 4..i * 4 + 4].try_into().expect("4 bytes"));
            }
            return Orientation::from_display_matrix(&m)
                .map_err(|a| format!("display matrix angle {a} degrees"));
        }
    }
    match stream.metadata().get("rotate") {
        Some(tag) => Orientation::from_rotate_tag(tag).map_err(|t| format!("rotate tag {t:?}")),
        None => Ok(Orientation::Identity),
    }
}

/// FFmpeg's name of a pixel format (`None` for `none`).
pub(crate) fn pixel_format_name(p: ff::format::Pixel) -> Option<String> {
    (p != ff::format::Pixel::None)
        .then(|| p.descriptor().map(|d| d.name().to_string()))
        .flatten()
}

/// The container's `creation_time` tag, else the stream's.
pub(crate) fn creation_time(
    input: &ff::format::context::Input,
    stream: &ff::format::stream::Stream,
) -> Option<String> {
    let tag = |d: ff::DictionaryRef<'_>| {
        d.get("creation_time")
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    tag(input.metadata()).or_else(|| tag(stream.metadata()))
}

/// The nominal frame rate of a stream: the average rate, else FFmpeg's `r_frame_rate`.
pub(crate) fn stream_frame_rate(stream: &ff::format::stream::Stream) -> Option<Rational> {
    rational(stream.avg_frame_rate()).or_else(|| rational(stream.rate()))
}

impl Decoder {
    /// Opens the best video stream of `path`. Fails with [`Error::NotFound`],
    /// [`Error::Unreadable`] (not media, empty, truncated), [`Error::NoVideo`],
    /// [`Error::UnsupportedCodec`] or [`Error::LimitExceeded`] (size, duration or frame
    /// count claimed by the container).
    pub fn open(path: impl AsRef<Path>, options: &DecodeOptions) -> Result<Self, Error> {
        let path = path.as_ref().to_path_buf();
        let input = open_input(&path)?;
        let limits = options.limits;
        let p = || path.clone();
        if input.streams().count() == 0 {
            return Err(Error::Unreadable {
                path: p(),
                reason: "no streams found: the file is truncated or not a media file".into(),
            });
        }
        let has_audio = input.streams().best(ff::media::Type::Audio).is_some();
        let stream = input
            .streams()
            .best(ff::media::Type::Video)
            .ok_or_else(|| Error::NoVideo { path: p() })?;
        let stream_index = stream.index();
        let params = stream.parameters();
        let id = params.id();
        let codec_name = id.name().to_string();
        if id == ff::codec::Id::None || ff::decoder::find(id).is_none() {
            return Err(Error::UnsupportedCodec {
                path: p(),
                codec: codec_name,
            });
        }
        let mut ctx = ff::codec::context::Context::from_parameters(params).map_err(|e| {
            Error::Unreadable {
                path: p(),
                reason: describe(&e),
            }
        })?;
        ctx.set_threading(ff::threading::Config {
            kind: ff::threading::Type::Frame,
            count: 0,
            ..ff::threading::Config::default()
        });
        let mut decoder = ctx.decoder().video().map_err(|_| Error::UnsupportedCodec {
            path: p(),
            codec: codec_name.clone(),
        })?;
        decoder.set_packet_time_base(stream.time_base());
        let time_base = rational(stream.time_base()).ok_or_else(|| Error::Unreadable {
            path: p(),
            reason: "the video stream has no valid time base".into(),
        })?;
        let (width, height) = (decoder.width(), decoder.height());
        if width == 0 || height == 0 {
            return Err(Error::Unreadable {
                path: p(),
                reason: "the video stream has no picture size".into(),
            });
        }
        limits.check_dimensions(&path, width, height)?;
        let orientation = stream_orientation(&stream).map_err(|what| Error::Unreadable {
            path: p(),
            reason: format!(
                "unsupported display rotation ({what}): only multiples of 90 degrees are applied"
            ),
        })?;
        let (coded_width, coded_height) = (width, height);
        let (width, height) = orientation.display_size(width, height);
        let pixel_format = pixel_format_name(decoder.format());
        let creation_time = creation_time(&input, &stream);
        let frame_rate = stream_frame_rate(&stream);
        let duration = if stream.duration() > 0 {
            timestamp(stream.duration(), time_base)
        } else if input.duration() > 0 {
            Some(Timestamp::new(input.duration(), Rational::MICROS))
        } else {
            None
        };
        let start_time = timestamp(stream.start_time(), time_base);
        if let Some(d) = duration {
            limits.check_duration(&path, d.as_secs_f64())?;
        }
        let frame_count = if stream.frames() > 0 {
            Some(stream.frames() as u64)
        } else {
            match (duration, frame_rate) {
                (Some(d), Some(r)) => Some((d.as_secs_f64() * r.as_f64()).round().max(0.0) as u64),
                _ => None,
            }
        };
        if stream.frames() > 0 {
            limits.check_frames(&path, stream.frames() as u64)?;
        }
        // One frame period in stream ticks, for frames without a timestamp.
        let period_ticks = frame_rate.map(|r| {
            let t = Timestamp::new(1, Rational::new(r.den(), r.num()).expect("positive rate"));
            t.rescale_floor(time_base).ticks.max(1)
        });
        let info = VideoInfo {
            stream_index,
            width,
            height,
            coded_width,
            coded_height,
            orientation,
            pixel_format,
            creation_time,
            codec: codec_name,
            time_base,
            frame_rate,
            duration,
            start_time,
            frame_count,
            has_audio,
        };
        Ok(Self {
            decoder,
            converter: None,
            input,
            path,
            info,
            limits,
            state: State::Reading,
            next_index: 0,
            last_pts: None,
            period_ticks,
            raw: ff::frame::Video::empty(),
            converted: ff::frame::Video::empty(),
            skip_before: None,
            seek_check: None,
            seeked: false,
        })
    }

    /// What is known about the stream.
    pub fn info(&self) -> &VideoInfo {
        &self.info
    }

    /// The file being decoded.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of frames returned so far.
    pub fn frames_decoded(&self) -> u64 {
        self.next_index
    }

    /// Whether [`Decoder::seek`] was used (frame indexes then count from the seek).
    pub fn has_seeked(&self) -> bool {
        self.seeked
    }

    /// Positions the decoder so that the next frame is the first one whose PTS is at or
    /// after `t` (stream time), exactly as if all earlier frames had been read and dropped.
    ///
    /// It seeks the demuxer to a keyframe at least one second before `t`, then decodes and
    /// drops the frames before `t`. If the container's index is off and the first frame
    /// after the seek is not before `t`, it goes back to the start of the file and drops
    /// frames from there, so no frame at or after `t` is ever skipped. After a seek,
    /// `Frame::index` counts frames returned since the seek, not from the file start.
    pub fn seek(&mut self, t: Timestamp) -> Result<(), Error> {
        let target = Timestamp::new(
            t.rescale_floor(Rational::MICROS)
                .ticks
                .saturating_sub(1_000_000),
            Rational::MICROS,
        );
        if self
            .input
            .seek(target.ticks, ..target.ticks) /* max_ts = target (inclusive in FFmpeg) */
            .is_err()
        {
            self.input
                .seek(i64::MIN, ..)
                .map_err(|e| self.decode_err(&e))?;
        }
        self.decoder.flush();
        self.state = State::Reading;
        self.last_pts = None;
        self.next_index = 0;
        self.skip_before = Some(t);
        self.seek_check = Some(false);
        self.seeked = true;
        Ok(())
    }

    /// The next frame, or `None` at the end of the stream.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, Error> {
        let r = self.next_inner();
        if r.is_err() {
            self.state = State::Done;
        }
        r
    }

    fn decode_err(&self, e: &ff::Error) -> Error {
        Error::Decode {
            path: self.path.clone(),
            reason: describe(e),
        }
    }

    fn next_inner(&mut self) -> Result<Option<Frame>, Error> {
        let mut skipped_invalid = 0u32;
        loop {
            if self.state == State::Done {
                return Ok(None);
            }
            match self.decoder.receive_frame(&mut self.raw) {
                Ok(()) => {
                    if let Some(t) = self.skip_before {
                        let pts = self
                            .raw
                            .timestamp()
                            .or(self.raw.pts())
                            .map(|p| Timestamp::new(p, self.info.time_base));
                        if let Some(fallback_taken) = self.seek_check.take()
                            && pts.is_none_or(|p| p >= t)
                            && !fallback_taken
                        {
                            // The seek may have landed after earlier frames at or after
                            // `t`: start again from the beginning of the file.
                            self.input
                                .seek(i64::MIN, ..)
                                .map_err(|e| self.decode_err(&e))?;
                            self.decoder.flush();
                            self.state = State::Reading;
                            self.seek_check = Some(true);
                            continue;
                        }
                        if pts.is_some_and(|p| p < t) {
                            continue;
                        }
                        self.skip_before = None;
                    }
                    return self.emit().map(Some);
                }
                Err(ff::Error::Eof) => {
                    self.state = State::Done;
                    return Ok(None);
                }
                Err(ff::Error::Other { errno }) if errno == ff::util::error::EAGAIN => {}
                Err(e) => return Err(self.decode_err(&e)),
            }
            if self.state == State::Draining {
                self.state = State::Done;
                return Ok(None);
            }
            // Feed one packet of our stream (or the end of stream).
            let mut packet = ff::Packet::empty();
            loop {
                match packet.read(&mut self.input) {
                    Ok(()) => {
                        if packet.stream() != self.info.stream_index {
                            continue;
                        }
                        self.decoder
                            .send_packet(&packet)
                            .map_err(|e| self.decode_err(&e))?;
                        break;
                    }
                    Err(ff::Error::Eof) => {
                        self.decoder.send_eof().map_err(|e| self.decode_err(&e))?;
                        self.state = State::Draining;
                        break;
                    }
                    // A demuxer can resync past a corrupt packet; give up when it cannot.
                    Err(ff::Error::InvalidData) if skipped_invalid < 1000 => skipped_invalid += 1,
                    Err(e) => return Err(self.decode_err(&e)),
                }
            }
        }
    }

    fn emit(&mut self) -> Result<Frame, Error> {
        let index = self.next_index;
        self.limits.check_frames(&self.path, index + 1)?;
        let mut ticks = match self.raw.timestamp().or(self.raw.pts()) {
            Some(t) => t,
            None => self
                .last_pts
                .map_or(0, |l| l + self.period_ticks.unwrap_or(1)),
        };
        if let Some(last) = self.last_pts
            && ticks <= last
        {
            ticks = last + self.period_ticks.unwrap_or(1).max(1);
        }
        let pts = Timestamp::new(ticks, self.info.time_base);
        if let Some(start) = self
            .info
            .start_time
            .or_else(|| self.last_pts.is_none().then_some(pts))
        {
            let elapsed = pts.as_secs_f64() - start.as_secs_f64();
            self.limits.check_duration(&self.path, elapsed)?;
        }
        let (w, h) = (self.info.coded_width, self.info.coded_height);
        let frame = if self.raw.format() == ff::format::Pixel::YUV420P
            && self.raw.width() == w
            && self.raw.height() == h
        {
            frame_from_yuv420p(&self.raw, index, pts)
        } else {
            self.limits
                .check_dimensions(&self.path, self.raw.width(), self.raw.height())?;
            let key = (self.raw.format(), self.raw.width(), self.raw.height());
            if self.converter.as_ref().is_none_or(|c| c.key != key) {
                let tb = crate::convert::ff_rational(self.info.time_base);
                self.converter =
                    Some(Converter::new(&self.raw, w, h, tb).map_err(|e| self.decode_err(&e))?);
            }
            let conv = self.converter.as_mut().expect("set above");
            if let Err(e) = conv.convert(&self.raw, &mut self.converted) {
                return Err(Error::Decode {
                    path: self.path.clone(),
                    reason: format!("pixel format conversion: {}", describe(&e)),
                });
            }
            frame_from_yuv420p(&self.converted, index, pts)
        };
        debug_assert_eq!(frame.format, PixelFormat::Yuv420p);
        let frame = self.info.orientation.apply(frame);
        self.last_pts = Some(ticks);
        self.next_index += 1;
        Ok(frame)
    }
}

impl Iterator for Decoder {
    type Item = Result<Frame, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_frame().transpose()
    }
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("path", &self.path)
            .field("info", &self.info)
            .field("next_index", &self.next_index)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>() {}

    #[test]
    fn decoder_is_send() {
        assert_send::<Decoder>();
    }

    #[test]
    fn missing_and_empty_files_are_typed_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.mp4");
        let e = Decoder::open(&missing, &DecodeOptions::default()).unwrap_err();
        assert!(matches!(e, Error::NotFound { .. }), "{e}");
        assert!(e.to_string().contains("nope.mp4"));
        let empty = dir.path().join("empty.mp4");
        std::fs::write(&empty, b"").unwrap();
        let e = Decoder::open(&empty, &DecodeOptions::default()).unwrap_err();
        assert!(e.to_string().contains("empty (0 bytes)"), "{e}");
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, b"this is not a video at all\n").unwrap();
        let e = Decoder::open(&text, &DecodeOptions::default()).unwrap_err();
        assert!(matches!(e, Error::Unreadable { .. }), "{e}");
    }
}
