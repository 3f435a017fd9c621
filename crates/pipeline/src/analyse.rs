//! Analysis: decode a whole file, detect persons/faces on every Nth frame, track, and
//! return a [`TrackSet`] with the box of every live track on every frame (detected,
//! predicted between detections, or held after a miss), so a renderer can mask each
//! frame from the TrackSet alone.
//!
//! One analysis path: [`analyse()`] and the first pass of a [`crate::Redactor`] run the same
//! pass (the streaming runner with a recording live masker and no encoder), so both give the
//! same tracks and ids.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use obscura_core::Timestamp;
use obscura_detect::models::{ModelStore, sha256_file};
use obscura_detect::{
    Detector, FaceDetector, PersonFaceConfig, PersonFaceDetector, PersonScan, YoloxDetector,
};
use obscura_media::{DecodeOptions, Decoder, VideoInfo};
use obscura_track::{
    AnalysisSettings, ModelId, SourceInfo, TrackSet, TrackSetBuilder, Tracker, TrackerConfig,
};

use crate::control::{CancelToken, Pass, Progress};
use crate::error::{At, Error, Stage};
use crate::masker::LiveMasker;
use crate::policy::Policy;
use crate::report::{StageTimes, ms};
use crate::runner::run_pass;
pub use crate::targets::Targets;

/// Settings of an analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyseOptions {
    /// Run the detector on every `every`-th frame (1 = every frame); frames between get
    /// predicted boxes, replaced by interpolation between detections in the result.
    /// Ignored when `detect_rate` is set.
    pub every: u32,
    /// Instead of a fixed `every`: run the detector at least this many times per second of
    /// video, `every` being derived from each input's frame rate ([`AnalyseOptions::every_at`];
    /// `obscura --every auto` sets [`AUTO_DETECT_RATE`]). `None` (the default): use `every`.
    pub detect_rate: Option<f64>,
    /// Classes to keep.
    pub targets: Targets,
    /// Tracker settings. `hold_frames` and `max_lost_frames` are replaced when
    /// `hold_seconds` is set.
    pub tracker: TrackerConfig,
    /// How long a lost track keeps its predicted box, in seconds of video (1.0): converted
    /// with the stream's frame rate, at least `2 * every` frames; tracks can be re-found
    /// under the same id for twice that.
    pub hold_seconds: Option<f64>,
    /// How far before its first detection a new track's first box is also masked, in
    /// seconds of video (0.5): people entering at the frame edge or from behind something
    /// are visible a few frames before the detector fires. The streaming redactor holds this
    /// many frames (at least `every - 1`) in memory.
    pub lead_in_seconds: f64,
    /// Detector settings, recorded in the result (the detector itself is passed in).
    pub detector: PersonFaceConfig,
    /// Compute the sha256 of the input for the result (true).
    pub hash_source: bool,
}

impl Default for AnalyseOptions {
    fn default() -> Self {
        Self {
            every: 1,
            detect_rate: None,
            targets: Targets::ALL,
            tracker: TrackerConfig::default(),
            hold_seconds: Some(1.0),
            lead_in_seconds: 0.5,
            detector: PersonFaceConfig::default(),
            hash_source: true,
        }
    }
}

/// Detections per second of video of `--every auto`: on 25 fps video the detector runs on
/// every 3rd frame, on 30 fps every 3rd, on 10-15 fps every frame. Chosen from the recall
/// measured with `benches/recall.sh` (BENCHMARKS.md): at 8 detections a second no box the
/// detector finds on every frame is left unmasked on the real clips.
pub const AUTO_DETECT_RATE: f64 = 8.0;

impl AnalyseOptions {
    /// The detection interval for a stream of `fps` frames a second: `every`, or with
    /// `detect_rate` set the largest interval that still runs the detector at least that
    /// often (1 when the frame rate is unknown; at most 100).
    pub fn every_at(&self, fps: Option<f64>) -> u32 {
        match (self.detect_rate, fps) {
            (Some(rate), Some(fps)) if rate > 0.0 && fps.is_finite() && fps > 0.0 => {
                ((fps / rate).floor() as u32).clamp(1, 100)
            }
            (Some(_), _) => 1,
            (None, _) => self.every,
        }
    }

    /// These options with `every` fixed for a stream of `fps` frames a second
    /// ([`AnalyseOptions::every_at`]) and `detect_rate` cleared: what a run records.
    pub fn resolved(&self, fps: Option<f64>) -> Self {
        Self {
            every: self.every_at(fps),
            detect_rate: None,
            ..self.clone()
        }
    }

    /// The lead-in in frames for a stream of `fps` frames a second (25 when unknown).
    pub fn lead_in_frames(&self, fps: Option<f64>) -> u64 {
        (self.lead_in_seconds * fps.unwrap_or(25.0)).ceil() as u64
    }

