//! Canonical JSON (docs/FORMAT.md section 4) and hex helpers.
//!
//! The encoder is this crate's own (numbers, strings, key order), so what counts as
//! canonical never depends on a JSON library's formatter; `serde_json` only parses.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::Error;

/// Which canonical rules apply (FORMAT.md section 4: format 1 allows floats, format 2 does not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rules {
    /// Format 1: finite floats in the shortest round-trip form (section 4.1).
    V1,
    /// Format 2: integers in [-(2^53-1), 2^53-1] only, no floats anywhere (section 4.2).
    V2,
}

/// Largest integer magnitude format 2 allows (exact in an IEEE-754 double, I-JSON).
pub(crate) const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// How format-1 floats are laid out. Exports were signed with either layout (serde_json's
/// formatter changed from `ryu` to `zmij`); readers accept both, writers no longer write floats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FloatStyle {
    /// `1e16`, `1e-7`, `1.5e300` (ryu).
    Ryu,
    /// `1e+16`, `1e-7`, `1.5e+300` (zmij: explicit `+` in positive exponents).
    Zmij,
}

/// Encodes a value in canonical form: sorted keys, no whitespace, no `null`.
pub(crate) fn to_canonical<T: Serialize>(
    value: &T,
    what: &str,
    rules: Rules,
) -> Result<Vec<u8>, Error> {
    let v = serde_json::to_value(value).map_err(|e| Error::invalid(what, e.to_string()))?;
    encode(&v, rules, FloatStyle::Ryu).map_err(|p| Error::invalid(what, p))
}

fn encode(v: &Value, rules: Rules, style: FloatStyle) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(1024);
    write_value(v, &mut out, rules, style)?;
    Ok(out)
}

/// True when `v` encodes canonically to exactly `bytes` under `rules` (either float layout
/// in format 1). Errors name the rule a value breaks (a float in format 2, `null`, ...).
fn encodes_to(v: &Value, bytes: &[u8], rules: Rules) -> Result<bool, String> {
    if encode(v, rules, FloatStyle::Ryu)? == bytes {
        return Ok(true);
    }
    Ok(rules == Rules::V1 && encode(v, rules, FloatStyle::Zmij)? == bytes)
}

/// Parses canonical bytes; refuses anything that does not re-encode to the same bytes.
pub(crate) fn from_canonical<T: DeserializeOwned + Serialize>(
    bytes: &[u8],
    what: &str,
    rules: Rules,
) -> Result<T, Error> {
    let v = parse_canonical_value(bytes, what, rules)?;
    let t: T = serde_json::from_value(v)
        .map_err(|e| Error::damaged(format!("{what} has an invalid structure: {e}")))?;
    // The typed value must encode to the same bytes too (e.g. a float written as `1`, or a
    // key the type does not know).
    let typed = serde_json::to_value(&t).map_err(|e| Error::damaged(format!("{what}: {e}")))?;
    if !encodes_to(&typed, bytes, rules).map_err(|p| Error::damaged(format!("{what}: {p}")))? {
        return Err(Error::damaged(format!("{what} is not in canonical form")));
    }
    Ok(t)
}

/// Parses canonical bytes into a JSON value, refusing any other form.
pub(crate) fn parse_canonical_value(
    bytes: &[u8],
    what: &str,
    rules: Rules,
) -> Result<Value, Error> {
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|_| Error::damaged(format!("{what} is not valid JSON")))?;
    if !encodes_to(&v, bytes, rules).map_err(|p| Error::damaged(format!("{what}: {p}")))? {
        return Err(Error::damaged(format!("{what} is not in canonical form")));
    }
    Ok(v)
}

fn write_value(
    v: &Value,
    out: &mut Vec<u8>,
    rules: Rules,
    style: FloatStyle,
) -> Result<(), String> {
    match v {
        Value::Null => return Err("null is not allowed".into()),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                if rules == Rules::V2 && u > MAX_SAFE_INTEGER {
                    return Err(format!(
                        "integer {u} is out of range (format 2: at most 2^53-1)"
                    ));
                }
                out.extend_from_slice(u.to_string().as_bytes());
            } else if let Some(i) = n.as_i64() {
                if rules == Rules::V2 && i.unsigned_abs() > MAX_SAFE_INTEGER {
                    return Err(format!(
                        "integer {i} is out of range (format 2: at least -(2^53-1))"
                    ));
                }
                out.extend_from_slice(i.to_string().as_bytes());
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if rules == Rules::V2 {
                    return Err(format!(
                        "number {f} is not an integer (format 2 has no floats; use a decimal string)"
                    ));
                }
                if !f.is_finite() {
                    return Err("non-finite number".into());
                }
                out.extend_from_slice(format_float(f, style).as_bytes());
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out, rules, style)?;
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
                write_value(&map[k.as_str()], out, rules, style)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// The string escapes of FORMAT.md section 4: `"` `\` and U+0000..U+001F only, short forms
/// where JSON has them, `\u00xx` (lowercase hex) otherwise; everything else literal UTF-8.
fn write_string(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..=0x1f => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 15) as usize],
            ]),
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

