//! What an [`super::Encoder`] is told: [`EncoderSettings`] (x264 [`Preset`], CRF, bitrate,
//! [`AudioMode`]), the [`VideoSpec`] of the stream and the [`AudioSource`] audio is taken from.

use std::path::PathBuf;
use std::str::FromStr;

use obscura_core::civil::WallTime;
use obscura_core::{IntervalSet, Rational, Timestamp};

use crate::decode::VideoInfo;
use crate::error::Error;

/// x264 speed/quality presets, fastest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[allow(missing_docs)]
pub enum Preset {
    Ultrafast,
    Superfast,
    #[default]
    Veryfast,
    Faster,
    Fast,
    Medium,
    Slow,
    Slower,
    Veryslow,
}

impl Preset {
    /// All presets, fastest first.
    pub const ALL: [Preset; 9] = [
        Preset::Ultrafast,
        Preset::Superfast,
        Preset::Veryfast,
        Preset::Faster,
        Preset::Fast,
        Preset::Medium,
        Preset::Slow,
        Preset::Slower,
        Preset::Veryslow,
    ];

    /// The name x264 uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Ultrafast => "ultrafast",
            Preset::Superfast => "superfast",
            Preset::Veryfast => "veryfast",
            Preset::Faster => "faster",
            Preset::Fast => "fast",
            Preset::Medium => "medium",
            Preset::Slow => "slow",
            Preset::Slower => "slower",
            Preset::Veryslow => "veryslow",
        }
    }
}

impl FromStr for Preset {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Preset::ALL.into_iter().find(|p| p.as_str() == s).ok_or_else(|| Error::InvalidSetting {
            name: "preset",
            value: s.to_string(),
            reason: "expected one of ultrafast, superfast, veryfast, faster, fast, medium, slow, slower, veryslow".into(),
        })
    }
}

/// What happens to the source's audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AudioMode {
    /// No audio track (the default: speech is personal data too).
    #[default]
    Drop,
    /// The source's audio for the kept time ranges, re-encoded to AAC (FFmpeg's native
    /// encoder; mono and stereo kept, more channels downmixed to stereo).
    Keep,
    /// A silent AAC track as long as the video (source rate, stereo; 48 kHz without source audio).
    Mute,
}

impl FromStr for AudioMode {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "drop" => Ok(AudioMode::Drop),
            "keep" => Ok(AudioMode::Keep),
            "mute" => Ok(AudioMode::Mute),
            _ => Err(Error::InvalidSetting {
                name: "audio",
                value: s.into(),
                reason: "expected drop, keep or mute".into(),
            }),
        }
    }
}

/// Validated encoder settings; build with [`EncoderSettings::builder`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncoderSettings {
    pub(super) crf: u8,
    pub(super) preset: Preset,
    pub(super) bitrate: Option<u64>,
    pub(super) audio: AudioMode,
}

impl Default for EncoderSettings {
    /// CRF 20, preset `veryfast` (real time at 1080p on 2 cores with detection; slower
    /// presets cost 2-3x the encode time, see BENCHMARKS.md), no bit-rate target, audio dropped.
    fn default() -> Self {
        Self {
            crf: 20,
            preset: Preset::Veryfast,
            bitrate: None,
            audio: AudioMode::Drop,
        }
    }
}

impl EncoderSettings {
    /// A builder starting from the defaults.
    pub fn builder() -> EncoderSettingsBuilder {
        EncoderSettingsBuilder {
            settings: Self::default(),
            crf: None,
            bitrate: None,
        }
    }

    /// Constant rate factor (0 lossless ... 51 worst); ignored when a bit rate is set.
    pub fn crf(&self) -> u8 {
        self.crf
    }

    /// x264 preset.
    pub fn preset(&self) -> Preset {
        self.preset
    }

    /// Target bit rate in bit/s (average bit rate mode instead of CRF).
    pub fn bitrate(&self) -> Option<u64> {
        self.bitrate
    }

