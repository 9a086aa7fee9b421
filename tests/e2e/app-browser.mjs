// The field app's screens in Debian's chromium (playwright-core), against
// the real backend: `sanjian app-web` (the same Rust commands the Tauri app
// invokes) enrolled with a real county server.
//
//   node app-browser.mjs <sanjian binary> <ui dir> <work dir> [screenshot dir]
//
// Covers: first run (PIN rules, enrolment), every form's live validation,
// drafts, the door flow (entity → its union → a member → a card), card
// verification by text and by picture, the duplicate prompt, search, a
// conflict made by two devices offline and settled, the language switch,
// the lock screen, and both tablet orientations. Exits 1 on any failure.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { County, check, checkLogsHoldNoPersonalData, failures, residentId, sleep, startAppWeb, stop } from "./lib.mjs";

const [bin, uiDir, work, shots] = process.argv.slice(2);
if (!bin || !uiDir || !work) {
  console.error("usage: node app-browser.mjs SANJIAN UI_DIR WORK_DIR [SHOT_DIR]");
  process.exit(2);
}
if (shots) mkdirSync(shots, { recursive: true });

const county = new County(bin, work).prepare(300);
await county.start();
const appA = await startAppWeb(bin, join(work, "app-a"), uiDir);
const appB = await startAppWeb(bin, join(work, "app-b"), uiDir);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});

const pageErrors = [];
async function newPage(url, viewport = { width: 1280, height: 800 }) {
  const page = await browser.newPage({ viewport });
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.setDefaultTimeout(20000);
  await page.goto(url + "/");
  return page;
}

async function shot(page, name) {
  if (shots) await page.screenshot({ path: join(shots, `${name}.png`) });
}

const fid = (name) => `#f-${name.replace(/\./g, "-")}`;

// Fills a form field whatever its control.
async function fill(page, name, value) {
  const sel = fid(name);
  const tag = await page.$eval(sel, (n) => `${n.tagName}:${n.type}`);
  if (tag.startsWith("SELECT")) {
    if (value === "first") {
      const v = await page.$eval(sel, (n) => [...n.options].find((o) => o.value).value);
      await page.selectOption(sel, v);
    } else await page.selectOption(sel, value);
  } else if (tag === "INPUT:checkbox") {
    await page.setChecked(sel, !!value);
  } else if (await page.$(`${sel}[type=search]`) && (await page.$(`.field[data-field="${name}"] .ref`))) {
    await page.fill(sel, value);
    await page.click(`.field[data-field="${name}"] .ref-results button.option`);
  } else {
    await page.fill(sel, String(value));
  }
}

async function issueCode(page, field) {
  const node = await page.waitForSelector(`.field[data-field="${field}"] .issue`, { timeout: 5000 }).catch(() => null);
  return node ? node.getAttribute("data-code") : null;
}

// Asks for a sync and waits until a newer session has finished.
async function syncNow(page) {
  const before = await page.getAttribute("#sync", "data-at");
  await page.click("#sync");
  await page.waitForFunction(
    (prev) => {
      const pill = document.querySelector("#sync");
      return pill.dataset.state === "synced" && pill.dataset.at !== prev;
    },
    before,
    { timeout: 30000 },
  );
}

async function setup(page, text) {
  await page.waitForSelector("#setup-start");
  await page.fill("#pin", "258014");
  await page.fill("#pin2", "258014");
  await page.fill("#enrolment", text);
  await page.click("#setup-start");
  await page.waitForSelector(".scope");
}

