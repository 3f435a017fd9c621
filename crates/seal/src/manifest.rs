//! The manifest (docs/FORMAT.md section 5) and the header (section 3).

use std::collections::BTreeMap;

use obscura_core::Interval;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::canonical::{from_canonical, to_canonical};

/// Format version written by this crate.
pub const FORMAT_VERSION: u32 = 1;

/// The signed description of an export. Everything in it is public (readable without a key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT_VERSION`] for exports this crate writes.
    pub format_version: u32,
    /// 128-bit random export id, hex.
    pub export_id: String,
    /// SHA-256 of the header bytes, hex.
    pub header_sha256: String,
    /// UTC creation time, RFC 3339 (`2026-11-28T04:18:00Z`).
    pub created: String,
    /// Retention expiry: the last UTC day the export may be opened (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// Request reference (case number, ticket).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Pseudonymous operator id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// Source footage files.
    #[serde(default)]
    pub sources: Vec<SourceFile>,
    /// Per camera, the time intervals included in and excluded from the export.
    #[serde(default)]
    pub cameras: Vec<CameraRecord>,
    /// The redaction policy applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<RedactionPolicy>,
    /// The payloads, in payload-data order.
    pub payloads: Vec<PayloadEntry>,
    /// Who can open it, in header stanza order.
    pub recipients: Vec<RecipientEntry>,
    /// Who signed it.
    pub signer: SignerEntry,
    /// Top-level keys this version does not know (written by a later 1.x writer); kept so
    /// the manifest re-encodes to the signed bytes. Empty for exports this crate writes.
    #[serde(flatten)]
    pub unknown: BTreeMap<String, serde_json::Value>,
}

/// A source footage file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFile {
    /// File name (no folders).
    pub name: String,
    /// SHA-256 of the file, hex.
    pub sha256: String,
}

/// Time coverage of one camera.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CameraRecord {
    /// Camera id as the VMS names it.
    pub camera: String,
    /// Intervals included in the export.
    pub included: Vec<Interval>,
    /// Intervals deliberately left out.
    pub excluded: Vec<Interval>,
}

/// A detector model, pinned by hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelRef {
    /// Model name.
    pub name: String,
    /// SHA-256 of the model file, hex.
    pub sha256: String,
}

/// The redaction policy that produced the payloads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RedactionPolicy {
    /// Detector models used.
    #[serde(default)]
    pub detector_models: Vec<ModelRef>,
    /// Named thresholds (e.g. `person_score`).
    #[serde(default)]
    pub thresholds: BTreeMap<String, f64>,
    /// Redaction style per object class (e.g. `person` -> `pixelate`).
    #[serde(default)]
    pub styles: BTreeMap<String, String>,
    /// Track ids left unredacted (the data subject).
    #[serde(default)]
    pub kept_track_ids: Vec<u64>,
    /// Forward-compatible extra fields (no `null` values).
    #[serde(default)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// One payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayloadEntry {
    /// File name used by `open` (a single safe path component).
    pub name: String,
    /// Media type, e.g. `video/mp4`.
    pub media_type: String,
    /// Plaintext size in bytes.
    pub plaintext_size: u64,
    /// SHA-256 of the plaintext, hex.
    pub plaintext_sha256: String,
    /// Ciphertext size in bytes (STREAM chunks with tags).
    pub ciphertext_size: u64,
    /// SHA-256 of the ciphertext, hex.
    pub ciphertext_sha256: String,
}

/// One recipient as listed in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum RecipientEntry {
    /// An X25519 public key, by fingerprint.
    X25519 {
        /// Hex SHA-256 of the recipient public key.
        fingerprint: String,
    },
    /// A passphrase.
    Argon2id {},
}

/// The signer as listed in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerEntry {
    /// Always `ed25519`.
    pub algorithm: String,
    /// The Ed25519 public key, hex.
    pub public_key: String,
    /// Hex SHA-256 of the public key.
    pub fingerprint: String,
}

impl Manifest {
    /// The canonical bytes (what is signed).
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, Error> {
        to_canonical(self, "manifest")
    }

    /// Parses canonical manifest bytes (refuses any other form).
    pub fn from_canonical_bytes(bytes: &[u8]) -> Result<Self, Error> {
        from_canonical(bytes, "manifest")
    }
}

