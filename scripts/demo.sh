#!/usr/bin/env bash
# Obscura's main job on real footage, end to end: installs what is missing, builds the release
# binary, fetches the sha256-pinned models and a sha256-pinned sample clip with people (listed
# with its licence and source in footage/footage.toml), then answers two data-subject requests
# as sealed, signed, audited packages and checks them:
#   - an access request (Art. 15): a time window in which one person (the requester) stays
#     visible and every other person is masked;
#   - an erasure request (Art. 17): everything except a period given on the wall clock.
# Usage: ./scripts/demo.sh [VIDEO]   (without VIDEO the pinned sample clip is used)
# The clip is copied from $OBSCURA_FOOTAGE_MIRROR (default ../shared/footage when present)
# or downloaded from its pinned URL; a file whose sha256 differs is refused.
# Results: out/demo/ (packages, opened payloads, report.html, contact sheets, audit log).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
if [ -n "${OBSCURA_BIN:-}" ]; then
  B=$OBSCURA_BIN   # an already built binary (skips the set-up and the build)
else
  ./scripts/install-deps.sh
  echo "[demo] building the release binary (a few minutes the first time)" >&2
  cargo build --release --locked -q -p obscura-cli
  B=target/release/obscura
fi
$B models fetch

OUT=out/demo
mkdir -p "$OUT"
rm -rf "$OUT/erasure.obx" "$OUT/access.obx" "$OUT/opened-erasure" "$OUT/opened-access" "$OUT/access-sheet.png"
# The pinned sample (footage/footage.toml): mirror folder or URL, sha256-checked.
fetch_footage() {
  local toml=footage/footage.toml file url sha mirror dest
  file=$(sed -n 's/^file = "\(.*\)"$/\1/p' "$toml" | head -1)
  url=$(sed -n 's/^url = "\(.*\)"$/\1/p' "$toml" | head -1)
  sha=$(sed -n 's/^sha256 = "\(.*\)"$/\1/p' "$toml" | head -1)
  dest=$OUT/$file
  if [ -f "$dest" ] && echo "$sha  $dest" | sha256sum -c --status; then echo "$dest"; return; fi
  mirror=${OBSCURA_FOOTAGE_MIRROR:-}
  if [ -z "$mirror" ] && [ -d ../shared/footage ]; then mirror=../shared/footage; fi
  rm -f "$dest.part"
  if [ -n "$mirror" ]; then
    echo "[demo] copying the sample clip $file from $mirror" >&2
    cp "$mirror/$file" "$dest.part"
  else
    echo "[demo] downloading the sample clip $url" >&2
    curl -fsSL --retry 3 -o "$dest.part" "$url"
  fi
  if ! echo "$sha  $dest.part" | sha256sum -c --status; then
    echo "[demo] $file: sha256 differs from footage/footage.toml; refused" >&2
    rm -f "$dest.part"; exit 2
  fi
  mv "$dest.part" "$dest"
  echo "$dest"
}

# The frames of a clip as one picture: 12 evenly spaced thumbnails with their times.
sheet() {
  local clip=$1 png=$2 n
  n=$(ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$clip")
  ffmpeg -loglevel error -y -i "$clip" -vf "select='not(mod(n\,$(( (n + 11) / 12 ))))',scale=320:-2,drawtext=text='%{pts\:hms}':x=6:y=6:fontsize=18:fontcolor=yellow:box=1:boxcolor=black@0.6,tile=4x3" \
    -frames:v 1 -fps_mode passthrough "$png"
}

if [ $# -ge 1 ]; then
  SRC=$1
  WINDOW=(--from 0 --until 30); KEEP=(); EXCL=(--exclude 10..15)
else
  SRC=$(fetch_footage)
  # 0:05-0:35: a woman in a grey cardigan (0:05-0:17), then a man in a black hoodie
  # (0:25-0:40). The requester is the woman: the person at pixel 450,200 at 0:10.
  WINDOW=(--from 5 --until 35); KEEP=(--keep-at 10@450,200)
  # Erasure given on the wall clock (the clip's creation_time is 2017-09-26T16:57:49Z):
  # leave out the man's visit, 0:20 to 0:45.
  EXCL=(--exclude 2017-09-26T16:58:09Z..2017-09-26T16:58:34Z)
fi
[ -f "$OUT/keys/obscura.sign.key" ] || $B keygen -o "$OUT/keys" >/dev/null
K=$OUT/keys
AUDIT=$OUT/audit.jsonl
COMMON=(--sign "$K/obscura.sign.key" --recipient "$K/obscura.recipient.pub" --operator op-demo --audit-log "$AUDIT")

echo; echo "== source"
$B probe "$SRC"

echo; echo "== access request: ${WINDOW[*]} s, the requester (${KEEP[*]:-none chosen}) visible, everyone else masked"
$B export --quiet --mode access "$SRC" "${WINDOW[@]}" "${KEEP[@]}" --reference DEMO-ACCESS-1 \
  -o "$OUT/access.obx" --no-opener "${COMMON[@]}"

echo; echo "== erasure request: everything except ${EXCL[*]}"
$B export --quiet --mode erasure "$SRC" "${EXCL[@]}" --reference DEMO-ERASURE-1 \
  -o "$OUT/erasure.obx" --no-opener "${COMMON[@]}"

echo; echo "== anyone can verify a package without a key"
$B verify "$OUT/erasure.obx" --signer "$K/obscura.sign.pub" --audit-log "$AUDIT"
$B verify "$OUT/access.obx" --signer "$K/obscura.sign.pub" --audit-log "$AUDIT"

echo; echo "== only the recipient can open it"
$B open "$OUT/erasure.obx" --identity "$K/obscura.recipient.key" --signer "$K/obscura.sign.pub" -o "$OUT/opened-erasure" --audit-log "$AUDIT"
$B open "$OUT/access.obx" --identity "$K/obscura.recipient.key" --signer "$K/obscura.sign.pub" -o "$OUT/opened-access" --audit-log "$AUDIT"

echo; echo "== the audit log's hash chain"
$B audit verify "$AUDIT"

ACCESS_CLIP=$(find "$OUT/opened-access" -name '*.mp4' | sort | head -1)
sheet "$ACCESS_CLIP" "$OUT/access-sheet.png"

echo
echo "Results in $OUT/:"
echo "  access-sheet.png                 12 frames of the delivered access clip: the requester visible, the other person masked"
echo "  opened-access/report.html        the report the requester receives (what was hidden and why)"
echo "  opened-erasure/                  the erasure clips and their report.html"
echo "  erasure.obx, access.obx          sealed packages (inspect: $B inspect $OUT/access.obx)"
echo "  (to pick a requester in other footage: $B tracks VIDEO --sheet people.png, then --keep ID)"
echo "  audit.jsonl                      the audit log;  keys/  the demo keys"
echo "Sample footage: footage/footage.toml (CC-BY-4.0, Intel IoT DevKit sample videos)."
