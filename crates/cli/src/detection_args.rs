//! How hard the person detector looks (`--recall`, `--tile`), shared by `redact`, `export`
//! and `tracks` so that track ids agree between them.

use anyhow::bail;
use clap::Args;
use obscura_detect::Recall;
use obscura_pipeline::AnalyseOptions;

/// Person-search options (flattened into `redact`, `export` and `tracks`).
#[derive(Args, Debug, Clone)]
pub struct DetectionArgs {
    /// How hard to look for small and distant people: `standard` (coarse whole-frame pass on
    /// every detection plus native-resolution tiles swept within about 0.4 s, on a static
    /// camera only where the picture changed or small people were found), `high` (every tile,
    /// whole, on every detection) or `max` (also upscaled 1.5x for tiny people; slowest). Measured in
    /// BENCHMARKS.md.
    #[arg(long, default_value = "standard", value_name = "standard|high|max")]
    pub recall: String,
    /// Side of the native-resolution tiles in pixels (default 1088: two tiles for 1080p).
    #[arg(long, value_name = "PX")]
    pub tile: Option<u32>,
    /// Lowest person score masked and tracked (default 0.12). Lower finds more people in hard
    /// footage and masks more background by mistake.
    #[arg(long, value_name = "0..1")]
    pub person_threshold: Option<f32>,
    /// Person model: `float` (the default: the pinned YOLOX-nano export) or `int8` (the same
    /// weights quantized by scripts/derive-models.sh; slightly lower recall of half-hidden
    /// people, small speed gain). Both measured in BENCHMARKS.md.
    #[arg(long, default_value = "float", value_name = "float|int8")]
    pub person_model: String,
}

impl DetectionArgs {
    /// Applies these options to the detector (and tracker) settings.
    pub fn apply(&self, options: &mut AnalyseOptions) -> anyhow::Result<()> {
        if let Some(t) = self.person_threshold {
            if !(0.01..=1.0).contains(&t) {
                bail!("--person-threshold {t}: expected a score from 0.01 to 1");
            }
            // Every reported detection starts a track, so it is masked between detections too.
            options.detector.person.score_threshold = t;
            options.tracker.new_track_score = t;
            options.tracker.low_score = options.tracker.low_score.min(t);
        }
        options.detector.person.person_model = self
            .person_model
            .parse()
            .map_err(|e| anyhow::anyhow!("--person-model: {e}"))?;
        let config = &mut options.detector;
        let recall: Recall = self
            .recall
            .parse()
            .map_err(|e| anyhow::anyhow!("--recall: {e}"))?;
        config.scan = recall.scan();
        if let Some(t) = self.tile {
            if !(64..=8192).contains(&t) {
                bail!("--tile {t}: expected a tile side from 64 to 8192 pixels");
            }
            config.scan.tile = t;
            config.scan.overlap = config.scan.overlap.min(t / 2);
        }
        config.scan.validate()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recall_and_tile_set_the_scan() {
        let mut o = AnalyseOptions::default();
        DetectionArgs {
            recall: "high".into(),
            tile: Some(640),
            person_threshold: Some(0.2),
            person_model: "int8".into(),
        }
        .apply(&mut o)
        .unwrap();
        assert_eq!(o.detector.scan.sweep_seconds, 0.0);
        assert_eq!(o.detector.scan.tile, 640);
        assert_eq!(
            o.detector.person.person_model,
            obscura_detect::PersonModel::Int8
        );
        assert_eq!(
            (o.detector.person.score_threshold, o.tracker.new_track_score),
            (0.2, 0.2)
        );
        let err = DetectionArgs {
            recall: "extreme".into(),
            tile: None,
            person_threshold: None,
            person_model: "int8".into(),
        }
        .apply(&mut o)
        .unwrap_err();
        assert!(err.to_string().contains("--recall"), "{err}");
        assert!(
            DetectionArgs {
                recall: "max".into(),
                tile: Some(10),
                person_threshold: None,
                person_model: "int8".into(),
            }
            .apply(&mut o)
            .is_err()
        );
        assert!(
            DetectionArgs {
                recall: "max".into(),
                tile: None,
                person_threshold: Some(0.0),
                person_model: "int8".into(),
            }
            .apply(&mut o)
            .is_err()
        );
    }
}
