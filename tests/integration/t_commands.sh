#!/bin/bash
# Command recording (record_commands, docs/security.md "Command recording"):
# every exec of every process of the session -- the program, its children,
# a #! script, a static binary, a background job, a double-forked setsid
# child -- is one 'c' event, in pipe and terminal mode, with its exact argv
# (newlines, empty arguments, bytes that are not UTF-8, beyond 64 KiB cut)
# and the result of a failed exec; the target's own processes never appear;
# concurrent sessions keep their own; record_commands = no records none; a
# process left over after the session (leave_processes) cannot exec.
. "$(dirname "$0")/lib.sh"

# One line per command of session $1: result, then argv joined by '|'
# (from the jsonl export, as a SIEM reads it).
cmds() {
    "$NSGATE" export -f jsonl --key "$T/root.key" "$1" 2>/dev/null |
        jq -r 'select(.kind == "c") | .data | @base64d | fromjson |
               "\(.result)|\(.argv | join("|"))"'
}
# The whole JSON of the commands of session $1, one per line.
cmd_json() {
    "$NSGATE" export -f jsonl --key "$T/root.key" "$1" 2>/dev/null |
        jq -c 'select(.kind == "c") | .data | @base64d | fromjson'
}
last_session() { "$NSGATE" sessions --json 2>/dev/null | head -1 | jq -r .id; }
has() { grep -qxF -- "$2" "$1"; } # FILE LINE

printf '#!/bin/sh\necho script-ran "$@"\n' >"$T/script.sh"
printf 'echo never\n' >"$T/notexec"
chmod 755 "$T/script.sh"
chmod 644 "$T/notexec"
BB=$(command -v busybox)
file -L "$BB" 2>/dev/null | grep -q static || echo "note: $BB is not static"

start_target --pid --mount-proc --uts --mount -- sh -c 'hostname cmds; exec sleep 600'
T1=$TPID
TCWD=$(readlink /proc/$T1/cwd)

# ---- pipe mode: a shell running commands --------------------------------
"$NSGATE" enter -q -t "$TPID" -u -p -m --no-pty -- /bin/sh -c '
ls / >/dev/null
/bin/echo "two words"
'"$BB"' echo static-ok
'"$T"'/script.sh a b
'"$T"'/notexec 2>/dev/null
/nonexistent/prog 2>/dev/null
( setsid /bin/sh -c "/bin/echo double-forked" & )
sleep 0.3
/bin/echo "line1
line2" "" "$(printf "\001x\001")" "$(printf "\377\376")" >/dev/null
exit 3' >"$T/out" 2>"$T/err"
eq "pipe mode: the program's exit status" 3 "$?"
S=$(last_session)
cmds "$S" >"$T/c"
check "the program itself, first" sh -c "head -1 '$T/c' | grep -qx '0|/bin/sh|-c|.*'"
check "a command of the shell (ls)" has "$T/c" "0|ls|/"
check "arguments kept apart" has "$T/c" "0|/bin/echo|two words"
check "a static binary" has "$T/c" "0|$BB|echo|static-ok"
check "a #! script: what the kernel ran (interpreter, script, arguments)" \
    has "$T/c" "0|/bin/sh|$T/script.sh|a|b"
check "a failed exec: EACCES" has "$T/c" "13|$T/notexec"
check "a failed exec: ENOENT" has "$T/c" "2|/nonexistent/prog"
check "a double-forked setsid child" has "$T/c" "0|/bin/echo|double-forked"
eq "each exec exactly once" 1 "$(grep -c '^0|/bin/echo|two words$' "$T/c")"
cmd_json "$S" >"$T/j"
eq "argv bytes: newline, empty, control and non-UTF-8 bytes" \
    '["/bin/echo","line1\nline2","","\u0001x\u0001","\\xff\\xfe"]' \
    "$(jq -c 'select((.argv[1] // "") | startswith("line1")) | .argv' "$T/j")"
