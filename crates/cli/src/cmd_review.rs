//! `obscura review`: analyse a clip as `obscura tracks` does (people included), then serve the
//! review page on 127.0.0.1 until interrupted. The page writes the edits file that
//! `obscura redact --edits` and `obscura export --edits` apply (docs/EDITS.md).

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use obscura_detect::SessionConfig;
use obscura_review::edits::SourceRef;
use obscura_review::{Edits, LoadedEdits, ReviewServer, SaveTarget, Session};

use crate::Outcome;
use crate::masking_args::MaskingArgs;

/// Arguments of `obscura review`.
#[derive(Args, Debug)]
pub struct ReviewArgs {
    /// The clip to review (never modified). One clip per review.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// The edits file: loaded when it exists (and Save replaces it), created by Save when it
    /// does not. Default: INPUT-STEM.edits.json in the current folder (never replaced).
    #[arg(long, value_name = "FILE")]
    pub edits: Option<PathBuf>,
    /// Masking and detection options: give the same as to `redact`/`export` so the preview
    /// and the people agree with the run.
    #[command(flatten)]
    pub masking: MaskingArgs,
    /// Start of the export's request window, source time (`12.5`, `00:01:02.5`): the page
    /// shows it and the periods of the clip it leaves out. Give the same as to `export`.
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// End of the export's request window, source time (as --from).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Inference threads (0, the default: one per core).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub threads: usize,
    /// Once the page is served, print one JSON document on standard output (format
    /// `obscura-review/1`, docs/JSON.md: the URL, counts and the edits file), then serve.
    #[arg(long)]
    pub json: bool,
}

/// Runs `obscura review`.
pub fn run(args: ReviewArgs, quiet: bool) -> anyhow::Result<Outcome> {
    let [input] = args.inputs.as_slice() else {
        bail!("review one clip at a time ({} given)", args.inputs.len())
    };
    obscura_media::check_input_file(input)?;
    let time = |flag: &str, v: &Option<String>| {
        v.as_deref()
            .map(|t| {
                obscura_core::Timestamp::parse(t).map_err(|_| {
                    anyhow::anyhow!(
                        "{flag} {t:?}: not a source time (seconds like 12.5, or HH:MM:SS.fff)"
                    )
                })
            })
            .transpose()
    };
    let window = (time("--from", &args.from)?, time("--until", &args.until)?);
    if let (Some(a), Some(b)) = window
        && obscura_pipeline::manual::micros(a) >= obscura_pipeline::manual::micros(b)
    {
        bail!(
            "--from {} is not before --until {}",
            args.from.as_deref().unwrap_or(""),
            args.until.as_deref().unwrap_or("")
        );
    }
    let (policy, targets) = args.masking.policy(&[])?;
    let store = args.masking.model_store()?;
    let mut options = args.masking.analyse_options(targets)?;
    let threads = crate::output::threads(args.threads, 1);
    options.detector.person.session.intra_threads = threads;
    options.detector.face.session.intra_threads = threads;
    let sha256 = obscura_audit::sha256_file(input)
        .with_context(|| format!("{}: cannot read", input.display()))?;
    let name = input
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (edits, save) = match &args.edits {
        Some(p) if std::fs::symlink_metadata(p).is_ok() => {
            let l = LoadedEdits::read(p)?;
            l.check_source(input, &sha256)?;
            (
                l.edits,
                SaveTarget {
                    path: p.clone(),
                    overwrite: true,
                },
            )
        }
        Some(p) => (
            Edits::new("", ""),
            SaveTarget {
                path: p.clone(),
                overwrite: false,
            },
        ),
        None => {
            let stem = input
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "review".into());
            (
                Edits::new("", ""),
                SaveTarget {
                    path: PathBuf::from(format!("{stem}.edits.json")),
                    overwrite: false,
                },
            )
        }
    };
    let mut edits = edits;
    edits.source = Some(SourceRef {
        name,
        sha256: Some(sha256),
    });

    let set = crate::people::analyse_people(input, &store, targets, &options, threads, quiet)?;
    let mut session = Session::open(input, set, policy, &args.masking.style, edits, save)?;
    if targets.person && !args.masking.no_silhouettes {
        let session_config = SessionConfig {
            intra_threads: args.threads,
            ..SessionConfig::default()
        };
        if let Ok(seg) = obscura_detect::Segmenter::installed(&store, session_config)? {
            session = session.with_segmenter(seg);
        }
    }
    session.set_window(window.0, window.1);
    let server = ReviewServer::bind()?;
    if args.json {
        crate::output::print_json(
            "review",
            &serde_json::json!({
                "url": server.url(),
                "input": input.display().to_string(),
                "frames": session.frame_count(),
                "people": session.state()["people"].as_array().map_or(0, Vec::len),
                "edits": session.save_target().path.display().to_string(),
                "edits_replaced_on_save": session.save_target().overwrite,
            }),
        )?;
        server.serve(&mut session, &|| false, &obscura_audit::now_rfc3339)?;
        return Ok(Outcome::Ok);
    }
    println!("review page: {}", server.url());
    println!(
        "  {} frames, {} people; Save writes {}",
        session.frame_count(),
        session.state()["people"].as_array().map_or(0, Vec::len),
        session.save_target().path.display()
    );
    println!("  serving on 127.0.0.1 only; press Ctrl-C to stop");
    use std::io::Write;
    std::io::stdout().flush()?;
    server.serve(&mut session, &|| false, &obscura_audit::now_rfc3339)?;
    Ok(Outcome::Ok)
}

