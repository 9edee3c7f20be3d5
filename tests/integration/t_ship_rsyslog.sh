# Shipping the evidence stream with rsyslog (docs/operations.md "Shipping the
# evidence stream"): the follower of docs/examples/nsgate-follow.service, run
# with its ExecStart arguments (paths replaced by test paths) under an
# emulation of the unit's sandbox (read-only file system but for its
# ReadWritePaths and logs directory, no network, no capabilities, no new
# privileges), writes the stream of several sessions (one with lines over
# 1 MB) to a file; a private rsyslogd reads it with imfile and forwards it
# over TCP to a second private rsyslogd, the collector, which writes it to a
# file. The collector's file is the follower's byte for byte, verify --jsonl
# says OK for every session and the ledger, and one changed byte in it is
# TAMPERED. The unit itself passes systemd-analyze verify. Both rsyslogd are
# private (own configuration, work directory and PID file, no imuxsock or
# imklog: the host's /dev/log and kernel log are left alone) and stopped by
# their PID.
if ! command -v rsyslogd >/dev/null 2>&1; then
    echo "SKIP: rsyslogd not installed (scripts/deps.sh installs rsyslog):" \
        "the rsyslog shipping recipe was NOT tested"
    exit 0
fi
. "$NSGATE_SRC/tests/integration/lib.sh"

KEY="$T/root.key"
UNIT="$NSGATE_SRC/docs/examples/nsgate-follow.service"
default_policy 'seal_interval = 200ms'
mkdir -m 750 "$T/log" "$T/rs" "$T/rs/ship" "$T/rs/collect" "$T/collector"
FILE="$T/log/evidence.jsonl"      # /var/log/nsgate/evidence.jsonl
CUR="$T/var/follow.cursor"        # /var/lib/nsgate/follow.cursor
COLLECTED="$T/collector/evidence.jsonl"
FPID=""
SHIP_PID=""
COLLECT_PID=""

# Ours stopped first (by PID, only while they run), then lib.sh's cleanup.
stop_pid() { # PID: TERM, wait at most 10 s, then KILL
    local p=$1 i
    [ -n "$p" ] || return 0
    kill -TERM "$p" 2>/dev/null || return 0
    for i in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
}
ship_cleanup() {
    stop_pid "$FPID"
    stop_pid "$SHIP_PID"
    stop_pid "$COLLECT_PID"
    cleanup
}
trap ship_cleanup EXIT

# ---- the unit -------------------------------------------------------------------
# systemd-analyze verify works offline (PID 1 need not be systemd); it checks
# that ExecStart's program exists, so a copy names the test's binary.
sed "s#/usr/local/bin/nsgate#$NSGATE#" "$UNIT" >"$T/nsgate-follow.service"
printf '[Service]\nType=oneshot\nExecStart=/bin/true\n' >"$T/nsgate-probe.service"
if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "# systemd-analyze not installed: the unit file NOT verified"
elif ! systemd-analyze verify "$T/nsgate-probe.service" >/dev/null 2>&1; then
    echo "# systemd-analyze cannot verify units here: the unit file NOT verified"
else
    systemd-analyze verify "$T/nsgate-follow.service" >"$T/analyze.out" 2>&1
    eq "systemd-analyze verify accepts the unit" 0 $?
    check "... without a warning" test ! -s "$T/analyze.out"
    sed 's/^/# /' "$T/analyze.out"
fi

# Its ExecStart, with the installed paths replaced by the test's.
read -r -a FOLLOW <<<"$(sed -n 's/^ExecStart=//p' "$UNIT" |
    sed -e "s#/usr/local/bin/nsgate#$NSGATE#" -e "s#/etc/nsgate/root.pub#$KEY#" \
        -e "s#/var/log/nsgate/evidence.jsonl#$FILE#" -e "s#/var/lib/nsgate/follow.cursor#$CUR#")"
eq "the unit has one ExecStart" 1 "$(grep -c '^ExecStart=' "$UNIT")"
check "... every path in it replaced by a test path (${FOLLOW[*]})" \
    test -z "$(printf '%s\n' "${FOLLOW[@]}" | grep '^/' | grep -v "^$T/\|^$NSGATE\$")"
check "... with --follow and --cursor" \
    grep -q -- '--follow .*--cursor\|--cursor .*--follow' <<<"${FOLLOW[*]}"