    /// Checks `every`, `detect_rate`, `lead_in_seconds` and `hold_seconds`.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if !(self.lead_in_seconds.is_finite() && (0.0..=60.0).contains(&self.lead_in_seconds)) {
            return Err(Error::InvalidSetting {
                name: "lead_in_seconds",
                value: self.lead_in_seconds.to_string(),
                reason: "must lie in [0, 60]".into(),
            });
        }
        if let Some(r) = self.detect_rate {
            if !(r.is_finite() && r > 0.0 && r <= 1000.0) {
                return Err(Error::InvalidSetting {
                    name: "detect_rate",
                    value: r.to_string(),
                    reason: "must be a positive number of detections per second, at most 1000"
                        .into(),
                });
            }
        } else if self.every == 0 || self.every > 100 {
            return Err(Error::InvalidSetting {
                name: "every",
                value: self.every.to_string(),
                reason: "must be 1..=100".into(),
            });
        }
        if let Some(h) = self
            .hold_seconds
            .filter(|h| !(h.is_finite() && (0.0..=3600.0).contains(h)))
        {
            return Err(Error::InvalidSetting {
                name: "hold_seconds",
                value: h.to_string(),
                reason: "must lie in [0, 3600]".into(),
            });
        }
        Ok(())
    }
}

/// The detector's numeric settings as a run records them (`settings.thresholds` of the
/// tracks file and the redaction report).
pub fn detector_thresholds(c: &PersonFaceConfig) -> BTreeMap<String, f32> {
    BTreeMap::from([
        ("person_score".to_string(), c.person.score_threshold),
        ("person_nms_iou".to_string(), c.person.nms_iou),
        ("face_score".to_string(), c.face.score_threshold),
        ("face_nms_iou".to_string(), c.face.nms_iou),
        (
            "full_frame_face_interval_s".to_string(),
            c.full_frame_interval,
        ),
        (
            "face_min_person_height_px".to_string(),
            c.min_person_height_for_faces,
        ),
        (
            "person_coarse_long_side".to_string(),
            c.scan.coarse_long_side as f32,
        ),
        (
            "person_fine_long_side".to_string(),
            c.scan.fine_long_side as f32,
        ),
        ("person_fine_max_scale".to_string(), c.scan.fine_max_scale),
        ("person_upscale".to_string(), c.scan.upscale),
        ("person_tile".to_string(), c.scan.tile as f32),
        ("person_tile_overlap".to_string(), c.scan.overlap as f32),
        ("person_sweep_s".to_string(), c.scan.sweep_seconds),
        ("person_merge_iou".to_string(), c.scan.merge_iou),
    ])
}

/// The stream's frame rate, when known and positive.
pub(crate) fn fps_of(info: &VideoInfo) -> Option<f64> {
    info.frame_rate.map(|r| r.as_f64()).filter(|f| *f > 0.0)
}

/// The built-in detector for `targets`: YOLOX persons, YuNet faces on the downscaled frame,
/// or both together (faces on person upper-body crops plus the downscaled frame).
pub fn builtin_detector(
    store: &ModelStore,
    targets: Targets,
    config: &PersonFaceConfig,
) -> Result<Box<dyn Detector>, obscura_detect::Error> {
    Ok(match (targets.person, targets.face) {
        (true, true) => Box::new(PersonFaceDetector::new(store, *config)?),
        (true, false) => Box::new(PersonScan::new(
            YoloxDetector::person(store, config.person)?,
            config.scan,
        )?),
        _ => Box::new(FaceDetector::new(store, config.face)?),
    })
}

/// The tracker settings an analysis of a stream at `fps` runs with: the hold time in seconds
/// converted to frames (at least `2 * every`), exactly as [`analyse()`] does, so a streaming
/// run gives the ids `obscura tracks` shows.
pub(crate) fn effective_tracker(options: &AnalyseOptions, fps: Option<f64>) -> TrackerConfig {
    let mut cfg = options.tracker;
    if let Some(h) = options.hold_seconds {
        let hold = ((h * fps.unwrap_or(25.0)).ceil() as u32).max(2 * options.every_at(fps));
        cfg.hold_frames = hold;
        cfg.max_lost_frames = cfg.max_lost_frames.max(2 * hold);
    }
    cfg
}

