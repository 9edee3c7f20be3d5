#!/bin/bash
# valgrind (testing.md "Sanitizers, fuzzing, leaks"): the readers of a
# recorded session — sessions, replay, verify, export, check — leak-free and
# error-free under memcheck, and the recorder's store and sealer code through
# their unit tests. (enter itself re-executes from a sealed memfd copy whose
# identity check cannot pass under valgrind, which reports its own binary as
# /proc/self/exe; the recording path runs under ASan/LSan in the sanitizer
# build instead.)
. "$(dirname "$0")/lib.sh"

if [ "${NSGATE_SANITIZE:-OFF}" = "ON" ]; then
    echo "SKIP: valgrind runs on the normal build; this build has ASan/LSan"
    exit 0
fi
VG="valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99"

start_target --pid --mount-proc --net -- sleep 600
printf 'a\0b\377\n' | "$NSGATE" enter -q -t "$TPID" -n -- /bin/sh -c 'cat; echo done; echo err >&2' >/dev/null 2>&1
S=$("$NSGATE" sessions --json | head -1 | jq -r .id)

run_vg() { # DESCRIPTION, then the command
    local d=$1; shift
    $VG "$@" >"$T/vg.out" 2>"$T/vg.err"
    local rc=$?
    if [ "$rc" -eq 99 ]; then not_ok "$d: valgrind errors"; head -30 "$T/vg.err"; else ok "$d (exit $rc)"; fi
}
run_vg "sessions --json" "$NSGATE" sessions --json
run_vg "replay --raw" "$NSGATE" replay --key "$T/root.key" --raw --no-timing "$S"
run_vg "verify" "$NSGATE" verify --key "$T/root.key"
run_vg "export asciicast" "$NSGATE" export --key "$T/root.key" "$S"
run_vg "export jsonl" "$NSGATE" export --key "$T/root.key" -f jsonl "$S"
run_vg "export html" "$NSGATE" export --key "$T/root.key" -f html -o "$T/page.html" "$S"
run_vg "check (hypothetical target; valgrind 3.19 lacks pidfd_open)" "$NSGATE" check --attr comm=x -n
for t in test_store test_sealer test_verify test_chain test_policy_parse; do
    [ -x "$NSGATE_BUILD/tests/$t" ] || continue
    run_vg "unit $t" "$NSGATE_BUILD/tests/$t"
done
finish
