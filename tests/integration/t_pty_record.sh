#!/bin/bash
# An interactive session through a real terminal (tmux, with script(1) as
# the operator's terminal logging every byte nsgate writes): typing, a
# full-screen program, a resize, Ctrl-C, a password typed at a "Password: "
# prompt with echo off. Replay is byte-exact; the password is nowhere in the
# database; a command typed after stty -echo with no prompt is recorded. The
# policy names an escrow key: the masked password is sealed to it, and only
# replay/export --reveal with the escrow secret show it.
. "$(dirname "$0")/lib.sh"

SOCK="$T/tmux.sock"
tm() { tmux -S "$SOCK" "$@"; }
trap 'tm kill-server 2>/dev/null; cleanup' EXIT
type_keys() { tm send-keys -t t -l "$1"; }
enter_key() { tm send-keys -t t Enter; }
wait_screen() { # TEXT: wait until the pane shows it
    for _ in $(seq 1 200); do tm capture-pane -t t -p | grep -qF -- "$1" && return 0; sleep 0.05; done
    echo "timeout waiting for: $1"; tm capture-pane -t t -p; return 1
}

"$NSGATE" keygen --escrow "$T/escrow.sk" >"$T/etc/escrow.pub" 2>/dev/null
chmod 644 "$T/etc/escrow.pub"
sed -i "/^\[defaults\]/a mask_escrow = $T/etc/escrow.pub" "$NSGATE_POLICY"
start_target --pid --mount-proc --uts -- sh -c 'hostname tty-rec; exec sleep 600'
SECRET="s3cr3t-Pw-9731"
tm new-session -d -s t -x 100 -y 30 "env -i PATH=/usr/bin:/bin TERM=xterm NSGATE_POLICY=$NSGATE_POLICY NSGATE_DB=$NSGATE_DB NSGATE_KEYS=$NSGATE_KEYS bash --norc --noprofile"
sleep 0.3
type_keys "script -q -E never -O $T/typescript -c '$NSGATE enter -q -t $TPID -u -p -m -- /bin/sh' ; echo done-\$?"; enter_key
for _ in $(seq 1 200); do tm capture-pane -t t -p | grep -qx '# *' && break; sleep 0.05; done
type_keys "echo typed-\$((6*7))"; enter_key
wait_screen "typed-42"
# A password prompt with echo off, as passwd or sudo would show it.
# Echo off before the prompt shows, and the typed line does not contain the
# prompt text waited for (its echo would match before the shell ran it).
type_keys "stty -echo; printf '%s: ' Password; read pw; stty echo; echo; echo len=\${#pw}"; enter_key
wait_screen "Password:"
type_keys "$SECRET"; enter_key
wait_screen "len=${#SECRET}"
# echo off without a prompt: an operator cannot hide commands this way.
type_keys "stty -echo"; enter_key
sleep 0.3
type_keys "echo hidden-cmd-xyz"; enter_key
wait_screen "hidden-cmd-xyz"
type_keys "stty echo"; enter_key
# A full-screen program, a resize while it runs, then quit.
type_keys "top -d 1"; enter_key
wait_screen "load average"
tm resize-window -t t -x 120 -y 40
sleep 1.2
type_keys "q"
sleep 0.3
# Ctrl-C to a running command.
type_keys "sleep 100"; enter_key
sleep 0.5
tm send-keys -t t C-c
wait_screen "^C"
type_keys "echo after-ctrl-c"; enter_key
wait_screen "after-ctrl-c"
type_keys "exit"; enter_key
wait_screen "done-0"

