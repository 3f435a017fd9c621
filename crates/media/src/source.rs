//! Opening untrusted input files: plain regular files only, never an FFmpeg URL.
//!
//! A file name is never handed to FFmpeg. The file is opened by Rust (as an [`OsStr`]
//! path, so names that are not UTF-8 work), checked to be a regular, non-empty file, and
//! FFmpeg reads it through a custom I/O context over that open file. So a file named
//! `concat:a.mp4|b.mp4`, `file:x` or `subfile,,start,0,end,0,,:x` is just a file with
//! that name, and FIFOs, devices (`/dev/zero`), sockets and folders are refused at once
//! (they are opened non-blocking, so a FIFO without a writer cannot hang the open).
//!
//! Demuxers that would open further resources named inside the file (concat scripts,
//! HLS/DASH playlists, image sequences, external MOV references) cannot: the protocol
//! whitelist of the format context admits no protocol at all, so any nested open fails.
//!
//! [`OsStr`]: std::ffi::OsStr

use std::fs::{File, Metadata, OpenOptions};
use std::io;
use std::path::Path;

use ffmpeg_next as ff;

use crate::error::{Error, describe};

/// A protocol whitelist that matches no protocol: demuxers cannot open nested resources.
const NO_PROTOCOL: &str = "obscura-none";

/// What kind of non-regular file `meta` describes, in words.
fn file_kind(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

fn io_error(path: &Path, e: &io::Error) -> Error {
    match e.kind() {
        io::ErrorKind::NotFound => Error::NotFound {
            path: path.to_path_buf(),
        },
        io::ErrorKind::PermissionDenied => Error::Unreadable {
            path: path.to_path_buf(),
            reason: "permission denied".into(),
        },
        _ => Error::Unreadable {
            path: path.to_path_buf(),
            reason: format!("cannot open: {e}"),
        },
    }
}

fn check_regular(path: &Path, meta: &Metadata) -> Result<(), Error> {
    if !meta.is_file() {
        let kind = file_kind(meta);
        let reason = if kind == "not a regular file" {
            kind.to_string()
        } else {
            format!("is {kind}, not a regular file")
        };
        return Err(Error::Unreadable {
            path: path.to_path_buf(),
            reason,
        });
    }
    if meta.len() == 0 {
        return Err(Error::Unreadable {
            path: path.to_path_buf(),
            reason: "the file is empty (0 bytes)".into(),
        });
    }
    Ok(())
}

/// Checks that `path` names an existing, readable-looking, non-empty regular file (after
/// following symbolic links) without opening it. Errors are accurate: [`Error::NotFound`]
/// only when nothing is there; a folder, FIFO, device or socket, an empty file or a
/// permission problem is [`Error::Unreadable`] saying which.
pub fn check_input_file(path: &Path) -> Result<u64, Error> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, &e))?;
    check_regular(path, &meta)?;
    Ok(meta.len())
}

/// Opens `path` for reading as a plain regular file: checked as in [`check_input_file`],
/// opened non-blocking (a FIFO swapped in after the check cannot block) and checked again
/// on the open descriptor, so what is read is what was checked.
pub fn open_regular_file(path: &Path) -> Result<File, Error> {
    check_input_file(path)?;
    let mut opts = OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NONBLOCK has no effect on reads of regular files; it only keeps open() from
        // waiting for a writer on a FIFO. O_NOCTTY: never become a controlling terminal.
        opts.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = opts.open(path).map_err(|e| io_error(path, &e))?;
    let meta = file.metadata().map_err(|e| io_error(path, &e))?;
    check_regular(path, &meta)?;
    Ok(file)
}

/// A file-name hint for FFmpeg's format probing: only the extension, and only when it is
/// short ASCII (`input.mp4`), so no part of a hostile name reaches FFmpeg.
fn probe_hint(path: &Path) -> Option<String> {
    let ext = path.extension()?.to_str()?;
    (!ext.is_empty() && ext.len() <= 8 && ext.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| format!("input.{}", ext.to_ascii_lowercase()))
}

/// Opens `path` with FFmpeg through a custom I/O context over [`open_regular_file`] (see
/// the module docs), with no protocol allowed for nested opens.
pub(crate) fn open_input(path: &Path) -> Result<ff::format::context::Input, Error> {
    crate::decode::init();
    let file = open_regular_file(path)?;
    let unreadable = |reason: String| Error::Unreadable {
        path: path.to_path_buf(),
        reason,
    };
    let io = ff::format::context::StreamIo::from_read_seek(file)
        .map_err(|e| unreadable(describe(&e)))?;
    let mut opts = ff::Dictionary::new();
    opts.set("protocol_whitelist", NO_PROTOCOL);
    let hint = probe_hint(path);
    ff::format::input_from_stream(io, hint.as_deref(), Some(opts)).map_err(|e| {
        unreadable(match e {
            // A demuxer that wanted to open another file (concat script, playlist...).
            ff::Error::Other { errno } if errno == libc::EINVAL => {
                "not a supported media file (invalid data, or a playlist/script that refers to other files)".into()
            }
            e => describe(&e),
        })
    })
}

/// The URL under which FFmpeg writes `path` (an output temp file): `file:` plus the
/// absolute path, so no part of the name is taken for a protocol. A path that is not UTF-8
/// is reached through its open parent folder (`/proc/self/fd/N/name`; the returned
/// [`File`] must stay open as long as FFmpeg uses the URL).
pub(crate) fn output_url(path: &Path) -> Result<(String, Option<File>), Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let abs = std::path::absolute(path).map_err(io)?;
    if let Some(s) = abs.to_str() {
        return Ok((format!("file:{s}"), None));
    }
    let name = abs.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
        io(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the output file name is not valid UTF-8",
        ))
    })?;
    let dir = File::open(abs.parent().unwrap_or(Path::new("/"))).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let url = format!("file:/proc/self/fd/{}/{name}", dir.as_raw_fd());
        Ok((url, Some(dir)))
    }
    #[cfg(not(unix))]
    {
        let _ = (dir, name);
        Err(io(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the output folder's name is not valid UTF-8",
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_carry_only_a_short_ascii_extension() {
        assert_eq!(
            probe_hint(Path::new("concat:a.mp4|b.MP4")).as_deref(),
            Some("input.mp4")
        );
        assert_eq!(probe_hint(Path::new("file:x")), None);
        assert_eq!(probe_hint(Path::new("x.m%d")), None);
        assert_eq!(probe_hint(Path::new("noext")), None);
    }

    #[test]
    fn devices_folders_and_missing_files_are_told_apart() {
        let e = check_input_file(Path::new("/dev/zero")).unwrap_err();
        assert!(e.to_string().contains("character device"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let e = check_input_file(dir.path()).unwrap_err();
        assert!(e.to_string().contains("is a folder"), "{e}");
        let e = check_input_file(&dir.path().join("nope")).unwrap_err();
        assert!(matches!(e, Error::NotFound { .. }), "{e}");
    }
}
