#!/usr/bin/env bash
# Recall of detection schedules, measured on output pixels (see BENCHMARKS.md): for each clip,
# the boxes the detector finds on every frame (`obscura tracks --every 1`) are the reference;
# the clip is redacted losslessly (--crf 0, --style fill:#FF00FF) with detection on every Nth frame,
# and examples/mask_recall.rs counts how many reference boxes ended up hidden.
#
# Usage: benches/recall.sh [N...]   (default: 1 2 3 4)
# Clips: the two 10 fps clips of ../shared/footage and the 1080p25 clip benches/e2e.sh
# makes from vtest.avi (SECONDS_1080 seconds, default 20).
# Env: SHARED (default ../shared), OBSCURA (default target/release/obscura), CLIPS (paths,
# instead of those), SECONDS_1080.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
OBSCURA=${OBSCURA:-target/release/obscura}
EVERY=("$@"); [ ${#EVERY[@]} -gt 0 ] || EVERY=(1 2 3 4)
work=$(mktemp -d /tmp/obscura-recall.XXXXXX)
trap 'rm -rf "$work"' EXIT
cargo build --release -q -p obscura-cli
cargo build --release -q -p obscura --example mask_recall
if [ -n "${CLIPS:-}" ]; then read -r -a clips <<<"$CLIPS"; else
  clips=("$SHARED/footage/intel_one-by-one-person-detection.mp4" "$SHARED/footage/vtest.avi")
  if [ -f "$SHARED/footage/vtest.avi" ]; then
    ffmpeg -loglevel error -y -i "$SHARED/footage/vtest.avi" -t "${SECONDS_1080:-20}" -vf "scale=1920:1080:flags=bicubic,fps=25" \
      -c:v libx264 -preset medium -crf 18 -pix_fmt yuv420p "$work/vtest_1080p25.mp4"
    clips+=("$work/vtest_1080p25.mp4")
  fi
fi
for clip in "${clips[@]}"; do
  [ -f "$clip" ] || { echo "SKIP: $clip absent"; continue; }
  echo "== $(basename "$clip") ($(ffprobe -v error -select_streams v:0 -show_entries stream=width,height,r_frame_rate -of csv=s=x:p=0 "$clip"))"
  "$OBSCURA" tracks "$clip" --every 1 -o "$work/ref.json" --force --quiet >/dev/null
  for n in "${EVERY[@]}"; do
    "$OBSCURA" redact "$clip" -o "$work/out.mp4" --force --every "$n" --style "fill:#FF00FF" --crf 0 --preset ultrafast --quiet >/dev/null
    echo "-- every $n"
    target/release/examples/mask_recall "$work/ref.json" "$clip" "$work/out.mp4" | sed 's/^/   /'
  done
done
