# Shared helpers for integration tests: real targets made with unshare,
# cleanup of everything a test creates (by PID, never by name).
set -u
: "${NSGATE:?NSGATE must name the nsgate binary}"
: "${NSGATE_BUILD:?}"
T=$(mktemp -d /tmp/nsgate-test.XXXXXX)
chmod 755 "$T"
# The probe runs as the target's or the caller's uid: a copy in a directory
# anyone can traverse, wherever the build tree is.
cp "$NSGATE_BUILD/tests/ng_probe" "$T/ng_probe"
chmod 755 "$T/ng_probe"
PROBE="$T/ng_probe"
# A policy that lets root enter anything (host access included): tests of
# the entry engine; policy tests write their own.
mkdir -p "$T/etc"
chmod 755 "$T/etc"
export NSGATE_POLICY="$T/etc/policy.ini"
# default_policy [LINE...]: that policy, LINEs added under [defaults] (such
# as "seal_interval = 200ms").
default_policy() {
    {
        printf '[defaults]\naudit = best-effort\n'
        [ $# -gt 0 ] && printf '%s\n' "$@"
        printf '\n[allow root-anything]\nusers = root\ntargets = *\n'
        printf 'namespaces = all\nhost_access = yes\n'
    } >"$NSGATE_POLICY"
    chmod 644 "$NSGATE_POLICY"
}
default_policy
export NSGATE_DB="$T/var/sessions.db"   # created root-owned 0700 by nsgate
export NSGATE_KEYS="$T/var/keys"
mkdir -m 700 "$T/var"
# Sealing keys (short epochs are not needed here); the root key as an
# auditor would keep it.
"$NSGATE" keygen --keys "$NSGATE_KEYS" >"$T/root.key" 2>/dev/null || { echo "keygen failed"; exit 1; }
TARGETS=""
CGROUPS=""
PASS=0
FAIL=0

cleanup() {
    for p in $TARGETS; do kill -KILL "$p" 2>/dev/null || true; done
    for p in $TARGETS; do while kill -0 "$p" 2>/dev/null; do sleep 0.05; done; done
    for g in $CGROUPS; do
        # children first (deepest paths first)
        find "$g" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    done
    umount -R "$T"/root/proc 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT

ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
check() { # DESCRIPTION, then a command that must succeed
    local d=$1; shift
    if "$@"; then ok "$d"; else not_ok "$d"; fi
}
eq() { # DESCRIPTION WANT GOT
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; printf '   want: %s\n   got:  %s\n' "$2" "$3"; fi
}
finish() {
    echo "$PASS passed, $FAIL failed"
    [ "$FAIL" -eq 0 ]
}

# start_target UNSHARE-OPTIONS... -- COMMAND...: run COMMAND under unshare
# --fork and set TPID to the forked child (the target, not unshare itself).
start_target() {
    local opts=()
    while [ "$1" != "--" ]; do opts+=("$1"); shift; done
    shift
    unshare --fork "${opts[@]}" "$@" </dev/null >/dev/null 2>&1 &
    local up=$! i
    disown "$up" 2>/dev/null || true
    TARGETS="$TARGETS $up"
    for i in $(seq 1 200); do
        TPID=$(cat /proc/$up/task/$up/children 2>/dev/null | awk '{print $1}')
        [ -n "$TPID" ] && break
        sleep 0.02
    done
    [ -n "$TPID" ] || { echo "target did not start"; exit 1; }
    TARGETS="$TARGETS $TPID"
    # wait until the target has exec'ed its final program (every target of
    # these tests ends as sleep or the probe)
    for i in $(seq 1 250); do
        case "$(cat /proc/$TPID/comm 2>/dev/null)" in sleep | ng_probe | probe | secretd) break ;; esac
        sleep 0.02
    done
    sleep 0.05
}

cgroup2_root() {
    awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo
}

# remove_group [--kill] DIR: remove a session's cgroup that a recorder
# killed with SIGKILL left behind (it cannot remove it itself), once its last
# process is gone; --kill first ends what is still in it.
remove_group() {
    local kill=0
    [ "$1" = --kill ] && { kill=1; shift; }
    [ -d "$1" ] || return 0
    [ $kill = 1 ] && echo 1 >"$1/cgroup.kill" 2>/dev/null
    for _ in $(seq 1 40); do
        grep -q '^populated 0' "$1/cgroup.events" 2>/dev/null && break
        sleep 0.05
    done
    rmdir "$1" 2>/dev/null || echo "# could not remove $1"
}

# A 64-hex container ID, random.
new_container_id() {
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'
}
