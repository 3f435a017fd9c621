//! Container and stream facts, for `obscura probe`.

use std::path::{Path, PathBuf};

use ffmpeg_next as ff;
use obscura_core::{Rational, Timestamp};
use serde::Serialize;

use crate::convert::{rational, timestamp};
use crate::decode::{
    creation_time, open_input, pixel_format_name, stream_frame_rate, stream_orientation,
};
use crate::error::{Error, describe};

/// What a stream carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum StreamKind {
    /// Pictures.
    Video,
    /// Sound.
    Audio,
    /// Subtitles.
    Subtitle,
    /// Data (timed metadata and the like).
    Data,
    /// Attachments (fonts, cover pictures).
    Attachment,
    /// Anything else.
    Unknown,
}

/// How [`StreamInfo::frame_count`] was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum CountSource {
    /// The container's index says so (MP4 sample tables, AVI headers, GIF).
    Container,
    /// The container does not say; the packets of the stream were counted by demuxing the
    /// whole file (no decoding). One packet is one frame for every video codec FFmpeg
    /// demuxes into whole pictures, which is all the codecs listed in the crate docs.
    Packets,
}

/// One stream of a file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamInfo {
    /// Index in the container.
    pub index: usize,
    /// Video, audio...
    pub kind: StreamKind,
    /// Codec name as FFmpeg spells it (`none` when unknown).
    pub codec: String,
    /// Whether this FFmpeg build can decode it.
    pub decodable: bool,
    /// Picture width (video only, when the decoder is known).
    pub width: Option<u32>,
    /// Picture height (video only, when the decoder is known).
    pub height: Option<u32>,
    /// Display orientation (video only): display matrix or `rotate` tag; `Err`-free
    /// streams only (an unsupported angle is given in [`StreamInfo::orientation_error`]).
    pub orientation: Option<crate::Orientation>,
    /// Why the orientation could not be applied (an angle that is not a multiple of 90).
    pub orientation_error: Option<String>,
    /// Pixel format as FFmpeg names it (video only, when the decoder is known).
    pub pixel_format: Option<String>,
    /// Nominal frame rate (video).
    pub frame_rate: Option<Rational>,
    /// Sample rate in Hz (audio).
    pub sample_rate: Option<u32>,
    /// Channel count (audio).
    pub channels: Option<u16>,
    /// The stream time base.
    pub time_base: Option<Rational>,
    /// Duration as declared.
    pub duration: Option<Timestamp>,
    /// Start time as declared.
    pub start_time: Option<Timestamp>,
    /// Frame (packet) count, see [`StreamInfo::frame_count_source`].
    pub frame_count: Option<u64>,
    /// Where the count comes from.
    pub frame_count_source: Option<CountSource>,
}

/// A probed file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MediaInfo {
    /// The file (in JSON as text, bytes that are not UTF-8 replaced).
    #[serde(serialize_with = "crate::error::serialize_path_lossy")]
    pub path: PathBuf,
    /// Container format (FFmpeg's short names, such as `mov,mp4,m4a,3gp,3g2,mj2`).
    pub format: String,
    /// Container format in words.
    pub format_long: String,
    /// Container duration, exact in microseconds.
    pub duration: Option<Timestamp>,
    /// The earliest start time of any stream.
    pub start_time: Option<Timestamp>,
    /// Overall bit rate in bit/s, when known.
    pub bit_rate: Option<u64>,
    /// The container's (else the first video stream's) `creation_time` tag, verbatim.
    pub creation_time: Option<String>,
    /// All streams, in container order.
    pub streams: Vec<StreamInfo>,
    /// Whether any stream is audio.
    pub has_audio: bool,
}

impl MediaInfo {
    /// The best video stream (the one [`crate::Decoder`] reads), if any.
    pub fn video(&self) -> Option<&StreamInfo> {
        self.streams
            .iter()
            .find(|s| s.kind == StreamKind::Video && s.decodable)
            .or_else(|| self.streams.iter().find(|s| s.kind == StreamKind::Video))
    }
}

fn kind(t: ff::media::Type) -> StreamKind {
    match t {
        ff::media::Type::Video => StreamKind::Video,
        ff::media::Type::Audio => StreamKind::Audio,
        ff::media::Type::Subtitle => StreamKind::Subtitle,
        ff::media::Type::Data => StreamKind::Data,
        ff::media::Type::Attachment => StreamKind::Attachment,
        _ => StreamKind::Unknown,
    }
}

