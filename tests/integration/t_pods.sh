#!/bin/bash
# Kubernetes pods by name, without an API server (cli.md --pod, policy.md
# attribute pod): the captured kubelet layout tests/data/kubelet/node.txt is
# laid out under a state root (NSGATE_STATE_ROOT, real root only), with
# fresh container IDs and pod UIDs so parallel runs never meet; targets made
# with unshare are put into cgroups named as the kubelet's cgroupfs and
# systemd drivers name them. --pod NS/POD[/CONTAINER] finds the running
# container instance, pod: rules match, a pod with several containers is
# 64 with their names, an unknown pod or container 69, and a process of
# another pod that names itself like one is not taken for it.
. "$(dirname "$0")/lib.sh"
ROOT="$T/state"
CG2=$(cgroup2_root)
K="$CG2/ng-kube-$$"
CGROUPS="$K $CG2/ng-kube-$$.slice"
# The layout, each 64-hex ID and pod UID replaced by a fresh one (the same
# everywhere it occurs); MAP lists "old new" pairs.
python3 - "$NSGATE_SRC/tests/data/kubelet/node.txt" "$ROOT" "$T/map" <<'PY'
import os, re, sys, uuid, secrets
src, root, mapf = sys.argv[1:]
text = open(src).read()
m = {}
def fresh(x):
    if x not in m:
        m[x] = secrets.token_hex(32) if len(x) == 64 else (
            secrets.token_hex(16) if len(x) == 32 else str(uuid.uuid4()))
    return m[x]
text = re.sub(r'[0-9a-f]{64}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?<=_)[0-9a-f]{32}(?=/|$)',
              lambda g: fresh(g.group(0)), text, flags=re.M)
for line in text.splitlines():
    f = line.split()
    if not f or f[0].startswith('#'):
        continue
    p = root + f[1]
    if f[0] == 'd':
        os.makedirs(p, 0o755, exist_ok=True)
    elif f[0] == 'f':
        open(p, 'w').close()
    else:
        os.symlink(f[2], p)
open(mapf, 'w').write(''.join('%s %s\n' % kv for kv in m.items()))
PY
new() { awk -v o="$1" '$1 == o { print $2 }' "$T/map"; }
API_UID=$(new 0f3c2a71-9d4e-4b8a-a1c6-2e5f7b9d0c13)
APP0=$(new 1c4e7a9b2d5f8c0e3a6b9d2f5c8e1a4b7d0f3c6e9a2b5d8f1c4e7a0b3d6f9c2e)
APP1=$(new 8e2b5d7f0a3c6e9b1d4f7a0c3e6b9d2f5a8c1e4b7d0a3f6c9e2b5d8a1f4c7e0b)
ISTIO=$(new 5b8d1f4a7c0e3b6d9f2a5c8e1b4d7f0a3c6e9b2d5f8a1c4e7b0d3f6a9c2e5b8d)
LEDGER_OLD_UID=$(new 5e1d9c47-2b8a-4f36-9c0e-8a7b6d5c4e31)
LEDGER_UID=$(new c8b7a6d5-4e3f-4a1b-8c9d-0e1f2a3b4c5d)
LEDGER=$(new 9c2e5b8d1f4a7c0e3b6d9f2a5c8e1b4d7f0a3c6e9b2d5f8a1c4e7b0d3f6a9c2e)
LEDGER_OLD=$(new 2f5a8c1e4b7d0a3f6c9e2b5d8a1f4c7e0b3d6f9a2c5e8b1d4f7a0c3e6b9d2f5a)
APIS_UID=$(new 33d556edd3ae8ef21980288cef77ae8b)
APIS=$(new 3959d7abfbd0221e5043fccbcb8040e9a1a4e6518dad483b7a33a131885e0283)
export NSGATE_STATE_ROOT="$ROOT"

# put PID CGROUP: move a target into a cgroup made for it.
put() { mkdir -p "$2" && echo "$1" >"$2/cgroup.procs"; }
# payments/api: the app container restarted (instance 1 runs), the istio
# sidecar; kubelet's cgroupfs driver: kubepods/QOS/pod<UID>/<ID>.
start_target --uts -- sleep 600
APP_PID=$TPID
nsenter -t "$APP_PID" -u hostname app-1
put "$APP_PID" "$K/kubepods/besteffort/pod$API_UID/$APP1"
start_target --uts -- sleep 600
nsenter -t "$TPID" -u hostname istio
put "$TPID" "$K/kubepods/besteffort/pod$API_UID/$ISTIO"
# payments/ledger-0, recreated under a new UID (the old instance's
# directory and link remain); systemd driver, '_' for '-' in the UID.
start_target --uts -- sleep 600
LEDGER_PID=$TPID
nsenter -t "$TPID" -u hostname ledger
put "$TPID" "$CG2/ng-kube-$$.slice/kubepods-burstable.slice/kubepods-burstable-pod${LEDGER_UID//-/_}.slice/cri-containerd-$LEDGER.scope"
# kube-system/kube-apiserver-controlplane: a static pod (32-hex UID).
start_target --uts -- sleep 600
nsenter -t "$TPID" -u hostname apiserver
put "$TPID" "$K/kubepods/burstable/pod$APIS_UID/$APIS"

