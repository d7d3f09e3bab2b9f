#!/usr/bin/env bash
# Builds relbot for speed (Release, no sanitizers) in build-bench/ and runs the soak,
# relbot-bench-soak (bench/soak.cpp): the real relbot against relbot-sim's server for hours,
# with a steady load of commands and clicks, faults on a schedule and SIGKILL every 10 minutes;
# a line of figures a minute, then the checks (exit status 1 if one fails). Options are passed
# through. Not part of the tests.
#   bench/soak.sh --minutes 120          the run the README's figures come from
#   bench/soak.sh --minutes 3 --kill-every 1 --fault-every 15 --sample-seconds 30   a quick look
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/setup.sh
build=${RELBOT_BENCH_BUILD_DIR:-build-bench}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DRELBOT_TESTS=OFF -DRELBOT_BENCH=ON >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target relbot relbot-bench-soak
echo "machine: $(nproc) cores, $(uname -sr), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
exec "$build/relbot-bench-soak" "$@"
