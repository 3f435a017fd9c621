//! Request times: clip times (`HH:MM:SS[.fff]`, seconds) or wall-clock times.

use std::fmt;
use std::str::FromStr;

use obscura_audit::{civil_from_days, days_from_civil};
use obscura_core::{Rational, Timestamp};

use crate::Error;

/// A UTC wall-clock instant, microseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct WallTime(pub i64);

impl WallTime {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.ffffff][Z]` (also with a space for the `T`), taken as UTC.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let bad = || Error::invalid(format!("wall-clock time {text:?}"), "expected YYYY-MM-DDTHH:MM:SS[.fff] (UTC)");
        let t = text.trim().trim_end_matches('Z');
        let (date, clock) = t.split_once(['T', ' ']).ok_or_else(bad)?;
        let d: Vec<&str> = date.split('-').collect();
        if d.len() != 3 || d[0].len() != 4 || d[1].len() != 2 || d[2].len() != 2 {
            return Err(bad());
        }
        let num = |s: &str| -> Result<i64, Error> { if s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() { s.parse().map_err(|_| bad()) } else { Err(bad()) } };
        let (y, mo, da) = (num(d[0])?, num(d[1])?, num(d[2])?);
        if !(1..=12).contains(&mo) || !(1..=31).contains(&da) {
            return Err(bad());
        }
        let (hms, frac) = match clock.split_once('.') {
            Some((a, f)) => (a, Some(f)),
            None => (clock, None),
        };
        let c: Vec<&str> = hms.split(':').collect();
        if c.len() != 3 || c.iter().any(|p| p.len() != 2) {
            return Err(bad());
        }
        let (h, mi, s) = (num(c[0])?, num(c[1])?, num(c[2])?);
        if h > 23 || mi > 59 || s > 59 {
            return Err(bad());
        }
        let micros = match frac {
            Some(f) if !f.is_empty() && f.len() <= 6 => num(f)? * 10i64.pow(6 - f.len() as u32),
            Some(_) => return Err(bad()),
            None => 0,
        };
        let days = days_from_civil(y, mo as u32, da as u32);
        if civil_from_days(days) != (y, mo as u32, da as u32) {
            return Err(bad()); // e.g. 2026-02-30
        }
        Ok(WallTime((days * 86_400 + h * 3600 + mi * 60 + s) * 1_000_000 + micros))
    }

    /// This instant plus a media duration (microsecond precision).
    pub fn plus(self, t: Timestamp) -> WallTime {
        WallTime(self.0 + t.rescale_floor(Rational::MICROS).ticks)
    }
}

impl fmt::Display for WallTime {
    /// `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (secs, us) = (self.0.div_euclid(1_000_000), self.0.rem_euclid(1_000_000));
        let (days, s) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let (y, m, d) = civil_from_days(days);
        write!(f, "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)?;
        if us != 0 {
            write!(f, ".{:06}", us)?;
        }
        write!(f, "Z")
    }
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
            return Ok(TimeRef::Wall(WallTime::parse(t)?));
        }
        Timestamp::parse(t).map(TimeRef::Clip).map_err(|e| Error::invalid(format!("time {s:?}"), e.to_string()))
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

/// Parses an FFmpeg `creation_time` tag (`2026-11-28T10:00:00.000000Z`).
pub(crate) fn parse_creation_time(tag: &str) -> Option<WallTime> {
    WallTime::parse(tag).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_clip_and_wall_times() {
        assert_eq!("12.5".parse::<TimeRef>().unwrap(), TimeRef::Clip(Timestamp::from_millis(12_500)));
        assert_eq!("00:01:02".parse::<TimeRef>().unwrap(), TimeRef::Clip(Timestamp::from_secs(62)));
        let w = "2026-11-28T10:15:00.25Z".parse::<TimeRef>().unwrap();
        assert_eq!(w.to_string(), "2026-11-28T10:15:00.250000Z");
        let TimeRef::Wall(w) = w else { panic!() };
        assert_eq!(w.0 % 1_000_000, 250_000);
        assert_eq!(WallTime::parse("1970-01-01T00:00:01").unwrap(), WallTime(1_000_000));
        for bad in ["2026-02-30T00:00:00", "2026-11-28T24:00:00", "2026-11-28", "2026-1-28T00:00:00", "2026-11-28T10:15:00.1234567"] {
            assert!(bad.parse::<TimeRef>().is_err(), "{bad}");
        }
    }
}