# ---- the collector and the shipper ------------------------------------------------
# The configurations of docs/operations.md, paths replaced. The collector:
# RFC 5424 over TCP in, each message's text and a newline out.
cat >"$T/rs/collect.conf" <<EOF
global(workDirectory="$T/rs/collect" maxMessageSize="4m"
       parser.escapeControlCharactersOnReceive="off")
\$RepeatedMsgReduction off
module(load="imtcp" maxFrameSize="4200000")
template(name="nsgate_line" type="string" string="%msg%\n")
ruleset(name="nsgate_collect") {
    action(type="omfile" file="$COLLECTED" template="nsgate_line" fileCreateMode="0640")
}
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="$T/rs/port"
      ruleset="nsgate_collect")
EOF
rsyslogd -n -f "$T/rs/collect.conf" -i "$T/rs/collect.pid" >"$T/rs/collect.log" 2>&1 &
COLLECT_PID=$!
for i in $(seq 1 100); do [ -s "$T/rs/port" ] && break; sleep 0.1; done
PORT=$(cat "$T/rs/port" 2>/dev/null)
check "the collector rsyslogd listens (port ${PORT:-none})" test -n "$PORT"
[ -n "$PORT" ] || { sed 's/^/# /' "$T/rs/collect.log"; finish; exit 1; }

# The host's side: imfile reads the follower's file (lines up to 4 MB, read
# as they are, no parser), omfwd sends each line as one RFC 5424 message.
cat >"$T/rs/ship.conf" <<EOF
global(workDirectory="$T/rs/ship" maxMessageSize="4m"
       parser.escapeControlCharactersOnReceive="off")
\$RepeatedMsgReduction off
module(load="imfile" mode="inotify")
ruleset(name="nsgate_ship") {
    action(type="omfwd" target="127.0.0.1" port="$PORT" protocol="tcp"
           TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format"
           queue.type="LinkedList" queue.filename="nsgate_fwd" queue.saveOnShutdown="on"
           action.resumeRetryCount="-1")
}
input(type="imfile" file="$FILE" tag="nsgate" ruleset="nsgate_ship"
      addMetadata="off" reopenOnTruncate="off")
EOF
rsyslogd -N1 -f "$T/rs/ship.conf" >"$T/rs/n1.out" 2>&1
eq "rsyslogd -N1 accepts the shipper's configuration" 0 $?
rsyslogd -n -f "$T/rs/ship.conf" -i "$T/rs/ship.pid" >"$T/rs/ship.log" 2>&1 &
SHIP_PID=$!
for i in $(seq 1 100); do [ -s "$T/rs/ship.pid" ] && break; sleep 0.1; done
sleep 0.5 # imfile's watch on the (not yet existing) file
inputs() { grep -o 'rsyslog/im[a-z]*\.so' "/proc/$1/maps" 2>/dev/null | sort -u | tr '\n' ' '; }
eq "the shipper's only input is imfile (no imuxsock, no imklog)" "rsyslog/imfile.so " "$(inputs "$SHIP_PID")"
eq "the collector's only input is imtcp" "rsyslog/imtcp.so " "$(inputs "$COLLECT_PID")"

# ---- sessions, the follower ---------------------------------------------------------
start_target --pid --mount-proc -- sleep 600
# The first session before the follower starts (it catches up on what was
# sealed before it), with an argument list of 840 KB: its header and its
# command event are lines of over 1 MB.
BIG=$(head -c 120000 /dev/zero | tr '\0' a)
"$NSGATE" enter -q -t "$TPID" -p -m -- /bin/sh -c 'echo "$#" arguments' big \
    "$BIG" "$BIG" "$BIG" "$BIG" "$BIG" "$BIG" "$BIG" >"$T/big.out" 2>/dev/null
eq "a session with 840 KB of arguments" "7 arguments" "$(cat "$T/big.out")"

# The follower, sandboxed as the unit says:
# ProtectSystem=strict + ReadWritePaths=/var/lib/nsgate + LogsDirectory=nsgate,
# PrivateNetwork, NoNewPrivileges, CapabilityBoundingSet= (empty).
cat >"$T/sandbox.sh" <<'EOF'
T=$1 RW1=$2 RW2=$3
shift 3
mount --bind "$T" "$T" && mount -o remount,bind,ro "$T" && mount -o remount,bind,ro / &&
    mount --bind "$RW1" "$RW1" && mount -o remount,bind,rw "$RW1" &&
    mount --bind "$RW2" "$RW2" && mount -o remount,bind,rw "$RW2" || exit 70
