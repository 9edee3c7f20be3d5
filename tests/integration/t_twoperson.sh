#!/bin/bash
# Two-person control through the installed setuid binary, with three real
# users in tmux panes: the requester (nsgate-test), an approver and an
# outsider (made here, removed at the end). Approval before entry (nothing
# entered until approved; self-approval refused even for a listed
# approver; rejection and timeout 77, recorded), an approver watching a
# running session it cannot otherwise read, moderation (typed input reaches
# the program only while a moderator watches), terminate (124, reason
# terminated, who), sessions --live during all of it, and verify: OK on
# every such session, TAMPERED when the approver's name is changed. The
# attacks on the control socket itself are tests/adversarial/a_control_*.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../adversarial/adv_lib.sh"
setuid_install
AP=nsgate-tp-ap
OUT=nsgate-tp-out
MADE=""
for u in $AP $OUT; do
    id "$u" >/dev/null 2>&1 || { useradd --system --user-group --no-create-home "$u" && MADE="$MADE $u"; }
done
TM="tmux -S $T/tmux.sock"
trap '$TM kill-server 2>/dev/null; for u in $MADE; do userdel "$u" 2>/dev/null; done; cleanup' EXIT
as() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --init-groups "$@"; }
mkdir -m 1777 "$T/w"
policy() { # extra lines for the rule
    { printf '[defaults]\naudit = best-effort\nseal_interval = 500ms\n'
      printf '[allow ops]\nusers = %s\ntargets = *\nnamespaces = uts\nrun_as = caller\ncapabilities = none\n' "$ADV_USER"
      printf '%s\n' "$@"; } >"$T/etc/policy.ini"
    chmod 644 "$T/etc/policy.ini"
}
start_target --uts -- sleep 600
UTS=$(readlink /proc/$TPID/ns/uts)
TPARENT=$(awk '/^PPid:/ { print $2 }' /proc/$TPID/status)
in_target() { # processes in the target's uts namespace but the target and its unshare
    local n=0 p
    for p in /proc/[0-9]*; do
        case "${p#/proc/}" in "$TPID" | "$TPARENT") continue ;; esac
        [ "$(readlink "$p/ns/uts" 2>/dev/null)" = "$UTS" ] && n=$((n + 1))
    done
    echo "$n"
}
# run_req NAME COMMAND...: the requester's nsgate enter in a tmux pane of its
# own (a terminal: pty mode), stderr to $T/w/NAME.err, exit status to NAME.rc
run_req() {
    local name=$1; shift
    rm -f "$T/w/$name.rc"
    $TM new-window -d -n "$name" "setpriv --reuid=$ADV_USER --regid=$ADV_USER --init-groups $B enter -t $TPID -u $* 2>$T/w/$name.err; echo \$? >$T/w/$name.rc; ${AFTER:-:}; sleep 600"
}
wait_rc() { for _ in $(seq 1 300); do [ -s "$T/w/$1.rc" ] && { cat "$T/w/$1.rc"; return; }; sleep 0.05; done; echo none; }
live_id() { for _ in $(seq 1 100); do i=$("$B" sessions --live --json | jq -r .id | head -1); [ -n "$i" ] && { echo "$i"; return; }; sleep 0.05; done; }
events() { sqlite3 "$T/var/sessions.db" "select kind||' '||cast(data as text) from events where session=x'$(echo "$1" | tr -d -)' and kind in ('m','x') order by seq"; }
$TM new-session -d -s main -x 160 -y 40 "sleep 3600"
grep -o '[0-9a-f]\{64\}' "$T/root.key" | head -1 >"$T/root.pub"

# ---- approval, then the round trip -------------------------------------
policy "approval = required" "approvers = user:$AP, user:$ADV_USER" "approval_timeout = 30s"
check "check says the rule needs approval and who may give it" sh -c \
    "setpriv --reuid=$ADV_USER --regid=$ADV_USER --init-groups '$B' check -t $TPID -u -- /bin/true | grep -q 'approval: required, by one of user:$AP, user:$ADV_USER (never the requester)'"
