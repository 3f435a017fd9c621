//! Synthetic clips rendered at test time and encoded with the `ffmpeg` CLI, plus
//! independent `ffmpeg`/`ffprobe` oracles to check what our code wrote.
//!
//! * [`IndexedClip`]: every frame carries its own index as a 4x3 grid of black/white
//!   blocks (12 bits, so up to 4096 frames), robust to lossy coding;
//!   [`decode_indices_with_ffmpeg`] reads the indices back with the ffmpeg CLI.
//! * [`MovingBoxesClip`]: coloured boxes moving over a noisy background, seeded, with
//!   the exact box positions per frame ([`MovingBoxesClip::boxes_at`]).
//! * [`write_lavfi_clip`]: FFmpeg test pattern with optional sine audio and metadata tags.
//!
//! Everything panics with a clear message when ffmpeg fails (these are test helpers).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use obscura_core::PixelRect;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Runs the `ffmpeg` CLI (with `-v error -y` prepended) and panics on failure, printing
/// its stderr. `stdin` bytes are piped in when given. Returns stdout.
pub fn run_ffmpeg(args: &[&str], stdin: Option<&[u8]>) -> Vec<u8> {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-hide_banner", "-nostdin", "-v", "error", "-y"])
        .args(args);
    if stdin.is_some() {
        // `-nostdin` only stops ffmpeg reading keys; `-i -` still reads the pipe.
        cmd.stdin(Stdio::piped());
    } else {
        cmd.stdin(Stdio::null());
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .expect("the ffmpeg CLI is needed for tests (apt install ffmpeg)");
    let writer = stdin.map(|bytes| {
        let mut pipe = child.stdin.take().expect("piped stdin");
        let bytes = bytes.to_vec();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        })
    });
    let out = child.wait_with_output().expect("ffmpeg ran");
    if let Some(w) = writer {
        let _ = w.join();
    }
    assert!(
        out.status.success(),
        "ffmpeg {:?} failed: {}",
        args,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Runs `ffprobe -v error` with `args` and returns stdout as text (panics on failure).
pub fn run_ffprobe(args: &[&str]) -> String {
    let out = Command::new("ffprobe")
        .args(["-hide_banner", "-v", "error"])
        .args(args)
        .output()
        .expect("the ffprobe CLI is needed for tests (apt install ffmpeg)");
    assert!(
        out.status.success(),
        "ffprobe {:?} failed: {}",
        args,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The frame count of the first video stream, counted by decoding (`-count_frames`).
pub fn ffprobe_frame_count(path: &Path) -> u64 {
    let p = path.to_str().expect("utf-8 path");
    let s = run_ffprobe(&[
        "-select_streams",
        "v:0",
        "-count_frames",
        "-show_entries",
        "stream=nb_read_frames",
        "-of",
        "csv=p=0",
        p,
    ]);
    s.trim()
        .trim_end_matches(',')
        .parse()
        .unwrap_or_else(|_| panic!("ffprobe frame count of {p}: {s:?}"))
}

/// One entry of the first video stream as ffprobe prints it, such as `r_frame_rate`.
pub fn ffprobe_video_entry(path: &Path, entry: &str) -> String {
    let p = path.to_str().expect("utf-8 path");
    run_ffprobe(&[
        "-select_streams",
        "v:0",
        "-show_entries",
        &format!("stream={entry}"),
        "-of",
        "csv=p=0",
        p,
    ])
    .trim()
    .to_string()
}

/// The PTS (in seconds, as ffprobe prints them) of every video frame, decoded by ffprobe.
pub fn ffprobe_frame_times(path: &Path) -> Vec<f64> {
    let p = path.to_str().expect("utf-8 path");
    run_ffprobe(&[
        "-select_streams",
        "v:0",
        "-show_entries",
        "frame=pts_time",
        "-of",
        "csv=p=0",
        p,
    ])
    .lines()
    .filter(|l| !l.trim().is_empty())
    .map(|l| {
        l.trim()
            .trim_end_matches(',')
            .parse()
            .unwrap_or_else(|_| panic!("bad pts_time line {l:?}"))
    })
    .collect()
}

/// A clip whose every frame shows its own index (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexedClip;

impl IndexedClip {
    /// Frame width in pixels.
    pub const WIDTH: u32 = 128;
    /// Frame height in pixels.
    pub const HEIGHT: u32 = 96;
    /// Bits of the index code (blocks in the grid).
    pub const BITS: u32 = 12;
    const BLOCK: u32 = 32;

    /// The luma plane (`WIDTH x HEIGHT`, 8-bit) of frame `index`: block `b` (row-major in a
    /// 4x3 grid of 32-pixel blocks) is white (235) when bit `b` of the index is set, else
    /// black (16).
    pub fn luma(index: u32) -> Vec<u8> {
        assert!(
            index < (1 << Self::BITS),
            "IndexedClip holds at most 4096 frames"
        );
        let (w, h) = (Self::WIDTH, Self::HEIGHT);
        let mut y = vec![0u8; (w * h) as usize];
        for row in 0..h {
            for col in 0..w {
                let bit = (row / Self::BLOCK) * (w / Self::BLOCK) + col / Self::BLOCK;
                y[(row * w + col) as usize] = if index >> bit & 1 == 1 { 235 } else { 16 };
            }
        }
        y
    }

    /// The YUV420P bytes of frame `index` (grey chroma).
    pub fn yuv420p(index: u32) -> Vec<u8> {
        let mut v = Self::luma(index);
        v.resize(v.len() + (Self::WIDTH * Self::HEIGHT / 2) as usize, 128);
        v
    }

    /// Reads the index back from a luma plane (`stride` bytes per row), averaging the
    /// centre 16x16 of each block; `None` when a block is ambiguous (mid-grey).
    pub fn index_of_luma(luma: &[u8], stride: usize) -> Option<u32> {
        let mut index = 0u32;
        for bit in 0..Self::BITS {
            let (bx, by) = (
                bit % (Self::WIDTH / Self::BLOCK),
                bit / (Self::WIDTH / Self::BLOCK),
            );
            let (x0, y0) = (
                (bx * Self::BLOCK + 8) as usize,
                (by * Self::BLOCK + 8) as usize,
            );
            let mut sum = 0u32;
            for y in y0..y0 + 16 {
                for x in x0..x0 + 16 {
                    sum += u32::from(luma[y * stride + x]);
                }
            }
            let mean = sum / 256;
            if (96..=160).contains(&mean) {
                return None;
            }
            if mean > 128 {
                index |= 1 << bit;
            }
        }
        Some(index)
    }

    /// Writes `frames` frames at `fps` as H.264 MP4 (`indexed.mp4`) in `dir`.
    pub fn write(dir: &Path, frames: u32, fps: u32) -> PathBuf {
        Self::write_with(
            dir,
            "indexed.mp4",
            frames,
            fps,
            &[
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-crf",
                "18",
                "-pix_fmt",
                "yuv420p",
            ],
        )
    }

    /// Writes `frames` frames at `fps` to `dir/name` with the given ffmpeg output options
    /// (codec, container flags...).
    pub fn write_with(
        dir: &Path,
        name: &str,
        frames: u32,
        fps: u32,
        output_args: &[&str],
    ) -> PathBuf {
        let mut raw = Vec::with_capacity((frames * Self::WIDTH * Self::HEIGHT * 3 / 2) as usize);
        for i in 0..frames {
            raw.extend_from_slice(&Self::yuv420p(i));
        }
        let out = dir.join(name);
        let size = format!("{}x{}", Self::WIDTH, Self::HEIGHT);
        let rate = fps.to_string();
        let mut args = vec![
            "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", &size, "-r", &rate, "-i", "-",
        ];
        args.extend_from_slice(output_args);
        args.push(out.to_str().expect("utf-8 path"));
        run_ffmpeg(&args, Some(&raw));
        out
    }
}

/// Decodes `path` with the ffmpeg CLI (the independent oracle: no code of ours involved)
/// and returns the index shown by every frame, in presentation order. Frames are neither
/// duplicated nor dropped (`-fps_mode passthrough`). Panics on an unreadable frame.
pub fn decode_indices_with_ffmpeg(path: &Path) -> Vec<u32> {
    let p = path.to_str().expect("utf-8 path");
    let size = format!("{}x{}", IndexedClip::WIDTH, IndexedClip::HEIGHT);
    let raw = run_ffmpeg(
        &[
            "-i",
            p,
            "-map",
            "0:v:0",
            "-fps_mode",
            "passthrough",
            "-s",
            &size,
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ],
        None,
    );
    let frame = (IndexedClip::WIDTH * IndexedClip::HEIGHT) as usize;
    assert_eq!(raw.len() % frame, 0, "ffmpeg output is not whole frames");
    raw.chunks_exact(frame)
        .enumerate()
        .map(|(i, f)| {
            IndexedClip::index_of_luma(f, IndexedClip::WIDTH as usize)
                .unwrap_or_else(|| panic!("frame {i} of {p} carries no readable index"))
        })
        .collect()
}

/// A seeded clip of coloured boxes moving in straight lines (bouncing off the edges) over a
/// noisy grey background. Box positions are known exactly for every frame.
#[derive(Debug, Clone, PartialEq)]
pub struct MovingBoxesClip {
    /// Frame width (even).
    pub width: u32,
    /// Frame height (even).
    pub height: u32,
    /// Number of frames.
    pub frames: u32,
    /// Frames per second.
    pub fps: u32,
    /// Seed of the RNG that places the boxes and the noise.
    pub seed: u64,
    boxes: Vec<BoxPath>,
}

#[derive(Debug, Clone, PartialEq)]
struct BoxPath {
    w: u32,
    h: u32,
    x0: i64,
    y0: i64,
    vx: i64,
    vy: i64,
    rgb: [u8; 3],
}

fn bounce(start: i64, v: i64, t: i64, span: i64) -> u32 {
    if span <= 0 {
        return 0;
    }
    let p = (start + v * t).rem_euclid(2 * span);
    (if p > span { 2 * span - p } else { p }) as u32
}

impl MovingBoxesClip {
    /// `n_boxes` boxes of 1/8 to 1/4 of the frame size with random start and velocity
    /// (1-4 pixels per frame), all drawn from `seed`.
    pub fn new(seed: u64, width: u32, height: u32, frames: u32, fps: u32, n_boxes: usize) -> Self {
        assert!(
            width.is_multiple_of(2) && height.is_multiple_of(2) && width >= 16 && height >= 16,
            "even size of at least 16x16"
        );
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let boxes = (0..n_boxes)
            .map(|_| {
                let w = rng.random_range(width / 8..=width / 4).max(2);
                let h = rng.random_range(height / 8..=height / 4).max(2);
                let sign = |r: &mut ChaCha8Rng| if r.random_bool(0.5) { 1 } else { -1 };
                BoxPath {
                    w,
                    h,
                    x0: rng.random_range(0..=i64::from(width - w)),
                    y0: rng.random_range(0..=i64::from(height - h)),
                    vx: rng.random_range(1..=4) * sign(&mut rng),
                    vy: rng.random_range(1..=4) * sign(&mut rng),
                    rgb: [
                        rng.random_range(150..=255),
                        rng.random_range(0..=100),
                        rng.random_range(50..=255),
                    ],
                }
            })
            .collect();
        Self {
            width,
            height,
            frames,
            fps,
            seed,
            boxes,
        }
    }

    /// Where every box is in frame `frame` (same order every frame).
    pub fn boxes_at(&self, frame: u32) -> Vec<PixelRect> {
        self.boxes
            .iter()
            .map(|b| PixelRect {
                x: bounce(b.x0, b.vx, i64::from(frame), i64::from(self.width - b.w)),
                y: bounce(b.y0, b.vy, i64::from(frame), i64::from(self.height - b.h)),
                w: b.w,
                h: b.h,
            })
            .collect()
    }

    /// Packed RGB24 pixels of frame `frame`: noise in 100..=130 grey, boxes in solid colour
    /// (later boxes over earlier ones).
    pub fn render_rgb(&self, frame: u32) -> Vec<u8> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ (u64::from(frame) << 32) ^ 0x9e37_79b9);
        let mut px = vec![0u8; (self.width * self.height * 3) as usize];
        for p in px.chunks_exact_mut(3) {
            let g = rng.random_range(100..=130);
            p.copy_from_slice(&[g, g, g]);
        }
        for (b, r) in self.boxes.iter().zip(self.boxes_at(frame)) {
            for y in r.y..r.bottom() {
                for x in r.x..r.right() {
                    let i = ((y * self.width + x) * 3) as usize;
                    px[i..i + 3].copy_from_slice(&b.rgb);
                }
            }
        }
        px
    }

    /// Encodes the clip as H.264 MP4 `dir/name`.
    pub fn write(&self, dir: &Path, name: &str) -> PathBuf {
        let mut raw = Vec::with_capacity((self.frames * self.width * self.height * 3) as usize);
        for f in 0..self.frames {
            raw.extend_from_slice(&self.render_rgb(f));
        }
        let out = dir.join(name);
        let size = format!("{}x{}", self.width, self.height);
        let rate = self.fps.to_string();
        run_ffmpeg(
            &[
                "-f",
                "rawvideo",
                "-pix_fmt",
                "rgb24",
                "-s",
                &size,
                "-r",
                &rate,
                "-i",
                "-",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-crf",
                "16",
                "-pix_fmt",
                "yuv420p",
                out.to_str().expect("utf-8 path"),
            ],
            Some(&raw),
        );
        out
    }
}

/// Writes `dir/name` from FFmpeg's `testsrc2` pattern (`size` like `"160x120"`, `seconds`
/// long at `fps`), with a 440 Hz sine audio track when `audio` is true, the given
/// container metadata tags (`("location", "+48.8584+002.2945/")`...) and output options
/// (`&["-c:v", "libx264"]`; the container follows from the name's extension).
#[allow(clippy::too_many_arguments)] // a flat list reads best in tests
pub fn write_lavfi_clip(
    dir: &Path,
    name: &str,
    size: &str,
    seconds: u32,
    fps: u32,
    audio: bool,
    tags: &[(&str, &str)],
    output_args: &[&str],
) -> PathBuf {
    let out = dir.join(name);
    let video = format!("testsrc2=size={size}:rate={fps}:duration={seconds}");
    let sine = format!("sine=frequency=440:sample_rate=44100:duration={seconds}");
    let mut args: Vec<String> = vec!["-f".into(), "lavfi".into(), "-i".into(), video];
    if audio {
        args.extend(["-f".into(), "lavfi".into(), "-i".into(), sine]);
    }
    for (k, v) in tags {
        args.push("-metadata".into());
        args.push(format!("{k}={v}"));
    }
    args.extend(output_args.iter().map(|s| s.to_string()));
    args.push(out.to_str().expect("utf-8 path").into());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    run_ffmpeg(&refs, None);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_code_round_trips_for_every_index() {
        for i in [0u32, 1, 2, 5, 100, 1023, 4095] {
            assert_eq!(
                IndexedClip::index_of_luma(&IndexedClip::luma(i), IndexedClip::WIDTH as usize),
                Some(i)
            );
        }
    }

    #[test]
    fn indexed_clip_survives_lossy_coding() {
        let dir = tempfile::tempdir().unwrap();
        let p = IndexedClip::write(dir.path(), 40, 10);
        assert_eq!(decode_indices_with_ffmpeg(&p), (0..40).collect::<Vec<_>>());
    }

    #[test]
    fn moving_boxes_are_deterministic_and_inside() {
        let a = MovingBoxesClip::new(7, 160, 120, 50, 10, 3);
        let b = MovingBoxesClip::new(7, 160, 120, 50, 10, 3);
        assert_eq!(a, b);
        assert_eq!(a.render_rgb(9), b.render_rgb(9));
        for f in 0..50 {
            for r in a.boxes_at(f) {
                assert!(r.right() <= 160 && r.bottom() <= 120, "{r:?}");
            }
        }
        assert_ne!(a.boxes_at(0), a.boxes_at(1), "boxes move");
        // The pixel at a box's centre has its colour in the rendering.
        let r = a.boxes_at(5)[2];
        let px = a.render_rgb(5);
        let i = (((r.y + r.h / 2) * 160 + r.x + r.w / 2) * 3) as usize;
        assert!(px[i] >= 150 && px[i + 1] <= 100);
    }
}
