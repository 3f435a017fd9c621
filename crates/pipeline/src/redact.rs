//! The redaction engine: [`RedactorBuilder`] -> [`Redactor`] -> [`Redactor::redact`].
//!
//! Stages run on their own threads, connected by bounded crossbeam channels (so peak memory
//! does not depend on clip length):
//!
//! ```text
//! decode ──frames──▶ detect + track + policy (look-ahead of `every` frames) ──frame+mask──▶ render + encode
//! ```
//!
//! See the crate documentation for the one-pass / two-pass choice.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::bounded;
use obscura_core::{Detection, Frame, Interval, IntervalSet, ObjectClass, Rect, Timestamp};
use obscura_detect::Detector;
use obscura_detect::reid::Embedder;
use obscura_media::{AudioMode, AudioSource, DecodeOptions, Decoder, Encoder, EncoderSettings, VideoInfo, VideoSpec};
use obscura_render::Mask;
use obscura_track::{AnalysisSettings, BoxSource, ModelRecord, SourceInfo, TrackId, TrackSet, TrackSetBuilder, Tracker, TrackerConfig};

use crate::analyse::{AnalyseOptions, detector_thresholds, fps_of};
use serde::Serialize;

use crate::error::{At, Error, Stage};
use crate::policy::{Candidate, Policy};
use crate::subject::{self, SubjectMatch};

/// A cancellation flag shared with the caller: set it and the run stops, leaving no output.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A fresh, unset token.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks every run holding this token to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// The underlying flag (for signal handlers).
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.0.clone()
    }
}

impl From<Arc<AtomicBool>> for CancelToken {
    fn from(flag: Arc<AtomicBool>) -> Self {
        Self(flag)
    }
}

/// Which pass of a run is reporting progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Pass {
    /// Detection and tracking only (two-pass mode, first pass).
    Analyse,
    /// Embedding crops of the tracks for `keep_like`.
    Embed,
    /// Masking and encoding the output.
    Redact,
}

/// Progress of a run, reported after every frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The pass reporting.
    pub pass: Pass,
    /// 1-based number of this pass.
    pub pass_number: u32,
    /// Number of passes of this run (1 for a streaming run, 2 or 3 otherwise).
    pub passes: u32,
    /// Frames done in this pass.
    pub frames_done: u64,
    /// Frames expected in this pass (the container's count), when known.
    pub frames_total: Option<u64>,
}

/// A progress callback; called from a pipeline thread, keep it cheap.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// How the run is organised (see the crate docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// One streaming pass when the subject is given by track ids (or there is none), two
    /// passes when it must be found first (`keep_at`, `keep_like`).
    #[default]
    Auto,
    /// Always one pass (fails at build time if `keep_at` or `keep_like` is set).
    OnePass,
    /// Always two passes: analyse to a [`TrackSet`], then mask from it.
    TwoPass,
}

/// A point that picks the data subject: the person whose box contains `(x, y)` (source
/// pixels) on the frame nearest to `time`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeepAt {
    /// Time in the clip.
    pub time: Timestamp,
    /// Column, source pixels.
    pub x: f32,
    /// Row, source pixels.
    pub y: f32,
}

impl std::str::FromStr for KeepAt {
    type Err = Error;

    /// `TIME@X,Y`, e.g. `12.5@320,240` or `00:01:02.5@100,80` (pixels of the source frame).
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = |reason: &str| Error::InvalidSetting { name: "keep-at", value: s.into(), reason: reason.into() };
        let (t, xy) = s.split_once('@').ok_or_else(|| bad("expected TIME@X,Y"))?;
        let time = Timestamp::parse(t.trim()).map_err(|e| bad(&e.to_string()))?;
        let (x, y) = xy.split_once(',').ok_or_else(|| bad("expected TIME@X,Y"))?;
        let x: f32 = x.trim().parse().map_err(|_| bad("X is not a number"))?;
        let y: f32 = y.trim().parse().map_err(|_| bad("Y is not a number"))?;
        if !(x.is_finite() && y.is_finite() && x >= 0.0 && y >= 0.0) {
            return Err(bad("X and Y must be non-negative pixel coordinates"));
        }
        Ok(KeepAt { time, x, y })
    }
}

/// `keep_like`: a reference picture of the subject, the embedder and the threshold.
pub struct KeepLike {
    /// The reference picture (a photo of the person; the best person box found in it is
    /// embedded, the whole picture when none is found).
    pub photo: Frame,
    /// The appearance embedder (e.g. [`obscura_detect::reid::ReidEmbedder`]).
    pub embedder: Box<dyn Embedder>,
    /// Cosine similarity at or above which a track is the subject (0.6).
    pub threshold: f32,
    /// Crops embedded per track (its best-scored boxes, spread in time; 4).
    pub crops_per_track: usize,
}

