//! Crash-safe output files that never follow a symlink and never leave partial plaintext.
//!
//! [`PendingFile`] writes into an **unnamed** file (Linux `O_TMPFILE`) created inside the
//! destination folder, so a process killed at any moment leaves nothing behind: the kernel
//! frees a file without a name when its last descriptor closes. Writers that need a path
//! (FFmpeg's muxer, a child process) get `/proc/PID/fd/N`, which reopens that same file.
//! On commit the file is given its name with `linkat`, relative to a descriptor of the
//! destination folder, so no symlink in place of the output is ever followed:
//! [`PendingFile::commit_new`] never replaces an existing entry (the kernel refuses an
//! existing name atomically, there is no check-then-rename race), [`PendingFile::commit`]
//! replaces one (the symlink itself, never its target).
//!
//! Where `O_TMPFILE` is not available (a file system without it, no `/proc`) the temporary
//! is a named file `.obscura-tmp-PID-RANDOM` created with `O_CREAT|O_EXCL|O_NOFOLLOW`
//! (mode 0600, a random name well within NAME_MAX); [`sweep_stale_temps`] removes those of
//! processes that no longer run.
//!
//! **Which temporaries are stale** is decided by locks, not process ids: every temporary
//! Obscura names (a file, or an [`EphemeralDir`]) is held under an exclusive `flock` by the
//! value that owns it, taken before anyone else can see it as unlocked (an unnamed file is
//! locked before it gets a name; a named one is checked to still exist once locked). The
//! kernel drops the lock when the owner closes it or dies, so an entry whose lock can be
//! taken belongs to no live process, whatever PID namespace the writer ran in (a PID in the
//! name says nothing across containers, and PIDs are reused).
//!
//! [`EphemeralDir`] is a private (0700) work folder whose committed files never get a name
//! at all: a commit into it publishes the unnamed file as a symlink to `/proc/PID/fd/N` that
//! lives as long as the folder's value, so intermediates (e.g. the unredacted window cut of
//! an access request) are readable by path inside the process but vanish with it, even on
//! `kill -9`.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Seek};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use rustix::fs::{AtFlags, FileType, FlockOperation, Mode, OFlags, RenameFlags};

