//! The Obscura pipeline: wires decoding (obscura-media), detection (obscura-detect) and
//! tracking (obscura-track) over whole files.
//!
//! - [`analyse`](analyse::analyse): decode -> detect (every Nth frame) -> track, producing a
//!   [`obscura_track::TrackSet`] with every live track's box on every frame (what
//!   `obscura tracks` prints and what the redaction renderer masks from).
//! - [`Redactor`] (built by [`RedactorBuilder`], validating, typed errors carrying the bad
//!   value): decode -> detect -> track -> [`Policy`] -> render -> encode, the stages on their
//!   own threads joined by bounded crossbeam channels; progress callbacks ([`Progress`]),
//!   cancellation ([`CancelToken`]: a cancelled or failed run leaves no output file), stills
//!   ([`Redactor::redact_still`]) and contact sheets of the written output ([`contact_sheet`]).
//! - [`policy`]: what is masked (fail closed; see the module docs), [`subject`]: choosing the
//!   data subject by a point at a time or by appearance against a reference photo.
//! - [`Error`]: one error type naming the input, the stage and the frame that failed.
//!
//! # One pass or two
//!
//! A run is **one streaming pass** when the subject is given by track ids (or nobody is
//! kept): decode, detection + tracking + policy, and render + encode overlap on three
//! threads, and the only frames held are the queues (8 each) plus the frames since the last
//! detection frame (`every - 1`), so peak memory does not depend on clip length. That
//! bounded look-ahead is what makes `--every N` safe: when detection frame `k + N` arrives,
//! the held frames also get each track's box interpolated between its two detections (on
//! top of the tracker's prediction) and the first box of every track born at `k + N`,
//! widened for motion ([`redact::backfill_rect`]), so a person who walks in between two
//! detection frames is masked from the first frame they can be on. Ids are the ones
//! [`analyse()`] (and `obscura tracks`) gives with the same settings: the same detection
//! schedule, target filter and tracker settings (tested).
//!
//! A run is **two passes** when the subject must be found first (`keep_at`, `keep_like`:
//! the subject's track id is known only after analysis): pass 1 analyses to a
//! [`obscura_track::TrackSet`] (boxes only, a few tens of bytes per box), pass 2 decodes
//! again and masks from it with no inference (`keep_like` adds a decode for the crops it
//! embeds). [`Mode::TwoPass`] forces it.
//!
//! Measured (release build, the 2-core development machine while other builds ran, so noisy;
//! fps of the whole run, default pixelate style, CRF 20 medium): vtest.avi (768x576, 795
//! frames) one pass 8.0 fps, two passes 8.5 fps, one pass with `every 3` 10.0 fps (CPU time
//! 101 s, 99 s and 45 s); peak RSS 249, 256 and 252 MB. Inference dominates
//! (the detector's busy time is most of the run; see [`StageTimes`] in every report), and on
//! 2 cores the stages compete for the same cores, so overlapping them gains little over
//! running the passes one after the other at this size; a second decode is cheap for
//! MS-MPEG4 but costs ~5-8 ms per 1080p H.264 frame, and the TrackSet grows with the clip.
//! The streaming pass is therefore the default, and two passes are used only where the
//! subject must be found first. Detection on every Nth frame is the lever that moves speed
//! (issue 8's benchmark measures it with recall).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod analyse;
mod error;
pub mod policy;
pub mod redact;
pub mod sheet;
pub mod still;
pub mod subject;

pub use analyse::{AnalyseOptions, Targets, analyse, builtin_detector};
pub use error::{At, Cause, Error, Stage};
pub use policy::{Candidate, Decision, Policy, PolicyBuilder};
pub use redact::{CancelToken, KeepAt, KeepLike, Mode, Pass, Progress, ProgressFn, RedactReport, Redactor, RedactorBuilder, StageTimes};
pub use sheet::contact_sheet;
pub use still::is_still;
pub use subject::SubjectMatch;
