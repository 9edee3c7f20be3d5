#!/bin/bash
# The README's demo: install what is missing, build, start a real podman
# container (runc, cgroupfs; an image built offline from busybox-static, no
# registry needed), and enter it by name with nsgate. Cleans up everything it
# made, the container by its name and files by path, but the image (kept for
# the next run, as the tests keep theirs).
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
NAME="nsgate-demo-web-$$"
IMAGE=localhost/nsgate-demo:busybox
# Two-person control needs a second user and the setuid binary configured
# for a state directory of its own (below): removed at the end.
TP_DIR=/run/nsgate-demo
TP_USER=nsgate-demo-approver
TP_MADE=""
cleanup() {
    podman rm -f -t 0 "$NAME" >/dev/null 2>&1 || true
    rm -rf "$WORK" "$TP_DIR"
    [ -z "$TP_MADE" ] || userdel "$TP_USER" 2>/dev/null || true
}
trap cleanup EXIT

say "a real container: podman, runc, an image built offline from busybox-static"
if ! podman image exists "$IMAGE" 2>/dev/null; then
    r="$WORK/rootfs"
    mkdir -p "$r/bin" "$r/proc" "$r/sys" "$r/dev" "$r/etc" "$r/tmp" "$r/root"
    cp /bin/busybox "$r/bin/busybox"
    for a in $(/bin/busybox --list); do [ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"; done
    printf 'root:x:0:0:root:/root:/bin/sh\n' >"$r/etc/passwd"
    tar -C "$r" -c . | podman import --change 'CMD ["/bin/sh"]' - "$IMAGE" >/dev/null
fi
# (explicit ulimits: runc cannot raise them past the caller's here without
# CAP_SYS_RESOURCE; the engine's default seccomp profile applies)
run podman run -d --name "$NAME" --hostname demo-container --runtime runc \
    --cgroup-manager cgroupfs --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 \
    "$IMAGE" sleep 3600 >/dev/null
TPID=$(podman inspect -f '{{.State.Pid}}' "$NAME")
CID=$(podman inspect -f '{{.Id}}' "$NAME")
echo "container $NAME, ID ${CID:0:12}, main process $TPID on the host"

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
targets = name:nsgate-demo-*
namespaces = all
reason_pattern = ^DEMO-[0-9]+
host_access = yes
no_new_privs = no
max_session = 15m
POLICY
chmod 644 "$NSGATE_POLICY"

say "the policy decides first: nsgate check explains each decision"
run "$NSGATE" check
run "$NSGATE" check --container "$NAME" -a -r "DEMO-1: show nsgate" || true
run "$NSGATE" check --container "$NAME" -a -r "just looking" || true
run "$NSGATE" check --attr comm=secretd --attr "name=$NAME" -n -r DEMO-2 || true
echo "(allow exits 0, deny exits 77)"

say "sealing keys: the root public key is what an auditor keeps off the host"
echo "\$ $NSGATE keygen > root.key"
"$NSGATE" keygen >"$WORK/root.key"
cat "$WORK/root.key"

say "entering the container by name, all its namespaces; the session is recorded"
run "$NSGATE" enter --container "$NAME" -a -r "DEMO-1: show nsgate" -- \
    /bin/sh -c 'echo "hostname: $(/bin/hostname)"; /bin/ps -o pid,comm; /bin/id'

say "as the engine's own exec: the container's seccomp filter, capabilities, no_new_privs"
run "$NSGATE" enter -q --container "$NAME" -a -r DEMO-1 -- /bin/grep -E '^(CapEff|NoNewPrivs|Seccomp)' /proc/self/status
echo "and podman exec, for comparison:"
run podman exec "$NAME" /bin/grep -E '^(CapEff|NoNewPrivs|Seccomp)' /proc/self/status
echo "(util-linux nsenter gives Seccomp: 0 -- a program it starts may do what the container cannot:)"
run nsenter -t "$TPID" -a /bin/grep '^Seccomp:' /proc/self/status

say "a denied request never enters anything"
set +e
"$NSGATE" enter --container "$NAME" -a -r "just looking" -- /bin/true
echo "exit status: $? (denied by policy)"
set -e

say "what a program inside gets: a fresh environment, only descriptors 0 1 2"
run "$NSGATE" enter -q -t "$TPID" -n -p -m -r DEMO-3 -- /bin/env
run "$NSGATE" enter -q -t "$TPID" -n -p -m -r DEMO-3 -- /bin/sh -c 'ls /proc/$$/fd'

say "exit status and signals pass through"
set +e
"$NSGATE" enter -q -t "$TPID" -n -r DEMO-4 -- /bin/sh -c 'exit 3'; echo "exit status: $?"
"$NSGATE" enter -q -t "$TPID" -n -r DEMO-4 -- /bin/sh -c 'kill -TERM $$'; echo "exit status: $? (128+SIGTERM)"
"$NSGATE" enter -q --container nosuch-container -n -r DEMO-4 -- /bin/true; echo "exit status: $? (no such container)"
set -e

say "every session is in the store: list, search, replay"
run "$NSGATE" sessions
FIRST=$("$NSGATE" sessions --grep "hostname: demo-container" --json | tail -1 | jq -r .id)
run "$NSGATE" replay --key "$WORK/root.key" --no-timing "$FIRST"

say "every program run inside is on record: the command timeline and a search by command"
run "$NSGATE" replay --commands --key "$WORK/root.key" "$FIRST"
# (busybox's shell runs a bare applet name without an exec: the demo names
# the programs by path, so each is an exec of its own)
run "$NSGATE" sessions --command '/bin/ps *'

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

say "two-person control: a rule that needs a second person's approval"
# The setuid binary as a package installs it, configured for $TP_DIR (its
# build tree is kept for the next run); an approver who is not root.
cmake -S "$ROOT" -B "$ROOT/build/demo-setuid" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DNSGATE_SYSCONFDIR="$TP_DIR/etc" -DNSGATE_STATEDIR="$TP_DIR/var" -DNSGATE_INSTALL_SETUID=ON \
    -DCMAKE_INSTALL_PREFIX="$TP_DIR/prefix" -DNSGATE_TESTS=OFF >/dev/null
cmake --build "$ROOT/build/demo-setuid" --target nsgate -j "$(nproc)" >/dev/null
mkdir -p "$TP_DIR" && chmod 755 "$TP_DIR"
cmake --install "$ROOT/build/demo-setuid" >/dev/null
B="$TP_DIR/prefix/bin/nsgate"
unset NSGATE_POLICY NSGATE_DB NSGATE_KEYS # its own paths, as installed
id "$TP_USER" >/dev/null 2>&1 || { useradd --system --user-group --no-create-home "$TP_USER"; TP_MADE=1; }
mkdir -p -m 755 "$TP_DIR/etc" && mkdir -p -m 700 "$TP_DIR/var"
cat >"$TP_DIR/etc/policy.ini" <<POLICY
[defaults]
audit = best-effort
[allow prod-change]
users = root
targets = name:nsgate-demo-*
namespaces = all
host_access = yes
approval = required
approvers = user:$TP_USER
approval_timeout = 2m
POLICY
chmod 644 "$TP_DIR/etc/policy.ini"
"$B" keygen >"$TP_DIR/root.key" 2>/dev/null
echo "\$ $B check --container $NAME -a -r DEMO-5 | grep ^approval"
"$B" check --container "$NAME" -a -r DEMO-5 | grep '^approval'
echo "\$ $B enter --container $NAME -a -r DEMO-5 -- /bin/hostname &"
"$B" enter --container "$NAME" -a -r DEMO-5 -- /bin/hostname &
REQ=$!
sleep 1
run "$B" sessions --live
ID=$("$B" sessions --live --json | jq -r .id | head -1)
echo "(the requester waits: nothing is entered until the approver says so)"
echo "\$ setpriv --reuid=$TP_USER ... $B approve $ID -r 'DEMO-5 looks fine'"
setpriv --reuid="$TP_USER" --regid="$TP_USER" --init-groups "$B" approve "$ID" -r "DEMO-5 looks fine"
wait "$REQ"
echo "the approval is part of the signed record:"
sqlite3 "$TP_DIR/var/sessions.db" "SELECT CAST(data AS TEXT) FROM events WHERE kind = 'm' AND CAST(data AS TEXT) LIKE 'approval %'"
run "$B" verify --key "$TP_DIR/root.key" "$ID" || true

say "done: the container and the files are cleaned up"
echo "The review page of the first session: $PAGE"
