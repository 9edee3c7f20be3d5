#!/bin/bash
# Whoever holds the shipped evidence stream (export -f jsonl --follow) edits
# it before verify --jsonl reads it, or a later root holding only the
# current epoch's key rewrites the store and ships that: a forged event with
# its chain hashes recomputed; records of another root key (an attacker's
# own host) relabelled or mixed in; every non-canonical spelling of a field
# (leading zeros, upper-case hex, loose base64, duplicate keys, huge
# numbers, an overlong line, NUL bytes, invalid UTF-8); lines reordered and
# two hosts' streams interleaved; a session's last seal dropped; a session
# record claiming another session's ID. None of it may verify OK for
# changed content, and nothing may crash. What may verify OK, as it is the
# same evidence: the same records in another order or interleaved with
# another host's (records are verified, not lines), a value spelled with a
# JSON escape. A stream under another root label is refused: the label must
# be the start of the key its root record names. Last, a hostile --cursor for the follower (garbage,
# huge numbers, a symlink, a FIFO, an output longer than the file, a planted
# FILE.new): refused, and nothing written outside -o.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/adv_lib.sh"

FORGE="$NSGATE_BUILD/tests/x_ledger_forge"
KEY="$T/root.key"
export NSGATE_DB
default_policy 'seal_interval = 200ms'

# 10-second epochs: the two sessions, and the later root, in three epochs.
"$NSGATE" keygen --keys "$NSGATE_KEYS" --force --epoch 10s >"$KEY" 2>/dev/null ||
    { echo "keygen failed"; exit 1; }
start_target --pid --mount-proc -- sleep 600
ids=()
for name in alice bob; do
    "$NSGATE" enter -q -t "$TPID" -p -m -- /bin/sh -c \
        "echo $name-1; echo '>>>???'; sleep 0.5; echo $name-2; sleep 0.5; echo $name-3" >/dev/null 2>&1 ||
        { echo "enter failed"; exit 1; }
    ids+=("$("$NSGATE" sessions --json 2>/dev/null | head -1 | jq -r .id)")
    sleep 10.5
done
A=${ids[0]}
B=${ids[1]}

# follow_all DB OUT: the whole stream of a store whose sessions have ended.
follow_all() {
    local i
    "$NSGATE" export -f jsonl --follow --key "$KEY" --db "$1" -o "$2" 2>>"$T/follow.err" &
    local f=$!
    for i in $(seq 1 100); do
        [ "$(grep -c '"session":"ledger"' "$2" 2>/dev/null)" -ge 4 ] 2>/dev/null && break
        sleep 0.05
    done
    kill -TERM "$f"
    wait "$f"
}
S="$T/s.jsonl"
follow_all "$NSGATE_DB" "$S"
"$NSGATE" export -f jsonl --follow --key "$KEY" "$A" >"$T/one.jsonl" 2>>"$T/follow.err"
ONE="$T/one.jsonl"
R16=$(head -1 "$S" | jq -r .root)

# An attacker's own host: its own root key, store and session.
mkdir -m 700 "$T/evil"
"$NSGATE" keygen --keys "$T/evil/keys" >"$T/evil.key" 2>/dev/null || { echo "keygen failed"; exit 1; }
NSGATE_DB="$T/evil/sessions.db" NSGATE_KEYS="$T/evil/keys" "$NSGATE" enter -q -t "$TPID" -p -m -- \
    /bin/sh -c 'echo alice-1; echo evil' >/dev/null 2>&1 || { echo "enter failed"; exit 1; }
"$NSGATE" export -f jsonl --follow --key "$T/evil.key" --db "$T/evil/sessions.db" \
    "$("$NSGATE" sessions --db "$T/evil/sessions.db" --json 2>/dev/null | head -1 | jq -r .id)" \
    >"$T/evil.jsonl" 2>>"$T/follow.err"
EVIL=$(head -1 "$T/evil.jsonl" | jq -r .root)

# v FILE...: verify --jsonl with the real key; RC, and the verdicts in $T/v.out.
v() {
    "$NSGATE" verify --jsonl --key "$KEY" "$@" >"$T/v.out" 2>"$T/v.err"
    RC=$?
}
# refused DESCRIPTION CODES FILE...: exit one of CODES ("1", "12") with a
# verdict that is not OK; never a crash (a signal is an exit above 128).
refused() {
    local d=$1 codes=$2
    shift 2
    v "$@"
    echo "# $d: exit $RC"
    sed 's/^/#   /' "$T/v.out" | head -4
    check "$d: not OK (exit $RC)" sh -c "case '$RC' in [$codes]) grep -q '^TAMPERED\|^MISSING\|^INCOMPLETE\|^LEDGER TAMPERED\|^LEDGER INCOMPLETE' '$T/v.out' ;; *) false ;; esac"
}

