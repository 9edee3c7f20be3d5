#!/bin/bash
# The recorder under audit = required (the attack: see a_parent_privs.sh).
# With a private audit daemon the recorder keeps CAP_KILL, CAP_AUDIT_WRITE
# (its records), CAP_AUDIT_CONTROL (the AUDIT_GET re-check of the trail
# at every seal) and CAP_SYS_PTRACE (the command recorder, record_commands
# on by default) and nothing else, under its filter; the re-checks keep
# working after the drop (without CAP_AUDIT_CONTROL the first seal would
# end the session with 75): a session of several seal intervals ends 0 and
# its records reach the trail; a session across an epoch change completes
# with its checkpoint and key records, nothing refused.
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
# CAP_KILL (5), CAP_SYS_PTRACE (19), CAP_AUDIT_WRITE (29), CAP_AUDIT_CONTROL (30)
want=$(printf '%016x' $(((1 << 5) | (1 << 19) | (1 << 29) | (1 << 30))))
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

# An epoch change in the middle of a session: the recorder, already confined,
# makes the next key (getrandom), appends its certificate (pwrite, fsync),
# checkpoints the session in the ledger and the trail (TRUSTED_APP,
# CRYPTO_KEY_USER); nothing of it is refused.
export NSGATE_DB="$T/var/e.db" NSGATE_KEYS="$T/var/ekeys"
"$NSGATE" keygen --epoch 10s >"$T/eroot.key" 2>/dev/null
"$NSGATE" enter -q -t "$TPID" -n -- /bin/sleep 11 >/dev/null 2>"$T/err"
eq "a session across an epoch change ends 0" 0 "$?"
E=$("$NSGATE" sessions --json | head -1 | jq -r .id)
eq "... checkpointed in the ledger" 1 \
    "$(sqlite3 "$NSGATE_DB" "select count(*) from ledger where kind = 'checkpoint'")"
check "... and in the trail" audit_wait_for 1 "op=nsgate-checkpoint uuid=$E .*epoch=1"
check "... the new key's record" audit_wait_for 1 "op=create kind=nsgate-seal .*epoch=1"
eq "... no system call refused" 0 \
    "$(sqlite3 "$NSGATE_DB" "select count(*) from events where kind = 'm' and cast(data as text) like 'recorder: seccomp%'")"
check "... no refusal reported" sh -c "! grep -q 'refused' '$T/err'"
"$NSGATE" verify --key "$T/eroot.key" >/dev/null 2>&1
eq "... verify: 0" 0 "$?"
finish
