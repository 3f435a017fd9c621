//! UTC calendar arithmetic (proleptic Gregorian, Howard Hinnant's algorithms), enough for
//! RFC 3339 stamps, retention dates and wall-clock request windows. No time-zone database:
//! Obscura records and compares UTC only.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{Rational, Timestamp};

/// A UTC wall-clock instant, microseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WallTime(pub i64);

impl WallTime {
    /// Parses an ISO 8601 / RFC 3339 date-time as cameras and FFmpeg write it:
    /// `YYYY-MM-DD(T| )HH:MM:SS[.f...][Z|+HH:MM|-HH:MM|+HHMM|+HH]`. Without a zone the
    /// time is taken as UTC; an offset is subtracted to give UTC. Any number of fraction
    /// digits is accepted (a 7-digit Windows/VMS fraction too); digits past the
    /// microsecond are dropped (rounded down). `None` when it is not such a time or names
    /// an impossible date (2026-02-30).
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        let (date, rest) = t.split_at_checked(10)?;
        let d: Vec<&str> = date.split('-').collect();
        if d.len() != 3 || d[0].len() != 4 || d[1].len() != 2 || d[2].len() != 2 {
            return None;
        }
        let num = |s: &str| -> Option<i64> {
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().ok())
                .flatten()
        };
        let (y, mo, da) = (num(d[0])?, num(d[1])?, num(d[2])?);
        if !(1..=12).contains(&mo) || !(1..=31).contains(&da) {
            return None;
        }
        let clock = rest.strip_prefix(['T', 't', ' '])?;
        // Split off the zone: `Z`, or the last `+`/`-` (a date's dashes are gone already).
        let (clock, offset_secs) = if let Some(c) = clock.strip_suffix(['Z', 'z']) {
            (c, 0)
        } else if let Some(i) = clock.rfind(['+', '-']) {
            let (c, zone) = clock.split_at(i);
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let z = &zone[1..];
            let (zh, zm) = match z.len() {
                2 => (num(z)?, 0),
                4 => (num(&z[..2])?, num(&z[2..])?),
                5 if &z[2..3] == ":" => (num(&z[..2])?, num(&z[3..])?),
                _ => return None,
            };
            if zh > 23 || zm > 59 {
                return None;
            }
            (c, sign * (zh * 3600 + zm * 60))
        } else {
            (clock, 0)
        };
        let (hms, frac) = match clock.split_once(['.', ',']) {
            Some((a, f)) => (a, Some(f)),
            None => (clock, None),
        };
        let c: Vec<&str> = hms.split(':').collect();
        if c.len() != 3 || c.iter().any(|p| p.len() != 2) {
            return None;
        }
        let (h, mi, s) = (num(c[0])?, num(c[1])?, num(c[2])?);
        // 60: a leap second, as RFC 3339 allows (folded onto the next second).
        if h > 23 || mi > 59 || s > 60 {
            return None;
        }
        let micros = match frac {
            Some(f) => {
                num(f)?;
                let six: String = f.chars().chain(std::iter::repeat('0')).take(6).collect();
                six.parse::<i64>().ok()?
            }
            None => 0,
        };
        let m = u32::try_from(mo).ok()?;
        let dd = u32::try_from(da).ok()?;
        let days = days_from_civil(y, m, dd);
        if civil_from_days(days) != (y, m, dd) {
            return None;
        }
        Some(WallTime(
            (days * 86_400 + h * 3600 + mi * 60 + s - offset_secs) * 1_000_000 + micros,
        ))
    }

    /// This instant plus a media duration (microsecond precision, rounded down).
    pub fn plus(self, t: Timestamp) -> WallTime {
        WallTime(self.0 + t.rescale_floor(Rational::MICROS).ticks)
    }

    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ` (always six fraction digits), the form FFmpeg's MP4
    /// muxer reads for its `creation_time` tag.
    pub fn to_creation_time(self) -> String {
        let (secs, us) = (self.0.div_euclid(1_000_000), self.0.rem_euclid(1_000_000));
        let (days, s) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let (y, m, d) = civil_from_days(days);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{us:06}Z",
            s / 3600,
            s / 60 % 60,
            s % 60
        )
    }
}

impl fmt::Display for WallTime {
    /// `YYYY-MM-DDTHH:MM:SS[.ffffff]Z` (the fraction only when not zero).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (secs, us) = (self.0.div_euclid(1_000_000), self.0.rem_euclid(1_000_000));
        let (days, s) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            s / 3600,
            s / 60 % 60,
            s % 60
        )?;
        if us != 0 {
            write!(f, ".{us:06}")?;
        }
        write!(f, "Z")
    }
}

/// Days since 1970-01-01 of a civil date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date `(year, month, day)` of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `YYYY-MM-DDTHH:MM:SSZ` of a Unix time in seconds.
pub fn format_rfc3339(unix_secs: i64) -> String {
    let (days, secs) = (unix_secs.div_euclid(86_400), unix_secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn now_rfc3339() -> String {
    format_rfc3339(unix_now())
}

/// Seconds since the Unix epoch now (negative if the clock is set before 1970).
pub fn unix_now() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_times_with_offsets_and_long_fractions_parse() {
        let base = WallTime::parse("2026-11-28T10:00:00Z").unwrap();
        assert_eq!(base.to_string(), "2026-11-28T10:00:00Z");
        assert_eq!(WallTime::parse("2026-11-28T10:00:00"), Some(base));
        assert_eq!(WallTime::parse("2026-11-28 10:00:00.000000Z"), Some(base));
        assert_eq!(WallTime::parse("2026-11-28T11:00:00+01:00"), Some(base));
        assert_eq!(WallTime::parse("2026-11-28T05:30:00-0430"), Some(base));
        assert_eq!(WallTime::parse("2026-11-28T12:00:00+02"), Some(base));
        // Seven fraction digits (Windows / some VMS exports): truncated to microseconds.
        let w = WallTime::parse("2026-11-28T10:00:00.1234567Z").unwrap();
        assert_eq!(w.0 - base.0, 123_456);
        assert_eq!(w.to_creation_time(), "2026-11-28T10:00:00.123456Z");
        assert_eq!(
            WallTime::parse("2026-11-28T10:00:00,5+00:00").unwrap().0 - base.0,
            500_000
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
        ] {
            assert_eq!(WallTime::parse(bad), None, "{bad}");
        }
        assert_eq!(
            base.plus(Timestamp::from_millis(1500)).to_string(),
            "2026-11-28T10:00:01.500000Z"
        );
    }

    #[test]
    fn civil_round_trip_and_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(format_rfc3339(1_764_303_480), "2025-11-28T04:18:00Z");
        for z in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }
}