/// The header (docs/FORMAT.md section 3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Header {
    pub chunk_size: u32,
    pub export_id: String,
    pub payload_count: u32,
    pub recipients: Vec<Stanza>,
    pub version: u32,
}

/// A recipient stanza.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub(crate) enum Stanza {
    X25519 { ephemeral: String, wrapped_key: String },
    Argon2id { m_kib: u32, p: u32, salt: String, t: u32, wrapped_key: String },
}

/// Checks a payload name is one safe path component (FORMAT.md section 5).
pub fn check_payload_name(name: &str) -> Result<(), Error> {
    let bad = |why: &str| Err(Error::invalid(format!("payload name {name:?}"), why.to_string()));
    if name.is_empty() || name.len() > 255 {
        return bad("must be 1 to 255 bytes");
    }
    if name.starts_with('.') {
        return bad("must not start with '.'");
    }
    if name.chars().any(|c| c == '/' || c == '\\' || c.is_control()) {
        return bad("must not contain '/', '\\' or control characters");
    }
    Ok(())
}

/// Bidirectional-text controls and invisible format characters: they make a name display
/// as something else (`evil\u{202e}4pm.exe` shows as `evilexe.mp4`).
fn is_deceptive(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2028}' | '\u{2029}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// Checks a payload name is safe to create on every common file system and to show
/// (FORMAT.md section 5.1), on top of [`check_payload_name`]: no bidirectional controls or
/// invisible format characters, none of `< > : " | ? *`, no trailing space or `.`, and not
/// a name Windows reserves (`CON`, `PRN`, `AUX`, `NUL`, `COM0`-`COM9`, `LPT0`-`LPT9`, with
/// any extension, any case). Applied when sealing and when opening.
pub fn check_portable_name(name: &str) -> Result<(), Error> {
    check_payload_name(name)?;
    let bad = |why: &str| Err(Error::invalid(format!("payload name {:?}", name), why.to_string()));
    if name.chars().any(is_deceptive) {
        return bad("contains a bidirectional control or invisible format character");
    }
    if name.chars().any(|c| matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*')) {
        return bad("contains one of < > : \" | ? * (not allowed on Windows file systems)");
    }
    if name.ends_with(' ') || name.ends_with('.') {
        return bad("ends with a space or '.' (changed by Windows file systems)");
    }
    let stem = name.split('.').next().unwrap_or("").trim_end_matches(' ').to_ascii_uppercase();
    let reserved = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$")
        || ((stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.chars().count() == 4
            && stem.chars().nth(3).is_some_and(|c| c.is_ascii_digit() || matches!(c, '\u{00B9}' | '\u{00B2}' | '\u{00B3}')));
    if reserved {
        return bad("is a device name reserved on Windows");
    }
    Ok(())
}

/// The key under which payload names must be unique (FORMAT.md section 5.1): Unicode NFC of
/// the lower-cased NFC form, so `a.bin`/`A.BIN` and composed/decomposed `é` collide, as
/// they would on case-insensitive or normalising file systems.
pub fn name_key(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let nfc: String = name.nfc().collect();
    nfc.to_lowercase().nfc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_names() {
        for ok in ["clip.mp4", "a b.png", "report-é.pdf"] {
            check_payload_name(ok).unwrap();
        }
        for bad in ["", ".", "..", "../x", "a/b", "a\\b", ".hidden", "a\nb", "a\0b"] {
            assert!(check_payload_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn portable_names() {
        for ok in ["clip.mp4", "cam-001.mp4", "report.html", "console.txt", "COM10.txt", "a b.png", "é.txt"] {
            check_portable_name(ok).unwrap();
        }
        for bad in ["CON", "con.txt", "Nul.mp4", "COM1", "lpt9.log", "COM\u{00B9}", "a:b", "a?b", "a*b", "x<y", "trail ", "trail.", "evil\u{202e}4pm.exe", "zero\u{200b}width", "\u{2066}x"] {
            assert!(check_portable_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(name_key("A.BIN"), name_key("a.bin"));
        assert_eq!(name_key("caf\u{e9}"), name_key("cafe\u{301}"));
        assert_ne!(name_key("a.bin"), name_key("b.bin"));
    }
}
