#!/bin/bash
# A command hidden behind a fake password prompt. In terminal mode an
# ordinary user, through the installed setuid binary in a real terminal
# (tmux), types
#     stty -echo; printf 'Password: '; read x; stty echo; eval "$x"
# and then any command: echo is off, canonical mode on and the last output
# line looks like a password prompt, so the recorder stores the command as
# stars with a "masked N" marker, and the command runs.
# Session 1 (policy without mask_escrow) shows the attack as it works against
# the old behaviour: the command ran and nothing recorded can say what it was.
# Session 2 (mask_escrow set): the masked bytes are sealed to the escrow key
# in the hash chain; replay/export --reveal --escrow-key show the command,
# plain replay still shows nothing of it, it is not in the store in clear,
# both sessions verify OK, and one changed byte of the sealed box is TAMPERED.
# Also: keygen --escrow refuses an existing file and a symlink and, through
# the setuid binary, creates nothing the user could not create; the escrow
# secret is read with the reviewer's own rights (a root-only key file is
# refused to a user of the setuid binary); a bad escrow key file is exit 78.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/adv_lib.sh"

setuid_install
SOCK="$T/tmux.sock"
tm() { tmux -S "$SOCK" "$@"; }
trap 'tm kill-server 2>/dev/null; cleanup' EXIT
type_keys() { tm send-keys -t t -l "$1"; }
enter_key() { tm send-keys -t t Enter; }
wait_screen() { # TEXT: wait until the pane shows it
    for _ in $(seq 1 200); do tm capture-pane -t t -p | grep -qF -- "$1" && return 0; sleep 0.05; done
    echo "timeout waiting for: $1"; tm capture-pane -t t -p; return 1
}
wait_file() { for _ in $(seq 1 200); do [ -s "$1" ] && return 0; sleep 0.05; done; return 1; }
newest() { "$B" sessions --json 2>/dev/null | head -1 | jq -r .id; }
sq() { sqlite3 "$NSGATE_DB" "$1"; }

# The escrow key pair, made by the reviewer (here root, as a file off-host
# would be): the secret stays with the reviewer, the public key goes to the
# policy's directory, checked like the policy itself.
mkdir -m 700 "$T/rev"
"$B" keygen --escrow "$T/rev/escrow.sk" >"$T/etc/escrow.pub" 2>/dev/null
eq "keygen --escrow: exit 0, the public key as one 64-hex line" 1 \
    "$(grep -cxE '[0-9a-f]{64}' "$T/etc/escrow.pub")"
PUB=$(cat "$T/etc/escrow.pub")
chmod 644 "$T/etc/escrow.pub"
eq "the secret file is 0600" 600 "$(stat -c %a "$T/rev/escrow.sk")"

