#!/bin/bash
# The layers the build enforces: the real tree passes scripts/check-layers.sh,
# and a copy with one forbidden include (the policy layer including a store
# header, verify reaching into the store's private header, a .c directly in
# src/) fails it.
set -u
SRC=${NSGATE_SRC:?}
T=$(mktemp -d /tmp/nsgate-layers.XXXXXX)
trap 'rm -rf "$T"' EXIT
PASS=0 FAIL=0
eq() { if [ "$2" = "$3" ]; then PASS=$((PASS + 1)); echo "ok - $1"; else FAIL=$((FAIL + 1)); echo "not ok - $1 (want $2, got $3)"; fi; }

"$SRC/scripts/check-layers.sh" "$SRC" >/dev/null
eq "the real tree keeps its layers" 0 "$?"
attempt() { # DESCRIPTION, then a shell command run in the copy
    local d=$1
    rm -rf "$T/c" && mkdir "$T/c" && cp -r "$SRC/src" "$SRC/include" "$T/c/"
    (cd "$T/c" && eval "$2")
    "$SRC/scripts/check-layers.sh" "$T/c" >"$T/out" 2>&1
    eq "$d: refused" 1 "$?"
}
attempt "src/policy including a store header" "sed -i '1i #include \"nsgate/store.h\"' src/policy/policy_parse.c"
attempt "a public policy header including a record header" "sed -i '1i #include \"nsgate/recorder.h\"' include/nsgate/policy.h"
attempt "verify reaching into the store's private header" "sed -i '1i #include \"../store/store_int.h\"' src/verify/verify.c"
attempt "a private header of another layer by bare name" "sed -i '1i #include \"policy_int.h\"' src/entry/enter.c"
attempt "a .c directly in src/" "echo 'int x;' >src/stray.c"
attempt "the readers' export layer including the entry engine" "sed -i '1i #include \"nsgate/enter.h\"' src/export/export.c"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
