#!/bin/sh
# The README's test command: install what is missing, build the normal and the
# sanitizer (ASan+UBSan) configurations, run every test but fuzz-long and bench.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
scripts/deps.sh

JOBS=$(nproc 2>/dev/null || echo 2)
EXCLUDE='fuzz-long|bench'
status=0

build() { # DIR, cmake args...
    dir=$1; shift
    cmake -S "$ROOT" -B "$dir" "$@" >/dev/null
    cmake --build "$dir" -j "$JOBS"
}

echo "== layers"
scripts/check-layers.sh || status=1
echo "== format"
scripts/check-format.sh || status=1

echo "== build: RelWithDebInfo"
build build/rel -DCMAKE_BUILD_TYPE=RelWithDebInfo
echo "== build: Debug + ASan/UBSan"
build build/asan -DCMAKE_BUILD_TYPE=Debug -DNSGATE_SANITIZE=ON

echo "== tests: RelWithDebInfo"
(cd build/rel && ctest --output-on-failure -LE "$EXCLUDE") || status=1
echo "== tests: ASan/UBSan"
(cd build/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --output-on-failure -LE "$EXCLUDE") || status=1

if [ $status -eq 0 ]; then echo "test.sh: all tests passed"; else echo "test.sh: FAILURES" >&2; fi
exit $status