/// Prefix of every temporary file or folder Obscura names.
pub const TEMP_PREFIX: &str = ".obscura-tmp-";

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Unpredictable 64 bits (std's per-process random hasher keys, a counter and the clock);
/// names are also created with `O_EXCL`, so a guessed name only costs a retry.
fn random_u64() -> u64 {
    let mut h = std::hash::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.write_u32(std::process::id());
    h.finish()
}

/// A fresh temporary name: `.obscura-tmp-PID-<16 hex>` (34 bytes at most, whatever the
/// destination's name length).
fn temp_name(label: &str) -> String {
    format!(
        "{TEMP_PREFIX}{}-{label}{:016x}",
        std::process::id(),
        random_u64()
    )
}

fn proc_fd_path(file: &File) -> PathBuf {
    use std::os::fd::AsRawFd;
    PathBuf::from(format!(
        "/proc/{}/fd/{}",
        std::process::id(),
        file.as_raw_fd()
    ))
}

/// Files published into live [`EphemeralDir`]s, keyed by the folder's (device, inode): they
/// stay open (and so exist) until the folder's value is dropped.
static EPHEMERAL: Mutex<Vec<Published>> = Mutex::new(Vec::new());

/// A live ephemeral folder's (device, inode) and the files published into it, by name.
type Published = ((u64, u64), HashMap<OsString, File>);

fn dir_key(dir: &File) -> io::Result<(u64, u64)> {
    let st = rustix::fs::fstat(dir)?;
    Ok((st.st_dev as u64, st.st_ino as u64))
}

fn is_ephemeral(key: (u64, u64)) -> bool {
    EPHEMERAL
        .lock()
        .map(|v| v.iter().any(|(k, _)| *k == key))
        .unwrap_or(false)
}

/// Takes the owner's lock of a temporary (see the module docs) and checks the entry was not
/// swept between its creation and the lock: false when it is gone (the caller retries).
fn lock_temp(fd: &File) -> io::Result<bool> {
    rustix::fs::flock(fd, FlockOperation::LockExclusive)?;
    Ok(rustix::fs::fstat(fd)?.st_nlink > 0)
}

/// Opens a folder for `*at` calls (the folder itself may be reached through symlinks: it is
/// the caller's choice; only names created beneath it are never followed).
fn open_dir(dir: &Path) -> io::Result<File> {
    let fd = rustix::fs::open(
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| {
        let e = io::Error::from(e);
        match e.kind() {
            io::ErrorKind::NotFound => io::Error::new(
                io::ErrorKind::NotFound,
                format!("folder {} does not exist", dir.display()),
            ),
            _ => io::Error::new(e.kind(), format!("folder {}: {e}", dir.display())),
        }
    })?;
    Ok(File::from(fd))
}

/// How the temporary file is held.
#[derive(Debug)]
enum Temp {
    /// `O_TMPFILE` (or a named file unlinked at once, inside an ephemeral folder): no name.
    Unnamed,
    /// A named `.obscura-tmp-…` file in the destination folder.
    Named(OsString),
}

/// An output that becomes visible at its final path only on [`PendingFile::commit`] or
/// [`PendingFile::commit_new`]. Dropped without commit, nothing of it remains.
#[derive(Debug)]
pub struct PendingFile {
    dir: File,
    dir_key: (u64, u64),
    name: OsString,
    dest: PathBuf,
    file: File,
    temp: Temp,
    temp_path: PathBuf,
    committed: bool,
}

impl PendingFile {
    /// Creates the temporary file in `dest`'s folder (same file system, so the commit is
    /// atomic), mode 0600. Fails when the folder does not exist or `dest` is an existing
    /// folder or has no file name.
    pub fn new(dest: impl AsRef<Path>) -> io::Result<Self> {
        let dest = dest.as_ref().to_path_buf();
        let name = match dest.file_name() {
            Some(n) if !dest.as_os_str().as_bytes().ends_with(b"/") => n.to_os_string(),
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{} names no file", dest.display()),
                ));
            }
        };
        let dir_path = parent_dir(&dest);
        let dir = open_dir(&dir_path)?;
        if let Ok(st) = rustix::fs::statat(&dir, name.as_os_str(), AtFlags::SYMLINK_NOFOLLOW)
            && FileType::from_raw_mode(st.st_mode) == FileType::Directory
        {
            return Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                format!("{} is a folder", dest.display()),
            ));
        }
        let key = dir_key(&dir)?;
        let ephemeral = is_ephemeral(key);
        let (file, temp) = create_temp(&dir, ephemeral)?;
        let temp_path = match &temp {
            Temp::Unnamed => proc_fd_path(&file),
            Temp::Named(n) => dir_path.join(n),
        };
        Ok(Self {
            dir,
            dir_key: key,
            name,
            dest,
            file,
            temp,
            temp_path,
            committed: false,
        })
    }

    /// Where a writer that needs a path writes now (`/proc/PID/fd/N` for an unnamed file:
    /// valid in this process and its children while this value lives).
    pub fn temp_path(&self) -> &Path {
        &self.temp_path
    }

    /// The final path.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// The temporary file, truncated and positioned at its start, for writing.
    pub fn create(&self) -> io::Result<File> {
        let mut f = self.file.try_clone()?;
        f.set_len(0)?;
        f.rewind()?;
        Ok(f)
    }

    /// Flushes the file to disk and gives it its final name, replacing an existing entry of
    /// that name (a symlink there is replaced, never followed); syncs the folder. The output
    /// is either complete or absent after a crash.
    pub fn commit(self) -> io::Result<PathBuf> {
        self.publish(true)
    }

    /// Like [`PendingFile::commit`] but never replaces anything: fails with
    /// [`io::ErrorKind::AlreadyExists`] when the name exists (atomically, in the kernel).
    pub fn commit_new(self) -> io::Result<PathBuf> {
        self.publish(false)
    }

    fn publish(mut self, replace: bool) -> io::Result<PathBuf> {
        self.file.sync_all()?;
        if is_ephemeral(self.dir_key) && matches!(self.temp, Temp::Unnamed) {
            self.publish_ephemeral(replace)?;
        } else {
            match (&self.temp, replace) {
                (Temp::Unnamed, false) => link_proc(&self.temp_path, &self.dir, &self.name)?,
                (Temp::Unnamed, true) => {
                    let t = link_temp(&self.temp_path, &self.dir)?;
                    if let Err(e) = rustix::fs::renameat(
                        &self.dir,
                        t.as_os_str(),
                        &self.dir,
                        self.name.as_os_str(),
                    ) {
                        let _ = rustix::fs::unlinkat(&self.dir, t.as_os_str(), AtFlags::empty());
                        return Err(e.into());
                    }
                }
                (Temp::Named(t), true) => rustix::fs::renameat(
                    &self.dir,
                    t.as_os_str(),
                    &self.dir,
                    self.name.as_os_str(),
                )?,
                (Temp::Named(t), false) => rename_noreplace(&self.dir, t, &self.name)?,
            }
            let _ = self.dir.sync_all();
        }
        self.committed = true;
        Ok(self.dest.clone())
    }

    fn publish_ephemeral(&mut self, replace: bool) -> io::Result<()> {
        let file = self.file.try_clone()?;
        let target = proc_fd_path(&file);
        let mut reg = EPHEMERAL
            .lock()
            .map_err(|_| io::Error::other("ephemeral folder registry poisoned"))?;
        let Some((_, files)) = reg.iter_mut().find(|(k, _)| *k == self.dir_key) else {
            return Err(io::Error::other("ephemeral folder closed"));
        };
        match rustix::fs::symlinkat(target.as_os_str(), &self.dir, self.name.as_os_str()) {
            Ok(()) => {}
            Err(rustix::io::Errno::EXIST) if replace => {
                rustix::fs::unlinkat(&self.dir, self.name.as_os_str(), AtFlags::empty())?;
                rustix::fs::symlinkat(target.as_os_str(), &self.dir, self.name.as_os_str())?;
            }
            Err(e) => return Err(e.into()),
        }
        files.insert(self.name.clone(), file);
        Ok(())
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if !self.committed
            && let Temp::Named(n) = &self.temp
        {
            let _ = rustix::fs::unlinkat(&self.dir, n.as_os_str(), AtFlags::empty());
        }
    }
}

