//! The edits file (docs/EDITS.md): what a reviewer decided about one clip, as versioned JSON.
//!
//! Read with [`LoadedEdits::read`] (parsed, validated, hashed), turned into pipeline settings
//! with [`Edits::manual_masks`], [`Edits::keep_at`] and [`Edits::identity_edits`], written
//! with [`Edits::write`] (atomically, never over a file unless asked).

use std::path::{Path, PathBuf};

use obscura_core::{Rect, Timestamp};
use obscura_pipeline::{IdentityEdit, KeepAt, Keyframe, ManualMask, ManualMasks, ManualShape};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::Error;

/// The format version this crate reads and writes.
pub const FORMAT: u32 = 1;

/// Largest edits file read (bytes).
pub const MAX_BYTES: u64 = 16 << 20;

/// Shortest accepted un-mask reason (characters, trimmed).
pub const MIN_REASON_CHARS: usize = 10;

/// The reviewer's decisions about one clip. Times are source times (`12.5`, `00:01:02.040`);
/// boxes `[x, y, width, height]` in source-frame pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edits {
    /// Always [`FORMAT`].
    pub format: u32,
    /// The clip reviewed (checked against the input when its sha256 is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRef>,
    /// Pseudonym of the reviewer (never a real name).
    pub reviewer: String,
    /// When the review was saved, UTC RFC 3339.
    pub reviewed_at: String,
    /// The data subject (the requester), left visible where confirmed to be them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<PersonRef>,
    /// Manual masks: only ever add masking.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub masks: Vec<MaskEntry>,
    /// People to split: the person at the point is someone else from the point's time on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub splits: Vec<PersonRef>,
    /// Groups of people who are one person.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merges: Vec<Vec<PersonRef>>,
    /// Detected people left visible besides the subject, each with the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmask: Vec<Unmask>,
}

/// The clip an edits file was made on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceRef {
    /// File name (no folders).
    pub name: String,
    /// SHA-256 of the file, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// A person, named by a point on them: the person whose box contains `(x, y)` on the frame
/// nearest to `time`. `identity` is the id the review page showed (for people reading the
/// file); the point is what the pipeline resolves, so it also holds for a clip cut from the
/// source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonRef {
    /// The person id shown by the review (informative).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<u64>,
    /// Source time of the point.
    pub time: String,
    /// Column, source pixels.
    pub x: f32,
    /// Row, source pixels.
    pub y: f32,
}

/// A manual mask: either `keyframes` (a box moved over frames, linearly interpolated between
/// them), or `from` + `until` + `box` (a fixed box over a half-open time range).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaskEntry {
    /// Unique label.
    pub id: String,
    /// A moving box.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keyframes: Vec<KeyframeEntry>,
    /// Region: start time (included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Region: end time (excluded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// Region: the box.
    #[serde(default, rename = "box", skip_serializing_if = "Option::is_none")]
    pub rect: Option<[f32; 4]>,
    /// What it hides (for the record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Where a moving manual box is at one time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyframeEntry {
    /// Source time.
    pub time: String,
    /// `[x, y, width, height]`.
    #[serde(rename = "box")]
    pub rect: [f32; 4],
}

/// A detected person left visible on purpose (e.g. a second requester who consented).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unmask {
    /// The person.
    pub person: PersonRef,
    /// Why: required, written to the export's report and the audit log.
    #[serde(default)]
    pub reason: String,
}

fn time(field: &str, text: &str) -> Result<Timestamp, String> {
    Timestamp::parse(text).map_err(|_| {
        format!("{field}: {text:?} is not a time (seconds like 12.5, or HH:MM:SS.fff)")
    })
}

fn rect(field: &str, b: [f32; 4]) -> Result<Rect, String> {
    let [x, y, w, h] = b;
    if !(x.is_finite() && y.is_finite() && w.is_finite() && h.is_finite()) || w <= 0.0 || h <= 0.0 {
        return Err(format!(
            "{field}: box {b:?} needs finite numbers and a positive width and height"
        ));
    }
    Ok(Rect::new(x, y, w, h))
}

impl PersonRef {
    /// The point as the pipeline takes it.
    pub fn keep_at(&self, field: &str) -> Result<KeepAt, String> {
        let t = time(&format!("{field}.time"), &self.time)?;
        if !(self.x.is_finite() && self.y.is_finite() && self.x >= 0.0 && self.y >= 0.0) {
            return Err(format!(
                "{field}: x and y must be non-negative pixel coordinates"
            ));
        }
        Ok(KeepAt {
            time: t,
            x: self.x,
            y: self.y,
        })
    }
}

