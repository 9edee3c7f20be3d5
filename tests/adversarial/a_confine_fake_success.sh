#!/bin/bash
# A hostile target fakes the privilege drop of whoever enters it. The
# target installs a seccomp filter in itself that answers setresuid,
# setresgid, setgroups, capset and prctl with SECCOMP_RET_ERRNO and errno 0:
# the call "succeeds" and does nothing. nsgate copies the target's filters
# onto the program (confinement = target); if the copy went on before the
# credential change (as runc installs a container's profile when there is
# no no_new_privs), the drop to the caller's uid would be a no-op and the
# program -- the target's own binary -- would run as root with every
# capability, in the host's user namespace. First the attack is shown
# working against such an order (setpriv dropping privileges under the
# filter stays root); then an ordinary user enters through the installed
# setuid binary under a rule that gives run_as = caller, capabilities =
# none: the program runs as the caller with no capability, under the
# target's filter, and the credentials were verified before it went on.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/adv_lib.sh"

setuid_install
cp "$NSGATE_BUILD/tests/ng_sysc" "$T/ng_sysc"
chmod 755 "$T/ng_sysc"
FAKE=(setresuid 0 setresgid 0 setgroups 0 capset 0 prctl 0)

# The attack against credentials changed under the filter.
got=$("$T/ng_sysc" filter "${FAKE[@]}" -- "$T/ng_sysc" drop "$ADV_UID" "$ADV_GID" -- \
    /bin/grep -E '^(Uid|CapEff):' /proc/self/status 2>&1)
check "the attack works on a drop made under the target's filter (still uid 0: $(echo $got))" \
    grep -q "^Uid:	0	0	0	0" <<<"$got"

cat >"$T/etc/policy.ini" <<POLICY
[defaults]
audit = best-effort

[allow operator]
users = $ADV_USER
targets = comm:sleep
namespaces = mnt, uts, pid
run_as = caller
capabilities = none
# no no_new_privs: the filter then needs CAP_SYS_ADMIN, held until the
# filter is on and dropped by execve (the harder path)
no_new_privs = no
POLICY
chmod 644 "$T/etc/policy.ini"
start_target --mount --uts --pid --mount-proc -- "$T/ng_sysc" filter "${FAKE[@]}" -- sleep 600
got=$(as_user "$B" enter -q -t "$TPID" -m -u -p --no-pty -- /bin/grep -E '^(Uid|Gid|CapPrm|CapEff|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status 2>"$T/err")
eq "through the setuid binary: the caller's ids, no capability, under the target's filter" \
    "$(printf 'Uid:\t%s\t%s\t%s\t%s\nGid:\t%s\t%s\t%s\t%s\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t2' \
        "$ADV_UID" "$ADV_UID" "$ADV_UID" "$ADV_UID" "$ADV_GID" "$ADV_GID" "$ADV_GID" "$ADV_GID")" "$got"
[ "$FAIL" -eq 0 ] || cat "$T/err"
finish
