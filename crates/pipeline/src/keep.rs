//! How the data subject is named to a run: a point at a time ([`KeepAt`]) or a reference
//! photo ([`KeepLike`]).

use obscura_core::{Frame, Timestamp};
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
