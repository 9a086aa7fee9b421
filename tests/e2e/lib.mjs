// Shared by the end-to-end scripts: real processes of the `sanjian` binary
// (a county server with a generated county, enrolments, the field app's
// local HTTP server) and small checks.
import { spawn, execFileSync } from "node:child_process";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import qrcode from "qrcode-generator";

export let failures = 0;

export function check(ok, what) {
  if (!ok) {
    failures += 1;
    console.error("FAILED: " + what);
  } else {
    console.log("ok: " + what);
  }
}

export function run(bin, args) {
  try {
    const env = { ...process.env };
    delete env.SANJIAN_KEY;
    return execFileSync(bin, args, { encoding: "utf8", env, stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    throw new Error(`${bin} ${args.join(" ")} failed: ${e.stderr || e.message}`);
  }
}

// Starts a process and resolves with the first line on `stream` that
// matches `pattern` (and the match).
export function startUntil(bin, args, stream, pattern, env = {}) {
  const proc = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const lines = createInterface({ input: proc[stream] });
  const other = stream === "stdout" ? proc.stderr : proc.stdout;
  const log = [];
  other.on("data", (d) => log.push(String(d)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${bin} ${args[0]}: no ${pattern} in time\n${log.join("")}`)), 60000);
    lines.on("line", (line) => {
      log.push(line + "\n");
      const m = line.match(pattern);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, match: m, log });
      }
    });
    proc.on("exit", (code) => reject(new Error(`${bin} ${args[0]} exited ${code}\n${log.join("")}`)));
  });
}

export function stop(proc) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null) return resolve();
    proc.once("exit", () => resolve());
    proc.kill("SIGTERM");
  });
}

// A county: a generated county imported into a server's data directory.
export class County {
  constructor(bin, dir) {
    this.bin = bin;
    this.dir = dir;
    this.data = join(dir, "server");
    this.proc = null;
    this.base = null;
  }

  prepare(members = 400) {
    const db = join(this.dir, "county.db");
    run(this.bin, ["generate", "--members", String(members), "--seed", "11", "--db", db]);
    const stats = JSON.parse(run(this.bin, ["stats", "--db", db, "--json"]));
    this.township = stats.townships[0].name;
    run(this.bin, ["import", "--data", this.data, "--from", db]);
    return this;
  }

  async start() {
    const listen = this.base ? this.base.replace("http://", "") : "127.0.0.1:0";
    const { proc, match, log } = await startUntil(this.bin, ["serve", "--data", this.data, "--listen", listen], "stdout", /(http:\/\/\S+)/);
    this.proc = proc;
    this.logs = [...(this.logs || []), log];
    this.base = match[1].replace(/\/$/, "");
    return this;
  }

  async stop() {
    if (this.proc) await stop(this.proc);
    this.proc = null;
  }

  enrol(person) {
    const out = run(this.bin, ["enrol", "--data", this.data, "--person", person, "--role", "township_staff", "--township", this.township]);
    return out.trim().split("\n").pop().trim();
  }
}

// The field app over loopback HTTP (`sanjian app-web`).
export async function startAppWeb(bin, dataDir, uiDir) {
  const { proc, match, log } = await startUntil(
    bin,
    ["app-web", "--data", dataDir, "--ui", uiDir, "--listen", "127.0.0.1:0", "--retry", "1", "--sync-interval", "3600"],
    "stderr",
    /app listening on (http:\/\/\S+)/,
  );
  return { proc, url: match[1].replace(/\/$/, ""), log };
}

// Runs of 11 or more digits (a phone, a resident ID number) in a text: what
// must never be in a log.
export function digitRuns(text) {
  return text.match(/\d{11,}X?/g) || [];
}

// Checks that the logs (arrays of printed chunks) of a whole run hold no
// phone or ID number.
export function checkLogsHoldNoPersonalData(logs) {
  const text = logs.map((l) => l.join("")).join("\n");
  const leaked = digitRuns(text);
  check(leaked.length === 0, `no phone or ID number in the logs of the run (${text.length} bytes): ${leaked.slice(0, 3)}`);
}

// A valid 18-character resident ID for a birth date and a sequence number
// (odd: male, even: female).
export function residentId(birth, seq) {
  const body = "110105" + birth.replace(/-/g, "") + String(seq).padStart(3, "0");
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...body].reduce((s, c, i) => s + Number(c) * weights[i], 0);
  return body + "10X98765432"[sum % 11];
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// A Unified Social Credit Code (GB 32100-2015) from its first 17
// characters, with its check character computed independently of the app.
export function creditCode(first17) {
  const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  const weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
  const sum = [...first17].reduce((s, c, i) => s + alphabet.indexOf(c) * weights[i], 0);
  return first17 + alphabet[(31 - (sum % 31)) % 31];
}

// What a business licence's QR code says: a link to the national publicity
// system with the credit code as a parameter.
export function licenceQrText(code) {
  return `http://www.gsxt.gov.cn/index.html?uniscid=${code}`;
}

// A QR code's modules (qrcode-generator, error correction M).
export function qrModules(text) {
  const qr = qrcode(0, "M");
  qr.addData(text);
  qr.make();
  const n = qr.getModuleCount();
  return { n, dark: (r, c) => r >= 0 && c >= 0 && r < n && c < n && qr.isDark(r, c) };
}

// The QR as an SVG page, for a picture of it (a photo of the licence).
export function qrSvg(text) {
  const qr = qrcode(0, "M");
  qr.addData(text);
  qr.make();
  return qr.createSvgTag(8, 32);
}

// A video file chromium's fake camera plays (--use-file-for-fake-video-capture):
// the QR code drawn in black on a grey page, as a camera held over a licence
// sees it. YUV4MPEG2, 4:2:0, two identical frames that loop.
export function writeQrVideo(path, text) {
  const { n, dark } = qrModules(text);
  const width = 640, height = 480, module = 8;
  const size = (n + 8) * module;
  const left = Math.floor((width - size) / 2), top = Math.floor((height - size) / 2);
  const y = Buffer.alloc(width * height, 180);
  for (let row = 0; row < size; row++) {
    for (let col = 0; col < size; col++) {
      const r = Math.floor(row / module) - 4, c = Math.floor(col / module) - 4;
      y[(top + row) * width + left + col] = dark(r, c) ? 16 : 235;
    }
  }
  const chroma = Buffer.alloc((width / 2) * (height / 2) * 2, 128);
  const frame = Buffer.concat([Buffer.from("FRAME\n"), y, chroma]);
  writeFileSync(path, Buffer.concat([Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\n`), frame, frame]));
}

// The county console's views: a click on the navigation, then the view is
// the page's (its sections shown, the others hidden).
export async function go(page, view) {
  await page.click(`#nav a[data-nav="${view}"]`);
  await page.waitForSelector(`body[data-view="${view}"]`);
}

// A part of the current view (a township's census, the configuration's
// areas): a click on the view's own sub-navigation.
export async function sub(page, part) {
  await page.click(`section:not([hidden]) .subnav a[data-sub="${part}"]`);
  await page.waitForSelector(`body[data-sub="${part}"]`);
}
