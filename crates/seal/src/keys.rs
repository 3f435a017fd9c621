//! Keys: Ed25519 signing keys, X25519 recipient keys, passphrases, their text key files,
//! and the [`Signer`] trait through which an HSM or KMS can sign manifests.

use std::fmt;
use std::io::Write;
use std::path::Path;

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use zeroize::{Zeroize, Zeroizing};

use crate::Error;
use crate::canonical::{hex, unhex};

/// Fills a buffer from the operating system's CSPRNG.
pub(crate) fn random<const N: usize>() -> Result<[u8; N], Error> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|_| Error::Rng)?;
    Ok(b)
}

/// Fingerprint of a public key: hex of SHA-256 of its 32 raw bytes.
pub(crate) fn fingerprint(key: &[u8; 32]) -> String {
    obscura_core::digest::sha256_hex(key)
}

/// Something that can sign a manifest with Ed25519: a local [`SigningKey`], or a partner's
/// HSM/KMS adapter. `sign` receives the complete message to sign (domain-separation prefix
/// included) and must return a 64-byte Ed25519 signature valid for [`Signer::public_key`].
pub trait Signer: Send + Sync {
    /// The Ed25519 public key the signatures verify under.
    fn public_key(&self) -> SignerPublicKey;
    /// Signs `message` (pure Ed25519, RFC 8032).
    fn sign(&self, message: &[u8]) -> Result<[u8; 64], Error>;
}

/// An Ed25519 signing secret key (zeroized on drop; `Debug` shows only the fingerprint).
pub struct SigningKey(ed25519_dalek::SigningKey);

impl SigningKey {
    /// A fresh random key.
    pub fn generate() -> Result<Self, Error> {
        let seed = Zeroizing::new(random::<32>()?);
        Ok(Self(ed25519_dalek::SigningKey::from_bytes(&seed)))
    }

    /// From a 32-byte Ed25519 seed.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self(ed25519_dalek::SigningKey::from_bytes(seed))
    }

    /// Parses a `NAME.sign.key` file's text; `passphrase` unlocks a protected one.
    pub fn from_key_text(text: &str, passphrase: Option<&Passphrase>) -> Result<Self, Error> {
        let seed = read_secret(text, SIGN_SECRET, passphrase)?;
        Ok(Self::from_seed(&seed))
    }

    /// Reads a `NAME.sign.key` file.
    pub fn read_file(path: &Path, passphrase: Option<&Passphrase>) -> Result<Self, Error> {
        let text = Zeroizing::new(read_text(path)?);
        Self::from_key_text(&text, passphrase).map_err(|e| with_path(e, path))
    }

    /// The key file text, optionally protected by `protect` (Argon2id + AES-256-GCM).
    pub fn to_key_text(
        &self,
        protect: Option<(&Passphrase, KdfParams)>,
    ) -> Result<Zeroizing<String>, Error> {
        let seed = Zeroizing::new(self.0.to_bytes());
        write_secret("signing secret key (Ed25519)", SIGN_SECRET, &seed, protect)
    }
}

impl Signer for SigningKey {
    fn public_key(&self) -> SignerPublicKey {
        SignerPublicKey(self.0.verifying_key().to_bytes())
    }
    fn sign(&self, message: &[u8]) -> Result<[u8; 64], Error> {
        use ed25519_dalek::Signer as _;
        Ok(self.0.sign(message).to_bytes())
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SigningKey {{ public: {}, secret: <redacted> }}",
            self.public_key().fingerprint()
        )
    }
}

/// An Ed25519 public key that signs manifests.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignerPublicKey(pub(crate) [u8; 32]);

