/* Candor's own script: comfort only. Every page works the same without it. */
(function () {
  "use strict";

  // On a phone the navigation is one scrollable row: bring the current page's link into view.
  function showCurrentNavItem() {
    var current = document.querySelector(".side-nav [aria-current='page']");
    var row = current && current.parentElement && current.parentElement.parentElement;
    if (!row || row.scrollWidth <= row.clientWidth) return;
    row.scrollLeft = current.parentElement.offsetLeft - (row.clientWidth - current.offsetWidth) / 2;
  }

  // A form's error summary takes focus (autofocus does it too; this covers browsers that
  // skip autofocus on a non-control), so a screen reader reads what to fix first.
  function focusErrorSummary() {
    var summary = document.getElementById("error-summary");
    if (summary && document.activeElement !== summary) summary.focus();
  }

  // Following a link in the error summary puts the cursor in the field, not just near it.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".error-summary a[href^='#']");
    var field = link && document.getElementById(link.getAttribute("href").slice(1));
    if (!field) return;
    event.preventDefault();
    field.focus();
    field.scrollIntoView({ block: "center" });
  });

  document.addEventListener("DOMContentLoaded", function () {
    showCurrentNavItem();
    focusErrorSummary();
  });
})();
