// The real Tauri app end to end, under Xvfb through tauri-driver (WebDriver
// over Debian's WebKitWebDriver). Run it inside `xvfb-run -a`.
//
//   node app-tauri.mjs <sanjian binary> <sanjian-app binary> <work dir> [screenshot dir]
//
// Two app instances (each its own data directory) and a county server:
// enrol; with the server stopped register an entity, its union and a
// member and issue the member's card; start the server and sync; the
// second instance finds the records (it can only have them from the
// server); both edit the member while offline, sync, and converge; the
// card is accepted by the server's public verify page in chromium.
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { County, check, checkLogsHoldNoPersonalData, failures, residentId, sleep, stop } from "./lib.mjs";

const [bin, appBin, work, shots] = process.argv.slice(2);
if (!bin || !appBin || !work) {
  console.error("usage: xvfb-run -a node app-tauri.mjs SANJIAN SANJIAN_APP WORK_DIR [SHOT_DIR]");
  process.exit(2);
}
if (shots) mkdirSync(shots, { recursive: true });
const here = dirname(fileURLToPath(import.meta.url));

function freePort() {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitPort(port, ms = 20000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const ok = await fetch(`http://127.0.0.1:${port}/status`).then(() => true, () => false);
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing answers on port ${port}`);
}

// The W3C web element reference key.
const ELEMENT = "element-6066-11e4-a52f-4ae9c6d51f2d";

// A small W3C WebDriver client: just what these tests use.
class Driver {
  static async start(label, dataDir) {
    const port = await freePort();
    const nativePort = await freePort();
    const proc = spawn("tauri-driver", ["--port", String(port), "--native-port", String(nativePort)], { stdio: ["ignore", "pipe", "pipe"] });
    const log = [];
    proc.stdout.on("data", (d) => log.push(String(d)));
    proc.stderr.on("data", (d) => log.push(String(d)));
    // Both ports: tauri-driver's and the native WebKitWebDriver's behind it.
    await waitPort(port);
    await waitPort(nativePort);
    const d = new Driver(label, `http://127.0.0.1:${port}`, proc, log);
    const caps = { "tauri:options": { application: appBin, args: ["--data", dataDir] }, "wdio:enforceWebDriverClassic": true };
    const v = await d.raw("POST", "/session", { capabilities: { alwaysMatch: caps } });
    d.session = v.sessionId;
    return d;
  }

  constructor(label, base, proc, log) {
    Object.assign(this, { label, base, proc, log });
  }

  async raw(method, path, body) {
    const r = await fetch(this.base + path, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await r.json();
    if (json.value && json.value.error) throw new Error(`${this.label} ${method} ${path}: ${json.value.error}: ${json.value.message}`);
    return json.value;
  }

  cmd(method, path, body) {
    return this.raw(method, `/session/${this.session}${path}`, body);
  }

  async find(css) {
    const v = await this.cmd("POST", "/element", { using: "css selector", value: css });
    return v[ELEMENT] ?? Object.values(v)[0];
  }

  async all(css) {
    const v = await this.cmd("POST", "/elements", { using: "css selector", value: css });
    return v.map((e) => e[ELEMENT] ?? Object.values(e)[0]);
  }

  exec(script, ...args) {
    return this.cmd("POST", "/execute/sync", { script, args });
  }

  // Runs a script that ends by calling its last argument with the result.
  execAsync(script, ...args) {
    return this.cmd("POST", "/execute/async", { script, args });
  }

  async wait(css, ms = 30000) {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = await this.all(css).catch(() => []);
      if (found.length) return found[0];
      if (Date.now() > deadline) throw new Error(`${this.label}: ${css} did not appear`);
      await sleep(150);
    }
  }

  async waitFor(fn, what, ms = 30000, ...args) {
    const deadline = Date.now() + ms;
    for (;;) {
      if (await this.exec(`return (${fn})(...arguments)`, ...args).catch(() => false)) return;
      if (Date.now() > deadline) throw new Error(`${this.label}: timed out waiting for ${what}`);
      await sleep(200);
    }
  }

  async click(css) {
    const el = await this.wait(css);
    await this.cmd("POST", `/element/${el}/click`, {});
  }

  async type(css, text) {
    const el = await this.wait(css);
    await this.cmd("POST", `/element/${el}/clear`, {});
    await this.cmd("POST", `/element/${el}/value`, { text: String(text) });
  }

  async text(css) {
    const el = await this.wait(css);
    return this.cmd("GET", `/element/${el}/text`);
  }

  // Sets a select's value as a tap on an option would.
  async choose(css, value) {
    await this.wait(css);
    await this.exec(
      `const s = document.querySelector(arguments[0]);
       s.value = arguments[1] === 'first' ? [...s.options].find((o) => o.value).value : arguments[1];
       s.dispatchEvent(new Event('change'));`,
      css,
      value,
    );
  }

  go(hash) {
    return this.exec("location.hash = arguments[0];", hash);
  }

  async shot(name) {
    if (!shots) return;
    const png = await this.cmd("GET", "/screenshot");
    writeFileSync(join(shots, `${name}.png`), Buffer.from(png, "base64"));
  }

  async quit() {
    await this.cmd("DELETE", "").catch(() => {});
    await stop(this.proc);
  }
}