v "$S"
eq "the honest stream verifies (exit 0)" 0 "$RC"
eq "... two sessions OK and the ledger OK" 3 "$(grep -c '^OK \|^LEDGER OK' "$T/v.out")"
v "$ONE"
eq "the honest one-session stream verifies (exit 0)" 0 "$RC"
check "no follower complained" test ! -s "$T/follow.err"

# The mutator: python3 M SRC DST OP ARGS... (one edited copy of a stream).
M="$T/mut.py"
cat >"$M" <<'EOF'
import base64, hashlib, json, random, sys

src, dst, op, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
lines = open(src, "rb").read().split(b"\n")
if lines and lines[-1] == b"":
    lines.pop()
recs = [json.loads(l) for l in lines]

def dump(r):
    return json.dumps(r, separators=(",", ":")).encode()

def find(typ, sid=None, seq=None, sealno=None):
    for i, r in enumerate(recs):
        if r["type"] == typ and (sid is None or r.get("session") == sid) and \
           (seq is None or r.get("seq") == seq) and (sealno is None or r.get("sealno") == sealno):
            return i
    raise SystemExit("no such record: %s %s %s" % (typ, sid, seq))

def field(cls, b):
    return bytes([cls]) + len(b).to_bytes(8, "big") + b

def event_hash(sid, seq, t_ns, kind, data, prev):  # chain.h, "nsgate-event-v1"
    h = hashlib.blake2b(digest_size=32)
    h.update(field(3, b"nsgate-event-v1"))
    h.update(field(4, bytes.fromhex(sid.replace("-", ""))))
    h.update(field(1, int(seq).to_bytes(8, "big", signed=True)))
    h.update(field(1, int(t_ns).to_bytes(8, "big", signed=True)))
    h.update(field(3, kind.encode()))
    h.update(field(4, data))
    h.update(field(4, prev))
    return h.hexdigest()

def chain_start(sid):  # the header hash: the head of seal 1 (seq 0)
    return bytes.fromhex(recs[find("seal", sid, "0")]["head"])

def rechain(sid, heads):
    # every event of sid hashed again from the header on; with heads, the
    # seals' heads follow (their signatures cannot)
    prev, new = chain_start(sid), {}
    for i, r in enumerate(recs):
        if r["type"] == "event" and r["session"] == sid:
            r["hash"] = event_hash(sid, r["seq"], r["t_ns"], r["kind"],
                                   base64.b64decode(r["data"]), prev)
            prev = bytes.fromhex(r["hash"])
            new[r["seq"]] = r["hash"]
            lines[i] = dump(r)
    for i, r in enumerate(recs):
        if heads and r["type"] == "seal" and r["session"] == sid and r["seq"] in new:
            r["head"] = new[r["seq"]]
            lines[i] = dump(r)

def raw(i, key, value):  # the member key of line i spelled exactly as value
    old = b'"%s":%s' % (key.encode(), json.dumps(recs[i][key]).encode())
    assert old in lines[i], (old, lines[i])
    lines[i] = lines[i].replace(old, b'"%s":%s' % (key.encode(), value), 1)

if op == "selfcheck":  # the recorded hashes, recomputed: the same?
    sid = args[0]
    before = [r["hash"] for r in recs if r["type"] == "event" and r["session"] == sid]
    rechain(sid, False)
    after = [r["hash"] for r in recs if r["type"] == "event" and r["session"] == sid]
    sys.exit(0 if before == after and before else 1)
elif op == "data":  # SID SEQ TEXT [rechain|heads]
    i = find("event", args[0], args[1])
    recs[i]["data"] = base64.b64encode(args[2].encode()).decode()
    lines[i] = dump(recs[i])
    if len(args) > 3:
        rechain(args[0], args[3] == "heads")
elif op == "set":  # SID SEQ FIELD VALUE (a string) [rechain]
    i = find("event", args[0], args[1])
    recs[i][args[2]] = args[3]
    lines[i] = dump(recs[i])
    if len(args) > 4:
        rechain(args[0], False)
elif op == "raw":  # TYPE SID SEQ FIELD BYTES: one member spelled otherwise
    i = find(args[0], args[1] or None, args[2] or None)
    raw(i, args[3], args[4].encode("utf-8", "surrogateescape"))
elif op == "rawline":  # TYPE SID SEQ OLD NEW: bytes of the line replaced
    i = find(args[0], args[1] or None, args[2] or None)
    old, new = (a.encode("utf-8", "surrogateescape") for a in args[3:5])
    assert old in lines[i], (old, lines[i])
    lines[i] = lines[i].replace(old, new, 1)
