#!/bin/bash
# Attack: the caller reaches into its own session. With run_as = caller (or
# any run_as whose host uid is the caller's), the caller's other processes
# could ptrace the session's program, open /proc/PID/mem, use
# process_vm_writev or pidfd_getfd, or open /proc/PID/{root,cwd,fd,environ}:
# a 20-line injector made a sleep in the session execve a shell command,
# nothing of it recorded, the session verifying OK. Now every run_as form
# either keeps the caller out (the program's host uid is not the caller's,
# or nsgate realises the caller's uid inside a root-owned user namespace of
# its own under an unused host uid), or the session is refused unless the
# rule says caller_reach = allow, and the header records which it was.
# The injector (x_reach) runs as the real user, outside the session,
# against the session's program and a child of it.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/adv_lib.sh"

setuid_install
POL="$T/etc/policy.ini"
DB="$T/var/sessions.db"
cp "$NSGATE_BUILD/tests/x_reach" "$T/u/x_reach"
chmod 755 "$T/u/x_reach"
LO=$((0x78000000))
HI=$((0x78400000))

policy() { # the allow rule's extra lines
    {
        printf '[defaults]\naudit = best-effort\n\n[allow user]\nusers = %s\n' "$ADV_USER"
        printf 'targets = *\nnamespaces = net, user\nhost_access = yes\n'
        printf '%s\n' "$@"
    } >"$POL"
    chmod 644 "$POL"
}

# Sleep lengths unique to this run: the programs are found by their command
# line, and another run of this test (or another suite) may be running.
N=$((100000 + (($$ % 1000) * 1000) + RANDOM % 500))
# session TARGET ENTER-OPTIONS...: start a session as the user in the
# background; its program is "sleep N+2" with a child "sleep N+1". Sets
# SPID, CPID (host PIDs, found by root) and RUNNER.
session() {
    local t=$1 i
    shift
    N=$((N + 10))
    SPID="" CPID=""
    as_user "$B" enter -q -t "$t" "$@" -- /bin/sh -c "sleep $((N + 1)) & exec sleep $((N + 2))" \
        </dev/null >"$T/sess.out" 2>"$T/sess.err" &
    RUNNER=$!
    for i in $(seq 1 150); do
        SPID=$(pgrep -x -f "sleep $((N + 2))")
        CPID=$(pgrep -x -f "sleep $((N + 1))")
        [ -n "$SPID" ] && [ -n "$CPID" ] && break
        sleep 0.02
    done
    [ -n "$SPID" ] && [ -n "$CPID" ]
}
end_session() {
    kill "$SPID" 2>/dev/null
    wait "$RUNNER" 2>/dev/null
}
header() { sqlite3 "$DB" "SELECT caller_reach FROM sessions ORDER BY start_ns DESC LIMIT 1"; }
marker() {
    sqlite3 "$DB" "SELECT CAST(data AS TEXT) FROM events WHERE kind = 'm' AND session = \
        (SELECT id FROM sessions ORDER BY start_ns DESC LIMIT 1)"
}
host_uid() { awk '/^Uid:/ { print $2 }' "/proc/$1/status"; }

# attack NAME: the injector as the user against the program and its child;
# every one of its 22 attempts must be blocked.
attack() {
    [ -n "$SPID" ] && [ -n "$CPID" ] || { not_ok "$1: no session to attack"; return; }
    as_user "$T/u/x_reach" "$SPID" "$CPID" >"$T/x.out" 2>&1
    local rc=$?
    eq "$1: nothing of the session reached from outside (22 attempts)" "0 22" \
        "$rc $(grep -c ' blocked ' "$T/x.out")"
    [ "$rc" -eq 0 ] || grep REACHED "$T/x.out" | head -5
}

# isolated NAME: the program and its child run under one host uid of the
# isolation range, the caller's uid mapped to it; the header says userns.
isolated() {
    local h
    h=$(host_uid "$SPID")
    check "$1: the program's host uid $h is in the isolation range" \
        test "$h" -ge "$LO" -a "$h" -lt "$HI"
    eq "$1: ... and its child's too" "$h" "$(host_uid "$CPID")"
    eq "$1: the caller's uid maps to it, nothing else" "$ADV_UID $h 1" \
        "$(tr -s ' ' </proc/$SPID/uid_map | sed 's/^ //; s/ $//')"
}

# Targets: root in the host user namespace; one running as the user.
start_target --net -- sleep 600
TROOT=$TPID
start_target --net -- setpriv --reuid="$ADV_USER" --regid="$ADV_USER" --clear-groups sleep 600
TUSER=$TPID

# run_as = caller: isolated.
policy 'run_as = caller' 'capabilities = none'
as_user "$B" check -t "$TROOT" -n >"$T/check" 2>&1
check "check shows caller_reach = deny" grep -qx "caller_reach: deny" "$T/check"
check "check says the session would be protected, in a user namespace" \
    grep -q "^caller-reach: userns (protected)" "$T/check"
