#!/bin/bash
# The audit trail of real sessions (audit.md) with a private auditd: every
# decision (allow and deny) and every session's start and end, with the
# operator's auid and the session uuid; hostile text arrives encoded;
# audit = required refuses before any setns without the trail, best-effort
# warns; verify --audit-log catches a rollback, a cut session, a session the
# log never saw start and a certificate without its key record.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/auditd_lib.sh"

auditd_require_free
enabled_before=$(audit_status_field enabled)
trap 'auditd_stop; auditctl -e "$enabled_before" >/dev/null 2>&1; cleanup' EXIT

cat >"$T/etc/req.ini" <<'POLICY'
[defaults]
audit = required
seal_interval = 500ms
[allow root-net]
users = root
targets = *
namespaces = net, uts
host_access = yes
POLICY
sed 's/^audit = required/audit = best-effort/' "$T/etc/req.ini" >"$T/etc/best.ini"
chmod 644 "$T/etc/req.ini" "$T/etc/best.ini"
start_target --net --uts --ipc -- sleep 600

# Runs nsgate as an operator whose login uid is 4242 (set once, as login does).
as_operator() { sh -c 'echo 4242 > /proc/self/loginuid && exec "$@"' sh "$@"; }

# --- with no daemon and with auditing disabled, required refuses first ---
auditctl -e 1 >/dev/null
ASAN_OPTIONS=detect_leaks=0 strace -f -qq -e trace=setns -o "$T/st1" "$NSGATE" enter -q --policy "$T/etc/req.ini" -t "$TPID" -n -- /bin/true 2>"$T/err"
eq "required, no audit daemon: 75" 75 "$?"
check "... with a clear message" grep -q "audit trail is unavailable" "$T/err"
check "... before any setns" sh -c "! grep -q 'setns(' '$T/st1'"
"$NSGATE" enter -q --policy "$T/etc/best.ini" -t "$TPID" -n -- /bin/true 2>"$T/err"
eq "best-effort, no audit daemon: proceeds" 0 "$?"
check "... with a warning" grep -q "warning: the audit trail is unavailable" "$T/err"

auditd_start
AUDIT_ENABLED_BEFORE=$enabled_before
auditctl -e 0 >/dev/null
ASAN_OPTIONS=detect_leaks=0 strace -f -qq -e trace=setns -o "$T/st2" "$NSGATE" enter -q --policy "$T/etc/req.ini" -t "$TPID" -n -- /bin/true 2>"$T/err"
eq "required, auditing disabled: 75" 75 "$?"
check "... before any setns" sh -c "! grep -q 'setns(' '$T/st2'"
"$NSGATE" enter -q --policy "$T/etc/best.ini" -t "$TPID" -n -- /bin/true 2>/dev/null
eq "best-effort, auditing disabled: proceeds" 0 "$?"
auditctl -e 1 >/dev/null

# --- an allowed session and a denied request, as operator 4242 ---
REASON="INC-7 it's \"quoted\" a=b res=failed uuid=00000000-0000-4000-8000-000000000000 ü"
as_operator "$NSGATE" enter -q --policy "$T/etc/req.ini" -t "$TPID" -n -u -r "$REASON" -- \
    /bin/sh -c 'echo "x=1 y=\"2\""' >/dev/null 2>&1
eq "allowed session under required: 0" 0 "$?"
S=$("$NSGATE" sessions --json | head -1 | jq -r .id)
as_operator "$NSGATE" enter -q --policy "$T/etc/req.ini" -t "$TPID" -i -- /bin/true 2>/dev/null
eq "denied request: 77" 77 "$?"
audit_wait_for 1 "op=nsgate-session-close.*uuid=$S"
ausearch -if "$AUDIT_LOG" -i >"$T/ai" 2>/dev/null
for ev in USER_ACCT USER_START USER_END; do
    check "$ev of the session with its uuid and the operator's auid" \
        grep -E "type=$ev .*auid=(unknown\()?4242.*uuid=$S" "$T/ai"
done
check "USER_ACCT attributes the session to auid 4242" sh -c "grep 'type=USER_ACCT' '$AUDIT_LOG' | grep '$S' | grep -q ' auid=4242 '"
check "the denied request is a failed USER_ACCT with rule -" \
    sh -c "grep 'type=USER_ACCT' '$T/ai' | grep 'nsgate_ns=ipc' | grep -q 'res=failed'"