elif op == "append":  # SID TEXT: a chained event after the session's last
    last = max((i for i, r in enumerate(recs) if r["type"] == "event" and r["session"] == args[0]))
    r = dict(recs[last])
    r["seq"] = str(int(r["seq"]) + 1)
    r["t_ns"] = str(int(r["t_ns"]) + 1000)
    r["kind"] = "o"
    r["data"] = base64.b64encode(args[1].encode()).decode()
    r["hash"] = event_hash(args[0], r["seq"], r["t_ns"], "o", args[1].encode(),
                           bytes.fromhex(recs[last]["hash"]))
    lines.insert(last + 1, dump(r))
elif op == "drop-last-seal":  # SID
    last = max((i for i, r in enumerate(recs) if r["type"] == "seal" and r["session"] == args[0]))
    del lines[last]
elif op == "drop-tail":  # SID: the last seal, and the events it alone covers
    seals = [i for i, r in enumerate(recs) if r["type"] == "seal" and r["session"] == args[0]]
    keep = int(recs[seals[-2]]["seq"])
    lines = [l for l, r in zip(lines, recs)
             if not (r.get("session") == args[0] and
                     ((r["type"] == "event" and int(r["seq"]) > keep) or
                      (r["type"] == "seal" and r["sealno"] == recs[seals[-1]]["sealno"])))]
elif op == "shuffle":  # SEED
    random.Random(int(args[0])).shuffle(lines)
elif op == "reverse":
    lines.reverse()
elif op == "relabel":  # SID|all LABEL: the root label of a session's records
    for i, r in enumerate(recs):
        if args[0] == "all" or (r.get("session") == args[0] and
                                r["type"] in ("session", "event", "seal")):
            r["root"] = args[1]
            lines[i] = dump(r)
elif op == "resession":  # TYPE SID SEQ OTHER: a record moved to another session
    i = find(args[0], args[1], args[2] or None)
    recs[i]["session"] = args[3]
    lines[i] = dump(recs[i])
elif op == "swap":  # SID SEQ1 SEQ2: two events' seq numbers exchanged
    i, j = find("event", args[0], args[1]), find("event", args[0], args[2])
    recs[i]["seq"], recs[j]["seq"] = recs[j]["seq"], recs[i]["seq"]
    lines[i], lines[j] = dump(recs[i]), dump(recs[j])
elif op == "header-id":  # SID OTHER session|cell|both|clone
    i = find("session", args[0])
    r = json.loads(lines[i])
    cell = base64.b64encode(bytes.fromhex(args[1].replace("-", ""))).decode()
    if args[2] in ("session", "both", "clone"):
        r["session"] = args[1]
    if args[2] in ("cell", "both", "clone"):
        for c in r["header"]:
            if c[0] == "id":
                c[2] = cell
    if args[2] == "clone":
        lines.insert(i, dump(r))
    else:
        lines[i] = dump(r)
elif op == "interleave":  # OTHER: the lines of two streams, alternately
    other = open(args[0], "rb").read().split(b"\n")
    other = [l for l in other if l]
    out = []
    for k in range(max(len(lines), len(other))):
        out += lines[k:k + 1] + other[k:k + 1]
    lines = out
else:
    raise SystemExit("unknown op " + op)
open(dst, "wb").write(b"".join(l + b"\n" for l in lines))
EOF
mut() { python3 "$M" "$@" || { not_ok "mutator failed: $*"; return 1; }; }
check "the test's own chain hashing reproduces the recorded hashes" python3 "$M" "$S" /dev/null selfcheck "$A"

# ---- (a) a forged event --------------------------------------------------------------
F="$T/f.jsonl"
mut "$S" "$F" data "$A" 2 "rm -rf /evidence"
refused "(a) an event's data changed, its hash left" 1 "$F"
mut "$S" "$F" data "$A" 2 "rm -rf /evidence" rechain
refused "(a) an event's data changed, the chain recomputed after it" 1 "$F"
mut "$S" "$F" data "$A" 2 "rm -rf /evidence" heads
refused "(a) ... and the seals' heads set to the new chain" 1 "$F"
mut "$ONE" "$F" data "$A" 2 "rm -rf /evidence" heads
refused "(a) the same in a one-session stream (no ledger)" 1 "$F"
mut "$S" "$F" set "$A" 2 t_ns 1 rechain
refused "(a) an event re-timed, the chain recomputed" 1 "$F"
mut "$S" "$F" set "$A" 2 kind i rechain
refused "(a) output turned into input, the chain recomputed" 1 "$F"
mut "$ONE" "$F" append "$A" "one more line"
refused "(a) a chained event appended after the last seal (one-session stream)" 12 "$F"
mut "$S" "$F" append "$A" "one more line"
refused "(a) ... and in the whole stream" 12 "$F"

