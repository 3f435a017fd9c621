//! [`PipelineRedactor`]: the Obscura pipeline as an access request's [`ClipRedactor`], with
//! the report's words for the policy and the signed [`RedactionPolicy`] record.

use std::path::Path;

use obscura_core::{ObjectClass, Timestamp};
use obscura_pipeline::{KeepAt, RedactionSettings, ReviewEdits};
use obscura_seal::RedactionPolicy;
use serde_json::json;

use crate::{ClipRedactor, RedactionError, RedactionSummary};

/// A point that picks the data subject in a request: the person whose box contains the
/// point at a source clip time, on one camera or on all.
#[derive(Debug, Clone, PartialEq)]
pub struct SubjectPoint {
    /// The camera it applies to (`None`: every camera).
    pub camera: Option<String>,
    /// Time (source clip time) and pixel.
    pub at: KeepAt,
    /// The point as given (`[CAMERA=]TIME@X,Y`), for the report and the policy record.
    pub text: String,
}

/// A reviewer's edits (docs/EDITS.md) for the clips of one camera, prepared by the caller
/// (the `obscura-review` crate reads and checks the file).
pub struct ClipReview {
    /// The camera the edits were made on.
    pub camera: String,
    /// Points that pick the data subject, in source clip time.
    pub keep_at: Vec<KeepAt>,
    /// The pipeline's edits for a window clip whose time zero is the given source time.
    pub edits_for: Box<dyn Fn(Timestamp) -> Result<ReviewEdits, String> + Send>,
    /// Sentences for the report (manual masks, un-mask reasons, the reviewer).
    pub notes: Vec<String>,
    /// The record signed into the policy (`policy.extra.review`: reviewer, edits sha256,
    /// reasons); the camera is added.
    pub record: serde_json::Value,
    /// Whether the reviewer picked the data subject.
    pub picks_subject: bool,
}

impl std::fmt::Debug for ClipReview {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClipReview")
            .field("camera", &self.camera)
            .field("keep_at", &self.keep_at)
            .field("record", &self.record)
            .finish_non_exhaustive()
    }
}

/// The redaction pipeline as the clip redactor of an access request: each window clip is
/// redacted with `settings`, the subject points moved into the window's time.
#[derive(Debug)]
pub struct PipelineRedactor {
    settings: RedactionSettings,
    points: Vec<SubjectPoint>,
    review: Option<ClipReview>,
}

impl PipelineRedactor {
    /// A redactor with these settings (their own `keep_at` is not used: give points, which
    /// are in source time) and subject points.
    pub fn new(settings: RedactionSettings, points: Vec<SubjectPoint>) -> Self {
        Self {
            settings,
            points,
            review: None,
        }
    }

    /// The same redactor applying a reviewer's edits to the clips of their camera.
    pub fn with_review(mut self, review: ClipReview) -> Self {
        self.review = Some(review);
        self
    }

    /// The settings.
    pub fn settings(&self) -> &RedactionSettings {
        &self.settings
    }
}