P=(-u --no-pty -q)
eq "--pod NS/POD/CONTAINER: the running instance of the container" app-1 \
    "$("$NSGATE" enter --pod payments/api-7d9f8b6c5-x2k4q/app "${P[@]}" -- /bin/hostname 2>>"$T/err")"
eq "... the sidecar" istio \
    "$("$NSGATE" enter --pod payments/api-7d9f8b6c5-x2k4q/istio-proxy "${P[@]}" -- /bin/hostname 2>>"$T/err")"
eq "--pod NS/POD of one container, recreated under a new UID (systemd driver)" ledger \
    "$("$NSGATE" enter --pod payments/ledger-0 "${P[@]}" -- /bin/hostname 2>>"$T/err")"
eq "a static pod (32-hex UID)" apiserver \
    "$("$NSGATE" enter --pod kube-system/kube-apiserver-controlplane "${P[@]}" -- /bin/hostname 2>>"$T/err")"
eq "the header records the pod" "payments/ledger-0" "$(python3 -c "
import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select target_pod from sessions order by rowid desc limit 2').fetchall()[1][0])" "$NSGATE_DB")"
"$NSGATE" enter --pod payments/api-7d9f8b6c5-x2k4q "${P[@]}" -- /bin/true 2>"$T/e2"
eq "a pod of several containers, none named: 64" 64 "$?"
check "... naming them" grep -q "several containers (.*app.*istio-proxy\|several containers (.*istio-proxy.*app" "$T/e2"
"$NSGATE" enter --pod payments/api-7d9f8b6c5-x2k4q/nosuch "${P[@]}" -- /bin/true 2>"$T/e2"
eq "no such container in the pod: 69" 69 "$?"
"$NSGATE" enter --pod payments/nosuch "${P[@]}" -- /bin/true 2>"$T/e2"
eq "no such pod on this node: 69" 69 "$?"
"$NSGATE" enter --pod payments/batch-29xq7 "${P[@]}" -- /bin/true 2>"$T/e2"
eq "a pod whose container has no ID yet: 69" 69 "$?"
"$NSGATE" enter --pod kube-system/kube-proxy-6xsx9 "${P[@]}" -- /bin/true 2>"$T/e2"
eq "a pod of this node with no running process: 69" 69 "$?"
check "... saying so" grep -q "no running process" "$T/e2"

# pod: in rules; check shows the attribute of a real target.
cat >"$T/etc/policy.ini" <<'POLICY'
[defaults]
audit = best-effort

[deny kube-system]
users = *
targets = pod:kube-system/*

[allow payments]
users = root
targets = pod:payments/*
namespaces = uts
host_access = yes
POLICY
"$NSGATE" check -t "$APP_PID" -u -- /bin/true >"$T/check" 2>&1
eq "pod:payments/* allows a payments pod's process (by PID)" "allow payments" "$(head -1 "$T/check")"
"$NSGATE" check --pod kube-system/kube-apiserver-controlplane -u -- /bin/true >"$T/check" 2>&1
eq "pod:kube-system/* denies" "deny kube-system" "$(head -1 "$T/check")"
"$NSGATE" check --attr pod=payments/x -u -- /bin/true >"$T/check" 2>&1
eq "--attr pod= for a hypothetical target" "allow payments" "$(head -1 "$T/check")"

# A process of payments/api making a cgroup beneath its own named like the
# ledger pod's: not the ledger pod's process, and no pod attribute at all.
start_target --uts -- sleep 600
put "$TPID" "$K/kubepods/besteffort/pod$API_UID/$APP0/pod$LEDGER_UID/$LEDGER"
"$NSGATE" check -t "$TPID" -u -- /bin/true >"$T/check" 2>&1
check "a deeper cgroup naming another pod: no pod attribute" \
    grep -q "targets: pod:payments/\*: target has no pod attribute (a deeper cgroup component names a different pod UID)" "$T/check"
eq "... and --pod still finds the ledger's own process" ledger \
    "$("$NSGATE" enter --pod payments/ledger-0/ledger "${P[@]}" -- /bin/hostname 2>>"$T/err")"

# A kubelet tree that group or other may write names no pod.
chmod 777 "$ROOT/var/log/pods"
"$NSGATE" enter --pod payments/ledger-0 "${P[@]}" -- /bin/true 2>"$T/e2"
eq "an unsafe /var/log/pods: refused, 69" 69 "$?"
check "... saying why" grep -q "writable by group or other" "$T/e2"
chmod 755 "$ROOT/var/log/pods"
[ "$FAIL" -eq 0 ] || cat "$T/err"
finish
