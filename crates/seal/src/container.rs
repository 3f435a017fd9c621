//! Reading exports: structural parsing, signature and hash verification, opening.

use std::collections::HashSet;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use hkdf::Hkdf;
use obscura_core::atomic::PendingFile;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::canonical::{from_canonical, hex, unhex, unhex_vec};
use crate::keys::{KdfParams, unwrap_key};
use crate::manifest::{
    Header, RecipientEntry, Stanza, check_media_type, check_payload_name, check_portable_name,
    check_text, name_key, rules_for,
};
use crate::stream::{PassError, ciphertext_size, decryptor, hash_exact, pass, payload_stream};
use crate::{Date, Error, Identity, Manifest, SignerPublicKey};

/// File magic (FORMAT.md section 1).
pub(crate) const MAGIC: [u8; 8] = *b"\x89OBX\r\n\x1a\n";
/// Trailer end marker.
pub(crate) const END_MAGIC: [u8; 8] = *b"OBX-END\n";
/// Domain separation prefix of the signed message, format 1.
pub(crate) const SIG_CONTEXT: &[u8] = b"obscura-export-manifest-v1\0";
/// Domain separation prefix of the signed message, format 2.
pub(crate) const SIG_CONTEXT_V2: &[u8] = b"obscura-export-manifest-v2\0";

/// The signature context of a format version (FORMAT.md section 6).
pub(crate) fn sig_context(version: u32) -> &'static [u8] {
    if version == 1 {
        SIG_CONTEXT
    } else {
        SIG_CONTEXT_V2
    }
}

/// Format-2 limits (FORMAT.md 5.2): entries per list and bytes per text field.
pub(crate) const MAX_LIST: usize = 65_536;
/// Longest `reference` / `operator` (bytes).
pub(crate) const MAX_FREE_TEXT: usize = 1024;
/// Longest source name, camera id, model name, policy key or style (bytes).
pub(crate) const MAX_NAME: usize = 255;
pub(crate) const PREAMBLE_LEN: u64 = 14;
pub(crate) const TRAILER_LEN: u64 = 64 + 4 + 8;
pub(crate) const MAX_HEADER: u64 = 1 << 20;
pub(crate) const MAX_MANIFEST: u64 = 16 << 20;
pub(crate) const MAX_PAYLOADS: usize = 65_536;
pub(crate) const MAX_RECIPIENTS: usize = 256;

/// An export whose signature and every ciphertext hash checked out.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct VerifiedExport {
    /// The signed manifest.
    pub manifest: Manifest,
    /// The key that signed it.
    pub signer: SignerPublicKey,
    /// True when the caller required this signer (otherwise only self-consistency is shown).
    pub signer_pinned: bool,
    /// File size in bytes.
    pub file_size: u64,
}

/// A structurally valid export (nothing cryptographic checked yet).
pub(crate) struct Parsed {
    pub version: u32,
    pub header: Header,
    pub manifest: Manifest,
    pub manifest_bytes: Vec<u8>,
    pub signature: [u8; 64],
    pub export_id: [u8; 16],
    pub payload_offset: u64,
}

fn read_at<R: Read + Seek>(r: &mut R, offset: u64, len: usize) -> Result<Vec<u8>, Error> {
    let mut buf = vec![0u8; len];
    r.seek(SeekFrom::Start(offset))
        .and_then(|_| r.read_exact(&mut buf))
        .map_err(|_| Error::damaged("truncated"))?;
    Ok(buf)
}

