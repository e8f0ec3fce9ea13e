#!/usr/bin/env bash
# Runs the CedarPolicy benchmarks side by side with cedarpy (the Rust engine) and prints ratios.
#   Benchmarks/run.sh            (from anywhere)
# Environment: LATCH_PYTHON (a python with cedarpy==4.12.2; default <repo>/.venv/bin/python),
#   BENCH_WORK (where to write the workload; default a temp dir), BENCH_SCRATCH (swift build dir),
#   BENCH_ROUNDS / BENCH_ROUND_SECONDS (timing rounds, each at least this long).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
python="${LATCH_PYTHON:-$repo/.venv/bin/python}"
if ! "$python" -c 'import cedarpy' 2>/dev/null; then
    echo "run.sh: $python cannot import cedarpy; set LATCH_PYTHON or run: python3 -m venv $repo/.venv && $repo/.venv/bin/pip install cedarpy==4.12.2" >&2
    exit 2
fi
work="${BENCH_WORK:-$(mktemp -d)}"
scratch="${BENCH_SCRATCH:-$here/.build}"

"$python" "$here/gen_workload.py" "$work"
echo "building cedar-bench (release)..."
swift build -c release --package-path "$here" --scratch-path "$scratch" --product CedarBench 2>&1 | tail -3
bin="$(swift build -c release --package-path "$here" --scratch-path "$scratch" --show-bin-path)/CedarBench"

echo "timing Swift..."
"$bin" "$work/50" "$work/1000" > "$work/swift.jsonl"
echo "timing cedarpy..."
"$python" "$here/cedarpy_bench.py" "$work/50" "$work/1000" > "$work/cedarpy.jsonl"
"$python" "$here/report.py" "$work/swift.jsonl" "$work/cedarpy.jsonl"
echo "raw results: $work/swift.jsonl $work/cedarpy.jsonl"
