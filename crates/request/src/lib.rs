//! The data-subject request workflow of Obscura, as a library.
//!
//! * [`export`]: one sealed package per request. Access mode (GDPR Art. 15): the request
//!   window of every camera is cut out frame-exactly and handed to a [`ClipRedactor`] that
//!   masks everyone but the data subject. Erasure mode (Art. 17): every camera is exported
//!   except the excluded time ranges, one clip per remaining period ("export up to the
//!   time and export after the time"). The package (obscura-seal container) holds the
//!   clips, `report.html` ([`report`]) and a signed manifest whose camera intervals and
//!   policy are taken from what was actually encoded.
//! * [`purge`]: retention; deletes packages whose signed expiry date has passed.
//! * [`verify`] and [`open`]: the seal's verification and decryption, each with its audit
//!   record (a partner calling them leaves the trail `obscura verify` and `obscura open` do).
//! * Every export, purge, verify and open appends an [`obscura_audit`] record.
//!
//! Crash safety: all intermediate files live in a private folder named
//! `.obscura-tmp-PID-export-N` (see [`obscura_core::atomic::TEMP_PREFIX`]) inside the
//! output folder or a chosen work folder; it is removed on every return path, and
//! [`sweep_stale`] (run at the start of every export) removes those no live process holds (by lock, not PID). The
//! package itself is written atomically by obscura-seal.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod access;
mod audited;
mod error;
mod export;
pub mod opener;
mod purge;
pub mod report;
mod site;
mod time;
mod workdir;

pub use access::{ClipReview, PipelineRedactor, SubjectPoint};
pub use audited::{OpenError, Opened, Verification, open, package_entry, verify};
pub use error::{Error, RedactionError};
pub use export::{
    CameraInput, ClipRedactor, ClipSummary, Exclusion, ExportOutcome, ExportRequest,
    RedactionSummary, RequestMode, SealOptions, export,
};
pub use purge::{PurgeItem, PurgeOutcome, PurgeResult, purge};
pub use site::{Lang, Party, Processing, ReportOptions, SiteConfig};
pub use time::{TimeRef, WallTime};
pub use workdir::{WorkDir, sweep_stale};

/// Default retention in days when no expiry date is given.
pub const DEFAULT_RETENTION_DAYS: u32 = 30;
