#!/usr/bin/env bash
# Subject bench (issue 17): for the red-jacket woman of vtest.avi kept with --keep-at, the
# frames where another person is unmasked and the share of her frames where she is visible,
# measured on output pixels by examples/subject_bench.rs. The reference is the detector on
# every frame (boxes only, never the tracker's ids) plus the hand-checked key frames in
# benches/subject-vtest-keys.txt.
#
# Usage: benches/subject.sh   Env: SHARED (default ../shared), OBSCURA (default
# target/release/obscura), KEEP (default 47@470,250), LIST=1 to list every miss.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
OBSCURA=${OBSCURA:-target/release/obscura}
clip="$SHARED/footage/vtest.avi"
[ -f "$clip" ] || { echo "SKIP: $clip absent"; exit 0; }
work=$(mktemp -d /tmp/obscura-subject.XXXXXX)
trap 'rm -rf "$work"' EXIT
cargo build --release -q -p obscura-cli
cargo build --release -q -p obscura --example subject_bench
"$OBSCURA" tracks "$clip" --every 1 --targets person -o "$work/ref.json" --force --quiet >/dev/null
"$OBSCURA" redact "$clip" -o "$work/out.mp4" --force --keep-at "${KEEP:-47@470,250}" --style "fill:#FF00FF" --crf 0 --preset ultrafast --quiet
target/release/examples/subject_bench "$work/ref.json" "$clip" "$work/out.mp4" benches/subject-vtest-keys.txt ${LIST:+--list}