    /// Audio handling.
    pub fn audio(&self) -> AudioMode {
        self.audio
    }
}

/// Builder for [`EncoderSettings`]; [`EncoderSettingsBuilder::build`] validates and returns
/// [`Error::InvalidSetting`] carrying the bad value.
#[derive(Debug, Clone)]
pub struct EncoderSettingsBuilder {
    settings: EncoderSettings,
    crf: Option<i64>,
    bitrate: Option<u64>,
}

impl EncoderSettingsBuilder {
    /// Constant rate factor, 0..=51.
    pub fn crf(mut self, crf: i64) -> Self {
        self.crf = Some(crf);
        self
    }

    /// x264 preset.
    pub fn preset(mut self, preset: Preset) -> Self {
        self.settings.preset = preset;
        self
    }

    /// Target bit rate in bit/s, 10 kbit/s ..= 1 Gbit/s.
    pub fn bitrate(mut self, bits_per_second: u64) -> Self {
        self.bitrate = Some(bits_per_second);
        self
    }

    /// Audio handling.
    pub fn audio(mut self, audio: AudioMode) -> Self {
        self.settings.audio = audio;
        self
    }

    /// Validates and returns the settings.
    pub fn build(self) -> Result<EncoderSettings, Error> {
        let mut s = self.settings;
        if let Some(crf) = self.crf {
            if !(0..=51).contains(&crf) {
                return Err(Error::InvalidSetting {
                    name: "crf",
                    value: crf.to_string(),
                    reason: "must be 0..=51".into(),
                });
            }
            s.crf = crf as u8;
        }
        if let Some(b) = self.bitrate {
            if !(10_000..=1_000_000_000).contains(&b) {
                return Err(Error::InvalidSetting {
                    name: "bitrate",
                    value: b.to_string(),
                    reason: "must be 10000..=1000000000 bit/s".into(),
                });
            }
            s.bitrate = Some(b);
        }
        Ok(s)
    }
}

/// The video stream to encode: size, time base of the frames' PTS, nominal frame rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoSpec {
    /// Width in pixels of the frames that will be written. 4:2:0 H.264 needs even sizes,
    /// so an odd width is encoded one pixel wider, the last column repeated.
    pub width: u32,
    /// Height in pixels (an odd height gets the last row repeated, as for the width).
    pub height: u32,
    /// Time base of the PTS of the frames that will be written.
    pub time_base: Rational,
    /// Nominal frame rate, written as the stream's frame rate (None: derived from PTS).
    pub frame_rate: Option<Rational>,
    /// Wall-clock time of the first written frame, stored as the output's `creation_time`
    /// (`None`: no creation time is written).
    pub creation_time: Option<WallTime>,
}

impl VideoSpec {
    /// The spec matching a decoded stream (same size, time base and frame rate), with the
    /// stream's creation time when it has one that parses (for output that starts at the
    /// stream's first frame; [`crate::cut()`] moves it to each part's first frame).
    pub fn from_info(info: &VideoInfo) -> Self {
        Self {
            width: info.width,
            height: info.height,
            time_base: info.time_base,
            frame_rate: info.frame_rate,
            creation_time: info.creation_time.as_deref().and_then(WallTime::parse),
        }
    }
}

/// Where [`AudioMode::Keep`] takes its audio from, so the encoder can interleave audio
/// itself while frames arrive from any thread.
///
/// Samples of the best audio stream of `path` whose time (the source's clock, the same as
/// the PTS of the video frames a [`crate::Decoder`] yields) lies in `kept` are written at
/// output time `time - offset`, and never past the end of the last video frame. Use one
/// interval per output file (what [`crate::cut()`] does): the encoder fills short gaps
/// with silence to stay in sync, so several intervals in one file would not be
/// concatenated.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioSource {
    /// The source file.
    pub path: PathBuf,
    /// The time ranges of the source to take audio from.
    pub kept: IntervalSet,
    /// Source time that maps to output time zero (the first written frame's source PTS
    /// when frames are written rebased to zero).
    pub offset: Timestamp,
}