/// Splits Rust's `{:e}` text into (digits, decimal exponent of the first digit).
fn sci_parts(sci: &str) -> (String, i64) {
    let (mant, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    (
        mant.chars().filter(|c| *c != '.').collect(),
        exp.parse().unwrap_or(0),
    )
}

/// The shortest digits that read back to `a` (positive, finite), closest to `a`, an exact
/// tie going to the even digit (as ryu and zmij do; Rust's own shortest form rounds a tie
/// up, e.g. `1690060720831323.25` gives `…3.3` where ryu gives `…3.2`).
fn shortest_digits(a: f64) -> (String, i64) {
    let (digits, exp) = sci_parts(&format!("{a:e}"));
    let n = digits.len();
    // The exact decimal expansion of a double has at most 767 significant digits.
    let (exact, exact_exp) = sci_parts(&format!("{a:.*e}", n + 800));
    if exact_exp != exp || exact.len() <= n {
        return (digits, exp);
    }
    let (head, rest) = exact.split_at(n);
    let tie = rest.as_bytes()[0] == b'5' && rest.bytes().skip(1).all(|c| c == b'0');
    if !tie {
        return (digits, exp);
    }
    let mut even = head.as_bytes().to_vec();
    if (even[n - 1] - b'0') % 2 == 1 {
        // round the odd truncation up to the even neighbour
        let mut i = n;
        while i > 0 {
            i -= 1;
            if even[i] == b'9' {
                even[i] = b'0';
            } else {
                even[i] += 1;
                break;
            }
        }
        if even[0] == b'0' {
            return (digits, exp);
        }
    }
    let even = String::from_utf8(even).unwrap_or_default();
    let trimmed = even.trim_end_matches('0');
    let candidate = if trimmed.is_empty() {
        even.clone()
    } else {
        trimmed.to_string()
    };
    let back: Option<f64> = format!("{}.{}e{exp}", &candidate[..1], &candidate[1..])
        .parse()
        .ok();
    if candidate.len() == n && back == Some(a) {
        (candidate, exp)
    } else {
        (digits, exp)
    }
}

/// A finite double in the format-1 layout (FORMAT.md 4.1): the shortest decimal digits that
/// read back to the same double (Rust's `{:e}`, correctly rounded), laid out as ryu does:
/// plain notation with a `.` when the decimal exponent `kk` (value in `[10^(kk-1), 10^kk)`)
/// is in `-5 < kk <= 16`, else `d.ddde±x` (`d` alone when there is one digit); `-0.0` and
/// `0.0` for zeros.
fn format_float(f: f64, style: FloatStyle) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let (digits, exp) = shortest_digits(f.abs());
    let len = digits.len() as i64;
    let kk = exp + 1;
    let k = kk - len;
    let mut s = String::with_capacity(32);
    if f < 0.0 {
        s.push('-');
    }
    if 0 <= k && kk <= 16 {
        s.push_str(&digits);
        s.extend(std::iter::repeat_n('0', k as usize));
        s.push_str(".0");
    } else if 0 < kk && kk <= 16 {
        s.push_str(&digits[..kk as usize]);
        s.push('.');
        s.push_str(&digits[kk as usize..]);
    } else if -5 < kk && kk <= 0 {
        s.push_str("0.");
        s.extend(std::iter::repeat_n('0', (-kk) as usize));
        s.push_str(&digits);
    } else {
        s.push_str(&digits[..1]);
        if len > 1 {
            s.push('.');
            s.push_str(&digits[1..]);
        }
        s.push('e');
        if style == FloatStyle::Zmij && kk > 0 {
            s.push('+');
        }
        s.push_str(&(kk - 1).to_string());
    }
    s
}

/// Lowercase hex (allocated once at its final size: no stray copy of a secret).
pub(crate) use obscura_core::digest::hex;

/// Decodes lowercase hex of exactly `N` bytes.
pub(crate) fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    unhex_into(s, &mut out).then_some(out)
}