impl MaskEntry {
    fn to_manual(&self, field: &str) -> Result<ManualMask, String> {
        let field = format!("{field} ({:?})", self.id);
        let region = (self.from.as_ref(), self.until.as_ref(), self.rect);
        let shape = match (self.keyframes.is_empty(), region) {
            (false, (None, None, None)) => {
                let mut k = Vec::new();
                for (i, f) in self.keyframes.iter().enumerate() {
                    let t = time(&format!("{field}.keyframes[{i}].time"), &f.time)?;
                    k.push(Keyframe {
                        time_us: obscura_pipeline::manual::micros(t),
                        rect: rect(&format!("{field}.keyframes[{i}]"), f.rect)?,
                    });
                }
                if let Some(i) = (1..k.len()).find(|&i| k[i].time_us <= k[i - 1].time_us) {
                    return Err(format!(
                        "{field}.keyframes[{i}]: time {} is not after the previous keyframe's ({}); keyframe times must increase",
                        self.keyframes[i].time,
                        self.keyframes[i - 1].time
                    ));
                }
                ManualShape::Keyframes(k)
            }
            (true, (Some(a), Some(b), Some(r))) => ManualShape::Region {
                from_us: obscura_pipeline::manual::micros(time(&format!("{field}.from"), a)?),
                until_us: obscura_pipeline::manual::micros(time(&format!("{field}.until"), b)?),
                rect: rect(&field, r)?,
            },
            _ => {
                return Err(format!(
                    "{field}: give either keyframes, or from, until and box"
                ));
            }
        };
        if let ManualShape::Region {
            from_us, until_us, ..
        } = shape
            && from_us >= until_us
        {
            return Err(format!(
                "{field}: the time range is empty: from {} is not before until {}",
                self.from.as_deref().unwrap_or(""),
                self.until.as_deref().unwrap_or("")
            ));
        }
        Ok(ManualMask {
            id: self.id.clone(),
            shape,
        })
    }
}

/// Problems of an edits file, as one line each.
fn check(e: &Edits) -> Result<(), String> {
    if e.format != FORMAT {
        return Err(format!(
            "format {} is not supported (this obscura reads format {FORMAT})",
            e.format
        ));
    }
    let r = e.reviewer.trim();
    if r.is_empty() || r.len() > 64 || r.chars().any(char::is_control) {
        return Err("reviewer: a pseudonym of 1 to 64 printable characters is required".into());
    }
    if !obscura_core::civil::is_rfc3339_utc(&e.reviewed_at) {
        return Err(format!(
            "reviewed_at: {:?} is not a UTC time like 2026-12-02T01:30:00Z",
            e.reviewed_at
        ));
    }
    if let Some(s) = &e.subject {
        s.keep_at("subject")?;
    }
    e.manual_masks()?;
    for (i, s) in e.splits.iter().enumerate() {
        s.keep_at(&format!("splits[{i}]"))?;
    }
    for (i, g) in e.merges.iter().enumerate() {
        if g.len() < 2 {
            return Err(format!("merges[{i}]: a merge needs at least two people"));
        }
        for (j, p) in g.iter().enumerate() {
            p.keep_at(&format!("merges[{i}][{j}]"))?;
        }
    }
    for (i, u) in e.unmask.iter().enumerate() {
        u.person.keep_at(&format!("unmask[{i}].person"))?;
        let reason = u.reason.trim();
        if reason.chars().count() < MIN_REASON_CHARS {
            return Err(format!(
                "unmask[{i}]: leaving a detected person visible needs a reason of at least {MIN_REASON_CHARS} characters"
            ));
        }
        if reason.len() > 1000 || reason.chars().any(char::is_control) {
            return Err(format!(
                "unmask[{i}]: the reason must be at most 1000 printable characters on one line"
            ));
        }
    }
    Ok(())
}

impl Edits {
    /// An empty review by `reviewer` at `reviewed_at`.
    pub fn new(reviewer: impl Into<String>, reviewed_at: impl Into<String>) -> Self {
        Edits {
            format: FORMAT,
            source: None,
            reviewer: reviewer.into(),
            reviewed_at: reviewed_at.into(),
            subject: None,
            masks: Vec::new(),
            splits: Vec::new(),
            merges: Vec::new(),
            unmask: Vec::new(),
        }
    }

    /// Parses and validates JSON text; `origin` names it in errors.
    pub fn parse(text: &[u8], origin: &Path) -> Result<Edits, Error> {
        let e: Edits = serde_json::from_slice(text).map_err(|e| Error::Edits {
            path: origin.to_path_buf(),
            reason: e.to_string(),
        })?;
        e.validate(origin)?;
        Ok(e)
    }

