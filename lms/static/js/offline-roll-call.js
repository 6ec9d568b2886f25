// The offline roll call page: shows the rosters kept on the phone, queues each mark, note and
// check-out with a UUID made here, and sends them when the network returns (Background Sync
// where the browser has it; on the "online" event and at page load everywhere).
"use strict";

(() => {
  const root = document.querySelector("[data-offline-roll-call]");
  if (!root) {
    return;
  }
  const store = self.offlineStore;
  const strings = JSON.parse(document.getElementById("offline-strings").textContent);
  const { dataUrl, syncUrl, workerUrl, scope } = root.dataset;
  const lessonsBox = root.querySelector("[data-lessons]");
  let bundle = null;
  let sending = null;
  let seq = Date.now();

  const fill = (text, values) =>
    Object.entries(values).reduce((out, [key, value]) => out.replace(`{${key}}`, value), text);

  const el = (tag, attributes = {}, ...children) => {
    const node = document.createElement(tag);
    Object.entries(attributes).forEach(([key, value]) => {
      if (value === null || value === undefined || value === false) {
        return;
      }
      if (key === "text") {
        node.textContent = value;
      } else {
        node.setAttribute(key, value === true ? "" : value);
      }
    });
    children.flat().forEach((child) => child && node.append(child));
    return node;
  };

  // -------------------------------------------------------------------------------------------
  // What the page says about the network and the waiting changes

  // navigator.onLine only knows whether the phone has a network, not whether the server answers
  // (a lab's Wi-Fi without its uplink says "online", and so do some browsers after a reload
  // without a network): the page also goes by how its last request to the server went.
  let reached = true;
  let retry = null;
  const RETRY_MS = 10000;
  const online = () => navigator.onLine && reached;

  const showNetwork = () => {
    const line = root.querySelector("[data-network]");
    line.textContent = online() ? strings.online : strings.offline;
    line.classList.toggle("is-offline", !online());
  };

  const showWaiting = async () => {
    const waiting = (await store.pending()).length;
    const line = root.querySelector("[data-waiting]");
    line.dataset.count = String(waiting);
    line.textContent = waiting ? fill(strings.waiting, { num: waiting }) : strings.all_sent;
  };

  const showNotices = async () => {
    const notices = await store.notices();
    const box = root.querySelector("[data-conflicts]");
    const list = box.querySelector("[data-conflict-list]");
    list.replaceChildren(
      ...notices.map((notice) =>
        el(
          "li",
          { class: `notice-${notice.outcome}`, "data-notice": notice.outcome },
          el("strong", {
            text: notice.outcome === "conflict" ? strings.conflict : strings.refused,
          }),
          " ",
          el("bdi", { text: notice.message }),
        ),
      ),
    );
    box.hidden = notices.length === 0;
  };

  // -------------------------------------------------------------------------------------------
  // The rosters

  const markable = (lesson) => {
    if (lesson.cancelled) {
      return strings.cancelled;
    }
    const now = Date.now();
    if (now < Date.parse(lesson.opens_at)) {
      return strings.not_open;
    }
    if (now > Date.parse(lesson.closes_at)) {
      return strings.closed;
    }
    return null;
  };

  const phoneLink = (person, prefix = "") =>
    person.phone
      ? el(
          "a",
          {
            href: `tel:${person.phone.replace(/[^+\d]/g, "")}`,
            class: "button small",
            "aria-label": `${prefix}${fill(strings.call, { name: person.name || "" })}`,
          },
          el("span", {}, prefix, el("bdi", { text: person.name || "" })),
          " ",
          el("span", { dir: "ltr", text: person.phone }),
        )
      : null;

  const childRow = (lesson, child, pending, refusal) => {
    const mine = pending.filter((c) => c.lesson_id === lesson.id && c.child_id === child.child_id);
    const lastMark = mine.filter((c) => c.kind === "mark").pop();
    const lastCheckout = mine.filter((c) => c.kind === "checkout").pop();
    const status = lastMark ? lastMark.status : child.status;
    const note = lastMark ? lastMark.note || "" : child.note || "";
    const id = `o-${lesson.id}-${child.child_id}`;
    const badges = [];
    if (child.allergies) {
      badges.push(el("span", { class: "badge alert", text: `${strings.allergy}: ${child.allergies}` }));
    }
    if (child.medical) {
      badges.push(el("span", { class: "badge alert", text: strings.medical }));
    }
    badges.push(
      el("span", {
        class: child.photo_allowed ? "badge ok" : "badge warn",
        text: child.photo_allowed ? strings.photos_ok : strings.no_photos,
      }),
    );
    if (child.notice !== null) {
      badges.push(
        el("span", {
          class: "badge notice",
          text: child.notice ? `${strings.notice}: ${child.notice}` : strings.notice,
        }),
      );
    }
    if (mine.length) {
      badges.push(el("span", { class: "badge info", "data-pending": true, text: strings.pending }));
    }
    const segmented = el("div", { class: "segmented", role: "radiogroup", "aria-labelledby": id });
    strings.statuses.forEach(([value, label]) => {
      segmented.append(
        el("input", {
          type: "radio",
          id: `${id}-${value}`,
          name: id,
          value,
          checked: status === value,
          disabled: Boolean(refusal),
          "data-status": value,
        }),
        el("label", { for: `${id}-${value}`, class: `seg-${value}`, text: label }),
      );
    });
    const noteField = el("input", {
      type: "text",
      id: `${id}-note`,
      maxlength: "300",
      value: note,
      disabled: Boolean(refusal) || !status,
      "data-note": true,
    });
    const people = child.collectors.filter((p) => p.kind !== "alone");
    const contacts = el(
      "p",
      { class: "offline-phones" },
      ...people.map(phoneLink),
      ...child.emergency.map((person) => phoneLink(person, `${strings.emergency} · `)),
    );
    const row = el(
      "li",
      {
        class: "roster-row",
        "data-child": child.child_id,
        "data-lesson": lesson.id,
      },
      el("div", { class: "roster-who" }, el("span", { class: "roster-name", id }, el("bdi", { text: child.name })), badges),
      segmented,
      el("label", { for: `${id}-note`, class: "offline-note" }, strings.note, noteField),
      contacts,
    );
    const attended = status === "present" || status === "late";
    const collected = lastCheckout || child.checkout;
    if (collected) {
      const who = lastCheckout
        ? child.collectors.find((p) => p.key === lastCheckout.collector) || {}
        : { name: child.checkout.name, kind: child.checkout.kind };
      row.append(
        el("p", {
          class: "badge ok",
          "data-collected": true,
          text: who.kind === "alone" ? strings.left_alone : fill(strings.collected_by, { name: who.name || "—" }),
        }),
      );
    } else if (attended && !refusal) {
      const select = el(
        "select",
        { id: `${id}-collector`, "data-collector": true, "aria-label": `${strings.collect} ${child.name}` },
        el("option", { value: "", text: strings.collect }),
        ...child.collectors.map((p) =>
          el("option", {
            value: p.key,
            text: p.kind === "alone" ? strings.alone : `${p.name} (${p.relationship || strings.parent})`,
          }),
        ),
      );
      row.append(
        el(
          "div",
          { class: "checkout-fields" },
          select,
          el("button", { type: "button", class: "button primary small", "data-checkout": true, text: strings.collected }),
        ),
      );
    }
    return row;
  };

  const render = async () => {
    showNetwork();
    await showWaiting();
    await showNotices();
    if (!bundle) {
      lessonsBox.replaceChildren(el("p", { class: "card", text: strings.no_data }));
      return;
    }
    if (bundle.expired) {
      lessonsBox.replaceChildren(el("p", { class: "card", text: strings.expired }));
      return;
    }
    if (!bundle.lessons.length) {
      lessonsBox.replaceChildren(el("p", { class: "card", text: strings.no_lessons }));
      return;
    }
    const pending = await store.pending();
    const stamp = new Date(bundle.stored_at).toLocaleTimeString(document.documentElement.lang, {
      hour: "2-digit",
      minute: "2-digit",
    });
    lessonsBox.replaceChildren(
      el("p", { class: "hint", text: fill(strings.saved_at, { time: stamp }) }),
      ...bundle.lessons.map((lesson) => {
        const refusal = markable(lesson);
        return el(
          "section",
          { class: "card offline-lesson", "data-lesson-id": lesson.id, "aria-labelledby": `lesson-${lesson.id}` },
          el("h2", { id: `lesson-${lesson.id}`, text: lesson.title }),
          el("p", { class: "meta", text: `${lesson.when} · ${lesson.room}` }),
          refusal ? el("p", { class: "flash", text: refusal }) : null,
          el("ul", { class: "roster", role: "list" }, lesson.children.map((child) => childRow(lesson, child, pending, refusal))),
        );
      }),
    );
  };

  // -------------------------------------------------------------------------------------------
  // Changes: kept on the phone first, then sent

  const find = (lessonId, childId) => {
    const lesson = bundle.lessons.find((l) => l.id === lessonId);
    return [lesson, lesson && lesson.children.find((c) => c.child_id === childId)];
  };

  // Keep the change, then redraw only its row (the rest of the page keeps what is being typed
  // or chosen there).
  const queue = async (change) => {
    seq += 1;
    await store.queue({
      id: crypto.randomUUID(),
      seq,
      user_id: bundle.user_id,
      made_at: new Date().toISOString(),
      ...change,
    });
    const [lesson, child] = find(change.lesson_id, change.child_id);
    const row = lessonsBox.querySelector(
      `[data-lesson='${change.lesson_id}'][data-child='${change.child_id}']`,
    );
    if (row && lesson && child) {
      row.replaceWith(childRow(lesson, child, await store.pending(), markable(lesson)));
    }
    await showWaiting();
    requestSend();
  };

  const send = async () => {
    if (!navigator.onLine) {
      return;
    }
    if (sending) {
      return sending;
    }
    sending = (async () => {
      try {
        const result = await store.flush(dataUrl, syncUrl);
        reached = true;
        if (result.session_ended) {
          bundle = null;
          await forgetWorkerCache();
          lessonsBox.replaceChildren(el("p", { class: "card", text: strings.session_ended }));
          await showWaiting();
          return;
        }
        bundle = await store.bundle();
      } catch (error) {
        // The server did not answer: the changes stay, and the page tries again in a while
        // (the "online" event does not come when the browser thought it was online all along).
        // Nothing changed on the phone, so the rows stay as they are (a collector being chosen
        // is not reset).
        reached = false;
        retry = retry || setTimeout(() => {
          retry = null;
          send();
        }, RETRY_MS);
        showNetwork();
        return;
      } finally {
        sending = null;
      }
      await render();
    })();
    return sending;
  };

  const requestSend = async () => {
    const registration = "serviceWorker" in navigator ? await navigator.serviceWorker.getRegistration(scope) : null;
    if (registration && registration.sync && !navigator.onLine) {
      try {
        await registration.sync.register("roll-call");
      } catch (error) {
        // Background Sync refused: the "online" event sends them.
      }
    }
    send();
  };

  lessonsBox.addEventListener("change", (event) => {
    const row = event.target.closest("[data-child]");
    if (!row || !bundle) {
      return;
    }
    const lessonId = Number(row.dataset.lesson);
    const childId = Number(row.dataset.child);
    const [, child] = find(lessonId, childId);
    const checked = row.querySelector("input[data-status]:checked");
    const note = row.querySelector("input[data-note]").value.trim();
    if (event.target.matches("input[data-status], input[data-note]") && checked) {
      queue({
        kind: "mark",
        lesson_id: lessonId,
        child_id: childId,
        status: checked.value,
        note: note || null,
        seen_version: child.version,
      });
    }
  });

  lessonsBox.addEventListener("click", (event) => {
    const button = event.target.closest("[data-checkout]");
    if (!button) {
      return;
    }
    const row = button.closest("[data-child]");
    const collector = row.querySelector("select[data-collector]").value;
    if (!collector) {
      row.querySelector("select[data-collector]").focus();
      return;
    }
    queue({
      kind: "checkout",
      lesson_id: Number(row.dataset.lesson),
      child_id: Number(row.dataset.child),
      collector,
    });
  });

  root.querySelector("[data-dismiss-conflicts]").addEventListener("click", async () => {
    await store.dismissNotices();
    await showNotices();
  });

  window.addEventListener("online", () => {
    showNetwork();
    send();
  });
  window.addEventListener("offline", showNetwork);

  // -------------------------------------------------------------------------------------------
  // The service worker, and clearing everything at logout

  const forgetWorkerCache = async () => {
    if ("caches" in self) {
      const names = await caches.keys();
      await Promise.all(names.filter((n) => n.startsWith("lms-offline")).map((n) => caches.delete(n)));
    }
  };

  document.querySelectorAll("form[action$='/logout']").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      if (form.dataset.cleared) {
        return;
      }
      event.preventDefault();
      await store.clear();
      await forgetWorkerCache();
      form.dataset.cleared = "yes";
      form.submit();
    });
  });

  const keepAssets = async () => {
    if (!("serviceWorker" in navigator)) {
      return;
    }
    await navigator.serviceWorker.register(workerUrl, { scope });
    const registration = await navigator.serviceWorker.ready;
    // Each once: the cache refuses a list that names a file twice.
    const urls = [
      ...new Set([
        scope,
        ...Array.from(document.querySelectorAll("link[rel=stylesheet], link[rel=icon], link[rel=manifest], script[src]")).map(
          (node) => node.href || node.src,
        ),
      ]),
    ];
    if (!navigator.onLine) {
      root.dataset.offlineReady = "yes";
      return;
    }
    await new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => resolve();
      registration.active.postMessage({ type: "keep", urls }, [channel.port2]);
    });
    root.dataset.offlineReady = "yes";
  };

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", async (event) => {
      if (event.data && event.data.type === "synced") {
        bundle = await store.bundle();
        await render();
      }
    });
  }

  (async () => {
    bundle = await store.bundle();
    await render();
    await send();
    root.dataset.loaded = "yes";
    keepAssets().catch(() => {
      root.dataset.offlineReady = "no";
    });
  })();
})();
