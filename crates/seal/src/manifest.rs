//! The manifest (docs/FORMAT.md section 5) and the header (section 3).

use std::collections::BTreeMap;

use obscura_core::{Interval, ModelId};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::canonical::{Rules, from_canonical, to_canonical};

/// Format version written by this crate (FORMAT.md: version 2 has no floats in signed data).
pub const FORMAT_VERSION: u32 = 2;

/// Format versions this crate reads (version 1 exports stay verifiable and openable).
pub const READABLE_VERSIONS: [u32; 2] = [1, 2];

/// The canonical rules of a format version (`None` for a version this crate cannot read).
pub(crate) fn rules_for(version: u32) -> Option<Rules> {
    match version {
        1 => Some(Rules::V1),
        2 => Some(Rules::V2),
        _ => None,
    }
}

/// The signed description of an export. Everything in it is public (readable without a key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT_VERSION`] for exports this crate writes; 1 for older exports.
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
    /// Top-level keys format 1 does not know (a format-1 reader ignores them); kept so the
    /// manifest re-encodes to the signed bytes. Always empty in format 2 (refused there) and
    /// for exports this crate writes.
    #[serde(flatten)]
    pub unknown: BTreeMap<String, serde_json::Value>,
}

/// A source footage file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceFile {
    /// File name (no folders).
    pub name: String,
    /// SHA-256 of the file, hex.
    pub sha256: String,
}

/// Time coverage of one camera.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraRecord {
    /// Camera id as the VMS names it.
    pub camera: String,
    /// Intervals included in the export.
    pub included: Vec<Interval>,
    /// Intervals deliberately left out.
    pub excluded: Vec<Interval>,
}

/// The redaction policy that produced the payloads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactionPolicy {
    /// Detector models used.
    #[serde(default)]
    pub detector_models: Vec<ModelId>,
    /// Named thresholds (e.g. `person_score`), exact decimals (strings in format 2).
    #[serde(default)]
    pub thresholds: BTreeMap<String, Decimal>,
    /// Redaction style per object class (e.g. `person` -> `pixelate`).
    #[serde(default)]
    pub styles: BTreeMap<String, String>,
    /// Track ids left unredacted (the data subject).
    #[serde(default)]
    pub kept_track_ids: Vec<u64>,
    /// Forward-compatible extra fields (no `null` values; in format 2 no floats either: the
    /// writer turns a float into its decimal string, see [`Decimal`]).
    #[serde(default)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// One payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
pub struct SignerEntry {
    /// Always `ed25519`.
    pub algorithm: String,
    /// The Ed25519 public key, hex.
    pub public_key: String,
    /// Hex SHA-256 of the public key.
    pub fingerprint: String,
}

impl Manifest {
    /// The canonical bytes (what is signed), under the rules of its `format_version`.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, Error> {
        let rules = rules_for(self.format_version).ok_or_else(|| {
            Error::invalid(
                "manifest",
                format!("unknown format version {}", self.format_version),
            )
        })?;
        to_canonical(self, "manifest", rules)
    }

    /// Parses canonical manifest bytes (refuses any other form), under the rules of the
    /// `format_version` they state.
    pub fn from_canonical_bytes(bytes: &[u8]) -> Result<Self, Error> {
        #[derive(Deserialize)]
        struct Version {
            format_version: u32,
        }
        let v: Version = serde_json::from_slice(bytes)
            .map_err(|_| Error::damaged("manifest has no valid format_version"))?;
        let rules = rules_for(v.format_version).ok_or_else(|| {
            Error::damaged(format!(
                "unsupported manifest format version {}",
                v.format_version
            ))
        })?;
        Self::from_canonical_bytes_as(bytes, rules)
    }

    pub(crate) fn from_canonical_bytes_as(bytes: &[u8], rules: Rules) -> Result<Self, Error> {
        from_canonical(bytes, "manifest", rules)
    }
}

/// An exact decimal number such as a detector threshold (`0.35`), FORMAT.md 4.2. Format 2
/// writes it as a JSON string matching `-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?` (at most 40
/// bytes, not `-0`), so no float is ever signed. Format-1 manifests held a JSON number; such
/// a value is read back as a *format-1 float* and re-encoded as that number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Decimal {
    text: String,
    format1_float: bool,
}

impl Decimal {
    /// Parses the format-2 decimal grammar exactly (no exponent, no `+`, no leading zeros,
    /// no trailing zeros after the point, not `-0`).
    pub fn parse(text: &str) -> Result<Self, Error> {
        if is_decimal(text) {
            Ok(Self {
                text: text.to_string(),
                format1_float: false,
            })
        } else {
            Err(Error::invalid(
                format!("decimal {text:?}"),
                "expected -?(0|[1-9][0-9]*)(.[0-9]*[1-9])?, at most 40 bytes",
            ))
        }
    }