check "USER_START carries the header hash" sh -c "grep 'type=USER_START' '$AUDIT_LOG' | grep '$S' | grep -qE 'hdr=[0-9a-f]{64}'"
line=$(grep 'type=USER_START' "$AUDIT_LOG" | grep "$S")
eq "the hostile reason cannot add a uuid field" 1 "$(echo "$line" | grep -o ' uuid=' | wc -l)"
eq "the hostile reason cannot add a res field" 1 "$(echo "$line" | grep -o ' res=' | wc -l)"
check "the reason is hex-encoded in the raw log" sh -c "echo '$line' | grep -qE 'reason=[0-9A-F]{20,}'"
check "the command (spaces, quotes, =) is hex-encoded in the raw log" sh -c "echo '$line' | grep -qE 'cmd=[0-9A-F]{20,} '"

# --- verify --audit-log cross-checks ---
"$NSGATE" verify --key "$T/root.key" --audit-log "$AUDIT_LOG" "$S" >"$T/v" 2>/dev/null
eq "the audited session and the audit log agree: 0" 0 "$?"
# (the best-effort session recorded while auditing was disabled is, rightly,
# unknown to the log: see below)
cp "$NSGATE_DB" "$T/rollback.db"          # a copy from before the next session
"$NSGATE" enter -q --policy "$T/etc/req.ini" -t "$TPID" -n -- /bin/sh -c 'echo newest' >/dev/null 2>&1
N=$("$NSGATE" sessions --json | head -1 | jq -r .id)
audit_wait_for 1 "op=nsgate-session-close.*uuid=$N"
"$NSGATE" verify --db "$T/rollback.db" --key "$T/root.key" >"$T/v" 2>/dev/null
check "rolled-back store without the log: no MISSING (nothing anchors it)" sh -c "! grep -q '^MISSING' '$T/v'"
"$NSGATE" verify --db "$T/rollback.db" --key "$T/root.key" --audit-log "$AUDIT_LOG" >"$T/v" 2>/dev/null
eq "rolled-back store with the log: exit 1" 1 "$?"
check "... the newest session is MISSING" grep -q "^MISSING $N" "$T/v"

# A session cut short by someone who also removed the seals and the ledger
# entries that covered the cut part: the store alone looks merely
# INCOMPLETE; the audit log's USER_END (sequence number and head) catches it.
cp "$NSGATE_DB" "$T/cut.db"
sqlite3 "$T/cut.db" <<SQL
CREATE TEMP TABLE victim AS SELECT session AS id FROM events WHERE kind='o' AND CAST(data AS TEXT) = 'newest' || char(10);
CREATE TEMP TABLE cutseq AS SELECT max(seq) AS s FROM events WHERE session = (SELECT id FROM victim);
DELETE FROM events WHERE session = (SELECT id FROM victim) AND seq = (SELECT s FROM cutseq);
DELETE FROM seals WHERE session = (SELECT id FROM victim) AND seq >= (SELECT s FROM cutseq);
CREATE TEMP TABLE cutledger AS SELECT min(seq) AS l FROM ledger WHERE session = (SELECT id FROM victim) AND kind = 'end';
DELETE FROM seals WHERE session = zeroblob(16) AND seq >= (SELECT l FROM cutledger);
DELETE FROM ledger WHERE seq >= (SELECT l FROM cutledger);
SQL
"$NSGATE" verify --db "$T/cut.db" --key "$T/root.key" "$N" >"$T/v" 2>/dev/null
check "the cut session alone looks INCOMPLETE (never OK)" grep -q "^INCOMPLETE $N" "$T/v"
"$NSGATE" verify --db "$T/cut.db" --key "$T/root.key" --audit-log "$AUDIT_LOG" "$N" >"$T/v" 2>/dev/null
eq "with the audit log: exit 1" 1 "$?"
check "... the session cut below what USER_END logged is TAMPERED" grep -q "^TAMPERED $N" "$T/v"