/// Parses and cross-checks everything but signature and payload hashes.
pub(crate) fn parse<R: Read + Seek>(r: &mut R, file_len: u64) -> Result<Parsed, Error> {
    if file_len < PREAMBLE_LEN + 2 + 2 + TRAILER_LEN {
        if file_len >= 8 && read_at(r, 0, 8)? != MAGIC {
            return Err(Error::damaged("not an Obscura export (bad magic)"));
        }
        return Err(Error::damaged("truncated (too short)"));
    }
    let pre = read_at(r, 0, PREAMBLE_LEN as usize)?;
    if pre[..8] != MAGIC {
        return Err(Error::damaged("not an Obscura export (bad magic)"));
    }
    let version = u32::from(u16::from_be_bytes([pre[8], pre[9]]));
    let Some(rules) = rules_for(version) else {
        return Err(Error::damaged(format!(
            "unsupported format version {version}"
        )));
    };
    let h_len = u32::from_be_bytes([pre[10], pre[11], pre[12], pre[13]]) as u64;
    if !(2..=MAX_HEADER).contains(&h_len) || PREAMBLE_LEN + h_len + 2 + TRAILER_LEN > file_len {
        return Err(Error::damaged("header length out of bounds (truncated?)"));
    }
    let tail = read_at(r, file_len - 12, 12)?;
    if tail[4..] != END_MAGIC {
        return Err(Error::damaged("truncated or extended (no end marker)"));
    }
    let m_len = u32::from_be_bytes([tail[0], tail[1], tail[2], tail[3]]) as u64;
    if !(2..=MAX_MANIFEST).contains(&m_len) || PREAMBLE_LEN + h_len + m_len + TRAILER_LEN > file_len
    {
        return Err(Error::damaged("manifest length out of bounds (truncated?)"));
    }
    let header_bytes = read_at(r, PREAMBLE_LEN, h_len as usize)?;
    let header: Header = from_canonical(&header_bytes, "header", rules)?;
    let m_off = file_len - TRAILER_LEN - m_len;
    let mut ms = read_at(r, m_off, (m_len + 64) as usize)?;
    let signature: [u8; 64] = ms[m_len as usize..]
        .try_into()
        .map_err(|_| Error::damaged("truncated"))?;
    ms.truncate(m_len as usize);
    let manifest = Manifest::from_canonical_bytes_as(&ms, rules)?;
    let export_id = check_structure(version, &header, &header_bytes, &manifest)?;

    let mut payload_total: u64 = 0;
    for p in &manifest.payloads {
        payload_total = payload_total
            .checked_add(p.ciphertext_size)
            .ok_or_else(|| Error::damaged("payload sizes overflow"))?;
    }
    let expected = PREAMBLE_LEN + h_len + m_len + TRAILER_LEN;
    if expected.checked_add(payload_total) != Some(file_len) {
        return Err(Error::damaged(format!(
            "file is {file_len} bytes but its manifest describes {} (truncated, extended or spliced)",
            expected.saturating_add(payload_total)
        )));
    }
    Ok(Parsed {
        version,
        header,
        manifest,
        manifest_bytes: ms,
        signature,
        export_id,
        payload_offset: PREAMBLE_LEN + h_len,
    })
}

fn is_hex(s: &str, bytes: usize) -> bool {
    s.len() == 2 * bytes && unhex_vec(s).is_some()
}