/// Reads the container and stream facts of `path`. Frame counts come from the container
/// when it declares them, else from counting the stream's packets (this demuxes the
/// whole file, which is fast but reads all of it). Errors as for [`crate::Decoder::open`]
/// (missing, empty, not media); a file without video probes fine (see
/// [`MediaInfo::video`]).
pub fn probe(path: impl AsRef<Path>) -> Result<MediaInfo, Error> {
    let path = path.as_ref().to_path_buf();
    let mut input = open_input(&path)?;
    let mut streams = Vec::new();
    for s in input.streams() {
        let params = s.parameters();
        let k = kind(params.medium());
        let id = params.id();
        let decodable = id != ff::codec::Id::None && ff::decoder::find(id).is_some();
        let tb = rational(s.time_base());
        let (mut width, mut height, mut sample_rate, mut channels) = (None, None, None, None);
        let mut pixel_format = None;
        let (mut orientation, mut orientation_error) = (None, None);
        if k == StreamKind::Video {
            match stream_orientation(&s) {
                Ok(o) => orientation = Some(o),
                Err(e) => orientation_error = Some(e),
            }
        }
        if decodable && let Ok(ctx) = ff::codec::context::Context::from_parameters(params) {
            {
                match k {
                    StreamKind::Video => {
                        if let Ok(v) = ctx.decoder().video() {
                            width = Some(v.width()).filter(|w| *w > 0);
                            height = Some(v.height()).filter(|h| *h > 0);
                            pixel_format = pixel_format_name(v.format());
                        }
                    }
                    StreamKind::Audio => {
                        if let Ok(a) = ctx.decoder().audio() {
                            sample_rate = Some(a.rate()).filter(|r| *r > 0);
                            channels = Some(a.channels());
                        }
                    }
                    _ => {}
                }
            }
        }
        let declared = (s.frames() > 0).then_some(s.frames() as u64);
        streams.push(StreamInfo {
            index: s.index(),
            kind: k,
            codec: id.name().to_string(),
            decodable,
            width,
            height,
            orientation,
            orientation_error,
            pixel_format,
            frame_rate: if k == StreamKind::Video {
                stream_frame_rate(&s)
            } else {
                None
            },
            sample_rate,
            channels,
            time_base: tb,
            duration: tb
                .and_then(|tb| (s.duration() > 0).then(|| Timestamp::new(s.duration(), tb))),
            start_time: tb.and_then(|tb| timestamp(s.start_time(), tb)),
            frame_count: declared,
            frame_count_source: declared.map(|_| CountSource::Container),
        });
    }
    // Count packets for streams whose container does not declare a frame count.
    if streams
        .iter()
        .any(|s| s.frame_count.is_none() && matches!(s.kind, StreamKind::Video | StreamKind::Audio))
    {
        let mut counts = vec![0u64; streams.len()];
        let mut packet = ff::Packet::empty();
        let mut invalid = 0;
        loop {
            match packet.read(&mut input) {
                Ok(()) => {
                    if let Some(c) = counts.get_mut(packet.stream()) {
                        *c += 1;
                    }
                }
                Err(ff::Error::Eof) => break,
                Err(ff::Error::InvalidData) if invalid < 1000 => invalid += 1,
                Err(e) => {
                    return Err(Error::Unreadable {
                        path,
                        reason: describe(&e),
                    });
                }
            }
        }
        for (s, c) in streams.iter_mut().zip(counts) {
            if s.frame_count.is_none() && matches!(s.kind, StreamKind::Video | StreamKind::Audio) {
                s.frame_count = Some(c);
                s.frame_count_source = Some(CountSource::Packets);
            }
        }
    }
    let creation_time = input
        .streams()
        .best(ff::media::Type::Video)
        .and_then(|v| creation_time(&input, &v))
        .or_else(|| {
            input
                .metadata()
                .get("creation_time")
                .map(|t| t.trim().to_string())
        });
    let format = input.format();
    let has_audio = streams.iter().any(|s| s.kind == StreamKind::Audio);
    Ok(MediaInfo {
        format: format.name().to_string(),
        format_long: format.description().to_string(),
        duration: (input.duration() > 0)
            .then(|| Timestamp::new(input.duration(), Rational::MICROS)),
        start_time: streams.iter().filter_map(|s| s.start_time).min(),
        bit_rate: (input.bit_rate() > 0).then(|| input.bit_rate() as u64),
        creation_time,
        streams,
        has_audio,
        path,
    })
}
