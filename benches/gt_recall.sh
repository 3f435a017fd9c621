#!/usr/bin/env bash
# Privacy recall against human ground truth (BENCHMARKS.md, "Ground truth"): every sequence
# under ../shared/footage/gt (MOT17 excerpts, boxes drawn by people) is redacted losslessly
# (--crf 0, --style fill:#FF00FF) and examples/gt_recall.rs counts, for every ground-truth
# person, the share of its box that is masked: hidden (>= 90%), partial (>= 50%), exposed.
#
# Besides the four sequences as they are, it makes harder copies of them (their ground truth
# mapped along): `-half` (scaled to 50% inside a grey 1920x1080 canvas: people half as tall)
# and `-night` (darkened, low contrast, sensor noise), and of all four `-warm` (played forward
# and back three times first: measured in the detector's steady state). HARDER=0 leaves them out.
#
# Usage: benches/gt_recall.sh [-- REDACT-ARGS...]    one configuration (default: obscura's defaults)
#        CONFIGS='--recall high|--recall max' benches/gt_recall.sh    several, '|'-separated
# Env: SHARED (default ../shared), OBSCURA (default target/release/obscura), MISSES=1 lists the
# boxes not hidden.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
OBSCURA=${OBSCURA:-target/release/obscura}
GT="$SHARED/footage/gt"
[ "${1:-}" = "--" ] && shift
if [ -n "${CONFIGS:-}" ]; then IFS='|' read -r -a configs <<<"$CONFIGS"; else configs=("$*"); fi
[ -d "$GT" ] || { echo "SKIP: $GT absent (human ground truth, see ../shared/footage/FOOTAGE.md)"; exit 0; }
work=$(mktemp -d /tmp/obscura-gt.XXXXXX)
trap 'rm -rf "$work"' EXIT
cargo build --release -q -p obscura-cli
cargo build --release -q -p obscura --example gt_recall

# Sequences: NAME SOURCE GT SCALE DX DY [FRAMES_BEFORE]
seqs=()
for d in "$GT"/*/; do
  n=$(basename "$d")
  [ -f "$d/$n.mp4" ] && [ -f "$d/gt.txt" ] || continue
  seqs+=("$n $d/$n.mp4 $d/gt.txt 1 0 0")
done
if [ "${HARDER:-1}" = 1 ]; then
  enc=(-c:v libx264 -preset medium -crf 12 -pix_fmt yuv420p)
  for n in MOT17-02 MOT17-09 MOT17-11; do
    src="$GT/$n/$n.mp4"; [ -f "$src" ] || continue
    # people at half their height, centred in a grey 1080p canvas
    ffmpeg -loglevel error -y -i "$src" -vf "scale=960:540:flags=area,pad=1920:1080:480:270:color=0x727272" "${enc[@]}" "$work/$n-half.mp4"
    seqs+=("$n-half $work/$n-half.mp4 $GT/$n/gt.txt 0.5 480 270")
    # night: dark, low contrast, noisy
    ffmpeg -loglevel error -y -i "$src" -vf "eq=brightness=-0.18:contrast=0.55:saturation=0.4:gamma=0.8,noise=alls=10:allf=t" "${enc[@]}" "$work/$n-night.mp4"
    seqs+=("$n-night $work/$n-night.mp4 $GT/$n/gt.txt 1 0 0")
  done
  # warm: the sequence played forward and back three times before it is measured, so that
  # the ground-truth frames meet the detector's schedule (tile sweep, motion gate, tracks) in
  # its steady state rather than on the cold start that scans everything
  for n in MOT17-02 MOT17-05 MOT17-09 MOT17-11; do
    src="$GT/$n/$n.mp4"; [ -f "$src" ] || continue
    frames=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$src")
    ffmpeg -loglevel error -y -i "$src" -filter_complex \
      "[0:v]split=2[a][b];[b]reverse,split=3[r1][r2][r3];[a]split=4[f1][f2][f3][f4];[f1][r1][f2][r2][f3][r3][f4]concat=n=7:v=1[v]" \
      -map "[v]" "${enc[@]}" "$work/$n-warm.mp4"
    seqs+=("$n-warm $work/$n-warm.mp4 $GT/$n/gt.txt 1 0 0 $((6 * frames))")
  done
fi

for cfg in "${configs[@]}"; do
  read -r -a extra <<<"$cfg"
  echo "== config: ${cfg:-defaults}"
  specs=()
  t0=$(date +%s.%N)
  for s in "${seqs[@]}"; do
    read -r name src gt k dx dy before <<<"$s"
    "$OBSCURA" redact "$src" -o "$work/$name.out.mp4" --force --style "fill:#FF00FF" --crf 0 --preset ultrafast --quiet "${extra[@]}" >/dev/null
    specs+=("$name,$src,$gt,$work/$name.out.mp4,$k,$dx,$dy,${before:-0}")
  done
  t1=$(date +%s.%N)
  args=("${specs[@]}"); [ "${MISSES:-0}" = 1 ] && args+=(--misses)
  target/release/examples/gt_recall "${args[@]}"
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "redact wall time, all sequences: %.1f s\n", b - a }'
  rm -f "$work"/*.out.mp4
done