impl SignerPublicKey {
    /// From raw bytes; refuses bytes that are not a valid Ed25519 point.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, Error> {
        ed25519_dalek::VerifyingKey::from_bytes(bytes)
            .map_err(|_| Error::KeyFile("not an Ed25519 public key".into()))?;
        Ok(Self(*bytes))
    }
    /// The raw 32 bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }
    /// Hex of SHA-256 of the key bytes.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.0)
    }
    /// True when `signature` is a valid Ed25519 signature of `message` by this key, checked
    /// strictly as docs/FORMAT.md section 6 defines (canonical `S`, `A` and `R`; neither of
    /// small order; cofactorless equation).
    pub fn verify_signature(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        let canonical_a = !(self.0[31] & 0x7f == 0x7f
            && self.0[1..31].iter().all(|&x| x == 0xff)
            && self.0[0] >= 0xed);
        let Ok(vk) = ed25519_dalek::VerifyingKey::from_bytes(&self.0) else {
            return false;
        };
        canonical_a
            && vk
                .verify_strict(message, &ed25519_dalek::Signature::from_bytes(signature))
                .is_ok()
    }
    /// Parses a `NAME.sign.pub` file's text.
    pub fn from_key_text(text: &str) -> Result<Self, Error> {
        Self::from_bytes(&read_public(text, SIGN_PUBLIC)?)
    }
    /// Reads a `NAME.sign.pub` file.
    pub fn read_file(path: &Path) -> Result<Self, Error> {
        Self::from_key_text(&read_text(path)?).map_err(|e| with_path(e, path))
    }
    /// The key file text.
    pub fn to_key_text(&self) -> String {
        format!(
            "# obscura signing public key (Ed25519), fingerprint {}\n{SIGN_PUBLIC}:{}\n",
            self.fingerprint(),
            hex(&self.0)
        )
    }
}

impl fmt::Debug for SignerPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SignerPublicKey({})", hex(&self.0))
    }
}

/// An X25519 recipient secret key (zeroized on drop; `Debug` shows only the fingerprint).
pub struct RecipientSecretKey(pub(crate) x25519_dalek::StaticSecret);

impl RecipientSecretKey {
    /// A fresh random key.
    pub fn generate() -> Result<Self, Error> {
        let b = Zeroizing::new(random::<32>()?);
        Ok(Self(x25519_dalek::StaticSecret::from(*b)))
    }
    /// From the 32 secret bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        Self(x25519_dalek::StaticSecret::from(*bytes))
    }
    /// The matching public key.
    pub fn public_key(&self) -> RecipientPublicKey {
        RecipientPublicKey(x25519_dalek::PublicKey::from(&self.0).to_bytes())
    }
    /// Parses a `NAME.recipient.key` file's text; `passphrase` unlocks a protected one.
    pub fn from_key_text(text: &str, passphrase: Option<&Passphrase>) -> Result<Self, Error> {
        let b = read_secret(text, RECIPIENT_SECRET, passphrase)?;
        Ok(Self::from_bytes(&b))
    }
    /// Reads a `NAME.recipient.key` file.
    pub fn read_file(path: &Path, passphrase: Option<&Passphrase>) -> Result<Self, Error> {
        let text = Zeroizing::new(read_text(path)?);
        Self::from_key_text(&text, passphrase).map_err(|e| with_path(e, path))
    }
    /// The key file text, optionally passphrase-protected.
    pub fn to_key_text(
        &self,
        protect: Option<(&Passphrase, KdfParams)>,
    ) -> Result<Zeroizing<String>, Error> {
        let b = Zeroizing::new(self.0.to_bytes());
        write_secret(
            "recipient secret key (X25519)",
            RECIPIENT_SECRET,
            &b,
            protect,
        )
    }
}

impl fmt::Debug for RecipientSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RecipientSecretKey {{ public: {}, secret: <redacted> }}",
            self.public_key().fingerprint()
        )
    }
}

/// An X25519 recipient public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecipientPublicKey(pub(crate) [u8; 32]);

impl RecipientPublicKey {
    /// From raw bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        Self(*bytes)
    }
    /// The raw bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }
    /// Hex of SHA-256 of the key bytes (as listed in manifests).
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.0)
    }
    /// Parses a `NAME.recipient.pub` file's text.
    pub fn from_key_text(text: &str) -> Result<Self, Error> {
        Ok(Self(read_public(text, RECIPIENT_PUBLIC)?))
    }
    /// Reads a `NAME.recipient.pub` file.
    pub fn read_file(path: &Path) -> Result<Self, Error> {
        Self::from_key_text(&read_text(path)?).map_err(|e| with_path(e, path))
    }
    /// The key file text.
    pub fn to_key_text(&self) -> String {
        format!(
            "# obscura recipient public key (X25519), fingerprint {}\n{RECIPIENT_PUBLIC}:{}\n",
            self.fingerprint(),
            hex(&self.0)
        )
    }
}

