#!/bin/sh
# Install what nsgate needs to build, test and demo, and nothing more.
# Idempotent and quick when everything is present: dpkg is asked first and
# apt-get runs only for packages that are missing.
set -eu

# Build: compiler, cmake, pkg-config, the four libraries of the design card,
# jansson (JSON output) and libseccomp (the recorder's system call filter and
# the command filter), see
# docs/dependencies.md.
BUILD="build-essential cmake pkg-config libaudit-dev libsodium-dev libsqlite3-dev
libcmocka-dev libjansson-dev libseccomp-dev
libzstd-dev"
# libauparse (the audit project's log parser) and zlib (gzip-compressed
# rotated logs): verify --audit-log and sessions --views.
BUILD="$BUILD libauparse-dev zlib1g-dev"
# The web player of export -f html comes from the npm registry (web/, npm ci
# at build time): npm itself from Debian unless one is already installed.
command -v npm >/dev/null 2>&1 || BUILD="$BUILD nodejs npm"
# Tests: real namespaces, terminals, tracing, fuzzing and the reference peers;
# the players and the browser export is checked with, man and dpkg-dev for
# the package test; podman with runc and busybox-static for real containers
# (the test image is built offline from busybox, tests/integration/podman_lib.sh);
# Debian's Docker (docker.io: dockerd, containerd, the client) for the same
# against Docker: t_docker starts a private daemon of its own, so the system
# service need not run (and is kept from starting here, as auditd is).
# rsyslog: the shipping recipe for the evidence stream (imfile), tested with
# a private rsyslogd (t_ship_rsyslog); the system service is kept from
# starting too.
TEST="util-linux iproute2 procps strace clang clang-format libclang-rt-14-dev jq tmux
auditd audispd-plugins valgrind sqlite3 coreutils passwd asciinema chromium man-db dpkg-dev bash-completion
podman runc busybox-static file docker.io rsyslog"
# Benchmarks only (scripts/deps.sh bench): sudo, the peer of the command
# recording benchmark (its log_subcmds intercept mode). Not installed for a
# plain build or test run: a test machine needs no sudo.
[ "${1:-}" = bench ] && TEST="$TEST sudo"

missing=""
for p in $BUILD $TEST; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done

if [ -n "$missing" ]; then
    echo "deps: installing:$missing"
    if [ "$(id -u)" -ne 0 ]; then
        echo "deps: run as root (sudo) to install packages" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    # auditd's postinst would start the system audit daemon; the tests start a
    # private one and must find none registered, so keep services from starting
    # (rsyslog's likewise: its test runs a private rsyslogd).
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d.nsgate
    chmod 755 /usr/sbin/policy-rc.d.nsgate
    had_rc=0
    [ -e /usr/sbin/policy-rc.d ] && had_rc=1
    [ $had_rc -eq 1 ] || cp /usr/sbin/policy-rc.d.nsgate /usr/sbin/policy-rc.d
    apt-get update -qq || apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing
    [ $had_rc -eq 1 ] || rm -f /usr/sbin/policy-rc.d
    rm -f /usr/sbin/policy-rc.d.nsgate
fi
exit 0