const fid = (name) => `#f-${name.replace(/\./g, "-")}`;

async function fillForm(d, fields) {
  for (const [name, value] of fields) {
    const tag = await d.exec("const n = document.querySelector(arguments[0]); return n ? n.tagName : null;", fid(name));
    if (tag === "SELECT") await d.choose(fid(name), value);
    else await d.type(fid(name), value);
  }
}

async function saveAndOpen(d, kind) {
  await d.click("#save");
  await d.wait(`article.record[data-kind="${kind}"]`);
  return d.exec("return location.hash.split('/').pop();");
}

async function setup(d, text) {
  await d.wait("#setup-start");
  await d.type("#pin", "258014");
  await d.type("#pin2", "258014");
  await d.type("#enrolment", text);
  await d.click("#setup-start");
  await d.wait(".scope");
}

async function syncNow(d) {
  const before = await d.exec("return document.querySelector('#sync').dataset.at;");
  await d.click("#sync");
  await d.waitFor(
    (prev) => {
      const p = document.querySelector("#sync");
      return p.dataset.state === "synced" && p.dataset.at !== prev;
    },
    "a finished sync",
    30000,
    before,
  );
}

const county = new County(bin, work).prepare(300);
await county.start();
let a = null;
let b = null;
try {
  a = await Driver.start("app A", join(work, "app-a"));
  b = await Driver.start("app B", join(work, "app-b"));

  // ---- enrol both against the real server -------------------------------------------
  await a.wait("#setup-start");
  check((await a.exec("return typeof window.__TAURI__.core.invoke")) === "function", "the screens run inside the Tauri webview (IPC backend)");
  await a.shot("01-first-run");
  await setup(a, county.enrol("张三"));
  await setup(b, county.enrol("李四"));
  await a.waitFor(() => document.querySelector("#sync").dataset.state === "synced", "A's first sync");
  await b.waitFor(() => document.querySelector("#sync").dataset.state === "synced", "B's first sync");
  check((await a.text(".scope")).includes("张三"), "app A is enrolled and synced");
  await a.go("#/home");
  await a.wait(".todo");
  await a.shot("02-home");

  // ---- offline: entity → union → member → card ---------------------------------------
  await county.stop();
  await a.go("#/door");
  await a.click("#door-new-entity");
  await a.wait('form[data-kind="entity"]');
  await fillForm(a, [["name", "光明食品有限公司"], ["unit_kind", "enterprise"], ["ownership", "private"], ["industry", "catering"], ["workers", 36], ["women_workers", 20]]);
  await a.shot("03-entity-form");
  const entityId = await saveAndOpen(a, "entity");
  await a.click("#found-union");
  await a.wait('form[data-kind="union"]');
  const unionId = await saveAndOpen(a, "union");
  await a.wait('#findings li[data-rule="CHAIR_VACANT"] #add-chair');
  check(true, "the new union asks for its chair");
  await a.click("#add-member");
  await a.wait('form[data-kind="member"]');
  const memberRid = residentId("1988-02-09", 57);
  await fillForm(a, [["name", "刘海燕"], ["resident_id", memberRid], ["ethnicity", "汉族"], ["education", "bachelor"], ["political_status", "masses"]]);
  await a.waitFor(() => document.querySelector("#f-birth_date").value === "1988-02-09", "the birth date derived from the ID");
  await a.shot("04-member-form");
  const memberId = await saveAndOpen(a, "member");
  await a.shot("05-member-page");
  await a.click("#issue-card");
  await a.wait("#member-card .qr svg");
  // The card's own text, not WebDriver's rendered text: base45 has spaces,
  // and rendering collapses a run of them (the card would be corrupted).
  await a.wait(".card-text");
  const card = await a.exec("return document.querySelector('.card-text').textContent;");
  check(card.startsWith("UC1:"), "a card issued in the app while offline");
  await a.shot("06-card");
  await a.go("#/verify");
  await a.type("#card-text", card);
  await a.click("#verify");
  await a.wait("#verdict");
  check((await a.exec("return document.querySelector('#verdict').dataset.valid")) === "true", "the app verifies its card offline");
  await a.shot("07-verify");
  // The card shown again is the card issued (re-showing never re-issues).
  await a.go(`#/record/${memberId}`);
  await a.click("#show-card");
  await a.wait("#member-card .qr svg");
  check((await a.exec("return document.querySelector('.card-text').textContent;")) === card, "the card shown again in the app is the card issued");
  // Two more members of the union, from the member just registered: union,
  // workplace and place carried over.
  await a.go(`#/record/${memberId}`);
  for (const [name, born, seq] of [["孙丽娟", "1992-03-14", 61], ["钱志明", "1985-11-02", 63]]) {
    await a.click("#next-member");
    await a.wait('form[data-kind="member"] #save');
    await a.waitFor(() => document.querySelector("#f-employer_name").value === "光明食品有限公司", "the next member starts with the workplace");
    await fillForm(a, [["name", name], ["resident_id", residentId(born, seq)], ["education", "senior_high"]]);
    await saveAndOpen(a, "member");
  }
  check(true, "three members registered at the door, the next two from the first");
  await a.waitFor(() => document.querySelector("#sync").dataset.state === "offline", "A notices it is offline");
  await a.waitFor(() => document.querySelector("#sync").textContent.includes("待上传"), "the outbox count", 10000).then(
    () => check(true, "offline, changes wait in the outbox"),
    () => check(false, "offline, changes wait in the outbox"),
  );
  await a.shot("08-offline");

  // ---- the census at the door, still offline: the new entity is not yet
  // visited; a visit with a position and a photo -------------------------------------------
  await a.go("#/home");
  await a.wait('.todo[data-todo="todoNotVisited"]');
  const onList = await a.exec(
    "return [...document.querySelectorAll('.todo[data-todo=\"todoNotVisited\"] li a')].some((l) => l.getAttribute('href').endsWith(arguments[0]));",
    entityId,
  );
  check(onList, "the entity registered offline is on the not-visited list");
  await a.go(`#/record/${entityId}`);
  await a.click("#record-visit");
  await a.wait('form[data-kind="visit"]');
  await fillForm(a, [["outcome", "registered"]]);
  await a.type("#f-position-lat", "33.4901");
  await a.type("#f-position-lon", "116.2104");
  const visitId = await saveAndOpen(a, "visit");
  // A photo from the webview's own canvas, attached through the app's IPC.
  const attached = await a.execAsync(
    `const done = arguments[arguments.length - 1];
     const visit = arguments[0];
     const c = document.createElement('canvas');
     c.width = 1200; c.height = 900;
     const g = c.getContext('2d');
     g.fillStyle = '#c8102e'; g.fillRect(0, 0, 1200, 900);
     g.fillStyle = '#fff'; g.font = '120px sans-serif'; g.fillText('光明食品', 300, 450);
     const invoke = window.__TAURI__.core.invoke;
     (async () => {
       const got = await invoke('call', { cmd: 'attach_photo', args: { data: c.toDataURL('image/jpeg', 0.85), taken_at: '2026-11-30 10:00' } });
       const rec = await invoke('call', { cmd: 'get', args: { id: visit } });
       rec.record.data.photos = { [got.hash]: got.photo };
       await invoke('call', { cmd: 'save', args: { record: rec.record, id: visit } });
       const bytes = await invoke('call', { cmd: 'photo', args: { hash: got.hash } });
       done({ hash: got.hash, data: bytes.data });
     })().catch((e) => done({ error: String((e && e.message) || JSON.stringify(e)) }));`,
    visitId,
  );
  check(attached && attached.hash && !attached.error, `a photo attached to the visit in the real app (${attached && (attached.error || attached.hash.slice(0, 8))})`);
  await a.go("#/home");
  await a.go(`#/record/${visitId}`);
  await a.wait("#photos .thumb img");
  await a.shot("08b-visit");
  await a.go("#/home");
  await a.wait('.todo[data-todo="todoNotVisited"]');
  const stillListed = await a.exec(
    "return [...document.querySelectorAll('.todo[data-todo=\"todoNotVisited\"] li a')].some((l) => l.getAttribute('href').endsWith(arguments[0]));",
    entityId,
  );
  check(!stillListed, "once visited, it leaves the list");

  // ---- the server returns: sync; B finds the records through the server ----------------
  await county.start();
  await syncNow(a);
  check(!(await a.text("#sync")).includes("待上传"), "A's outbox is empty after the sync");
  let found = false;
  for (let i = 0; i < 20 && !found; i++) {
    await syncNow(b);
    await b.go("#/records/entity");
    await b.wait("#search");
    await b.type("#search", "光明食品");
    found = await b.wait(`a.row[data-id="${entityId}"]`, 2000).then(() => true, () => false);
  }
  check(found, "the entity registered offline on A reached the server and B");
  for (const id of [unionId, memberId]) {
    await b.go(`#/record/${id}`);
    await b.wait(`article.record[data-id="${id}"]`);
  }
  check(true, "so did its union and member");
  // The photo follows its visit to B, byte for byte.
  let photoOnB = null;
  for (let i = 0; i < 20 && !photoOnB; i++) {
    const got = await b.execAsync(
      `const done = arguments[arguments.length - 1];
       window.__TAURI__.core.invoke('call', { cmd: 'photo', args: { hash: arguments[0] } }).then(done, (e) => done({ state: 'error' }));`,
      attached.hash,
    );
    if (got.state === "present") photoOnB = got.data;
    else await syncNow(b);
  }
  check(photoOnB === attached.data, "the visit's photo reached B byte for byte");
  await b.go(`#/record/${visitId}`);
  await b.wait("#photos .thumb img");
  check(true, "and B shows it on the visit");
  execFileSync("node", [join(here, "verify-page.mjs"), county.base, card, "valid"], { stdio: "inherit" });
  check(true, "the server's public verify page accepts the card issued in the app");

  // ---- concurrent edits of the same member on both apps, offline --------------------------
  await county.stop();
  for (const [d, value] of [[a, "光明一厂"], [b, "光明二厂"]]) {
    await d.go(`#/edit/${memberId}`);
    await d.wait('form[data-kind="member"]');
    await fillForm(d, [["employer_name", value]]);
    await d.click("#save");
    await d.wait('article.record[data-kind="member"]');
  }
  await county.start();
  for (const d of [a, b, a]) await syncNow(d);
  const shown = [];
  for (const d of [a, b]) {
    await d.go("#/home");
    await d.wait(".scope");
    await d.go(`#/record/${memberId}`);
    await d.wait('#conflicts [data-field="employer_name"]');
    shown.push(await d.text('.kv[data-field="employer_name"] dd'));
  }
  check(shown[0] === shown[1], `both apps show the same value and the conflict (${shown.join(" / ")})`);
  await b.shot("09-conflict");
  await b.exec(
    `const li = [...document.querySelectorAll('#conflicts [data-field="employer_name"] li')].find((n) => n.textContent.includes('光明二厂'));
     li.querySelector('button.choose').click();`,
  );
  await b.waitFor(() => !document.querySelector("#conflicts") && document.querySelector(".kv[data-field='employer_name'] dd"), "the settled record");
  await syncNow(b);
  await syncNow(a);
  await a.go("#/home");
  await a.wait(".scope");
  await a.go(`#/record/${memberId}`);
  await a.wait('article.record[data-kind="member"]');
  const settled = await a.text('.kv[data-field="employer_name"] dd');
  const conflictLeft = await a.exec("return !!document.querySelector('#conflicts')");
  check(settled === "光明二厂" && !conflictLeft, `both apps converge on the value chosen on B (${settled})`);

  // ---- English, then the lock screen --------------------------------------------------------
  await a.click("#lang-toggle");
  await a.go("#/home");
  await a.wait(".scope");
  check((await a.text('[data-nav="navHome"]')) === "Home", "English in the real app");
  await a.shot("10-home-english");
  await a.click("#lang-toggle");
  await a.click("#lock");
  await a.wait("#unlock-pin");
  await a.shot("11-locked");
  await a.type("#unlock-pin", "258014");
  await a.click("#unlock");
  await a.wait(".scope");
  check(true, "the PIN unlocks the real app");
} catch (e) {
  check(false, "the run stopped: " + (e.stack || e));
  for (const d of [a, b]) if (d) console.error(d.label + " driver log:\n" + d.log.join("").slice(-3000));
} finally {
  for (const d of [a, b]) if (d) await d.quit();
  await county.stop();
  // Everything the apps (through tauri-driver) and the server printed.
  checkLogsHoldNoPersonalData([...[a, b].filter((d) => d).map((d) => d.log), ...(county.logs || [])]);
}
console.log(JSON.stringify({ failures }));
process.exit(failures ? 1 : 0);