impl std::fmt::Debug for KeepLike {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeepLike").field("threshold", &self.threshold).field("crops_per_track", &self.crops_per_track).finish_non_exhaustive()
    }
}

/// Builder of a [`Redactor`]. [`RedactorBuilder::build`] validates every setting and returns
/// [`Error::InvalidSetting`] carrying the bad value.
pub struct RedactorBuilder {
    detector: Option<Box<dyn Detector>>,
    analysis: AnalyseOptions,
    policy: Policy,
    keep_at: Vec<KeepAt>,
    keep_like: Option<KeepLike>,
    encoder: EncoderSettings,
    decode: DecodeOptions,
    queue: usize,
    max_frames: Option<u64>,
    mode: Mode,
    progress: Option<ProgressFn>,
    cancel: CancelToken,
}

impl std::fmt::Debug for RedactorBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedactorBuilder").field("analysis", &self.analysis).field("policy", &self.policy).field("mode", &self.mode).finish_non_exhaustive()
    }
}

impl Default for RedactorBuilder {
    fn default() -> Self {
        Self {
            detector: None,
            analysis: AnalyseOptions { hash_source: false, ..AnalyseOptions::default() },
            policy: Policy::default(),
            keep_at: Vec::new(),
            keep_like: None,
            encoder: EncoderSettings::default(),
            decode: DecodeOptions::default(),
            queue: 4,
            max_frames: None,
            mode: Mode::Auto,
            progress: None,
            cancel: CancelToken::new(),
        }
    }
}

impl RedactorBuilder {
    /// The detector (required): the built-in `PersonFaceDetector` or any [`Detector`].
    pub fn detector(mut self, detector: impl Detector + 'static) -> Self {
        self.detector = Some(Box::new(detector));
        self
    }

    /// Analysis settings: detection interval, tracker, hold time, detector thresholds to
    /// record. Use the same as `obscura tracks` so track ids agree (the targets are taken
    /// from the policy).
    pub fn analysis(mut self, options: AnalyseOptions) -> Self {
        self.analysis = options;
        self
    }

    /// Tracker settings (shorthand for the analysis options' tracker).
    pub fn tracker(mut self, config: TrackerConfig) -> Self {
        self.analysis.tracker = config;
        self
    }

    /// Run the detector on every `n`-th frame (1 = all), predicting boxes in between.
    pub fn every(mut self, n: u32) -> Self {
        self.analysis.every = n;
        self.analysis.detect_rate = None;
        self
    }

    /// Run the detector at least `per_second` times per second of video, the interval
    /// derived from each input's frame rate (see [`AnalyseOptions::every_at`]).
    pub fn detect_rate(mut self, per_second: f64) -> Self {
        self.analysis.detect_rate = Some(per_second);
        self
    }

    /// The redaction policy (targets, style, margin, kept ids, zones).
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Also keep the person at this point (needs two passes).
    pub fn keep_at(mut self, at: KeepAt) -> Self {
        self.keep_at.push(at);
        self
    }

    /// Also keep the tracks that look like the person in a reference photo (two passes).
    pub fn keep_like(mut self, like: KeepLike) -> Self {
        self.keep_like = Some(like);
        self
    }

    /// Encoder settings (CRF, preset, audio).
    pub fn encoder(mut self, settings: EncoderSettings) -> Self {
        self.encoder = settings;
        self
    }

    /// Decoder options (resource limits).
    pub fn decode_options(mut self, options: DecodeOptions) -> Self {
        self.decode = options;
        self
    }

    /// Capacity of each queue between stages, in frames (4).
    pub fn queue_depth(mut self, frames: usize) -> Self {
        self.queue = frames;
        self
    }

    /// Only the first `n` frames of the input are processed (and written).
    pub fn max_frames(mut self, n: u64) -> Self {
        self.max_frames = Some(n);
        self
    }

