// Polls the small JSON status endpoint of an uploaded list and moves the progress bar;
// goes to the report (or the column-mapping step) when the analysis is over.
(function () {
  "use strict";
  var box = document.getElementById("list-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-status-url");
  var bar = document.getElementById("progress-bar");
  var text = document.getElementById("progress-text");
  var delay = 700;
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (data) {
        bar.value = data.progress;
        bar.textContent = data.progress + " %";
        text.textContent = data.progress + " % — " + data.state_label;
        if (data.done) { window.location.assign(data.next); return; }
        delay = Math.min(delay * 1.3, 5000);
        window.setTimeout(poll, delay);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 300);
})();
