//! The private work folder of one export and the sweep of those left by dead processes.

use std::path::{Path, PathBuf};

use obscura_core::atomic::EphemeralDir;

use crate::Error;

/// A private folder `.obscura-tmp-PID-export-RANDOM` (mode 0700) for one export's
/// intermediates (the unredacted window cut, the redacted clips before sealing). It is an
/// [`EphemeralDir`]: files committed into it are never named on disk (Linux: open unnamed
/// files reached through links to `/proc/PID/fd/N`), so no plaintext intermediate outlives
/// the process, even on `kill -9`; the empty folder of dangling links a killed process leaves
/// is removed by [`sweep_stale`] on the next run. Dropped, it closes the files and goes.
#[derive(Debug)]
pub struct WorkDir {
    dir: EphemeralDir,
}

impl WorkDir {
    /// Creates a fresh work folder inside `parent` (which must exist).
    pub fn create(parent: &Path) -> Result<Self, Error> {
        let dir = EphemeralDir::create(parent, "export").map_err(|e| Error::io(parent, e))?;
        Ok(WorkDir { dir })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Removes the temporary files and folders (names starting with
/// [`TEMP_PREFIX`](obscura_core::atomic::TEMP_PREFIX)) in `dir`
/// that no live process holds (decided by their owners' locks, not by process ids: see
/// [`obscura_core::atomic::sweep_stale_temps`]). A missing `dir` has nothing to sweep.
/// Returns what was removed.
pub fn sweep_stale(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    match obscura_core::atomic::sweep_stale_temps(dir) {
        Ok(removed) => Ok(removed),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::io(dir, e)),
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use obscura_core::atomic::TEMP_PREFIX;

    use super::*;

    #[test]
    fn work_dir_is_removed_on_drop_and_stale_ones_are_swept() {
        let d = tempfile::tempdir().unwrap();
        let w = WorkDir::create(d.path()).unwrap();
        obscura_core::atomic::write_atomically(w.path().join("clip.mp4"), b"plain").unwrap();
        assert_eq!(fs::read(w.path().join("clip.mp4")).unwrap(), b"plain");
        assert!(
            w.path()
                .join("clip.mp4")
                .symlink_metadata()
                .unwrap()
                .file_type()
                .is_symlink()
        );
        let p = w.path().to_path_buf();
        drop(w);
        assert!(!p.exists());
        let dead_dir = d.path().join(format!("{TEMP_PREFIX}999999999-export-0"));
        fs::create_dir(&dead_dir).unwrap();
        fs::write(dead_dir.join("x.mp4"), b"x").unwrap();
        let dead_file = d.path().join(format!("{TEMP_PREFIX}999999998-0-out.obx"));
        fs::write(&dead_file, b"x").unwrap();
        let live = WorkDir::create(d.path()).unwrap();
        fs::write(d.path().join("keep.obx"), b"k").unwrap();
        let mut removed = sweep_stale(d.path()).unwrap();
        removed.sort();
        let mut want = vec![dead_dir, dead_file];
        want.sort();
        assert_eq!(removed, want);
        assert!(live.path().exists() && d.path().join("keep.obx").exists());
    }
}
