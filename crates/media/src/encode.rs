//! Encoding: H.264 (libx264) in MP4, committed atomically, no source metadata.
//!
//! Metadata policy: the output carries no metadata from any source. Nothing is copied from
//! the input container or streams (no GPS/location, device, titles, handler names or
//! encoder strings of the source); the only tags present are the ones the MP4 muxer and
//! x264 always write about themselves (`major_brand`, `encoder=Lavf...`,
//! `handler_name=VideoHandler`, x264's settings SEI), plus one evidence fact computed for
//! the output itself: [`VideoSpec::creation_time`], the wall-clock time of the output's
//! first frame (MP4 stores it in whole seconds), so an exported period can still be placed
//! on the wall clock.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use ffmpeg_next as ff;
use obscura_core::atomic::PendingFile;
use obscura_core::civil::WallTime;
use obscura_core::{Frame, IntervalSet, PixelFormat, Rational, Timestamp};

use crate::convert::{ff_rational, fill_yuv420p};
use crate::decode::{VideoInfo, init, open_input};
use crate::error::{Error, describe};

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
    crf: u8,
    preset: Preset,
    bitrate: Option<u64>,
    audio: AudioMode,
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

fn eagain(e: &ff::Error) -> bool {
    matches!(e, ff::Error::Other { errno } if *errno == ff::util::error::EAGAIN)
}

/// Encodes YUV420P [`Frame`]s to an H.264 MP4, atomically.
///
/// The file is written to a temporary sibling of `dest` and renamed on
/// [`Encoder::finish`]; an encoder that is dropped or fails leaves no file. Frame PTS are
/// kept (rescaled from [`VideoSpec::time_base`] to the muxer's time base), so variable
/// frame rates survive, and the stream's frame rate is the spec's. `Encoder` is `Send`.
pub struct Encoder {
    octx: ff::format::context::Output,
    video: ff::encoder::Video,
    audio: Option<AudioTrack>,
    video_index: usize,
    enc_tb: ff::Rational,
    stream_tb: ff::Rational,
    spec: VideoSpec,
    picture: ff::frame::Video,
    written: u64,
    last_pts: Option<i64>,
    prev_pts: Option<i64>,
    dest: PathBuf,
    /// The open output folder when the URL goes through `/proc/self/fd` (non-UTF-8 paths).
    _url_dir: Option<std::fs::File>,
    // Declared last: dropped after `octx` has closed the file, then removes it.
    pending: PendingFile,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("dest", &self.dest)
            .field("spec", &self.spec)
            .field("written", &self.written)
            .finish()
    }
}

impl Encoder {
    /// Creates an encoder for `dest` without an audio source. [`AudioMode::Mute`] still
    /// writes a silent 48 kHz stereo track; [`AudioMode::Keep`] needs
    /// [`Encoder::create_with_audio`].
    pub fn create(
        dest: impl AsRef<Path>,
        spec: &VideoSpec,
        settings: &EncoderSettings,
    ) -> Result<Self, Error> {
        Self::create_with_audio(dest, spec, settings, None)
    }