/// The temporary file: `O_TMPFILE` where the kernel and file system have it, else a named
/// `O_EXCL|O_NOFOLLOW` file (unlinked at once inside an ephemeral folder).
fn create_temp(dir: &File, ephemeral: bool) -> io::Result<(File, Temp)> {
    let mode = Mode::RUSR | Mode::WUSR;
    let have_proc = Path::new("/proc/self/fd").is_dir();
    #[cfg(target_os = "linux")]
    if have_proc {
        match rustix::fs::openat(
            dir,
            ".",
            OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC,
            mode,
        ) {
            Ok(fd) => {
                // Locked before it ever has a name (`link_temp` gives it one briefly).
                rustix::fs::flock(&fd, FlockOperation::LockExclusive)?;
                return Ok((File::from(fd), Temp::Unnamed));
            }
            Err(
                rustix::io::Errno::OPNOTSUPP
                | rustix::io::Errno::ISDIR
                | rustix::io::Errno::INVAL
                | rustix::io::Errno::NOENT,
            ) => {}
            Err(e) => return Err(e.into()),
        }
    }
    for _ in 0..64 {
        let n = temp_name("");
        match rustix::fs::openat(
            dir,
            n.as_str(),
            OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::RDWR | OFlags::CLOEXEC,
            mode,
        ) {
            Ok(fd) => {
                let f = File::from(fd);
                if !lock_temp(&f)? {
                    continue; // swept before it was locked
                }
                if ephemeral && have_proc {
                    rustix::fs::unlinkat(dir, n.as_str(), AtFlags::empty())?;
                    return Ok((f, Temp::Unnamed));
                }
                return Ok((f, Temp::Named(OsString::from(n))));
            }
            Err(rustix::io::Errno::EXIST) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "no free temporary name",
    ))
}

