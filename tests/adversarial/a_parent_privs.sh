#!/bin/bash
# The recorder more privileged than it needs. For the whole session the
# nsgate parent (P0) used to run as uid 0 with every capability while it
# reads the container's output, matches prompts on it and writes SQLite: a
# bug reached by hostile output there would have had the host (execve,
# mount, setns, modules, ptrace of any process, keystrokes pushed into the
# operator's terminal). Against the old code every check of CapEff below
# fails (000001ffffffffff or the full bounding set, Seccomp 0).
# Now, while a session runs, /proc/P0/status shows only the kept
# capabilities in the effective, permitted and bounding sets, nothing
# inheritable or ambient, NoNewPrivs 1 and Seccomp 2: as root in pipe and
# terminal mode, beneath a root-owned and a user-owned (delegated) target
# cgroup, and through the installed setuid binary as nsgate-test. Fail
# closed: when the drop cannot be made (no CAP_SETPCAP), the session ends
# with 70 before the program ran, recorded as confine-failed. The program
# prints 12 MB of noise first, so the store's batch thread has started (at
# the first full batch, after the drop) and run a WAL checkpoint on its own
# connection (at 1000 pages of 8 KiB): every task of the recorder is
# checked, and there must be exactly two (a thread started before the drop
# would keep root's capabilities and no filter); and no system call of
# either was refused by the filter (the operator would be warned). That the
# filter itself refuses execve, ptrace, setns, ... is unit.test_parentpriv.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/adv_lib.sh"
adv_need_user

CAP_DAC_OVERRIDE=1 CAP_KILL=5 CAP_SYS_PTRACE=19 CAP_AUDIT_WRITE=29
# CAP_KILL always; CAP_SYS_PTRACE for the command recorder (record_commands
# is on by default; a session with it off keeps CAP_KILL alone, below).
KILL=$(((1 << CAP_KILL) | (1 << CAP_SYS_PTRACE)))
field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null; }
MARK="$T/u/ran"
mkdir -p "$T/u" && chown "$ADV_USER" "$T/u" && chmod 755 "$T/u"
PROG=(/bin/sh -c "head -c 12000000 /dev/urandom; touch $MARK; sleep 2")

# Until the program has started: by then the recorder must be confined (it
# restricts itself before it lets the entering child go).
wait_program() { # PID
    for _ in $(seq 1 250); do
        [ -e "$MARK" ] && return 0
        kill -0 "$1" 2>/dev/null || return 1
        sleep 0.02
    done
    return 1
}

check_parent() { # LABEL PID WANT-MASK
    local t n=0
    for t in /proc/"$2"/task/*; do
        n=$((n + 1))
        check_task "$1, task ${t##*/}" "$2/task/${t##*/}" "$3"
    done
    eq "$1: its tasks (the relay, the store's batch thread)" 2 "$n"
}

check_task() { # LABEL PID/task/TID WANT-MASK
    local want
    want=$(printf '%016x' "$3")
    eq "$1: CapEff" "$want" "$(field "$2" CapEff)"
    eq "$1: CapPrm" "$want" "$(field "$2" CapPrm)"
    eq "$1: CapBnd" "$want" "$(field "$2" CapBnd)"
    eq "$1: CapInh" 0000000000000000 "$(field "$2" CapInh)"
    eq "$1: CapAmb" 0000000000000000 "$(field "$2" CapAmb)"
    eq "$1: NoNewPrivs" 1 "$(field "$2" NoNewPrivs)"
    eq "$1: Seccomp" 2 "$(field "$2" Seccomp)"
    eq "$1: Seccomp_filters" 1 "$(field "$2" Seccomp_filters)"
}

