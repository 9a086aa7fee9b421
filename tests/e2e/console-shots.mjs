// Every view of the county console at a desktop's and an upright tablet's
// width, saved as PNG, with each view's height in screens — for a county
// bigger than the tests' (scripts/console-shots.sh runs it on the demo
// county).
//
//   node console-shots.mjs <server base URL> <username> <password> <out dir>
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [base, username, password, out] = process.argv.slice(2);
mkdirSync(out, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const heights = {};
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(60000);
  await page.goto(`${base}/console`);
  await page.fill("#username", username);
  await page.fill("#password", password);
  await page.click("#signin-button");
  await page.waitForSelector('body[data-view="overview"]');
  const views = ["overview", "township", "township//clears", "township//census", "entities", "members", "review/quarantine", "review/conflicts", "review/duplicates", "review/credit-codes", "ledgers", "reconcile", "config", "config/areas", "config/staff", "audit"];
  for (const [label, width, height] of [["desktop", 1280, 900], ["tablet", 820, 1180]]) {
    await page.setViewportSize({ width, height });
    for (const view of views) {
      await page.goto(`${base}/console#/${view}`);
      await page.waitForSelector(`body[data-view="${view.split("/")[0] === "review" ? view : view.split("/")[0]}"]`);
      await page.waitForLoadState("networkidle");
      await page.waitForTimeout(500);
      const name = `${view.split("/").filter(Boolean).join("-")}-${label}`;
      await page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
      heights[name] = +(await page.evaluate((h) => document.documentElement.scrollHeight / h, height)).toFixed(1);
    }
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(heights));
const tall = Object.entries(heights).filter(([, h]) => h > 3);
console.log(tall.length ? `taller than three screens: ${tall.map(([n, h]) => `${n} ${h}`).join(", ")}` : "every view is at most three screens tall");
