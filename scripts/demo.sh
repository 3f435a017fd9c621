#!/usr/bin/env bash
# Obscura's main job on a sample, end to end: installs what is missing, builds the release
# binary, fetches the sha256-pinned models, then answers two data-subject requests as sealed,
# signed, audited packages and checks them:
#   - an erasure request (Art. 17): everything except two excluded periods;
#   - an access request (Art. 15): a time window with every person masked but the subject.
# Usage: ./scripts/demo.sh [VIDEO]   (without VIDEO a 30 s sample clip is generated)
# Results: out/demo/ (packages, opened payloads, report.html, contact sheet, audit log).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
export PATH="$HOME/.cargo/bin:$PATH"

echo "[demo] building the release binary (a few minutes the first time)" >&2
cargo build --release --locked -q -p obscura-cli
B=target/release/obscura
$B models fetch

OUT=out/demo
mkdir -p "$OUT"
rm -rf "$OUT/erasure.obx" "$OUT/access.obx" "$OUT/opened-erasure" "$OUT/opened-access"
if [ $# -ge 1 ]; then
  SRC=$1
else
  SRC=$OUT/sample.mp4
  if [ ! -f "$SRC" ]; then
    echo "[demo] generating a 30 s sample clip (moving test pattern, 640x360, 10 fps)" >&2
    ffmpeg -loglevel error -y -f lavfi -i "testsrc2=size=640x360:rate=10" -t 30 -pix_fmt yuv420p \
      -c:v libx264 -metadata creation_time=2026-11-20T10:00:00Z "$SRC"
  fi
fi
[ -f "$OUT/keys/obscura.sign.key" ] || $B keygen -o "$OUT/keys" >/dev/null
K=$OUT/keys
AUDIT=$OUT/audit.jsonl
COMMON=(--sign "$K/obscura.sign.key" --to "$K/obscura.recipient.pub" --operator op-demo --audit-log "$AUDIT")

echo; echo "== source"
$B probe "$SRC"

echo; echo "== erasure request: export up to 00:00:10 and after 00:00:15, and leave out 20..22 s"
$B export --quiet --mode erasure "$SRC" --exclude 10..15 --exclude 20..22 --reference DEMO-ERASURE-1 \
  -o "$OUT/erasure.obx" "${COMMON[@]}"

echo; echo "== access request: 00:00:02 to 00:00:12, every person masked except the subject"
echo "   (no subject chosen here, so every detected person is masked; pick one with --keep ID"
echo "    from the contact sheet, --keep-at TIME@X,Y or --keep-like PHOTO); a static privacy"
echo "   zone over the top-left of the picture is masked in every frame"
$B tracks --quiet "$SRC" --json "$OUT/tracks.json" --sheet "$OUT/tracks-sheet.png" >/dev/null
$B export --quiet --mode access "$SRC" --from 2 --until 12 --reference DEMO-ACCESS-1 \
  --zone "0.05,0.05;0.40,0.05;0.40,0.45;0.05,0.45" \
  -o "$OUT/access.obx" "${COMMON[@]}"

echo; echo "== anyone can verify a package without a key"
$B verify "$OUT/erasure.obx" --signer "$K/obscura.sign.pub" --audit-log "$AUDIT"
$B verify "$OUT/access.obx" --signer "$K/obscura.sign.pub" --audit-log "$AUDIT"

echo; echo "== only the recipient can open it"
$B open "$OUT/erasure.obx" --identity "$K/obscura.recipient.key" --signer "$K/obscura.sign.pub" -o "$OUT/opened-erasure" --audit-log "$AUDIT"
$B open "$OUT/access.obx" --identity "$K/obscura.recipient.key" --signer "$K/obscura.sign.pub" -o "$OUT/opened-access" --audit-log "$AUDIT"

echo; echo "== the audit log's hash chain"
$B audit verify "$AUDIT"

echo
echo "Results in $OUT/:"
echo "  erasure.obx, access.obx          sealed packages (inspect: $B inspect $OUT/access.obx)"
echo "  opened-erasure/, opened-access/  decrypted clips and report.html"
echo "  tracks-sheet.png, tracks.json    who is in the footage (pick the requester's track id)"
echo "  audit.jsonl                      the audit log;  keys/  the demo keys"
