//! Half-open time intervals and normalised sets of them.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Error, Timestamp};

/// A half-open time range `[start, end)` with `start < end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interval {
    start: Timestamp,
    end: Timestamp,
}

impl Interval {
    /// `[start, end)`; fails when `end <= start` (empty or inverted).
    pub fn new(start: Timestamp, end: Timestamp) -> Result<Self, Error> {
        if end <= start {
            return Err(Error::InvalidInterval {
                start: start.to_string(),
                end: end.to_string(),
            });
        }
        Ok(Self { start, end })
    }

    /// Parses `A..B` where each side is a time as accepted by [`Timestamp::parse`].
    pub fn parse(text: &str) -> Result<Self, Error> {
        let (a, b) = text.split_once("..").ok_or_else(|| Error::InvalidTime {
            input: text.to_string(),
        })?;
        Self::new(Timestamp::parse(a)?, Timestamp::parse(b)?)
    }

    /// The first instant inside.
    pub fn start(&self) -> Timestamp {
        self.start
    }

    /// The first instant after the interval.
    pub fn end(&self) -> Timestamp {
        self.end
    }

    /// Whether `t` lies in `[start, end)`.
    pub fn contains(&self, t: Timestamp) -> bool {
        self.start <= t && t < self.end
    }

    /// Duration in float seconds (display only).
    pub fn duration_secs_f64(&self) -> f64 {
        self.end.as_secs_f64() - self.start.as_secs_f64()
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}, {})", self.start, self.end)
    }
}

/// A set of instants stored as intervals that are always sorted, disjoint and non-adjacent
/// (touching intervals are merged), so equal sets have equal representations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IntervalSet {
    intervals: Vec<Interval>,
}

impl IntervalSet {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The set holding exactly `interval`.
    pub fn single(interval: Interval) -> Self {
        Self {
            intervals: vec![interval],
        }
    }

    /// The normalised union of `intervals`.
    pub fn from_intervals(intervals: impl IntoIterator<Item = Interval>) -> Self {
        let mut v: Vec<Interval> = intervals.into_iter().collect();
        v.sort_by_key(|a| a.start);
        let mut out: Vec<Interval> = Vec::with_capacity(v.len());
        for iv in v {
            match out.last_mut() {
                Some(last) if iv.start <= last.end => {
                    if iv.end > last.end {
                        last.end = iv.end;
                    }
                }
                _ => out.push(iv),
            }
        }
        Self { intervals: out }
    }

    /// The intervals, sorted, disjoint and non-adjacent.
    pub fn intervals(&self) -> &[Interval] {
        &self.intervals
    }

    /// Whether the set holds no instant.
    pub fn is_empty(&self) -> bool {
        self.intervals.is_empty()
    }

    /// Whether `t` is in the set (binary search).
    pub fn contains(&self, t: Timestamp) -> bool {
        let idx = self.intervals.partition_point(|iv| iv.end <= t);
        self.intervals.get(idx).is_some_and(|iv| iv.contains(t))
    }

    /// The interval of the set that contains `t`, if any.
    pub fn interval_containing(&self, t: Timestamp) -> Option<Interval> {
        let idx = self.intervals.partition_point(|iv| iv.end <= t);
        self.intervals.get(idx).copied().filter(|iv| iv.contains(t))
    }

    /// Adds `interval`, merging as needed.
    pub fn insert(&mut self, interval: Interval) {
        let mut all = std::mem::take(&mut self.intervals);
        all.push(interval);
        *self = Self::from_intervals(all);
    }

    /// Instants in either set.
    pub fn union(&self, other: &Self) -> Self {
        Self::from_intervals(self.intervals.iter().chain(&other.intervals).copied())
    }

    /// Instants in both sets.
    pub fn intersection(&self, other: &Self) -> Self {
        let (a, b) = (&self.intervals, &other.intervals);
        let (mut i, mut j) = (0, 0);
        let mut out = Vec::new();
        while i < a.len() && j < b.len() {
            let start = a[i].start.max(b[j].start);
            let end = a[i].end.min(b[j].end);
            if start < end {
                out.push(Interval { start, end });
            }
            if a[i].end < b[j].end {
                i += 1;
            } else {
                j += 1;
            }
        }
        Self::from_intervals(out)
    }

