//! Options shared by `obscura redact` and `obscura export`: what is masked and how, the
//! detection schedule (which must match `obscura tracks` for `--keep` ids to agree), the
//! subject's reference photo, the encoder, and where the runtime and models are.

use std::path::PathBuf;
use std::str::FromStr;

use anyhow::{Context, bail};
use clap::Args;
use obscura_detect::models::{ModelStore, default_model_dir};
use obscura_media::{AudioMode, EncoderSettings, Preset};
use obscura_pipeline::policy::{parse_style, parse_zone};
use obscura_pipeline::subject::frame_from_image;
use obscura_pipeline::{
    AUTO_DETECT_RATE, AnalyseOptions, Policy, RedactionSettings, ReferencePhoto, Targets,
};

use crate::detection_args::DetectionArgs;

/// Masking, detection and encoding options (flattened into `redact` and `export`).
#[derive(Args, Debug)]
pub struct MaskingArgs {
    /// Keep the tracks that look like the person in this photo (re-identification), across
    /// the whole clip; prints which tracks matched and their similarity.
    #[arg(long, value_name = "PHOTO")]
    pub keep_like: Option<PathBuf>,
    /// Cosine similarity at or above which a track counts as the person of --keep-like.
    #[arg(long, default_value_t = 0.6, value_name = "0..1")]
    pub similarity: f32,
    /// What to mask: `person`, `face` or `person,face` (whole bodies; faces too where no
    /// body box covers them).
    #[arg(long, default_value = "person,face")]
    pub targets: String,
    /// Masking style: `pixelate` (default: a grey mosaic of at most 3 blocks along a
    /// person's longer side, `pixelate:N` for N) or `fill` (black; `fill:#RRGGBB` for another
    /// colour) are recommended for access exports; `blur` (`blur:S`, S times the default
    /// radius) can be partly reversed.
    #[arg(
        long,
        default_value = "pixelate",
        value_name = "fill|pixelate[:N]|blur[:S]"
    )]
    pub style: String,
    /// A static privacy zone masked on every frame: a polygon in fractions of the frame,
    /// `x1,y1;x2,y2;x3,y3[;...]`. Repeatable.
    #[arg(long, value_name = "POLYGON")]
    pub zone: Vec<String>,
    /// Run detection on every Nth frame (boxes predicted and interpolated in between);
    /// `auto`: 8 times per second of video (every 3rd frame at 25-30 fps, every frame at
    /// 10 fps), where measured recall equals detection on every frame (BENCHMARKS.md).
    #[arg(long, default_value = "auto", value_name = "N|auto")]
    pub every: String,
    /// Seconds a lost track keeps its predicted box.
    #[arg(long, default_value_t = 1.0, value_name = "SECONDS")]
    pub hold: f64,
    /// Mask the people beside a kept requester as whole rectangles. By default the
    /// requester's own silhouette (model `pose_seg_lite`, where installed) stays visible
    /// inside the box of anyone overlapping them; that person's own silhouette, grown by the
    /// margin, stays masked.
    #[arg(long)]
    pub no_silhouettes: bool,
    /// Person search (`--recall`, `--tile`).
    #[command(flatten)]
    pub detection: DetectionArgs,
    /// Audio: `drop` (default; speech is personal data), `keep` or `mute`.
    #[arg(long, default_value = "drop", value_name = "drop|keep|mute")]
    pub audio: String,
    /// x264 constant rate factor (0..51).
    #[arg(long, value_name = "CRF")]
    pub crf: Option<i64>,
    /// x264 preset (ultrafast .. veryslow).
    #[arg(long, value_name = "PRESET")]
    pub preset: Option<String>,
    /// Path of libonnxruntime.so.
    #[arg(long, value_name = "PATH")]
    pub ort_lib: Option<PathBuf>,
    /// Folder holding the model files (default: $OBSCURA_MODEL_DIR, else the built-in one).
    #[arg(long, value_name = "DIR")]
    pub models: Option<PathBuf>,
}

