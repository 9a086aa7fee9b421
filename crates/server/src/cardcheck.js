/**
 * cardcheck.js — the offline verifier of Sanjian membership cards (UC1), for
 * browsers and Node 20, giving exactly the verdicts of the Rust `card` crate
 * (`card::lists::Verifier`, `card::Card::decode`). One ES module, no imports,
 * no build step.
 *
 * # What a card is (docs/card-format.md)
 *
 * A card's QR code holds the text `UC1:` + Base45 (RFC 9285) of an untagged
 * COSE_Sign1 (RFC 9052):
 *
 *     [ protected: bstr .cbor {1: -8, 4: h'<kid>'},   alg EdDSA, key id
 *       unprotected: {},
 *       payload: bstr .cbor {1: member id (16 bytes), 2: issued day,
 *                            3: last valid day, 4: serial (8 bytes),
 *                            ? 5: name, ? 6: union id (16 bytes)},
 *       signature: bstr (64 bytes, Ed25519) ]
 *
 * `kid` is the first 8 bytes of SHA-256 of the issuing device's public key;
 * the signature is over the COSE Sig_structure
 * `["Signature1", protected, external_aad, payload]` with external AAD
 * `"UC1"`. Days are days since 1970-01-01 counted in China Standard Time
 * (UTC+8): see `dayOf`.
 *
 * Devices issue cards offline with their own keys. The county root key signs
 * two lists, served by the county server:
 *
 * - the trust list (`GET /api/cards/trust`, external AAD `"UC1-TRUST"`):
 *   `{1: seq, 2: issued day, 3: [{1: public key, 2: device id, 3: first day,
 *   4: last day, ? 5: removed day, ? 6: 1 (whole county), ? 7: [area ids]}]}`;
 * - the revocation list (`GET /api/cards/revocations`, external AAD
 *   `"UC1-REVOKED"`): `{1: seq, 2: issued day, 3: [serials, sorted, unique]}`.
 *
 * Both are COSE_Sign1 like a card. A verifier keeps the newest of each: a list
 * with a lower `seq` than the one held, or the same `seq` with other contents,
 * is refused (`CARD_LIST_ROLLED_BACK`), so nobody can bring back a removed
 * device or an unrevoked card by replaying an old list.
 *
 * # Using it
 *
 *     import { Verifier, today } from "/cardcheck.js";
 *     // The root public key is what the merchant pins: 32 bytes, or the
 *     // 64 hex characters `GET /api/cards/root` gives as `public_key`.
 *     const v = new Verifier(rootPublicKeyHex);
 *     const bytes = async (url) => new Uint8Array(await (await fetch(url)).arrayBuffer());
 *     await v.acceptTrust(await bytes("/api/cards/trust"));       // store these bytes,
 *     await v.acceptRevocations(await bytes("/api/cards/revocations")); // offer them again offline
 *     const verdict = await v.verify(scannedText, today());
 *     if (verdict.ok) show(verdict.claims.name, verdict.revocationsIssued);
 *     else show(verdict.zh, verdict.en, verdict.code);
 *
 * - A refused card is a verdict, never an exception: `verify` resolves to
 *   `{ok: false, code, zh, en, detail}`. Exceptions (`TypeError`, or a
 *   platform without WebCrypto Ed25519) mean the verifier itself cannot work.
 * - `acceptTrust` / `acceptRevocations` reject with a `CardError`
 *   (`CARD_LIST_INVALID`, `CARD_LIST_ROLLED_BACK`) and then change nothing.
 * - Show `revocationsIssued` with every answer: it says how old the
 *   knowledge of revocations is. Offline, a card revoked since is still
 *   accepted.
 * - Give the text exactly as the QR code holds it. Base45's alphabet has the
 *   space, and a card's text may end in one: remove line breaks a text field
 *   adds, never spaces (no `trim()`).
 * - WebCrypto (`crypto.subtle`) exists only in secure contexts: serve the page
 *   over HTTPS (or from localhost). `supported()` says whether this platform
 *   can verify at all (Ed25519 in WebCrypto: Chrome/Edge 137+, Firefox 129+,
 *   Safari 17+, Node 20): check it first and say so, rather than let every
 *   card fail.
 *
 * # Why strictness matters, and how it is kept
 *
 * The Rust decoder is strict: the text must be exactly what the crate encodes
 * for the same bytes, the bytes exactly what it signs (canonical CBOR, the
 * 13-byte protected header `a2 01 27 04 48 <kid>`, an empty unprotected
 * header, a 64-byte signature, nothing after), the claims exactly what an
 * issuer could have signed (canonical map, known keys, name trimmed and in
 * NFC). So a card has one encoding: no bit of it changes without the card
 * being refused, nothing unsigned (an unprotected header, trailing bytes, a
 * longer length form) can ride along, and two verifiers cannot read one card
 * two ways. This module keeps the same rules the same way: it re-encodes and
 * compares (Base45 decoding is exact by construction; the COSE structure is
 * rebuilt and compared byte for byte) and reads claims and lists with a
 * decoder that accepts canonical CBOR only.
 *
 * Agreeing with Rust also means agreeing on *which* refusal. Before the
 * strict checks, Rust reads the COSE_Sign1 with `coset` over `ciborium`,
 * which accept much more (indefinite lengths, tags, floats, any header
 * parameter) and answer `CARD_ALGORITHM` whenever such a structure reads
 * but its algorithm is not EdDSA; anything else is `CARD_MALFORMED`. So
 * `lenientDecode` and `coseHeader` below mirror what ciborium 0.2 and
 * coset 0.4 accept (bignum tags, nested indefinite strings, recursion limit
 * 256, the IANA registries coset knows), no more and no less.
 *
 * Ed25519 is checked as ed25519-dalek's `verify_strict`: the scalar `s`
 * below ℓ, and neither the key nor `R` of small order, checked here with
 * BigInt arithmetic before WebCrypto checks the equation. WebCrypto alone
 * accepts a small-order key (under which a fixed signature "verifies" any
 * card) and a small-order `R` (a second signature for the same card); Rust
 * refuses both, and so does this module (the golden vectors hold one of
 * each).
 *
 * The golden vectors `crates/card/tests/fixtures/golden-*` are written by
 * the card crate's test `golden_vectors_for_other_verifiers`: lists, cards
 * of every kind, every single-bit flip of a card and of each list, every
 * byte value in the COSE head, with the Rust verdict of each;
 * `tests/e2e/cardcheck.test.mjs` replays them all here and requires the same
 * codes. Change the format in Rust, and that test says what to change here.
 *
 * Two differences remain possible, neither with any card an issuer makes:
 * names are NFC-normalised with the JavaScript engine's Unicode tables (the
 * Rust crate has its own; they differ only on characters added in the
 * latest Unicode version), and a public key in a non-canonical encoding
 * (y ≥ 2^255 − 19, which no Ed25519 implementation produces) is decoded by
 * the platform's Ed25519.
 */

