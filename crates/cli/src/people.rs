//! The analysis `obscura tracks` and `obscura review` both run: detection and tracking, then,
//! when persons are targeted, the people (appearance embeddings), each with a progress bar.

use std::path::Path;

use obscura_detect::SessionConfig;
use obscura_detect::models::ModelStore;
use obscura_detect::reid::ReidEmbedder;
use obscura_media::DecodeOptions;
use obscura_pipeline::identity::identify;
use obscura_pipeline::{
    AnalyseOptions, CancelToken, IdentityOptions, Pass, Progress, ProgressFn, Targets, analyse,
    builtin_detector,
};
use obscura_track::TrackSet;

use crate::progress;

/// Tracks every target in `input` with `options` and, for persons, groups the tracks into
/// people with the re-identification model (`threads` inference threads, 0: one per core).
pub fn analyse_people(
    input: &Path,
    store: &ModelStore,
    targets: Targets,
    options: &AnalyseOptions,
    threads: usize,
    quiet: bool,
) -> anyhow::Result<TrackSet> {
    let mut detector = builtin_detector(store, targets, &options.detector)?;
    let pb = progress::bar(None, quiet, "analysing");
    let mut set = analyse(input, detector.as_mut(), options, |done, total| {
        if let Some(t) = total.filter(|t| pb.length() != Some((*t).max(done))) {
            progress::set_length(&pb, t.max(done));
        }
        pb.set_position(done);
    })?;
    pb.finish_and_clear();
    if targets.person {
        let mut embedder = ReidEmbedder::new(
            store,
            SessionConfig {
                intra_threads: threads,
                ..SessionConfig::default()
            },
        )?;
        let pb = progress::bar(Some(set.source.frames), quiet, "people");
        let p = pb.clone();
        let progress: ProgressFn =
            std::sync::Arc::new(move |pr: &Progress| p.set_position(pr.frames_done));
        identify(
            input,
            &mut set,
            &mut embedder,
            &IdentityOptions::default(),
            &DecodeOptions::default(),
            None,
            &CancelToken::new(),
            Some(&progress),
            (Pass::Embed, 2, 2),
        )?;
        pb.finish_and_clear();
    }
    Ok(set)
}
