//! The private work folder of one export and the sweep of those left by dead processes.

use std::fs;
use std::path::{Path, PathBuf};

use obscura_core::atomic::{EphemeralDir, TEMP_PREFIX};

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

fn pid_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if Path::new("/proc/self").exists() {
        return Path::new(&format!("/proc/{pid}")).exists();
    }
    true // cannot tell: keep it
}

/// Removes the temporary files and folders (names starting with [`TEMP_PREFIX`] followed by
/// a process id) in `dir` whose process no longer runs (checked through `/proc`; elsewhere
/// nothing is removed). Returns what was removed.
pub fn sweep_stale(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut removed = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(removed),
        Err(e) => return Err(Error::io(dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(TEMP_PREFIX) else { continue };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else { continue };
        if pid_alive(pid) {
            continue;
        }
        let p = entry.path();
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        let ok = if is_dir { fs::remove_dir_all(&p).is_ok() } else { fs::remove_file(&p).is_ok() };
        if ok {
            removed.push(p);
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_dir_is_removed_on_drop_and_stale_ones_are_swept() {
        let d = tempfile::tempdir().unwrap();
        let w = WorkDir::create(d.path()).unwrap();
        obscura_core::atomic::write_atomically(w.path().join("clip.mp4"), b"plain").unwrap();
        assert_eq!(fs::read(w.path().join("clip.mp4")).unwrap(), b"plain");
        assert!(w.path().join("clip.mp4").symlink_metadata().unwrap().file_type().is_symlink());
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
