//! UTC calendar work, on [`jiff`] (built without a time-zone database: Obscura records
//! and compares UTC only, and an offset written in a time is applied, never looked up).
//!
//! The one place that parses and prints calendar text: [`WallTime`] (instants of media
//! `creation_time` tags and request windows), [`Date`] (retention expiry) and the
//! seconds-precision RFC 3339 stamps of manifests and the audit log
//! ([`now_rfc3339`], [`format_rfc3339`], [`is_rfc3339_utc_seconds`]).

use std::fmt;

use jiff::fmt::temporal::Pieces;
use jiff::tz::Offset;
use jiff::{SignedDuration, civil};

use crate::{Error, Rational, Timestamp};

/// A UTC wall-clock instant, microseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WallTime(pub i64);

/// True when `b` starts `YYYY-MM-DD`, then (if `time`) `(T|t| )HH:MM:SS`: the extended
/// calendar form, so that jiff's wider ISO 8601 grammar (basic form, week dates, six-digit
/// years) is not accepted from users and tags.
fn extended_shape(b: &[u8], time: bool) -> bool {
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let date = digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10);
    date && (!time
        || (b.len() >= 19
            && matches!(b[10], b'T' | b't' | b' ')
            && digits(11..13)
            && b[13] == b':'
            && digits(14..16)
            && b[16] == b':'
            && digits(17..19)))
}

