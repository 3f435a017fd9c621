use thiserror::Error;

/// Errors raised while building core values from untrusted input.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A rational number with a zero or negative denominator.
    #[error("invalid time base {num}/{den}: the denominator must be positive")]
    InvalidTimeBase {
        /// Numerator as given.
        num: i64,
        /// Denominator as given.
        den: i64,
    },
    /// An interval whose end is not after its start.
    #[error("invalid interval {start}..{end}: the end must be after the start")]
    InvalidInterval {
        /// Start as written.
        start: String,
        /// End as written.
        end: String,
    },
    /// A time string that could not be parsed.
    #[error("invalid time {input:?}: expected seconds (12.5) or HH:MM:SS[.fff]")]
    InvalidTime {
        /// The text that failed to parse.
        input: String,
    },
    /// Frame geometry that does not fit the pixel format or the buffer.
    #[error("invalid frame layout: {reason}")]
    InvalidFrame {
        /// What is wrong.
        reason: String,
    },
    /// A calendar date that could not be parsed or does not exist.
    #[error("invalid {what}: {problem}")]
    InvalidDate {
        /// What was given (e.g. `date "2026-02-30"`).
        what: String,
        /// Why it is refused.
        problem: &'static str,
    },
}
