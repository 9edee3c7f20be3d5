#!/bin/bash
# Hostile targets (security.md, CVE-2019-5736 and friends): a /bin/sh that
# links to /proc/self/exe, a "#!/proc/self/exe" script, a chrooted target,
# a target that keeps switching namespaces, and dumpability up to execve.
. "$(dirname "$0")/lib.sh"

hash_before=$(sha256sum <"$NSGATE")
R="$T/root"
mkdir -p "$R/proc" "$R/bin" "$R/marker-dir"
cp "$PROBE" "$R/probe"
ln -s /proc/self/exe "$R/bin/sh"
printf '#!/proc/self/exe\n' >"$R/evil"
# The libraries nsgate links, so that its sealed copy can start inside and
# show that it refuses (without them the kernel cannot even load it: 127).
for lib in $(ldd "$NSGATE" | grep -o '/[^ ]*'); do
    mkdir -p "$R$(dirname "$lib")" && cp -L "$lib" "$R$lib"
done
chmod 755 "$R/evil"
start_target --mount --pid -- sh -c "mount -t proc proc '$R/proc' && exec chroot '$R' /probe sleep 600"

"$NSGATE" enter -q -t "$TPID" -m -p 2>"$T/err1"   # no PROGRAM: the shell, /bin/sh
eq "shell linked to /proc/self/exe: refused with 126" 126 "$?"
check "... saying why" grep -q "nsgate itself" "$T/err1"
"$NSGATE" enter -q -t "$TPID" -m -p -- /evil 2>"$T/err2"
eq "#!/proc/self/exe script: the sealed copy refuses, 126" 126 "$?"
check "... saying why" grep -q "sealed copy" "$T/err2"
"$NSGATE" enter -q -t "$TPID" -m -- /bin/sh 2>/dev/null
rc=$?
check "shell link without the pid namespace: not executed ($rc)" [ "$rc" -eq 127 -o "$rc" -eq 126 ]
eq "the installed nsgate binary is unchanged" "$hash_before" "$(sha256sum <"$NSGATE")"
got=$("$NSGATE" enter -q -t "$TPID" -m -p -- /probe ls / | tr '\n' ' ')
case "$got" in "bin evil "*"marker-dir probe proc "*) ok "a chrooted target is entered at its own root" ;;
    *) not_ok "a chrooted target is entered at its own root (got: $got)" ;; esac

# Dumpable: PR_GET_DUMPABLE is 0 right before execve, seen by strace.
start_target --net -- sleep 600
# (LeakSanitizer cannot run under ptrace: off for this one run)
ASAN_OPTIONS=detect_leaks=0 strace -f -qq -e trace=prctl,execve -o "$T/strace" "$NSGATE" enter -q -t "$TPID" -n -- /bin/true
eq "session under strace succeeds" 0 "$?"
pid=$(awk '/execve\("\/bin\/true"/ {print $1; exit}' "$T/strace")
last=$(awk -v p="$pid" '$1==p && /prctl\(PR_GET_DUMPABLE/ {l=$0} $1==p && /execve\("\/bin\/true"/ {print l; exit}' "$T/strace")
case "$last" in *"PR_GET_DUMPABLE)"*"= 0"*) ok "PR_GET_DUMPABLE is 0 right before execve" ;;
    *) not_ok "PR_GET_DUMPABLE before execve (got: $last)" ;; esac
check "never made dumpable" sh -c "! grep -q 'PR_SET_DUMPABLE, 1' '$T/strace'"

# A target that switches namespaces all the time: refused with 69 when the
# switch falls between decision and entry, never entered elsewhere.
start_target --uts -- "$PROBE" nsflip
n69=0; other=0
for i in $(seq 1 20); do
    "$NSGATE" enter -q -t "$TPID" -u -- /bin/true 2>/dev/null
    case $? in 0) ;; 69) n69=$((n69 + 1)) ;; *) other=$((other + 1)) ;; esac
done
check "namespace switch between decision and entry refused with 69 ($n69 of 20)" [ "$n69" -ge 1 ]
eq "no other failures" 0 "$other"
finish
