#!/bin/bash
# The recorder under audit = required (the attack: see a_parent_privs.sh).
# With a private audit daemon the recorder keeps CAP_KILL, CAP_AUDIT_WRITE
# (its records) and CAP_AUDIT_CONTROL (the AUDIT_GET re-check of the trail
# at every seal) and nothing else, under its filter; the re-checks keep
# working after the drop (without CAP_AUDIT_CONTROL the first seal would
# end the session with 75): a session of several seal intervals ends 0 and
# its records reach the trail.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/auditd_lib.sh"

field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null; }
MARK="$T/ran"
cat >"$T/etc/policy.ini" <<'POLICY'
[defaults]
audit = required
seal_interval = 300ms

[allow root-net]
users = root
targets = *
namespaces = net
host_access = yes
join_cgroup = no
POLICY
start_target --net -- sleep 600
auditd_start

"$NSGATE" enter -q -t "$TPID" -n -- /bin/sh -c "touch $MARK; sleep 2" >/dev/null 2>"$T/err" &
P0=$!
for _ in $(seq 1 250); do [ -e "$MARK" ] && break; sleep 0.02; done
check "the program runs" test -e "$MARK"
# CAP_KILL (5), CAP_AUDIT_WRITE (29), CAP_AUDIT_CONTROL (30)
want=$(printf '%016x' $(((1 << 5) | (1 << 29) | (1 << 30))))
for f in CapEff CapPrm CapBnd; do eq "required: $f" "$want" "$(field "$P0" "$f")"; done
eq "required: CapInh" 0000000000000000 "$(field "$P0" CapInh)"
eq "required: CapAmb" 0000000000000000 "$(field "$P0" CapAmb)"
eq "required: NoNewPrivs" 1 "$(field "$P0" NoNewPrivs)"
eq "required: Seccomp" 2 "$(field "$P0" Seccomp)"
wait "$P0"
eq "a session of several seal intervals, re-checked each time, ends 0" 0 "$?"
S=$("$NSGATE" sessions --json | head -1 | jq -r .id)
check "... its end reached the audit trail" audit_wait_for 1 "op=nsgate-session-close.*uuid=$S"
check "... after its start" audit_wait_for 1 "type=USER_START.*uuid=$S"
finish