S=$("$NSGATE" sessions --json | head -1 | jq -r .id)
"$NSGATE" replay --key "$T/root.key" --raw --no-timing "$S" >"$T/replay" 2>/dev/null
# The typescript holds what reached the operator's terminal (script adds no
# header to the -O log with -q? it may: drop a first "Script started" line).
# nsgate's own lines on standard error (the audit warning) are not session output.
sed -e '1{/^Script started/d}' -e '${/^Script done/d}' -e '/^nsgate: /d' "$T/typescript" >"$T/ts"
# (script ends its log with "\nScript done ...": one newline that is not session output)
n=$(stat -c %s "$T/replay")
check "replay is byte-exact with what the operator's terminal received" \
    sh -c "head -c $n '$T/ts' | cmp -s - '$T/replay' && [ \$(stat -c %s '$T/ts') -le $((n + 1)) ]"
check "the interactive shell exited cleanly (exit 0)" grep -q 'COMMAND_EXIT_CODE="0"' "$T/typescript"
for f in "$NSGATE_DB" "$NSGATE_DB-wal"; do
    [ -e "$f" ] || continue
    check "the typed password is not in $(basename "$f")" sh -c "! grep -qa -- '$SECRET' '$f'"
done
check "the password is not in the database in any form (dump, hex)" sh -c \
    "! sqlite3 '$NSGATE_DB' .dump | grep -qi -- '$(printf %s "$SECRET" | od -An -tx1 | tr -d ' \n')\|$SECRET'"
# Output and input may be stored compressed (schema 5): what the events hold,
# decompressed, as export gives it (kind, then the data as text, per line).
"$NSGATE" export --key "$T/root.key" -f jsonl "$S" 2>/dev/null |
    jq -r 'select(.kind != null and .data != null) | .kind + " " + (.data | @base64d)' >"$T/events.txt"
check "... nor in any event's data once decompressed" sh -c "! grep -qa -- '$SECRET' '$T/events.txt'"
got=$(sqlite3 "$NSGATE_DB" "select cast(data as text) from events where kind='m' and cast(data as text) like 'masked %'" | head -1)
eq "the masked stretch is recorded as a marker" "masked ${#SECRET}" "$got"
inputs=$(sed -n 's/^i //p' "$T/events.txt" | tr -d '\n')
case "$inputs" in *"echo hidden-cmd-xyz"*) ok "a command typed after stty -echo without a prompt is recorded" ;;
    *) not_ok "a command typed after stty -echo without a prompt is recorded" ;; esac
case "$inputs" in *"echo typed-"*) ok "typed input is recorded" ;; *) not_ok "typed input is recorded" ;; esac
check "the resize is recorded" sh -c "sqlite3 '$NSGATE_DB' \"select cast(data as text) from events where kind='r'\" | grep -q '^120x40$'"
"$NSGATE" verify --key "$T/root.key" "$S" >"$T/v" 2>/dev/null
check "the session verifies OK" grep -q "^OK $S" "$T/v"
check "the masked password is escrowed (a 'k' event)" \
    test "$(sqlite3 "$NSGATE_DB" "select count(*) from events where kind='k'")" -ge 1
"$NSGATE" replay --key "$T/root.key" --no-timing --reveal --escrow-key "$T/escrow.sk" "$S" \
    >"$T/reveal" 2>/dev/null
eq "replay --reveal: exit 0" 0 "$?"
check "replay --reveal shows the password where it was typed" \
    grep -qF "Password: [revealed: $SECRET]" "$T/reveal"
for fmt in asciicast jsonl html; do
    "$NSGATE" export --key "$T/root.key" -f $fmt --reveal --escrow-key "$T/escrow.sk" "$S" \
        >"$T/x.$fmt" 2>/dev/null
    eq "export -f $fmt --reveal: exit 0" 0 "$?"
done
check "export asciicast --reveal: the password in place of its stars" sh -c \
    "jq -j 'select(type==\"array\" and .[1]==\"i\") | .[2]' '$T/x.asciicast' | grep -qF -- '$SECRET'"
eq "export jsonl --reveal: the exact bytes" "$SECRET" \
    "$(jq -r 'select(.kind=="k") | .revealed' "$T/x.jsonl" | while read -r b; do printf %s "$b" | base64 -d; done)"
check "export html --reveal: in the page" grep -qF "$SECRET" "$T/x.html"
finish
