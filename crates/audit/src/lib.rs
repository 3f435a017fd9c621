//! The Obscura audit log: an append-only JSON-lines file in which every record carries the
//! SHA-256 of the previous record, so that editing, removing or reordering any record, or
//! a torn (partly written) last line, is detected by [`verify`].
//!
//! Each line is one [`Record`] serialised as compact JSON with the fields in this order:
//! `seq, time, action, operator, reference, package, package_sha256, result, detail,
//! prev_hash, hash`. `hash` is the lowercase hex SHA-256 of the same line with the `hash`
//! field left out (the JSON object closed after `prev_hash`); `prev_hash` is the `hash` of
//! the previous line, 64 zeros for the first record. `seq` counts from 1 without gaps.
//!
//! Records hold the pseudonymous operator id, the request reference, package names and
//! hashes and a result; never anything taken from the footage.
//!
//! Appends are crash-safe and O(1): the file is opened with `O_APPEND`, locked
//! exclusively (so several processes append one chain), only its last record is read back
//! (checked: canonical, its own hash), one whole line is written with a single `write` and
//! the file is fsynced before [`AuditLog::append`] returns. An append interrupted by a crash
//! can leave only an incomplete last line without its newline; [`verify`] reports it, and
//! the next append cuts it off (it was never acknowledged) and says so in its own record's
//! `detail`. The whole chain is checked by [`verify`] (`obscura audit verify`), not on
//! every append.
//!
//! **Signed checkpoints.** The chain alone is unkeyed: whoever can write the file can
//! delete a record and recompute every later hash. [`AuditLog::checkpoint`] appends a
//! record with action `checkpoint` whose `detail` is `{"public_key": hex, "signature":
//! hex, "signer": fingerprint}`, the Ed25519 signature (site signing key, strict
//! verification as docs/FORMAT.md section 6) of
//!
//! ```text
//! "obscura-audit-checkpoint-v1\0" || u64 big-endian seq || time (20 bytes) || prev_hash (64 hex bytes)
//! ```
//!
//! of the checkpoint record itself: since `prev_hash` commits to every earlier record, the
//! signature covers the whole log before it. [`verify`] checks every checkpoint's signature
//! (and, with [`VerifyOptions::signers`], that it is one of the given keys and that there is
//! at least one checkpoint), so anyone holding the public key detects a rewritten chain
//! offline. `obscura seal` and `obscura export` append a checkpoint after their own record
//! (they hold the key); `obscura audit checkpoint --sign KEY` does so on demand (cron).
//!
//! Removing records from the END of the log back to a checkpoint leaves a valid shorter
//! chain; keep the head hash printed by `obscura audit verify` (or the last checkpoint's
//! hash) somewhere else and check it with [`VerifyOptions::expect_head`] to detect that.
//! Records after the last checkpoint are reported as not yet covered by a signature.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use obscura_seal::{Signer, SignerPublicKey};
use serde::{Deserialize, Serialize};

/// Domain separation prefix of a checkpoint signature.
pub const CHECKPOINT_CONTEXT: &[u8] = b"obscura-audit-checkpoint-v1\0";

pub use obscura_core::civil::{format_rfc3339, now_rfc3339};

/// `prev_hash` of the first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Name of the environment variable that overrides the default log location.
pub const ENV_VAR: &str = "OBSCURA_AUDIT_LOG";

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading, locking or writing the log failed.
    #[error("audit log {}: {source}", path.display())]
    Io {
        /// The log file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A field value is not acceptable (control characters, too long).
    #[error("invalid audit {field} {value:?}: {reason}")]
    Invalid {
        /// Which field.
        field: &'static str,
        /// The value given.
        value: String,
        /// Why it is refused.
        reason: String,
    },
    /// The existing log is not a valid chain, so nothing can be appended to it.
    #[error("audit log {} is damaged: {problem}; refusing to append", path.display())]
    Damaged {
        /// The log file.
        path: PathBuf,
        /// What `verify` found.
        problem: String,
    },
    /// The signing key failed while signing a checkpoint.
    #[error("cannot sign the audit checkpoint: {0}")]
    Signer(String),
    /// No default location could be found (neither `XDG_STATE_HOME` nor `HOME` is set).
    #[error("no audit log location: set OBSCURA_AUDIT_LOG or pass --audit-log")]
    NoLocation,
}

