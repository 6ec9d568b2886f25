// Progressive enhancement only: every page works without this file.
"use strict";

// Logging out clears the offline roll call's data on the phone (Clear-Site-Data). Changes
// still waiting there are sent first; if they cannot be, the instructor is asked.
const OFFLINE_DATABASE = "lms-offline-roll-call";

async function unsentChanges() {
  if (!window.offlineStore || !indexedDB.databases) return 0;
  const names = (await indexedDB.databases()).map((database) => database.name);
  if (!names.includes(OFFLINE_DATABASE)) return 0;
  return (await window.offlineStore.pending()).length;
}

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!form.dataset.unsentQuestion || form.dataset.checked) return;
  event.preventDefault();
  event.stopImmediatePropagation();
  let waiting = 0;
  try {
    waiting = await unsentChanges();
    if (waiting) {
      await window.offlineStore.flush(form.dataset.dataUrl, form.dataset.syncUrl);
      waiting = await unsentChanges();
    }
  } catch (error) {
    // No network, or the server did not answer: the changes are still on the phone.
  }
  if (waiting && !window.confirm(form.dataset.unsentQuestion)) return;
  form.dataset.checked = "1";
  form.requestSubmit(event.submitter || undefined);
}, true); // capture: before the offline page's own logout handler, which clears the phone

document.addEventListener("submit", (event) => {
  const form = event.target;
  const button = event.submitter;
  const question = button && button.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  if (form.method.toLowerCase() !== "post") return;
  // A form on its way is not sent a second time (a double click, Enter pressed twice). The
  // buttons stay focusable and keep their names (a disabled button would not be sent), and
  // the server makes a second copy harmless anyway (one effect per submission).
  if (form.dataset.sending) {
    event.preventDefault();
    return;
  }
  form.dataset.sending = "1";
  form.setAttribute("aria-busy", "true");
  for (const each of form.querySelectorAll("button, input[type=submit]")) {
    each.setAttribute("aria-disabled", "true");
  }
  // If the network drops, let the person try again after a while.
  window.setTimeout(() => release(form), 15000);
});

function release(form) {
  delete form.dataset.sending;
  form.removeAttribute("aria-busy");
  for (const each of form.querySelectorAll("[aria-disabled=true]")) {
    each.removeAttribute("aria-disabled");
  }
}

// Back to a page kept in the browser's memory: its forms can be sent again.
window.addEventListener("pageshow", () => {
  for (const form of document.querySelectorAll("form[data-sending]")) release(form);
});

// The navigation's "Management" menu closes on a click elsewhere or on Escape.
document.addEventListener("click", (event) => {
  for (const menu of document.querySelectorAll("details.nav-more[open]")) {
    if (!menu.contains(event.target)) menu.open = false;
  }
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  for (const menu of document.querySelectorAll("details.nav-more[open]")) {
    menu.open = false;
    menu.querySelector("summary").focus();
  }
});

// The site menu and the catalogue's filters are always unfolded from a tablet up; browsers
// that cannot style a closed <details> open (::details-content) get them opened here.
if (!CSS.supports("selector(::details-content)")) {
  const wide = window.matchMedia("(min-width: 48rem)");
  for (const folded of document.querySelectorAll("details.site-menu, details.unfold-wide")) {
    const initially = folded.open;
    const follow = () => { folded.open = wide.matches || initially; };
    follow();
    wide.addEventListener("change", follow);
  }
}
