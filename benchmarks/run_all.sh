#!/usr/bin/env bash
# Run the cnncalc benchmarks one after another and print their Markdown reports.
# Usage: benchmarks/run_all.sh            (PYTHON=/path/to/python benchmarks/run_all.sh to pick the interpreter)
# Each script takes well under 3 minutes on a 2-core machine; run nothing else heavy meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
status=0
for bench in bench_startup bench_input_size bench_scale bench_import bench_sweep bench_train; do
    echo
    start=$(date +%s)
    "$PYTHON" "benchmarks/${bench}.py" || status=$?
    echo
    echo "(${bench}: $(( $(date +%s) - start )) s)"
done
exit "$status"
