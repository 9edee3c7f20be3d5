#!/bin/bash
# Attack: run a command inside a session without it being recorded (or
# recorded as something else). The program is root of a container's user
# namespace (host uid 100000, every capability there): it installs its own
# seccomp filters (allow-all, TRACE, a listener of its own, USER_NOTIF with
# no listener), tries prctl, traces its own child and turns a harmless call
# into execve at the syscall-entry stop, execs from a memfd by descriptor,
# through the i386 entry (int $0x80), from a thread that is not the leader,
# and rewrites argv from another thread while the exec waits (from the
# leader and from another thread). Whatever ran
# (its file exists) must be on record exactly once; what the record calls
# verified must be what ran.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/adv_lib.sh"

X="$T/x_cmd_bypass"
cp "$NSGATE_BUILD/tests/x_cmd_bypass" "$X"
chmod 755 "$X"
U="$T/u"
mkdir -p "$U" && chown 100000:100000 "$U" && chmod 755 "$U"

# The container: its own user namespace (root inside is host uid 100000),
# pid and mount namespaces, maps written from the host as a runtime does.
unshare --user --pid --mount --fork sh -c \
    "while [ ! -e '$T/mapped' ]; do sleep 0.02; done; mount -t proc proc /proc; exec sleep 600" \
    </dev/null >/dev/null 2>&1 &
up=$!
TARGETS="$TARGETS $up"
disown "$up" 2>/dev/null
inner=""
for _ in $(seq 1 100); do
    inner=$(awk '{print $1}' /proc/$up/task/$up/children 2>/dev/null)
    [ -n "$inner" ] && break
    sleep 0.02
done
printf '0 100000 65536\n' | dd of=/proc/$inner/uid_map bs=64 2>/dev/null
printf '0 100000 65536\n' | dd of=/proc/$inner/gid_map bs=64 2>/dev/null
touch "$T/mapped"
TPID=$inner
TARGETS="$TARGETS $TPID"
for _ in $(seq 1 100); do grep -q sleep /proc/$TPID/comm && break; sleep 0.02; done

cat >"$T/etc/ct.ini" <<'POLICY'
[defaults]
audit = best-effort

[allow container-root]
users = root
targets = *
namespaces = all
run_as = root
capabilities = keep
POLICY
chmod 644 "$T/etc/ct.ini"

last_session() { "$NSGATE" sessions --json 2>/dev/null | head -1 | jq -r .id; }
cmd_json() {
    "$NSGATE" export -f jsonl --key "$T/root.key" "$1" 2>/dev/null |
        jq -c 'select(.kind == "c") | .data | @base64d | fromjson'
}
run() { # MODE: one session running the attack
    "$NSGATE" enter -q --policy "$T/etc/ct.ini" -t "$TPID" -U -p -m --no-pty -- "$X" "$1" "$U" \
        >"$T/out-$1" 2>"$T/err-$1"
    echo "exit $?" >>"$T/err-$1"
    S=$(last_session)
    cmd_json "$S" >"$T/j-$1"
}
# MODE: ran-MODE exists, and exactly one event execs touch with it.
ran_and_recorded() {
    local m=$1 n
    n=$(jq -r --arg f "$U/ran-$m" 'select(.argv[1] == $f and .result != 2) | .argv[1]' "$T/j-$m" | wc -l)
    if [ -e "$U/ran-$m" ] && [ "$n" -eq 1 ]; then
        ok "$m: it ran and is on record once"
    else
        not_ok "$m: ran=$([ -e "$U/ran-$m" ] && echo yes || echo no) recorded=$n"
        cat "$T/out-$m" "$T/err-$m"
    fi
}

for m in seccomp-allow seccomp-trace seccomp-listener prctl ptrace-self ptrace-swap memfd thread; do
    run "$m"
    ran_and_recorded "$m"
done
eq "ids as the container's user namespace sees them, the host's beside them" "0 0 100000 100000" \
    "$(jq -r 'select(.argv[0] == "/usr/bin/touch") | "\(.uid) \(.gid) \(.host_uid) \(.host_gid)"' "$T/j-prctl")"
check "seccomp-listener: a second listener is refused (EBUSY)" grep -q "Device or resource busy" "$T/out-seccomp-listener"
check "seccomp-allow: its own filter was installed" grep -q "install 0" "$T/out-seccomp-allow"
check "prctl: seccomp cannot be switched off" grep -q "PR_SET_SECCOMP 0 -> -1" "$T/out-prctl"
eq "memfd: recorded as execveat of the descriptor, exe the memfd" "execveat /memfd:innocent (deleted)" \
    "$(jq -r 'select(.syscall == "execveat") | "\(.syscall) \(.exe // .at)"' "$T/j-memfd")"
eq "ptrace-self: the recorder could not attach (the parent traces it): recorded from before" \
    "false" "$(jq -r --arg f "$U/ran-ptrace-self" 'select(.argv[1] == $f) | .verified' "$T/j-ptrace-self")"
eq "thread: an exec from a thread that is not the leader: verified too, under the process's pid" \
    "true /usr/bin/touch" \
    "$(jq -r --arg f "$U/ran-thread" 'select(.argv[1] == $f) | "\(.verified) \(.exe)"' "$T/j-thread")"

# USER_NOTIF with no listener in a later filter: the exec fails (ENOSYS),
# nothing runs, nothing to record.
run seccomp-notif
check "seccomp-notif: the exec failed" grep -q "Function not implemented" "$T/out-seccomp-notif"
check "... and did not run" test ! -e "$U/ran-seccomp-notif"

# The i386 system call entry is covered too (when the kernel has it).
run int80
if grep -q "no i386" "$T/out-int80"; then
    ok "int80: no i386 system calls on this kernel (nothing to bypass)"
else
    ran_and_recorded int80
fi

# argv rewritten by another thread while the exec waits for the recorder:
# each verified record must say what echo really got.
for m in race race-thread; do
    bad=0 tries=20 ver=0
    for i in $(seq 1 $tries); do
        run $m
        printed=$(cat "$T/out-$m")
        rec=$(jq -r 'select(.argv[0] == "/bin/echo") | "\(.verified) \(.argv[1])"' "$T/j-$m")
        case "$rec" in
        "true $printed") ver=$((ver + 1)) ;;
        "false "*) ;;
        *)
            bad=1
            echo "   $m $i: printed '$printed', recorded '$rec'"
            # what it takes to tell a lost output from a wrong record
            sed 's/^/   stderr: /' "$T/err-$m"
            sed 's/^/   event: /' "$T/j-$m"
            "$NSGATE" export -f jsonl --key "$T/root.key" "$S" 2>&1 |
                jq -c 'select(.kind != "c")' 2>&1 | head -12 | sed 's/^/   record: /'
            ;;
        esac
    done
    eq "$m: every verified record is what ran ($ver of $tries verified)" 0 "$bad"
    check "... and every one is verified" test "$ver" -eq "$tries"
done

# The program holds no descriptor of the recorder's.
run fds
check "the program holds no listener" sh -c "! grep -q 'seccomp' '$T/out-fds'"
"$NSGATE" verify --key "$T/root.key" >"$T/v" 2>/dev/null
eq "every attack session verifies" 0 "$?"
finish