    /// Creates an encoder for `dest`; with [`AudioMode::Keep`] or [`AudioMode::Mute`] the
    /// audio is taken from (or shaped after) `audio`'s source. Keep fails with
    /// [`Error::NoAudio`] when the source has no audio stream.
    pub fn create_with_audio(
        dest: impl AsRef<Path>,
        spec: &VideoSpec,
        settings: &EncoderSettings,
        audio: Option<&AudioSource>,
    ) -> Result<Self, Error> {
        init();
        let dest = dest.as_ref().to_path_buf();
        for (name, v) in [("width", spec.width), ("height", spec.height)] {
            if v == 0 || v > 16384 {
                return Err(Error::InvalidSetting {
                    name,
                    value: v.to_string(),
                    reason: "must be 1..=16384 pixels".into(),
                });
            }
        }
        // 4:2:0 H.264 needs even sizes: odd ones are padded by one pixel (edge repeated).
        let (enc_w, enc_h) = (
            spec.width.next_multiple_of(2),
            spec.height.next_multiple_of(2),
        );
        if settings.audio == AudioMode::Keep && audio.is_none() {
            return Err(Error::InvalidSetting {
                name: "audio",
                value: "keep".into(),
                reason: "needs an AudioSource to take the audio from".into(),
            });
        }
        let enc_err = |e: ff::Error| Error::Encode {
            path: dest.clone(),
            reason: describe(&e),
        };
        let pending = PendingFile::new(&dest).map_err(|source| Error::Io {
            path: dest.clone(),
            source,
        })?;
        // `file:` + absolute path: no part of the name is taken for an FFmpeg protocol.
        let (url, url_dir) = crate::source::output_url(pending.temp_path())?;
        let mut octx = ff::format::output_as(&url, "mp4").map_err(enc_err)?;
        let global_header = octx
            .format()
            .flags()
            .contains(ff::format::Flags::GLOBAL_HEADER);

        let codec = ff::encoder::find_by_name("libx264").ok_or_else(|| Error::Encode {
            path: dest.clone(),
            reason: "libx264 is not available in this FFmpeg build".into(),
        })?;
        let enc_tb = ff_rational(spec.time_base);
        let mut enc = ff::codec::context::Context::new_with_codec(codec)
            .encoder()
            .video()
            .map_err(enc_err)?;
        enc.set_width(enc_w);
        enc.set_height(enc_h);
        enc.set_format(ff::format::Pixel::YUV420P);
        enc.set_time_base(enc_tb);
        enc.set_frame_rate(spec.frame_rate.map(ff_rational));
        if global_header {
            enc.set_flags(ff::codec::Flags::GLOBAL_HEADER);
        }
        let mut opts = ff::Dictionary::new();
        opts.set("preset", settings.preset.as_str());
        match settings.bitrate {
            Some(b) => enc.set_bit_rate(b as usize),
            None => opts.set("crf", &settings.crf.to_string()),
        }
        let video = enc.open_as_with(codec, opts).map_err(enc_err)?;
        let video_index = {
            let mut ost = octx.add_stream(codec).map_err(enc_err)?;
            ost.set_parameters(&video);
            ost.set_time_base(enc_tb);
            if let Some(r) = spec.frame_rate {
                ost.set_avg_frame_rate(ff_rational(r));
                ost.set_rate(ff_rational(r));
            }
            ost.index()
        };
        let audio = match settings.audio {
            AudioMode::Drop => None,
            mode => Some(AudioTrack::new(
                &mut octx,
                mode,
                audio,
                global_header,
                &dest,
            )?),
        };
        let mut metadata = ff::Dictionary::new();
        if let Some(t) = spec.creation_time {
            metadata.set("creation_time", &t.to_creation_time());
        }
        octx.set_metadata(metadata);
        let mut header_opts = ff::Dictionary::new();
        header_opts.set("movflags", "+faststart");
        octx.write_header_with(header_opts).map_err(enc_err)?;
        let stream_tb = octx
            .stream(video_index)
            .map(|s| s.time_base())
            .unwrap_or(enc_tb);
        let mut audio = audio;
        if let Some(a) = audio.as_mut() {
            a.stream_tb = octx
                .stream(a.index)
                .map(|s| s.time_base())
                .unwrap_or(a.stream_tb);
        }
        Ok(Self {
            octx,
            video,
            audio,
            video_index,
            enc_tb,
            stream_tb,
            spec: *spec,
            picture: ff::frame::Video::new(ff::format::Pixel::YUV420P, enc_w, enc_h),
            written: 0,
            last_pts: None,
            prev_pts: None,
            dest,
            _url_dir: url_dir,
            pending,
        })
    }

    /// The final path.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Frames written so far.
    pub fn frames_written(&self) -> u64 {
        self.written
    }

    fn enc_err(&self, e: ff::Error) -> Error {
        Error::Encode {
            path: self.dest.clone(),
            reason: describe(&e),
        }
    }

