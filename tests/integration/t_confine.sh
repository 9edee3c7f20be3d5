#!/bin/bash
# The target's confinement (policy.md confinement, docs/security.md): real
# targets made with unshare under seccomp filters of their own (the static
# helper ng_sysc). The program must get exactly the target's filter stack
# (same answers to the filtered syscalls, same Seccomp and Seccomp_filters),
# the target's no_new_privs and bounding set, no capability held for the
# filter's sake, and the header must say what was applied; a target whose
# filter cannot be copied (strict mode, traced) is refused, never entered
# unconfined; confinement = none says so in the header and in check.
. "$(dirname "$0")/lib.sh"
cp "$NSGATE_BUILD/tests/ng_sysc" "$T/ng_sysc"
chmod 755 "$T/ng_sysc"
S="$T/ng_sysc"
status() { grep -E '^(CapPrm|CapEff|CapBnd|NoNewPrivs|Seccomp|Seccomp_filters):' "$1"; }
sq() { python3 -c "import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); r=d.execute(sys.argv[2]).fetchone(); print('|'.join('' if v is None else (v.hex() if isinstance(v,bytes) else str(v)) for v in r))" "$NSGATE_DB" "$1"; }
last() { sq "select $1 from sessions order by rowid desc limit 1"; }

cat >"$T/etc/policy.ini" <<'POLICY'
[defaults]
audit = best-effort

[allow confined]
users = root
targets = comm:sleep
namespaces = all
host_access = yes
no_new_privs = no

[allow nobody]
users = root
targets = comm:probe
namespaces = all
run_as = 65534
capabilities = none
no_new_privs = no

[allow unconfined]
users = root
targets = pid:*
namespaces = all
host_access = yes
no_new_privs = no
confinement = none
POLICY
enter() { "$NSGATE" enter -q -t "$TPID" -a --no-pty "$@"; }

# One filter: getcpu answered EPERM.
start_target --pid --mount-proc --uts --ipc -- "$S" filter getcpu 1 -- sleep 600
A=$TPID
want=$("$S" filter getcpu 1 -- "$S" call getcpu keyctl)
got=$(enter -- "$S" call getcpu keyctl 2>"$T/err")
eq "the target's filter: the filtered syscall answers as in the target" "$want" "$got"
eq "... (and it is filtered: EPERM)" "getcpu: EPERM" "$(echo "$got" | head -1)"
got=$(enter -- /bin/cat /proc/self/status 2>>"$T/err" | grep -E '^(Seccomp|Seccomp_filters|NoNewPrivs):')
# (and the command filter under it: record_commands is on by default)
eq "Seccomp 2, one filter (and the command filter), no_new_privs as the policy (no)" \
    "$(printf 'NoNewPrivs:\t0\nSeccomp:\t2\nSeccomp_filters:\t2')" "$got"
eq "header: confinement target, 1 filter, no LSM label" "target|1||" \
    "$(last "confinement, seccomp_filters, lsm, lsm_label")"
H1=$(last seccomp_hash)
check "header: the filters' hash (32 bytes)" test "${#H1}" -eq 64
enter -- /bin/true 2>>"$T/err"
eq "the same target: the same hash" "$H1" "$(last seccomp_hash)"
"$NSGATE" check -t "$A" -a -- /bin/true >"$T/check" 2>&1
check "check: confinement target, and what the target has" \
    grep -q "^confinement: target (.*the target has 1 seccomp filter, LSM label none" "$T/check"

# Two stacked filters, both answering getcpu: the newest wins (EACCES), in
# the copy as in the target, so the order is kept.
start_target --pid --mount-proc -- "$S" filter getcpu 1 -- "$S" filter getcpu 13 -- sleep 600
B=$TPID
got=$(enter -- "$S" call getcpu 2>>"$T/err")
eq "two filters: the newest answers, as in the target" "getcpu: EACCES" "$got"
eq "... Seccomp_filters 2 (and the command filter)" "$(printf 'Seccomp_filters:\t3')" \
    "$(enter -- /bin/grep ^Seccomp_filters /proc/self/status 2>>"$T/err")"
eq "... recorded: 2 filters" 2 "$(last seccomp_filters)"
check "... another hash" test "$(last seccomp_hash)" != "$H1"

# The target's no_new_privs is kept even where the policy says no.
start_target --pid --mount-proc -- "$S" filter -n getcpu 1 -- sleep 600
eq "a target with no_new_privs: the program has it too" "$(printf 'NoNewPrivs:\t1')" \
    "$(enter -- /bin/grep ^NoNewPrivs /proc/self/status 2>>"$T/err")"

