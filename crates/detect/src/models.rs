//! The sha256-pinned model store: `models/models.toml` lists each model; files are fetched
//! by URL (with `curl`, at set-up time only) or copied from a local mirror folder, and any
//! file whose sha256 differs from the pinned one is refused.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::Error;

/// Environment variable naming the folder that holds the model files.
pub const MODEL_DIR_ENV: &str = "OBSCURA_MODEL_DIR";
/// Environment variable naming a local mirror folder to copy models from (air-gapped sites).
pub const MODEL_MIRROR_ENV: &str = "OBSCURA_MODEL_MIRROR";

/// One model of the registry, as listed in `models.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelEntry {
    /// Short name used by code and manifests (`yolox_nano_416`).
    pub name: String,
    /// File name inside the model folder.
    pub file: String,
    /// What it detects or computes (`person`, `face`, `reid`).
    pub task: String,
    /// Upstream download address, pinned to a commit (empty for a derived model).
    #[serde(default)]
    pub url: String,
    /// Expected sha256 of the file, lower-case hex.
    pub sha256: String,
    /// Licence of the weights.
    pub licence: String,
    /// Where the weights come from, in words.
    #[serde(default)]
    pub source: String,
    /// The model this one is made from, for a derived model (a reproducible conversion
    /// such as a quantization): a registry name, or an upstream package (`npm:NAME@VERSION`).
    /// It has no `url`.
    #[serde(default)]
    pub derived_from: Option<String>,
    /// How a derived model is made, in words (the script and its inputs).
    #[serde(default)]
    pub recipe: Option<String>,
    /// What the model expects as input, described as data.
    #[serde(default)]
    pub input: toml::Table,
}

#[derive(Deserialize)]
struct Registry {
    model: Vec<ModelEntry>,
}

/// The registry of models and the folder that holds their files.
#[derive(Debug, Clone)]
pub struct ModelStore {
    dir: PathBuf,
    entries: Vec<ModelEntry>,
}

/// The registry compiled into the binary (`models/models.toml` of the source tree).
pub const BUILTIN_REGISTRY: &str = include_str!("../../../models/models.toml");

