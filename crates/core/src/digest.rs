//! SHA-256 digests and lowercase hex: the one place Obscura hashes a file or writes a digest
//! as text (model pins, source and package hashes, the audit chain, the sealed container).

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

/// Lowercase hex of `bytes`, two digits per byte.
///
/// The string is allocated once at its final size, so encoding a secret leaves no
/// reallocated copy of it behind (the caller zeroises the returned string).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// The value of one lowercase hex digit.
fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// Decodes lowercase hex (as [`hex`] writes it) of exactly `out.len()` bytes into `out`,
/// with no heap copy (for secrets: the caller's buffer is the only place the bytes land).
/// False when malformed (odd, upper case, wrong length), and `out` is then zeroed.
pub fn unhex_into(s: &str, out: &mut [u8]) -> bool {
    let b = s.as_bytes();
    if b.len() != 2 * out.len() {
        return false;
    }
    for (o, p) in out.iter_mut().zip(b.chunks(2)) {
        match (nibble(p[0]), nibble(p[1])) {
            (Some(h), Some(l)) => *o = h << 4 | l,
            _ => {
                out.iter_mut().for_each(|x| *x = 0);
                return false;
            }
        }
    }
    true
}

/// Decodes lowercase hex of any even length; `None` when malformed.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    b.chunks(2)
        .map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?))
        .collect()
}

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// SHA-256 of `bytes` as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&sha256(bytes))
}

/// SHA-256 of a regular file, streamed.
///
/// The file is opened non-blocking and must be a regular file: a FIFO, device or folder is
/// refused at once ([`io::ErrorKind::InvalidInput`], naming the path) instead of blocking or
/// reading forever.
pub fn sha256_file(path: &Path) -> io::Result<[u8; 32]> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
    let mut f = File::from(rustix::fs::open(path, flags, Mode::empty())?);
    if !f.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", path.display()),
        ));
    }
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => h.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(h.finalize().into())
}

/// [`sha256_file`] as lowercase hex.
pub fn sha256_file_hex(path: &Path) -> io::Result<String> {
    sha256_file(path).map(|d| hex(&d))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn hex_is_lowercase_two_digits_per_byte() {
        assert_eq!(hex(&[0, 255, 16, 0xab]), "00ff10ab");
        assert_eq!(hex(&[]), "");
    }

    #[test]
    fn unhex_reads_only_what_hex_writes() {
        let bytes = [0u8, 255, 16, 0xab, 7];
        assert_eq!(unhex(&hex(&bytes)).unwrap(), bytes);
        assert_eq!(unhex(""), Some(vec![]));
        for bad in ["0", "00FF", "0g", "zz", " 00", "00 "] {
            assert_eq!(unhex(bad), None, "{bad}");
        }
        let mut out = [9u8; 2];
        assert!(unhex_into("00ff", &mut out));
        assert_eq!(out, [0, 255]);
        let mut out = [9u8; 2];
        assert!(!unhex_into("00fG", &mut out));
        assert_eq!(out, [0, 0], "zeroed when malformed");
        assert!(!unhex_into("00ff10", &mut [0u8; 2]));
    }

    #[test]
    fn sha256_matches_the_fips_vector() {
        assert_eq!(sha256_hex(b"abc"), ABC);
    }

    #[test]
    fn a_file_hashes_like_its_bytes() {
        let dir = std::env::temp_dir().join(format!("obscura-digest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("abc");
        std::fs::write(&p, b"abc").unwrap();
        assert_eq!(sha256_file_hex(&p).unwrap(), ABC);
        // Longer than one read buffer.
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&p, &big).unwrap();
        assert_eq!(sha256_file(&p).unwrap(), sha256(&big));
        let e = sha256_file(&dir).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{e}");
        assert!(e.to_string().contains("is not a regular file"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
