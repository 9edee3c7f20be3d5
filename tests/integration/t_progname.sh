#!/bin/bash
# A bare PROGRAM ("ip", as nsenter users type it) is resolved against the
# fixed PATH in the filesystem the program runs in, without following a
# link out of that root, and the policy matches the absolute path found.
# A malformed request (-r) is a usage error (64) before anything is read.
. "$(dirname "$0")/lib.sh"

R="$T/root"
mkdir -p "$R/proc" "$R/usr/local/bin" "$R/usr/sbin" "$R/usr/bin" "$R/bin" "$T/host-evil"
cp "$PROBE" "$R/usr/local/bin/probe"
# On the host: a program a hostile link inside the target points at.
printf '#!/bin/sh\ntouch %s/host-evil/RAN\n' "$T" >"$T/host-evil/ip"
chmod 755 "$T/host-evil/ip"
ln -s "../../../../../../../../../../..$T/host-evil/ip" "$R/usr/sbin/ip" # out of the root by ..
ln -s "$T/host-evil/ip" "$R/bin/hostile"                               # out by an absolute path
ln -s /usr/local/bin/probe "$R/usr/bin/tool"                          # a link inside the root
start_target --mount --pid -- sh -c "mount -t proc proc '$R/proc' && exec chroot '$R' /usr/local/bin/probe sleep 600"

got=$("$NSGATE" enter -q -t "$TPID" -m -p -- probe ls / 2>"$T/err" | tr '\n' ' ')
case "$got" in "bin proc usr "*) ok "bare name resolved in the target's root and run" ;;
    *) not_ok "bare name resolved in the target's root and run (got: $got)"; cat "$T/err" ;; esac
"$NSGATE" sessions --json >"$T/s.json" 2>/dev/null
eq "the session records the resolved path, also as argv[0]" "/usr/local/bin/probe /usr/local/bin/probe" \
    "$(head -1 "$T/s.json" | jq -r '.program + " " + .argv[0]')"
"$NSGATE" enter -q -t "$TPID" -m -p -- ip 2>"$T/err"
eq "a link out of the root by ..: not found, 127" 127 "$?"
check "... saying where it looked" grep -q "not found in PATH .* in the target's filesystem" "$T/err"
"$NSGATE" enter -q -t "$TPID" -m -p -- hostile 2>"$T/err"
eq "an absolute link to a host path: not found inside, 127" 127 "$?"
check "the host program a link named never ran" test ! -e "$T/host-evil/RAN"
got=$("$NSGATE" enter -q -t "$TPID" -m -p -- tool ls /usr/bin 2>/dev/null | tr '\n' ' ')
eq "a link inside the root is followed inside it" "tool " "$got"
"$NSGATE" enter -q -t "$TPID" -m -p -- nosuchprogram 2>/dev/null
eq "a name in no PATH directory: 127" 127 "$?"
"$NSGATE" enter -q -t "$TPID" -m -p -- ./probe 2>"$T/err"
eq "a relative path is not a bare name: 64" 64 "$?"

# Without mnt the program runs in the host's filesystem: resolved there.
start_target --uts -- sleep 600
got=$("$NSGATE" enter -q -t "$TPID" -u -- readlink /proc/self/exe 2>"$T/err")
eq "without mnt: resolved in the host's filesystem" "$(readlink -f "$(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin command -v readlink)")" "$got"

# The policy matches the resolved absolute path.
cat >"$T/etc/prog.ini" <<'POLICY'
[defaults]
audit = best-effort

[allow root-probe-only]
users = root
targets = *
namespaces = mnt, pid
commands = /usr/local/bin/probe
POLICY
chmod 644 "$T/etc/prog.ini"
start_target --mount --pid -- sh -c "mount -t proc proc '$R/proc' 2>/dev/null; exec chroot '$R' /usr/local/bin/probe sleep 600"
"$NSGATE" enter -q --policy "$T/etc/prog.ini" -t "$TPID" -m -p -- probe ls / >/dev/null 2>"$T/err"
eq "commands = /usr/local/bin/probe allows the bare name probe" 0 "$?"
"$NSGATE" enter -q --policy "$T/etc/prog.ini" -t "$TPID" -m -p -- tool ls / >/dev/null 2>"$T/err"
eq "... and denies tool, which resolves to /usr/bin/tool" 77 "$?"
"$NSGATE" check --policy "$T/etc/prog.ini" -t "$TPID" -m -p -- probe >"$T/out" 2>"$T/err"
eq "check allows the bare name" 0 "$?"
check "check shows the resolution" grep -q "probe resolves to /usr/local/bin/probe in the target's filesystem" "$T/err"
"$NSGATE" check --policy "$T/etc/prog.ini" --attr comm=x -m -p -- probe >/dev/null 2>"$T/err"
eq "check of a bare name with mnt and no real target: 64" 64 "$?"
"$NSGATE" check --policy "$T/etc/prog.ini" --attr comm=x -u -- true >/dev/null 2>"$T/err"
eq "check of a bare name without mnt: resolved on the host, denied by commands" 77 "$?"
check "... showing the host path" grep -q "true resolves to /usr/.*bin/true in the host's filesystem" "$T/err"

# -r is checked first: 64, before the policy (78), the target (69) or audit.
printf 'garbage\n' >"$T/etc/bad.ini"
chmod 644 "$T/etc/bad.ini"
bad=$(printf 'a\001b')
"$NSGATE" enter -q --policy "$T/etc/bad.ini" -t 999999 -n -r "$bad" -- /bin/true 2>"$T/err"
eq "bad -r with a broken policy and no target: 64 first" 64 "$?"
check "... naming -r" grep -q -- "-r: the reason" "$T/err"
"$NSGATE" enter -q -t 999999 -n -r "$bad" -- /bin/true 2>/dev/null
eq "bad -r with a missing target: 64" 64 "$?"
finish
