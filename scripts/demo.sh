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

# A throw-away configuration: policy, store and keys live in $WORK, so the
# demo leaves the host's /etc/nsgate and /var/lib/nsgate alone.
mkdir -p "$WORK/etc" && chmod 755 "$WORK" "$WORK/etc"
export NSGATE_POLICY="$WORK/etc/policy.ini" NSGATE_DB="$WORK/var/sessions.db" NSGATE_KEYS="$WORK/var/keys"
mkdir -m 700 "$WORK/var"
cat >"$NSGATE_POLICY" <<'POLICY'
[defaults]
# the demo must run without an audit daemon; production keeps "required"
audit = best-effort

[deny sensitive-services]
users = *
targets = comm:vault*, comm:secretd

[allow sre-debug]
users = root
targets = container:*
namespaces = all
reason_pattern = ^DEMO-[0-9]+
host_access = yes
max_session = 15m
POLICY
chmod 644 "$NSGATE_POLICY"

say "the policy decides first: nsgate check explains each decision"
run "$NSGATE" check
run "$NSGATE" check --container "${CID:0:12}" -a -r "DEMO-1: show nsgate" || true
run "$NSGATE" check --container "${CID:0:12}" -a -r "just looking" || true
run "$NSGATE" check --attr comm=secretd --attr "container=$CID" -n -r DEMO-2 || true
echo "(allow exits 0, deny exits 77)"

say "sealing keys: the root public key is what an auditor keeps off the host"
echo "\$ $NSGATE keygen > root.key"
"$NSGATE" keygen >"$WORK/root.key"
cat "$WORK/root.key"

say "entering by container ID prefix, all its namespaces; the session is recorded"
run "$NSGATE" enter --container "${CID:0:12}" -a -r "DEMO-1: show nsgate" -- \
    /bin/sh -c 'echo "hostname: $(hostname)"; ip -o link | cut -d" " -f2; ps -e -o pid,comm; id'

say "the same view through util-linux nsenter, for comparison (nothing recorded)"
run nsenter -t "$TPID" -a /bin/sh -c 'echo "hostname: $(hostname)"; ip -o link | cut -d" " -f2'

say "a denied request never enters anything"
set +e
"$NSGATE" enter --container "${CID:0:12}" -a -r "just looking" -- /bin/true
echo "exit status: $? (denied by policy)"
set -e

say "what a program inside gets: a fresh environment, only descriptors 0 1 2"
run "$NSGATE" enter -q -t "$TPID" -n -p -m -r DEMO-3 -- /usr/bin/env
run "$NSGATE" enter -q -t "$TPID" -n -p -m -r DEMO-3 -- /bin/sh -c 'ls /proc/$$/fd'

say "exit status and signals pass through"
set +e
"$NSGATE" enter -q -t "$TPID" -n -r DEMO-4 -- /bin/sh -c 'exit 3'; echo "exit status: $?"
"$NSGATE" enter -q -t "$TPID" -n -r DEMO-4 -- /bin/sh -c 'kill -TERM $$'; echo "exit status: $? (128+SIGTERM)"
"$NSGATE" enter -q --container ffffffff -n -r DEMO-4 -- /bin/true; echo "exit status: $? (no such container)"
set -e

say "every session is in the store: list, search, replay"
run "$NSGATE" sessions
FIRST=$("$NSGATE" sessions --grep "hostname: demo-container" --json | tail -1 | jq -r .id)
run "$NSGATE" replay --key "$WORK/root.key" --no-timing "$FIRST"

say "every program run inside is on record: the command timeline and a search by command"
run "$NSGATE" replay --commands --key "$WORK/root.key" "$FIRST"
run "$NSGATE" sessions --command '*ip -o link*'

say "verify: each session proven unchanged with nothing but the root public key"
run "$NSGATE" verify --key "$WORK/root.key" || true

say "a tampered copy is caught: one byte of recorded output changed"
cp "$NSGATE_DB" "$WORK/tampered.db"
sqlite3 "$WORK/tampered.db" "UPDATE events SET data = CAST(replace(CAST(data AS TEXT), 'demo-container', 'DEMO-container') AS BLOB) WHERE kind = 'o' AND CAST(data AS TEXT) LIKE '%demo-container%';"
set +e
run "$NSGATE" verify --db "$WORK/tampered.db" --key "$WORK/root.key" "$FIRST"
echo "exit status: $? (1 = tampered)"
set -e

say "the kernel audit trail"
if auditctl -s 2>/dev/null | grep -q '^pid [1-9]'; then
    run ausearch -i -m USER_ACCT,USER_START,USER_END --start recent 2>/dev/null | grep -A0 "nsgate" | tail -8 || true
else
    echo "no audit daemon is registered, so this demo ran with audit = best-effort and"
    echo "nothing reached the audit trail; with auditd running, ausearch -i -m USER_START"
    echo "shows each session's uuid and header hash (see docs/audit.md)."
fi

say "review: one self-contained HTML page (metadata, verification, player, command timeline; opens offline)"
mkdir -p "$ROOT/build/demo"
PAGE="$ROOT/build/demo/session-${FIRST:0:8}.html"
rm -f "$PAGE"
run "$NSGATE" export --key "$WORK/root.key" -f html -o "$PAGE" "$FIRST"
run "$NSGATE" export --key "$WORK/root.key" -f asciicast "$FIRST" | head -3

say "done: target and cgroups are cleaned up"
echo "The review page of the first session: $PAGE"