fn check_structure(
    version: u32,
    header: &Header,
    header_bytes: &[u8],
    m: &Manifest,
) -> Result<[u8; 16], Error> {
    let d = |s: &str| Err(Error::damaged(s.to_string()));
    if header.version != version || m.format_version != version {
        return Err(Error::damaged(format!(
            "header or manifest version differs from the file's version {version}"
        )));
    }
    let Some(export_id) = unhex::<16>(&header.export_id) else {
        return d("malformed export id");
    };
    if m.export_id != header.export_id {
        return d("manifest belongs to another export (export id differs)");
    }
    if obscura_core::digest::sha256_hex(header_bytes) != m.header_sha256 {
        return d("manifest belongs to another header (header hash differs)");
    }
    if !header.chunk_size.is_power_of_two() || !(64..=16 << 20).contains(&header.chunk_size) {
        return d("invalid chunk size");
    }
    if header.payload_count as usize != m.payloads.len()
        || m.payloads.is_empty()
        || m.payloads.len() > MAX_PAYLOADS
    {
        return d("payload count differs between header and manifest");
    }
    if header.recipients.is_empty()
        || header.recipients.len() > MAX_RECIPIENTS
        || header.recipients.len() != m.recipients.len()
    {
        return d("recipient count differs between header and manifest");
    }
    // One passphrase stanza at most, so a reader runs Argon2id at most once (within the
    // capped costs checked below) however the file is made.
    if header
        .recipients
        .iter()
        .filter(|s| matches!(s, Stanza::Argon2id { .. }))
        .count()
        > 1
    {
        return d("more than one passphrase stanza");
    }
    for (s, e) in header.recipients.iter().zip(&m.recipients) {
        let ok = match (s, e) {
            (
                Stanza::X25519 {
                    ephemeral,
                    wrapped_key,
                },
                RecipientEntry::X25519 { fingerprint },
            ) => is_hex(ephemeral, 32) && is_hex(wrapped_key, 48) && is_hex(fingerprint, 32),
            (
                Stanza::Argon2id {
                    m_kib,
                    p,
                    salt,
                    t,
                    wrapped_key,
                },
                RecipientEntry::Argon2id {},
            ) => {
                is_hex(salt, 16)
                    && is_hex(wrapped_key, 48)
                    && KdfParams {
                        m_kib: *m_kib,
                        t: *t,
                        p: *p,
                    }
                    .check_reader_limits()
                    .is_ok()
            }
            _ => false,
        };
        if !ok {
            return d("malformed recipient stanza");
        }
    }
    let mut names = HashSet::new();
    for p in &m.payloads {
        check_payload_name(&p.name).map_err(|_| Error::damaged("unsafe payload name"))?;
        if !names.insert(p.name.as_str()) {
            return d("duplicate payload name");
        }
        if p.media_type.is_empty()
            || p.media_type.len() > 255
            || p.media_type.chars().any(char::is_control)
        {
            return d("invalid media type");
        }
        if p.plaintext_size > u64::MAX / 2
            || ciphertext_size(p.plaintext_size, header.chunk_size as u64) != p.ciphertext_size
        {
            return d("payload sizes inconsistent");
        }
        if !is_hex(&p.plaintext_sha256, 32) || !is_hex(&p.ciphertext_sha256, 32) {
            return d("malformed payload hash");
        }
    }
    let Some(pk) = unhex::<32>(&m.signer.public_key) else {
        return d("malformed signer key");
    };
    if m.signer.algorithm != "ed25519"
        || SignerPublicKey::from_bytes(&pk).is_err()
        || m.signer.fingerprint != crate::keys::fingerprint(&pk)
    {
        return d("malformed signer entry");
    }
    if let Some(e) = &m.expires {
        Date::parse(e).map_err(|_| Error::damaged("malformed expiry date"))?;
    }
    if !obscura_core::civil::is_rfc3339_utc_seconds(&m.created) {
        return d("malformed creation time (not YYYY-MM-DDTHH:MM:SSZ)");
    }
    let floats = m
        .policy
        .as_ref()
        .is_some_and(|p| p.thresholds.values().any(|t| t.is_format1_float()));
    let strings = m
        .policy
        .as_ref()
        .is_some_and(|p| p.thresholds.values().any(|t| !t.is_format1_float()));
    if version == 1 && strings {
        return d("format 1 policy thresholds must be numbers");
    }
    if version >= 2 {
        if floats {
            return d("format 2 policy thresholds must be decimal strings");
        }
        check_v2_rules(header, m).map_err(|e| match e {
            Error::Invalid { what, problem } => Error::damaged(format!("{what}: {problem}")),
            other => other,
        })?;
    }
    Ok(export_id)
}

