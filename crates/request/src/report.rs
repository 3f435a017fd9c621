//! The human-readable report (`report.html`): one self-contained HTML file (inline CSS,
//! thumbnails as `data:` URIs), so it opens offline in any browser and is sealed as one
//! payload. Thumbnails are decoded from the exported (redacted) clips only, never from the
//! source footage.

use std::fmt::Write as _;
use std::io::Cursor;
use std::path::Path;

use obscura_core::{Interval, Timestamp};
use obscura_media::{DecodeOptions, Decoder};

use crate::time::{TimeRef, WallTime};
use crate::{ClipSummary, Error, RequestMode};

/// One camera in the report.
#[derive(Debug, Clone, PartialEq)]
pub struct CameraReport {
    /// Camera name.
    pub name: String,
    /// Source file name (no folders).
    pub source_file: String,
    /// SHA-256 of the source file.
    pub source_sha256: String,
    /// Wall-clock time of the source's start, when it carries one.
    pub start_wall: Option<WallTime>,
    /// Ranges exported (source time).
    pub included: Vec<Interval>,
    /// Ranges not exported (source time).
    pub excluded: Vec<Interval>,
}

/// One clip in the report.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipReport {
    /// The clip.
    pub clip: ClipSummary,
    /// Thumbnails as `data:image/jpeg;base64,...` URIs.
    pub thumbnails: Vec<String>,
}

/// Everything the report shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportData {
    /// Access or erasure.
    pub mode: RequestMode,
    /// Request reference.
    pub reference: Option<String>,
    /// Operator id, only when it is to be shown.
    pub operator: Option<String>,
    /// Creation time (RFC 3339).
    pub created: String,
    /// Expiry date.
    pub expires: String,
    /// The request window as given.
    pub window: (Option<TimeRef>, Option<TimeRef>),
    /// The cameras.
    pub cameras: Vec<CameraReport>,
    /// The clips.
    pub clips: Vec<ClipReport>,
    /// The redaction policy in plain words.
    pub policy: Vec<String>,
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// Standard base64 with padding (RFC 4648).
pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut o = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                o.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                o.push('=');
            }
        }
    }
    o
}

/// Up to `count` thumbnails (first, middle, last frame...) of the clip at `path`, each
/// scaled to `width` pixels wide, JPEG, as `data:` URIs.
pub fn thumbnails(path: &Path, count: usize, width: u32) -> Result<Vec<String>, Error> {
    let mut dec = Decoder::open(path, &DecodeOptions::default())?;
    let mut frames = Vec::new();
    while let Some(f) = dec.next_frame()? {
        frames.push(f.index);
        // Keep only indexes; decode again for the picks below (clips are short enough).
    }
    let n = frames.len();
    if n == 0 || count == 0 {
        return Ok(Vec::new());
    }
    let mut picks: Vec<usize> = (0..count).map(|i| if count == 1 { 0 } else { i * (n - 1) / (count - 1) }).collect();
    picks.dedup();
    let mut dec = Decoder::open(path, &DecodeOptions::default())?;
    let mut out = Vec::new();
    let mut i = 0usize;
    while let Some(f) = dec.next_frame()? {
        if picks.contains(&i) {
            let rgb = image::RgbImage::from_raw(f.width, f.height, f.to_rgb24()).ok_or_else(|| Error::invalid("thumbnail", "frame size mismatch"))?;
            let h = (u64::from(f.height) * u64::from(width) / u64::from(f.width.max(1))).max(1) as u32;
            let small = image::imageops::resize(&rgb, width, h, image::imageops::FilterType::Triangle);
            let mut jpeg = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(Cursor::new(&mut jpeg), 80)
                .encode_image(&small)
                .map_err(|e| Error::invalid("thumbnail", e.to_string()))?;
            out.push(format!("data:image/jpeg;base64,{}", base64(&jpeg)));
        }
        i += 1;
    }
    Ok(out)
}

