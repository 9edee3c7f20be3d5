#!/bin/bash
# Audit events against a private real auditd: each event arrives with its
# type, fields and the caller's auid; hostile values arrive encoded; the
# reader finds them; ng_audit_check refuses with audit disabled and with
# no daemon, and the kernel's state is put back afterwards.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/auditd_lib.sh"

EMIT="$NSGATE_BUILD/tests/ng_audit_emit"
[ -x "$EMIT" ] || { echo "missing $EMIT"; exit 1; }
auditd_require_free
enabled_before=$(audit_status_field enabled)

U=$(cat /proc/sys/kernel/random/uuid)
H1=$(printf hdr | sha256sum | cut -c1-64)
H2=$(printf head2 | sha256sum | cut -c1-64)
H3=$(printf head3 | sha256sum | cut -c1-64)
FP=$(printf fp | sha256sum | cut -c1-64)
FORGED=00000000-0000-4000-8000-000000000000
EVIL="x' res=success uuid=$FORGED"

# Enabled, but no daemon: the daemon check must be what refuses.
auditctl -e 1 >/dev/null
got=$("$EMIT" check required)
case "$got" in "fail: no audit daemon"*) ok "required: refused with no daemon" ;;
    *) not_ok "required: refused with no daemon (got: $got)" ;; esac
got=$("$EMIT" check best-effort)
case "$got" in "warn: no audit daemon"*) ok "best-effort: warns with no daemon" ;;
    *) not_ok "best-effort: warns with no daemon (got: $got)" ;; esac

auditd_start
AUDIT_ENABLED_BEFORE=$enabled_before # what to restore: the state before this test
eq "check passes with a private daemon" "ok" "$("$EMIT" check required)"

A=4321
as_auid $A "$EMIT" authz acct=alice rule=ops-net opid=4242 ns=net,pid uuid="$U" allowed=1
as_auid $A "$EMIT" authz acct=alice opid=4242 ns=mnt allowed=0
as_auid $A "$EMIT" start acct=alice opid=4242 container=3f1c9a reason="$EVIL" uuid="$U" hdr="$H1" \
    -- /bin/sh -c "echo ' res=failed"
as_auid $A "$EMIT" checkpoint uuid="$U" seqno=17 head="$H2" epoch=3
as_auid $A "$EMIT" error uuid="$U" what="recording: disk full"
as_auid $A "$EMIT" end acct=alice uuid="$U" seqno=42 head="$H3" exit=0 reason="$EVIL"
"$EMIT" key op=create fp="$FP" epoch=3
"$EMIT" key op=destroy fp="$FP" epoch=3
check "all eight records written" audit_wait_for 8 "op=(nsgate-|create kind=nsgate|destroy kind=nsgate)"
auid_now=$(as_auid $A cat /proc/self/loginuid)

