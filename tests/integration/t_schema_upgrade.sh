#!/bin/bash
# Schema versions 2, 3, 4 and 5 applied in place (integrity.md 1: a migration
# never rewrites a covered row): tests/data/store-v1 was recorded by the
# release that shipped schema 1 (two sessions, its key directory and root
# key). The first recorder of this release upgrades it; the old sessions
# still verify OK beside new ones (one of them with its output in a
# compressed block, schema 5: exported and replayed byte for byte), and a
# store newer than the binary is refused.
. "$(dirname "$0")/lib.sh"
FX="$NSGATE_SRC/tests/data/store-v1"
S="$T/v1"
mkdir -m 700 "$S" "$S/keys"
cp "$FX/sessions.db" "$S/"
cp "$FX/keys/state" "$FX/keys/certs" "$S/keys/"
chmod 600 "$S/sessions.db" "$S/keys/state" "$S/keys/certs"
: >"$S/keys/lock"
chmod 600 "$S/keys/lock"
ver() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('pragma user_version').fetchone()[0])" "$1"; }

eq "the fixture is a version 1 store" 1 "$(ver "$S/sessions.db")"
"$NSGATE" verify --db "$S/sessions.db" --key "$FX/root.key" >"$T/out" 2>/dev/null
eq "version 1 store verifies read-only (no upgrade by a reader)" "0 1" "$? $(ver "$S/sessions.db")"

start_target --net --uts -- sleep 600
"$NSGATE" enter -q --db "$S/sessions.db" --keys "$S/keys" -t "$TPID" -u --no-pty -r upgrade \
    -- /bin/echo recorded under schema 4 >"$T/out" 2>"$T/err"
eq "a recorder of this release records into the old store" "0" "$?"
eq "... which is now version 5" 5 "$(ver "$S/sessions.db")"
"$NSGATE" verify --db "$S/sessions.db" --key "$FX/root.key" >"$T/out" 2>"$T/err"
eq "old and new sessions verify after the upgrade" 0 "$?"
eq "... all three OK" 3 "$(grep -c '^OK ' "$T/out")"

# Schema 5: a session's output compressed in a block; read back exactly.
cp "$S/sessions.db" "$T/blocks.db"
seq 1 30000 >"$T/seq.want"
"$NSGATE" enter -q --db "$T/blocks.db" --keys "$S/keys" -t "$TPID" -u --no-pty -r upgrade \
    -- /usr/bin/seq 1 30000 >"$T/seq.got" 2>"$T/err"
eq "a recorder writes into the upgraded store" 0 "$?"
bid=$("$NSGATE" sessions --db "$T/blocks.db" --json 2>/dev/null | head -1 | jq -r .id)
cnt=$(python3 - "$T/blocks.db" <<'PY'
import sqlite3, sys
d = sqlite3.connect(sys.argv[1])
print(*d.execute("""select count(*), sum(raw_len) > 100000, sum(length(data)) < sum(raw_len) / 2
    from event_blocks""").fetchone(),
    d.execute("select count(*) from events where block_len is not null and length(data) > 0").fetchone()[0])
PY
)
eq "... its output is in compressed blocks (rows hold none of it)" "1 1 1 0" "$(echo "$cnt" | sed 's/^[1-9][0-9]* /1 /')"
"$NSGATE" export --db "$T/blocks.db" --key "$FX/root.key" -f jsonl "$bid" 2>/dev/null |
    jq -r 'select(.kind == "o") | .data' | while read -r b; do printf %s "$b" | base64 -d; done >"$T/seq.export"
