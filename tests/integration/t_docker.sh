#!/bin/bash
# Docker from Debian (docker.io), as t_podman does for podman: a private
# daemon of this test's own (data root, exec root, socket and pid file in
# its temporary directory; no bridge, no iptables) runs a container from an
# image imported offline from busybox-static. nsgate finds it by name in the
# daemon's state on disk (NSGATE_STATE_ROOT points at the test's data root,
# real root only) and by ID, and its program gets what docker exec's gets:
# capability sets, no_new_privs, seccomp mode and filter count, the same
# answers to syscalls Docker's default profile denies. Skipped (loudly) when
# dockerd is missing or cannot start here.
. "$(dirname "$0")/lib.sh"
skip() {
    echo "########################################################"
    echo "SKIP: $* -- Docker tests NOT run"
    echo "########################################################"
    exit 0
}
command -v dockerd >/dev/null && command -v docker >/dev/null || skip "dockerd or docker missing"
[ -x /bin/busybox ] && file -L /bin/busybox | grep -q "statically linked" || skip "busybox-static missing"
ROOT="$T/state"
mkdir -p "$ROOT/var/lib/docker" "$T/drun"
D=(docker -H "unix://$T/docker.sock")
DPID=""
dcleanup() {
    "${D[@]}" rm -f ng-dk-1 ng-dk-2 >/dev/null 2>&1 || true
    if [ -n "$DPID" ]; then
        kill -TERM "$DPID" 2>/dev/null
        for _ in $(seq 1 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$DPID" 2>/dev/null || true
    fi
    umount -R "$ROOT/var/lib/docker" 2>/dev/null || true
}
trap 'dcleanup; cleanup' EXIT
dockerd --data-root "$ROOT/var/lib/docker" --exec-root "$T/drun" -H "unix://$T/docker.sock" \
    -p "$T/dockerd.pid" --iptables=false --ip6tables=false --bridge=none --ip-forward=false \
    --ip-masq=false --exec-opt native.cgroupdriver=cgroupfs >"$T/dockerd.log" 2>&1 &
DPID=$!
for _ in $(seq 1 150); do "${D[@]}" version >/dev/null 2>&1 && break; sleep 0.2; done
"${D[@]}" version >/dev/null 2>&1 || { tail -5 "$T/dockerd.log"; skip "dockerd did not start"; }
r="$T/rootfs"
mkdir -p "$r/bin" "$r/proc" "$r/sys" "$r/dev" "$r/etc" "$r/tmp"
cp /bin/busybox "$r/bin/busybox"
for a in $(/bin/busybox --list); do [ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$r/etc/passwd"
cp "$NSGATE_BUILD/tests/ng_sysc" "$r/ng_sysc"
tar -C "$r" -c . | "${D[@]}" import --change 'CMD ["/bin/sh"]' - nsgate-test:busybox >/dev/null ||
    skip "docker import failed"
drun() {
    "${D[@]}" run -d --network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 "$@" \
        nsgate-test:busybox sleep 600 >/dev/null
}
drun --name ng-dk-1 --cap-drop NET_RAW || { not_ok "docker run"; finish; exit 1; }
CID=$("${D[@]}" inspect -f '{{.Id}}' ng-dk-1)
ok "a Docker container runs (ng-dk-1, ${CID:0:12})"

cat >"$T/etc/policy.ini" <<'POLICY'
[defaults]
audit = best-effort

[allow as-exec]
users = root
targets = name:ng-dk-*
namespaces = all
no_new_privs = no
POLICY
export NSGATE_STATE_ROOT="$ROOT"
ng() { "$NSGATE" enter -q --container "$1" -a --no-pty -- "${@:2}" 2>>"$T/err"; }
# The program under nsgate also has the command recorder's filter
# (record_commands, docs/security.md "Command recording"), installed before
# the target's: one filter more than the engine's exec, and so mode 2.
plus_cmd() { awk -F'\t' -v OFS='\t' '$1 == "Seccomp:" { $2 = 2 } $1 == "Seccomp_filters:" { $2++ } { print }'; }
compare() {
    local c=$1 w g
    w=$("${D[@]}" exec "$c" /bin/grep -E '^(Cap|NoNewPrivs|Seccomp)' /proc/self/status | plus_cmd)
    g=$(ng "$c" /bin/grep -E '^(Cap|NoNewPrivs|Seccomp)' /proc/self/status)
    eq "$c by name: Cap*, NoNewPrivs, Seccomp, Seccomp_filters as docker exec's (one filter more)" "$w" "$g"
    # keyctl and userfaultfd are denied by Docker's default profile
    w=$("${D[@]}" exec "$c" /ng_sysc call keyctl userfaultfd io_uring_setup getcpu)
    g=$(ng "$c" /ng_sysc call keyctl userfaultfd io_uring_setup getcpu)
    eq "$c: syscall answers as docker exec's ($(echo $w))" "$w" "$g"
}
compare ng-dk-1
eq "by ID prefix too" "$("${D[@]}" exec ng-dk-1 hostname)" "$(ng "${CID:0:12}" /bin/hostname)"
drun --name ng-dk-2 --security-opt no-new-privileges --cap-drop ALL || not_ok "docker run 2"
compare ng-dk-2
"$NSGATE" check --container ng-dk-2 -a -- /bin/true >"$T/check" 2>&1
check "check by name: the name: rule decides" grep -q "^allow as-exec" "$T/check"
unset NSGATE_STATE_ROOT
ng ng-dk-2 /bin/true
eq "without the daemon's state the name is unknown: 69" 69 "$?"
[ "$FAIL" -eq 0 ] || cat "$T/err" "$T/dockerd.log" | tail -20
finish
