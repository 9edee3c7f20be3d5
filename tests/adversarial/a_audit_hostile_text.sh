#!/bin/bash
# Attack: forge or break kernel audit records with attacker-chosen text.
# An ordinary user (setuid binary) passes argv and a reason holding
# newlines, ESC, quotes, backslashes, '=', invalid UTF-8 and whole fake
# fields (' uuid=... res=success'); nsgate runs under a hostile host name
# (a UTS namespace); a command line of 1 MiB, and one byte more. Every
# record stays one line of printable ASCII with each field once, the
# values hex-encoded and decoding to the exact bytes, a cut value marked
# with NAME_len (whole bytes, never half a hex digit pair), each record far
# below the kernel's 8970 bytes; hostname= is '?' rather than the hostile
# name; ausearch parses them and verify --audit-log agrees.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/auditd_lib.sh"
. "$(dirname "$0")/adv_lib.sh"

auditd_require_free
setuid_install
SETHOST="$NSGATE_BUILD/tests/ng_sethostname"
hex() { printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n' | tr a-f A-F; }

cat >"$T/etc/policy.ini" <<POLICY
[defaults]
audit = required

[deny no-false]
users = *
targets = *
commands = /bin/false

[allow tester]
users = $ADV_USER, root
targets = *
namespaces = uts
run_as = caller
capabilities = none
POLICY
chmod 644 "$T/etc/policy.ini"
start_target --uts -- sleep 600
# Keys whose epoch does not turn during the test: no key record of ours is
# expected in the log (other suites' keygen records are not ours).
"$NSGATE" keygen --force --epoch 7d --keys "$NSGATE_KEYS" >"$T/root.key" 2>/dev/null
auditd_start

# 1. The user's hostile argv and reason.
A1=$(printf 'nl\nesc\033]0;t\a')
A2="q'\"\\ x=y\" uuid=00000000-0000-4000-8000-000000000000 res=success"
A3=$(printf 'bad\xff\xfe\xc2\x9b')
R="fake\" res=success uuid=1 op=x 'q' \\ ="
as_user "$B" enter -q --no-pty -t "$TPID" -u -r "$R" -- /bin/echo "$A1" "$A2" "$A3" \
    </dev/null >/dev/null 2>"$T/err"
eq "hostile argv and reason: the session ran" 0 "$?"
S1=$("$NSGATE" sessions --json | head -1 | jq -r .id)
# 2. A denied request with the same argv.
as_user "$B" enter -q --no-pty -t "$TPID" -u -- /bin/false "$A1" "$A2" </dev/null >/dev/null 2>&1
eq "denied hostile request: 77" 77 "$?"
# 3. nsgate under a hostile host name.
HOST=$(printf 'evil\nhost=x "y" res=success\033[2J%033d' 0) # 64 bytes, the kernel's limit
unshare --uts "$SETHOST" "$(hex "$HOST" | tr A-F a-f)" "$NSGATE" enter -q --no-pty -t "$TPID" -u \
    -- /bin/true </dev/null >/dev/null 2>&1
eq "a session under a hostile host name ran" 0 "$?"
S3=$("$NSGATE" sessions --json | head -1 | jq -r .id)
# 4. A command line of exactly 1 MiB (each argument and a NUL), then one
# byte more.
big=$(head -c 131071 /dev/zero | tr '\0' 'a')
last=$(head -c 131061 /dev/zero | tr '\0' 'b')
as_user "$B" enter -q --no-pty -t "$TPID" -u -- /bin/true "$big" "$big" "$big" "$big" "$big" \
    "$big" "$big" "$last" </dev/null >/dev/null 2>"$T/err"
eq "a 1 MiB command line: recorded and run" 0 "$?"
S4=$("$NSGATE" sessions --json | head -1 | jq -r .id)
eq "... stored whole" "1048576" \
    "$("$NSGATE" sessions --json | head -1 | jq '[.argv[] | length + 1] | add')"
as_user "$B" enter -q --no-pty -t "$TPID" -u -- /bin/true "$big" "$big" "$big" "$big" "$big" \
    "$big" "$big" "${last}b" </dev/null >/dev/null 2>"$T/err"
eq "one byte more: usage error" 64 "$?"
check "... saying the size and the limit" grep -qF "is 1048577 bytes" "$T/err"
check "... at most 1048576" grep -qF "at most 1048576 are recorded" "$T/err"
eq "... and nothing recorded" "$S4" "$("$NSGATE" sessions --json | head -1 | jq -r .id)"

audit_wait_for 1 "op=nsgate-session-close.*uuid=$S4" || echo "# the last close record did not arrive"
# The kernel's audit trail is the host's: nsgate processes of other test
# suites running now write into the private daemon's log too (all run as
# the same sealed copy, so exe= cannot tell them apart). This test's records
# are those naming its own sessions.
L="$T/own.log"
"$NSGATE" sessions --json | jq -r .id >"$T/ids"
grep -aF -f "$T/ids" "$AUDIT_LOG" >"$L"
check "the log holds this test's records" test -s "$L"
recs() { grep -aE "$1" "$L"; }
holds() { grep -qE -- "$2" <<<"$1"; } # TEXT ERE

# ---- the raw log --------------------------------------------------------------
check "every line of the log is one record (no injected newline)" \
    sh -c "! grep -avq '^type=' '$L'"
check "the log is printable ASCII (auditd's GS separator aside)" \
    sh -c "! LC_ALL=C grep -qaP '[^\\x20-\\x7e\\x1d]' '$L'"
for u in "$S1" "$S3" "$S4"; do
    for op in nsgate-authz nsgate-session-open nsgate-session-close; do
        line=$(recs "op=$op .*uuid=$u")
        eq "$op of $u: one record" 1 "$(printf '%s\n' "$line" | grep -c .)"
        for f in uuid res hostname acct exe; do
            eq "$op of $u: one $f= field" 1 "$(printf '%s' "$line" | grep -o " $f=" | wc -l)"
        done
        check "$op of $u: under 8970 bytes" test "${#line}" -lt 8970
    done
done
start1=$(recs "op=nsgate-session-open .*uuid=$S1")
eq "the hostile command, decoded from hex, is exact" \
    "$(hex "/bin/echo $A1 $A2 $A3")" "$(echo "$start1" | grep -o ' cmd=[0-9A-F]*' | cut -d= -f2)"
eq "the hostile reason, decoded from hex, is exact" \
    "$(hex "$R")" "$(echo "$start1" | grep -o ' reason=[0-9A-F]*' | cut -d= -f2)"
eq "the forged res= stays inside the hex: one res=" 1 "$(echo "$start1" | grep -o 'res=' | wc -l)"
deny=$(grep -aE "op=nsgate-authz .*rule=no-false" "$AUDIT_LOG")
check "the denied request is recorded as failed" holds "$deny" 'res=failed' 
eq "... with one res= field" 1 "$(echo "$deny" | grep -o 'res=' | wc -l)"
for op in nsgate-authz nsgate-session-open nsgate-session-close; do
    check "$op under the hostile host name: hostname=?" \
        sh -c "grep -a 'op=$op .*uuid=$S3' '$L' | grep -q ' hostname=? '"
done
big_start=$(recs "op=nsgate-session-open .*uuid=$S4")
cmd=$(echo "$big_start" | grep -o ' cmd=[0-9A-Fa-f".]*' | cut -d= -f2)
eq "the 1 MiB command: cut to 1024 bytes before encoding" 2048 "${#cmd}"
check "... whole bytes only" test $((${#cmd} % 2)) -eq 0
check "... ending in '...'" holds "$cmd" '2E2E2E$' 
eq "... and marked with its whole length" 1048575 \
    "$(echo "$big_start" | grep -o ' cmd_len=[0-9]*' | cut -d= -f2)"
check "... the record is under 8970 bytes" test "${#big_start}" -lt 8970

# ---- ausearch and verify read them --------------------------------------------
ausearch -if "$L" -m USER_START -i >"$T/aus" 2>/dev/null
check "ausearch parses the records" grep -q "uuid=$S1" "$T/aus"
"$NSGATE" verify --key "$T/root.key" --audit-log "$L" "$S1" "$S3" "$S4" >"$T/v" 2>/dev/null
rc=$?
eq "verify --audit-log agrees with the log" 0 "$rc"
[ "$rc" = 0 ] || cat "$T/v"
finish