/// The rules format 2 adds (FORMAT.md 5.2): no unknown keys, bounded text fields and lists,
/// media types by grammar, valid intervals, and a passphrase stanza only alone.
fn check_v2_rules(header: &Header, m: &Manifest) -> Result<(), Error> {
    let bad = |what: &str, why: &str| Err(Error::invalid(what.to_string(), why.to_string()));
    if let Some(k) = m.unknown.keys().next() {
        return bad(&format!("manifest key {k:?}"), "unknown in format 2");
    }
    if header.recipients.len() > 1
        && header
            .recipients
            .iter()
            .any(|s| matches!(s, Stanza::Argon2id { .. }))
    {
        return bad(
            "recipients",
            "a passphrase stanza must be the only stanza in format 2",
        );
    }
    for (what, v) in [("reference", &m.reference), ("operator", &m.operator)] {
        if let Some(v) = v {
            check_text(what, v, MAX_FREE_TEXT)?;
        }
    }
    for p in &m.payloads {
        check_media_type(&p.media_type)?;
    }
    if m.sources.len() > MAX_LIST || m.cameras.len() > MAX_LIST {
        return bad("manifest", "more than 65536 sources or cameras");
    }
    for s in &m.sources {
        check_text("source name", &s.name, MAX_NAME)?;
        if !is_hex(&s.sha256, 32) {
            return bad(
                &format!("source {:?}", s.name),
                "sha256 is not 64 lowercase hex digits",
            );
        }
    }
    for c in &m.cameras {
        check_text("camera id", &c.camera, MAX_NAME)?;
        if c.included.len() > MAX_LIST || c.excluded.len() > MAX_LIST {
            return bad(
                &format!("camera {:?}", c.camera),
                "more than 65536 intervals",
            );
        }
        for i in c.included.iter().chain(&c.excluded) {
            let (s, e) = (i.start(), i.end());
            if [s, e]
                .iter()
                .any(|t| t.time_base.num() < 1 || t.time_base.den() < 1)
            {
                return bad(
                    &format!("camera {:?}", c.camera),
                    "time base numerator and denominator must be at least 1",
                );
            }
            if s >= e {
                return bad(
                    &format!("camera {:?}", c.camera),
                    "interval start is not before its end",
                );
            }
        }
    }
    if let Some(p) = &m.policy {
        if p.detector_models.len() > MAX_LIST || p.kept_track_ids.len() > MAX_LIST {
            return bad("policy", "more than 65536 models or kept track ids");
        }
        for model in &p.detector_models {
            check_text("model name", &model.name, MAX_NAME)?;
            if !is_hex(&model.sha256, 32) {
                return bad(
                    &format!("model {:?}", model.name),
                    "sha256 is not 64 lowercase hex digits",
                );
            }
        }
        for k in p
            .thresholds
            .keys()
            .chain(p.styles.keys())
            .chain(p.extra.keys())
        {
            check_text("policy key", k, MAX_NAME)?;
        }
        for v in p.styles.values() {
            check_text("style", v, MAX_NAME)?;
        }
    }
    Ok(())
}

fn check_signature(p: &Parsed, pinned: Option<&SignerPublicKey>) -> Result<SignerPublicKey, Error> {
    let pk_bytes = unhex::<32>(&p.manifest.signer.public_key).ok_or(Error::BadSignature)?;
    // FORMAT.md section 6 step 2: `verify_strict` checks `R` is canonical (it compares
    // bytes) but decodes `A` modulo p; the format requires a canonical `A` too.
    if !canonical_y(&pk_bytes) {
        return Err(Error::BadSignature);
    }
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&pk_bytes).map_err(|_| Error::BadSignature)?;
    let sig = ed25519_dalek::Signature::from_bytes(&p.signature);
    let context = sig_context(p.version);
    let mut msg = Vec::with_capacity(context.len() + p.manifest_bytes.len());
    msg.extend_from_slice(context);
    msg.extend_from_slice(&p.manifest_bytes);
    vk.verify_strict(&msg, &sig)
        .map_err(|_| Error::BadSignature)?;
    let signer = SignerPublicKey(pk_bytes);
    if let Some(want) = pinned
        && *want != signer
    {
        return Err(Error::UnknownSigner {
            fingerprint: signer.fingerprint(),
        });
    }
    Ok(signer)
}

/// True when the 255 low bits of an Edwards point encoding (its `y`) are below p = 2^255 - 19.
fn canonical_y(b: &[u8; 32]) -> bool {
    // y >= p exactly when y is p..=2^255-1: bytes ed..ff, ff x30, 7f (little-endian)
    !(b[31] & 0x7f == 0x7f && b[1..31].iter().all(|&x| x == 0xff) && b[0] >= 0xed)
}

fn check_expiry(m: &Manifest) -> Result<(), Error> {
    if let Some(e) = &m.expires
        && Date::parse(e).map_err(Error::date)? < Date::today_utc()
    {
        return Err(Error::Expired { expires: e.clone() });
    }
    Ok(())
}

/// Opens an export for reading. Opened non-blocking and checked with `fstat` before any
/// read, so a FIFO, a device or a folder given in place of an export is refused at once
/// instead of hanging (or reading forever).
fn open_file(path: &Path) -> Result<(File, u64), Error> {
    use rustix::fs::{FileType, Mode, OFlags};
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY,
        Mode::empty(),
    )
    .map_err(|e| Error::io(path, e.into()))?;
    let st = rustix::fs::fstat(&fd).map_err(|e| Error::io(path, e.into()))?;
    let kind = FileType::from_raw_mode(st.st_mode);
    if kind != FileType::RegularFile {
        let what = match kind {
            FileType::Fifo => "a FIFO (named pipe)",
            FileType::CharacterDevice | FileType::BlockDevice => "a device",
            FileType::Directory => "a folder",
            FileType::Socket => "a socket",
            _ => "not a regular file",
        };
        return Err(Error::invalid(
            format!("export {}", path.display()),
            format!("is {what}, not an export file"),
        ));
    }
    // O_NONBLOCK has no effect on regular files.
    Ok((File::from(fd), st.st_size as u64))
}

