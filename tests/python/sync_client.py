#!/usr/bin/env python3
"""A second Sanjian sync client, written from docs/sync.md alone.

Python 3.11, standard library only. Given a county server's address and a
one-time enrolment text (``SJE1:<url>#<code>``) it:

1. redeems the code (``POST /api/enrol/redeem``) with a fresh actor id;
2. pulls its scope page by page until ``more`` is false, decoding every
   document (Automerge document chunks) and checking the record ids that
   derive from natural keys;
3. pushes one edit (the ``notes`` field of an entity, a union or a census
   visit in its scope that passes the record rules) as an Automerge change
   chunk it encodes itself, authored by its own actor, and checks that the
   answer is ``Applied`` with our change as the server's only head; replays
   the push (it must change nothing, and makes the server reload the saved
   document);
4. rotates its token, pulls again, asks for its reference stubs and runs the
   repair check, which must answer ``Equal``.

Exit status 0 when every step passed, 1 (with a message on stderr) when one
failed. Run it against a server you may write to: the edit is real.

    python3 tests/python/sync_client.py --server http://127.0.0.1:18999 \
        --enrolment 'SJE1:http://127.0.0.1:18999#ABCD...'

(``--enrolment`` alone is enough: the text carries the server's address;
``--server`` overrides it, e.g. behind a proxy.)
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import os
import ssl
import struct
import sys
import time
import urllib.parse
import zlib
from dataclasses import dataclass, field

# ---------------------------------------------------------------- errors


class Failure(Exception):
    """A step that did not go as the protocol says: the run fails."""


class Refused(Failure):
    """A 4xx/5xx answer with the server's JSON `{code, message: {zh, en}}`."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status = status
        self.code = code


def check(cond: bool, what: str) -> None:
    if not cond:
        raise Failure(what)


# ---------------------------------------------------------------- LEB128


def uleb(n: int) -> bytes:
    if n < 0:
        raise ValueError("uleb of a negative number")
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n == 0:
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


