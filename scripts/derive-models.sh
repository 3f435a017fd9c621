#!/usr/bin/env bash
# Makes the models that models/models.toml lists as `derived_from` another one, when they are
# not present already (`obscura models fetch` copies them from $OBSCURA_MODEL_MIRROR when the
# mirror has them): today yolox_nano_int8.onnx, the int8 person model quantized from the
# pinned yolox_nano_416.onnx by scripts/models/quantize_person.py with the committed
# activation ranges, in a virtual environment (.obscura/venv-models) with the exact package
# versions of scripts/models/requirements.txt from PyPI. The result must match the sha256
# pinned in models.toml, or it is refused. Safe to run twice. Run after `obscura models fetch`.
# Env: OBSCURA_MODEL_DIR (default models).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${OBSCURA_MODEL_DIR:-models}
VENV=.obscura/venv-models
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

name=yolox_nano_int8
file=$DIR/$(field $name file); sha=$(field $name sha256)
base=$(field $name derived_from)
src=$DIR/$(field "$base" file); src_sha=$(field "$base" sha256)
if ok "$file" "$sha"; then say "$name: present, sha256 ok"; exit 0; fi
ok "$src" "$src_sha" || { say "$src is missing or differs from its sha256: run \`obscura models fetch\` first"; exit 2; }

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/pip" freeze 2>/dev/null | diff -q - <(grep -v '^#' scripts/models/requirements.txt) >/dev/null; then
  say "installing the pinned quantization tools into $VENV (PyPI)"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps -r scripts/models/requirements.txt
fi
tmp=$(mktemp -d "$DIR/.derive.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
say "$name: quantizing $src (int8, committed activation ranges)"
"$VENV/bin/python" scripts/models/quantize_person.py convert "$src" scripts/models/yolox_nano_int8.ranges.json "$tmp/out.onnx" 2>"$tmp/log" \
  || { cat "$tmp/log" >&2; say "$name: conversion failed"; exit 2; }
if ! ok "$tmp/out.onnx" "$sha"; then
  say "$name: the converted file has sha256 $(sha256sum "$tmp/out.onnx" | cut -d' ' -f1), models.toml pins $sha: refusing it"
  exit 2
fi
mv "$tmp/out.onnx" "$file"
say "$name: made from $base, sha256 ok"
