//! `obscura review`'s local web server: 127.0.0.1 only, a random port, a random token in the
//! URL that every request must carry (else 403), a `Host` header that must name the loopback
//! address (else 403: no DNS rebinding), every asset embedded in the binary, nothing fetched.

use std::io::Read;

use tiny_http::{Header, Method, Request, Response, Server};

use crate::edits::Edits;
use crate::error::Error;
use crate::session::Session;

const PAGE: &str = include_str!("../assets/review.html");
const SCRIPT: &str = include_str!("../assets/review.js");
const STYLE: &str = include_str!("../assets/review.css");

/// Largest request body accepted (bytes).
const MAX_BODY: u64 = 4 << 20;

/// The running server: its address and token.
pub struct ReviewServer {
    server: Server,
    port: u16,
    token: String,
}

impl std::fmt::Debug for ReviewServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReviewServer")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

/// A fresh random token: 128 bits, hex.
fn new_token() -> Result<String, Error> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| Error::Server(format!("no randomness: {e}")))?;
    Ok(obscura_core::digest::hex(&b))
}

/// Equal without an early exit on the first differing byte.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A parsed request line: path and query pairs.
fn split_url(url: &str) -> (&str, Vec<(&str, &str)>) {
    let (path, q) = url.split_once('?').unwrap_or((url, ""));
    (
        path,
        q.split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split_once('=').unwrap_or((p, "")))
            .collect(),
    )
}

impl ReviewServer {
    /// Binds 127.0.0.1 on a random free port and makes a token.
    pub fn bind() -> Result<ReviewServer, Error> {
        let server = Server::http("127.0.0.1:0")
            .map_err(|e| Error::Server(format!("cannot listen on 127.0.0.1: {e}")))?;
        let port = server
            .server_addr()
            .to_ip()
            .map(|a| a.port())
            .ok_or_else(|| Error::Server("not an IP listener".into()))?;
        Ok(ReviewServer {
            server,
            port,
            token: new_token()?,
        })
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL to open (carries the token).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/?t={}", self.port, self.token)
    }

    /// Whether a request may be answered: the `Host` header names this loopback listener and
    /// the token matches. Returns the refusal reason otherwise.
    pub fn admit(&self, host: Option<&str>, token: Option<&str>) -> Result<(), &'static str> {
        let ok_host = host.is_some_and(|h| {
            let h = h.trim().to_ascii_lowercase();
            [
                format!("127.0.0.1:{}", self.port),
                format!("localhost:{}", self.port),
                format!("[::1]:{}", self.port),
            ]
            .contains(&h)
        });
        if !ok_host {
            return Err("the Host header must be 127.0.0.1 with this port");
        }
        if !token.is_some_and(|t| same(t, &self.token)) {
            return Err("missing or wrong token");
        }
        Ok(())
    }

    /// Serves requests until `stop` returns true (checked between requests, at least every
    /// half second). Each request is answered from `session`.
    pub fn serve(
        &self,
        session: &mut Session,
        stop: &dyn Fn() -> bool,
        now: &dyn Fn() -> String,
    ) -> Result<(), Error> {
        while !stop() {
            let rq = match self
                .server
                .recv_timeout(std::time::Duration::from_millis(500))
            {
                Ok(Some(rq)) => rq,
                Ok(None) => continue,
                Err(e) => return Err(Error::Server(e.to_string())),
            };
            self.answer(rq, session, now);
        }
        Ok(())
    }

    fn answer(&self, mut rq: Request, session: &mut Session, now: &dyn Fn() -> String) {
        let url = rq.url().to_string();
        let (path, query) = split_url(&url);
        let q = |k: &str| query.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
        let host = rq
            .headers()
            .iter()
            .find(|h| h.field.equiv("Host"))
            .map(|h| h.value.as_str().to_string());
        if let Err(why) = self.admit(host.as_deref(), q("t")) {
            let _ = rq.respond(text(403, &format!("forbidden: {why}\n")));
            return;
        }
        let num = |k: &str| q(k).and_then(|v| v.parse::<u64>().ok());
        let reply = match (rq.method(), path) {
            (Method::Get, "/") => bytes(
                200,
                "text/html; charset=utf-8",
                PAGE.replace("__TOKEN__", &self.token).into_bytes(),
            ),
            (Method::Get, "/review.js") => bytes(
                200,
                "text/javascript; charset=utf-8",
                SCRIPT.as_bytes().to_vec(),
            ),
            (Method::Get, "/review.css") => {
                bytes(200, "text/css; charset=utf-8", STYLE.as_bytes().to_vec())
            }
            (Method::Get, "/api/state") => json_reply(200, &session.state()),
            (Method::Get, "/api/boxes") => match num("i") {
                Some(i) if i < session.frame_count() => json_reply(200, &session.boxes(i)),
                _ => text(404, "no such frame\n"),
            },
            (Method::Get, "/api/frame") => match num("i") {
                Some(i) if i < session.frame_count() => {
                    if q("view") == Some("source") {
                        bytes(
                            200,
                            "image/jpeg",
                            session.source_jpeg(i).unwrap_or_default().to_vec(),
                        )
                    } else {
                        match session.preview_jpeg(i) {
                            Ok(b) => bytes(200, "image/jpeg", b),
                            Err(e) => text(500, &format!("{e}\n")),
                        }
                    }
                }
                _ => text(404, "no such frame\n"),
            },
            (Method::Get, "/api/thumb") => match num("id").and_then(|id| session.thumbnail(id)) {
                Some(b) => bytes(200, "image/jpeg", b),
                None => text(404, "no such person\n"),
            },
            (Method::Post, "/api/edits") => match read_json::<Edits>(&mut rq) {
                Ok(e) => match session.set_edits(e) {
                    Ok(()) => json_reply(200, &session.state()),
                    Err(e) => json_reply(400, &serde_json::json!({"error": e.to_string()})),
                },
                Err(e) => json_reply(400, &serde_json::json!({"error": e})),
            },
            (Method::Post, "/api/save") => match read_json::<serde_json::Value>(&mut rq) {
                Ok(v) => {
                    let reviewer = v
                        .get("reviewer")
                        .and_then(|r| r.as_str())
                        .unwrap_or("")
                        .to_string();
                    match session.save(&reviewer, &now()) {
                        Ok(sha) => json_reply(
                            200,
                            &serde_json::json!({"ok": true, "path": session.save_target().path.display().to_string(), "sha256": sha}),
                        ),
                        Err(e) => json_reply(400, &serde_json::json!({"error": e.to_string()})),
                    }
                }
                Err(e) => json_reply(400, &serde_json::json!({"error": e})),
            },
            _ => text(404, "not found\n"),
        };
        let _ = rq.respond(reply);
    }
}