def sleb(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7  # arithmetic shift: Python ints keep their sign
        if (n == 0 and not b & 0x40) or (n == -1 and b & 0x40):
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


class Reader:
    """Reads a byte string front to back; every read checks what is left."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def left(self) -> int:
        return len(self.data) - self.pos

    def done(self) -> bool:
        return self.pos >= len(self.data)

    def take(self, n: int) -> bytes:
        if n < 0 or n > self.left():
            raise Failure(f"message ends early (wanted {n} bytes, {self.left()} left)")
        b = self.data[self.pos : self.pos + n]
        self.pos += n
        return b

    def byte(self) -> int:
        return self.take(1)[0]

    def uleb(self) -> int:
        v, shift = 0, 0
        while True:
            b = self.byte()
            v |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return v
            if shift >= 70:
                raise Failure("varint too long")

    def sleb(self) -> int:
        v, shift = 0, 0
        while True:
            b = self.byte()
            v |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                if b & 0x40:
                    v -= 1 << shift
                return v
            if shift >= 70:
                raise Failure("varint too long")

    def rest(self) -> bytes:
        return self.take(self.left())


# ---------------------------------------------------------------- the wire

MAX_INFLATED = 64 << 20
COMPRESS_FROM = 256

PUSH_REQUEST, PUSH_RESPONSE = 1, 2
PULL_REQUEST, PULL_RESPONSE = 3, 4
REPAIR_REQUEST, REPAIR_RESPONSE = 5, 6
FETCH_REQUEST, FETCH_RESPONSE = 7, 8
REFS_REQUEST, REFS_RESPONSE = 9, 10


def id_bytes(record_id: str) -> bytes:
    check(len(record_id) == 32 and all(c in "0123456789abcdef" for c in record_id), f"bad record id {record_id!r}")
    return bytes.fromhex(record_id)


class Writer:
    def __init__(self) -> None:
        self.out = bytearray()

    def u64(self, n: int) -> "Writer":
        self.out += uleb(n)
        return self

    def bool(self, v: bool) -> "Writer":
        self.out.append(1 if v else 0)
        return self

    def bytes(self, b: bytes) -> "Writer":
        self.out += uleb(len(b)) + b
        return self

    def str(self, s: str) -> "Writer":
        return self.bytes(s.encode("utf-8"))

    def id(self, record_id: str) -> "Writer":
        self.out += id_bytes(record_id)
        return self

    def hash(self, h: bytes) -> "Writer":
        check(len(h) == 32, "a change hash is 32 bytes")
        self.out += h
        return self


class WireReader(Reader):
    def bool(self) -> bool:
        b = self.byte()
        check(b in (0, 1), "bad boolean")
        return b == 1

    def bytes_(self) -> bytes:
        return self.take(self.uleb())

    def str(self) -> str:
        try:
            return self.bytes_().decode("utf-8")
        except UnicodeDecodeError as e:
            raise Failure("text is not UTF-8") from e

    def id(self) -> str:
        return self.take(16).hex()

    def hash(self) -> bytes:
        return self.take(32)

    def list(self, min_item: int, each):
        n = self.uleb()
        check(n * max(min_item, 1) <= self.left(), "list longer than the message")
        return [each() for _ in range(n)]


def encode(msg_type: int, payload: bytes) -> bytes:
    """`SJ`, version 1, the type, flags (bit 0: raw DEFLATE), the payload."""
    if len(payload) >= COMPRESS_FROM:
        z = zlib.compressobj(level=1, wbits=-15)  # raw DEFLATE (RFC 1951): no zlib header
        return b"SJ" + bytes([1, msg_type, 1]) + z.compress(payload) + z.flush()
    return b"SJ" + bytes([1, msg_type, 0]) + payload


def decode(body: bytes, msg_type: int) -> WireReader:
    check(len(body) >= 5 and body[:2] == b"SJ", "not a Sanjian sync message")
    check(body[2] == 1, f"unknown wire version {body[2]}")
    check(body[3] == msg_type, f"expected message type {msg_type}, got {body[3]}")
    if body[4] == 0:
        payload = body[5:]
    elif body[4] == 1:
        z = zlib.decompressobj(wbits=-15)
        payload = z.decompress(body[5:], MAX_INFLATED + 1)
        check(len(payload) <= MAX_INFLATED, "SYNC_TOO_LARGE: inflates past 64 MiB")
        check(z.eof, "bad compression")
    else:
        raise Failure(f"unknown flags {body[4]}")
    return WireReader(payload)


def finished(r: WireReader) -> None:
    check(r.done(), "trailing bytes after the message")


@dataclass
class Scope:
    version: int
    all: bool
    townships: list[str]
    grids: list[str]


@dataclass
class PullResponse:
    from_: str
    next: str
    more: bool
    total: int | None
    scope: Scope | None
    docs: list[tuple[str, bytes]]
    left: list[str]


def pull_request(cursor: str, limit: int, want_total: bool) -> bytes:
    return encode(PULL_REQUEST, bytes(Writer().str(cursor).u64(limit).bool(want_total).out))


def read_docs(r: WireReader) -> list[tuple[str, bytes]]:
    return r.list(17, lambda: (r.id(), r.bytes_()))


def read_ids(r: WireReader) -> list[str]:
    return r.list(16, r.id)


def pull_response(body: bytes) -> PullResponse:
    r = decode(body, PULL_RESPONSE)
    from_, nxt, more = r.str(), r.str(), r.bool()
    total = r.uleb() if r.bool() else None
    scope = None
    if r.bool():
        scope = Scope(r.uleb(), r.bool(), read_ids(r), read_ids(r))
    docs = read_docs(r)
    left = [] if r.done() else read_ids(r)
    finished(r)
    return PullResponse(from_, nxt, more, total, scope, docs, left)


@dataclass
class PushResult:
    id: str
    outcome: str  # "applied", "quarantined" or "resend"
    code: str  # the quarantine's reason
    heads: list[bytes]
    held: list[bytes]


def push_request(docs: list[tuple[str, list[bytes], bytes]]) -> bytes:
    w = Writer().u64(len(docs))
    for record_id, heads, changes in docs:
        w.id(record_id).u64(len(heads))
        for h in heads:
            w.hash(h)
        w.bytes(changes)
    return encode(PUSH_REQUEST, bytes(w.out))


def push_response(body: bytes) -> list[PushResult]:
    r = decode(body, PUSH_RESPONSE)

    def one() -> PushResult:
        record_id = r.id()
        tag = r.uleb()
        code = ""
        if tag == 0:
            outcome = "applied"
        elif tag == 1:
            outcome, code = "quarantined", r.str()
        elif tag == 2:
            outcome = "resend"
        else:
            raise Failure(f"unknown push outcome {tag}")
        heads = r.list(32, r.hash)
        held = r.list(32, r.hash)
        return PushResult(record_id, outcome, code, heads, held)

    results = r.list(19, one)
    finished(r)
    return results


def repair_request(count: int, xor: int, buckets: bytes = b"") -> bytes:
    return encode(REPAIR_REQUEST, bytes(Writer().u64(count).u64(xor).bytes(buckets).out))


def repair_response(body: bytes):
    """("equal", None) | ("buckets", [(count, xor)] * 256) | ("listing", [(id, fp)])."""
    r = decode(body, REPAIR_RESPONSE)
    tag = r.uleb()
    if tag == 0:
        answer = ("equal", None)
    elif tag == 1:
        answer = ("buckets", r.list(2, lambda: (r.uleb(), r.uleb())))
    elif tag == 2:
        answer = ("listing", r.list(17, lambda: (r.id(), r.uleb())))
    else:
        raise Failure(f"unknown repair answer {tag}")
    finished(r)
    return answer


def fetch_request(ids: list[str]) -> bytes:
    w = Writer().u64(len(ids))
    for i in ids:
        w.id(i)
    return encode(FETCH_REQUEST, bytes(w.out))


def fetch_response(body: bytes):
    r = decode(body, FETCH_RESPONSE)
    docs, hidden, absent = read_docs(r), read_ids(r), read_ids(r)
    finished(r)
    return docs, hidden, absent


def refs_response(body: bytes) -> list[dict]:
    r = decode(body, REFS_RESPONSE)

    def one() -> dict:
        stub = {"id": r.id()}
        for k in ("kind", "name", "union_kind", "dissolved_on", "township", "covered_by"):
            stub[k] = r.str()
        stub["private_open"] = r.bool()
        return stub

    stubs = r.list(23, one)
    finished(r)
    return stubs


# ---------------------------------------------------------------- HTTP


class Server:
    """POSTs to the county server: JSON for enrolment and tokens, the binary
    messages for sync. `pin` (the SHA-256 of a self-signed certificate, from
    an enrolment text's third part) makes HTTPS trust exactly that
    certificate instead of the system's authorities."""

    def __init__(self, base: str, pin: bytes | None = None, timeout: float = 60):
        self.base = base.rstrip("/")
        u = urllib.parse.urlsplit(self.base)
        check(u.scheme in ("http", "https") and u.hostname, f"not a server address: {base}")
        self.https = u.scheme == "https"
        self.host, self.port, self.prefix = u.hostname, u.port, u.path
        self.pin = pin
        self.timeout = timeout
        self.token: str | None = None
        self.requests = 0
        self.sent = 0
        self.received = 0

    def _connect(self) -> http.client.HTTPConnection:
        if not self.https:
            return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        if self.pin is None:
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # trust is the pin, checked below before anything is sent
        conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout, context=ctx)
        conn.connect()
        cert = conn.sock.getpeercert(binary_form=True)
        if cert is None or hashlib.sha256(cert).digest() != self.pin:
            conn.close()
            raise Failure("the server's certificate is not the one the enrolment code pins")
        return conn

    def _call(self, path: str, body: bytes, content_type: str, auth: bool) -> bytes:
        headers = {"Content-Type": content_type, "Content-Length": str(len(body))}
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        self.requests += 1
        self.sent += len(body)
        try:
            conn = self._connect()
            try:
                conn.request("POST", self.prefix + path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                status = resp.status
            finally:
                conn.close()
        except (OSError, http.client.HTTPException) as e:
            raise Failure(f"cannot reach {self.base}: {e}") from None
        self.received += len(data)
        if status != 200:
            try:
                j = json.loads(data)
                code, message = j["code"], j["message"]["en"]
            except (ValueError, KeyError, TypeError):
                raise Failure(f"HTTP {status} from {path} without a Sanjian answer: {data[:200]!r}") from None
            raise Refused(status, code, message)
        return data

    def json(self, path: str, body: dict, auth: bool = True) -> dict:
        data = self._call(path, json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json", auth)
        return json.loads(data)

    def sync(self, path: str, body: bytes) -> bytes:
        return self._call(path, body, "application/x-sanjian-sync", True)


# ---------------------------------------------------------------- Automerge: chunks

MAGIC = b"\x85\x6f\x4a\x83"
CHUNK_DOCUMENT, CHUNK_CHANGE, CHUNK_COMPRESSED = 0, 1, 2


def chunk(kind: int, body: bytes) -> tuple[bytes, bytes]:
    """A chunk's bytes and its hash: SHA-256 over type, uleb length, body;
    the checksum in the header is the hash's first 4 bytes."""
    digest = hashlib.sha256(bytes([kind]) + uleb(len(body)) + body).digest()
    return MAGIC + digest[:4] + bytes([kind]) + uleb(len(body)) + body, digest


def split_chunks(data: bytes) -> list[tuple[int, bytes, bytes]]:
    """(type, body, hash) of every chunk, checksums verified."""
    out = []
    r = Reader(data)
    while not r.done():
        check(r.take(4) == MAGIC, "not an Automerge chunk (magic bytes)")
        checksum = r.take(4)
        kind = r.byte()
        body = r.take(r.uleb())
        if kind == CHUNK_COMPRESSED:
            kind, body = CHUNK_CHANGE, zlib.decompress(body, wbits=-15)
        _, digest = chunk(kind, body)
        check(digest[:4] == checksum, "Automerge chunk checksum mismatch")
        out.append((kind, body, digest))
    return out


# Column types (low 3 bits of a column spec); bit 3 = DEFLATE; id = spec >> 4.
GROUP, ACTOR, ULEB, DELTA, BOOLEAN, STRING, VALUE_META, VALUE_RAW = range(8)
DEFLATE_BIT = 0x08


def spec(col_id: int, col_type: int) -> int:
    return (col_id << 4) | col_type


def read_columns(r: Reader) -> list[tuple[int, int]]:
    return [(r.uleb(), r.uleb()) for _ in range(r.uleb())]


def column_data(meta: list[tuple[int, int]], r: Reader) -> dict[int, bytes]:
    """The columns' bytes by spec (DEFLATE bit cleared, data inflated)."""
    out = {}
    for s, n in meta:
        data = r.take(n)
        if s & DEFLATE_BIT:
            data = zlib.decompress(data, wbits=-15)
        out[s & ~DEFLATE_BIT] = data
    return out


def rle(data: bytes, value) -> list:
    """Run-length: sleb n > 0 then one value repeated n times; n < 0 then -n
    literal values; 0 then uleb count of nulls (None)."""
    out: list = []
    r = Reader(data)
    while not r.done():
        n = r.sleb()
        if n > 0:
            v = value(r)
            out.extend([v] * n)
        elif n < 0:
            out.extend(value(r) for _ in range(-n))
        else:
            out.extend([None] * r.uleb())
    return out


def uleb_col(data: bytes) -> list:
    return rle(data, Reader.uleb)


def string_col(data: bytes) -> list:
    return rle(data, lambda r: r.take(r.uleb()).decode("utf-8"))


def delta_col(data: bytes) -> list:
    out, acc = [], 0
    for d in rle(data, Reader.sleb):
        if d is None:
            out.append(None)
        else:
            acc += d
            out.append(acc)
    return out


def bool_col(data: bytes) -> list[bool]:
    out: list[bool] = []
    r, v = Reader(data), False
    while not r.done():
        out.extend([v] * r.uleb())
        v = not v
    return out


def pad(col: list, n: int, fill=None) -> list:
    """A column shorter than the rows (or absent) reads as its null."""
    return col + [fill] * (n - len(col))


def values(meta: list, raw: bytes) -> list:
    """Scalars from value metadata (uleb: length << 4 | type) and raw bytes."""
    out = []
    r = Reader(raw)
    for m in meta:
        m = m or 0
        kind, n = m & 0x0F, m >> 4
        b = r.take(n)
        if kind == 0:
            out.append(("null", None))
        elif kind == 1:
            out.append(("bool", False))
        elif kind == 2:
            out.append(("bool", True))
        elif kind == 3:
            out.append(("uint", Reader(b).uleb()))
        elif kind == 4:
            out.append(("int", Reader(b).sleb()))
        elif kind == 5:
            out.append(("f64", struct.unpack("<d", b)[0]))
        elif kind == 6:
            out.append(("str", b.decode("utf-8")))
        elif kind == 7:
            out.append(("bytes", b))
        elif kind == 8:
            out.append(("counter", Reader(b).sleb()))
        elif kind == 9:
            out.append(("timestamp", Reader(b).sleb()))
        else:
            out.append((f"unknown{kind}", b))
    return out


# ---------------------------------------------------------------- Automerge: documents


@dataclass
class Op:
    id: tuple[int, int]  # (counter, actor index): Lamport order sorts by counter, then actor
    obj: tuple[int, int] | None  # None: the root map
    key: str | None
    action: int
    value: tuple[str, object]
    succ: list[tuple[int, int]]


@dataclass
class Document:
    actors: list[bytes]
    heads: list[bytes]
    changes: list[dict]
    ops: list[Op]
    root: dict[str, list[Op]] = field(default_factory=dict)

    @property
    def max_op(self) -> int:
        return max((c["max_op"] for c in self.changes), default=0)

    def get(self, key: str):
        """The visible value of a root key: (type, value), or None if absent.
        Concurrent values: the op with the greatest id wins."""
        ops = self.root.get(key)
        if not ops:
            return None
        return max(ops, key=lambda o: (o.id[0], self.actors[o.id[1]])).value

    def flat(self) -> dict[str, tuple[str, object]]:
        return {k: self.get(k) for k in sorted(self.root)}

    def text(self, key: str) -> str | None:
        v = self.get(key)
        return v[1] if v and v[0] == "str" else None


MAKE_MAP, SET, MAKE_LIST, DELETE, MAKE_TEXT, INCREMENT, MAKE_TABLE, MARK = range(8)


def read_document(data: bytes) -> Document:
    chunks = split_chunks(data)
    check(len(chunks) == 1 and chunks[0][0] == CHUNK_DOCUMENT, "expected one Automerge document chunk")
    r = Reader(chunks[0][1])
    actors = [r.take(r.uleb()) for _ in range(r.uleb())]
    heads = [r.take(32) for _ in range(r.uleb())]
    change_meta, op_meta = read_columns(r), read_columns(r)
    cc = column_data(change_meta, r)
    oc = column_data(op_meta, r)
    # The rest: one uleb per head, its index among the changes (newer
    # writers only); not needed here.

    # Change columns: actor 0/actor, seq 0/delta, max_op 1/delta, time 2/delta,
    # message 3/string, deps 4/group + 4/delta, extra 5/meta + 5/raw.
    c_actor = uleb_col(cc.get(spec(0, ACTOR), b""))
    n = len(c_actor)
    c_seq = pad(delta_col(cc.get(spec(0, DELTA), b"")), n)
    c_max = pad(delta_col(cc.get(spec(1, DELTA), b"")), n)
    c_time = pad(delta_col(cc.get(spec(2, DELTA), b"")), n)
    c_msg = pad(string_col(cc.get(spec(3, STRING), b"")), n)
    c_ndeps = pad(uleb_col(cc.get(spec(4, GROUP), b"")), n, 0)
    c_deps = delta_col(cc.get(spec(4, DELTA), b""))
    changes, k = [], 0
    for i in range(n):
        nd = c_ndeps[i] or 0
        changes.append(
            {
                "actor": c_actor[i],
                "seq": c_seq[i],
                "max_op": c_max[i],
                "time": c_time[i],
                "message": c_msg[i],
                "deps": c_deps[k : k + nd],
            }
        )
        k += nd

    # Op columns: obj 0/actor+0/uleb, key 1/actor+1/delta+1/string,
    # id 2/actor+2/delta, insert 3/boolean, action 4/uleb, value 5/meta+5/raw,
    # succ 8/group+8/actor+8/delta (expand 9/boolean, mark name 10/string).
    action = uleb_col(oc.get(spec(4, ULEB), b""))
    m = len(action)
    obj_a = pad(uleb_col(oc.get(spec(0, ACTOR), b"")), m)
    obj_c = pad(uleb_col(oc.get(spec(0, ULEB), b"")), m)
    key_s = pad(string_col(oc.get(spec(1, STRING), b"")), m)
    id_a = pad(uleb_col(oc.get(spec(2, ACTOR), b"")), m)
    id_c = pad(delta_col(oc.get(spec(2, DELTA), b"")), m)
    vals = values(pad(uleb_col(oc.get(spec(5, VALUE_META), b"")), m, 0), oc.get(spec(5, VALUE_RAW), b""))
    n_succ = pad(uleb_col(oc.get(spec(8, GROUP), b"")), m, 0)
    s_a = uleb_col(oc.get(spec(8, ACTOR), b""))
    s_c = delta_col(oc.get(spec(8, DELTA), b""))
    ops, k = [], 0
    for i in range(m):
        ns = n_succ[i] or 0
        obj = None if obj_a[i] is None else (obj_c[i], obj_a[i])
        succ = [(s_c[j], s_a[j]) for j in range(k, k + ns)]
        k += ns
        ops.append(Op((id_c[i], id_a[i]), obj, key_s[i], action[i], vals[i], succ))

    doc = Document(actors, heads, changes, ops)
    for op in ops:
        if op.obj is None and op.key is not None and not op.succ and op.action != DELETE:
            doc.root.setdefault(op.key, []).append(op)
    return doc


# ---------------------------------------------------------------- Automerge: one change


def encode_put_change(
    doc: Document, actor: bytes, key: str, text: str, message: str, time_ms: int
) -> tuple[bytes, bytes]:
    """A change chunk that sets root key `key` to the string `text`, after the
    document's heads, by `actor`; written exactly as Automerge 0.12 writes
    (and re-derives from a saved document) one such change, so that its hash
    survives the server's save and reload. Returns (bytes, hash)."""
    seq = 1 + max((c["seq"] for c in doc.changes if doc.actors[c["actor"]] == actor), default=0)
    start_op = doc.max_op + 1
    # pred: every visible op of the key (overwriting them all), in Lamport order.
    pred = sorted(((o.id[0], doc.actors[o.id[1]]) for o in doc.root.get(key, [])), key=lambda p: (p[0], p[1]))
    others = sorted({a for _, a in pred if a != actor})
    index = {actor: 0, **{a: i + 1 for i, a in enumerate(others)}}

    def lone(value: bytes) -> bytes:  # a run of one value: a literal run of length 1
        return sleb(-1) + value

    value = text.encode("utf-8")
    cols = [
        (spec(1, STRING), lone(uleb(len(key.encode())) + key.encode())),  # key string
        (spec(3, BOOLEAN), uleb(1)),  # insert: one false
        (spec(4, ULEB), lone(uleb(SET))),  # action
        (spec(5, VALUE_META), lone(uleb((len(value) << 4) | 6))),  # a UTF-8 string
        (spec(5, VALUE_RAW), value),
        (spec(7, GROUP), lone(uleb(len(pred)))),  # pred count
    ]
    if pred:
        actors_col, ctr_col, prev = bytearray(), bytearray(), 0
        # Several preds would need real run-length coding; one is a lone value.
        check(len(pred) == 1, f"{key} has {len(pred)} concurrent values; this client overwrites one")
        for ctr, a in pred:
            actors_col += lone(uleb(index[a]))
            ctr_col += lone(sleb(ctr - prev))
            prev = ctr
        cols += [(spec(7, ACTOR), bytes(actors_col)), (spec(7, DELTA), bytes(ctr_col))]
    # Absent columns (object, key actor/counter, expand, mark name) are all
    # null/false and are left out; the rest come in ascending spec order.
    body = bytearray()
    deps = sorted(doc.heads)
    body += uleb(len(deps)) + b"".join(deps)
    body += uleb(len(actor)) + actor
    body += uleb(seq) + uleb(start_op) + sleb(time_ms)
    msg = message.encode("utf-8")
    body += uleb(len(msg)) + msg
    body += uleb(len(others)) + b"".join(uleb(len(a)) + a for a in others)
    body += uleb(len(cols)) + b"".join(uleb(s) + uleb(len(d)) for s, d in cols)
    body += b"".join(d for _, d in cols)
    return chunk(CHUNK_CHANGE, bytes(body))


def read_change(data: bytes) -> dict:
    """The header fields of a change chunk (to check what was encoded)."""
    (kind, body, digest), = split_chunks(data)
    check(kind == CHUNK_CHANGE, "not a change chunk")
    r = Reader(body)
    deps = [r.take(32) for _ in range(r.uleb())]
    actor = r.take(r.uleb())
    seq, start_op, t = r.uleb(), r.uleb(), r.sleb()
    message = r.take(r.uleb()).decode()
    others = [r.take(r.uleb()) for _ in range(r.uleb())]
    return {"hash": digest, "deps": deps, "actor": actor, "seq": seq, "start_op": start_op, "time": t,
            "message": message, "others": others, "columns": read_columns(r)}


# ---------------------------------------------------------------- the record rules this edit relies on

# The rules `registry::validate` applies to an entity or a union that an edit
# of `notes` could run into (the edit itself adds none): a record already
# breaking one would be quarantined as RULES_BROKEN, so such records are
# not chosen.

CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def credit_code_ok(code: str) -> bool:
    """GB 32100-2015: 18 characters, the last a check character."""
    if len(code) != 18 or any(c not in CREDIT_CHARS for c in code):
        return False
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(code[:17], CREDIT_WEIGHTS))
    return CREDIT_CHARS[(31 - total % 31) % 31] == code[17]


def mobile_ok(phone: str) -> bool:
    """`registry::ids::Mobile`: 11 digits, 1 then 3-9 (spaces, dashes and
    a +86 prefix allowed)."""
    d = phone.replace(" ", "").replace("-", "")
    if d.startswith("+86"):
        d = d[3:]
    elif len(d) == 13 and d.startswith("86"):
        d = d[2:]
    return len(d) == 11 and d.isascii() and d.isdigit() and d[0] == "1" and d[1] in "3456789"


def notes_editable(doc: Document, today: str) -> bool:
    """Would a record pass `registry::validate` once its notes change? Only
    the rules an entity, a union or a census visit can break are mirrored;
    records this cannot judge (photos, positions, landlines) are passed over."""
    f = doc.flat()

    def val(k):
        v = f.get(k)
        return v[1] if v else None

    if val("_deleted") is True or not val("place.township"):
        return False
    if val("notes") is None or f["notes"][0] != "str":
        return False
    if any(k.startswith("photos.") for k in f):
        return False
    kind = val("_kind")
    if kind == "visit":
        t = val("time") or ""
        visited, follow = val("visited_on"), val("follow_up_on")
        return (
            bool((val("entity_name") or "").strip() and (val("surveyor") or "").strip())
            and isinstance(visited, str)
            and visited <= today
            and (follow is None or follow >= visited)
            and (t == "" or (len(t) == 5 and t[2] == ":" and t[:2].isdigit() and t[3:].isdigit()
                             and int(t[:2]) < 24 and int(t[3:]) < 60))
            and not any(k.startswith("position.") for k in f)
        )
    if (val("name") or "").strip() == "":
        return False
    if any(f.get(k, ("", None))[0] != "int" for k in ("workers", "women_workers")):
        return False
    workers, women = val("workers"), val("women_workers")
    if workers < 0 or women < 0 or women > workers:
        return False
    code = val("credit_code")
    if code is not None and not (val("credit_code_override") or "").strip() and not credit_code_ok(code):
        return False
    if kind == "entity" and val("contact_phone") is not None and not mobile_ok(val("contact_phone")):
        return False  # landlines are not mirrored here
    if kind == "union":
        dates = [val(k) for k in ("founded_on", "approved_on", "dissolved_on")]
        if any(d is not None and d > today for d in dates):
            return False
        if dates[0] and dates[2] and dates[2] < dates[0]:
            return False
    return True


# ---------------------------------------------------------------- the session


def fingerprint(record_id: str, heads: list[bytes]) -> int:
    d = hashlib.sha256(record_id.encode("ascii") + b"".join(sorted(heads))).digest()
    return int.from_bytes(d[:8], "big")


def record_id(secret: bytes, natural_key: str) -> str:
    mac = hmac.new(secret, b"sanjian/record-id/v1\x00" + natural_key.encode("utf-8"), hashlib.sha256)
    return mac.digest()[:16].hex()


class Client:
    def __init__(self, server: Server, log):
        self.server = server
        self.log = log
        self.actor = os.urandom(16)
        self.cursor = ""
        self.scope: Scope | None = None
        self.docs: dict[str, Document] = {}
        self.raw: dict[str, bytes] = {}
        # The heads the server is known to hold, by record (what repair sums).
        self.known: dict[str, list[bytes]] = {}
        self.creds: dict = {}

    # -- enrolment
    def redeem(self, code: str) -> None:
        public_key = os.urandom(32)  # stored and published, never verified by sync
        body = {"code": code, "actor": self.actor.hex(), "public_key": public_key.hex()}
        self.creds = self.server.json("/api/enrol/redeem", body, auth=False)
        for k in ("device_id", "token", "wipe_check", "county_secret", "townships", "grids", "scope_all", "card_root"):
            check(k in self.creds, f"redeem answer lacks {k}")
        check(len(bytes.fromhex(self.creds["county_secret"])) == 32, "county secret is 32 bytes (64 hex)")
        self.server.token = self.creds["token"]
        self.log(
            f"enrolled: device {self.creds['device_id']} ({self.creds['role']}, {self.creds['person']}), "
            f"actor {self.actor.hex()}, townships {len(self.creds['townships'])}, grids {len(self.creds['grids'])}"
        )

    # -- pull
    def apply(self, record_id: str, data: bytes) -> Document:
        doc = read_document(data)
        self.docs[record_id] = doc
        self.raw[record_id] = data
        self.known[record_id] = sorted(doc.heads)
        return doc

    def pull(self, limit: int) -> tuple[int, int]:
        prefix = f"v2:{self.actor.hex()}:"
        pages = docs = 0
        first = True
        while True:
            resp = pull_response(self.server.sync("/api/sync/pull", pull_request(self.cursor, limit, first)))
            check(resp.next.startswith(prefix), f"cursor {resp.next!r} is not this device's")
            check(resp.from_ == self.cursor, "the answer's `from` is not our cursor")
            if first and resp.total is not None:
                self.log(f"pull from {self.cursor or '(start)'}: {resp.total} documents to come")
            check(len(resp.docs) <= limit, "more documents than the limit")
            if resp.scope is not None:
                self.scope = resp.scope
            check(self.scope is not None, "no scope on the feed's first page")
            for rid, data in resp.docs:
                self.apply(rid, data)
            for rid in resp.left:
                self.docs.pop(rid, None)
                self.known.pop(rid, None)
            self.cursor = resp.next
            pages += 1
            docs += len(resp.docs)
            first = False
            if not resp.more:
                return pages, docs

    # -- push
    def push(self, docs: list[tuple[str, list[bytes], bytes]]) -> list[PushResult]:
        return push_response(self.server.sync("/api/sync/push", push_request(docs)))

    # -- repair
    def summary(self, only: set[int] | None = None):
        count = xor = 0
        buckets = [[0, 0] for _ in range(256)]
        listing = {}
        for rid, heads in self.known.items():
            fp = fingerprint(rid, heads)
            b = int(rid[:2], 16)
            count += 1
            xor ^= fp
            buckets[b][0] += 1
            buckets[b][1] ^= fp
            if only is not None and b in only:
                listing[rid] = fp
        return count, xor, [tuple(b) for b in buckets], listing

    def repair(self) -> tuple[str, int]:
        count, xor, mine, _ = self.summary()
        kind, answer = repair_response(self.server.sync("/api/sync/repair", repair_request(count, xor)))
        if kind == "equal":
            return "equal", 0
        check(kind == "buckets" and len(answer) == 256, "expected 256 bucket summaries")
        differ = [b for b in range(256) if tuple(answer[b]) != mine[b]]
        if not differ:
            return "equal-by-buckets", 0
        kind, listing = repair_response(
            self.server.sync("/api/sync/repair", repair_request(count, xor, bytes(differ)))
        )
        check(kind == "listing", "expected a listing")
        theirs = dict(listing)
        _, _, _, my_listing = self.summary(set(differ))
        wanted = sorted({r for r, fp in theirs.items() if my_listing.get(r) != fp} | (my_listing.keys() - theirs.keys()))
        for i in range(0, len(wanted), 500):
            docs, hidden, absent = fetch_response(self.server.sync("/api/sync/fetch", fetch_request(wanted[i : i + 500])))
            for rid, data in docs:
                self.apply(rid, data)
            for rid in hidden + absent:
                self.docs.pop(rid, None)
                self.known.pop(rid, None)
        return "repaired", len(wanted)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--enrolment", "-e", required=True, help="SJE1:<url>#<code> (a one-time code: used up by the run)")
    ap.add_argument("--server", "-s", help="the server's base URL (default: the one in the enrolment text)")
    ap.add_argument("--limit", type=int, default=100, help="documents per pull page (default 100)")
    ap.add_argument("--quiet", "-q", action="store_true")
    args = ap.parse_args()
    started = time.monotonic()

    def log(line: str) -> None:
        if not args.quiet:
            print(line, flush=True)

    text = args.enrolment.strip()
    check(text.startswith("SJE1:"), "the enrolment text starts with SJE1:")
    parts = text[len("SJE1:") :].split("#")
    check(len(parts) in (2, 3) and parts[0].startswith(("http://", "https://")) and parts[1], "SJE1:<url>#<code>[#<pin>]")
    pin = None
    if len(parts) == 3:
        check(len(parts[2]) == 64 and all(c in "0123456789abcdefABCDEF" for c in parts[2]), "the pin is 64 hex characters")
        pin = bytes.fromhex(parts[2])
    server = Server(args.server or parts[0], pin)
    client = Client(server, log)

    # 1. Enrol.
    client.redeem(parts[1])
    secret = bytes.fromhex(client.creds["county_secret"])

    # 2. Pull the scope.
    pages, n = client.pull(args.limit)
    check(n > 0 and client.docs, "the first pull brought no documents")
    scope = client.scope
    kinds: dict[str, int] = {}
    derived = 0
    for rid, doc in client.docs.items():
        kind = doc.text("_kind")
        check(kind is not None, f"document {rid} has no _kind")
        kinds[kind] = kinds.get(kind, 0) + 1
        check(all(len(h) == 32 for h in doc.heads) and doc.heads, f"document {rid} has no heads")
        if kind != "area" and not scope.all:
            t, g = doc.text("_township"), doc.text("_grid")
            check(t in scope.townships or g in scope.grids, f"document {rid} lies outside the scope")
        natural = None
        if kind == "member" and doc.text("resident_id"):
            natural = "member:" + doc.text("resident_id")
        elif kind == "entity" and doc.text("credit_code"):
            natural = "entity:" + doc.text("credit_code")
        if natural is not None:
            check(record_id(secret, natural) == rid, f"record id of {kind} {rid} is not HMAC of its natural key")
            derived += 1
    log(
        f"pulled {n} documents in {pages} pages: "
        + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
        + f"; {derived} record ids re-derived from natural keys"
    )

    # 3. Push one edit.
    today = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 8 * 3600))
    writable = [
        rid
        for rid, doc in sorted(client.docs.items())
        if doc.text("_kind") in ("entity", "union", "visit")
        and (scope.all or doc.text("_township") in scope.townships or doc.text("_grid") in scope.grids)
        and notes_editable(doc, today)
        and len(doc.root.get("notes", [])) == 1
    ]
    writable.sort(key=lambda rid: ("entity", "union", "visit").index(client.docs[rid].text("_kind")))
    check(writable, "no entity, union or census visit in the scope whose notes this client can edit")
    target = writable[0]
    doc = client.docs[target]
    old = doc.text("notes")
    new = f"python sync client {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {client.actor.hex()[:8]}"
    message = json.dumps({"by": client.creds["person"], "note": "", "op": "update"}, ensure_ascii=False, separators=(",", ":"))
    change, change_hash = encode_put_change(doc, client.actor, "notes", new, message, int(time.time() * 1000))
    meta = read_change(change)
    check(meta["hash"] == change_hash and meta["start_op"] == doc.max_op + 1, "the change reads back as written")
    log(
        f"edit: {doc.text('_kind')} {target} ({doc.text('name')}): notes {old!r} -> {new!r}; "
        f"change {change_hash.hex()[:16]}… seq {meta['seq']} startOp {meta['start_op']} deps {len(meta['deps'])}"
    )
    (res,) = client.push([(target, [change_hash], change)])
    check(res.id == target, "the push answer names another record")
    check(res.outcome == "applied", f"push was {res.outcome} {res.code}")
    check(res.held == [change_hash], "the server does not hold the pushed head")
    check(res.heads == [change_hash], "the server's heads are not the pushed change")
    client.known[target] = sorted(res.heads)
    # Replaying a push changes nothing (and makes the server load the
    # document it saved, with our change in it).
    (again,) = client.push([(target, [change_hash], change)])
    check(again.outcome == "applied" and again.heads == res.heads, "a replayed push changed something")
    log(f"pushed: Applied, server heads = [{change_hash.hex()[:16]}…]; replay: Applied, unchanged")

    # 4. Rotate the token; pull again; refs; repair.
    rotated = server.json("/api/sync/rotate", {})
    check(rotated.get("token", "").startswith("sjd_"), "rotate answers a new token")
    server.token = rotated["token"]
    pages2, n2 = client.pull(args.limit)
    check(target in client.docs and client.docs[target].text("notes") == new, "the pulled document lacks the edit")
    check(client.docs[target].heads == [change_hash], "the pulled document's heads are not our change")
    log(f"token rotated; pulled again: {n2} documents in {pages2} pages (the edited record among them)")
    stubs = refs_response(server.sync("/api/sync/refs", encode(REFS_REQUEST, b"")))
    count, xor, _, _ = client.summary()
    outcome, fetched = client.repair()
    check(outcome == "equal", f"repair check did not agree: {outcome} ({fetched} documents fetched)")
    log(f"refs: {len(stubs)} stubs; repair check: Equal ({count} documents, xor {xor:016x})")

    log(
        f"OK in {time.monotonic() - started:.2f} s: {server.requests} requests, "
        f"{server.sent} bytes sent, {server.received} bytes received"
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Refused as e:
        print(f"FAILED: the server refused: {e}", file=sys.stderr)
        sys.exit(1)
    except Failure as e:
        print(f"FAILED: {e}", file=sys.stderr)
        sys.exit(1)
    except Exception as e:  # a bug here, or an answer this client cannot read
        import traceback

        traceback.print_exc()
        print(f"FAILED: unexpected {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