raw() { grep -a "^type=$1 " "$AUDIT_LOG" | grep -a "$2" | tr '\035' '|'; }
line=$(raw USER_ACCT "res=success")
check "USER_ACCT allowed: fields" grep -q "msg='op=nsgate-authz acct=\"alice\" rule=ops-net opid=4242 nsgate_ns=net,pid uuid=$U exe=" <<<"$line"
check "USER_ACCT allowed: caller's auid" grep -q " auid=$auid_now " <<<"$line"
line=$(raw USER_ACCT "res=failed")
check "USER_ACCT denied: no uuid, rule -" grep -q "msg='op=nsgate-authz acct=\"alice\" rule=- opid=4242 nsgate_ns=mnt exe=" <<<"$line"
line=$(raw USER_START "uuid=$U")
check "USER_START: uuid and hdr bare" grep -q " uuid=$U hdr=$H1 exe=" <<<"$line"
evil_hex=$(printf '%s' "$EVIL" | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
check "USER_START: hostile reason hex-encoded" grep -q " reason=$evil_hex " <<<"$line"
eq "USER_START: one res= only" 1 "$(grep -o ' res=' <<<"$line" | wc -l)"
eq "USER_START: one uuid= only" 1 "$(grep -o ' uuid=' <<<"$line" | wc -l)"
check "USER_START: caller's auid" grep -q " auid=$auid_now " <<<"$line"
line=$(raw TRUSTED_APP "uuid=$U")
check "TRUSTED_APP checkpoint fields" grep -q "msg='op=nsgate-checkpoint uuid=$U seqno=17 head=$H2 epoch=3 exe=" <<<"$line"
line=$(raw USER_END "uuid=$U")
check "USER_END fields" grep -q "msg='op=nsgate-session-close acct=\"alice\" uuid=$U seqno=42 head=$H3 exit=0 reason=$evil_hex exe=.* res=success'" <<<"$line"
line=$(raw USER_ERR "uuid=$U")
check "USER_ERR fields, res=failed" grep -q "msg='op=nsgate-error uuid=$U what=7265636F7264696E673A206469736B2066756C6C exe=.* res=failed'" <<<"$line"
check "CRYPTO_KEY_USER create" grep -q "msg='op=create kind=nsgate-seal fp=$FP epoch=3 " <<<"$(raw CRYPTO_KEY_USER create)"
check "CRYPTO_KEY_USER destroy" grep -q "msg='op=destroy kind=nsgate-seal fp=$FP epoch=3 " <<<"$(raw CRYPTO_KEY_USER destroy)"
check "hostname and addr passed explicitly" grep -q " hostname=$(uname -n) addr=? " <<<"$line"

# ausearch decodes the encoded values and finds the session by uuid.
out=$(ausearch -if "$AUDIT_LOG" -m USER_START -i 2>/dev/null)
check "ausearch -i decodes cmd" grep -qF "cmd=/bin/sh -c echo ' res=failed" <<<"$out"
out=$(ausearch -if "$AUDIT_LOG" -ul "$A" -m USER_START,USER_END 2>/dev/null | grep -c '^type=')
eq "ausearch -ul AUID finds start and end" 2 "$out"
out=$(ausearch -if "$AUDIT_LOG" -m USER_ACCT --success no 2>/dev/null | grep -c 'op=nsgate-authz')
eq "ausearch --success no finds the denied decision" 1 "$out"

# The cross-check reader sees the same.
out=$("$EMIT" parse "$AUDIT_LOG")
check "reader: session with start, checkpoint, end" grep -q "^session $U starts=1 checkpoints=1 ends=1 authz=1 errors=1" <<<"$out"
check "reader: start hdr and auid" grep -q "^  start hdr=$H1 auid=$auid_now acct=alice res=1" <<<"$out"
check "reader: end decoded" grep -qF "  end seqno=42 head=$H3 exit=0 reason=$EVIL" <<<"$out"
check "reader: key create" grep -q "^key create epoch=3 fp=$FP" <<<"$out"
if grep -q "^session $FORGED" <<<"$out"; then not_ok "reader: forged uuid not a session"; else ok "reader: forged uuid not a session"; fi

# audit = required refuses with auditing disabled, and the flag comes back.
auditctl -e 0 >/dev/null
got=$("$EMIT" check required)
case "$got" in "fail: kernel auditing is disabled"*) ok "required: refused with audit disabled" ;;
    *) not_ok "required: refused with audit disabled (got: $got)" ;; esac
auditctl -e 1 >/dev/null
eq "check passes again" "ok" "$("$EMIT" check required)"

auditd_stop
auditctl -e 1 >/dev/null
got=$("$EMIT" check required)
case "$got" in "fail: no audit daemon"*) ok "required: refused after the daemon stopped" ;;
    *) not_ok "required: refused after the daemon stopped (got: $got)" ;; esac
auditctl -e "$enabled_before" >/dev/null
eq "no daemon left registered" 0 "$(audit_status_field pid)"
eq "enabled flag restored" "$enabled_before" "$(audit_status_field enabled)"
finish
