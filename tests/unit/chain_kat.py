# Known answers of tests/unit/test_chain.c, computed with hashlib only.
import hashlib, struct
def f(c, b): return bytes([c]) + struct.pack('>Q', len(b)) + b
def T(s): return f(3, s if isinstance(s, bytes) else s.encode())
def I(v): return f(1, struct.pack('>q', v))
def R(v): return f(2, struct.pack('>d', v))
def B(b): return f(4, b)
N = f(5, b'')
def H(dom, *fs): return hashlib.blake2b(T(dom) + b''.join(fs), digest_size=32).hexdigest()
print("typed", H("nsgate-test", I(-2), R(1.5), T("h\u00e9llo"), B(b"\0\xff"), N))
print("empty", H("nsgate-event-v1"))
idb = bytes(range(16))
print("event", H("nsgate-event-v1", B(idb), I(1), I(1000), T("o"), B(b"hi\0\xff"), B(b"\xaa"*32)))
# header: columns id BLOB, n INTEGER, s TEXT, r REAL, z (NULL), header_hash
print("header", H("nsgate-header-v1", T("id"), B(idb), T("n"), I(42), T("s"), T("x"), T("r"), R(0.25)))
print("ledger", H("nsgate-ledger-v1", I(3), B(idb), T("checkpoint"), I(1795939800000000000), I(42), B(b"\x11"*32), B(b"\x22"*32)))
