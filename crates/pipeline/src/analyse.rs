//! Analysis: decode a whole file, detect persons/faces on every Nth frame, track, and
//! return a [`TrackSet`] with the box of every live track on every frame (detected,
//! predicted between detections, or held after a miss), so a renderer can mask each
//! frame from the TrackSet alone.
//!
//! Decoding runs on its own thread and feeds frames through a bounded channel while this
//! thread runs inference and tracking.

use std::collections::BTreeMap;
use std::path::Path;

use obscura_core::{Detection, Frame, ObjectClass, Timestamp};
use obscura_detect::models::{ModelStore, sha256_file};
use obscura_detect::{Detector, FaceDetector, PersonFaceConfig, PersonFaceDetector, PersonScan, YoloxDetector};
use obscura_media::{DecodeOptions, Decoder, VideoInfo};
use obscura_track::{AnalysisSettings, ModelRecord, SourceInfo, TrackSet, TrackSetBuilder, Tracker, TrackerConfig};

use crate::error::{At, Error, Stage};
use crate::redact::effective_tracker;

/// What to look for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Targets {
    /// Whole persons (the primary mask).
    pub person: bool,
    /// Faces (an extra layer; linked to their person track).
    pub face: bool,
}

impl Targets {
    /// Persons and faces.
    pub const ALL: Targets = Targets { person: true, face: true };

    /// Parses `person,face` (either or both).
    pub fn parse(s: &str) -> Result<Self, Error> {
        let mut t = Targets { person: false, face: false };
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "person" | "persons" => t.person = true,
                "face" | "faces" => t.face = true,
                other => return Err(Error::InvalidSetting { name: "targets", value: other.into(), reason: "expected person and/or face".into() }),
            }
        }
        if !t.person && !t.face {
            return Err(Error::InvalidSetting { name: "targets", value: s.into(), reason: "name at least one of person, face".into() });
        }
        Ok(t)
    }

    /// The classes, in order.
    pub fn classes(&self) -> Vec<ObjectClass> {
        let mut v = Vec::new();
        if self.person {
            v.push(ObjectClass::Person);
        }
        if self.face {
            v.push(ObjectClass::Face);
        }
        v
    }

    /// Whether `c` is one of the targets.
    pub fn includes(&self, c: ObjectClass) -> bool {
        match c {
            ObjectClass::Person => self.person,
            ObjectClass::Face => self.face,
            ObjectClass::Other(_) => false,
        }
    }
}

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
            (Some(rate), Some(fps)) if rate > 0.0 && fps.is_finite() && fps > 0.0 => ((fps / rate).floor() as u32).clamp(1, 100),
            (Some(_), _) => 1,
            (None, _) => self.every,
        }
    }

    /// These options with `every` fixed for a stream of `fps` frames a second
    /// ([`AnalyseOptions::every_at`]) and `detect_rate` cleared: what a run records.
    pub fn resolved(&self, fps: Option<f64>) -> Self {
        Self { every: self.every_at(fps), detect_rate: None, ..self.clone() }
    }

    /// The lead-in in frames for a stream of `fps` frames a second (25 when unknown).
    pub fn lead_in_frames(&self, fps: Option<f64>) -> u64 {
        (self.lead_in_seconds * fps.unwrap_or(25.0)).ceil() as u64
    }

    /// Checks `every`, `detect_rate`, `lead_in_seconds` and `hold_seconds`.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if !(self.lead_in_seconds.is_finite() && (0.0..=60.0).contains(&self.lead_in_seconds)) {
            return Err(Error::InvalidSetting { name: "lead_in_seconds", value: self.lead_in_seconds.to_string(), reason: "must lie in [0, 60]".into() });
        }
        if let Some(r) = self.detect_rate {
            if !(r.is_finite() && r > 0.0 && r <= 1000.0) {
                return Err(Error::InvalidSetting { name: "detect_rate", value: r.to_string(), reason: "must be a positive number of detections per second, at most 1000".into() });
            }
        } else if self.every == 0 || self.every > 100 {
            return Err(Error::InvalidSetting { name: "every", value: self.every.to_string(), reason: "must be 1..=100".into() });
        }
        if let Some(h) = self.hold_seconds.filter(|h| !(h.is_finite() && (0.0..=3600.0).contains(h))) {
            return Err(Error::InvalidSetting { name: "hold_seconds", value: h.to_string(), reason: "must lie in [0, 3600]".into() });
        }
        Ok(())
    }
}