# ---- (b) other root keys: an attacker's own host ---------------------------------------------
refused "(b) the attacker's stream under its own label, real --key" 1 "$T/evil.jsonl"
mut "$T/evil.jsonl" "$F" relabel all "$R16"
refused "(b) the attacker's stream relabelled as the real host's" 1 "$F"
cat "$S" "$F" >"$T/f2.jsonl"
refused "(b) ... and merged into the real stream" 1 "$T/f2.jsonl"
cat "$F" "$S" >"$T/f2.jsonl"
refused "(b) ... merged in front of the real stream (its root record first)" 1 "$T/f2.jsonl"
grep '"type":"root"' "$F" >"$T/f2.jsonl"
cat "$ONE" >>"$T/f2.jsonl"
v "$T/f2.jsonl"
echo "# (b) an attacker's root record added to a real one-session stream: exit $RC"
check "(b) ... the attacker's root record is reported, not silently kept" \
    grep -q "^TAMPERED\|^LEDGER TAMPERED" "$T/v.out"
{ cat "$ONE"; grep '"type":"root"\|"type":"cert"' "$T/evil.jsonl"; } >"$T/f2.jsonl"
v "$T/f2.jsonl"
echo "# (b) an attacker's root and certificate records under their own label added: exit $RC"
check "(b) ... reported, not silently kept (records no verdict line covers)" \
    grep -q "^TAMPERED\|^LEDGER TAMPERED" "$T/v.out"
# The honest counterpart: the real key chain alone (a follower's poll
# between a new store's keys and its first session) is no finding, as an
# empty stream is none; the same records of a key not given are.
grep '"type":"root"\|"type":"cert"' "$ONE" >"$T/f2.jsonl"
v "$T/f2.jsonl"
eq "(b) the real key chain alone: nothing to verify yet (exit 0)" 0 "$RC"
check "... said in a warning" grep -q "the key chain only" "$T/v.err"
grep '"type":"root"\|"type":"cert"' "$T/evil.jsonl" >"$T/f2.jsonl"
refused "(b) an attacker's key chain alone, real --key" 1 "$T/f2.jsonl"
cat "$S" "$T/evil.jsonl" >"$T/f2.jsonl"
"$NSGATE" verify --jsonl --key "$KEY" --key "$T/evil.key" "$T/f2.jsonl" >"$T/v.out" 2>&1
eq "(b) the attacker's stream beside the real one, both keys given: each host verified (exit 0)" \
    0 "$?"
"$NSGATE" verify --jsonl --key "$KEY" "$T/f2.jsonl" >"$T/v.out" 2>&1
eq "(b) ... only the real key given: exit 1" 1 "$?"
check "(b) ... the attacker's session TAMPERED, the real ones OK" \
    sh -c "grep -q '^TAMPERED' '$T/v.out' && test \$(grep -c '^OK ' '$T/v.out') = 2"
mut "$S" "$F" relabel "$B" 0123456789abcdef
refused "(b) one real session relabelled to another root label" 1 "$F"
mut "$ONE" "$F" relabel all 0123456789abcdef
refused "(b) a one-session stream under another label, content unchanged (the root record's key no longer starts with its label)" 1 "$F"
sed "s/\"root\":\"$R16\"/\"root\":\"$(echo "$R16" | tr a-f A-F)\"/" "$ONE" >"$F"
refused "(b) the root label in upper case" 1 "$F"

# A later root with the store and the key directory (only the current
# epoch's secret) rewrites the ledger, and the follower ships the result.
sqlite3 "$NSGATE_DB" ".backup '$T/f.db'" || exit 1
if "$FORGE" delete "$T/f.db" "$NSGATE_KEYS" "$A" >"$T/forge.out" 2>&1; then
    follow_all "$T/f.db" "$T/forged.jsonl"
    refused "(b) alice deleted, the ledger rebuilt and sealed with the current key, streamed" \
        1 "$T/forged.jsonl"
    cat "$S" "$T/forged.jsonl" >"$F"
    refused "(b) ... appended to the stream already shipped" 1 "$F"
else
    cat "$T/forge.out"
    not_ok "(b) the ledger forgery could not be written"
fi
sqlite3 "$NSGATE_DB" ".backup '$T/f.db'" || exit 1
if "$FORGE" reseal "$T/f.db" "$NSGATE_KEYS" "$A" >"$T/forge.out" 2>&1; then
    rm -f "$T/forged.jsonl"
    follow_all "$T/f.db" "$T/forged.jsonl"
    refused "(b) the ledger re-sealed with the current key, streamed" 1 "$T/forged.jsonl"
else
    cat "$T/forge.out"
    not_ok "(b) the re-seal could not be written"
fi

