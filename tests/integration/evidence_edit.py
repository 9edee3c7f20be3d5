#!/usr/bin/env python3
"""Make one edit to a session's evidence, the same one in an exported HTML
page (its ng-evidence element) or in a store copy, so the page's verdict can
be compared with nsgate verify's (t_export_verify.sh).
Usage: evidence_edit.py page|db FILE SESSION KIND N
KIND: data (first byte of event N's data), hash (event N's chain hash),
seal (seal number N's signature), cert (epoch N's certificate signature)."""
import base64, json, re, sqlite3, sys, uuid

where, path, session, kind, n = sys.argv[1:6]
n = int(n)

def flip(b):
    return bytes([b[0] ^ 1]) + b[1:]

def edit_line(o):
    if kind == "data" and o.get("kind") and o.get("seq") == n:
        o["data"] = base64.b64encode(flip(base64.b64decode(o["data"]))).decode()
    elif kind == "hash" and o.get("kind") and o.get("seq") == n:
        o["hash"] = flip(bytes.fromhex(o["hash"])).hex()
    elif kind == "seal" and "seal" in o and o["seal"]["sealno"] == str(n):
        o["seal"]["sig"] = flip(bytes.fromhex(o["seal"]["sig"])).hex()
    elif kind == "cert" and "cert" in o and o["cert"]["epoch"] == str(n):
        o["cert"]["sig"] = flip(bytes.fromhex(o["cert"]["sig"])).hex()
    else:
        return None
    return o

def html_json(o):
    s = json.dumps(o, separators=(",", ":"), ensure_ascii=True)
    return s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")

if where == "page":
    page = open(path).read()
    m = re.search(r'(<script type="application/x-ndjson" id="ng-evidence">\n)(.*?)(</script>)', page, re.S)
    lines, done = m.group(2).split("\n"), 0
    for i, line in enumerate(lines):
        if line and not done:
            o = edit_line(json.loads(line))
            if o is not None:
                lines[i], done = html_json(o), 1
    assert done, "nothing to edit"
    open(path, "w").write(page[:m.start(2)] + "\n".join(lines) + page[m.end(2):])
else:
    db, sid = sqlite3.connect(path), uuid.UUID(session).bytes
    q = {"data": ("events", "data", "session = ? AND seq = ?", (sid, n)),
         "hash": ("events", "hash", "session = ? AND seq = ?", (sid, n)),
         "seal": ("seals", "signature", "session = ? AND sealno = ?", (sid, n)),
         "cert": ("certs", "signature", "epoch = ?", (n,))}[kind]
    (v,) = db.execute("SELECT %s FROM %s WHERE %s" % (q[1], q[0], q[2]), q[3]).fetchone()
    db.execute("UPDATE %s SET %s = ? WHERE %s" % (q[0], q[1], q[2]), (flip(bytes(v)),) + q[3])
    db.commit()
