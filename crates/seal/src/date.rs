//! Civil (proleptic Gregorian, UTC) dates for retention expiry, over
//! [`obscura_core::civil`].

use std::fmt;

use obscura_core::civil;

use crate::Error;

/// A calendar date (UTC), as used for retention expiry (`YYYY-MM-DD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

impl Date {
    /// A valid date (years 1970..=9999).
    pub fn new(year: i32, month: u8, day: u8) -> Result<Self, Error> {
        let bad = || {
            Error::invalid(
                format!("date {year:04}-{month:02}-{day:02}"),
                "not a valid calendar date (years 1970-9999)",
            )
        };
        if !(1970..=9999).contains(&year)
            || !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
        {
            return Err(bad());
        }
        Ok(Self { year, month, day })
    }

    /// Parses `YYYY-MM-DD` exactly.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let b = text.as_bytes();
        let bad = || Error::invalid(format!("date {text:?}"), "expected YYYY-MM-DD");
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad());
        }
        let num = |r: std::ops::Range<usize>| -> Result<u32, Error> {
            let s = &text[r];
            if !s.bytes().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            s.parse().map_err(|_| bad())
        };
        Self::new(num(0..4)? as i32, num(5..7)? as u8, num(8..10)? as u8)
    }

    /// Today's date in UTC.
    pub fn today_utc() -> Self {
        let secs = civil::unix_now();
        let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
        Self {
            year: y as i32,
            month: m,
            day: d,
        }
    }

    /// The date `days` after this one.
    pub fn plus_days(self, days: i64) -> Self {
        let (y, m, d) =
            civil_from_days(days_from_civil(self.year as i64, self.month, self.day) + days);
        Self {
            year: y as i32,
            month: m,
            day: d,
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u8) -> u8 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn days_from_civil(y: i64, m: u8, d: u8) -> i64 {
    civil::days_from_civil(y, u32::from(m), u32::from(d))
}

fn civil_from_days(z: i64) -> (i64, u8, u8) {
    let (y, m, d) = civil::civil_from_days(z);
    (y, m as u8, d as u8)
}

/// The current UTC time as RFC 3339 with seconds precision: `2026-11-28T04:18:00Z`.
pub(crate) fn now_rfc3339() -> String {
    civil::now_rfc3339()
}

/// True when `s` is exactly `YYYY-MM-DDTHH:MM:SSZ` naming a real UTC time (FORMAT.md 5:
/// `created`; no leap second, year 1970 to 9999).
pub(crate) fn is_rfc3339_utc_seconds(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let t = &s[r];
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(se)) = (
        num(0..4),
        num(5..7),
        num(8..10),
        num(11..13),
        num(14..16),
        num(17..19),
    ) else {
        return false;
    };
    if !(1970..=9999).contains(&y) || h > 23 || mi > 59 || se > 59 {
        return false;
    }
    Date::new(y as i32, mo as u8, d as u8).is_ok()
}

#[cfg(test)]
pub(crate) fn rfc3339(secs: i64) -> String {
    civil::format_rfc3339(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_and_known_values() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(rfc3339(1_795_839_480), "2026-11-28T04:18:00Z");
        for z in (-1000..100_000).step_by(7) {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(
            Date::parse("2024-02-29").unwrap().plus_days(1).to_string(),
            "2024-03-01"
        );
    }

    #[test]
    fn parse_refuses_bad_dates() {
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "24-01-01",
            "2024-01-32",
            "+024-01-01",
            "2024-01-0a",
        ] {
            assert!(Date::parse(bad).is_err(), "{bad}");
        }
        assert!(Date::parse("2030-12-31").unwrap() > Date::parse("2030-01-01").unwrap());
    }
}
