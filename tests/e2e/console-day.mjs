// A clerk's day in the county console, in a language at a width (zh at a
// desktop's, en at an upright tablet's): opened at the conflicts queue's
// own address (signing in on the way), a field two tablets changed
// differently is settled; then a township opened from the overview and
// left with the back button, and a ledger downloaded from its view — all
// through the navigation.
//
//   node console-day.mjs <server base URL> <username> <password> <entity id> <zh|en> <width> <height> [screenshot dir]
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { check, failures, go } from "./lib.mjs";

const [base, username, password, entity, lang, width, height, shots] = process.argv.slice(2);
const words = {
  zh: { signin: "工作人员登录", queue: "审核队列：多台设备改成不同值的字段", address: "地址" },
  en: { signin: "Staff sign-in", queue: "Review: fields devices changed", address: "Address" },
}[lang];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const errors = [];
try {
  const page = await browser.newPage({ viewport: { width: Number(width), height: Number(height) } });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.setDefaultTimeout(20000);
  await page.addInitScript((l) => localStorage.setItem("sanjian.lang", l), lang);
  await page.goto(`${base}/console#/review/conflicts`);
  check((await page.textContent("#signin h2")) === words.signin, `the sign-in page, in ${lang}`);
  await page.fill("#username", username);
  await page.fill("#password", password);
  await page.click("#signin-button");
  await page.waitForSelector('body[data-view="review/conflicts"]');
  check(true, "signed in at the queue's own address");
  await page.waitForSelector(`#conflict-list [data-record="${entity}"] [data-field="address"] button.choose`);
  check((await page.textContent('#nav a[data-nav="review/conflicts"] .count')) === "1", "the navigation counts the conflict");
  check((await page.textContent("#conflicts h2")).startsWith(words.queue), `the queue reads in ${lang}`);
  const choices = await page.$$eval(`#conflict-list [data-record="${entity}"] [data-field="address"] button.choose`, (bs) => bs.map((b) => b.textContent));
  check(choices.length === 2, `both tablets' values are offered (${choices.join(" | ")})`);
  const field = await page.textContent(`#conflict-list [data-record="${entity}"] [data-field="address"]`);
  check(field.startsWith(`${words.address}: `), `the field is named as the tablet's form names it (${field.split(":")[0]})`);
  const chosen = choices[0].split(" · ")[0];
  await page.click(`#conflict-list [data-record="${entity}"] [data-field="address"] button.choose >> nth=0`);
  await page.waitForFunction(() => document.querySelector("#conflicts-count").dataset.code === "settled" && !document.querySelector("#conflict-list [data-record]"));
  check(true, `settled: ${chosen}`);
  console.log(`chose: ${chosen}`);
  await page.waitForFunction(() => document.querySelector('#nav a[data-nav="review/conflicts"] .count').textContent === "");
  check(true, "the navigation's count goes");
  if (shots) await page.screenshot({ path: join(shots, `day-conflicts-${width}-${lang}.png`), fullPage: true });

  // A township from the overview, and back.
  await go(page, "overview");
  const first = await page.getAttribute("#townships a[data-open]", "data-open");
  await page.click(`#townships a[data-open="${first}"]`);
  await page.waitForSelector("#township-detail:not([hidden]) #td-grids tbody tr");
  check(page.url().endsWith(`#/township/${first}`), "a township at its own address");
  await page.goBack();
  await page.waitForSelector('body[data-view="overview"]');
  check(true, "back to the overview");

  // A ledger from its view.
  await go(page, "ledgers");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click('button[data-ledger="organisation"][data-format="csv"]')]);
  const head = readFileSync(await download.path()).subarray(0, 3);
  check(head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf, `the unions' ledger downloads as CSV (${download.suggestedFilename()})`);
  // Nothing at this width runs off the side of the page.
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  check(wide <= Number(width), `nothing wider than the screen (${wide} px of ${width})`);
} catch (e) {
  check(false, "the run stopped: " + (e.stack || e));
} finally {
  check(errors.length === 0, "no script errors: " + errors.join(" | "));
  await browser.close();
}
console.log(JSON.stringify({ failures }));
process.exit(failures ? 1 : 0);
