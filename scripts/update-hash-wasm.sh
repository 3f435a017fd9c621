#!/usr/bin/env bash
# Fetches a hash-wasm release from the npm registry for the opener page, checks the tarball
# against the registry's sha512 integrity value, copies the two builds the page uses and
# the licence into crates/request/assets/opener/vendor/hash-wasm-VERSION/ and prints the
# sha256 pins to put into crates/request/src/opener.rs (VENDORED). Usage:
#   scripts/update-hash-wasm.sh 4.13.0
# The page is only ever built from the vendored copy; this script is the audit trail of
# where that copy came from (run it to re-check the copy in the tree).
set -euo pipefail
cd "$(dirname "$0")/.."
V=${1:?usage: $0 VERSION}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
META="$T/meta.json"
curl -fsS "https://registry.npmjs.org/hash-wasm/$V" -o "$META"
URL=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["dist"]["tarball"])' "$META")
INTEGRITY=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["dist"]["integrity"])' "$META")
curl -fsS "$URL" -o "$T/pkg.tgz"
GOT="sha512-$(openssl dgst -sha512 -binary "$T/pkg.tgz" | base64 -w0)"
[ "$GOT" = "$INTEGRITY" ] || { echo "integrity mismatch: registry says $INTEGRITY, tarball is $GOT" >&2; exit 1; }
tar -xzf "$T/pkg.tgz" -C "$T"
D=crates/request/assets/opener/vendor/hash-wasm-$V
mkdir -p "$D"
for f in dist/argon2.umd.min.js dist/sha256.umd.min.js LICENSE; do
  if [ -e "$D/$(basename "$f")" ] && ! cmp -s "$T/package/$f" "$D/$(basename "$f")"; then
    echo "DIFFERS from the vendored copy: $D/$(basename "$f")" >&2
  fi
  cp "$T/package/$f" "$D/"
done
echo "tarball $URL"
echo "integrity $INTEGRITY (checked)"
(cd "$D" && sha256sum argon2.umd.min.js sha256.umd.min.js LICENSE)