/// Verifies an export without any decryption key: structure, canonical forms, the Ed25519
/// signature over the manifest (made by `signer` when given), every payload's ciphertext
/// hash, and the retention expiry ([`Error::Expired`] is returned only when everything else
/// is valid).
pub fn verify(
    path: &Path,
    signer: Option<&SignerPublicKey>,
) -> Result<VerifiedExport, VerifyError> {
    let (mut f, len) = open_file(path)?;
    let p = parse(&mut f, len)?;
    let signer_key = check_signature(&p, signer)?;
    f.seek(SeekFrom::Start(p.payload_offset))
        .map_err(|e| Error::io(path, e))?;
    for (i, e) in p.manifest.payloads.iter().enumerate() {
        let h = hash_exact(&mut f, e.ciphertext_size).map_err(|_| Error::damaged("truncated"))?;
        if hex(&h) != e.ciphertext_sha256 {
            return Err(Error::damaged(format!(
                "payload {} ({:?}) does not match its signed hash",
                i + 1,
                e.name
            )));
        }
    }
    check_expiry(&p.manifest)?;
    Ok(VerifiedExport {
        manifest: p.manifest,
        signer: signer_key,
        signer_pinned: signer.is_some(),
        file_size: len,
    })
}

use crate::VerifyError;

/// Reads the manifest without decrypting or verifying anything cryptographic (structure and
/// canonical form are still checked). Use [`verify`] before trusting it.
pub fn inspect(path: &Path) -> Result<Manifest, Error> {
    let (mut f, len) = open_file(path)?;
    Ok(parse(&mut f, len)?.manifest)
}

/// [`inspect`] on bytes in memory (used by the fuzz targets).
pub fn inspect_bytes(bytes: &[u8]) -> Result<Manifest, Error> {
    let mut c = std::io::Cursor::new(bytes);
    Ok(parse(&mut c, bytes.len() as u64)?.manifest)
}

/// The content key from the first stanza `identity` unwraps.
fn unwrap_content_key(p: &Parsed, identity: &Identity) -> Result<Zeroizing<[u8; 32]>, Error> {
    let id = &p.export_id;
    for (s, entry) in p.header.recipients.iter().zip(&p.manifest.recipients) {
        match (s, identity) {
            (
                Stanza::X25519 {
                    ephemeral,
                    wrapped_key,
                },
                Identity::Recipient(sk),
            ) => {
                // Format 2 binds the signed fingerprint to its stanza: a reader tries only
                // the stanzas listed for its own key (FORMAT.md 2.3).
                if p.version >= 2
                    && !matches!(entry, RecipientEntry::X25519 { fingerprint } if *fingerprint == sk.public_key().fingerprint())
                {
                    continue;
                }
                let (Some(e), Some(w)) = (unhex::<32>(ephemeral), unhex_vec(wrapped_key)) else {
                    continue;
                };
                let shared = sk.0.diffie_hellman(&x25519_dalek::PublicKey::from(e));
                if !shared.was_contributory() {
                    continue;
                }
                let r = sk.public_key().to_bytes();
                let kek = x25519_kek(shared.as_bytes(), &e, &r, id);
                if let Some(k) = unwrap_key(&kek, id, &w) {
                    return Ok(k);
                }
            }
            (
                Stanza::Argon2id {
                    m_kib,
                    p: lanes,
                    salt,
                    t,
                    wrapped_key,
                },
                Identity::Passphrase(pass),
            ) => {
                let (Some(salt), Some(w)) = (unhex::<16>(salt), unhex_vec(wrapped_key)) else {
                    continue;
                };
                let params = KdfParams {
                    m_kib: *m_kib,
                    t: *t,
                    p: *lanes,
                };
                let Ok(kek) = params.derive(pass, &salt) else {
                    continue;
                };
                if let Some(k) = unwrap_key(&kek, id, &w) {
                    return Ok(k);
                }
            }
            _ => {}
        }
    }
    Err(Error::NoMatchingIdentity)
}

