//! A red-team corpus of bad inputs, generated at test time (ffmpeg + byte edits; no media
//! is committed), run through `obscura probe`, `cut` and `redact`.
//!
//! Every case must end within a timeout, without a panic, with exit code 2 and one line
//! on stderr that names the file, and must leave no output behind. Cases that stay
//! decodable (a few corrupt NAL units are concealed by the decoder) are marked as such:
//! they may also succeed, but never panic or hang. `cargo test --test hostile_inputs --
//! --nocapture` prints the table of outcomes.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use obscura_testkit::clips::{IndexedClip, run_ffmpeg, write_lavfi_clip};

/// What a case must do.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Expect {
    /// Exit 2 with a one-line error naming the file, for every command.
    Error,
    /// Exit 2 as above for `cut` and `redact`; `probe` may describe it (exit 0): probe reads
    /// headers only (a truncated still, a size above the limits, a file without video).
    ProbeOk,
    /// Still decodable (errors concealed): exit 0 or 2, never a panic or hang.
    Either,
}

struct Case {
    name: String,
    path: PathBuf,
    /// The substring the error must contain (besides the file name), when it matters.
    says: Option<&'static str>,
    expect: Expect,
}

fn write(dir: &Path, name: impl AsRef<OsStr>, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name.as_ref());
    std::fs::write(&p, bytes).unwrap();
    p
}

