//! Writing exports: [`SealBuilder`].

use std::collections::HashSet;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use obscura_core::atomic::PendingFile;
use zeroize::Zeroizing;

use crate::canonical::{hex, to_canonical};
use crate::container::{
    END_MAGIC, MAGIC, MAX_FREE_TEXT, MAX_NAME, MAX_PAYLOADS, MAX_RECIPIENTS, sig_context,
    x25519_kek,
};
use crate::keys::{random, wrap};
use crate::manifest::{
    Header, PayloadEntry, RecipientEntry, SignerEntry, Stanza, check_media_type,
    check_payload_name, check_portable_name, check_text, name_key, rules_for,
};
use crate::stream::{PassError, encryptor, pass, payload_stream};
use crate::{
    CameraRecord, DEFAULT_CHUNK_SIZE, Date, Error, FORMAT_VERSION, KdfParams, Manifest, Passphrase,
    RecipientPublicKey, RedactionPolicy, Signer, SourceFile,
};

enum Source {
    File(PathBuf),
    Bytes(Vec<u8>),
}

struct PayloadSpec {
    name: String,
    media_type: String,
    source: Source,
}

enum SourceSpec {
    Hash(SourceFile),
    File(PathBuf),
}

/// Builds and writes one export. Setters never fail; [`SealBuilder::write_to`] validates
/// everything and returns a typed error naming the bad value.
pub struct SealBuilder<'a> {
    signer: &'a dyn Signer,
    recipients: Vec<RecipientPublicKey>,
    passphrase: Option<(Passphrase, KdfParams)>,
    expires: Option<Date>,
    reference: Option<String>,
    operator: Option<String>,
    sources: Vec<SourceSpec>,
    cameras: Vec<CameraRecord>,
    policy: Option<RedactionPolicy>,
    payloads: Vec<PayloadSpec>,
    chunk_size: u32,
    legacy_mixed: bool,
    version: u32,
    replace_existing: bool,
}

