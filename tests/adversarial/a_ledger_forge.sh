#!/bin/bash
# A later root with the store and the key directory (so only the current
# epoch's secret) deletes a session from the middle of the store, rebuilds
# the ledger after it (renumbered, re-chained, new times) and seals it with
# the current epoch's key (x_ledger_forge, nsgate's own hashing and sealing
# code). verify must not say OK: TAMPERED, MISSING or a late seal, exit 1,
# with and without --audit-log. Also: reordering two entries, re-timing,
# renumbering with the old times, a mere re-seal, and an epoch length
# changed by one nanosecond (in the store, and in the key directory).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/adv_lib.sh"

FORGE="$NSGATE_BUILD/tests/x_ledger_forge"
export NSGATE_DB

# 10-second epochs; one session per epoch, the attack two epochs later.
"$NSGATE" keygen --keys "$NSGATE_KEYS" --force --epoch 10s >"$T/root.key" 2>/dev/null ||
    { echo "keygen failed"; exit 1; }
start_target --pid --mount-proc --net -- sleep 600
ids=()
for name in alice bob carol; do
    "$NSGATE" enter -q -t "$TPID" -n -- /bin/sh -c "echo session-$name" >/dev/null 2>&1 ||
        { echo "enter failed"; exit 1; }
    ids+=("$("$NSGATE" sessions --json 2>/dev/null | head -1 | jq -r .id)")
    sleep 10.5 # the next session, and the attack, in a later epoch
done
BOB=${ids[1]}
: >"$T/empty.log"

"$NSGATE" verify --key "$T/root.key" >"$T/v" 2>/dev/null
eq "the honest store verifies (exit 0)" 0 "$?"
eq "three sessions OK, the ledger OK" 4 "$(grep -c '^OK \|^LEDGER OK' "$T/v")"
"$NSGATE" verify --key "$T/root.key" --audit-log "$T/empty.log" >/dev/null 2>&1
eq "the honest store verifies with an audit log that names none of it" 0 "$?"

# forge MODE: on a copy of the store; sets V (verify's output) and RC.
forge() {
    sqlite3 "$NSGATE_DB" ".backup '$T/f.db'" || exit 1
    "$FORGE" "$1" "$T/f.db" "$NSGATE_KEYS" "$BOB" >"$T/forge.out" 2>&1 ||
        { cat "$T/forge.out"; not_ok "$1: the forgery could not be written"; return 1; }
    "$NSGATE" verify --db "$T/f.db" --key "$T/root.key" "${@:2}" >"$T/v" 2>/dev/null
    RC=$?
    V=$(cat "$T/v")
    echo "# $1 ${*:2}: exit $RC"
    sed 's/^/#   /' "$T/v"
}
reported() { # the verdict names the forgery: never all OK
    grep -q 'TAMPERED\|MISSING\|late seal' "$T/v"
}

forge delete
eq "delete bob + rebuilt ledger + current-key seal: exit 1" 1 "$RC"
check "delete: reported as TAMPERED, MISSING or a late seal" reported
check "delete: the ledger line is not OK" sh -c "! grep -q '^LEDGER OK' '$T/v'"
sid=$(sqlite3 "$T/f.db" "select count(*) from sessions")
eq "delete: bob's session really is gone from the copy" 2 "$sid"
forge delete --audit-log "$T/empty.log"
eq "delete, with --audit-log: exit 1" 1 "$RC"
check "delete, with --audit-log: reported" reported

forge renumber
eq "delete bob + renumbered ledger keeping the old times: exit 1" 1 "$RC"
check "renumber: reported" reported
forge reorder
eq "two ledger entries swapped, re-sealed: exit 1" 1 "$RC"
check "reorder: reported" reported
forge reorder --audit-log "$T/empty.log"
eq "reorder, with --audit-log: exit 1" 1 "$RC"
forge retime
eq "ledger entries re-timed, re-sealed: exit 1" 1 "$RC"
check "retime: reported" reported
forge retime --audit-log "$T/empty.log"
eq "retime, with --audit-log: exit 1" 1 "$RC"
forge reseal
eq "the ledger merely re-sealed with the current key: exit 1" 1 "$RC"
check "reseal: reported as a late seal" grep -q 'late seal' "$T/v"

# The epoch length, one nanosecond more: in the store ...
sqlite3 "$NSGATE_DB" ".backup '$T/l.db'" || exit 1
sqlite3 "$T/l.db" "update roots set epoch_len_ns = epoch_len_ns + 1" || exit 1
"$NSGATE" verify --db "$T/l.db" --key "$T/root.key" >"$T/v" 2>/dev/null
eq "roots.epoch_len_ns + 1 ns: exit 1" 1 "$?"
check "epoch length + 1 ns: the ledger line names the epoch length" \
    grep -q '^LEDGER TAMPERED.*epoch length' "$T/v"
# ... and in the key directory's certs header (a copy): refused when read.
cp -a "$NSGATE_KEYS" "$T/keys2"
"$FORGE" certs-len "$T/keys2" 1 || exit 1
"$NSGATE" verify --keys "$T/keys2" >/dev/null 2>"$T/e"
check "certs header epoch length + 1 ns: verify --keys refuses it" [ "$?" -ne 0 ]
"$NSGATE" enter -q --keys "$T/keys2" -t "$TPID" -n -- /bin/true >/dev/null 2>&1
check "certs header epoch length + 1 ns: no session is recorded with those keys" [ "$?" -ne 0 ]
finish
