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
import { mkdirSync, readFileSync } from "node:fs";
import { pct } from "../../ui/lib/format.js";
import { join } from "node:path";
import { County, check, checkLogsHoldNoPersonalData, creditCode, failures, licenceQrText, residentId, sleep, startAppWeb, stop, writeQrVideo } from "./lib.mjs";

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

// Two companies' business licences, and a camera held over each: chromium's
// fake camera plays a video of the licence's QR code (one per browser).
const licences = ["91321322MA1W8HK7A", "91321322MA1W8HK7B"].map(creditCode);
const launch = (licence) => {
  const video = join(work, `licence-${licence}.y4m`);
  writeQrVideo(video, licenceQrText(licence));
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", `--use-file-for-fake-video-capture=${video}`],
  });
};
const browser = await launch(licences[0]);
const portraitCamera = await launch(licences[1]);

const pageErrors = [];
// A page as on a Chinese tablet: the zh-CN locale (dates in inputs read
// 年/月/日, not mm/dd/yyyy).
async function newPage(url, viewport = { width: 1280, height: 800 }, on = browser) {
  const page = await on.newPage({ viewport, locale: "zh-CN" });
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.setDefaultTimeout(20000);
  await page.goto(url + "/");
  return page;
}

async function shot(page, name) {
  if (shots) await page.screenshot({ path: join(shots, `${name}.png`) });
}