    /// The decimal text (for a format-1 float: its shortest round-trip decimal digits).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The nearest double.
    pub fn to_f64(&self) -> f64 {
        self.text.parse().unwrap_or(f64::NAN)
    }

    /// True when read from a format-1 manifest's JSON number.
    pub fn is_format1_float(&self) -> bool {
        self.format1_float
    }

    /// True when the text is a valid format-2 decimal (a non-finite double converts to text
    /// that is not, and is refused when sealing).
    pub fn is_valid(&self) -> bool {
        is_decimal(&self.text)
    }

    /// The same value as a format-2 string.
    pub(crate) fn to_format2(&self) -> Self {
        let f = self.to_f64();
        if self.format1_float {
            Self::from(f)
        } else {
            self.clone()
        }
    }

    /// The same value as a format-1 JSON number (test-only writers of format 1).
    pub(crate) fn to_format1(&self) -> Self {
        Self {
            text: self.text.clone(),
            format1_float: true,
        }
    }
}

fn is_decimal(s: &str) -> bool {
    let b = s.as_bytes();
    let body = b.strip_prefix(b"-").unwrap_or(b);
    let (int, frac) = match body.iter().position(|&c| c == b'.') {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let int_ok =
        int == b"0" || (!int.is_empty() && int[0] != b'0' && int.iter().all(u8::is_ascii_digit));
    let frac_ok = frac.is_none_or(|f| {
        !f.is_empty() && f.iter().all(u8::is_ascii_digit) && f.last() != Some(&b'0')
    });
    b.len() <= 40 && int_ok && frac_ok && s != "-0"
}

impl From<f64> for Decimal {
    /// The shortest decimal that reads back to `value` (`0.35`, `1`, `0.0000001`); a
    /// non-finite value gives a text [`Decimal::is_valid`] refuses.
    fn from(value: f64) -> Self {
        let text = if value == 0.0 {
            "0".to_string()
        } else {
            format!("{value}")
        };
        Self {
            text,
            format1_float: false,
        }
    }
}

impl From<f32> for Decimal {
    /// The shortest decimal that reads back to the `f32` (`0.35f32` gives `0.35`, not the
    /// double's `0.3499999940395355`).
    fn from(value: f32) -> Self {
        let text = if value == 0.0 {
            "0".to_string()
        } else {
            format!("{value}")
        };
        Self {
            text,
            format1_float: false,
        }
    }
}

impl std::fmt::Display for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Decimal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.format1_float {
            s.serialize_f64(self.to_f64())
        } else {
            s.serialize_str(&self.text)
        }
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Decimal;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a decimal string (format 2) or a number (format 1)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Decimal, E> {
                Decimal::parse(v)
                    .map_err(|_| E::custom(format!("{v:?} is not a canonical decimal")))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Decimal, E> {
                Ok(Decimal {
                    text: format!("{v}"),
                    format1_float: true,
                })
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Decimal, E> {
                self.visit_f64(v as f64)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Decimal, E> {
                self.visit_f64(v as f64)
            }
        }
        d.deserialize_any(V)
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
    X25519 {
        ephemeral: String,
        wrapped_key: String,
    },
    Argon2id {
        m_kib: u32,
        p: u32,
        salt: String,
        t: u32,
        wrapped_key: String,
    },
}

/// Checks a media type (FORMAT.md section 5.2): `type/subtype`, each 1 to 63 of `a-z 0-9
/// ! # $ & ^ _ . + -` starting with a letter or digit (RFC 6838 restricted names, lower
/// case, no parameters).
pub fn check_media_type(media_type: &str) -> Result<(), Error> {
    let part = |p: &str| {
        let b = p.as_bytes();
        (1..=63).contains(&b.len())
            && b[0].is_ascii_alphanumeric()
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"!#$&^_.+-".contains(c))
    };
    match media_type.split_once('/') {
        Some((t, st)) if part(t) && part(st) => Ok(()),
        _ => Err(Error::invalid(
            format!("media type {media_type:?}"),
            "must be type/subtype in lower case (RFC 6838 restricted names, no parameters)",
        )),
    }
}

/// Checks a free-text manifest field (FORMAT.md 5.2): 1 to `max` bytes, no control
/// character (Unicode Cc).
pub(crate) fn check_text(what: &str, value: &str, max: usize) -> Result<(), Error> {
    if value.is_empty() || value.len() > max || value.chars().any(char::is_control) {
        return Err(Error::invalid(
            format!("{what} {value:?}"),
            format!("must be 1 to {max} bytes without control characters"),
        ));
    }
    Ok(())
}

/// Checks a payload name is one safe path component (FORMAT.md section 5).
pub fn check_payload_name(name: &str) -> Result<(), Error> {
    let bad = |why: &str| {
        Err(Error::invalid(
            format!("payload name {name:?}"),
            why.to_string(),
        ))
    };
    if name.is_empty() || name.len() > 255 {
        return bad("must be 1 to 255 bytes");
    }
    if name.starts_with('.') {
        return bad("must not start with '.'");
    }
    if name
        .chars()
        .any(|c| c == '/' || c == '\\' || c.is_control())
    {
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
    let bad = |why: &str| {
        Err(Error::invalid(
            format!("payload name {:?}", name),
            why.to_string(),
        ))
    };
    if name.chars().any(is_deceptive) {
        return bad("contains a bidirectional control or invisible format character");
    }
    if name
        .chars()
        .any(|c| matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*'))
    {
        return bad("contains one of < > : \" | ? * (not allowed on Windows file systems)");
    }
    if name.ends_with(' ') || name.ends_with('.') {
        return bad("ends with a space or '.' (changed by Windows file systems)");
    }
    let stem = name
        .split('.')
        .next()
        .unwrap_or("")
        .trim_end_matches(' ')
        .to_ascii_uppercase();
    let reserved = matches!(
        stem.as_str(),
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$"
    ) || ((stem.starts_with("COM") || stem.starts_with("LPT"))
        && stem.chars().count() == 4
        && stem.chars().nth(3).is_some_and(|c| {
            c.is_ascii_digit() || matches!(c, '\u{00B9}' | '\u{00B2}' | '\u{00B3}')
        }));
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
        for bad in [
            "", ".", "..", "../x", "a/b", "a\\b", ".hidden", "a\nb", "a\0b",
        ] {
            assert!(check_payload_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn portable_names() {
        for ok in [
            "clip.mp4",
            "cam-001.mp4",
            "report.html",
            "console.txt",
            "COM10.txt",
            "a b.png",
            "é.txt",
        ] {
            check_portable_name(ok).unwrap();
        }
        for bad in [
            "CON",
            "con.txt",
            "Nul.mp4",
            "COM1",
            "lpt9.log",
            "COM\u{00B9}",
            "a:b",
            "a?b",
            "a*b",
            "x<y",
            "trail ",
            "trail.",
            "evil\u{202e}4pm.exe",
            "zero\u{200b}width",
            "\u{2066}x",
        ] {
            assert!(check_portable_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(name_key("A.BIN"), name_key("a.bin"));
        assert_eq!(name_key("caf\u{e9}"), name_key("cafe\u{301}"));
        assert_ne!(name_key("a.bin"), name_key("b.bin"));
    }

    #[test]
    fn decimals() {
        for ok in [
            "0",
            "1",
            "-1",
            "0.35",
            "10.5",
            "-0.001",
            "123456789.123456789",
        ] {
            assert_eq!(Decimal::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "",
            "-",
            "-0",
            "00",
            "01",
            "1.",
            ".5",
            "0.50",
            "1e3",
            "+1",
            "1.5e-3",
            " 1",
            "0x1",
            "NaN",
            "inf",
            &"1".repeat(41),
        ] {
            assert!(Decimal::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Decimal::from(0.35f32).as_str(), "0.35");
        assert_eq!(Decimal::from(0.25f64).as_str(), "0.25");
        assert_eq!(Decimal::from(1e-7f64).as_str(), "0.0000001");
        assert_eq!(Decimal::from(-0.0f64).as_str(), "0");
        assert_eq!(Decimal::from(2.0f64).as_str(), "2");
        assert!(!Decimal::from(f64::NAN).is_valid() && !Decimal::from(f64::INFINITY).is_valid());
        let v2: Decimal = serde_json::from_str("\"0.5\"").unwrap();
        assert!(!v2.is_format1_float());
        assert_eq!(serde_json::to_string(&v2).unwrap(), "\"0.5\"");
        let v1: Decimal = serde_json::from_str("0.5").unwrap();
        assert!(v1.is_format1_float());
        assert_eq!(serde_json::to_string(&v1).unwrap(), "0.5");
        assert_eq!(v1.to_format2(), v2);
        assert!(serde_json::from_str::<Decimal>("\"0.50\"").is_err());
    }

    #[test]
    fn media_types() {
        for ok in [
            "video/mp4",
            "text/html",
            "application/octet-stream",
            "video/x-matroska",
            "image/svg+xml",
            "application/vnd.ms-excel",
        ] {
            check_media_type(ok).unwrap();
        }
        for bad in [
            "",
            "video",
            "Video/mp4",
            "video/",
            "/mp4",
            "text/html; charset=utf-8",
            "video/mp4/x",
            "video/.mp4",
            "a\u{7f}/b",
            "vidéo/mp4",
        ] {
            assert!(check_media_type(bad).is_err(), "{bad:?}");
        }
    }
}
