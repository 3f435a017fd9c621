#!/usr/bin/env bash
# Interoperability test of the sealed export format, version 2 (docs/FORMAT.md section 13):
# scripts/interop/obx.py, a second implementation written from FORMAT.md alone (Python 3 +
# the `cryptography` package pinned in scripts/interop/requirements.txt, in a venv made
# here once under .obscura/venv-interop), against the Rust implementation, both directions:
#  1. every format-2 vector (crates/seal/tests/vectors-v2) gives its expected outcome;
#  2. exports the real `obscura` binary writes now (`seal`: empty, one-chunk and multi-chunk
#     payloads, two recipients; `export --mode erasure`: cameras, intervals, policy) verify
#     in Python and open to the same bytes `obscura open` writes; a flipped bit is refused;
#  3. an export Python writes (decimal threshold, two payloads) passes `obscura verify` and
#     `obscura open` gives back the bytes; one with a float threshold is refused by Rust.
# Without python3 -m venv or PyPI access it prints SKIP, except under CI=true (a failure).
# Environment: OBSCURA_BIN (default target/debug/obscura, built when missing);
# OBSCURA_INTEROP_VENV (default .obscura/venv-interop).
set -euo pipefail
cd "$(dirname "$0")/.."

skip() {
  if [ "${CI:-}" = true ]; then echo "FAILED: interop test: $*" >&2; exit 1; fi
  echo "SKIP: interop test: $*" >&2
  exit 0
}
fail() { echo "FAILED: interop test: $*" >&2; exit 1; }
command -v python3 >/dev/null 2>&1 || skip "python3 is not installed"
BIN=${OBSCURA_BIN:-target/debug/obscura}
if [ -z "${OBSCURA_BIN:-}" ]; then
  cargo build --locked -q -p obscura-cli --bin obscura
fi
VENV=${OBSCURA_INTEROP_VENV:-.obscura/venv-interop}
REQ=scripts/interop/requirements.txt
if ! "$VENV/bin/python" -c 'import cryptography, sys; sys.exit(cryptography.__version__ != "50.0.2")' >/dev/null 2>&1; then
  echo "[interop] creating $VENV with $(tr '\n' ' ' < "$REQ")" >&2
  python3 -m venv "$VENV" || skip "python3 -m venv failed (Debian package python3-venv)"
  "$VENV/bin/pip" install -q --disable-pip-version-check --only-binary=:all: -r "$REQ" || skip "pip could not install $REQ"
fi
PY="$VENV/bin/python"
OBX=scripts/interop/obx.py
W=$(mktemp -d "${TMPDIR:-/tmp}/obscura-interop.XXXXXX")
trap 'rm -rf "$W"' EXIT
export OBSCURA_TRUST_FILE="$W/trusted-signers" OBSCURA_AUDIT_LOG="$W/audit.jsonl"

# 1. the vectors
"$PY" "$OBX" vectors crates/seal/tests/vectors-v2 || fail "a format-2 vector gave another outcome in Python"

# 2. Rust writes, Python reads
"$BIN" -q keygen -o "$W/k" >/dev/null
"$BIN" -q keygen -o "$W/k" --name second >/dev/null
mkdir -p "$W/in" "$W/rust-out" "$W/py-out" "$W/py-out2" "$W/rust-out2" "$W/rust-out3"
: > "$W/in/empty.bin"
head -c 65536 /dev/urandom > "$W/in/one-chunk.bin"
head -c 300001 /dev/urandom > "$W/in/many.bin"
printf 'hello from rust\n' > "$W/in/note.txt"
"$BIN" -q seal "$W/in/empty.bin" "$W/in/one-chunk.bin" "$W/in/many.bin" "$W/in/note.txt" -o "$W/rust.obx" \
  --sign "$W/k/obscura.sign.key" --recipient "$W/k/second.recipient.pub" --recipient "$W/k/obscura.recipient.pub" --reference "REQ-interop-1" >/dev/null
