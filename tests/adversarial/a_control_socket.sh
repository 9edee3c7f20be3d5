#!/bin/bash
# Attack: reach a session's control socket (control.h) without going through
# nsgate, to approve one's own session, stop someone's, or moderate it. An
# outsider and a member of the reviewers' group (the store shared 0750, so
# the lock directory is theirs to list) cannot connect: the socket is
# root's 0600 (and a recorder killed while its session waits leaves nothing
# an approval could reach). Were it open to them by mistake, the recorder still answers
# only root peers (SO_PEERCRED). A registered watcher's connection (which a
# watcher keeps) carries one request: a second one, an approval claiming an
# approver's uid, is not taken and ends the watch. Nobody can plant a
# socket or a file where the recorder binds. The requester cannot trace its
# approver's watch for the store it opened with privilege (non-dumpable).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/adv_lib.sh"
setuid_install
AP=nsgate-tp-ap
MADE=""
id "$AP" >/dev/null 2>&1 || { useradd --system --user-group --no-create-home "$AP" && MADE="$AP"; }
groupadd -f nsgate-tp-rev && usermod -a -G nsgate-tp-rev "$ADV_USER"
trap 'gpasswd -d "$ADV_USER" nsgate-tp-rev >/dev/null 2>&1; groupdel nsgate-tp-rev 2>/dev/null; for u in $MADE; do userdel "$u" 2>/dev/null; done; cleanup' EXIT
X="$T/x_control_forge"
cp "$NSGATE_BUILD/tests/x_control_forge" "$X" && chmod 755 "$X"
as() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --init-groups "$@"; }
cat >"$T/etc/policy.ini" <<POLICY
[defaults]
audit = best-effort
[allow ops]
users = $ADV_USER
targets = *
namespaces = uts
run_as = caller
capabilities = none
approval = required
approvers = user:$AP
approval_timeout = 60s
POLICY
chmod 644 "$T/etc/policy.ini"
start_target --uts -- sleep 600
live_id() { for _ in $(seq 1 100); do i=$("$B" sessions --live --json | jq -r .id | head -1); [ -n "$i" ] && { echo "$i"; return; }; sleep 0.05; done; }
state() { "$B" sessions --live --json | jq -r 'select(.id=="'"$1"'") | .state'; }

as "$ADV_USER" "$B" enter -q -t "$TPID" -u -r INC-1 -- /bin/echo entered >"$T/u/out" 2>"$T/u/err" </dev/null &
REQ=$!
ID=$(live_id)
SOCK="$T/var/sessions.db-live/$ID.sock"
check "the session waits, its control socket is there" test -S "$SOCK"
eq "the socket is root's, 0600" "root 600" "$(stat -c '%U %a' "$SOCK")"
APUID=$(id -u $AP)

# 1. The requester connects itself and approves in the approver's name.
eq "the requester cannot connect to the socket" "connect: Permission denied" "$(as "$ADV_USER" "$X" "$SOCK" approve "$APUID" "$AP")"
# 2. The same as a member of the reviewers' group, the store shared with it.
chgrp nsgate-tp-rev "$T/var" "$T/var/sessions.db" "$T/var/sessions.db-live" && chmod 750 "$T/var" "$T/var/sessions.db-live"
out=$(as "$ADV_USER" "$X" "$SOCK" approve "$APUID" "$AP")
eq "... nor as a reviewer who may list the lock directory" "connect: Permission denied" "$out"
check "... nor plant a file beside it" sh -c "! setpriv --reuid=$ADV_USER --regid=$ADV_USER --init-groups touch '$T/var/sessions.db-live/$ID.x' 2>/dev/null"
# 3. The socket opened to everyone by mistake: the recorder answers root only.
chmod 666 "$SOCK"
out=$(as "$ADV_USER" "$X" "$SOCK" approve "$APUID" "$AP")
chmod 600 "$SOCK"
eq "a non-root peer is refused even when it can connect" "reply: no refused: only nsgate (root) talks to a session" "$out"
eq "... the session still waits" waiting-approval "$(state "$ID")"
# 4. A watcher's connection (nsgate's, root) used for a second request.
out=$("$X" "$SOCK" watch 0 root then approve "$APUID" "$AP")
eq "a second request on a watcher's connection is not taken, the watcher dropped" "reply: ok
closed" "$out"
eq "... the session still waits" waiting-approval "$(state "$ID")"
check "... nothing was entered" sh -c "! grep -q entered '$T/u/out'"
# 5. The approver's watch opened the store with privilege: the requester
# (or the approver itself) cannot trace it or read its descriptors.
as $AP "$B" watch "$ID" >/dev/null 2>&1 &
W=$!
sleep 0.8
WP=$(pgrep -u "$AP" -f "nsgate watch $ID" | head -1)
check "the approver's watch runs" test -n "$WP"
check "... and is not dumpable: its owner cannot read its descriptors" sh -c "! setpriv --reuid=$AP --regid=$AP --init-groups ls -l /proc/$WP/fd/ 2>/dev/null | grep -q sessions.db"
check "... nor attach to it" sh -c "! setpriv --reuid=$AP --regid=$AP --init-groups gdb -q -batch -p $WP -ex 'info proc' 2>&1 | grep -q 'process $WP'"
# 6. The legitimate approval still works after all of this.
as $AP "$B" approve "$ID" -r ok 2>/dev/null
eq "the approver approves" 0 "$?"
wait "$REQ"
eq "the session ran" entered "$(cat "$T/u/out")"
wait "$W" 2>/dev/null
check "the socket is gone with the session" test ! -e "$SOCK"
as $AP "$B" approve "$ID" 2>/dev/null
eq "approving a session that is over: 66" 66 "$?"
# 7. Racing the pending session: its recorder killed while it waits; the
# approval comes after: nothing to approve, nothing entered, and a stale
# socket file answers nobody.
as "$ADV_USER" "$B" enter -q -t "$TPID" -u -r INC-2 -- /bin/echo entered2 >"$T/u/out2" 2>/dev/null </dev/null &
ID2=$(live_id)
RP=$(pgrep -f "nsgate-sealed-copy enter -q -t $TPID -u -r INC-2" | head -1)
check "a second session waits" test -n "$RP"
kill -KILL "$RP"
sleep 0.5
as $AP "$B" approve "$ID2" 2>/dev/null
eq "approving it after its recorder died: 66 (not live)" 66 "$?"
check "... nothing was entered" sh -c "! grep -q entered2 '$T/u/out2'"
if [ -S "$T/var/sessions.db-live/$ID2.sock" ]; then
    eq "... the stale socket answers nobody" "connect: Connection refused" "$("$X" "$T/var/sessions.db-live/$ID2.sock" approve "$APUID" "$AP")"
fi
sleep 0.5
for g in "$(cgroup2_root)"/nsgate-"$ID2" "$(cgroup2_root)"/*/nsgate-"$ID2"; do [ -d "$g" ] && rmdir "$g" 2>/dev/null; done
finish