impl std::fmt::Debug for SealBuilder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealBuilder")
            .field("signer", &self.signer.public_key())
            .field("recipients", &self.recipients)
            .field(
                "passphrase",
                &self.passphrase.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "payloads",
                &self.payloads.iter().map(|p| &p.name).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl<'a> SealBuilder<'a> {
    /// A new export signed by `signer`.
    pub fn new(signer: &'a dyn Signer) -> Self {
        Self {
            signer,
            recipients: Vec::new(),
            passphrase: None,
            expires: None,
            reference: None,
            operator: None,
            sources: Vec::new(),
            cameras: Vec::new(),
            policy: None,
            payloads: Vec::new(),
            chunk_size: DEFAULT_CHUNK_SIZE,
            legacy_mixed: false,
            version: FORMAT_VERSION,
            replace_existing: false,
        }
    }

    /// Lets [`SealBuilder::write_to`] replace an existing file at its path (the CLI's
    /// `--force`): still atomically (the new export gets the name in one step; a symlink
    /// there is replaced, never followed), and never when the path is one of the inputs.
    /// Default: an existing path is refused.
    pub fn replace_existing(mut self, yes: bool) -> Self {
        self.replace_existing = yes;
        self
    }

    /// Adds an X25519 recipient.
    pub fn recipient(mut self, key: RecipientPublicKey) -> Self {
        self.recipients.push(key);
        self
    }

    /// Adds a passphrase recipient with the default Argon2id parameters (64 MiB, t = 3).
    pub fn passphrase(self, pass: Passphrase) -> Self {
        self.passphrase_with_params(pass, KdfParams::default())
    }

    /// Adds a passphrase recipient with explicit Argon2id parameters.
    pub fn passphrase_with_params(mut self, pass: Passphrase, params: KdfParams) -> Self {
        self.passphrase = Some((pass, params));
        self
    }

    /// TEST ONLY: allows a passphrase stanza beside X25519 stanzas, as writers before the
    /// one-passphrase-stanza-alone rule produced (FORMAT.md 2.3), so tests and vectors can
    /// check that readers still open such version-1 exports. Implies format 1 (format 2
    /// refuses a passphrase stanza beside others).
    pub fn legacy_mixed_stanzas_for_tests(mut self) -> Self {
        self.legacy_mixed = true;
        self.version = 1;
        self
    }

    /// TEST ONLY: writes format 1 (floats in the policy, no format-2 rules), as writers before
    /// format 2 did, so tests and vectors can check that readers still verify and open it.
    pub fn format_v1_for_tests(mut self) -> Self {
        self.version = 1;
        self
    }

    /// Retention expiry: the last UTC day the export may be opened.
    pub fn expires(mut self, date: Date) -> Self {
        self.expires = Some(date);
        self
    }

    /// Request reference (case number, ticket id).
    pub fn reference(mut self, reference: impl Into<String>) -> Self {
        self.reference = Some(reference.into());
        self
    }

    /// Pseudonymous operator id.
    pub fn operator(mut self, operator: impl Into<String>) -> Self {
        self.operator = Some(operator.into());
        self
    }

    /// Records a source footage file by name and known SHA-256 (hex).
    pub fn source(mut self, name: impl Into<String>, sha256_hex: impl Into<String>) -> Self {
        self.sources.push(SourceSpec::Hash(SourceFile {
            name: name.into(),
            sha256: sha256_hex.into(),
        }));
        self
    }

    /// Records a source footage file, hashed when the export is written.
    pub fn source_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.sources.push(SourceSpec::File(path.into()));
        self
    }

    /// Per-camera included/excluded intervals.
    pub fn cameras(mut self, cameras: Vec<CameraRecord>) -> Self {
        self.cameras = cameras;
        self
    }

    /// The redaction policy applied.
    pub fn policy(mut self, policy: RedactionPolicy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// Adds a payload read from a file (streamed; any size).
    pub fn add_payload_file(
        mut self,
        name: impl Into<String>,
        media_type: impl Into<String>,
        path: impl Into<PathBuf>,
    ) -> Self {
        self.payloads.push(PayloadSpec {
            name: name.into(),
            media_type: media_type.into(),
            source: Source::File(path.into()),
        });
        self
    }

    /// Adds a payload from memory.
    pub fn add_payload_bytes(
        mut self,
        name: impl Into<String>,
        media_type: impl Into<String>,
        bytes: Vec<u8>,
    ) -> Self {
        self.payloads.push(PayloadSpec {
            name: name.into(),
            media_type: media_type.into(),
            source: Source::Bytes(bytes),
        });
        self
    }

    /// TEST ONLY: a STREAM chunk size other than 64 KiB (a power of two, 64 B to 16 MiB), so
    /// exhaustive tamper tests can cover many chunks with small files.
    pub fn chunk_size_for_tests(mut self, chunk_size: u32) -> Self {
        self.chunk_size = chunk_size;
        self
    }

    fn validate(&self) -> Result<(), Error> {
        if self.recipients.is_empty() && self.passphrase.is_none() {
            return Err(Error::invalid(
                "recipients",
                "none given (add a recipient key or a passphrase)",
            ));
        }
        if self.recipients.len() + usize::from(self.passphrase.is_some()) > MAX_RECIPIENTS {
            return Err(Error::invalid(
                "recipients",
                format!("more than {MAX_RECIPIENTS}"),
            ));
        }
        let mut seen = HashSet::new();
        for r in &self.recipients {
            if !seen.insert(r.to_bytes()) {
                return Err(Error::invalid(
                    format!("recipient {}", r.fingerprint()),
                    "given twice",
                ));
            }
        }
        if self.passphrase.is_some() && !self.recipients.is_empty() && !self.legacy_mixed {
            return Err(Error::invalid(
                "recipients",
                "a passphrase must be the only recipient (seal separately for key holders)",
            ));
        }
        if let Some((_, params)) = &self.passphrase {
            params
                .check_reader_limits()
                .map_err(|_| Error::invalid("Argon2id parameters", "out of bounds"))?;
        }
        if self.payloads.is_empty() || self.payloads.len() > MAX_PAYLOADS {
            return Err(Error::invalid(
                "payloads",
                format!("need 1 to {MAX_PAYLOADS}"),
            ));
        }
        let mut names = HashSet::new();
        for p in &self.payloads {
            check_payload_name(&p.name)?;
            check_portable_name(&p.name)?;
            if !names.insert(name_key(&p.name)) {
                return Err(Error::invalid(
                    format!("payload name {:?}", p.name),
                    "used twice (names must differ after case folding and Unicode NFC)",
                ));
            }
            check_media_type(&p.media_type)?;
        }
        for (what, v) in [
            ("reference", &self.reference),
            ("operator id", &self.operator),
        ] {
            if let Some(v) = v {
                check_text(what, v, MAX_FREE_TEXT)?;
            }
        }
        for c in &self.cameras {
            check_text("camera id", &c.camera, MAX_NAME)?;
        }
        if let Some(p) = &self.policy {
            for (k, t) in &p.thresholds {
                if !t.to_format2().is_valid() {
                    return Err(Error::invalid(
                        format!("policy threshold {k:?} = {t}"),
                        "must be a finite decimal of at most 40 bytes",
                    ));
                }
            }
            for k in p
                .thresholds
                .keys()
                .chain(p.styles.keys())
                .chain(p.extra.keys())
                .chain(p.styles.values())
            {
                check_text("policy key or style", k, MAX_NAME)?;
            }
            for m in &p.detector_models {
                check_text("model name", &m.name, MAX_NAME)?;
            }
        }
        if !self.chunk_size.is_power_of_two() || !(64..=16 << 20).contains(&self.chunk_size) {
            return Err(Error::invalid(
                format!("chunk size {}", self.chunk_size),
                "must be a power of two from 64 to 16 MiB",
            ));
        }
        for s in &self.sources {
            if let SourceSpec::Hash(s) = s {
                check_text("source name", &s.name, MAX_NAME)?;
                if s.sha256.len() != 64 || crate::canonical::unhex_vec(&s.sha256).is_none() {
                    return Err(Error::invalid(
                        format!("sha256 of source {:?}", s.name),
                        "must be 64 lowercase hex digits",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Validates, encrypts every payload and writes the export atomically to `path`: into an
    /// unnamed file in `path`'s folder (a kill leaves nothing), then named without replacing
    /// anything or following a symlink. Fails when `path` exists (also when another writer
    /// creates it meanwhile: the kernel refuses the name), unless
    /// [`SealBuilder::replace_existing`]. Returns the signed manifest.
    pub fn write_to(self, path: &Path) -> Result<Manifest, Error> {
        self.validate()?;
        // Never replace an input with the output.
        if let Ok(out) = path.canonicalize() {
            for p in &self.payloads {
                if let Source::File(f) = &p.source
                    && f.canonicalize().ok().as_ref() == Some(&out)
                {
                    return Err(Error::invalid(
                        format!("output {}", path.display()),
                        "is one of the inputs",
                    ));
                }
            }
        }
        if !self.replace_existing && path.symlink_metadata().is_ok() {
            return Err(Error::invalid(
                format!("output {}", path.display()),
                "already exists (exports are never overwritten)",
            ));
        }
        let mut sources = Vec::with_capacity(self.sources.len());
        for s in &self.sources {
            sources.push(match s {
                SourceSpec::Hash(s) => s.clone(),
                SourceSpec::File(p) => {
                    let name = p
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    check_text("source name", &name, MAX_NAME)?;
                    SourceFile {
                        name,
                        sha256: hex(&sha256_file(p)?),
                    }
                }
            });
        }
        // Open every payload before creating anything, so a missing input leaves nothing.
        let mut readers: Vec<(Box<dyn Read + Send + '_>, Option<u64>)> =
            Vec::with_capacity(self.payloads.len());
        for p in &self.payloads {
            readers.push(match &p.source {
                Source::File(f) => {
                    let file = File::open(f).map_err(|e| Error::io(f, e))?;
                    let len = file.metadata().map_err(|e| Error::io(f, e))?.len();
                    // the length is only a hint for scheduling; the file is read to its end
                    (Box::new(file), Some(len))
                }
                Source::Bytes(b) => (Box::new(&b[..]), Some(b.len() as u64)),
            });
        }

        let export_id = random::<16>()?;
        let content_key = Zeroizing::new(random::<32>()?);
        let mut stanzas = Vec::new();
        let mut entries = Vec::new();
        for r in &self.recipients {
            let e = x25519_dalek::StaticSecret::from(random::<32>()?);
            let e_pub = x25519_dalek::PublicKey::from(&e).to_bytes();
            let shared = e.diffie_hellman(&x25519_dalek::PublicKey::from(r.to_bytes()));
            if !shared.was_contributory() {
                return Err(Error::invalid(
                    format!("recipient {}", r.fingerprint()),
                    "is not a usable X25519 key (low order)",
                ));
            }
            let kek = x25519_kek(shared.as_bytes(), &e_pub, &r.to_bytes(), &export_id);
            stanzas.push(Stanza::X25519 {
                ephemeral: hex(&e_pub),
                wrapped_key: hex(&wrap(&kek, &export_id, content_key.as_ref())?),
            });
            entries.push(RecipientEntry::X25519 {
                fingerprint: r.fingerprint(),
            });
        }
        if let Some((pass, params)) = &self.passphrase {
            let salt = random::<16>()?;
            let kek = params.derive(pass, &salt)?;
            stanzas.push(Stanza::Argon2id {
                m_kib: params.m_kib,
                p: params.p,
                salt: hex(&salt),
                t: params.t,
                wrapped_key: hex(&wrap(&kek, &export_id, content_key.as_ref())?),
            });
            entries.push(RecipientEntry::Argon2id {});
        }
        let header = Header {
            chunk_size: self.chunk_size,
            export_id: hex(&export_id),
            payload_count: self.payloads.len() as u32,
            recipients: stanzas,
            version: self.version,
        };
        let rules = rules_for(self.version)
            .ok_or_else(|| Error::invalid("format version", self.version.to_string()))?;
        let header_bytes = to_canonical(&header, "header", rules)?;

        let pending = PendingFile::new(path).map_err(|e| Error::io(path, e))?;
        let io = |e| Error::io(path, e);
        let mut out = pending.create().map_err(io)?;
        out.write_all(&MAGIC).map_err(io)?;
        out.write_all(&(self.version as u16).to_be_bytes())
            .map_err(io)?;
        out.write_all(&(header_bytes.len() as u32).to_be_bytes())
            .map_err(io)?;
        out.write_all(&header_bytes).map_err(io)?;

        let mut payloads = Vec::with_capacity(self.payloads.len());
        for (i, (spec, (reader, hint))) in self.payloads.iter().zip(readers).enumerate() {
            let st = pass(
                reader,
                &mut out,
                self.chunk_size as usize,
                encryptor(payload_stream(&content_key, &export_id, i as u32)),
                hint,
            )
            .map_err(|e| match e {
                PassError::Read(e) => match &spec.source {
                    Source::File(f) => Error::io(f, e),
                    Source::Bytes(_) => Error::io(format!("payload {}", spec.name), e),
                },
                PassError::Write(e) => io(e),
                PassError::Crypto => Error::invalid(
                    format!("payload {:?}", spec.name),
                    "too large for one STREAM",
                ),
            })?;
            payloads.push(PayloadEntry {
                name: spec.name.clone(),
                media_type: spec.media_type.clone(),
                plaintext_size: st.in_bytes,
                plaintext_sha256: hex(&st.in_sha256),
                ciphertext_size: st.out_bytes,
                ciphertext_sha256: hex(&st.out_sha256),
            });
        }

        let signer_pk = self.signer.public_key();
        let manifest = Manifest {
            format_version: self.version,
            export_id: hex(&export_id),
            header_sha256: obscura_core::digest::sha256_hex(&header_bytes),
            created: obscura_core::civil::now_rfc3339(),
            expires: self.expires.map(|d| d.to_string()),
            reference: self.reference.clone(),
            operator: self.operator.clone(),
            sources,
            cameras: self.cameras.clone(),
            policy: self
                .policy
                .as_ref()
                .map(|p| policy_for_version(p, self.version)),
            payloads,
            recipients: entries,
            signer: SignerEntry {
                algorithm: "ed25519".into(),
                public_key: hex(&signer_pk.to_bytes()),
                fingerprint: signer_pk.fingerprint(),
            },
            unknown: Default::default(),
        };
        let manifest_bytes = manifest.canonical_bytes()?;
        if manifest_bytes.len() as u64 > crate::container::MAX_MANIFEST {
            return Err(Error::invalid("manifest", "larger than 16 MiB"));
        }
        let mut msg = sig_context(self.version).to_vec();
        msg.extend_from_slice(&manifest_bytes);
        let sig = self.signer.sign(&msg)?;
        // A plugged-in signer (HSM, KMS) must produce a signature that verifies.
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&signer_pk.to_bytes())
            .map_err(|_| Error::Signer("invalid public key".into()))?;
        vk.verify_strict(&msg, &ed25519_dalek::Signature::from_bytes(&sig))
            .map_err(|_| {
                Error::Signer("signature does not verify under the signer's public key".into())
            })?;
        out.write_all(&manifest_bytes).map_err(io)?;
        out.write_all(&sig).map_err(io)?;
        out.write_all(&(manifest_bytes.len() as u32).to_be_bytes())
            .map_err(io)?;
        out.write_all(&END_MAGIC).map_err(io)?;
        drop(out);
        let committed = if self.replace_existing {
            pending.commit()
        } else {
            pending.commit_new()
        };
        match committed {
            Ok(_) => Ok(manifest),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(Error::invalid(
                format!("output {}", path.display()),
                "already exists (created by another writer meanwhile; exports are never overwritten)",
            )),
            Err(e) => Err(Error::io(path, e)),
        }
    }
}

/// The policy as the format version writes it: format 2 has decimal strings for thresholds
/// and for every float in `extra` (FORMAT.md 4.2); format 1 has JSON numbers.
fn policy_for_version(p: &RedactionPolicy, version: u32) -> RedactionPolicy {
    let mut p = p.clone();
    for t in p.thresholds.values_mut() {
        *t = if version == 1 {
            t.to_format1()
        } else {
            t.to_format2()
        };
    }
    if version >= 2 {
        p.extra.values_mut().for_each(floats_to_decimal_strings);
    }
    p
}

fn floats_to_decimal_strings(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.is_f64() => {
            *v = Value::String(crate::Decimal::from(n.as_f64().unwrap_or(f64::NAN)).to_string())
        }
        Value::Array(a) => a.iter_mut().for_each(floats_to_decimal_strings),
        Value::Object(m) => m.values_mut().for_each(floats_to_decimal_strings),
        _ => {}
    }
}

/// SHA-256 of a regular file, streamed.
pub(crate) fn sha256_file(path: &Path) -> Result<[u8; 32], Error> {
    obscura_core::digest::sha256_file(path).map_err(|e| Error::io(path, e))
}
