//! [`Encoder`]: the H.264 video stream, the MP4 muxer and the atomic publication.

use std::path::{Path, PathBuf};

use ffmpeg_next as ff;
use obscura_core::atomic::PendingFile;
use obscura_core::{Frame, PixelFormat, Rational, Timestamp};

use super::audio::AudioTrack;
use super::eagain;
use super::settings::{AudioMode, AudioSource, EncoderSettings, VideoSpec};
use crate::convert::{ff_rational, fill_yuv420p};
use crate::decode::init;
use crate::error::{Error, describe};

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
