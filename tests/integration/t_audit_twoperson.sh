#!/bin/bash
# Two-person control in the audit trail (audit.md, docs/security.md
# "Two-person control"), with a private auditd: an approval, a rejection, a
# timeout and a termination are USER_ACCT op=nsgate-control records with the
# session uuid, who acted (acct, nsgate_uid) and their text; a terminated
# session's USER_END says reason terminated, exit 124. The approver's
# request is sent as nsgate's own privileged client would send it (root,
# through the control socket: x_control_forge), so the requester can be root
# here; t_twoperson runs the same through the setuid binary.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/auditd_lib.sh"

auditd_require_free
enabled_before=$(audit_status_field enabled)
trap 'auditd_stop; auditctl -e "$enabled_before" >/dev/null 2>&1; cleanup' EXIT
X="$NSGATE_BUILD/tests/x_control_forge"
AP_UID=$(id -u nobody)
policy() {
    { printf '[defaults]\naudit = required\nseal_interval = 500ms\n[allow ops]\nusers = root\n'
      printf 'targets = *\nnamespaces = uts\nhost_access = yes\napprovers = user:nobody\n'
      printf '%s\n' "$@"; } >"$T/etc/p.ini"
    chmod 644 "$T/etc/p.ini"
}
start_target --uts -- sleep 600
mkfifo "$T/fifo"
auditd_start
AUDIT_ENABLED_BEFORE=$enabled_before
live_id() { for _ in $(seq 1 100); do i=$("$NSGATE" sessions --live --json | jq -r .id | head -1); [ -n "$i" ] && { echo "$i"; return; }; sleep 0.05; done; }
ask() { "$X" "$T/var/sessions.db-live/$1.sock" "$2" "$AP_UID" nobody; }

policy "approval = required" "approval_timeout = 30s"
"$NSGATE" enter -q --policy "$T/etc/p.ini" -t "$TPID" -u -r INC-1 -- /bin/true 2>/dev/null &
R=$!
A=$(live_id)
eq "the approval is taken" "reply: ok" "$(ask "$A" approve)"
wait "$R"
eq "approved session: 0" 0 "$?"

"$NSGATE" enter -q --policy "$T/etc/p.ini" -t "$TPID" -u -r INC-2 -- /bin/true 2>/dev/null &
R=$!
J=$(live_id)
eq "the rejection is taken" "reply: ok" "$(ask "$J" reject)"
wait "$R"
eq "rejected session: 77" 77 "$?"

policy "approval = required" "approval_timeout = 1s"
"$NSGATE" enter -q --policy "$T/etc/p.ini" -t "$TPID" -u -r INC-3 -- /bin/true 2>/dev/null
eq "timed out: 77" 77 "$?"
O=$("$NSGATE" sessions --json | head -1 | jq -r .id)

policy ""
"$NSGATE" enter -q --policy "$T/etc/p.ini" -t "$TPID" -u -r INC-4 -- /bin/sleep 30 2>/dev/null &
R=$!
K=$(live_id)
sleep 0.5
eq "the termination is taken" "reply: ok" "$(ask "$K" terminate)"
wait "$R"
eq "terminated session: 124" 124 "$?"

policy "moderation = required"
"$NSGATE" enter -q --policy "$T/etc/p.ini" -t "$TPID" -u -r INC-5 -- /bin/sh -c 'read l; echo "got $l"' \
    <"$T/fifo" >"$T/mod.out" 2>/dev/null &
R=$!
exec 7>"$T/fifo"
M=$(live_id)
echo one >&7
sleep 0.8
check "moderated, no moderator: the input waits" test ! -s "$T/mod.out"
eq "a moderator comes (and goes)" "reply: ok" "$(ask "$M" moderate)"
exec 7>&-
wait "$R"
eq "... the input passed meanwhile" "got one" "$(cat "$T/mod.out")"
audit_wait_for 1 "op=nsgate-session-close.*uuid=$M"
L="$AUDIT_LOG"
rec() { grep 'type=USER_ACCT' "$L" | grep "op=nsgate-control action=$1 " | grep "uuid=$2"; }
check "approval: USER_ACCT nsgate-control, who and uid, success" sh -c \
    "grep 'type=USER_ACCT' '$L' | grep 'op=nsgate-control action=approve acct=\"nobody\" nsgate_uid=$AP_UID uuid=$A reason=' | grep -q 'res=success'"
check "rejection: failed, with who" sh -c \
    "grep 'type=USER_ACCT' '$L' | grep 'op=nsgate-control action=reject acct=\"nobody\" nsgate_uid=$AP_UID uuid=$J' | grep -q 'res=failed'"
check "timeout: nobody acted" sh -c \
    "grep 'type=USER_ACCT' '$L' | grep 'op=nsgate-control action=approval-timeout acct=? nsgate_uid=? uuid=$O' | grep -q 'res=failed'"
check "termination: who, success" sh -c \
    "grep 'type=USER_ACCT' '$L' | grep 'op=nsgate-control action=terminate acct=\"nobody\" nsgate_uid=$AP_UID uuid=$K' | grep -q 'res=success'"
check "the terminated session's USER_END: exit 124, reason terminated" sh -c \
    "grep 'type=USER_END' '$L' | grep 'uuid=$K' | grep -q 'exit=124 reason=\"terminated\"'"
# (whether it left before the session ended is a race here: t_twoperson
# checks the leaving in the recording)
check "a moderator joining: moderator-joined, who" sh -c \
    "grep 'op=nsgate-control action=moderator-joined acct=\"nobody\" nsgate_uid=$AP_UID' '$L' | grep -q 'uuid=$M'"
check "the approved session's USER_START comes after its approval" sh -c \
    "grep -n 'uuid=$A' '$L' | grep -E 'action=approve|nsgate-session-open' | head -1 | grep -q action=approve"
finish
