#!/usr/bin/env python3
"""Check the hash chain of an `nsgate export -f jsonl` file without nsgate
(docs/operations.md "Exporting sessions"): every event's hash is recomputed
from the previous one (seq 1 from the metadata's header_hash) as chain.h
defines it. This proves the lines are consistent with each other and with the
header hash; that the header hash itself is genuine is what `verify` proves
against the root key (the metadata's "verification" says what it found; the
export's own "header", seals and certificates let a verifier prove it with
the root key alone, as the HTML page does).
Usage: jsonl-chain-check.py FILE"""
import base64, hashlib, json, struct, sys, uuid

def field(cls, value):
    return bytes([cls]) + struct.pack(">Q", len(value)) + value

def event_hash(sid, ev, prev):
    h = hashlib.blake2b(digest_size=32)
    h.update(field(3, b"nsgate-event-v1"))
    h.update(field(4, sid))
    h.update(field(1, struct.pack(">q", ev["seq"])))
    h.update(field(1, struct.pack(">q", ev["t_ns"])))
    h.update(field(3, ev["kind"].encode()))
    h.update(field(4, base64.b64decode(ev["data"])))
    h.update(field(4, prev))
    return h.digest()

lines = open(sys.argv[1]).read().splitlines()
meta = json.loads(lines[0])
sid, prev = uuid.UUID(meta["id"]).bytes, bytes.fromhex(meta["header_hash"])
events = [ev for ev in map(json.loads, lines[1:]) if "kind" in ev]  # not the seals, certs
for ev in events:
    prev = event_hash(sid, ev, prev)
    assert prev.hex() == ev["hash"], "seq %d: hash differs" % ev["seq"]
print("chain OK: %d events" % len(events))
