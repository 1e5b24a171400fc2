// threat-triage dashboard: the only script, served from /dashboard/static (the CSP allows nothing inline).
// It refreshes the review queue in place, keeping ticked rows, so a new high-risk report shows within seconds.
(function () {
  "use strict";

  function refreshQueue(container) {
    var active = document.activeElement;
    if (active && container.contains(active) && active.tagName !== "BODY" && active.tagName !== "BUTTON") {
      return; // the analyst is using a control in the table: do not pull it from under them
    }
    var ticked = {};
    container.querySelectorAll('input[name="case_ids"]:checked').forEach(function (box) {
      ticked[box.value] = true;
    });
    fetch(container.dataset.src, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.redirected && response.url.indexOf("/login") !== -1) {
          window.location.reload();
          return null;
        }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html === null) {
          return;
        }
        // DOMParser builds an inert document: nothing in it runs, and the server escaped every value anyway.
        var fresh = new DOMParser().parseFromString(html, "text/html").body;
        container.replaceChildren.apply(container, Array.prototype.slice.call(fresh.childNodes));
        container.querySelectorAll('input[name="case_ids"]').forEach(function (box) {
          box.checked = !!ticked[box.value];
        });
        container.dataset.refreshedAt = String(Date.now());
      })
      .catch(function () { /* the next tick tries again */ });
  }

  function start() {
    var container = document.getElementById("queue-body");
    if (!container) {
      return;
    }
    var seconds = parseInt(container.dataset.refresh, 10) || 5;
    window.setInterval(function () { refreshQueue(container); }, seconds * 1000);
  }

  document.addEventListener("DOMContentLoaded", start);
})();
