#!/bin/bash
# Audit records off the host (docs/operations.md "Audit records off the
# host"): the host's auditd sends every record with audisp-remote to an
# aggregating auditd (local_events = no, tcp_listen_port) over loopback, in
# a network namespace of this test's own. Sessions are recorded; then the
# host's store and audit log are deleted, as a root who takes the host
# later would, and an older copy of the store is put back: verify
# --audit-log run against the collector's log reports the sessions the
# copy lacks as MISSING and exits non-zero.
#
# audisp-remote reads only /etc/audit/audisp-remote.conf: the test runs in a
# private mount namespace where its own file is bind-mounted over that one
# (and a tmpfs over /run keeps the two daemons' pid files to themselves), so
# nothing of the host's configuration is touched.
if [ -z "${NG_IN_AUDIT_NETNS:-}" ]; then
    NG_IN_AUDIT_NETNS=1 exec unshare --net --mount --propagation private "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/auditd_lib.sh"

[ -x /sbin/audisp-remote ] || audit_skip "audisp-remote missing (Debian package audispd-plugins)"
auditd_require_free
ip link set lo up
mount -t tmpfs -o mode=755 tmpfs /run

PORT=6060
C="$T/collector"
COLLECTOR_LOG="$C/audit.log"
COLLECTOR_PID=""
mkdir -p "$C/conf/plugins.d" "$T/plugins"
chmod 700 "$C"

# --- the collector: an aggregating auditd that takes no kernel events ----
sed -e "s#^log_file = .*#log_file = $COLLECTOR_LOG#" \
    -e "s#^plugin_dir = .*#plugin_dir = $C/conf/plugins.d#" \
    -e "s#^local_events = .*#local_events = no#" \
    -e "s@^#*tcp_listen_port = .*@tcp_listen_port = $PORT@" \
    -e "s#^space_left = .*#space_left = 2#" \
    -e "s#^space_left_action = .*#space_left_action = ignore#" \
    -e "s#^admin_space_left = .*#admin_space_left = 1#" \
    -e "s#^admin_space_left_action = .*#admin_space_left_action = ignore#" \
    /etc/audit/auditd.conf >"$C/conf/auditd.conf"
chmod 640 "$C/conf/auditd.conf"
check "the collector's configuration: local_events = no, tcp_listen_port" \
    sh -c "grep -q '^local_events = no' '$C/conf/auditd.conf' && grep -q '^tcp_listen_port = $PORT' '$C/conf/auditd.conf'"
auditd -n -c "$C/conf" >"$C/auditd.out" 2>&1 &
COLLECTOR_PID=$!
collector_stop() {
    if [ -n "$COLLECTOR_PID" ] && grep -qa "$C/conf" "/proc/$COLLECTOR_PID/cmdline" 2>/dev/null; then
        kill -TERM "$COLLECTOR_PID" 2>/dev/null
        wait "$COLLECTOR_PID" 2>/dev/null
    fi
    COLLECTOR_PID=""
}
trap 'auditd_stop; collector_stop; cleanup' EXIT
for i in $(seq 1 100); do
    ss -ltn 2>/dev/null | grep -q ":$PORT " && break
    sleep 0.05
done
check "the collector listens on loopback port $PORT" sh -c "ss -ltn | grep -q ':$PORT '"
check "... and did not register with the kernel" sh -c "[ \"\$(auditctl -s | awk '\$1 == \"pid\" {print \$2}')\" != $COLLECTOR_PID ]"

