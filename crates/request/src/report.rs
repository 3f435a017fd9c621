//! The report (`report.html`), written for the data subject: one self-contained HTML file
//! (inline CSS, thumbnails as `data:` URIs), so it opens offline in any browser (and in the
//! opener page) and is sealed as one payload. Plain-language sections first (who sent it,
//! why the recordings exist, what was received and hidden, how to watch the clips, the
//! reader's rights), from the site configuration ([`crate::SiteConfig`]) and a template per
//! language (`assets/report/*.toml`); then the technical record as an appendix. Thumbnails
//! are decoded from the exported (redacted) clips only, never from the source footage.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use obscura_core::{Interval, Timestamp};
use obscura_media::{DecodeOptions, Decoder};
use obscura_pipeline::sheet;

use obscura_seal::RedactionPolicy;

use crate::site::{Lang, Party, SiteConfig};
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
    /// The redaction policy as signed (styles, kept track ids).
    pub redaction: RedactionPolicy,
    /// Language of the report.
    pub lang: Lang,
    /// The controller's details (none: the report says to ask the sender).
    pub site: Option<SiteConfig>,
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
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
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
    let mut n = 0u64;
    while dec.next_frame()?.is_some() {
        // Count only; decode again for the picks below (clips are short enough).
        n += 1;
    }
    let picks = sheet::sample_indexes(n, count);
    let mut dec = Decoder::open(path, &DecodeOptions::default())?;
    let mut out = Vec::new();
    let mut i = 0u64;
    while let Some(f) = dec.next_frame()? {
        if picks.contains(&i) {
            let rgb =
                sheet::rgb(&f).ok_or_else(|| Error::invalid("thumbnail", "frame size mismatch"))?;
            let jpeg = sheet::jpeg(&sheet::scale_to_width(&rgb, width), 80)
                .map_err(|e| Error::invalid("thumbnail", e))?;
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

fn micros(t: Timestamp) -> i64 {
    t.rescale_floor(obscura_core::Rational::MICROS).ticks
}

fn range_text(iv: &Interval, wall: Option<WallTime>, origin: Timestamp) -> String {
    let mut s = format!("{} – {}", clock(iv.start()), clock(iv.end()));
    if let Some(w) = wall {
        let a = w.plus(Timestamp::new(
            micros(iv.start()) - micros(origin),
            obscura_core::Rational::MICROS,
        ));
        let b = w.plus(Timestamp::new(
            micros(iv.end()) - micros(origin),
            obscura_core::Rational::MICROS,
        ));
        let _ = write!(s, " <span class=wall>({a} – {b})</span>");
    }
    s
}

/// The start of a camera's recording (the origin of its wall-clock times).
fn origin(c: &CameraReport) -> Timestamp {
    c.included
        .iter()
        .chain(&c.excluded)
        .map(|i| i.start())
        .min()
        .unwrap_or_else(Timestamp::zero)
}

const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2em auto;max-width:60em;color:#1b1b1b;padding:0 1em;line-height:1.45}\
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;border-bottom:2px solid #2b5797;padding-bottom:.2em;margin-top:1.6em}\
.sub{color:#555;margin-top:0}table{border-collapse:collapse;width:100%;margin:.6em 0}th,td{border:1px solid #ccc;padding:.35em .5em;text-align:left;vertical-align:top;font-size:.92em}\
th{background:#eef2f8;width:28%}code,.hash{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85em;word-break:break-all}\
.wall{color:#555}.kept{color:#0a6b2d}.excl{color:#a4161a}.thumbs img{margin:2px;border:1px solid #999;max-width:240px}\
ul.policy li{margin:.25em 0}.foot{margin-top:2em;color:#555;font-size:.85em}.lead{font-size:1.05em}.note{color:#555}\
.appendix{margin-top:3em;border-top:3px double #2b5797}.appendix th{width:auto}.pre{white-space:pre-line}\
@media print{body{margin:0;max-width:none}.thumbs img{max-width:180px}h2{break-after:avoid}table{break-inside:avoid}}";

/// A report template: flat keys, `{name}` placeholders (assets/report/*.toml).
struct Template(BTreeMap<String, String>);

impl Template {
    fn load(lang: Lang) -> Template {
        let text = match lang {
            Lang::En => include_str!("../assets/report/en.toml"),
            Lang::De => include_str!("../assets/report/de.toml"),
        };
        // The templates are part of the binary and checked by a unit test.
        Template(toml::from_str(text).unwrap_or_default())
    }

    /// The escaped text of `key` with its placeholders filled in (values escaped too).
    fn t(&self, key: &str, vars: &[(&str, &str)]) -> String {
        let mut s = escape(self.0.get(key).map_or(key, String::as_str));
        for (k, v) in vars {
            s = s.replace(&format!("{{{k}}}"), &escape(v));
        }
        s
    }

    fn s(&self, key: &str) -> String {
        self.t(key, &[])
    }
}

fn party_rows(h: &mut String, tpl: &Template, label: &str, p: &Party) {
    let _ = write!(
        h,
        "<tr><th>{}</th><td><strong>{}</strong>",
        tpl.s(label),
        escape(&p.name)
    );
    for v in [&p.address, &p.contact, &p.website].into_iter().flatten() {
        let _ = write!(h, "<br><span class=pre>{}</span>", escape(v));
    }
    let _ = write!(h, "</td></tr>");
}

fn seconds(tpl: &Template, lang: Lang, iv: &Interval) -> String {
    let tenths = (micros(iv.end()) - micros(iv.start())).max(0) / 100_000;
    let mut n = format!("{}.{}", tenths / 10, tenths % 10);
    if lang == Lang::De {
        n = n.replace('.', ",");
    }
    tpl.t("seconds", &[("n", &n)])
}

/// Renders the report.
pub fn render(d: &ReportData) -> String {
    let tpl = Template::load(d.lang);
    let mut h = String::new();
    let controller = d.site.as_ref().map_or_else(
        || tpl.0.get("the_controller").cloned().unwrap_or_default(),
        |s| s.controller.name.clone(),
    );
    let (title, lead) = match d.mode {
        RequestMode::Access => ("title_access", "lead_access"),
        RequestMode::Erasure => ("title_erasure", "lead_erasure"),
    };
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang={}><head><meta charset=utf-8><meta name=viewport content=\"width=device-width\"><title>{}</title><style>{CSS}</style></head><body>",
        d.lang.code(),
        tpl.s("doc_title")
    );
    let _ = write!(
        h,
        "<h1>{}</h1><p class=lead>{}</p>",
        tpl.s(title),
        tpl.t(lead, &[("controller", &controller)])
    );

    // Who sent it.
    let _ = write!(h, "<h2>{}</h2><table>", tpl.s("h_sender"));
    if let Some(site) = &d.site {
        party_rows(&mut h, &tpl, "controller", &site.controller);
        if let Some(dpo) = &site.dpo {
            party_rows(&mut h, &tpl, "dpo", dpo);
        }
    }
    let _ = write!(
        h,
        "<tr><th>{}</th><td>{}</td></tr>",
        tpl.s("reference"),
        escape(d.reference.as_deref().unwrap_or("–"))
    );
    let _ = write!(
        h,
        "<tr><th>{}</th><td>{}</td></tr>",
        tpl.s("created"),
        escape(&d.created)
    );
    let _ = write!(
        h,
        "<tr><th>{}</th><td><strong>{}</strong><br>{}</td></tr>",
        tpl.s("expires"),
        escape(&d.expires),
        tpl.s("expires_note")
    );
    if let Some(o) = &d.operator {
        let _ = write!(
            h,
            "<tr><th>{}</th><td>{}</td></tr>",
            tpl.s("operator"),
            escape(o)
        );
    }
    let _ = write!(h, "</table>");
    if d.site.is_none() {
        let _ = write!(h, "<p class=note>{}</p>", tpl.s("no_site"));
    }

    // Why the recordings exist.
    let _ = write!(h, "<h2>{}</h2>", tpl.s("h_purpose"));
    let processing = d.site.as_ref().map(|s| &s.processing);
    let rows: Vec<(&str, &String)> = processing
        .map(|p| {
            [
                ("purpose", &p.purpose),
                ("legal_basis", &p.legal_basis),
                ("retention", &p.retention),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
            .collect()
        })
        .unwrap_or_default();
    if rows.len() < 2 {
        let _ = write!(h, "<p class=note>{}</p>", tpl.s("no_purpose"));
    }
    if !rows.is_empty() {
        let _ = write!(h, "<table>");
        for (k, v) in rows {
            let _ = write!(
                h,
                "<tr><th>{}</th><td class=pre>{}</td></tr>",
                tpl.s(k),
                escape(v)
            );
        }
        let _ = write!(h, "</table>");
    }

    // What was received.
    let _ = write!(h, "<h2>{}</h2>", tpl.s("h_received"));
    let (clips, cams) = (d.clips.len().to_string(), d.cameras.len().to_string());
    let received = if d.mode == RequestMode::Access {
        "received_access"
    } else {
        "received_erasure"
    };
    let _ = write!(
        h,
        "<p>{}</p>",
        tpl.t(received, &[("clips", &clips), ("cameras", &cams)])
    );
    let access = d.mode == RequestMode::Access;
    let _ = write!(
        h,
        "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th>",
        tpl.s("col_clip"),
        tpl.s("col_camera"),
        tpl.s("col_period"),
        tpl.s("col_length")
    );
    if access {
        let _ = write!(h, "<th>{}</th>", tpl.s("col_hidden"));
    }
    let _ = write!(h, "</tr>");
    for c in &d.clips {
        let k = &c.clip;
        let cam = d.cameras.iter().find(|x| x.name == k.camera);
        let period = cam.map_or_else(
            || range_text(&k.range, None, Timestamp::zero()),
            |cr| range_text(&k.range, cr.start_wall, origin(cr)),
        );
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{period}</td><td>{}</td>",
            escape(&k.name),
            escape(&k.camera),
            seconds(&tpl, d.lang, &k.range)
        );
        if access {
            let _ = write!(
                h,
                "<td>{}</td>",
                k.masked_persons
                    .map_or_else(|| "–".to_string(), |n| n.to_string())
            );
        }
        let _ = write!(h, "</tr>");
    }
    let _ = write!(h, "</table>");
    let left_out: Vec<&CameraReport> = d
        .cameras
        .iter()
        .filter(|c| !c.excluded.is_empty())
        .collect();
    if d.mode == RequestMode::Erasure && !left_out.is_empty() {
        let _ = write!(
            h,
            "<table><tr><th>{}</th><th>{}</th></tr>",
            tpl.s("col_camera"),
            tpl.s("col_left_out")
        );
        for c in left_out {
            let list: Vec<String> = c
                .excluded
                .iter()
                .map(|i| range_text(i, c.start_wall, origin(c)))
                .collect();
            let _ = write!(
                h,
                "<tr><td>{}</td><td class=excl>{}</td></tr>",
                escape(&c.name),
                list.join("<br>")
            );
        }
        let _ = write!(h, "</table>");
    }

    // What was hidden and why.
    let _ = write!(h, "<h2>{}</h2>", tpl.s("h_masked"));
    match d.mode {
        RequestMode::Access => {
            let mut styles: Vec<String> = d
                .redaction
                .styles
                .values()
                .map(|v| match v.split(':').next().unwrap_or("") {
                    "fill" => tpl.s("style_fill"),
                    "pixelate" => tpl.s("style_pixelate"),
                    "blur" => tpl.s("style_blur"),
                    _ => tpl.s("style_other"),
                })
                .collect();
            styles.dedup();
            let style = if styles.is_empty() {
                tpl.s("style_other")
            } else {
                styles.join(", ")
            };
            // `style` is already escaped text; fill it in unescaped.
            let _ = write!(
                h,
                "<p>{}</p>",
                tpl.s("masked_access").replace("{style}", &style)
            );
            if d.redaction.kept_track_ids.is_empty() {
                let _ = write!(h, "<p>{}</p>", tpl.s("masked_nobody_kept"));
            }
        }
        RequestMode::Erasure => {
            let _ = write!(h, "<p>{}</p>", tpl.s("masked_erasure"));
        }
    }

    // How to watch.
    let _ = write!(
        h,
        "<h2>{}</h2><ul><li>{}</li><li>{}</li><li>{}</li></ul>",
        tpl.s("h_play"),
        tpl.s("play_1"),
        tpl.s("play_2"),
        tpl.s("play_3")
    );

    // Rights and complaint.
    let c = [("controller", controller.as_str())];
    let _ = write!(
        h,
        "<h2>{}</h2><p>{}</p><ul>",
        tpl.s("h_rights"),
        tpl.s("rights_intro")
    );
    for k in [
        "right_access",
        "right_rectification",
        "right_erasure",
        "right_restriction",
        "right_object",
    ] {
        let _ = write!(h, "<li>{}</li>", tpl.t(k, &c));
    }
    let _ = write!(h, "</ul><p>{}</p>", tpl.s("rights_contact"));
    match d
        .site
        .as_ref()
        .and_then(|s| s.supervisory_authority.as_ref())
    {
        Some(a) => {
            let _ = write!(h, "<p>{}</p><table>", tpl.t("complaint", &c));
            party_rows(&mut h, &tpl, "authority", a);
            let _ = write!(h, "</table>");
        }
        None => {
            let _ = write!(h, "<p>{}</p>", tpl.s("complaint_default"));
        }
    }

    appendix(&mut h, d, &tpl);
    let _ = writeln!(
        h,
        "<p class=foot>{}</p></body></html>",
        tpl.t("t_foot", &[("version", env!("CARGO_PKG_VERSION"))])
    );
    h
}

/// The technical record: request, cameras and ranges, policy, clips with hashes and
/// thumbnails.
fn appendix(h: &mut String, d: &ReportData, tpl: &Template) {
    let _ = write!(
        h,
        "<section class=appendix><h2>{}</h2><p class=note>{}</p>",
        tpl.s("h_appendix"),
        tpl.s("appendix_intro")
    );
    let kind = match d.mode {
        RequestMode::Access => tpl.s("t_access"),
        RequestMode::Erasure => tpl.s("t_erasure"),
    };
    let _ = write!(
        h,
        "<table><tr><th>{}</th><td>{kind}</td></tr>",
        tpl.s("t_request")
    );
    let _ = write!(
        h,
        "<tr><th>{}</th><td>{}</td></tr>",
        tpl.s("reference"),
        d.reference
            .as_deref()
            .map_or_else(|| tpl.s("t_none"), escape)
    );
    let _ = write!(
        h,
        "<tr><th>{}</th><td>{}</td></tr><tr><th>{}</th><td>{} {}</td></tr>",
        tpl.s("created"),
        escape(&d.created),
        tpl.s("expires"),
        escape(&d.expires),
        tpl.s("t_expires_note")
    );
    let win = |t: &Option<TimeRef>, dflt: String| t.map_or(dflt, |t| escape(&t.to_string()));
    let _ = write!(
        h,
        "<tr><th>{}</th><td>{} – {}</td></tr>",
        tpl.s("t_window"),
        win(&d.window.0, tpl.s("t_start")),
        win(&d.window.1, tpl.s("t_end"))
    );
    if let Some(o) = &d.operator {
        let _ = write!(
            h,
            "<tr><th>{}</th><td>{}</td></tr>",
            tpl.s("operator"),
            escape(o)
        );
    }
    let _ = write!(h, "</table>");

    let _ = write!(
        h,
        "<h3>{}</h3><table><tr><th>{}</th><th>{}</th><th class=kept>{}</th><th class=excl>{}</th></tr>",
        tpl.s("t_cameras"),
        tpl.s("t_camera"),
        tpl.s("t_source"),
        tpl.s("t_exported"),
        tpl.s("t_not_exported")
    );
    for c in &d.cameras {
        let o = origin(c);
        let list = |v: &[Interval]| {
            if v.is_empty() {
                tpl.s("nothing")
            } else {
                v.iter()
                    .map(|i| range_text(i, c.start_wall, o))
                    .collect::<Vec<_>>()
                    .join("<br>")
            }
        };
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
    let _ = write!(h, "</table><p class=sub>{}</p>", tpl.s("t_times_note"));

    let _ = write!(h, "<h3>{}</h3><ul class=policy>", tpl.s("t_policy"));
    for p in &d.policy {
        let _ = write!(h, "<li>{}</li>", escape(p));
    }
    let _ = write!(h, "</ul>");

    let _ = write!(
        h,
        "<h3>{}</h3><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        tpl.s("t_clips"),
        tpl.s("col_clip"),
        tpl.s("t_camera"),
        tpl.s("t_source_range"),
        tpl.s("t_frames"),
        tpl.s("t_persons"),
        tpl.s("t_sha")
    );
    for c in &d.clips {
        let k = &c.clip;
        let masked = k
            .masked_persons
            .map_or_else(|| "–".to_string(), |n| n.to_string());
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{} – {}{}</td><td>{}</td><td>{}</td><td class=hash>{}</td></tr>",
            escape(&k.name),
            escape(&k.camera),
            clock(k.range.start()),
            clock(k.range.end()),
            // The clip's own wall-clock start, as written into it (MP4 creation_time).
            k.start_wall
                .map(|w| format!("<br><span class=wall>creation_time {w}</span>"))
                .unwrap_or_default(),
            k.frames,
            masked,
            escape(&k.sha256)
        );
        if !c.thumbnails.is_empty() {
            let _ = write!(h, "<tr><td colspan=6 class=thumbs>");
            for t in &c.thumbnails {
                let _ = write!(
                    h,
                    "<img alt=\"frame of {}\" src=\"{}\">",
                    escape(&k.name),
                    escape(t)
                );
            }
            let _ = write!(h, "</td></tr>");
        }
    }
    let _ = write!(h, "</table></section>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn templates_have_the_same_keys() {
        let en = Template::load(Lang::En);
        assert!(en.0.len() > 50, "English template did not parse");
        for lang in Lang::ALL {
            let t = Template::load(lang);
            assert_eq!(
                t.0.keys().collect::<Vec<_>>(),
                en.0.keys().collect::<Vec<_>>(),
                "{lang:?}"
            );
            assert_eq!(t.0["lang"], lang.code());
        }
    }

    fn sample(lang: Lang, site: Option<SiteConfig>, operator: Option<&str>) -> ReportData {
        let iv = |a: i64, b: i64| {
            Interval::new(Timestamp::from_secs(a), Timestamp::from_secs(b)).unwrap()
        };
        let mut redaction = RedactionPolicy::default();
        redaction.styles.insert("person".into(), "pixelate".into());
        ReportData {
            mode: RequestMode::Access,
            reference: Some("REQ-<42>".into()),
            operator: operator.map(str::to_string),
            created: "2026-11-28T04:18:00Z".into(),
            expires: "2026-12-28".into(),
            window: (None, None),
            cameras: vec![CameraReport {
                name: "lobby".into(),
                source_file: "lobby.mp4".into(),
                source_sha256: "ab".repeat(32),
                start_wall: None,
                included: vec![iv(10, 20)],
                excluded: vec![iv(0, 10), iv(20, 30)],
            }],
            clips: vec![ClipReport {
                clip: ClipSummary {
                    name: "lobby.mp4".into(),
                    camera: "lobby".into(),
                    range: iv(10, 20),
                    frames: 250,
                    sha256: "cd".repeat(32),
                    masked_persons: Some(3),
                    start_wall: None,
                },
                thumbnails: vec![],
            }],
            policy: vec!["Access request: everyone else masked.".into()],
            redaction,
            lang,
            site,
        }
    }

    #[test]
    fn report_for_the_data_subject_has_every_section_in_both_languages() {
        let site = SiteConfig::from_toml(include_str!("../../../docs/site.example.toml")).unwrap();
        for (lang, must) in [
            (
                Lang::En,
                [
                    "Who sent you this",
                    "Your rights",
                    "How to watch the clips",
                    "Appendix: technical record",
                    "pixelated",
                    "10.0 s",
                ],
            ),
            (
                Lang::De,
                [
                    "Wer Ihnen das geschickt hat",
                    "Ihre Rechte",
                    "So sehen Sie die Clips an",
                    "Anhang: technisches Protokoll",
                    "verpixelt",
                    "10,0 s",
                ],
            ),
        ] {
            let h = render(&sample(lang, Some(site.clone()), None));
            for m in must {
                assert!(h.contains(m), "{lang:?}: missing {m:?}");
            }
            for v in [
                &site.controller.name,
                &site.dpo.as_ref().unwrap().name,
                &site.supervisory_authority.as_ref().unwrap().name,
            ] {
                assert!(h.contains(&escape(v)), "{lang:?}: missing {v}");
            }
            assert!(h.contains(&escape(site.processing.legal_basis.as_deref().unwrap())));
            assert!(h.contains("REQ-&lt;42&gt;") && !h.contains("REQ-<42>"));
            assert!(h.contains(&"cd".repeat(32)), "clip hash in the appendix");
            assert!(
                !h.contains("{controller}") && !h.contains("{style}"),
                "unfilled placeholder"
            );
        }
    }

    #[test]
    fn operator_only_when_asked_and_no_site_says_so() {
        let h = render(&sample(Lang::En, None, None));
        assert!(!h.contains("op-17"));
        assert!(h.contains("did not include their contact details"));
        let h = render(&sample(Lang::En, None, Some("op-17")));
        assert!(h.contains("op-17"));
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