eq "the script event: path as passed, exe resolved after the exec" \
    "$T/script.sh $(readlink -f /bin/sh) true" \
    "$(jq -r 'select(.path == "'"$T"'/script.sh") | "\(.path) \(.exe) \(.verified)"' "$T/j")"
eq "pids in the target's pid namespace (the program's parent is outside it)" "true 0" \
    "$(jq -r 'select(.argv[0] == "/bin/sh" and .argv[1] == "-c") | "\(.pid > 1 and .pid < 100) \(.ppid)"' "$T/j" | head -1)"
check "... and on the host" sh -c "jq -e 'select(.host_pid > 2)' '$T/j' >/dev/null"
eq "the cwd as the program sees it (the target's)" "$TCWD" "$(jq -r .cwd "$T/j" | sort -u | head -1)"
"$NSGATE" verify --key "$T/root.key" "$S" >"$T/v" 2>/dev/null
eq "verify: OK" 0 "$?"

# ---- readers: replay --commands, sessions --command, sessions --json -----
"$NSGATE" replay --commands --key "$T/root.key" "$S" >"$T/r" 2>"$T/rerr"
eq "replay --commands: exit 0 (verified OK)" 0 "$?"
eq "... a header, then one line per command" "$(($(wc -l <"$T/j") + 1))" "$(wc -l <"$T/r")"
check "... offset, pid, uid, command line" grep -Eq '^ +0:0[0-9]\.[0-9]{3} +[0-9]+ +0  /bin/echo '"'"'two words'"'"'$' "$T/r"
check "... a failed exec's error" grep -q "$T/notexec  \[failed: EACCES Permission denied\]" "$T/r"
check "... newline and bytes that are not UTF-8 quoted, terminal-safe" \
    grep -qF "/bin/echo \$'line1\\x0aline2' '' \$'\\x01x\\x01' \$'\\xff\\xfe'" "$T/r"
check "... no control byte reaches the terminal" sh -c "! LC_ALL=C grep -q '[[:cntrl:]]' '$T/r'"
"$NSGATE" sessions --command '*notexec*' --json >"$T/s" 2>/dev/null
eq "sessions --command: the session that ran it" "$S" "$(jq -r .id "$T/s")"
eq "sessions --json: commands counts the session's command events" "$(wc -l <"$T/j")" \
    "$(jq -r .commands "$T/s")"
eq "... and says they were recorded" true "$(jq -r .record_commands "$T/s")"
eq "sessions --command with the quoted form" "$S" \
    "$("$NSGATE" sessions --command "/bin/echo 'two words'" --json 2>/dev/null | jq -r .id)"
eq "sessions --command: a command nobody ran finds nothing" "" \
    "$("$NSGATE" sessions --command '*never-ran-xyz*' --json 2>/dev/null)"
eq "... text that was only output is no command" "" \
    "$("$NSGATE" sessions --command '*script-ran*' --json 2>/dev/null)"

# ---- argv beyond 64 KiB: cut, marked ------------------------------------
"$NSGATE" enter -q -t "$TPID" -u -p -m --no-pty -- /bin/sh -c \
    '/bin/true "$(head -c 70000 /dev/zero | tr "\0" a)" after' >/dev/null 2>&1
S=$(last_session)
cmd_json "$S" >"$T/j"
eq "a 70 000-byte argument: truncated, at most 64 KiB of argv kept" "true 65536" \
    "$(jq -r 'select(.argv[0] == "/bin/true") | "\(.truncated) \([.argv[] | length + 1] | add <= 65536 | if . then 65536 else "more" end)"' "$T/j")"

# ---- a background job that execs after its shell has exited -------------
# The inner shell starts the job and exits; the job execs later, while the
# session (the outer shell) still runs.
"$NSGATE" enter -q -t "$T1" -u -p -m --no-pty -- /bin/sh -c \
    '/bin/sh -c "( /bin/sleep 0.3; exec /bin/echo orphan-job ) & exit 0"; /bin/sleep 0.8' \
    >"$T/out" 2>&1