/// Decodes lowercase hex (see [`obscura_core::digest::unhex_into`]).
pub(crate) use obscura_core::digest::{unhex as unhex_vec, unhex_into};

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn sorts_keys_and_refuses_other_forms() {
        let mut m = BTreeMap::new();
        m.insert("b", serde_json::json!(1));
        m.insert("a", serde_json::json!({"z": "x\ny", "c": [0.5, 1.0]}));
        let bytes = to_canonical(&m, "t", Rules::V1).unwrap();
        assert_eq!(bytes, br#"{"a":{"c":[0.5,1.0],"z":"x\ny"},"b":1}"#);
        let back: BTreeMap<String, Value> = from_canonical(&bytes, "t", Rules::V1).unwrap();
        assert_eq!(back.len(), 2);
        assert!(
            from_canonical::<BTreeMap<String, BTreeMap<String, Vec<f64>>>>(
                br#"{"a":{"c":[0.5,1]}}"#,
                "t",
                Rules::V1
            )
            .is_err()
        );
        assert!(
            from_canonical::<BTreeMap<String, BTreeMap<String, Vec<f64>>>>(
                br#"{"a":{"c":[0.5,1.0]}}"#,
                "t",
                Rules::V1
            )
            .is_ok()
        );
        for other in [
            &br#"{"b":1,"a":{"c":[0.5,1.0],"z":"x\ny"}}"#[..],
            br#"{"a":{"c":[0.5,1.0],"z":"x\ny"}, "b":1}"#,
            br#"{"a":{"c":[0.5,1.0],"z":"x\u000ay"},"b":1}"#,
            br#"{"a":{"c":[0.5,1.0],"z":"x\ny"},"b":1,"b":1}"#,
        ] {
            assert!(
                from_canonical::<BTreeMap<String, Value>>(other, "t", Rules::V1).is_err(),
                "{}",
                String::from_utf8_lossy(other)
            );
        }
    }

    #[test]
    fn format_2_has_no_floats_and_safe_integers_only() {
        let ok = br#"{"a":[0,-9007199254740991,9007199254740991],"b":"0.35"}"#;
        assert!(parse_canonical_value(ok, "t", Rules::V2).is_ok());
        for bad in [
            &br#"{"a":0.5}"#[..],
            br#"{"a":1.0}"#,
            br#"{"a":1e3}"#,
            br#"{"a":9007199254740992}"#,
            br#"{"a":-9007199254740992}"#,
            br#"{"a":18446744073709551616}"#,
            br#"{"a":null}"#,
            br#"{"a":-0}"#,
        ] {
            let e = parse_canonical_value(bad, "t", Rules::V2)
                .unwrap_err()
                .to_string();
            assert!(e.contains("t"), "{e}");
        }
        let e = parse_canonical_value(br#"{"a":0.5}"#, "t", Rules::V2)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not an integer"), "{e}");
        // format 1 still takes the same float
        assert!(parse_canonical_value(br#"{"a":0.5}"#, "t", Rules::V1).is_ok());
    }

    #[test]
    fn strings_escape_exactly_the_canonical_set() {
        let s: String = (0u8..0x80)
            .map(char::from)
            .chain("é€\u{7f}\u{2028}".chars())
            .collect();
        let mut out = Vec::new();
        write_string(&s, &mut out);
        // serde_json's escaping agrees with the spec's for every one of these
        assert_eq!(out, serde_json::to_string(&s).unwrap().into_bytes());
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("\\u001f") && text.contains("\\b") && !text.contains("\\u007f"),
            "{text}"
        );
    }

    #[test]
    fn float_layouts_match_both_historical_formatters() {
        let fixed = [
            (1e16, "1e16", "1e+16"),
            (1e15, "1000000000000000.0", "1000000000000000.0"),
            (1e-7, "1e-7", "1e-7"),
            (0.0001, "0.0001", "0.0001"),
            (1e-5, "0.00001", "0.00001"),
            (1e-6, "1e-6", "1e-6"),
            (0.35, "0.35", "0.35"),
            (1.5e300, "1.5e300", "1.5e+300"),
            (5e-324, "5e-324", "5e-324"),
            (-0.0, "-0.0", "-0.0"),
            (1.0, "1.0", "1.0"),
            (123.456, "123.456", "123.456"),
            (-2.5e-10, "-2.5e-10", "-2.5e-10"),
        ];
        for (f, ryu, zmij) in fixed {
            assert_eq!(format_float(f, FloatStyle::Ryu), ryu, "{f:e}");
            assert_eq!(format_float(f, FloatStyle::Zmij), zmij, "{f:e}");
        }
        // serde_json (zmij) is the formatter this crate's writer used for format 1.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for i in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let f = if i % 2 == 0 {
                f64::from_bits(x)
            } else {
                (x % 1_000_000) as f64 / 1e6
            };
            if !f.is_finite() {
                continue;
            }
            assert_eq!(
                format_float(f, FloatStyle::Zmij),
                serde_json::to_string(&f).unwrap(),
                "{f:e}"
            );
            assert_eq!(
                format_float(f, FloatStyle::Zmij)
                    .parse::<f64>()
                    .unwrap()
                    .to_bits(),
                f.to_bits()
            );
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
