#!/bin/bash
# One way to parse a subcommand: every reader takes its options before and
# after SESSION (permuting), enter's and check's options end at PROGRAM,
# usage errors are 64 with the usage, --help is 0.
. "$(dirname "$0")/lib.sh"

start_target --uts -- sleep 600
"$NSGATE" enter -q -t "$TPID" -u --no-pty -- /bin/echo permuted >/dev/null 2>&1
ID=$("$NSGATE" sessions --json 2>/dev/null | head -1 | jq -r .id)
check "a session was recorded" test -n "$ID"
S=${ID:0:8}

got=$("$NSGATE" replay "$S" --no-timing --key "$T/root.key" 2>/dev/null)
eq "replay: options after SESSION" "permuted" "$got"
got=$("$NSGATE" replay --no-timing "$S" --key="$T/root.key" 2>/dev/null)
eq "replay: options on both sides, --key=FILE" "permuted" "$got"
"$NSGATE" export "$S" -f jsonl --key "$T/root.key" -o "$T/out.jsonl" 2>/dev/null
eq "export: options after SESSION" 0 "$?"
check "... wrote JSON lines" jq -e . "$T/out.jsonl" >/dev/null
"$NSGATE" verify "$ID" --key "$T/root.key" >"$T/v" 2>/dev/null
eq "verify: options after SESSION" 0 "$?"
check "... OK" grep -q "^OK $ID " "$T/v"
"$NSGATE" sessions --json --target "$TPID" >"$T/s" 2>/dev/null
eq "sessions: --target" 1 "$(wc -l <"$T/s")"
"$NSGATE" replay --no-timing --key "$T/root.key" -- "$S" >/dev/null 2>&1
eq "replay: -- before SESSION" 0 "$?"

# Usage errors: 64, message and usage on standard error.
"$NSGATE" replay "$S" --bogus 2>"$T/err" >/dev/null
eq "unknown option after SESSION: 64" 64 "$?"
check "... named" grep -q "unknown option: --bogus" "$T/err"
check "... with the usage" grep -q "^Usage: nsgate replay" "$T/err"
"$NSGATE" replay "$S" "$S" 2>/dev/null >/dev/null
eq "two SESSIONs for replay: 64" 64 "$?"
"$NSGATE" verify --key 2>/dev/null
eq "missing argument: 64" 64 "$?"
"$NSGATE" keygen --epoch 2>/dev/null
eq "keygen, missing argument: 64" 64 "$?"
"$NSGATE" keygen extra 2>/dev/null
eq "keygen takes no operand: 64" 64 "$?"
for c in sessions replay verify export keygen check enter; do
    "$NSGATE" $c --help >"$T/h" 2>/dev/null
    eq "$c --help: 0" 0 "$?"
    check "... prints the usage" grep -q "^Usage: nsgate $c" "$T/h"
done
# enter: the program's options are the program's.
got=$("$NSGATE" enter -q -t "$TPID" -u --no-pty -- /bin/echo -n --db x 2>/dev/null)
eq "enter: options after PROGRAM belong to the program" "--db x" "$got"
got=$("$NSGATE" enter -q -t "$TPID" -u --no-pty /bin/echo -q 2>/dev/null)
eq "enter: PROGRAM without -- ends the options" "-q" "$got"
"$NSGATE" enter -q -t "$TPID" --ut --no-pty -- /bin/true 2>/dev/null
eq "enter: an unambiguous prefix (--ut) works" 0 "$?"
finish
