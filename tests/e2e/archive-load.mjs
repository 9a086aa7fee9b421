// The county's archive opened as another program would (docs: the
// `county::archive` module): the passphrase through Argon2id (@noble/hashes),
// ChaCha20-Poly1305 (Node's crypto), the ZIP (fflate), and every record
// loaded with the JS implementation of Automerge; the members, unions and
// entities then compared field by field with the ledgers the county
// exports (CSV, full numbers).
//
//   node archive-load.mjs <archive> <passphrase> <member.csv> <organisation.csv> <entity.csv>
import { readFileSync } from "node:fs";
import { createDecipheriv } from "node:crypto";
import { argon2id } from "@noble/hashes/argon2";
import { unzipSync, strFromU8 } from "fflate";
import * as Automerge from "@automerge/automerge";
import { check, failures } from "./lib.mjs";

const [archivePath, passphrase, memberCsv, unionCsv, entityCsv] = process.argv.slice(2);
const file = readFileSync(archivePath);

function open(file, passphrase) {
  const magic = "SJARCHIVE1\n";
  if (file.subarray(0, magic.length).toString("latin1") !== magic) throw new Error("not a Sanjian archive");
  const end = file.indexOf(0x0a, magic.length);
  const header = JSON.parse(file.subarray(magic.length, end).toString("utf8"));
  const aad = file.subarray(0, end + 1);
  const { kdf } = header;
  if (kdf.name !== "argon2id" || header.cipher !== "chacha20-poly1305") throw new Error("unknown kdf or cipher");
  const key = argon2id(new TextEncoder().encode(passphrase), Buffer.from(kdf.salt, "hex"), { t: kdf.t, m: kdf.m_kib, p: kdf.p, dkLen: 32, version: kdf.version });
  const body = file.subarray(end + 1);
  const decipher = createDecipheriv("chacha20-poly1305", Buffer.from(key), Buffer.from(header.nonce, "hex"), { authTagLength: 16 });
  decipher.setAAD(aad, { plaintextLength: body.length - 16 });
  decipher.setAuthTag(body.subarray(body.length - 16));
  return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]);
}

// A CSV export: a BOM, a header line, quoted cells where needed.
function csv(path) {
  const text = readFileSync(path, "utf8").replace(/^\uFEFF/, "");
  const rows = [];
  let row = [], cell = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"' && cell === "") quoted = true;
    else if (c === ",") { row.push(cell); cell = ""; }
    else if (c === "\n") { row.push(cell.replace(/\r$/, "")); rows.push(row); row = []; cell = ""; }
    else cell += c;
  }
  if (cell || row.length) { row.push(cell); rows.push(row); }
  const [head, ...body] = rows;
  return body.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i] ?? ""])));
}

const str = (v) => (v === undefined || v === null ? "" : String(v));
try {
  let wrong = null;
  try { open(file, passphrase + "x"); } catch (e) { wrong = e; }
  check(wrong !== null, "a wrong passphrase does not open the archive");
  const zip = unzipSync(new Uint8Array(open(file, passphrase)));
  const manifest = JSON.parse(strFromU8(zip["manifest.json"]));
  check(manifest.format === "sanjian-archive" && manifest.records.length > 0, `the manifest lists ${manifest.records.length} records of ${manifest.county}`);
  const docs = {};
  let scalar = 0, text = 0;
  for (const r of manifest.records) {
    const doc = Automerge.load(zip[r.file]);
    docs[r.id] = { ...r, doc };
    for (const v of Object.values(doc)) {
      if (typeof v === "string") text += 1;
      else if (v instanceof Automerge.ImmutableString) scalar += 1;
    }
  }
  check(Object.keys(docs).length === manifest.records.length, "every record loads with the JS Automerge");
  check(scalar > 0 && text === 0, `strings are plain scalar strings, never Text (${scalar} scalar, ${text} text)`);
  const live = (kind) => Object.values(docs).filter((d) => d.kind === kind && !d.deleted);
  const unionName = Object.fromEntries(live("union").map((d) => [d.id, str(d.doc.name)]));

  const members = csv(memberCsv);
  const byId = new Map(live("member").map((d) => [str(d.doc.resident_id), d.doc]));
  check(members.length === byId.size, `a member document for every ledger row (${byId.size} / ${members.length})`);
  let same = 0;
  for (const row of members) {
    const m = byId.get(row["公民身份号码"]);
    if (m && str(m.name) === row["姓名"] && unionName[str(m.union_id)] === row["所在工会"] && str(m.joined_on) === row["入会日期"]
      && str(m.employer_name) === row["工作单位"] && str(m.phone) === row["手机号码"]) same += 1;
    else if (same < 3) console.error("differs:", row["姓名"], m ? JSON.stringify({ name: str(m.name), union: unionName[str(m.union_id)], joined: str(m.joined_on) }) : "(no document)");
  }
  check(same === members.length, `every member's name, ID, union, joining date, employer and phone agree (${same})`);

  const unions = csv(unionCsv);
  const byName = new Map(live("union").map((d) => [str(d.doc.name), d.doc]));
  const unionsSame = unions.filter((row) => { const u = byName.get(row["工会名称"]); return u && String(u.workers) === row["职工人数"] && String(u.women_workers) === row["女职工人数"] && str(u.founded_on) === row["成立日期"]; }).length;
  check(unionsSame === unions.length && byName.size === unions.length, `every union's name and figures agree (${unionsSame} / ${unions.length})`);

  const entities = csv(entityCsv);
  const byCode = new Map(live("entity").map((d) => [str(d.doc.credit_code) || str(d.doc.name), d.doc]));
  const entitiesSame = entities.filter((row) => { const e = byCode.get(row["统一社会信用代码"] || row["单位名称"]); return e && str(e.name) === row["单位名称"] && String(e.workers) === row["职工人数"] && unionName[str(e.union_id)] === (row["覆盖工会"] || undefined); }).length;
  check(entitiesSame === entities.length, `every entity's name, workers and covering union agree (${entitiesSame} / ${entities.length})`);
} catch (e) {
  check(false, "the run stopped: " + (e.stack || e));
}
console.log(JSON.stringify({ failures }));
process.exit(failures ? 1 : 0);
