# export: a real recorded session with hostile output (a script injection,
# an OSC 52 clipboard write, a DSR query, invalid UTF-8) exported as
# asciicast (played by Debian's asciinema), jsonl (parsed by jq, hashes
# checked against the database) and HTML (opened from disk in headless
# Chromium with no network: metadata, verdict, rendered text, nothing run).
# replay to a terminal strips OSC 52 and DSR; replay --raw and export keep
# them. A tampered session is refused, and marked in red with --force.
. "$NSGATE_SRC/tests/integration/lib.sh"

KEY="$T/root.key"
sid_of_last() { "$NSGATE" sessions --json 2>/dev/null | head -1 | jq -r .id; }
b64() { base64 -w0; }
has() { grep -qF -- "$2" "$1"; }

start_target --pid --mount-proc --net --uts -- sleep 600
# Valid UTF-8 only here, so asciinema's text can be compared with replay's.
"$NSGATE" enter -q -t "$TPID" -n -r 'INC-1 </script><script>alert(2)</script>' -- /bin/sh -c \
    'printf "hello reviewer\n</script><script>alert(1)</script>\n\033]52;c;SGVsbG8=\a\033[6n\nline \342\202\254 end\n"' \
    >/dev/null 2>&1
S=$(sid_of_last)
"$NSGATE" replay --no-timing --key "$KEY" "$S" >"$T/replay.out" 2>/dev/null

# ---- asciicast --------------------------------------------------------------
"$NSGATE" export --key "$KEY" -o "$T/s.cast" "$S" 2>"$T/err"
eq "export asciicast exits 0 for a sealed session" 0 $?
eq "asciicast header is version 2, 80x24" "2 80 24" "$(head -1 "$T/s.cast" | jq -r '"\(.version) \(.width) \(.height)"')"
check "every asciicast line is JSON" sh -c "jq -e . $T/s.cast >/dev/null"
check "the exit is a marker 'exit 0'" grep -qx '\[[0-9.]*,"m","exit 0"\]' "$T/s.cast"
check "asciicast keeps OSC 52 and DSR (as JSON escapes)" \
    grep -qF '\u001B]52;c;SGVsbG8=\u0007\u001B[6n' "$T/s.cast"
script -qec "asciinema cat $T/s.cast" /dev/null </dev/null | tr -d '\r' >"$T/cat.out"
tr -d '\r' <"$T/replay.out" >"$T/replay.nocr"
check "asciinema cat prints what replay --no-timing prints" cmp -s "$T/cat.out" "$T/replay.nocr"
script -qec "asciinema play -s 20 -i 0.2 $T/s.cast" /dev/null </dev/null >"$T/play.out" 2>&1
eq "asciinema play accepts the asciicast" 0 $?
check "asciinema play shows the text" grep -q "hello reviewer" "$T/play.out"
"$NSGATE" export --key "$KEY" -o "$T/s.cast" "$S" 2>/dev/null
eq "-o refuses an existing file" 74 $?
ln -s "$T/elsewhere" "$T/link"
"$NSGATE" export --key "$KEY" --force -o "$T/link" "$S" 2>/dev/null
check "-o never follows a symlink, even with --force" test ! -e "$T/elsewhere"
"$NSGATE" export --key "$KEY" --force -o "$T/s.cast" "$S" 2>/dev/null
eq "--force replaces a regular file the caller owns" 0 $?