    /// One pass, two passes, or automatic.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// A callback told of progress after every frame.
    pub fn progress(mut self, f: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// A cancellation token; cancelling stops the run and leaves no output.
    pub fn cancel_token(mut self, token: CancelToken) -> Self {
        self.cancel = token;
        self
    }

    /// Validates the settings and returns the redactor.
    pub fn build(self) -> Result<Redactor, Error> {
        let detector = self.detector.ok_or_else(|| Error::InvalidSetting { name: "detector", value: "none".into(), reason: "a detector is required".into() })?;
        let mut analysis = self.analysis;
        analysis.targets = self.policy.targets();
        analysis.validate()?;
        if self.queue == 0 || self.queue > 256 {
            return Err(Error::InvalidSetting { name: "queue_depth", value: self.queue.to_string(), reason: "must be 1..=256 frames".into() });
        }
        if self.max_frames == Some(0) {
            return Err(Error::InvalidSetting { name: "max_frames", value: "0".into(), reason: "must be at least 1".into() });
        }
        analysis.tracker.validate().map_err(|e| Error::InvalidSetting { name: "tracker", value: format!("{:?}", analysis.tracker), reason: e.to_string() })?;
        if let Some(l) = &self.keep_like {
            if !(l.threshold.is_finite() && (0.0..=1.0).contains(&l.threshold)) {
                return Err(Error::InvalidSetting { name: "similarity", value: l.threshold.to_string(), reason: "must lie in 0..=1".into() });
            }
            if !(1..=32).contains(&l.crops_per_track) {
                return Err(Error::InvalidSetting { name: "crops_per_track", value: l.crops_per_track.to_string(), reason: "must be 1..=32".into() });
            }
            l.photo.validate().map_err(|e| Error::InvalidSetting { name: "keep-like", value: "photo".into(), reason: e.to_string() })?;
        }
        if self.mode == Mode::OnePass && (!self.keep_at.is_empty() || self.keep_like.is_some()) {
            return Err(Error::InvalidSetting { name: "mode", value: "one-pass".into(), reason: "keep-at and keep-like need two passes".into() });
        }
        Ok(Redactor {
            detector,
            analysis,
            policy: self.policy,
            keep_at: self.keep_at,
            keep_like: self.keep_like,
            encoder: self.encoder,
            decode: self.decode,
            queue: self.queue,
            max_frames: self.max_frames,
            mode: self.mode,
            progress: self.progress,
            cancel: self.cancel,
            analysis_stages: None,
        })
    }
}

/// Where the time went, summed over the passes of a run, in milliseconds of busy time per
/// stage (stages overlap in time: they run on different threads).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct StageTimes {
    /// Decoding (and converting) frames.
    pub decode_ms: f64,
    /// Running the detector.
    pub detect_ms: f64,
    /// Tracking, look-ahead and building the masks.
    pub track_policy_ms: f64,
    /// Masking the pixels.
    pub render_ms: f64,
    /// Encoding and writing.
    pub encode_ms: f64,
}

impl StageTimes {
    fn add(&mut self, o: &StageTimes) {
        self.decode_ms += o.decode_ms;
        self.detect_ms += o.detect_ms;
        self.track_policy_ms += o.track_policy_ms;
        self.render_ms += o.render_ms;
        self.encode_ms += o.encode_ms;
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// What a run did, for the CLI's `--json` summary and for logs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RedactReport {
    /// The input.
    pub input: PathBuf,
    /// The output written.
    pub output: PathBuf,
    /// One pass or two.
    pub passes: u32,
    /// Frames written.
    pub frames: u64,
    /// Frame size.
    pub width: u32,
    /// Frame height.
    pub height: u32,
    /// The detector ran on every `every`-th frame of this input.
    pub every: u32,
    /// Wall-clock seconds of the whole run.
    pub seconds: f64,
    /// Frames per second of the whole run (frames / seconds).
    pub fps: f64,
    /// Track ids left visible.
    pub kept: Vec<TrackId>,
    /// Track ids masked (of targeted classes), with their class.
    pub masked: Vec<(TrackId, ObjectClass)>,
    /// Kept ids that never appeared in the video (nobody was left visible for them).
    pub keep_not_found: Vec<TrackId>,
    /// Detections the tracker did not take (masked where they were).
    pub untracked_detections: u64,
    /// Busy time per stage.
    pub stages: StageTimes,
    /// For `keep_like`: every person track's similarity to the reference, best first.
    pub matches: Vec<SubjectMatch>,
    /// Models the detector ran.
    pub models: Vec<ModelRecord>,
}

/// The redaction pipeline, built by [`RedactorBuilder`]. One redactor runs one file at a
/// time and can be reused for many.
pub struct Redactor {
    detector: Box<dyn Detector>,
    analysis: AnalyseOptions,
    policy: Policy,
    keep_at: Vec<KeepAt>,
    keep_like: Option<KeepLike>,
    encoder: EncoderSettings,
    decode: DecodeOptions,
    queue: usize,
    max_frames: Option<u64>,
    mode: Mode,
    progress: Option<ProgressFn>,
    cancel: CancelToken,
    analysis_stages: Option<StageTimes>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor").field("analysis", &self.analysis).field("policy", &self.policy).field("mode", &self.mode).finish_non_exhaustive()
    }
}

/// The frame-level work between decode and encode.
trait Masker {
    /// Takes one decoded frame; appends the frames that are ready, with their masks.
    fn push(&mut self, frame: Frame, out: &mut Vec<(Frame, Mask)>) -> Result<(), Error>;
    /// End of input: appends every frame still held.
    fn finish(&mut self, out: &mut Vec<(Frame, Mask)>);
}

