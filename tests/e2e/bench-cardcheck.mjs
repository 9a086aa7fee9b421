// How fast the JavaScript verifier (crates/server/src/cardcheck.js) checks
// a card, as a merchant's phone does offline: the golden card against the
// golden trust and revocation lists, N times, in Node (the same WebCrypto
// Ed25519 as chromium's BoringSSL underneath). Prints checks per second and
// the time per check. Not a test: a benchmark (BENCHMARKS.md).
//
//   node tests/e2e/bench-cardcheck.mjs [N]
import { readFileSync } from "node:fs";
import { Verifier, fromHex } from "../../crates/server/src/cardcheck.js";

const N = Number(process.argv[2] || 5000);
const FIXTURES = new URL("../../crates/card/tests/fixtures/", import.meta.url);
const read = (name) => readFileSync(new URL(name, FIXTURES), "utf8").trim();
const golden = JSON.parse(read("golden-verdicts.json"));
const v = new Verifier(read("golden-root.hex"));
const t0 = performance.now();
await v.acceptTrust(fromHex(read("golden-trust.hex")));
await v.acceptRevocations(fromHex(read("golden-revocations.hex")));
const lists = performance.now() - t0;
const card = golden.cards.golden;
const revoked = golden.cards.revoked;
for (let i = 0; i < 200; i++) await v.verify(card, golden.today); // warm up
const times = [];
let ok = 0;
const start = performance.now();
for (let i = 0; i < N; i++) {
  const s = performance.now();
  const r = await v.verify(i % 10 === 9 ? revoked : card, golden.today);
  times.push(performance.now() - s);
  if (r.ok) ok += 1;
}
const total = performance.now() - start;
times.sort((a, b) => a - b);
const q = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))].toFixed(3);
console.log(`lists accepted (signature checks of both): ${lists.toFixed(1)} ms`);
console.log(`${N} checks (one in ten a revoked card; ${ok} valid): ${(N / (total / 1000)).toFixed(0)} checks/s, p50 ${q(0.5)} ms, p99 ${q(0.99)} ms`);
if (ok !== N - Math.floor(N / 10)) process.exit(1);