session "$TROOT" -n || not_ok "run_as = caller: session started"
isolated "run_as = caller"
attack "run_as = caller"
end_session
eq "run_as = caller: the header says userns" userns "$(header)"
check "... and the session records its host uid" grep -q "^isolated as host uid [0-9]*$" <(marker)
# Its command events show the caller's uid, as the isolating namespace sees
# it, with the isolation uid on the host beside it.
cmd_ids=$(sqlite3 "$DB" "SELECT CAST(data AS TEXT) FROM events WHERE kind = 'c' AND session = \
    (SELECT id FROM sessions ORDER BY start_ns DESC LIMIT 1)" | head -1 | jq -r '"\(.uid) \(.host_uid)"')
case "$cmd_ids" in
"$ADV_UID "*) h=${cmd_ids#* }
    check "the program's command event: the caller's uid inside, the isolation uid ($h) on the host" \
        test "$h" -ge "$LO" -a "$h" -lt "$HI" ;;
*) not_ok "the program's command event: the caller's uid inside (got: $cmd_ids)" ;;
esac

# run_as = the caller's UID, and caller_reach = allow where isolation is
# possible: isolated all the same.
policy "run_as = $ADV_UID" 'capabilities = none' 'caller_reach = allow'
session "$TROOT" -n || not_ok "run_as = UID: session started"
isolated "run_as = the caller's UID (caller_reach = allow)"
attack "run_as = the caller's UID"
end_session
eq "run_as = the caller's UID: the header says userns" userns "$(header)"

# run_as = target, the target running as the user.
policy 'run_as = target' 'capabilities = target'
session "$TUSER" -n || not_ok "run_as = target: session started"
isolated "run_as = target (the target runs as the caller)"
attack "run_as = target (the target runs as the caller)"
end_session
eq "run_as = target (the caller's uid): the header says userns" userns "$(header)"

# Other uids: out of reach already.
for form in 'run_as = root' 'run_as = 4321'; do
    policy "$form" 'capabilities = none'
    session "$TROOT" -n || not_ok "$form: session started"
    eq "$form: the program's host uid" "${form#run_as = }" \
        "$(host_uid "$SPID" | sed 's/^0$/root/')"
    attack "$form"
    end_session
    eq "$form: the header says other-uid" other-uid "$(header)"
done
policy 'run_as = target' 'capabilities = none'
session "$TROOT" -n || not_ok "run_as = target (root): session started"
attack "run_as = target (the target runs as root)"
end_session

# The caller's uid with capabilities: they would act on nothing in nsgate's
# own user namespace, and without one the caller reaches the program.
policy 'run_as = caller' 'capabilities = net_admin'
as_user "$B" enter -q -t "$TROOT" -n -- /bin/true 2>"$T/err"
eq "run_as = caller with capabilities: refused (77)" 77 "$?"
check "... saying why and what would allow it" grep -q "caller_reach = allow" "$T/err"
check "... naming the capabilities" grep -q "would hold capabilities" "$T/err"

# The caller's own user namespace (a rootless container of the user's):
# the caller holds every capability there, whatever the uid.
setpriv --reuid="$ADV_USER" --regid="$ADV_USER" --init-groups unshare -Ur --net sleep 600 \
    </dev/null >/dev/null 2>&1 &
TOWN=$!
TARGETS="$TARGETS $TOWN"
for _ in $(seq 1 100); do
    [ "$(readlink /proc/$TOWN/ns/user)" != "$(readlink /proc/self/ns/user)" ] &&
        grep -q sleep /proc/$TOWN/comm && break
    sleep 0.02
done
policy 'run_as = root' 'capabilities = none'
as_user "$B" enter -q -t "$TOWN" -U -n -- /bin/true 2>"$T/err"
eq "the caller's own user namespace entered: refused (77)" 77 "$?"
check "... saying the caller owns it" grep -q "owned by the caller" "$T/err"
as_user "$B" check -t "$TOWN" -U -n >"$T/check" 2>&1
check "... and check explains it" grep -q "caller reach: the target's user namespace is owned" \
    "$T/check"
# Staying in the host user namespace instead: isolated.
policy 'run_as = caller' 'capabilities = none'
session "$TOWN" -n || not_ok "the caller's container, -n only: session started"
isolated "the caller's container, -n only"
attack "the caller's container, -n only"
end_session
# Accepted unprotected: recorded as such, and the injector does reach (the
# attack works where nothing keeps it out).
policy 'run_as = root' 'capabilities = none' 'caller_reach = allow'
as_user "$B" check -t "$TOWN" -U -n >"$T/check" 2>&1
check "caller_reach = allow: check says NOT protected" \
    grep -q "^caller-reach: allowed (NOT protected)" "$T/check"
session "$TOWN" -U -n || not_ok "caller_reach = allow: session started"
as_user "$T/u/x_reach" "$SPID" "$CPID" >"$T/x.out" 2>&1
check "caller_reach = allow: the injector reaches the unprotected program ($?)" \
    grep -q "$SPID ptrace-attach REACHED" "$T/x.out"
end_session
eq "caller_reach = allow: the header says allowed" allowed "$(header)"

finish