    /// Checks every rule of docs/EDITS.md; the error names `origin` and the field.
    pub fn validate(&self, origin: &Path) -> Result<(), Error> {
        check(self).map_err(|reason| Error::Edits {
            path: origin.to_path_buf(),
            reason,
        })
    }

    /// The manual masks, validated, in source time.
    pub fn manual_masks(&self) -> Result<ManualMasks, String> {
        let masks = self
            .masks
            .iter()
            .enumerate()
            .map(|(i, m)| m.to_manual(&format!("masks[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        ManualMasks::new(masks).map_err(|e| e.to_string())
    }

    /// The people kept visible: the subject, then every un-masked person.
    pub fn keep_at(&self) -> Vec<KeepAt> {
        let mut v: Vec<KeepAt> = self
            .subject
            .iter()
            .filter_map(|s| s.keep_at("subject").ok())
            .collect();
        v.extend(
            self.unmask
                .iter()
                .filter_map(|u| u.person.keep_at("unmask").ok()),
        );
        v
    }

    /// The splits, then the merges, as the pipeline applies them.
    pub fn identity_edits(&self) -> Vec<IdentityEdit> {
        let mut v: Vec<IdentityEdit> = self
            .splits
            .iter()
            .filter_map(|s| s.keep_at("split").ok())
            .map(|person| IdentityEdit::Split { person })
            .collect();
        v.extend(self.merges.iter().map(|g| IdentityEdit::Merge {
            people: g.iter().filter_map(|p| p.keep_at("merge").ok()).collect(),
        }));
        v
    }

    /// The JSON text written to a file (pretty, newline-terminated).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("edits serialize");
        s.push('\n');
        s
    }

    /// Validates, then writes the file atomically (a temporary beside it, then renamed);
    /// an existing file is replaced only with `overwrite`. Never writes through a link.
    pub fn write(&self, path: &Path, overwrite: bool) -> Result<(), Error> {
        self.validate(path)?;
        let exists = std::fs::symlink_metadata(path).ok();
        if let Some(m) = &exists {
            if m.file_type().is_symlink() || !m.is_file() {
                return Err(Error::Edits {
                    path: path.to_path_buf(),
                    reason: "is a link or not a regular file (never written through)".into(),
                });
            }
            if !overwrite {
                return Err(Error::Edits {
                    path: path.to_path_buf(),
                    reason: "already exists (open the review with --edits FILE to change it)"
                        .into(),
                });
            }
        }
        let io = |e: std::io::Error| Error::Io {
            path: path.to_path_buf(),
            source: e,
        };
        if overwrite {
            obscura_core::atomic::write_atomically(path, self.to_json().as_bytes())
                .map(|_| ())
                .map_err(io)
        } else {
            obscura_core::atomic::write_new(path, self.to_json().as_bytes())
                .map(|_| ())
                .map_err(|e| match e.kind() {
                    std::io::ErrorKind::AlreadyExists => Error::Edits {
                        path: path.to_path_buf(),
                        reason: "already exists".into(),
                    },
                    _ => io(e),
                })
        }
    }

    /// Sentences for the export's report (for the data subject) and the run's notes.
    pub fn describe(&self) -> Vec<String> {
        let mut v = vec![format!(
            "The masking was reviewed by a person (reviewer {}, {}).",
            self.reviewer, self.reviewed_at
        )];
        if !self.masks.is_empty() {
            v.push(format!(
                "The reviewer added {} manual mask(s) for areas the detector missed; manual masks only add masking.",
                self.masks.len()
            ));
        }
        if !self.splits.is_empty() || !self.merges.is_empty() {
            v.push(format!(
                "The reviewer corrected the people found: {} split(s), {} merge(s).",
                self.splits.len(),
                self.merges.len()
            ));
        }
        for u in &self.unmask {
            v.push(format!(
                "A detected person (at {}, {:.0},{:.0}) was left visible on the reviewer's decision: {}",
                u.person.time,
                u.person.x,
                u.person.y,
                u.reason.trim()
            ));
        }
        v
    }
}

/// An edits file as read: the edits, where from, and the sha256 of its bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedEdits {
    /// The edits.
    pub edits: Edits,
    /// The file.
    pub path: PathBuf,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
}

impl LoadedEdits {
    /// Reads, parses, validates and hashes an edits file.
    pub fn read(path: &Path) -> Result<LoadedEdits, Error> {
        let io = |e: std::io::Error| Error::Io {
            path: path.to_path_buf(),
            source: e,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        if !meta.is_file() {
            return Err(Error::Edits {
                path: path.to_path_buf(),
                reason: "is not a regular file".into(),
            });
        }
        if meta.len() > MAX_BYTES {
            return Err(Error::Edits {
                path: path.to_path_buf(),
                reason: format!(
                    "is {} bytes; an edits file is at most {MAX_BYTES}",
                    meta.len()
                ),
            });
        }
        let bytes = std::fs::read(path).map_err(io)?;
        let edits = Edits::parse(&bytes, path)?;
        Ok(LoadedEdits {
            edits,
            path: path.to_path_buf(),
            sha256: obscura_core::digest::sha256_hex(&bytes),
        })
    }

    /// Checks that the edits were made on `input` whose sha256 is `input_sha256`, when the
    /// file names the source's hash.
    pub fn check_source(&self, input: &Path, input_sha256: &str) -> Result<(), Error> {
        match self.edits.source.as_ref().and_then(|s| s.sha256.as_deref()) {
            Some(h) if !h.eq_ignore_ascii_case(input_sha256) => Err(Error::Edits {
                path: self.path.clone(),
                reason: format!(
                    "was made on another file (source sha256 {h}), not on {} (sha256 {input_sha256})",
                    input.display()
                ),
            }),
            _ => Ok(()),
        }
    }

    /// What the signed manifest and the audit log record of the review.
    pub fn record(&self) -> serde_json::Value {
        let e = &self.edits;
        json!({
            "reviewed": true,
            "reviewer": e.reviewer,
            "reviewed_at": e.reviewed_at,
            "edits_sha256": self.sha256,
            "manual_masks": e.masks.len(),
            "splits": e.splits.len(),
            "merges": e.merges.len(),
            "unmasked": e.unmask.iter().map(|u| json!({"time": u.person.time, "x": u.person.x, "y": u.person.y, "reason": u.reason.trim()})).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{
      "format": 1,
      "source": {"name": "cam1.mp4"},
      "reviewer": "op-17",
      "reviewed_at": "2026-12-02T01:30:00Z",
      "subject": {"identity": 2, "time": "1.2", "x": 320, "y": 200},
      "masks": [
        {"id": "poster", "keyframes": [{"time": "0.4", "box": [10, 20, 30, 40]}, {"time": "1.4", "box": [110, 20, 30, 40]}]},
        {"id": "window", "from": "2", "until": "00:00:03.5", "box": [0, 0, 50, 50]}
      ],
      "splits": [{"time": "3", "x": 100, "y": 100}],
      "merges": [[{"time": "1", "x": 5, "y": 5}, {"time": "4", "x": 6, "y": 6}]],
      "unmask": [{"person": {"identity": 5, "time": "2.0", "x": 400, "y": 220}, "reason": "second requester, consent on file REQ-2026-043"}]
    }"#;

    fn parse(text: &str) -> Result<Edits, Error> {
        Edits::parse(text.as_bytes(), Path::new("review.json"))
    }

    #[test]
    fn a_full_file_parses_and_converts() {
        let e = parse(GOOD).unwrap();
        let m = e.manual_masks().unwrap();
        assert_eq!(m.masks().len(), 2);
        // Halfway between the keyframes (0.9 s) the box is halfway (x = 60).
        let r = m.rects_at(Timestamp::from_millis(900));
        assert_eq!(r.len(), 1);
        assert!((r[0].x - 60.0).abs() < 1e-3, "{r:?}");
        assert_eq!(m.rects_at(Timestamp::from_millis(3499)).len(), 1);
        assert!(m.rects_at(Timestamp::from_millis(3500)).is_empty());
        let keep = e.keep_at();
        assert_eq!(keep.len(), 2);
        assert_eq!(
            (keep[0].x, keep[0].y, keep[0].time),
            (320.0, 200.0, Timestamp::from_millis(1200))
        );
        assert_eq!(e.identity_edits().len(), 2);
        assert!(e.describe().iter().any(|l| l.contains("consent on file")));
        // Round trip through the writer's text.
        assert_eq!(parse(&e.to_json()).unwrap(), e);
    }

    #[test]
    fn errors_name_the_file_and_the_problem() {
        let cases: &[(&str, &str)] = &[
            (
                r#"{"format": 2, "reviewer": "a", "reviewed_at": "2026-12-02T01:30:00Z"}"#,
                "format 2",
            ),
            (
                r#"{"format": 1, "reviewer": "", "reviewed_at": "2026-12-02T01:30:00Z"}"#,
                "reviewer",
            ),
            (
                r#"{"format": 1, "reviewer": "a", "reviewed_at": "2026-02-30T01:30:00Z"}"#,
                "reviewed_at",
            ),
            (
                r#"{"format": 1, "reviewer": "a", "reviewed_at": "yesterday"}"#,
                "reviewed_at",
            ),
            (
                r#"{"format": 1, "reviewer": "a", "reviewed_at": "2026-12-02T01:30:00Z", "colour": 1}"#,
                "unknown field",
            ),
            (
                r#"{"format": 1, "reviewer": "a", "reviewed_at": "2026-12-02T01:30:00Z", "masks": [{"id": "m"}]}"#,
                "either keyframes",
            ),
            (
                r#"{"format": 1, "reviewer": "a", "reviewed_at": "2026-12-02T01:30:00Z", "masks": [{"id": "m", "keyframes": [{"time": "2", "box": [0,0,5,5]}, {"time": "1", "box": [0,0,5,5]}]}]}"#,
                "increase",
            ),
            (
                r#"{"format": 1, "reviewer": "a", "reviewed_at": "2026-12-02T01:30:00Z", "masks": [{"id": "m", "from": "3", "until": "2", "box": [0,0,5,5]}]}"#,
                "empty",
            ),
            (
                r#"{"format": 1, "reviewer": "a", "reviewed_at": "2026-12-02T01:30:00Z", "masks": [{"id": "m", "keyframes": [{"time": "1", "box": [0,0,-5,5]}]}]}"#,
                "positive width",
            ),
            (
                r#"{"format": 1, "reviewer": "a", "reviewed_at": "2026-12-02T01:30:00Z", "subject": {"time": "soon", "x": 1, "y": 1}}"#,
                "subject.time",
            ),
            (
                r#"{"format": 1, "reviewer": "a", "reviewed_at": "2026-12-02T01:30:00Z", "merges": [[{"time": "1", "x": 1, "y": 1}]]}"#,
                "two people",
            ),
            ("{\"format\": 1,", "EOF"),
        ];
        for (text, want) in cases {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.starts_with("review.json: "), "{err}");
            assert!(err.contains(want), "{want:?} not in {err}");
        }
    }

    #[test]
    fn unmasking_needs_a_reason() {
        let base = |reason: &str| {
            format!(
                r#"{{"format": 1, "reviewer": "a", "reviewed_at": "2026-12-02T01:30:00Z", "unmask": [{{"person": {{"time": "1", "x": 1, "y": 1}}{reason}}}]}}"#
            )
        };
        for missing in ["", r#", "reason": """#, r#", "reason": "   ok    ""#] {
            let err = parse(&base(missing)).unwrap_err().to_string();
            assert!(
                err.contains("unmask[0]") && err.contains("needs a reason"),
                "{err}"
            );
        }
        assert!(parse(&base(r#", "reason": "consent form 2026-11-30 on file""#)).is_ok());
    }

    #[test]
    fn write_is_atomic_and_refuses_to_overwrite_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("edits.json");
        let e = parse(GOOD).unwrap();
        e.write(&p, false).unwrap();
        let loaded = LoadedEdits::read(&p).unwrap();
        assert_eq!(loaded.edits, e);
        assert_eq!(loaded.sha256.len(), 64);
        assert!(
            e.write(&p, false)
                .unwrap_err()
                .to_string()
                .contains("already exists")
        );
        let mut e2 = e.clone();
        e2.reviewer = "op-18".into();
        e2.write(&p, true).unwrap();
        assert_eq!(LoadedEdits::read(&p).unwrap().edits.reviewer, "op-18");
        // Never through a link.
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&p, &link).unwrap();
        assert!(e.write(&link, true).is_err());
        // A mismatching source hash is refused.
        let mut e3 = e.clone();
        e3.source = Some(SourceRef {
            name: "cam1.mp4".into(),
            sha256: Some("ab".repeat(32)),
        });
        let q = dir.path().join("e3.json");
        e3.write(&q, false).unwrap();
        let l3 = LoadedEdits::read(&q).unwrap();
        assert!(
            l3.check_source(Path::new("cam1.mp4"), &"cd".repeat(32))
                .unwrap_err()
                .to_string()
                .contains("another file")
        );
        assert!(
            l3.check_source(Path::new("cam1.mp4"), &"ab".repeat(32))
                .is_ok()
        );
        assert_eq!(l3.record()["reviewed"], true);
    }
}
