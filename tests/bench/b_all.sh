#!/bin/bash
# ctest bench.b_all (label bench, not run by the README's test command):
# every figure of docs/benchmarks.md at its real size; fails when a figure
# misses its target. The table goes to the build directory.
exec bash "$(dirname "$0")/run.sh" --strict --out "${NSGATE_BUILD:-.}/bench-results.md"
