#!/bin/bash
# The setuid path (security.md, policy.md): nsgate installed setuid-root into
# a temporary prefix whose config and state directories are its own, run by a
# real unprivileged user. Allowed entry works; denied entry never reaches
# setns; what an attacker hands a setuid program is refused or ignored.
. "$(dirname "$0")/lib.sh"

if [ "${NSGATE_SANITIZE:-OFF}" = "ON" ]; then
    echo "SKIP: sanitizers and setuid do not mix; this test runs in the normal build"
    exit 0
fi
USER_NAME=nsgate-test
id "$USER_NAME" >/dev/null 2>&1 || useradd --system --user-group --no-create-home "$USER_NAME"
TUID=$(id -u "$USER_NAME")
as_user() { setpriv --reuid="$USER_NAME" --regid="$USER_NAME" --init-groups "$@"; }

# Build and install setuid-root into $T/prefix, configured for $T/etc, $T/var.
cmake -S "$NSGATE_SRC" -B "$T/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DNSGATE_SYSCONFDIR="$T/etc" -DNSGATE_STATEDIR="$T/var" -DNSGATE_INSTALL_SETUID=ON \
    -DCMAKE_INSTALL_PREFIX="$T/prefix" -DNSGATE_TESTS=OFF \
    -DNSGATE_WEB_PLAYER_DIR="$NSGATE_BUILD/web/node_modules/asciinema-player" >/dev/null || exit 1
cmake --build "$T/build" --target nsgate -j "$(nproc)" >/dev/null || exit 1
cmake --install "$T/build" >/dev/null || exit 1
B="$T/prefix/bin/nsgate"
"$B" keygen >/dev/null 2>&1  # the default key directory of this build: $T/var/keys
check "installed setuid-root" test -u "$B" -a "$(stat -c %u "$B")" = 0

cat >"$T/etc/policy.ini" <<POLICY
[defaults]
audit = best-effort

[deny secret-service]
users = *
targets = comm:secretd

[allow tester-net]
users = $USER_NAME
targets = *
namespaces = net, uts
run_as = caller
capabilities = none
POLICY
chmod 644 "$T/etc/policy.ini"
mkdir -p "$T/u" && chown "$USER_NAME" "$T/u"

start_target --net --uts --ipc -- sleep 600
# 1. Allowed entry works, as the caller, with nothing more than the caller has.
got=$(as_user "$B" enter -q -t "$TPID" -n -- "$PROBE" status | tr '\t' ' ' | grep -E '^(Uid|CapEff|CapPrm|NoNewPrivs)')
eq "allowed entry runs as the caller, no capabilities, no_new_privs" \
    "Uid: $TUID $TUID $TUID $TUID
CapPrm: 0000000000000000
CapEff: 0000000000000000
NoNewPrivs: 1" "$got"
got=$(as_user "$B" enter -q -t "$TPID" -n -- /bin/readlink /proc/self/ns/net)
eq "allowed entry is in the target's network namespace" "$(readlink /proc/$TPID/ns/net)" "$got"

# 2. Denied entry never reaches setns (strace, as root, on the whole tree).
strace -f -qq -e trace=setns -o "$T/strace" setpriv --reuid="$USER_NAME" --regid="$USER_NAME" \
    --init-groups "$B" enter -q -t "$TPID" -i -- /bin/true 2>"$T/err"
eq "namespace outside the rule: denied 77" 77 "$?"
check "... saying no rule allows it" grep -q "no rule allows" "$T/err"
check "... and no setns was ever called" sh -c "! grep -q 'setns(' '$T/strace'"
cp "$(command -v sleep)" "$T/secretd"
start_target --net -- "$T/secretd" 600
as_user "$B" enter -q -t "$TPID" -n -- /bin/true 2>"$T/err"
rc=$?
if grep -q secretd /proc/$TPID/comm; then
    eq "deny rule: 77" 77 "$rc"
    check "... naming the rule" grep -q "rule secret-service" "$T/err"
fi
start_target --net --uts -- sleep 600

# 3. What the caller controls: LD_PRELOAD, NSGATE_*, path options.
printf '__attribute__((constructor)) static void f(void) { int fd = __builtin_open("%s", 0101, 0644); (void)fd; }\n' \
    "$T/u/preload-ran" >"$T/evil.c"