run_req a -r INC-1 -- /bin/sh -c "'echo entered \$(hostname); touch $T/w/entered; sleep 1'"
ID=$(live_id)
sleep 1.5
check "the requester is told it waits, and how to approve" grep -q "waiting for approval of session $ID (nsgate approve $ID)" "$T/w/a.err"
eq "sessions --live: waiting-approval" waiting-approval "$("$B" sessions --live --json | jq -r 'select(.id=="'"$ID"'") | .state')"
eq "nothing is entered while it waits (no process in the target's namespace)" 0 "$(in_target)"
check "... and the program has not run" test ! -e "$T/w/entered"
as "$ADV_USER" "$B" approve "$ID" -r self 2>"$T/self.err"
eq "self-approval is refused even for a listed approver" 77 "$?"
check "... saying why" grep -q "the requester cannot approve or reject its own session" "$T/self.err"
for verb in approve reject; do
    as $OUT "$B" $verb "$ID" -r x 2>/dev/null
    eq "an outsider cannot $verb" 77 "$?"
done
as $OUT "$B" terminate "$ID" -r x 2>/dev/null
eq "an outsider cannot terminate" 77 "$?"
as $OUT "$B" watch "$ID" >/dev/null 2>&1
eq "an outsider cannot watch" 77 "$?"
eq "still waiting, nothing entered" "waiting-approval 0" "$("$B" sessions --live --json | jq -r 'select(.id=="'"$ID"'") | .state') $(in_target)"
as $AP "$B" approve "${ID:0:8}" -r "change ok" 2>"$T/ap.err"
eq "the approver approves (by a prefix)" 0 "$?"
eq "the session runs and ends" 0 "$(wait_rc a)"
check "... the program ran after the approval" test -e "$T/w/entered"
check "the requester is told who approved" grep -q "session $ID approved by $AP (uid $(id -u $AP))" "$T/w/a.err"
events "$ID" >"$T/ev"
check "the approval is in the record: who, uid, time, text" grep -q "^m approval {\"action\":\"approve\",\"user\":\"$AP\",\"uid\":$(id -u $AP),\"time_ns\":[0-9]*,\"text\":\"change ok\"}" "$T/ev"
"$B" verify --key "$T/root.pub" "$ID" >"$T/v.out" 2>&1
eq "verify: OK" 0 "$?"
# the approver's name changed in a copy of the store: TAMPERED
cp -a "$T/var" "$T/var2"
sqlite3 "$T/var2/sessions.db" "update events set data = cast(replace(cast(data as text), '\"$AP\"', '\"root\"') as blob) where kind='m' and cast(data as text) like 'approval %'"
NSGATE_DB="$T/var2/sessions.db" "$NSGATE" verify --db "$T/var2/sessions.db" --key "$T/root.pub" "$ID" >"$T/v2.out" 2>&1
check "a changed approver name: TAMPERED" grep -q "^TAMPERED $ID" "$T/v2.out"
rm -rf "$T/var2"

# ---- rejection and timeout: 77, recorded ------------------------------
rm -f "$T/w/entered"
run_req r -r INC-2 -- /bin/sh -c "'touch $T/w/entered'"
ID=$(live_id)
as $AP "$B" reject "$ID" -r "not now" 2>/dev/null
eq "rejected: 77" 77 "$(wait_rc r)"
check "... with who rejected" grep -q "session $ID rejected by $AP" "$T/w/r.err"
check "... nothing ran" test ! -e "$T/w/entered"
events "$ID" >"$T/ev"
check "... recorded: who rejected, end reason rejected" sh -c "grep -q '^m approval {\"action\":\"reject\",\"user\":\"$AP\"' '$T/ev' && grep -q '^x .*\"exit\":77,\"reason\":\"rejected\"' '$T/ev'"
"$B" verify --key "$T/root.pub" "$ID" >/dev/null 2>&1
eq "... verify OK" 0 "$?"
policy "approval = required" "approvers = user:$AP" "approval_timeout = 2s"
run_req t -r INC-3 -- /bin/true
ID=$(live_id)
eq "timed out: 77" 77 "$(wait_rc t)"
check "... saying time ran out" grep -q "no approval of session $ID within 2s" "$T/w/t.err"
events "$ID" >"$T/ev"
check "... recorded: approval-timeout" grep -q '^x .*"exit":77,"reason":"approval-timeout"' "$T/ev"
"$B" verify --key "$T/root.pub" "$ID" >/dev/null 2>&1
eq "... verify OK" 0 "$?"

