#!/bin/sh
# The one C style of the tree (.clang-format; style guide: LLVM base, 4-space
# indent, 100 columns, Linux braces): every tracked C file under src, include
# and tests must be as clang-format writes it. Usage: scripts/check-format.sh
# [ROOT]. Exit 1 and name the files on a deviation; fix with clang-format -i.
set -u
ROOT=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$ROOT" || exit 2
command -v clang-format >/dev/null || { echo "check-format: clang-format is not installed (scripts/deps.sh)"; exit 2; }
bad=0
for f in $(git ls-files 'src/*.[ch]' 'include/*.h' 'tests/*.[ch]' 2>/dev/null || find src include tests -name '*.[ch]' 2>/dev/null); do
    [ -f "$f" ] || continue
    if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
        echo "check-format: $f differs from clang-format's output (clang-format -i $f)"
        bad=1
    fi
done
[ $bad -eq 0 ] && echo "check-format: OK"
exit $bad
