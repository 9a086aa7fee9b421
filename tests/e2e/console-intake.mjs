// A new county on an empty server, in Debian's chromium: the county admin
// names the county and adds a township, brings in the area tree and the
// unions from the county's own sheets, then a member ledger with planted
// errors (GBK, a merged title, a bad check digit, an unknown union, a
// duplicate row): the trial run says what each row will do and why, the
// import writes the good rows, the dashboard counts the members, and the
// same file again changes nothing.
//
//   node console-intake.mjs <server base URL> <password> <areas.csv> <unions.csv> <members-gbk.csv> [screenshot dir]
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { check, failures, go, sub } from "./lib.mjs";

const [base, password, areasFile, unionsFile, membersFile, shots] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const errors = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.setDefaultTimeout(20000);
  await page.goto(base + "/console");
  await page.fill("#username", "admin");
  await page.fill("#password", password);
  await page.click("#signin-button");
  await page.waitForSelector("#dashboard:not([hidden])");

  // Nothing yet: the console asks for the county's name first.
  await go(page, "config");
  await sub(page, "areas");
  await page.waitForSelector("#ar-county:not([hidden])");
  check(await page.isHidden("#ar-township-add"), "no township can be added before the county is named");
  await page.fill("#ar-county-name", "示范县");
  await page.click("#ar-county-create");
  await page.waitForSelector("#ar-township-add:not([hidden])");
  check((await page.textContent("#ar-county-title")) === "示范县", "the county is named");
  check(await page.isHidden("#ar-county"), "and only once");
  // A township by hand, with its kind.
  await page.fill("#ar-tw-name", "城关镇");
  await page.selectOption("#ar-tw-kind", "town");
  await page.click("#ar-tw-create");
  await page.waitForFunction(() => [...document.querySelectorAll("#ar-township option")].some((o) => o.textContent === "城关镇"));
  check(true, "a township is added by hand");
  await page.fill("#ar-tw-name", "城关镇");
  await page.click("#ar-tw-create");
  await page.waitForSelector('#ar-status[data-code="AREA_NAME_TAKEN"]');
  check(true, "the same township twice is refused");

  // A sheet: trial run, then import.
  await go(page, "ledgers");
  async function bringIn(file, name, mime) {
    await page.setInputFiles("#in-file", { name, mimeType: mime, buffer: readFileSync(file) });
    await page.waitForSelector('#in-status[data-code="planned"]');
    const rows = await page.$$eval("#in-rows tr[data-line]", (ns) => ns.map((n) => [Number(n.dataset.line), n.dataset.action, n.dataset.code || ""]));
    return rows;
  }
  async function write() {
    await page.click("#in-write");
    await page.waitForSelector('#in-status[data-code="written"]');
    return page.textContent("#in-status");
  }

  // The area tree from the county's sheet: the hand-made township is
  // found, not made twice; a second township and grids are created.
  let rows = await bringIn(areasFile, "区域网格.csv", "text/csv");
  check(rows.length > 0 && rows.every(([, a]) => a === "create"), `every area row will be created (${rows.length})`);
  await write();
  await page.waitForFunction(() => [...document.querySelectorAll("#ar-township option")].some((o) => o.textContent === "高炉镇"), null, { timeout: 20000 });
  check((await page.$$eval("#ar-township option", (os) => os.map((o) => o.textContent))).filter((n) => n === "城关镇").length === 1, "the township named by hand is not made twice");

  // The unions.
  rows = await bringIn(unionsFile, "基层工会.csv", "text/csv");
  check(rows.length === 2 && rows.every(([, a]) => a === "create"), `both unions will be created (${JSON.stringify(rows)})`);
  await write();

  // The member ledger with planted errors, in GBK.
  const before = Number(await page.$$eval("#townships tbody tr:not([data-township]) td", (ns) => ns[6].textContent));
  rows = await bringIn(membersFile, "会员登记表.csv", "text/csv");
  const verdict = Object.fromEntries(rows.map(([line, action, code]) => [line, `${action}${code ? ":" + code : ""}`]));
  check(verdict[4] === "create" && verdict[5] === "create" && verdict[6] === "create", `three good rows will be created (${JSON.stringify(verdict)})`);
  check(verdict[7] === "refused:ID_CHECKSUM", `a bad check digit is refused (${verdict[7]})`);
  check(verdict[8] === "refused:LEDGER_UNKNOWN_UNION", `an unknown union is refused (${verdict[8]})`);
  check(verdict[9] === "refused:LEDGER_DUPLICATE_ROW", `a duplicate row is refused (${verdict[9]})`);
  const why = await page.textContent('#in-rows tr[data-line="8"]');
  check(why.includes("没有名为“不存在的工会”的工会"), "the refusal says why in Chinese");
  check((await page.textContent("#in-report")).includes("GBK"), "the encoding is named");
  const afterDry = Number(await page.$$eval("#townships tbody tr:not([data-township]) td", (ns) => ns[6].textContent));
  check(afterDry === before, "a trial run writes nothing");
  if (shots) await page.screenshot({ path: join(shots, "console-intake-dry-run.png"), fullPage: false });
  const done = await write();
  check(done.includes("新建 3"), `the import says what it did (${done})`);
  await page.waitForFunction((n) => Number(document.querySelectorAll("#townships tbody tr:not([data-township]) td")[6].textContent) === n + 3, before);
  check(true, "the dashboard counts the three imported members");
  await go(page, "audit");
  await page.waitForSelector("#audit-log tr");
  check((await page.textContent("#audit-log")).includes("工会会员实名制登记表"), "the import is in the audit log");

  // The same file again: nothing to create or update.
  await go(page, "ledgers");
  rows = await bringIn(membersFile, "会员登记表.csv", "text/csv");
  const again = Object.fromEntries(rows.map(([line, action]) => [line, action]));
  check(again[4] === "unchanged" && again[5] === "unchanged" && again[6] === "unchanged", `re-importing changes nothing (${JSON.stringify(again)})`);
  check(await page.isHidden("#in-write").catch(() => true), "there is nothing to import");

  // Everything out: the archive, sealed with a passphrase typed twice.
  await page.fill("#ar-pass", "短口令");
  await page.fill("#ar-pass2", "短口令");
  await page.click("#ar-export");
  await page.waitForSelector('#ar-out[data-code="ARCHIVE_PASSPHRASE"]');
  check(true, "a short passphrase is refused");
  await page.fill("#ar-pass", "示范县2026年档案口令");
  await page.fill("#ar-pass2", "示范县2026年档案口令");
  const [archive] = await Promise.all([page.waitForEvent("download"), page.click("#ar-export")]);
  const head = readFileSync(await archive.path()).subarray(0, 11).toString("latin1");
  check(head === "SJARCHIVE1\n" && archive.suggestedFilename().endsWith(".sjarchive"), `the archive downloads (${archive.suggestedFilename()})`);

  // English too.
  await page.click("#lang");
  check((await page.textContent("#intake h2")).includes("Bring in"), "the intake section reads in English");
} catch (e) {
  check(false, "the run stopped: " + (e.stack || e));
} finally {
  check(errors.length === 0, "no script errors: " + errors.join(" | "));
  await browser.close();
}
console.log(JSON.stringify({ failures }));
process.exit(failures ? 1 : 0);
