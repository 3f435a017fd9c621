#!/usr/bin/env bash
# Installs what Obscura needs to build and run, skipping what is already there (safe to run
# twice): Debian/Ubuntu packages (FFmpeg development libraries, clang, pkg-config, the ffmpeg
# CLI for tests, Chromium and chromedriver for the opener's browser test), a Rust toolchain when
# cargo is missing, and the ONNX Runtime shared library taken from its PyPI wheel into
# .obscura/onnxruntime/ (where the obscura binary looks first).
#
# Overrides: OBSCURA_ORT_WHEEL=/path/to/onnxruntime-*.whl installs from a local wheel
# (air-gapped sites); OBSCURA_SKIP_APT=1 skips the package step.
set -euo pipefail
cd "$(dirname "$0")/.."

ORT_VERSION=1.31.1
ORT_WHEEL=onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_x86_64.whl
ORT_WHEEL_SHA256=5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f
ORT_DIR=.obscura/onnxruntime

say() { printf '[install-deps] %s\n' "$*" >&2; }

sudo_if_needed() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# 1. Debian packages.
PKGS=(pkg-config clang libclang-dev libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
      libswresample-dev libavfilter-dev libavdevice-dev ffmpeg curl ca-certificates unzip
      python3 python3-pip python3-venv build-essential chromium chromium-driver)
if [ "${OBSCURA_SKIP_APT:-0}" != 1 ]; then
  missing=()
  for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    sudo_if_needed apt-get update -qq
    DEBIAN_FRONTEND=noninteractive sudo_if_needed apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    say "Debian packages: all present"
  fi
fi

# 2. Rust toolchain (edition 2024 needs Rust 1.85 or newer; Debian's rustc is too old).
if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
  say "cargo not found: installing Rust with rustup (stable, minimal profile)"
  curl -fsSL https://sh.rustup.rs | sh -s -- -y --profile minimal
  export PATH="$HOME/.cargo/bin:$PATH"
fi
say "$(cargo --version)"

# 3. ONNX Runtime shared library from the PyPI wheel, version matched to ort's api-31.
lib="$ORT_DIR/libonnxruntime.so.$ORT_VERSION"
if [ -f "$lib" ]; then
  say "ONNX Runtime $ORT_VERSION: present in $ORT_DIR"
else
  case "$(uname -m)" in
    x86_64) ;;
    *) say "only x86_64 is scripted; put libonnxruntime.so $ORT_VERSION in $ORT_DIR or set OBSCURA_ORT_LIB"; exit 2 ;;
  esac
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  if [ -n "${OBSCURA_ORT_WHEEL:-}" ]; then
    cp "$OBSCURA_ORT_WHEEL" "$tmp/$ORT_WHEEL"
  else
    say "downloading onnxruntime==$ORT_VERSION wheel from PyPI"
    python3 -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 \
      --python-version 3.11 "onnxruntime==$ORT_VERSION" -d "$tmp"
  fi
  echo "$ORT_WHEEL_SHA256  $tmp/$ORT_WHEEL" | sha256sum -c --quiet - \
    || { say "the onnxruntime wheel does not match its pinned sha256: refusing it"; exit 2; }
  unzip -q -o -j "$tmp/$ORT_WHEEL" "onnxruntime/capi/libonnxruntime.so.$ORT_VERSION" -d "$tmp/lib"
  mkdir -p "$ORT_DIR"
  mv "$tmp/lib/libonnxruntime.so.$ORT_VERSION" "$lib.partial" && mv "$lib.partial" "$lib"
  say "ONNX Runtime $ORT_VERSION installed in $ORT_DIR"
fi
ln -sf "libonnxruntime.so.$ORT_VERSION" "$ORT_DIR/libonnxruntime.so.1"
ln -sf "libonnxruntime.so.$ORT_VERSION" "$ORT_DIR/libonnxruntime.so"
