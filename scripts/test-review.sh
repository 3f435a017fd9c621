#!/usr/bin/env bash
# Browser test of the review page (`obscura review`, crates/review, docs/EDITS.md): the real
# binary analyses a 3 s real clip with a walking person, headless Chromium (Selenium +
# chromedriver, scripts/review_browser_test.py) opens the page through the printed URL, picks
# the requester by clicking them, draws a manual box on a region no detector masks, moves it
# on the last frame, splits the person and leaves the second part visible with a reason (plus
# a region, a merge and their removal), and saves the edits file; then `obscura export --edits` makes a sealed
# access export with it, `obscura open` decrypts it, and the output pixels are checked: the
# manual region is masked (fill) on every frame, the requester is visible, the manifest and
# the audit log name the reviewer, the edits file's sha256 and the un-mask reason, and so does
# the report.
#
# Needs chromium + chromium-driver, ffmpeg, the models (obscura models fetch) and the shared
# footage (../shared or $OBSCURA_SHARED_DIR); reuses the Python venv of the opener test
# (.obscura/venv-opener, or $OBSCURA_VENV). Without them it prints SKIP, except under CI=true
# (a failure).
#
# Environment: OBSCURA_BIN (default target/debug/obscura, built when missing);
# REVIEW_SHOTS=DIR: where the screenshots of every step go (default target/review-shots, emptied
# of its old screenshots first); the folder is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

skip() {
  if [ "${CI:-}" = true ]; then echo "FAILED: review browser test: $*" >&2; exit 1; fi
  echo "SKIP: review browser test: $*" >&2
  exit 0
}
command -v chromium >/dev/null 2>&1 || skip "chromium is not installed (scripts/install-deps.sh installs it)"
command -v chromedriver >/dev/null 2>&1 || skip "chromedriver is not installed (Debian package chromium-driver)"
command -v ffmpeg >/dev/null 2>&1 || skip "the ffmpeg CLI is not installed"
SHARED=${OBSCURA_SHARED_DIR:-../shared}
FOOTAGE="$SHARED/footage/intel_one-by-one-person-detection.mp4"
[ -f "$FOOTAGE" ] || skip "shared footage $FOOTAGE is missing"

BIN=${OBSCURA_BIN:-target/debug/obscura}
if [ -z "${OBSCURA_BIN:-}" ]; then
  cargo build --locked -q -p obscura-cli --bin obscura
fi
VENV=${OBSCURA_VENV:-.obscura/venv-opener}
SELENIUM=selenium==4.38.0
if ! "$VENV/bin/python" -c 'import selenium' >/dev/null 2>&1; then
  echo "[review-test] creating $VENV with $SELENIUM" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "$SELENIUM"
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/obscura-review-test.XXXXXX")
SERVER=
cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  rm -rf "$W"
}
trap cleanup EXIT
# 3 s (30 frames, 768x432) with one person walking through the middle of the room.
ffmpeg -loglevel error -ss 7 -i "$FOOTAGE" -t 3 -an -c:v libx264 -preset ultrafast -crf 16 -pix_fmt yuv420p "$W/cam1.mp4"
EDITS="$W/cam1.edits.json"
"$BIN" -q review "$W/cam1.mp4" --edits "$EDITS" --style fill > "$W/review.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 120); do
  grep -q '^review page: ' "$W/review.log" && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$W/review.log" >&2; echo "FAILED: obscura review exited" >&2; exit 1; }
  sleep 0.5