sed -i 's/__builtin_open/open/; 1i #include <fcntl.h>' "$T/evil.c"
gcc -shared -fPIC -o "$T/evil.so" "$T/evil.c"
chmod 755 "$T/evil.so"
as_user env LD_PRELOAD="$T/evil.so" "$B" enter -q -t "$TPID" -n -- /bin/true
eq "LD_PRELOAD: session still works" 0 "$?"
check "LD_PRELOAD: the library never ran in nsgate or the program" test ! -e "$T/u/preload-ran"
printf '[defaults]\naudit = best-effort\n[allow all]\nusers = *\ntargets = *\nnamespaces = all\nhost_access = yes\nrun_as = root\ncapabilities = keep\n' >"$T/u/open.ini"
as_user env NSGATE_POLICY="$T/u/open.ini" "$B" enter -q -t "$TPID" -u -n -- /bin/id -u >"$T/out" 2>&1
eq "NSGATE_POLICY is ignored for a non-root caller" "$TUID" "$(grep -v '^nsgate' "$T/out")"
for opt in "--policy $T/u/open.ini" "--db $T/u/x.db" "--keys $T/u"; do
    # shellcheck disable=SC2086
    as_user "$B" enter -q $opt -t "$TPID" -n -- /bin/true 2>"$T/err"
    eq "$opt by a non-root caller: 77" 77 "$?"
    check "... saying it is for root only" grep -q "root only" "$T/err"
done

setpriv --reuid="$USER_NAME" --regid="$USER_NAME" --init-groups --no-new-privs \
    "$B" enter -q -t "$TPID" -n -- /bin/true 2>"$T/err"
check "a setuid start with no_new_privs is refused ($?)" grep -q "no_new_privs is set" "$T/err"

# 4. An unsafe policy denies everything (78), each with its own message.
chmod 664 "$T/etc/policy.ini"
as_user "$B" enter -q -t "$TPID" -n -- /bin/true 2>"$T/err"
eq "group-writable policy: 78" 78 "$?"
check "... saying so" grep -q "writable by group or other" "$T/err"
chmod 644 "$T/etc/policy.ini"
chown "$USER_NAME" "$T/etc/policy.ini"
as_user "$B" enter -q -t "$TPID" -n -- /bin/true 2>"$T/err"
eq "policy not owned by root: 78" 78 "$?"
check "... saying so" grep -q "not owned by root" "$T/err"
chown root "$T/etc/policy.ini"
mv "$T/etc/policy.ini" "$T/etc/real.ini"
ln -s "$T/etc/real.ini" "$T/etc/policy.ini"
as_user "$B" enter -q -t "$TPID" -n -- /bin/true 2>"$T/err"
eq "symlinked policy: 78" 78 "$?"
check "... saying so" grep -q "symbolic link" "$T/err"
rm "$T/etc/policy.ini" && mv "$T/etc/real.ini" "$T/etc/policy.ini"
as_user "$B" enter -q -t 4194000 -n -- /bin/true 2>"$T/err"
eq "a target that does not exist: 69" 69 "$?"

# 5. The caller cannot stop, kill or slow the running nsgate: ids are 0,
# and the nice value, oom_score_adj and timer slack it was started with are reset.
as_user nice -n 19 choom -n 900 -- "$PROBE" slack 900000000 "$B" enter -q -t "$TPID" -n -- /bin/sleep 3 &
runner=$!
for _ in $(seq 1 100); do
    NPID=$(pgrep -u 0 -f "^$B (--nsgate-sealed-copy )?enter -q -t $TPID -n -- /bin/sleep 3" | head -1)
    [ -n "$NPID" ] && break
    sleep 0.05
done
sleep 0.3
if [ -n "$NPID" ]; then
    eq "recorder ids are 0" "Uid: 0 0 0 0" "$(grep ^Uid: /proc/$NPID/status | tr -s '\t ' ' ' | sed 's/ $//')"
    eq "nice value reset to 0" 0 "$(awk '{print $19}' /proc/$NPID/stat)"
    eq "oom_score_adj reset to 0" 0 "$(cat /proc/$NPID/oom_score_adj)"
    eq "timer slack reset to the default" 50000 "$(cat /proc/$NPID/timerslack_ns)"
    check "the caller cannot stop it" sh -c "! setpriv --reuid=$USER_NAME --regid=$USER_NAME --init-groups kill -STOP $NPID 2>/dev/null"
    check "the caller cannot kill it" sh -c "! setpriv --reuid=$USER_NAME --regid=$USER_NAME --init-groups kill -KILL $NPID 2>/dev/null"
    check "it left the caller's cgroup" sh -c "grep -q '^0::/nsgate\$' /proc/$NPID/cgroup"