# ---- jsonl -----------------------------------------------------------------
"$NSGATE" export --key "$KEY" -f jsonl "$S" >"$T/s.jsonl" 2>/dev/null
eq "export jsonl exits 0" 0 $?
check "jq parses every jsonl line" sh -c "jq -e . $T/s.jsonl >/dev/null"
eq "the first line is the session" "$S OK" "$(head -1 "$T/s.jsonl" | jq -r '"\(.id) \(.verification.result)"')"
hex=$(sqlite3 "$NSGATE_DB" "SELECT seq || ' ' || lower(hex(hash)) FROM events WHERE session = x'$(echo "$S" | tr -d -)' ORDER BY seq")
eq "every event's hash is the one in the database" "$hex" "$(tail -n +2 "$T/s.jsonl" | jq -r 'select(.kind) | "\(.seq) \(.hash)"')"
"$NSGATE" verify --jsonl "$T/s.jsonl" --key "$KEY" >"$T/vj" 2>&1
eq "the export file verifies alone against the root key (verify --jsonl)" "0 OK $S" \
    "$? $(cut -d' ' -f1,2 "$T/vj")"
perl -pe 'if ($. == 2) { s/"t_ns":(\d+)/"\"t_ns\":" . ($1 + 1)/e }' "$T/s.jsonl" >"$T/s2.jsonl"
check "(the edit changed a time)" sh -c "! cmp -s $T/s.jsonl $T/s2.jsonl"
"$NSGATE" verify --jsonl "$T/s2.jsonl" --key "$KEY" >"$T/vj" 2>&1
eq "... and an event's time changed is TAMPERED" "1 TAMPERED $S" "$? $(cut -d' ' -f1,2 "$T/vj")"
eq "jsonl data is the exact bytes (base64)" "$(b64 <"$T/replay.out")" \
    "$(tail -n +2 "$T/s.jsonl" | jq -r 'select(.kind == "o") | .data' | base64 -d | b64)"

# ---- replay to a terminal strips, --raw and export keep ----------------------
script -qec "$NSGATE replay --no-timing --key $KEY $S" /dev/null </dev/null >"$T/tty.out" 2>&1
check "replay to a terminal shows the text" has "$T/tty.out" "hello reviewer"
check "replay to a terminal strips OSC 52" sh -c "! grep -qF \"\$(printf '\033]52')\" $T/tty.out"
check "replay to a terminal strips DSR" sh -c "! grep -qF \"\$(printf '\033[6n')\" $T/tty.out"
script -qec "$NSGATE replay --raw --no-timing --key $KEY $S" /dev/null </dev/null >"$T/raw.out" 2>&1
check "replay --raw keeps OSC 52" has "$T/raw.out" "$(printf '\033]52;c;SGVsbG8=\a')"
check "replay --raw keeps DSR" has "$T/raw.out" "$(printf '\033[6n')"

# ---- invalid UTF-8 and stderr ----------------------------------------------
"$NSGATE" enter -q -t "$TPID" -n -- /bin/sh -c 'printf "bad \377\376 ok\n"; echo to-err >&2; exit 3' \
    >/dev/null 2>&1
S2=$(sid_of_last)
"$NSGATE" export --key "$KEY" "$S2" >"$T/s2.cast" 2>/dev/null
eq "invalid UTF-8 becomes U+FFFD in asciicast" "bad $(printf '\357\277\275\357\277\275') ok" \
    "$(tail -n +2 "$T/s2.cast" | jq -r 'select(.[1] == "o") | .[2]' | head -1 | tr -d '\r\n')"
check "stderr becomes o" grep -qF '"o","to-err\r\n"' "$T/s2.cast"
check "exit 3 is a marker" grep -qF '"m","exit 3"' "$T/s2.cast"
eq "jsonl keeps the invalid bytes exact" "$(printf 'bad \377\376 ok\n' | b64)" \
    "$("$NSGATE" export --key "$KEY" -f jsonl "$S2" 2>/dev/null | jq -r 'select(.kind == "o") | .data' | head -1)"

