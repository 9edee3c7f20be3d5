#!/bin/bash
# Real containers of a real engine (podman, runc, cgroupfs): nsgate finds
# them by ID prefix and full ID without the engine's API, and the program
# it starts sees what podman exec's sees: namespaces, cgroups, capability
# sets. (The target's seccomp filter and LSM label are the confinement work
# that follows; they are not compared here yet.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman_lib.sh"
podman_image

podman_run --cap-drop NET_RAW -- sleep 600 || { not_ok "podman run"; finish; exit 1; }
ok "a podman container runs ($CNAME, pid $CPID)"
nsview() { for n in cgroup ipc mnt net pid time user uts; do readlink /proc/self/ns/$n; done; }
want=$(podman exec "$CNAME" sh -c 'for n in cgroup ipc mnt net pid time user uts; do readlink /proc/self/ns/$n; done')
got=$("$NSGATE" enter -q --container "${CID:0:12}" -a --no-pty -- /bin/sh -c \
    'for n in cgroup ipc mnt net pid time user uts; do readlink /proc/self/ns/$n; done' 2>"$T/err")
eq "by a 12-digit prefix: the namespaces of podman exec" "$want" "$got"
got=$("$NSGATE" enter -q --container "$CID" -a --no-pty -- /bin/hostname 2>>"$T/err")
eq "by the full ID: the container's host name" "$(podman exec "$CNAME" hostname)" "$got"
want=$(podman exec "$CNAME" cat /proc/self/cgroup)
got=$("$NSGATE" enter -q --container "${CID:0:12}" -a --no-pty -- /bin/cat /proc/self/cgroup 2>>"$T/err")
# The session group is a child of the container's group (join_cgroup): the
# container's own path must be each line's prefix.
bad=0
while IFS= read -r line; do
    h=${line%%:/*}
    p=${line#*:/}
    printf '%s\n' "$got" | grep -q "^$h:/$p" || bad=1
done <<<"$want"
eq "the program runs inside the container's cgroups (every hierarchy)" 0 "$bad"
for f in CapInh CapPrm CapEff CapBnd CapAmb; do
    want=$(podman exec "$CNAME" grep "^$f" /proc/self/status)
    got=$("$NSGATE" enter -q --container "${CID:0:12}" -a --no-pty -- /bin/grep "^$f" /proc/self/status 2>>"$T/err")
    eq "$f as podman exec's (--cap-drop NET_RAW)" "$want" "$got"
done
"$NSGATE" enter -q --container "${CID:0:12}" -a --no-pty -- /bin/touch /tmp/ng-was-here 2>>"$T/err"
check "a file written inside is in the container's filesystem" podman exec "$CNAME" test -e /tmp/ng-was-here
podman stop -t 0 "$CNAME" >/dev/null 2>&1
"$NSGATE" enter -q --container "${CID:0:12}" -a --no-pty -- /bin/true 2>/dev/null
eq "a stopped container: 69" 69 "$?"
[ "$FAIL" -eq 0 ] || cat "$T/err"
finish