# The bounding set: nothing outside the target's (capabilities = target and
# keep alike), as the container's own root.
start_target --pid --mount-proc -- setpriv --bounding-set -net_raw,-sys_admin -- sleep 600
bnd=$(awk '/^CapBnd/ {print $2}' /proc/$TPID/status)
eq "the target's bounding set" "$(printf 'CapBnd:\t%s' "$bnd")" \
    "$(enter -- /bin/grep ^CapBnd /proc/self/status 2>>"$T/err")"

# run_as 65534, capabilities none, no no_new_privs: CAP_SYS_ADMIN installs
# the filter and execve drops it; nothing of it reaches the program.
cp /bin/sleep "$T/probe" # comm "probe": the rule [allow nobody]
start_target --pid --mount-proc -- "$S" filter getcpu 1 -- "$T/probe" 600
got=$(enter -- /bin/cat /proc/self/status 2>>"$T/err" | grep -E '^(Uid|CapInh|CapPrm|CapEff|CapAmb|NoNewPrivs|Seccomp):')
eq "run_as 65534 without no_new_privs: no capability left, the filter on" \
    "$(printf 'Uid:\t65534\t65534\t65534\t65534\nCapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t2')" "$got"
eq "... and the filter answers" "getcpu: EPERM" "$(enter -- "$S" call getcpu 2>>"$T/err")"

# confinement = none: a rule says it; the header and check say it.
TPID=$A
sed -i 's/^targets = comm:sleep$/targets = comm:nomatch/' "$T/etc/policy.ini"
got=$(enter -- "$S" call getcpu 2>>"$T/err")
eq "confinement = none: the program is not filtered" "getcpu: ok" "$got"
eq "... only the command filter (record_commands is on)" "$(printf 'Seccomp_filters:\t1')" \
    "$(enter -- /bin/grep '^Seccomp_filters:' /proc/self/status 2>>"$T/err")"
eq "... the header says none, no filter, no label" "none|||" \
    "$(last "confinement, seccomp_filters, seccomp_hash, lsm")"
"$NSGATE" check -t "$A" -a -- /bin/true >"$T/check" 2>&1
check "... check says none" grep -q "^confinement: none (the program gets neither" "$T/check"
"$NSGATE" check -t "$A" -a --json -- /bin/true >"$T/check" 2>&1
check "... and so does check --json" grep -q '"confinement":"none"' "$T/check"
sed -i 's/^targets = comm:nomatch$/targets = comm:sleep/' "$T/etc/policy.ini"

# A filter that cannot be copied refuses the session; nothing is entered or
# recorded, never an unconfined program.
n0=$(sq "select count(*) from sessions")
mkdir "$T/s" && cp "$S" "$T/s/probe" # comm "probe" again
start_target --pid --mount-proc -- "$T/s/probe" strict
enter -- /bin/true >/dev/null 2>"$T/err2"
eq "a target in seccomp strict mode: refused, 69" 69 "$?"
check "... saying so" grep -q "seccomp strict mode" "$T/err2"
"$NSGATE" check -t "$TPID" -a -- /bin/true >"$T/check" 2>&1
check "... check says entry would be refused" grep -q "^confinement: target; entry would be refused: the target runs in seccomp strict mode" "$T/check"
TPID=$A
"$S" trace "$A" >"$T/trace" 2>&1 &
TRACER=$!
for _ in $(seq 1 100); do grep -q tracing "$T/trace" && break; sleep 0.02; done
enter -- /bin/true >/dev/null 2>"$T/err3"
eq "a target being traced: refused, 69" 69 "$?"
check "... saying it is traced and its filter cannot be copied" grep -q "being traced.*cannot be copied" "$T/err3"
eq "... nothing was recorded" "$n0" "$(sq "select count(*) from sessions")"
kill -KILL "$TRACER"
wait "$TRACER" 2>/dev/null
eq "the tracer gone: entered, filtered" "getcpu: EPERM" "$(enter -- "$S" call getcpu 2>>"$T/err")"

# The time the target is held while its filter is copied: measured, bounded.
"$NSGATE_BUILD/tests/ng_confine_hold" "$A" 100 >"$T/hold" 2>&1
check "100 copies of the filter" grep -q '^summary n=100' "$T/hold"
max=$(sed -n 's/^summary .* max=\([0-9.]*\) .*/\1/p' "$T/hold")
check "the longest hold is under the 100 ms bound ($(tail -1 "$T/hold"))" \
    awk -v m="$max" 'BEGIN { exit !(m < 100000) }'
check "the copy's hash is the recorded one" grep -q "^filters 1 hash $H1\$" "$T/hold"
[ "$FAIL" -eq 0 ] || cat "$T/err" "$T/err2" "$T/err3"
finish