/// The X25519 stanza key-encryption key (FORMAT.md 2.3).
pub(crate) fn x25519_kek(
    shared: &[u8; 32],
    eph: &[u8; 32],
    recipient: &[u8; 32],
    export_id: &[u8; 16],
) -> Zeroizing<[u8; 32]> {
    let mut salt = [0u8; 64];
    salt[..32].copy_from_slice(eph);
    salt[32..].copy_from_slice(recipient);
    let hk = Hkdf::<Sha256>::new(Some(&salt), shared);
    let mut out = Zeroizing::new([0u8; 32]);
    let _ = hk.expand_multi_info(&[b"obscura/v1/x25519", export_id], out.as_mut());
    out
}

/// Verifies, then decrypts every payload into `out_dir` (which must exist). Each payload is
/// decrypted into an unnamed temporary file in `out_dir` (Linux `O_TMPFILE`: a kill leaves
/// nothing) and checked (every chunk authenticated, ciphertext and plaintext hashes and sizes
/// equal to the signed manifest); only when all payloads check out are they given their
/// names, never replacing an existing entry and never through a symlink. On any failure
/// nothing of this export is left in `out_dir`. Refuses an expired export unless
/// `allow_expired`. Returns the written paths in manifest order.
///
/// Callers that must record the opening before any plaintext becomes visible use
/// [`decrypt`] and [`DecryptedExport::publish`].
pub fn open(
    path: &Path,
    identity: &Identity,
    out_dir: &Path,
    allow_expired: bool,
) -> Result<Vec<PathBuf>, Error> {
    open_with(
        path,
        identity,
        out_dir,
        &OpenOptions {
            allow_expired,
            ..Default::default()
        },
    )
}

/// Options of [`open_with`].
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// Open even when the retention expiry date has passed.
    pub allow_expired: bool,
    /// Require the manifest to be signed by this key ([`Error::UnknownSigner`] otherwise).
    pub signer: Option<SignerPublicKey>,
    /// When set (and `signer` is not), require the signer to be one of these keys, e.g. a
    /// [`crate::TrustStore`]'s ([`Error::UnknownSigner`] otherwise; an empty list refuses
    /// every export). `None` with no `signer`: any valid signature is accepted.
    pub trusted: Option<Vec<SignerPublicKey>>,
    /// Let [`DecryptedExport::publish`] replace files of the payloads' names that already
    /// exist in the output folder (the CLI's `--force`), each atomically and never through a
    /// symlink. Default `false`: an existing file is refused and nothing is published.
    pub replace_existing: bool,
}

/// [`open`] with options (e.g. a required signer).
pub fn open_with(
    path: &Path,
    identity: &Identity,
    out_dir: &Path,
    options: &OpenOptions,
) -> Result<Vec<PathBuf>, Error> {
    decrypt(path, identity, out_dir, options)?.publish()
}

/// Every payload of an export, verified and decrypted into unnamed files in the output
/// folder, not yet visible there: [`DecryptedExport::publish`] names them; dropping the
/// value discards them (nothing was ever named).
#[derive(Debug)]
#[non_exhaustive]
pub struct DecryptedExport {
    /// The signed manifest.
    pub manifest: Manifest,
    /// The key that signed it.
    pub signer: SignerPublicKey,
    pending: Vec<PendingFile>,
    replace_existing: bool,
}

impl DecryptedExport {
    /// Gives every payload its name in the output folder (no replacing unless
    /// [`OpenOptions::replace_existing`], no symlink followed); if one cannot be named, the
    /// ones already named are removed again. Returns the paths in manifest order.
    pub fn publish(self) -> Result<Vec<PathBuf>, Error> {
        let mut done: Vec<PathBuf> = Vec::with_capacity(self.pending.len());
        for pf in self.pending {
            let dest = pf.dest().to_path_buf();
            let committed = if self.replace_existing {
                pf.commit()
            } else {
                pf.commit_new()
            };
            match committed {
                Ok(d) => done.push(d),
                Err(err) => {
                    for d in &done {
                        let _ = std::fs::remove_file(d);
                    }
                    if err.kind() == std::io::ErrorKind::AlreadyExists {
                        return Err(Error::invalid(
                            format!("output file {}", dest.display()),
                            "already exists (not overwritten; --force replaces it)",
                        ));
                    }
                    return Err(Error::io(dest, err));
                }
            }
        }
        Ok(done)
    }
}

