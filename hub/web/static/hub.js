// hub workbench: live countdowns, live list refresh, filter auto-submit, one submit per form, and the
// small-screen layout (menu and filter toggles, table cards' labels, tooltips on clipped text).
// Plain JavaScript, no dependencies: the pages work without it (server-rendered), it only makes them live.
(function () {
  "use strict";
  var lang = document.body.getAttribute("data-lang") || "zh";

  function fmtLeft(ms) {
    var over = ms < 0, s = Math.floor(Math.abs(ms) / 1000);
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    var text;
    if (lang === "zh") {
      text = d ? d + "天" + h + "小时" : h ? h + "小时" + m + "分" : m + "分" + sec + "秒";
      return (over ? "已超时 " : "剩余 ") + text;
    }
    text = d ? d + "d " + h + "h" : h ? h + "h " + m + "m" : m + "m " + sec + "s";
    return over ? "overdue " + text : text + " left";
  }

  function urgencyOf(ms) {
    if (ms < 0) return "breached";
    if (ms < 24 * 3600e3) return "lt_24h";
    return ms < 72 * 3600e3 ? "lt_72h" : "later";
  }

  // The server's clock decides what is due; the browser only ticks from the page's render time on.
  var skew = 0;
  var serverNow = document.body.getAttribute("data-now");
  if (serverNow) skew = Date.parse(serverNow) - Date.now();

  function tick() {
    var now = Date.now() + skew;
    document.querySelectorAll(".countdown[data-due]").forEach(function (el) {
      var left = Date.parse(el.getAttribute("data-due")) - now;
      el.textContent = fmtLeft(left);
      var row = el.closest("tr.row");
      if (row) {
        var u = urgencyOf(left);
        row.className = row.className.replace(/\bu-[a-z_0-9]+\b/, "u-" + u);
      }
    });
  }

  function bindRows(root) {
    root.querySelectorAll("tr[data-href]").forEach(function (tr) {
      tr.addEventListener("click", function (ev) {
        if (ev.target.closest("a, button, input, select, label")) return;
        window.location.href = tr.getAttribute("data-href");
      });
    });
  }

  // Layout helpers (see the class list at the top of hub.css). The "js" class lets the CSS collapse the
  // nav and the filters on small screens only when a script is there to open them again.
  document.documentElement.classList.add("js");

  // A toggle button opens and closes the panel it controls (aria-controls), and says so (aria-expanded).
  function setOpen(btn, open) {
    var panel = document.getElementById(btn.getAttribute("aria-controls"));
    if (!panel) return;
    panel.classList.toggle("open", open);
    btn.setAttribute("aria-expanded", open ? "true" : "false");
  }
  document.querySelectorAll("button[data-toggle]").forEach(function (btn) {
    btn.addEventListener("click", function () { setOpen(btn, btn.getAttribute("aria-expanded") !== "true"); });
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "Escape") return;
    document.querySelectorAll('button[data-toggle][aria-expanded="true"]').forEach(function (btn) {
      setOpen(btn, false);
      btn.focus();
    });
  });

  // Tables that turn into cards on a phone show each cell's column name: copy it from the header row
  // into data-label (a cell that already has one keeps it).
  function labelTables(root) {
    root.querySelectorAll("table.stack, table.worklist").forEach(function (table) {
      var names = [];
      table.querySelectorAll("thead tr:first-child th").forEach(function (th) {
        for (var i = 0; i < (th.colSpan || 1); i++) names.push(th.textContent.replace(/\s+/g, " ").trim());
      });
      table.querySelectorAll("tbody tr").forEach(function (tr) {
        var col = 0;
        Array.prototype.forEach.call(tr.cells, function (td) {
          if (!td.hasAttribute("data-label") && td.colSpan === 1 && names[col]) td.setAttribute("data-label", names[col]);
          col += td.colSpan || 1;
        });
      });
    });
  }

  // Text cut short with an ellipsis (.clip, platform status codes) shows in full as a tooltip.
  function titleClipped(root) {
    root.querySelectorAll(".clip, .pstatus").forEach(function (el) {
      if (el.scrollWidth > el.clientWidth + 1) el.title = el.textContent.replace(/\s+/g, " ").trim();
    });
  }
  var resizeTimer = 0;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(function () { titleClipped(document); }, 200);
  });

  // An action's result is the first thing to see after submit: below the sticky bar, in the viewport.
  var result = document.getElementById("result");
  if (result) {
    var box = result.getBoundingClientRect(), bar = document.querySelector(".topbar");
    var top = bar ? bar.getBoundingClientRect().bottom : 0;
    if (box.top < top || box.bottom > window.innerHeight) result.scrollIntoView({ block: "start" });
  }

  // Filters apply as soon as a box is ticked (the Apply button remains for keyboards and no-JS).
  document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });

  // A form submits once: the button is disabled at the first submit. The idempotency key in the form
  // makes a resubmission harmless anyway; this spares the agent a confusing second answer.
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (form.getAttribute("data-submitted") === "1") { ev.preventDefault(); return; }
      form.setAttribute("data-submitted", "1");
      form.querySelectorAll("button[type=submit]").forEach(function (b) {
        window.setTimeout(function () { b.disabled = true; }, 0);
      });
    });
  });

  // Live list: poll a small JSON version; when it changes, fetch the page and swap the live regions.
  var live = document.getElementById("live");
  function refresh() {
    fetch(window.location.href, { headers: { "X-Requested-With": "hub-poll" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var before = {};
        document.querySelectorAll("tr[data-key]").forEach(function (tr) { before[tr.getAttribute("data-key")] = 1; });
        document.querySelectorAll("[data-live-region]").forEach(function (el) {
          var fresh = doc.querySelector('[data-live-region="' + el.getAttribute("data-live-region") + '"]');
          if (fresh) el.innerHTML = fresh.innerHTML;
        });
        var newLive = doc.getElementById("live");
        if (newLive) live.setAttribute("data-version", newLive.getAttribute("data-version"));
        var changed = 0;
        document.querySelectorAll("tr[data-key]").forEach(function (tr) {
          if (!before[tr.getAttribute("data-key")]) { tr.classList.add("flash"); changed++; }
        });
        bindRows(document);
        labelTables(document);
        titleClipped(document);
        tick();
        if (changed) {
          var toast = document.getElementById("toast");
          if (toast) { toast.hidden = false; window.setTimeout(function () { toast.hidden = true; }, 3000); }
        }
      })
      .catch(function () { /* the next poll tries again */ });
  }
  function poll() {
    // ticked rows for a batch would vanish with the refreshed table: wait until the batch is sent
    if (document.querySelector(".row-select:checked")) return;
    fetch(live.getAttribute("data-poll"), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (body) {
        document.getElementById("live-indicator").classList.remove("stale");
        if (body.version !== live.getAttribute("data-version")) refresh();
      })
      .catch(function () {
        var ind = document.getElementById("live-indicator");
        if (ind) ind.classList.add("stale");
      });
  }
  if (live) {
    var every = parseInt(document.body.getAttribute("data-poll-ms") || "10000", 10);
    window.setInterval(poll, every);
  }

  bindRows(document);
  labelTables(document);
  titleClipped(document);
  tick();
  window.setInterval(tick, 1000);
})();

