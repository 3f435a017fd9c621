//! The one error type of obscura-media.

use std::fmt;
use std::path::PathBuf;

/// A path for a one-line message: shown as `Path::display` does, with control characters
/// (a newline or escape sequence in a hostile file name) escaped, so an error stays one
/// line and cannot drive the terminal.
#[derive(Debug, Clone, Copy)]
pub struct Shown<'a>(pub &'a std::path::Path);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        for c in self.0.to_string_lossy().chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                f.write_char(c)?;
            }
        }
        Ok(())
    }
}

/// Serializes a path as text, replacing bytes that are not UTF-8 (serde's own impl fails
/// on such a name, and a JSON report must not fail because of a file name).
pub fn serialize_path_lossy<S: serde::Serializer>(
    path: &std::path::Path,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(&path.to_string_lossy())
}

/// Which resource limit was exceeded (see [`crate::Limits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LimitKind {
    /// Picture width in pixels.
    Width,
    /// Picture height in pixels.
    Height,
    /// Pixels per picture (width x height).
    Pixels,
    /// Number of decoded frames.
    Frames,
    /// Media duration in milliseconds.
    DurationMillis,
}

impl fmt::Display for LimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LimitKind::Width => "width",
            LimitKind::Height => "height",
            LimitKind::Pixels => "pixel count",
            LimitKind::Frames => "frame count",
            LimitKind::DurationMillis => "duration (ms)",
        })
    }
}

/// Errors of the media layer. Every variant that concerns a file names it, so the message
/// alone (one line) tells the user which file and what is wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input does not exist or is not a regular file.
    #[error("{}: no such file", Shown(path))]
    NotFound {
        /// The path as given.
        path: PathBuf,
    },
    /// FFmpeg could not open or read the file as media (not a video, truncated, empty...).
    #[error("{}: {reason}", Shown(path))]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What FFmpeg reported, in words.
        reason: String,
    },
    /// The file holds no video stream.
    #[error("{}: no video stream", Shown(path))]
    NoVideo {
        /// The file.
        path: PathBuf,
    },
    /// The video stream's codec has no decoder in this FFmpeg build.
    #[error("{}: unsupported or unknown video codec {codec:?}", Shown(path))]
    UnsupportedCodec {
        /// The file.
        path: PathBuf,
        /// The codec name FFmpeg reported (`none` when unknown).
        codec: String,
    },
    /// Decoding failed part-way (corrupt or truncated data).
    #[error("{}: decoding failed: {reason}", Shown(path))]
    Decode {
        /// The file.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
    /// A resource limit was exceeded.
    #[error("{}: {kind} {value} exceeds the limit of {max}", Shown(path))]
    LimitExceeded {
        /// The file.
        path: PathBuf,
        /// Which limit.
        kind: LimitKind,
        /// The value found.
        value: u64,
        /// The configured maximum.
        max: u64,
    },
    /// Encoding or muxing the output failed.
    #[error("{}: encoding failed: {reason}", Shown(path))]
    Encode {
        /// The output file.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
    /// A setting was out of range (builders return this, carrying the bad value).
    #[error("invalid setting {name} = {value}: {reason}")]
    InvalidSetting {
        /// The setting's name.
        name: &'static str,
        /// The value given.
        value: String,
        /// What is allowed.
        reason: String,
    },
    /// A cut request that cannot be met (nothing kept, a period without frames, output
    /// equal to the input...).
    #[error("{}: {reason}", Shown(path))]
    InvalidCut {
        /// The input file.
        path: PathBuf,
        /// The problem.
        reason: String,
    },
    /// Audio was requested (keep) but the source has none.
    #[error("{}: no audio stream to keep", Shown(path))]
    NoAudio {
        /// The source file.
        path: PathBuf,
    },
    /// A frame handed to the encoder does not fit the stream (size, layout, time order).
    #[error("{}: bad frame {index}: {reason}", Shown(path))]
    BadFrame {
        /// The output file.
        path: PathBuf,
        /// The frame's index.
        index: u64,
        /// What is wrong.
        reason: String,
    },
    /// File system error (creating, syncing or renaming an output).
    #[error("{}: {source}", Shown(path))]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// Turns an FFmpeg error into words a user understands.
pub(crate) fn describe(e: &ffmpeg_next::Error) -> String {
    match e {
        ffmpeg_next::Error::InvalidData => {
            "not a recognised media file or the data is corrupt (invalid data)".into()
        }
        ffmpeg_next::Error::Eof => "unexpected end of file".into(),
        ffmpeg_next::Error::DecoderNotFound => "no decoder for this codec".into(),
        ffmpeg_next::Error::EncoderNotFound => "encoder not found in this FFmpeg build".into(),
        other => other.to_string(),
    }
}
