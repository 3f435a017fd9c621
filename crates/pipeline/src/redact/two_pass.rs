//! Runs that find the subject first: analyse, identify the people, pick and check the
//! subject, then mask from the [`TrackSet`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Instant;

use obscura_detect::reid::Embedder;
use obscura_media::DecodeOptions;
use obscura_track::{IdentityId, TrackId, TrackSet};

use super::{Redactor, same_file};
use crate::control::{CancelToken, Pass, ProgressFn, progress_ref};
use crate::error::Error;
use crate::identity::{self, Appearance, IdentityOptions, SubjectFrames};
use crate::keep::KeepLike;
use crate::masker::{TrackSetMasker, VERIFIED_SUBJECT};
use crate::report::RedactReport;
use crate::runner::run_pass;
use crate::subject;

impl Redactor {
    /// Masks `input` from a [`TrackSet`] made on the same input with the same settings (e.g.
    /// `obscura tracks -o`), keeping the people `keep` (plus the policy's ids): person
    /// (identity) ids as `obscura tracks` lists them. Nobody kept: one pass. Anyone kept needs
    /// the re-identification embedder: the appearance analysis runs again on `tracks` (giving
    /// the same identities), and a kept person's box is left visible only on frames where the
    /// per-frame check clears it, as in [`Redactor::redact`] (three passes; the report says
    /// where they were masked for uncertainty). A kept id that is nobody is an error listing
    /// the people.
    pub fn redact_with_tracks(
        &mut self,
        input: &Path,
        output: &Path,
        tracks: &TrackSet,
        keep: &[IdentityId],
    ) -> Result<RedactReport, Error> {
        let start = Instant::now();
        let mut ids: BTreeSet<IdentityId> = self.policy.keep().clone();
        ids.extend(keep.iter().copied());
        if ids.is_empty() {
            return self.redact_with_tracks_inner(
                input,
                output,
                tracks,
                &BTreeSet::new(),
                None,
                1,
                start,
            );
        }
        let passes = 3;
        let mut set = tracks.clone();
        let run = IdentityPasses::of(self);
        let embedder = pick_embedder(&mut self.embedder, &mut self.keep_like)?;
        let appearance = run.identify(input, &mut set, embedder, (Pass::Embed, 1, passes))?;
        let mut chosen: BTreeMap<IdentityId, Option<Vec<f32>>> = BTreeMap::new();
        for id in ids {
            check_person(input, &set, id)?;
            chosen.insert(id, None);
        }
        let (subject_frames, kept) = run.verify(
            input,
            &set,
            &appearance,
            &chosen,
            embedder,
            (Pass::Verify, 2, passes),
        )?;
        let mut rep = self.redact_with_tracks_inner(
            input,
            output,
            &set,
            &kept,
            Some(&subject_frames),
            passes,
            start,
        )?;
        rep.kept_identities = chosen.keys().copied().collect();
        Ok(rep)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn redact_with_tracks_inner(
        &mut self,
        input: &Path,
        output: &Path,
        set: &TrackSet,
        keep: &BTreeSet<TrackId>,
        subject: Option<&SubjectFrames>,
        passes: u32,
        start: Instant,
    ) -> Result<RedactReport, Error> {
        if same_file(input, output) {
            return Err(Error::InvalidSetting {
                name: "output",
                value: output.display().to_string(),
                reason: "is the input (inputs are never modified)".into(),
            });
        }
        if let Some(missing) = keep.iter().find(|id| set.track(**id).is_none()) {
            let ids: Vec<String> = set
                .tracks
                .iter()
                .map(|t| format!("{} ({})", t.id, t.class.name()))
                .collect();
            return Err(Error::Subject {
                input: input.to_path_buf(),
                reason: format!("no track {missing}; tracks are: {}", ids.join(", ")),
            });
        }
        let policy = if subject.is_some() {
            self.policy.with_keep([VERIFIED_SUBJECT])
        } else {
            self.policy.with_keep(keep.iter().copied())
        };
        let mut dec = self.open(input)?;
        let info = dec.info().clone();
        if (info.width, info.height) != (set.source.width, set.source.height) {
            return Err(Error::Subject {
                input: input.to_path_buf(),
                reason: format!(
                    "the tracks are of a {}x{} video, this one is {}x{}",
                    set.source.width, set.source.height, info.width, info.height
                ),
            });
        }
        let enc = self.create_encoder(input, output, &info)?;
        let every = set.settings.every.max(1);
        let segmenter = self.segmenter.as_mut().filter(|_| subject.is_some());
        let mut frames_masker =
            TrackSetMasker::new(set, &policy, subject, u64::from(every)).with_segmenter(segmenter);
        let mut masker = crate::manual::ManualMasker {
            inner: &mut frames_masker,
            masks: &self.review.masks,
            policy: &policy,
        };
        let outcome = run_pass(
            input,
            &mut dec,
            &mut masker,
            Some(enc),
            self.queue,
            self.max_frames,
            &self.cancel,
            progress_ref(self.progress.as_ref()),
            (Pass::Redact, passes, passes),
        )?;
        let frames = outcome.frames;
        let silhouette_frames = frames_masker.segmented_frames;
        let mut outcome_stages = self.analysis_stages.take().unwrap_or_default();
        outcome_stages.add(&outcome.stages);
        self.commit(input, outcome)?;
        let secs = start.elapsed().as_secs_f64();
        Ok(RedactReport {
            input: input.to_path_buf(),
            output: output.to_path_buf(),
            passes,
            frames,
            width: info.width,
            height: info.height,
            every,
            seconds: secs,
            fps: frames as f64 / secs.max(1e-9),
            kept: keep.iter().copied().collect(),
            kept_identities: Vec::new(),
            subject_frames: subject.map_or(0, |s| s.frames),
            subject_uncertain_frames: subject.map_or(0, |s| s.uncertain.len() as u64),
            subject_uncertain: subject.map(|s| s.uncertain_spans(set)).unwrap_or_default(),
            silhouette_frames,
            keep_not_found: Vec::new(),
            masked: set
                .tracks
                .iter()
                .filter(|t| {
                    !keep.contains(&t.id) && crate::policy::masks_class(policy.targets(), t.class)
                })
                .map(|t| (t.id, t.class))
                .collect(),
            untracked_detections: 0,
            stages: outcome_stages,
            matches: Vec::new(),
            models: self
                .models()
                .into_iter()
                .chain(
                    self.segmenter
                        .as_ref()
                        .filter(|_| silhouette_frames > 0)
                        .map(|s| s.model().clone()),
                )
                .collect(),
        })
    }

    /// Analyse, find the people, pick and check the subject, then mask: the run when anyone is
    /// kept (or two passes are forced).
    pub(super) fn redact_two_pass(
        &mut self,
        input: &Path,
        output: &Path,
        start: Instant,
    ) -> Result<RedactReport, Error> {
        let keeps =
            !self.keep_at.is_empty() || self.keep_like.is_some() || !self.policy.keep().is_empty();
        if !keeps {
            let (set, _) = self.analyse_inner(input, 2)?;
            return self.redact_with_tracks_inner(
                input,
                output,
                &set,
                &BTreeSet::new(),
                None,
                2,
                start,
            );
        }
        let passes = 4;
        let (mut set, pts) = self.analyse_inner(input, passes)?;
        let run = IdentityPasses::of(self);
        let Redactor {
            embedder,
            keep_like,
            detector,
            keep_at,
            policy,
            review,
            ..
        } = self;
        let appearance = run.identify(
            input,
            &mut set,
            pick_embedder(embedder, keep_like)?,
            (Pass::Embed, 2, passes),
        )?;
        crate::manual::apply_identity_edits(input, &mut set, &pts, &review.identity)?;
        // The kept people, each with the centroid their reference is built around.
        let mut chosen: BTreeMap<obscura_track::IdentityId, Option<Vec<f32>>> = BTreeMap::new();
        for &id in policy.keep() {
            check_person(input, &set, id)?;
            chosen.insert(id, None);
        }
        for at in keep_at.iter() {
            let (id, seed) = subject::select_at(input, &set, &pts, at)?;
            let c = appearance.tracklet_centroid(seed.track, seed.first_frame, seed.last_frame);
            chosen.insert(id, (!c.is_empty()).then_some(c));
        }
        let mut matches = Vec::new();
        if let Some(like) = keep_like.as_mut() {
            let (id, report) =
                subject::select_like(input, &set, &appearance, like, detector.as_mut())?;
            chosen.entry(id).or_insert(None);
            matches = report;
        }
        let (subject_frames, keep) = run.verify(
            input,
            &set,
            &appearance,
            &chosen,
            pick_embedder(embedder, keep_like)?,
            (Pass::Verify, 3, passes),
        )?;
        let mut rep = self.redact_with_tracks_inner(
            input,
            output,
            &set,
            &keep,
            Some(&subject_frames),
            passes,
            start,
        )?;
        rep.kept_identities = chosen.keys().copied().collect();
        rep.matches = matches;
        Ok(rep)
    }
}

/// What the identity passes take from a [`Redactor`], copied out so that its embedder can be
/// borrowed beside them.
struct IdentityPasses {
    options: IdentityOptions,
    decode: DecodeOptions,
    max_frames: Option<u64>,
    cancel: CancelToken,
    progress: Option<ProgressFn>,
}

impl IdentityPasses {
    fn of(r: &Redactor) -> Self {
        IdentityPasses {
            options: r.identity,
            decode: r.decode.clone(),
            max_frames: r.max_frames,
            cancel: r.cancel.clone(),
            progress: r.progress.clone(),
        }
    }