let card = null;
try {
  // ---- first run -------------------------------------------------------------
  const a = await newPage(appA.url);
  await a.waitForSelector("#setup-start");
  check((await a.title()) === "三建 · 工会组建登记", "Chinese by default");
  await shot(a, "01-first-run");
  await a.fill("#pin", "123456");
  await a.fill("#pin2", "123456");
  await a.click("#setup-start");
  check(await a.waitForSelector('[data-code="PIN_TOO_SIMPLE"]').catch(() => null), "a run of digits is refused as a PIN");
  await a.fill("#pin", "258014");
  await a.fill("#pin2", "258014");
  await a.fill("#enrolment", "SJE1:http://127.0.0.1:9/#nope");
  await a.click("#setup-start");
  check(await a.waitForSelector(".out .banner.bad").catch(() => null), "an enrolment the server cannot confirm is refused in plain words");
  await a.fill("#enrolment", county.enrol("张三"));
  await a.click("#setup-start");
  await a.waitForSelector(".scope");
  check((await a.textContent(".scope")).includes("张三"), "home names the enrolled surveyor");
  await a.waitForSelector('#sync[data-state="synced"]', { timeout: 30000 });
  check(true, "the first sync ran by itself");
  const township = await a.waitForFunction((name) => document.querySelector(".scope").textContent.includes(name), county.township).catch(() => null);
  check(township, "after it, home shows the surveyor's township and its records");
  await a.reload();
  await a.waitForSelector('.todo[data-todo="todoNeedOwnUnion"] .count');
  check(Number(await a.textContent('.todo[data-todo="todoNeedOwnUnion"] .count')) >= 0, "the worklist is on the home screen");
  // Today's work first: the door flow's button at the top, the lists folded
  // but for today's (returned, visit again, not visited).
  const doorTop = await a.$eval("#home-door", (n) => n.getBoundingClientRect().top);
  check(doorTop < 250, `上门登记 is at the top of the home screen (${Math.round(doorTop)}px)`);
  check(!(await a.$eval('.todo[data-todo="todoLiuyou"]', (n) => n.open)), "lists beyond today's are folded");
  const more = await a.$(".todo .more");
  if (more) {
    const todo = await more.evaluate((n) => n.closest(".todo").dataset.todo);
    const total = Number(await a.textContent(`.todo[data-todo="${todo}"] .count`));
    await a.$eval(`.todo[data-todo="${todo}"]`, (n) => { n.open = true; });
    await more.click();
    await a.waitForFunction((k) => !document.querySelector(`.todo[data-todo="${k}"] .more`), todo);
    check((await a.$$(`.todo[data-todo="${todo}"] li`)).length === total, `还有N项 opens the whole ${todo} list (${total})`);
  }
  const homeHeight = await a.evaluate(() => document.documentElement.scrollHeight);
  check(homeHeight < 2500, `the home screen is shorter (${homeHeight}px)`);
  await a.click("#home-door");
  await a.waitForSelector("#door-new-entity");
  await a.goto(`${appA.url}/#/home`);
  await a.waitForSelector(".scope");
  check((await a.$$("table.progress tbody tr")).length >= 1, "the township's progress against its targets is shown");
  await shot(a, "02-home");

  // ---- language ---------------------------------------------------------------
  // The screen redraws after a switch: wait for the words, not the control.
  const label = (text) => a
    .waitForFunction((t) => (document.querySelector('.field[data-field="resident_id"] label') || {}).textContent?.includes(t), text)
    .then(() => true, () => false);
  await a.click("#lang-toggle");
  check((await a.textContent('[data-nav="navHome"]')) === "Home", "English after the switch");
  await a.goto(appA.url + "/#/new/member");
  check(await label("Resident ID"), "form labels in English");
  await a.click("#lang-toggle");
  check(await label("公民身份号码"), "and back to Chinese");

  // ---- every form checks as the surveyor types ---------------------------------
  const bad = {
    entity: async () => {
      await fill(a, "workers", 10);
      await fill(a, "women_workers", 12);
      return ["women_workers", "WOMEN_EXCEED_WORKERS"];
    },
    union: async () => {
      await fill(a, "founded_on", "2099-01-01");
      return ["founded_on", "DATE_IN_FUTURE"];
    },
    member: async () => {
      await fill(a, "resident_id", "110105199003071238");
      return ["resident_id", "ID_CHECKSUM"];
    },
    cadre: async () => {
      await fill(a, "resident_id", "110105199003071238");
      return ["resident_id", "ID_CHECKSUM"];
    },
    transfer: async () => {
      await fill(a, "date", "2099-01-01");
      return ["date", "DATE_IN_FUTURE"];
    },
    hardship: async () => {
      await fill(a, "household_size", -1);
      return ["household_size", "HOUSEHOLD_SIZE"];
    },
  };
  for (const [kind, make] of Object.entries(bad)) {
    await a.goto(`${appA.url}/#/new/${kind}`);
    await a.waitForSelector(`form[data-kind="${kind}"] #save`);
    await a.click("#save");
    const first = kind === "transfer" ? "member_id" : "name";
    check((await issueCode(a, first)) === "REQUIRED", `${kind}: an empty required field is marked on save`);
    check(await a.$('.out [data-code="RECORD_INVALID"]'), `${kind}: the save is refused with a clear message`);
    const [field, code] = await make();
    await a.waitForSelector(`.field[data-field="${field}"] .issue[data-code="${code}"]`).catch(() => null);
    check((await a.$(`.field[data-field="${field}"] .issue[data-code="${code}"]`)) !== null, `${kind}: ${code} beside ${field} while typing`);
    if (kind === "member") await shot(a, "03-member-form-checks");
  }
  // Drafts survive a reload (they are kept in the encrypted store).
  await a.goto(`${appA.url}/#/new/member`);
  await a.waitForSelector("#draft-restored");
  check((await a.inputValue(fid("resident_id"))) === "110105199003071238", "a draft comes back after leaving the form");
  await a.click("#draft-restored button");
  await a.waitForSelector("#draft-restored", { state: "detached" });
  await a.waitForSelector("#save");
  check((await a.inputValue(fid("resident_id"))) === "", "a discarded draft is gone");

  // ---- the door flow: entity → its union → a member → a card -------------------------
  await a.goto(`${appA.url}/#/door`);
  await a.click("#door-new-entity");
  await a.waitForSelector('form[data-kind="entity"]');
  await fill(a, "name", "红星包装有限公司");
  await fill(a, "unit_kind", "enterprise");
  await fill(a, "ownership", "private");
  await fill(a, "industry", "manufacturing");
  await fill(a, "place.township", "first");
  await fill(a, "workers", 40);
  await fill(a, "women_workers", 12);
  await fill(a, "contact_phone", "0527 8312 3456");
  await a.click("#save");
  await a.waitForSelector('article.record[data-kind="entity"]');
  check(true, "the entity is saved and its page opens");
  check((await a.textContent('.kv[data-field="contact_phone"] dd')) === "0527-83123456", "a company's landline is kept, written the usual way");
  await a.click("#found-union");
  await a.waitForSelector('form[data-kind="union"]');
  check((await a.inputValue(fid("name"))) === "红星包装有限公司工会", "the union form starts from the entity");
  await a.click("#save");
  await a.waitForSelector('article.record[data-kind="union"]');
  check((await a.$$('[data-list="entity"] li')).length === 1, "the new union covers the entity");
  await a.click("#add-member");
  await a.waitForSelector('form[data-kind="member"]');
  check((await a.inputValue(fid("employer_name"))) === "红星包装有限公司", "a member of a one-workplace union starts employed there");
  check((await a.inputValue(fid("ethnicity"))) === "汉族", "民族 starts as 汉族");
  const idChen = residentId("1991-06-15", 142);
  await fill(a, "name", "陈晓红");
  await fill(a, "resident_id", idChen);
  await fill(a, "ethnicity", "汉族");
  await fill(a, "education", "college");
  await fill(a, "political_status", "masses");
  await a.waitForSelector(`${fid("sex")}[data-derived="true"]`);
  check((await a.inputValue(fid("birth_date"))) === "1991-06-15", "the birth date is filled from the ID number");
  await a.click("#save");
  await a.waitForSelector('article.record[data-kind="member"]');
  check((await a.textContent('.kv[data-field="sex"] dd')) === "女", "the member's sex comes from the ID number");
  const memberUrl = a.url();
  await a.click("#next-member");
  await a.waitForSelector('form[data-kind="member"]');
  check((await a.inputValue(fid("employer_name"))) === "红星包装有限公司" && (await a.inputValue(fid("name"))) === "",
    "the next member's form carries the union and workplace, and nothing of the person just saved");
  await a.goto(memberUrl);
  await a.waitForSelector('article.record[data-kind="member"]');
  const shownId = (await a.textContent('.kv[data-field="resident_id"] dd .masked')).trim();
  check(shownId === idChen.slice(0, 6) + "*".repeat(12), `the member page shows the ID number masked (${shownId})`);
  await a.click('.kv[data-field="resident_id"] dd .reveal');
  check((await a.textContent('.kv[data-field="resident_id"] dd .masked')).trim() === idChen, "and whole after 显示");
  check(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/.test((await a.textContent(".history .when")) || ""), `history dates are written as on records (${await a.textContent(".history .when")})`);
  await shot(a, "04-member-page");
  await a.click("#issue-card");
  await a.waitForSelector("#member-card .qr svg");
  card = (await a.textContent(".card-text")).trim();
  check(card.startsWith("UC1:"), "a card is issued on the spot");
  check((await a.textContent(".card-union")) === "红星包装有限公司工会", "the card's face names the member's union");
  await shot(a, "05-card");
  // Shown again later: the same card, not a new one (which would revoke it).
  await a.goto(memberUrl);
  await a.waitForSelector("#show-card");
  await a.click("#show-card");
  await a.waitForSelector("#member-card .qr svg");
  check((await a.textContent(".card-text")).trim() === card, "the card shown again is the card issued, unchanged");
  const held = await (await fetch(`${appA.url}/api/get`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ id: memberUrl.split("/").pop() }) })).json();
  check((await a.textContent("#member-card")).includes(held.record.data.card_number), "the member's record still names that card");
  const qrPng = await (await a.$("#member-card .qr")).screenshot();

  // ---- verify: by text, by picture, tampered ------------------------------------------
  await a.goto(`${appA.url}/#/verify`);
  await a.fill("#card-text", card);
  await a.click("#verify");
  await a.waitForSelector("#verdict");
  check((await a.getAttribute("#verdict", "data-valid")) === "true", "the card verifies offline on the device");
  check((await a.textContent("#verdict")).includes("陈晓红"), "the verdict names the member");
  await a.fill("#card-text", "");
  await a.setInputFiles("#card-image", { name: "card.png", mimeType: "image/png", buffer: qrPng });
  await a.waitForFunction(() => document.querySelector("#card-text").value.startsWith("UC1:"));
  await a.waitForSelector('#verdict[data-valid="true"]');
  check(true, "a picture of the card's QR code verifies too");
  await shot(a, "06-verify");
  await a.fill("#card-text", card.slice(0, -3) + (card.endsWith("AAA") ? "BBB" : "AAA"));
  await a.click("#verify");
  await a.waitForSelector('#verdict[data-valid="false"]');
  check(true, "a tampered card is refused with its reason");

  // ---- duplicates ------------------------------------------------------------------
  await a.goto(memberUrl);
  const unionLink = await a.getAttribute('.kv[data-field="union_id"] a', "href");
  const unionId = unionLink.split("/").pop();
  await a.goto(`${appA.url}/#/new/member?union_id=${unionId}`);
  await a.waitForSelector('form[data-kind="member"]');
  await fill(a, "name", "陈晓红");
  await fill(a, "resident_id", residentId("1991-06-15", 144));
  await fill(a, "ethnicity", "汉族");
  await fill(a, "education", "college");
  await fill(a, "political_status", "masses");
  await fill(a, "joined_on", "2026-05-01");
  await fill(a, "place.township", "first");
  await a.waitForSelector(".duplicates:not([hidden]) li");
  check((await a.textContent(".duplicates")).includes("陈晓红"), "same name and birth date: the possible duplicate is shown before saving");
  const facts = await a.textContent(".duplicates .row-facts");
  check(facts.includes("1991-06-15") && facts.includes("红星包装有限公司工会") && /\d{6}\*{12}/.test(facts),
    `the candidate shows its birth date, union and masked ID to compare (${facts})`);
  await shot(a, "07-duplicate-prompt");
  await a.click("#save");
  await a.waitForSelector('[data-code="POSSIBLE_DUPLICATE"]');
  check(true, "saving waits for the surveyor's word");
  await a.check("#not-duplicate");
  await a.click("#save");
  await a.waitForSelector('article.record[data-kind="member"]');
  check(true, "a different person with the same name is saved once confirmed");
  await a.goto(`${appA.url}/#/new/member?union_id=${unionId}`);
  await a.waitForSelector('form[data-kind="member"]');
  for (const [f, v] of [["name", "陈小红"], ["resident_id", idChen], ["ethnicity", "汉族"], ["education", "college"], ["political_status", "masses"], ["joined_on", "2026-05-01"], ["place.township", "first"]]) await fill(a, f, v);
  // The same ID number: "registered already — open it", with nothing to tick.
  await a.waitForSelector("#already-registered:not([hidden]) #open-registered");
  check(!(await a.isVisible("#not-duplicate")), "the same ID number is not offered as a possible duplicate to tick away");
  await a.click("#save");
  await a.waitForSelector('[data-code="RECORD_DUPLICATE"]');
  await a.waitForSelector("#open-existing");
  check(true, "the same ID number cannot be registered twice; the existing record is offered");
  await a.click("#open-registered");
  await a.waitForSelector('article.record[data-kind="member"]');
  check(a.url() === memberUrl, "open it: the existing member's page");

  // ---- search -------------------------------------------------------------------------
  await a.goto(`${appA.url}/#/records/member`);
  await a.waitForSelector("ul.rows li");
  await a.fill("#search", "陈晓");
  await a.waitForFunction(() => [...document.querySelectorAll(".row-name")].every((n) => n.textContent.startsWith("陈晓")) && document.querySelectorAll(".row-name").length >= 2);
  check(true, "search as you type by name prefix");
  await a.fill("#search", idChen);
  await a.waitForFunction(() => document.querySelectorAll(".row-name").length === 1);
  check((await a.textContent(".row-name")) === "陈晓红", "search by resident ID number");
  await shot(a, "08-search");

  // ---- a hardship case and a visit recorded on it ------------------------------------------
  await a.goto(`${appA.url}/#/new/hardship`);
  await a.waitForSelector('form[data-kind="hardship"]');
  for (const [f, v] of [["name", "王大山"], ["kind", "first"], ["situation", "因病致困，妻子无业"], ["household_size", 4], ["monthly_income_yuan", 600], ["registered_on", "2026-10-08"]]) await fill(a, f, v);
  await a.click("#save");
  await a.waitForSelector('article.record[data-kind="hardship"]');
  await a.click("#add-visit");
  await a.fill("#visit-amount", "500");
  await a.fill("#visit-note", "春节慰问");
  await a.click("#save-visit");
  await a.waitForSelector("#visits li.visit");
  check((await a.textContent("#visits")).includes("¥500"), "a visit with its help is recorded on the hardship case");
  await shot(a, "09-hardship-visit");

  // ---- a census visit at the door: outcome, position, a photo ----------------------
  await a.goto(`${appA.url}/#/home`);
  await a.waitForSelector('.todo[data-todo="todoNotVisited"] li a');
  const notVisited = Number(await a.textContent('.todo[data-todo="todoNotVisited"] .count'));
  check(notVisited > 0, `home lists the entities not visited this year (${notVisited})`);
  const entityId = (await a.getAttribute('.todo[data-todo="todoNotVisited"] li a', "href")).split("/").pop();
  await a.click('.todo[data-todo="todoNotVisited"] li a');
  await a.waitForSelector('article.record[data-kind="entity"] #record-visit');
  await a.click("#record-visit");
  await a.waitForSelector('form[data-kind="visit"]');
  check((await a.inputValue(fid("entity_name"))).length > 0, "the visit form starts from the entity");
  await fill(a, "outcome", "updated");
  await a.fill("#f-position-lat", "33.490123");
  await a.fill("#f-position-lon", "116.210456");
  check((await a.getAttribute("#f-position .position-note", "data-manual")) === "true", "a typed position is flagged as typed by hand");
  // A 3000×2000 photo made by the browser, with an EXIF segment holding a
  // position spliced in, as a phone's camera writes one.
  const jpeg = Buffer.from(await a.evaluate(() => {
    const c = document.createElement("canvas");
    c.width = 3000;
    c.height = 2000;
    const g = c.getContext("2d");
    const grad = g.createLinearGradient(0, 0, 3000, 2000);
    grad.addColorStop(0, "#c8102e");
    grad.addColorStop(1, "#1a4fa0");
    g.fillStyle = grad;
    g.fillRect(0, 0, 3000, 2000);
    g.fillStyle = "#fff";
    g.font = "300px sans-serif";
    g.fillText("工会之家", 900, 1100);
    return c.toDataURL("image/jpeg", 0.9).split(",")[1];
  }), "base64");
  const exifBody = Buffer.from("Exif\0\0GPSLatitude=33.49", "latin1");
  const exif = Buffer.concat([Buffer.from([0xff, 0xe1, 0, exifBody.length + 2]), exifBody]);
  await a.setInputFiles("#f-photos-file", { name: "door.jpg", mimeType: "image/jpeg", buffer: Buffer.concat([jpeg.subarray(0, 2), exif, jpeg.subarray(2)]) });
  await a.waitForSelector("#f-photos .thumb img");
  check(true, "the photo is attached and shown in the form");
  await a.click("#save");
  await a.waitForSelector('article.record[data-kind="visit"] #photos .thumb img');
  const visitId = await a.getAttribute("article.record", "data-id");
  const api = async (url, cmd, args) => (await fetch(`${url}/api/${cmd}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(args) })).json();
  const saved = await api(appA.url, "get", { id: visitId });
  const [photoHash, ref] = Object.entries(saved.record.data.photos)[0];
  check(Math.max(ref.width, ref.height) === 1600 && ref.height === 1067, `resized on the device (${ref.width}×${ref.height})`);
  const photoBytes = Buffer.from((await api(appA.url, "photo", { hash: photoHash })).data, "base64");
  check(photoBytes[0] === 0xff && photoBytes[1] === 0xd8 && !photoBytes.includes("Exif") && !photoBytes.includes("GPSLatitude"), "kept as a JPEG with its metadata stripped");
  await shot(a, "09b-visit");
  await a.goto(`${appA.url}/#/home`);
  await a.waitForSelector('.todo[data-todo="todoNotVisited"] .count');
  check(Number(await a.textContent('.todo[data-todo="todoNotVisited"] .count')) === notVisited - 1, "the visited entity leaves the not-visited list");
  await a.goto(`${appA.url}/#/record/${entityId}`);
  await a.waitForSelector(`#entity-visits a[href="#/record/${visitId}"]`);
  check(true, "the entity's page lists its visit");
  await a.goto(`${appA.url}/#/map`);
  await a.waitForSelector(`svg.map circle[data-visit="${visitId}"]`);
  check((await a.getAttribute(`svg.map circle[data-visit="${visitId}"]`, "fill")) === "#fff", "the visit is on the map, hollow for a typed position");
  await shot(a, "09c-map");
  // The device may limit which photos it downloads.
  await a.goto(`${appA.url}/#/home`);
  await a.waitForSelector("#policy-days");
  await a.selectOption("#policy-days", "30");
  await a.waitForSelector('#policy-status[data-code="saved"]');
  check((await api(appA.url, "blob_policy", {})).policy.days === 30, "the photo download policy is kept (the last 30 days)");

  // ---- a conflict from two devices, settled ----------------------------------------
  const b = await newPage(appB.url);
  await setup(b, county.enrol("李四"));
  // B gets the member once A's push and B's pull have both happened.
  const memberId = memberUrl.split("/").pop();
  let seen = false;
  for (let i = 0; i < 30 && !seen; i++) {
    await syncNow(b);
    await b.goto(`${appB.url}/#/record/${memberId}`);
    seen = await b.waitForSelector('article.record[data-kind="member"]', { timeout: 1500 }).then(() => true, () => false);
  }
  check(seen, "the second device received the member");
  // The photo follows its visit to the second device, byte for byte.
  let photoOnB = null;
  for (let i = 0; i < 30 && !photoOnB; i++) {
    const got = await (await fetch(`${appB.url}/api/photo`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ hash: photoHash }) })).json();
    if (got.state === "present") photoOnB = Buffer.from(got.data, "base64");
    else await syncNow(b);
  }
  check(photoOnB && photoOnB.equals(photoBytes), "the second device received the visit's photo byte for byte");
  await b.goto(`${appB.url}/#/record/${visitId}`);
  await b.waitForSelector("#photos .thumb img");
  check(true, "and shows it on the visit");
  await county.stop();
  for (const [page, url, value] of [[a, appA.url, "甲厂"], [b, appB.url, "乙厂"]]) {
    await page.goto(`${url}/#/edit/${memberId}`);
    await page.waitForSelector('form[data-kind="member"]');
    await fill(page, "employer_name", value);
    await page.click("#save");
    await page.waitForSelector('article.record[data-kind="member"]');
  }
  await b.waitForSelector('#sync[data-state="offline"]', { timeout: 30000 });
  check((await b.textContent("#sync")).includes("待上传"), "offline, the status line counts the changes waiting");
  await shot(b, "10-offline");
  await county.start();
  for (const page of [a, b, a, b]) await syncNow(page);
  await b.goto(`${appB.url}/#/home`);
  await b.goto(`${appB.url}/#/record/${memberId}`);
  await b.waitForSelector('#conflicts [data-field="employer_name"]');
  check(true, "the concurrent edits show as a conflict to settle");
  await shot(b, "11-conflict");
  const choices = await b.$$('#conflicts [data-field="employer_name"] li');
  let chosen = null;
  for (const li of choices) if ((await li.textContent()).includes("甲厂")) chosen = li;
  await (await chosen.$("button.choose")).click();
  await b.waitForSelector('article.record[data-kind="member"]:not(:has(#conflicts))');
  check((await b.textContent('.kv[data-field="employer_name"] dd')) === "甲厂", "the chosen value is kept");
  for (const page of [b, a]) await syncNow(page);
  await a.goto(`${appA.url}/#/home`);
  await a.goto(`${appA.url}/#/record/${memberId}`);
  await a.waitForSelector('article.record[data-kind="member"]');
  check(!(await a.$("#conflicts")) && (await a.textContent('.kv[data-field="employer_name"] dd')) === "甲厂", "both devices converge on the settled value");

  // ---- a saved record never comes back as the next form's draft ---------------------
  // Saved within 100 ms of the last keystroke (before the draft's own
  // half-second wait), at both tablet widths: the next new form is empty.
  for (const [i, [w, hgt]] of [[1180, 820], [820, 1180]].entries()) {
    const p = await newPage(appA.url, { width: w, height: hgt });
    const blank = `${appA.url}/#/new/member?union_id=${unionId}`;
    await p.goto(blank);
    await p.waitForSelector('form[data-kind="member"] #save');
    await fill(p, "resident_id", residentId(`1987-0${i + 3}-11`, 162 + 2 * i));
    await fill(p, "ethnicity", "汉族");
    await fill(p, "education", "college");
    await fill(p, "political_status", "masses");
    await fill(p, "joined_on", "2026-05-01");
    await fill(p, "place.township", "first");
    await p.type(fid("name"), i ? "王建国" : "陈晓兰");
    const typed = Date.now();
    await p.evaluate(() => document.getElementById("save").click());
    check(Date.now() - typed < 100, `${w}×${hgt}: saved within 100 ms of the last keystroke (${Date.now() - typed} ms)`);
    await p.waitForSelector('article.record[data-kind="member"]');
    await sleep(800); // past the draft's wait: nothing may write it back
    await p.goto(blank);
    await p.waitForSelector('form[data-kind="member"] #save');
    check(!(await p.$("#draft-restored")), `${w}×${hgt}: the next new member form restores no draft`);
    check((await p.inputValue(fid("name"))) === "" && (await p.inputValue(fid("resident_id"))) === "",
      `${w}×${hgt}: the next new member form is empty`);
    await p.close();
  }

  // ---- tablet orientations ------------------------------------------------------------
  for (const [w, hgt, name] of [[1280, 800, "landscape"], [800, 1280, "portrait"]]) {
    const p = await newPage(appA.url, { width: w, height: hgt });
    for (const route of ["#/home", "#/new/member", `#/record/${memberId}`, "#/verify"]) {
      await p.goto(`${appA.url}/${route}`);
      await p.waitForSelector("#view > *:not(p.muted)");
      await sleep(200);
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      check(overflow <= 0, `${name} ${route}: nothing runs off the side (${overflow}px)`);
      const small = await p.evaluate(() => [...document.querySelectorAll("button, .button, nav a, select, input:not([type=checkbox]):not([type=radio]):not([type=file])")]
        .filter((n) => n.offsetParent !== null && n.getBoundingClientRect().height < 44)
        .map((n) => n.id || n.className || n.tagName));
      check(small.length === 0, `${name} ${route}: every control is at least 44px tall (${small.join(", ")})`);
    }
    if (name === "portrait") {
      const nav = await p.$eval("#nav", (n) => n.getBoundingClientRect().top);
      check(nav > 1000, "portrait: the navigation sits at the bottom");
      await p.goto(`${appA.url}/#/home`);
      await p.waitForSelector(".scope");
      await shot(p, "12-home-portrait");
    }
    await p.close();
  }

  // ---- search by any part of a name ----------------------------------------------------
  await a.goto(`${appA.url}/#/records/entity`);
  await a.waitForSelector("#search");
  await a.fill("#search", "包装");
  await a.waitForFunction(() => [...document.querySelectorAll("ul.rows li, ul.rows a")].some((n) => n.textContent.includes("红星包装有限公司")), null, { timeout: 5000 })
    .catch(() => null);
  check((await a.textContent("ul.rows")).includes("红星包装有限公司"), "searching 包装 finds 红星包装有限公司 (any part of a name)");

  // ---- 保存 in reach and its outcome in view, at both tablet widths ----------------------
  for (const [i, [w, hgt]] of [[1180, 820], [820, 1180]].entries()) {
    const p = await newPage(appA.url, { width: w, height: hgt });
    for (const kind of ["entity", "union", "member"]) {
      await p.goto(`${appA.url}/#/new/${kind}`);
      await p.waitForSelector(`form[data-kind="${kind}"] #save`);
      const bar = await p.evaluate(() => {
        const b = document.getElementById("save").getBoundingClientRect();
        const at = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
        const nav = document.getElementById("nav");
        const n = nav.getBoundingClientRect();
        const navShown = getComputedStyle(nav).display !== "none" && n.height > 0;
        return {
          inView: b.top >= 0 && b.bottom <= window.innerHeight,
          onTop: !!at && (at.id === "save" || !!at.closest("#save")),
          clear: !navShown || b.bottom <= n.top + 0.5 || b.top >= n.bottom || b.right <= n.left || b.left >= n.right,
        };
      });
      check(bar.inView && bar.onTop && bar.clear, `${w}×${hgt} ${kind}: 保存 is in view and nothing covers it (${JSON.stringify(bar)})`);
      // A refused save: the first field in error is in view.
      await p.click("#save");
      await p.waitForSelector(".field.has-error");
      await sleep(150);
      const errorInView = await p.evaluate(() => {
        const r = document.querySelector(".field.has-error").getBoundingClientRect();
        return r.top >= 0 && r.bottom <= window.innerHeight;
      });
      check(errorInView, `${w}×${hgt} ${kind}: a refused save shows its first error in view`);
    }
    // A saved entity: "已保存" and 为该单位建会 in view at once.
    await p.goto(`${appA.url}/#/new/entity`);
    await p.waitForSelector('form[data-kind="entity"] #save');
    for (const [f, v] of [["name", `视野测试有限公司${i}`], ["unit_kind", "enterprise"], ["ownership", "private"], ["industry", "manufacturing"], ["place.township", "first"], ["workers", 30], ["women_workers", 9]]) await fill(p, f, v);
    await p.click("#save");
    await p.waitForSelector("#saved-notice");
    const shown = await p.evaluate(() => ["saved-notice", "found-union"].map((id) => {
      const n = document.getElementById(id);
      if (!n) return false;
      const r = n.getBoundingClientRect();
      return r.top >= 0 && r.bottom <= window.innerHeight;
    }));
    check(shown[0] && shown[1], `${w}×${hgt}: after 保存, 已保存 and 为该单位建会 are in view (${shown})`);
    await p.close();
  }

  // ---- grids follow the community, in their natural order ----------------------------
  {
    const post = async (cmd) => (await fetch(`${appA.url}/api/${cmd}`, { method: "POST", headers: { "content-type": "application/json" }, body: "null" })).json();
    const areas = await post("areas");
    const mineT = (await post("status")).device.scope.townships;
    const community = areas.find((c) => c.level === "community" && mineT.includes(c.township) && areas.filter((g) => g.level === "grid" && g.parent === c.id).length >= 2
      && areas.some((g) => g.level === "grid" && g.township === c.township && g.parent !== c.id));
    check(!!community, "the demo county has a community with grids, beside other grids of its township");
    if (community) {
      await a.goto(`${appA.url}/#/new/entity`);
      await a.waitForSelector('form[data-kind="entity"] #save');
      await a.selectOption(fid("place.township"), community.township);
      await a.selectOption(fid("place.community"), community.id);
      await sleep(100);
      const offered = await a.$$eval(`${fid("place.grid")} option`, (os) => os.map((o) => [o.value, o.textContent]).filter(([v]) => v));
      const mine = areas.filter((g) => g.level === "grid" && g.parent === community.id).map((g) => g.id);
      check(offered.length === mine.length && offered.every(([v]) => mine.includes(v)), `only the community's grids are offered (${offered.length} of ${mine.length})`);
      const names = offered.map(([, n]) => n);
      const num = (n) => { const m = [...n.matchAll(/第([一二三四五六七八九十]+)网格/g)].pop(); return m ? [...m[1]].reduce((t, c) => (c === "十" ? (t || 1) * 10 : t + "一二三四五六七八九".indexOf(c) + 1), 0) : 0; };
      check(names.every((n, i) => i === 0 || num(names[i - 1]) <= num(n)), `grids in their natural order (${names.join("、")})`);
    }
  }

  // ---- a tap on the sync status says what happened ---------------------------------------
  await a.goto(`${appA.url}/#/home`);
  await a.waitForSelector("#sync");
  await a.click("#sync");
  await a.waitForFunction(() => {
    const n = document.getElementById("sync-note");
    return n && !n.hidden && /已同步：上传\d+条，收到\d+条更新|无法连接服务器/.test(n.textContent);
  }, null, { timeout: 20000 }).catch(() => null);
  check(/已同步：上传\d+条|无法连接服务器/.test((await a.textContent("#sync-note")) || ""), `a tap on the sync status says what it did (${await a.textContent("#sync-note")})`);

  // ---- a quiet form: nothing red before it is due, Enter does not save -----------------
  await a.goto(`${appA.url}/#/new/entity`);
  await a.waitForSelector('form[data-kind="entity"] #save');
  check(!(await a.isVisible('.field[data-field="credit_code_override"]')), "no reason to keep a credit code is asked before a code fails");
  await a.type(fid("name"), "安静表单测试有限公司");
  await sleep(500);
  check((await a.$$(".field.has-error")).length === 0, "typing the first field marks no untouched field");
  await a.press(fid("name"), "Enter");
  await sleep(300);
  check(!(await a.$('.out [data-code="RECORD_INVALID"]')) && !(await a.$("article.record")), "Enter in a field does not save the form");
  await fill(a, "credit_code", "91350100M000100Y44");
  await a.waitForSelector('.field[data-field="credit_code"] .issue[data-code="CREDIT_CODE_CHECKSUM"]');
  check(await a.isVisible('.field[data-field="credit_code_override"]'), "a code that fails its check asks for the reason to keep it");
  check((await a.textContent('.field[data-field="credit_code"] .issue')).includes("逐位核对"), "and says to compare every character, not which one to change");
  // Leave no draft of this unsaved form for the next new entity.
  await sleep(600);
  await fetch(`${appA.url}/api/draft_drop`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key: "entity-new" }) });

  // ---- the door flow, counted: entity + union + 3 members + a card ------------------------
  // A tap is a click; a choice from a dropdown is two (open, choose); a
  // typed field is one tap and its characters. What the app fills in
  // (township, union, workplace, place, 民族, 政治面貌, dates) costs nothing.
  for (const [wi, [w, hgt]] of [[1180, 820], [820, 1180]].entries()) {
    const size = `${w}x${hgt}`;
    const p = await newPage(appA.url, { width: w, height: hgt });
    const count = { taps: 0, keys: 0 };
    const tap = async (sel) => { count.taps += 1; await p.click(sel); };
    const type = async (name, value) => {
      const sel = fid(name);
      if (await p.$(`select${sel}`)) {
        count.taps += 2;
        await p.selectOption(sel, value === "first" ? await p.$eval(sel, (n) => [...n.options].find((o) => o.value).value) : value);
      } else {
        count.taps += 1;
        count.keys += String(value).length;
        await p.fill(sel, String(value));
      }
    };
    await p.goto(`${appA.url}/#/door`);
    await tap("#door-new-entity");
    await p.waitForSelector('form[data-kind="entity"] #save');
    await type("name", ["青松家具有限公司", "翠竹纺织有限公司"][wi]);
    await type("unit_kind", "enterprise");
    await type("ownership", "private");
    await type("industry", "manufacturing");
    if (!(await p.inputValue(fid("place.township")))) await type("place.township", "first");
    await type("workers", 30);
    await type("women_workers", 11);
    await shot(p, `door-${size}-1-entity-form`);
    await tap("#save");
    await p.waitForSelector("#found-union");
    await tap("#found-union");
    await p.waitForSelector('form[data-kind="union"] #save');
    await shot(p, `door-${size}-2-union-form`);
    await tap("#save");
    await p.waitForSelector("#add-member");
    await tap("#add-member");
    for (const [i, name] of [["周建华", "吴秀英", "郑国强"], ["冯立新", "陈桂兰", "褚志强"]][wi].entries()) {
      await p.waitForSelector('form[data-kind="member"] #save');
      await type("name", name);
      await type("resident_id", residentId(`1990-0${i + 1}-2${i}`, 300 + 10 * wi + 2 * i));
      await type("education", "senior_high");
      if (i === 0) await shot(p, `door-${size}-3-member-form`);
      await tap("#save");
      await p.waitForSelector('article.record[data-kind="member"]');
      if (i === 0) await shot(p, `door-${size}-4-member-saved`);
      if (i < 2) await tap("#next-member");
    }
    await tap("#issue-card");
    await p.waitForSelector("#member-card .qr svg");
    await shot(p, `door-${size}-5-card`);
    check(count.taps <= 35, `${size}: the door flow takes ${count.taps} taps and ${count.keys} keystrokes (target: at most 35 taps)`);
    console.log(JSON.stringify({ doorFlow: { size, ...count } }));
    await p.close();
  }

  // ---- a short list offers no "load more" --------------------------------------------
  await a.goto(`${appA.url}/#/records/transfer`);
  await a.waitForSelector("#search");
  await sleep(300);
  check(!(await a.isVisible("text=加载更多")), "a short list shows no 加载更多");

  // ---- the lock screen ----------------------------------------------------------------
  await a.goto(`${appA.url}/#/home`);
  await a.click("#lock");
  await a.waitForSelector("#unlock-pin");
  // Locked, the app around the lock screen is inert: no navigation, no sync
  // button, nothing a tap could open behind the PIN.
  for (const sel of ["#nav", "#sync", "#lock"]) {
    check(!(await a.isVisible(sel)), `locked: ${sel} is not shown`);
  }
  check(!(await a.isVisible('[data-nav="navRecords"]')), "locked: no link to the records");
  await a.fill("#unlock-pin", "111111");
  await a.click("#unlock");
  await a.waitForSelector('[data-code="PIN_WRONG"]');
  check(true, "a wrong PIN is refused");
  await shot(a, "13-locked");
  await a.fill("#unlock-pin", "258014");
  await a.click("#unlock");
  await a.waitForSelector(".scope");
  check(true, "the right PIN opens the app again");
} catch (e) {
  check(false, "the run stopped: " + (e.stack || e));
} finally {
  check(pageErrors.length === 0, "no script errors in the page: " + pageErrors.join(" | "));
  await browser.close();
  await Promise.all([stop(appA.proc), stop(appB.proc), county.stop()]);
  // Everything both devices and the server printed during the whole run.
  checkLogsHoldNoPersonalData([appA.log, appB.log, ...(county.logs || [])]);
}
console.log(JSON.stringify({ failures, card: card ? card.slice(0, 12) + "…" : null }));
process.exit(failures ? 1 : 0);
