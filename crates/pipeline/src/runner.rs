//! The thread runner of one pass: a decode thread, the masker on the calling thread and a
//! render + encode thread, joined by bounded crossbeam channels.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::bounded;
use obscura_core::{Frame, Timestamp};
use obscura_media::Decoder;
use obscura_render::Mask;

use crate::control::{CancelToken, Pass, Progress};
use crate::error::{At, Error, Stage};
use crate::masker::Masker;
use crate::report::{StageTimes, ms};
use crate::sink::Sink;

/// What the threads of one pass produced.
pub(crate) struct PassOutcome {
    pub(crate) frames: u64,
    pub(crate) encoder: Option<Sink>,
    pub(crate) pts: Vec<(u64, Timestamp)>,
    /// Busy time of decode, masker (detect + track + policy), render, encode.
    pub(crate) stages: StageTimes,
}

/// What the render + encode thread reports: frames passed, their PTS (analysis passes),
/// render and encode busy time.
type EncodeDone = (u64, Vec<(u64, Timestamp)>, Duration, Duration);

/// Runs one pass: a decode thread, the masker on the calling thread's scope, and a render +
/// encode thread, joined by bounded channels. Returns the encoder unfinished: the caller
/// publishes it only when every stage succeeded.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_pass(
    input: &Path,
    dec: &mut Decoder,
    masker: &mut dyn Masker,
    encoder: Option<Sink>,
    queue: usize,
    max_frames: Option<u64>,
    cancel: &CancelToken,
    progress: Option<&(dyn Fn(&Progress) + Sync)>,
    (pass, pass_number, passes): (Pass, u32, u32),
) -> Result<PassOutcome, Error> {
    let total = match (dec.info().frame_count, max_frames) {
        (Some(n), Some(m)) => Some(n.min(m)),
        (n, m) => n.or(m),
    };
    let abort = AtomicBool::new(false);
    let stop = || abort.load(Ordering::SeqCst) || cancel.is_cancelled();
    let (frame_tx, frame_rx) = bounded::<Frame>(queue);
    let (masked_tx, masked_rx) = bounded::<(Frame, Mask)>(queue);
    let limit = max_frames.unwrap_or(u64::MAX);

    std::thread::scope(|s| {
        let decode = s.spawn(|| -> Result<Duration, Error> {
            let frame_tx = frame_tx;
            let mut n = 0u64;
            let mut busy = Duration::ZERO;
            while n < limit && !stop() {
                let t0 = Instant::now();
                let next = dec.next_frame();
                busy += t0.elapsed();
                match next {
                    Ok(Some(f)) => {
                        n += 1;
                        if frame_tx.send(f).is_err() {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        abort.store(true, Ordering::SeqCst);
                        return Err(Error::stage(
                            input,
                            Stage::Decode,
                            At {
                                frame: Some(dec.frames_decoded()),
                                time: None,
                            },
                            e,
                        ));
                    }
                }
            }
            Ok(busy)
        });
        let encode = s.spawn(|| -> (Result<EncodeDone, Error>, Option<Sink>) {
            let mut encoder = encoder;
            let mut done = 0u64;
            let mut pts = Vec::new();
            let (mut render_busy, mut encode_busy) = (Duration::ZERO, Duration::ZERO);
            for (mut frame, mask) in masked_rx.iter() {
                if stop() {
                    break;
                }
                let at = At::frame(frame.index, frame.pts);
                if encoder.is_some() {
                    let t0 = Instant::now();
                    let r = obscura_render::apply(&mut frame, &mask);
                    render_busy += t0.elapsed();
                    if let Err(e) = r {
                        abort.store(true, Ordering::SeqCst);
                        return (Err(Error::stage(input, Stage::Render, at, e)), None);
                    }
                }
                if let Some(enc) = encoder.as_mut() {
                    let t0 = Instant::now();
                    let r = enc.write(&frame);
                    encode_busy += t0.elapsed();
                    if let Err(e) = r {
                        abort.store(true, Ordering::SeqCst);
                        return (Err(Error::stage(input, Stage::Encode, at, e)), None);
                    }
                } else {
                    pts.push((frame.index, frame.pts));
                }
                done += 1;
                if let Some(p) = progress {
                    p(&Progress {
                        pass,
                        pass_number,
                        passes,
                        frames_done: done,
                        frames_total: total,
                    });
                }
            }
            (Ok((done, pts, render_busy, encode_busy)), encoder)
        });

        // The masker runs here (it borrows the detector mutably).
        let mut ready = Vec::new();
        let mut decoded = 0u64;
        let mut result: Result<(), Error> = Ok(());
        let mut mask_busy = Duration::ZERO;
        'frames: for frame in frame_rx.iter() {
            if stop() {
                break;
            }
            decoded += 1;
            let t0 = Instant::now();
            let r = masker.push(frame, &mut ready);
            mask_busy += t0.elapsed();
            if let Err(e) = r {
                abort.store(true, Ordering::SeqCst);
                result = Err(e);
                break;
            }
            for item in ready.drain(..) {
                if masked_tx.send(item).is_err() {
                    break 'frames;
                }
            }
        }
        if result.is_ok() && !stop() {
            masker.finish(&mut ready);
            for item in ready.drain(..) {
                if masked_tx.send(item).is_err() {
                    break;
                }
            }
        }
        drop(masked_tx);
        drop(frame_rx);
        let decode_result = decode.join().unwrap_or_else(|_| {
            Err(Error::stage(
                input,
                Stage::Decode,
                At::NONE,
                "decode thread panicked",
            ))
        });
        let (encode_result, encoder) = encode.join().unwrap_or_else(|_| {
            (
                Err(Error::stage(
                    input,
                    Stage::Encode,
                    At::NONE,
                    "encode thread panicked",
                )),
                None,
            )
        });
        // The first real failure wins, in pipeline order.
        let decode_busy = decode_result?;
        result?;
        let (written, pts, render_busy, encode_busy) = encode_result?;
        if cancel.is_cancelled() {
            return Err(Error::Cancelled {
                input: input.to_path_buf(),
            });
        }
        if written != decoded {
            return Err(Error::stage(
                input,
                Stage::Encode,
                At::NONE,
                format!("{decoded} frames decoded but {written} passed through"),
            ));
        }
        let stages = StageTimes {
            decode_ms: ms(decode_busy),
            detect_ms: 0.0,
            track_policy_ms: ms(mask_busy),
            render_ms: ms(render_busy),
            encode_ms: ms(encode_busy),
        };
        Ok(PassOutcome {
            frames: written,
            encoder,
            pts,
            stages,
        })
    })
}