fn clock(t: Timestamp) -> String {
    let s = t.to_string(); // HH:MM:SS.ffffff
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn range_text(iv: &Interval, wall: Option<WallTime>, origin: Timestamp) -> String {
    let mut s = format!("{} – {}", clock(iv.start()), clock(iv.end()));
    if let Some(w) = wall {
        let a = w.plus(Timestamp::new(iv.start().rescale_floor(obscura_core::Rational::MICROS).ticks - origin.rescale_floor(obscura_core::Rational::MICROS).ticks, obscura_core::Rational::MICROS));
        let b = w.plus(Timestamp::new(iv.end().rescale_floor(obscura_core::Rational::MICROS).ticks - origin.rescale_floor(obscura_core::Rational::MICROS).ticks, obscura_core::Rational::MICROS));
        let _ = write!(s, " <span class=wall>({a} – {b})</span>");
    }
    s
}

const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2em auto;max-width:60em;color:#1b1b1b;padding:0 1em}\
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;border-bottom:2px solid #2b5797;padding-bottom:.2em;margin-top:1.6em}\
.sub{color:#555;margin-top:0}table{border-collapse:collapse;width:100%;margin:.6em 0}th,td{border:1px solid #ccc;padding:.35em .5em;text-align:left;vertical-align:top;font-size:.92em}\
th{background:#eef2f8}code,.hash{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85em;word-break:break-all}\
.wall{color:#555}.kept{color:#0a6b2d}.excl{color:#a4161a}.thumbs img{margin:2px;border:1px solid #999;max-width:240px}\
ul.policy li{margin:.25em 0}.foot{margin-top:2em;color:#555;font-size:.85em}";

/// Renders the report.
pub fn render(d: &ReportData) -> String {
    let mut h = String::new();
    let title = match d.mode {
        RequestMode::Access => "Access request (GDPR Art. 15)",
        RequestMode::Erasure => "Erasure request (GDPR Art. 17)",
    };
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width\"><title>Obscura export report</title><style>{CSS}</style></head><body>"
    );
    let _ = write!(h, "<h1>Obscura export report</h1><p class=sub>{title}</p>");
    let _ = write!(h, "<table><tr><th>Request reference</th><td>{}</td></tr>", escape(d.reference.as_deref().unwrap_or("(none given)")));
    let _ = write!(h, "<tr><th>Created (UTC)</th><td>{}</td></tr><tr><th>Expires</th><td>{} (the package cannot be opened after this day)</td></tr>", escape(&d.created), escape(&d.expires));
    let win = |t: &Option<TimeRef>, dflt: &str| t.map_or(dflt.to_string(), |t| t.to_string());
    let _ = write!(h, "<tr><th>Request window</th><td>{} – {}</td></tr>", escape(&win(&d.window.0, "start")), escape(&win(&d.window.1, "end")));
    if let Some(o) = &d.operator {
        let _ = write!(h, "<tr><th>Operator (pseudonym)</th><td>{}</td></tr>", escape(o));
    }
    let _ = write!(h, "</table>");

    let _ = write!(h, "<h2>Cameras and time ranges</h2><table><tr><th>Camera</th><th>Source file</th><th class=kept>Exported</th><th class=excl>Not exported</th></tr>");
    for c in &d.cameras {
        let origin = c.included.iter().chain(&c.excluded).map(|i| i.start()).min().unwrap_or_else(Timestamp::zero);
        let list = |v: &[Interval]| if v.is_empty() { "nothing".to_string() } else { v.iter().map(|i| range_text(i, c.start_wall, origin)).collect::<Vec<_>>().join("<br>") };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}<br><span class=hash>sha256 {}</span></td><td class=kept>{}</td><td class=excl>{}</td></tr>",
            escape(&c.name),
            escape(&c.source_file),
            escape(&c.source_sha256),
            list(&c.included),
            list(&c.excluded)
        );
    }
    let _ = write!(h, "</table><p class=sub>Times are clip times (HH:MM:SS.fff from the start of the recording file); wall-clock times (UTC) in brackets where the recording carries its start time. Ranges are half-open: the end instant is not included.</p>");

    let _ = write!(h, "<h2>Redaction policy</h2><ul class=policy>");
    for p in &d.policy {
        let _ = write!(h, "<li>{}</li>", escape(p));
    }
    let _ = write!(h, "</ul>");

    let _ = write!(h, "<h2>Clips</h2><table><tr><th>Clip</th><th>Camera</th><th>Source range</th><th>Frames</th><th>Persons masked</th><th>SHA-256</th></tr>");
    for c in &d.clips {
        let k = &c.clip;
        let masked = k.masked_persons.map_or("none (erasure export)".to_string(), |n| n.to_string());
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{} – {}</td><td>{}</td><td>{}</td><td class=hash>{}</td></tr>",
            escape(&k.name),
            escape(&k.camera),
            clock(k.range.start()),
            clock(k.range.end()),
            k.frames,
            masked,
            escape(&k.sha256)
        );
        if !c.thumbnails.is_empty() {
            let _ = write!(h, "<tr><td colspan=6 class=thumbs>");
            for t in &c.thumbnails {
                let _ = write!(h, "<img alt=\"frame of {}\" src=\"{}\">", escape(&k.name), escape(t));
            }
            let _ = write!(h, "</td></tr>");
        }
    }
    let _ = write!(h, "</table>");
    let _ = writeln!(
        h,
        "<p class=foot>Thumbnails are taken from the exported clips as delivered. The signed manifest of this package lists the SHA-256 of every clip and of this report; check the package with <code>obscura verify</code>. Generated by Obscura {}.</p></body></html>",
        env!("CARGO_PKG_VERSION")
    );
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }
}