// The app's draft key for a form opened with parameters (ui/app.js `hash`).
const appHash = (text) => { let x = 5381; for (const c of text) x = ((x * 33) ^ c.codePointAt(0)) >>> 0; return x.toString(36); };

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
  // 入会率 and 发证率 on the tablet are the county console's for the same
  // township (both computed by the registry: one from the tablet's records,
  // one from the server's facts).
  {
    const password = readFileSync(join(county.data, "initial-admin-password"), "utf8").trim();
    const login = await (await fetch(`${county.base}/api/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password }) })).json();
    const report = await (await fetch(`${county.base}/api/console/progress`, { headers: { authorization: `Bearer ${login.token}` } })).json();
    const row = report.townships.find((x) => x.name === county.township);
    const onTablet = await a.$$eval("table.progress tbody tr", (rows, name) => {
      const tr = rows.find((r) => r.querySelector("th").textContent === name);
      return tr && { membership: tr.querySelector('[data-col="membership"]').textContent, cards: tr.querySelector('[data-col="cards"]').textContent };
    }, county.township);
    check(onTablet && row && onTablet.membership === pct(row.membership) && onTablet.cards === pct(row.carded),
      `入会率 and 发证率 agree: tablet ${JSON.stringify(onTablet)}, console ${row && pct(row.membership)} / ${row && pct(row.carded)}`);
    check(row && row.carded.denominator > 0 && row.membership.denominator > 0, "there are members and covered workers to count");
    check(report.goals.some((g) => g.key === "membership") && report.goals.some((g) => g.key === "cards"), "the console's goals include 入会率 and 发证率");
  }
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
    // The gap is measured in the page: from the last keystroke's event to the tap on 保存.
    await p.evaluate(() => document.addEventListener("input", () => { window.lastKeyAt = performance.now(); }, true));
    await p.type(fid("name"), i ? "王建国" : "陈晓兰");
    const gap = await p.evaluate(() => { document.getElementById("save").click(); return performance.now() - window.lastKeyAt; });
    check(gap < 100, `${w}×${hgt}: saved within 100 ms of the last keystroke (${Math.round(gap)} ms)`);
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
      const small = await p.evaluate(() => [...document.querySelectorAll("button, .button, nav a, select, input:not([type=checkbox]):not([type=radio]):not([type=file]):not(.date-picker)")]
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

  // ---- the door flow, counted: entity + union + 3 members + a card ------------------------
  // A tap is a click; a choice from a dropdown is two (open, choose); a
  // typed field is one tap and its characters. What the app fills in
  // (township, union, workplace, place, 民族, 政治面貌, dates) costs nothing,
  // and neither does the credit code: the camera reads it off the licence.
  // Each width has its own company, so each has its own licence before the
  // (fake) camera: the landscape run uses the browser launched with
  // licence A's video, the portrait run one launched with licence B's.
  const doorUnions = [];
  for (const [wi, [w, hgt]] of [[1180, 820], [820, 1180]].entries()) {
    const size = `${w}x${hgt}`;
    const p = wi === 0 ? await newPage(appA.url, { width: w, height: hgt }) : await newPage(appA.url, { width: w, height: hgt }, portraitCamera);
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
    await tap("#licence-scan");
    await p.waitForSelector("#licence-read", { timeout: 15000 });
    check((await p.inputValue(fid("credit_code"))) === licences[wi], `${size}: the camera reads the credit code off the licence (${await p.inputValue(fid("credit_code"))})`);
    check(!(await p.isVisible("#licence-video")), `${size}: and the camera stops once it has read it`);
    await type("unit_kind", "enterprise");
    await type("ownership", "private");
    await type("industry", "manufacturing");
    if (!(await p.inputValue(fid("place.township")))) await type("place.township", "first");
    await type("workers", 30);
    await type("women_workers", 11);
    await shot(p, `door-${size}-1-entity-form`);
    await tap("#save");
    await p.waitForSelector("#found-union");
    check((await p.textContent('.kv[data-field="credit_code"] dd')) === licences[wi], `${size}: the entity keeps the code read from its licence`);
    await tap("#found-union");
    await p.waitForSelector('form[data-kind="union"] #save');
    await shot(p, `door-${size}-2-union-form`);
    await tap("#save");
    await p.waitForSelector("#add-member");
    doorUnions.push(p.url());
    // A new union is told at once that it has no chair, with the way to register one.
    check(await p.isVisible('#findings li[data-rule="CHAIR_VACANT"] #add-chair'), `${size}: the new union asks for its chair`);
    await shot(p, `door-${size}-3-union-saved`);
    await tap("#add-member");
    for (const [i, name] of [["周建华", "吴秀英", "郑国强"], ["冯立新", "陈桂兰", "褚志强"]][wi].entries()) {
      await p.waitForSelector('form[data-kind="member"] #save');
      check((await p.inputValue(fid("employer_name"))) === ["青松家具有限公司", "翠竹纺织有限公司"][wi], `${size}: member ${i + 1} starts with the company the surveyor stands in`);
      await type("name", name);
      await type("resident_id", residentId(`1990-0${i + 1}-2${i}`, 300 + 10 * wi + 2 * i));
      await type("education", "senior_high");
      if (i === 0) await shot(p, `door-${size}-4-member-form`);
      await tap("#save");
      await p.waitForSelector('article.record[data-kind="member"]');
      if (i === 0) await shot(p, `door-${size}-5-member-saved`);
      if (i < 2) await tap("#next-member");
    }
    await tap("#issue-card");
    await p.waitForSelector("#member-card .qr svg");
    await shot(p, `door-${size}-6-card`);
    check(count.taps <= 35, `${size}: the door flow takes ${count.taps} taps and ${count.keys} keystrokes (target: at most 35 taps)`);
    console.log(JSON.stringify({ doorFlow: { size, ...count } }));

    // After the flow: the chair, registered from the union's page.
    await p.goto(doorUnions[wi]);
    await p.click("#add-chair");
    await p.waitForSelector('form[data-kind="cadre"] #save');
    check((await p.inputValue(fid("role"))) === "chair", `${size}: the chair's form starts as 主席`);
    await fill(p, "name", ["周建华", "冯立新"][wi]);
    await fill(p, "owner_relation", "unrelated");
    await p.click("#save");
    await p.waitForSelector('article.record[data-kind="cadre"]');
    await p.goto(doorUnions[wi]);
    await p.waitForSelector("#add-member");
    check(!(await p.$('#findings li[data-rule="CHAIR_VACANT"]')), `${size}: with its chair registered, the union no longer shows a vacancy`);
    await p.close();
  }

  // ---- every numbered item of the door review, at both tablet widths ---------------------
  const entityName = "红星包装有限公司";
  for (const [w, hgt] of [[1180, 820], [820, 1180]]) {
    const size = `${w}×${hgt}`;
    const p = await newPage(appA.url, { width: w, height: hgt });

    // 4. Search by any part of a name; a miss says so.
    await p.goto(`${appA.url}/#/records/entity`);
    await p.waitForSelector("#search");
    for (const q of ["包装", "红星包", "包装有限"]) {
      await p.fill("#search", q);
      await p.waitForFunction((name) => [...document.querySelectorAll(".row-name")].some((n) => n.textContent === name), entityName, { timeout: 5000 }).catch(() => null);
      check((await p.textContent("ul.rows")).includes(entityName), `${size}: searching ${q} finds ${entityName}`);
    }
    await p.fill("#search", "宝航食品");
    await p.waitForFunction(() => document.getElementById("list-info").textContent === "没有找到记录", null, { timeout: 5000 }).catch(() => null);
    check((await p.textContent("#list-info")) === "没有找到记录" && (await p.$$(".row-name")).length === 0, `${size}: a search that finds nothing says so`);
    await p.fill("#search", licences[0]);
    await p.waitForFunction(() => document.querySelectorAll(".row-name").length === 1, null, { timeout: 5000 }).catch(() => null);
    check((await p.textContent(".row-name")) === "青松家具有限公司", `${size}: search by credit code`);

    // 5. The same resident ID: registered already, open it; nothing to tick.
    await p.goto(`${appA.url}/#/new/member?union_id=${unionId}`);
    await p.waitForSelector('form[data-kind="member"] #save');
    await fill(p, "name", "陈小红");
    await fill(p, "resident_id", idChen);
    await p.waitForSelector("#already-registered:not([hidden]) #open-registered");
    const facts = await p.textContent("#already-registered");
    check(facts.includes("1991-06-15") && /\d{6}\*{12}/.test(facts) && !facts.includes(idChen), `${size}: the registered person shows a birth date and a masked ID to compare`);
    check(!(await p.isVisible("#not-duplicate")), `${size}: the same ID is not a possible duplicate to tick away`);
    const regBox = await p.evaluate(() => { const r = document.getElementById("open-registered").getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; });
    check(regBox, `${size}: 打开已登记的记录 is in view`);
    await p.click("#open-registered");
    await p.waitForSelector('article.record[data-kind="member"]');
    check(p.url() === memberUrl, `${size}: it opens the existing member`);
    await sleep(700);
    await p.goto(`${appA.url}/#/new/member?union_id=${unionId}`);
    await p.waitForSelector('form[data-kind="member"] #save');
    check(!(await p.$("#draft-restored")) && (await p.inputValue(fid("resident_id"))) === "", `${size}: the form left for the registered person leaves no draft behind`);

    // 5b. The same credit code, read by the camera: the entity is there already.
    await p.goto(`${appA.url}/#/new/entity`);
    await p.waitForSelector('form[data-kind="entity"] #save');
    await p.click("#licence-scan");
    await p.waitForSelector("#already-registered:not([hidden]) #open-registered", { timeout: 15000 });
    check((await p.textContent("#already-registered")).includes("青松家具有限公司"), `${size}: a licence scanned twice finds the entity registered from it`);
    await p.click("#open-registered");
    await p.waitForSelector('article.record[data-kind="entity"]');
    check((await p.textContent("article.record h2")).includes("青松家具有限公司"), `${size}: and opens it`);

    // 9. A card shown again is the card issued, unchanged.
    await p.goto(memberUrl);
    await p.click("#show-card");
    await p.waitForSelector("#member-card .qr svg");
    check((await p.textContent(".card-text")).trim() === card, `${size}: the card shown again is the card issued`);
    check((await p.textContent(".card-union")) === "红星包装有限公司工会", `${size}: its face names the union`);

    // 10. A company's landline.
    await p.goto(`${appA.url}/#/new/entity`);
    await p.waitForSelector('form[data-kind="entity"] #save');
    await fill(p, "contact_phone", "0527-83123456");
    await sleep(400);
    check(!(await p.$('.field[data-field="contact_phone"] .issue')), `${size}: a landline is accepted as a company's phone`);
    await fill(p, "contact_phone", "0527-8312");
    check((await issueCode(p, "contact_phone")) !== null, `${size}: a number too short for either is still refused`);

    // 11. Grids follow the community, in their natural order.
    const post = async (cmd) => (await fetch(`${appA.url}/api/${cmd}`, { method: "POST", headers: { "content-type": "application/json" }, body: "null" })).json();
    const areas = await post("areas");
    const mineT = (await post("status")).device.scope.townships;
    const community = areas.find((c) => c.level === "community" && mineT.includes(c.township) && areas.filter((g) => g.level === "grid" && g.parent === c.id).length >= 2
      && areas.some((g) => g.level === "grid" && g.township === c.township && g.parent !== c.id));
    check(!!community, `${size}: the demo county has a community with grids, beside other grids of its township`);
    if (community) {
      await p.selectOption(fid("place.township"), community.township);
      await p.selectOption(fid("place.community"), community.id);
      await sleep(100);
      const offered = await p.$$eval(`${fid("place.grid")} option`, (os) => os.map((o) => [o.value, o.textContent]).filter(([v]) => v));
      const mine = areas.filter((g) => g.level === "grid" && g.parent === community.id).map((g) => g.id);
      check(offered.length === mine.length && offered.every(([v]) => mine.includes(v)), `${size}: only the community's grids are offered (${offered.length} of ${mine.length})`);
      const names = offered.map(([, n]) => n);
      const num = (n) => { const m = [...n.matchAll(/第([一二三四五六七八九十]+)网格/g)].pop(); return m ? [...m[1]].reduce((t, c) => (c === "十" ? (t || 1) * 10 : t + "一二三四五六七八九".indexOf(c) + 1), 0) : 0; };
      check(names.every((n, i) => i === 0 || num(names[i - 1]) <= num(n)), `${size}: grids in their natural order (${names.join("、")})`);
    }
    // Leave this form's draft (the phone, the place) out of the next new entity.
    await sleep(700);
    await p.goto(`${appA.url}/#/home`);
    await p.waitForSelector(".scope");
    await fetch(`${appA.url}/api/draft_drop`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key: "entity-new" }) });

    // 12. A quiet form: nothing red before it is due, Enter does not save.
    await p.goto(`${appA.url}/#/new/entity`);
    await p.waitForSelector('form[data-kind="entity"] #save');
    check(!(await p.isVisible('.field[data-field="credit_code_override"]')), `${size}: no reason to keep a credit code is asked before a code fails`);
    await p.type(fid("name"), "安静表单测试有限公司");
    await sleep(500);
    const red = await p.$$eval(".field.has-error", (ns) => ns.map((n) => `${n.dataset.field}:${[...n.querySelectorAll(".issue")].map((i) => i.dataset.code)}`));
    check(red.length === 0, `${size}: typing the first field marks no untouched field (${red})`);
    await p.press(fid("name"), "Enter");
    await sleep(300);
    check(!(await p.$('.out [data-code="RECORD_INVALID"]')) && !(await p.$("article.record")), `${size}: Enter in a field does not save the form`);
    await fill(p, "credit_code", "91350100M000100Y44");
    await p.waitForSelector('.field[data-field="credit_code"] .issue[data-code="CREDIT_CODE_CHECKSUM"]');
    check(await p.isVisible('.field[data-field="credit_code_override"]'), `${size}: a code that fails its check asks for the reason to keep it`);
    check((await p.textContent('.field[data-field="credit_code"] .issue')).includes("逐位核对"), `${size}: and says to compare every character, not which one to change`);
    await sleep(600);
    await fetch(`${appA.url}/api/draft_drop`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key: "entity-new" }) });
    // Dates read YYYY-MM-DD whatever the tablet's locale; eight digits typed become one.
    await p.goto(`${appA.url}/#/new/member?union_id=${unionId}`);
    await p.waitForSelector('form[data-kind="member"] #save');
    check(/^\d{4}-\d{2}-\d{2}$/.test(await p.inputValue(fid("joined_on"))), `${size}: the joining date shows as YYYY-MM-DD (${await p.inputValue(fid("joined_on"))})`);
    await p.fill(fid("joined_on"), "");
    await p.type(fid("joined_on"), "20260501");
    check((await p.inputValue(fid("joined_on"))) === "2026-05-01", `${size}: 20260501 typed reads 2026-05-01`);
    await sleep(700);
    await p.goto(`${appA.url}/#/home`);
    await p.waitForSelector(".scope");
    await fetch(`${appA.url}/api/draft_drop`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key: `member-new-${appHash(`union_id=${unionId}`)}` }) });
    // The union form's groups are rows of their own: no heading inside a cell.
    await fetch(`${appA.url}/api/draft_drop`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key: "union-new" }) });
    await p.goto(`${appA.url}/#/new/union`);
    await p.waitForSelector('form[data-kind="union"] #save');
    const layout = await p.evaluate(() => {
      const box = document.querySelector(".fields").getBoundingClientRect();
      const heads = [...document.querySelectorAll(".fields h3.group")];
      return { heads: heads.length, spanning: heads.every((h) => h.parentElement.classList.contains("fields") && Math.abs(h.getBoundingClientRect().width - box.width) < 2) };
    });
    check(layout.heads >= 2 && layout.spanning, `${size}: the union form's groups (六有, 八有) head rows of their own (${JSON.stringify(layout)})`);
    await shot(p, `union-form-${w}x${hgt}`);

    // 8. A tap on the sync status says what it did, and when, with the day.
    await p.goto(`${appA.url}/#/home`);
    await p.waitForSelector("#sync");
    await p.click("#sync");
    await p.waitForFunction(() => {
      const n = document.getElementById("sync-note");
      return n && !n.hidden && /已同步：上传\d+条，收到\d+条更新|无法连接服务器/.test(n.textContent);
    }, null, { timeout: 20000 }).catch(() => null);
    check(/已同步：上传\d+条|无法连接服务器/.test((await p.textContent("#sync-note")) || ""), `${size}: a tap on the sync status says what it did (${await p.textContent("#sync-note")})`);
    await p.waitForSelector('#sync[data-state="synced"]', { timeout: 20000 }).catch(() => null);
    check(/今天|昨天|\d{1,2}月\d{1,2}日|\d{4}-\d{2}-\d{2}/.test(await p.textContent("#sync")), `${size}: the sync time says which day (${await p.textContent("#sync")})`);

    // 7. A short list offers no 加载更多; the lock screen is inert.
    await p.goto(`${appA.url}/#/records/transfer`);
    await p.waitForSelector("#search");
    await sleep(300);
    check(!(await p.isVisible("#load-more")), `${size}: a short list shows no 加载更多`);
    await p.goto(`${appA.url}/#/records/member`);
    await p.waitForSelector("#search");
    const lockedAt = p.url();
    await p.click("#lock");
    await p.waitForSelector("#unlock-pin");
    for (const sel of ["#nav", "#sync", "#lock", '[data-nav="navRecords"]', "#search", "#sync-note"]) {
      check(!(await p.isVisible(sel)), `${size}: locked, ${sel} is not shown`);
    }
    // Nothing behind the lock screen takes a tap: the middle of the screen
    // and where the navigation was are the lock screen's own.
    const hits = await p.evaluate(() => [[window.innerWidth / 2, window.innerHeight / 2], [window.innerWidth / 2, window.innerHeight - 20], [window.innerWidth - 40, 30], [40, window.innerHeight / 3]]
      .map(([x, y]) => {
        const n = document.elementFromPoint(x, y);
        const control = n && n.closest("a, button, input, select, textarea, [tabindex]");
        return !control || control.id === "view" || !!control.closest("#lock-screen") || control.id === "lang-toggle" ? true : `${control.tagName}#${control.id}.${control.className}`;
      }));
    check(hits.every((x) => x === true), `${size}: a tap anywhere lands on the lock screen (${hits})`);
    await p.fill("#unlock-pin", "111111");
    await p.click("#unlock");
    await p.waitForSelector('[data-code="PIN_WRONG"]');
    check(true, `${size}: a wrong PIN is refused`);
    await shot(p, `13-locked-${w}x${hgt}`);
    await p.fill("#unlock-pin", "258014");
    await p.click("#unlock");
    await p.waitForSelector("#search");
    check(p.url() === lockedAt, `${size}: unlocking returns to where the surveyor was, not to something tapped while locked`);
    await p.close();
  }
} catch (e) {
  check(false, "the run stopped: " + (e.stack || e));
} finally {
  check(pageErrors.length === 0, "no script errors in the page: " + pageErrors.join(" | "));
  await Promise.all([browser.close(), portraitCamera.close()]);
  await Promise.all([stop(appA.proc), stop(appB.proc), county.stop()]);
  // Everything both devices and the server printed during the whole run.
  checkLogsHoldNoPersonalData([appA.log, appB.log, ...(county.logs || [])]);
}
console.log(JSON.stringify({ failures, card: card ? card.slice(0, 12) + "…" : null }));
process.exit(failures ? 1 : 0);
