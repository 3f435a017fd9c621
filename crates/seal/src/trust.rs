//! The trust store: signer public keys whose exports `open` and `verify` accept without an
//! explicit `--signer` (docs/FORMAT.md section 12).

use std::path::{Path, PathBuf};

use crate::{Error, SignerPublicKey};

/// One trusted signer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedSigner {
    /// The key.
    pub key: SignerPublicKey,
    /// A label chosen when adding it (e.g. the site's name); may be empty.
    pub label: String,
}

/// A list of trusted signer keys kept in a text file: one `obscura-sign-public-1:<hex>`
/// key line per signer, optionally followed by a space and a label; `#` lines and blank
/// lines are comments. A missing file is an empty store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustStore {
    path: PathBuf,
    signers: Vec<TrustedSigner>,
}

impl TrustStore {
    /// The default file: `$OBSCURA_TRUST_FILE`, else `$XDG_CONFIG_HOME/obscura/trusted-signers`,
    /// else `$HOME/.config/obscura/trusted-signers`.
    pub fn default_path() -> Result<PathBuf, Error> {
        if let Some(p) = std::env::var_os("OBSCURA_TRUST_FILE").filter(|p| !p.is_empty()) {
            return Ok(PathBuf::from(p));
        }
        if let Some(d) = std::env::var_os("XDG_CONFIG_HOME").filter(|p| !p.is_empty()) {
            return Ok(PathBuf::from(d).join("obscura/trusted-signers"));
        }
        match std::env::var_os("HOME").filter(|p| !p.is_empty()) {
            Some(h) => Ok(PathBuf::from(h).join(".config/obscura/trusted-signers")),
            None => Err(Error::invalid(
                "trust store",
                "no OBSCURA_TRUST_FILE, XDG_CONFIG_HOME or HOME to locate it",
            )),
        }
    }

    /// Reads the store at `path` (empty when the file does not exist).
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(Error::io(path, e)),
        };
        let mut signers = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, label) = line.split_once(' ').unwrap_or((line, ""));
            let key = SignerPublicKey::from_key_text(key).map_err(|e| {
                Error::invalid(
                    format!("trust store {} line {}", path.display(), i + 1),
                    e.to_string(),
                )
            })?;
            signers.push(TrustedSigner {
                key,
                label: label.trim().to_string(),
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            signers,
        })
    }

    /// The trusted signers, in file order.
    pub fn signers(&self) -> &[TrustedSigner] {
        &self.signers
    }

    /// The keys alone (for [`crate::OpenOptions::trusted`]).
    pub fn keys(&self) -> Vec<SignerPublicKey> {
        self.signers.iter().map(|s| s.key).collect()
    }

    /// The entry for `key`, if trusted.
    pub fn get(&self, key: &SignerPublicKey) -> Option<&TrustedSigner> {
        self.signers.iter().find(|s| s.key == *key)
    }

    /// Adds `key` (false when it was already trusted). Labels must be printable, at most 200
    /// characters.
    pub fn add(&mut self, key: SignerPublicKey, label: &str) -> Result<bool, Error> {
        if label.len() > 200 || label.chars().any(char::is_control) {
            return Err(Error::invalid(
                format!("label {label:?}"),
                "must be at most 200 printable characters",
            ));
        }
        if self.get(&key).is_some() {
            return Ok(false);
        }
        self.signers.push(TrustedSigner {
            key,
            label: label.trim().to_string(),
        });
        Ok(true)
    }

    /// Removes the signer whose fingerprint is `fingerprint` (or starts with it, when that
    /// prefix of at least 8 hex digits is unique). Returns what was removed.
    pub fn remove(&mut self, fingerprint: &str) -> Result<TrustedSigner, Error> {
        let fp = fingerprint.to_ascii_lowercase();
        if fp.len() < 8 {
            return Err(Error::invalid(
                format!("fingerprint {fingerprint:?}"),
                "give at least 8 hex digits",
            ));
        }
        let hits: Vec<usize> = self
            .signers
            .iter()
            .enumerate()
            .filter(|(_, s)| s.key.fingerprint().starts_with(&fp))
            .map(|(i, _)| i)
            .collect();
        match hits.as_slice() {
            [i] => Ok(self.signers.remove(*i)),
            [] => Err(Error::invalid(
                format!("fingerprint {fingerprint}"),
                "is not in the trust store",
            )),
            _ => Err(Error::invalid(
                format!("fingerprint {fingerprint}"),
                "matches several trusted keys; give more digits",
            )),
        }
    }

    /// Writes the store back atomically (mode 0600, its folder created if missing).
    pub fn save(&self) -> Result<(), Error> {
        if let Some(d) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(d).map_err(|e| Error::io(d, e))?;
        }
        let mut text = String::from(
            "# obscura trusted signers: one signing public key per line, then an optional label\n",
        );
        for s in &self.signers {
            let key_text = s.key.to_key_text();
            text.push_str(
                key_text
                    .lines()
                    .find(|l| l.starts_with("obscura-"))
                    .unwrap_or_default(),
            );
            if !s.label.is_empty() {
                text.push(' ');
                text.push_str(&s.label);
            }
            text.push('\n');
        }
        obscura_core::atomic::write_atomically(&self.path, text.as_bytes())
            .map_err(|e| Error::io(&self.path, e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Signer, SigningKey};

    #[test]
    fn add_list_remove_round_trip() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub/trusted");
        let mut t = TrustStore::load(&p).unwrap();
        assert!(t.signers().is_empty());
        let (a, b) = (
            SigningKey::generate().unwrap().public_key(),
            SigningKey::generate().unwrap().public_key(),
        );
        assert!(t.add(a, "site A").unwrap());
        assert!(!t.add(a, "again").unwrap());
        assert!(t.add(b, "").unwrap());
        assert!(t.add(b, "bad\u{1b}[2K").is_err());
        t.save().unwrap();
        let t2 = TrustStore::load(&p).unwrap();
        assert_eq!(t2, t);
        assert_eq!(t2.get(&a).unwrap().label, "site A");
        let mut t3 = t2.clone();
        assert!(t3.remove("abc").is_err());
        assert_eq!(t3.remove(&a.fingerprint()[..12]).unwrap().key, a);
        assert!(t3.get(&a).is_none() && t3.get(&b).is_some());
        std::fs::write(&p, "obscura-sign-public-1:zz\n").unwrap();
        assert!(
            TrustStore::load(&p)
                .unwrap_err()
                .to_string()
                .contains("line 1")
        );
    }
}