    /// Encodes one frame. Its size must match the spec and its PTS (in any time base;
    /// rescaled to the spec's) must be after the previous frame's. RGB frames are converted
    /// to YUV420P first.
    pub fn write(&mut self, frame: &Frame) -> Result<(), Error> {
        let bad = |reason: String| Error::BadFrame {
            path: self.dest.clone(),
            index: frame.index,
            reason,
        };
        if frame.width != self.spec.width || frame.height != self.spec.height {
            return Err(bad(format!(
                "size {}x{} differs from the stream's {}x{}",
                frame.width, frame.height, self.spec.width, self.spec.height
            )));
        }
        frame.validate().map_err(|e| bad(e.to_string()))?;
        let converted;
        let yuv = if frame.format == PixelFormat::Yuv420p {
            frame
        } else {
            converted = Frame::from_rgb24_to_yuv420(
                &frame.to_rgb24(),
                frame.width,
                frame.height,
                frame.index,
                frame.pts,
            )
            .map_err(|e| bad(e.to_string()))?;
            &converted
        };
        let pts = frame.pts.rescale_floor(self.spec.time_base).ticks;
        if let Some(last) = self.last_pts
            && pts <= last
        {
            return Err(bad(format!(
                "PTS {} is not after the previous frame's",
                frame.pts
            )));
        }
        fill_yuv420p(&mut self.picture, yuv);
        self.picture.set_pts(Some(pts));
        self.picture.set_kind(ff::picture::Type::None);
        self.video
            .send_frame(&self.picture)
            .map_err(|e| self.enc_err(e))?;
        self.prev_pts = self.last_pts;
        self.last_pts = Some(pts);
        self.written += 1;
        self.drain_video()?;
        if let Some(a) = self.audio.as_mut() {
            let t = Timestamp::new(pts, self.spec.time_base);
            a.pump(&mut self.octx, t, false)
                .map_err(|e| Error::Encode {
                    path: self.dest.clone(),
                    reason: format!("audio: {e}"),
                })?;
        }
        Ok(())
    }

    fn drain_video(&mut self) -> Result<(), Error> {
        let mut packet = ff::Packet::empty();
        loop {
            match self.video.receive_packet(&mut packet) {
                Ok(()) => {
                    packet.set_stream(self.video_index);
                    packet.rescale_ts(self.enc_tb, self.stream_tb);
                    packet
                        .write_interleaved(&mut self.octx)
                        .map_err(|e| self.enc_err(e))?;
                }
                Err(ref e) if eagain(e) => return Ok(()),
                Err(ff::Error::Eof) => return Ok(()),
                Err(e) => return Err(self.enc_err(e)),
            }
        }
    }

    /// The end of the video in the spec's time base: last PTS plus one frame period (the
    /// nominal one, else the last PTS step, else one tick).
    fn video_end(&self) -> Option<Timestamp> {
        let last = self.last_pts?;
        let period = match self.spec.frame_rate {
            Some(r) => {
                Timestamp::new(1, Rational::new(r.den(), r.num()).expect("positive"))
                    .rescale_ceil(self.spec.time_base)
                    .ticks
            }
            None => self.prev_pts.map_or(1, |p| last - p),
        };
        Some(Timestamp::new(last + period.max(1), self.spec.time_base))
    }

    /// Flushes the encoders, writes the trailer and closes the file, but does not publish
    /// it: the returned [`PendingFile`] commits (or, dropped, removes) it. For callers that
    /// publish several files together ([`crate::cut()`]).
    pub fn finish_pending(mut self) -> Result<PendingFile, Error> {
        if self.written == 0 {
            return Err(Error::Encode {
                path: self.dest.clone(),
                reason: "no frames were written".into(),
            });
        }
        self.video.send_eof().map_err(|e| self.enc_err(e))?;
        self.drain_video()?;
        if let Some(end) = self.video_end()
            && let Some(a) = self.audio.as_mut()
        {
            a.pump(&mut self.octx, end, true)
                .map_err(|e| Error::Encode {
                    path: self.dest.clone(),
                    reason: format!("audio: {e}"),
                })?;
        }
        self.octx.write_trailer().map_err(|e| self.enc_err(e))?;
        let Encoder {
            octx,
            video,
            audio,
            pending,
            ..
        } = self;
        drop(audio);
        drop(video);
        drop(octx); // closes the file
        // FFmpeg created the file with the default mode; exports are private (0600).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(
                pending.temp_path(),
                std::fs::Permissions::from_mode(0o600),
            );
        }
        Ok(pending)
    }

    /// Flushes, writes the trailer and publishes the file atomically at `dest`.
    pub fn finish(self) -> Result<PathBuf, Error> {
        let dest = self.dest.clone();
        self.finish_pending()?
            .commit()
            .map_err(|source| Error::Io { path: dest, source })
    }
}