// ---------------------------------------------------------------------------
// Verdicts: the stable codes and messages of `card::CardError`.
// ---------------------------------------------------------------------------

/** Every code `card::CardError::code()` defines, with `CardError::message()`. */
export const MESSAGES = Object.freeze({
  CARD_PREFIX: m("这不是会员卡二维码", "This is not a membership card"),
  CARD_ENCODING: m("会员卡编码无效", "The card's encoding is not valid"),
  CARD_MALFORMED: m("会员卡数据格式有误", "The card's data is malformed"),
  CARD_ALGORITHM: m("会员卡签名算法不受支持", "The card's signature algorithm is not accepted"),
  CARD_UNKNOWN_ISSUER: m("发卡设备不在信任名单中", "The issuing device is not on the trust list"),
  CARD_ISSUER_REMOVED: m("发卡设备已被县总工会移除", "The issuing device was removed by the county"),
  CARD_ISSUER_NOT_VALID: m("发卡时该设备密钥不在有效期内", "The card was issued outside the device key's validity"),
  CARD_FORGED: m("会员卡签名无效：伪造或被篡改", "The signature is not valid: forged or altered"),
  CARD_EXPIRED: m("会员卡已过期", "The card has expired"),
  CARD_NOT_YET_VALID: m("会员卡尚未生效", "The card is not valid yet"),
  CARD_REVOKED: m("会员卡已注销", "The card was revoked"),
  // Issuing only: never a verdict of this module.
  CARD_CLAIMS_INVALID: m("会员卡内容不符合要求，无法发卡", "The card's contents are not valid"),
  CARD_LIST_INVALID: m("名单无效或非县总工会签发", "The list is invalid or not signed by the county"),
  CARD_LIST_ROLLED_BACK: m("名单比已有的旧，未采用", "The list is older than the one held; not used"),
});

function m(zh, en) {
  return Object.freeze({ zh, en });
}

/**
 * Why a card or a list was refused: `code` (stable, as Rust's), `zh`, `en`
 * (for people), and `detail` (what was malformed, for developers; or null).
 */
export class CardError extends Error {
  /** @param {keyof typeof MESSAGES} code @param {string | null} [detail] */
  constructor(code, detail = null) {
    const { zh, en } = MESSAGES[code];
    super(detail ? `${en} (${detail})` : en);
    this.name = "CardError";
    this.code = code;
    this.zh = zh;
    this.en = en;
    this.detail = detail;
  }
}

/** @param {CardError} e @returns {Refused} */
function refusal(e) {
  return { ok: false, code: e.code, zh: e.zh, en: e.en, detail: e.detail };
}

// ---------------------------------------------------------------------------
// Bytes.
// ---------------------------------------------------------------------------

