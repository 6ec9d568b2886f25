// The offline roll call's store on the phone (IndexedDB), shared by the page and the service
// worker (importScripts): the rosters of the signed-in instructor ("bundle"), the changes not
// sent yet ("outbox", one per UUID made here), and the server's answers to show ("notices").
"use strict";

(function (scope) {
  const NAME = "lms-offline-roll-call";
  const KEEP_MS = 48 * 60 * 60 * 1000;

  const open = () =>
    new Promise((resolve, reject) => {
      const request = indexedDB.open(NAME, 1);
      request.onupgradeneeded = () => {
        const db = request.result;
        db.createObjectStore("bundle");
        db.createObjectStore("outbox", { keyPath: "id" });
        db.createObjectStore("notices", { keyPath: "id" });
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });

  // One transaction over `stores`; `work(stores...)` returns a request or nothing.
  const run = async (stores, mode, work) => {
    const db = await open();
    try {
      return await new Promise((resolve, reject) => {
        const tx = db.transaction(stores, mode);
        let result;
        const request = work(...stores.map((name) => tx.objectStore(name)));
        if (request) {
          request.onsuccess = () => {
            result = request.result;
          };
        }
        tx.oncomplete = () => resolve(result);
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      });
    } finally {
      db.close();
    }
  };

  const store = {
    KEEP_MS,

    // The rosters, or null when there are none or they are more than 48 hours old (then
    // they are deleted).
    async bundle() {
      const bundle = await run(["bundle"], "readonly", (s) => s.get("current"));
      if (!bundle) {
        return null;
      }
      if (Date.now() - bundle.stored_at > KEEP_MS) {
        await store.clear();
        return { expired: true };
      }
      return bundle;
    },

    async saveBundle(bundle) {
      const current = await run(["bundle"], "readonly", (s) => s.get("current"));
      if (current && current.user_id !== bundle.user_id) {
        await store.clear(); // another instructor's data never stays beside this one's
      }
      bundle.stored_at = Date.now();
      delete bundle.csrf_token; // never kept
      await run(["bundle"], "readwrite", (s) => s.put(bundle, "current"));
    },

    async queue(change) {
      await run(["outbox"], "readwrite", (s) => s.put(change));
    },

    async pending() {
      const changes = (await run(["outbox"], "readonly", (s) => s.getAll())) || [];
      return changes.sort((a, b) => a.seq - b.seq);
    },

    async notices() {
      return (await run(["notices"], "readonly", (s) => s.getAll())) || [];
    },

    async dismissNotices() {
      await run(["notices"], "readwrite", (s) => s.clear());
    },

    // Everything, at logout or when the session has ended.
    async clear() {
      await run(["bundle", "outbox", "notices"], "readwrite", (bundle, outbox, notices) => {
        bundle.clear();
        outbox.clear();
        notices.clear();
      });
    },

    // Send the waiting changes: a fresh token first (data.json, which also says whether the
    // session is still open), then the changes in the order they were made. Returns
    // {sent, session_ended} or throws when the network fails (the changes stay).
    async flush(dataUrl, syncUrl) {
      const changes = await store.pending();
      const answer = await fetch(dataUrl, { credentials: "same-origin", cache: "no-store" });
      const type = answer.headers.get("Content-Type") || "";
      if (!answer.ok || !type.includes("json")) {
        if (answer.redirected || answer.status === 401 || answer.status === 403) {
          await store.clear();
          return { sent: 0, session_ended: true };
        }
        throw new Error(`data: ${answer.status}`);
      }
      const bundle = await answer.json();
      const token = bundle.csrf_token;
      if (!changes.length) {
        await store.saveBundle(bundle);
        return { sent: 0, bundle };
      }
      const response = await fetch(syncUrl, {
        method: "POST",
        credentials: "same-origin",
        cache: "no-store",
        headers: { "Content-Type": "application/json", "X-CSRFToken": token },
        body: JSON.stringify({ changes: changes.map(({ seq, user_id, ...change }) => change) }),
      });
      let results = [];
      if (response.ok) {
        results = (await response.json()).results;
      } else if ([400, 403, 404].includes(response.status)) {
        // Refused as a whole (no right to the group any more, a lesson gone): the changes
        // cannot be sent again; the instructor is told.
        let message = String(response.status);
        try {
          message = (await response.json()).error || message;
        } catch (error) {
          // not JSON: keep the status
        }
        results = changes.map((change) => ({ id: change.id, outcome: "refused", message }));
      } else {
        throw new Error(`sync: ${response.status}`);
      }
      await run(["outbox", "notices"], "readwrite", (outbox, notices) => {
        results.forEach((result) => {
          outbox.delete(result.id);
          if (result.outcome !== "applied" && !result.duplicate) {
            notices.put({ ...result, at: Date.now() });
          }
        });
      });
      // The rosters as the server now has them.
      const fresh = await fetch(dataUrl, { credentials: "same-origin", cache: "no-store" });
      if (fresh.ok && (fresh.headers.get("Content-Type") || "").includes("json")) {
        await store.saveBundle(await fresh.json());
      }
      return { sent: results.length };
    },
  };

  scope.offlineStore = store;
})(self);
