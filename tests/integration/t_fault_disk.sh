#!/bin/bash
# Faults: the disk fills up at random points (a small tmpfs of a random
# size), ten times (the output is random hex, which even compressed fills
# it). Every session ends with 74 (or completes), the store
# always opens, verify never crashes, and a cut session is either INCOMPLETE
# or sealed with its end reason "record-failure" (its x event written in
# the space the failed batch left) — never OK while claiming a normal end.
. "$(dirname "$0")/lib.sh"

printf '[defaults]\naudit = best-effort\nmin_free = 16K\nseal_interval = 100ms\n[allow r]\nusers = root\ntargets = *\nnamespaces = all\nhost_access = yes\n' >"$T/etc/disk.ini"
chmod 644 "$T/etc/disk.ini"
start_target --pid --mount-proc --net -- sleep 600
mkdir -p "$T/small"
bad=0 crashed=0 ok_cut=0 n74=0
for i in $(seq 1 10); do
    size=$((300 + RANDOM % 1700))
    mount -t tmpfs -o "size=${size}k,mode=700" tmpfs "$T/small"
    # a fresh key dir beside the store, so the keys themselves are not the first write
    "$NSGATE" enter -q --policy "$T/etc/disk.ini" --db "$T/small/s.db" -t "$TPID" -n -- \
        /bin/sh -c 'i=0; while [ $i -lt 400 ]; do echo "disk-line-$i"; i=$((i+1)); done
            od -An -tx1 -v /dev/urandom | head -c 4000000' >/dev/null 2>"$T/err"
    rc=$?
    case $rc in 0) ;; 74) n74=$((n74 + 1)) ;; *) bad=$((bad + 1)); echo "# run $i (${size}k): exit $rc"; cat "$T/err" ;; esac
    "$NSGATE" sessions --db "$T/small/s.db" --json >/dev/null 2>&1 || crashed=$((crashed + 1))
    "$NSGATE" verify --db "$T/small/s.db" --key "$T/root.key" >"$T/v" 2>/dev/null
    vrc=$?
    [ "$vrc" -le 2 ] || crashed=$((crashed + 1))
    # The end reason, read-only (a read-write open of a full filesystem can
    # fail, which must not look like a missing reason).
    xend=$(sqlite3 -readonly "$T/small/s.db" "select cast(data as text) from events where kind='x'" 2>&1)
    if [ "$rc" -eq 74 ] && grep -q '^OK ' "$T/v" && ! printf '%s' "$xend" | grep -q record-failure; then
        ok_cut=$((ok_cut + 1))
        echo "# run $i (${size}k): exit 74 but verify OK; end event: $xend"
        cat "$T/v" "$T/err"
    fi
    umount "$T/small"
done
echo "# $n74 of 10 runs hit the full disk"
eq "every run ended with 0 or 74" 0 "$bad"
eq "the store always opened and verify never crashed" 0 "$crashed"
eq "no session cut by a full disk verified OK as if it had ended normally" 0 "$ok_cut"
check "the full disk was hit at least once" [ "$n74" -ge 1 ]
finish
