#!/usr/bin/env bash
# Builds relbot for speed (Release, no sanitizers) in build-bench/ and runs the benchmarks:
# relbot-bench (ack latency, bursts, start-up, memory; relbot against the floor client) and
# relbot-bench-scale (a database with 10,000 releases and 1,000,000 audit rows against an
# empty one), then relbot-bench-writes (the write path in process, per kind of write). Not part
# of the tests: it prints figures and asserts nothing.
#   bench/run.sh            3 runs of relbot-bench, then relbot-bench-scale and -writes
#   RUNS=5 bench/run.sh     more runs
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/setup.sh
build=${RELBOT_BENCH_BUILD_DIR:-build-bench}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DRELBOT_TESTS=OFF -DRELBOT_BENCH=ON >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" \
    --target relbot relbot-bench relbot-bench-floor relbot-bench-scale relbot-bench-writes
echo "machine: $(nproc) cores, $(uname -sr), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
"$build/relbot-bench" --runs "${RUNS:-3}"
echo
"$build/relbot-bench-scale"
echo
"$build/relbot-bench-writes"