# ---- (c) non-canonical spellings ----------------------------------------------------------------
# spell DESCRIPTION TYPE SID SEQ FIELD BYTES: one member of one line spelled otherwise
spell() {
    mut "$ONE" "$F" raw "$2" "$3" "$4" "$5" "$6" && refused "(c) $1" 1 "$F"
}
spell "seq with a leading zero" event "$A" 2 seq '"02"'
spell "seq with a plus sign" event "$A" 2 seq '"+2"'
spell "seq with a space" event "$A" 2 seq '" 2"'
spell "seq as a JSON number" event "$A" 2 seq '2'
spell "seq as 2.0" event "$A" 2 seq '"2.0"'
spell "seq -0" event "$A" 1 seq '"-0"'
spell "t_ns past 2^63" event "$A" 2 t_ns '"9223372036854775808"'
spell "t_ns of 30 digits" event "$A" 2 t_ns '"123456789012345678901234567890"'
spell "t_ns below -2^63" event "$A" 2 t_ns '"-9223372036854775809"'
spell "t_ns as a huge JSON number" event "$A" 2 t_ns '1e400'
spell "a seal's sealno with a leading zero" seal "$A" "" sealno '"01"'
spell "a seal's wall time of 25 digits" seal "$A" "" wall_ns '"1000000000000000000000000"'
spell "the epoch length with a leading zero" root "" "" epoch_len_ns "\"0$(head -1 "$ONE" | jq -r .epoch_len_ns)\""
H=$(jq -r "select(.type==\"event\" and .seq==\"2\") | .hash" "$ONE")
spell "an event hash in upper case" event "$A" 2 hash "\"$(echo "$H" | tr a-f A-F)\""
SG=$(jq -r 'select(.type=="seal") | .signature' "$ONE" | head -1)
spell "a seal signature in upper case" seal "$A" "" signature "\"$(echo "$SG" | tr a-f A-F)\""
spell "a hash one hex digit short" event "$A" 2 hash "\"${H:1}\""
spell "a hash with 0x" event "$A" 2 hash "\"0x${H:2}\""
spell "a session ID in upper case" event "$A" 2 session "\"$(echo "$A" | tr a-f A-F)\""
spell "a session ID without dashes" event "$A" 2 session "\"${A//-/}\""
spell "the ledger's name for a session ID" event "$A" 2 session '"ledger"'
D=$(jq -r "select(.type==\"event\" and .seq==\"2\") | .data" "$ONE")
P=$(jq -r 'select(.type=="event" and (.data | endswith("="))) | .seq' "$ONE" | head -1)
spell "base64 without its padding (event $P)" event "$A" "$P" data \
    "\"$(jq -r "select(.type==\"event\" and .seq==\"$P\") | .data" "$ONE" | tr -d =)\""
spell "base64 with stray low bits (event $P)" event "$A" "$P" data \
    "\"$(python3 -c "import sys; d=sys.argv[1]; p=d.rstrip('='); a='ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'; print(p[:-1] + a[a.index(p[-1]) ^ 1] + d[len(p):])" "$(jq -r "select(.type==\"event\" and .seq==\"$P\") | .data" "$ONE")")\""
spell "base64 with a line break" event "$A" 2 data "\"${D:0:4}\\n${D:4}\""
# base64url: the same bytes in another alphabet (an event whose data has a
# '+' or '/')
Q=$(jq -r 'select(.type=="event" and (.data | test("[+/]"))) | .seq' "$ONE" | head -1)
spell "base64url (event $Q)" event "$A" "$Q" data \
    "\"$(jq -r "select(.type==\"event\" and .seq==\"$Q\") | .data" "$ONE" | tr '+/' '-_')\""
spell "a kind of two letters" event "$A" 2 kind '"oo"'
spell "an empty kind" event "$A" 2 kind '""'
spell "a kind with a NUL escape" event "$A" 2 kind '"o\u0000"'
spell "data null" event "$A" 2 data 'null'
spell "a hash null" event "$A" 2 hash 'null'
mut "$ONE" "$F" rawline event "$A" 2 ',"data":' ',"data":"eA==","data":' &&
    refused "(c) a duplicate key (data twice, the first one forged)" 1 "$F"
mut "$ONE" "$F" rawline event "$A" 2 '"seq":"2"' '"seq":"2","seq":"3"' &&
    refused "(c) a duplicate key (seq twice)" 1 "$F"
mut "$ONE" "$F" rawline session "$A" "" '"header":[' '"header":[["id","blob","AAAAAAAAAAAAAAAAAAAAAA=="],' &&
    refused "(c) a header with the id column twice" 1 "$F"
mut "$ONE" "$F" rawline session "$A" "" '"integer"' '"INTEGER"' &&
    refused "(c) a header class in upper case" 1 "$F"
mut "$ONE" "$F" rawline session "$A" "" '["host","text"' '["host","blob"' &&
    refused "(c) a header text cell given as a blob" 1 "$F"
# raw bytes: a NUL, invalid UTF-8 (a lone continuation byte, an overlong
# '/', a surrogate), inside the data and inside the kind
for b in '\x00' '\x80' '\xc0\xaf' '\xed\xa0\x80' '\xff'; do
    python3 - "$ONE" "$F" "$b" <<'EOF'
