// Progressive enhancement only: every page works without this file.
"use strict";

document.addEventListener("submit", (event) => {
  const button = event.submitter;
  const question = button && button.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
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