impl ModelStore {
    /// A store over `dir` with the built-in registry.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, Error> {
        Self::with_registry(dir, BUILTIN_REGISTRY)
    }

    /// A store over `dir` with a registry given as TOML text (partners add models here).
    pub fn with_registry(dir: impl Into<PathBuf>, registry_toml: &str) -> Result<Self, Error> {
        let reg: Registry = toml::from_str(registry_toml).map_err(|e| Error::Model {
            name: "models.toml".into(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            dir: dir.into(),
            entries: reg.model,
        })
    }

    /// The default store: `$OBSCURA_MODEL_DIR`, else `models/` beside the executable (an
    /// installed copy), else the source tree's `models/` folder compiled in at build time.
    pub fn discover() -> Result<Self, Error> {
        Self::new(default_model_dir())
    }

    /// The folder holding the model files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// All registered models.
    pub fn entries(&self) -> &[ModelEntry] {
        &self.entries
    }

    /// The entry named `name`.
    pub fn entry(&self, name: &str) -> Result<&ModelEntry, Error> {
        self.entries
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| Error::Model {
                name: name.into(),
                reason: "not listed in models.toml".into(),
            })
    }

    /// The verified path of model `name`: present and matching its pinned sha256.
    pub fn path(&self, name: &str) -> Result<PathBuf, Error> {
        let (entry, path) = self.located(name)?;
        verify_sha256(&path, &entry.sha256).map_err(|reason| Error::Model {
            name: name.into(),
            reason,
        })?;
        Ok(path)
    }

    /// The bytes of model `name`, read once and checked against its pinned sha256 (the bytes
    /// checked are the bytes returned: nothing can swap the file in between).
    pub fn read(&self, name: &str) -> Result<Vec<u8>, Error> {
        let (entry, path) = self.located(name)?;
        let fail = |reason: String| Error::Model {
            name: name.into(),
            reason,
        };
        let bytes = fs::read(&path).map_err(|e| fail(format!("{}: {e}", path.display())))?;
        expect_sha256(
            &path,
            &obscura_core::digest::sha256_hex(&bytes),
            &entry.sha256,
        )
        .map_err(fail)?;
        Ok(bytes)
    }

    fn located(&self, name: &str) -> Result<(&ModelEntry, PathBuf), Error> {
        let entry = self.entry(name)?;
        let path = self.dir.join(&entry.file);
        if !path.is_file() {
            let how = match &entry.derived_from {
                Some(_) => format!(
                    "run `scripts/derive-models.sh` after `obscura models fetch` (or set {MODEL_MIRROR_ENV} to a folder holding it)"
                ),
                None => format!("run `obscura models fetch` (or set {MODEL_MIRROR_ENV})"),
            };
            return Err(Error::Model {
                name: name.into(),
                reason: format!("{} is missing; {how}", path.display()),
            });
        }
        Ok((entry, path))
    }

    /// Makes every model present and verified: keeps a file whose hash matches, otherwise
    /// copies it from `mirror` (when given) or downloads its URL with `curl`. A derived model
    /// (no URL) is copied from a mirror that holds it, else left to `scripts/derive-models.sh`
    /// and said so. A file whose hash does not match is never installed. Returns one line per
    /// model saying what was done.
    pub fn fetch_all(&self, mirror: Option<&Path>) -> Result<Vec<String>, Error> {
        fs::create_dir_all(&self.dir).map_err(|e| Error::Model {
            name: "model folder".into(),
            reason: format!("{}: {e}", self.dir.display()),
        })?;
        let mut report = Vec::new();
        for entry in &self.entries {
            let dest = self.dir.join(&entry.file);
            if dest.is_file() && verify_sha256(&dest, &entry.sha256).is_ok() {
                report.push(format!("{}: present, sha256 ok", entry.name));
                continue;
            }
            let fail = |reason: String| Error::Model {
                name: entry.name.clone(),
                reason,
            };
            if let Some(base) = &entry.derived_from
                && !mirror.is_some_and(|m| m.join(&entry.file).is_file())
            {
                report.push(format!(
                    "{}: not present; made from {base} by scripts/derive-models.sh",
                    entry.name
                ));
                continue;
            }
            let pending =
                obscura_core::atomic::PendingFile::new(&dest).map_err(|e| fail(e.to_string()))?;
            let how = match mirror {
                Some(m) => {
                    let src = m.join(&entry.file);
                    fs::copy(&src, pending.temp_path()).map_err(|e| {
                        fail(format!("cannot copy {} from mirror: {e}", src.display()))
                    })?;
                    format!("copied from {}", m.display())
                }
                None => {
                    let status = Command::new("curl")
                        .args(["-fsSL", "--retry", "3", "-o"])
                        .arg(pending.temp_path())
                        .arg(&entry.url)
                        .status()
                        .map_err(|e| fail(format!("cannot run curl: {e}")))?;
                    if !status.success() {
                        return Err(fail(format!("download of {} failed ({status})", entry.url)));
                    }
                    format!("downloaded from {}", entry.url)
                }
            };
            verify_sha256(pending.temp_path(), &entry.sha256).map_err(fail)?;
            pending.commit().map_err(|e| fail(e.to_string()))?;
            report.push(format!("{}: {how}, sha256 ok", entry.name));
        }
        Ok(report)
    }
}

/// The model folder used when none is given: `$OBSCURA_MODEL_DIR`, else `models/` beside
/// the executable if it exists, else the source tree's `models/` compiled in.
pub fn default_model_dir() -> PathBuf {
    if let Some(d) = std::env::var_os(MODEL_DIR_ENV) {
        return PathBuf::from(d);
    }
    if let Some(beside) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(|p| p.join("models")))
        && beside.is_dir()
    {
        return beside;
    }
    PathBuf::from(option_env!("OBSCURA_MODEL_DIR_DEFAULT").unwrap_or("models"))
}

/// sha256 of a regular file as lowercase hex, streamed (see
/// [`obscura_core::digest::sha256_file`]).
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    obscura_core::digest::sha256_file_hex(path)
}

fn verify_sha256(path: &Path, expected: &str) -> Result<(), String> {
    let got = sha256_file(path).map_err(|e| format!("{}: {e}", path.display()))?;
    expect_sha256(path, &got, expected)
}

