//! User time and interval parsing, and interval-set algebra: parse arbitrary text as
//! `A..B` intervals, then check the set operations against point membership.
#![no_main]

use libfuzzer_sys::fuzz_target;
use obscura_core::{Interval, IntervalSet, Timestamp};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.split('|');
    let a: IntervalSet = parts
        .next()
        .unwrap_or("")
        .split(',')
        .filter_map(|s| Interval::parse(s).ok())
        .collect();
    let b: IntervalSet = parts
        .next()
        .unwrap_or("")
        .split(',')
        .filter_map(|s| Interval::parse(s).ok())
        .collect();
    let probes: Vec<Timestamp> = a
        .intervals()
        .iter()
        .chain(b.intervals())
        .flat_map(|iv| [iv.start(), iv.end()])
        .collect();
    let (u, i, d) = (a.union(&b), a.intersection(&b), a.difference(&b));
    for s in [&u, &i, &d] {
        assert!(
            s.intervals().windows(2).all(|w| w[0].end() < w[1].start()),
            "not normalised"
        );
    }
    for t in probes {
        let (x, y) = (a.contains(t), b.contains(t));
        assert_eq!(u.contains(t), x || y);
        assert_eq!(i.contains(t), x && y);
        assert_eq!(d.contains(t), x && !y);
    }
});
