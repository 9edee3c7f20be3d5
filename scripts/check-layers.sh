#!/bin/bash
# The layers the build enforces (docs/architecture.md "Layers"): every file
# of src/LAYER/ and every public header of LAYER may include only headers of
# LAYER itself and of the layers that src/CMakeLists.txt's ng_layer(LAYER
# DEPS...) names; a private header (*_int.h) only from its own folder, by
# bare name. Usage: scripts/check-layers.sh [ROOT]. Exit 1 on a violation.
set -u
ROOT=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$ROOT" || exit 2
declare -A ALLOW LAYER_OF
# Public headers with no .c of their name: which layer owns them.
LAYER_OF[be]=base LAYER_OF[caller]=base LAYER_OF[exitcode]=base LAYER_OF[sysnr]=base

while read -r name deps; do
    ALLOW[$name]="$name $deps"
done < <(sed -n 's/^ng_layer(\([a-z_]*\)\(.*\))$/\1\2/p' src/CMakeLists.txt)
[ ${#ALLOW[@]} -gt 0 ] || { echo "check-layers: no ng_layer() lines in src/CMakeLists.txt"; exit 2; }

bad=0
fail() { echo "check-layers: $*"; bad=1; }

for h in include/nsgate/*.h; do
    b=$(basename "$h" .h)
    [ -n "${LAYER_OF[$b]:-}" ] && continue
    owner=$(ls src/*/"$b".c src/*/"$b"_*.c 2>/dev/null | head -1)
    if [ -n "$owner" ]; then
        LAYER_OF[$b]=$(basename "$(dirname "$owner")")
    else
        fail "$h belongs to no layer (no src/*/$b.c; add it to LAYER_OF)"
    fi
done
for f in src/*.c src/*.h; do
    [ -e "$f" ] && fail "$f: every source file lives in a layer folder"
done

# check FILE LAYER: its includes against LAYER's allowed layers.
check() {
    local f=$1 layer=$2 inc hb l
    while read -r inc; do
        case "$inc" in
        nsgate/*.h)
            hb=$(basename "$inc" .h)
            l=${LAYER_OF[$hb]:-}
            if [ -z "$l" ]; then
                fail "$f includes $inc, which is no public header"
            elif [[ " ${ALLOW[$layer]} " != *" $l "* ]]; then
                fail "$f ($layer) includes $inc of layer $l, which $layer may not use"
            fi
            ;;
        */*) fail "$f includes $inc: reach into another folder" ;;
        *)
            [ -e "src/$layer/$inc" ] || [ "${f#include/}" != "$f" ] ||
                fail "$f includes $inc, which is not in src/$layer/"
            [ "${f#include/}" = "$f" ] || fail "$f (public) includes a private header $inc"
            ;;
        esac
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
}

for d in src/*/; do
    layer=$(basename "$d")
    [ -n "${ALLOW[$layer]:-}" ] || { fail "src/$layer has no ng_layer() in src/CMakeLists.txt"; continue; }
    for f in "$d"*.c "$d"*.h; do
        [ -e "$f" ] && check "$f" "$layer"
    done
done
for h in include/nsgate/*.h; do
    l=${LAYER_OF[$(basename "$h" .h)]:-}
    [ -n "$l" ] && check "$h" "$l"
done
[ $bad -eq 0 ] && echo "check-layers: OK (${#ALLOW[@]} layers)"
exit $bad
