// The merchant check app (/m/<token>) offline, in Debian's chromium.
//
//   node merchant-offline.mjs <server base URL> <merchant token> <admin bearer token> \
//        <valid card text> <forged card text> <serial hex of the valid card>
//
// The page is opened through a small reverse proxy started here, which can
// cut the network: it then answers nothing (every socket destroyed), for the
// page and its service worker alike; the browser context is set offline
// too. Online, the page is opened and its service worker takes control and
// keeps the lists; cut off, the page reloads from the service worker and
// checks the valid card (valid, with the holder's name) and the forged one
// (refused, with its code); back online, the valid card is revoked through
// the admin API and the lists refreshed (刷新名单); cut off again, the same
// card is refused as revoked; back online, the page sends its counts, and
// the server must hold today's accepted = 1, refused = 2 for this merchant
// (so the merchant must have no checks counted today before the run). The
// language is switched to English once. Prints a JSON summary; exits 1 on
// any failed check.
import http from "node:http";
import https from "node:https";
import { chromium } from "playwright-core";
import { check, failures, sleep } from "./lib.mjs";
import { decodeCard, today, toHex, MESSAGES } from "../../crates/server/src/cardcheck.js";

const [baseArg, token, admin, valid, forged, serial] = process.argv.slice(2);
if (!baseArg || !token || !admin || !valid || !forged || !serial) {
  console.error("usage: node merchant-offline.mjs BASE MERCHANT_TOKEN ADMIN_TOKEN VALID_CARD FORGED_CARD VALID_SERIAL_HEX");
  process.exit(2);
}
const base = baseArg.replace(/\/$/, "");
const claims = decodeCard(valid);
const holder = claims.name;
check(toHex(claims.serial) === serial.toLowerCase(), `the serial given is the valid card's (${toHex(claims.serial)})`);

// ------------------------------------------------------------ the proxy

const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"]);

/** A reverse proxy on 127.0.0.1 in front of `target` that can cut the network. */
function startProxy(target) {
  const t = new URL(target);
  const client = t.protocol === "https:" ? https : http;
  const sockets = new Set();
  const stats = { forwarded: 0, refused: 0, lostAnswers: 0, countReports: 0 };
  let cut = false;
  // Answers to count reports to lose on their way back (the county took
  // the report; the phone never hears so).
  let lose = 0;
  const server = http.createServer((req, res) => {
    if (cut) {
      stats.refused += 1;
      req.socket.destroy();
      return;
    }
    stats.forwarded += 1;
    const headers = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k)) headers[k] = v;
    const up = client.request(
      {
        protocol: t.protocol,
        hostname: t.hostname,
        port: t.port || (t.protocol === "https:" ? 443 : 80),
        method: req.method,
        path: req.url,
        headers,
        rejectUnauthorized: false,
      },
      (upRes) => {
        if (req.method === "POST" && req.url.endsWith("/counts")) stats.countReports += 1;
        if (lose > 0 && req.method === "POST" && req.url.endsWith("/counts")) {
          lose -= 1;
          stats.lostAnswers += 1;
          upRes.resume();
          upRes.on("end", () => req.socket.destroy());
          return;
        }
        const out = {};
        for (const [k, v] of Object.entries(upRes.headers)) if (!HOP_BY_HOP.has(k)) out[k] = v;
        res.writeHead(upRes.statusCode, upRes.statusMessage, out);
        upRes.pipe(res);
        upRes.on("error", () => res.destroy());
      },
    );
    up.on("error", () => res.destroy());
    res.on("close", () => up.destroy());
    req.pipe(up);
  });
  server.on("connection", (socket) => {
    if (cut) {
      stats.refused += 1;
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        stats,
        cut() {
          cut = true;
          for (const s of sockets) s.destroy();
          sockets.clear();
        },
        restore() {
          cut = false;
        },
        loseCountAnswers(n) {
          lose = n;
        },
        close() {
          for (const s of sockets) s.destroy();
          return new Promise((r) => server.close(() => r()));
        },
      });
    });
  });
}

// ------------------------------------------------------------ the server's admin side

async function api(method, path, body) {
  const resp = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${admin}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await resp.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: resp.status, json, text };
}

/** Today's counts the server holds for this merchant, or null. */
async function serverCounts() {
  const r = await api("GET", "/api/console/merchants");
  if (r.status !== 200) throw new Error(`GET /api/console/merchants: ${r.status} ${r.text}`);
  const item = (r.json.items || []).find((i) => i.token === token);
  if (!item) return null;
  return (item.counts || []).find((c) => c.day === todayString) || { day: todayString, accepted: 0, refused: 0 };
}