impl Error {
    fn io(path: &Path, source: io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The action a record logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Action {
    /// An export (sealed package) was produced or attempted.
    Export,
    /// A package was opened (decrypted) or opening was attempted.
    Open,
    /// A package was verified.
    Verify,
    /// A package was deleted (or would be, in a dry run) by retention.
    Purge,
    /// Files were sealed into a package (`obscura seal`).
    Seal,
    /// Key pairs were generated (`obscura keygen`; public fingerprints only).
    Keygen,
    /// Footage was redacted (`obscura redact`).
    Redact,
    /// Footage was analysed for tracks (`obscura tracks`).
    Tracks,
    /// A signed checkpoint over the chain so far ([`AuditLog::checkpoint`]).
    Checkpoint,
    /// Footage was cut into kept periods (`obscura cut`, the erasure cut).
    Cut,
    /// The trust store of signer keys was changed (`obscura trust add/remove`).
    Trust,
    /// A reviewer's edits file was applied (`obscura redact --edits`; an export records its
    /// review in the export record).
    Review,
}

impl Action {
    /// The lowercase name used in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Export => "export",
            Action::Open => "open",
            Action::Verify => "verify",
            Action::Purge => "purge",
            Action::Seal => "seal",
            Action::Keygen => "keygen",
            Action::Redact => "redact",
            Action::Tracks => "tracks",
            Action::Checkpoint => "checkpoint",
            Action::Cut => "cut",
            Action::Trust => "trust",
            Action::Review => "review",
        }
    }
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Record {
    /// Position in the log, from 1, no gaps.
    pub seq: u64,
    /// UTC time of the append, RFC 3339 with seconds (`2026-11-28T04:18:00Z`).
    pub time: String,
    /// What happened.
    pub action: Action,
    /// Pseudonymous operator id (never a person's name unless the operator chose so).
    pub operator: Option<String>,
    /// Request reference (case number, ticket).
    pub reference: Option<String>,
    /// Package file name (no folders).
    pub package: Option<String>,
    /// SHA-256 of the package file, hex.
    pub package_sha256: Option<String>,
    /// `ok`, `failed: ...`, `removed`, `would-remove`, `kept: ...`.
    pub result: String,
    /// Extra facts (export id, payload hashes, counts); never footage content.
    pub detail: serde_json::Value,
    /// `hash` of the previous record ([`GENESIS_HASH`] for the first).
    pub prev_hash: String,
    /// SHA-256 of this record's line without the `hash` field, hex.
    pub hash: String,
}

/// What the caller supplies for one record; sequence, time and hashes are filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// What happened.
    pub action: Action,
    /// Pseudonymous operator id.
    pub operator: Option<String>,
    /// Request reference.
    pub reference: Option<String>,
    /// Package file name (folders are stripped).
    pub package: Option<String>,
    /// SHA-256 of the package file, hex.
    pub package_sha256: Option<String>,
    /// Outcome.
    pub result: String,
    /// Extra facts (a JSON object; `null` for none).
    pub detail: serde_json::Value,
}

impl Entry {
    /// An entry with only the action and result set.
    pub fn new(action: Action, result: impl Into<String>) -> Self {
        Entry {
            action,
            operator: None,
            reference: None,
            package: None,
            package_sha256: None,
            result: result.into(),
            detail: serde_json::Value::Null,
        }
    }

    fn validate(&self) -> Result<(), Error> {
        let fields: [(&'static str, Option<&String>); 5] = [
            ("operator", self.operator.as_ref()),
            ("reference", self.reference.as_ref()),
            ("package", self.package.as_ref()),
            ("package_sha256", self.package_sha256.as_ref()),
            ("result", Some(&self.result)),
        ];
        for (field, v) in fields {
            if let Some(v) = v
                && (v.len() > 4096 || v.chars().any(char::is_control))
            {
                return Err(Error::Invalid {
                    field,
                    value: v.chars().take(80).collect(),
                    reason: "must be at most 4096 printable characters".into(),
                });
            }
        }
        if let Some(h) = &self.package_sha256
            && (h.len() != 64
                || !h
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
        {
            return Err(Error::Invalid {
                field: "package_sha256",
                value: h.clone(),
                reason: "must be 64 lowercase hex digits".into(),
            });
        }
        Ok(())
    }
}

/// The record without its hash, in field order (what is hashed).
#[derive(Serialize)]
struct Unhashed<'a> {
    seq: u64,
    time: &'a str,
    action: Action,
    operator: &'a Option<String>,
    reference: &'a Option<String>,
    package: &'a Option<String>,
    package_sha256: &'a Option<String>,
    result: &'a str,
    detail: &'a serde_json::Value,
    prev_hash: &'a str,
}

impl Record {
    fn unhashed(&self) -> Unhashed<'_> {
        Unhashed {
            seq: self.seq,
            time: &self.time,
            action: self.action,
            operator: &self.operator,
            reference: &self.reference,
            package: &self.package,
            package_sha256: &self.package_sha256,
            result: &self.result,
            detail: &self.detail,
            prev_hash: &self.prev_hash,
        }
    }

