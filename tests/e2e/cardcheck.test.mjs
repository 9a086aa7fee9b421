// The offline card verifier (crates/server/src/cardcheck.js) against the
// card crate's golden vectors: the same lists, the same cards, the same
// verdicts, code for code. The vectors are written and asserted by the card
// crate's test `golden_vectors_for_other_verifiers`
// (crates/card/tests/tests.rs), so a verdict here that differs from Rust's
// fails.
//
//     node --test tests/e2e/cardcheck.test.mjs

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  CardError,
  MESSAGES,
  Verifier,
  base45,
  dayOf,
  decodeCard,
  fromHex,
  kidOf,
  supported,
  toHex,
  today,
} from "../../crates/server/src/cardcheck.js";

const FIXTURES = new URL("../../crates/card/tests/fixtures/", import.meta.url);
const read = (name) => readFileSync(new URL(name, FIXTURES), "utf8");
const hexFile = (name) => fromHex(read(name).trim());
const golden = JSON.parse(read("golden-verdicts.json"));
// One line; Base45 may end in a space, so only the newline goes.
const GOLDEN_CARD = read("golden-card.txt").replace(/\n$/, "");
const ROOT = hexFile(golden.root);
const TODAY = golden.today;
const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A verifier holding the golden trust and revocation lists. */
async function holding(trust = "golden-trust.hex", revocations = "golden-revocations.hex") {
  const v = new Verifier(ROOT);
  await v.acceptTrust(hexFile(trust));
  await v.acceptRevocations(hexFile(revocations));
  return v;
}

/** What a promise of a list's acceptance comes to: OK or the refusal's code. */
async function outcome(promise) {
  try {
    await promise;
    return "OK";
  } catch (e) {
    assert.ok(e instanceof CardError, `not a CardError: ${e}`);
    return e.code;
  }
}

/** A verdict's code, checking a refusal's messages are the crate's. */
function codeOf(verdict) {
  if (verdict.ok) return "OK";
  assert.deepEqual([verdict.zh, verdict.en], golden.messages[verdict.code], verdict.code);
  return verdict.code;
}

/** A valid verdict as the golden file records what the crate read. */
function contents(verdict) {
  const c = verdict.claims;
  return {
    member: toHex(c.member),
    issued: c.issued,
    expires: c.expires,
    serial: toHex(c.serial),
    name: c.name,
    union: c.union && toHex(c.union),
    device: verdict.device,
    revocations_seq: verdict.revocationsSeq,
    revocations_issued: verdict.revocationsIssued,
  };
}

/** The golden file's `{"CODE": "0-7 9"}` as index → code. */
function expand(groups) {
  const byIndex = new Map();
  for (const [code, runs] of Object.entries(groups)) {
    for (const run of runs.split(" ")) {
      const [a, b = a] = run.split("-").map(Number);
      for (let i = a; i <= b; i++) byIndex.set(i, code);
    }
  }
  return byIndex;
}

/** Compares every index's verdict with Rust's; reports the first few differences. */
function assertSameVerdicts(got, expected, what) {
  assert.equal(got.size, expected.size, `${what}: as many cases as Rust`);
  const differ = [...expected].filter(([i, code]) => got.get(i) !== code);
  assert.deepEqual(
    differ.slice(0, 10).map(([i, code]) => `${i}: Rust ${code}, JS ${got.get(i)}`),
    [],
    `${what}: ${differ.length} verdicts differ from Rust's`,
  );
}

test("the platform verifies Ed25519 (WebCrypto)", async () => {
  assert.equal(await supported(), true);
});

