#!/bin/bash
# nsgate watch and sessions --live (two-person control): a running
# session's output is shown before the session ends, at most about 250 ms
# after it was written (the recorder commits every 150 ms while output
# flows, seal_interval notwithstanding); --from-now skips what came before;
# watch ends with the session and says how; a finished session is replayed;
# sessions --live lists running sessions only. The three-user tests of the
# same commands through the setuid binary are t_twoperson.sh.
. "$(dirname "$0")/lib.sh"

cat >"$T/etc/slow.ini" <<'POLICY'
[defaults]
audit = best-effort
seal_interval = 10s
[allow r]
users = root
targets = *
namespaces = all
host_access = yes
POLICY
chmod 644 "$T/etc/slow.ini"
start_target --uts -- sleep 600

# A program that prints a stamp (ns since the epoch) every 300 ms, then
# waits for a file before it ends.
"$NSGATE" enter -q --policy "$T/etc/slow.ini" -t "$TPID" -u -r watch -- /bin/sh -c \
    "for i in 1 2 3 4 5 6 7 8; do echo \"stamp \$i \$(date +%s%N)\"; sleep 0.3; done; while [ ! -e $T/go ]; do sleep 0.1; done; echo bye" \
    >"$T/prog.out" 2>"$T/prog.err" &
runner=$!
for _ in $(seq 1 100); do
    ID=$("$NSGATE" sessions --live --json | jq -r .id | head -1)
    [ -n "$ID" ] && break
    sleep 0.05
done
check "sessions --live lists the running session" test -n "$ID"
"$NSGATE" sessions --live >"$T/live.txt"
check "... as running, in the table" grep -q "^$ID  running" "$T/live.txt"
eq "... and in JSON" running "$("$NSGATE" sessions --live --json | jq -r 'select(.id=="'"$ID"'") | .state')"

sleep 0.7
# watch from the start and from now, stamping each line as it arrives
( "$NSGATE" watch "$ID" 2>"$T/w1.err" | while IFS= read -r l; do echo "$(date +%s%N) $l"; done >"$T/w1.out" ) &
w1=$!
( "$NSGATE" watch --from-now "${ID:0:8}" 2>"$T/w2.err" | while IFS= read -r l; do echo "$(date +%s%N) $l"; done >"$T/w2.out" ) &
w2=$!
sleep 3.2
check "watch shows output of the running session before it ends" grep -q "stamp 8" "$T/w1.out"
check "... from its start" grep -q "stamp 1 " "$T/w1.out"
check "--from-now skips what was shown before" sh -c "! grep -q 'stamp 1 ' '$T/w2.out' && grep -q 'stamp 8' '$T/w2.out'"
# latency: the arrival stamp minus the program's stamp, for lines that came live
worst=$(awk '$2=="stamp" && $3>=4 { d=($1-$4)/1000000; if (d>m) m=d } END { printf "%d", m }' "$T/w2.out")
echo "# worst watch latency: ${worst} ms"
check "... at most 250 ms behind (worst ${worst} ms, seal_interval 10s)" test "$worst" -le 250
check "the session is still running" kill -0 "$runner"
touch "$T/go"
wait "$runner"
wait "$w1" "$w2"
check "watch ends with the session and says how" grep -q "session $ID ended, exit 0 (exit)" "$T/w1.err"
check "... and shows its last output" grep -q " bye$" "$T/w1.out"
check "sessions --live no longer lists it" sh -c "! '$NSGATE' sessions --live | grep -q '$ID'"

# A finished session: replayed, verified first.
"$NSGATE" watch --key "$T/var/keys/root.pub" "$ID" >"$T/w3.out" 2>"$T/w3.err" ||
    "$NSGATE" watch "$ID" >"$T/w3.out" 2>"$T/w3.err"
eq "watch of a finished session replays it" 0 "$?"
check "... all of it" sh -c "grep -q 'stamp 1 ' '$T/w3.out' && grep -q '^bye$' '$T/w3.out'"

# Terminal-safe: to a terminal, what could act on it is filtered (as replay).
"$NSGATE" enter -q -t "$TPID" -u -- /bin/sh -c 'printf "a\033]52;c;cGF5bG9hZA==\007b\n"; sleep 1.5' >/dev/null 2>&1 &
runner=$!
for _ in $(seq 1 100); do
    ID2=$("$NSGATE" sessions --live --json | jq -r .id | head -1)
    [ -n "$ID2" ] && break
    sleep 0.05
done
script -qfec "'$NSGATE' watch $ID2" /dev/null >"$T/w4.out" 2>&1
wait "$runner"
check "watch to a terminal strips an OSC 52 clipboard write" sh -c "grep -q 'ab' '$T/w4.out' && ! grep -q ']52;' '$T/w4.out'"
"$NSGATE" watch abcdef12 2>/dev/null
eq "an unknown session: 66" 66 "$?"
finish