    /// The hash this record must carry: SHA-256 of its line without the `hash` field.
    pub fn compute_hash(&self) -> String {
        let bytes = serde_json::to_vec(&self.unhashed()).expect("serialisable");
        obscura_core::digest::sha256_hex(&bytes)
    }

    /// The exact line (without newline) this record is written as.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("serialisable")
    }

    /// The message a checkpoint record's signature covers (module documentation).
    pub fn checkpoint_message(&self) -> Vec<u8> {
        checkpoint_message(self.seq, &self.time, &self.prev_hash)
    }

    /// For a checkpoint record: the key that signed it when the signature is valid, else
    /// why not. `None` for other records.
    pub fn checkpoint_signer(&self) -> Option<Result<SignerPublicKey, String>> {
        if self.action != Action::Checkpoint {
            return None;
        }
        let field = |k: &str| {
            self.detail
                .get(k)
                .and_then(|v| v.as_str())
                .and_then(obscura_core::digest::unhex)
        };
        let key = field("public_key")
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .and_then(|b| SignerPublicKey::from_bytes(&b).ok());
        let sig = field("signature").and_then(|b| <[u8; 64]>::try_from(b).ok());
        Some(match (key, sig) {
            (Some(k), Some(s))
                if self.detail.get("signer").and_then(|v| v.as_str())
                    == Some(k.fingerprint().as_str()) =>
            {
                if k.verify_signature(&self.checkpoint_message(), &s) {
                    Ok(k)
                } else {
                    Err("checkpoint signature does not verify (chain rewritten before it?)".into())
                }
            }
            _ => Err("malformed checkpoint (public_key, signature, signer)".into()),
        })
    }
}

fn checkpoint_message(seq: u64, time: &str, prev_hash: &str) -> Vec<u8> {
    let mut m = CHECKPOINT_CONTEXT.to_vec();
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(time.as_bytes());
    m.extend_from_slice(prev_hash.as_bytes());
    m
}

/// SHA-256 of a regular file, lowercase hex (streamed). A FIFO, device or folder is
/// refused at once ([`io::ErrorKind::InvalidInput`]) instead of blocking or reading forever
/// (see [`obscura_core::digest::sha256_file`]).
pub fn sha256_file(path: &Path) -> io::Result<String> {
    obscura_core::digest::sha256_file_hex(path)
}

/// The default log location: `$OBSCURA_AUDIT_LOG`, else
/// `$XDG_STATE_HOME/obscura/audit.jsonl`, else `$HOME/.local/state/obscura/audit.jsonl`.
pub fn default_path() -> Result<PathBuf, Error> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(p) = var(ENV_VAR) {
        return Ok(p);
    }
    if let Some(s) = var("XDG_STATE_HOME").filter(|p| p.is_absolute()) {
        return Ok(s.join("obscura").join("audit.jsonl"));
    }
    if let Some(h) = var("HOME") {
        return Ok(h
            .join(".local")
            .join("state")
            .join("obscura")
            .join("audit.jsonl"));
    }
    Err(Error::NoLocation)
}

/// `explicit` if given, else [`default_path`].
pub fn resolve_path(explicit: Option<&Path>) -> Result<PathBuf, Error> {
    match explicit {
        Some(p) => Ok(p.to_path_buf()),
        None => default_path(),
    }
}

/// An audit log file.
#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
}