    /// The appearance pass: embeds the people of `set` and links their tracklets.
    fn identify(
        &self,
        input: &Path,
        set: &mut TrackSet,
        embedder: &mut dyn Embedder,
        pass: (Pass, u32, u32),
    ) -> Result<Appearance, Error> {
        identity::identify(
            input,
            set,
            embedder,
            &self.options,
            &self.decode,
            self.max_frames,
            &self.cancel,
            self.progress.as_ref(),
            pass,
        )
    }

    /// The kept people's references, then the frame-by-frame check of them: where each is
    /// left visible, and the tracks that are.
    fn verify(
        &self,
        input: &Path,
        set: &TrackSet,
        appearance: &Appearance,
        chosen: &BTreeMap<IdentityId, Option<Vec<f32>>>,
        embedder: &mut dyn Embedder,
        pass: (Pass, u32, u32),
    ) -> Result<(SubjectFrames, BTreeSet<TrackId>), Error> {
        let references = references(input, set, appearance, chosen, &self.options)?;
        let frames = identity::verify_subject(
            input,
            set,
            &references,
            appearance,
            embedder,
            &self.options,
            &self.decode,
            self.max_frames,
            &self.cancel,
            self.progress.as_ref(),
            pass,
        )?;
        let kept = frames.visible.values().flatten().map(|(t, _)| *t).collect();
        Ok((frames, kept))
    }
}

/// The re-identification embedder: the redactor's own, else the one of `keep_like`.
fn pick_embedder<'e>(
    embedder: &'e mut Option<Box<dyn Embedder>>,
    keep_like: &'e mut Option<KeepLike>,
) -> Result<&'e mut dyn Embedder, Error> {
    match (embedder.as_mut(), keep_like.as_mut()) {
        (Some(e), _) => Ok(e.as_mut()),
        (None, Some(l)) => Ok(l.embedder.as_mut()),
        (None, None) => Err(Error::InvalidSetting {
            name: "embedder",
            value: "none".into(),
            reason: "keeping a person needs the re-identification embedder".into(),
        }),
    }
}