impl ClipRedactor for PipelineRedactor {
    fn redact(
        &mut self,
        camera: &str,
        input: &Path,
        output: &Path,
        offset: Timestamp,
    ) -> Result<RedactionSummary, RedactionError> {
        let mut keep_at = Vec::new();
        let mut notes = Vec::new();
        for p in &self.points {
            if p.camera.as_deref().is_some_and(|c| c != camera) {
                continue;
            }
            // Source clip time -> time in the window clip (which starts at `offset`).
            let at =
                p.at.in_window(offset)
                    .ok_or_else(|| RedactionError::PointBeforeWindow {
                        point: p.text.clone(),
                    })?;
            keep_at.push(at);
            notes.push(format!(
                "the data subject is the person at ({:.0}, {:.0}) at clip time {}",
                p.at.x, p.at.y, p.at.time
            ));
        }
        let mut edits = None;
        if let Some(rv) = self.review.as_ref().filter(|rv| rv.camera == camera) {
            for at in &rv.keep_at {
                keep_at.push(at.in_window(offset).ok_or_else(|| RedactionError::Review {
                    reason: "a person's time lies before the request window".into(),
                })?);
            }
            edits =
                Some((rv.edits_for)(offset).map_err(|reason| RedactionError::Review { reason })?);
            notes.extend(rv.notes.iter().cloned());
        }
        let mut r = self
            .settings
            .builder_with(&keep_at)
            .map(|b| match edits {
                Some(e) => b.review(e),
                None => b,
            })
            .and_then(|b| b.build())
            .map_err(|e| RedactionError::Setup(Box::new(e)))?;
        let rep = r
            .redact(input, output)
            .map_err(|error| RedactionError::Pipeline {
                camera: camera.to_string(),
                window: input.to_path_buf(),
                offset,
                error: Box::new(error),
            })?;
        for m in rep.matches.iter().filter(|m| m.matched) {
            notes.push(format!(
                "person {} matched the reference photo (similarity {:.2})",
                m.track, m.similarity
            ));
        }
        if rep.subject_frames > 0 {
            notes.push(format!(
                "the data subject is visible on {} of the {} frames they are in; masked where they could not be confirmed to be them ({} frames)",
                rep.subject_frames - rep.subject_uncertain_frames,
                rep.subject_frames,
                rep.subject_uncertain_frames
            ));
        }
        if rep.silhouette_frames > 0 {
            notes.push(format!(
                "on {} frames the data subject's own outline was left visible inside the box of a person beside them (that person stays masked)",
                rep.silhouette_frames
            ));
        }
        if rep.kept.is_empty() {
            notes.push("no person was kept visible: everyone detected is masked".into());
        }
        notes.push(if rep.every == 1 {
            "detection ran on every frame".to_string()
        } else {
            format!("detection ran on one frame in {}", rep.every)
        });
        Ok(RedactionSummary {
            frames: rep.frames,
            kept_tracks: rep.kept.clone(),
            masked_persons: rep
                .masked
                .iter()
                .filter(|(_, c)| *c == ObjectClass::Person)
                .map(|(t, _)| *t)
                .collect(),
            masked_faces: rep
                .masked
                .iter()
                .filter(|(_, c)| *c == ObjectClass::Face)
                .map(|(t, _)| *t)
                .collect(),
            notes,
            models: rep.models.clone(),
        })
    }

