#!/usr/bin/env bash
# Installs dependencies, builds everything with AddressSanitizer and UndefinedBehaviorSanitizer
# (warnings are errors), and runs every test: unit, storage and end-to-end.
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/setup.sh

build=${RELBOT_TEST_BUILD_DIR:-build-test}
jobs=$(nproc 2>/dev/null || echo 2)

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DRELBOT_SANITIZE=ON -DRELBOT_WERROR=ON
cmake --build "$build" -j "$jobs"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" --output-on-failure -j "$jobs"
