//! How the data subject is named to a run: a point at a time ([`KeepAt`]) or a reference
//! photo ([`KeepLike`]).

use obscura_core::{Frame, Rational, Timestamp};
use obscura_detect::reid::Embedder;

use crate::error::Error;

/// A point that picks the data subject: the person whose box contains `(x, y)` (source
/// pixels) on the frame nearest to `time`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeepAt {
    /// Time in the clip.
    pub time: Timestamp,
    /// Column, source pixels.
    pub x: f32,
    /// Row, source pixels.
    pub y: f32,
}

impl KeepAt {
    /// This point (in source time) as a point in a clip that starts at source time
    /// `offset`, to the microsecond (rounded down); `None` when it lies before the clip.
    pub fn in_window(self, offset: Timestamp) -> Option<KeepAt> {
        let rel = crate::manual::micros(self.time) - crate::manual::micros(offset);
        (rel >= 0).then(|| KeepAt {
            time: Timestamp::new(rel, Rational::MICROS),
            ..self
        })
    }
}

impl std::str::FromStr for KeepAt {
    type Err = Error;

    /// `TIME@X,Y`, e.g. `12.5@320,240` or `00:01:02.5@100,80` (pixels of the source frame).
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = |reason: &str| Error::InvalidSetting {
            name: "keep-at",
            value: s.into(),
            reason: reason.into(),
        };
        let (t, xy) = s.split_once('@').ok_or_else(|| bad("expected TIME@X,Y"))?;
        let time = Timestamp::parse(t.trim()).map_err(|e| bad(&e.to_string()))?;
        let (x, y) = xy.split_once(',').ok_or_else(|| bad("expected TIME@X,Y"))?;
        let x: f32 = x.trim().parse().map_err(|_| bad("X is not a number"))?;
        let y: f32 = y.trim().parse().map_err(|_| bad("Y is not a number"))?;
        if !(x.is_finite() && y.is_finite() && x >= 0.0 && y >= 0.0) {
            return Err(bad("X and Y must be non-negative pixel coordinates"));
        }
        Ok(KeepAt { time, x, y })
    }
}

/// `keep_like`: a reference picture of the subject, the embedder and the threshold.
pub struct KeepLike {
    /// The reference picture (a photo of the person; the best person box found in it is
    /// embedded, the whole picture when none is found).
    pub photo: Frame,
    /// The appearance embedder (e.g. [`obscura_detect::reid::ReidEmbedder`]).
    pub embedder: Box<dyn Embedder>,
    /// Cosine similarity at or above which a track is the subject (0.6).
    pub threshold: f32,
    /// Crops embedded per track (its best-scored boxes, spread in time; 4).
    pub crops_per_track: usize,
}

impl std::fmt::Debug for KeepLike {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeepLike")
            .field("threshold", &self.threshold)
            .field("crops_per_track", &self.crops_per_track)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_moves_into_its_window_or_is_before_it() {
        let at: KeepAt = "12.5@320,240".parse().unwrap();
        let w = at.in_window(Timestamp::from_secs(10)).unwrap();
        assert_eq!(w.time, Timestamp::from_millis(2500));
        assert_eq!((w.x, w.y), (320.0, 240.0));
        assert_eq!(
            at.in_window(Timestamp::from_millis(12_500))
                .unwrap()
                .time
                .ticks,
            0
        );
        assert_eq!(at.in_window(Timestamp::from_millis(12_501)), None);
        // To the microsecond, rounded down.
        let third = Timestamp::new(1, Rational::new(1, 3).unwrap());
        let at = KeepAt {
            time: third,
            x: 0.0,
            y: 0.0,
        };
        assert_eq!(at.in_window(Timestamp::zero()).unwrap().time.ticks, 333_333);
        assert_eq!(
            at.in_window(Timestamp::zero()).unwrap().time.time_base,
            Rational::MICROS
        );
    }
}
