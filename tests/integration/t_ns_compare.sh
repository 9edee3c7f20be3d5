#!/bin/bash
# What a program sees inside equals what util-linux nsenter gives for the
# same options, for every namespace type (user and time included).
. "$(dirname "$0")/lib.sh"

inside() { # RUNNER OPTIONS... : print the namespace links, hostname, links, processes
    "$@" /bin/sh -c 'for f in cgroup ipc mnt net pid time user uts; do
            printf "%s " "$f"; readlink /proc/self/ns/$f 2>/dev/null || echo -; done
        hostname; ip -o link | cut -d" " -f2
        # processes only inside the target'"'"'s pid namespace (the host'"'"'s change)
        [ "$(cat /proc/1/comm)" = sleep ] && ps -e -o pid=,comm= | grep -w sleep' 2>/dev/null
}

compare() { # DESCRIPTION OPTIONS...
    local d=$1; shift
    local want got
    want=$(inside nsenter -t "$TPID" "$@")
    got=$(inside "$NSGATE" enter -q -t "$TPID" "$@" --)
    eq "$d: same view as nsenter $*" "$want" "$got"
}

start_target --pid --mount-proc --net --uts --ipc --mount --cgroup --time -- \
    sh -c 'hostname ctr-test; ip link set lo mtu 1234; exec sleep 600'
for opt in -m -u -i -n -C -T "-p -m" "-n -u" -a; do
    # shellcheck disable=SC2086
    compare "namespaces" $opt
done
got=$("$NSGATE" enter -q -t "$TPID" -u -- /bin/hostname)
eq "hostname inside" "ctr-test" "$got"
got=$("$NSGATE" enter -q -t "$TPID" -n -- /usr/sbin/ip -o link | grep -c "lo:.*mtu 1234")
eq "target's network devices visible" "1" "$got"
got=$("$NSGATE" enter -q -t "$TPID" -p -m -- /bin/ps -e -o pid=,comm= | awk '$2=="sleep"{print $1}')
eq "target is pid 1 in its pid namespace" "1" "$got"

# A target with a user namespace of its own.
start_target --user --map-root-user --pid --mount-proc --net --uts --mount -- \
    sh -c 'hostname userns-test; exec sleep 600'
for opt in "-U" "-U -n" "-U -m -p" -a; do
    # shellcheck disable=SC2086
    compare "user namespace" $opt
done
got=$("$NSGATE" enter -q -t "$TPID" -U -u -- /bin/hostname)
eq "hostname inside user+uts" "userns-test" "$got"

# Asking only for namespaces nsgate already shares: refused, 64.
"$NSGATE" enter -q -t $$ -n -- /bin/true 2>"$T/err"
eq "empty request after dropping shared namespaces exits 64" "64" "$?"
check "message says why" grep -q "nothing to enter" "$T/err"
finish
