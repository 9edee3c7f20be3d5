/* nsgate review page (embedded by nsgate export -f html; see include/nsgate/export.h).
 *
 * Verifies the session's evidence -- the element ng-evidence: the JSON lines export
 * with the sessions row as stored, every event, the session's seals and the key
 * chain -- in this browser, with libsodium.js (BLAKE2b-256, Ed25519), against a root
 * public key the reviewer gives (the field below the banner, or #key=HEX in the
 * address), and says so in #ng-browser-verdict: OK, INCOMPLETE or TAMPERED at the
 * first bad sequence number. The rules, the words and the sequence numbers are
 * nsgate verify's (src/verify/verify.c, src/seal/seal.c, include/nsgate/chain.h):
 * for the same evidence both say the same. Then it plays exactly the events it
 * verified. Nothing is fetched; nothing runs but this file, the player and
 * libsodium (the page's CSP lists their hashes). */
(function () {
  "use strict";
  var S = null; /* libsodium, once ready */
  var SEC = 1000000000n;
  var INTERVAL = 60n * SEC; /* verify's seal interval (NG_VERIFY_SEAL_INTERVAL_NS) */
  var LATE = INTERVAL + 2n * SEC; /* + NG_SEAL_LATE_GRACE_NS */
  var GRACE = 5n * SEC; /* NG_SEAL_EPOCH_GRACE_NS */
  var MIN_EPOCH = 10n * SEC; /* NG_FSKEY_MIN_EPOCH_NS */
  var U64 = function (v) { return BigInt.asUintN(64, v); };
  var enc = new TextEncoder();
  var STATUS = {
    BAD_SIGNATURE: "bad seal signature",
    UNKNOWN_EPOCH: "seal by a key without certificate",
    BEFORE_EPOCH: "seal time before its key's epoch",
    AFTER_EPOCH: "late seal: made after its key's epoch ended",
    WALL_NOT_INCREASING: "seal time not after the previous seal",
    BOOT_NOT_INCREASING: "seal boot time not after the previous seal",
    LATE_EVENT: "late seal: too long after the events it covers",
    LATE_GAP: "late seal: too long after the previous seal",
    BAD_LINK: "seal not linked to the previous seal",
    SEQ_DECREASING: "seal covers less than the previous seal",
    CERT_BAD_SIGNATURE: "bad key certificate signature",
    CERT_BAD_ROOT: "first key certificate is not the root key's",
    CERT_DUPLICATE: "two key certificates for one epoch",
    CERT_GAP: "key certificate missing",
    CERT_START_NOT_INCREASING: "key certificate start times not increasing",
    CERT_START_TOO_SOON: "key certificate starts less than one epoch after the previous",
    CERT_EPOCH_LEN: "epoch length differs from the one the key certificates sign"
  };

  /* ---- bytes ------------------------------------------------------------ */

  function hex(s, n) {
    if (typeof s !== "string" || s.length !== 2 * n || !/^[0-9a-f]*$/.test(s)) return null;
    var b = new Uint8Array(n);
    for (var i = 0; i < n; i++) b[i] = parseInt(s.substr(2 * i, 2), 16);
    return b;
  }
  function tohex(b) {
    return Array.prototype.map.call(b, function (x) { return (x < 16 ? "0" : "") + x.toString(16); }).join("");
  }
  function b64(s) {
    if (typeof s !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4) return null;
    var t = atob(s), b = new Uint8Array(t.length);
    for (var i = 0; i < t.length; i++) b[i] = t.charCodeAt(i);
    return b;
  }
  /* A 64-bit integer as the evidence writes it (a decimal string), or null. */
  function int64(s) {
    if (typeof s !== "string" || !/^-?[0-9]{1,20}$/.test(s)) return null;
    var v = BigInt(s);
    return v === BigInt.asIntN(64, v) ? v : null;
  }
  function be(v, n) {
    var b = new Uint8Array(n);
    v = BigInt.asUintN(8 * n, v);
    for (var i = n - 1; i >= 0; i--, v >>= 8n) b[i] = Number(v & 255n);
    return b;
  }
  function cat(parts) {
    var n = 0, o = 0;
    parts.forEach(function (p) { n += p.length; });
    var b = new Uint8Array(n);
    parts.forEach(function (p) { b.set(p, o); o += p.length; });
    return b;
  }
  function equal(a, b) {
    if (!a || !b || a.length !== b.length) return false;
    var d = 0;
    for (var i = 0; i < a.length; i++) d |= a[i] ^ b[i];
    return d === 0;
  }
  var ZERO32 = new Uint8Array(32);

  /* chain.h: class (1 byte) || length (u64 BE) || value */
  function field(cls, v) { return cat([Uint8Array.of(cls), be(BigInt(v.length), 8), v]); }
  function text(s) { return field(3, enc.encode(s)); }
  function blake(parts) { return S.crypto_generichash(32, cat(parts)); }

  /* ---- the evidence ------------------------------------------------------- */

  /* One object per line: the metadata first, then events, keychain, certs,
   * seals. seq and t_ns are read from the line's text (exact beyond 2^53). */
  function parse(textContent) {
    var e = { meta: null, events: [], seals: [], certs: [], keychain: null, broken: null };
    textContent.split("\n").forEach(function (line, i) {
      if (!line.trim()) return;
      var o;
      try { o = JSON.parse(line); } catch (x) { o = null; }
      if (!o || typeof o !== "object" || Array.isArray(o)) {
        if (!e.broken) e.broken = { line: i + 1, after: e.events.length };
        return;
      }
      if (e.meta === null) { e.meta = o; return; }
      if ("seal" in o) e.seals.push(o.seal);
      else if ("cert" in o) e.certs.push(o.cert);
      else if ("keychain" in o) e.keychain = o.keychain;
      else {
        var m = /"seq":(-?[0-9]+)/.exec(line), t = /"t_ns":(-?[0-9]+)/.exec(line);
        o.seqx = m && typeof o.seq === "number" ? int64(m[1]) : null;
        o.tx = t && typeof o.t_ns === "number" ? int64(t[1]) : null;
        e.events.push(o);
      }
    });
    return e;
  }

  function uuidBytes(s) {
    return typeof s === "string" && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(s)
      ? hex(s.replace(/-/g, ""), 16) : null;
  }

  /* The header hash over the sessions row (chain.h, store_hash.c): every
   * column but header_hash and NULLs, by name, in schema order. */
  function header(cols) {
    var parts = [text("nsgate-header-v1")], seen = 0, stored = null, start = null, ok = true;
    if (!Array.isArray(cols)) return null;
    cols.forEach(function (c) {
      if (!Array.isArray(c) || typeof c[0] !== "string") { ok = false; return; }
      var name = c[0], cls = c[1], v = c[2], f = null;
      if (name === "header_hash") {
        seen++;
        stored = cls === "blob" ? b64(v) : null;
        return;
      }
      if (cls === "null") return;
      if (cls === "integer" && int64(v) !== null) f = field(1, be(int64(v), 8));
      else if (cls === "real" && hex(v, 8)) f = field(2, hex(v, 8));
      else if (cls === "text" && b64(v)) f = field(3, b64(v));
      else if (cls === "blob" && b64(v)) f = field(4, b64(v));
      if (!f) { ok = false; return; }
      if (name === "start_ns") start = cls === "integer" ? int64(v) : null;
      parts.push(text(name), f);
    });
    if (!ok || seen !== 1) return { bad: true };
    return { hash: blake(parts), stored: stored, start: start };
  }

  function column(cols, name) {
    var r = null;
    (Array.isArray(cols) ? cols : []).forEach(function (c) {
      if (Array.isArray(c) && c[0] === name) r = c;
    });
    return r;
  }

  /* ---- seals and certificates (seal.c) ------------------------------------ */

  function sealMessage(id, s) {
    return cat([be(14n, 4), enc.encode("nsgate-seal-v1"), id, be(s.last_seq, 8), s.head,
                s.prev_seal, be(s.wall, 8), be(s.boot, 8), be(s.epoch, 8)]);
  }
  function sealHash(id, s) { return blake([sealMessage(id, s), s.sig]); }
  function sigOk(sig, msg, pk) {
    try { return S.crypto_sign_verify_detached(sig, msg, pk); } catch (x) { return false; }
  }
  function certMessage(root, c, len) {
    var p = [be(14n, 4), enc.encode(len ? "nsgate-cert-v2" : "nsgate-cert-v1"), root,
             be(c.epoch, 8), c.pk, be(c.start, 8)];
    if (len) p.push(be(len, 8));
    return cat(p);
  }
  function certForm(root, c, signer, len, legacyOk) {
    if (sigOk(c.sig, certMessage(root, c, len), signer)) return 2;
    if (!legacyOk) return 0;
    return sigOk(c.sig, certMessage(root, c, 0n), signer) ? 1 : 0;
  }
  function badCert(root, c, signer, prev, next, len) {
    var grid = prev ? U64(c.start - prev.start) : next && next.start > c.start ? next.start - c.start : 0n;
    if (grid && grid !== len && certForm(root, c, signer, grid, false) === 2) return "CERT_EPOCH_LEN";
    return "CERT_BAD_SIGNATURE";
  }
  function certCheck(root, c, i, prev, next, len, out) {
    var signer = i === 0 ? root : prev.pk;
    if (c.epoch !== BigInt(i)) return c.epoch < BigInt(i) ? "CERT_DUPLICATE" : "CERT_GAP";
    if (i === 0 && !equal(c.pk, root)) return "CERT_BAD_ROOT";
    var form = certForm(root, c, signer, len, !prev || !prev.lenSigned);
    if (form === 0) return badCert(root, c, signer, prev, next, len);
    out.pk = c.pk; out.start = c.start; out.lenSigned = form === 2;
    if (i === 0) return null;
    if (c.start <= prev.start) return "CERT_START_NOT_INCREASING";
    if (c.start - prev.start < len - GRACE) return "CERT_START_TOO_SOON";
    return null;
  }

  /* walk_certs: the epochs the key chain establishes under root. */
  function keyChain(e, root) {
    var k = { epochs: [], status: null, what: "" };
    var kc = e.keychain, len = kc && kc.root === tohex(root) ? int64(kc.epoch_len_ns) : null;
    if (len === null || len <= 0n) {
      k.status = "CERT_GAP";
      k.what = "the store holds no valid key chain for this root key (roots row)";
      return k;
    }
    var certs = [];
    for (var i = 0; i < e.certs.length; i++) {
      var r = e.certs[i], c = r && { epoch: int64(r.epoch), start: int64(r.start_ns), pk: hex(r.pk, 32), sig: hex(r.sig, 64) };
      if (!c || c.epoch === null || c.start === null || !c.pk || !c.sig || c.epoch < 0n || c.start < 0n) {
        k.what = "certificate " + certs.length + ": malformed row";
        k.status = "CERT_BAD_SIGNATURE";
        break;
      }
      certs.push(c);
    }
    var n = certs.length, bad = 0, s = null;
    if (n > 0) {
      if (len < MIN_EPOCH) s = "CERT_START_TOO_SOON";
      for (i = 0; !s && i < n; i++) {
        var out = {};
        s = certCheck(root, certs[i], i, i ? k.epochs[i - 1] : null, i + 1 < n ? certs[i + 1] : null, len, out);
        if (s) bad = i; else k.epochs.push(out);
      }
      for (i = 1; !s && i < n; i++)
        if (U64(certs[i].start - certs[0].start) !== U64(BigInt(i) * len)) { s = "CERT_START_TOO_SOON"; bad = i; }
      k.epochs = k.epochs.slice(0, s ? bad : n);
      if (s && !k.status) { k.status = s; k.what = "certificate of epoch " + bad + ": " + STATUS[s]; }
    }
    if (n === 0 && !k.status) { k.status = "CERT_GAP"; k.what = "no certificate of epoch 0 in the store"; }
    return k;
  }

  function laterThan(a, b, limit) { return a > b && a - b > limit; }

  /* ng_seal_check: signature, link, sequence, then the timing rules. */
  function sealCheck(id, k, s, prev, oldest) {
    var ep = k.epochs, n = BigInt(ep.length);
    if (s.epoch >= n) return "UNKNOWN_EPOCH";
    var E = Number(s.epoch);
    if (!sigOk(s.sig, sealMessage(id, s), ep[E].pk)) return "BAD_SIGNATURE";
    if (!equal(prev ? sealHash(id, prev) : ZERO32, s.prev_seal)) return "BAD_LINK";
    if (prev && s.last_seq < prev.last_seq) return "SEQ_DECREASING";
    if (s.wall < ep[E].start) return "BEFORE_EPOCH";
    if (s.epoch + 1n < n) {
      var next = ep[E + 1].start;
      if (s.wall >= next && s.wall - next >= GRACE) return "AFTER_EPOCH";
    }
    if (prev && s.wall <= prev.wall) return "WALL_NOT_INCREASING";
    if (prev && s.boot <= prev.boot) return "BOOT_NOT_INCREASING";
    if (oldest !== null && laterThan(s.wall, oldest, LATE)) return "LATE_EVENT";
    if (prev && laterThan(s.wall, prev.wall, LATE)) return "LATE_GAP";
    return null;
  }

  function readSeal(r) {
    var s = r && { sealno: int64(r.sealno), last_seq: int64(r.seq), head: hex(r.head, 32),
                   prev_seal: hex(r.prev_seal, 32), wall: int64(r.wall_ns), boot: int64(r.boot_ns),
                   epoch: int64(r.epoch), sig: hex(r.sig, 64) };
    if (!s || s.sealno === null || s.last_seq === null || s.last_seq < 0n || !s.head || !s.prev_seal ||
        s.wall === null || s.boot === null || s.epoch === null || !s.sig) return null;
    s.wall = U64(s.wall); s.boot = U64(s.boot); s.epoch = U64(s.epoch);
    return s;
  }

  /* ---- the session (verify.c: ng_verify_session, ng_verify_walk) ----------- */

  function verify(e, root) {
    var res = { word: null, seq: 0n, what: "", events: 0n, sealed: -1n };
    var c = { cur: 0n, head: null, start: 0n, wall: 0n, ended: false, failed: false, i: 0 };
    function fail(seq, what) {
      if (c.failed) return;
      c.failed = true;
      res.word = "TAMPERED";
      res.seq = seq < 0n ? 0n : seq;
      res.what = what;
    }
    function next() {
      if (e.broken && c.i === e.broken.after) {
        fail(c.cur + 1n, "evidence line " + e.broken.line + " is not a JSON object");
        return 0;
      }
      if (c.i >= e.events.length) return 0;
      var o = e.events[c.i++], want = c.cur + 1n;
      if (o.seqx === null) { fail(want, "event seq is not an integer"); return 0; }
      if (o.seqx !== want) {
        fail(want, o.seqx < want ? "event seq " + o.seqx + " again or out of order"
                                 : "event missing (next stored seq is " + o.seqx + ")");
        return 0;
      }
      if (c.ended) { fail(want, "event after the exit event"); return 0; }
      var data = b64(o.data), stored = hex(o.hash, 32);
      if (o.tx === null || typeof o.kind !== "string" || enc.encode(o.kind).length !== 1 || !data || !stored) {
        fail(want, "malformed event row (a value of the wrong type or size)");
        return 0;
      }
      var h = blake([text("nsgate-event-v1"), field(4, e.id), field(1, be(want, 8)), field(1, be(o.tx, 8)),
                     text(o.kind), field(4, data), field(4, c.head)]);
      if (!equal(h, stored)) { fail(want, "event hash does not match its content or its predecessor"); return 0; }
      c.head = h;
      c.cur = want;
      c.wall = U64(c.start + o.tx);
      c.ended = o.kind === "x";
      return 1;
    }
    function advance(target) {
      while (!c.failed && c.cur < target)
        if (next() === 0)
          fail(c.cur + 1n, "sealed entries are not in the store (seq " + (c.cur + 1n) + ".." + target + ")");
    }

    var h = header(e.meta && e.meta.header);
    e.id = uuidBytes(e.meta && e.meta.id);
    if (!e.id || !h || h.bad || !h.stored || h.stored.length !== 32 || h.start === null) {
      fail(0n, "malformed session header row");
    } else if (!equal(h.hash, h.stored)) {
      fail(0n, "the session header does not match its hash");
    } else {
      c.head = h.hash;
      c.start = h.start;
    }
    if (c.failed) return res;
    var k = keyChain(e, root), proven = -1n, prev = null, expect = 1n;
    for (var i = 0; !c.failed && i < e.seals.length; i++) {
      var s = readSeal(e.seals[i]);
      if (!s) { fail(proven + 1n, "seal " + expect + ": malformed row"); break; }
      if (s.sealno !== expect) { fail(proven + 1n, "seal numbers not contiguous (" + s.sealno + ")"); break; }
      if (c.ended && prev && prev.last_seq === c.cur) {
        fail(proven + 1n, "seal " + s.sealno + ": a seal after the session's final seal");
        break;
      }
      var q = s.last_seq, oldest = U64(c.start);
      if (q > proven && proven + 1n > 0n) {
        advance(proven + 1n);
        if (c.failed) break;
        oldest = c.wall;
      }
      var st = sealCheck(e.id, k, s, prev, q > proven ? oldest : null);
      if (st) {
        fail(proven + 1n, "seal " + s.sealno + ": " +
             (st === "UNKNOWN_EPOCH" && k.status && s.epoch >= BigInt(k.epochs.length) ? k.what : STATUS[st]));
        break;
      }
      advance(q);
      if (c.failed) break;
      if (!equal(c.head, s.head)) {
        fail(proven + 1n, "seal " + s.sealno + ": the sealed head differs from the entries");
        break;
      }
      if (q > proven) proven = q;
      prev = s;
      expect++;
    }
    while (!c.failed && next() === 1);
    res.events = c.cur;
    res.sealed = proven;
    if (!c.failed) res.word = proven < c.cur || !c.ended ? "INCOMPLETE" : "OK";
    return res;
  }

  /* ---- the verdict -------------------------------------------------------- */

  var evidenceEl = document.getElementById("ng-evidence");
  var E = parse(evidenceEl ? evidenceEl.textContent : "");
  var out = document.getElementById("ng-browser-verdict");
  var castEl = document.getElementById("nsgate-cast");

  function show(cls, s) {
    out.className = cls;
    out.textContent = s;
  }

  function run(keyHex) {
    if (!keyHex) {
      show("nokey", "No key given: this page has not checked anything yet. Type the root public key " +
           "(64 hex digits, as nsgate keygen printed it) below, or open the page with #key=HEX.");
      return;
    }
    var root = hex(keyHex.toLowerCase(), 32);
    if (!root) { show("nokey", "No key given: that is not a root key (64 hex digits)."); return; }
    var r = verify(E, root), key = keyHex.slice(0, 16).toLowerCase();
    var note = castEl ? " The player shows the exporter's rendering with revealed input (--reveal)." : "";
    if (r.word === "OK")
      show("ok", "OK: " + r.events + " events, sealed, checked in this browser against root key " + key + "." + note);
    else if (r.word === "INCOMPLETE")
      show("incomplete", "INCOMPLETE: " + r.events + " events, sealed up to " + (r.sealed < 0n ? 0n : r.sealed) +
           ": what follows is not proven (root key " + key + ")." + note);
    else
      show("tampered", "TAMPERED at seq=" + r.seq + ": " + r.what + " (root key " + key + ")." + note);
    document.body.setAttribute("data-browser-verdict", r.word);
    showHeader(r);
  }

  /* Text as the exporter's metadata shows it (cli.md "Untrusted text"):
   * controls, C1 and bidirectional controls as \xNN of their bytes. */
  function safe(str) {
    return str.replace(/[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\\]/g, function (ch) {
      if (ch === "\\") return "\\\\";
      return Array.prototype.map.call(enc.encode(ch), function (x) { return "\\x" + (x < 16 ? "0" : "") + x.toString(16); }).join("");
    });
  }

  /* What the verified header row says (the exporter's metadata table above
   * is only the exporter's word): shown once a good seal covers the header. */
  function showHeader(r) {
    var t = document.getElementById("ng-verified-header");
    if (!t) return;
    t.textContent = "";
    if (r.word === "TAMPERED" && r.seq === 0n || r.sealed < 0n) { t.hidden = true; return; }
    var cols = E.meta && E.meta.header, td = new TextDecoder();
    function val(name) {
      var c = column(cols, name);
      if (!c || c[1] === "null") return null;
      if (c[1] === "integer") return String(int64(c[2]));
      var b = b64(c[2]), words = [], from = 0;
      if (!b) return null;
      if (name !== "argv") return safe(td.decode(b));
      for (var i = 0; i < b.length; i++)
        if (b[i] === 0) { words.push(quoteWord(b.subarray(from, i))); from = i + 1; }
      return words.join(" ");
    }
    var start = val("start_ns");
    [["user", val("user_name") + " (uid " + val("uid") + ")"], ["host", val("host")],
     ["start", start && new Date(Number(BigInt(start) / 1000000n)).toISOString()],
     ["command", val("argv")], ["reason", val("reason")], ["rule", val("rule")],
     ["target", "pid " + val("target_pid") + (val("target_container") ? ", container " + val("target_container") : "")],
     ["terminal", val("mode")]].forEach(function (kv) {
      var tr = document.createElement("tr"), th = document.createElement("th"), td2 = document.createElement("td");
      th.textContent = kv[0];
      td2.textContent = kv[1] === null ? "-" : kv[1];
      tr.appendChild(th);
      tr.appendChild(td2);
      t.appendChild(tr);
    });
    t.hidden = false;
  }

  function keyFromHash() {
    var m = /(?:^#|&)key=([0-9A-Fa-f]*)/.exec(location.hash);
    return m ? m[1] : "";
  }

  /* ---- the player: the verified events ------------------------------------ */

  var ERRNO = { 1: "EPERM", 2: "ENOENT", 5: "EIO", 7: "E2BIG", 8: "ENOEXEC", 12: "ENOMEM", 13: "EACCES",
                14: "EFAULT", 20: "ENOTDIR", 21: "EISDIR", 22: "EINVAL", 23: "ENFILE", 24: "EMFILE",
                26: "ETXTBSY", 36: "ENAMETOOLONG", 40: "ELOOP", 80: "ELIBBAD" };

  /* cmdline.c: \\ and \xNN escapes */
  function unescape(s) {
    var b = [];
    for (var i = 0; i < s.length; i++) {
      if (s[i] !== "\\") { enc.encode(s[i]).forEach(function (x) { b.push(x); }); continue; }
      if (s[i + 1] === "\\") { b.push(92); i++; } else if (s[i + 1] === "x" && /^[0-9a-fA-F]{2}$/.test(s.substr(i + 2, 2))) {
        b.push(parseInt(s.substr(i + 2, 2), 16)); i += 3;
      } else return null;
    }
    return Uint8Array.from(b);
  }
  /* cmdline.c ng_cmd_quote: plain words as they are, '...' for the rest,
   * $'...' with \xNN where a byte is not valid UTF-8 or not safe to show. */
  function quoteWord(w) {
    var s;
    try { s = new TextDecoder("utf-8", { fatal: true }).decode(w); } catch (x) { s = null; }
    var unsafe = /[\x00-\x1f\x7f\x80-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
    if (s !== null && s.length && /^[A-Za-z0-9_@%+=:,.\/-]+$/.test(s)) return s;
    if (s !== null && !unsafe.test(s) && s.indexOf("'") < 0) return "'" + s + "'";
    var o = "$'";
    if (s === null) {
      w.forEach(function (x) { o += x >= 0x20 && x < 0x7f ? (x === 39 || x === 92 ? "\\" : "") + String.fromCharCode(x) : "\\x" + (x < 16 ? "0" : "") + x.toString(16); });
    } else {
      Array.from(s).forEach(function (ch) {
        if (ch === "'" || ch === "\\") o += "\\" + ch;
        else if (unsafe.test(ch)) enc.encode(ch).forEach(function (x) { o += "\\x" + (x < 16 ? "0" : "") + x.toString(16); });
        else o += ch;
      });
    }
    return o + "'";
  }
  function command(o) {
    var c;
    try { c = JSON.parse(new TextDecoder().decode(o.bytes)); } catch (x) { return null; }
    if (!c || !Array.isArray(c.argv)) return null;
    var words = c.argv.map(function (a) { return typeof a === "string" ? unescape(a) : null; });
    if (words.some(function (w) { return w === null; })) return null;
    var r = { t: secs(o.tx), pid: c.pid, uid: c.uid, line: words.map(quoteWord).join(" "), verified: c.verified === true };
    if (typeof c.result === "number" && c.result > 0) r.error = ERRNO[c.result] || "errno " + c.result;
    if (c.truncated === true) r.truncated = true;
    return r;
  }
  function secs(ns) { return Math.round(Number(ns) / 1000) / 1e6; }

  /* The events the player may show: those whose chain hashes recompute from
   * the header row on, in order (the same parsed objects verify() checks;
   * with no key, or a bad seal, the verdict says what is not proven). */
  function chained(e) {
    var h = header(e.meta && e.meta.header), id = uuidBytes(e.meta && e.meta.id);
    if (!id || !h || h.bad) return;
    var head = h.hash, want = 1n;
    for (var i = 0; i < e.events.length; i++, want++) {
      var o = e.events[i], data = b64(o.data);
      if (o.seqx !== want || o.tx === null || typeof o.kind !== "string" || !data) return;
      head = blake([text("nsgate-event-v1"), field(4, id), field(1, be(want, 8)), field(1, be(o.tx, 8)),
                    text(o.kind), field(4, data), field(4, head)]);
      if (!equal(head, hex(o.hash, 32))) return;
      o.bytes = data;
    }
  }

  /* The asciicast the player gets, from the evidence's events (as export.c
   * writes it: o and e as output, CR added before LF in pipe mode, r, m,
   * the exit and each command as markers; k, masked input boxes, not shown). */
  function castFromEvidence(e) {
    chained(e);
    var mode = column(e.meta && e.meta.header, "mode");
    var pipe = mode ? b64(mode[2]) && new TextDecoder().decode(b64(mode[2])) === "pipe" : !(e.meta && e.meta.pty);
    var dec = { o: new TextDecoder(), e: new TextDecoder(), i: new TextDecoder() }, cr = { o: false, e: false };
    var events = [], commands = [], width = 80, height = 24, sized = false;
    e.events.forEach(function (o) {
      if (!o.bytes) return; /* not verified: not shown */
      var t = secs(o.tx), s;
      if (o.kind === "o" || o.kind === "e" || o.kind === "i") {
        s = dec[o.kind].decode(o.bytes, { stream: true });
        if (pipe && o.kind !== "i") {
          var k = o.kind, x = "";
          for (var j = 0; j < s.length; j++) {
            if (s[j] === "\n" && !cr[k]) x += "\r";
            x += s[j];
            cr[k] = s[j] === "\r";
          }
          s = x;
        }
        if (s) events.push([t, o.kind === "i" ? "i" : "o", s]);
      } else if (o.kind === "r" || o.kind === "m") {
        s = new TextDecoder().decode(o.bytes);
        var m = /^([0-9]{1,4})x([0-9]{1,4})$/.exec(s);
        if (o.kind === "r" && m && !sized) { width = +m[1]; height = +m[2]; sized = true; }
        events.push([t, o.kind, s]);
      } else if (o.kind === "x") {
        var x2 = null;
        try { x2 = JSON.parse(new TextDecoder().decode(o.bytes)); } catch (err) { x2 = null; }
        events.push([t, "m", x2 && Number.isInteger(x2.exit) ? "exit " + x2.exit : "exit ?"]);
      } else if (o.kind === "c") {
        var c = command(o);
        if (c) { commands.push(c); events.push([t, "m", "$ " + c.line]); }
      }
    });
    var start = column(e.meta && e.meta.header, "start_ns");
    var header = { version: 2, width: width, height: height,
                   timestamp: start ? Number(int64(start[2]) / SEC) : 0,
                   title: "nsgate session " + (e.meta && e.meta.id) };
    return { header: header, events: events, commands: commands };
  }

  function label(e) {
    var s = String(e[2]);
    if (e[1] === "i") s = "input: " + JSON.stringify(s).slice(1, -1);
    else if (e[1] === "r") s = "resize " + s;
    return s.length > 80 ? s.slice(0, 77) + "..." : s;
  }

  function startPlayer(d) {
    var lines = [JSON.stringify(d.header)], markers = [];
    d.events.forEach(function (e) {
      lines.push(JSON.stringify(e));
      if (e[1] === "i" || e[1] === "r" || e[1] === "m") markers.push([e[0], label(e)]);
    });
    var end = d.events.length ? d.events[d.events.length - 1][0] : 0;
    var player = AsciinemaPlayer.create({ data: lines.join("\n") }, document.getElementById("player"),
      { markers: markers, fit: "width", poster: "npt:" + end, idleTimeLimit: 3 });
    var ol = document.getElementById("markers");
    markers.forEach(function (m) {
      var li = document.createElement("li"), b = document.createElement("button");
      b.type = "button";
      b.textContent = m[0].toFixed(3) + " s";
      b.addEventListener("click", function () { player.seek(m[0]); });
      li.appendChild(b);
      li.appendChild(document.createTextNode(" " + m[1]));
      ol.appendChild(li);
    });
    var cl = document.getElementById("commands");
    (d.commands || []).forEach(function (c) {
      var li = document.createElement("li"), b = document.createElement("button");
      b.type = "button";
      b.className = "seek";
      b.setAttribute("data-t", String(c.t));
      b.textContent = c.t.toFixed(3) + " s";
      b.addEventListener("click", function () { player.seek(c.t); });
      var code = document.createElement("code");
      code.textContent = c.line;
      var info = document.createElement("span");
      info.className = "info";
      info.textContent = " pid " + c.pid + ", uid " + c.uid + (c.error ? ", failed: " + c.error : "") +
        (c.truncated ? ", argv cut" : "") + (c.verified ? "" : ", read before the exec");
      if (c.error) li.className = "failed";
      li.appendChild(b);
      li.appendChild(code);
      li.appendChild(info);
      cl.appendChild(li);
    });
    document.getElementById("commands-count").textContent = String((d.commands || []).length);
    document.body.setAttribute("data-player", "started");
  }

  var form = document.getElementById("ng-key-form"), input = document.getElementById("ng-key");
  input.value = keyFromHash();
  show("pending", "Checking in this browser...");
  sodium.ready.then(function () {
    S = sodium;
    run(keyFromHash());
    /* the player shows the events as verified: built after the first check */
    startPlayer(castEl ? JSON.parse(castEl.textContent) : castFromEvidence(E));
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      run(input.value.trim());
    });
    window.addEventListener("hashchange", function () { input.value = keyFromHash(); run(keyFromHash()); });
  }).catch(function (x) {
    show("tampered", "ERROR: the verifier could not start (" + x + ")");
  });
})();
