#!/bin/bash
# Attack: attacker-chosen text in every output a reviewer reads. An ordinary
# user (through the setuid binary) passes argv with newlines, ESC sequences,
# quotes, backslashes, '=', bidi overrides, invalid UTF-8 and markup; a
# hostile target has a host name, an executable path, a command name, a
# cgroup and a working directory made of the same; nsgate itself may run in
# a UTS namespace whose host name is hostile. Each output must stay what it
# claims to be: sessions (one line per session, nothing raw), --json and
# every export (valid JSON, ASCII only, the values exact), the HTML page
# (text, never markup), check (text and JSON), replay to a terminal (no
# escape), and error messages. The audit side is a_audit_hostile_text.sh.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/adv_lib.sh"

setuid_install
SETHOST="$NSGATE_BUILD/tests/ng_sethostname"
hex() { printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n'; }
# pad64 TEXT: TEXT filled up to the kernel's 64-byte host name limit
pad64() { printf '%s%s' "$1" "$(head -c $((64 - $(printf '%s' "$1" | wc -c))) /dev/zero | tr '\0' z)"; }
# Raw bytes no text output may hold: C0 but TAB/LF, DEL, C1 (UTF-8 or raw),
# bidi controls, zero-width characters, invalid UTF-8 lead bytes.
BAD='[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\x8b-\x8f\xaa-\xae]|\xe2\x81[\xa6-\xa9]'
no_raw() { ! LC_ALL=C grep -qaP "$BAD" "$1" && iconv -f UTF-8 -t UTF-8 "$1" >/dev/null 2>&1; }
ascii_only() { ! LC_ALL=C grep -qaP '[^\x0a\x20-\x7e]' "$1"; }
json_lines() { # every line of FILE is one valid JSON value
    local n
    n=$(wc -l <"$1")
    [ "$n" -ge 1 ] && [ "$(jq -c . <"$1" 2>/dev/null | wc -l)" = "$n" ]
}

# ---- the hostile target: host name, exe path, comm, cgroup, cwd ----------
HOST=$(pad64 "$(printf 'evil\nhost\033]0;pwned\a"=x y\\')")
DIR="$T/$(printf 'd\nir\033[2J\xe2\x80\xae')"
mkdir -p "$DIR" && chmod 755 "$DIR"
EXE="$DIR/$(printf 'sl\033]0;x\aeep')"
cp /bin/sleep "$EXE"
CG2=$(cgroup2_root)
CGD="$CG2/nsgate-adv-$(printf '\033[31m\xe2\x80\xae%s' $$)"
mkdir "$CGD" && CGROUPS="$CGROUPS $CGD"
unshare --fork --uts "$SETHOST" "$(hex "$HOST")" sh -c 'cd "$1" && exec "$2" 600' sh "$DIR" "$EXE" \
    </dev/null >/dev/null 2>&1 &
up=$!
disown "$up" 2>/dev/null || true
TARGETS="$TARGETS $up"
for _ in $(seq 1 200); do
    TPID=$(cat /proc/$up/task/$up/children 2>/dev/null | awk '{print $1}')
    [ -n "$TPID" ] && [ "$(readlink /proc/$TPID/exe)" = "$EXE" ] && break
    sleep 0.02
done
TARGETS="$TARGETS $TPID"
echo "$TPID" >"$CGD/cgroup.procs"
check "the target runs the hostile executable" test "$(readlink /proc/$TPID/exe)" = "$EXE"

cat >"$T/etc/policy.ini" <<POLICY
[defaults]
audit = best-effort

# never matches: check explains it with the target's own exe, comm, cgroup
[deny explain-exe]
users = *
targets = exe:/nonexistent

[deny explain-comm]
users = *
targets = comm:nomatch

[deny explain-cgroup]
users = *
targets = cgroup:/nomatch

[allow tester]
users = $ADV_USER, root
targets = *
namespaces = uts
run_as = caller
capabilities = none
POLICY
chmod 644 "$T/etc/policy.ini"

# ---- sessions with hostile argv, reason and host name ----------------------
A1=$(printf 'line1\nline2\033[2J\033]0;title\a')
A2="q'\"\\ = x=y \" uuid=0 res=success"
A3=$(printf 'rlo\xe2\x80\xaeevil zw\xe2\x80\x8bsp c1\xc2\x9b31m bad\xff\xfe')
A4='</td><script>alert(1)</script><img src=x onerror=alert(2)>'
REASON='why "=" x'\''y\z <b>'
as_user "$B" enter -q --no-pty -t "$TPID" -u -r "$REASON" -- /bin/sh -c 'uname -n; pwd; echo "$@"' \
    sh "$A1" "$A2" "$A3" "$A4" </dev/null >"$T/live" 2>"$T/err"
eq "the user's hostile session ran" 0 "$?"
check "... and printed the target's host name" grep -qaF "$(printf 'evil')" "$T/live"
# A short command, so the table shows all of it.
as_user "$B" enter -q --no-pty -t "$TPID" -u -- /bin/echo "$(printf '\xe2\x80\xae\033[31mX\xc2\x9b')" \
    </dev/null >/dev/null 2>&1
eq "a short hostile command ran" 0 "$?"
# nsgate itself in a UTS namespace with a hostile host name (root).
unshare --uts "$SETHOST" "$(hex "$HOST")" "$NSGATE" enter -q --no-pty -t "$TPID" -u -- /bin/true \
    </dev/null >/dev/null 2>&1
eq "a session started under a hostile host name" 0 "$?"

# ---- sessions, text and JSON -------------------------------------------------
"$NSGATE" sessions >"$T/sessions" 2>&1
eq "sessions: one line per session (no argv newline breaks a row)" 4 "$(wc -l <"$T/sessions")"
check "sessions: the short command is shown escaped" grep -qF 'echo \xe2\x80\xae\x1b[31mX\xc2\x9b' "$T/sessions"
check "sessions: no raw control, C1, bidi or invalid byte" no_raw "$T/sessions"
"$NSGATE" sessions --json >"$T/sessions.json" 2>&1
check "sessions --json: every line is valid JSON" json_lines "$T/sessions.json"
check "sessions --json: ASCII only" ascii_only "$T/sessions.json"
U=$(sed -n 3p "$T/sessions.json") # the user's first session (newest first)
eq "sessions --json: argv[5] exact" "$A2" "$(echo "$U" | jq -r '.argv[5]')"
eq "sessions --json: argv[4] exact (newlines, ESC)" "$(hex "$A1")" "$(echo "$U" | jq -j '.argv[4]' | od -An -tx1 -v | tr -d ' \n')"
eq "sessions --json: argv[7] exact (markup)" "$A4" "$(echo "$U" | jq -r '.argv[7]')"
eq "sessions --json: reason exact" "$REASON" "$(echo "$U" | jq -r .reason)"
H=$(head -1 "$T/sessions.json")
eq "sessions --json: the hostile host name, exact" "$(hex "$HOST")" \
    "$(echo "$H" | jq -j .host | od -An -tx1 -v | tr -d ' \n')"
S=$(echo "$U" | jq -r .id)
SH=$(echo "$H" | jq -r .id)

# ---- replay ------------------------------------------------------------------
script -qec "$NSGATE replay --no-timing --key $T/root.key $S" /dev/null </dev/null >"$T/tty" 2>&1
check "replay to a terminal: no OSC (title) from the host name or argv" \
    sh -c "! LC_ALL=C grep -qaP '\\x1b\\]' '$T/tty'"
check "replay to a terminal: the text is there" grep -qaF "line1" "$T/tty"

# ---- exports -----------------------------------------------------------------
for id in "$S" "$SH"; do
    for f in asciicast jsonl; do
        "$NSGATE" export --key "$T/root.key" -f $f "$id" >"$T/x.$f" 2>/dev/null
        check "export $f ($id): every line valid JSON" json_lines "$T/x.$f"
        check "export $f ($id): ASCII only" ascii_only "$T/x.$f"
    done
done
"$NSGATE" export --key "$T/root.key" -f jsonl "$S" >"$T/u.jsonl"
eq "export jsonl: argv[4] exact" "$(hex "$A1")" \
    "$(head -1 "$T/u.jsonl" | jq -j '.argv[4]' | od -An -tx1 -v | tr -d ' \n')"
"$NSGATE" export --key "$T/root.key" -f jsonl "$SH" >"$T/h.jsonl"
eq "export jsonl: the host name exact" "$(hex "$HOST")" \
    "$(head -1 "$T/h.jsonl" | jq -j .host | od -An -tx1 -v | tr -d ' \n')"
# The page's own body: everything nsgate writes from recorded data (the
# embedded player's script is fixed text of its own, and left out here).
page_data() { sed -n '/^<body>/,/id="ng-evidence"/p' "$1"; sed -n '/id="ng-evidence"/,/<\/script>/p' "$1"; }
for id in "$S" "$SH"; do
    "$NSGATE" export --key "$T/root.key" -f html "$id" >"$T/page.html" 2>/dev/null
    page_data "$T/page.html" >"$T/page.data"
    check "html ($id): no injected script" sh -c "! grep -qF '<script>alert' '$T/page.html'"
    check "html ($id): no injected element" sh -c "! grep -qiF '<img' '$T/page.html'"
    check "html ($id): no raw control, C1 or bidi character in what it shows" no_raw "$T/page.data"
    check "html ($id): the evidence's JSON is ASCII only" ascii_only \
        <(sed -n '/id="ng-evidence"/,/<\/script>/p' "$T/page.html")
    check "html ($id): one metadata table row per field" \
        test "$(grep -c '<tr><th>' "$T/page.html")" -le 20
done
"$NSGATE" export --key "$T/root.key" -f html "$S" >"$T/page.html" 2>/dev/null
check "html: the markup is shown as text" grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;' "$T/page.html"
check "html: the evidence's JSON has no raw '<'" \
    sh -c "sed -n '/id=\"ng-evidence\"/,/<\\/script>/p' '$T/page.html' | sed '1d;\$d' | grep -qv '<'"

# ---- check: the target's attributes -------------------------------------------
"$NSGATE" check -t "$TPID" -u >"$T/check" 2>&1
check "check: the first line is the decision" grep -qx 'allow tester' <(head -1 "$T/check")
check "check: the explanation shows the hostile exe, escaped" grep -qF 'd\x0air\x1b[2J\xe2\x80\xae' "$T/check"
check "check: ... the hostile comm and cgroup, escaped" grep -qF 'sl\x1b]0;x\x07eep' "$T/check"
check "check: ... the hostile cgroup, escaped" grep -qF '\x1b[31m\xe2\x80\xae' "$T/check"
check "check: no raw control, C1 or bidi character" no_raw "$T/check"
"$NSGATE" check --json -t "$TPID" -u >"$T/check.json" 2>/dev/null
check "check --json: valid JSON" json_lines "$T/check.json"
check "check --json: ASCII only" ascii_only "$T/check.json"
as_user "$B" check -t "$TPID" -u >"$T/ucheck" 2>&1
check "the user's check: no raw control, C1 or bidi character" no_raw "$T/ucheck"

# ---- error messages ------------------------------------------------------------
as_user "$B" enter -q --no-pty -t "$TPID" -u -w "$(printf '/no\033]0;x\a/such\n')" -- /bin/true \
    </dev/null >/dev/null 2>"$T/err"
check "a hostile -w: the error has no raw control byte" no_raw "$T/err"
as_user "$B" enter -q --no-pty -t "$TPID" -u -r "$(printf 'INC-1\xe2\x80\xae234')" -- /bin/true \
    </dev/null >/dev/null 2>"$T/err"
eq "a reason with a bidi override: usage error" 64 "$?"
check "... saying what a reason may hold" grep -qF "printable UTF-8" "$T/err"
# The reason's bounds: 512 bytes kept exactly, one more (or the 128 KiB the kernel allows one argument) refused
# before anything is read.
r512=$(for _ in $(seq 1 256); do printf '\xc3\xa9'; done)
as_user "$B" enter -q --no-pty -t "$TPID" -u -r "$r512" -- /bin/true </dev/null >/dev/null 2>&1
eq "a reason of 512 bytes: accepted" 0 "$?"
eq "... stored exactly" "$r512" "$("$NSGATE" sessions --json | head -1 | jq -r .reason)"
for n in 513 131071; do # 131071: the most the kernel passes as one argument
    as_user "$B" enter -q --no-pty -t "$TPID" -u -r "$(head -c $n /dev/zero | tr '\0' r)" \
        -- /bin/true </dev/null >/dev/null 2>"$T/err"
    rc=$?
    eq "a reason of $n bytes: usage error" 64 "$rc"
    check "... saying the limit" grep -qF "1 to 512 bytes" "$T/err"
done
as_user "$B" enter -q --no-pty --container "$(printf '\033[2Jabcd')" -u -- /bin/true \
    </dev/null >/dev/null 2>"$T/err"
check "a hostile --container: the error has no raw control byte" no_raw "$T/err"
finish
