// The county console in Debian's chromium: sign in, then the dashboard's
// figures against the registry's own report (`sanjian stats --json` of the
// same county).
//
//   node console.mjs <server base URL> <username> <password> <stats.json> [screenshot dir]
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { check, failures, go, sub } from "./lib.mjs";
import { pct } from "../../ui/lib/format.js";
import { countyCall } from "../../ui/lib/county-client.js";

// With "review", one quarantined write is expected, and dismissed with a
// note; with a three-clears JSON file (`sanjian three-clears --json` of the
// first township), the console's figures are checked against it.
const [base, username, password, statsFile, shots, review, clearsFile] = process.argv.slice(2);
const stats = JSON.parse(readFileSync(statsFile, "utf8"));
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
  check((await page.title()).includes("县总工会工作台"), "the console is Chinese by default");
  await page.fill("#username", username);
  await page.fill("#password", "wrong password");
  await page.click("#signin-button");
  await page.waitForFunction(() => document.querySelector("#signin-error").textContent.length > 0);
  check(true, "a wrong password is refused in plain words");
  await page.fill("#password", password);
  await page.click("#signin-button");
  await page.waitForSelector("#dashboard:not([hidden]) .goal");
  const goals = await page.$$eval(".goal", (ns) => ns.map((n) => [n.dataset.goal, n.dataset.met === "true"]));
  const expected = stats.goals.map((g) => [g.key, g.met]);
  check(JSON.stringify(goals) === JSON.stringify(expected), `every goal met or not as the registry says (${goals.length})`);
  const rows = await page.$$eval("#townships tbody tr[data-township]", (ns) => ns.length);
  check(rows === stats.townships.length, `a row per township (${rows})`);
  const county = await page.$$eval("#townships tbody tr:not([data-township]) td", (ns) => ns.map((n) => n.textContent));
  check(county[6] === String(stats.county.active_members), `the county's active members (${county[6]})`);
  check(county[4] === `${stats.county.new_members}/${stats.county.target_new_members}`, `new members against the target (${county[4]})`);
  // 入会率 and 发证率: the county's row and goal cards say what the registry
  // computed over the same county's records.
  check(county[8] === pct(stats.county.membership) && county[9] === pct(stats.county.carded),
    `入会率 ${county[8]} and 发证率 ${county[9]} as the registry computes (${pct(stats.county.membership)}, ${pct(stats.county.carded)})`);
  const cardGoal = await page.textContent('.goal[data-goal="cards"]');
  const cardShown = parseFloat(await page.textContent('.goal[data-goal="cards"] .v'));
  const carded = (100 * stats.county.carded.numerator) / stats.county.carded.denominator;
  check(cardGoal.includes("会员发证率") && Math.abs(cardShown - carded) < 0.051 && cardGoal.includes("目标 100%"), `the 发证率 goal card: ${cardGoal}`);
  const first = stats.townships[0];
  const cells = await page.$$eval(`#townships tr[data-township="${first.id}"] td`, (ns) => ns.map((n) => n.textContent));
  check(cells[3] === `${first.new_unions}/${first.target_new_unions}`, `${first.name}: new unions against the target`);
  // The county trend, and a township's grids, surveyors and trend.
  // Charts by Chart.js, served by the county server itself (no CDN).
  await page.waitForFunction(() => window.sanjianCharts && window.sanjianCharts.trend);
  const trend = await page.evaluate(() => {
    const c = window.sanjianCharts.trend;
    return { months: c.data.labels.length, axes: c.data.datasets.map((d) => d.yAxisID), drawn: c.canvas.width > 0 };
  });
  check(trend.months === 12 && trend.drawn, `the county's trend has a bar a month (${trend.months})`);
  check(JSON.stringify(trend.axes) === JSON.stringify(["members", "unions"]), `new members and new unions each on its own axis (${trend.axes})`);
  const lib = await (await fetch(`${base}/console/vendor/chart.js`)).text();
  check(lib.includes("Chart.js") && lib.length > 100000, "the chart library comes from the county server");
  await page.click(`#townships a[data-open="${first.id}"]`);
  await page.waitForSelector("#township-detail:not([hidden]) #td-grids tbody tr[data-grid]");
  check((await page.textContent("#td-title")) === first.name, "the township's detail opens");
  const unionRows = await page.$$eval("#td-unions tbody tr[data-union]", (ns) => ns.map((n) => [n.querySelector('[data-col="membership"]').textContent, n.querySelector('[data-col="cards"]').textContent]));
  check(unionRows.length > 0 && unionRows.some(([m, c]) => m.endsWith("%") && c.endsWith("%")), `each union's 入会率 and 发证率 (${unionRows.length} unions)`);
  check(page.url().endsWith(`#/township/${first.id}`), "at its own address");
  check(await page.isHidden("#goals"), "the overview is left: one view at a time");
  // The back button returns to the overview; the address opens the township again.
  await page.goBack();
  await page.waitForSelector('body[data-view="overview"] #townships');
  check(await page.isVisible("#goals"), "back to the overview");
  const second = stats.townships[1] || first;
  await page.goto(`${base}/console#/township/${second.id}`);
  await page.waitForFunction((name) => document.querySelector("#td-title").textContent === name, second.name);
  check((await page.inputValue("#tw-pick")) === second.id, `a deep link opens ${second.name}`);
  await page.selectOption("#tw-pick", first.id);
  await page.waitForFunction((name) => document.querySelector("#td-title").textContent === name, first.name);
  check(page.url().includes(`#/township/${first.id}`), "choosing another township changes the address");
  if (shots) await page.screenshot({ path: join(shots, "console-dashboard.png"), fullPage: true });
  if (clearsFile) {
    await sub(page, "clears");
    check(page.url().endsWith("/clears"), "三个清楚 at its own address");
    const clears = JSON.parse(readFileSync(clearsFile, "utf8"));
    await page.selectOption("#tc-area", stats.townships[0].id);
    await page.waitForSelector("#tc-summary");
    const got = await page.$eval("#tc-summary", (n) => [n.dataset.private, n.dataset.with, n.dataset.without].map(Number));
    const want = [clears.private_enterprises.length, clears.with_union.length, clears.without_union.length];
    check(JSON.stringify(got) === JSON.stringify(want), `三个清楚 of ${stats.townships[0].name} as the registry says (${got})`);
  }
  if (review === "review") {
    await go(page, "review/quarantine");
    check((await page.textContent('#nav a[data-nav="review/quarantine"] .count')) === "1", "the navigation counts the queue");
    await page.waitForSelector("#quarantine tr[data-entry]");
    const code = await page.getAttribute("#quarantine tr[data-entry] td[data-code]", "data-code");
    check(code === "OUT_OF_SCOPE", `the quarantined write is in the review queue (${code})`);
    page.once("dialog", (d) => d.accept("重复登记，驳回"));
    await page.click('#quarantine tr[data-entry] button[data-decision="dismiss"]');
    await page.waitForSelector('#review-status[data-code="dismiss"]');
    check((await page.$$("#quarantine tr[data-entry]")).length === 0, "dismissed with a note, it leaves the queue");
  }
  // Another office's list: previewed, columns guessed, reconciled.
  await go(page, "reconcile");
  const csv = "单位名称,统一社会信用代码,从业人员,地址\n新开张小吃店,,3,南街\n坏代码商行,91ABC,5,\n";
  await page.setInputFiles("#rc-file", { name: "工商.csv", mimeType: "text/csv", buffer: Buffer.from(csv, "utf8") });
  await page.waitForSelector("#rc-run");
  check((await page.inputValue("#rc-col-credit_code")) === "1", "the credit-code column is guessed");
  await page.click("#rc-run");
  await page.waitForSelector('#rc-status[data-code="done"]');
  check((await page.textContent("#rc-report")).includes("新开张小吃店"), "the entity the census lacks is reported");
  check((await page.textContent("#rc-report")).includes("CREDIT_CODE_LENGTH"), "the malformed code is reported with its line");
  // The census's entities, paged on the server: the first page of fifty,
  // the uncovered ones, a search.
  await go(page, "entities");
  await page.waitForSelector("#el-list tbody tr[data-entity]");
  const entityTotal = Number(await page.getAttribute("#el-count", "data-total"));
  const shown = (await page.$$("#el-list tbody tr[data-entity]")).length;
  check(entityTotal >= stats.county.entities, `every open entity is counted, and the closed ones (${entityTotal} ≥ ${stats.county.entities}), ${shown} on the first page`);
  check(shown === Math.min(50, entityTotal), "fifty a page");
  await page.selectOption("#el-status", "uncovered");
  await page.waitForFunction((t) => Number(document.querySelector("#el-count").dataset.total) < t, entityTotal);
  check(true, `the uncovered ones: ${await page.getAttribute("#el-count", "data-total")}`);
  await page.selectOption("#el-status", "all");
  // Members: a page of fifty, found again by a whole name.
  await go(page, "members");
  await page.waitForSelector("#ml-list tbody tr[data-member]");
  const memberTotal = Number(await page.getAttribute("#ml-count", "data-total"));
  check(memberTotal >= stats.county.active_members, `every member is counted (${memberTotal})`);
  const someone = await page.textContent("#ml-list tbody tr[data-member] td");
  check((await page.textContent("#ml-list tbody tr[data-member] td:nth-child(2)")).includes("*"), "ID numbers masked");
  await page.fill("#ml-q", someone);
  await page.click("#ml-find");
  await page.waitForFunction((t) => Number(document.querySelector("#ml-count").dataset.total) < t, memberTotal);
  check((await page.$$eval("#ml-list tbody tr[data-member] td:first-child", (ns) => ns.map((n) => n.textContent))).every((n) => n === someone), `found by name: ${someone}`);
  // A union's join-by-QR poster, made in the console: its form's address.
  await go(page, "review/applications");
  await page.waitForSelector("#ap-union option", { state: "attached" });
  await page.click("#ap-poster");
  await page.waitForSelector("#ap-poster-view svg");
  const posterUrl = await page.textContent("#ap-poster-view .url");
  check(/\/apply\/[0-9a-f]{32}-[0-9a-f]{12}$/.test(posterUrl), `a union's poster holds its form's address: ${posterUrl}`);
  const form = await (await fetch(posterUrl.replace(/^https?:\/\/[^/]+/, base).replace("/apply/", "/api/apply/"))).json();
  check(form.name === (await page.textContent("#ap-poster-view h2")), `the county's form names the poster's union: ${form.name}`);
  // The door-to-door census of the first township: counts, map, lists.
  await go(page, "township");
  await sub(page, "census");
  await page.waitForSelector("#cs-summary[data-not-visited]");
  const taskTownship = await page.$eval("#rc-task-township", (s) => s.value);
  await page.selectOption("#cs-township", taskTownship);
  await page.waitForSelector(`#cs-summary[data-township="${taskTownship}"]`);
  await page.waitForFunction(() => document.querySelector("#cs-map svg circle"));
  const before = Number(await page.getAttribute("#cs-summary", "data-not-visited"));
  check((await page.$$("#cs-map svg circle")).length > 0, `the township's visits are on the map (${before} not visited)`);
  // On the county's own base map, tiles from the county server.
  const tiles = await page.$$eval("#cs-map svg image[data-tile]", (ns) => ns.map((n) => n.getAttribute("href")));
  check(tiles.length > 0 && tiles.every((h) => h.startsWith("/console/tiles/")), `the map lies on the county's base map (${tiles.length} tiles)`);
  const tile = await fetch(`${base}${tiles[0]}`);
  check(tile.ok && tile.headers.get("content-type") === "image/png", "a tile comes from the county server, with no sign-in");
  check((await fetch(`${base}/console/tiles/9/0/0`)).status === 404, "a tile the map lacks is not found");
  // The entity the census lacks becomes a visit task in that township.
  await go(page, "reconcile");
  await page.click("#rc-make-tasks");
  await page.waitForSelector('#rc-tasks-status[data-code="made"]');
  await page.waitForFunction((n) => Number(document.querySelector("#cs-summary").dataset.notVisited) === n + 1, before);
  check((await page.textContent("#cs-not-visited")).includes("新开张小吃店"), "the office's unknown entity is now to be visited");
  // The member ledger downloads as XLSX (an Office Open XML zip).
  await go(page, "ledgers");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click('button[data-ledger="member"][data-format="xlsx"]')]);
  const path = await download.path();
  const head = readFileSync(path).subarray(0, 2).toString("latin1");
  check(head === "PK" && download.suggestedFilename().endsWith(".xlsx"), `the member ledger downloads (${download.suggestedFilename()})`);
  const [done, total] = await page.$eval("#export-progress", (b) => [Number(b.dataset.done), Number(b.dataset.total)]);
  check(total > 0 && done === total, `the progress bar counted every member (${done}/${total})`);
  // The printable member ledger opens in its own window: the form's title,
  // its headers, ID numbers masked.
  const [popup] = await Promise.all([page.waitForEvent("popup"), page.click('button[data-ledger="member"][data-format="html"]')]);
  await popup.waitForSelector("table tbody tr");
  check((await popup.textContent("h1")) === "工会会员实名制登记表（含已离会会员，见“会籍状态”列）", "the printable ledger has the form's title, saying who it lists");
  const printedIds = await popup.$$eval("tbody tr", (rows) => rows.map((r) => r.children[5].textContent));
  check(printedIds.length === total && printedIds.every((id) => id.includes("*")), `every member printed, IDs masked (${printedIds.length})`);
  await popup.close();
  // The field-conflict queue answers (empty here: one device only).
  await page.waitForFunction(() => document.querySelector("#conflicts-count").textContent.length > 0);
  check((await page.$$("#conflict-list [data-record]")).length === 0, "no field conflicts to settle");
  // The kept-credit-code queue answers (synthetic counties keep a few).
  await page.waitForFunction(() => document.querySelector("#overrides-count").textContent.length > 0);
  check(true, "the kept-credit-code queue is shown");
  // Configuration: a township clerk's account (first password shown once),
  // a device's enrolment code as a QR, and the enrolled devices.
  await go(page, "config");
  await sub(page, "staff");
  await page.waitForSelector("#staff-list tr[data-user]");
  await page.fill("#st-username", "王芳");
  await page.selectOption("#st-role", "township_staff");
  await page.click("#st-create");
  await page.waitForSelector('#st-out[data-code="created"]');
  check((await page.textContent("#st-out")).includes("王芳"), "a staff account is created with its first password");
  await page.waitForSelector('#staff-list tr[data-user="王芳"]');
  await page.fill("#en-person", "李四");
  await page.click("#en-create");
  await page.waitForSelector("#en-qr svg");
  check((await page.textContent("#en-text")).startsWith("SJE1:"), "an enrolment code is shown as a QR and as text");
  check((await page.$$("#device-list tr[data-device]")).length >= 1, "the enrolled devices are listed");
  check((await page.$$("#device-list tr[data-device] button[data-action=wipe]")).length >= 1, "a lost device can be wiped remotely");
  // The area tree: a grid added to the first township, then a surveyor's
  // enrolment code for that grid.
  await sub(page, "areas");
  await page.waitForSelector("#ar-list tr[data-level=grid]");
  const tid = await page.inputValue("#ar-township");
  await sub(page, "staff");
  await page.selectOption("#en-township", tid);
  await sub(page, "areas");
  await page.selectOption("#ar-level", "grid");
  await page.fill("#ar-name", "测试新网格");
  await page.click("#ar-create");
  await page.waitForSelector('#ar-status[data-code="added"]');
  await page.waitForFunction(() => [...document.querySelectorAll('#ar-list tr[data-level=grid] input[data-k=name]')].some((i) => i.value === "测试新网格"));
  check(true, "a grid is added to the township's tree");
  await page.fill("#ar-name", "测试新网格");
  await page.click("#ar-create");
  await page.waitForSelector('#ar-status[data-code="AREA_NAME_TAKEN"]');
  check(true, "the same name twice is refused");
  await sub(page, "staff");
  const gridId = await page.$eval("#en-grids", (sel) => [...sel.options].find((o) => o.textContent === "测试新网格").value);
  await page.selectOption("#en-grids", gridId);
  await page.fill("#en-person", "网格员甲");
  await page.click("#en-create");
  await page.waitForFunction(() => document.querySelector("#en-text") && document.querySelector("#en-text").textContent.startsWith("SJE1:"));
  check(true, "a surveyor's enrolment code for the new grid");
  // The daily snapshots draw the rate trend (the server took today's at start).
  await go(page, "overview");
  await page.waitForFunction(() => window.sanjianCharts && window.sanjianCharts.rates && window.sanjianCharts.rates.data.datasets[0].data.some((v) => v !== null));
  check(true, "the coverage trend is drawn from the daily snapshots");
  // The year's targets and calendar: a deadline before its start is
  // refused in plain words; then the coverage goal is set to 50%.
  await go(page, "config");
  await sub(page, "campaign");
  await page.waitForSelector('#cp-calendar tr[data-phase="founding"] input[data-p-key="deadline"]');
  const deadline = '#cp-calendar tr[data-phase="founding"] input[data-p-key="deadline"]';
  const year = (await page.inputValue(deadline)).slice(0, 4);
  await page.fill(deadline, `${year}-04-01`);
  await page.click("#cp-save");
  await page.waitForSelector('#cp-status[data-code="CONFIG_PHASE_ORDER"]');
  check((await page.textContent("#cp-status")).includes("截止日期早于开始日期"), "a deadline before its start is refused");
  await page.fill(deadline, `${year}-05-31`);
  await page.fill('#cp-targets input[data-rate="coverage_goal"]', "50");
  await page.click("#cp-save");
  await page.waitForSelector('#cp-status[data-code="saved"]');
  await page.waitForFunction(() => document.querySelector('.goal[data-goal="coverage"]').textContent.includes("目标 50%"));
  check(true, "the dashboard measures coverage against the new goal");
  // The audit log shows the export just made and the review decision.
  await page.reload();
  await page.waitForSelector('body[data-view="config"][data-sub="campaign"]');
  check(true, "a reload keeps the view");
  await go(page, "audit");
  await page.waitForSelector('#audit-log tr[data-action="export"]');
  check(true, "the export is in the audit log");
  if (review === "review") {
    check((await page.$$('#audit-log tr[data-action="review:dismiss"]')).length === 1, "so is the review decision");
  }
  check((await page.$$('#audit-log tr[data-action="import"]')).length >= 1, "and the reconciliation");
  check((await page.$$('#audit-log tr[data-action="configure"]')).length === 2, "and the configuration changes (targets, grid)");
  await page.click("#lang");
  check((await page.textContent("#title")).includes("County console"), "English after the switch");
  check((await page.textContent('#nav a[data-nav="overview"]')) === "Overview", "the navigation too");
  await page.waitForSelector('body[data-lang="en"]');
  check((await page.textContent("#conflicts-count")) === "Nothing to review", `and the review panels (${await page.textContent("#conflicts-count")})`);
  check(/^\d+ entities: /.test(await page.textContent("#cs-summary")), `and the census (${await page.textContent("#cs-summary")})`);
  await page.click("#lang");

  // Every view at a desktop's and an upright tablet's width, saved (the
  // test script copies them into docs/screenshots/console/ when asked);
  // how tall each is, in screens.
  if (shots) {
    const views = ["overview", `township/${first.id}`, `township/${first.id}/clears`, `township/${first.id}/census`, "entities", "members", "review/quarantine", "review/conflicts", "review/duplicates", "review/credit-codes", "ledgers", "reconcile", "config", "config/areas", "config/staff", "audit"];
    const heights = {};
    for (const [label, width, height] of [["desktop", 1280, 900], ["tablet", 820, 1180]]) {
      await page.setViewportSize({ width, height });
      for (const view of views) {
        await page.goto(`${base}/console#/${view}`);
        await page.waitForSelector(`body[data-view="${view.startsWith("township") ? "township" : view.startsWith("config") ? "config" : view}"]`);
        await page.waitForTimeout(400);
        const name = view.startsWith("township") ? `township${view.split("/")[2] ? "-" + view.split("/")[2] : ""}` : view.replace("/", "-");
        await page.screenshot({ path: join(shots, `${name}-${label}.png`), fullPage: true });
        heights[`${name}-${label}`] = +(await page.evaluate((h) => document.documentElement.scrollHeight / h, height)).toFixed(1);
      }
    }
    console.log("screens tall: " + JSON.stringify(heights));
    await page.setViewportSize({ width: 1280, height: 900 });
  }

  // The typed client (ui/lib/county-client.js, over the route table and the
  // declarations generated from the Rust DTOs) against the same server.
  const signIn = await (await fetch(`${base}/api/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password }) })).json();
  const opts = { token: signIn.token, base };
  const progress = await countyCall("Progress", { year: null, township: null }, opts);
  check(progress.townships.length === stats.townships.length, `the client reads the progress report (${progress.townships.length} townships)`);
  const staff = await countyCall("ListStaff", {}, opts);
  check(staff.some((a) => a.username === username), "and the staff accounts");
  const refusal = await countyCall("DisableStaff", { username }, opts).then(() => null, (e) => e);
  check(refusal && refusal.code === "CANNOT_DISABLE_SELF" && refusal.message.zh.length > 0, `a refusal comes back with its code and message (${refusal && refusal.code})`);
  const outsider = await countyCall("Progress", { year: null, township: null }, { base }).then(() => null, (e) => e);
  check(outsider && outsider.code === "UNAUTHENTICATED", "without a token, UNAUTHENTICATED");
} catch (e) {
  check(false, "the run stopped: " + (e.stack || e));
} finally {
  check(errors.length === 0, "no script errors: " + errors.join(" | "));
  await browser.close();
}
console.log(JSON.stringify({ failures }));
process.exit(failures ? 1 : 0);
