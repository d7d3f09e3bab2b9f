#!/usr/bin/env bash
# Installs dependencies, builds everything with AddressSanitizer and UndefinedBehaviorSanitizer
# (warnings are errors), runs every test (unit, storage, end-to-end and browser), then runs every
# fuzz target for a short time (fuzz/run.sh --ci: 15 s each, two at a time, after replaying the
# inputs of every crash found so far). Prints how long each stage took.
#   deploy/test.sh             what CI runs (.ci/run)
#   deploy/test.sh --release   also builds the Release configuration that deploy/run.sh and the
#                              benchmarks use, with warnings as errors (the optimiser finds
#                              warnings the sanitizer build does not): before a release or a
#                              benchmark run. Left out of CI for time: on 2 cores it is a third
#                              build of everything, about 6 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

with_release=${RELBOT_TEST_RELEASE:-0}
for arg in "$@"; do
    case "$arg" in
        --release) with_release=1 ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "test.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
    esac
done

began=$SECONDS
stage_began=$SECONDS
stage_done() {
    echo "test.sh: $1: ok ($((SECONDS - stage_began)) s)"
    stage_began=$SECONDS
}

bash deploy/setup.sh --test
stage_done "dependencies installed"

build=${RELBOT_TEST_BUILD_DIR:-build-test}
jobs=$(nproc 2>/dev/null || echo 2)
# Each build is a unity build (CMAKE_UNITY_BUILD: a target's files compiled eight at a time, so
# the Asio/Beast, JSON and Catch templates they share are instantiated once per batch): on 2
# cores a clean sanitizer build takes about half as long. RELBOT_UNITY=OFF builds file by file,
# as a plain `cmake -B build` does. The benchmarks are built by --release.
unity=${RELBOT_UNITY:-ON}
export RELBOT_UNITY=$unity

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DRELBOT_SANITIZE=ON -DRELBOT_WERROR=ON \
    -DRELBOT_BENCH=OFF -DCMAKE_UNITY_BUILD="$unity"
cmake --build "$build" -j "$jobs"
stage_done "sanitizer build (relbot, relbot-sim, tests) without a warning"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" --output-on-failure -j "$jobs"
stage_done "every test passed"

if [ "$with_release" = 1 ]; then
    release=${RELBOT_RELEASE_BUILD_DIR:-build-release}
    cmake -S . -B "$release" -DCMAKE_BUILD_TYPE=Release -DRELBOT_TESTS=OFF -DRELBOT_WERROR=ON \
        -DCMAKE_UNITY_BUILD="$unity"
    cmake --build "$release" -j "$jobs"
    stage_done "Release build (relbot, relbot-sim, benchmarks) without a warning"
fi

bash fuzz/run.sh --ci
stage_done "every fuzz target ran clean"

# The systemd unit: `systemd-analyze verify` on a copy whose ExecStart is the binary just built
# (verify insists that the binary exists). Skipped where systemd is not installed.
if command -v systemd-analyze >/dev/null 2>&1; then
    unit_dir=$(mktemp -d)
    trap 'rm -rf "$unit_dir"' EXIT
    sed "s|^ExecStart=.*|ExecStart=$PWD/$build/relbot|" deploy/relbot.service >"$unit_dir/relbot.service"
    systemd-analyze verify "$unit_dir/relbot.service"
    stage_done "systemd-analyze verify deploy/relbot.service"
else
    echo "test.sh: systemd-analyze is not installed; deploy/relbot.service not verified" >&2
fi
echo "test.sh: all of it passed in $((SECONDS - began)) s"