impl AuditLog {
    /// The log at `path` (created, with its folder, on the first append; mode 0600).
    pub fn at(path: impl Into<PathBuf>) -> Self {
        AuditLog { path: path.into() }
    }

    /// The log at `explicit` or the default location.
    pub fn resolve(explicit: Option<&Path>) -> Result<Self, Error> {
        Ok(Self::at(resolve_path(explicit)?))
    }

    /// Where the log is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record chained to the last complete record, and fsyncs it. Holds an
    /// exclusive lock on the file meanwhile, so concurrent appends from several processes
    /// stay one chain. Reads only the last record (O(1) in the log's length) and refuses
    /// ([`Error::Damaged`]) to append after one that is malformed or whose hash does not
    /// match; the whole chain is [`verify`]'s job. A torn last line (an append that crashed
    /// before its newline) is cut off first and counted in the new record's
    /// `detail.recovered_torn_bytes`.
    pub fn append(&self, entry: Entry) -> Result<Record, Error> {
        entry.validate()?;
        self.append_with(entry, |_| Ok(None))
    }

    /// Appends a signed checkpoint (module documentation) made with `signer`, the site's
    /// signing key: from then on a rewrite of any earlier record is detected by anyone with
    /// the public key. `operator` is recorded as usual.
    pub fn checkpoint(
        &self,
        signer: &dyn Signer,
        operator: Option<String>,
    ) -> Result<Record, Error> {
        let mut entry = Entry::new(Action::Checkpoint, "ok");
        entry.operator = operator;
        entry.validate()?;
        let pk = signer.public_key();
        self.append_with(entry, |rec| {
            let sig = signer.sign(&rec.checkpoint_message()).map_err(|e| Error::Signer(e.to_string()))?;
            Ok(Some(serde_json::json!({ "public_key": obscura_core::digest::hex(&pk.to_bytes()), "signature": obscura_core::digest::hex(&sig), "signer": pk.fingerprint() })))
        })
    }

    /// Checks, without writing a record, that an append would be accepted now: the log (and
    /// its folder) can be created or opened for appending, it is a regular file, and its
    /// last record is intact. Commands that take long (redaction) call this first, so that a
    /// log that cannot be written stops them before any work rather than after it.
    pub fn check_appendable(&self) -> Result<(), Error> {
        let (_f, _, _, _) = self.open_locked()?;
        Ok(())
    }

    /// Opens (creating, mode 0600) and exclusively locks the log, and reads its tail:
    /// the file, its length, the length up to the last newline and the last record.
    fn open_locked(&self) -> Result<(File, u64, u64, Option<Record>), Error> {
        let path = &self.path;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(path, e))?;
        }
        let mut opts = OpenOptions::new();
        opts.read(true).append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(path).map_err(|e| Error::io(path, e))?;
        // A device (`/dev/null` swallows records), a FIFO or a folder is no audit log.
        if !f.metadata().map_err(|e| Error::io(path, e))?.is_file() {
            return Err(Error::io(
                path,
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "not a regular file (an audit log must be a file)",
                ),
            ));
        }
        f.lock().map_err(|e| Error::io(path, e))?;
        let len = f.metadata().map_err(|e| Error::io(path, e))?.len();
        let (complete, last_line) = read_tail(&mut f, len).map_err(|e| Error::io(path, e))?;
        let last = match last_line {
            None => None,
            Some(line) => Some(check_last(&line).map_err(|problem| Error::Damaged {
                path: path.clone(),
                problem,
            })?),
        };
        Ok((f, len, complete, last))
    }

    /// The append itself; `detail_for` may replace the record's detail once its sequence
    /// number, time and `prev_hash` are known (under the lock).
    fn append_with(
        &self,
        entry: Entry,
        detail_for: impl FnOnce(&Record) -> Result<Option<serde_json::Value>, Error>,
    ) -> Result<Record, Error> {
        let path = &self.path;
        let (mut f, len, complete, last) = self.open_locked()?;
        let torn = len - complete;
        if torn > 0 {
            f.set_len(complete).map_err(|e| Error::io(path, e))?;
        }
        let (seq, prev_hash) = match &last {
            Some(r) => (r.seq + 1, r.hash.clone()),
            None => (1, GENESIS_HASH.to_string()),
        };
        let mut detail = entry.detail;
        if torn > 0 {
            if !detail.is_object() {
                detail = serde_json::json!({});
            }
            detail["recovered_torn_bytes"] = serde_json::json!(torn);
        }
        let package = entry.package.map(|p| {
            Path::new(&p)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or(p)
        });
        let mut rec = Record {
            seq,
            time: now_rfc3339(),
            action: entry.action,
            operator: entry.operator,
            reference: entry.reference,
            package,
            package_sha256: entry.package_sha256,
            result: entry.result,
            detail,
            prev_hash,
            hash: String::new(),
        };
        if let Some(d) = detail_for(&rec)? {
            rec.detail = d;
        }
        rec.hash = rec.compute_hash();
        let mut line = rec.to_line();
        line.push('\n');
        f.write_all(line.as_bytes())
            .map_err(|e| Error::io(path, e))?;
        f.sync_all().map_err(|e| Error::io(path, e))?;
        if seq == 1
            && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && let Ok(d) = File::open(dir)
        {
            let _ = d.sync_all();
        }
        // The lock is released when `f` is closed.
        Ok(rec)
    }

    /// Verifies the whole log (see [`verify`]).
    pub fn verify(&self, options: &VerifyOptions) -> Result<VerifyReport, Error> {
        verify(&self.path, options)
    }
}

