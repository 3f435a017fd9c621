//! Crash-safe output files: write to a temporary sibling, fsync, rename, fsync the folder.
//!
//! A process killed half-way leaves only a temporary file whose name starts with
//! [`TEMP_PREFIX`] and carries the writer's process id; [`sweep_stale_temps`] removes those
//! of processes that no longer run, so partial plaintext does not outlive the next run.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Prefix of every temporary file Obscura writes.
pub const TEMP_PREFIX: &str = ".obscura-tmp-";

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// An output that becomes visible at its final path only on [`PendingFile::commit`].
/// Dropped without commit, the temporary file is removed.
#[derive(Debug)]
pub struct PendingFile {
    temp: PathBuf,
    dest: PathBuf,
    committed: bool,
}

impl PendingFile {
    /// Reserves a temporary path beside `dest` (same folder, so the rename is atomic).
    /// Fails when the folder does not exist or `dest` is an existing folder.
    pub fn new(dest: impl AsRef<Path>) -> io::Result<Self> {
        let dest = dest.as_ref().to_path_buf();
        if dest.is_dir() {
            return Err(io::Error::new(io::ErrorKind::IsADirectory, format!("{} is a folder", dest.display())));
        }
        let dir = parent_dir(&dest);
        if !dir.is_dir() {
            return Err(io::Error::new(io::ErrorKind::NotFound, format!("folder {} does not exist", dir.display())));
        }
        let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp = dir.join(format!("{TEMP_PREFIX}{}-{n}-{name}", std::process::id()));
        Ok(Self { temp, dest, committed: false })
    }

    /// Where to write now (for writers that need a path, such as FFmpeg's muxer).
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// The final path.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Creates (truncates) the temporary file for writing, mode 0600 on Unix.
    pub fn create(&self) -> io::Result<File> {
        let mut opts = OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        opts.open(&self.temp)
    }

    /// Flushes the temporary file to disk, renames it over the final path and syncs the
    /// folder, so the output is either complete or absent after a crash.
    pub fn commit(mut self) -> io::Result<PathBuf> {
        File::open(&self.temp)?.sync_all()?;
        fs::rename(&self.temp, &self.dest)?;
        self.committed = true;
        if let Ok(d) = File::open(parent_dir(&self.dest)) {
            let _ = d.sync_all();
        }
        Ok(self.dest.clone())
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// Writes `bytes` to `dest` atomically (see [`PendingFile`]).
pub fn write_atomically(dest: impl AsRef<Path>, bytes: &[u8]) -> io::Result<PathBuf> {
    use io::Write;
    let pending = PendingFile::new(dest)?;
    let mut f = pending.create()?;
    f.write_all(bytes)?;
    drop(f);
    pending.commit()
}

fn parent_dir(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Removes temporary files in `dir` left by Obscura processes that no longer run (Linux:
/// checked through `/proc`; elsewhere only files older than a day). Returns what it removed.
pub fn sweep_stale_temps(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(TEMP_PREFIX) else { continue };
        let pid: Option<u32> = rest.split('-').next().and_then(|p| p.parse().ok());
        let alive = match pid {
            Some(pid) if pid == std::process::id() => true,
            Some(pid) if Path::new("/proc/self").exists() => Path::new(&format!("/proc/{pid}")).exists(),
            _ => entry
                .metadata()
                .and_then(|m| m.modified())
                .map(|t| t.elapsed().map(|e| e.as_secs() < 86_400).unwrap_or(true))
                .unwrap_or(true),
        };
        if !alive && fs::remove_file(entry.path()).is_ok() {
            removed.push(entry.path());
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("obscura-core-atomic-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn uncommitted_output_leaves_nothing() {
        let d = scratch("drop");
        let p = PendingFile::new(d.join("out.bin")).unwrap();
        fs::write(p.temp_path(), b"partial").unwrap();
        drop(p);
        assert_eq!(fs::read_dir(&d).unwrap().count(), 0);
    }

    #[test]
    fn commit_replaces_destination_whole() {
        let d = scratch("commit");
        fs::write(d.join("out.bin"), b"old").unwrap();
        write_atomically(d.join("out.bin"), b"new contents").unwrap();
        assert_eq!(fs::read(d.join("out.bin")).unwrap(), b"new contents");
        assert_eq!(fs::read_dir(&d).unwrap().count(), 1);
    }

    #[test]
    fn sweep_removes_temps_of_dead_processes_only() {
        let d = scratch("sweep");
        let dead = d.join(format!("{TEMP_PREFIX}999999999-0-x.mp4"));
        let mine = d.join(format!("{TEMP_PREFIX}{}-0-y.mp4", std::process::id()));
        fs::write(&dead, b"x").unwrap();
        fs::write(&mine, b"y").unwrap();
        fs::write(d.join("keep.mp4"), b"z").unwrap();
        let removed = sweep_stale_temps(&d).unwrap();
        assert_eq!(removed, vec![dead]);
        assert!(mine.exists() && d.join("keep.mp4").exists());
    }
}
