#!/bin/bash
# Attack: invisible bytes make a deny rule fail open. "targets =
# comm:secretd" followed by a CR (a file saved on Windows), a VT or a
# no-break space used to parse, the glob then held the invisible byte and
# never matched, and the allow rule below decided: the caller entered the
# very target the deny rule names. Now every such file is refused (78, with
# FILE:LINE:COLUMN) by check, by root, and by the setuid binary run by an
# ordinary user, so nothing is allowed until the file is fixed.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/adv_lib.sh"

setuid_install
POL="$T/etc/policy.ini"

# The hostile file: the deny rule with X right after its glob (line 3,
# column 23), and an allow rule that lets the user into anything else.
write_policy() { # X as printf text; an optional prefix before the whole file
    {
        printf '%b' "${2:-}"
        printf '[deny secret]\nusers = *\ntargets = comm:secretd%b\n\n' "$1"
        printf '[defaults]\naudit = best-effort\n\n'
        printf '[allow anything]\nusers = *\ntargets = *\nnamespaces = all\nhost_access = yes\n'
    } >"$POL"
    chmod 644 "$POL"
}

# The target the deny rule protects (comm secretd), and another one.
cp /bin/sleep "$T/secretd"
start_target --net -- "$T/secretd" 600
SECRET=$TPID
start_target --net -- sleep 600
OTHER=$TPID
secret_net=$(readlink /proc/$SECRET/ns/net)

# Control: the clean file works as meant (so a refusal below is the bytes).
write_policy ''
as_user "$B" enter -q -t "$SECRET" -n -- /bin/readlink /proc/self/ns/net >"$T/out" 2>"$T/err"
eq "clean policy: the user is denied the secret target" 77 "$?"
check "... by the deny rule" grep -q "rule secret" "$T/err"
got=$(as_user "$B" enter -q -t "$OTHER" -n -- /bin/readlink /proc/self/ns/net 2>/dev/null)
eq "clean policy: the allow rule lets the user into another target" \
    "$(readlink /proc/$OTHER/ns/net)" "$got"

# name | bytes after the glob | what the message must say
while IFS='|' read -r name bytes want; do
    write_policy "$bytes"
    "$NSGATE" check --policy "$POL" </dev/null >"$T/out" 2>"$T/err"
    eq "$name: check refuses the file (78)" 78 "$?"
    check "$name: ... at line 3 column 23, saying '$want'" \
        grep -qF "policy.ini:3:23: $want" "$T/err"
    "$NSGATE" check --policy "$POL" --attr comm=secretd -n </dev/null >/dev/null 2>&1
    eq "$name: check of the secret target: 78, never an allow" 78 "$?"
    as_user "$B" check </dev/null >/dev/null 2>"$T/err"
    eq "$name: the setuid binary's check, run by the user: 78" 78 "$?"
    as_user "$B" enter -q -t "$SECRET" -n -- /bin/readlink /proc/self/ns/net </dev/null \
        >"$T/out" 2>"$T/err"
    eq "$name: the user's enter into the secret target: 78" 78 "$?"
    check "$name: ... with the location" grep -qF "policy.ini:3:23:" "$T/err"
    check "$name: ... and never in the target's namespace" \
        sh -c "! grep -qF '$secret_net' '$T/out'"
done <<'CASES'
CR at the end|\r|carriage return (CR) at the end of the line: the file has Windows (CRLF) line endings
CR inside|\rx|control character 0x0d (carriage return, CR) is not allowed
VT|\v|control character 0x0b (vertical tab, VT) is not allowed
FF|\f|control character 0x0c (form feed, FF) is not allowed
NBSP|\xc2\xa0|U+00A0 (no-break space) outside a comment
ZWSP|\xe2\x80\x8b|U+200B (zero-width space) outside a comment
BOM mid-line|\xef\xbb\xbf|U+FEFF (zero-width no-break space, or a byte order mark)
RLO|\xe2\x80\xae|U+202E (a bidi embedding or override) outside a comment
NUL|\x00|control character 0x00 (NUL) is not allowed
DEL|\x7f|control character 0x7f (delete, DEL) is not allowed
C1 NEL|\xc2\x85|C1 control character U+0085 is not allowed
overlong|\xc0\xa0|invalid UTF-8 (byte 0xc0: an overlong encoding)
Cyrillic e|\xd0\xb5|U+0435 (a non-ASCII character) outside a comment
CASES

# A whole file with Windows line endings: one message that says so.
write_policy '' && sed -i 's/$/\r/' "$POL"
"$NSGATE" check --policy "$POL" 2>"$T/err" >/dev/null
eq "CRLF file: 78" 78 "$?"
eq "CRLF file: said once, at the first line" 1 "$(grep -c 'Windows (CRLF) line endings' "$T/err")"
check "CRLF file: ... at 1:14" grep -qF "policy.ini:1:14: carriage return" "$T/err"

# A byte order mark at the start of the file.
write_policy '' '\xef\xbb\xbf'
as_user "$B" enter -q -t "$SECRET" -n -- /bin/true 2>"$T/err"
eq "BOM at the start: the user's enter is refused (78)" 78 "$?"
check "... saying the file starts with a byte order mark" \
    grep -qF "policy.ini:1:1: the file starts with a byte order mark" "$T/err"

# An invisible character in a comment is refused too (a bidi override can
# make a comment look like a rule, or a rule like a comment).
write_policy '' '# \xe2\x80\xae[allow everything]\n'
"$NSGATE" check --policy "$POL" >/dev/null 2>"$T/err"
eq "bidi override in a comment: 78" 78 "$?"
check "... at 1:3" grep -qF "policy.ini:1:3: U+202E" "$T/err"

# Messages never carry the hostile bytes to the terminal.
write_policy '\x1b]0;pwned\x07'
"$NSGATE" check --policy "$POL" >/dev/null 2>"$T/err"
check "no ESC reaches standard error" sh -c "! grep -qP '\\x1b' '$T/err'"
finish