/// The audio stream of an output: AAC, fed from a source file or with silence.
struct AudioTrack {
    enc: ff::encoder::Audio,
    index: usize,
    enc_tb: ff::Rational,
    stream_tb: ff::Rational,
    rate: u32,
    layout: ff::ChannelLayout,
    frame_size: usize,
    fifo: Vec<Vec<f32>>,
    /// Samples sent to the encoder so far (the next frame's PTS in 1/rate).
    next_pts: i64,
    feed: Option<SourceAudio>,
}

struct SourceAudio {
    input: ff::format::context::Input,
    index: usize,
    dec: ff::decoder::Audio,
    src_tb: Rational,
    sample_tb: Rational,
    kept: IntervalSet,
    offset_samples: i64,
    eof_sent: bool,
    done: bool,
    next_src_sample: Option<i64>,
}

fn layout_of(channels: u16, layout: ff::ChannelLayout) -> ff::ChannelLayout {
    if layout.is_empty() || layout.channels() != i32::from(channels) {
        ff::ChannelLayout::default(i32::from(channels))
    } else {
        layout
    }
}

impl AudioTrack {
    fn new(
        octx: &mut ff::format::context::Output,
        mode: AudioMode,
        source: Option<&AudioSource>,
        global_header: bool,
        dest: &Path,
    ) -> Result<Self, Error> {
        let enc_err = |e: ff::Error| Error::Encode {
            path: dest.to_path_buf(),
            reason: format!("audio: {}", describe(&e)),
        };
        // Open the source's best audio stream (needed for Keep; used for the format of Mute).
        let mut src = None;
        if let Some(s) = source {
            let input = open_input(&s.path)?;
            let found = input
                .streams()
                .best(ff::media::Type::Audio)
                .map(|st| (st.index(), st.parameters(), st.time_base()));
            match found {
                Some((index, params, tb)) => {
                    let mut dec = ff::codec::context::Context::from_parameters(params)
                        .and_then(|c| c.decoder().audio())
                        .map_err(|e| Error::Decode {
                            path: s.path.clone(),
                            reason: format!("audio: {}", describe(&e)),
                        })?;
                    dec.set_packet_time_base(tb);
                    let src_tb = crate::convert::rational(tb).ok_or_else(|| Error::Decode {
                        path: s.path.clone(),
                        reason: "audio stream without time base".into(),
                    })?;
                    src = Some((input, index, dec, src_tb, s));
                }
                None if mode == AudioMode::Keep => {
                    return Err(Error::NoAudio {
                        path: s.path.clone(),
                    });
                }
                None => {}
            }
        }
        let (rate, channels) = match &src {
            Some((_, _, dec, _, _)) => (dec.rate().max(8000), dec.channels().clamp(1, 2)),
            None => (48_000, 2),
        };
        let layout = ff::ChannelLayout::default(i32::from(channels));
        let codec = ff::encoder::find(ff::codec::Id::AAC).ok_or_else(|| Error::Encode {
            path: dest.to_path_buf(),
            reason: "no AAC encoder".into(),
        })?;
        let mut enc = ff::codec::context::Context::new_with_codec(codec)
            .encoder()
            .audio()
            .map_err(enc_err)?;
        let enc_tb = ff::Rational::new(1, rate as i32);
        enc.set_rate(rate as i32);
        enc.set_channel_layout(layout);
        enc.set_format(ff::format::Sample::F32(ff::format::sample::Type::Planar));
        enc.set_time_base(enc_tb);
        enc.set_bit_rate(128_000);
        if global_header {
            enc.set_flags(ff::codec::Flags::GLOBAL_HEADER);
        }
        let enc = enc.open_as(codec).map_err(enc_err)?;
        let frame_size = (enc.frame_size() as usize).max(1);
        let index = {
            let mut ost = octx.add_stream(codec).map_err(enc_err)?;
            ost.set_parameters(&enc);
            ost.set_time_base(enc_tb);
            ost.index()
        };
        let sample_tb = Rational::new(1, rate as i32).expect("positive rate");
        let feed = match (mode, src) {
            (AudioMode::Keep, Some((mut input, index, mut dec, src_tb, s))) => {
                // Far into the file, seek the audio to a second before the kept range.
                if let Some(first) = s.kept.intervals().first() {
                    let us = first.start().rescale_floor(Rational::MICROS).ticks - 1_000_000;
                    if us > 10_000_000 && input.seek(us, ..us).is_ok() {
                        dec.flush();
                    }
                }
                Some(SourceAudio {
                    input,
                    index,
                    dec,
                    src_tb,
                    sample_tb,
                    kept: s.kept.clone(),
                    offset_samples: s.offset.rescale_floor(sample_tb).ticks,
                    eof_sent: false,
                    done: false,
                    next_src_sample: None,
                })
            }
            _ => None,
        };
        Ok(Self {
            enc,
            index,
            enc_tb,
            stream_tb: enc_tb,
            rate,
            layout,
            frame_size,
            fifo: vec![Vec::new(); usize::from(channels)],
            next_pts: 0,
            feed,
        })
    }

