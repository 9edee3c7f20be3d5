#!/bin/bash
# How sessions end (recording.md): idle_timeout (124) and max_output (74)
# with the reason shown and recorded; leave_processes = yes keeps what the
# program started; a recorder killed with SIGKILL takes the program with it
# and leaves a store that verifies INCOMPLETE (never OK) with its sealed
# prefix intact; replay refuses a tampered session; sessions filters.
. "$(dirname "$0")/lib.sh"

policy() { # NAME, then extra lines for the allow rule
    local f="$T/etc/$1.ini"; shift
    { printf '[defaults]\naudit = best-effort\nseal_interval = 200ms\n[allow r]\nusers = root\ntargets = *\nnamespaces = all\nhost_access = yes\n'
      printf '%s\n' "$@"; } >"$f"
    chmod 644 "$f"
    echo "$f"
}
last_id() { "$NSGATE" sessions --json | head -1 | jq -r .id; }
end_event() { sqlite3 "$NSGATE_DB" "select cast(data as text) from events where kind='x' and session=(select id from sessions order by start_ns desc limit 1)"; }

start_target --pid --mount-proc --net -- sleep 600

P=$(policy idle "idle_timeout = 1s")
"$NSGATE" enter -q --policy "$P" -t "$TPID" -n -- /bin/sleep 30 </dev/null 2>"$T/err"
eq "idle_timeout: 124" 124 "$?"
check "... the operator is told" grep -q "idle_timeout reached" "$T/err"
check "... and it is recorded" sh -c "echo '$(end_event)' | grep -q '\"reason\":\"idle-timeout\"'"

P=$(policy out "max_output = 64K")
"$NSGATE" enter -q --policy "$P" -t "$TPID" -n -- /usr/bin/yes >/dev/null 2>"$T/err"
eq "max_output: 74" 74 "$?"
check "... the operator is told" grep -q "output limit reached" "$T/err"
check "... and it is recorded" sh -c "echo '$(end_event)' | grep -q '\"reason\":\"output-limit\"'"

P=$(policy leave "leave_processes = yes")
"$NSGATE" enter -q --policy "$P" -t "$TPID" -n -- /bin/sh -c 'setsid sleep 300 >/dev/null 2>&1 & echo $! >'"$T/bg" 2>/dev/null
sleep 0.3
bg=$(cat "$T/bg")
check "leave_processes = yes: the background process is still running" kill -0 "$bg"
kill -KILL "$bg" 2>/dev/null
# leave_processes keeps the session's cgroup for what it left: remove it now
L=$(last_id); sleep 0.2
for g in "$(cgroup2_root)"/nsgate-"$L" "$(cgroup2_root)"/*/nsgate-"$L"; do
    if [ -d "$g" ]; then rmdir "$g" 2>/dev/null || true; fi
done

# The recorder killed mid-session: the program goes too; the store says INCOMPLETE.
"$NSGATE" enter -q -t "$TPID" -n -- /bin/sh -c 'echo before-kill; exec sleep 300' >/dev/null 2>&1 &
runner=$!
for _ in $(seq 1 100); do
    prog=$(pgrep -P "$(pgrep -f "nsgate-sealed-copy enter -q -t $TPID -n -- /bin/sh -c echo before-kill" | head -1)" 2>/dev/null | head -1)
    [ -n "$prog" ] && grep -q sleep "/proc/$prog/comm" 2>/dev/null && break
    sleep 0.05
done
sleep 1.6 # past a seal (seal_interval 1s)
kill -KILL "$runner"
wait "$runner" 2>/dev/null
sleep 0.3
check "the program does not outlive a killed recorder" sh -c "[ -z '$prog' ] || [ ! -e /proc/$prog ] || grep -q '^State:.*Z' /proc/$prog/status"
S=$(last_id)
# its recorder could not remove the (now empty) session cgroup: this test does
for g in "$(cgroup2_root)"/nsgate-"$S" "$(cgroup2_root)"/*/nsgate-"$S"; do
    if [ -d "$g" ]; then rmdir "$g" 2>/dev/null || true; fi
done
"$NSGATE" verify --key "$T/root.key" "$S" >"$T/v" 2>/dev/null
eq "a killed recorder's session: verify exit 2" 2 "$?"
check "... INCOMPLETE, with the sealed prefix" grep -qE "^INCOMPLETE $S events=[0-9]+ sealed=[1-9]" "$T/v"
eq "... sessions says incomplete" incomplete "$("$NSGATE" sessions --json | head -1 | jq -r .state)"
"$NSGATE" replay --key "$T/root.key" --no-timing "$S" >"$T/out" 2>"$T/err"
eq "replay of an incomplete session: exit 2" 2 "$?"
check "... with its recorded output" grep -q before-kill "$T/out"

# A tampered session: replay refuses; with --force it warns and still exits 1.
"$NSGATE" enter -q -t "$TPID" -n -- /bin/echo original-text >/dev/null 2>&1
S=$(last_id)
cp "$NSGATE_DB" "$T/t.db"
sqlite3 "$T/t.db" "update events set data = cast('forged-text' || char(10) as blob) where kind='o' and cast(data as text) like 'original-text%'"
"$NSGATE" replay --db "$T/t.db" --key "$T/root.key" --no-timing "$S" >"$T/out" 2>"$T/err"
eq "replay of a tampered session: exit 1" 1 "$?"
check "... and nothing replayed" sh -c "! grep -q forged '$T/out'"
"$NSGATE" replay --db "$T/t.db" --key "$T/root.key" --no-timing --force "$S" >"$T/out" 2>"$T/err"
eq "replay --force of a tampered session: still exit 1" 1 "$?"
check "... with a warning" grep -qi "tampered" "$T/err"

# sessions filters.
eq "sessions --grep finds the session by its output" "$S" "$("$NSGATE" sessions --grep ORIGINAL-TEXT --json | jq -r .id | head -1)"
eq "sessions --user root --since 1h lists it" "$S" "$("$NSGATE" sessions --user root --since 1h --json | jq -r .id | head -1)"
eq "sessions --until 1h ago lists nothing" "" "$("$NSGATE" sessions --until 1h --json | jq -r .id | head -1)"
eq "sessions --target PID" "$S" "$("$NSGATE" sessions --target "$TPID" --json | jq -r .id | head -1)"
# The target dying mid-session: its pid namespace goes, with the program in it.
start_target --pid --mount-proc --net -- sleep 600
DYING=$TPID
"$NSGATE" enter -q -t "$DYING" -n -p -- /bin/sleep 30 >/dev/null 2>&1 &
runner=$!
sleep 1
kill -KILL "$DYING"
wait "$runner"
eq "the target dies mid-session: the program is killed with it (137)" 137 "$?"
got=$(sqlite3 "$NSGATE_DB" "select cast(data as text) from events where kind='x' and session=(select id from sessions order by start_ns desc limit 1)")
check "... and the end is recorded" sh -c "echo '$got' | grep -q '\"exit\":137'"
start_target --pid --mount-proc --net -- sleep 600

# The operator's side hangs up (SIGHUP to nsgate): 128+1, reason recorded.
"$NSGATE" enter -q -t "$TPID" -n -- /bin/sleep 30 >/dev/null 2>"$T/err" &
runner=$!
sleep 1
kill -HUP "$runner"
wait "$runner"
eq "nsgate gets SIGHUP: 129" 129 "$?"
got=$(sqlite3 "$NSGATE_DB" "select cast(data as text) from events where kind='x' and session=(select id from sessions order by start_ns desc limit 1)")
check "... the reason is recorded" sh -c "echo '$got' | grep -q '\"reason\":\"signal\"'"

finish