/// The detector's numeric settings as a run records them (`settings.thresholds` of the
/// tracks file and the redaction report).
pub(crate) fn detector_thresholds(c: &PersonFaceConfig) -> BTreeMap<String, f32> {
    BTreeMap::from([
        ("person_score".to_string(), c.person.score_threshold),
        ("person_nms_iou".to_string(), c.person.nms_iou),
        ("face_score".to_string(), c.face.score_threshold),
        ("face_nms_iou".to_string(), c.face.nms_iou),
        ("full_frame_face_interval_s".to_string(), c.full_frame_interval),
        ("face_min_person_height_px".to_string(), c.min_person_height_for_faces),
        ("person_coarse_long_side".to_string(), c.scan.coarse_long_side as f32),
        ("person_fine_long_side".to_string(), c.scan.fine_long_side as f32),
        ("person_fine_max_scale".to_string(), c.scan.fine_max_scale),
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
pub fn builtin_detector(store: &ModelStore, targets: Targets, config: &PersonFaceConfig) -> Result<Box<dyn Detector>, obscura_detect::Error> {
    Ok(match (targets.person, targets.face) {
        (true, true) => Box::new(PersonFaceDetector::new(store, *config)?),
        (true, false) => Box::new(PersonScan::new(YoloxDetector::person(store, config.person)?, config.scan)?),
        _ => Box::new(FaceDetector::new(store, config.face)?),
    })
}

/// Analyses `input` with `detector` and returns every track. `progress(done, total)` is
/// called after each frame (`total` is the container's frame count when known).
pub fn analyse(
    input: &Path,
    detector: &mut dyn Detector,
    options: &AnalyseOptions,
    mut progress: impl FnMut(u64, Option<u64>),
) -> Result<TrackSet, Error> {
    options.validate()?;
    let path = input.to_path_buf();
    let fail = |stage: Stage, at: At, e: Box<dyn std::error::Error + Send + Sync>| Error::stage(path.clone(), stage, at, e);
    let decoder = Decoder::open(input, &DecodeOptions::default()).map_err(|e| fail(Stage::Decode, At::NONE, e.into()))?;
    let info = decoder.info().clone();
    let fps = fps_of(&info);
    let options = &options.resolved(fps);
    let every = u64::from(options.every);
    let tracker_cfg = effective_tracker(options, fps);
    let mut tracker = Tracker::new(tracker_cfg).map_err(|e| Error::InvalidSetting { name: "tracker", value: format!("{tracker_cfg:?}"), reason: e.to_string() })?;

    let sha256 = if options.hash_source { Some(sha256_file(input).map_err(|e| fail(Stage::Decode, At::NONE, e.into()))?) } else { None };

    let (tx, rx) = crossbeam_channel::bounded::<Result<Frame, obscura_media::Error>>(4);
    let total = info.frame_count;
    // People entering at the frame edge are visible a few frames before the detector fires.
    let mut builder = TrackSetBuilder::new().with_lead_in(options.lead_in_frames(fps));
    let mut frames = 0u64;
    let mut last_pts: Option<Timestamp> = None;
    let result = std::thread::scope(|s| -> Result<(), Error> {
        s.spawn(move || {
            let mut decoder = decoder;
            loop {
                match decoder.next_frame() {
                    Ok(Some(f)) => {
                        if tx.send(Ok(f)).is_err() {
                            return;
                        }
                    }
                    Ok(None) => return,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
            }
        });
        let rx = rx; // owned here: dropped on early return, which stops the decoding thread
        for item in rx.iter() {
            let frame = item.map_err(|e| fail(Stage::Decode, At { frame: Some(frames), time: last_pts }, e.into()))?;
            let at = At::frame(frame.index, frame.pts);
            let dets: Option<Vec<Detection>> = if frame.index % every == 0 {
                let all = detector.detect(&frame).map_err(|e| fail(Stage::Detect, at, e.into()))?;
                Some(all.into_iter().filter(|d| options.targets.includes(d.class)).collect())
            } else {
                None
            };
            let update = tracker.step(frame.index, dets.as_deref()).map_err(|e| fail(Stage::Track, at, e.into()))?;
            builder.push(&update, frame.pts);
            frames += 1;
            last_pts = Some(frame.pts);
            progress(frames, total);
        }
        Ok(())
    });
    result?;
    if frames == 0 {
        return Err(fail(Stage::Decode, At::NONE, "the file has no video frames".into()));
    }
    let source = SourceInfo {
        path: path.display().to_string(),
        sha256,
        width: info.width,
        height: info.height,
        frames,
        time_base: info.time_base.to_string(),
        fps: fps.unwrap_or(0.0),
    };
    let thresholds = detector_thresholds(&options.detector);
    let settings = AnalysisSettings {
        every: options.every,
        targets: options.targets.classes(),
        tracker: tracker_cfg,
        thresholds,
        models: detector.models().into_iter().map(|m| ModelRecord { name: m.name, sha256: m.sha256 }).collect(),
    };
    Ok(builder.finish(source, settings, info.time_base))
}