    /// Instants in `self` but not in `other`.
    pub fn difference(&self, other: &Self) -> Self {
        let mut out = Vec::new();
        let b = &other.intervals;
        let mut j = 0;
        for iv in &self.intervals {
            let mut cur = iv.start;
            while j < b.len() && b[j].end <= cur {
                j += 1;
            }
            let mut k = j;
            while k < b.len() && b[k].start < iv.end {
                if b[k].start > cur {
                    out.push(Interval {
                        start: cur,
                        end: b[k].start,
                    });
                }
                cur = cur.max(b[k].end);
                k += 1;
            }
            if cur < iv.end {
                out.push(Interval {
                    start: cur,
                    end: iv.end,
                });
            }
        }
        Self::from_intervals(out)
    }

    /// Instants of `span` not in the set.
    pub fn complement_within(&self, span: Interval) -> Self {
        Self::single(span).difference(self)
    }
}

impl FromIterator<Interval> for IntervalSet {
    fn from_iter<T: IntoIterator<Item = Interval>>(iter: T) -> Self {
        Self::from_intervals(iter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ms(v: i64) -> Timestamp {
        Timestamp::from_millis(v)
    }

    fn iv(a: i64, b: i64) -> Interval {
        Interval::new(ms(a), ms(b)).unwrap()
    }

    #[test]
    fn rejects_empty_and_inverted() {
        assert!(Interval::new(ms(5), ms(5)).is_err());
        assert!(Interval::new(ms(6), ms(5)).is_err());
        assert!(Interval::parse("10..2").is_err());
        assert_eq!(Interval::parse("1.5..00:00:02").unwrap(), iv(1500, 2000));
    }

    #[test]
    fn adjacent_intervals_merge() {
        let s = IntervalSet::from_intervals([iv(0, 10), iv(10, 20), iv(30, 40), iv(35, 36)]);
        assert_eq!(s.intervals(), &[iv(0, 20), iv(30, 40)]);
    }

    #[test]
    fn erasure_example_gives_before_and_after() {
        let span = iv(0, 60_000);
        let excluded = IntervalSet::from_intervals([iv(10_000, 20_000), iv(30_000, 35_000)]);
        let kept = excluded.complement_within(span);
        assert_eq!(
            kept.intervals(),
            &[iv(0, 10_000), iv(20_000, 30_000), iv(35_000, 60_000)]
        );
        assert!(kept.contains(ms(9_999)));
        assert!(!kept.contains(ms(10_000)));
        assert!(kept.contains(ms(20_000)));
    }

    fn arb_set() -> impl Strategy<Value = IntervalSet> {
        prop::collection::vec((0i64..200, 1i64..40), 0..8)
            .prop_map(|v| v.into_iter().map(|(a, l)| iv(a, a + l)).collect())
    }

    fn normalised(s: &IntervalSet) -> bool {
        s.intervals().windows(2).all(|w| w[0].end() < w[1].start())
    }

    proptest! {
        #[test]
        fn set_algebra_matches_pointwise_membership(a in arb_set(), b in arb_set()) {
            let u = a.union(&b);
            let i = a.intersection(&b);
            let d = a.difference(&b);
            let span = iv(-5, 250);
            let c = a.complement_within(span);
            for s in [&u, &i, &d, &c] {
                prop_assert!(normalised(s));
            }
            for t in -10..260 {
                let t = ms(t);
                let (x, y) = (a.contains(t), b.contains(t));
                prop_assert_eq!(u.contains(t), x || y);
                prop_assert_eq!(i.contains(t), x && y);
                prop_assert_eq!(d.contains(t), x && !y);
                prop_assert_eq!(c.contains(t), span.contains(t) && !x);
            }
        }

        #[test]
        fn union_is_commutative_and_idempotent(a in arb_set(), b in arb_set()) {
            prop_assert_eq!(a.union(&b), b.union(&a));
            prop_assert_eq!(a.union(&a), a.clone());
            prop_assert_eq!(a.intersection(&a), a);
        }
    }
}
