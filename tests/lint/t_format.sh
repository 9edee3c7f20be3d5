#!/bin/bash
# The one C style: the real tree passes scripts/check-format.sh, and a copy
# with one misformatted line fails it, naming the file.
set -u
SRC=${NSGATE_SRC:?}
command -v clang-format >/dev/null || { echo "SKIP: clang-format missing"; exit 77; }
T=$(mktemp -d /tmp/nsgate-format.XXXXXX)
trap 'rm -rf "$T"' EXIT
PASS=0 FAIL=0
eq() { if [ "$2" = "$3" ]; then PASS=$((PASS + 1)); echo "ok - $1"; else FAIL=$((FAIL + 1)); echo "not ok - $1 (want $2, got $3)"; fi; }

"$SRC/scripts/check-format.sh" "$SRC" >"$T/out" 2>&1
eq "the real tree is formatted" 0 "$?"
cp -r "$SRC/src" "$SRC/include" "$SRC/.clang-format" "$T/"
"$SRC/scripts/check-format.sh" "$T" >"$T/out" 2>&1
eq "a copy outside git: formatted too" 0 "$?"
sed -i 's/^int ng_uuid_new(/int  ng_uuid_new(/' "$T/src/base/uuid.c"
"$SRC/scripts/check-format.sh" "$T" >"$T/out" 2>&1
eq "one misformatted line: refused" 1 "$?"
eq "... naming the file" 1 "$(grep -c 'src/base/uuid.c' "$T/out")"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
