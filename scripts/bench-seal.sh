#!/usr/bin/env bash
# Throughput of sealed exports (seal, verify, open) on a 1 GiB payload, printed beside
# `openssl speed -evp aes-256-gcm` and `openssl speed -evp sha256` measured in the same run.
#
#   scripts/bench-seal.sh            # 1 GiB payload (plus a 64 MiB run to show constant memory)
#   SIZE_MIB=256 scripts/bench-seal.sh
#
# MB = 10^6 bytes (as openssl prints). openssl figures are its largest block size (16 KiB),
# one core, user CPU time. For each step we print the wall-clock rate and the CPU-time rate
# (bytes / (user + sys) over all threads), so a loaded machine shows in the gap between them,
# and the user-CPU rate, which is what openssl speed itself reports (it does no file I/O).
# The seal and open targets are 0.8x of one core doing the AES-GCM plus the two SHA-256
# passes they compute (plaintext and ciphertext): 1 / (1/aes + 2/sha). seal and open include
# the fsync of the atomic commit. Peak RSS comes from /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB=${SIZE_MIB:-1024}

cargo build --release -q -p obscura-seal --example seal-throughput
BIN=target/release/examples/seal-throughput
W=$(mktemp -d /tmp/obscura-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "openssl: $(openssl version)"
aes_k=$(openssl speed -seconds 3 -evp aes-256-gcm 2>/dev/null | awk 'toupper($1)=="AES-256-GCM" {v=$NF} END {print v}' | tr -d k)
sha_k=$(openssl speed -seconds 3 -evp sha256 2>/dev/null | awk '$1=="sha256" {v=$NF} END {print v}' | tr -d k)
AES=$(awk -v k="$aes_k" 'BEGIN {printf "%.1f", k/1000}')
SHA=$(awk -v k="$sha_k" 'BEGIN {printf "%.1f", k/1000}')
BOTH=$(awk -v a="$AES" -v s="$SHA" 'BEGIN {printf "%.1f", 1/(1/a + 2/s)}')
echo "openssl speed -evp aes-256-gcm (16 KiB blocks): $AES MB/s"
echo "openssl speed -evp sha256      (16 KiB blocks): $SHA MB/s"
echo "one core, AES-GCM + 2x SHA-256:  1/(1/aes + 2/sha) = $BOTH MB/s"
echo

run() { # label size_mib op args...
    local label=$1; shift
    /usr/bin/time -f "%e %U %S %M" -o "$W/time" "$BIN" "$@" > "$W/out"
    read -r _ _ bytes _ _ _ _ < "$W/out"
    read -r wall user sys rss < "$W/time"
    awk -v l="$label" -v b="$bytes" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v aes="$AES" -v sha="$SHA" -v both="$BOTH" -v op="$1" 'BEGIN {
        wr = b / w / 1e6; cpu = u + s; cr = (cpu > 0) ? b / cpu / 1e6 : 0; ur = (u > 0) ? b / u / 1e6 : 0;
        ref = (op == "verify") ? sha : both; refname = (op == "verify") ? "sha256" : "aes+2sha";
        printf "%-7s %5.0f MiB  wall %6.2f s %7.1f MB/s (%.2fx %s)  user+sys %5.2f s %7.1f MB/s (%.2fx)  user %5.2f s %7.1f MB/s (%.2fx)  peak RSS %5.1f MiB\n",
            l, b / 1048576, w, wr, wr / ref, refname, cpu, cr, cr / ref, u, ur, ur / ref, r / 1024 }'
}

# The disk: seal and open write and fsync as many bytes as they process (atomic commit).
dd_out=$(dd if=/dev/zero of="$W/dd.bin" bs=1M count="$SIZE_MIB" conv=fsync 2>&1 | tail -1)
rm -f "$W/dd.bin"
echo "disk baseline, dd write+fsync of $SIZE_MIB MiB: ${dd_out##*, }"
echo

for mib in 64 "$SIZE_MIB"; do
    head -c $((mib * 1048576)) /dev/urandom > "$W/in.bin"
    sync
    run "seal" seal "$W/in.bin" "$W/x.obx"
    run "verify" verify "$W/x.obx"
    run "open" open "$W/x.obx" "$W/open"
    cmp -s "$W/in.bin" "$W/open/payload.bin" || { echo "open did not reproduce the input" >&2; exit 1; }
    rm -rf "$W/open" "$W/x.obx" "$W/in.bin"
done
echo
echo "targets: verify >= 0.80x sha256; seal and open >= 0.80x aes+2sha (one core); more with 2 threads."
echo "note: the machine is shared; wall-clock figures vary with other builds (see load above)."
