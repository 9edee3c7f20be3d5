#!/bin/bash
# Attack: -w DIR reached as root. The working directory used to be changed
# before the credentials dropped, so an ordinary user listed and read a
# directory below a 0700 root directory (-w /root/secretdir -- cat
# note.txt), and the error for a missing path told whether root-only paths
# exist. Now the working directory (-w, else the target's cwd) is reached
# with the program's final credentials: the same refusal, naming the
# directory, whether the path exists or not, and nothing is read.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/adv_lib.sh"

setuid_install
cat >"$T/etc/policy.ini" <<POLICY
[defaults]
audit = best-effort

[allow user]
users = $ADV_USER, root
targets = *
namespaces = net, mnt
run_as = caller
capabilities = none
POLICY
chmod 644 "$T/etc/policy.ini"

# /…/rootonly is 0700 root; below it a readable directory and note.
SECRET="$T/rootonly"
mkdir -m 700 "$SECRET"
mkdir -m 755 "$SECRET/sub"
echo "secret-note-4711" >"$SECRET/sub/note.txt"
chmod 644 "$SECRET/sub/note.txt"
check "control: the user cannot reach the directory itself" \
    sh -c "! setpriv --reuid=$ADV_USER --regid=$ADV_USER --init-groups ls '$SECRET/sub' 2>/dev/null"

start_target --net -- sleep 600
TNET=$TPID
(cd "$SECRET/sub" && exec unshare --fork --net --mount sleep 600) </dev/null >/dev/null 2>&1 &
up=$!
TARGETS="$TARGETS $up"
for _ in $(seq 1 100); do
    TCWD=$(cat /proc/$up/task/$up/children 2>/dev/null | awk '{print $1}')
    [ -n "$TCWD" ] && grep -q sleep /proc/$TCWD/comm 2>/dev/null && break
    sleep 0.02
done
TARGETS="$TARGETS $TCWD"

# name | target | namespace options
while IFS='|' read -r name tgt opts; do
    # shellcheck disable=SC2086
    as_user "$B" enter -q -t "$tgt" $opts -w "$SECRET/sub" -- /bin/cat note.txt \
        </dev/null >"$T/out" 2>"$T/err1"
    rc=$?
    check "$name: -w into a root-only directory fails ($rc)" test "$rc" -ne 0
    check "$name: ... nothing was read" sh -c "! grep -q secret-note '$T/out'"
    check "$name: ... the message names the directory" grep -qF "$SECRET/sub" "$T/err1"
    # shellcheck disable=SC2086
    as_user "$B" enter -q -t "$tgt" $opts -w "$SECRET/sub" -- /bin/ls \
        </dev/null >"$T/out" 2>/dev/null
    check "$name: ... and nothing listed" sh -c "! grep -q note '$T/out'"
    # shellcheck disable=SC2086
    as_user "$B" enter -q -t "$tgt" $opts -w "$SECRET/nosuch" -- /bin/cat note.txt \
        </dev/null >/dev/null 2>"$T/err2"
    eq "$name: a missing path gives the same exit status" "$rc" "$?"
    # (warnings left out: whether the audit trail is up may change between runs)
    eq "$name: ... and the same message (existence not told)" \
        "$(grep -v ': warning: ' "$T/err1" | sed "s|$SECRET/sub|DIR|")" \
        "$(grep -v ': warning: ' "$T/err2" | sed "s|$SECRET/nosuch|DIR|")"
    # The user's own directory still works.
    # shellcheck disable=SC2086
    got=$(as_user "$B" enter -q -t "$tgt" $opts -w "$T/u" -- /bin/pwd </dev/null 2>/dev/null)
    eq "$name: -w into a directory the user may enter works" "$T/u" "$got"
done <<CASES
host mount namespace (-n)|$TNET|-n
the target's mount namespace (-m -n)|$TCWD|-m -n
CASES

# The target's own cwd is that directory: the program does not land there.
got=$(as_user "$B" enter -q -t "$TCWD" -m -n -- /bin/pwd </dev/null 2>/dev/null)
eq "the target's cwd the user may not enter: the program starts in /" "/" "$got"
as_user "$B" enter -q -t "$TCWD" -m -n -- /bin/cat note.txt </dev/null >"$T/out" 2>/dev/null
check "... and reads nothing there" sh -c "! grep -q secret-note '$T/out'"
# (root's own session still lands in the target's cwd)
got=$("$B" enter -q -t "$TCWD" -m -n -- /bin/pwd </dev/null 2>/dev/null)
eq "control: as root the program starts in the target's cwd" "$SECRET/sub" "$got"

finish