S=$(last_session)
cmds "$S" >"$T/c"
check "a background job's exec after its shell exited" has "$T/c" "0|/bin/echo|orphan-job"
# The same race at the very end of the session: the program itself exits and
# its job execs at once. An exec that ran (its file exists) is on record.
for i in 1 2 3; do
    rm -f "$T/late-ran"
    "$NSGATE" enter -q -t "$T1" -u -p -m --no-pty -- /bin/sh -c \
        '( while kill -0 $$ 2>/dev/null; do :; done; exec /usr/bin/touch '"$T"'/late-ran ) & exit 0' \
        >/dev/null 2>&1
    S=$(last_session)
    if [ -e "$T/late-ran" ] && ! cmds "$S" | grep -qx "0|/usr/bin/touch|$T/late-ran"; then
        not_ok "an exec at the session's very end ran unrecorded (try $i)"
    fi
done

# ---- the target's own processes never appear ----------------------------
start_target --pid --mount-proc -- sh -c 'while :; do /bin/true target-own; sleep 0.05; done'
T2=$TPID
TPID=$T1
"$NSGATE" enter -q -t "$T2" -p -m --no-pty -- /bin/sh -c '/bin/sleep 0.5; /bin/echo mine' >/dev/null 2>&1
S=$(last_session)
cmds "$S" >"$T/c"
check "the session's own command is there" has "$T/c" "0|/bin/echo|mine"
check "none of the target's own execs" sh -c "! grep -q target-own '$T/c'"

# ---- concurrent sessions ------------------------------------------------
pids=""
for n in 1 2 3 4; do
    "$NSGATE" enter -q -t "$TPID" -u -p -m --no-pty -- /bin/sh -c \
        "for i in 1 2 3 4 5; do /bin/echo conc-$n-\$i; done" >/dev/null 2>&1 &
    pids="$pids $!"
done
for p in $pids; do wait "$p"; done
"$NSGATE" sessions --json 2>/dev/null | head -4 | jq -r .id >"$T/ids"
bad=0
while read -r s; do
    cmds "$s" >"$T/c"
    n=$(grep -o 'conc-[0-9]' "$T/c" | sort -u)
    [ "$(echo "$n" | wc -l)" -eq 1 ] && [ "$(grep -c '^0|/bin/echo|conc-' "$T/c")" -eq 5 ] || bad=1
done <"$T/ids"
eq "four concurrent sessions: each holds its own five commands" 0 "$bad"

# ---- a session whose processes are not root's ----------------------------
# Their /proc/PID/mem is theirs alone (mode 0600): the recorder, root without
# CAP_DAC_OVERRIDE, reads argv with process_vm_readv (the ptrace check).
sed 's/^host_access = yes$/host_access = yes\nrun_as = 65534:65534\ncapabilities = none/' \
    "$T/etc/policy.ini" >"$T/etc/nobody.ini"
chmod 644 "$T/etc/nobody.ini"
"$NSGATE" enter -q --policy "$T/etc/nobody.ini" -t "$TPID" -u --no-pty -- /bin/sh -c \
    'cd /; /bin/echo "as nobody"; /usr/bin/id -u' >"$T/out" 2>"$T/err"
eq "run_as = 65534: the session runs" 0 "$?"
eq "... as that uid" "$(printf 'as nobody\n65534')" "$(cat "$T/out")"
S=$(last_session)
cmds "$S" >"$T/c"
check "... its commands are recorded" has "$T/c" "0|/bin/echo|as nobody"
check "... all of them" has "$T/c" "0|/usr/bin/id|-u"
eq "... with the uid they ran as" "65534" \
    "$(cmd_json "$S" | jq -r 'select(.argv[0] == "/usr/bin/id") | .uid')"

# ---- record_commands = no -----------------------------------------------
sed 's/^audit = best-effort$/audit = best-effort\nrecord_commands = no/' "$T/etc/policy.ini" >"$T/etc/nocmd.ini"
chmod 644 "$T/etc/nocmd.ini"
"$NSGATE" enter -q --policy "$T/etc/nocmd.ini" -t "$TPID" -u --no-pty -- /bin/sh -c '/bin/echo off' \
    >"$T/out" 2>/dev/null
