#!/usr/bin/env bash
# Builds and runs the libFuzzer target over CedarPolicy's parsers and JSON readers.
#   Packages/CedarPolicy/Fuzz/run.sh [libFuzzer options...]     e.g. -max_total_time=300
# Seeds come from the Cedar integration corpus (../shared next to the repo), unpacked to a temp dir; the
# first byte of each input picks the reader (0 policies, 1 Cedar schema, 2 JSON schema, 3 other JSON).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
package="$(dirname "$here")"
repo="$(cd "$package/../.." && pwd)"
out="${FUZZ_BUILD:-$repo/.build-fuzz}"
mkdir -p "$out"
echo "building $out/cedar-fuzz ..."
swiftc -sanitize=fuzzer,address -parse-as-library -O -g -module-name CedarPolicy \
    -enable-upcoming-feature ExistentialAny -enable-upcoming-feature MemberImportVisibility \
    -enable-upcoming-feature InternalImportsByDefault \
    $(find "$package/Sources/CedarPolicy" -name '*.swift') "$here/FuzzTarget.swift" -o "$out/cedar-fuzz"

seeds="$out/seeds"
if [ ! -d "$seeds" ]; then
    corpus="$(mktemp -d)"
    tar -xzf "$repo/../shared/cedar-integration-tests/corpus-tests.tar.gz" -C "$corpus"
    mkdir -p "$seeds"
    i=0
    for f in $(find "$corpus" -type f | sort | head -4000); do
        case "$f" in
            *.cedar) prefix='\x00' ;;
            *.cedarschema) prefix='\x01' ;;
            *.json) prefix='\x03' ;;
            *) continue ;;
        esac
        { printf "$prefix"; cat "$f"; } > "$seeds/seed$i"
        i=$((i + 1))
    done
    rm -rf "$corpus"
fi
mkdir -p "$out/findings" "$out/corpus"
cd "$out/findings"
exec "$out/cedar-fuzz" -max_len=65536 -timeout=5 -rss_limit_mb=4096 "$out/corpus" "$seeds" "$@"
