//! The pipeline's error type: which stage, which frame, at what time, of which file.

use std::fmt;
use std::path::PathBuf;

use obscura_core::Timestamp;

/// A stage of the redaction pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Opening and decoding the input.
    Decode,
    /// Running the detector on a frame.
    Detect,
    /// Associating detections into tracks.
    Track,
    /// Choosing the data subject (`--keep-at`, `--keep-like`).
    Subject,
    /// Masking a frame.
    Render,
    /// Encoding and writing the output.
    Encode,
    /// Writing a contact sheet or a still image.
    Write,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Decode => "decode",
            Stage::Detect => "detect",
            Stage::Track => "track",
            Stage::Subject => "subject selection",
            Stage::Render => "render",
            Stage::Encode => "encode",
            Stage::Write => "write",
        })
    }
}

/// Where in the input a stage failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct At {
    /// Frame index, when the failure concerns one frame.
    pub frame: Option<u64>,
    /// Presentation time of that frame.
    pub time: Option<Timestamp>,
}

impl At {
    /// Nowhere in particular (opening, finishing).
    pub const NONE: At = At {
        frame: None,
        time: None,
    };

    /// Frame `index` at `time`.
    pub fn frame(index: u64, time: Timestamp) -> Self {
        Self {
            frame: Some(index),
            time: Some(time),
        }
    }
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.frame, self.time) {
            (Some(i), Some(t)) => write!(f, " at frame {i} ({t})"),
            (Some(i), None) => write!(f, " at frame {i}"),
            (None, Some(t)) => write!(f, " at {t}"),
            (None, None) => Ok(()),
        }
    }
}

/// The cause of a stage failure (the error of the crate that failed).
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors of the pipeline.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A builder setting is out of range; carries the bad value.
    #[error("invalid setting {name} = {value}: {reason}")]
    InvalidSetting {
        /// The setting's name.
        name: &'static str,
        /// The value given.
        value: String,
        /// What is allowed.
        reason: String,
    },
    /// A stage failed on `input`; no output was written.
    #[error("{}: {stage} failed{at}: {source}", input.display())]
    Stage {
        /// The input being processed.
        input: PathBuf,
        /// Which stage.
        stage: Stage,
        /// Which frame and time, when known.
        at: At,
        /// What failed.
        #[source]
        source: Cause,
    },
    /// The data subject could not be chosen (no track at the point, no similar track...).
    #[error("{}: {reason}", input.display())]
    Subject {
        /// The input.
        input: PathBuf,
        /// What is wrong, listing the candidates.
        reason: String,
    },
    /// A model could not be loaded (the detector or the appearance embedder).
    #[error(transparent)]
    Model(#[from] obscura_detect::Error),
    /// The run was cancelled; no output was written.
    #[error("{}: cancelled", input.display())]
    Cancelled {
        /// The input being processed.
        input: PathBuf,
    },
}

impl Error {
    /// A stage error with its cause.
    pub fn stage(
        input: impl Into<PathBuf>,
        stage: Stage,
        at: At,
        source: impl Into<Cause>,
    ) -> Self {
        Error::Stage {
            input: input.into(),
            stage,
            at,
            source: source.into(),
        }
    }

    /// The stage that failed, if this is a stage error.
    pub fn failed_stage(&self) -> Option<Stage> {
        match self {
            Error::Stage { stage, .. } => Some(*stage),
            _ => None,
        }
    }

    /// Whether the run was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Error::Cancelled { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use obscura_core::Rational;

    #[test]
    fn stage_error_names_file_stage_frame_and_time() {
        let e = Error::stage(
            "in.mp4",
            Stage::Detect,
            At::frame(12, Timestamp::new(12, Rational::new(1, 10).unwrap())),
            "model exploded",
        );
        assert_eq!(
            e.to_string(),
            "in.mp4: detect failed at frame 12 (00:00:01.200000): model exploded"
        );
        assert_eq!(e.failed_stage(), Some(Stage::Detect));
    }
}
