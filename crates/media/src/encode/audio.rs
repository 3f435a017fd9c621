//! The audio stream of an output: AAC, fed from a source file's kept ranges or silence.

use std::path::Path;

use ffmpeg_next as ff;
use obscura_core::{IntervalSet, Rational, Timestamp};

use super::eagain;
use super::settings::{AudioMode, AudioSource};
use crate::decode::open_input;
use crate::error::{Error, describe};

/// The audio stream of an output: AAC, fed from a source file or with silence.
pub(super) struct AudioTrack {
    enc: ff::encoder::Audio,
    pub(super) index: usize,
    enc_tb: ff::Rational,
    pub(super) stream_tb: ff::Rational,
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
    pub(super) fn new(
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

    pub(super) fn fifo_len(&self) -> usize {
        self.fifo[0].len()
    }

    pub(super) fn encode_chunk(
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

    pub(super) fn drain(
        &mut self,
        octx: &mut ff::format::context::Output,
    ) -> Result<(), ff::Error> {
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
    pub(super) fn pump(
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
