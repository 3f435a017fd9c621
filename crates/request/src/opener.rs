//! The offline opener page: one self-contained HTML file written beside a package, with
//! which the data subject verifies and decrypts it in any current browser (docs/FORMAT.md,
//! "Opening in a browser").
//!
//! The page is assembled from `assets/opener/` at build time: `opener.html` (markup and
//! style), `opener.js` (the format reader) and the vendored, sha256-pinned hash-wasm build
//! (Argon2id and streaming SHA-256). Its Content-Security-Policy allows exactly these inline
//! scripts (by their SHA-256), WebAssembly compilation, inline styles and `data:`/`blob:`
//! images, media and frames; every fetch, connection, form and navigation target is
//! refused, so nothing the page reads can leave the browser.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use obscura_core::atomic::PendingFile;

use crate::Error;
use crate::report::base64;

const TEMPLATE: &str = include_str!("../assets/opener/opener.html");
const OPENER_JS: &str = include_str!("../assets/opener/opener.js");

/// One vendored third-party file: its name, pinned sha256 and contents.
#[derive(Debug, Clone, Copy)]
pub struct Vendored {
    /// File name under `assets/opener/vendor/`.
    pub name: &'static str,
    /// The pinned sha256 (hex) of the file as published on npm.
    pub sha256: &'static str,
    /// The file's text.
    pub text: &'static str,
}

/// hash-wasm 4.13.0 (MIT, npm tarball sha512
/// `GrWl7wsV46fKIXQZB5ebskLZLAmKL6d9RS0fspCxDeQyjoNu1AfTJTMLPOJyfzaQm0ldFiwFN21/w+sE/kgEFQ==`),
/// its Argon2 and SHA-256 UMD builds, unchanged.
pub const VENDORED: [Vendored; 2] = [
    Vendored {
        name: "hash-wasm-4.13.0/argon2.umd.min.js",
        sha256: "acfe11b015852f593aaddc51116f71dc7850e4551e6b34d42c1f88cf39635f03",
        text: include_str!("../assets/opener/vendor/hash-wasm-4.13.0/argon2.umd.min.js"),
    },
    Vendored {
        name: "hash-wasm-4.13.0/sha256.umd.min.js",
        sha256: "0ab0ba5a8242ca02d4403e08a60b9308cb7322a175c3a5c3071c595fad1e65de",
        text: include_str!("../assets/opener/vendor/hash-wasm-4.13.0/sha256.umd.min.js"),
    },
];

fn sha256_hex(text: &str) -> String {
    obscura_core::digest::sha256_hex(text.as_bytes())
}

/// Checks every vendored file against its pin (a mismatch means the tree was tampered
/// with or a file was updated without updating its pin).
pub fn check_vendored() -> Result<(), Error> {
    for v in VENDORED {
        let got = sha256_hex(v.text);
        if got != v.sha256 {
            return Err(Error::invalid(
                format!("vendored file {}", v.name),
                format!("sha256 {got}, pinned {}", v.sha256),
            ));
        }
    }
    Ok(())
}

/// The vendored builds wrapped so each one's CommonJS branch fills one shared, frozen
/// `HASHWASM` object (no globals of their own).
fn vendor_script() -> String {
    let mut s = String::from("var HASHWASM=(function(){var out={};[");
    for v in VENDORED {
        s.push_str("function(module,exports){\n");
        s.push_str(v.text);
        s.push_str("\n},");
    }
    s.push_str("].forEach(function(f){var m={exports:{}};f(m,m.exports);Object.assign(out,m.exports);});return Object.freeze(out);})();");
    s
}

/// The Content-Security-Policy of the page for the given inline scripts.
fn csp(scripts: &[&str]) -> String {
    let hashes: Vec<String> = scripts
        .iter()
        .map(|s| {
            format!(
                "'sha256-{}'",
                base64(&obscura_core::digest::sha256(s.as_bytes()))
            )
        })
        .collect();
    format!(
        "default-src 'none'; script-src {} 'wasm-unsafe-eval'; style-src 'unsafe-inline'; img-src data: blob:; media-src blob:; frame-src blob:; \
         connect-src 'none'; form-action 'none'; base-uri 'none'",
        hashes.join(" ")
    )
}