# ---- watch by an approver, terminate -----------------------------------
policy "approvers = user:$AP"
run_req w -r INC-4 -- /bin/sh -c "'i=0; while :; do i=\$((i+1)); echo tick \$i; sleep 0.3; done'"
ID=$(live_id)
$TM new-window -d -n watcher "setpriv --reuid=$AP --regid=$AP --init-groups $B watch $ID 2>$T/w/watch.err; echo \$? >$T/w/watch.rc; sleep 600"
sleep 1.5
check "the approver (not a reader of the store) watches output of the running session" sh -c "$TM capture-pane -p -t watcher | grep -q 'tick [3-9]'"
check "sessions --live: running, watched by the approver" sh -c "'$B' sessions --live | grep '^$ID  running' | grep -q '$AP ('"
as $ADV_USER "$B" terminate "$ID" -r mine 2>/dev/null
eq "the requester cannot terminate through the control socket" 77 "$?"
as $AP "$B" terminate "$ID" -r enough 2>/dev/null
eq "the approver terminates" 0 "$?"
eq "enter ends with 124" 124 "$(wait_rc w)"
check "... and says so" grep -q "terminated from outside" "$T/w/w.err"
check "... recorded: reason terminated, and who" sh -c "sqlite3 '$T/var/sessions.db' \"select group_concat(cast(data as text)) from events where session=x'$(echo "$ID" | tr -d -)' and kind in ('m','x')\" | grep -q '\"user\":\"$AP\".*\"reason\":\"terminated\"'"
eq "the watch ends with the session (exit 0)" 0 "$(wait_rc watch)"
check "... and says how" grep -q "ended, exit 124 (terminated)" "$T/w/watch.err"
"$B" verify --key "$T/root.pub" "$ID" >/dev/null 2>&1
eq "... verify OK" 0 "$?"

# ---- moderation ----------------------------------------------------------
policy "moderation = required" "approvers = user:$AP"
# (after the session the pane's shell reads what is left in the terminal)
AFTER="read -t 2 left; echo left:\$left >$T/w/m.left" run_req m -r INC-5 -- /bin/sh -c "'while read l; do echo got:\$l; done'"
ID=$(live_id)
sleep 0.5
eq "sessions --live: moderated" moderated "$("$B" sessions --live --json | jq -r 'select(.id=="'"$ID"'") | .state')"
$TM send-keys -t m "one" Enter
sleep 1
check "no moderator: typed input does not reach the program" sh -c "! $TM capture-pane -p -t m | grep -q got:one"
as $ADV_USER "$B" watch --moderate "$ID" >/dev/null 2>&1
eq "the requester cannot moderate its own session" 77 "$?"
$TM new-window -d -n mod "setpriv --reuid=$AP --regid=$AP --init-groups $B watch --moderate $ID; sleep 600"
sleep 1.5
check "a moderator watches: the input reaches it" sh -c "$TM capture-pane -p -t m | grep -q got:one"
$TM send-keys -t m "two" Enter
sleep 0.8
check "... and what is typed meanwhile" sh -c "$TM capture-pane -p -t m | grep -q got:two"
check "sessions --live shows the moderator" sh -c "'$B' sessions --live | grep '^$ID' | grep -q '$AP (moderating'"
$TM send-keys -t mod C-c
sleep 0.8
$TM send-keys -t m "three" Enter
sleep 1
check "the moderator gone: input waits again" sh -c "! $TM capture-pane -p -t m | grep -q got:three"
"$B" terminate "$ID" -r "test over"
eq "root terminates: 124" 124 "$(wait_rc m)"
for _ in $(seq 1 60); do [ -s "$T/w/m.left" ] && break; sleep 0.05; done
eq "input no moderator let through is discarded, not left to the caller's shell" "left:" \
    "$(cat "$T/w/m.left" 2>/dev/null)"
check "moderators joining and leaving are recorded" sh -c "sqlite3 '$T/var/sessions.db' \"select group_concat(cast(data as text)) from events where session=x'$(echo "$ID" | tr -d -)' and kind='m'\" | grep -q 'moderator {\"action\":\"joined\",\"user\":\"$AP\".*moderator {\"action\":\"left\"'"
"$B" verify --key "$T/root.pub" "$ID" >/dev/null 2>&1
eq "... verify OK" 0 "$?"
eq "sessions --live: nothing left" "" "$("$B" sessions --live --json)"
finish
