#!/bin/bash
# Terminal mode through a real terminal (tmux): the program gets a host-side
# pty as its controlling terminal, the window size follows, and the caller's
# terminal is restored after the program is killed by a signal and after
# nsgate gets SIGTERM.
. "$(dirname "$0")/lib.sh"

SOCK="$T/tmux.sock"
tm() { tmux -S "$SOCK" "$@"; }
cleanup_tmux() { tm kill-server 2>/dev/null || true; }
trap 'cleanup_tmux; cleanup' EXIT

wait_file() { # FILE: wait up to 10 s for it to exist and be non-empty
    for _ in $(seq 1 200); do [ -s "$1" ] && return 0; sleep 0.05; done
    return 1
}
type_line() { tm send-keys -t t -l "$1"; tm send-keys -t t Enter; }

start_target --pid --mount-proc --uts -- sh -c 'hostname pty-test; exec sleep 600'
tm new-session -d -s t -x 100 -y 30 "env -i PATH=/usr/bin:/bin TERM=xterm NSGATE_POLICY=$NSGATE_POLICY NSGATE_DB=$NSGATE_DB NSGATE_KEYS=$NSGATE_KEYS bash --norc --noprofile"
sleep 0.3
type_line "stty -g > $T/before"
wait_file "$T/before"

# tty inside is a pty, with the caller's window size.
type_line "$NSGATE enter -q --pty -t $TPID -u -p -m -- /bin/sh -c 'tty; stty size' > $T/inside 2>&1; echo \$? > $T/rc1"
wait_file "$T/rc1"
eq "terminal mode: exit status" 0 "$(cat "$T/rc1")"
check "terminal mode: the program's stdin is a pty" grep -q '^/dev/pts/' "$T/inside"
check "terminal mode: the window size is copied" grep -q '^30 100' "$T/inside"

# Program killed by a signal: exit 128+9, terminal restored.
type_line "$NSGATE enter -q -t $TPID -u -- /bin/sh -c 'kill -9 \$\$'; echo \$? > $T/rc2; stty -g > $T/after2"
wait_file "$T/after2"
eq "program killed by SIGKILL: 137" 137 "$(cat "$T/rc2")"
eq "terminal restored after the program was killed" "$(cat "$T/before")" "$(cat "$T/after2")"

# nsgate gets SIGTERM: session ends with 128+15, terminal restored.
type_line "$NSGATE enter -q -t $TPID -u -- /bin/sleep 100; echo \$? > $T/rc3; stty -g > $T/after3"
for _ in $(seq 1 100); do
    NPID=$(pgrep -f "nsgate.* -t $TPID -u -- /bin/sleep 100" | head -1)
    [ -n "$NPID" ] && break
    sleep 0.05
done
sleep 0.5
[ -n "$NPID" ] && kill -TERM "$NPID"
wait_file "$T/after3"
eq "nsgate got SIGTERM: 143" 143 "$(cat "$T/rc3")"
eq "terminal restored after SIGTERM" "$(cat "$T/before")" "$(cat "$T/after3")"

# A recording failure (a full disk): 74, terminal restored.
printf '[defaults]\naudit = best-effort\nmin_free = 64K\n[allow r]\nusers = root\ntargets = *\nnamespaces = all\nhost_access = yes\n' >"$T/etc/small.ini"
chmod 644 "$T/etc/small.ini"
mkdir -p "$T/small" && mount -t tmpfs -o size=1m,mode=700 tmpfs "$T/small"
type_line "$NSGATE enter -q --policy $T/etc/small.ini --db $T/small/s.db -t $TPID -u -- /usr/bin/yes; echo \$? > $T/rc5; stty -g > $T/after5"
wait_file "$T/after5"
umount "$T/small"
eq "recording failure in terminal mode: 74" 74 "$(cat "$T/rc5")"
eq "terminal restored after a recording failure" "$(cat "$T/before")" "$(cat "$T/after5")"

# Ctrl-C reaches the program through the pty.
type_line "$NSGATE enter -q -t $TPID -u -- /bin/sleep 100; echo \$? > $T/rc4"
sleep 1
tm send-keys -t t C-c
wait_file "$T/rc4"
eq "Ctrl-C ends the program: 130" 130 "$(cat "$T/rc4")"
finish