touch "$T/ro-probe" 2>/dev/null && exit 71 # not read-only: no emulation
exec setpriv --no-new-privs --bounding-set -all --inh-caps -all -- "$@"
EOF
unshare --mount --propagation private --net -- sh "$T/sandbox.sh" "$T" "$T/var" "$T/log" \
    "${FOLLOW[@]}" 2>"$T/follow.err" &
FPID=$!

# Then sessions while it runs, two at a time, and one with typed input.
for round in 1 2; do
    pids=""
    for s in 1 2; do
        "$NSGATE" enter -q -t "$TPID" -p -m -- /bin/sh -c \
            'for k in $(seq 1 10); do seq 1 300; printf "  lead\tand tab\n"; sleep 0.1; done' \
            >/dev/null 2>&1 &
        pids="$pids $!"
    done
    for p in $pids; do wait "$p"; done
done
printf 'echo typed input\nexit 3\n' | "$NSGATE" enter -q -t "$TPID" -p -m -- /bin/sh >/dev/null 2>&1
eq "six sessions recorded" 6 "$(sqlite3 "$NSGATE_DB" "SELECT count(*) FROM sessions")"

sleep 1 # within one seal interval and one poll of the last session's end
kill -TERM "$FPID"
wait "$FPID"
eq "the unit's follower stopped by SIGTERM exits 0" 0 $?
FPID=""
check "it did not complain" test ! -s "$T/follow.err"
sed 's/^/# /' "$T/follow.err" | head -5
check "its cursor was written" test -s "$CUR"
LONGEST=$(wc -L <"$FILE")
check "the stream holds a line of over 1 MB ($LONGEST bytes)" test "$LONGEST" -gt 1000000

# ---- shipped ---------------------------------------------------------------------------
SIZE=$(stat -c %s "$FILE")
for i in $(seq 1 300); do
    [ "$(stat -c %s "$COLLECTED" 2>/dev/null || echo 0)" -ge "$SIZE" ] && break
    sleep 0.1
done
eq "the collector caught up ($SIZE bytes)" "$SIZE" "$(stat -c %s "$COLLECTED" 2>/dev/null)"
stop_pid "$SHIP_PID"
SHIP_PID=""
stop_pid "$COLLECT_PID"
COLLECT_PID=""
check "the collector's file is the follower's, byte for byte" cmp "$FILE" "$COLLECTED"
for f in ship collect; do
    grep -v "imfile: on startup file '$FILE' does not exist" "$T/rs/$f.log" | sed "s/^/# $f: /"
done

"$NSGATE" verify --jsonl "$COLLECTED" --key "$KEY" >"$T/v.out" 2>&1
eq "verify --jsonl of the collector's file exits 0" 0 $?
eq "every session OK" 6 "$(grep -c '^OK ' "$T/v.out")"
check "the ledger OK" grep -q '^LEDGER OK entries=12$' "$T/v.out"
sed 's/^/# /' "$T/v.out" | grep -v '^# OK ' | head -5

# One byte of one event's data changed in the collector's file.
python3 - "$COLLECTED" >"$T/changed" <<'EOF'
import json, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
events = [i for i, l in enumerate(lines) if b'"type":"event"' in l]
i = events[len(events) // 2]
rec = json.loads(lines[i])
at = lines[i].index(b'"data":"') + len(b'"data":"')
lines[i] = lines[i][:at] + (b"B" if lines[i][at:at + 1] == b"A" else b"A") + lines[i][at + 1:]
open(sys.argv[1], "wb").write(b"\n".join(lines))
print(rec["session"], rec["seq"])
EOF
read -r CS CSEQ <"$T/changed"
"$NSGATE" verify --jsonl "$COLLECTED" --key "$KEY" >"$T/t.out" 2>&1
eq "one changed byte in the collector's file: exit 1" 1 $?
check "... its session TAMPERED ($CS seq $CSEQ)" grep -q "^TAMPERED $CS" "$T/t.out"
eq "... the other sessions still OK" 5 "$(grep -c '^OK ' "$T/t.out")"
finish
