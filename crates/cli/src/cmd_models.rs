//! `obscura models`: fetch and list the sha256-pinned models.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use obscura_detect::models::{MODEL_MIRROR_ENV, ModelStore, default_model_dir};

use crate::Outcome;

/// Model store commands.
#[derive(Subcommand, Debug)]
pub enum ModelsCommand {
    /// Download (or copy from a mirror folder) every model and verify its sha256.
    Fetch {
        /// Where the model files are.
        #[command(flatten)]
        store: ModelDirArgs,
        /// Copy from this local folder instead of downloading (default: $OBSCURA_MODEL_MIRROR).
        #[arg(long, value_name = "DIR")]
        mirror: Option<PathBuf>,
        /// Print one JSON document on standard output (format `obscura-models-fetch/1`,
        /// docs/JSON.md).
        #[arg(long)]
        json: bool,
    },
    /// List the registered models, their licence and whether the file is present and verified.
    List {
        /// Where the model files are.
        #[command(flatten)]
        store: ModelDirArgs,
        /// Print one JSON document on standard output (format `obscura-models-list/1`,
        /// docs/JSON.md).
        #[arg(long)]
        json: bool,
    },
}

/// The model folder flag, spelled as in every other command.
#[derive(Args, Debug)]
pub struct ModelDirArgs {
    /// Folder holding the model files (default: $OBSCURA_MODEL_DIR, else the built-in one).
    /// `--dir` is an older spelling.
    #[arg(long, alias = "dir", value_name = "DIR")]
    pub models: Option<PathBuf>,
}

impl ModelDirArgs {
    fn store(&self) -> anyhow::Result<ModelStore> {
        Ok(ModelStore::new(
            self.models.clone().unwrap_or_else(default_model_dir),
        )?)
    }
}

/// Runs a models subcommand.
pub fn run(cmd: ModelsCommand, _quiet: bool) -> anyhow::Result<Outcome> {
    match cmd {
        ModelsCommand::Fetch {
            store,
            mirror,
            json,
        } => {
            let store = store.store()?;
            let mirror = mirror.or_else(|| std::env::var_os(MODEL_MIRROR_ENV).map(PathBuf::from));
            let lines = store
                .fetch_all(mirror.as_deref())
                .context("fetching models")?;
            if json {
                crate::output::print_json(
                    "models-fetch",
                    &serde_json::json!({
                        "dir": store.dir().display().to_string(),
                        "mirror": mirror.as_ref().map(|m| m.display().to_string()),
                        "messages": lines,
                    }),
                )?;
                return Ok(Outcome::Ok);
            }
            for line in lines {
                println!("{line}");
            }
            println!("models are in {}", store.dir().display());
            Ok(Outcome::Ok)
        }
        ModelsCommand::List { store, json } => {
            let store = store.store()?;
            let mut all_ok = true;
            let mut rows = Vec::new();
            for e in store.entries() {
                let problem = match store.path(&e.name) {
                    Ok(_) => None,
                    Err(err) => {
                        all_ok = false;
                        Some(err.to_string())
                    }
                };
                if json {
                    rows.push(serde_json::json!({
                        "name": e.name,
                        "task": e.task,
                        "licence": e.licence,
                        "sha256": e.sha256,
                        "ok": problem.is_none(),
                        "problem": problem,
                    }));
                } else {
                    println!(
                        "{:<18} {:<7} {:<11} {}  [{}]",
                        e.name,
                        e.task,
                        e.licence,
                        e.sha256,
                        problem.as_deref().unwrap_or("ok")
                    );
                }
            }
            if json {
                crate::output::print_json(
                    "models-list",
                    &serde_json::json!({
                        "dir": store.dir().display().to_string(),
                        "all_ok": all_ok,
                        "models": rows,
                    }),
                )?;
            }
            Ok(if all_ok {
                Outcome::Ok
            } else {
                Outcome::Findings
            })
        }
    }
}