    fn fifo_len(&self) -> usize {
        self.fifo[0].len()
    }

    fn encode_chunk(
        &mut self,
        octx: &mut ff::format::context::Output,
        n: usize,
    ) -> Result<(), ff::Error> {
        let mut frame = ff::frame::Audio::new(
            ff::format::Sample::F32(ff::format::sample::Type::Planar),
            n,
            self.layout,
        );
        frame.set_rate(self.rate);
        for (ch, buf) in self.fifo.iter_mut().enumerate() {
            frame.plane_mut::<f32>(ch)[..n].copy_from_slice(&buf[..n]);
            buf.drain(..n);
        }
        frame.set_pts(Some(self.next_pts));
        self.next_pts += n as i64;
        self.enc.send_frame(&frame)?;
        self.drain(octx)
    }

    fn drain(&mut self, octx: &mut ff::format::context::Output) -> Result<(), ff::Error> {
        let mut packet = ff::Packet::empty();
        loop {
            match self.enc.receive_packet(&mut packet) {
                Ok(()) => {
                    packet.set_stream(self.index);
                    packet.rescale_ts(self.enc_tb, self.stream_tb);
                    packet.write_interleaved(octx)?;
                }
                Err(ref e) if eagain(e) => return Ok(()),
                Err(ff::Error::Eof) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }

    /// Encodes audio up to output time `until`; with `last`, also the final partial frame
    /// (cut exactly at `until`) and the encoder's flush.
    fn pump(
        &mut self,
        octx: &mut ff::format::context::Output,
        until: Timestamp,
        last: bool,
    ) -> Result<(), ff::Error> {
        let sample_tb = Rational::new(1, self.rate as i32).expect("positive rate");
        let until = until.rescale_ceil(sample_tb).ticks.max(0);
        loop {
            while self.fifo_len() >= self.frame_size
                && self.next_pts + self.frame_size as i64 <= until
            {
                self.encode_chunk(octx, self.frame_size)?;
            }
            let end = self.next_pts + self.fifo_len() as i64;
            if end >= until {
                break;
            }
            match self.feed.as_mut() {
                None => {
                    let n = (until - end) as usize;
                    for ch in &mut self.fifo {
                        ch.resize(ch.len() + n, 0.0);
                    }
                }
                Some(src) => {
                    if !src.pull(&mut self.fifo, end, self.layout)? {
                        break;
                    }
                }
            }
        }
        if last {
            let keep = (until - self.next_pts).clamp(0, self.fifo_len() as i64) as usize;
            for ch in &mut self.fifo {
                ch.truncate(keep);
            }
            while self.fifo_len() > 0 {
                let n = self.fifo_len().min(self.frame_size);
                self.encode_chunk(octx, n)?;
            }
            self.enc.send_eof()?;
            self.drain(octx)?;
        }
        Ok(())
    }
}

impl SourceAudio {
    /// Decodes one more audio frame and appends its kept samples at their output
    /// positions (`fifo_end` is the output sample position where the FIFO ends). Returns
    /// false at the end of the source.
    fn pull(
        &mut self,
        fifo: &mut [Vec<f32>],
        fifo_end: i64,
        out_layout: ff::ChannelLayout,
    ) -> Result<bool, ff::Error> {
        let mut decoded = ff::frame::Audio::empty();
        loop {
            if self.done {
                return Ok(false);
            }
            match self.dec.receive_frame(&mut decoded) {
                Ok(()) => {
                    self.append(&decoded, fifo, fifo_end, out_layout)?;
                    return Ok(true);
                }
                Err(ff::Error::Eof) => {
                    self.done = true;
                    return Ok(false);
                }
                Err(ref e) if eagain(e) => {}
                Err(e) => return Err(e),
            }
            if self.eof_sent {
                self.done = true;
                return Ok(false);
            }
            let mut packet = ff::Packet::empty();
            loop {
                match packet.read(&mut self.input) {
                    Ok(()) if packet.stream() == self.index => {
                        // A corrupt audio packet is skipped (silence fills its time).
                        let _ = self.dec.send_packet(&packet);
                        break;
                    }
                    Ok(()) => {}
                    Err(ff::Error::Eof) => {
                        self.dec.send_eof()?;
                        self.eof_sent = true;
                        break;
                    }
                    Err(ff::Error::InvalidData) => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }

    fn append(
        &mut self,
        decoded: &ff::frame::Audio,
        fifo: &mut [Vec<f32>],
        fifo_end: i64,
        out_layout: ff::ChannelLayout,
    ) -> Result<(), ff::Error> {
        let in_layout = layout_of(decoded.channels(), decoded.channel_layout());
        let mut resampler = ff::software::resampling::Context::get(
            decoded.format(),
            in_layout,
            decoded.rate(),
            ff::format::Sample::F32(ff::format::sample::Type::Planar),
            out_layout,
            self.sample_tb.den() as u32,
        )?;
        let mut out = ff::frame::Audio::empty();
        resampler.run(decoded, &mut out)?;
        let n = out.samples();
        let first = match decoded.timestamp().or(decoded.pts()) {
            Some(t) => {
                Timestamp::new(t, self.src_tb)
                    .rescale_floor(self.sample_tb)
                    .ticks
            }
            None => self.next_src_sample.unwrap_or(0),
        };
        self.next_src_sample = Some(first + n as i64);
        let frame_span = (
            Timestamp::new(first, self.sample_tb),
            Timestamp::new(first + n as i64 - 1, self.sample_tb),
        );
        let whole = self
            .kept
            .interval_containing(frame_span.0)
            .is_some_and(|iv| iv.contains(frame_span.1));
        let mut pos = fifo_end;
        for i in 0..n {
            let src = first + i as i64;
            if !whole && !self.kept.contains(Timestamp::new(src, self.sample_tb)) {
                continue;
            }
            let out_pos = src - self.offset_samples;
            if out_pos < pos {
                if out_pos < 0 || pos - out_pos > i64::from(self.sample_tb.den()) / 10 {
                    // Before the output start, or far behind (overlapping source timestamps).
                    continue;
                }
            } else if out_pos > pos + i64::from(self.sample_tb.den()) / 100 {
                // A gap of more than 10 ms (late audio start, lost packets): keep sync with silence.
                let gap = (out_pos - pos) as usize;
                for ch in fifo.iter_mut() {
                    ch.resize(ch.len() + gap, 0.0);
                }
                pos = out_pos;
            }
            for (ch, buf) in fifo.iter_mut().enumerate() {
                buf.push(out.plane::<f32>(ch)[i]);
            }
            pos += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>() {}

    #[test]
    fn encoder_is_send() {
        assert_send::<Encoder>();
    }

    #[test]
    fn builder_validates_and_carries_the_bad_value() {
        let s = EncoderSettings::builder()
            .crf(23)
            .preset(Preset::Ultrafast)
            .audio(AudioMode::Keep)
            .build()
            .unwrap();
        assert_eq!(
            (s.crf(), s.preset(), s.audio(), s.bitrate()),
            (23, Preset::Ultrafast, AudioMode::Keep, None)
        );
        let e = EncoderSettings::builder().crf(52).build().unwrap_err();
        assert!(
            matches!(&e, Error::InvalidSetting { name: "crf", value, .. } if value == "52"),
            "{e}"
        );
        let e = EncoderSettings::builder().crf(-1).build().unwrap_err();
        assert!(matches!(&e, Error::InvalidSetting { name: "crf", value, .. } if value == "-1"));
        let e = EncoderSettings::builder().bitrate(5).build().unwrap_err();
        assert!(matches!(&e, Error::InvalidSetting { name: "bitrate", value, .. } if value == "5"));
        assert_eq!(
            EncoderSettings::builder()
                .bitrate(2_000_000)
                .build()
                .unwrap()
                .bitrate(),
            Some(2_000_000)
        );
    }

    #[test]
    fn presets_and_audio_modes_parse() {
        for p in Preset::ALL {
            assert_eq!(p.as_str().parse::<Preset>().unwrap(), p);
        }
        assert!(matches!(
            "turbo".parse::<Preset>(),
            Err(Error::InvalidSetting { name: "preset", .. })
        ));
        assert_eq!("keep".parse::<AudioMode>().unwrap(), AudioMode::Keep);
        assert_eq!("mute".parse::<AudioMode>().unwrap(), AudioMode::Mute);
        assert_eq!("drop".parse::<AudioMode>().unwrap(), AudioMode::Drop);
        assert!("loud".parse::<AudioMode>().is_err());
    }

    #[test]
    fn bad_sizes_and_keep_without_source_are_refused_and_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.mp4");
        let tb = Rational::new(1, 10).unwrap();
        let spec = VideoSpec {
            width: 33,
            height: 20,
            time_base: tb,
            frame_rate: Some(Rational::new(10, 1).unwrap()),
            creation_time: None,
        };
        let e = Encoder::create(
            &dest,
            &VideoSpec { width: 0, ..spec },
            &EncoderSettings::default(),
        )
        .unwrap_err();
        assert!(matches!(&e, Error::InvalidSetting { name: "width", value, .. } if value == "0"));
        let e = Encoder::create(
            &dest,
            &VideoSpec {
                height: 20_000,
                ..spec
            },
            &EncoderSettings::default(),
        )
        .unwrap_err();
        assert!(
            matches!(&e, Error::InvalidSetting { name: "height", value, .. } if value == "20000")
        );
        let keep = EncoderSettings::builder()
            .audio(AudioMode::Keep)
            .build()
            .unwrap();
        assert!(matches!(
            Encoder::create(&dest, &spec, &keep),
            Err(Error::InvalidSetting { name: "audio", .. })
        ));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn dropped_encoder_leaves_no_file_and_finish_publishes() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.mp4");
        let tb = Rational::new(1, 10).unwrap();
        let spec = VideoSpec {
            width: 32,
            height: 16,
            time_base: tb,
            frame_rate: Some(Rational::new(10, 1).unwrap()),
            creation_time: None,
        };
        let settings = EncoderSettings::builder()
            .preset(Preset::Ultrafast)
            .build()
            .unwrap();
        let mut enc = Encoder::create(&dest, &spec, &settings).unwrap();
        for i in 0..3 {
            enc.write(&Frame::black(
                PixelFormat::Yuv420p,
                32,
                16,
                i,
                Timestamp::new(i as i64, tb),
            ))
            .unwrap();
        }
        drop(enc);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "a dropped encoder must leave nothing"
        );

        let mut enc = Encoder::create(&dest, &spec, &settings).unwrap();
        let e = enc
            .write(&Frame::black(
                PixelFormat::Yuv420p,
                30,
                16,
                0,
                Timestamp::new(0, tb),
            ))
            .unwrap_err();
        assert!(matches!(e, Error::BadFrame { .. }));
        enc.write(&Frame::black(
            PixelFormat::Yuv420p,
            32,
            16,
            0,
            Timestamp::new(0, tb),
        ))
        .unwrap();
        let e = enc
            .write(&Frame::black(
                PixelFormat::Yuv420p,
                32,
                16,
                1,
                Timestamp::new(0, tb),
            ))
            .unwrap_err();
        assert!(e.to_string().contains("not after"), "{e}");
        enc.write(&Frame::black(
            PixelFormat::Rgb24,
            32,
            16,
            1,
            Timestamp::new(1, tb),
        ))
        .unwrap();
        let out = enc.finish().unwrap();
        assert_eq!(out, dest);
        assert!(std::fs::metadata(&dest).unwrap().len() > 0);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }
}