eq "record_commands = no: the session runs" "off" "$(cat "$T/out")"
S=$(last_session)
eq "... and records no command" "" "$(cmds "$S")"
"$NSGATE" check --policy "$T/etc/nocmd.ini" -t "$TPID" -u -- /bin/sh >"$T/out" 2>/dev/null
check "check shows record_commands" grep -q "record_commands=no" "$T/out"
python3 -c "
import sqlite3,sys; d=sqlite3.connect('file:'+sys.argv[1]+'?mode=ro', uri=True)
print(*[r[0] for r in d.execute('select record_commands from sessions order by start_ns desc limit 2')])" \
    "$NSGATE_DB" >"$T/rc"
eq "the header says whether commands were recorded" "0 1" "$(cat "$T/rc")"

# ---- leave_processes: a process left over cannot exec --------------------
sed 's/^host_access = yes$/host_access = yes\nleave_processes = yes/' "$T/etc/policy.ini" >"$T/etc/leave.ini"
chmod 644 "$T/etc/leave.ini"
rm -f "$T/left-ran" "$T/left-rc" "$T/left-go"
# The left-over process waits (shell builtins only) until nsgate has exited.
"$NSGATE" enter -q --policy "$T/etc/leave.ini" -t "$TPID" -u -p -m --no-pty -- /bin/sh -c \
    '( while [ ! -e '"$T"'/left-go ]; do :; done
       /usr/bin/touch '"$T"'/left-ran; echo $? >'"$T"'/left-rc ) >/dev/null 2>&1 & exit 0' \
    >/dev/null 2>&1
LS=$(last_session)
touch "$T/left-go"
for _ in $(seq 1 100); do [ -e "$T/left-rc" ] && break; sleep 0.05; done
# leave_processes keeps the session's cgroup for what it left: remove it
for g in "$(cgroup2_root)"/nsgate-"$LS" "$(cgroup2_root)"/*/nsgate-"$LS"; do
    if [ -d "$g" ]; then rmdir "$g" 2>/dev/null || true; fi
done
check "a process left over after the session cannot exec (no unrecorded command)" test ! -e "$T/left-ran"
check "... its exec failed" sh -c "[ \"\$(cat '$T/left-rc' 2>/dev/null)\" != 0 ]"

# ---- terminal mode: commands typed at a shell ----------------------------
SOCK="$T/tmux.sock"
tm() { tmux -S "$SOCK" "$@"; }
trap 'tm kill-server 2>/dev/null; cleanup' EXIT
tm new-session -d -s t -x 100 -y 30 "env -i PATH=/usr/bin:/bin TERM=xterm NSGATE_POLICY=$NSGATE_POLICY NSGATE_DB=$NSGATE_DB NSGATE_KEYS=$NSGATE_KEYS bash --norc --noprofile"
sleep 0.3
tm send-keys -t t -l "$NSGATE enter -q -t $TPID -u -p -m -- /bin/sh; echo done-\$?"
tm send-keys -t t Enter
for _ in $(seq 1 200); do tm capture-pane -t t -p | grep -qx '# *' && break; sleep 0.05; done
tm send-keys -t t -l "ls -d /tmp; /bin/echo typed-cmd"
tm send-keys -t t Enter
tm send-keys -t t -l "exit"
tm send-keys -t t Enter
for _ in $(seq 1 200); do tm capture-pane -t t -p | grep -q "done-0" && break; sleep 0.05; done
S=$(last_session)
cmds "$S" >"$T/c"
check "terminal mode: the shell" has "$T/c" "0|/bin/sh"
check "terminal mode: a typed command" has "$T/c" "0|ls|-d|/tmp"
check "terminal mode: another" has "$T/c" "0|/bin/echo|typed-cmd"
"$NSGATE" verify --key "$T/root.key" >"$T/v" 2>/dev/null
eq "every session verifies" 0 "$?"
finish