/// The length of the log up to its last newline, and the last complete line (without its
/// newline), reading backwards from the end in blocks: O(length of the last record).
fn read_tail(f: &mut File, len: u64) -> io::Result<(u64, Option<Vec<u8>>)> {
    const BLOCK: u64 = 64 * 1024;
    let mut tail: Vec<u8> = Vec::new(); // bytes [start, len)
    let mut start = len;
    let mut complete: Option<u64> = None;
    loop {
        // the end of the last complete line, then the newline before it
        let found = match complete {
            None => tail
                .iter()
                .rposition(|b| *b == b'\n')
                .map(|i| start + i as u64 + 1),
            Some(_) => None,
        };
        if complete.is_none()
            && let Some(c) = found
        {
            complete = Some(c);
        }
        if let Some(c) = complete {
            let line_end = (c - 1 - start) as usize;
            if let Some(i) = tail[..line_end].iter().rposition(|b| *b == b'\n') {
                return Ok((c, Some(tail[i + 1..line_end].to_vec())));
            }
            if start == 0 {
                return Ok((c, Some(tail[..line_end].to_vec())));
            }
        } else if start == 0 {
            return Ok((0, None));
        }
        let from = start.saturating_sub(BLOCK);
        let mut buf = vec![0u8; (start - from) as usize];
        f.seek(SeekFrom::Start(from))?;
        f.read_exact(&mut buf)?;
        buf.extend_from_slice(&tail);
        tail = buf;
        start = from;
    }
}

/// The cheap checks an append makes on the record it chains to.
fn check_last(line: &[u8]) -> Result<Record, String> {
    let rec: Record = std::str::from_utf8(line)
        .ok()
        .and_then(|s| serde_json::from_str(s).ok())
        .ok_or("the last record is not a well-formed audit record")?;
    if rec.to_line().as_bytes() != line || rec.compute_hash() != rec.hash {
        return Err(format!(
            "the last record (seq {}) was edited (not canonical or hash mismatch)",
            rec.seq
        ));
    }
    Ok(rec)
}

/// Options of [`verify`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyOptions {
    /// A record hash noted earlier (e.g. the head printed by a previous verify): the log
    /// must still contain it, which detects records removed from the end since then.
    pub expect_head: Option<String>,
    /// Keys allowed to sign checkpoints: when set, every checkpoint must be signed by one
    /// of them and the log must hold at least one checkpoint. Checkpoint signatures are
    /// checked in any case.
    pub signers: Option<Vec<SignerPublicKey>>,
}

/// The first problem [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifyReport {
    /// Records that verified before the first problem (all of them when valid).
    pub records: u64,
    /// The last valid record (the head when the log is valid).
    pub last: Option<Record>,
    /// The first problem, `None` when the log is valid.
    pub problem: Option<Problem>,
    /// Signed checkpoints that verified.
    pub checkpoints: u64,
    /// The last checkpoint that verified.
    pub last_checkpoint: Option<Record>,
    /// Records after the last checkpoint (all records when there is none): not yet covered
    /// by a signature.
    pub unsigned_tail: u64,
}