impl fmt::Debug for RecipientPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecipientPublicKey({})", hex(&self.0))
    }
}

/// A passphrase (zeroized on drop, never printed).
#[derive(Clone)]
pub struct Passphrase(Zeroizing<Vec<u8>>);

impl Passphrase {
    /// From bytes; refuses an empty passphrase.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, Error> {
        let v = Zeroizing::new(bytes.into());
        if v.is_empty() {
            return Err(Error::invalid("passphrase", "is empty"));
        }
        Ok(Self(v))
    }
    /// Reads a passphrase file: its first line, without the line ending.
    pub fn read_file(path: &Path) -> Result<Self, Error> {
        let mut raw = Zeroizing::new(std::fs::read(path).map_err(|e| Error::io(path, e))?);
        let end = raw.iter().position(|&b| b == b'\n').unwrap_or(raw.len());
        let mut line = raw[..end].to_vec();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        raw.zeroize();
        Self::new(line).map_err(|_| {
            Error::invalid(
                format!("passphrase file {}", path.display()),
                "first line is empty",
            )
        })
    }
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(<redacted>)")
    }
}

/// What opens an export: a recipient secret key or a passphrase.
#[derive(Debug)]
pub enum Identity {
    /// An X25519 recipient secret key.
    Recipient(RecipientSecretKey),
    /// A passphrase (Argon2id stanza).
    Passphrase(Passphrase),
}

/// Argon2id cost parameters (memory in KiB, passes, lanes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    pub(crate) m_kib: u32,
    pub(crate) t: u32,
    pub(crate) p: u32,
}

impl KdfParams {
    /// Minimum memory for new exports and key files: 64 MiB.
    pub const MIN_M_KIB: u32 = 65_536;
    /// Minimum passes for new exports and key files.
    pub const MIN_T: u32 = 3;
    /// Most memory a reader spends on one Argon2id derivation: 1 GiB.
    pub const MAX_M_KIB: u32 = 1_048_576;
    /// Most passes a reader runs.
    pub const MAX_T: u32 = 16;
    /// Most lanes a reader accepts.
    pub const MAX_P: u32 = 4;

    /// Validated parameters: at least [`Self::MIN_M_KIB`] and [`Self::MIN_T`], within the
    /// reader limits of docs/FORMAT.md 2.3 ([`Self::MAX_M_KIB`], [`Self::MAX_T`], [`Self::MAX_P`]).
    pub fn new(m_kib: u32, t: u32, p: u32) -> Result<Self, Error> {
        let k = Self { m_kib, t, p };
        if m_kib < Self::MIN_M_KIB || t < Self::MIN_T {
            return Err(Error::invalid(
                format!("Argon2id parameters m={m_kib} KiB t={t}"),
                "below the minimum m=65536 KiB, t=3",
            ));
        }
        k.check_reader_limits().map_err(|_| {
            Error::invalid(
                format!("Argon2id parameters m={m_kib} KiB t={t} p={p}"),
                "above the reader limits",
            )
        })?;
        Ok(k)
    }

    /// TEST ONLY: m = 8 KiB, t = 1, p = 1, far below the minimum, so tests and test vectors
    /// run fast. Never use for real exports; nothing in the CLI can select it.
    pub fn insecure_test_params() -> Self {
        Self {
            m_kib: 8,
            t: 1,
            p: 1,
        }
    }

    pub(crate) fn check_reader_limits(&self) -> Result<(), Error> {
        let ok = (1..=Self::MAX_P).contains(&self.p)
            && (1..=Self::MAX_T).contains(&self.t)
            && self.m_kib >= 8 * self.p
            && self.m_kib <= Self::MAX_M_KIB;
        if ok {
            Ok(())
        } else {
            Err(Error::damaged("Argon2id parameters out of bounds"))
        }
    }

    pub(crate) fn derive(
        &self,
        pass: &Passphrase,
        salt: &[u8; 16],
    ) -> Result<Zeroizing<[u8; 32]>, Error> {
        self.check_reader_limits()?;
        let params = argon2::Params::new(self.m_kib, self.t, self.p, Some(32))
            .map_err(|_| Error::damaged("Argon2id parameters out of bounds"))?;
        let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut out = Zeroizing::new([0u8; 32]);
        a.hash_password_into(pass.bytes(), salt, out.as_mut())
            .map_err(|_| Error::damaged("Argon2id failed"))?;
        Ok(out)
    }
}