import sys
src, dst, b = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3].replace("\\x", ""))
lines = open(src, "rb").read().split(b"\n")
i = next(k for k, l in enumerate(lines) if b'"type":"event"' in l)
lines[i] = lines[i].replace(b'"kind":"', b'"kind":"' + b, 1)
open(dst, "wb").write(b"\n".join(lines))
EOF
    refused "(c) raw byte(s) $b inside an event line" 1 "$F"
done
printf '\0\0\0\n' >"$F"
cat "$ONE" >>"$F"
refused "(c) a line of NUL bytes before the stream" 1 "$F"
# A line over 2 MiB: one event of the largest size and then some (base64
# of 1 MiB + 512 KiB); also the largest size + 1 byte, which fits a line.
python3 - "$ONE" "$F" "$A" <<'EOF'
import base64, json, sys
src, dst, sid = sys.argv[1:4]
lines = open(src, "rb").read().split(b"\n")
i = next(k for k, l in enumerate(lines) if b'"type":"event"' in l)
r = json.loads(lines[i])
r["data"] = base64.b64encode(b"a" * (1024 * 1024 + 512 * 1024)).decode()
lines[i] = json.dumps(r, separators=(",", ":")).encode()
open(dst, "wb").write(b"\n".join(lines))
r["data"] = base64.b64encode(b"a" * (1024 * 1024 + 1)).decode()
lines[i] = json.dumps(r, separators=(",", ":")).encode()
open(dst + ".2", "wb").write(b"\n".join(lines))
EOF
check "(c) the overlong line is over 2 MiB" test "$(awk '{ if (length($0) > m) m = length($0) } END { print m }' "$F")" -gt 2097152
refused "(c) an event line over 2 MiB" 1 "$F"
check "(c) ... reported by its FILE:LINE" grep -q "f.jsonl:[0-9]*: not a JSON object" "$T/v.out"
refused "(c) an event one byte over the largest size" 1 "$F.2"
head -c 3000000 /dev/zero | tr '\0' '{' >"$F"
refused "(c) 3 MB of '{' without a newline" 1 "$F"
python3 -c "print('[' * 100000 + ']' * 100000)" >"$F"
refused "(c) JSON nested 100000 deep" 1 "$F"
python3 -c "
for k in range(300):
    print('{\"type\":\"event\",\"root\":\"%016x\"}' % k)" >"$F"
v "$F"
echo "# (c) 300 root labels (more hosts than the reader keeps): exit $RC: $(head -1 "$T/v.err")"
check "(c) ... not OK, no crash (exit $RC)" sh -c "test $RC = 1 || test $RC = 74"
# Records that name no session (a root key, a certificate) are findings too,
# also in a stream without a ledger (one session followed).
{ cat "$ONE"; echo "{\"type\":\"cert\",\"root\":\"$R16\",\"epoch\":\"01\"}"; } >"$F"
refused "(c) a malformed certificate line in a one-session stream" 1 "$F"
{ cat "$ONE"; echo "{\"type\":\"bogus\",\"root\":\"$R16\"}"; } >"$F"
refused "(c) a record of an unknown type in a one-session stream" 1 "$F"
{ cat "$ONE"; head -1 "$ONE" | sed 's/"epoch_len_ns":"/&1/'; } >"$F"
refused "(c) a second, different root record for the same key, after the real one" 1 "$F"
{ cat "$S"; head -1 "$S" | sed 's/"epoch_len_ns":"/&1/'; } >"$F"
refused "(c) ... the same in the whole stream" 1 "$F"
# The same content spelled with JSON escapes ("\u0031" for "1") and
# members in another order: the same record, not a changed one.
mut "$ONE" "$F" raw event "$A" 2 seq '"\u0032"'
v "$F"
echo "# (c) seq spelled \"\\u0032\" (the same value): exit $RC (same content: OK is acceptable)"
check "(c) ... never a crash" test "$RC" -lt 3
mut "$ONE" "$F" rawline event "$A" 2 '"kind":"o"' '"kind":"o","note":"verified by the auditor"'
v "$F"
echo "# (c) an unknown member added to an event: exit $RC"
check "(c) a member the format does not have is reported, not ignored" test "$RC" = 1

