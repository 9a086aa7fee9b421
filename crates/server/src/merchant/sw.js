// The merchant check app's service worker (scope /m/): the app opens and
// checks cards with no network.
//
// - The app shell (the page, the verifier, the manifest, the icon) is cached
//   at install and served from the cache at once, refreshed from the network
//   behind it (stale-while-revalidate): the page is the same HTML for every
//   merchant link, so any /m/<token> navigation is answered with /m/.
// - The signed lists and the merchant's info are fetched network-first; a
//   good answer is kept (these answers are `Cache-Control: no-store`, so the
//   HTTP cache never holds them) and served, marked `X-Sanjian-Offline: 1`,
//   when the network fails. The page decides which lists it trusts: it keeps
//   the last ones the verifier accepted, so a forged list this worker copied
//   never replaces them.
// - Everything else (the counts POST included) goes to the network untouched.
"use strict";

const VERSION = "1";
const SHELL = `sanjian-m-shell-v${VERSION}`;
const API = `sanjian-m-api-v${VERSION}`;
/** This worker's caches, whatever their version (the page's own cache is not one). */
const OURS = /^sanjian-m-(shell|api)-v/;
const SHELL_FILES = ["/m/", "/m/cardcheck.js", "/m/manifest.webmanifest", "/m/icon.svg"];
const PAGE = /^\/m\/(?:[0-9a-f]{32})?$/;
const KEPT_API = /^\/api\/(?:cards\/(?:trust|revocations)|merchants\/[0-9a-f]{32}\/info)$/;
const INFO = /^\/api\/merchants\/[0-9a-f]{32}\/info$/;
/** How long a list or info request may take before the kept copy is used. */
const NETWORK_TIMEOUT_MS = 10000;

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL);
      await cache.addAll(SHELL_FILES.map((f) => new Request(f, { cache: "reload" })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (OURS.test(name) && name !== SHELL && name !== API) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  const path = url.pathname;
  if (PAGE.test(path) && req.mode === "navigate") event.respondWith(shell("/m/", event));
  else if (SHELL_FILES.includes(path) && path !== "/m/") event.respondWith(shell(path, event));
  else if (KEPT_API.test(path)) event.respondWith(networkFirst(req, path, event));
});

/** The cached shell file at once (the network's if none yet), refreshed behind. */
async function shell(path, event) {
  const cache = await caches.open(SHELL);
  const cached = await cache.match(path);
  const fresh = fetch(path, { cache: "no-cache" }).then(async (resp) => {
    if (resp.ok && !resp.redirected) await cache.put(path, resp.clone());
    return resp;
  });
  if (cached) {
    event.waitUntil(fresh.catch(() => {}));
    return cached;
  }
  return fresh;
}

/** The network's answer (a good one kept), else the kept copy, marked. */
async function networkFirst(req, path, event) {
  const cache = await caches.open(API);
  let resp;
  try {
    resp = await fetchWithin(req, NETWORK_TIMEOUT_MS);
  } catch {
    const kept = await cache.match(path);
    if (kept) return marked(kept, { "X-Sanjian-Offline": "1" });
    return new Response(
      JSON.stringify({ code: "OFFLINE", message: { zh: "离线，且没有保存的副本", en: "Offline, and no copy is kept" } }),
      { status: 503, headers: { "Content-Type": "application/json", "X-Sanjian-Offline": "1" } },
    );
  }
  if (resp.ok) {
    const copy = resp.clone();
    event.waitUntil(
      (async () => cache.put(path, await marked(copy, { "X-Sanjian-Stored-At": String(Date.now()) })))().catch(() => {}),
    );
  } else if (resp.status === 404 && INFO.test(path)) {
    // A withdrawn merchant link must not come back offline.
    event.waitUntil(cache.delete(path));
  }
  return resp;
}

async function fetchWithin(req, ms) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ms);
  try {
    return await fetch(req, { signal: abort.signal });
  } finally {
    clearTimeout(timer);
  }
}

/** A copy of a response with headers added. */
async function marked(resp, extra) {
  const headers = new Headers(resp.headers);
  for (const [k, v] of Object.entries(extra)) headers.set(k, v);
  return new Response(await resp.arrayBuffer(), { status: resp.status, statusText: resp.statusText, headers });
}
