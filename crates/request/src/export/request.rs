//! The request and what it gives back: cameras, exclusions, mode, the [`ClipRedactor`]
//! seam, seal options and the outcome.

use std::path::{Path, PathBuf};

use obscura_audit::Record;
use obscura_core::{Interval, ModelId, Timestamp};
use obscura_media::EncoderSettings;
use obscura_seal::{Date, Manifest, Passphrase, RecipientPublicKey, RedactionPolicy, Signer};

use crate::site::ReportOptions;
use crate::time::{TimeRef, WallTime};
use crate::{Error, RedactionError};

/// One camera's footage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraInput {
    /// Camera name as the VMS knows it (letters, digits, `.`, `_`, `-`; used in payload names).
    pub name: String,
    /// The footage file (never modified).
    pub path: PathBuf,
}

impl CameraInput {
    /// A camera named after the file stem of `path`.
    pub fn from_path(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        CameraInput {
            name: sanitize(&name),
            path,
        }
    }
}

/// Replaces characters not allowed in camera names by `_`.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub(super) fn check_camera_name(name: &str) -> Result<(), Error> {
    if name.is_empty()
        || name.len() > 64
        || name.starts_with('.')
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(Error::invalid(
            format!("camera name {name:?}"),
            "use 1 to 64 letters, digits, '.', '_' or '-' (not starting with '.')",
        ));
    }
    Ok(())
}

/// A time range to leave out of an erasure export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exclusion {
    /// The camera it applies to (`None`: every camera).
    pub camera: Option<usize>,
    /// Start (included in the exclusion).
    pub from: TimeRef,
    /// End (the first instant exported again).
    pub to: TimeRef,
}

impl Exclusion {
    /// Parses `A..B` or `CAMERA=A..B` (times as [`TimeRef`]), resolving the camera name
    /// against `cameras`.
    pub fn parse(text: &str, cameras: &[CameraInput]) -> Result<Self, Error> {
        let (camera, range) = match text.split_once('=') {
            Some((c, r)) => {
                let i = cameras
                    .iter()
                    .position(|k| k.name == c.trim())
                    .ok_or_else(|| {
                        let names: Vec<&str> = cameras.iter().map(|k| k.name.as_str()).collect();
                        Error::invalid(
                            format!("exclusion {text:?}"),
                            format!("no camera {c:?} (cameras: {})", names.join(", ")),
                        )
                    })?;
                (Some(i), r)
            }
            None => (None, text),
        };
        let (a, b) = range.split_once("..").ok_or_else(|| {
            Error::invalid(
                format!("exclusion {text:?}"),
                "expected A..B or CAMERA=A..B",
            )
        })?;
        Ok(Exclusion {
            camera,
            from: a.parse()?,
            to: b.parse()?,
        })
    }
}

/// Access or erasure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestMode {
    /// GDPR Art. 15: the subject's footage in the window, everyone else masked.
    Access,
    /// GDPR Art. 17: everything except the excluded time ranges.
    Erasure,
}

impl RequestMode {
    /// `access` or `erasure`.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestMode::Access => "access",
            RequestMode::Erasure => "erasure",
        }
    }
}

/// What one redaction did (returned by a [`ClipRedactor`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedactionSummary {
    /// Frames written.
    pub frames: u64,
    /// Track ids left visible (the data subject).
    pub kept_tracks: Vec<u64>,
    /// Person track ids masked.
    pub masked_persons: Vec<u64>,
    /// Face track ids masked (faces are also tracked on their own).
    pub masked_faces: Vec<u64>,
    /// Plain-language notes for the report (e.g. how the subject was chosen).
    pub notes: Vec<String>,
    /// Detector models used.
    pub models: Vec<ModelId>,
}

/// Masks everyone but the data subject in one clip. [`crate::PipelineRedactor`] implements
/// it over `obscura_pipeline::Redactor`; partners can plug their own.
pub trait ClipRedactor {
    /// Masks `input` (the request window of `camera`, cut frame-exactly; its time 0 is
    /// source time `offset`) into `output` (H.264 MP4, must be written atomically).
    fn redact(
        &mut self,
        camera: &str,
        input: &Path,
        output: &Path,
        offset: Timestamp,
    ) -> Result<RedactionSummary, RedactionError>;
    /// The redaction policy in plain words, one sentence per entry (for the report).
    fn describe(&self) -> Vec<String>;
    /// The policy for the signed manifest (thresholds, styles, extra); models and kept
    /// track ids are filled in from the summaries.
    fn policy(&self) -> RedactionPolicy;
}

/// One request.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    /// The cameras (at least one; names unique).
    pub cameras: Vec<CameraInput>,
    /// Start of the request window (`None`: start of each clip).
    pub from: Option<TimeRef>,
    /// End of the request window (`None`: end of each clip).
    pub to: Option<TimeRef>,
    /// Access or erasure.
    pub mode: RequestMode,
    /// Erasure: the ranges to leave out (at least one).
    pub exclusions: Vec<Exclusion>,
    /// Request reference (case number).
    pub reference: Option<String>,
    /// Pseudonymous operator id (manifest and audit log; in the report only with
    /// `show_operator`).
    pub operator: Option<String>,
    /// Print the operator id in the report.
    pub show_operator: bool,
    /// Retention expiry: the last day the package may be opened.
    pub expires: Date,
    /// Encoder settings of the exported clips.
    pub encoder: EncoderSettings,
    /// Where the private work folder goes (default: the output's folder).
    pub work_dir: Option<PathBuf>,
    /// Erasure: accept an exclusion that removes nothing from any camera's footage in the
    /// window. Without it such an exclusion is an error naming it (a wrong date or time
    /// zone would otherwise export everything without a word).
    pub allow_empty_exclusions: bool,
    /// Language and site configuration of the data-subject report.
    pub report: ReportOptions,
    /// Replace an existing package at the output path (the CLI's `--force`), atomically
    /// and never through a symlink. Default `false`: an existing output is refused.
    pub replace_existing: bool,
}

/// Who can open the package and who signs it.
pub struct SealOptions<'a> {
    /// The signing key (or an HSM/KMS through [`Signer`]).
    pub signer: &'a dyn Signer,
    /// X25519 recipients.
    pub recipients: Vec<RecipientPublicKey>,
    /// A passphrase recipient.
    pub passphrase: Option<Passphrase>,
}

/// One exported clip.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ClipSummary {
    /// Payload name.
    pub name: String,
    /// Camera name.
    pub camera: String,
    /// Source range the clip shows `[first frame, end of last frame)`.
    pub range: Interval,
    /// Frames in the clip.
    pub frames: u64,
    /// SHA-256 of the clip, hex.
    pub sha256: String,
    /// Persons masked (access mode).
    pub masked_persons: Option<usize>,
    /// Wall-clock time of the clip's first frame (also written into the clip as its
    /// `creation_time`), when the source carries a start time.
    pub start_wall: Option<WallTime>,
}

/// What [`export`](crate::export()) produced.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ExportOutcome {
    /// The package.
    pub package: PathBuf,
    /// SHA-256 of the package file, hex.
    pub package_sha256: String,
    /// The signed manifest.
    pub manifest: Manifest,
    /// The clips, in payload order.
    pub clips: Vec<ClipSummary>,
    /// The audit record appended.
    pub audit: Option<Record>,
    /// Stale temporaries of dead processes removed before starting.
    pub swept: Vec<PathBuf>,
}