/// Names an unnamed file (no replacing: the kernel refuses an existing name).
fn link_proc(proc_path: &Path, dir: &File, name: &OsStr) -> io::Result<()> {
    rustix::fs::linkat(
        rustix::fs::CWD,
        proc_path,
        dir,
        name,
        AtFlags::SYMLINK_FOLLOW,
    )
    .map_err(io::Error::from)
}

/// Names an unnamed file with a fresh temporary name (to be renamed over the destination).
fn link_temp(proc_path: &Path, dir: &File) -> io::Result<OsString> {
    for _ in 0..64 {
        let n = OsString::from(temp_name(""));
        match link_proc(proc_path, dir, &n) {
            Ok(()) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "no free temporary name",
    ))
}

/// `renameat2(RENAME_NOREPLACE)`, or link + unlink where the file system lacks it.
fn rename_noreplace(dir: &File, from: &OsStr, to: &OsStr) -> io::Result<()> {
    match rustix::fs::renameat_with(dir, from, dir, to, RenameFlags::NOREPLACE) {
        Ok(()) => Ok(()),
        Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS | rustix::io::Errno::OPNOTSUPP) => {
            rustix::fs::linkat(dir, from, dir, to, AtFlags::empty())?;
            let _ = rustix::fs::unlinkat(dir, from, AtFlags::empty());
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Writes `bytes` to `dest` atomically, replacing an existing file (see [`PendingFile`]).
pub fn write_atomically(dest: impl AsRef<Path>, bytes: &[u8]) -> io::Result<PathBuf> {
    use io::Write;
    let pending = PendingFile::new(dest)?;
    let mut f = pending.create()?;
    f.write_all(bytes)?;
    drop(f);
    pending.commit()
}

/// Writes `bytes` to `dest` atomically; fails with [`io::ErrorKind::AlreadyExists`] instead
/// of replacing anything.
pub fn write_new(dest: impl AsRef<Path>, bytes: &[u8]) -> io::Result<PathBuf> {
    use io::Write;
    let pending = PendingFile::new(dest)?;
    let mut f = pending.create()?;
    f.write_all(bytes)?;
    drop(f);
    pending.commit_new()
}

fn parent_dir(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A private work folder (mode 0700, named `.obscura-tmp-PID-LABEL-RANDOM`) whose files
/// exist only while this value lives. Files committed into it with [`PendingFile`] (by any
/// code in this process: FFmpeg's muxer included) are never named on disk: the folder holds
/// a symlink to `/proc/PID/fd/N` of the open unnamed file, so a `kill -9` leaves at most an
/// empty folder of dangling links, which [`sweep_stale_temps`] removes. Dropping the value
/// closes the files and removes the folder.
#[derive(Debug)]
pub struct EphemeralDir {
    path: PathBuf,
    key: (u64, u64),
    /// The folder, open and locked while this value lives (see the module docs).
    _lock: File,
}

impl EphemeralDir {
    /// Creates the folder inside `parent` (which must exist). `label` (ASCII letters) makes
    /// the name recognisable, e.g. `export`.
    pub fn create(parent: &Path, label: &str) -> io::Result<Self> {
        let pdir = open_dir(parent)?;
        for _ in 0..64 {
            let n = temp_name(&format!("{label}-"));
            match rustix::fs::mkdirat(&pdir, n.as_str(), Mode::RWXU) {
                Ok(()) => {
                    let path = parent.join(&n);
                    let fd = rustix::fs::openat(
                        &pdir,
                        n.as_str(),
                        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                        Mode::empty(),
                    )?;
                    let dir = File::from(fd);
                    if !lock_temp(&dir)? {
                        continue; // swept before it was locked
                    }
                    let key = dir_key(&dir)?;
                    EPHEMERAL
                        .lock()
                        .map_err(|_| io::Error::other("ephemeral folder registry poisoned"))?
                        .push((key, HashMap::new()));
                    return Ok(Self {
                        path,
                        key,
                        _lock: dir,
                    });
                }
                Err(rustix::io::Errno::EXIST) => continue,
                Err(e) => {
                    return Err(io::Error::new(
                        io::Error::from(e).kind(),
                        format!("{}: cannot create a work folder: {e}", parent.display()),
                    ));
                }
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "no free work folder name",
        ))
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True when the running kernel keeps this folder's committed files unnamed (Linux with
    /// `/proc`); elsewhere they are ordinary files removed on drop only.
    pub fn is_unnamed(&self) -> bool {
        Path::new("/proc/self/fd").is_dir()
    }
}

impl Drop for EphemeralDir {
    fn drop(&mut self) {
        if let Ok(mut reg) = EPHEMERAL.lock() {
            reg.retain(|(k, _)| *k != self.key); // closes the files
        }
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Removes the temporary files and folders (names starting with [`TEMP_PREFIX`]) in `dir`
/// that no live process holds: their owner's lock can be taken (see the module docs; the
/// process id in a name is not consulted). An entry whose lock cannot be tested (no
/// permission, a file system without locks) is kept. Returns what it removed.
pub fn sweep_stale_temps(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if !entry
            .file_name()
            .as_bytes()
            .starts_with(TEMP_PREFIX.as_bytes())
        {
            continue;
        }
        let p = entry.path();
        let flags =
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
        // Held (while it is removed) so that nobody takes it meanwhile.
        let _lock = match rustix::fs::open(&p, flags, Mode::empty()) {
            Ok(fd) => match rustix::fs::flock(&fd, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => Some(fd),
                Err(_) => continue, // held by a live writer, or cannot tell
            },
            // A symlink: no writer holds a link; it is removed, never followed.
            Err(rustix::io::Errno::LOOP) => None,
            Err(_) => continue,
        };
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        let ok = if is_dir {
            fs::remove_dir_all(&p).is_ok()
        } else {
            fs::remove_file(&p).is_ok()
        };
        if ok {
            removed.push(p);
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn scratch(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("obscura-core-atomic-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn names(d: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn uncommitted_output_leaves_nothing() {
        let d = scratch("drop");
        let p = PendingFile::new(d.join("out.bin")).unwrap();
        fs::write(p.temp_path(), b"partial").unwrap();
        assert!(
            names(&d).is_empty(),
            "a pending file has no name: {:?}",
            names(&d)
        );
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
    fn commit_new_never_replaces_and_never_follows_a_symlink() {
        let d = scratch("noreplace");
        fs::write(d.join("out.bin"), b"old").unwrap();
        let e = write_new(d.join("out.bin"), b"new").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(d.join("out.bin")).unwrap(), b"old");
        // a planted symlink to a victim file: neither commit writes through it
        let victim = d.join("victim");
        fs::write(&victim, b"victim").unwrap();
        std::os::unix::fs::symlink(&victim, d.join("link.bin")).unwrap();
        assert_eq!(
            write_new(d.join("link.bin"), b"evil").unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );
        write_atomically(d.join("link.bin"), b"replaced").unwrap();
        assert_eq!(fs::read(&victim).unwrap(), b"victim");
        assert!(
            !d.join("link.bin")
                .symlink_metadata()
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(names(&d), ["link.bin", "out.bin", "victim"]);
    }

    #[test]
    fn a_writer_by_path_reaches_the_unnamed_file() {
        let d = scratch("bypath");
        let p = PendingFile::new(d.join("x.bin")).unwrap();
        fs::write(p.temp_path(), b"through the path").unwrap();
        let mut s = String::new();
        File::open(p.temp_path())
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(s, "through the path");
        p.commit_new().unwrap();
        assert_eq!(fs::read(d.join("x.bin")).unwrap(), b"through the path");
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &fs::metadata(d.join("x.bin")).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn long_names_commit() {
        let d = scratch("long");
        let name = "n".repeat(255);
        write_new(d.join(&name), b"x").unwrap();
        assert_eq!(fs::read(d.join(&name)).unwrap(), b"x");
    }

    #[test]
    fn ephemeral_files_are_readable_by_path_and_have_no_name() {
        let d = scratch("ephemeral");
        let e = EphemeralDir::create(&d, "test").unwrap();
        let mode =
            std::os::unix::fs::PermissionsExt::mode(&fs::metadata(e.path()).unwrap().permissions());
        assert_eq!(mode & 0o777, 0o700);
        let p = PendingFile::new(e.path().join("clip.mp4")).unwrap();
        p.create().unwrap().write_all(b"plaintext").unwrap();
        p.commit().unwrap();
        assert_eq!(fs::read(e.path().join("clip.mp4")).unwrap(), b"plaintext");
        let meta = e.path().join("clip.mp4").symlink_metadata().unwrap();
        assert!(
            meta.file_type().is_symlink(),
            "committed into an ephemeral folder: a link to the open file, no name"
        );
        // replacing works too
        write_atomically(e.path().join("clip.mp4"), b"second").unwrap();
        assert_eq!(fs::read(e.path().join("clip.mp4")).unwrap(), b"second");
        let p = e.path().to_path_buf();
        drop(e);
        assert!(!p.exists());
    }

    #[test]
    fn sweep_removes_unlocked_temps_whatever_pid_their_name_carries() {
        let d = scratch("sweep");
        // Nobody holds these: stale, even the one named with this process's id.
        let dead = d.join(format!("{TEMP_PREFIX}999999999-0-x.mp4"));
        let mine_unheld = d.join(format!("{TEMP_PREFIX}{}-0-y.mp4", std::process::id()));
        fs::write(&dead, b"x").unwrap();
        fs::write(&mine_unheld, b"y").unwrap();
        // Held by a live writer (as another PID namespace's process would name it): kept.
        let held = d.join(format!("{TEMP_PREFIX}1-0-z.mp4"));
        fs::write(&held, b"z").unwrap();
        let holder = File::open(&held).unwrap();
        assert!(lock_temp(&holder).unwrap());
        let live_dir = EphemeralDir::create(&d, "export").unwrap();
        fs::write(d.join("keep.mp4"), b"k").unwrap();
        let mut removed = sweep_stale_temps(&d).unwrap();
        removed.sort();
        let mut want = vec![dead, mine_unheld];
        want.sort();
        assert_eq!(removed, want);
        assert!(held.exists() && live_dir.path().exists() && d.join("keep.mp4").exists());
        // Its writer gone (the lock closed with it), the entry is stale.
        drop(holder);
        assert_eq!(sweep_stale_temps(&d).unwrap(), vec![held]);
        assert!(live_dir.path().exists());
    }

    #[test]
    fn a_pending_named_temp_is_locked_and_survives_a_sweep() {
        let d = scratch("sweep-pending");
        let p = PendingFile::new(d.join("out.mp4")).unwrap();
        // Another open of the same file (by its temporary name, or `/proc/PID/fd/N` for an
        // unnamed one, which a replacing commit names briefly) finds the owner's lock.
        let other = File::open(p.temp_path()).unwrap();
        assert!(rustix::fs::flock(&other, FlockOperation::NonBlockingLockExclusive).is_err());
        assert!(sweep_stale_temps(&d).unwrap().is_empty());
        drop(other);
        p.commit_new().unwrap();
        assert_eq!(names(&d), vec!["out.mp4".to_string()]);
    }
}