# ---- (d) order --------------------------------------------------------------------------------
mut "$S" "$F" shuffle 1
v "$F"
echo "# (d) every line shuffled (same records): exit $RC"
eq "(d) ... the same verdict as in order (records, not lines, are verified)" 0 "$RC"
mut "$S" "$F" reverse
v "$F"
echo "# (d) the lines reversed: exit $RC"
eq "(d) ... the same verdict as in order" 0 "$RC"
mut "$S" "$F" interleave "$T/evil.jsonl"
"$NSGATE" verify --jsonl --key "$KEY" --key "$T/evil.key" "$F" >"$T/v.out" 2>&1
eq "(d) two hosts' streams interleaved line by line, both keys: exit 0" 0 "$?"
eq "(d) ... three sessions OK and the ledger OK" 4 "$(grep -c '^OK \|^LEDGER OK' "$T/v.out")"
mut "$S" "$F" swap "$A" 2 3
refused "(d) two events' seq numbers exchanged" 1 "$F"
mut "$S" "$F" swap "$A" 2 3
mut "$F" "$F" shuffle 2
refused "(d) ... and the lines shuffled" 1 "$F"
mut "$S" "$F" resession event "$A" 2 "$B"
refused "(d) an event moved to the other session" 1 "$F"
mut "$S" "$F" resession seal "$A" "" "$B"
refused "(d) a seal moved to the other session" 1 "$F"
mut "$T/evil.jsonl" "$F" relabel all "$R16"
mut "$F" "$F" interleave "$S"
refused "(d) the attacker's stream relabelled and interleaved with the real one" 1 "$F"

# ---- (e) the last seal dropped ----------------------------------------------------------------
mut "$S" "$F" drop-last-seal "$A"
refused "(e) alice's last seal dropped (whole stream)" 12 "$F"
mut "$ONE" "$F" drop-last-seal "$A"
refused "(e) alice's last seal dropped (one-session stream)" 12 "$F"
mut "$S" "$F" drop-tail "$A"
refused "(e) alice's last seal and the events it covers dropped (the ledger names her end)" 12 "$F"
mut "$ONE" "$F" drop-tail "$A"
v "$F"
echo "# (e) ... the same cut in a one-session stream, no ledger: exit $RC"
sed 's/^/#   /' "$T/v.out"
check "(e) ... there: an ended session cut at a seal, reported as not OK (exit $RC)" \
    test "$RC" -ne 0

# ---- (f) a session record claiming another session ----------------------------------------------
mut "$S" "$F" header-id "$A" "$B" session
refused "(f) alice's header, its record naming bob" 1 "$F"
mut "$S" "$F" header-id "$A" "$B" cell
refused "(f) alice's record, its header's id bob's" 1 "$F"
mut "$S" "$F" header-id "$A" "$B" both
refused "(f) alice's header made bob's throughout" 1 "$F"
NEW=01234567-89ab-4def-8123-456789abcdef
mut "$ONE" "$F" header-id "$A" "$NEW" both
refused "(f) the only header given a new ID (its events still alice's)" 1 "$F"
mut "$ONE" "$F" header-id "$A" "$NEW" clone
refused "(f) a copy of alice's header under a new ID added" 1 "$F"
check "(f) ... the new ID is named" grep -q "$NEW" "$T/v.out"