policy() { # [mask_escrow FILE]
    {
        printf '[defaults]\naudit = best-effort\n'
        [ $# -gt 0 ] && printf 'mask_escrow = %s\n' "$1"
        printf '\n[allow tester]\nusers = %s\ntargets = *\nnamespaces = mnt, uts, pid\n' "$ADV_USER"
    } >"$T/etc/policy.ini"
    chmod 644 "$T/etc/policy.ini"
}

start_target --pid --mount-proc --uts -- sh -c 'hostname fake-prompt; exec sleep 600'
tm new-session -d -s t -x 150 -y 40 "setpriv --reuid=$ADV_USER --regid=$ADV_USER --init-groups env -i PATH=/usr/bin:/bin TERM=xterm HOME=$T/u bash --norc --noprofile"
sleep 0.3

# One session with the fake prompt; the hidden command leaves its proof.
# Every text waited for names the session, so nothing left on the screen by
# the one before can be taken for it.
attack() { # N
    local proof="$T/u/proof-$1"
    type_keys "$B enter -q -t $TPID -m -u -p -- /bin/sh; echo done-$1-\$?"; enter_key
    for _ in $(seq 1 200); do tm capture-pane -t t -p | grep -qx '# *' && break; sleep 0.05; done
    # The typed line itself must not contain the prompt text waited for (its
    # echo would match before the shell ran it, and the hidden command would
    # then be typed with echo still on).
    type_keys "stty -echo; printf 'Password %s: ' $1; read x; stty echo; eval \"\$x\""; enter_key
    wait_screen "Password $1:"
    HIDDEN="printf %s hidden-ran-\$((40+2)) >$proof"
    type_keys "$HIDDEN"; enter_key
    wait_file "$proof"
    type_keys "exit"; enter_key
    wait_screen "done-$1-0"
    type_keys "clear"; enter_key
    for _ in $(seq 1 100); do tm capture-pane -t t -p | grep -q "done-$1" || break; sleep 0.05; done
    tm clear-history -t t
}

# ---- session 1: no mask_escrow (as before) ---------------------------------
policy
"$B" check >"$T/check1" 2>"$T/check1.err"
check "check without mask_escrow warns that masked input is unrecoverable" \
    grep -q "masked input .*unrecoverable" "$T/check1.err"
attack 1
S1=$(newest)
eq "session 1: the hidden command ran (the attack works)" "hidden-ran-42" "$(cat "$T/u/proof-1" 2>/dev/null)"
eq "session 1: the command is stored as a masked stretch" "masked ${#HIDDEN}" \
    "$(sq "select cast(data as text) from events where kind='m' and session=x'${S1//-/}' and cast(data as text) like 'masked %'")"
eq "session 1: no escrowed input, no escrow key in the header" "0|" \
    "$(sq "select (select count(*) from events where kind='k' and session=x'${S1//-/}'), hex(mask_escrow) from sessions where id=x'${S1//-/}'")"
"$B" replay --key "$T/root.key" --no-timing --reveal --escrow-key "$T/rev/escrow.sk" "$S1" \
    >"$T/r1" 2>"$T/r1.err"
check "session 1: --reveal says there is nothing escrowed" grep -q "has no escrowed input" "$T/r1.err"
check "session 1: ... and the command is lost" sh -c "! grep -q hidden-ran '$T/r1'"

# ---- session 2: mask_escrow ---------------------------------------------------
policy "$T/etc/escrow.pub"
"$B" check >"$T/check2" 2>"$T/check2.err"
check "check shows the escrow key" grep -qx "mask_escrow: $T/etc/escrow.pub key $PUB" "$T/check2"
check "... and no longer warns" sh -c "! grep -q unrecoverable '$T/check2.err'"
eq "check --json names the key" "$PUB" "$("$B" check --json 2>/dev/null | jq -r '.mask_escrow[0].key')"
"$B" check --user "$ADV_USER" --attr comm=sh -m -u -p >"$T/check3" 2>/dev/null
check "an allowed what-if shows the escrow key that applies" \
    grep -qx "mask_escrow: $T/etc/escrow.pub key $PUB" "$T/check3"
attack 2
S2=$(newest)
H2=${S2//-/}
eq "session 2: the hidden command ran" "hidden-ran-42" "$(cat "$T/u/proof-2" 2>/dev/null)"
eq "session 2: the header names the escrow key" "$PUB" \
    "$(sq "select lower(hex(mask_escrow)) from sessions where id=x'$H2'")"
eq "session 2: one sealed box per masked chunk, 48 bytes longer than its stars" \
    "${#HIDDEN}|$((${#HIDDEN} + 48))" \
    "$(sq "select sum(coalesce(i.block_len, length(i.data))), sum(length(k.data)) from events k join events i on i.session=k.session and i.seq=k.seq-1 where k.session=x'$H2' and k.kind='k' and i.kind='i'")"
for f in "$NSGATE_DB" "$NSGATE_DB-wal"; do
    [ -e "$f" ] || continue
    check "the hidden command is not in $(basename "$f") in clear" sh -c "! grep -qa hidden-ran '$f'"
done
check "... nor in the database in any form (dump, hex)" sh -c \
    "! sqlite3 '$NSGATE_DB' .dump | grep -qi -- 'hidden-ran\|$(printf %s hidden-ran | od -An -tx1 | tr -d ' \n')'"
# input and output may be stored compressed (schema 5): the events' data as
# export decompresses it
"$B" export --key "$T/root.key" -f jsonl "$S2" 2>/dev/null |
    jq -r 'select(.data != null) | .data | @base64d' >"$T/s2.events" 2>/dev/null
check "... nor in any event's data once decompressed" sh -c \
    "[ -s '$T/s2.events' ] && ! grep -qa hidden-ran '$T/s2.events'"

"$B" verify --key "$T/root.key" "$S1" "$S2" >"$T/v" 2>/dev/null
check "verify: the session without escrow is OK" grep -q "^OK $S1 " "$T/v"
check "verify: the session with escrow is OK" grep -q "^OK $S2 " "$T/v"

"$B" replay --key "$T/root.key" --no-timing "$S2" >"$T/plain" 2>/dev/null
eq "plain replay: exit 0" 0 "$?"
check "plain replay shows the prompt" grep -q "Password 2:" "$T/plain"
check "plain replay shows nothing of the hidden command" \
    sh -c "! grep -q 'hidden-ran\|revealed' '$T/plain'"
"$B" replay --key "$T/root.key" --no-timing --reveal --escrow-key "$T/rev/escrow.sk" "$S2" \
    >"$T/reveal" 2>"$T/reveal.err"
eq "replay --reveal: exit 0" 0 "$?"
check "replay --reveal shows the hidden command where it was typed" \
    grep -qF "Password 2: [revealed: $HIDDEN]" "$T/reveal"

for fmt in asciicast jsonl html; do
    "$B" export --key "$T/root.key" -f $fmt "$S2" >"$T/x.$fmt" 2>/dev/null
    check "export -f $fmt without --reveal: nothing of the command" sh -c "! grep -q hidden-ran '$T/x.$fmt'"
    "$B" export --key "$T/root.key" -f $fmt --reveal --escrow-key "$T/rev/escrow.sk" "$S2" \
        >"$T/xr.$fmt" 2>/dev/null
    eq "export -f $fmt --reveal: exit 0" 0 "$?"
done
check "export asciicast --reveal: the command in place of its stars" sh -c \
    "jq -j 'select(type==\"array\" and .[1]==\"i\") | .[2]' '$T/xr.asciicast' | grep -qF -- '$HIDDEN'"
check "... and the marker says what was revealed" \
    grep -qF "\"m\",\"masked ${#HIDDEN}, revealed: $HIDDEN\"]" "$T/xr.asciicast"
eq "export jsonl --reveal: the escrowed events carry the exact bytes" "$HIDDEN" \
    "$(jq -r 'select(.kind=="k") | .revealed' "$T/xr.jsonl" | while read -r b; do printf %s "$b" | base64 -d; done)"
check "export html --reveal: the command is in the page" grep -qF 'hidden-ran-$((40+2))' "$T/xr.html"

# Another escrow key, the public key file, a damaged box: clear errors, no garbage.
"$B" keygen --escrow "$T/rev/other.sk" >/dev/null 2>&1
"$B" replay --key "$T/root.key" --no-timing --reveal --escrow-key "$T/rev/other.sk" "$S2" \
    >"$T/wrong" 2>"$T/wrong.err"
eq "another escrow key: exit 64" 64 "$?"
check "... saying it is not the session's key, showing nothing" \
    sh -c "grep -q 'is not the one session' '$T/wrong.err' && ! grep -q hidden-ran '$T/wrong'"
"$B" export --key "$T/root.key" --reveal --escrow-key "$T/etc/escrow.pub" "$S2" >/dev/null 2>"$T/pub.err"
eq "the public key file as --escrow-key: exit 64" 64 "$?"
check "... saying it holds a public key" grep -q "holds a public key" "$T/pub.err"
sqlite3 "$NSGATE_DB" ".backup '$T/tamper.db'"
KSEQ=$(sq "select min(seq) from events where session=x'$H2' and kind='k'")
python3 - "$T/tamper.db" "$H2" "$KSEQ" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
sid, seq = bytes.fromhex(sys.argv[2]), int(sys.argv[3])
data = bytearray(db.execute("select data from events where session=? and seq=?", (sid, seq)).fetchone()[0])
data[20] ^= 0x01
db.execute("update events set data=? where session=? and seq=?", (bytes(data), sid, seq))
db.commit()
PY
"$B" verify --db "$T/tamper.db" --key "$T/root.key" "$S2" >"$T/vt" 2>/dev/null
eq "one changed byte of a sealed box: verify exit 1" 1 "$?"
check "... TAMPERED at that event" grep -q "^TAMPERED $S2 seq=$KSEQ" "$T/vt"
"$B" replay --db "$T/tamper.db" --key "$T/root.key" --no-timing --force --reveal \
    --escrow-key "$T/rev/escrow.sk" "$S2" >"$T/rt" 2>"$T/rt.err"
eq "replay --reveal --force of the damaged box: exit 1" 1 "$?"
check "... the box does not open, said plainly, nothing of it shown" sh -c \
    "grep -q 'seq=$KSEQ does not open' '$T/rt.err' && ! grep -q 'hidden-ran\|revealed' '$T/rt'"

# ---- the reviewer's rights, through the setuid binary -------------------------
# A store copy the user may read; the escrow secret root keeps to itself.
sqlite3 "$NSGATE_DB" ".backup '$T/u/copy.db'"
chown "$ADV_USER" "$T/u/copy.db"
as_user "$B" replay --db "$T/u/copy.db" --key "$T/root.key" --no-timing --reveal \
    --escrow-key "$T/rev/escrow.sk" "$S2" >"$T/ur" 2>"$T/ur.err"
rc=$?
check "a user cannot make the setuid binary read a root-only escrow key (exit $rc)" sh -c \
    "[ $rc -ne 0 ] && grep -q 'escrow secret key $T/rev/escrow.sk: Permission denied' '$T/ur.err' && ! grep -q hidden-ran '$T/ur'"
as_user "$B" export --db "$T/u/copy.db" --key "$T/root.key" --reveal \
    --escrow-key "$T/rev/escrow.sk" "$S2" >"$T/ux" 2>/dev/null
check "... nor through export" sh -c "[ $? -ne 0 ] && ! grep -q hidden-ran '$T/ux'"
install -o "$ADV_USER" -m 600 "$T/rev/escrow.sk" "$T/u/mine.sk"
as_user "$B" replay --db "$T/u/copy.db" --key "$T/root.key" --no-timing --reveal \
    --escrow-key "$T/u/mine.sk" "$S2" >"$T/ur2" 2>/dev/null
check "a reviewer holding the secret reveals with their own rights" \
    grep -qF "[revealed: $HIDDEN]" "$T/ur2"
chmod 640 "$T/u/mine.sk"
as_user "$B" replay --db "$T/u/copy.db" --key "$T/root.key" --no-timing --reveal \
    --escrow-key "$T/u/mine.sk" "$S2" >/dev/null 2>"$T/grp.err"
eq "an escrow secret readable by group: refused (64)" 64 "$?"

# keygen --escrow through the setuid binary: the user's own rights, O_EXCL.
as_user "$B" keygen --escrow "$T/u/user.sk" >"$T/u.pub" 2>/dev/null
eq "user keygen --escrow: exit 0" 0 "$?"
eq "... the secret file is the user's, 0600" "$ADV_USER 600" "$(stat -c '%U %a' "$T/u/user.sk")"
sum=$(sha256sum <"$T/u/user.sk")
as_user "$B" keygen --escrow "$T/u/user.sk" >/dev/null 2>"$T/ex.err"
eq "keygen --escrow refuses an existing file (64)" 64 "$?"
eq "... and leaves it as it was" "$sum" "$(sha256sum <"$T/u/user.sk")"
as_user ln -s "$T/u/elsewhere" "$T/u/link.sk"
as_user "$B" keygen --escrow "$T/u/link.sk" >/dev/null 2>/dev/null
eq "keygen --escrow refuses a symlink (64)" 64 "$?"
check "... and creates nothing through it" test ! -e "$T/u/elsewhere"
as_user "$B" keygen --escrow "$T/rev/planted.sk" >/dev/null 2>"$T/root.err"
check "keygen --escrow as a user cannot create a file in a root-only directory" sh -c \
    "grep -q 'Permission denied' '$T/root.err' && test ! -e '$T/rev/planted.sk'"

# A bad escrow key file makes the whole policy invalid: 78, nothing entered.
chmod 664 "$T/etc/escrow.pub"
as_user "$B" enter -q -t "$TPID" -u -- /bin/true </dev/null >/dev/null 2>"$T/bad.err"
eq "escrow key file writable by group: enter refuses (78)" 78 "$?"
check "... naming the key file" grep -q "mask_escrow $T/etc/escrow.pub is writable by group" "$T/bad.err"
chmod 644 "$T/etc/escrow.pub"
ln -s "$T/etc/escrow.pub" "$T/etc/escrow-link.pub"
policy "$T/etc/escrow-link.pub"
as_user "$B" enter -q -t "$TPID" -u -- /bin/true </dev/null >/dev/null 2>"$T/bad.err"
eq "escrow key file that is a symlink: enter refuses (78)" 78 "$?"
printf 'not a key\n' >"$T/etc/junk.pub"
policy "$T/etc/junk.pub"
as_user "$B" enter -q -t "$TPID" -u -- /bin/true </dev/null >/dev/null 2>"$T/bad.err"
eq "escrow key file without a key: enter refuses (78)" 78 "$?"
finish