check "... exported byte for byte" cmp -s "$T/seq.want" "$T/seq.export"
"$NSGATE" replay --db "$T/blocks.db" --key "$FX/root.key" --no-timing --raw "$bid" >"$T/seq.replay" 2>"$T/err"
check "... replayed byte for byte" cmp "$T/seq.want" "$T/seq.replay"
"$NSGATE" verify --db "$T/blocks.db" --key "$FX/root.key" >"$T/out" 2>/dev/null
eq "... and old and new sessions verify" "0 4" "$? $(grep -c '^OK ' "$T/out")"
python3 - "$T/blocks.db" <<'PY'
import sqlite3, sys
d = sqlite3.connect(sys.argv[1])
rowid, z = d.execute("select rowid, data from event_blocks order by rowid desc limit 1").fetchone()
z = bytearray(z); z[100] ^= 1
d.execute("update event_blocks set data = ? where rowid = ?", (bytes(z), rowid))
d.commit()
PY
"$NSGATE" verify --db "$T/blocks.db" --key "$FX/root.key" "$bid" >"$T/out" 2>/dev/null
eq "one byte of a block changed: not OK" 1 "$?"
check "... TAMPERED" grep -q "^TAMPERED $bid" "$T/out"
check "... and the ledger" grep -q '^LEDGER OK' "$T/out"
cnt=$(python3 -c "
import sqlite3,sys; d=sqlite3.connect(sys.argv[1])
print(d.execute(\"select count(*) from sessions where caller_reach is null and mask_escrow is null\").fetchone()[0])" "$S/sessions.db")
eq "the upgrade left the old header rows untouched (new columns NULL)" 2 "$cnt"
reach=$(python3 -c "
import sqlite3,sys; d=sqlite3.connect(sys.argv[1])
print(','.join(r[0] for r in d.execute(\"select caller_reach from sessions where caller_reach is not null\")))" "$S/sessions.db")
eq "... while the new session records its caller_reach (root here)" root "$reach"
cnt=$(python3 - "$S/sessions.db" <<'PY'
import sqlite3, sys
d = sqlite3.connect(sys.argv[1])
old = d.execute("""select count(*) from sessions where confinement is null and seccomp_filters
    is null and seccomp_hash is null and lsm is null and lsm_label is null and target_name is
    null and target_pod is null""").fetchone()[0]
print(old, d.execute("select confinement from sessions where confinement is not null").fetchall())
PY
)
eq "... schema 3's too; the new session says its confinement" "2 [('target',)]" "$cnt"
cnt=$(python3 -c "
import sqlite3,sys; d=sqlite3.connect(sys.argv[1])
print(*[r[0] for r in d.execute('select record_commands from sessions order by start_ns')])" "$S/sessions.db")
eq "record_commands (schema 4): NULL in the old rows, 1 in the new one" "None None 1" "$cnt"
"$NSGATE" sessions --db "$S/sessions.db" --json 2>/dev/null | head -1 | jq -r .id >"$T/newid"
"$NSGATE" export --db "$S/sessions.db" --key "$FX/root.key" -f jsonl "$(cat "$T/newid")" 2>/dev/null |
    jq -r 'select(.kind == "c") | .data | @base64d | fromjson | .argv | join(" ")' >"$T/cmds"
eq "the new session's command is recorded" "/bin/echo recorded under schema 4" "$(cat "$T/cmds")"
"$NSGATE" replay "$(sed -n 3p "$T/out" | awk '{print $2}')" --db "$S/sessions.db" >/dev/null 2>&1
"$NSGATE" sessions --db "$S/sessions.db" >"$T/list" 2>/dev/null
eq "sessions lists all three" 4 "$(wc -l <"$T/list")"

# Tampering with a new header column is caught.
cp "$S/sessions.db" "$T/tamper.db"
python3 -c "
import sqlite3,sys; d=sqlite3.connect(sys.argv[1])
d.execute(\"update sessions set caller_reach='allowed' where rowid=(select max(rowid) from sessions)\"); d.commit()" "$T/tamper.db"
"$NSGATE" verify --db "$T/tamper.db" --key "$FX/root.key" >"$T/out" 2>/dev/null
eq "a value set in a version 1 row's new column: not OK" 1 "$?"
check "... TAMPERED" grep -q '^TAMPERED' "$T/out"
cp "$S/sessions.db" "$T/tamper3.db"
python3 -c "
import sqlite3,sys; d=sqlite3.connect(sys.argv[1])
d.execute(\"update sessions set confinement='none', seccomp_filters=NULL, seccomp_hash=NULL where confinement='target'\"); d.commit()" "$T/tamper3.db"
"$NSGATE" verify --db "$T/tamper3.db" --key "$FX/root.key" >"$T/out" 2>/dev/null
eq "the new session's confinement rewritten to none: not OK" 1 "$?"
check "... TAMPERED" grep -q '^TAMPERED' "$T/out"

# A store newer than this binary is refused with a clear message.
python3 -c "
import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); d.execute('pragma user_version = 6'); d.commit()" "$T/tamper.db"
"$NSGATE" verify --db "$T/tamper.db" --key "$FX/root.key" >"$T/out" 2>"$T/err"
rc=$?
check "newer store: verify refuses (exit $rc)" test "$rc" -ne 0
check "... saying the store is newer than this nsgate" grep -qi "newer" "$T/err"
cp "$T/tamper.db" "$S/sessions.db"
"$NSGATE" enter -q --db "$S/sessions.db" --keys "$S/keys" -t "$TPID" -u --no-pty -r upgrade \
    -- /bin/true >"$T/out" 2>"$T/err"
rc=$?
eq "newer store: enter refuses with 74" 74 "$rc"
check "... saying the store is newer than this nsgate" grep -qi "newer" "$T/err"
finish
