// 由本人申请 in Debian's chromium: a union's poster printed from the field
// app; its QR's address opened on a phone (390 px wide); mistakes planted
// (a wrong check digit, no consent) and told by field; the application
// sent and followed by its reference; the surveyor's app confirms it and
// issues the card; the status page says so; a second application with the
// same ID number merges into the member, and no page says the person was
// known.
//
//   node apply.mjs <sanjian binary> <ui dir> <work dir> [screenshot dir]
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { County, check, failures, residentId, startAppWeb, stop } from "./lib.mjs";

const [bin, uiDir, work, shots] = process.argv.slice(2);
if (!bin || !uiDir || !work) {
  console.error("usage: node apply.mjs SANJIAN UI_DIR WORK_DIR [SHOT_DIR]");
  process.exit(2);
}
if (shots) mkdirSync(shots, { recursive: true });

const county = new County(bin, work).prepare(300);
await county.start();
const app = await startAppWeb(bin, join(work, "app"), uiDir);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const errors = [];
const shot = async (page, name) => { if (shots) await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true }); };

try {
  // ---- the surveyor's tablet, enrolled; a union's poster ------------------------
  const tablet = await browser.newPage({ viewport: { width: 1280, height: 800 }, locale: "zh-CN" });
  tablet.on("pageerror", (e) => errors.push(String(e)));
  tablet.setDefaultTimeout(30000);
  await tablet.goto(app.url + "/");
  await tablet.waitForSelector("#setup-start");
  await tablet.fill("#pin", "258014");
  await tablet.fill("#pin2", "258014");
  await tablet.fill("#enrolment", county.enrol("李四"));
  await tablet.click("#setup-start");
  await tablet.waitForSelector('#sync[data-state="synced"]');
  await tablet.goto(app.url + "/#/records/union");
  await tablet.waitForSelector("a.row");
  await tablet.click("a.row");
  await tablet.waitForSelector('article.record[data-kind="union"]');
  const unionName = (await tablet.textContent("article.record h2")).replace(/\s*工会$|\s+\S+$/, "");
  await tablet.waitForSelector('#union-figures [data-col="cards"]');
  check((await tablet.textContent("#union-figures")).includes("发证率"), "the union's page shows its 入会率 and 发证率");
  await tablet.click("#union-poster");
  await tablet.waitForSelector("#poster .qr svg");
  const url = (await tablet.textContent("#poster .url")).trim();
  check(/\/apply\/[0-9a-f]{32}-[0-9a-f]{12}$/.test(url), `the poster's QR holds the form's address: ${url}`);
  check((await tablet.textContent("#poster h2")).length > 0, "the poster names its union");
  await shot(tablet, "01-poster");

  // ---- the worker's phone: the form, mistakes first -----------------------------
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: "zh-CN", isMobile: true, hasTouch: true });
  phone.on("pageerror", (e) => errors.push(String(e)));
  phone.setDefaultTimeout(20000);
  await phone.goto(url);
  await phone.waitForSelector("#form-view:not([hidden]) #union:not(:empty)");
  check((await phone.title()) === "申请加入工会", "Chinese by default");
  const fits = await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  check(fits, "the form fits a phone's width");
  const id = residentId("1992-03-04", 217);
  const wrongDigit = id.slice(0, 17) + (id[17] === "0" ? "1" : "0");
  await phone.fill("#name", "赵小梅");
  await phone.fill("#resident_id", wrongDigit);
  await phone.fill("#phone", "13700001234");
  await phone.fill("#employer_name", "城南便利店");
  await phone.selectOption("#education", "senior_high");
  await phone.selectOption("#political_status", "masses");
  await phone.check("#migrant_worker");
  await phone.click("#submit");
  await phone.waitForSelector('.issue[data-code="ID_CHECKSUM"]');
  check(await phone.$('.field[data-field="resident_id"] .issue[data-code="ID_CHECKSUM"]'), "a wrong check digit is told beside the ID number");
  check(await phone.$('.field[data-field="consent"] .issue[data-code="APPLY_CONSENT"]'), "consent is asked for");
  check((await phone.textContent("#form-error")).includes("APPLY_INVALID"), "the form says it has mistakes");
  await shot(phone, "02-mistakes");
  await phone.fill("#resident_id", id);
  await phone.check("#consent");
  await phone.click("#submit");
  await phone.waitForSelector("#done-view:not([hidden]) #reference:not(:empty)");
  const reference = (await phone.textContent("#reference")).trim();
  check(/^([0-9A-Z]{4}-){4}[0-9A-Z]{4}$/.test(reference), `a reference to follow it with: ${reference}`);
  const doneText = (await phone.textContent("#done-view")).replace(reference, "");
  await shot(phone, "03-sent");
  await phone.click("#follow");
  await phone.waitForSelector('#status .status[data-status="pending"]');
  check((await phone.textContent("#status")).includes("待核实"), "the status page says it waits");

  // ---- the surveyor confirms, then issues the card ------------------------------
  await tablet.goto(app.url + "/#/home");
  await tablet.waitForSelector("#home-applications .count");
  check((await tablet.textContent("#home-applications .count")) === "1", "the home screen counts the waiting application");
  await tablet.click("#home-applications");
  await tablet.waitForSelector("li.application");
  const item = await tablet.$("li.application");
  check((await item.textContent()).includes("赵小梅") && (await item.textContent()).includes("13700001234"), "the application shows the name and the phone to call");
  check(!(await item.textContent()).includes(id), "the ID number is masked in the list");
  await shot(tablet, "04-applications");
  await tablet.click("li.application button.primary");
  await tablet.waitForSelector('article.record[data-kind="member"] #saved-notice');
  const memberHash = new URL(tablet.url()).hash;
  check((await tablet.textContent("article.record h2")).includes("赵小梅"), "confirming opens the new member's record");
  await tablet.click("#issue-card");
  await tablet.waitForSelector(".card-face, #card");
  await shot(tablet, "05-card");
  // The card number reaches the county with the next sync.
  let carded = false;
  for (let i = 0; i < 30 && !carded; i++) {
    await phone.click("#look");
    await phone.waitForSelector('#status .status[data-status="confirmed"]');
    carded = (await phone.textContent("#status")).includes("会员卡已发放");
    if (!carded) await phone.waitForTimeout(1000);
  }
  check(carded, "the status page says the member has their card");
  await shot(phone, "06-confirmed");

  // ---- the same person applies again: the same answer; confirming merges ---------
  await phone.goto(url);
  await phone.waitForSelector("#form-view:not([hidden]) #union:not(:empty)");
  await phone.fill("#name", "赵小梅");
  await phone.fill("#resident_id", id);
  await phone.fill("#phone", "13700005678");
  await phone.selectOption("#education", "senior_high");
  await phone.selectOption("#political_status", "masses");
  await phone.check("#consent");
  await phone.click("#submit");
  await phone.waitForSelector("#done-view:not([hidden]) #reference:not(:empty)");
  const second = (await phone.textContent("#reference")).trim();
  check(second !== reference, "a fresh reference");
  check((await phone.textContent("#done-view")).replace(second, "") === doneText, "the page says exactly what it said to a stranger");
  await tablet.goto(app.url + "/#/applications");
  await tablet.waitForSelector("li.application");
  check((await tablet.textContent("li.application")).includes("已有会员记录"), "the surveyor is told it merges into the member");
  await tablet.click("li.application button.primary");
  await tablet.waitForSelector('article.record[data-kind="member"] #saved-notice');
  check(new URL(tablet.url()).hash === memberHash, "the same member record, not a second one");
  check((await tablet.textContent("article.record")).includes("13700005678"), "the new phone merged in");
  await phone.goto(`${new URL(url).origin}/apply-status#${second}`);
  await phone.waitForSelector('#status .status[data-status="confirmed"]');
  check((await phone.textContent("#status")).includes("会员卡已发放"), "the second application is confirmed, the card held");
  // English on the status page.
  await phone.click("#lang");
  check((await phone.textContent("#status")).includes("Accepted"), "the status in English");
  check(errors.length === 0, "no script errors: " + errors.join("; "));
  console.log(JSON.stringify({ reference, second, unionName, failures }));
} finally {
  await browser.close();
  await stop(app.proc);
  await county.stop();
}
process.exit(failures ? 1 : 0);
