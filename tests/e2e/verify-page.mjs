// The county server's public card check page, in Debian's chromium.
//
//   node verify-page.mjs <server base URL> <card text> <expected>
//
// <expected> is "valid" or a refusal code (e.g. CARD_REVOKED). Pastes the
// card's text into /verify, presses 查验 (Check), and checks the verdict in
// Chinese, then in English after switching the language. Prints a JSON
// summary; exits 1 on any mismatch.
import { chromium } from "playwright-core";

const [base, text, expected] = process.argv.slice(2);
if (!base || !text || !expected) {
  console.error("usage: node verify-page.mjs BASE CARD_TEXT EXPECTED");
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
let failed = false;
const check = (ok, what) => {
  if (!ok) {
    failed = true;
    console.error("FAILED: " + what);
  }
};
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(base + "/verify");
  check((await page.title()).includes("会员卡查验"), "the page title is Chinese by default");
  await page.fill("#text", text);
  await page.click("#check");
  await page.waitForSelector("#result.ok, #result.bad");
  const zh = await page.textContent("#result");
  const cls = await page.getAttribute("#result", "class");
  if (expected === "valid") {
    check(cls === "ok" && zh.includes("有效会员卡"), "a valid verdict in Chinese: " + zh);
  } else {
    check(cls === "bad" && zh.includes(expected), "refused with " + expected + ": " + zh);
  }
  check(/\d{4}-\d{2}-\d{2}/.test(zh), "the revocation list's date is shown: " + zh);
  await page.click("#lang");
  const en = await page.textContent("#result");
  if (expected === "valid") check(en.includes("Valid card"), "a valid verdict in English: " + en);
  else check(en.includes(expected) && !/[\u4e00-\u9fff]{4}/.test(en.split(expected)[0]), "an English refusal: " + en);
  check((await page.textContent("h1")) === "Union membership card check", "the heading switches to English");
  check(errors.length === 0, "no script errors: " + errors.join("; "));
  console.log(JSON.stringify({ zh, en, class: cls }));
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