/// The streaming masker for a stream described by `info`: the detection interval, tracker and
/// lead-in of `options`, the targets of `options` (a redactor's are its policy's). With
/// `policy` `None` it only analyses (see [`LiveMasker`]); `record` keeps a [`TrackSetBuilder`]
/// with the same lead-in [`analyse()`] gives its TrackSet.
pub(crate) fn live_masker<'a>(
    input: &'a Path,
    detector: &'a mut dyn Detector,
    options: &AnalyseOptions,
    policy: Option<&'a Policy>,
    info: &VideoInfo,
    record: bool,
) -> Result<(LiveMasker<'a>, TrackerConfig), Error> {
    let fps = fps_of(info);
    let cfg = effective_tracker(options, fps);
    let tracker = Tracker::new(cfg).map_err(|e| Error::InvalidSetting {
        name: "tracker",
        value: format!("{cfg:?}"),
        reason: e.to_string(),
    })?;
    let masker = LiveMasker {
        input,
        detector,
        tracker,
        policy,
        targets: options.targets,
        every: u64::from(options.every_at(fps)),
        lead_in: options.lead_in_frames(fps),
        held: VecDeque::new(),
        last_detected: HashMap::new(),
        seen: BTreeMap::new(),
        untracked: 0,
        // The same lead-in `analyse` gives its TrackSet.
        record: record.then(|| TrackSetBuilder::new().with_lead_in(options.lead_in_frames(fps))),
        detect_time: Duration::ZERO,
    };
    Ok((masker, cfg))
}

/// How an analysis pass runs: queue depth, frame limit, cancellation, progress and the pass
/// numbering reported.
pub(crate) struct PassControl<'a> {
    pub(crate) queue: usize,
    pub(crate) max_frames: Option<u64>,
    pub(crate) cancel: &'a CancelToken,
    pub(crate) progress: Option<&'a (dyn Fn(&Progress) + Sync)>,
    pub(crate) passes: u32,
}

/// What an analysis pass produced: the tracks, each frame's PTS, and the busy time per stage.
pub(crate) struct Analysis {
    pub(crate) set: TrackSet,
    pub(crate) pts: Vec<(u64, Timestamp)>,
    pub(crate) stages: StageTimes,
}

/// The one analysis path: decodes `dec` (opened on `input`), detects on the schedule of
/// `options` (its targets only), tracks, and returns the [`TrackSet`] with the source, the
/// settings and the models recorded.
pub(crate) fn analysis_pass(
    input: &Path,
    dec: &mut Decoder,
    detector: &mut dyn Detector,
    options: &AnalyseOptions,
    control: PassControl<'_>,
) -> Result<Analysis, Error> {
    let info = dec.info().clone();
    let sha256 = if options.hash_source {
        Some(sha256_file(input).map_err(|e| Error::stage(input, Stage::Decode, At::NONE, e))?)
    } else {
        None
    };
    let models: Vec<ModelId> = detector.models();
    let (mut masker, tracker_cfg) = live_masker(input, detector, options, None, &info, true)?;
    let outcome = run_pass(
        input,
        dec,
        &mut masker,
        None,
        control.queue,
        control.max_frames,
        control.cancel,
        control.progress,
        (Pass::Analyse, 1, control.passes),
    )?;
    if control.cancel.is_cancelled() {
        return Err(Error::Cancelled {
            input: input.to_path_buf(),
        });
    }
    let builder = masker.record.take().expect("recording");
    let mut stages = outcome.stages;
    stages.detect_ms = ms(masker.detect_time);
    stages.track_policy_ms -= stages.detect_ms;
    drop(masker);
    let fps = fps_of(&info);
    let source = SourceInfo {
        path: input.display().to_string(),
        sha256,
        width: info.width,
        height: info.height,
        frames: outcome.frames,
        time_base: info.time_base.to_string(),
        fps: fps.unwrap_or(0.0),
    };
    let settings = AnalysisSettings {
        every: options.every_at(fps),
        targets: options.targets.classes(),
        tracker: tracker_cfg,
        thresholds: detector_thresholds(&options.detector),
        models,
    };
    Ok(Analysis {
        set: builder.finish(source, settings, info.time_base),
        pts: outcome.pts,
        stages,
    })
}

/// Analyses `input` with `detector` and returns every track. `progress(done, total)` is
/// called after each frame (`total` is the container's frame count when known), from the
/// pass's render thread.
pub fn analyse(
    input: &Path,
    detector: &mut dyn Detector,
    options: &AnalyseOptions,
    progress: impl FnMut(u64, Option<u64>) + Send,
) -> Result<TrackSet, Error> {
    options.validate()?;
    let mut dec = Decoder::open(input, &DecodeOptions::default())
        .map_err(|e| Error::stage(input, Stage::Decode, At::NONE, e))?;
    let progress = Mutex::new(progress);
    let report = |p: &Progress| {
        if let Ok(mut f) = progress.lock() {
            f(p.frames_done, p.frames_total);
        }
    };
    let cancel = CancelToken::new();
    let control = PassControl {
        queue: 4,
        max_frames: None,
        cancel: &cancel,
        progress: Some(&report),
        passes: 1,
    };
    let analysis = analysis_pass(input, &mut dec, detector, options, control)?;
    if analysis.set.source.frames == 0 {
        return Err(Error::stage(
            input,
            Stage::Decode,
            At::NONE,
            "the file has no video frames",
        ));
    }
    Ok(analysis.set)
}