impl Default for KdfParams {
    /// m = 64 MiB, t = 3, p = 1.
    fn default() -> Self {
        Self {
            m_kib: Self::MIN_M_KIB,
            t: Self::MIN_T,
            p: 1,
        }
    }
}

/// AES-256-GCM with a single-use key and the all-zero nonce.
pub(crate) fn wrap(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, Error> {
    let c = Aes256Gcm::new(key.into());
    c.encrypt(
        &Default::default(),
        Payload {
            msg: plaintext,
            aad,
        },
    )
    .map_err(|_| Error::invalid("key wrap", "encryption failed"))
}

/// Inverse of [`wrap`]; `None` when authentication fails.
pub(crate) fn unwrap_key(
    key: &[u8; 32],
    aad: &[u8],
    ciphertext: &[u8],
) -> Option<Zeroizing<[u8; 32]>> {
    let c = Aes256Gcm::new(key.into());
    let pt = Zeroizing::new(
        c.decrypt(
            &Default::default(),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .ok()?,
    );
    let mut out = Zeroizing::new([0u8; 32]);
    if pt.len() != 32 {
        return None;
    }
    out.copy_from_slice(&pt);
    Some(out)
}

const SIGN_SECRET: &str = "obscura-sign-secret-1";
const SIGN_PUBLIC: &str = "obscura-sign-public-1";
const RECIPIENT_SECRET: &str = "obscura-recipient-secret-1";
const RECIPIENT_PUBLIC: &str = "obscura-recipient-public-1";
const PROTECTED_SUFFIX: &str = "-argon2id";

fn read_text(path: &Path) -> Result<String, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if bytes.len() > 64 * 1024 {
        return Err(Error::KeyFile(format!(
            "{}: too large for a key file",
            path.display()
        )));
    }
    String::from_utf8(bytes)
        .map_err(|_| Error::KeyFile(format!("{}: not UTF-8 text", path.display())))
}

fn with_path(e: Error, path: &Path) -> Error {
    match e {
        Error::KeyFile(m) => Error::KeyFile(format!("{}: {m}", path.display())),
        other => other,
    }
}

/// The single key line of a key file (comments and blank lines skipped).
fn key_line(text: &str) -> Result<&str, Error> {
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let line = lines
        .next()
        .ok_or_else(|| Error::KeyFile("no key line".into()))?;
    if lines.next().is_some() {
        return Err(Error::KeyFile("more than one key line".into()));
    }
    Ok(line)
}

fn kind_of(line: &str) -> &str {
    line.split_once(':').map(|(p, _)| p).unwrap_or("")
}

fn read_public(text: &str, prefix: &str) -> Result<[u8; 32], Error> {
    let line = key_line(text)?;
    let (p, body) = line
        .split_once(':')
        .ok_or_else(|| Error::KeyFile("no key type prefix".into()))?;
    if p != prefix {
        return Err(Error::KeyFile(format!(
            "expected a {prefix} key, found {:?}",
            kind_of(line)
        )));
    }
    unhex::<32>(body).ok_or_else(|| Error::KeyFile("malformed key".into()))
}

fn read_secret(
    text: &str,
    prefix: &str,
    passphrase: Option<&Passphrase>,
) -> Result<Zeroizing<[u8; 32]>, Error> {
    let line = key_line(text)?;
    let (p, body) = line
        .split_once(':')
        .ok_or_else(|| Error::KeyFile("no key type prefix".into()))?;
    if p == prefix {
        let mut out = Zeroizing::new([0u8; 32]);
        return if crate::canonical::unhex_into(body, out.as_mut()) {
            Ok(out)
        } else {
            Err(Error::KeyFile("malformed key".into()))
        };
    }
    let protected = format!("{prefix}{PROTECTED_SUFFIX}");
    if p != protected {
        return Err(Error::KeyFile(format!(
            "expected a {prefix} key, found {:?}",
            p
        )));
    }
    let pass = passphrase
        .ok_or_else(|| Error::KeyFile("key is passphrase-protected; give its passphrase".into()))?;
    // Wrapped, but wiped anyway: nothing of a key file lingers in freed memory.
    let mut raw = Zeroizing::new([0u8; 16 + 12 + 48]);
    if !crate::canonical::unhex_into(body, raw.as_mut()) {
        return Err(Error::KeyFile("malformed key".into()));
    }
    let salt: [u8; 16] = raw[..16].try_into().unwrap_or_default();
    let word =
        |i: usize| u32::from_be_bytes(raw[16 + 4 * i..20 + 4 * i].try_into().unwrap_or_default());
    let params = KdfParams {
        m_kib: word(0),
        t: word(1),
        p: word(2),
    };
    let kek = params
        .derive(pass, &salt)
        .map_err(|_| Error::KeyFile("bad protection parameters".into()))?;
    unwrap_key(&kek, protected.as_bytes(), &raw[28..])
        .ok_or_else(|| Error::KeyFile("wrong passphrase or damaged key file".into()))
}

fn write_secret(
    what: &str,
    prefix: &str,
    secret: &[u8; 32],
    protect: Option<(&Passphrase, KdfParams)>,
) -> Result<Zeroizing<String>, Error> {
    let created = obscura_core::civil::now_rfc3339();
    Ok(Zeroizing::new(match protect {
        None => format!(
            "# obscura {what}, created {created}\n# KEEP SECRET\n{prefix}:{}\n",
            hex(secret)
        ),
        Some((pass, params)) => {
            let salt = random::<16>()?;
            let kek = params.derive(pass, &salt)?;
            let protected = format!("{prefix}{PROTECTED_SUFFIX}");
            let mut raw = salt.to_vec();
            for w in [params.m_kib, params.t, params.p] {
                raw.extend_from_slice(&w.to_be_bytes());
            }
            raw.extend_from_slice(&wrap(&kek, protected.as_bytes(), secret)?);
            format!(
                "# obscura {what}, passphrase-protected, created {created}\n{protected}:{}\n",
                hex(&raw)
            )
        }
    }))
}

/// Writes a new file with the given mode (0600 for secrets), refusing to overwrite.
/// The mode is set at creation, never by a later chmod.
pub fn create_key_file(path: &Path, text: &str, secret: bool) -> Result<(), Error> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(if secret { 0o600 } else { 0o644 });
    }
    let mut f = opts.open(path).map_err(|e| Error::io(path, e))?;
    let r = f.write_all(text.as_bytes()).and_then(|_| f.sync_all());
    if let Err(e) = r {
        drop(f);
        let _ = std::fs::remove_file(path);
        return Err(Error::io(path, e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files_round_trip_and_check_types() {
        let sk = SigningKey::generate().unwrap();
        let text = sk.to_key_text(None).unwrap();
        let back = SigningKey::from_key_text(&text, None).unwrap();
        assert_eq!(back.public_key(), sk.public_key());
        assert!(RecipientSecretKey::from_key_text(&text, None).is_err());
        let pubtext = sk.public_key().to_key_text();
        assert_eq!(
            SignerPublicKey::from_key_text(&pubtext).unwrap(),
            sk.public_key()
        );
        assert!(RecipientPublicKey::from_key_text(&pubtext).is_err());
        assert!(!format!("{sk:?}").contains(&hex(&sk.0.to_bytes())));

        let rk = RecipientSecretKey::generate().unwrap();
        let pass = Passphrase::new("correct horse").unwrap();
        let prot = rk
            .to_key_text(Some((&pass, KdfParams::insecure_test_params())))
            .unwrap();
        assert!(!prot.contains(&hex(&rk.0.to_bytes())));
        assert!(RecipientSecretKey::from_key_text(&prot, None).is_err());
        assert!(
            RecipientSecretKey::from_key_text(&prot, Some(&Passphrase::new("wrong").unwrap()))
                .is_err()
        );
        let back = RecipientSecretKey::from_key_text(&prot, Some(&pass)).unwrap();
        assert_eq!(back.public_key(), rk.public_key());
    }

    #[test]
    fn kdf_minimums_enforced() {
        assert!(KdfParams::new(65_536, 3, 1).is_ok());
        assert!(KdfParams::new(65_535, 3, 1).is_err());
        assert!(KdfParams::new(65_536, 2, 1).is_err());
        assert_eq!(KdfParams::default(), KdfParams::new(65_536, 3, 1).unwrap());
    }
}