"$PY" "$OBX" verify "$W/rust.obx" --signer "$W/k/obscura.sign.pub" >/dev/null || fail "Python refused the export obscura seal wrote"
"$PY" "$OBX" open "$W/rust.obx" --identity "$W/k/obscura.recipient.key" --signer "$W/k/obscura.sign.pub" -o "$W/py-out" >/dev/null || fail "Python could not open it"
"$BIN" -q open "$W/rust.obx" --identity "$W/k/obscura.recipient.key" --signer "$W/k/obscura.sign.pub" -o "$W/rust-out" >/dev/null
diff -r "$W/py-out" "$W/rust-out" >/dev/null || fail "Python and obscura open wrote different files"
diff -r "$W/py-out" "$W/in" >/dev/null || fail "the opened files differ from the sealed ones"
if command -v ffmpeg >/dev/null 2>&1; then
  ffmpeg -loglevel error -f lavfi -i testsrc2=size=160x120:rate=10 -t 2 -c:v libx264 -preset ultrafast -pix_fmt yuv420p \
    -metadata creation_time=2026-11-28T10:00:00Z "$W/lobby.mp4"
  "$BIN" -q export --mode erasure "$W/lobby.mp4" --exclude 0.5..1 -o "$W/erasure.obx" --sign "$W/k/obscura.sign.key" \
    --recipient "$W/k/obscura.recipient.pub" --reference REQ-interop-2 --no-opener --site docs/site.example.toml >/dev/null
  "$PY" "$OBX" open "$W/erasure.obx" --identity "$W/k/obscura.recipient.key" --signer "$W/k/obscura.sign.pub" -o "$W/py-out2" >/dev/null \
    || fail "Python could not open the export obscura export wrote"
  "$BIN" -q open "$W/erasure.obx" --identity "$W/k/obscura.recipient.key" --signer "$W/k/obscura.sign.pub" -o "$W/rust-out2" >/dev/null
  diff -r "$W/py-out2" "$W/rust-out2" >/dev/null || fail "Python and obscura open wrote different files for the erasure export"
  ERASURE="and an erasure export ($(ls "$W/py-out2" | wc -l) files)"
else
  [ "${CI:-}" = true ] && fail "ffmpeg is not installed"
  ERASURE="(no erasure export: ffmpeg missing)"
fi
"$PY" - "$W/rust.obx" "$W/flipped.obx" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[len(b) // 2] ^= 0x04
open(sys.argv[2], "wb").write(b)
PY
if "$PY" "$OBX" verify "$W/flipped.obx" --signer "$W/k/obscura.sign.pub" 2>/dev/null; then fail "Python accepted a bit-flipped export"; fi

# 3. Python writes, Rust reads
printf 'written by the second implementation\n' > "$W/in2.txt"
cp "$W/in/many.bin" "$W/in2.bin"
"$PY" "$OBX" seal "$W/in2.txt" "$W/in2.bin" -o "$W/py.obx" --sign "$W/k/obscura.sign.key" --to "$W/k/obscura.recipient.pub" \
  --reference REQ-interop-3 --threshold person_score=0.35 >/dev/null
"$BIN" verify "$W/py.obx" --signer "$W/k/obscura.sign.pub" >/dev/null || fail "obscura verify refused the export Python wrote"
"$BIN" -q open "$W/py.obx" --identity "$W/k/obscura.recipient.key" --signer "$W/k/obscura.sign.pub" -o "$W/rust-out3" >/dev/null \
  || fail "obscura open refused the export Python wrote"
cmp -s "$W/rust-out3/in2.txt" "$W/in2.txt" && cmp -s "$W/rust-out3/in2.bin" "$W/in2.bin" || fail "obscura open gave other bytes"
"$PY" "$OBX" seal "$W/in2.txt" -o "$W/py-float.obx" --sign "$W/k/obscura.sign.key" --to "$W/k/obscura.recipient.pub" >/dev/null
"$PY" - "$W/py-float.obx" "$W/k/obscura.sign.key" <<'PY'
# the same export with a float in the signed manifest, correctly re-signed: format 2 refuses it
import sys
sys.path.insert(0, "scripts/interop")
import obx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
path, key = sys.argv[1], open(sys.argv[2]).read()
sk = Ed25519PrivateKey.from_private_bytes(obx.key_line(key, "obscura-sign-secret-1"))
b = open(path, "rb").read()
m_len = int.from_bytes(b[-12:-8], "big")
m_off = len(b) - 76 - m_len
d = obx.parse_canonical(b[m_off:m_off + m_len], "manifest")
d["policy"] = {"detector_models": [], "extra": {}, "kept_track_ids": [], "styles": {}, "thresholds": {"person_score": "0.35"}}
mb = obx.encode_canonical(d).replace(b'"person_score":"0.35"', b'"person_score":0.35')
out = b[:m_off] + mb + sk.sign(obx.SIG_CONTEXT + mb) + len(mb).to_bytes(4, "big") + b"OBX-END\n"
open(path, "wb").write(out)
PY
set +e
MSG=$("$BIN" verify "$W/py-float.obx" --signer "$W/k/obscura.sign.pub" 2>&1)
RC=$?
set -e
[ "$RC" = 1 ] && grep -q "not an integer" <<<"$MSG" || fail "obscura verify did not refuse a float in a format-2 manifest (rc $RC: $MSG)"
echo "[interop] ok: 36 vectors; obscura seal (4 payloads, 2 recipients) $ERASURE read by Python, byte-equal to obscura open; a flipped bit refused; Python's export verified and opened by obscura; a float in its manifest refused (exit 1)" >&2