fn expect_sha256(path: &Path, got: &str, expected: &str) -> Result<(), String> {
    if got != expected {
        return Err(format!(
            "{} has sha256 {got}, expected {expected}: refusing it",
            path.display()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const REG: &str = r#"
[[model]]
name = "tiny"
file = "tiny.bin"
task = "test"
url = "http://127.0.0.1:9/never"
sha256 = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
licence = "CC0"
"#;

    #[test]
    fn builtin_registry_lists_five_pinned_models() {
        let s = ModelStore::new("unused").unwrap();
        let names: Vec<_> = s.entries().iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "yolox_nano_416",
                "yolox_nano_int8",
                "yunet_n_dynamic",
                "person_reid_0248",
                "pose_seg_lite"
            ]
        );
        assert!(
            s.entries()
                .iter()
                .all(|e| e.sha256.len() == 64 && !e.licence.is_empty())
        );
        // Every model has a download address, or is made from a listed one by a recipe.
        for e in s.entries() {
            match &e.derived_from {
                None => assert!(e.url.starts_with("https://"), "{}", e.name),
                Some(base) => {
                    assert!(e.url.is_empty() && e.recipe.is_some(), "{}", e.name);
                    // A registry model, or an upstream package (`npm:NAME@VERSION`).
                    if !base.starts_with("npm:") {
                        s.entry(base).unwrap();
                    }
                }
            }
        }
    }

    #[test]
    fn mirror_copy_is_verified_and_mismatch_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (mirror, store_dir) = (dir.path().join("mirror"), dir.path().join("store"));
        fs::create_dir_all(&mirror).unwrap();
        let store = ModelStore::with_registry(&store_dir, REG).unwrap();

        fs::write(mirror.join("tiny.bin"), b"hellx").unwrap();
        let err = store.fetch_all(Some(&mirror)).unwrap_err().to_string();
        assert!(err.contains("expected 2cf24dba"), "{err}");
        assert!(
            !store_dir.join("tiny.bin").exists(),
            "a mismatching file must not be installed"
        );
        assert_eq!(
            fs::read_dir(&store_dir).unwrap().count(),
            0,
            "no temp file left"
        );

        fs::write(mirror.join("tiny.bin"), b"hello").unwrap();
        store.fetch_all(Some(&mirror)).unwrap();
        assert!(store.path("tiny").is_ok());
        // Safe to run twice: the present file is kept.
        assert!(store.fetch_all(None).unwrap()[0].contains("present"));

        fs::write(store_dir.join("tiny.bin"), b"tampered").unwrap();
        assert!(
            store
                .path("tiny")
                .unwrap_err()
                .to_string()
                .contains("refusing")
        );
    }

    #[test]
    fn derived_model_is_copied_from_a_mirror_or_left_to_its_recipe() {
        let reg = format!(
            "{REG}\n[[model]]\nname = \"tiny_q\"\nfile = \"tiny_q.bin\"\ntask = \"test\"\nderived_from = \"tiny\"\nrecipe = \"a script\"\nsha256 = \"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\"\nlicence = \"CC0\"\n"
        );
        let dir = tempfile::tempdir().unwrap();
        let (mirror, store_dir) = (dir.path().join("mirror"), dir.path().join("store"));
        fs::create_dir_all(&mirror).unwrap();
        fs::write(mirror.join("tiny.bin"), b"hello").unwrap();
        let store = ModelStore::with_registry(&store_dir, &reg).unwrap();
        let lines = store.fetch_all(Some(&mirror)).unwrap();
        assert!(
            lines[1].contains("made from tiny by scripts/derive-models.sh"),
            "{lines:?}"
        );
        let err = store.path("tiny_q").unwrap_err().to_string();
        assert!(err.contains("derive-models.sh"), "{err}");

        fs::write(mirror.join("tiny_q.bin"), b"hello").unwrap();
        let lines = store.fetch_all(Some(&mirror)).unwrap();
        assert!(lines[1].contains("copied from"), "{lines:?}");
        assert!(store.path("tiny_q").is_ok());
    }
}
