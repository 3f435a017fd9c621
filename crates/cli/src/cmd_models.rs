//! `obscura models`: fetch and list the sha256-pinned models.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use obscura_detect::models::{MODEL_MIRROR_ENV, ModelStore, default_model_dir};

use crate::Outcome;

/// Model store commands.
#[derive(Subcommand, Debug)]
pub enum ModelsCommand {
    /// Download (or copy from a mirror folder) every model and verify its sha256.
    Fetch {
        /// Folder holding the model files (default: $OBSCURA_MODEL_DIR, else the built-in one).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Copy from this local folder instead of downloading (default: $OBSCURA_MODEL_MIRROR).
        #[arg(long)]
        mirror: Option<PathBuf>,
    },
    /// List the registered models, their licence and whether the file is present and verified.
    List {
        /// Folder holding the model files.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

/// Runs a models subcommand.
pub fn run(cmd: ModelsCommand, _quiet: bool) -> anyhow::Result<Outcome> {
    match cmd {
        ModelsCommand::Fetch { dir, mirror } => {
            let store = ModelStore::new(dir.unwrap_or_else(default_model_dir))?;
            let mirror = mirror.or_else(|| std::env::var_os(MODEL_MIRROR_ENV).map(PathBuf::from));
            for line in store
                .fetch_all(mirror.as_deref())
                .context("fetching models")?
            {
                println!("{line}");
            }
            println!("models are in {}", store.dir().display());
            Ok(Outcome::Ok)
        }
        ModelsCommand::List { dir } => {
            let store = ModelStore::new(dir.unwrap_or_else(default_model_dir))?;
            let mut all_ok = true;
            for e in store.entries() {
                let state = match store.path(&e.name) {
                    Ok(_) => "ok".to_string(),
                    Err(err) => {
                        all_ok = false;
                        err.to_string()
                    }
                };
                println!(
                    "{:<18} {:<7} {:<11} {}  [{state}]",
                    e.name, e.task, e.licence, e.sha256
                );
            }
            Ok(if all_ok {
                Outcome::Ok
            } else {
                Outcome::Findings
            })
        }
    }
}