else
    not_ok "recorder process found"
fi
wait $runner
eq "the session completed" 0 "$?"

# Tiny resource limits handed to the setuid program (soft limits; a lowered
# hard limit cannot be raised without CAP_SYS_RESOURCE): recording and
# sealing still work.
as_user prlimit --nofile=6: --fsize=1000: --nproc=1: --memlock=0: --sigpending=1: --msgqueue=0: -- \
    "$B" enter -q -t "$TPID" -n -- /bin/sh -c 'i=0; while [ $i -lt 500 ]; do echo rl-line-$i; i=$((i+1)); done' \
    >"$T/rl.out" 2>"$T/rl.err"
eq "tiny RLIMIT_* at a setuid start: the session works" 0 "$?"
eq "... and all its output arrived" 500 "$(grep -c '^rl-line-' "$T/rl.out")"
S=$("$B" sessions --json 2>/dev/null | head -1 | jq -r .id)
"$B" verify --key "$T/root.key" "$S" >"$T/v" 2>/dev/null
check "... and it is recorded and sealed (verify OK)" grep -q "^OK $S" "$T/v"

# 6. Freezing the caller's own (delegated) cgroup does not stop the session.
CG2=$(cgroup2_root)
UCG="$CG2/nsgate-test-user-$$"
mkdir "$UCG" && CGROUPS="$CGROUPS $UCG"
chown "$USER_NAME" "$UCG" "$UCG/cgroup.freeze" "$UCG/cgroup.procs"
as_user sh -c "sleep 0.5; exec '$B' enter -q -t '$TPID' -n -- /bin/sleep 2" &
runner=$!
echo "$runner" >"$UCG/cgroup.procs"
# freeze once nsgate runs (it moves itself at start-up: before that, the
# caller's group is still its own)
for _ in $(seq 1 200); do
    grep -q '^0::/nsgate$' /proc/$runner/cgroup 2>/dev/null && break
    sleep 0.02
done
as_user sh -c "echo 1 > '$UCG/cgroup.freeze'"
start=$(date +%s)
wait $runner
rc=$?
eq "session from a cgroup the caller then froze: completes" 0 "$rc"
check "... in time" [ $(($(date +%s) - start)) -le 5 ]
echo 0 >"$UCG/cgroup.freeze"

# 7. Other subcommands work with the caller's own rights only.
printf '[allow x]\nusers = *\ntargets = *\nnamespaces = net\n' >"$T/etc/secret.ini"
chmod 600 "$T/etc/secret.ini"
as_user "$B" check --policy "$T/etc/secret.ini" 2>"$T/err"
eq "check cannot read a root-only file for the caller: 78" 78 "$?"
as_user "$B" check -t "$TPID" -n >"$T/out" 2>&1
eq "check of the real policy and a real target by the caller" "allow tester-net" "$(head -1 "$T/out")"
as_user "$B" keygen --keys "$T/u/keys" >/dev/null 2>&1
eq "keygen by a non-root caller: 77" 77 "$?"

# 8. export drops privileges before opening any file: with a copy of the
# store the caller may read, it writes the caller's files, never root's.
S=$("$B" sessions --json 2>/dev/null | head -1 | jq -r .id)
for f in sessions.db sessions.db-wal sessions.db-shm; do
    [ -e "$T/var/$f" ] && cp "$T/var/$f" "$T/u/${f/sessions/s}"
done
cp "$T/root.key" "$T/u/root.key"
chown -R "$USER_NAME" "$T/u"
as_user "$B" export --db "$T/u/s.db" --key "$T/u/root.key" -o /etc/nsgate-export-test "$S" 2>"$T/err"
eq "export -o /etc/... by a non-root caller fails: 74" 74 "$?"
check "... and creates nothing there" test ! -e /etc/nsgate-export-test
rm -f /etc/nsgate-export-test
as_user "$B" export --db "$T/u/s.db" --key "$T/u/root.key" -o "$T/u/s.cast" "$S" 2>"$T/err"
eq "export of a readable copy to the caller's own file works" 0 "$?"
check "... owned by the caller" test "$(stat -c %u "$T/u/s.cast")" = "$TUID"
as_user "$B" export --key "$T/u/root.key" "$S" >/dev/null 2>"$T/err"
eq "the real store stays closed to the caller: 66" 66 "$?"
finish
