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
TNET=$TPID
reach() { sqlite3 "$NSGATE_DB" "SELECT caller_reach FROM sessions ORDER BY start_ns DESC LIMIT 1"; }

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

P=$(rule caller 'run_as = caller' 'capabilities = none')
s=$(status "$P")
eq "run_as = caller (root here): uid 0" "0 0 0 0" "$(field "$s" Uid)"
eq "... the header records that the caller is root (caller_reach)" root "$(reach)"
"$NSGATE" check --policy "$P" -t "$TPID" -n >"$T/out"
check "... and check says so" grep -q "^caller-reach: root (protected): the caller is root" "$T/out"

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

# An ordinary caller (the setuid binary): the caller's own uid is realised in
# a user namespace of nsgate's (docs/security.md "The caller cannot reach
# into the session"): the ids the policy says, seen from inside; on the host
# an unused uid of the isolation range; groups mapped to themselves.
if [ "${NSGATE_SANITIZE:-OFF}" = "ON" ]; then
    echo "# the setuid part runs in the normal build (sanitizers and setuid do not mix)"
    finish
    exit $?
fi
. "$(dirname "$0")/../adversarial/adv_lib.sh"
setuid_install
user_rule() {
    { printf '[defaults]\naudit = best-effort\n[allow u]\nusers = %s\ntargets = *\n' "$ADV_USER"
      printf 'namespaces = net\nhost_access = yes\n'
      printf '%s\n' "$@"; } >"$T/etc/policy.ini"
    chmod 644 "$T/etc/policy.ini"
}
ustatus() { as_user "$B" enter -q -t "$TNET" -n -- "$PROBE" status 2>"$T/err" | tr '\t' ' ' | tr -s ' ' | sed 's/ $//'; }
umap() { as_user "$B" enter -q -t "$TNET" -n -- /bin/cat "/proc/self/$1" 2>/dev/null | tr -s ' ' | sed 's/^ //; s/ $//'; }
in_range() { [ "$1" -ge $((0x78000000)) ] && [ "$1" -lt $((0x78400000)) ]; }
UGROUPS=$(id -G "$ADV_USER" | tr ' ' '\n' | sort -n | tr '\n' ' ' | sed 's/ $//')

user_rule 'run_as = caller' 'capabilities = none'
s=$(ustatus)
eq "user, run_as = caller: the caller's uid inside" "$ADV_UID $ADV_UID $ADV_UID $ADV_UID" "$(field "$s" Uid)"
eq "... the caller's gid" "$ADV_GID $ADV_GID $ADV_GID $ADV_GID" "$(field "$s" Gid)"
eq "... the caller's groups" "$UGROUPS" "$(field "$s" Groups | tr ' ' '\n' | sort -n | tr '\n' ' ' | sed 's/ $//')"
eq "... no capabilities" 0000000000000000 "$(field "$s" CapEff)"
eq "... no_new_privs" 1 "$(field "$s" NoNewPrivs)"
eq "... the header says userns" userns "$(reach)"
m=$(umap uid_map)
check "... the uid maps to one host uid of the isolation range ($m)" in_range "$(echo "$m" | awk -v u="$ADV_UID" '$1 == u && $3 == 1 { print $2 }')"
eq "... and nothing else is mapped" 1 "$(echo "$m" | wc -l)"
eq "... the gids map to themselves" "$ADV_GID $ADV_GID 1" "$(umap gid_map | grep "^$ADV_GID ")"

user_rule "run_as = $ADV_UID:4000" 'capabilities = none'
s=$(ustatus)
eq "user, run_as = own UID:GID: uid inside" "$ADV_UID $ADV_UID $ADV_UID $ADV_UID" "$(field "$s" Uid)"
eq "... gid 4000" "4000 4000 4000 4000" "$(field "$s" Gid)"
eq "... groups exactly [4000]" 4000 "$(field "$s" Groups)"
eq "... gid_map: 4000 to itself" "4000 4000 1" "$(umap gid_map)"

user_rule 'run_as = 4321' 'capabilities = none'
eq "user, run_as = another UID: no namespace of nsgate's, the host's ids" "0 0 4294967295" "$(umap uid_map)"
eq "... the header says other-uid" other-uid "$(reach)"

user_rule 'run_as = caller' 'capabilities = net_admin'
as_user "$B" enter -q -t "$TNET" -n -- /bin/true 2>"$T/err"
eq "user, run_as = caller with capabilities: the rule cannot allow it (77)" 77 "$?"
check "... saying why" grep -q "would hold capabilities" "$T/err"
user_rule 'run_as = caller' 'capabilities = net_admin' 'caller_reach = allow'
s=$(ustatus)
eq "... with caller_reach = allow: runs as the caller on the host, net_admin ambient" \
    "$ADV_UID $(hexcaps $((1 << 12)))" "$(field "$s" Uid | cut -d' ' -f1) $(field "$s" CapAmb)"
eq "... the header says allowed" allowed "$(reach)"
finish