impl MaskingArgs {
    /// The redaction settings of these flags, keeping the person ids `keep` (inference
    /// threads, frame limit, mode and subject points are the command's to set).
    pub fn settings(&self, keep: &[u64]) -> anyhow::Result<RedactionSettings> {
        let (policy, targets) = self.policy(keep)?;
        let encoder = self.encoder()?;
        let keep_like = self.keep_like()?;
        let mut s = RedactionSettings::new(self.model_store()?);
        s.analysis = self.analyse_options(targets)?;
        s.policy = policy;
        s.style = self.style.clone();
        s.keep_like = keep_like.map(|(photo, threshold)| ReferencePhoto { photo, threshold });
        s.encoder = encoder;
        s.silhouettes = !self.no_silhouettes;
        Ok(s)
    }

    /// The masking policy keeping `keep` visible, and the targets it masks.
    pub fn policy(&self, keep: &[u64]) -> anyhow::Result<(Policy, Targets)> {
        let targets = Targets::parse(&self.targets)?;
        // `pixelate:N` / `blur:S` (strength) as well as the plain names.
        let style = match obscura_render::Style::parse(&self.style) {
            Some(s) => s,
            None => parse_style(&self.style).map_err(|e| {
                anyhow::anyhow!("{e} (or pixelate:N with N in 1..16, blur:S with S in 1..64)")
            })?,
        };
        let mut policy = Policy::builder()
            .targets(targets)
            .style(style)
            .keep(keep.iter().copied());
        for z in &self.zone {
            policy = policy.zone(parse_zone(z, style)?);
        }
        Ok((policy.build()?, targets))
    }

    /// The encoder settings (media defaults unless --crf / --preset are given).
    pub fn encoder(&self) -> anyhow::Result<EncoderSettings> {
        let mut enc = EncoderSettings::builder().audio(AudioMode::from_str(&self.audio)?);
        if let Some(c) = self.crf {
            enc = enc.crf(c);
        }
        if let Some(p) = &self.preset {
            enc = enc.preset(Preset::from_str(p)?);
        }
        Ok(enc.build()?)
    }

    /// The reference photo of --keep-like as a frame, with the similarity threshold.
    pub fn keep_like(&self) -> anyhow::Result<Option<(obscura_core::Frame, f32)>> {
        if !(0.0..=1.0).contains(&self.similarity) {
            bail!("--similarity {} must lie in 0..1", self.similarity);
        }
        let Some(p) = &self.keep_like else {
            return Ok(None);
        };
        let img = image::open(p)
            .with_context(|| format!("{}: cannot read the reference photo", p.display()))?;
        Ok(Some((frame_from_image(&img), self.similarity)))
    }

    /// The detection schedule; the same as `obscura tracks` with the same flags, so ids agree.
    pub fn analyse_options(&self, targets: Targets) -> anyhow::Result<AnalyseOptions> {
        let (every, detect_rate) = parse_every(&self.every)?;
        let mut options = AnalyseOptions {
            every,
            detect_rate,
            targets,
            hold_seconds: Some(self.hold),
            hash_source: false,
            ..AnalyseOptions::default()
        };
        self.detection.apply(&mut options)?;
        Ok(options)
    }

    /// Loads ONNX Runtime (once) and opens the model store.
    pub fn model_store(&self) -> anyhow::Result<ModelStore> {
        obscura_detect::runtime::init(self.ort_lib.as_deref())?;
        Ok(ModelStore::new(
            self.models.clone().unwrap_or_else(default_model_dir),
        )?)
    }
}

/// Parses `--every`: `auto` (the detector runs [`AUTO_DETECT_RATE`] times per second of
/// video) or a frame interval N in 1..=100. Returns `(every, detect_rate)`.
pub fn parse_every(s: &str) -> anyhow::Result<(u32, Option<f64>)> {
    if s.trim() == "auto" {
        return Ok((1, Some(AUTO_DETECT_RATE)));
    }
    match s.trim().parse::<u32>() {
        Ok(n) if (1..=100).contains(&n) => Ok((n, None)),
        _ => bail!("--every {s}: expected auto or a frame interval from 1 to 100"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_is_auto_or_an_interval() {
        assert_eq!(parse_every("auto").unwrap(), (1, Some(AUTO_DETECT_RATE)));
        assert_eq!(parse_every("3").unwrap(), (3, None));
        for bad in ["0", "101", "-1", "often", ""] {
            assert!(
                parse_every(bad)
                    .unwrap_err()
                    .to_string()
                    .contains("--every"),
                "{bad}"
            );
        }
    }
}
