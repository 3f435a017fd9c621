//! Canonical JSON (docs/FORMAT.md section 4) and hex helpers.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::Error;

/// Encodes a value in canonical form: sorted keys, no whitespace, no `null`.
pub(crate) fn to_canonical<T: Serialize>(value: &T, what: &str) -> Result<Vec<u8>, Error> {
    let v = serde_json::to_value(value).map_err(|e| Error::invalid(what, e.to_string()))?;
    let mut out = Vec::with_capacity(1024);
    write_value(&v, &mut out).map_err(|p| Error::invalid(what, p))?;
    Ok(out)
}

/// Parses canonical bytes; refuses anything that does not re-encode to the same bytes.
pub(crate) fn from_canonical<T: DeserializeOwned + Serialize>(bytes: &[u8], what: &str) -> Result<T, Error> {
    let v: Value = serde_json::from_slice(bytes).map_err(|_| Error::damaged(format!("{what} is not valid JSON")))?;
    let mut again = Vec::with_capacity(bytes.len());
    write_value(&v, &mut again).map_err(|p| Error::damaged(format!("{what}: {p}")))?;
    if again != bytes {
        return Err(Error::damaged(format!("{what} is not in canonical form")));
    }
    let t: T = serde_json::from_value(v).map_err(|e| Error::damaged(format!("{what} has an invalid structure: {e}")))?;
    // The typed value must encode to the same bytes too (e.g. a float written as `1`).
    if to_canonical(&t, what).ok().as_deref() != Some(bytes) {
        return Err(Error::damaged(format!("{what} is not in canonical form")));
    }
    Ok(t)
}

fn write_value(v: &Value, out: &mut Vec<u8>) -> Result<(), String> {
    match v {
        Value::Null => return Err("null is not allowed".into()),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64())
                && !f.is_finite()
            {
                return Err("non-finite number".into());
            }
            out.extend_from_slice(n.to_string().as_bytes());
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push(b'{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(k, out);
                out.push(b':');
                write_value(&map[k.as_str()], out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn write_string(s: &str, out: &mut Vec<u8>) {
    // serde_json's string escaping is exactly the canonical one (FORMAT.md section 4).
    let encoded = serde_json::to_string(s).unwrap_or_default();
    out.extend_from_slice(encoded.as_bytes());
}

/// Lowercase hex (allocated once at its final size: no stray copy of a secret).
pub(crate) use obscura_core::digest::hex;

/// Decodes lowercase hex of exactly `N` bytes.
pub(crate) fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    unhex_into(s, &mut out).then_some(out)
}

/// Decodes lowercase hex of exactly `out.len()` bytes into `out`, with no heap copy (for
/// secrets: the caller's buffer is the only place the bytes land). False when malformed.
pub(crate) fn unhex_into(s: &str, out: &mut [u8]) -> bool {
    let b = s.as_bytes();
    if b.len() != 2 * out.len() {
        return false;
    }
    let nib = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    for (o, p) in out.iter_mut().zip(b.chunks(2)) {
        match (nib(p[0]), nib(p[1])) {
            (Some(h), Some(l)) => *o = h << 4 | l,
            _ => {
                out.iter_mut().for_each(|x| *x = 0);
                return false;
            }
        }
    }
    true
}

/// Decodes lowercase hex of any even length.
pub(crate) fn unhex_vec(s: &str) -> Option<Vec<u8>> {
    fn nib(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    b.chunks(2).map(|p| Some(nib(p[0])? << 4 | nib(p[1])?)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn sorts_keys_and_refuses_other_forms() {
        let mut m = BTreeMap::new();
        m.insert("b", serde_json::json!(1));
        m.insert("a", serde_json::json!({"z": "x\ny", "c": [0.5, 1.0]}));
        let bytes = to_canonical(&m, "t").unwrap();
        assert_eq!(bytes, br#"{"a":{"c":[0.5,1.0],"z":"x\ny"},"b":1}"#);
        let back: BTreeMap<String, Value> = from_canonical(&bytes, "t").unwrap();
        assert_eq!(back.len(), 2);
        assert!(from_canonical::<BTreeMap<String, BTreeMap<String, Vec<f64>>>>(br#"{"a":{"c":[0.5,1]}}"#, "t").is_err());
        assert!(from_canonical::<BTreeMap<String, BTreeMap<String, Vec<f64>>>>(br#"{"a":{"c":[0.5,1.0]}}"#, "t").is_ok());
        for other in [&br#"{"b":1,"a":{"c":[0.5,1.0],"z":"x\ny"}}"#[..], br#"{"a":{"c":[0.5,1.0],"z":"x\ny"}, "b":1}"#, br#"{"a":{"c":[0.5,1.0],"z":"x\u000ay"},"b":1}"#, br#"{"a":{"c":[0.5,1.0],"z":"x\ny"},"b":1,"b":1}"#] {
            assert!(from_canonical::<BTreeMap<String, Value>>(other, "t").is_err(), "{}", String::from_utf8_lossy(other));
        }
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(hex(&[0, 255, 16]), "00ff10");
        assert_eq!(unhex::<3>("00ff10"), Some([0, 255, 16]));
        assert_eq!(unhex::<3>("00FF10"), None);
        assert_eq!(unhex::<2>("00ff10"), None);
    }
}
