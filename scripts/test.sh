#!/usr/bin/env bash
# Runs Obscura's whole test suite: installs what is missing (scripts/install-deps.sh), fetches
# the sha256-pinned models (from $OBSCURA_MODEL_MIRROR when set, else their upstream URLs) and
# makes the derived one (scripts/derive-models.sh: the int8 person model),
# builds everything and runs every test. Tests that need ../shared footage skip with a
# message when it is absent, except under CI=true, where a missing file is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
export PATH="$HOME/.cargo/bin:$PATH"

echo "[test] the fuzz workspace's Cargo.lock is current (checked first: its build runs last)" >&2
cargo metadata --locked --format-version 1 --manifest-path fuzz/Cargo.toml >/dev/null
echo "[test] cargo fmt --check and cargo clippy -D warnings (also the fuzz workspace's format)" >&2
if cargo fmt --version >/dev/null 2>&1 && cargo clippy --version >/dev/null 2>&1; then
  cargo fmt --all --check
  cargo fmt --all --check --manifest-path fuzz/Cargo.toml
  cargo clippy --locked --workspace --all-targets -- -D warnings
  RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps --workspace -q
elif [ "${CI:-}" = true ]; then
  echo "[test] CI=true: rustfmt and clippy are required (rustup component add rustfmt clippy)" >&2
  exit 1
else
  echo "[test] SKIP: rustfmt or clippy is not installed" >&2
fi
echo "[test] the facade's verifier-only build (features = [\"seal\"]): no FFmpeg, no ONNX Runtime" >&2
if cargo tree --locked -p obscura --no-default-features --features seal -e normal | grep -E '(ffmpeg[a-z-]*|[ ─]ort) v'; then
  echo "[test] obscura with only the seal feature depends on FFmpeg or ONNX Runtime" >&2
  exit 1
fi
cargo check --locked -q -p obscura --no-default-features --features seal --lib
echo "[test] building (first build takes a few minutes on 2 cores)" >&2
cargo build --locked --workspace --all-targets
cargo run --locked -q -p obscura-cli -- models fetch
./scripts/derive-models.sh
cargo test --locked --workspace --all-targets
cargo test --locked --workspace --doc
echo "[test] the offline opener page in headless Chromium (scripts/test-opener.sh)" >&2
OBSCURA_BIN=target/debug/obscura ./scripts/test-opener.sh
echo "[test] the second implementation of the export format, both directions (scripts/test-interop.sh)" >&2
OBSCURA_BIN=target/debug/obscura ./scripts/test-interop.sh
echo "[test] the review page in headless Chromium, then an export with its edits file (scripts/test-review.sh)" >&2
OBSCURA_BIN=target/debug/obscura ./scripts/test-review.sh
echo "[test] building the fuzz targets (fuzz/, its own workspace; run them with cargo +nightly fuzz run NAME)" >&2
cargo build --locked --manifest-path fuzz/Cargo.toml
