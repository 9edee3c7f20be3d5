#!/bin/bash
# Recording (recording.md): pipe mode byte-exact with stdout and stderr kept
# apart, replay byte-exact, 16 concurrent sessions into one database, a full
# disk ends the session with 74 and keeps what was recorded, limits end the
# session even when the caller stops reading.
. "$(dirname "$0")/lib.sh"

sid_of_last() { "$NSGATE" sessions --json 2>/dev/null | head -1 | jq -r .id; }
export NSGATE_DB

start_target --pid --mount-proc --net -- sleep 600
# Binary data, NUL and invalid UTF-8, through cat: unchanged, and replayed unchanged.
printf 'a\0b\377\376c\xc3(\n' >"$T/in.bin"
"$NSGATE" enter -q -t "$TPID" -n -- /bin/cat <"$T/in.bin" >"$T/out.bin" 2>/dev/null
check "pipe mode: binary data comes back unchanged" cmp -s "$T/in.bin" "$T/out.bin"
S=$(sid_of_last)
"$NSGATE" replay --db "$NSGATE_DB" --no-timing "$S" >"$T/replay.bin" 2>/dev/null
check "replay is byte-exact" cmp -s "$T/in.bin" "$T/replay.bin"
got=$(sqlite3 "$NSGATE_DB" "select kind, hex(data) from events where session = (select id from sessions order by start_ns desc limit 1) and kind in ('i','o') order by seq" | tr '\n' ' ')
want="i|$(od -An -tx1 "$T/in.bin" | tr -d ' \n' | tr a-f A-F) o|$(od -An -tx1 "$T/in.bin" | tr -d ' \n' | tr a-f A-F) "
eq "input and output recorded as separate events" "$want" "$got"

"$NSGATE" enter -q -t "$TPID" -n -- /bin/sh -c 'echo to-out; echo to-err >&2' >/dev/null 2>&1
got=$(sqlite3 "$NSGATE_DB" "select kind || ':' || hex(data) from events where session = (select id from sessions order by start_ns desc limit 1) and kind in ('o','e') order by seq" | tr '\n' ' ')
eq "stdout and stderr kept apart" "o:$(printf 'to-out\n' | od -An -tx1 | tr -d ' \n' | tr a-f A-F) e:$(printf 'to-err\n' | od -An -tx1 | tr -d ' \n' | tr a-f A-F) " "$got"
got=$("$NSGATE" sessions --json | head -1 | jq -r '[.exit, (.argv|length), .target_pid] | @tsv')
eq "sessions lists exit, argv and target" "0	3	$TPID" "$got"
"$NSGATE" replay --db "$NSGATE_DB" --no-timing "$(sid_of_last)" >"$T/o" 2>"$T/e"
eq "replay writes stderr events to stderr" "to-err" "$(grep -v '^nsgate' "$T/e")"

# 16 concurrent sessions into one database: all complete, all replay exactly.
pids=""
for i in $(seq 1 16); do
    "$NSGATE" enter -q -t "$TPID" -n -- /bin/sh -c "i=0; while [ \$i -lt 200 ]; do echo session-$i-line-\$i; i=\$((i+1)); done" \
        >"$T/c$i.out" 2>/dev/null &
    pids="$pids $!"
done
fails=0
for p in $pids; do wait "$p" || fails=$((fails + 1)); done
eq "16 concurrent sessions all exit 0" 0 "$fails"
bad=0
for i in $(seq 1 16); do
    # the output may be in a compressed block: found by nsgate's own search
    uuid=$("$NSGATE" sessions --db "$NSGATE_DB" --grep "session-$i-line-0" --json 2>/dev/null | jq -r .id)
    [ "$(echo "$uuid" | wc -w)" = 1 ] || { bad=$((bad + 1)); continue; }
    "$NSGATE" replay --db "$NSGATE_DB" --no-timing "$uuid" 2>/dev/null | cmp -s - "$T/c$i.out" || bad=$((bad + 1))
done
eq "16 concurrent sessions all replay exactly" 0 "$bad"

# A full disk: the session ends with 74, what was recorded before is kept.
cat >"$T/etc/small.ini" <<'POLICY'
[defaults]
audit = best-effort
min_free = 64K
[allow root]
users = root
targets = *
namespaces = all
host_access = yes
POLICY
chmod 644 "$T/etc/small.ini"
mkdir -p "$T/small"
mount -t tmpfs -o size=2m,mode=700 tmpfs "$T/small"
"$NSGATE" enter -q --policy "$T/etc/small.ini" --db "$T/small/s.db" -t "$TPID" -n -- \
    /bin/sh -c 'echo early-output; sleep 1.5; head -c 8000000 /dev/urandom | od -An -tx1' >/dev/null 2>"$T/err"
eq "disk full: exit 74" 74 "$?"
check "disk full: the operator is told" grep -q "recording failed" "$T/err"
S=$("$NSGATE" sessions --db "$T/small/s.db" --json | head -1 | jq -r .id)
got=$("$NSGATE" replay --db "$T/small/s.db" --no-timing "$S" 2>/dev/null | head -1)
eq "disk full: the earlier output is still replayable" "early-output" "$got"
umount "$T/small"

# max_session ends the session (124) even when the caller stops reading.
cat >"$T/etc/limits.ini" <<'POLICY'
[defaults]
audit = best-effort
[allow short]
users = root
targets = *
namespaces = all
host_access = yes
max_session = 2s
POLICY
chmod 644 "$T/etc/limits.ini"
start=$(date +%s)
mkfifo "$T/fifo"
( exec 3<"$T/fifo"; sleep 6 ) &   # a reader that never reads
reader=$!
"$NSGATE" enter -q --policy "$T/etc/limits.ini" -t "$TPID" -n -- /bin/sh -c 'yes' >"$T/fifo" 2>"$T/err"
rc=$?
kill "$reader" 2>/dev/null
eq "max_session with a caller that stops reading: 124" 124 "$rc"
check "... on time" [ $(($(date +%s) - start)) -le 5 ]
check "... saying why" grep -q "max_session" "$T/err"
finish
