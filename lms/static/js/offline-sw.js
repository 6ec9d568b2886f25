// The offline roll call's service worker, served at /attendance/offline/sw.js: its scope is
// that folder only, so no other page of the site is controlled or cached.
//
// - The page itself (a shell without children's data): network first, the kept copy when
//   there is no network.
// - The page's scripts, styles and icons: kept when the page asks (it sends their URLs), then
//   served from the cache.
// - data.json and the sync endpoint: never cached (the rosters live in IndexedDB, see
//   offline-store.js, and the server answers no-store).
// - Background Sync ("roll-call"), where the browser has it, sends the waiting changes.
"use strict";

importScripts("/static/js/offline-store.js");

const CACHE = "lms-offline-roll-call-v1";
const SCOPE = new URL("./", self.location).pathname;
const PAGE = SCOPE;
const DATA = `${SCOPE}data.json`;
const SYNC = `${SCOPE}sync`;

self.addEventListener("install", () => {
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name)));
      await self.clients.claim();
    })(),
  );
});

const forget = async () => {
  await caches.delete(CACHE);
  await self.offlineStore.clear();
};

const page = async (request) => {
  try {
    const response = await fetch(request);
    const url = new URL(response.url);
    if (response.redirected && url.pathname !== PAGE) {
      await forget(); // logged out or the session ended: nothing stays on the phone
      return response;
    }
    if (response.ok) {
      const cache = await caches.open(CACHE);
      await cache.put(PAGE, response.clone());
    }
    return response;
  } catch (error) {
    const kept = await caches.match(PAGE);
    if (kept) {
      return kept;
    }
    throw error;
  }
};

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET") {
    return;
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname === DATA || url.pathname === SYNC) {
    return;
  }
  if (request.mode === "navigate" && url.pathname === PAGE) {
    event.respondWith(page(request));
    return;
  }
  event.respondWith(
    (async () => {
      const kept = await caches.match(request);
      return kept || fetch(request);
    })(),
  );
});

self.addEventListener("message", (event) => {
  const message = event.data || {};
  const reply = (value) => event.ports[0] && event.ports[0].postMessage(value);
  if (message.type === "keep") {
    // The page's own assets (same origin only), so that it opens without a network.
    event.waitUntil(
      (async () => {
        const cache = await caches.open(CACHE);
        const urls = (message.urls || []).filter(
          (href) => new URL(href, self.location).origin === self.location.origin,
        );
        await cache.addAll(urls);
        reply({ kept: urls.length });
      })().catch((error) => reply({ error: String(error) })),
    );
  } else if (message.type === "forget") {
    event.waitUntil(forget().then(() => reply({ forgotten: true })));
  }
});

const tellPages = async (message) => {
  const pages = await self.clients.matchAll({ type: "window" });
  pages.forEach((client) => client.postMessage(message));
};

self.addEventListener("sync", (event) => {
  if (event.tag !== "roll-call") {
    return;
  }
  event.waitUntil(
    self.offlineStore.flush(DATA, SYNC).then((result) => tellPages({ type: "synced", result })),
  );
});