    fn describe(&self) -> Vec<String> {
        let s = &self.settings;
        let t = s.policy.targets();
        let what = match (t.person, t.face) {
            (true, true) => "every detected person (whole body) and every detected face",
            (true, false) => "every detected person (whole body)",
            _ => "every detected face",
        };
        let mut v = vec![format!(
            "Access request: {what} is masked ({}) in every frame, except the data subject.",
            s.style
        )];
        let mut how = Vec::new();
        if !s.policy.keep().is_empty() {
            let keep: Vec<u64> = s.policy.keep().iter().copied().collect();
            how.push(format!(
                "person ids {keep:?} (as `obscura tracks` lists them)"
            ));
        }
        if !self.points.is_empty() {
            how.push(format!(
                "{} point(s) in time and space ({})",
                self.points.len(),
                self.points
                    .iter()
                    .map(|k| k.text.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if let Some(like) = &s.keep_like {
            how.push(format!(
                "appearance similarity to a reference photo of at least {:.2}",
                like.threshold
            ));
        }
        if self.review.as_ref().is_some_and(|r| r.picks_subject) {
            how.push("a reviewer's pick on the review page".to_string());
        }
        if how.is_empty() {
            v.push("No data subject was selected: every person is masked.".into());
        } else {
            v.push(format!(
                "The data subject was selected by {}.",
                how.join(" and ")
            ));
        }
        v.push("Fail closed: any detection not confidently part of the subject's track is masked, and the subject's box never unmasks another person overlapping it.".into());
        v.push(format!(
            "Detection runs on {}; between detections boxes are tracked and held for {:.1} s after a person is lost.",
            match (s.analysis.detect_rate, s.analysis.every) {
                (Some(r), _) => format!("at least {r} frames per second of video (one frame in N, N set from each camera's frame rate)"),
                (None, 1) => "every frame".to_string(),
                (None, n) => format!("one frame in {n}"),
            },
            s.analysis.hold_seconds.unwrap_or(0.0)
        ));
        let zones = s.policy.zones().len();
        if zones > 0 {
            v.push(format!(
                "{zones} static privacy zone(s) are masked in every frame."
            ));
        }
        v.push(
            "Only the request window is exported; the window was cut frame-exactly before masking."
                .into(),
        );
        v
    }

    /// The record of the settings: every detector threshold the pipeline records for a run
    /// (the same names and values as a tracks file's `settings.thresholds`), the style per
    /// masked class, the detection schedule, zones and subject selection.
    fn policy(&self) -> RedactionPolicy {
        let s = &self.settings;
        let mut p = RedactionPolicy::default();
        for (name, value) in obscura_pipeline::analyse::detector_thresholds(&s.analysis.detector) {
            // The f32 as written in a tracks file (0.3, not 0.30000001192092896).
            p.thresholds.insert(name, value.into());
        }
        let t = s.policy.targets();
        if t.person {
            p.styles.insert("person".into(), s.style.clone());
        }
        if t.face {
            p.styles.insert("face".into(), s.style.clone());
        }
        match s.analysis.detect_rate {
            Some(r) => p.extra.insert("detect_rate_per_second".into(), json!(r)),
            None => p.extra.insert("every".into(), json!(s.analysis.every)),
        };
        p.extra
            .insert("zones".into(), json!(s.policy.zones().len()));
        p.extra.insert(
            "keep_at".into(),
            json!(
                self.points
                    .iter()
                    .map(|k| k.text.clone())
                    .collect::<Vec<_>>()
            ),
        );
        if let Some(like) = &s.keep_like {
            p.extra
                .insert("keep_like_similarity".into(), json!(like.threshold));
        }
        if let Some(rv) = &self.review {
            let mut r = rv.record.clone();
            r["camera"] = json!(rv.camera);
            p.extra.insert("review".into(), r);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use obscura_core::Rational;
    use obscura_detect::models::ModelStore;
    use obscura_pipeline::Policy;
    use obscura_pipeline::policy::{parse_style, parse_zone};

    use super::*;

    fn settings() -> RedactionSettings {
        RedactionSettings::new(ModelStore::new("/nonexistent-models").unwrap())
    }

    fn point(text: &str, camera: Option<&str>) -> SubjectPoint {
        let spec = text.split_once('=').map_or(text, |(_, s)| s);
        SubjectPoint {
            camera: camera.map(str::to_string),
            at: spec.parse().unwrap(),
            text: text.to_string(),
        }
    }

    #[test]
    fn policy_records_every_detector_setting_the_pipeline_records() {
        let r = PipelineRedactor::new(settings(), vec![point("2@10,20", None)]);
        let p = r.policy();
        let recorded =
            obscura_pipeline::analyse::detector_thresholds(&r.settings().analysis.detector);
        assert!(recorded.len() >= 5, "{recorded:?}");
        assert_eq!(
            p.thresholds.keys().collect::<Vec<_>>(),
            recorded.keys().collect::<Vec<_>>()
        );
        for (name, v) in &recorded {
            // The decimal a tracks file shows, not the f32's binary expansion.
            assert_eq!(p.thresholds[name].as_str(), v.to_string(), "{name}");
        }
        assert_eq!(p.styles.get("person").map(String::as_str), Some("pixelate"));
        assert_eq!(p.extra["keep_at"], json!(["2@10,20"]));
        assert_eq!(p.extra["zones"], json!(0));
    }

    #[test]
    fn describe_names_the_selection_and_zones() {
        let mut s = settings();
        s.policy = Policy::builder()
            .keep([7, 3])
            .zone(parse_zone("0,0;0.5,0;0.5,0.5", parse_style("pixelate").unwrap()).unwrap())
            .build()
            .unwrap();
        let r = PipelineRedactor::new(s, vec![]);
        let d = r.describe();
        assert!(d[0].starts_with("Access request: every detected person (whole body) and every detected face is masked (pixelate)"), "{d:?}");
        assert_eq!(
            d[1],
            "The data subject was selected by person ids [3, 7] (as `obscura tracks` lists them)."
        );
        assert!(
            d.iter()
                .any(|l| l == "1 static privacy zone(s) are masked in every frame."),
            "{d:?}"
        );
        let none = PipelineRedactor::new(settings(), vec![]).describe();
        assert_eq!(
            none[1],
            "No data subject was selected: every person is masked."
        );
    }

    #[test]
    fn a_point_before_the_window_is_a_typed_error_before_any_model_loads() {
        let mut r = PipelineRedactor::new(settings(), vec![point("cam1=1@10,20", Some("cam1"))]);
        let offset = Timestamp::new(5_000_000, Rational::MICROS);
        let e = r
            .redact(
                "cam1",
                Path::new("/nonexistent/in.mp4"),
                Path::new("/nonexistent/out.mp4"),
                offset,
            )
            .unwrap_err();
        assert!(
            matches!(&e, RedactionError::PointBeforeWindow { point } if point == "cam1=1@10,20"),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "--keep-at cam1=1@10,20: the time lies before the request window"
        );
        // Another camera's point does not apply; the models are then needed (and missing).
        let e = r
            .redact(
                "cam2",
                Path::new("/nonexistent/in.mp4"),
                Path::new("/nonexistent/out.mp4"),
                offset,
            )
            .unwrap_err();
        assert!(matches!(e, RedactionError::Setup(_)), "{e:?}");
    }
}