test("the golden card verifies with the golden lists, its claims as issued", async () => {
  assert.equal(golden.cards.golden, GOLDEN_CARD);
  const v = await holding();
  const ok = await v.verify(GOLDEN_CARD, TODAY);
  assert.equal(ok.ok, true, JSON.stringify(ok));
  assert.equal(ok.device, "d_device1");
  assert.equal(ok.revocationsSeq, 2);
  assert.equal(ok.revocationsIssued, TODAY);
  const c = ok.claims;
  assert.equal(c.name, "张三");
  assert.equal(toHex(c.member), "5a".repeat(16));
  assert.equal(toHex(c.serial), "0102030405060708");
  assert.equal(toHex(c.union), "6b".repeat(16));
  assert.deepEqual([c.issued, c.expires], [20782, 20782 + 3 * 365]);
  // The lists as read.
  assert.equal(v.trust.seq, 2);
  assert.deepEqual(
    v.trust.entries.map((e) => [e.device, e.removed, e.all, e.areas.map(toHex)]),
    [
      ["d_device1", null, false, ["21".repeat(16), "22".repeat(16)]],
      ["d_device2", TODAY, false, ["23".repeat(16)]],
      ["d_county", null, true, []],
    ],
  );
  assert.deepEqual(v.revocations.serials.map(toHex), ["05".repeat(8), "31".repeat(8), "42".repeat(8)]);
  // The kid is the first 8 bytes of SHA-256 of the key: the golden card names
  // the first device's (protected header bytes 7..15).
  assert.deepEqual(await kidOf(v.trust.entries[0].key), v.trust.entries[0].kid);
  assert.equal(toHex(v.trust.entries[0].kid), "fdf72a088f18f739");
});

test("decodeCard reads the claims, and refuses with the crate's codes and messages", () => {
  const c = decodeCard(GOLDEN_CARD);
  assert.equal(c.name, "张三");
  assert.equal(c.expires, TODAY + 3 * 365);
  const refused = (text) => {
    try {
      decodeCard(text);
    } catch (e) {
      assert.ok(e instanceof CardError);
      return [e.code, e.zh, e.en];
    }
    assert.fail(`${text} decoded`);
  };
  assert.deepEqual(refused(GOLDEN_CARD.toLowerCase()), ["CARD_PREFIX", ...golden.messages.CARD_PREFIX]);
  assert.deepEqual(refused(`${GOLDEN_CARD}a`), ["CARD_ENCODING", ...golden.messages.CARD_ENCODING]);
  assert.deepEqual(refused(golden.cards["es256"]), ["CARD_ALGORITHM", ...golden.messages.CARD_ALGORITHM]);
  assert.deepEqual(refused(golden.cards["claims-name-decomposed"]), ["CARD_MALFORMED", ...golden.messages.CARD_MALFORMED]);
  // Decoding does not check the signature: a forged card reads.
  assert.equal(decodeCard(golden.cards["forged"]).name, null);
  assert.throws(() => decodeCard(42), TypeError);
});

test("the messages are the crate's, code for code", () => {
  assert.deepEqual(
    Object.fromEntries(Object.entries(MESSAGES).map(([code, m]) => [code, [m.zh, m.en]])),
    golden.messages,
  );
});

test("every scenario gives the crate's verdicts, step by step", async () => {
  let steps = 0;
  for (const scenario of golden.scenarios) {
    const v = new Verifier(ROOT);
    for (const step of scenario.steps) {
      const what = `${scenario.name}: ${JSON.stringify(step.slice(0, 3))}`;
      if (step[0] === "verify") {
        // ["verify", card, day, verdict, what a valid card says]
        const verdict = await v.verify(golden.cards[step[1]], step[2]);
        assert.equal(codeOf(verdict), step[3], what);
        if (verdict.ok) assert.deepEqual(contents(verdict), step[4], what);
      } else {
        // ["trust" | "revocations", list file, verdict]
        const bytes = hexFile(step[1]);
        const got = await outcome(step[0] === "trust" ? v.acceptTrust(bytes) : v.acceptRevocations(bytes));
        assert.equal(got, step[2], what);
      }
      steps++;
    }
  }
  assert.ok(steps > 200, `${steps} steps`);
});