/** @param {Uint8Array} a @param {Uint8Array} b */
function equal(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** @param {ArrayLike<number>[]} parts */
function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Lower-case hex of bytes. @param {Uint8Array} bytes */
export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Bytes of hex text (either case); throws a TypeError on anything else. @param {string} text */
export function fromHex(text) {
  if (typeof text !== "string" || text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) {
    throw new TypeError("expected hex text");
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** A copy of bytes given as a Uint8Array, another view, or an ArrayBuffer. */
function bytesOf(x, what) {
  if (x instanceof ArrayBuffer) return new Uint8Array(x.slice(0));
  if (ArrayBuffer.isView(x)) return new Uint8Array(x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength));
  throw new TypeError(`${what}: expected bytes (a Uint8Array or an ArrayBuffer)`);
}

const utf8 = new TextEncoder();
// Fatal, and keeping a leading U+FEFF: Rust keeps it, and it is a character
// a name may hold.
const utf8Strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

// ---------------------------------------------------------------------------
// Base45 (RFC 9285), strict as `card::base45`.
// ---------------------------------------------------------------------------

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/**
 * Base45 (RFC 9285). `decode` is strict: every character in the alphabet, no
 * group out of range, no single character left over; it gives null
 * otherwise. So a text decodes to one byte string, which encodes back to it.
 */
export const base45 = Object.freeze({
  /** @param {Uint8Array} bytes */
  encode(bytes) {
    let out = "";
    for (let i = 0; i < bytes.length; i += 2) {
      let n = i + 1 < bytes.length ? bytes[i] * 256 + bytes[i + 1] : bytes[i];
      for (let d = i + 1 < bytes.length ? 3 : 2; d > 0; d--) {
        out += ALPHABET[n % 45];
        n = Math.floor(n / 45);
      }
    }
    return out;
  },
  /** @param {string} text @returns {Uint8Array | null} */
  decode(text) {
    if (text.length % 3 === 1) return null;
    const out = new Uint8Array(Math.floor(text.length / 3) * 2 + (text.length % 3 === 2 ? 1 : 0));
    let at = 0;
    for (let i = 0; i < text.length; i += 3) {
      const group = text.slice(i, i + 3);
      let n = 0;
      for (let k = group.length - 1; k >= 0; k--) {
        const v = ALPHABET.indexOf(group[k]);
        if (v < 0) return null;
        n = n * 45 + v;
      }
      if (group.length === 3) {
        if (n > 0xffff) return null;
        out[at++] = n >> 8;
        out[at++] = n & 0xff;
      } else {
        if (n > 0xff) return null;
        out[at++] = n;
      }
    }
    return out;
  },
});

// ---------------------------------------------------------------------------
// CBOR: writing the few things signed or compared.
// ---------------------------------------------------------------------------

/** A CBOR head in its shortest form (as ciborium writes). */
function head(major, n) {
  const mt = major << 5;
  if (n < 24) return [mt | n];
  if (n < 0x100) return [mt | 24, n];
  if (n < 0x10000) return [mt | 25, n >> 8, n & 0xff];
  return [mt | 26, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

/** @param {Uint8Array} b */
function bstr(b) {
  return concat(head(2, b.length), b);
}

// ---------------------------------------------------------------------------
// CBOR reading, common part.
// ---------------------------------------------------------------------------

/** Thrown inside the decoders; the callers turn it into their verdict. */
class Invalid extends Error {}

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
/** ciborium's recursion limit: arrays, maps and tags nested 256 deep. */
const DEPTH = 256;

class Reader {
  /** @param {Uint8Array} bytes */
  constructor(bytes) {
    this.bytes = bytes;
    this.pos = 0;
  }

  /** One head: major type, additional information, argument (null: indefinite or break). */
  head() {
    if (this.pos >= this.bytes.length) throw new Invalid();
    const initial = this.bytes[this.pos++];
    const major = initial >> 5;
    const info = initial & 0x1f;
    let arg = null;
    if (info < 24) arg = BigInt(info);
    else if (info <= 27) {
      const n = 1 << (info - 24);
      if (this.pos + n > this.bytes.length) throw new Invalid();
      arg = 0n;
      for (let i = 0; i < n; i++) arg = (arg << 8n) | BigInt(this.bytes[this.pos++]);
    } else if (info !== 31) throw new Invalid(); // 28..30 are reserved
    return { major, info, arg };
  }

  /** @param {bigint} n */
  take(n) {
    if (n > BigInt(this.bytes.length - this.pos)) throw new Invalid();
    const out = this.bytes.subarray(this.pos, this.pos + Number(n));
    this.pos += Number(n);
    return out;
  }

  /** Consumes a break (0xff) if one is next. */
  atBreak() {
    if (this.bytes[this.pos] === 0xff) {
      this.pos++;
      return true;
    }
    return false;
  }

  left() {
    return BigInt(this.bytes.length - this.pos);
  }
}

/** @param {Uint8Array} bytes */
function text(bytes) {
  try {
    return utf8Strict.decode(bytes);
  } catch {
    throw new Invalid();
  }
}

// ---------------------------------------------------------------------------
// CBOR reading as ciborium 0.2 reads a `Value` (what coset parses COSE from):
// any length form, indefinite lengths (chunks of the same type, nested
// indefinite chunks too, each text chunk valid UTF-8 by itself), tags (2 and 3
// over at most 16 bytes read as integers), floats, the simple values false,
// true, null and undefined (also in their two-byte form), integers down to
// -2^64; at most 256 levels of arrays, maps and tags; nothing after.
// ---------------------------------------------------------------------------

/** @typedef {{kind: "int", value: bigint} | {kind: "bytes", value: Uint8Array} | {kind: "text", value: string} | {kind: "array", value: Item[]} | {kind: "map", value: [Item, Item][]} | {kind: "tag", tag: bigint, value: Item} | {kind: "float"} | {kind: "bool", value: boolean} | {kind: "null"}} Item */

/** @param {Uint8Array} bytes @returns {Item} */
function lenientDecode(bytes) {
  const r = new Reader(bytes);
  const item = lenientItem(r, DEPTH);
  if (r.pos !== bytes.length) throw new Invalid();
  return item;
}

/** @param {Reader} r @param {number} depth @returns {Item} */
function lenientItem(r, depth) {
  const h = r.head();
  switch (h.major) {
    case 0:
      if (h.arg === null) throw new Invalid();
      return { kind: "int", value: h.arg };
    case 1:
      if (h.arg === null) throw new Invalid();
      return { kind: "int", value: -1n - h.arg };
    case 2:
      return { kind: "bytes", value: concat(...lenientChunks(r, h, 2)) };
    case 3:
      return { kind: "text", value: lenientChunks(r, h, 3).map(text).join("") };
    case 4: {
      if (depth === 0) throw new Invalid();
      const items = [];
      if (h.arg === null) while (!r.atBreak()) items.push(lenientItem(r, depth - 1));
      else {
        if (h.arg > r.left()) throw new Invalid();
        for (let i = 0n; i < h.arg; i++) items.push(lenientItem(r, depth - 1));
      }
      return { kind: "array", value: items };
    }
    case 5: {
      if (depth === 0) throw new Invalid();
      /** @type {[Item, Item][]} */
      const entries = [];
      if (h.arg === null) {
        while (!r.atBreak()) entries.push([lenientItem(r, depth - 1), lenientItem(r, depth - 1)]);
      } else {
        if (h.arg > r.left()) throw new Invalid();
        for (let i = 0n; i < h.arg; i++) entries.push([lenientItem(r, depth - 1), lenientItem(r, depth - 1)]);
      }
      return { kind: "map", value: entries };
    }
    case 6: {
      if (h.arg === null) throw new Invalid();
      const tag = h.arg;
      const at = r.pos;
      const next = r.head();
      r.pos = at;
      // ciborium reads a bignum over at most 16 bytes as an integer: one
      // within ±2^64 is an integer like any other; a larger one stays a tag,
      // and a negative one beyond -2^127 is an error.
      if ((tag === 2n || tag === 3n) && next.major === 2 && next.arg !== null && next.arg <= 16n) {
        r.head();
        let raw = 0n;
        for (const b of r.take(next.arg)) raw = (raw << 8n) | BigInt(b);
        if (tag === 3n && raw >= 1n << 127n) throw new Invalid();
        if (raw <= U64_MAX) return { kind: "int", value: tag === 2n ? raw : -1n - raw };
        return { kind: "tag", tag, value: { kind: "bytes", value: new Uint8Array(0) } };
      }
      if (depth === 0) throw new Invalid();
      return { kind: "tag", tag, value: lenientItem(r, depth - 1) };
    }
    default:
      if (h.info === 31) throw new Invalid(); // a break where an item belongs
      if (h.info > 24) return { kind: "float" };
      switch (Number(h.arg)) {
        case 20:
          return { kind: "bool", value: false };
        case 21:
          return { kind: "bool", value: true };
        case 22:
        case 23:
          return { kind: "null" };
        default:
          throw new Invalid();
      }
  }
}

/** The chunks of a byte or text string, definite or not. @param {Reader} r */
function lenientChunks(r, h, major) {
  if (h.arg !== null) return [r.take(h.arg)];
  const chunks = [];
  for (let nested = 1; ; ) {
    const c = r.head();
    if (c.major === 7 && c.info === 31) {
      if (--nested === 0) return chunks;
    } else if (c.major !== major) throw new Invalid();
    else if (c.arg === null) nested++;
    else chunks.push(r.take(c.arg));
  }
}

// ---------------------------------------------------------------------------
// COSE headers as coset 0.4 reads them. Labels are integers (i64) or text, no
// label twice; alg is an int/tstr whose integer is in coset's IANA algorithm
// registry or private (< -65536); crit a non-empty array of registered or
// private header labels; content type a registered CoAP content format or a
// "type/subtype" text without surrounding whitespace; kid, IV and partial IV
// non-empty byte strings, not both IVs; counter signatures one COSE_Signature
// or a non-empty array of them; anything else is kept, whatever its value.
// ---------------------------------------------------------------------------

// coset 0.4.2's iana::Algorithm, iana::HeaderParameter, iana::CoapContentFormat.
const ALGORITHMS = new Set(
  [
    -65535, -65534, -65533, -65532, -65531, -65530, -65529, -268, -267, -266, -265, -260, -259, -258, -257, -53, -52,
    -51, -50, -49, -48, -47, -46, -45, -44, -43, -42, -41, -40, -39, -38, -37, -36, -35, -34, -33, -32, -31, -30, -29,
    -28, -27, -26, -25, -19, -18, -17, -16, -15, -14, -13, -12, -11, -10, -9, -8, -7, -6, -5, -4, -3, 0, 1, 2, 3, 4, 5,
    6, 7, 10, 11, 12, 13, 14, 15, 24, 25, 26, 30, 31, 32, 33, 34,
  ].map(BigInt),
);
const HEADER_PARAMETERS = new Set(
  [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 32, 33, 34, 35, 256, 257].map(BigInt),
);
const CONTENT_FORMATS = new Set(
  [
    0, 16, 17, 18, 19, 21, 22, 23, 40, 41, 42, 47, 50, 51, 52, 60, 61, 62, 63, 64, 65, 96, 97, 98, 101, 102, 110, 111, 112,
    113, 114, 115, 140, 256, 257, 258, 259, 260, 261, 262, 263, 264, 265, 266, 267, 268, 271, 272, 280, 281, 282, 283, 284,
    285, 286, 287, 290, 291, 310, 311, 320, 322, 340, 341, 432, 433, 601, 10000, 10001, 10002, 10003, 10004, 11050, 11060,
    11542, 11543, 11544, 20000, 30000,
  ].map(BigInt),
);
const PRIVATE_BELOW = -65536n;

/** @param {Item} v */
function i64(v) {
  if (v.kind !== "int" || v.value < I64_MIN || v.value > I64_MAX) throw new Invalid();
  return v.value;
}

/** An int/tstr label from an IANA registry (or its private range). @param {Item} v */
function registered(v, registry, hasPrivate) {
  if (v.kind === "text") return { text: v.value };
  const n = i64(v);
  if (registry.has(n) || (hasPrivate && n < PRIVATE_BELOW)) return { int: n };
  throw new Invalid();
}

/** @param {Item} v */
function nonEmptyBytes(v) {
  if (v.kind !== "bytes" || v.value.length === 0) throw new Invalid();
  return v.value;
}

/**
 * A header map, as coset reads it: its algorithm, key id and number of
 * parameters (a header is empty exactly when it has none).
 * @param {Item} v
 */
function coseHeader(v) {
  if (v.kind !== "map") throw new Invalid();
  const header = { alg: null, kid: null, count: 0 };
  const seen = new Set();
  let iv = false;
  let partialIv = false;
  for (const [k, value] of v.value) {
    let label;
    if (k.kind === "text") label = `t${k.value}`;
    else label = `i${i64(k)}`;
    if (seen.has(label)) throw new Invalid();
    seen.add(label);
    header.count++;
    switch (label) {
      case "i1":
        header.alg = registered(value, ALGORITHMS, true);
        break;
      case "i2":
        if (value.kind !== "array" || value.value.length === 0) throw new Invalid();
        for (const l of value.value) registered(l, HEADER_PARAMETERS, true);
        break;
      case "i3":
        if (value.kind === "text") {
          const t = value.value;
          if (t === "" || rustTrim(t) !== t || t.split("/").length !== 2) throw new Invalid();
        } else registered(value, CONTENT_FORMATS, false);
        break;
      case "i4":
        header.kid = nonEmptyBytes(value);
        break;
      case "i5":
        iv = nonEmptyBytes(value).length > 0;
        break;
      case "i6":
        partialIv = nonEmptyBytes(value).length > 0;
        break;
      case "i7": {
        if (value.kind !== "array" || value.value.length === 0) throw new Invalid();
        const first = value.value[0];
        if (first.kind === "bytes") coseSignature(value);
        else if (first.kind === "array") value.value.forEach(coseSignature);
        else throw new Invalid();
        break;
      }
      default:
        break;
    }
    if (iv && partialIv) throw new Invalid();
  }
  return header;
}

/** A protected header: a byte string holding a header map (empty: none). @param {Item} v */
function protectedHeader(v) {
  if (v.kind !== "bytes") throw new Invalid();
  const header = v.value.length === 0 ? { alg: null, kid: null, count: 0 } : coseHeader(lenientDecode(v.value));
  return { header, original: v.value };
}

/** A COSE_Signature (of a counter signature). @param {Item} v */
function coseSignature(v) {
  if (v.kind !== "array" || v.value.length !== 3) throw new Invalid();
  if (v.value[2].kind !== "bytes") throw new Invalid();
  coseHeader(v.value[1]);
  protectedHeader(v.value[0]);
}

// Rust's `str::trim`: the characters of Unicode's White_Space property (not
// JavaScript's trim(), which also strips U+FEFF and keeps U+0085).
const WHITE_SPACE = "\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
const TRIM = new RegExp(`^[${WHITE_SPACE}]+|[${WHITE_SPACE}]+$`, "gu");

/** @param {string} s */
function rustTrim(s) {
  return s.replace(TRIM, "");
}

// ---------------------------------------------------------------------------
// COSE_Sign1, strict (card::Opened::parse).
// ---------------------------------------------------------------------------

/** The protected header an issuer writes: `{1: -8, 4: h'<kid>'}`. @param {Uint8Array} kid */
function protectedBytes(kid) {
  return concat([0xa2, 0x01, 0x27, 0x04, 0x48], kid);
}

/**
 * Reads a COSE_Sign1 exactly as an issuer makes it: its key id, the exact
 * protected header bytes, payload and signature.
 * @param {Uint8Array} bytes
 */
function openSign1(bytes) {
  let prot;
  let unprotected;
  let payload;
  let signature;
  try {
    const v = lenientDecode(bytes);
    if (v.kind !== "array" || v.value.length !== 4) throw new Invalid();
    const [p, u, pl, s] = v.value;
    if (s.kind !== "bytes") throw new Invalid();
    signature = s.value;
    if (pl.kind === "bytes") payload = pl.value;
    else if (pl.kind === "null") payload = null;
    else throw new Invalid();
    unprotected = coseHeader(u);
    prot = protectedHeader(p);
  } catch (e) {
    if (e instanceof Invalid) throw new CardError("CARD_MALFORMED", "COSE_Sign1");
    throw e;
  }
  const alg = prot.header.alg;
  if (!alg || alg.int !== -8n) throw new CardError("CARD_ALGORITHM");
  const kid = prot.header.kid;
  if (!kid || kid.length !== 8) throw new CardError("CARD_MALFORMED", "key id");
  // Exactly the bytes an issuer makes: the canonical protected header,
  // nothing unprotected, a 64-byte signature, nothing after.
  if (!equal(prot.original, protectedBytes(kid)) || unprotected.count !== 0 || signature.length !== 64) {
    throw new CardError("CARD_MALFORMED", "COSE header");
  }
  const again = concat([0x84], bstr(prot.original), [0xa0], payload ? bstr(payload) : [0xf6], bstr(signature));
  if (!equal(again, bytes)) throw new CardError("CARD_MALFORMED", "non-canonical or trailing bytes");
  if (!payload) throw new CardError("CARD_MALFORMED", "no payload");
  return { kid: kid.slice(), protected: prot.original.slice(), payload: payload.slice(), signature: signature.slice() };
}

/** The COSE Sig_structure signed: ["Signature1", protected, external_aad, payload]. */
function sigStructure(opened, aad) {
  const context = utf8.encode("Signature1");
  return concat([0x84], head(3, context.length), context, bstr(opened.protected), bstr(aad), bstr(opened.payload));
}

// ---------------------------------------------------------------------------
// Canonical CBOR (card's cbor::decode_map): maps with unsigned keys in
// strictly ascending order, unsigned integers, byte and text strings, arrays;
// shortest heads, definite lengths, nothing after. Anything else, or any
// other encoding of it, is refused.
// ---------------------------------------------------------------------------

/** @typedef {{kind: "uint", value: bigint} | {kind: "bytes", value: Uint8Array} | {kind: "text", value: string} | {kind: "array", value: Canon[]} | {kind: "map", value: Map<bigint, Canon>}} Canon */

/** @param {Reader} r @param {number} depth @returns {Canon} */
function canonicalItem(r, depth) {
  const h = r.head();
  const n = h.arg;
  if (n === null) throw new Invalid();
  const shortest =
    h.info < 24 ||
    (h.info === 24 && n >= 24n) ||
    (h.info === 25 && n > 0xffn) ||
    (h.info === 26 && n > 0xffffn) ||
    (h.info === 27 && n > 0xffffffffn);
  if (!shortest) throw new Invalid();
  switch (h.major) {
    case 0:
      return { kind: "uint", value: n };
    case 2:
      return { kind: "bytes", value: r.take(n) };
    case 3:
      return { kind: "text", value: text(r.take(n)) };
    case 4: {
      if (depth === 0 || n > r.left()) throw new Invalid();
      const items = [];
      for (let i = 0n; i < n; i++) items.push(canonicalItem(r, depth - 1));
      return { kind: "array", value: items };
    }
    case 5: {
      if (depth === 0 || n > r.left()) throw new Invalid();
      const map = new Map();
      let last = -1n;
      for (let i = 0n; i < n; i++) {
        const k = canonicalItem(r, depth - 1);
        if (k.kind !== "uint" || k.value <= last) throw new Invalid();
        last = k.value;
        map.set(k.value, canonicalItem(r, depth - 1));
      }
      return { kind: "map", value: map };
    }
    default:
      throw new Invalid();
  }
}

/** A canonical map whose keys are all in `allowed`. @param {Uint8Array} bytes @param {bigint[]} allowed */
function canonicalMap(bytes, allowed) {
  const r = new Reader(bytes);
  const v = canonicalItem(r, DEPTH);
  if (r.pos !== bytes.length || v.kind !== "map") throw new Invalid();
  for (const k of v.value.keys()) if (!allowed.includes(k)) throw new Invalid();
  return v.value;
}

const DAY_MAX = 0xffffffffn;

/** A day (u32) or undefined. @param {Canon | undefined} v */
function dayValue(v) {
  return v?.kind === "uint" && v.value <= DAY_MAX ? Number(v.value) : undefined;
}

/** Bytes of length n or undefined. @param {Canon | undefined} v */
function bytesN(v, n) {
  return v?.kind === "bytes" && v.value.length === n ? v.value.slice() : undefined;
}

// ---------------------------------------------------------------------------
// Claims (card::Claims::from_cbor).
// ---------------------------------------------------------------------------

const MAX_NAME_CHARS = 32;
// Rust's char::is_control: general category Cc.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;

/**
 * What a card says.
 * @typedef {object} Claims
 * @property {Uint8Array} member   the member's record id (16 bytes)
 * @property {number} issued       the day the card was issued
 * @property {number} expires      the last day the card is valid
 * @property {Uint8Array} serial   the card's serial (8 bytes): what revocation lists name
 * @property {string | null} name  the member's name, NFC
 * @property {Uint8Array | null} union  the member's union's record id (16 bytes)
 */

/** @param {Uint8Array} payload @returns {Claims} */
function claimsOf(payload) {
  const bad = () => new CardError("CARD_MALFORMED", "claims");
  let map;
  try {
    map = canonicalMap(payload, [1n, 2n, 3n, 4n, 5n, 6n]);
  } catch (e) {
    if (e instanceof Invalid) throw bad();
    throw e;
  }
  const member = bytesN(map.get(1n), 16);
  const issued = dayValue(map.get(2n));
  const expires = dayValue(map.get(3n));
  const serial = bytesN(map.get(4n), 8);
  if (!member || issued === undefined || expires === undefined || !serial) throw bad();
  let name = null;
  const n = map.get(5n);
  if (n !== undefined) {
    if (n.kind !== "text") throw bad();
    name = n.value;
  }
  let union = null;
  if (map.has(6n)) {
    union = bytesN(map.get(6n), 16);
    if (!union) throw bad();
  }
  // What an issuer could not have signed is not a card.
  if (expires < issued) throw bad();
  if (name !== null) {
    const nfc = rustTrim(name).normalize("NFC");
    const chars = [...nfc].length;
    if (chars === 0 || chars > MAX_NAME_CHARS || CONTROL.test(nfc) || nfc !== name) throw bad();
  }
  return { member, issued, expires, serial, name, union };
}

/** @param {string} text */
function openCard(text) {
  if (typeof text !== "string") throw new TypeError("a card's text is a string");
  if (!text.startsWith("UC1:")) throw new CardError("CARD_PREFIX");
  const bytes = base45.decode(text.slice(4));
  if (!bytes) throw new CardError("CARD_ENCODING");
  const opened = openSign1(bytes);
  return { opened, claims: claimsOf(opened.payload) };
}

/**
 * Reads a card's text strictly, without checking whom it is from: its
 * claims, or a thrown `CardError` (CARD_PREFIX, CARD_ENCODING,
 * CARD_MALFORMED, CARD_ALGORITHM), as `card::Card::decode`.
 * @param {string} text
 * @returns {Claims}
 */
export function decodeCard(text) {
  return openCard(text).claims;
}

// ---------------------------------------------------------------------------
// Ed25519 as ed25519-dalek's verify_strict. WebCrypto checks the equation
// [s]B = R + [k]A on the bytes (R must be the canonical encoding of the
// result); what verify_strict adds is checked here first: s < ℓ, R a point
// and neither R nor A of small order (A must also be a point at all, else the
// key is unusable, as VerifyingKey::from_bytes says).
// ---------------------------------------------------------------------------

const P = (2n ** 255n) - 19n;
const ELL = (2n ** 252n) + 27742317777372353535851937790883648493n;

/** @param {bigint} a */
function mod(a) {
  const r = a % P;
  return r < 0n ? r + P : r;
}

/** @param {bigint} b @param {bigint} e */
function pow(b, e) {
  let r = 1n;
  b = mod(b);
  for (; e > 0n; e >>= 1n) {
    if (e & 1n) r = (r * b) % P;
    b = (b * b) % P;
  }
  return r;
}

const D = mod(-121665n * pow(121666n, P - 2n));
const SQRT_M1 = pow(2n, (P - 1n) / 4n);

/** A little-endian number. @param {Uint8Array} bytes */
function littleEndian(bytes) {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]);
  return n;
}

/**
 * The point a compressed Edwards y-coordinate stands for, or null, as
 * curve25519-dalek's `CompressedEdwardsY::decompress`: y from the low 255
 * bits (reduced mod p), x the root of (y²-1)/(dy²+1) whose sign the top bit
 * gives.
 * @param {Uint8Array} bytes 32 bytes
 */
function decompress(bytes) {
  const y = mod(littleEndian(bytes) & ((2n ** 255n) - 1n));
  const yy = (y * y) % P;
  const u = mod(yy - 1n);
  const v = mod(D * yy + 1n);
  // sqrt_ratio_i: r = u v³ (u v⁷)^((p-5)/8); v r² is u, or -u (then r·√-1).
  const v3 = (((v * v) % P) * v) % P;
  const v7 = (((v3 * v3) % P) * v) % P;
  let x = (((u * v3) % P) * pow((u * v7) % P, (P - 5n) / 8n)) % P;
  const check = (((v * x) % P) * x) % P;
  if (check === mod(-u)) x = (x * SQRT_M1) % P;
  else if (check !== u) return null;
  if (x & 1n) x = P - x;
  if (bytes[31] >> 7) x = mod(-x);
  return { x, y };
}

/** Whether [8]P is the identity. @param {{x: bigint, y: bigint}} point */
function smallOrder({ x, y }) {
  let [X, Y, Z] = [x, y, 1n];
  for (let i = 0; i < 3; i++) {
    // Doubling on -x² + y² = 1 + d x² y² (projective, dbl-2008-hwcd).
    const A = (X * X) % P;
    const B = (Y * Y) % P;
    const C = (2n * Z * Z) % P;
    const Dd = mod(-A);
    const E = mod((X + Y) * (X + Y) - A - B);
    const G = mod(Dd + B);
    const F = mod(G - C);
    const H = mod(Dd - B);
    [X, Y, Z] = [(E * F) % P, (G * H) % P, (F * G) % P];
  }
  return X === 0n && Y === Z;
}

function subtle() {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new Error("cardcheck: WebCrypto (crypto.subtle) is needed: serve the page over HTTPS or from localhost");
  return s;
}

/** @param {Uint8Array} bytes */
async function sha256(bytes) {
  return new Uint8Array(await subtle().digest("SHA-256", /** @type {BufferSource} */ (bytes)));
}

/**
 * A public key as the verifier holds it: its bytes, whether it is a point at
 * all, whether it is of small order, its kid (the zero kid for a key that is
 * no point, as card::lists::TrustEntry::kid), its WebCrypto key once needed.
 * @param {Uint8Array} bytes
 */
async function keyOf(bytes) {
  const point = decompress(bytes);
  return {
    bytes,
    valid: point !== null,
    small: point === null || smallOrder(point),
    kid: point ? (await sha256(bytes)).slice(0, 8) : new Uint8Array(8),
    /** @type {Promise<CryptoKey> | null} */
    cryptoKey: null,
  };
}

/** verify_strict of `signature` over `message` with `key`. */
async function verifyStrict(key, signature, message) {
  if (littleEndian(signature.subarray(32)) >= ELL) return false;
  const R = decompress(signature.subarray(0, 32));
  if (!R || smallOrder(R) || key.small) return false;
  key.cryptoKey ??= subtle().importKey("raw", key.bytes, { name: "Ed25519" }, false, ["verify"]);
  return subtle().verify({ name: "Ed25519" }, await key.cryptoKey, signature, message);
}

/** card::Opened::verify: the key's kid must be the header's, then the signature. */
async function verifyOpened(opened, aad, key) {
  if (!equal(key.kid, opened.kid)) return false;
  return verifyStrict(key, opened.signature, sigStructure(opened, aad));
}

/**
 * Whether this platform can verify cards: WebCrypto with Ed25519.
 * @returns {Promise<boolean>}
 */
export async function supported() {
  try {
    // The base point, a key every Ed25519 implementation imports.
    const B = fromHex("5866666666666666666666666666666666666666666666666666666666666666");
    await subtle().importKey("raw", B, { name: "Ed25519" }, false, ["verify"]);
    await sha256(B);
    return true;
  } catch {
    return false;
  }
}

/**
 * A public key's key id: the first 8 bytes of SHA-256 of its 32 bytes (what
 * a card's header names, and `GET /api/cards/root` gives as `kid`).
 * @param {Uint8Array | ArrayBuffer | string} publicKey bytes, or hex
 */
export async function kidOf(publicKey) {
  return (await sha256(typeof publicKey === "string" ? fromHex(publicKey) : bytesOf(publicKey, "kidOf"))).slice(0, 8);
}

// ---------------------------------------------------------------------------
// Days.
// ---------------------------------------------------------------------------

/**
 * The day number at `unixSeconds`: days since 1970-01-01 in China Standard
 * Time (UTC+8), clamped to 0..2^32-1, as card::day_of.
 * @param {number} unixSeconds
 */
export function dayOf(unixSeconds) {
  if (typeof unixSeconds !== "number" || !Number.isFinite(unixSeconds)) throw new TypeError("dayOf: seconds, a number");
  const day = Math.floor((Math.floor(unixSeconds) + 8 * 3600) / 86400);
  return Math.min(Math.max(day, 0), 0xffffffff);
}

/** Today's day number, by this device's clock. */
export function today() {
  return dayOf(Date.now() / 1000);
}

// ---------------------------------------------------------------------------
// The lists (card::lists) and the verifier.
// ---------------------------------------------------------------------------

const TRUST_AAD = utf8.encode("UC1-TRUST");
const REVOKED_AAD = utf8.encode("UC1-REVOKED");
const CARD_AAD = utf8.encode("UC1");

function listInvalid() {
  return new CardError("CARD_LIST_INVALID");
}

/** Opens a list signed by the root: its map `{1: seq, 2: issued, 3: items}`. */
async function openList(bytes, aad, root) {
  let opened;
  try {
    opened = openSign1(bytes);
  } catch (e) {
    if (e instanceof CardError) throw listInvalid();
    throw e;
  }
  if (!(await verifyOpened(opened, aad, root))) throw listInvalid();
  let map;
  try {
    map = canonicalMap(opened.payload, [1n, 2n, 3n]);
  } catch (e) {
    if (e instanceof Invalid) throw listInvalid();
    throw e;
  }
  const seq = map.get(1n);
  const issued = dayValue(map.get(2n));
  const items = map.get(3n);
  if (seq?.kind !== "uint" || issued === undefined || items?.kind !== "array") throw listInvalid();
  return { seq: seq.value, issued, items: items.value, payload: opened.payload };
}

/** card::lists::TrustList::open, each entry's key prepared. */
async function openTrust(bytes, root) {
  const list = await openList(bytes, TRUST_AAD, root);
  const entries = [];
  for (const item of list.items) {
    if (item.kind !== "map") throw listInvalid();
    const e = item.value;
    for (const k of e.keys()) if (k < 1n || k > 7n) throw listInvalid();
    const key = bytesN(e.get(1n), 32);
    const device = e.get(2n);
    const from = dayValue(e.get(3n));
    const until = dayValue(e.get(4n));
    if (!key || device?.kind !== "text" || from === undefined || until === undefined) throw listInvalid();
    let removed = null;
    if (e.has(5n)) {
      removed = dayValue(e.get(5n));
      if (removed === undefined) throw listInvalid();
    }
    let all = false;
    if (e.has(6n)) {
      const a = e.get(6n);
      if (a.kind !== "uint" || a.value !== 1n) throw listInvalid();
      all = true;
    }
    const areas = [];
    if (e.has(7n)) {
      const a = e.get(7n);
      if (a.kind !== "array" || a.value.length === 0) throw listInvalid();
      for (const area of a.value) {
        const id = bytesN(area, 16);
        if (!id) throw listInvalid();
        areas.push(id);
      }
    }
    entries.push({ key: await keyOf(key), device: device.value, from, until, removed, all, areas });
  }
  return { seq: list.seq, issued: list.issued, entries, payload: list.payload };
}

/** card::lists::RevocationList::open. */
async function openRevocations(bytes, root) {
  const list = await openList(bytes, REVOKED_AAD, root);
  const serials = [];
  let last = null;
  for (const item of list.items) {
    const serial = bytesN(item, 8);
    if (!serial) throw listInvalid();
    // Sorted and unique, as signed.
    if (last !== null && toHex(last) >= toHex(serial)) throw listInvalid();
    last = serial;
    serials.push(serial);
  }
  return { seq: list.seq, issued: list.issued, serials, set: new Set(serials.map(toHex)), payload: list.payload };
}

/**
 * Whether a list may replace the one held: not older, and at the same
 * sequence the same list (lists are read canonically, so the same contents
 * are the same payload bytes). Sequence 0 is what an empty verifier holds.
 */
function rolledBack(list, held) {
  return list.seq < held.seq || (list.seq === held.seq && list.seq > 0n && !equal(list.payload, held.payload));
}

/**
 * A card that passed every check.
 * @typedef {object} Valid
 * @property {true} ok
 * @property {Claims} claims
 * @property {string} device           the id of the device that issued it
 * @property {number} revocationsSeq   the revocation list the answer rests on: its sequence
 * @property {number} revocationsIssued  and its day (how old the knowledge of revocations is)
 */

/**
 * A refused card.
 * @typedef {object} Refused
 * @property {false} ok
 * @property {string} code   the stable code, as card::CardError::code()
 * @property {string} zh     the reason, in Chinese
 * @property {string} en     the reason, in English
 * @property {string | null} detail  what was malformed, for developers
 */

/**
 * Verifies cards offline with the county's root public key and the newest
 * signed lists it has been given (card::lists::Verifier). It starts with
 * empty lists of sequence 0: until a trust list is accepted, every card's
 * issuer is unknown. Sequence numbers (CBOR uint64) are compared exactly;
 * they are reported as Numbers (exact up to 2^53, far beyond any county's).
 */
export class Verifier {
  #rootBytes;
  /** @type {Promise<any> | null} */
  #root = null;
  #trust = { seq: 0n, issued: 0, entries: [], payload: null };
  #revocations = { seq: 0n, issued: 0, serials: [], set: new Set(), payload: null };

  /**
   * @param {Uint8Array | ArrayBuffer | string} rootPublicKey the county root's
   *   Ed25519 public key: 32 bytes, or their 64 hex characters
   */
  constructor(rootPublicKey) {
    const bytes = typeof rootPublicKey === "string" ? fromHex(rootPublicKey) : bytesOf(rootPublicKey, "root key");
    if (bytes.length !== 32 || !decompress(bytes)) throw new TypeError("the root key is not an Ed25519 public key");
    this.#rootBytes = bytes;
  }

  #rootKey() {
    this.#root ??= keyOf(this.#rootBytes);
    return this.#root;
  }

  /**
   * The trust list held: `{seq, issued, entries: [{key, kid, device, from,
   * until, removed (day or null), all, areas}]}` (copies).
   */
  get trust() {
    const t = this.#trust;
    return {
      seq: Number(t.seq),
      issued: t.issued,
      entries: t.entries.map((e) => ({
        key: e.key.bytes.slice(),
        kid: e.key.kid.slice(),
        device: e.device,
        from: e.from,
        until: e.until,
        removed: e.removed,
        all: e.all,
        areas: e.areas.map((a) => a.slice()),
      })),
    };
  }

  /** The revocation list held: `{seq, issued, serials}` (copies). */
  get revocations() {
    const r = this.#revocations;
    return { seq: Number(r.seq), issued: r.issued, serials: r.serials.map((s) => s.slice()) };
  }

  /**
   * Takes a signed trust list (the bytes `GET /api/cards/trust` serves).
   * Rejects with CARD_LIST_INVALID (not signed by the root, malformed) or
   * CARD_LIST_ROLLED_BACK (older than the one held), changing nothing.
   * @param {Uint8Array | ArrayBuffer} bytes
   */
  async acceptTrust(bytes) {
    const list = await openTrust(bytesOf(bytes, "acceptTrust"), await this.#rootKey());
    if (rolledBack(list, this.#trust)) throw new CardError("CARD_LIST_ROLLED_BACK");
    this.#trust = list;
  }

  /**
   * Takes a signed revocation list (the bytes `GET /api/cards/revocations`
   * serves); refuses as acceptTrust does.
   * @param {Uint8Array | ArrayBuffer} bytes
   */
  async acceptRevocations(bytes) {
    const list = await openRevocations(bytesOf(bytes, "acceptRevocations"), await this.#rootKey());
    if (rolledBack(list, this.#revocations)) throw new CardError("CARD_LIST_ROLLED_BACK");
    this.#revocations = list;
  }

  /**
   * Verifies a card's text on day `today` (see `dayOf`), in the crate's
   * order: the text, its structure and claims; its kid in the trust list
   * (CARD_UNKNOWN_ISSUER); the signature (CARD_FORGED); the device not
   * removed (CARD_ISSUER_REMOVED); issued within the key's validity
   * (CARD_ISSUER_NOT_VALID); today within issued..expires
   * (CARD_NOT_YET_VALID, CARD_EXPIRED); the serial not revoked
   * (CARD_REVOKED).
   * @param {string} text
   * @param {number} today
   * @returns {Promise<Valid | Refused>}
   */
  async verify(text, today) {
    if (!Number.isInteger(today) || today < 0 || today > 0xffffffff) throw new TypeError("today: a day number");
    // The lists as they are now, whatever is accepted meanwhile.
    const trust = this.#trust;
    const revocations = this.#revocations;
    let card;
    try {
      card = openCard(text);
    } catch (e) {
      if (e instanceof CardError) return refusal(e);
      throw e;
    }
    const entry = trust.entries.find((e) => equal(e.key.kid, card.opened.kid));
    if (!entry || !entry.key.valid) return refusal(new CardError("CARD_UNKNOWN_ISSUER"));
    if (!(await verifyOpened(card.opened, CARD_AAD, entry.key))) return refusal(new CardError("CARD_FORGED"));
    if (entry.removed !== null) return refusal(new CardError("CARD_ISSUER_REMOVED"));
    const c = card.claims;
    if (c.issued < entry.from || c.issued > entry.until) return refusal(new CardError("CARD_ISSUER_NOT_VALID"));
    if (today < c.issued) return refusal(new CardError("CARD_NOT_YET_VALID"));
    if (today > c.expires) return refusal(new CardError("CARD_EXPIRED"));
    if (revocations.set.has(toHex(c.serial))) return refusal(new CardError("CARD_REVOKED"));
    return {
      ok: true,
      claims: c,
      device: entry.device,
      revocationsSeq: Number(revocations.seq),
      revocationsIssued: revocations.issued,
    };
  }
}