# A session the log never saw start: recorded while the daemon was down.
auditd_stop
auditctl -e 1 >/dev/null
"$NSGATE" enter -q --policy "$T/etc/best.ini" -t "$TPID" -n -- /bin/true >/dev/null 2>&1
F=$("$NSGATE" sessions --json | head -1 | jq -r .id)
auditd_start
AUDIT_ENABLED_BEFORE=$enabled_before
auditctl -e 1 >/dev/null
"$NSGATE" enter -q --policy "$T/etc/req.ini" -t "$TPID" -n -- /bin/true >/dev/null 2>&1
L=$("$NSGATE" sessions --json | head -1 | jq -r .id)
audit_wait_for 1 "op=nsgate-session-close.*uuid=$L"
"$NSGATE" verify --key "$T/root.key" --audit-log "$AUDIT_LOG" >"$T/v" 2>/dev/null
eq "a session unknown to the audit log: exit 1" 1 "$?"
check "... reported as TAMPERED, unknown to the audit log" grep -q "^TAMPERED $F.*unknown to audit log" "$T/v"

# A certificate without its CRYPTO_KEY_USER record: fresh keys made while the
# daemon runs (their create record is logged), a session sealed with them,
# then that record removed from a copy of the log.
"$NSGATE" keygen --keys "$T/var/keys2" >"$T/root2.key" 2>/dev/null
"$NSGATE" enter -q --policy "$T/etc/req.ini" --db "$T/var/s2.db" --keys "$T/var/keys2" \
    -t "$TPID" -n -- /bin/true >/dev/null 2>&1
audit_wait_for 1 "op=create.*fp=$(cat "$T/root2.key")"
sleep 2 # the log must reach past the certificate's second (catch-up tolerance)
"$NSGATE" enter -q --policy "$T/etc/req.ini" -t "$TPID" -n -- /bin/true >/dev/null 2>&1
# ... and it does only once that session's records are in it (a busy
# daemon writes them late; the verdict needs them)
P=$("$NSGATE" sessions --json | head -1 | jq -r .id)
audit_wait_for 1 "op=nsgate-session-close.*uuid=$P"
"$NSGATE" verify --db "$T/var/s2.db" --key "$T/root2.key" --audit-log "$AUDIT_LOG" >"$T/v" 2>&1
check "fresh keys with their record in the log: no key complaint" sh -c "! grep -q 'no key record' '$T/v'"
grep -v "fp=$(cat "$T/root2.key")" "$AUDIT_LOG" >"$T/nokey.log"
"$NSGATE" verify --db "$T/var/s2.db" --key "$T/root2.key" --audit-log "$T/nokey.log" >"$T/v" 2>&1
eq "a certificate without its CRYPTO_KEY_USER record: exit 1" 1 "$?"
check "... reported: the certificate has no key record" grep -q "^LEDGER TAMPERED.*certificate of epoch 0 has no key record" "$T/v"
# The audit daemon killed mid-session: under required the session ends at
# the next seal with 75 (reason audit-lost, recorded); best-effort goes on.
"$NSGATE" enter -q --policy "$T/etc/req.ini" -t "$TPID" -n -- /bin/sleep 20 >/dev/null 2>"$T/err" &
runner=$!
sleep 1.5
auditd_stop
auditctl -e 1 >/dev/null
start=$(date +%s)
wait "$runner"
eq "required, audit daemon killed mid-session: 75" 75 "$?"
check "... promptly" [ $(($(date +%s) - start)) -le 5 ]
check "... the operator is told" grep -q "audit trail lost" "$T/err"
got=$(sqlite3 "$NSGATE_DB" "select cast(data as text) from events where kind='x' and session=(select id from sessions order by start_ns desc limit 1)")
check "... and the end reason is recorded" sh -c "echo '$got' | grep -q audit-lost"
auditd_start
AUDIT_ENABLED_BEFORE=$enabled_before
auditctl -e 1 >/dev/null
"$NSGATE" enter -q --policy "$T/etc/best.ini" -t "$TPID" -n -- /bin/sleep 3 >/dev/null 2>&1 &
runner=$!
sleep 1
auditd_stop
wait "$runner"
eq "best-effort, audit daemon killed mid-session: the session goes on (0)" 0 "$?"
finish
