#!/usr/bin/env bash
# Builds and runs every test: unit tests and system tests (release build),
# unit tests again under ASan+UBSan and under TSan, and each fuzz target for a
# bounded time.
# Run as root on Debian 12 (system tests create network namespaces and TUN devices).
#   scripts/test.sh            everything
#   FUZZ_SECONDS=30 scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

JOBS=${JOBS:-$(nproc)}
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
step() { printf '\n==> %s\n' "$*"; }

step "installing Debian packages"
scripts/install-deps.sh

step "release build"
cmake --preset release >/dev/null
cmake --build build/release -j"$JOBS"

step "unit and system tests (release)"
ctest --test-dir build/release --output-on-failure -j1

step "ASan+UBSan build and unit tests"
cmake --preset asan-ubsan >/dev/null
cmake --build build/asan-ubsan -j"$JOBS"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build/asan-ubsan --output-on-failure -L unit -j"$JOBS"

step "TSan build and unit tests"
cmake --preset tsan >/dev/null
cmake --build build/tsan -j"$JOBS"
TSAN_OPTIONS=halt_on_error=1 ctest --test-dir build/tsan --output-on-failure -L unit -j"$JOBS"

step "fuzz targets (${FUZZ_SECONDS}s each)"
cmake --preset fuzz -DPLEXUS_FUZZ_SECONDS="$FUZZ_SECONDS" >/dev/null
cmake --build build/fuzz -j"$JOBS"
ctest --test-dir build/fuzz --output-on-failure -L fuzz

step "all tests passed"