# ---- html in a real browser --------------------------------------------------
"$NSGATE" export --key "$KEY" -f html -o "$T/s.html" "$S" 2>/dev/null
eq "export html exits 0" 0 $?
eq "the page holds exactly five script elements (evidence, player, libsodium, wrappers, page)" 5 "$(grep -o '<script' "$T/s.html" | wc -l)"
check "the CSP meta tag is there" grep -q "content=\"default-src 'none'; script-src 'sha256-[^']*' 'sha256-[^']*' 'sha256-[^']*' 'sha256-[^']*' 'wasm-unsafe-eval'; style-src 'unsafe-inline'; img-src data:; font-src data:\"" "$T/s.html"
page() { # FILE -> JSON of what the browser saw
    HOME=$T timeout 90 node "$NSGATE_SRC/tests/integration/export_page.cjs" "$1" "$T/shot.png"
}
page "$T/s.html" >"$T/page.json" 2>"$T/page.err" || cat "$T/page.err"
j() { jq -r "$1" "$T/page.json"; }
eq "no dialog fired (nothing injected ran)" 0 "$(j '.dialogs | length')"
eq "no request left the page" 0 "$(j '.requests | length')"
eq "no script error, no CSP violation" "" "$(j '.errors[]?, (.console[]? | select(test("Content Security|Refused")))')"
eq "the DOM holds only the page's own scripts" "application/x-ndjson classic classic classic classic" "$(j '.scripts | join(" ")')"
eq "the page's own script ran" started "$(j .started)"
check "the verification result is shown" sh -c "jq -r .verification.text $T/page.json | grep -q '^Verification: OK'"
check "the metadata shows the user and the rule" sh -c "jq -r .metadata $T/page.json | grep -q 'root-anything' && jq -r .metadata $T/page.json | grep -q '^user.root'"
check "the reason is shown as text" sh -c "jq -r .metadata $T/page.json | grep -qF 'INC-1 </script><script>alert(2)</script>'"
check "the player renders the recorded text" sh -c "jq -r .terminal $T/page.json | grep -q 'hello reviewer'"
check "the player renders the injection as text" sh -c "jq -r .terminal $T/page.json | grep -qF '</script><script>alert(1)</script>'"
check "the exit marker is listed" sh -c "jq -r .markers $T/page.json | grep -q 'exit 0'"

# A terminal session with typed input: the input is a marker on the page.
(sleep 0.5; printf 'typed-line\r'; sleep 0.5) |
    script -qec "$NSGATE enter -q --pty -t $TPID -n -- /bin/sh -c 'read x; echo got \$x'" /dev/null >/dev/null
S3=$(sid_of_last)
"$NSGATE" export --key "$KEY" "$S3" 2>/dev/null | grep -qF '"i","typed-line\r"'
check "typed input is an i event" test $? -eq 0
"$NSGATE" export --key "$KEY" -f html -o "$T/s3.html" "$S3" 2>/dev/null
page "$T/s3.html" >"$T/page.json" 2>"$T/page.err" || cat "$T/page.err"
check "the page lists the input as a marker" sh -c "jq -r .markers $T/page.json | grep -qF 'input: typed-line\\r'"
check "the player shows the session's output" sh -c "jq -r .terminal $T/page.json | grep -q 'got typed-line'"

# ---- commands: markers, jsonl, the timeline beside the player -----------------
"$NSGATE" enter -q -t "$TPID" -n --no-pty -- /bin/sh -c \
    'echo first-out; /bin/sleep 1; /bin/echo second-out; /bin/sleep 1; echo end-out; /nonexistent' \
    >/dev/null 2>&1
S4=$(sid_of_last)
"$NSGATE" export --key "$KEY" "$S4" >"$T/s4.cast" 2>/dev/null
eq "asciicast: each command is one marker" 1 \
    "$(tail -n +2 "$T/s4.cast" | jq -r 'select(.[1] == "m") | .[2]' | grep -cx '\$ /bin/echo second-out')"
check "... the program's own exec too" sh -c "tail -n +2 '$T/s4.cast' | jq -r 'select(.[1] == \"m\") | .[2]' | grep -q '^\\$ /bin/sh -c '"
"$NSGATE" export --key "$KEY" -f jsonl "$S4" >"$T/s4.jsonl" 2>/dev/null
eq "jsonl: the c events, their JSON parsed beside the exact bytes" "/bin/echo second-out" \
    "$(jq -r 'select(.kind == "c" and .command.argv[0] == "/bin/echo") | .command.argv | join(" ")' "$T/s4.jsonl")"