/// An error listing the people when person `id` is not one of them.
fn check_person(input: &Path, set: &TrackSet, id: IdentityId) -> Result<(), Error> {
    if set.identity(id).is_some() {
        return Ok(());
    }
    Err(Error::Subject {
        input: input.into(),
        reason: format!(
            "no person {id}; the people are: {}",
            subject::list_identities(set)
        ),
    })
}

/// Each kept person's reference (the centroid of their tracklets that look like the seed:
/// the tracklet a point picked, else the one with most samples), plus the identities that
/// look just like a kept person (checked frame by frame as possibly them too).
fn references(
    input: &Path,
    set: &TrackSet,
    appearance: &Appearance,
    chosen: &BTreeMap<IdentityId, Option<Vec<f32>>>,
    options: &IdentityOptions,
) -> Result<BTreeMap<IdentityId, Vec<f32>>, Error> {
    let mut references = BTreeMap::new();
    for (&id, seed) in chosen {
        let seed = seed.clone().or_else(|| {
            // No point given: the tracklet with most samples anchors the reference.
            let ident = set.identity(id)?;
            let t = ident
                .tracklets
                .iter()
                .max_by_key(|t| (t.samples, std::cmp::Reverse(t.first_frame)))?;
            Some(appearance.tracklet_centroid(t.track, t.first_frame, t.last_frame))
                .filter(|c| !c.is_empty())
        });
        let r = appearance.reference(set, id, seed.as_deref(), options.link.link_similarity);
        if r.is_empty() {
            return Err(Error::Subject {
                input: input.into(),
                reason: format!(
                    "person {id} is never seen large enough to be recognised (boxes under {} px or always overlapped), so they cannot be kept safely",
                    options.min_height
                ),
            });
        }
        references.insert(id, r);
    }
    let chosen_refs: Vec<(IdentityId, Vec<f32>)> =
        references.iter().map(|(k, v)| (*k, v.clone())).collect();
    for (id, c) in &appearance.centroids {
        if let Some((_, r)) = chosen_refs
            .iter()
            .filter(|(k, _)| k != id)
            .find(|(_, r)| obscura_track::identity::cosine(c, r) >= options.same_person)
        {
            references.entry(*id).or_insert_with(|| r.clone());
        }
    }
    Ok(references)
}