/// The complete opener page.
pub fn page() -> Result<String, Error> {
    check_vendored()?;
    let vendor = vendor_script();
    let scripts = [vendor.as_str(), OPENER_JS];
    if scripts
        .iter()
        .any(|s| s.to_ascii_lowercase().contains("</script"))
    {
        return Err(Error::invalid(
            "opener scripts",
            "contain a closing script tag",
        ));
    }
    let tags: String = scripts
        .iter()
        .map(|s| format!("<script>{s}</script>\n"))
        .collect();
    Ok(TEMPLATE
        .replace("{{CSP}}", &csp(&scripts))
        .replace("{{VERSION}}", env!("CARGO_PKG_VERSION"))
        .replace("{{SCRIPTS}}", &tags))
}

/// Where the opener of `package` goes: `NAME.obx` -> `NAME.opener.html` in the same folder.
pub fn path_beside(package: &Path) -> PathBuf {
    let stem = package
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "export".into());
    package.with_file_name(format!("{stem}.opener.html"))
}

/// Writes the opener to `dest` atomically; refuses an existing file or link.
pub fn write(dest: &Path) -> Result<PathBuf, Error> {
    if fs::symlink_metadata(dest).is_ok() {
        return Err(Error::invalid(
            format!("opener {}", dest.display()),
            "already exists (never overwritten; use --no-opener)",
        ));
    }
    let html = page()?;
    let pending = PendingFile::new(dest).map_err(|e| Error::io(dest, e))?;
    let mut f = pending.create().map_err(|e| Error::io(dest, e))?;
    f.write_all(html.as_bytes())
        .map_err(|e| Error::io(dest, e))?;
    drop(f);
    pending.commit().map_err(|e| Error::io(dest, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendored_files_match_their_pins() {
        check_vendored().unwrap();
    }

    #[test]
    fn page_allows_only_its_own_scripts_and_no_fetch() {
        let p = page().unwrap();
        let csp_line = p
            .lines()
            .find(|l| l.contains("Content-Security-Policy"))
            .unwrap();
        assert!(csp_line.contains("default-src 'none'") && csp_line.contains("connect-src 'none'"));
        assert!(!csp_line.contains("unsafe-eval'") || csp_line.contains("'wasm-unsafe-eval'"));
        assert!(!csp_line.contains("script-src 'unsafe-inline'"));
        // Each inline script's hash is in the policy.
        let mut rest = p.as_str();
        let mut n = 0;
        while let Some(a) = rest.find("<script>") {
            let b = rest[a..].find("</script>").unwrap() + a;
            let body = &rest[a + 8..b];
            let h = format!(
                "'sha256-{}'",
                base64(&obscura_core::digest::sha256(body.as_bytes()))
            );
            assert!(csp_line.contains(&h), "script {n} not allowed by the CSP");
            rest = &rest[b..];
            n += 1;
        }
        assert_eq!(n, 2);
        // No network reference anywhere.
        for bad in ["http://", "https://", "src=\"//"] {
            let outside_comments = p
                .lines()
                .filter(|l| {
                    !l.trim_start().starts_with("//")
                        && !l.trim_start().starts_with('*')
                        && !l.contains("npmjs.com")
                })
                .any(|l| l.contains(bad));
            assert!(!outside_comments, "page references {bad}");
        }
    }

    #[test]
    fn writes_beside_the_package_and_never_overwrites() {
        let d = tempfile::tempdir().unwrap();
        let pkg = d.path().join("req-42.obx");
        let dest = path_beside(&pkg);
        assert_eq!(dest, d.path().join("req-42.opener.html"));
        write(&dest).unwrap();
        assert!(
            fs::read_to_string(&dest)
                .unwrap()
                .starts_with("<!DOCTYPE html>")
        );
        assert!(write(&dest).is_err());
    }
}