/// Reads `--edits FILE` for `input` (a video), checking the file was made on it.
pub fn load_edits_for(
    edits: Option<&std::path::Path>,
    input: &std::path::Path,
) -> anyhow::Result<Option<LoadedEdits>> {
    let Some(p) = edits else { return Ok(None) };
    let l = LoadedEdits::read(p)?;
    if obscura_pipeline::is_still(input) {
        bail!("{}: --edits applies to videos, not stills", input.display());
    }
    let sha = obscura_audit::sha256_file(input)
        .with_context(|| format!("{}: cannot read", input.display()))?;
    l.check_source(input, &sha)?;
    Ok(Some(l))
}

/// The pipeline's part of an edits file, for a clip whose time zero is source time `offset`
/// (an export's request window; `None`: the source itself).
pub fn review_edits(
    l: &LoadedEdits,
    offset: Option<obscura_core::Timestamp>,
) -> anyhow::Result<obscura_pipeline::ReviewEdits> {
    let masks = l
        .edits
        .manual_masks()
        .map_err(|reason| obscura_review::Error::Edits {
            path: l.path.clone(),
            reason,
        })?;
    let shift = |at: obscura_pipeline::KeepAt| match offset {
        Some(o) => at.in_window(o),
        None => Some(at),
    };
    let identity = l
        .edits
        .identity_edits()
        .into_iter()
        .filter_map(|e| match e {
            obscura_pipeline::IdentityEdit::Split { person } => {
                shift(person).map(|person| obscura_pipeline::IdentityEdit::Split { person })
            }
            obscura_pipeline::IdentityEdit::Merge { people } => {
                let people: Vec<_> = people.into_iter().filter_map(shift).collect();
                (people.len() >= 2).then_some(obscura_pipeline::IdentityEdit::Merge { people })
            }
        })
        .collect();
    Ok(obscura_pipeline::ReviewEdits {
        masks: offset.map_or_else(|| masks.clone(), |o| masks.shifted(o)),
        identity,
    })
}

/// Appends the review record of a redaction with `l` to the audit log.
pub fn audit_review(
    log: Option<&std::path::Path>,
    l: &LoadedEdits,
    input: &std::path::Path,
    output: &std::path::Path,
) -> anyhow::Result<obscura_audit::Record> {
    let name = |p: &std::path::Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let mut e = obscura_audit::Entry::new(
        obscura_audit::Action::Review,
        "ok: edits applied by obscura redact",
    );
    e.operator = Some(l.edits.reviewer.clone());
    let mut detail = l.record();
    detail["input"] = serde_json::json!(name(input));
    detail["output"] = serde_json::json!(name(output));
    e.detail = detail;
    crate::cmd_audit::append(log, e)
}