done
URL=$(sed -n 's/^review page: //p' "$W/review.log")
[ -n "$URL" ] || { cat "$W/review.log" >&2; echo "FAILED: obscura review printed no URL" >&2; exit 1; }
case "$URL" in http://127.0.0.1:*/\?t=*) ;; *) echo "FAILED: the URL is not loopback with a token: $URL" >&2; exit 1 ;; esac
PORT=${URL#http://127.0.0.1:}; PORT=${PORT%%/*}
# The server is reachable on loopback only (nothing listens on the other addresses).
if command -v ss >/dev/null 2>&1; then
  ss -ltn | grep ":$PORT " | grep -qv '127.0.0.1:' && { echo "FAILED: port $PORT listens beyond 127.0.0.1" >&2; exit 1; }
fi

# The manual box: top left of the room (a wall, nobody there), moved 40 px right over the clip.
MASK=20,20,140,120
MASK_LAST=60,20,180,120
SHOTS=${REVIEW_SHOTS:-}
if [ -z "$SHOTS" ]; then
  SHOTS=target/review-shots
  mkdir -p "$SHOTS"
  rm -f "$SHOTS"/[0-9][0-9]-*.png
fi
ARGS=(--url "$URL" --mask "$MASK" --mask-last "$MASK_LAST" --reviewer op-17 --shots "$SHOTS")
"$VENV/bin/python" scripts/review_browser_test.py "${ARGS[@]}"
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
[ -f "$EDITS" ] || { echo "FAILED: Save wrote no $EDITS" >&2; exit 1; }

# Export with the edits file, open it, check the pixels.
"$BIN" -q keygen -o "$W/keys" >/dev/null
"$BIN" -q export --mode access "$W/cam1.mp4" --from 0 --until 3 --edits "$EDITS" --style fill \
  --sign "$W/keys/obscura.sign.key" --recipient "$W/keys/obscura.recipient.pub" --reference REQ-2026-077 --operator op-17 \
  --no-opener --audit-log "$W/audit.jsonl" -o "$W/req.obx" > "$W/export.txt"
mkdir -p "$W/opened"
"$BIN" -q open "$W/req.obx" --identity "$W/keys/obscura.recipient.key" --signer "$W/keys/obscura.sign.pub" -o "$W/opened" --audit-log "$W/audit.jsonl" >/dev/null
"$BIN" inspect "$W/req.obx" --json > "$W/manifest.json"
python3 - "$W" "$EDITS" <<'PY'
import hashlib, json, subprocess, sys
w, edits = sys.argv[1], sys.argv[2]
fails = []
def check(cond, what):
    print(("ok      " if cond else "FAILED  ") + what, flush=True)
    if not cond:
        fails.append(what)
def frames(path, width=768, height=432):
    raw = subprocess.run(["ffmpeg", "-loglevel", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "gray", "-"], capture_output=True, check=True).stdout
    n = len(raw) // (width * height)
    return [raw[i * width * height:(i + 1) * width * height] for i in range(n)]
def mean(f, x0, y0, x1, y1, width=768):
    s = c = 0
    for y in range(y0, y1):
        row = f[y * width + x0:y * width + x1]
        s += sum(row)
        c += len(row)
    return s / c
e = json.load(open(edits))
sha = hashlib.sha256(open(edits, "rb").read()).hexdigest()
check(e["format"] == 1 and e["reviewer"] == "op-17" and e["subject"] and len(e["masks"]) == 1 and len(e["masks"][0]["keyframes"]) == 2,
      "the saved edits file holds the requester and the keyframed manual box")
reason = "second requester, consent on file REQ-2026-078"
check(len(e.get("splits", [])) == 1 and [u["reason"] for u in e.get("unmask", [])] == [reason],
      "the saved edits file holds the split and the un-mask with its reason")
src, out = frames(w + "/cam1.mp4"), frames(w + "/opened/cam1.mp4")
check(len(src) == len(out) == 30, "30 frames in and out (%d, %d)" % (len(src), len(out)))
# The part every keyframed box covers: x 60..140, y 20..120 (inset 2 px for the edge).
masked = [mean(f, 62, 22, 138, 118) for f in out]
before = [mean(f, 62, 22, 138, 118) for f in src]
check(min(before) > 60, "the region is bright in the source (min mean luma %.1f)" % min(before))
check(max(masked) < 20, "the manual region is masked (fill) on every output frame (max mean luma %.1f)" % max(masked))
# The requester: their box on each frame (from the review), compared with the source.
sub = e["subject"]
print("requester picked at", sub)
x, y = int(sub["x"]), int(sub["y"])
vis = [abs(mean(o, x - 15, y - 40, x + 15, y + 40) - mean(s, x - 15, y - 40, x + 15, y + 40)) for s, o in zip(src, out)]
i = min(range(len(src)), key=lambda k: abs(k / 10 - float(sub["time"])))
check(vis[i] < 6, "the requester is visible where they were picked (frame %d, mean luma difference %.1f)" % (i, vis[i]))
visible = sum(1 for v in vis if v < 6)
check(visible >= 5, "the requester's area matches the source on %d of 30 frames" % visible)
m = json.load(open(w + "/manifest.json"))["manifest"]
rev = m["policy"]["extra"].get("review", {})
check(rev.get("reviewed") is True and rev.get("reviewer") == "op-17" and rev.get("edits_sha256") == sha,
      "the signed manifest records reviewed, the reviewer and the edits file's sha256")
check([u["reason"] for u in rev.get("unmasked", [])] == [reason] and rev.get("splits") == 1, "the signed manifest records the un-mask reason and the split")
report = open(w + "/opened/report.html", encoding="utf-8").read()
check("reviewed by a person (reviewer op-17" in report and reason in report, "the report names the review and the un-mask reason")
log = [json.loads(l) for l in open(w + "/audit.jsonl")]
exp = [r for r in log if r["action"] == "export" and r["result"] == "ok"]
check(bool(exp) and exp[-1]["detail"].get("review", {}).get("edits_sha256") == sha, "the audit log's export record holds the review")
check(bool(exp) and [u["reason"] for u in exp[-1]["detail"]["review"].get("unmasked", [])] == [reason], "the audit log's export record holds the un-mask reason")
sys.exit(1 if fails else 0)
PY
echo "review browser test: ok (screenshots of every step in $SHOTS)" >&2