impl VerifyReport {
    /// True when no problem was found.
    pub fn is_valid(&self) -> bool {
        self.problem.is_none()
    }
}

/// Reads and checks the log at `path`: every line parses as a [`Record`] written in the
/// exact canonical form, `seq` counts from 1 without gaps, every `prev_hash` equals the
/// previous record's `hash`, every `hash` matches the record, and the file ends with a
/// newline (no torn record). Stops at the first problem. I/O failures are errors; a
/// missing file is an error too.
pub fn verify(path: &Path, options: &VerifyOptions) -> Result<VerifyReport, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    Ok(verify_bytes(&bytes, options))
}

/// [`verify`] on bytes in memory.
pub fn verify_bytes(bytes: &[u8], options: &VerifyOptions) -> VerifyReport {
    let mut report = VerifyReport {
        records: 0,
        last: None,
        problem: None,
        checkpoints: 0,
        last_checkpoint: None,
        unsigned_tail: 0,
    };
    let mut prev = GENESIS_HASH.to_string();
    let mut seen_head = options.expect_head.is_none();
    let mut rest = bytes;
    let mut line_no = 0usize;
    while !rest.is_empty() {
        line_no += 1;
        let fail = |reason: String| {
            Some(Problem {
                line: line_no,
                reason,
            })
        };
        let Some(nl) = rest.iter().position(|b| *b == b'\n') else {
            report.problem = fail(format!(
                "incomplete last record ({} bytes without a newline: a torn or truncated write)",
                rest.len()
            ));
            return report;
        };
        let line = &rest[..nl];
        rest = &rest[nl + 1..];
        let rec: Record = match std::str::from_utf8(line)
            .ok()
            .and_then(|s| serde_json::from_str(s).ok())
        {
            Some(r) => r,
            None => {
                report.problem = fail("not a well-formed audit record".into());
                return report;
            }
        };
        let expected_seq = report.records + 1;
        if rec.seq != expected_seq {
            report.problem = fail(format!(
                "sequence number {} where {expected_seq} was expected (record removed, inserted or reordered)",
                rec.seq
            ));
            return report;
        }
        if rec.to_line().as_bytes() != line {
            report.problem = fail(format!(
                "record {} is not in canonical form (edited)",
                rec.seq
            ));
            return report;
        }
        if rec.prev_hash != prev {
            report.problem = fail(format!(
                "record {} does not chain to the previous record (prev_hash mismatch: removed, inserted or reordered)",
                rec.seq
            ));
            return report;
        }
        if rec.compute_hash() != rec.hash {
            report.problem = fail(format!(
                "record {} hash mismatch (contents edited)",
                rec.seq
            ));
            return report;
        }
        match rec.checkpoint_signer() {
            Some(Err(why)) => {
                report.problem = fail(format!("record {}: {why}", rec.seq));
                return report;
            }
            Some(Ok(k))
                if options
                    .signers
                    .as_ref()
                    .is_some_and(|list| !list.contains(&k)) =>
            {
                report.problem = fail(format!(
                    "record {}: checkpoint signed by {}, which is not an expected signer",
                    rec.seq,
                    k.fingerprint()
                ));
                return report;
            }
            Some(Ok(_)) => {
                report.checkpoints += 1;
                report.last_checkpoint = Some(rec.clone());
                report.unsigned_tail = 0;
            }
            None => report.unsigned_tail += 1,
        }
        if options.expect_head.as_deref() == Some(rec.hash.as_str()) {
            seen_head = true;
        }
        prev = rec.hash.clone();
        report.records += 1;
        report.last = Some(rec);
    }
    if options.signers.is_some() && report.checkpoints == 0 {
        report.problem = Some(Problem {
            line: line_no.max(1),
            reason: "no signed checkpoint in the log (nothing proves who wrote it)".into(),
        });
        return report;
    }
    if !seen_head {
        report.problem = Some(Problem {
            line: line_no + 1,
            reason: format!(
                "expected head {} not found: records were removed from the end",
                options.expect_head.as_deref().unwrap_or("")
            ),
        });
    }
    report
}

/// Reads every record of a log without checking the chain (for display); lines that do
/// not parse are skipped.
pub fn read_records(path: &Path) -> Result<Vec<Record>, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}
