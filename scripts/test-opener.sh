#!/usr/bin/env bash
# Browser test of the offline opener page (crates/request/assets/opener, docs/FORMAT.md
# "Opening in a browser"): headless Chromium driven by Selenium/chromedriver opens a real
# export made by the real `obscura export` binary through the page it wrote beside the
# package, and every seal test vector. See scripts/opener_browser_test.py for the checks.
#
# Needs chromium + chromium-driver (scripts/install-deps.sh installs them) and ffmpeg; makes a
# Python venv with selenium in .obscura/venv-opener (once). Without a browser it prints SKIP,
# except under CI=true, where that is a failure.
#
# Environment: OBSCURA_BIN (default target/debug/obscura, built when missing);
# OPENER_SHOTS=DIR saves screenshots there; OPENER_BIG_MB=N also seals N MB of random bytes
# with `obscura seal` and opens that package (timed; not run by default).
set -euo pipefail
cd "$(dirname "$0")/.."

skip() {
  if [ "${CI:-}" = true ]; then echo "FAILED: opener browser test: $*" >&2; exit 1; fi
  echo "SKIP: opener browser test: $*" >&2
  exit 0
}
command -v chromium >/dev/null 2>&1 || skip "chromium is not installed (scripts/install-deps.sh installs it)"
command -v chromedriver >/dev/null 2>&1 || skip "chromedriver is not installed (Debian package chromium-driver)"
command -v ffmpeg >/dev/null 2>&1 || skip "the ffmpeg CLI is not installed"

BIN=${OBSCURA_BIN:-target/debug/obscura}
if [ -z "${OBSCURA_BIN:-}" ]; then
  cargo build --locked -q -p obscura-cli --bin obscura
fi
VENV=.obscura/venv-opener
SELENIUM=selenium==4.38.0
if ! "$VENV/bin/python" -c 'import selenium' >/dev/null 2>&1; then
  echo "[opener-test] creating $VENV with $SELENIUM" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "$SELENIUM"
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/obscura-opener-test.XXXXXX")
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/out" "$W/opened"
# A 4 s camera clip carrying its start time, two key sets (one passphrase-protected) and a
# passphrase; two packages of the same request: one for the passphrase, one for both keys.
ffmpeg -loglevel error -f lavfi -i testsrc2=size=320x240:rate=25 -t 4 -c:v libx264 -preset ultrafast -pix_fmt yuv420p \
  -metadata creation_time=2026-11-28T10:00:00Z "$W/lobby.mp4"
printf 'correct horse battery staple\n' > "$W/pass.txt"
printf 'key file passphrase\n' > "$W/keypass.txt"
"$BIN" -q keygen -o "$W/keys" >/dev/null
"$BIN" -q keygen -o "$W/keys" --name locked --protect-with-passphrase-file "$W/keypass.txt" >/dev/null
"$BIN" export --mode erasure "$W/lobby.mp4" --exclude 1..2 -o "$W/out/REQ-2026-042.obx" \
  --sign "$W/keys/obscura.sign.key" --passphrase-file "$W/pass.txt" --reference REQ-2026-042 --operator op-17 \
  --site docs/site.example.toml --lang en --audit-log "$W/audit.jsonl" > "$W/export.txt"
"$BIN" -q export --mode erasure "$W/lobby.mp4" --exclude 1..2 -o "$W/out/REQ-2026-042-keys.obx" \
  --sign "$W/keys/obscura.sign.key" --recipient "$W/keys/obscura.recipient.pub" --recipient "$W/keys/locked.recipient.pub" \
  --reference REQ-2026-042 --site docs/site.example.toml --no-opener --audit-log "$W/audit.jsonl" > /dev/null
PAGE="$W/out/REQ-2026-042.opener.html"
[ -f "$PAGE" ] || { echo "FAILED: obscura export wrote no opener page $PAGE" >&2; exit 1; }
mkdir -p "$W/opened-keys"
"$BIN" open "$W/out/REQ-2026-042.obx" --passphrase-file "$W/pass.txt" --signer "$W/keys/obscura.sign.pub" -o "$W/opened" --audit-log "$W/audit.jsonl" >/dev/null
"$BIN" open "$W/out/REQ-2026-042-keys.obx" --identity "$W/keys/obscura.recipient.key" --signer "$W/keys/obscura.sign.pub" -o "$W/opened-keys" --audit-log "$W/audit.jsonl" >/dev/null
FP=$("$BIN" verify "$W/out/REQ-2026-042.obx" --json --signer "$W/keys/obscura.sign.pub" --audit-log "$W/audit.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["signer_fingerprint"])')
grep -q "$FP" "$W/export.txt" || { echo "FAILED: obscura export did not print the signer fingerprint" >&2; exit 1; }
hashes() { (cd "$1" && python3 -c 'import hashlib,json,os; print(json.dumps({n: hashlib.sha256(open(n,"rb").read()).hexdigest() for n in sorted(os.listdir("."))}))'); }
PAYLOADS=$(hashes "$W/opened")
PAYLOADS_KEYS=$(hashes "$W/opened-keys")
# One flipped bit in the middle of the package (payload data).
python3 - "$W/out/REQ-2026-042.obx" "$W/flipped.obx" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[len(b) // 2] ^= 0x10
open(sys.argv[2], "wb").write(b)
PY

ARGS=(--page "$PAGE" --vectors crates/seal/tests/vectors --export "$W/out/REQ-2026-042.obx" --export-payloads "$PAYLOADS"
      --export-keys "$W/out/REQ-2026-042-keys.obx" --export-keys-payloads "$PAYLOADS_KEYS"
      --flipped "$W/flipped.obx" --passphrase-file "$W/pass.txt" --keyfile "$W/keys/obscura.recipient.key"
      --locked-keyfile "$W/keys/locked.recipient.key" --locked-pass "$W/keypass.txt" --fingerprint "$FP"
      --report-words "Beispiel Handels GmbH|Your rights|Berliner Beauftragte|REQ-2026-042|How to watch the clips")
[ -n "${OPENER_SHOTS:-}" ] && ARGS+=(--shots "$OPENER_SHOTS")
if [ -n "${OPENER_BIG_MB:-}" ]; then
  echo "[opener-test] sealing $OPENER_BIG_MB MB of random bytes" >&2
  head -c "$((OPENER_BIG_MB * 1048576))" /dev/urandom > "$W/big.bin"
  BIG_SHA=$(sha256sum "$W/big.bin" | cut -d' ' -f1)
  "$BIN" -q seal "$W/big.bin" -o "$W/big.obx" --sign "$W/keys/obscura.sign.key" --passphrase-file "$W/pass.txt" >/dev/null
  rm "$W/big.bin"
  ARGS+=(--big "$W/big.obx" --big-pass "$W/pass.txt" --big-name big.bin --big-sha "$BIG_SHA" --results "${OPENER_RESULTS:-$W/results.json}")
fi
"$VENV/bin/python" scripts/opener_browser_test.py "${ARGS[@]}"