// Batch work on the work list: "select all on this page", the selection count, and the toolbar's
// action choice narrowed to the actions every selected row's platform offers. Delegated from the
// document, so it keeps working after the live list swaps the table in. Without JavaScript the
// checkboxes and the toolbar still submit (the server skips cases that do not offer the action).
(function () {
  function boxes() { return Array.prototype.slice.call(document.querySelectorAll(".row-select")); }
  function update() {
    var ticked = boxes().filter(function (b) { return b.checked; });
    var count = document.querySelector(".batch-count");
    if (count) count.textContent = (count.getAttribute("data-text") || "{n}").replace("{n}", ticked.length);
    var all = document.querySelector(".select-all");
    if (all) {
      all.checked = ticked.length > 0 && ticked.length === boxes().length;
      all.indeterminate = ticked.length > 0 && ticked.length < boxes().length;
    }
    var platforms = {};
    ticked.forEach(function (b) { platforms[b.getAttribute("data-platform")] = 1; });
    var select = document.querySelector(".batch-action");
    if (!select) return;
    Array.prototype.forEach.call(select.options, function (opt) {
      var offers = opt.getAttribute("data-platforms");
      var ok = !offers || Object.keys(platforms).every(function (p) { return offers.split(",").indexOf(p) >= 0; });
      opt.disabled = !ok;
      opt.hidden = !ok;
    });
    if (select.selectedOptions.length && select.selectedOptions[0].disabled) select.value = select.options[0].value;
    // the agent choice is for assigning, the note for notes: the others take neither here
    var agent = document.querySelector(".batch-agent"), note = document.querySelector(".batch-note");
    if (agent) agent.style.display = select.value === "assign" ? "" : "none";
    if (note) note.style.display = select.value === "note" ? "" : "none";
  }
  document.addEventListener("change", function (ev) {
    var t = ev.target;
    if (t.classList && t.classList.contains("select-all")) {
      boxes().forEach(function (b) { b.checked = t.checked; });
      update();
    } else if (t.classList && (t.classList.contains("row-select") || t.classList.contains("batch-action"))) {
      update();
    }
  });
  update();
})();
