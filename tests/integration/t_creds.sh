#!/bin/bash
# run_as and capabilities (policy.md): each form gives exactly the ids,
# groups and capability sets expected, read from /proc/self/status inside.
. "$(dirname "$0")/lib.sh"

rule() { # NAME, then key = value lines for the allow rule
    local f="$T/etc/$1.ini"; shift
    { printf '[defaults]\naudit = best-effort\n[allow r]\nusers = root\ntargets = *\nnamespaces = all\nhost_access = yes\n'
      printf '%s\n' "$@"; } >"$f"
    chmod 644 "$f"
    echo "$f"
}
status() { # POLICY [extra enter options]: the credential lines inside
    local p=$1; shift
    "$NSGATE" enter -q --policy "$p" "$@" -t "$TPID" -n -- "$PROBE" status 2>"$T/err" |
        tr '\t' ' ' | tr -s ' ' | sed 's/ $//'
}
field() { echo "$1" | awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ /, ""); print }'; }
hexcaps() { printf '%016x' "$1"; }

BND=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)   # what nsgate itself holds
start_target --net --pid --mount-proc -- sleep 600

s=$(status "$(rule root-none 'run_as = root' 'capabilities = none')")
eq "run_as = root: uid" "0 0 0 0" "$(field "$s" Uid)"
eq "run_as = root: no supplementary groups" "" "$(field "$s" Groups)"
for c in CapInh CapPrm CapEff CapBnd CapAmb; do
    eq "capabilities = none for uid 0: $c empty (NOROOT securebits)" 0000000000000000 "$(field "$s" $c)"
done
eq "no_new_privs by default" 1 "$(field "$s" NoNewPrivs)"

s=$(status "$(rule ids-list 'run_as = 1234:5678' 'capabilities = net_admin, net_raw' 'no_new_privs = no')")
eq "run_as = UID:GID: uid" "1234 1234 1234 1234" "$(field "$s" Uid)"
eq "run_as = UID:GID: gid" "5678 5678 5678 5678" "$(field "$s" Gid)"
eq "run_as = UID:GID: groups exactly [GID]" "5678" "$(field "$s" Groups)"
want=$(hexcaps $(((1 << 12) | (1 << 13))))
for c in CapInh CapPrm CapEff CapBnd CapAmb; do
    eq "capability list for a non-root uid: $c = net_admin,net_raw" "$want" "$(field "$s" $c)"
done
eq "no_new_privs = no" 0 "$(field "$s" NoNewPrivs)"

s=$(status "$(rule uid-only 'run_as = 4321' 'capabilities = none')")
eq "run_as = UID alone: gid follows the uid" "4321 4321 4321 4321" "$(field "$s" Gid)"
eq "run_as = UID alone: no supplementary groups" "" "$(field "$s" Groups)"
eq "run_as = UID, capabilities = none: nothing permitted" 0000000000000000 "$(field "$s" CapPrm)"

s=$(status "$(rule keep 'run_as = root' 'capabilities = keep')")
eq "capabilities = keep: every capability nsgate holds, effective" "$BND" "$(field "$s" CapEff)"
eq "capabilities = keep: bounding set kept" "$BND" "$(field "$s" CapBnd)"

s=$(status "$(rule caller 'run_as = caller' 'capabilities = none')")
eq "run_as = caller (root here): uid 0" "0 0 0 0" "$(field "$s" Uid)"

# In the target's own user namespace: ids as seen from there.
# (maps written from the host, as a container runtime does)
unshare --user --net sh -c "while [ ! -e '$T/mapped' ]; do sleep 0.02; done; exec setpriv --reuid=33 --regid=33 --clear-groups sleep 600" </dev/null >/dev/null 2>&1 &
up=$!
TARGETS="$TARGETS $up"
disown "$up" 2>/dev/null
sleep 0.2
# (one write each: a map is written once)
printf '0 0 1\n1 100001 65535\n' | dd of=/proc/$up/uid_map bs=64 2>/dev/null
printf '0 0 1\n1 100001 65535\n' | dd of=/proc/$up/gid_map bs=64 2>/dev/null
touch "$T/mapped"
for _ in $(seq 1 100); do grep -q sleep /proc/$up/comm && break; sleep 0.02; done
TPID=$up
s=$(status "$(rule in-userns 'run_as = target' 'capabilities = target')" -U)
eq "run_as = target inside a user namespace: the target's ids as seen there" "33 33 33 33" "$(field "$s" Uid)"
s=$(status "$(rule in-userns-root 'run_as = root' 'capabilities = none')" -U)
eq "run_as = root inside a user namespace: its root" "0 0 0 0" "$(field "$s" Uid)"
U=$(rule unmapped 'run_as = 70000')
"$NSGATE" enter -q --policy "$U" -t "$TPID" -U -- /bin/true 2>"$T/err"
eq "a run_as id not mapped in the target's user namespace: the rule cannot allow (77)" 77 "$?"
"$NSGATE" check --policy "$U" -t "$TPID" -U >"$T/out"
check "... and check says why" grep -q "not mapped in the target's user namespace" "$T/out"
finish
