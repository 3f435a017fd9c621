//! Test helpers for Obscura (not published): locating the shared footage and models, and
//! (in [`clips`]) synthetic clips rendered at test time.
#![deny(missing_docs)]

use std::path::PathBuf;

pub mod clips;

/// The folder with shared test data: `$OBSCURA_SHARED_DIR`, else `../shared` beside the
/// workspace root.
pub fn shared_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("OBSCURA_SHARED_DIR") {
        return PathBuf::from(d);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

/// Whether the tests run under CI (`CI=true`), where missing shared data is a failure.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The audit log the CLI tests that have no folder of their own give `obscura` (through
/// `OBSCURA_AUDIT_LOG`), so that test runs never write into the user's own log: one file in
/// the system temporary folder, shared by every test process (appends are locked).
pub fn scratch_audit_log() -> PathBuf {
    std::env::temp_dir().join("obscura-cli-tests-audit.jsonl")
}

/// The path of `relative` inside the shared data folder, or `None` (after printing why the
/// test is skipped) when it is absent. Under CI a missing file panics instead.
pub fn shared_file(relative: &str) -> Option<PathBuf> {
    let p = shared_dir().join(relative);
    if p.is_file() {
        return Some(p);
    }
    if under_ci() {
        panic!("CI=true but shared test data {} is missing", p.display());
    }
    eprintln!(
        "SKIP: shared test data {} is absent (set OBSCURA_SHARED_DIR)",
        p.display()
    );
    None
}

/// The verified path of an installed model (from the model folder the set-up fetched), or
/// `None` with a skip message when it is absent. Under CI a missing model panics.
pub fn model_file(file_name: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("OBSCURA_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models"));
    let p = dir.join(file_name);
    if p.is_file() {
        return Some(p);
    }
    if under_ci() {
        panic!(
            "CI=true but model {} is missing (run `obscura models fetch`)",
            p.display()
        );
    }
    eprintln!(
        "SKIP: model {} is absent (run `obscura models fetch`)",
        p.display()
    );
    None
}
