// FoldCluster dashboard: live counts and cells from server-sent events. Served by the dashboard itself (no CDN).
(function () {
  "use strict";
  var states = ["queued", "running", "succeeded", "failed", "cancelled"];

  function live(url, apply) {
    var indicator = document.getElementById("live");
    var source = new EventSource(url);
    source.addEventListener("update", function (e) {
      apply(JSON.parse(e.data));
      indicator.textContent = "live";
      indicator.className = "live on";
    });
    source.addEventListener("offline", function () {
      indicator.textContent = "database unreachable";
      indicator.className = "live off";
    });
    source.onerror = function () {
      indicator.textContent = "reconnecting…";
      indicator.className = "live off";
    };
  }

  function applyCounts(root, c) {
    if (!root) { return; }
    var jobs = root.querySelector('[data-count="jobs"]');
    if (jobs) { jobs.textContent = c.jobs; }
    states.forEach(function (s) {
      var el = root.querySelector('[data-count="' + s + '"]');
      if (el) { el.textContent = c[s]; el.classList.toggle("zero", c[s] === 0); }
      var seg = root.querySelector('[data-seg="' + s + '"]');
      if (seg && c.widths) { seg.style.width = c.widths[s] + "%"; }
    });
    var eta = root.querySelector('[data-text="eta"]');
    if (eta) { eta.textContent = c.eta; }
    var finished = root.querySelector('[data-text="finished"]');
    if (finished) { finished.textContent = c.finished; }
  }

  window.fcSweeps = function (url) {
    live(url, function (list) {
      list.forEach(function (c) {
        applyCounts(document.querySelector('tr[data-sweep="' + CSS.escape(c.name) + '"]'), c);
      });
    });
  };

  window.fcSweep = function (url) {
    live(url, function (d) {
      applyCounts(document.getElementById("summary"), d.counts);
      d.cells.forEach(function (c) {
        var td = document.querySelector('td[data-cell="' + CSS.escape(c.k) + '"]');
        if (!td) { return; }
        td.className = "cell st-" + c.s;
        td.title = c.h;
        td.style.setProperty("--done", c.d + "%");
        var a = td.querySelector("a");
        if (a) { a.textContent = c.t; }
      });
    });
  };
})();