/// Detect + track + policy, with a bounded look-ahead: frames are held until they are at
/// least `lead_in` frames older than the next possible detection frame (and never past the
/// last detection frame). When a detection frame arrives, the held frames also get the
/// boxes interpolated between the two detections of each track, and the first box of every
/// track born there (widened for motion on the `every - 1` frames just before it, as is on
/// the `lead_in` frames before that: people entering at the frame edge are visible a few
/// frames before the detector fires). All of it only adds masked area; nothing is unmasked.
struct LiveMasker<'a> {
    input: &'a Path,
    detector: &'a mut dyn Detector,
    tracker: Tracker,
    policy: &'a Policy,
    targets: crate::analyse::Targets,
    every: u64,
    lead_in: u64,
    held: std::collections::VecDeque<(Frame, Vec<Candidate>)>,
    last_detected: HashMap<TrackId, (u64, Rect)>,
    seen: BTreeMap<TrackId, ObjectClass>,
    untracked: u64,
    record: Option<TrackSetBuilder>,
    detect_time: Duration,
}

impl LiveMasker<'_> {
    fn candidates(update: &obscura_track::TrackUpdate, dets: Option<&[Detection]>, untracked: &mut u64) -> Vec<Candidate> {
        let mut c: Vec<Candidate> = update.tracks.iter().map(|b| Candidate { track: Some(b.id), class: b.class, rect: b.rect, parent: b.parent }).collect();
        if let Some(dets) = dets {
            for (i, d) in dets.iter().enumerate() {
                if !update.tracks.iter().any(|b| b.detection_index == Some(i)) {
                    *untracked += 1;
                    c.push(Candidate { track: None, class: d.class, rect: d.rect, parent: None });
                }
            }
        }
        c
    }
}

impl Masker for LiveMasker<'_> {
    fn push(&mut self, frame: Frame, out: &mut Vec<(Frame, Mask)>) -> Result<(), Error> {
        let at = At::frame(frame.index, frame.pts);
        let is_detection = frame.index.is_multiple_of(self.every);
        let mut other_boxes: Vec<Candidate> = Vec::new();
        let dets = if is_detection {
            let t0 = Instant::now();
            let d = self.detector.detect(&frame).map_err(|e| Error::stage(self.input, Stage::Detect, at, e))?;
            self.detect_time += t0.elapsed();
            if let Some(bad) = d.iter().find(|d| !(d.rect.x.is_finite() && d.rect.y.is_finite() && d.rect.w.is_finite() && d.rect.h.is_finite() && d.score.is_finite())) {
                return Err(Error::stage(self.input, Stage::Detect, at, format!("detector returned a non-finite detection {bad:?}")));
            }
            // The tracker sees the targeted classes only (as `analyse` does, so ids agree with
            // `obscura tracks`); boxes of a partner's other classes are masked untracked.
            let (tracked, other): (Vec<Detection>, Vec<Detection>) = d.into_iter().partition(|d| match d.class {
                ObjectClass::Person => self.targets.person,
                ObjectClass::Face => self.targets.face,
                ObjectClass::Other(_) => false,
            });
            self.untracked += other.iter().filter(|d| matches!(d.class, ObjectClass::Other(_))).count() as u64;
            other_boxes = other
                .into_iter()
                .filter(|d| matches!(d.class, ObjectClass::Other(_)))
                .map(|d| Candidate { track: None, class: d.class, rect: d.rect, parent: None })
                .collect();
            Some(tracked)
        } else {
            None
        };
        let update = self.tracker.step(frame.index, dets.as_deref()).map_err(|e| Error::stage(self.input, Stage::Track, at, e))?;
        if let Some(r) = self.record.as_mut() {
            r.push(&update, frame.pts);
        }
        for b in &update.tracks {
            self.seen.entry(b.id).or_insert(b.class);
        }
        let mut cands = Self::candidates(&update, dets.as_deref(), &mut self.untracked);
        cands.extend(other_boxes);
        let k = frame.index;
        let (w, h) = (frame.width, frame.height);
        self.held.push_back((frame, cands));
        if !is_detection {
            return Ok(());
        }
        let reach = self.lead_in.max(self.every - 1);
        for b in update.tracks.iter().filter(|b| b.source == BoxSource::Detected) {
            let every = self.every;
            let extra = |f: u64| -> Option<Rect> {
                if f >= k {
                    return None;
                }
                match self.last_detected.get(&b.id) {
                    // Between two consecutive scheduled detections: both boxes' hull (the
                    // person may be anywhere on the way; linear interpolation alone lagged
                    // real motion, see BENCHMARKS.md).
                    Some(&(f0, r0)) if f0 < f && k - f0 <= every => Some(r0.hull(&b.rect)),
                    Some(&(f0, r0)) if f0 < f => {
                        let t = (f - f0) as f32 / (k - f0) as f32;
                        let l = |a: f32, z: f32| a + (z - a) * t;
                        Some(Rect::new(l(r0.x, b.rect.x), l(r0.y, b.rect.y), l(r0.w, b.rect.w), l(r0.h, b.rect.h)))
                    }
                    Some(_) => None,
                    // Born now: the frames since the last detection, widened for motion, and
                    // the lead-in frames before them with the first box as it is.
                    None if k - f < every => Some(backfill_rect(b.rect, k - f)),
                    None if k - f <= reach => Some(b.rect),
                    None => None,
                }
            };
            for (pf, pc) in &mut self.held {
                if let Some(rect) = extra(pf.index) {
                    pc.push(Candidate { track: Some(b.id), class: b.class, rect, parent: b.parent });
                }
            }
            self.last_detected.insert(b.id, (k, b.rect));
        }
        // A birth on the next detection frame (k + every) reaches back `reach` frames: release
        // the frames it cannot reach.
        while let Some((f, _)) = self.held.front() {
            if f.index + reach >= k + self.every {
                break;
            }
            let (f, c) = self.held.pop_front().expect("front exists");
            let m = self.policy.mask(&c, w, h);
            out.push((f, m));
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<(Frame, Mask)>) {
        for (f, c) in self.held.drain(..) {
            let m = self.policy.mask(&c, f.width, f.height);
            out.push((f, m));
        }
    }
}

