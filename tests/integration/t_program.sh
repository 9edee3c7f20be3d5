#!/bin/bash
# The program inside: exit status and death by signal passed back, only
# descriptors 0, 1, 2, an environment built from scratch, no controlling
# terminal in pipe mode, working directory set after entry, credentials of
# the target (the default run_as = target, capabilities = target).
. "$(dirname "$0")/lib.sh"

start_target --pid --mount-proc --net --uts --ipc -- sh -c 'cd /tmp; exec sleep 600'
for ns in "-n" "-p"; do # without and with the pid fork
    "$NSGATE" enter -q -t "$TPID" $ns -- "$PROBE" exit 7
    eq "exit status passed back ($ns)" 7 "$?"
    "$NSGATE" enter -q -t "$TPID" $ns -- "$PROBE" kill 15
    eq "death by SIGTERM is 128+15 ($ns)" 143 "$?"
    "$NSGATE" enter -q -t "$TPID" $ns -- "$PROBE" kill 9
    eq "death by SIGKILL is 128+9 ($ns)" 137 "$?"
done
"$NSGATE" enter -q -t "$TPID" -n -- /nonexistent/program 2>"$T/err"
eq "missing program: 127" 127 "$?"
"$NSGATE" enter -q -t "$TPID" -n -- /etc/passwd 2>"$T/err"
eq "program that cannot be executed: 126" 126 "$?"
"$NSGATE" enter -q -t "$TPID" -n -- bin/true 2>"$T/err"
eq "relative program: usage error 64" 64 "$?"
"$NSGATE" enter -q -t "$TPID" -n -- /bin/../bin/true 2>"$T/err"
eq "non-normalized program: usage error 64" 64 "$?"

# Start-up refusals: outside the initial user namespace.
unshare --user --map-root-user "$NSGATE" enter -q -t "$TPID" -n -- /bin/true 2>"$T/err"
rc=$?
check "enter refused outside the initial user namespace ($rc)" [ "$rc" -ne 0 ]
check "... saying why" grep -q "outside the initial user namespace" "$T/err"

# Descriptors: the caller leaves 7 and 9 open; inside only 0, 1, 2.
got=$(exec 7</etc/hostname 9>"$T/x"; "$NSGATE" enter -q -t "$TPID" -n -p -- "$PROBE" fds | tr '\n' ' ')
eq "only 0 1 2 inside" "0 1 2 " "$got"

# Environment: nothing of the caller outside the allow-list.
got=$(env -i NSGATE_POLICY="$NSGATE_POLICY" NSGATE_DB="$NSGATE_DB" NSGATE_KEYS="$NSGATE_KEYS" FOO=bar LD_PRELOAD=/tmp/evil.so LD_LIBRARY_PATH=/tmp PATH=/tmp:/usr/bin \
    TERM=xterm-256color LANG='C.UTF-8' LC_TIME='$(reboot)' NSGATE_EVIL=1 HOME=/home/x \
    "$NSGATE" enter -q -t "$TPID" -n -- "$PROBE" env | grep -v '^NSGATE_SESSION=' | sort | tr '\n' ' ')
eq "environment rebuilt from the allow-list" \
    "HOME=/root LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin TERM=xterm-256color " "$got"
got=$("$NSGATE" enter -q -t "$TPID" -n -- "$PROBE" env | grep -c '^NSGATE_SESSION=........-....-4...-')
eq "NSGATE_SESSION names the session" 1 "$got"

# Pipe mode: no controlling terminal, /dev/tty cannot be opened.
got=$(script -qec "$NSGATE enter -q --no-pty -t $TPID -n -- $PROBE tty" /dev/null | tr -d '\r' | grep '^tty-')
case "$got" in "tty-fail"*) ok "opening /dev/tty inside fails in pipe mode" ;;
    *) not_ok "opening /dev/tty inside fails in pipe mode (got: $got)" ;; esac

# Working directory: -w, else the target's (when mnt is entered), never the host's.
got=$(cd /usr && "$NSGATE" enter -q -t "$TPID" -n -- "$PROBE" cwd)
eq "without mnt and -w the program starts in /" "/" "$got"
got=$(cd /usr && "$NSGATE" enter -q -t "$TPID" -n -m -- "$PROBE" cwd)
eq "with mnt the program starts in the target's cwd" "/tmp" "$got"
got=$("$NSGATE" enter -q -t "$TPID" -n -m -w /etc -- "$PROBE" cwd)
eq "-w sets the working directory inside" "/etc" "$got"
"$NSGATE" enter -q -t "$TPID" -n -w etc -- /bin/true 2>/dev/null
eq "-w must be absolute" 64 "$?"

# Input passes through and EOF is passed on.
got=$(printf 'a\0b\377c' | "$NSGATE" enter -q -t "$TPID" -n -- /bin/cat | od -An -tx1 | tr -d ' \n')
eq "binary data through cat unchanged" "610062ff63" "$got"
got=$("$NSGATE" enter -q -t "$TPID" -n -- /bin/sh -c 'echo out; echo err >&2' 2>"$T/e")
eq "stdout kept apart" "out" "$got"
eq "stderr kept apart" "err" "$(grep -v '^nsgate: ' "$T/e")"

# Credentials: the default is the target's ids, groups and capability sets.
start_target --pid --mount-proc --net -- setpriv --reuid=4321 --regid=4322 --groups=4323,4324 \
    --inh-caps=-all sleep 600
got=$("$NSGATE" enter -q -t "$TPID" -n -- "$PROBE" status | tr '\t' ' ')
want=$(tr '\t' ' ' </proc/$TPID/status | grep -E '^(Uid|Gid|Groups|Cap(Inh|Prm|Eff|Bnd|Amb)):')
eq "run_as/capabilities = target: ids, groups and capability sets as the target's" \
    "$want
NoNewPrivs: 1" "$got"
finish
