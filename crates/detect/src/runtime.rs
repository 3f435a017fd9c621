//! Finding and loading the ONNX Runtime shared library, once per process.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use crate::Error;

/// Environment variable naming `libonnxruntime.so` (checked before `ORT_DYLIB_PATH`).
pub const ORT_LIB_ENV: &str = "OBSCURA_ORT_LIB";
/// The `ort` crate's own variable, used as a fallback.
pub const ORT_DYLIB_ENV: &str = "ORT_DYLIB_PATH";
/// The system-wide install location, tried last.
pub const SYSTEM_LIB: &str = "/usr/local/lib/obscura/libonnxruntime.so";

struct Loaded {
    path: PathBuf,
    env: ort::environment::Environment,
}

static LOADED: OnceLock<Loaded> = OnceLock::new();
static INIT_LOCK: Mutex<()> = Mutex::new(());

/// Where the library may be, in the order tried: `(where the candidate came from, path)`.
/// An explicit path (the `--ort-lib` flag) comes first, then `$OBSCURA_ORT_LIB`,
/// `$ORT_DYLIB_PATH`, `<exe dir>/lib/libonnxruntime.so`, the path compiled in from
/// `OBSCURA_ORT_LIB_DEFAULT`, and [`SYSTEM_LIB`].
pub fn candidates(explicit: Option<&Path>) -> Vec<(&'static str, PathBuf)> {
    let mut c = Vec::new();
    if let Some(p) = explicit {
        c.push(("--ort-lib", p.to_path_buf()));
    }
    if let Some(p) = std::env::var_os(ORT_LIB_ENV) {
        c.push((ORT_LIB_ENV, PathBuf::from(p)));
    }
    if let Some(p) = std::env::var_os(ORT_DYLIB_ENV) {
        c.push((ORT_DYLIB_ENV, PathBuf::from(p)));
    }
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        c.push((
            "beside the executable",
            dir.join("lib").join("libonnxruntime.so"),
        ));
    }
    if let Some(p) = option_env!("OBSCURA_ORT_LIB_DEFAULT") {
        c.push(("build default", PathBuf::from(p)));
    }
    c.push(("system", PathBuf::from(SYSTEM_LIB)));
    c
}

/// Loads ONNX Runtime once per process and returns the path it was loaded from. Later calls
/// return the same path (whatever they pass). An explicit path that does not exist is an
/// error (no silent fallback); otherwise the first existing candidate of [`candidates`] is
/// used, and the error names every path tried when none exists.
pub fn init(explicit: Option<&Path>) -> Result<PathBuf, Error> {
    if let Some(l) = LOADED.get() {
        return Ok(l.path.clone());
    }
    let _guard = INIT_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(l) = LOADED.get() {
        return Ok(l.path.clone());
    }
    if let Some(p) = explicit.filter(|p| !p.is_file()) {
        return Err(Error::Runtime {
            reason: format!("--ort-lib {} does not exist", p.display()),
        });
    }
    let tried = candidates(explicit);
    let Some((_, path)) = tried.iter().find(|(_, p)| p.is_file()) else {
        let list: Vec<String> = tried
            .iter()
            .map(|(w, p)| format!("{} ({w})", p.display()))
            .collect();
        return Err(Error::Runtime {
            reason: format!(
                "libonnxruntime.so not found; tried {}. Pass --ort-lib PATH or set {ORT_LIB_ENV}",
                list.join(", ")
            ),
        });
    };
    let path = path.clone();
    let builder = ort::init_from(&path).map_err(|e| Error::Runtime {
        reason: format!("cannot load {}: {e}", path.display()),
    })?;
    let env = builder
        .with_name("obscura")
        .build()
        .map_err(|e| Error::Runtime {
            reason: format!("cannot create environment from {}: {e}", path.display()),
        })?;
    let _ = LOADED.set(Loaded {
        path: path.clone(),
        env,
    });
    Ok(path)
}

/// The process-wide ONNX Runtime environment, initialising with [`init`]`(None)` if needed.
pub fn environment() -> Result<ort::environment::Environment, Error> {
    init(None)?;
    Ok(LOADED.get().expect("initialised above").env.clone())
}

/// The path the library was loaded from, if [`init`] succeeded.
pub fn loaded_path() -> Option<PathBuf> {
    LOADED.get().map(|l| l.path.clone())
}

/// The loaded ONNX Runtime's build information (its version branch, commit and flags), after
/// [`init`].
pub fn build_info() -> &'static str {
    ort::info()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_path_comes_first_and_system_last() {
        let c = candidates(Some(Path::new("/x/libonnxruntime.so")));
        assert_eq!(c[0], ("--ort-lib", PathBuf::from("/x/libonnxruntime.so")));
        assert_eq!(c.last().unwrap().1, PathBuf::from(SYSTEM_LIB));
        assert!(c.iter().any(|(w, _)| *w == "beside the executable"));
    }

    #[test]
    fn missing_explicit_path_is_a_clear_error_unless_already_loaded() {
        match init(Some(Path::new("/nonexistent/libonnxruntime.so"))) {
            Err(e) => assert!(
                e.to_string().contains("/nonexistent/libonnxruntime.so"),
                "{e}"
            ),
            // Another test of this process loaded the library first: init is idempotent.
            Ok(p) => assert_eq!(Some(p), loaded_path()),
        }
    }
}