# ---- (g) a hostile cursor ----------------------------------------------------------------------
mkdir -m 700 "$T/g"
echo "not to be touched" >"$T/g/victim"
cp "$T/g/victim" "$T/victim.orig"
FOL=(timeout 10 "$NSGATE" export -f jsonl --follow --key "$KEY")
CUR="$T/g/cursor"
OUT="$T/g/out.jsonl"
follow_all_cursor() {
    "${FOL[@]}" --cursor "$CUR" -o "$OUT" 2>>"$T/follow.err" &
    local f=$! i
    for i in $(seq 1 100); do
        [ -s "$CUR" ] && [ "$(grep -c '"session":"ledger"' "$OUT" 2>/dev/null)" -ge 4 ] 2>/dev/null && break
        sleep 0.05
    done
    kill -TERM "$f"
    wait "$f"
}
follow_all_cursor
check "(g) a cursor written by an honest follower" grep -q '^nsgate-stream-cursor 1$' "$CUR"
cp "$CUR" "$T/cursor.good"
cp "$OUT" "$T/out.good"
sed 's/"store":"[0-9a-f]*"/"store":""/' "$OUT" >"$T/out.norm"
LEN=$(stat -c %s "$OUT")
check "(g) ... naming the output's length" grep -q "^output $LEN$" "$CUR"
# hostile NAME: the follower with the cursor now at $CUR; refused (64, or
# 74 for an output the cursor does not match), $OUT and the victim intact,
# nothing new in the directory.
hostile() {
    local d=$1 rc
    ls -A "$T/g" >"$T/g.before"
    "${FOL[@]}" --cursor "$CUR" -o "$OUT" >"$T/g.stdout" 2>"$T/g.err"
    rc=$?
    echo "# (g) $d: exit $rc: $(head -1 "$T/g.err")"
    check "(g) $d: refused (exit $rc)" sh -c "test $rc = 64 || test $rc = 74"
    check "(g) $d: the output untouched" cmp -s "$OUT" "$T/out.good"
    check "(g) $d: nothing written elsewhere" sh -c \
        "cmp -s '$T/g/victim' '$T/victim.orig' && ls -A '$T/g' | cmp -s - '$T/g.before' && test ! -s '$T/g.stdout'"
    cp "$T/out.good" "$OUT"
}
echo garbage >"$CUR"
hostile "a garbage cursor"
head -c 4096 /dev/urandom >"$CUR"
hostile "4 KiB of random bytes"
: >"$CUR"
hostile "an empty cursor"
sed 's/^output .*/output 99999999999999999999999/' "$T/cursor.good" >"$CUR"
hostile "an output length past 2^64"
sed 's/^output .*/output 9223372036854775807/' "$T/cursor.good" >"$CUR"
hostile "an output length of 2^63-1"
sed "s/^output .*/output $((LEN + 1))/" "$T/cursor.good" >"$CUR"
hostile "an output length one byte past the file"
sed 's/^output .*/output -1/' "$T/cursor.good" >"$CUR"
hostile "a negative output length"
sed 's/^output .*/output 0x10/' "$T/cursor.good" >"$CUR"
hostile "an output length in hex"
sed 's/^ledger .*/ledger 1 18446744073709551616/' "$T/cursor.good" >"$CUR"
hostile "a ledger position past 2^64"
sed 's/^done .*/done 2/' "$T/cursor.good" >"$CUR"
hostile "done 2"
{ cat "$T/cursor.good"; echo "open $A 1 1 2"; } >"$CUR"
hostile "an open session with header 2"
{ cat "$T/cursor.good"; echo "open $A 1 1 1 extra"; } >"$CUR"
hostile "an open line with a field too many"
{ head -c 40 "$T/cursor.good"; printf '\0'; tail -c +41 "$T/cursor.good"; } >"$CUR"
hostile "a NUL byte in the cursor"
head -c -1 "$T/cursor.good" >"$CUR"
hostile "a cursor cut short (no last newline)"
sed "s/^follow .*/follow $A/" "$T/cursor.good" >"$CUR"
hostile "a cursor of one session, following all"
sed "s/^root [0-9a-f]*/root $(tr -d '\n' <"$T/evil.key" | tail -c 64)/" "$T/cursor.good" >"$CUR"
hostile "a cursor of another root key"
python3 - "$T/cursor.good" "$CUR" <<'EOF'
import sys
text = open(sys.argv[1]).read()
with open(sys.argv[2], "w") as f:
    f.write(text)
    for k in range(70000):  # more open sessions than a follower keeps
        f.write("open %08x-0000-4000-8000-000000000000 1 1 1\n" % k)
EOF
hostile "70000 open sessions"
{ cat "$T/cursor.good"; head -c $((17 * 1024 * 1024)) /dev/zero | tr '\0' '#'; echo; } >"$CUR"
hostile "a cursor of 17 MiB"
rm -f "$CUR"
ln -s "$T/g/victim" "$CUR"
hostile "the cursor a symlink to another file"
rm -f "$CUR"
cp "$T/cursor.good" "$T/g/real.cursor"
ln -s "$T/g/real.cursor" "$CUR"
hostile "the cursor a symlink to a good cursor"
rm -f "$CUR" "$T/g/real.cursor"
mkdir "$CUR"
hostile "the cursor a directory"
rmdir "$CUR"
mkfifo "$CUR"
hostile "the cursor a FIFO nobody writes"
rm -f "$CUR"
# The output a symlink (the cursor good): refused, the file it names intact.
cp "$T/cursor.good" "$CUR"
mv "$OUT" "$T/out.moved"
ln -s "$T/g/victim" "$OUT"
"${FOL[@]}" --cursor "$CUR" -o "$OUT" >/dev/null 2>"$T/g.err"
rc=$?
echo "# (g) -o a symlink to another file: exit $rc: $(head -1 "$T/g.err")"
check "(g) -o a symlink: refused (exit $rc)" test "$rc" = 74
check "(g) ... the file it names intact" cmp -s "$T/g/victim" "$T/victim.orig"
rm -f "$OUT"
mv "$T/out.moved" "$OUT"
# FILE.new planted as a symlink: a fresh follower writes its cursor
# through neither the link nor the file it names.
rm -f "$CUR" "$OUT"
ln -s "$T/g/victim" "$CUR.new"
follow_all_cursor
check "(g) a planted CURSOR.new symlink: the file it names intact" cmp -s "$T/g/victim" "$T/victim.orig"
check "(g) ... the cursor written as a regular file, the link gone" \
    sh -c "test -f '$CUR' && test ! -L '$CUR' && test ! -e '$CUR.new'"
# A fresh follower labels its stream anew (each stream names its store with
# a label of its own): the same records otherwise.
check "(g) ... the stream written whole" sh -c \
    "sed 's/\"store\":\"[0-9a-f]*\"/\"store\":\"\"/' '$OUT' | cmp -s - '$T/out.norm'"

finish
