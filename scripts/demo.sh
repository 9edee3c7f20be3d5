#!/bin/bash
# The README's demo: install what is missing, build, start a throw-away
# "container" (real namespaces, a Docker-style cgroup), and enter it with
# nsgate. Cleans up everything it made, by PID and path.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
[ "$(id -u)" -eq 0 ] || { echo "demo.sh: run as root (sudo scripts/demo.sh)" >&2; exit 1; }
scripts/deps.sh

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "building nsgate"
cmake -S "$ROOT" -B "$ROOT/build/rel" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$ROOT/build/rel" -j "$(nproc)" >/dev/null
NSGATE="$ROOT/build/rel/nsgate"
run "$NSGATE" --version

WORK=$(mktemp -d /tmp/nsgate-demo.XXXXXX)
CG2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
CID=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
SLICE="$CG2/nsgate-demo.slice"
UNSHARE_PID=""
cleanup() {
    [ -n "$UNSHARE_PID" ] && kill -KILL "$UNSHARE_PID" 2>/dev/null || true
    [ -n "${TPID:-}" ] && kill -KILL "$TPID" 2>/dev/null || true
    sleep 0.2
    [ -d "$SLICE" ] && find "$SLICE" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

say "starting a throw-away target: new pid, mount, net, uts and ipc namespaces"
unshare --fork --pid --mount-proc --net --uts --ipc --mount \
    sh -c 'hostname demo-container; ip link set lo up; exec sleep 3600' </dev/null >/dev/null 2>&1 &
UNSHARE_PID=$!
disown "$UNSHARE_PID"
for _ in $(seq 1 100); do
    TPID=$(awk '{print $1}' /proc/$UNSHARE_PID/task/$UNSHARE_PID/children 2>/dev/null || true)
    [ -n "$TPID" ] && break
    sleep 0.05
done
sleep 0.2
mkdir -p "$SLICE/docker-$CID.scope"
echo "$TPID" >"$SLICE/docker-$CID.scope/cgroup.procs"
echo "target pid $TPID, in cgroup /nsgate-demo.slice/docker-${CID:0:12}….scope"

say "entering it by container ID prefix, all its namespaces, pipe mode"
run "$NSGATE" enter --container "${CID:0:12}" -a -r "DEMO-1: show nsgate" -- \
    /bin/sh -c 'echo "hostname: $(hostname)"; ip -o link | cut -d" " -f2; ps -e -o pid,comm; id'

say "the same view through util-linux nsenter, for comparison"
run nsenter -t "$TPID" -a /bin/sh -c 'echo "hostname: $(hostname)"; ip -o link | cut -d" " -f2'

say "what a program inside gets: a fresh environment, only descriptors 0 1 2"
run "$NSGATE" enter -q -t "$TPID" -n -p -m -- /usr/bin/env
run "$NSGATE" enter -q -t "$TPID" -n -p -m -- /bin/sh -c 'ls /proc/$$/fd' 

say "exit status and signals pass through"
set +e
"$NSGATE" enter -q -t "$TPID" -n -- /bin/sh -c 'exit 3'; echo "exit status: $?"
"$NSGATE" enter -q -t "$TPID" -n -- /bin/sh -c 'kill -TERM $$'; echo "exit status: $? (128+SIGTERM)"
"$NSGATE" enter -q --container ffffffff -n -- /bin/true; echo "exit status: $? (no such container)"
set -e

say "done: target and cgroups are cleaned up"