# session LABEL WANT-MASK COMMAND...: run a session in the background, check
# its recorder while the program runs; CAP_AUDIT_WRITE is kept exactly when
# the session is audited (another test's audit daemon may be running).
session() {
    local label=$1 want=$2 p0 st
    shift 2
    rm -f "$MARK"
    "$@" >"$T/out" 2>"$T/err" </dev/null &
    p0=$!
    if wait_program "$p0"; then
        grep -q "recorded and audited" "$T/err" && want=$((want | 1 << CAP_AUDIT_WRITE))
        check_parent "$label" "$p0" "$want"
    else
        not_ok "$label: the program never ran"
        cat "$T/err"
    fi
    wait "$p0"
    st=$?
    eq "$label: the session ends 0" 0 "$st"
    check "$label: no system call refused" sh -c "! grep -q 'filter refused' '$T/err'"
}

policy() { # USER JOIN_CGROUP
    printf '[defaults]\naudit = best-effort\n\n[allow it]\nusers = %s\ntargets = *\n' "$1" \
        >"$T/etc/policy.ini"
    printf 'namespaces = net\nhost_access = yes\njoin_cgroup = %s\n' "$2" >>"$T/etc/policy.ini"
    chmod 644 "$T/etc/policy.ini"
}

start_target --net -- sleep 600
policy root no
session "root, pipe mode" "$KILL" "$NSGATE" enter -t "$TPID" -n -- "${PROG[@]}"
session "root, terminal mode" "$KILL" "$NSGATE" enter --pty -t "$TPID" -n -- "${PROG[@]}"
# record_commands = no: nothing to trace, so no CAP_SYS_PTRACE either.
printf 'record_commands = no\n' >>"$T/etc/policy.ini"
session "root, record_commands = no" $((1 << CAP_KILL)) "$NSGATE" enter -t "$TPID" -n -- "${PROG[@]}"
policy root no

# join_cgroup = yes: the session group is removed from beneath the target's
# group at the end; CAP_DAC_OVERRIDE only when that group is not root's to
# write (a delegated group owned by a user), and the removal still works.
CG2=$(cgroup2_root)
TG="$CG2/nsgate-adv-pp-$$"
mkdir "$TG" && CGROUPS="$TG"
echo "$TPID" >"$TG/cgroup.procs"
policy root yes
session "root, beneath a root-owned group" "$KILL" "$NSGATE" enter -t "$TPID" -n -- "${PROG[@]}"
eq "... its session group removed" 0 "$(find "$TG" -mindepth 1 -maxdepth 1 -type d | wc -l)"
chown "$ADV_USER" "$TG"
session "root, beneath a user-owned group" $((KILL | 1 << CAP_DAC_OVERRIDE)) \
    "$NSGATE" enter -t "$TPID" -n -- "${PROG[@]}"
eq "... its session group removed" 0 "$(find "$TG" -mindepth 1 -maxdepth 1 -type d | wc -l)"
chown root "$TG"

# Fail closed: without CAP_SETPCAP the securebits and the bounding set cannot
# be set: nothing runs, exit 70, the session says why.
policy root no
rm -f "$MARK"
setpriv --bounding-set -setpcap "$NSGATE" enter -q -t "$TPID" -n -- "${PROG[@]}" \
    >/dev/null 2>"$T/err"
eq "no CAP_SETPCAP: exit 70" 70 "$?"
check "... the program never ran" test ! -e "$MARK"
check "... the operator is told" grep -q "cannot restrict the recorder's privileges" "$T/err"
eq "... recorded as confine-failed, exit 70" "confine-failed 70" \
    "$("$NSGATE" sessions --json | head -1 | jq -r '"\(.end_reason) \(.exit)"')"
"$NSGATE" verify --key "$T/root.key" >/dev/null 2>&1
eq "every session verifies" 0 "$?"

# Through the setuid binary, as an ordinary user (the normal build only).
if [ "${NSGATE_SANITIZE:-OFF}" != "ON" ]; then
    setuid_install
    policy "$ADV_USER" no
    # setpriv itself (not the as_user function): $! must be the recorder.
    session "setuid, as $ADV_USER" "$KILL" setpriv --reuid="$ADV_USER" --regid="$ADV_USER" \
        --init-groups "$B" enter -t "$TPID" -n -- "${PROG[@]}"
else
    echo "# the setuid part runs in the normal build (sanitizers and setuid do not mix)"
fi
finish
