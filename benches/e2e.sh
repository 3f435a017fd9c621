#!/usr/bin/env bash
# End-to-end benchmark (see BENCHMARKS.md): frames per second and peak memory of
#   obscura redact (person + face masking, tracking on, default style and encoder settings),
#   bare ffmpeg decode + encode with the same encoder settings (the ceiling for a re-encode),
#   deface (PyPI, face-only anonymiser) in a throw-away virtual environment,
# on the same clips, in one run, printed as fps, as ratios and as CPU seconds.
#
# Usage: benches/e2e.sh [--long] [--skip-deface]
#   --long         also redact each clip 10x longer to show peak memory does not grow with length
#   --skip-deface  skip the deface baseline (it is slow at 1080p)
# Env: SHARED (default ../shared), OBSCURA (default target/release/obscura),
#      DEFACE_VENV (default /tmp/obscura-bench-deface), SECONDS_1080 (default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
OBSCURA=${OBSCURA:-target/release/obscura}
DEFACE_VENV=${DEFACE_VENV:-/tmp/obscura-bench-deface}
SECONDS_1080=${SECONDS_1080:-20}
LONG=0; DEFACE=1
for a in "$@"; do
  case "$a" in
    --long) LONG=1 ;;
    --skip-deface) DEFACE=0 ;;
    *) echo "unknown option $a" >&2; exit 2 ;;
  esac
done
# The encoder settings obscura uses by default; ffmpeg gets the same.
PRESET=${PRESET:-veryfast}
CRF=${CRF:-20}

work=$(mktemp -d /tmp/obscura-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

if [ ! -x "$OBSCURA" ]; then
  echo "[bench] building release binary" >&2
  cargo build --release -q -p obscura-cli
fi

clips=()
small="$SHARED/footage/intel_one-by-one-person-detection.mp4"
vtest="$SHARED/footage/vtest.avi"
if [ -f "$small" ]; then clips+=("$small"); else echo "SKIP: $small absent" >&2; fi
if [ -f "$vtest" ]; then
  echo "[bench] making a 1080p25 clip (${SECONDS_1080}s) from vtest.avi" >&2
  ffmpeg -loglevel error -y -i "$vtest" -t "$SECONDS_1080" -vf "scale=1920:1080:flags=bicubic,fps=25" \
    -c:v libx264 -preset medium -crf 18 -pix_fmt yuv420p "$work/vtest_1080p25.mp4"
  clips+=("$work/vtest_1080p25.mp4")
else
  echo "SKIP: $vtest absent" >&2
fi
[ ${#clips[@]} -gt 0 ] || { echo "no clips: nothing to measure" >&2; exit 0; }

if [ "$DEFACE" = 1 ] && [ ! -x "$DEFACE_VENV/bin/deface" ]; then
  echo "[bench] installing deface into $DEFACE_VENV (throw-away venv)" >&2
  python3 -m venv "$DEFACE_VENV"
  "$DEFACE_VENV/bin/pip" install -q deface onnxruntime
fi

frames_of() { ffprobe -v error -count_packets -select_streams v:0 -show_entries stream=nb_read_packets -of csv=p=0 "$1"; }

# run NAME FRAMES CMD... -> prints "NAME seconds fps peak_MB cpu_seconds"
# (cpu: user + system time of all threads; on a machine with C cores nothing can run faster
# than cpu / C seconds, which is why it is printed beside the wall time)
run() {
  local name=$1 frames=$2; shift 2
  local t0 t1 rss cpu_u cpu_s
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M %U %S" -o "$work/rss" "$@" >"$work/log" 2>&1 || { echo "[bench] $name failed:" >&2; tail -5 "$work/log" >&2; return 1; }
  t1=$(date +%s.%N)
  read -r rss cpu_u cpu_s < <(tail -1 "$work/rss")
  awk -v n="$name" -v f="$frames" -v a="$t0" -v b="$t1" -v r="$rss" -v u="$cpu_u" -v k="$cpu_s" \
    'BEGIN { s = b - a; printf "%-9s %8.2f s %8.1f fps %8.0f MB %8.1f cpu-s\n", n, s, f / s, r / 1024, u + k }'
}

echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB"
echo "encoder: libx264 preset=$PRESET crf=$CRF (obscura default; ffmpeg given the same)"
for clip in "${clips[@]}"; do
  n=$(frames_of "$clip")
  size=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=s=x:p=0 "$clip")
  echo
  echo "== $(basename "$clip") ($size, $n frames)"
  r_ff=$(run ffmpeg "$n" ffmpeg -loglevel error -y -i "$clip" -an -c:v libx264 -preset "$PRESET" -crf "$CRF" "$work/ff.mp4")
  echo "$r_ff"
  r_ob=$(run obscura "$n" "$OBSCURA" redact "$clip" -o "$work/ob.mp4" --force --quiet)
  echo "$r_ob"
  fps_ff=$(echo "$r_ff" | awk '{print $4}')
  fps_ob=$(echo "$r_ob" | awk '{print $4}')
  awk -v a="$fps_ob" -v b="$fps_ff" 'BEGIN { printf "ratio obscura/ffmpeg = %.2f\n", a / b }'
  # The CPU time 0.6x of ffmpeg's speed allows on this machine, against what obscura used.
  awk -v c="$(nproc)" -v ff="$r_ff" -v ob="$r_ob" 'BEGIN {
    split(ff, f, " +"); split(ob, o, " +")
    printf "cpu-s: obscura %.1f, ffmpeg %.1f; at 0.6x ffmpeg the %d cores hold at most %.1f\n", o[8], f[8], c, f[2] / 0.6 * c }'
  if [ "$DEFACE" = 1 ]; then
    r_df=$(run deface "$n" "$DEFACE_VENV/bin/deface" "$clip" -o "$work/df.mp4" --ffmpeg-config '{"codec": "libx264"}')
    echo "$r_df"
    fps_df=$(echo "$r_df" | awk '{print $4}')
    awk -v a="$fps_ob" -v b="$fps_df" 'BEGIN { printf "ratio obscura/deface = %.2f\n", a / b }'
  fi
done

if [ "$LONG" = 1 ]; then
  # Each clip of this run and the same clip ten times over (stream copy), obscura redact.
  for clip in "${clips[@]}"; do
    echo
    echo "== peak memory against clip length ($(basename "$clip") x1 and x10, obscura redact)"
    for i in $(seq 10); do echo "file '$(realpath "$clip")'"; done > "$work/list.txt"
    ffmpeg -loglevel error -y -f concat -safe 0 -i "$work/list.txt" -c copy "$work/long.mp4"
    n1=$(frames_of "$clip"); n10=$(frames_of "$work/long.mp4")
    run "x1" "$n1" "$OBSCURA" redact "$clip" -o "$work/l1.mp4" --force --quiet
    run "x10" "$n10" "$OBSCURA" redact "$work/long.mp4" -o "$work/l10.mp4" --force --quiet
  done
fi