fn read_json<T: serde::de::DeserializeOwned>(rq: &mut Request) -> Result<T, String> {
    let mut body = Vec::new();
    rq.as_reader()
        .take(MAX_BODY + 1)
        .read_to_end(&mut body)
        .map_err(|e| e.to_string())?;
    if body.len() as u64 > MAX_BODY {
        return Err("request too large".into());
    }
    serde_json::from_slice(&body).map_err(|e| e.to_string())
}

fn header(k: &str, v: &str) -> Header {
    Header::from_bytes(k.as_bytes(), v.as_bytes()).expect("static header")
}

/// A response with the page's security headers: nothing may be loaded from elsewhere.
fn bytes(status: u16, kind: &str, body: Vec<u8>) -> Response<Cursor> {
    Response::from_data(body)
        .with_status_code(status)
        .with_header(header("Content-Type", kind))
        .with_header(header("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"))
        .with_header(header("Cache-Control", "no-store"))
        .with_header(header("X-Content-Type-Options", "nosniff"))
        .with_header(header("Referrer-Policy", "no-referrer"))
}

type Cursor = std::io::Cursor<Vec<u8>>;

fn text(status: u16, body: &str) -> Response<Cursor> {
    bytes(
        status,
        "text/plain; charset=utf-8",
        body.as_bytes().to_vec(),
    )
}

fn json_reply(status: u16, v: &serde_json::Value) -> Response<Cursor> {
    bytes(
        status,
        "application/json",
        serde_json::to_vec(v).unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::TcpStream;

    fn get(port: u16, path: &str, host: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn token_and_host_are_required() {
        let srv = ReviewServer::bind().unwrap();
        let port = srv.port();
        assert!(
            srv.url()
                .starts_with(&format!("http://127.0.0.1:{port}/?t="))
        );
        assert_eq!(srv.token.len(), 32);
        let good_host = format!("127.0.0.1:{port}");
        let token = srv.token.clone();
        let t = std::thread::spawn(move || {
            // Answers the three requests with the admission check and the page only.
            for _ in 0..4 {
                let rq = srv.server.recv().unwrap();
                let url = rq.url().to_string();
                let (_, query) = split_url(&url);
                let tok = query.iter().find(|(k, _)| *k == "t").map(|(_, v)| *v);
                let host = rq
                    .headers()
                    .iter()
                    .find(|h| h.field.equiv("Host"))
                    .map(|h| h.value.as_str().to_string());
                let r = match srv.admit(host.as_deref(), tok) {
                    Ok(()) => bytes(200, "text/html", PAGE.as_bytes().to_vec()),
                    Err(why) => text(403, why),
                };
                rq.respond(r).unwrap();
            }
        });
        let ok = get(port, &format!("/?t={token}"), &good_host);
        assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
        assert!(
            ok.contains("Content-Security-Policy: default-src 'none'"),
            "{ok}"
        );
        let no_token = get(port, "/", &good_host);
        assert!(no_token.starts_with("HTTP/1.1 403"), "{no_token}");
        let wrong = get(port, &format!("/?t={}", "0".repeat(32)), &good_host);
        assert!(wrong.starts_with("HTTP/1.1 403"), "{wrong}");
        let rebinding = get(
            port,
            &format!("/?t={token}"),
            &format!("evil.example:{port}"),
        );
        assert!(
            rebinding.starts_with("HTTP/1.1 403") && rebinding.contains("Host"),
            "{rebinding}"
        );
        t.join().unwrap();
    }

    #[test]
    fn the_page_loads_nothing_from_elsewhere() {
        for (name, text) in [
            ("review.html", PAGE),
            ("review.js", SCRIPT),
            ("review.css", STYLE),
        ] {
            for bad in ["http://", "https://", "//cdn", "@import"] {
                assert!(!text.contains(bad), "{name} contains {bad}");
            }
        }
        assert!(
            PAGE.contains("src=\"review.js?t=__TOKEN__\"")
                && PAGE.contains("href=\"review.css?t=__TOKEN__\"")
        );
    }
}
