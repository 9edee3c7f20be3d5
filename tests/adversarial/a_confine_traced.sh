#!/bin/bash
# A hostile container keeps its confinement from being copied, hoping for
# an unconfined session: one of its processes ptraces the container's main
# process (a process can have one tracer only), so nsgate's PTRACE_SEIZE
# fails. An ordinary user then enters through the installed setuid binary
# (confinement = target, the default). nsgate must refuse (69, saying why),
# record no session and start no program, rather than fall back to an
# unconfined one (what nsgate did before confinement existed: every
# program ran with Seccomp 0). Once the tracer is gone, the same request is
# entered, under the container's filter.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/adv_lib.sh"

setuid_install
cp "$NSGATE_BUILD/tests/ng_sysc" "$T/ng_sysc"
chmod 755 "$T/ng_sysc"
S="$T/ng_sysc"
cat >"$T/etc/policy.ini" <<POLICY
[defaults]
audit = best-effort

[allow operator]
users = $ADV_USER
targets = comm:sleep
namespaces = mnt, uts, pid
run_as = caller
capabilities = none
POLICY
chmod 644 "$T/etc/policy.ini"
# The "container": its main process under a filter, traced by a sibling;
# sh stays the pid namespace's init.
start_target --mount --uts --pid --mount-proc -- /bin/sh -c \
    "$S filter getcpu 1 -- sleep 600 & $S trace \$! & wait"
INIT=$TPID
MAIN="" TRACER=""
for _ in $(seq 1 100); do
    for c in $(cat "/proc/$INIT/task/$INIT/children" 2>/dev/null); do
        case "$(cat "/proc/$c/comm" 2>/dev/null)" in
        sleep) MAIN=$c ;;
        ng_sysc) TRACER=$c ;;
        esac
    done
    [ -n "$MAIN" ] && [ -n "$TRACER" ] && grep -q "^TracerPid:	$TRACER\$" "/proc/$MAIN/status" && break
    sleep 0.05
done
TARGETS="$TARGETS $MAIN $TRACER"
check "the container's main process is traced from inside (TracerPid $TRACER)" \
    grep -q "^TracerPid:	$TRACER\$" "/proc/$MAIN/status"
n0=$(sqlite3 "$NSGATE_DB" "select count(*) from sessions" 2>/dev/null || echo 0)
as_user "$B" enter -t "$MAIN" -m -u -p --no-pty -- /bin/sh -c 'echo UNCONFINED; grep ^Seccomp: /proc/self/status' \
    >"$T/out" 2>"$T/err"
eq "through the setuid binary: refused, 69" 69 "$?"
check "... saying the target is traced and its filter cannot be copied" \
    grep -q "being traced by another process.*cannot be copied; nothing was entered" "$T/err"
check "... no program ran" test ! -s "$T/out"
eq "... no session was recorded" "$n0" "$(sqlite3 "$NSGATE_DB" "select count(*) from sessions" 2>/dev/null || echo 0)"
kill -KILL "$TRACER"
for _ in $(seq 1 100); do grep -q "^TracerPid:	0\$" "/proc/$MAIN/status" && break; sleep 0.05; done
got=$(as_user "$B" enter -q -t "$MAIN" -m -u -p --no-pty -- "$S" call getcpu 2>>"$T/err")
eq "the tracer gone: entered, under the container's filter" "getcpu: EPERM" "$got"
[ "$FAIL" -eq 0 ] || cat "$T/err"
finish
