#!/usr/bin/env bash
# The int8 and the float person model on the same 1080p frames, in one run (BENCHMARKS.md,
# "Person model"): median inference ms of the coarse pass and of one fine tile, interleaved
# call by call, the float/int8 ratio, and how many float detections int8 finds too.
# Usage: benches/person_models.sh [FRAMES]   Env: SHARED (default ../shared).
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
vtest="$SHARED/footage/vtest.avi"
[ -f "$vtest" ] || { echo "SKIP: $vtest absent"; exit 0; }
work=$(mktemp -d /tmp/obscura-pm.XXXXXX); trap 'rm -rf "$work"' EXIT
ffmpeg -loglevel error -y -i "$vtest" -t 20 -vf "scale=1920:1080:flags=bicubic,fps=25" \
  -c:v libx264 -preset medium -crf 18 -pix_fmt yuv420p "$work/vtest_1080p25.mp4"
cargo run --release -q -p obscura --example person_models -- "$work/vtest_1080p25.mp4" "${1:-12}"
