// The county console's near-duplicate queue in Debian's chromium: a member
// registered twice under two ID numbers (same name and birth date) is
// compared with the ID numbers masked, one differing value taken from the
// second record, and the two merged; the queue empties and the audit log
// says who merged them.
//
//   node console-duplicates.mjs <server base URL> <username> <password> <name of the person>
import { chromium } from "playwright-core";
import { check, failures, go } from "./lib.mjs";

const [base, username, password, name] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const errors = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.setDefaultTimeout(20000);
  // A deep link to the queue, signed in on the way.
  await page.goto(base + "/console#/review/duplicates");
  await page.fill("#username", username);
  await page.fill("#password", password);
  await page.click("#signin-button");
  await page.waitForSelector('body[data-view="review/duplicates"] #dup-list [data-pair]');
  const pairs = await page.$$eval("#dup-list [data-pair]", (ns) => ns.map((n) => [n.dataset.pair, n.querySelector("strong").textContent]));
  const mine = pairs.find(([, title]) => title.includes(name));
  check(!!mine, `the member registered twice is in the queue (${pairs.length} pairs)`);
  const box = `#dup-list [data-pair="${mine[0]}"]`;
  const ids = await page.$$eval(`${box} tr`, (rows) =>
    rows.filter((r) => r.dataset.field === "resident_id").flatMap((r) => [...r.querySelectorAll("td")].map((d) => d.textContent.trim())));
  const idLabel = await page.textContent(`${box} tr[data-field="resident_id"] th`);
  check(idLabel === "公民身份号码", `the field is named as the tablet's form names it (${idLabel})`);
  check(ids.length === 2 && ids.every((id) => id.length === 18 && id.includes("*")), `both ID numbers are masked (${ids})`);
  // The employer of the second registration is taken (whichever side it is
  // shown on); the rest is the kept record's.
  await page.click(`${box} label:has(input[data-field="employer_name"]):has-text("重复登记测试厂")`);
  await page.click(`${box} button[data-decision="merge"]`);
  await page.waitForFunction((pair) => !document.querySelector(`#dup-list [data-pair="${pair}"]`), mine[0]);
  check(true, "merged, the pair leaves the queue");
  await go(page, "audit");
  await page.waitForSelector('#audit-log tr[data-action^="review:merge:"]');
  const action = await page.textContent('#audit-log tr[data-action^="review:merge:"] td:nth-child(3)');
  check(action === "合并重复记录", `the merge is in the audit log (${action})`);
} catch (e) {
  check(false, "the run stopped: " + (e.stack || e));
} finally {
  check(errors.length === 0, "no script errors: " + errors.join(" | "));
  await browser.close();
}
console.log(JSON.stringify({ failures }));
process.exit(failures ? 1 : 0);
