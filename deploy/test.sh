#!/usr/bin/env bash
# Installs dependencies, builds everything with AddressSanitizer and UndefinedBehaviorSanitizer
# (warnings are errors), and runs every test: unit, storage, end-to-end and browser. Then builds
# the Release configuration that deploy/run.sh and the benchmarks use, also with warnings as
# errors (the optimiser finds warnings the sanitizer build does not), and runs every fuzz target
# for a short time (fuzz/run.sh --ci: 30 s each, two at a time, after replaying the inputs of
# every crash found so far).
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/setup.sh --test

build=${RELBOT_TEST_BUILD_DIR:-build-test}
jobs=$(nproc 2>/dev/null || echo 2)
# Each build is a unity build (CMAKE_UNITY_BUILD: a library's files compiled eight at a time,
# so the Asio/Beast and JSON templates they share are instantiated once per batch): on 2 cores
# a clean sanitizer build takes about half as long. RELBOT_UNITY=OFF builds file by file, as a
# plain `cmake -B build` does. The benchmarks are built once, by the Release build below.
unity=${RELBOT_UNITY:-ON}
export RELBOT_UNITY=$unity

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DRELBOT_SANITIZE=ON -DRELBOT_WERROR=ON \
    -DRELBOT_BENCH=OFF -DCMAKE_UNITY_BUILD="$unity"
cmake --build "$build" -j "$jobs"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" --output-on-failure -j "$jobs"

release=${RELBOT_RELEASE_BUILD_DIR:-build-release}
cmake -S . -B "$release" -DCMAKE_BUILD_TYPE=Release -DRELBOT_TESTS=OFF -DRELBOT_WERROR=ON \
    -DCMAKE_UNITY_BUILD="$unity"
cmake --build "$release" -j "$jobs"
echo "test.sh: Release build (relbot, relbot-sim, benchmarks) without a warning: ok"

bash fuzz/run.sh --ci
echo "test.sh: every fuzz target ran clean: ok"

# The systemd unit: `systemd-analyze verify` on a copy whose ExecStart is the binary just built
# (verify insists that the binary exists). Skipped where systemd is not installed.
if command -v systemd-analyze >/dev/null 2>&1; then
    unit_dir=$(mktemp -d)
    trap 'rm -rf "$unit_dir"' EXIT
    sed "s|^ExecStart=.*|ExecStart=$PWD/$build/relbot|" deploy/relbot.service >"$unit_dir/relbot.service"
    systemd-analyze verify "$unit_dir/relbot.service"
    echo "test.sh: systemd-analyze verify deploy/relbot.service: ok"
else
    echo "test.sh: systemd-analyze is not installed; deploy/relbot.service not verified" >&2
fi