test("a revoked card is valid until the revocation list naming it arrives, then refused", async () => {
  const v = new Verifier(ROOT);
  await v.acceptTrust(hexFile("golden-trust.hex"));
  assert.equal((await v.verify(golden.cards.revoked, TODAY)).ok, true);
  await v.acceptRevocations(hexFile("golden-revocations.hex"));
  const refused = await v.verify(golden.cards.revoked, TODAY);
  assert.equal(refused.code, "CARD_REVOKED");
  assert.deepEqual([refused.zh, refused.en], golden.messages.CARD_REVOKED);
  // An older list is refused and changes nothing.
  assert.equal(await outcome(v.acceptRevocations(hexFile("golden-revocations-old.hex"))), "CARD_LIST_ROLLED_BACK");
  assert.equal((await v.verify(golden.cards.revoked, TODAY)).code, "CARD_REVOKED");
  assert.equal(v.revocations.seq, 2);
});

test("a card from a key not on the trust list, and days out of a card's validity, are refused", async () => {
  const v = await holding();
  assert.equal((await v.verify(golden.cards.stranger, TODAY)).code, "CARD_UNKNOWN_ISSUER");
  assert.equal((await v.verify(GOLDEN_CARD, TODAY + 3 * 365)).ok, true);
  assert.equal((await v.verify(GOLDEN_CARD, TODAY + 3 * 365 + 1)).code, "CARD_EXPIRED");
  assert.equal((await v.verify(GOLDEN_CARD, TODAY - 1)).code, "CARD_NOT_YET_VALID");
  await assert.rejects(v.verify(GOLDEN_CARD, -1), TypeError);
  await assert.rejects(v.verify(GOLDEN_CARD, 1.5), TypeError);
});

test("every single-bit flip of the golden card's bytes is refused, with the crate's code", async () => {
  const v = await holding();
  const raw = base45.decode(GOLDEN_CARD.slice(4));
  assert.equal(`UC1:${base45.encode(raw)}`, GOLDEN_CARD);
  const got = new Map();
  for (let i = 0; i < raw.length * 8; i++) {
    const b = raw.slice();
    b[i >> 3] ^= 1 << (i & 7);
    got.set(i, codeOf(await v.verify(`UC1:${base45.encode(b)}`, TODAY)));
  }
  assert.ok(![...got.values()].includes("OK"), "a flipped card accepted");
  assertSameVerdicts(got, expand(golden.flips.bytes), "byte flips");
});

test("every bit flip of the golden card's text that is still text is refused, with the crate's code", async () => {
  const v = await holding();
  const bytes = utf8.encode(GOLDEN_CARD);
  const got = new Map();
  for (let i = 0; i < bytes.length * 8; i++) {
    const b = bytes.slice();
    b[i >> 3] ^= 1 << (i & 7);
    let text;
    try {
      text = utf8Strict.decode(b);
    } catch {
      got.set(i, "NOT_UTF8");
      continue;
    }
    got.set(i, codeOf(await v.verify(text, TODAY)));
  }
  assert.ok(![...got.values()].includes("OK"), "a flipped text accepted");
  assertSameVerdicts(got, expand(golden.flips.text), "text flips");
});

test("every value of each of the first 20 bytes (the COSE head) gives the crate's code", async () => {
  const v = await holding();
  const raw = base45.decode(GOLDEN_CARD.slice(4));
  const got = new Map();
  for (let i = 0; i < 20 * 256; i++) {
    if (raw[i >> 8] === (i & 255)) continue;
    const b = raw.slice();
    b[i >> 8] = i & 255;
    got.set(i, codeOf(await v.verify(`UC1:${base45.encode(b)}`, TODAY)));
  }
  assert.ok(![...got.values()].includes("OK"), "an altered card accepted");
  assertSameVerdicts(got, expand(golden.flips.substitutions_of_the_first_20_bytes), "substitutions");
});

