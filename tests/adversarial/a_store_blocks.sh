#!/bin/bash
# Attacks on the compressed event data (schema 5, docs/integrity.md
# "Compressed event data"), by root editing the store file as it likes:
# a decompression bomb, bytes hidden after a block's frame, output rewritten
# inside a block, bytes moved between events, a block dropped. Each must be
# TAMPERED, fast and in bounded memory. Re-encoding a block so that it
# decodes to the same bytes is the documented residual: it verifies OK and
# replays exactly what was recorded.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/adv_lib.sh"

command -v zstd >/dev/null || { echo "SKIP: no zstd command"; exit 0; }
start_target --net -- sleep 600
"$NSGATE" enter -q -t "$TPID" -n --no-pty -- /usr/bin/seq 1 200000 >"$T/want" 2>/dev/null
S=$("$NSGATE" sessions --json 2>/dev/null | head -1 | jq -r .id)
H=${S//-/}
nblocks=$(sqlite3 "$NSGATE_DB" "select count(*) from event_blocks where session = x'$H'")
check "the session's output is in more than one compressed block ($nblocks)" [ "$nblocks" -ge 2 ]
"$NSGATE" verify --key "$T/root.key" "$S" >"$T/v" 2>/dev/null
check "before any attack: OK" grep -q "^OK $S " "$T/v"

# attack FILE PYTHON: a copy of the store edited by PYTHON (d: the connection,
# H: the session ID in hex, Z(bytes, *zstd args) -> a zstd frame), then verify
# under /usr/bin/time; sets rc, the verdict line in $T/out and the peak RSS (KiB).
attack() {
    cp "$NSGATE_DB" "$T/a.db"
    rm -f "$T/a.db-wal" "$T/a.db-shm"
    python3 - "$T/a.db" "$H" "$2" <<'PY' || echo "python failed"
import sqlite3, subprocess, sys
d = sqlite3.connect(sys.argv[1]); H = sys.argv[2]
def Z(raw, *args):  # a frame that declares its size, as nsgate's do
    return subprocess.run(["zstd", "-q", "-c", "--stream-size=%d" % len(raw), *args], input=raw,
                          capture_output=True, check=True).stdout
def D(z):
    return subprocess.run(["zstd", "-q", "-d", "-c"], input=z, capture_output=True, check=True).stdout
blocks = d.execute("select rowid, first_seq, last_seq, raw_len, data from event_blocks "
                   "where session = x'%s' order by first_seq" % H).fetchall()
exec(sys.argv[3])
d.commit()
PY
    /usr/bin/time -f "%M %e" -o "$T/time" "$NSGATE" verify --db "$T/a.db" --key "$T/root.key" "$S" >"$T/out" 2>/dev/null
    rc=$?
    rss=$(tail -1 "$T/time" | awk '{ print $1 }')
    secs=$(tail -1 "$T/time" | awk '{ print $2 }')
}
tampered() { # LABEL: TAMPERED, exit 1, within 10 s and 64 MiB
    eq "$1: verify exit 1" 1 "$rc"
    check "$1: TAMPERED ($(head -1 "$T/out"))" grep -q "^TAMPERED $S seq=" "$T/out"
    check "$1: in bounded memory (${rss} KiB) and time (${secs} s)" \
        sh -c "[ '$rss' -lt 65536 ] && awk 'BEGIN { exit !($secs < 10) }'"
}

# A decompression bomb: 1 GiB of zeros in a few kilobytes, its size in raw_len.
attack bomb "
z = subprocess.run('head -c 1073741824 /dev/zero | zstd -q -19 -c --stream-size=1073741824', shell=True, capture_output=True, check=True).stdout
d.execute('update event_blocks set data = ?, raw_len = 1073741824 where rowid = ?', (z, blocks[0][0]))"
tampered "a 1 GiB decompression bomb in a block"
# The same bomb with the block's own raw_len: the frame declares another size.
attack bomb2 "
z = subprocess.run('head -c 1073741824 /dev/zero | zstd -q -19 -c --stream-size=1073741824', shell=True, capture_output=True, check=True).stdout
d.execute('update event_blocks set data = ? where rowid = ?', (z, blocks[0][0]))"
tampered "a bomb under the block's own raw_len"
# A frame that does not say its size (streamed): refused before decoding.
attack nosize "
z = subprocess.run(['zstd', '-q', '-c', '--no-content-size'], input=D(blocks[0][4]), capture_output=True, check=True).stdout
d.execute('update event_blocks set data = ? where rowid = ?', (z, blocks[0][0]))"
tampered "a frame without its content size"
# Text hidden after the frame, where no decoder of one frame looks.
attack trailer "
d.execute('update event_blocks set data = ? where rowid = ?', (blocks[1][4] + Z(b'rm -rf / # hidden\n'), blocks[1][0]))"
tampered "a second frame hidden after a block's frame"
attack skippable "
d.execute('update event_blocks set data = ? where rowid = ?', (blocks[1][4] + bytes.fromhex('505d2a180800000068696464656e2121'), blocks[1][0]))"
tampered "a skippable frame after a block's frame"
# Output rewritten inside a block (decoded, edited, encoded again).
attack rewrite "
raw = D(blocks[1][4]).replace(b'123456\n', b'654321\n')
d.execute('update event_blocks set data = ? where rowid = ?', (Z(raw), blocks[1][0]))"
tampered "output rewritten inside a block"
# Bytes moved from one event to the next (their lengths changed, the block not).
attack move "
f = blocks[1][1]
d.execute('update events set block_len = block_len + 1 where session = x\'%s\' and seq = ?' % H, (f,))
d.execute('update events set block_len = block_len - 1 where session = x\'%s\' and seq = ?' % H, (f + 1,))"
tampered "one byte moved between two events of a block"
# A block extended with bytes no event takes.
attack extra "
b = blocks[-1]  # the last block is not full: the bytes fit within a batch
raw = D(b[4]) + b'unrecorded\n'
d.execute('update event_blocks set data = ?, raw_len = ? where rowid = ?', (Z(raw), len(raw), b[0]))"
tampered "bytes no event takes appended to a block"
# A block deleted (its events' data gone).
attack drop "
d.execute('delete from event_blocks where rowid = ?', (blocks[1][0],))"
tampered "a block deleted"
# Two blocks' ranges made to overlap.
attack overlap "
d.execute('update event_blocks set first_seq = first_seq - 1 where rowid = ?', (blocks[1][0],))"
tampered "two blocks' ranges overlapping"
# A block added after the session's exit event, holding text no event names.
attack beyond "
last = d.execute('select max(seq) from events where session = x\'%s\'' % H).fetchone()[0]
raw = b'rm -rf / # never recorded\n'
d.execute('insert into event_blocks values (x\'%s\', ?, ?, \'zstd\', ?, ?)' % H, (last + 1, last + 1, len(raw), Z(raw)))"
tampered "a block after the exit event"

# The residual: the same bytes encoded differently change nothing recorded.
attack reencode "
for b in blocks:
    d.execute('update event_blocks set data = ? where rowid = ?', (Z(D(b[4]), '-19'), b[0]))"
eq "a block re-encoded to the same bytes: verify OK (exit 0)" 0 "$rc"
"$NSGATE" replay --db "$T/a.db" --key "$T/root.key" --no-timing --raw "$S" >"$T/replay" 2>/dev/null
check "... and replay gives exactly the recorded output" cmp -s "$T/want" "$T/replay"
finish