# --- the host: its auditd with the audisp-remote plugin ----------------
cat >"$T/audisp-remote.conf" <<REMOTE
remote_server = 127.0.0.1
port = $PORT
transport = tcp
queue_file = $T/remote.queue
mode = immediate
queue_depth = 10240
format = managed
network_retry_time = 1
max_tries_per_record = 3
max_time_per_record = 5
heartbeat_timeout = 0
network_failure_action = syslog
disk_low_action = ignore
disk_full_action = warn_once
disk_error_action = warn_once
remote_ending_action = reconnect
generic_error_action = syslog
generic_warning_action = syslog
queue_error_action = syslog
overflow_action = syslog
startup_failure_action = warn_once_continue
REMOTE
chmod 640 "$T/audisp-remote.conf"
mount --bind "$T/audisp-remote.conf" /etc/audit/audisp-remote.conf
cat >"$T/plugins/au-remote.conf" <<'PLUGIN'
active = yes
direction = out
path = /sbin/audisp-remote
type = always
format = string
PLUGIN
AUDIT_PLUGINS="$T/plugins" auditd_start
for i in $(seq 1 100); do
    grep -q DAEMON_ACCEPT "$COLLECTOR_LOG" 2>/dev/null && break
    sleep 0.05
done
check "audisp-remote connected to the collector" grep -q "DAEMON_ACCEPT.*addr=.*127.0.0.1" "$COLLECTOR_LOG"

# collector_wait COUNT ERE: until the collector's log holds COUNT matches.
collector_wait() {
    local i c
    for i in $(seq 1 200); do
        c=$(grep -cE -- "$2" "$COLLECTOR_LOG" 2>/dev/null)
        [ "${c:-0}" -ge "$1" ] && return 0
        sleep 0.05
    done
    return 1
}

# --- sessions, with the audit trail required ----------------------------
cat >"$T/etc/req.ini" <<'POLICY'
[defaults]
audit = required
seal_interval = 500ms
[allow root-net]
users = root
targets = *
namespaces = net, uts
host_access = yes
POLICY
chmod 644 "$T/etc/req.ini"
start_target --net --uts -- sleep 600
session() {
    "$NSGATE" enter -q --policy "$T/etc/req.ini" -t "$TPID" -n -u -- /bin/sh -c "echo $1" >/dev/null 2>&1
    "$NSGATE" sessions --json | head -1 | jq -r .id
}
S1=$(session first)
collector_wait 1 "op=nsgate-session-close.*uuid=$S1"
check "the first session's close reached the collector" grep -q "op=nsgate-session-close.*uuid=$S1" "$COLLECTOR_LOG"
cp "$NSGATE_DB" "$T/older.db"   # the copy a root restores later
S2=$(session second)
S3=$(session third)
collector_wait 1 "op=nsgate-session-close.*uuid=$S3"
for s in "$S1" "$S2" "$S3"; do
    check "session $s: its start and end are in the collector's log" \
        sh -c "grep -q 'type=USER_START.*uuid=$s' '$COLLECTOR_LOG' && grep -q 'type=USER_END.*uuid=$s' '$COLLECTOR_LOG'"
done
"$NSGATE" verify --key "$T/root.key" --audit-log "$COLLECTOR_LOG" >"$T/v" 2>&1
eq "before the attack, the store and the collector's log agree: 0" 0 "$?"

# --- a later root deletes the host's evidence and restores an old store ---
rm -f "$NSGATE_DB" "$NSGATE_DB-wal" "$NSGATE_DB-shm"
rm -f "$AUDIT_LOG"
check "the host's store and audit log are gone" sh -c "[ ! -e '$NSGATE_DB' ] && [ ! -e '$AUDIT_LOG' ]"
cp "$T/older.db" "$NSGATE_DB"
"$NSGATE" verify --key "$T/root.key" >"$T/v" 2>&1
eq "the restored store alone verifies (nothing on the host anchors it): 0" 0 "$?"
"$NSGATE" verify --key "$T/root.key" --audit-log "$COLLECTOR_LOG" >"$T/v" 2>&1
eq "with the collector's log: exit 1" 1 "$?"
check "... the second session is MISSING" grep -q "^MISSING $S2" "$T/v"
check "... the third session is MISSING" grep -q "^MISSING $S3" "$T/v"
check "... the first session is OK" grep -q "^OK $S1" "$T/v"
sed 's/^/   /' "$T/v"
finish
