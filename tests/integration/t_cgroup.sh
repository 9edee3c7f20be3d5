#!/bin/bash
# cgroups: the program runs beneath the target's cgroup (join_cgroup = yes,
# the default), its group is removed at the end and processes it left are
# killed; --container finds a target by the container ID in its cgroup path.
. "$(dirname "$0")/lib.sh"

CG2=$(cgroup2_root)
[ -n "$CG2" ] || { echo "no cgroup2 mount"; exit 1; }
SLICE="$CG2/nsgate-test-$$.slice"
mkdir -p "$SLICE"
CGROUPS="$SLICE"

ID1=$(new_container_id)
ID2=$(new_container_id)
start_target --pid --mount-proc --net --uts -- sleep 600
T1=$TPID
mkdir "$SLICE/docker-$ID1.scope" && echo "$T1" >"$SLICE/docker-$ID1.scope/cgroup.procs"
start_target --pid --mount-proc --net -- sleep 600
T2=$TPID
mkdir "$SLICE/docker-$ID2.scope" && echo "$T2" >"$SLICE/docker-$ID2.scope/cgroup.procs"

rel=${SLICE#"$CG2"}/docker-$ID1.scope
got=$("$NSGATE" enter -q -t "$T1" -n -- /bin/cat /proc/self/cgroup | awk -F: '$1=="0"{print $3}')
case "$got" in "$rel/nsgate-"*) ok "program runs in a group beneath the target's ($got)" ;;
    *) not_ok "program runs beneath the target's cgroup: want $rel/nsgate-*, got $got" ;; esac
left=$(ls -d "$SLICE/docker-$ID1.scope"/nsgate-* 2>/dev/null | wc -l)
eq "the session's group is removed at the end" 0 "$left"

# A background process left by the program is killed when the session ends.
"$NSGATE" enter -q -t "$T1" -n -- /bin/sh -c 'setsid sleep 1000 >/dev/null 2>&1 & echo $! >'"$T/bg"
bg=$(cat "$T/bg")
sleep 0.2
# gone, or a zombie not yet reaped by whoever adopted it
check "left-over background process is gone" sh -c "[ ! -e /proc/$bg ] || grep -q '^State:.*Z' /proc/$bg/status"

# --container: unique prefix, full ID, unknown, ambiguous.
got=$("$NSGATE" enter -q --container "${ID1:0:12}" -u -- /bin/cat /proc/self/cgroup | awk -F: '$1=="0"{print $3}')
case "$got" in "$rel/nsgate-"*) ok "--container with a 12-digit prefix finds the container" ;;
    *) not_ok "--container prefix (got $got)" ;; esac
"$NSGATE" enter -q --container "$ID1" -n -- /bin/true
eq "--container with the full ID" 0 "$?"
"$NSGATE" enter -q --container ffff0000 -n -- /bin/true 2>"$T/err"
eq "--container unknown: 69" 69 "$?"
check "unknown container: clear message" grep -q "no running container has the ID prefix or name ffff0000" "$T/err"
# Make an ambiguous prefix: a third container whose ID shares ID1's first 4 digits.
ID3="${ID1:0:4}$(new_container_id | cut -c5-)"
start_target --net -- sleep 600
mkdir "$SLICE/docker-$ID3.scope" && echo "$TPID" >"$SLICE/docker-$ID3.scope/cgroup.procs"
"$NSGATE" enter -q --container "${ID1:0:4}" -n -- /bin/true 2>"$T/err"
eq "--container ambiguous: 64" 64 "$?"
check "ambiguous: lists the candidates" grep -q "$ID3" "$T/err"
check "ambiguous: lists the candidates (2)" grep -q "$ID1" "$T/err"
"$NSGATE" enter -q --container "xyz1" -n -- /bin/true 2>/dev/null
eq "--container that is not hex: a name no engine knows, 69" 69 "$?"
"$NSGATE" enter -q --container "-xyz1" -n -- /bin/true 2>/dev/null
eq "--container that is neither an ID prefix nor a name: 64" 64 "$?"

# The target's oldest process is the target: a later process in the same
# container does not change that.
echo $$ >/dev/null
start_target --net -- sleep 600
echo "$TPID" >"$SLICE/docker-$ID2.scope/cgroup.procs"
got=$("$NSGATE" enter -q --container "$ID2" -n -- /bin/readlink /proc/self/ns/net)
want=$(readlink /proc/$T2/ns/net)
eq "--container enters the container's oldest process" "$want" "$got"

# Gone targets: 69.
"$NSGATE" enter -q -t 4194000 -n -- /bin/true 2>"$T/err"
eq "a target that does not exist: 69" 69 "$?"
sleep 600 & gone=$!
kill -KILL $gone; wait $gone 2>/dev/null
"$NSGATE" enter -q -t "$gone" -n -- /bin/true 2>/dev/null
eq "a target that exited before entry: 69" 69 "$?"
finish