/// Masks from a [`TrackSet`] (second pass): every box of every track on the frame, plus the
/// first box of tracks born within the next `every` frames (as the live look-ahead does).
struct TrackSetMasker<'a> {
    set: &'a TrackSet,
    policy: &'a Policy,
    every: u64,
    /// Each track's first detected box: `(frame, box, candidate)`.
    births: Vec<(u64, Rect, Candidate)>,
}

impl<'a> TrackSetMasker<'a> {
    fn new(set: &'a TrackSet, policy: &'a Policy, every: u64) -> Self {
        let births = set
            .tracks
            .iter()
            .filter_map(|t| {
                let b = t.boxes.iter().find(|b| !b.predicted).or(t.boxes.first())?;
                Some((b.frame, b.rect(), Candidate { track: Some(t.id), class: t.class, rect: b.rect(), parent: t.parent }))
            })
            .collect();
        Self { set, policy, every, births }
    }
}

impl Masker for TrackSetMasker<'_> {
    fn push(&mut self, frame: Frame, out: &mut Vec<(Frame, Mask)>) -> Result<(), Error> {
        let i = frame.index;
        let every = self.every;
        let mut c: Vec<Candidate> = self
            .set
            .boxes_at(i)
            .into_iter()
            .map(|(t, b)| {
                // Between two consecutive scheduled detections: their hull, as the live
                // look-ahead masks it.
                let detected = |f: u64| t.box_at(f).filter(|d| !d.predicted);
                let prev = (1..every).filter_map(|d| i.checked_sub(d)).find_map(detected);
                let next = (1..every).find_map(|d| detected(i + d));
                let rect = match (b.predicted, prev, next) {
                    (true, Some(p), Some(n)) if n.frame - p.frame <= every => p.rect().hull(&n.rect()).hull(&b.rect()),
                    _ => b.rect(),
                };
                Candidate { track: Some(t.id), class: t.class, rect, parent: t.parent }
            })
            .collect();
        // Frames just before a track's first detection: its first box widened for motion
        // (the TrackSet's lead-in gives the box as it is further back).
        for (f, rect, cand) in self.births.iter().filter(|(f, _, _)| *f > i && *f < i + self.every) {
            c.push(Candidate { rect: backfill_rect(*rect, f - i), ..*cand });
        }
        let m = self.policy.mask(&c, frame.width, frame.height);
        out.push((frame, m));
        Ok(())
    }

    fn finish(&mut self, _out: &mut Vec<(Frame, Mask)>) {}
}

/// What the threads of one pass produced.
struct PassOutcome {
    frames: u64,
    encoder: Option<Encoder>,
    pts: Vec<(u64, Timestamp)>,
    /// Busy time of decode, masker (detect + track + policy), render, encode.
    stages: StageTimes,
}

impl Redactor {
    /// A builder with the defaults.
    pub fn builder() -> RedactorBuilder {
        RedactorBuilder::default()
    }

    /// The policy in use.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The cancellation token (cancel it from another thread to stop a run).
    pub fn cancel_token(&self) -> CancelToken {
        self.cancel.clone()
    }

    fn models(&self) -> Vec<ModelRecord> {
        self.detector.models().into_iter().map(|m| ModelRecord { name: m.name, sha256: m.sha256 }).collect()
    }

    fn needs_two_passes(&self) -> bool {
        match self.mode {
            Mode::OnePass => false,
            Mode::TwoPass => true,
            Mode::Auto => !self.keep_at.is_empty() || self.keep_like.is_some(),
        }
    }

    fn open(&self, input: &Path) -> Result<Decoder, Error> {
        Decoder::open(input, &self.decode).map_err(|e| Error::stage(input, Stage::Decode, At::NONE, e))
    }

