//! Exact media time: integer ticks in a rational time base.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Error;

/// A positive rational number `num/den`, kept in lowest terms. Time bases and frame rates
/// use it. Components are 32-bit (like FFmpeg's `AVRational`), so comparisons of
/// [`Timestamp`]s in 128-bit arithmetic can never overflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rational {
    num: i32,
    den: i32,
}

fn gcd(mut a: i64, mut b: i64) -> i64 {
    a = a.abs();
    b = b.abs();
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Rational {
    /// Builds `num/den` in lowest terms; the denominator must be positive.
    pub fn new(num: i32, den: i32) -> Result<Self, Error> {
        if den <= 0 {
            return Err(Error::InvalidTimeBase {
                num: num.into(),
                den: den.into(),
            });
        }
        let g = gcd(num.into(), den.into()).max(1);
        Ok(Self {
            num: (i64::from(num) / g) as i32,
            den: (i64::from(den) / g) as i32,
        })
    }

    /// The numerator.
    pub fn num(self) -> i32 {
        self.num
    }

    /// The denominator (always positive).
    pub fn den(self) -> i32 {
        self.den
    }

    /// The value as a float, for display and statistics only.
    pub fn as_f64(self) -> f64 {
        f64::from(self.num) / f64::from(self.den)
    }

    /// One microsecond, a convenient base for parsed user times.
    pub const MICROS: Rational = Rational {
        num: 1,
        den: 1_000_000,
    };
}

impl fmt::Display for Rational {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

/// An exact point in media time: `ticks * time_base` seconds. Equality and ordering
/// compare values, so `10 @ 1/10` equals `1 @ 1/1`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Timestamp {
    /// Count of time-base units.
    pub ticks: i64,
    /// The length of one tick in seconds.
    pub time_base: Rational,
}

impl Timestamp {
    /// `ticks` units of `time_base`.
    pub fn new(ticks: i64, time_base: Rational) -> Self {
        Self { ticks, time_base }
    }

    /// Zero seconds.
    pub fn zero() -> Self {
        Self::new(0, Rational::MICROS)
    }

    /// A whole number of seconds.
    pub fn from_secs(secs: i64) -> Self {
        Self::new(secs, Rational { num: 1, den: 1 })
    }

    /// A whole number of milliseconds.
    pub fn from_millis(ms: i64) -> Self {
        Self::new(ms, Rational { num: 1, den: 1000 })
    }

    /// The value as float seconds, for display and JSON only; never for decisions.
    pub fn as_secs_f64(self) -> f64 {
        self.ticks as f64 * self.time_base.as_f64()
    }

    /// `ticks * num * den'` as 128-bit: the numerator of this value over `den * den'`.
    fn scaled(self, other_den: i32) -> i128 {
        i128::from(self.ticks) * i128::from(self.time_base.num) * i128::from(other_den)
    }

    /// The same instant in another time base, rounded down (towards minus infinity).
    pub fn rescale_floor(self, to: Rational) -> Self {
        let num = i128::from(self.ticks) * i128::from(self.time_base.num) * i128::from(to.den);
        let den = i128::from(self.time_base.den) * i128::from(to.num);
        Self::new(clamp_i64(num.div_euclid(den)), to)
    }

    /// The same instant in another time base, rounded up (towards plus infinity).
    pub fn rescale_ceil(self, to: Rational) -> Self {
        let num = i128::from(self.ticks) * i128::from(self.time_base.num) * i128::from(to.den);
        let den = i128::from(self.time_base.den) * i128::from(to.num);
        let q = num.div_euclid(den);
        let q = if num.rem_euclid(den) == 0 { q } else { q + 1 };
        Self::new(clamp_i64(q), to)
    }

    /// Sum of two timestamps, exact, in the finer of the two time bases when one divides
    /// the other, otherwise in microseconds (rounded down).
    pub fn saturating_add(self, other: Timestamp) -> Timestamp {
        let base = if self.time_base == other.time_base {
            self.time_base
        } else {
            Rational::MICROS
        };
        let a = self.rescale_floor(base);
        let b = other.rescale_floor(base);
        Timestamp::new(a.ticks.saturating_add(b.ticks), base)
    }

    /// Parses `12`, `12.345`, `MM:SS[.fff]` or `HH:MM:SS[.fff]` exactly (no float on the way).
    pub fn parse(input: &str) -> Result<Self, Error> {
        let bad = || Error::InvalidTime {
            input: input.to_string(),
        };
        let text = input.trim();
        if text.is_empty() || text.starts_with('-') || text.starts_with('+') {
            return Err(bad());
        }
        let parts: Vec<&str> = text.split(':').collect();
        if parts.len() > 3 {
            return Err(bad());
        }
        let (whole_parts, last) = parts.split_at(parts.len() - 1);
        let mut whole_secs: i64 = 0;
        for part in whole_parts {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let v: i64 = part.parse().map_err(|_| bad())?;
            whole_secs = whole_secs
                .checked_mul(60)
                .and_then(|s| s.checked_add(v))
                .ok_or_else(bad)?;
        }
        let (int_part, frac_part) = match last[0].split_once('.') {
            Some((i, f)) => (i, f),
            None => (last[0], ""),
        };
        let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int_part.is_empty()
            || !digits_ok(int_part)
            || !digits_ok(frac_part)
            || frac_part.len() > 9
        {
            return Err(bad());
        }
        if !whole_parts.is_empty() && int_part.parse::<u64>().map_err(|_| bad())? >= 60 {
            return Err(bad());
        }
        let secs: i64 = int_part.parse().map_err(|_| bad())?;
        let total_secs = if whole_parts.is_empty() {
            secs
        } else {
            whole_secs
                .checked_mul(60)
                .and_then(|w| w.checked_add(secs))
                .ok_or_else(bad)?
        };
        let scale = 10i64.pow(frac_part.len() as u32);
        let frac: i64 = if frac_part.is_empty() {
            0
        } else {
            frac_part.parse().map_err(|_| bad())?
        };
        let ticks = total_secs
            .checked_mul(scale)
            .and_then(|t| t.checked_add(frac))
            .ok_or_else(bad)?;
        let den = i32::try_from(scale).map_err(|_| bad())?;
        Ok(Self::new(ticks, Rational::new(1, den)?))
    }
}

fn clamp_i64(v: i128) -> i64 {
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

impl PartialEq for Timestamp {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Timestamp {}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> Ordering {
        // a/b vs c/d with b, d > 0: compare a*d with c*b. Components are 32-bit, so the
        // products fit in 128 bits.
        self.scaled(other.time_base.den)
            .cmp(&other.scaled(self.time_base.den))
    }
}

impl fmt::Display for Timestamp {
    /// `HH:MM:SS.ffffff`, exact to the microsecond (rounded down).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.rescale_floor(Rational::MICROS).ticks;
        let sign = if us < 0 { "-" } else { "" };
        let us = us.unsigned_abs();
        let (secs, frac) = (us / 1_000_000, us % 1_000_000);
        write!(
            f,
            "{sign}{:02}:{:02}:{:02}.{:06}",
            secs / 3600,
            (secs / 60) % 60,
            secs % 60,
            frac
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tb(n: i32, d: i32) -> Rational {
        Rational::new(n, d).unwrap()
    }

    #[test]
    fn equal_values_in_different_bases_compare_equal() {
        assert_eq!(Timestamp::new(10, tb(1, 10)), Timestamp::from_secs(1));
        assert!(Timestamp::new(9, tb(1, 10)) < Timestamp::from_secs(1));
        assert!(Timestamp::new(90_001, tb(1, 90_000)) > Timestamp::from_secs(1));
    }

    #[test]
    fn parses_user_times_exactly() {
        assert_eq!(Timestamp::parse("12").unwrap(), Timestamp::from_secs(12));
        assert_eq!(
            Timestamp::parse("1.25").unwrap(),
            Timestamp::from_millis(1250)
        );
        assert_eq!(Timestamp::parse("01:02").unwrap(), Timestamp::from_secs(62));
        assert_eq!(
            Timestamp::parse("01:00:02.5").unwrap(),
            Timestamp::from_millis(3_602_500)
        );
        assert_eq!(
            Timestamp::parse("0.1").unwrap(),
            Timestamp::new(1, tb(1, 10))
        );
        for bad in [
            "",
            "-1",
            "1:2:3:4",
            "aa",
            "1.2.3",
            "00:61",
            "1:",
            ".5",
            "1.1234567890",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn rejects_non_positive_denominator() {
        assert!(Rational::new(1, 0).is_err());
        assert!(Rational::new(1, -5).is_err());
        assert_eq!(Rational::new(2, 50).unwrap(), tb(1, 25));
    }

    #[test]
    fn displays_as_clock_time() {
        assert_eq!(
            Timestamp::from_millis(3_723_004).to_string(),
            "01:02:03.004000"
        );
    }

    proptest! {
        #[test]
        fn rescale_floor_and_ceil_bracket_the_value(ticks in -1_000_000_000i64..1_000_000_000, n in 1i32..1000, d in 1i32..100_000, n2 in 1i32..1000, d2 in 1i32..100_000) {
            let t = Timestamp::new(ticks, tb(n, d));
            let lo = t.rescale_floor(tb(n2, d2));
            let hi = t.rescale_ceil(tb(n2, d2));
            prop_assert!(lo <= t && t <= hi);
            prop_assert!(hi.ticks - lo.ticks <= 1);
            // Rescaling into a finer base that the original divides is exact.
            let fine = tb(n, d.saturating_mul(7).min(i32::MAX / 2));
            if d.checked_mul(7).is_some() {
                prop_assert_eq!(t.rescale_floor(fine), t);
            }
        }

        #[test]
        fn ordering_matches_exact_fractions(a in -1_000_000i64..1_000_000, b in -1_000_000i64..1_000_000, d1 in 1i32..50_000, d2 in 1i32..50_000) {
            let x = Timestamp::new(a, tb(1, d1));
            let y = Timestamp::new(b, tb(1, d2));
            let expect = (i128::from(a) * i128::from(d2)).cmp(&(i128::from(b) * i128::from(d1)));
            prop_assert_eq!(x.cmp(&y), expect);
        }
    }
}
