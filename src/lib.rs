//! Obscura: privacy-safe, encrypted, signed exports of surveillance footage.
//!
//! This crate is the partner-facing facade: it only re-exports the workspace crates, so a
//! partner depends on one crate and one version. The three front doors:
//!
//! - **Redact** a video: [`pipeline::RedactionSettings`] (the one value `obscura redact`
//!   and `obscura export` build from their flags) turns into a [`pipeline::Redactor`].
//! - **Export** a data-subject request (access or erasure) into one sealed package:
//!   [`request::export`], with [`request::PipelineRedactor`] masking everyone but the
//!   data subject.
//! - **Verify** a package without any decryption key: [`seal::verify`].
//!
//! # Features
//!
//! `request` (the default) is everything. A partner that only verifies or opens packages
//! builds `default-features = false, features = ["seal"]` (the [`seal`] and [`audit`]
//! crates: no FFmpeg, no ONNX Runtime); `redact` alone gives the pipeline without the sealed
//! container.
//!
//! # Redact a video
//!
//! ```no_run
//! use std::path::Path;
//! use obscura::detect::{models::ModelStore, runtime};
//! use obscura::pipeline::RedactionSettings;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! runtime::init(None)?; // loads ONNX Runtime (`$ORT_DYLIB_PATH`, `.obscura/`, ...)
//! let settings = RedactionSettings::new(ModelStore::discover()?);
//! let report = settings.redactor()?.redact(Path::new("lobby.mp4"), Path::new("lobby-redacted.mp4"))?;
//! println!("{} frames written, {} people masked", report.frames, report.masked.len());
//! # Ok(())
//! # }
//! ```
//!
//! # Export an access request
//!
//! ```no_run
//! use std::path::Path;
//! use obscura::audit::AuditLog;
//! use obscura::detect::{models::ModelStore, runtime};
//! use obscura::media::EncoderSettings;
//! use obscura::pipeline::RedactionSettings;
//! use obscura::request::{
//!     CameraInput, ExportRequest, PipelineRedactor, ReportOptions, RequestMode, SealOptions, export,
//! };
//! use obscura::seal::{Date, RecipientPublicKey, SigningKey};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! runtime::init(None)?;
//! let request = ExportRequest {
//!     cameras: vec![CameraInput::from_path("footage/lobby.mp4")],
//!     from: Some("2026-03-01T10:00:00Z".parse()?),
//!     to: Some("2026-03-01T10:05:00Z".parse()?),
//!     mode: RequestMode::Access,
//!     exclusions: Vec::new(),
//!     reference: Some("DSAR-2026-0042".into()),
//!     operator: None,
//!     show_operator: false,
//!     expires: Date::today_utc().plus_days(30),
//!     encoder: EncoderSettings::default(),
//!     work_dir: None,
//!     allow_empty_exclusions: false,
//!     report: ReportOptions::default(),
//!     replace_existing: false,
//! };
//! // Everyone is masked except the people kept (here: nobody is selected, all are masked).
//! let mut redactor = PipelineRedactor::new(RedactionSettings::new(ModelStore::discover()?), Vec::new());
//! let signer = SigningKey::read_file(Path::new("keys/site.key"), None)?;
//! let recipient = RecipientPublicKey::read_file(Path::new("keys/subject.pub"))?;
//! let seal = SealOptions { signer: &signer, recipients: vec![recipient], passphrase: None };
//! let log = AuditLog::resolve(None)?;
//! let outcome = export(&request, Some(&mut redactor), seal, Path::new("out/DSAR-2026-0042.obx"), Some(&log), &mut |step| eprintln!("{step}"))?;
//! println!("sealed {} (sha256 {})", outcome.package.display(), outcome.package_sha256);
//! # Ok(())
//! # }
//! ```
//!
//! # Verify a package
//!
//! ```no_run
//! use std::path::Path;
//! use obscura::seal::{SignerPublicKey, verify};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Pin the signer whose fingerprint was given separately; `None` checks self-consistency only.
//! let signer = SignerPublicKey::read_file(Path::new("keys/site.pub"))?;
//! let v = verify(Path::new("out/DSAR-2026-0042.obx"), Some(&signer))?;
//! println!("intact, signed by {}, {} payload(s)", v.signer.fingerprint(), v.manifest.payloads.len());
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "seal")]
pub use obscura_audit as audit;
pub use obscura_core as core;
#[cfg(feature = "redact")]
pub use obscura_detect as detect;
#[cfg(feature = "redact")]
pub use obscura_media as media;
#[cfg(feature = "redact")]
pub use obscura_pipeline as pipeline;
#[cfg(feature = "redact")]
pub use obscura_render as render;
#[cfg(feature = "request")]
pub use obscura_request as request;
#[cfg(feature = "seal")]
pub use obscura_seal as seal;
#[cfg(feature = "redact")]
pub use obscura_track as track;