    fn create_encoder(&self, input: &Path, output: &Path, info: &VideoInfo) -> Result<Encoder, Error> {
        let spec = VideoSpec::from_info(info);
        let audio = match self.encoder.audio() {
            AudioMode::Keep => {
                let start = info.start_time.unwrap_or_else(Timestamp::zero).min(Timestamp::zero());
                let span = Interval::new(start, Timestamp::from_secs(10_000_000)).map_err(|e| Error::stage(input, Stage::Encode, At::NONE, e))?;
                Some(AudioSource { path: input.to_path_buf(), kept: IntervalSet::single(span), offset: Timestamp::zero() })
            }
            _ => None,
        };
        Encoder::create_with_audio(output, &spec, &self.encoder, audio.as_ref()).map_err(|e| Error::stage(input, Stage::Encode, At::NONE, e))
    }

    /// Redacts the video `input` into `output` (H.264 MP4, written atomically). Nothing is
    /// written when any stage fails or the run is cancelled.
    pub fn redact(&mut self, input: &Path, output: &Path) -> Result<RedactReport, Error> {
        let start = Instant::now();
        self.analysis_stages = None;
        if same_file(input, output) {
            return Err(Error::InvalidSetting { name: "output", value: output.display().to_string(), reason: "is the input (inputs are never modified)".into() });
        }
        if self.needs_two_passes() {
            let passes = if self.keep_like.is_some() { 3 } else { 2 };
            let (set, pts) = self.analyse_inner(input, passes)?;
            let mut keep: BTreeSet<TrackId> = self.policy.keep().clone();
            for at in &self.keep_at {
                keep.insert(subject::select_at(input, &set, &pts, at)?);
            }
            let mut matches = Vec::new();
            if let Some(like) = self.keep_like.as_mut() {
                let cancel = self.cancel.clone();
                let progress = self.progress.clone();
                let report = subject::select_like(input, &set, like, self.detector.as_mut(), &self.decode, self.max_frames, &cancel, progress.as_ref())?;
                keep.extend(report.iter().filter(|m| m.matched).map(|m| m.track));
                matches = report;
            }
            let mut rep = self.redact_with_tracks_inner(input, output, &set, &keep, passes, start)?;
            rep.matches = matches;
            return Ok(rep);
        }
        let policy = self.policy.clone();
        let mut dec = self.open(input)?;
        let info = dec.info().clone();
        let enc = self.create_encoder(input, output, &info)?;
        let (mut masker, _) = live_masker(input, self.detector.as_mut(), &self.analysis, &policy, &info, false)?;
        let outcome = run_pass(input, &mut dec, &mut masker, Some(enc), self.queue, self.max_frames, &self.cancel, self.progress.as_ref(), (Pass::Redact, 1, 1))?;
        let mut outcome_stages = outcome.stages;
        outcome_stages.detect_ms = ms(masker.detect_time);
        outcome_stages.track_policy_ms -= outcome_stages.detect_ms;
        let seen = std::mem::take(&mut masker.seen);
        let untracked = masker.untracked;
        drop(masker);
        let frames = outcome.frames;
        self.commit(input, outcome)?;
        let secs = start.elapsed().as_secs_f64();
        Ok(RedactReport {
            input: input.to_path_buf(),
            output: output.to_path_buf(),
            passes: 1,
            frames,
            width: info.width,
            height: info.height,
            every: self.analysis.every_at(fps_of(&info)),
            seconds: secs,
            fps: frames as f64 / secs.max(1e-9),
            kept: seen.keys().copied().filter(|id| policy.keep().contains(id)).collect(),
            keep_not_found: policy.keep().iter().copied().filter(|id| !seen.contains_key(id)).collect(),
            masked: seen.into_iter().filter(|(id, c)| !policy.keep().contains(id) && crate::policy::masks_class(policy.targets(), *c)).collect(),
            untracked_detections: untracked,
            stages: outcome_stages,
            matches: Vec::new(),
            models: self.models(),
        })
    }

    fn commit(&self, input: &Path, outcome: PassOutcome) -> Result<(), Error> {
        if self.cancel.is_cancelled() {
            return Err(Error::Cancelled { input: input.to_path_buf() });
        }
        if let Some(enc) = outcome.encoder {
            if enc.frames_written() != outcome.frames {
                return Err(Error::stage(input, Stage::Encode, At::NONE, format!("{} frames decoded but {} written", outcome.frames, enc.frames_written())));
            }
            enc.finish().map_err(|e| Error::stage(input, Stage::Encode, At::NONE, e))?;
        }
        Ok(())
    }

    /// First pass only: detects and tracks every frame of `input` and returns the
    /// [`TrackSet`] (the `obscura tracks` data), with the same ids a streaming run gives.
    pub fn analyse(&mut self, input: &Path) -> Result<TrackSet, Error> {
        self.analyse_inner(input, 1).map(|(s, _)| s)
    }

