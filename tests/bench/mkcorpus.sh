#!/bin/bash
# A realistic terminal corpus for the benchmarks' storage figure
# (docs/benchmarks.md): text that real programs print on this machine, not
# random noise. Made here each time (never committed as data), so it is
# what an operator's session on this host would show.
#
#   tests/bench/mkcorpus.sh OUT [MB]      (default 100 MB; root for dmesg and logs)
#
# Rounds of: `ls -lR` of system trees (plain, coloured, numeric ids, full
# times), `find -ls`, `dmesg`, `ps auxww`, `top -b`, the system's log files,
# and a C compiler's diagnostics (warnings with source lines and carets)
# over the project's own sources, until OUT holds MB MiB; then cut to exactly
# that size. Rounds repeat only far apart (each round is several MB, beyond
# the windows of zstd's and zlib's fast levels), and vary their options.
set -u
OUT=${1:?usage: mkcorpus.sh OUT [MB]}
MB=${2:-100}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WANT=$((MB * 1024 * 1024))
: >"$OUT" || exit 1

compiler() { # a compiler's diagnostics, in colour as on a terminal
    local f
    for f in "$ROOT"/src/*/*.c; do
        cc -fsyntax-only -I"$ROOT/include" -I"$ROOT/src" -Wall -Wextra -Wconversion \
            -Wsign-conversion -Wcast-qual -Wpadded -Wswitch-default -fdiagnostics-color=always \
            "$f" 2>&1
    done
}
logs() { # the host's own log text, whatever of it is there
    local f
    for f in /var/log/dpkg.log /var/log/apt/history.log /var/log/apt/term.log \
        /var/log/alternatives.log /var/log/audit/audit.log /var/log/syslog /var/log/messages; do
        [ -r "$f" ] && head -c $((4 * 1024 * 1024)) "$f"
    done
    command -v journalctl >/dev/null && journalctl --no-pager -n 20000 2>/dev/null
}
round() {
    case $(($1 % 4)) in
    0) ls -lR /usr ;;
    1) ls -lRn --color=always /usr/share /usr/lib ;;
    2) ls -lR --time-style=full-iso /usr/include /usr/lib /etc /var/lib ;;
    3) find /usr -xdev -ls | head -c $((12 * 1024 * 1024)) ;;
    esac
    dmesg 2>/dev/null
    ps auxww
    top -b -n 3 -d 0.1 -w 200
    logs
    compiler
}

i=0
while [ "$(stat -c %s "$OUT")" -lt "$WANT" ]; do
    round $i 2>/dev/null >>"$OUT"
    i=$((i + 1))
    [ $i -lt 200 ] || { echo "mkcorpus.sh: the programs print too little" >&2; exit 1; }
done
truncate -s "$WANT" "$OUT"
