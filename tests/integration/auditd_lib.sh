# A private audit daemon for audit tests (guides/testing.md "A real audit
# daemon"). Source after lib.sh. It logs to $T/audit/audit.log, is stopped
# by its own PID, and the kernel's "enabled" flag is put back as it was.
# Only one daemon can be registered: when another one is, the test is
# skipped (exit 0) with a loud SKIP line, and nothing of it is touched.
AUDITD_PID=""
AUDIT_DIR=""
AUDIT_LOG=""
AUDIT_ENABLED_BEFORE=""

# audit_status_field NAME: a value of `auditctl -s` ("enabled", "pid", ...).
audit_status_field() {
    auditctl -s 2>/dev/null | awk -v k="$1" '$1 == k { print $2; exit }'
}

audit_skip() {
    echo "########################################################"
    echo "SKIP: $* -- audit tests NOT run"
    echo "########################################################"
    exit 0
}

# Skip unless the tools exist, we are root and no daemon is registered.
auditd_require_free() {
    command -v auditd >/dev/null && command -v auditctl >/dev/null &&
        command -v ausearch >/dev/null || audit_skip "auditd, auditctl or ausearch missing"
    [ "$(id -u)" -eq 0 ] || audit_skip "not root"
    local pid
    pid=$(audit_status_field pid)
    [ -n "$pid" ] || audit_skip "cannot read the audit status (auditctl -s)"
    [ "$pid" = 0 ] || audit_skip "another audit daemon (pid $pid) is registered; stop it or run the audit tests alone"
    [ "$(audit_status_field enabled)" != 2 ] || audit_skip "audit configuration is locked (enabled 2)"
}

# Wait until the registered daemon pid is $1 (or, with $1 = 0, none).
audit_wait_registered() {
    local want=$1 i
    for i in $(seq 1 200); do
        [ "$(audit_status_field pid)" = "$want" ] && return 0
        if [ "$want" != 0 ] && ! kill -0 "$want" 2>/dev/null; then return 1; fi
        sleep 0.05
    done
    return 1
}

auditd_start() {
    auditd_require_free
    AUDIT_ENABLED_BEFORE=$(audit_status_field enabled)
    AUDIT_DIR="$T/audit"
    AUDIT_LOG="$AUDIT_DIR/audit.log"
    mkdir -p "$AUDIT_DIR/conf/plugins.d"
    chmod 700 "$AUDIT_DIR"
    # Own log, no plugins, and no suspend when the temporary disk is small.
    sed -e "s#^log_file = .*#log_file = $AUDIT_LOG#" \
        -e "s#^plugin_dir = .*#plugin_dir = $AUDIT_DIR/conf/plugins.d#" \
        -e "s#^space_left = .*#space_left = 2#" \
        -e "s#^space_left_action = .*#space_left_action = ignore#" \
        -e "s#^admin_space_left = .*#admin_space_left = 1#" \
        -e "s#^admin_space_left_action = .*#admin_space_left_action = ignore#" \
        /etc/audit/auditd.conf >"$AUDIT_DIR/conf/auditd.conf"
    grep -q '^plugin_dir' "$AUDIT_DIR/conf/auditd.conf" ||
        echo "plugin_dir = $AUDIT_DIR/conf/plugins.d" >>"$AUDIT_DIR/conf/auditd.conf"
    chmod 640 "$AUDIT_DIR/conf/auditd.conf"
    # Plugins a test asks for (AUDIT_PLUGINS: a directory of plugin .conf
    # files), e.g. audisp-remote for t_audit_remote.
    if [ -n "${AUDIT_PLUGINS:-}" ]; then
        cp "$AUDIT_PLUGINS"/*.conf "$AUDIT_DIR/conf/plugins.d/"
        chmod 640 "$AUDIT_DIR"/conf/plugins.d/*.conf
    fi
    auditd -n -c "$AUDIT_DIR/conf" >"$AUDIT_DIR/auditd.out" 2>&1 &
    AUDITD_PID=$!
    if ! audit_wait_registered "$AUDITD_PID"; then
        local other
        other=$(audit_status_field pid)
        auditd_stop
        [ "$other" != 0 ] && audit_skip "another audit daemon (pid $other) registered first"
        echo "private auditd did not register:"; cat "$AUDIT_DIR/auditd.out"
        exit 1
    fi
    echo "# private auditd pid $AUDITD_PID logging to $AUDIT_LOG"
}

# Stop our daemon (only if it is still the auditd we started) and put the
# enabled flag back. Safe to call twice.
auditd_stop() {
    if [ -n "$AUDITD_PID" ]; then
        if grep -qa "$AUDIT_DIR/conf" "/proc/$AUDITD_PID/cmdline" 2>/dev/null; then
            kill -TERM "$AUDITD_PID" 2>/dev/null || true
            wait "$AUDITD_PID" 2>/dev/null || true
        fi
        AUDITD_PID=""
        audit_wait_registered 0 || true
    fi
    if [ -n "$AUDIT_ENABLED_BEFORE" ]; then
        auditctl -e "$AUDIT_ENABLED_BEFORE" >/dev/null 2>&1 || true
    fi
}

# audit_wait_for COUNT ERE: wait until the log holds COUNT lines matching.
audit_wait_for() {
    local n=$1 re=$2 i c
    for i in $(seq 1 100); do
        c=$(grep -cE -- "$re" "$AUDIT_LOG" 2>/dev/null)
        [ "${c:-0}" -ge "$n" ] && return 0
        sleep 0.05
    done
    return 1
}

# as_auid AUID COMMAND...: run COMMAND with the login uid set (so the kernel
# writes auid=AUID), falling back to the current one if it cannot be set.
as_auid() {
    local auid=$1; shift
    ( echo "$auid" >/proc/self/loginuid 2>/dev/null; exec "$@" )
}

trap 'auditd_stop; cleanup' EXIT
