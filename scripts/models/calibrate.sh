#!/usr/bin/env bash
# Maintainer step (not part of set-up): re-measures the activation ranges of the int8 person
# model into scripts/models/yolox_nano_int8.ranges.json, from frames of the two sample clips
# the project uses (not the ground-truth sequences it is measured on): 24 frames of the
# one-by-one clip (768x432), 24 of vtest.avi (768x576) and 12 of vtest upscaled to 1080p, left
# 1024x1080 tile (the fine pass's input). After it, update the sha256 of yolox_nano_int8 in
# models/models.toml to what scripts/derive-models.sh reports, and re-measure benches/gt_recall.sh.
# Usage: scripts/models/calibrate.sh FOOTAGE_DIR (holding both clips; ../shared/footage here).
set -euo pipefail
cd "$(dirname "$0")/../.."
F=${1:?usage: calibrate.sh FOOTAGE_DIR}
VENV=.obscura/venv-models
[ -x "$VENV/bin/python" ] || { echo "run scripts/derive-models.sh once first (it makes $VENV)" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
raw() { ffmpeg -loglevel error -y -i "$1" -vf "$2" -fps_mode passthrough -frames:v "$3" -f rawvideo -pix_fmt yuv420p "$4"; }
raw "$F/intel_one-by-one-person-detection.mp4" 'select=not(mod(n\,58))' 24 "$tmp/a.yuv"
raw "$F/vtest.avi" 'select=not(mod(n\,33))' 24 "$tmp/b.yuv"
raw "$F/vtest.avi" 'select=not(mod(n\,67)),scale=1920:1080:flags=bicubic,crop=1024:1080:0:0' 12 "$tmp/c.yuv"
"$VENV/bin/python" scripts/models/quantize_person.py calibrate models/yolox_nano_416.onnx scripts/models/yolox_nano_int8.ranges.json \
  "$tmp/a.yuv" 768 432 "$tmp/b.yuv" 768 576 "$tmp/c.yuv" 1024 1080
echo "ranges written; now update the sha256 in models/models.toml (scripts/derive-models.sh reports it)" >&2