eq "jsonl: the metadata counts them" 5 "$(head -1 "$T/s4.jsonl" | jq -r .commands)"
"$NSGATE" export --key "$KEY" -f html -o "$T/s4.html" "$S4" 2>/dev/null
page "$T/s4.html" >"$T/page.json" 2>"$T/page.err" || cat "$T/page.err"
eq "html: the command timeline lists every command once" 1 \
    "$(j '.commands[]' | grep -c 's/bin/echo second-out pid')"
eq "... five of them" 5 "$(j '.commands | length')"
check "... a failed exec says so" sh -c "jq -r '.commands[]' '$T/page.json' | grep -q 'nonexistent.*failed: ENOENT'"
eq "... beside the player" true "$(j .beside)"
eq "... still only the page's own scripts" "application/x-ndjson classic classic classic classic" "$(j '.scripts | join(" ")')"
n=$(jq -r '.commands | map(test("s/bin/echo second-out pid")) | index(true)' "$T/page.json")
HOME=$T timeout 90 node "$NSGATE_SRC/tests/integration/export_page.cjs" "$T/s4.html" "${NSGATE_SHOT:-$T/shot.png}" "$n" \
    >"$T/page.json" 2>"$T/page.err" || cat "$T/page.err"
check "clicking a command seeks the player there: output before it is shown" \
    sh -c "jq -r .terminal_after_click '$T/page.json' | grep -q first-out"
check "... output after it is not" sh -c "! jq -r .terminal_after_click '$T/page.json' | grep -q 'second-out\|end-out'"
check "... and before the click the last frame showed everything" sh -c "jq -r .terminal '$T/page.json' | grep -q end-out"

# ---- tampered -----------------------------------------------------------------
sqlite3 "$NSGATE_DB" "UPDATE events SET data = CAST('hello forger' AS BLOB) WHERE session = x'$(echo "$S" | tr -d -)' AND seq = 1"
"$NSGATE" export --key "$KEY" -f html -o "$T/t.html" "$S" 2>"$T/err"
eq "a tampered session is refused (exit 1)" 1 $?
check "and nothing is written" test ! -e "$T/t.html"
check "the refusal says TAMPERED" grep -q TAMPERED "$T/err"
"$NSGATE" export --key "$KEY" --force -f html -o "$T/t.html" "$S" 2>/dev/null
eq "--force exports it and still exits 1" 1 $?
page "$T/t.html" >"$T/page.json" 2>"$T/page.err" || cat "$T/page.err"
check "the page says TAMPERED" sh -c "jq -r .verification.text $T/page.json | grep -q 'TAMPERED at seq=1'"
eq "in red" "rgb(204, 0, 0)" "$(j .verification.color)"
eq "above the player" true "$(j .verification.above)"
"$NSGATE" export --key "$KEY" --force "$S" 2>/dev/null | head -1 | grep -q '"title":"TAMPERED: '
check "a forced asciicast is titled TAMPERED" test $? -eq 0

# ---- incomplete: the last seal removed --------------------------------------
sqlite3 "$NSGATE_DB" "DELETE FROM seals WHERE session = x'$(echo "$S2" | tr -d -)' AND sealno = (SELECT max(sealno) FROM seals WHERE session = x'$(echo "$S2" | tr -d -)')"
"$NSGATE" export --key "$KEY" "$S2" >"$T/i.cast" 2>"$T/err"
st=$?
v=$("$NSGATE" verify --key "$KEY" "$S2" 2>/dev/null); echo "# $v"
if [ "${v%% *}" = INCOMPLETE ]; then
    eq "an INCOMPLETE session exports with exit 2" 2 "$st"
    check "with a warning" grep -q INCOMPLETE "$T/err"
fi

finish