impl WallTime {
    /// Parses an ISO 8601 / RFC 3339 date-time as cameras and FFmpeg write it:
    /// `YYYY-MM-DD(T| )HH:MM:SS[.f...][Z|+HH:MM|-HH:MM|+HHMM|+HH]`. Without a zone the
    /// time is taken as UTC; an offset is subtracted to give UTC. Up to nine fraction
    /// digits are accepted (the 7-digit fraction of Windows/VMS exports too); digits past
    /// the microsecond are dropped (rounded down). A leap second (`:60`) is read as `:59`.
    /// `None` when it is not such a time or names an impossible date (2026-02-30).
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        if !extended_shape(t.as_bytes(), true) {
            return None;
        }
        let pieces = Pieces::parse(t).ok()?;
        if pieces.time_zone_annotation().is_some() {
            return None;
        }
        let offset = pieces
            .offset()
            .map_or(Offset::UTC, |o| o.to_numeric_offset());
        // RFC 3339 offsets stop at 23:59 (jiff takes up to 25:59:59).
        if offset.seconds().abs() >= 24 * 3600 {
            return None;
        }
        let instant = offset
            .to_timestamp(pieces.date().to_datetime(pieces.time()?))
            .ok()?;
        i64::try_from(instant.as_nanosecond().div_euclid(1000))
            .ok()
            .map(WallTime)
    }

    /// This instant plus a media duration (microsecond precision, rounded down).
    pub fn plus(self, t: Timestamp) -> WallTime {
        WallTime(self.0 + t.rescale_floor(Rational::MICROS).ticks)
    }

    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ` (always six fraction digits), the form FFmpeg's MP4
    /// muxer reads for its `creation_time` tag.
    pub fn to_creation_time(self) -> String {
        let (dt, us) = self.utc();
        format!("{}.{us:06}Z", seconds_text(dt))
    }

    /// The civil UTC date-time to the second and the microseconds past it; instants
    /// outside jiff's range (years -9999 to 9999) are clamped to it.
    fn utc(self) -> (civil::DateTime, i64) {
        let (secs, us) = (self.0.div_euclid(1_000_000), self.0.rem_euclid(1_000_000));
        let ts = jiff::Timestamp::from_second(secs).unwrap_or(if secs < 0 {
            jiff::Timestamp::MIN
        } else {
            jiff::Timestamp::MAX
        });
        (Offset::UTC.to_datetime(ts), us)
    }
}

/// `YYYY-MM-DDTHH:MM:SS` of a civil date-time (no fraction, no zone).
fn seconds_text(dt: civil::DateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

impl fmt::Display for WallTime {
    /// `YYYY-MM-DDTHH:MM:SS[.ffffff]Z` (the fraction only when not zero).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (dt, us) = self.utc();
        f.write_str(&seconds_text(dt))?;
        if us != 0 {
            write!(f, ".{us:06}")?;
        }
        f.write_str("Z")
    }
}

/// A calendar date (UTC), as used for retention expiry (`YYYY-MM-DD`, years 1970 to 9999).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(civil::Date);

impl Date {
    /// A valid date (years 1970..=9999).
    pub fn new(year: i32, month: u8, day: u8) -> Result<Self, Error> {
        let bad = || Error::InvalidDate {
            what: format!("date {year:04}-{month:02}-{day:02}"),
            problem: "not a valid calendar date (years 1970-9999)",
        };
        if !(1970..=9999).contains(&year) {
            return Err(bad());
        }
        let (Ok(y), Ok(m), Ok(d)) = (i16::try_from(year), i8::try_from(month), i8::try_from(day))
        else {
            return Err(bad());
        };
        civil::Date::new(y, m, d).map(Date).map_err(|_| bad())
    }

    /// Parses `YYYY-MM-DD` exactly.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let bad = || Error::InvalidDate {
            what: format!("date {text:?}"),
            problem: "expected YYYY-MM-DD",
        };
        if text.len() != 10 || !extended_shape(text.as_bytes(), false) {
            return Err(bad());
        }
        let d: civil::Date = text.parse().map_err(|_| bad())?;
        Self::new(i32::from(d.year()), d.month() as u8, d.day() as u8).map_err(|_| bad())
    }

    /// Today's date in UTC.
    pub fn today_utc() -> Self {
        Date(Offset::UTC.to_datetime(jiff::Timestamp::now()).date())
    }

    /// The date `days` after this one (clamped to the years -9999 to 9999).
    pub fn plus_days(self, days: i64) -> Self {
        let d = SignedDuration::from_secs(days.saturating_mul(86_400));
        Date(self.0.checked_add(d).unwrap_or(if days < 0 {
            civil::Date::MIN
        } else {
            civil::Date::MAX
        }))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.0.year(),
            self.0.month(),
            self.0.day()
        )
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` of a Unix time in seconds.
pub fn format_rfc3339(unix_secs: i64) -> String {
    format!(
        "{}Z",
        seconds_text(WallTime(unix_secs.saturating_mul(1_000_000)).utc().0)
    )
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn now_rfc3339() -> String {
    format_rfc3339(jiff::Timestamp::now().as_second())
}

/// True when `s` is `YYYY-MM-DDTHH:MM:SS[.f]Z` (a `T`, a `Z`, up to nine fraction digits)
/// naming a real UTC time, as a reviewer's edits file records `reviewed_at`.
pub fn is_rfc3339_utc(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[10] == b'T'
        && b[b.len() - 1] == b'Z'
        && (b.len() == 20 || (b[19] == b'.' && b.len() > 21))
        && WallTime::parse(s).is_some()
}

/// True when `s` is exactly `YYYY-MM-DDTHH:MM:SSZ` naming a real UTC time (FORMAT.md 5:
/// `created`; no leap second, year 1970 to 9999).
pub fn is_rfc3339_utc_seconds(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b[10] == b'T'
        && b[19] == b'Z'
        && extended_shape(b, true)
        && &s[17..19] != "60"
        && Date::new(
            s[..4].parse().unwrap_or(0),
            s[5..7].parse().unwrap_or(0),
            s[8..10].parse().unwrap_or(0),
        )
        .is_ok()
        && WallTime::parse(s).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_times_with_offsets_and_long_fractions_parse() {
        let base = WallTime::parse("2026-11-28T10:00:00Z").unwrap();
        assert_eq!(base.to_string(), "2026-11-28T10:00:00Z");
        assert_eq!(base.0, 1_795_860_000_000_000);
        assert_eq!(WallTime::parse("2026-11-28T10:00:00"), Some(base));
        assert_eq!(WallTime::parse(" 2026-11-28t10:00:00z\n"), Some(base));
        assert_eq!(WallTime::parse("2026-11-28 10:00:00.000000Z"), Some(base));
        assert_eq!(WallTime::parse("2026-11-28T11:00:00+01:00"), Some(base));
        assert_eq!(WallTime::parse("2026-11-28T05:30:00-0430"), Some(base));
        assert_eq!(WallTime::parse("2026-11-28T12:00:00+02"), Some(base));
        assert_eq!(WallTime::parse("2026-11-28T10:00:00-00:00"), Some(base));
        // Seven fraction digits (Windows / some VMS exports): truncated to microseconds.
        let w = WallTime::parse("2026-11-28T10:00:00.1234567Z").unwrap();
        assert_eq!(w.0 - base.0, 123_456);
        assert_eq!(w.to_creation_time(), "2026-11-28T10:00:00.123456Z");
        assert_eq!(
            WallTime::parse("2026-11-28T10:00:00,5+00:00").unwrap().0 - base.0,
            500_000
        );
        // A leap second is read as :59 (jiff clamps it).
        assert_eq!(
            WallTime::parse("2026-12-31T23:59:60Z").unwrap().to_string(),
            "2026-12-31T23:59:59Z"
        );
        for bad in [
            "2026-02-30T00:00:00",
            "2026-11-28T24:00:00",
            "2026-11-28",
            "2026-1-28T00:00:00",
            "2026-11-28T10:00:00+25:00",
            "2026-11-28T10:00:00.",
            "2026-11-28T10:00:00+1",
            "x026-11-28T10:00:00",
            "2026-11-28T10:00:00Zjunk",
            "2026-11-28T10:00:00.1234567890Z",
            "2026-11-28T10:00:00Z[Europe/Paris]",
            "20261128T100000Z",
            "2026-11-28T10:00Z",
            "+002026-11-28T10:00:00Z",
            "",
        ] {
            assert_eq!(WallTime::parse(bad), None, "{bad}");
        }
        assert_eq!(
            base.plus(Timestamp::from_millis(1500)).to_string(),
            "2026-11-28T10:00:01.500000Z"
        );
        assert_eq!(
            WallTime(0).to_creation_time(),
            "1970-01-01T00:00:00.000000Z"
        );
        assert_eq!(WallTime(-1).to_string(), "1969-12-31T23:59:59.999999Z");
    }

    /// The RFC 3339 `creation_time` forms ffprobe prints for camera and VMS files.
    #[test]
    fn ffprobe_creation_times_with_offset_and_long_fractions() {
        let base = WallTime::parse("2026-11-28T10:00:00Z").unwrap();
        for (tag, micros) in [
            ("2026-11-28T12:00:00+02:00", 0),
            ("2026-11-28T12:00:00.000000+02:00", 0),
            ("2026-11-28T12:00:00.1234567+02:00", 123_456),
            ("2026-11-28T10:00:00.1234567Z", 123_456),
            ("2026-11-28T10:00:00.12345678Z", 123_456),
            ("2026-11-28T10:00:00.123456789Z", 123_456),
            ("2026-11-28T07:30:00.9999999-02:30", 999_999),
        ] {
            assert_eq!(
                WallTime::parse(tag),
                Some(WallTime(base.0 + micros)),
                "{tag}"
            );
        }
        assert_eq!(
            WallTime::parse("2026-11-28T12:00:00.1234567+02:00")
                .unwrap()
                .to_creation_time(),
            "2026-11-28T10:00:00.123456Z"
        );
        // Across midnight and a month end.
        assert_eq!(
            WallTime::parse("2026-12-01T01:30:00+02:00")
                .unwrap()
                .to_string(),
            "2026-11-30T23:30:00Z"
        );
    }

    #[test]
    fn seconds_stamps_and_known_dates() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(1_764_303_480), "2025-11-28T04:18:00Z");
        assert_eq!(format_rfc3339(1_795_839_480), "2026-11-28T04:18:00Z");
        assert_eq!(format_rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        let now = now_rfc3339();
        assert!(is_rfc3339_utc_seconds(&now), "{now}");
        for good in [
            "2026-11-28T04:18:00Z",
            "2024-02-29T23:59:59Z",
            "1970-01-01T00:00:00Z",
        ] {
            assert!(is_rfc3339_utc_seconds(good), "{good}");
        }
        for good in [
            "2026-11-28T04:18:00Z",
            "2026-11-28T04:18:00.5Z",
            "2026-12-02T01:30:00.123456789Z",
        ] {
            assert!(is_rfc3339_utc(good), "{good}");
        }
        for bad in [
            "2026-11-28T04:18:00",
            "2026-11-28T04:18:00.Z",
            "2026-11-28 04:18:00Z",
            "2026-11-28t04:18:00z",
            "2026-11-28T04:18:00+00:00",
            "2026-02-30T04:18:00Z",
            " 2026-11-28T04:18:00Z",
        ] {
            assert!(!is_rfc3339_utc(bad), "{bad}");
        }
        for bad in [
            "2026-11-28T04:18:00",
            "2026-11-28T04:18:00.5Z",
            "2026-11-28T04:18:60Z",
            "2023-02-29T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "2026-11-28 04:18:00Z",
            "2026-11-28T04:18:00+00:00",
            "2026-11-28T24:00:00Z",
        ] {
            assert!(!is_rfc3339_utc_seconds(bad), "{bad}");
        }
    }

    #[test]
    fn dates_parse_print_and_step() {
        assert_eq!(
            Date::parse("2024-02-29").unwrap().plus_days(1).to_string(),
            "2024-03-01"
        );
        assert_eq!(
            Date::parse("2026-01-01").unwrap().plus_days(-1).to_string(),
            "2025-12-31"
        );
        assert_eq!(
            Date::parse("2026-11-28")
                .unwrap()
                .plus_days(365 * 4 + 1)
                .to_string(),
            "2030-11-28"
        );
        assert_eq!(Date::new(2025, 6, 1).unwrap().to_string(), "2025-06-01");
        assert!(Date::today_utc() > Date::parse("2025-01-01").unwrap());
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "24-01-01",
            "2024-01-32",
            "+024-01-01",
            "2024-01-0a",
            "1969-12-31",
            "2024-01-01T00:00",
            "2024-W01-1",
        ] {
            let e = Date::parse(bad).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("invalid date {bad:?}: expected YYYY-MM-DD")
            );
        }
        assert_eq!(
            Date::new(2026, 2, 30).unwrap_err().to_string(),
            "invalid date 2026-02-30: not a valid calendar date (years 1970-9999)"
        );
        assert!(Date::parse("2030-12-31").unwrap() > Date::parse("2030-01-01").unwrap());
    }
}
