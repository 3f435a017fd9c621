//! No plaintext outlives the process (issue 20, item 0): `kill -9` at random moments of
//! `obscura export --mode access` and of `obscura open` leaves no readable footage or
//! decrypted payload (no file, no temporary); a full disk (a 1 MiB tmpfs) is named as such,
//! audited as such, and leaves nothing. Run with `--nocapture` for the numbers.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use obscura_testkit::clips::IndexedClip;

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("obscura")
}

fn obscura(dir: &Path) -> Command {
    let mut c = Command::new(bin());
    c.current_dir(dir)
        .env("OBSCURA_AUDIT_LOG", dir.join("audit.jsonl"))
        .env_remove("OBSCURA_OPERATOR");
    c
}

fn ok(c: &mut Command) -> std::process::Output {
    let o = c.output().unwrap();
    assert!(
        o.status.success(),
        "{c:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// Deterministic pseudo-random numbers (SplitMix64), so a failing kill time can be replayed.
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Every regular file below `dir` (symlinks are not followed: a dangling link to a dead
/// process's `/proc/PID/fd/N` holds nothing).
fn regular_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let t = e.file_type().unwrap();
        if t.is_dir() {
            out.extend(regular_files(&e.path()));
        } else if t.is_file() {
            out.push(e.path());
        }
    }
    out
}

/// True when the bytes look like media plaintext: an MP4/MOV (`ftyp` box), a JPEG or a PNG,
/// or an HTML report with embedded pictures.
fn looks_like_footage(path: &Path) -> bool {
    let b = fs::read(path).unwrap_or_default();
    (b.len() >= 8 && &b[4..8] == b"ftyp")
        || b.starts_with(&[0xFF, 0xD8, 0xFF])
        || b.starts_with(b"\x89PNG")
        || String::from_utf8_lossy(&b).contains("data:image/")
}

fn kill_after(mut cmd: Command, delay: Duration) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(delay);
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
}