test("every single-bit flip of a signed list is refused as forged, and changes nothing", async () => {
  for (const [name, groups] of Object.entries(golden.list_flips)) {
    const list = hexFile(name);
    const got = new Map();
    for (let i = 0; i < list.length * 8; i++) {
      const b = list.slice();
      b[i >> 3] ^= 1 << (i & 7);
      const v = new Verifier(ROOT);
      got.set(i, await outcome(name.includes("trust") ? v.acceptTrust(b) : v.acceptRevocations(b)));
      assert.equal(v.trust.seq + v.revocations.seq, 0, `${name}: flip ${i} changed the verifier`);
    }
    assertSameVerdicts(got, expand(groups), `${name} flips`);
    assert.deepEqual(new Set(got.values()), new Set(["CARD_LIST_INVALID"]));
  }
});

test("older lists, and lists signed by another key, are refused", async () => {
  const v = await holding();
  assert.equal(await outcome(v.acceptTrust(hexFile("golden-trust-old.hex"))), "CARD_LIST_ROLLED_BACK");
  assert.equal(await outcome(v.acceptTrust(hexFile("golden-trust-same-seq.hex"))), "CARD_LIST_ROLLED_BACK");
  assert.equal(await outcome(v.acceptTrust(hexFile("golden-trust.hex"))), "OK");
  assert.equal(await outcome(v.acceptTrust(hexFile("golden-trust-stranger.hex"))), "CARD_LIST_INVALID");
  assert.equal(await outcome(v.acceptRevocations(hexFile("golden-trust.hex"))), "CARD_LIST_INVALID");
  assert.equal(await outcome(v.acceptRevocations(hexFile("golden-revocations-old.hex"))), "CARD_LIST_ROLLED_BACK");
  // The removed device stays removed.
  assert.equal((await v.verify(golden.cards["removed-device"], TODAY)).code, "CARD_ISSUER_REMOVED");
  // Another root refuses the county's lists.
  const other = new Verifier(`58${"66".repeat(31)}`); // the base point, as hex
  assert.equal(await outcome(other.acceptTrust(hexFile("golden-trust.hex"))), "CARD_LIST_INVALID");
  assert.throws(() => new Verifier(new Uint8Array(31)), TypeError);
});

test("small-order keys and R, and a non-canonical s, are refused as verify_strict does", async () => {
  // WebCrypto alone would accept these: they satisfy the cofactorless equation.
  const v = await holding("golden-trust-weak.hex");
  for (const name of ["weak-key", "weak-r", "malleable-s"]) {
    assert.equal((await v.verify(golden.cards[name], TODAY)).code, "CARD_FORGED", name);
  }
  // A key that is no point has the zero kid, and its cards no issuer.
  const entry = v.trust.entries.find((e) => e.device === "d_not_a_point");
  assert.equal(toHex(entry.kid), "00".repeat(8));
  assert.equal((await v.verify(golden.cards["not-a-point-kid-zero"], TODAY)).code, "CARD_UNKNOWN_ISSUER");
});

test("days are counted in China Standard Time, as card::day_of", () => {
  for (const [seconds, day] of golden.day_of) assert.equal(dayOf(seconds), day, `${seconds}`);
  // 2026-11-24T16:00:00Z is midnight of the 25th in Beijing: the golden day.
  assert.equal(dayOf(Date.UTC(2026, 10, 24, 16) / 1000), TODAY);
  assert.equal(dayOf(Date.UTC(2026, 10, 24, 16) / 1000 - 0.5), TODAY - 1);
  assert.ok(today() > TODAY - 400);
});

test("Base45 matches RFC 9285's examples and is strict", () => {
  assert.equal(base45.encode(utf8.encode("AB")), "BB8");
  assert.equal(base45.encode(utf8.encode("Hello!!")), "%69 VD92EX0");
  assert.equal(base45.encode(utf8.encode("base-45")), "UJCLQE7W581");
  assert.deepEqual(base45.decode("QED8WEX0"), utf8.encode("ietf!"));
  for (const bad of ["GGW", "ZZZ", "A", "abc", "BB8A", "BB\u00e9"]) assert.equal(base45.decode(bad), null, bad);
  for (let n = 0; n < 64; n++) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 151 + n * 7) & 255);
    assert.deepEqual(base45.decode(base45.encode(bytes)), bytes);
  }
});