/// A deterministic byte stream (xorshift), for garbage that is the same on every run.
fn garbage(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Offset of the first MP4 box of type `fourcc` at the top level.
fn top_box(data: &[u8], fourcc: &[u8; 4]) -> Option<(usize, usize)> {
    let mut at = 0usize;
    while at + 8 <= data.len() {
        let size = u32::from_be_bytes(data[at..at + 4].try_into().unwrap()) as usize;
        if &data[at + 4..at + 8] == fourcc {
            return Some((at, size));
        }
        if size < 8 {
            return None;
        }
        at += size;
    }
    None
}

/// A PNG header declaring `w` x `h` pixels (valid CRCs), followed by a tiny IDAT.
fn png_with_size(w: u32, h: u32) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut c = 0xFFFF_FFFFu32;
        for &b in data {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], body: &[u8]) {
        out.extend_from_slice(&(body.len() as u32).to_be_bytes());
        let mut t = kind.to_vec();
        t.extend_from_slice(body);
        out.extend_from_slice(&t);
        out.extend_from_slice(&crc32(&t).to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

fn corpus(dir: &Path) -> Vec<Case> {
    let src_dir = tempfile::tempdir().unwrap();
    let clip = std::fs::read(IndexedClip::write(src_dir.path(), 30, 10)).unwrap();
    // moov after mdat (no faststart) and before it (faststart), to cut either one off.
    let lavfi = |name: &str, args: &[&str]| {
        std::fs::read(write_lavfi_clip(
            src_dir.path(),
            name,
            "160x120",
            2,
            10,
            false,
            &[],
            args,
        ))
        .unwrap()
    };
    let tail_moov = lavfi("tail.mp4", &["-c:v", "libx264", "-preset", "ultrafast"]);
    let avi = lavfi("c.avi", &["-c:v", "mpeg4"]);
    let mkv = lavfi("c.mkv", &["-c:v", "libx264", "-preset", "ultrafast"]);
    let gif = lavfi("c.gif", &[]);
    let ts = lavfi("c.ts", &["-c:v", "libx264", "-preset", "ultrafast"]);
    let audio_only = {
        let p = src_dir.path().join("a.m4a");
        run_ffmpeg(
            &[
                "-f",
                "lavfi",
                "-i",
                "sine=duration=1",
                "-c:a",
                "aac",
                p.to_str().unwrap(),
            ],
            None,
        );
        std::fs::read(p).unwrap()
    };
    let jpeg = {
        let p = src_dir.path().join("s.jpg");
        image::RgbImage::from_pixel(64, 48, image::Rgb([200, 30, 30]))
            .save(&p)
            .unwrap();
        std::fs::read(p).unwrap()
    };
    let (mdat_at, mdat_size) = top_box(&clip, b"mdat").expect("mdat");
    let (moov_at, _) = top_box(&clip, b"moov").expect("moov");
    let mut cases = Vec::new();
    let mut add = |name: &str, path: PathBuf, says: Option<&'static str>, expect: Expect| {
        cases.push(Case {
            name: name.into(),
            path,
            says,
            expect,
        });
    };

    // Empty, garbage, wrong kinds of file.
    add(
        "zero-length",
        write(dir, "empty.mp4", b""),
        Some("empty (0 bytes)"),
        Expect::Error,
    );
    add(
        "one byte",
        write(dir, "one.mp4", b"\0"),
        None,
        Expect::Error,
    );
    add(
        "random bytes 64 KiB",
        write(dir, "random.mp4", &garbage(1, 65536)),
        None,
        Expect::Error,
    );
    add(
        "random bytes, .avi",
        write(dir, "random.avi", &garbage(2, 4096)),
        None,
        Expect::Error,
    );
    add(
        "text file",
        write(dir, "notes.mp4", b"this is not a video\n"),
        None,
        Expect::Error,
    );
    add(
        "zeros 1 MiB",
        write(dir, "zeros.mkv", &vec![0; 1 << 20]),
        None,
        Expect::Error,
    );
    add(
        "HTML page",
        write(
            dir,
            "page.mp4",
            b"<!doctype html><html><body>404</body></html>",
        ),
        None,
        Expect::Error,
    );
    add(
        "audio only",
        write(dir, "audio.m4a", &audio_only),
        Some("no video stream"),
        Expect::ProbeOk,
    );
    add(
        "subtitles only",
        write(
            dir,
            "subs.srt",
            b"1\n00:00:01,000 --> 00:00:02,000\nhello\n",
        ),
        None,
        Expect::ProbeOk,
    );

    // Broken MP4 structure.
    add(
        "truncated to 100 bytes",
        write(dir, "trunc100.mp4", &clip[..100]),
        None,
        Expect::Error,
    );
    add(
        "truncated inside mdat",
        write(dir, "trunc-mdat.mp4", &clip[..mdat_at + 64]),
        None,
        Expect::Error,
    );
    add(
        "truncated before moov (moov at end)",
        {
            let (m, _) = top_box(&tail_moov, b"moov").expect("moov");
            write(dir, "no-moov.mp4", &tail_moov[..m])
        },
        None,
        Expect::Error,
    );
    add(
        "moov renamed to free (FFmpeg still finds the moov)",
        {
            let mut d = clip.clone();
            d[moov_at + 4..moov_at + 8].copy_from_slice(b"free");
            write(dir, "moov-free.mp4", &d)
        },
        None,
        Expect::Either,
    );
    add(
        "mdat removed",
        {
            let mut d = clip[..mdat_at].to_vec();
            d.extend_from_slice(&clip[mdat_at + mdat_size..]);
            write(dir, "no-mdat.mp4", &d)
        },
        None,
        Expect::Either,
    );
    add(
        "mdat declares 4 GiB",
        {
            let mut d = clip.clone();
            d[mdat_at..mdat_at + 4].copy_from_slice(&0xFFFF_FFF0u32.to_be_bytes());
            write(dir, "mdat-huge.mp4", &d)
        },
        None,
        Expect::Either,
    );
    add(
        "moov box size 0",
        {
            let mut d = clip.clone();
            d[moov_at..moov_at + 4].copy_from_slice(&0u32.to_be_bytes());
            write(dir, "moov-size0.mp4", &d)
        },
        None,
        Expect::Either,
    );
    add(
        "mdat all garbage (every NAL unit corrupt)",
        {
            let mut d = clip.clone();
            let g = garbage(3, mdat_size - 8);
            d[mdat_at + 8..mdat_at + mdat_size].copy_from_slice(&g);
            write(dir, "nal-garbage.mp4", &d)
        },
        None,
        Expect::Either,
    );
    add(
        "a few corrupt NAL bytes",
        {
            let mut d = clip.clone();
            for k in 0..20 {
                let at = mdat_at + 16 + k * (mdat_size - 32) / 20;
                d[at] ^= 0x5A;
            }
            write(dir, "nal-flip.mp4", &d)
        },
        None,
        Expect::Either,
    );
    add(
        "stsz zeroed",
        {
            let mut d = clip.clone();
            if let Some(i) = d.windows(4).position(|w| w == b"stsz") {
                for b in &mut d[i + 4..(i + 64).min(moov_at + 4096).min(clip.len())] {
                    *b = 0xFF;
                }
            }
            write(dir, "stsz.mp4", &d)
        },
        None,
        Expect::Either,
    );

    // Other containers, truncated.
    add(
        "AVI truncated to its header",
        write(dir, "trunc.avi", &avi[..avi.len().min(600)]),
        None,
        Expect::Error,
    );
    add(
        "MKV truncated to 300 bytes",
        write(dir, "trunc.mkv", &mkv[..300]),
        None,
        Expect::Error,
    );
    add(
        "GIF truncated to 30 bytes",
        write(dir, "trunc.gif", &gif[..30]),
        None,
        Expect::ProbeOk,
    );
    add(
        "MPEG-TS truncated to one packet",
        write(dir, "trunc.ts", &ts[..188]),
        None,
        Expect::Error,
    );

    // Huge declared dimensions.
    add(
        "Y4M declaring 100000x100000",
        write(
            dir,
            "huge.y4m",
            b"YUV4MPEG2 W100000 H100000 F25:1 C420jpeg\nFRAME\n\0\0\0\0",
        ),
        None,
        Expect::Error,
    );
    add(
        "Y4M declaring 9000x16",
        write(
            dir,
            "wide.y4m",
            b"YUV4MPEG2 W9000 H16 F25:1 C420jpeg\nFRAME\n\0\0\0\0",
        ),
        None,
        Expect::ProbeOk,
    );
    add(
        "PNG declaring 100000x100000",
        write(dir, "huge.png", &png_with_size(100_000, 100_000)),
        None,
        Expect::ProbeOk,
    );

    // Stills.
    add(
        "JPEG truncated",
        write(dir, "trunc.jpg", &jpeg[..jpeg.len() / 3]),
        None,
        Expect::ProbeOk,
    );
    add(
        "JPEG header only",
        write(dir, "hdr.jpg", &jpeg[..20]),
        None,
        Expect::ProbeOk,
    );
    add(
        "PNG garbage",
        write(dir, "garbage.png", &garbage(4, 500)),
        None,
        Expect::ProbeOk,
    );

    // Scripts that would make a demuxer open other files.
    let real = write(dir, "real.mp4.bak", &clip);
    add(
        "ffconcat script",
        write(
            dir,
            "concat-script.mp4",
            format!("ffconcat version 1.0\nfile '{}'\n", real.display()).as_bytes(),
        ),
        None,
        Expect::Error,
    );
    add(
        "HLS playlist",
        write(
            dir,
            "playlist.mp4",
            format!(
                "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n{}\n#EXT-X-ENDLIST\n",
                real.display()
            )
            .as_bytes(),
        ),
        None,
        Expect::Error,
    );

    // Not regular files.
    let fifo = dir.join("fifo.mp4");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    add(
        "FIFO without a writer",
        fifo,
        Some("named pipe (FIFO)"),
        Expect::Error,
    );
    add(
        "/dev/zero",
        PathBuf::from("/dev/zero"),
        Some("character device"),
        Expect::Error,
    );
    add(
        "/dev/null",
        PathBuf::from("/dev/null"),
        Some("character device"),
        Expect::Error,
    );
    let folder = dir.join("folder.mp4");
    std::fs::create_dir(&folder).unwrap();
    // (redact takes folders as batch input: it says the folder holds no videos)
    add("empty folder named .mp4", folder, None, Expect::Error);
    let dangling = dir.join("dangling.mp4");
    std::os::unix::fs::symlink(dir.join("gone.mp4"), &dangling).unwrap();
    add(
        "dangling symlink",
        dangling,
        Some("no such file"),
        Expect::Error,
    );
    let looped = dir.join("loop.mp4");
    std::os::unix::fs::symlink(&looped, &looped).unwrap();
    add("symlink loop", looped, None, Expect::Error);

    // Odd names: protocol look-alikes that do not exist (FFmpeg would read a.mp4 and
    // b.mp4, which do), and odd names holding garbage.
    write(dir, "a.mp4", &clip);
    write(dir, "b.mp4", &clip);
    add(
        "concat: look-alike (missing)",
        dir.join("concat:a.mp4|b.mp4"),
        Some("no such file"),
        Expect::Error,
    );
    add(
        "file: look-alike (missing)",
        dir.join("file:a.mp4"),
        Some("no such file"),
        Expect::Error,
    );
    add(
        "subfile look-alike (missing)",
        dir.join("subfile,,start,0,end,0,,:a.mp4"),
        Some("no such file"),
        Expect::Error,
    );
    add(
        "non-UTF-8 name, garbage",
        write(
            dir,
            OsString::from_vec(b"bad-\xff\xfe.mp4".to_vec()),
            &garbage(5, 3000),
        ),
        None,
        Expect::Error,
    );
    add(
        "newline and escape in name",
        write(dir, "line\nbreak\x1b[31m.mp4", &garbage(6, 3000)),
        None,
        Expect::Error,
    );
    add(
        "leading dash, spaces, unicode",
        write(dir, "-rf Überwachung 监控.mp4", &garbage(7, 3000)),
        None,
        Expect::Error,
    );
    add(
        "255-byte name",
        write(dir, format!("{}.mp4", "n".repeat(251)), &garbage(8, 3000)),
        None,
        Expect::Error,
    );
    cases
}

fn obscura() -> Command {
    let mut c = Command::cargo_bin("obscura").unwrap();
    c.env("OBSCURA_AUDIT_LOG", obscura_testkit::scratch_audit_log());
    c.timeout(Duration::from_secs(60));
    c
}

/// The output folder's entries (must stay empty).
fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// How a file name appears in an error line (control characters escaped).
fn shown(p: &Path) -> String {
    obscura_media::Shown(p).to_string()
}

struct Outcome {
    code: Option<i32>,
    stderr: String,
    secs: f64,
}

fn run(cmd: &str, input: &Path, out_dir: &Path, models: bool) -> Option<Outcome> {
    let mut c = obscura();
    c.arg("--quiet").arg(cmd);
    match cmd {
        "probe" => {}
        "cut" => {
            c.args(["--include", "0..1", "-o"])
                .arg(out_dir.join("out.mp4"));
        }
        "redact" => {
            if !models {
                return None;
            }
            let ext = if obscura_pipeline::is_still(input) {
                "png"
            } else {
                "mp4"
            };
            c.arg("-o").arg(out_dir.join(format!("out.{ext}")));
        }
        _ => unreachable!(),
    }
    c.arg("--").arg(input);
    let t = Instant::now();
    let o = c.output().expect("obscura runs");
    Some(Outcome {
        code: o.status.code(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        secs: t.elapsed().as_secs_f64(),
    })
}

#[test]
fn red_team_corpus_fails_closed() {
    let dir = tempfile::tempdir().unwrap();
    let cases = corpus(dir.path());
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let models = obscura_testkit::model_file("yolox_nano_416.onnx").is_some()
        && obscura_testkit::model_file("yunet_n_dynamic.onnx").is_some();
    let mut table = vec![
        "| case | command | exit | seconds | stderr |".to_string(),
        "|---|---|---|---|---|".to_string(),
    ];
    let mut problems = Vec::new();
    for case in &cases {
        for cmd in ["probe", "cut", "redact"] {
            let out = tempfile::tempdir().unwrap();
            let Some(o) = run(cmd, &case.path, out.path(), models) else {
                continue;
            };
            let line = o.stderr.trim().replace('|', "\\|");
            table.push(format!(
                "| {} | {cmd} | {:?} | {:.2} | {} |",
                case.name, o.code, o.secs, line
            ));
            let mut fail = |why: String| {
                problems.push(format!(
                    "{} / {cmd}: {why}; stderr: {}",
                    case.name,
                    o.stderr.trim()
                ))
            };
            if o.stderr.contains("panicked") || o.code == Some(101) {
                fail("panicked".into());
            }
            if o.code.is_none() {
                fail("killed (timeout?)".into());
            }
            let must_fail = match case.expect {
                Expect::Error => true,
                Expect::ProbeOk => cmd != "probe",
                Expect::Either => false,
            };
            if must_fail && o.code != Some(2) {
                fail(format!("exit {:?}, expected 2", o.code));
            }
            if o.code == Some(2) {
                if o.stderr.trim().lines().count() != 1 {
                    fail("error is not one line".into());
                }
                if !o.stderr.contains(&shown(&case.path)) {
                    fail(format!(
                        "error does not name the file {}",
                        shown(&case.path)
                    ));
                }
                if let Some(s) = case.says
                    && !o.stderr.contains(s)
                {
                    fail(format!("error does not say {s:?}"));
                }
                if !entries(out.path()).is_empty() {
                    fail(format!("left output behind: {:?}", entries(out.path())));
                }
            }
        }
    }
    println!("{}", table.join("\n"));
    if let Ok(p) = std::env::var("OBSCURA_HOSTILE_TABLE") {
        std::fs::write(p, table.join("\n") + "\n").unwrap();
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Permission denied is reported as such. Tests usually run as root, who reads any file,
/// so the command runs as `nobody` through `setpriv` (skipped when that is unavailable).
#[test]
fn unreadable_file_says_permission_denied() {
    let dir = tempfile::tempdir().unwrap();
    let src = IndexedClip::write(dir.path(), 3, 10);
    let locked = dir.path().join("locked.mp4");
    std::fs::copy(&src, &locked).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("obscura");
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    let (prog, args): (PathBuf, Vec<OsString>) = if is_root {
        let ok = std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "true"])
            .status()
            .is_ok_and(|s| s.success());
        // nobody must be able to reach the binary at all.
        let reachable = ok
            && std::process::Command::new("setpriv")
                .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg(&bin)
                .arg("--version")
                .status()
                .is_ok_and(|s| s.success());
        if !reachable {
            eprintln!(
                "SKIP: running as root and cannot run obscura as nobody (setpriv), so permissions cannot be denied"
            );
            return;
        }
        (
            PathBuf::from("setpriv"),
            ["--reuid=65534", "--regid=65534", "--clear-groups"]
                .iter()
                .map(OsString::from)
                .chain([bin.into_os_string()])
                .collect(),
        )
    } else {
        (bin, Vec::new())
    };
    for cmd in ["probe", "cut"] {
        let mut c = std::process::Command::new(&prog);
        c.args(&args).arg(cmd).arg(&locked);
        if cmd == "cut" {
            c.arg("-o").arg("/tmp/never-written-by-obscura-test.mp4");
        }
        let o = c.output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{cmd}: {err}");
        assert!(
            err.contains(&format!("{}: permission denied", locked.display())),
            "{cmd}: {err}"
        );
    }
}

#[test]
fn non_utf8_and_protocol_named_inputs_work_as_plain_files() {
    let dir = tempfile::tempdir().unwrap();
    let src = IndexedClip::write(dir.path(), 12, 10);
    for name in [
        OsStr::from_bytes(b"cam-\xe9t\xe9.mp4"),
        OsStr::new("concat:a.mp4|b.mp4"),
        OsStr::new("file:x.mp4"),
    ] {
        let p = dir.path().join(name);
        std::fs::copy(&src, &p).unwrap();
        let a = obscura()
            .arg("probe")
            .arg("--json")
            .arg(&p)
            .assert()
            .success();
        let json: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
        assert_eq!(json["streams"][0]["frame_count"], 12, "{}", p.display());
        let out_dir = tempfile::tempdir().unwrap();
        let out = out_dir.path().join(OsStr::from_bytes(b"out-\xff.mp4"));
        obscura()
            .arg("cut")
            .arg(&p)
            .arg("-o")
            .arg(&out)
            .args(["--include", "0..0.5"])
            .assert()
            .success();
        assert_eq!(
            obscura_media::probe(&out).unwrap().streams[0].frame_count,
            Some(5)
        );
    }
}