/// The first half of [`open_with`]: verifies and decrypts every payload into unnamed files
/// in `out_dir`, nothing visible yet.
pub fn decrypt(
    path: &Path,
    identity: &Identity,
    out_dir: &Path,
    options: &OpenOptions,
) -> Result<DecryptedExport, Error> {
    let allow_expired = options.allow_expired;
    let (mut f, len) = open_file(path)?;
    let p = parse(&mut f, len)?;
    let signer = check_signature(&p, options.signer.as_ref())?;
    if options.signer.is_none()
        && let Some(list) = &options.trusted
        && !list.contains(&signer)
    {
        return Err(Error::UnknownSigner {
            fingerprint: signer.fingerprint(),
        });
    }
    if !allow_expired {
        check_expiry(&p.manifest)?;
    }
    if !out_dir.is_dir() {
        return Err(Error::invalid(
            format!("output folder {}", out_dir.display()),
            "does not exist",
        ));
    }
    let mut folded = HashSet::new();
    for e in &p.manifest.payloads {
        check_portable_name(&e.name)?;
        if !folded.insert(name_key(&e.name)) {
            return Err(Error::invalid(
                format!("payload name {:?}", e.name),
                "differs from another payload's only in case or Unicode normalisation (one would replace the other)",
            ));
        }
    }
    let dests: Vec<PathBuf> = p
        .manifest
        .payloads
        .iter()
        .map(|e| out_dir.join(&e.name))
        .collect();
    for d in &dests {
        if !options.replace_existing && d.symlink_metadata().is_ok() {
            return Err(Error::invalid(
                format!("output file {}", d.display()),
                "already exists (not overwritten; --force replaces it)",
            ));
        }
    }
    let key = unwrap_content_key(&p, identity)?;
    let chunk = p.header.chunk_size as usize;
    f.seek(SeekFrom::Start(p.payload_offset))
        .map_err(|e| Error::io(path, e))?;
    let mut pending = Vec::with_capacity(dests.len());
    for (i, (e, dest)) in p.manifest.payloads.iter().zip(&dests).enumerate() {
        let pf = PendingFile::new(dest).map_err(|err| Error::io(dest, err))?;
        let out = pf.create().map_err(|err| Error::io(dest, err))?;
        let st = pass(
            (&mut f).take(e.ciphertext_size),
            out,
            chunk,
            decryptor(payload_stream(&key, &p.export_id, i as u32)),
            Some(e.ciphertext_size),
        );
        let st = match st {
            Ok(st) => st,
            Err(PassError::Write(err)) => return Err(Error::io(dest, err)),
            Err(PassError::Read(_)) | Err(PassError::Crypto) => {
                return Err(Error::damaged("payload failed authentication"));
            }
        };
        if st.in_bytes != e.ciphertext_size
            || hex(&st.in_sha256) != e.ciphertext_sha256
            || st.out_bytes != e.plaintext_size
            || hex(&st.out_sha256) != e.plaintext_sha256
        {
            return Err(Error::damaged("payload does not match its signed hashes"));
        }
        pending.push(pf);
    }
    Ok(DecryptedExport {
        manifest: p.manifest,
        signer,
        pending,
        replace_existing: options.replace_existing,
    })
}

#[cfg(test)]
mod tests {
    use super::canonical_y;

    #[test]
    fn canonical_point_encodings() {
        let enc = |low: u8, top: u8| {
            let mut b = [0xffu8; 32];
            b[0] = low;
            b[31] = top;
            b
        };
        assert!(canonical_y(&enc(0xec, 0x7f)), "p - 1");
        assert!(canonical_y(&enc(0xec, 0xff)), "p - 1 with the sign bit");
        for low in [0xed, 0xee, 0xff] {
            assert!(
                !canonical_y(&enc(low, 0x7f)) && !canonical_y(&enc(low, 0xff)),
                "{low:x}: p and above"
            );
        }
        assert!(canonical_y(&[0; 32]) && canonical_y(&enc(0xff, 0x7e)));
    }
}