    fn analyse_inner(&mut self, input: &Path, passes: u32) -> Result<(TrackSet, Vec<(u64, Timestamp)>), Error> {
        let policy = self.policy.clone();
        let mut dec = self.open(input)?;
        let info = dec.info().clone();
        let sha256 = if self.analysis.hash_source {
            Some(obscura_detect::models::sha256_file(input).map_err(|e| Error::stage(input, Stage::Decode, At::NONE, e))?)
        } else {
            None
        };
        let (mut masker, tracker_cfg) = live_masker(input, self.detector.as_mut(), &self.analysis, &policy, &info, true)?;
        let outcome = run_pass(input, &mut dec, &mut masker, None, self.queue, self.max_frames, &self.cancel, self.progress.as_ref(), (Pass::Analyse, 1, passes))?;
        if self.cancel.is_cancelled() {
            return Err(Error::Cancelled { input: input.to_path_buf() });
        }
        let builder = masker.record.take().expect("recording");
        let mut st = outcome.stages;
        st.detect_ms = ms(masker.detect_time);
        st.track_policy_ms -= st.detect_ms;
        self.analysis_stages = Some(st);
        drop(masker);
        let fps = fps_of(&info).unwrap_or(0.0);
        let thresholds = detector_thresholds(&self.analysis.detector);
        let source = SourceInfo {
            path: input.display().to_string(),
            sha256,
            width: info.width,
            height: info.height,
            frames: outcome.frames,
            time_base: info.time_base.to_string(),
            fps,
        };
        let settings = AnalysisSettings {
            every: self.analysis.every_at(fps_of(&info)),
            targets: policy.targets().classes(),
            tracker: tracker_cfg,
            thresholds,
            models: self.models(),
        };
        Ok((builder.finish(source, settings, info.time_base), outcome.pts))
    }

    /// Second pass only: masks `input` from a [`TrackSet`] made on the same input with the
    /// same settings (e.g. `obscura tracks --json`), keeping `keep` (plus the policy's ids).
    pub fn redact_with_tracks(&mut self, input: &Path, output: &Path, tracks: &TrackSet, keep: &[TrackId]) -> Result<RedactReport, Error> {
        let mut k: BTreeSet<TrackId> = self.policy.keep().clone();
        k.extend(keep.iter().copied());
        self.redact_with_tracks_inner(input, output, tracks, &k, 1, Instant::now())
    }

    fn redact_with_tracks_inner(&mut self, input: &Path, output: &Path, set: &TrackSet, keep: &BTreeSet<TrackId>, passes: u32, start: Instant) -> Result<RedactReport, Error> {
        if same_file(input, output) {
            return Err(Error::InvalidSetting { name: "output", value: output.display().to_string(), reason: "is the input (inputs are never modified)".into() });
        }
        if let Some(missing) = keep.iter().find(|id| set.track(**id).is_none()) {
            let ids: Vec<String> = set.tracks.iter().map(|t| format!("{} ({})", t.id, t.class.name())).collect();
            return Err(Error::Subject { input: input.to_path_buf(), reason: format!("no track {missing}; tracks are: {}", ids.join(", ")) });
        }
        let policy = self.policy.with_keep(keep.iter().copied());
        let mut dec = self.open(input)?;
        let info = dec.info().clone();
        if (info.width, info.height) != (set.source.width, set.source.height) {
            return Err(Error::Subject {
                input: input.to_path_buf(),
                reason: format!("the tracks are of a {}x{} video, this one is {}x{}", set.source.width, set.source.height, info.width, info.height),
            });
        }
        let enc = self.create_encoder(input, output, &info)?;
        let every = set.settings.every.max(1);
        let mut masker = TrackSetMasker::new(set, &policy, u64::from(every));
        let outcome = run_pass(input, &mut dec, &mut masker, Some(enc), self.queue, self.max_frames, &self.cancel, self.progress.as_ref(), (Pass::Redact, passes, passes))?;
        let frames = outcome.frames;
        let mut outcome_stages = self.analysis_stages.take().unwrap_or_default();
        outcome_stages.add(&outcome.stages);
        self.commit(input, outcome)?;
        let secs = start.elapsed().as_secs_f64();
        Ok(RedactReport {
            input: input.to_path_buf(),
            output: output.to_path_buf(),
            passes,
            frames,
            width: info.width,
            height: info.height,
            every,
            seconds: secs,
            fps: frames as f64 / secs.max(1e-9),
            kept: keep.iter().copied().collect(),
            keep_not_found: Vec::new(),
            masked: set.tracks.iter().filter(|t| !keep.contains(&t.id) && crate::policy::masks_class(policy.targets(), t.class)).map(|t| (t.id, t.class)).collect(),
            untracked_detections: 0,
            stages: outcome_stages,
            matches: Vec::new(),
            models: self.models(),
        })
    }

