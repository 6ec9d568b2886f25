// The roll call, nicer with JavaScript (the page works without it: "Everyone present" then
// comes back from the server pre-filled). Loaded by the roster page only; no inline script.
"use strict";

(() => {
  const form = document.querySelector("form[data-roster]");
  if (!form) {
    return;
  }
  const rows = Array.from(form.querySelectorAll("[data-row]"));
  let dirty = false;

  const chosen = (row) => {
    const checked = row.querySelector("input[type=radio]:checked");
    return checked ? checked.value : "";
  };

  const tally = () => {
    const counts = { present: 0, late: 0, absent: 0, excused: 0, "": 0 };
    rows.forEach((row) => {
      counts[chosen(row)] += 1;
      row.classList.toggle("unmarked", chosen(row) === "");
    });
    form.querySelectorAll("[data-count]").forEach((cell) => {
      cell.textContent = String(counts[cell.dataset.count]);
    });
  };

  // "Everyone present": one tap, no round trip; children whose absence the parents reported
  // keep their mark. Then the instructor changes the exceptions and saves.
  const allPresent = form.querySelector("[data-all-present]");
  if (allPresent) {
    allPresent.addEventListener("click", (event) => {
      event.preventDefault();
      rows.forEach((row) => {
        if (row.hasAttribute("data-notice")) {
          return;
        }
        const present = row.querySelector("input[type=radio][value=present]");
        if (present && !present.disabled) {
          present.checked = true;
        }
      });
      dirty = true;
      tally();
    });
  }

  form.addEventListener("change", () => {
    dirty = true;
    tally();
  });

  form.addEventListener("submit", () => {
    dirty = false;
  });

  // Leaving the page with unsaved marks asks first.
  window.addEventListener("beforeunload", (event) => {
    if (dirty) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  tally();
})();