async function until(what, f, ms = 30000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await f();
    if (last) return last;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const todayString = new Date(today() * 86400000).toISOString().slice(0, 10);

// ------------------------------------------------------------ the browser

const proxy = await startProxy(base);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const summary = { proxy: proxy.url, today: todayString };
const errors = [];
const violations = [];

try {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: "zh-CN", serviceWorkers: "allow" });
  const page = await context.newPage();
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
  });
  const network = {
    async cut() {
      proxy.cut();
      await context.setOffline(true);
    },
    async restore() {
      proxy.restore();
      await context.setOffline(false);
    },
  };

  /** Checks a card's text; the verdict box afresh (class, text). */
  async function verify(text) {
    await page.fill("#text", text);
    await page.click("#check");
    await page.waitForSelector("#result.ok, #result.bad", { timeout: 15000 });
    return { cls: await page.getAttribute("#result", "class"), text: await page.textContent("#result") };
  }
  const fetchedAt = async () => Number((await page.getAttribute("#lists-age", "data-fetched-at")) || 0);

  // Online: the page, its service worker, the lists.
  const url = `${proxy.url}/m/${token}`;
  await page.goto(url);
  check((await page.title()).includes("会员卡查验"), "the page's title is Chinese by default");
  await page.waitForSelector("#merchant:not([hidden])", { timeout: 15000 });
  const name = await page.textContent("#m-name");
  check(name.trim().length > 0, `the merchant's name is shown: ${name}`);
  await page.waitForSelector("#lists-age[data-fetched-at]", { timeout: 15000 });
  try {
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 15000 });
  } catch {
    await page.reload();
  }
  check(await page.evaluate(() => navigator.serviceWorker.controller !== null), "the service worker controls the page");
  // Once more, all through the service worker, which keeps its copies.
  await page.reload();
  await page.waitForSelector("#lists-age[data-fetched-at]", { timeout: 15000 });
  const kept = await page
    .waitForFunction(
      async () => {
        for (const name of await caches.keys()) {
          if (!name.startsWith("sanjian-m-api-")) continue;
          const keys = (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname);
          if (keys.includes("/api/cards/trust") && keys.includes("/api/cards/revocations") && keys.some((k) => k.endsWith("/info"))) return keys;
        }
        return false;
      },
      null,
      { timeout: 15000 },
    )
    .then((h) => h.jsonValue())
    .catch(() => null);
  check(kept !== null, `the service worker keeps the lists and the merchant's info: ${kept}`);
  check((await page.textContent("#net")) === "在线", "online is shown");
  summary.listsAge = await page.textContent("#lists-age");
  check(/名单(刚刚更新|更新于)/.test(summary.listsAge), `the lists' age is shown: ${summary.listsAge}`);

  // Cut off: the page comes from the service worker and checks cards.
  await network.cut();
  const forwardedWhileCut = proxy.stats.forwarded;
  const reloaded = await page.reload();
  check(reloaded !== null && reloaded.fromServiceWorker(), "offline, the page is served by the service worker");
  await page.waitForSelector("#merchant:not([hidden])", { timeout: 15000 });
  check((await page.textContent("#m-name")) === name, "offline, the merchant's name is still shown");
  await page.waitForFunction(() => document.getElementById("net").textContent === "离线", null, { timeout: 10000 }).catch(() => {});
  check((await page.textContent("#net")) === "离线", "offline is shown");
  const fallback = await page.evaluate(async () => {
    const r = await fetch("/api/cards/trust", { cache: "no-store" });
    return { status: r.status, offline: r.headers.get("x-sanjian-offline") };
  });
  check(fallback.status === 200 && fallback.offline === "1", `offline, the service worker answers with its copy of the list: ${JSON.stringify(fallback)}`);

  const ok = await verify(valid);
  summary.validOffline = ok.text;
  check(ok.cls === "ok" && ok.text.includes("有效会员卡"), `offline, the valid card is valid: ${ok.text}`);
  if (holder) check(ok.text.includes(holder), `the verdict names the holder (${holder})`);
  check((await page.textContent("#today-accepted")) === "1", "today's valid count is 1");

  const bad = await verify(forged);
  summary.forgedOffline = bad.text;
  const forgedCode = (bad.text.match(/CARD_[A-Z_]+/) || [])[0];
  check(bad.cls === "bad" && !!forgedCode, `offline, the forged card is refused with a code: ${bad.text}`);
  check((await page.textContent("#today-refused")) === "1", "today's refused count is 1");

  // English once: the verdict and the labels.
  await page.click("#lang");
  const en = await page.textContent("#result");
  summary.forgedEnglish = en;
  check(forgedCode && en.includes(MESSAGES[forgedCode].en) && en.includes(forgedCode), `the refusal in English: ${en}`);
  check((await page.textContent("h1")) === "Membership card check", "the heading in English");
  check((await page.textContent("#check")) === "Check" && (await page.textContent("#net")) === "Offline", "the labels in English");
  check((await page.title()).includes("Membership card check"), "the title in English");
  await page.click("#lang");
  check((await page.textContent("h1")) === "会员卡查验", "back to Chinese");
  check((await page.textContent("#result")).includes(MESSAGES[forgedCode]?.zh ?? "?"), "the refusal in Chinese again");
  check(proxy.stats.forwarded === forwardedWhileCut, "nothing went through the proxy while the network was cut");

  // Online again: the card is revoked, the lists refreshed.
  await network.restore();
  await page.waitForFunction(() => document.getElementById("net").textContent === "在线", null, { timeout: 15000 }).catch(() => {});
  check((await page.textContent("#net")) === "在线", "online again is shown");
  // The `online` event sends the counts so far.
  const first = await until("the first counts", async () => {
    const c = await serverCounts();
    return c && c.accepted === 1 && c.refused === 1 ? c : null;
  }).catch((e) => String(e));
  check(typeof first === "object", `back online, the counts are sent (1 valid, 1 refused): ${JSON.stringify(first)}`);
  await page.waitForSelector("#refresh:not([disabled])");

  const revoke = await api("POST", "/api/cards/revoke", { serial, reason: "遗失" });
  check(revoke.status === 200, `the valid card is revoked: ${revoke.status} ${revoke.text}`);
  const before = await fetchedAt();
  await sleep(20);
  await page.click("#refresh");
  await page
    .waitForFunction((b) => Number(document.getElementById("lists-age").dataset.fetchedAt || 0) > b, before, { timeout: 15000 })
    .catch(() => {});
  await page.waitForSelector("#refresh:not([disabled])");
  check((await fetchedAt()) > before, "刷新名单 fetches the lists anew");
  check((await page.isHidden("#lists-status")) === true, "the new lists are accepted (no refusal shown)");

  // Cut off again: the revoked card is refused.
  await network.cut();
  const revoked = await verify(valid);
  summary.revokedOffline = revoked.text;
  check(revoked.cls === "bad" && revoked.text.includes("CARD_REVOKED"), `offline, the revoked card is refused: ${revoked.text}`);
  check((await page.textContent("#today-accepted")) === "1" && (await page.textContent("#today-refused")) === "2", "today's counts on the page: 1 valid, 2 refused");
  check(!(await page.isHidden("#counts-pending")), "offline, the count waiting to be sent is shown");

  // Online: the counts reach the server, once, though the answer to the
  // first report is lost on its way back (the page sends the same report
  // again; the county counts it once).
  proxy.loseCountAnswers(1);
  await network.restore();
  await until("a report whose answer is lost", async () => proxy.stats.lostAnswers === 1);
  const taken = await until("the county to take the report", async () => {
    const c = await serverCounts();
    return c && c.accepted === 1 && c.refused === 2 ? c : null;
  }).catch((e) => String(e));
  check(typeof taken === "object", `the county took the report whose answer was lost: ${JSON.stringify(taken)}`);
  // The page sends the same report again (at once, or at 刷新名单).
  await page.click("#refresh");
  await until("the report sent again", async () => proxy.stats.countReports >= 2).catch(() => {});
  check(proxy.stats.countReports >= 2, `the report was sent again after its answer was lost (${proxy.stats.countReports} reports)`);
  const counts = await until("the counts", async () => {
    const c = await serverCounts();
    return c && c.accepted === 1 && c.refused === 2 ? c : null;
  }).catch((e) => String(e));
  summary.serverCounts = counts;
  check(typeof counts === "object", `the server holds today's counts 1 valid, 2 refused: ${JSON.stringify(counts)}`);
  await page.waitForSelector("#counts-pending", { state: "hidden", timeout: 10000 }).catch(() => {});
  check(await page.isHidden("#counts-pending"), "nothing left to send");
  await sleep(1500);
  const again = await serverCounts();
  check(again && again.accepted === 1 && again.refused === 2, `nothing is counted twice: ${JSON.stringify(again)}`);

  // Nothing about the cards checked is kept.
  const storage = await page.evaluate(() => JSON.stringify({ ...localStorage }));
  const leaks = [valid.slice(4, 40), forged.slice(4, 40), serial.toLowerCase(), holder].filter((s) => s && storage.includes(s));
  check(leaks.length === 0, `the page keeps nothing about the cards checked: ${leaks}`);
  const databases = await page.evaluate(async () => (indexedDB.databases ? (await indexedDB.databases()).map((d) => d.name) : []));
  check(databases.length === 0, `no IndexedDB: ${databases}`);

  check(errors.length === 0, "no script errors: " + errors.join("; "));
  check(violations.length === 0, "no Content-Security-Policy violations: " + violations.join("; "));
  summary.proxyStats = proxy.stats;
  await context.close();
} catch (e) {
  check(false, "the run: " + (e.stack || e));
} finally {
  await browser.close();
  await proxy.close();
}
console.log(JSON.stringify(summary, null, 2));
process.exit(failures ? 1 : 0);