#[test]
fn killed_access_export_leaves_no_plaintext() {
    if obscura_testkit::model_file("yolox_nano_416.onnx").is_none() {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    ok(obscura(d).args(["keygen", "-o", "keys"]));
    IndexedClip::write_with(
        d,
        "cam.mp4",
        60,
        20,
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "12",
            "-pix_fmt",
            "yuv420p",
        ],
    );
    fs::create_dir(d.join("out")).unwrap();
    let export = |name: &str| {
        let mut c = obscura(d);
        c.args([
            "-q",
            "export",
            "--mode",
            "access",
            "cam.mp4",
            "--from",
            "0.5",
            "--until",
            "2.5",
            "--preset",
            "ultrafast",
        ])
        .args([
            "--recipient",
            "keys/obscura.recipient.pub",
            "--sign",
            "keys/obscura.sign.key",
            "-o",
        ])
        .arg(format!("out/{name}"));
        c
    };
    let start = Instant::now();
    ok(&mut export("full.obx"));
    let full = start.elapsed();
    let inputs: Vec<PathBuf> = regular_files(d);
    let mut rng = Rng(20);
    let (mut kills, mut mid_run, mut packages) = (0, 0, 0);
    let mut delays_ms = Vec::new();
    for i in 0..24 {
        let delay = full.mul_f64(rng.next_f64());
        delays_ms.push(delay.as_millis());
        let name = format!("k{i}.obx");
        kill_after(export(&name), delay);
        kills += 1;
        let pkg = d.join("out").join(&name);
        if pkg.exists() {
            packages += 1;
            ok(obscura(d)
                .args([
                    "verify",
                    "--audit-log",
                    "verify-audit.jsonl",
                    "--signer",
                    "keys/obscura.sign.pub",
                ])
                .arg(&pkg));
        } else {
            mid_run += 1;
        }
        for f in regular_files(d) {
            if inputs.contains(&f) || f.file_name().is_some_and(|n| n == "verify-audit.jsonl") {
                continue;
            }
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                !f.components()
                    .any(|c| c.as_os_str().to_string_lossy().starts_with(".obscura-tmp-")),
                "kill {i} after {delay:?}: a temporary file survived: {}",
                f.display()
            );
            assert!(
                !looks_like_footage(&f),
                "kill {i} after {delay:?}: plaintext footage survived in {}",
                f.display()
            );
            if name.ends_with(".obx") {
                assert!(
                    pkg == f || f.file_name().unwrap().to_string_lossy().starts_with('k'),
                    "{}",
                    f.display()
                );
            }
        }
    }
    assert!(
        mid_run >= 10,
        "too few kills landed mid-run ({mid_run} of {kills}; full run {full:?})"
    );
    // The next run sweeps the (empty) work folders of the killed processes.
    ok(&mut export("after.obx"));
    let left: Vec<String> = fs::read_dir(d.join("out"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".obscura-tmp-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    ok(obscura(d).args(["audit", "verify", "audit.jsonl"]));
    eprintln!(
        "access-export kill test: full run {full:?}, {kills} kills at {delays_ms:?} ms, {mid_run} mid-run (nothing left), {packages} after the package was complete (verified); no plaintext file or temporary survived any kill"
    );
}

#[test]
fn killed_open_leaves_no_plaintext() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    ok(obscura(d).args(["keygen", "-o", "keys"]));
    // 24 MiB of pattern bytes: big enough that an open takes a while, recognisable if it leaks.
    let data: Vec<u8> = (0..24u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    fs::write(d.join("payload.bin"), &data).unwrap();
    ok(obscura(d).args([
        "-q",
        "seal",
        "payload.bin",
        "-o",
        "p.obx",
        "--sign",
        "keys/obscura.sign.key",
        "--recipient",
        "keys/obscura.recipient.pub",
    ]));
    fs::remove_file(d.join("payload.bin")).unwrap();
    let open = |out: &str| {
        let mut c = obscura(d);
        c.args([
            "-q",
            "open",
            "p.obx",
            "--identity",
            "keys/obscura.recipient.key",
            "--signer",
            "keys/obscura.sign.pub",
            "-o",
            out,
        ]);
        c
    };
    let start = Instant::now();
    ok(&mut open("full"));
    let full = start.elapsed();
    assert_eq!(fs::read(d.join("full/payload.bin")).unwrap(), data);
    let mut rng = Rng(7);
    let (mut mid_run, mut complete) = (0, 0);
    let mut delays_ms = Vec::new();
    let kills = 24;
    for i in 0..kills {
        let delay = full.mul_f64(rng.next_f64());
        delays_ms.push(delay.as_millis());
        let out = format!("o{i}");
        kill_after(open(&out), delay);
        let files = regular_files(&d.join(&out));
        let names: Vec<String> = fs::read_dir(d.join(&out))
            .map(|r| {
                r.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            names.iter().all(|n| n == "payload.bin"),
            "kill {i} after {delay:?}: {names:?}"
        );
        match files.as_slice() {
            [] => mid_run += 1,
            [f] => {
                // Only ever the whole, verified payload (named after every check passed).
                assert_eq!(
                    fs::read(f).unwrap(),
                    data,
                    "kill {i} after {delay:?}: partial plaintext in {}",
                    f.display()
                );
                complete += 1;
            }
            _ => unreachable!(),
        }
    }
    assert!(
        mid_run >= 10,
        "too few kills landed mid-run ({mid_run} of {kills}; full run {full:?})"
    );
    ok(obscura(d).args(["audit", "verify", "audit.jsonl"]));
    eprintln!(
        "open kill test: full run {full:?}, {kills} kills at {delays_ms:?} ms, {mid_run} mid-run (nothing left), {complete} after publishing (whole payload); no partial plaintext survived any kill"
    );
}

/// A 1 MiB tmpfs mounted for the test and unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path) -> Option<Tmpfs> {
        fs::create_dir_all(at).unwrap();
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs"])
            .arg(at)
            .stderr(Stdio::null())
            .status();
        if st.is_ok_and(|s| s.success()) {
            return Some(Tmpfs(at.to_path_buf()));
        }
        if obscura_testkit::under_ci() {
            panic!(
                "CI=true but a tmpfs cannot be mounted at {} (run the tests as root)",
                at.display()
            );
        }
        eprintln!("SKIP: cannot mount a tmpfs (not root?): the full-disk test needs one");
        None
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn full_disk_is_named_and_leaves_nothing() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let Some(fs_) = Tmpfs::mount(&d.join("full")) else {
        return;
    };
    ok(obscura(d).args(["keygen", "-o", "keys"]));
    let data: Vec<u8> = (0..3u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    fs::write(d.join("big.bin"), &data).unwrap();
    let stderr = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).into_owned();

    // seal into the full file system
    let o = obscura(d)
        .args([
            "seal",
            "big.bin",
            "-o",
            "full/x.obx",
            "--sign",
            "keys/obscura.sign.key",
            "--recipient",
            "keys/obscura.recipient.pub",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("no space left"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("pipeline stopped"), "{}", stderr(&o));
    assert!(regular_files(&fs_.0).is_empty());

    // open into the full file system: named as disk full, not as tampering, and audited so
    ok(obscura(d).args([
        "-q",
        "seal",
        "big.bin",
        "-o",
        "x.obx",
        "--sign",
        "keys/obscura.sign.key",
        "--recipient",
        "keys/obscura.recipient.pub",
    ]));
    let o = obscura(d)
        .args([
            "open",
            "x.obx",
            "--identity",
            "keys/obscura.recipient.key",
            "--signer",
            "keys/obscura.sign.pub",
            "-o",
            "full/o",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no space left") && !stderr(&o).contains("damaged"),
        "{}",
        stderr(&o)
    );
    assert!(regular_files(&fs_.0).is_empty());
    assert!(
        !fs_.0.join("o").exists(),
        "the folder open created is removed again"
    );
    let log = fs::read_to_string(d.join("audit.jsonl")).unwrap();
    let last = log.lines().last().unwrap();
    assert!(
        last.contains("\"action\":\"open\"")
            && last.contains("no space left")
            && !last.contains("tampered"),
        "{last}"
    );

    // an erasure export into an almost full file system: the intermediates do not fit, and
    // (with the work folder elsewhere) the package does not fit
    IndexedClip::write_with(
        d,
        "cam.mp4",
        50,
        25,
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "12",
            "-pix_fmt",
            "yuv420p",
        ],
    );
    fs::write(fs_.0.join("filler"), vec![0u8; 1_040_000]).unwrap();
    for work in [None, Some("wd")] {
        let mut c = obscura(d);
        c.args([
            "export",
            "--mode",
            "erasure",
            "cam.mp4",
            "--exclude",
            "1..1.2",
            "--preset",
            "ultrafast",
        ])
        .args([
            "--recipient",
            "keys/obscura.recipient.pub",
            "--sign",
            "keys/obscura.sign.key",
            "-o",
            "full/e.obx",
        ]);
        if let Some(w) = work {
            c.args(["--work-dir", w]);
        }
        let o = c.output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(
            stderr(&o).to_lowercase().contains("no space left"),
            "{}",
            stderr(&o)
        );
        assert!(!stderr(&o).contains("pipeline stopped"), "{}", stderr(&o));
        assert_eq!(regular_files(&fs_.0), vec![fs_.0.join("filler")]);
    }
    drop(fs_);
}
