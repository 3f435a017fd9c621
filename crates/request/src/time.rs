//! Request times: clip times (`HH:MM:SS[.fff]`, seconds) or wall-clock times.

use std::fmt;
use std::str::FromStr;

use obscura_core::Timestamp;

use crate::Error;

pub use obscura_core::civil::WallTime;

/// Parses a wall-clock time typed by a user (see [`WallTime::parse`]: `Z`, offsets and any
/// number of fraction digits are accepted; no zone means UTC).
pub fn parse_wall(text: &str) -> Result<WallTime, Error> {
    WallTime::parse(text).ok_or_else(|| {
        Error::invalid(
            format!("wall-clock time {text:?}"),
            "expected YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM] (UTC unless an offset is given)",
        )
    })
}

/// A time in a request: a clip time (source presentation time, as `obscura cut` uses) or a
/// wall-clock time (needs a source that carries its start time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeRef {
    /// Clip time.
    Clip(Timestamp),
    /// Wall-clock time (UTC).
    Wall(WallTime),
}

impl FromStr for TimeRef {
    type Err = Error;

    /// `12.5`, `00:01:02.5` (clip) or `2026-11-28T10:15:00[.fff][Z]` (wall clock, UTC).
    fn from_str(s: &str) -> Result<Self, Error> {
        let t = s.trim();
        if t.len() >= 10 && t.as_bytes()[4] == b'-' {
            return Ok(TimeRef::Wall(parse_wall(t)?));
        }
        Timestamp::parse(t)
            .map(TimeRef::Clip)
            .map_err(|e| Error::invalid(format!("time {s:?}"), e.to_string()))
    }
}

impl fmt::Display for TimeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeRef::Clip(t) => write!(f, "{t}"),
            TimeRef::Wall(w) => write!(f, "{w}"),
        }
    }
}

/// Parses a `creation_time` tag (`2026-11-28T10:00:00.000000Z`, also with an offset or a
/// 7-digit fraction as some VMS exports write it).
pub(crate) fn parse_creation_time(tag: &str) -> Option<WallTime> {
    WallTime::parse(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_clip_and_wall_times() {
        assert_eq!(
            "12.5".parse::<TimeRef>().unwrap(),
            TimeRef::Clip(Timestamp::from_millis(12_500))
        );
        assert_eq!(
            "00:01:02".parse::<TimeRef>().unwrap(),
            TimeRef::Clip(Timestamp::from_secs(62))
        );
        let w = "2026-11-28T10:15:00.25Z".parse::<TimeRef>().unwrap();
        assert_eq!(w.to_string(), "2026-11-28T10:15:00.250000Z");
        let TimeRef::Wall(w) = w else { panic!() };
        assert_eq!(w.0 % 1_000_000, 250_000);
        assert_eq!(
            WallTime::parse("1970-01-01T00:00:01").unwrap(),
            WallTime(1_000_000)
        );
        // Offsets and sub-microsecond fractions (creation_time as VMS exports write it).
        assert_eq!(
            "2026-11-28T11:15:00+01:00"
                .parse::<TimeRef>()
                .unwrap()
                .to_string(),
            "2026-11-28T10:15:00Z"
        );
        assert_eq!(
            parse_creation_time("2026-11-28T10:15:00.1234567Z")
                .unwrap()
                .to_string(),
            "2026-11-28T10:15:00.123456Z"
        );
        for bad in [
            "2026-02-30T00:00:00",
            "2026-11-28T24:00:00",
            "2026-11-28",
            "2026-1-28T00:00:00",
            "2026-11-28T10:15:00+1",
        ] {
            assert!(bad.parse::<TimeRef>().is_err(), "{bad}");
        }
    }
}
