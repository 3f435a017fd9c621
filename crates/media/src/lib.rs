//! Media I/O for Obscura over FFmpeg (ffmpeg-next 9, FFmpeg 5.1+).
//!
//! * [`Decoder`]: any FFmpeg input (MP4/MKV/AVI/MOV; H.264, H.265, MPEG-4, MS-MPEG4,
//!   MJPEG; animated GIF; single JPEG/PNG stills) to YUV420P [`obscura_core::Frame`]s
//!   with exact PTS in the stream time base.
//! * [`probe()`]: container and stream facts ([`MediaInfo`], `Serialize` for JSON).
//! * [`Encoder`]: H.264 (libx264) in MP4, written atomically (a dropped or failed
//!   encoder leaves no file), no source metadata copied, optional audio
//!   ([`AudioMode`]).
//! * [`cut()`]: the frame-exact erasure export (keep only frames whose PTS lies in an
//!   [`obscura_core::IntervalSet`]; one file per kept period).
//! * [`Limits`]: resource limits for untrusted media.
//!
//! Decoder and Encoder are `Send`, so a pipeline can decode, infer and encode on
//! different threads. All errors are one [`Error`] enum whose messages name the file.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod convert;
pub mod cut;
pub mod decode;
pub mod encode;
mod error;
pub mod limits;
pub mod orient;
pub mod probe;
mod source;

pub use cut::{CutPart, cut, empty_periods, part_path};

/// The FFmpeg libraries this process runs on, e.g. `libavcodec 59.37.100, libavformat
/// 59.27.100, libavutil 57.28.100` (the shared libraries loaded, not the headers built against).
pub fn ffmpeg_versions() -> String {
    let v = |n: u32| format!("{}.{}.{}", n >> 16, (n >> 8) & 0xff, n & 0xff);
    format!(
        "libavcodec {}, libavformat {}, libavutil {}",
        v(ffmpeg_next::codec::version()),
        v(ffmpeg_next::format::version()),
        v(ffmpeg_next::util::version())
    )
}
pub use decode::{DecodeOptions, Decoder, VideoInfo};
pub use encode::{
    AudioMode, AudioSource, Encoder, EncoderSettings, EncoderSettingsBuilder, Preset, VideoSpec,
};
pub use error::{Error, LimitKind, Shown, serialize_path_lossy};
pub use limits::Limits;
pub use orient::Orientation;
pub use probe::{CountSource, MediaInfo, StreamInfo, StreamKind, probe};
pub use source::{check_input_file, open_regular_file};
