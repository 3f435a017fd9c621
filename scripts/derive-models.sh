#!/usr/bin/env bash
# Makes the models that models/models.toml lists as `derived_from` another one, when they are
# not present already (`obscura models fetch` copies them from $OBSCURA_MODEL_MIRROR when the
# mirror has them):
# - yolox_nano_int8.onnx, the int8 person model quantized from the pinned yolox_nano_416.onnx
#   by scripts/models/quantize_person.py with the committed activation ranges, in a virtual
#   environment (.obscura/venv-models) with the exact versions of scripts/models/requirements.txt;
# - pose_seg_lite.onnx, the person silhouette model: MediaPipe's pose_landmark_lite.tflite from
#   its npm tarball (sha256-pinned), converted by tf2onnx and pruned to its segmentation output
#   by scripts/models/make_pose_seg_only.py, in .obscura/venv-silhouette (TensorFlow, about
#   1.6 GB, the exact versions of scripts/models/requirements-silhouette.txt). Without it the
#   requester's neighbours are masked as whole rectangles (safe, the requester less visible).
#   OBSCURA_NO_SILHOUETTES=1 skips it.
# Each result must match the sha256 pinned in models.toml, or it is refused. Safe to run twice.
# Run after `obscura models fetch`. Env: OBSCURA_MODEL_DIR (default models).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${OBSCURA_MODEL_DIR:-models}
say() { printf '[derive-models] %s\n' "$*" >&2; }

# The value of `key` in the [[model]] block named `name` of models.toml.
field() {
  awk -v name="$1" -v key="$2" '
    /^\[\[model\]\]/ { inside = 0 }
    $1 == "name" && $3 == "\"" name "\"" { inside = 1 }
    inside && $1 == key { sub(/^[^"]*"/, ""); sub(/".*$/, ""); print; exit }
  ' models/models.toml
}

ok() { [ -f "$1" ] && echo "$2  $1" | sha256sum -c --status; }

# A venv at $1 holding exactly the packages of requirements file $2.
venv() {
  if [ ! -x "$1/bin/python" ] || ! "$1/bin/pip" freeze 2>/dev/null | diff -q - <(grep -v '^#' "$2") >/dev/null; then
    say "installing the pinned tools of $2 into $1 (PyPI)"
    rm -rf "$1"
    python3 -m venv "$1"
    "$1/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$2"
  fi
}

# Moves $1 to $3 when its sha256 is $2, else refuses it.
install_checked() {
  if ! ok "$1" "$2"; then
    say "$(basename "$3"): the converted file has sha256 $(sha256sum "$1" | cut -d' ' -f1), models.toml pins $2: refusing it"
    exit 2
  fi
  mv "$1" "$3"
}

mkdir -p "$DIR"
tmp=$(mktemp -d "$DIR/.derive.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

int8() {
  local name=yolox_nano_int8 file sha base src src_sha
  file=$DIR/$(field $name file); sha=$(field $name sha256)
  base=$(field $name derived_from)
  src=$DIR/$(field "$base" file); src_sha=$(field "$base" sha256)
  if ok "$file" "$sha"; then say "$name: present, sha256 ok"; return; fi
  ok "$src" "$src_sha" || { say "$src is missing or differs from its sha256: run \`obscura models fetch\` first"; exit 2; }
  venv .obscura/venv-models scripts/models/requirements.txt
  say "$name: quantizing $src (int8, committed activation ranges)"
  .obscura/venv-models/bin/python scripts/models/quantize_person.py convert "$src" scripts/models/yolox_nano_int8.ranges.json "$tmp/int8.onnx" 2>"$tmp/log" \
    || { cat "$tmp/log" >&2; say "$name: conversion failed"; exit 2; }
  install_checked "$tmp/int8.onnx" "$sha" "$file"
  say "$name: made from $base, sha256 ok"
}

silhouette() {
  local name=pose_seg_lite file sha
  file=$DIR/$(field $name file); sha=$(field $name sha256)
  if ok "$file" "$sha"; then say "$name: present, sha256 ok"; return; fi
  if [ "${OBSCURA_NO_SILHOUETTES:-}" = 1 ]; then say "$name: skipped (OBSCURA_NO_SILHOUETTES=1)"; return; fi
  local url=https://registry.npmjs.org/@mediapipe/pose/-/pose-0.5.1675469404.tgz
  local tgz_sha=8bb349a7b3a3ba699df23be804ddd3b3eab810b50b15406894be257859388a84
  say "$name: fetching $url"
  curl -fsSL --retry 3 -o "$tmp/pose.tgz" "$url"
  ok "$tmp/pose.tgz" "$tgz_sha" || { say "$name: $url differs from its pinned sha256 $tgz_sha: refusing it"; exit 2; }
  tar -xzf "$tmp/pose.tgz" -C "$tmp" package/pose_landmark_lite.tflite
  venv .obscura/venv-silhouette scripts/models/requirements-silhouette.txt
  say "$name: converting pose_landmark_lite.tflite (tf2onnx, opset 17)"
  .obscura/venv-silhouette/bin/python -m tf2onnx.convert --tflite "$tmp/package/pose_landmark_lite.tflite" --output "$tmp/raw.onnx" --opset 17 >"$tmp/log" 2>&1 \
    || { cat "$tmp/log" >&2; say "$name: conversion failed"; exit 2; }
  .obscura/venv-silhouette/bin/python scripts/models/make_pose_seg_only.py "$tmp/raw.onnx" "$tmp/seg.onnx" >>"$tmp/log" 2>&1 \
    || { cat "$tmp/log" >&2; say "$name: pruning failed"; exit 2; }
  install_checked "$tmp/seg.onnx" "$sha" "$file"
  say "$name: made from @mediapipe/pose 0.5.1675469404, sha256 ok"
}

int8
silhouette