    /// Access for the still-image path.
    pub(crate) fn parts(&mut self) -> (&mut dyn Detector, TrackerConfig, &Policy, &[KeepAt], Option<&mut KeepLike>) {
        (self.detector.as_mut(), effective_tracker(&self.analysis, None), &self.policy, &self.keep_at, self.keep_like.as_mut())
    }
}

/// The box masked on the frames held before a track's first detection, `frames_back` frames
/// earlier: its first box widened by 20% of its width and 10% of its height per side and per
/// frame, for the motion it may have had (a walker covers about a body width per second).
pub fn backfill_rect(r: Rect, frames_back: u64) -> Rect {
    let d = frames_back as f32;
    Rect::new(r.x - 0.2 * r.w * d, r.y - 0.1 * r.h * d, r.w * (1.0 + 0.4 * d), r.h * (1.0 + 0.2 * d))
}

/// The tracker settings an analysis of a stream at `fps` runs with: the hold time in seconds
/// converted to frames (at least `2 * every`), exactly as [`crate::analyse::analyse`] does,
/// so a streaming run gives the ids `obscura tracks` shows.
pub fn effective_tracker(options: &AnalyseOptions, fps: Option<f64>) -> TrackerConfig {
    let mut cfg = options.tracker;
    if let Some(h) = options.hold_seconds {
        let hold = ((h * fps.unwrap_or(25.0)).ceil() as u32).max(2 * options.every_at(fps));
        cfg.hold_frames = hold;
        cfg.max_lost_frames = cfg.max_lost_frames.max(2 * hold);
    }
    cfg
}

fn live_masker<'a>(
    input: &'a Path,
    detector: &'a mut dyn Detector,
    options: &AnalyseOptions,
    policy: &'a Policy,
    info: &VideoInfo,
    record: bool,
) -> Result<(LiveMasker<'a>, TrackerConfig), Error> {
    let fps = fps_of(info);
    let cfg = effective_tracker(options, fps);
    let tracker = Tracker::new(cfg).map_err(|e| Error::InvalidSetting { name: "tracker", value: format!("{cfg:?}"), reason: e.to_string() })?;
    let masker = LiveMasker {
        input,
        detector,
        tracker,
        policy,
        targets: policy.targets(),
        every: u64::from(options.every_at(fps)),
        lead_in: options.lead_in_frames(fps),
        held: std::collections::VecDeque::new(),
        last_detected: HashMap::new(),
        seen: BTreeMap::new(),
        untracked: 0,
        // The same lead-in `analyse` gives its TrackSet.
        record: record.then(|| TrackSetBuilder::new().with_lead_in(options.lead_in_frames(fps))),
        detect_time: Duration::ZERO,
    };
    Ok((masker, cfg))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// What the render + encode thread reports: frames passed, their PTS (analysis passes),
/// render and encode busy time.
type EncodeDone = (u64, Vec<(u64, Timestamp)>, Duration, Duration);

/// Runs one pass: a decode thread, the masker on the calling thread's scope, and a render +
/// encode thread, joined by bounded channels. Returns the encoder unfinished: the caller
/// publishes it only when every stage succeeded.
#[allow(clippy::too_many_arguments)]
fn run_pass(
    input: &Path,
    dec: &mut Decoder,
    masker: &mut dyn Masker,
    encoder: Option<Encoder>,
    queue: usize,
    max_frames: Option<u64>,
    cancel: &CancelToken,
    progress: Option<&ProgressFn>,
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
                        return Err(Error::stage(input, Stage::Decode, At { frame: Some(dec.frames_decoded()), time: None }, e));
                    }
                }
            }
            Ok(busy)
        });
        let encode = s.spawn(|| -> (Result<EncodeDone, Error>, Option<Encoder>) {
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
                    p(&Progress { pass, pass_number, passes, frames_done: done, frames_total: total });
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
        let decode_result = decode.join().unwrap_or_else(|_| Err(Error::stage(input, Stage::Decode, At::NONE, "decode thread panicked")));
        let (encode_result, encoder) =
            encode.join().unwrap_or_else(|_| (Err(Error::stage(input, Stage::Encode, At::NONE, "encode thread panicked")), None));
        // The first real failure wins, in pipeline order.
        let decode_busy = decode_result?;
        result?;
        let (written, pts, render_busy, encode_busy) = encode_result?;
        if cancel.is_cancelled() {
            return Err(Error::Cancelled { input: input.to_path_buf() });
        }
        if written != decoded {
            return Err(Error::stage(input, Stage::Encode, At::NONE, format!("{decoded} frames decoded but {written} passed through")));
        }
        let stages = StageTimes { decode_ms: ms(decode_busy), detect_ms: 0.0, track_policy_ms: ms(mask_busy), render_ms: ms(render_busy), encode_ms: ms(encode_busy) };
        Ok(PassOutcome { frames: written, encoder, pts, stages })
    })
}
