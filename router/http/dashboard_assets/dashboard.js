// The ticket-router ops dashboard: a small script over the JSON API, no framework.
//
// Sign-in exchanges the token for an HttpOnly session cookie (POST /v1/session); the
// token itself is never stored, and the CSRF value of the session answer lives in a
// variable of this script only. Every value from the API is put on the page with
// textContent or an attribute, never parsed as HTML.
"use strict";

(() => {
  const REFRESH_MS = 5000;
  const state = {
    csrf: null, // from POST/GET /v1/session; sent as X-CSRF-Token on writes
    scopes: [],
    timer: null,
    config: null, // GET /v1/config
    pools: null, // the last GET /v1/stats?by=pool
    busy: false,
  };

  const $ = (id) => document.getElementById(id);

  // el("td", {className: "num"}, "12") -- children are strings (as text) or nodes.
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (key === "dataset") Object.assign(node.dataset, value);
      else if (key.startsWith("aria-") || key === "role" || key === "scope") node.setAttribute(key, value);
      else node[key] = value;
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  class ApiError extends Error {
    constructor(status, field, message, problems) {
      super(message);
      this.status = status;
      this.field = field;
      this.problems = problems || [];
    }
  }

  // One request to the API; the answer's JSON, or an ApiError in the API's one shape.
  async function api(method, path, { body, headers } = {}) {
    const init = { method, credentials: "same-origin", headers: { Accept: "application/json", ...(headers || {}) } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = typeof body === "string" ? body : JSON.stringify(body);
    }
    if (!["GET", "HEAD", "OPTIONS"].includes(method) && state.csrf) {
      init.headers["X-CSRF-Token"] = state.csrf;
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (err) {
      throw new ApiError(0, null, "the service cannot be reached");
    }
    if (response.status === 204) return null;
    let data = null;
    try {
      data = await response.json();
    } catch (err) {
      data = null;
    }
    if (!response.ok) {
      const e = (data && data.error) || {};
      if (response.status === 401 && path !== "/v1/session") signedOut("Your session has ended: sign in again.");
      throw new ApiError(response.status, e.field || null, e.message || `HTTP ${response.status}`, e.problems);
    }
    return data;
  }

  // An API error in an alert region: the field it names first, then every problem.
  function showError(target, err) {
    const node = $(target);
    clear(node);
    if (!err) return;
    if (!(err instanceof ApiError)) {
      node.append(String(err && err.message ? err.message : err));
      return;
    }
    const head = el("span", { className: "error-head" }, `Error ${err.status || ""}`.trim() + ": ");
    node.append(head);
    if (err.field) node.append(el("code", { className: "error-field" }, err.field), " ");
    node.append(el("span", { className: "error-message" }, err.message));
    const more = (err.problems || []).slice(err.field ? 1 : 0);
    if (more.length) {
      const list = el("ul", { className: "problems" });
      for (const p of more) list.append(el("li", {}, p.path ? el("code", {}, p.path) : "", p.path ? " " : "", p.problem));
      node.append(list);
    }
  }

  const fmt = {
    int: (n) => (n === null || n === undefined ? "–" : Number(n).toLocaleString("en-US")),
    pct: (x) => (x === null || x === undefined ? "–" : `${(x * 100).toFixed(1)}%`),
    money: (x) => (x === null || x === undefined ? "–" : Number(x).toFixed(2)),
    secs: (s) => {
      if (s === null || s === undefined) return "–";
      if (s < 60) return `${Math.round(s)} s`;
      if (s < 3600) return `${Math.round(s / 60)} min`;
      return `${(s / 3600).toFixed(1)} h`;
    },
  };

  const isAdmin = () => state.scopes.includes("admin");

  // ---- Session -----------------------------------------------------------------

  function signedIn(session) {
    state.csrf = session.csrf;
    state.scopes = session.scopes || [];
    $("who-name").textContent = session.name;
    $("who-scopes").textContent = state.scopes.join(", ");
    $("who").hidden = false;
    $("signin-section").hidden = true;
    $("app").hidden = false;
    applyScopes();
    loadAll();
    clearInterval(state.timer);
    state.timer = setInterval(refreshPools, REFRESH_MS);
  }

  function signedOut(message) {
    clearInterval(state.timer);
    state.timer = null;
    state.csrf = null;
    state.scopes = [];
    state.config = null;
    state.pools = null;
    $("who").hidden = true;
    $("app").hidden = true;
    $("signin-section").hidden = false;
    $("token").value = "";
    showError("signin-error", message ? new Error(message) : null);
    $("token").focus();
  }

  async function signIn(event) {
    event.preventDefault();
    const field = $("token");
    const token = field.value.trim();
    showError("signin-error", null);
    try {
      const session = await api("POST", "/v1/session", { body: { token } });
      field.value = ""; // the cookie holds the session from now on
      signedIn(session);
    } catch (err) {
      showError("signin-error", err);
      field.focus();
    }
  }

  async function signOut() {
    try {
      await api("DELETE", "/v1/session");
    } catch (err) {
      // Signed out on this page all the same; the cookie expires on its own.
    }
    signedOut(null);
  }

  function applyScopes() {
    const admin = isAdmin();
    for (const id of ["config-preview", "config-apply", "config-reset", "rollback", "rollback-version"]) {
      $(id).disabled = !admin;
    }
    // Read-only rather than disabled: a viewer can still focus, scroll and copy the text.
    $("config-editor").readOnly = !admin;
    $("config-readonly").hidden = admin;
  }

  function loadAll() {
    refreshPools();
    loadVendors();
    loadCoverage();
    loadConfig();
  }

  // ---- Pools -------------------------------------------------------------------

  async function refreshPools() {
    const period = $("pools-period").value;
    let report;
    try {
      report = await api("GET", `/v1/stats?by=pool&period=${encodeURIComponent(period)}`);
    } catch (err) {
      showError("pools-error", err);
      return;
    }
    showError("pools-error", null);
    state.pools = report;
    renderPools(report);
  }

  // The pool's name and kind from the config in force (once it has been read).
  function poolNote(id) {
    const pools = (state.config && state.config.config.pools) || [];
    const pool = pools.find((p) => p.id === id);
    if (!pool) return null;
    const kind = pool.kind === "outsourced" ? "outsourced" : "in-house";
    return el("span", { className: "sub" }, `${pool.name || id}, ${kind}`);
  }

  function renderPools(report) {
    const body = $("pools-table").tBodies[0];
    const foot = $("pools-table").tFoot;
    const backlog = report.backlog;
    const ids = Array.from(new Set([...Object.keys(backlog.pools), ...Object.keys(report.groups)])).sort();
    const rows = ids.map((id) => {
      const b = backlog.pools[id] || {};
      const g = report.groups[id] || { sla: {} };
      return el(
        "tr",
        { dataset: { pool: id } },
        el("th", { scope: "row" }, id, poolNote(id)),
        el("td", { className: "num", dataset: { k: "queued" } }, fmt.int(b.queued)),
        el("td", { className: "num", dataset: { k: "open" } }, fmt.int(b.open)),
        el("td", { className: "num", dataset: { k: "capacity" } }, fmt.int(b.capacity)),
        el("td", { className: "num", dataset: { k: "oldest" } }, fmt.secs(b.oldest_waiting_seconds)),
        el("td", { className: "num", dataset: { k: "routed" } }, fmt.int(g.routed)),
        el("td", { className: "num", dataset: { k: "completed" } }, fmt.int(g.completed)),
        el("td", { className: "num", dataset: { k: "sla" } }, fmt.pct(g.sla && g.sla.attainment)),
        el("td", { className: "num", dataset: { k: "cost" } }, fmt.money(g.cost)),
      );
    });
    body.replaceChildren(...rows);
    const o = report.overall;
    foot.replaceChildren(
      el(
        "tr",
        { dataset: { pool: "all" } },
        el("th", { scope: "row" }, "All pools"),
        el("td", { className: "num", dataset: { k: "queued" } }, fmt.int(backlog.queued)),
        el("td", { className: "num", dataset: { k: "open" } }, fmt.int(backlog.open)),
        el("td", { className: "num" }, ""),
        el("td", { className: "num", dataset: { k: "oldest" } }, fmt.secs(backlog.oldest_waiting_seconds)),
        el("td", { className: "num", dataset: { k: "routed" } }, fmt.int(o.routed)),
        el("td", { className: "num", dataset: { k: "completed" } }, fmt.int(o.completed)),
        el("td", { className: "num", dataset: { k: "sla" } }, fmt.pct(o.sla.attainment)),
        el("td", { className: "num", dataset: { k: "cost" } }, fmt.money(o.cost)),
      ),
    );
    // The live region speaks only these few figures, not the whole table.
    $("pools-summary").textContent =
      `Queued ${fmt.int(backlog.queued)}, open ${fmt.int(backlog.open)}, ` +
      `routed ${fmt.int(o.routed)}, SLA attainment ${fmt.pct(o.sla.attainment)}, cost ${fmt.money(o.cost)}.`;
    const now = new Date();
    const updated = $("pools-updated");
    updated.dateTime = now.toISOString();
    updated.textContent = now.toLocaleTimeString("en-GB");
  }

  // ---- Vendor scorecards -------------------------------------------------------

  async function loadVendors() {
    let report;
    try {
      report = await api("GET", "/v1/stats?by=vendor&period=last_hour");
    } catch (err) {
      showError("vendor-error", err);
      return;
    }
    const select = $("vendor");
    const chosen = select.value;
    select.replaceChildren(...Object.keys(report.groups).sort().map((v) => el("option", { value: v }, v)));
    if (chosen && Object.keys(report.groups).includes(chosen)) select.value = chosen;
    if (select.value) loadScorecard();
  }

  function csvHref(vendor, weeks) {
    return `/v1/vendors/${encodeURIComponent(vendor)}/scorecard?format=csv&weeks=${encodeURIComponent(weeks)}`;
  }

  async function loadScorecard(event) {
    if (event) event.preventDefault();
    const vendor = $("vendor").value;
    const weeks = $("vendor-weeks").value || "4";
    if (!vendor) return;
    $("vendor-csv").href = csvHref(vendor, weeks);
    let card;
    try {
      card = await api("GET", `/v1/vendors/${encodeURIComponent(vendor)}/scorecard?weeks=${encodeURIComponent(weeks)}`);
    } catch (err) {
      showError("vendor-error", err);
      return;
    }
    showError("vendor-error", null);
    $("vendor-caption").textContent = `${card.name}: pools ${card.pools.join(", ")}`;
    $("vendor-table").tBodies[0].replaceChildren(
      ...card.weeks.map((w) =>
        el(
          "tr",
          { dataset: { week: w.week } },
          el("th", { scope: "row" }, w.week),
          ...["routed", "accepted", "completed", "escalated", "released", "expired", "sla_met", "sla_missed"].map((k) =>
            el("td", { className: "num", dataset: { k } }, fmt.int(w[k])),
          ),
          el("td", { className: "num", dataset: { k: "sla_attainment" } }, fmt.pct(w.sla_attainment)),
          el("td", { className: "num", dataset: { k: "cost" } }, fmt.money(w.cost)),
        ),
      ),
    );
  }

  // ---- Coverage ----------------------------------------------------------------

  const LOW_CAPACITY = 50;

  function fillZones() {
    let zones = [];
    try {
      zones = Intl.supportedValuesOf("timeZone");
    } catch (err) {
      zones = ["UTC", "Europe/London", "Europe/Dublin", "America/New_York", "America/Chicago", "America/Bogota", "Asia/Manila"];
    }
    $("tz-list").replaceChildren(...["UTC", ...zones].map((z) => el("option", { value: z })));
  }

  async function loadCoverage(event) {
    if (event) event.preventDefault();
    const tz = $("coverage-tz").value.trim() || "UTC";
    let report;
    try {
      report = await api("GET", `/v1/coverage?tz=${encodeURIComponent(tz)}`);
    } catch (err) {
      showError("coverage-error", err);
      return;
    }
    showError("coverage-error", null);
    renderCoverage(report);
  }

  // "mon" -> "Mon" (the report's weekday names are lower case).
  const dayName = (weekday) => weekday.charAt(0).toUpperCase() + weekday.slice(1);

  function hourLabel(h) {
    return `${dayName(h.weekday)} ${String(h.hour).padStart(2, "0")}:00`;
  }

  function renderCoverage(report) {
    const combos = [];
    for (const lang of report.languages) for (const tier of report.tiers) combos.push(`${lang}/${tier}`);
    $("coverage-summary").textContent =
      `Week of ${report.week_start.slice(0, 10)} in ${report.timezone}, config ${report.config_version}: ` +
      (report.gap_count ? `${report.gap_count} hour(s) x language/tier without an open pool.` : "no gaps.");

    // The visual heat map: one row per language/tier, one cell per hour of the week.
    const map = $("heatmap");
    map.style.setProperty("--hours", String(report.hours.length));
    map.setAttribute("aria-label", `Coverage heat map, ${report.hours.length} hours by ${combos.length} language/tier rows; the table below has the same figures.`);
    const header = el("div", { className: "hm-row hm-days" }, el("span", { className: "hm-label" }, ""));
    report.hours.forEach((h, n) => {
      header.append(el("span", { className: h.hour === 0 ? "hm-day" : "hm-tick" }, h.hour === 0 || n === 0 ? dayName(h.weekday) : ""));
    });
    const rows = [header];
    for (const combo of combos) {
      const row = el("div", { className: "hm-row", dataset: { cell: combo } }, el("span", { className: "hm-label" }, combo));
      report.hours.forEach((h, n) => {
        const cell = h.cells[combo];
        const gap = h.gaps.includes(combo);
        const kind = gap ? "gap" : cell.capacity < LOW_CAPACITY ? "low" : "ok";
        const text = gap ? "GAP, no open pool" : `capacity ${cell.capacity} (${cell.pools.join(", ")})`;
        row.append(
          el("span", {
            className: `hm-cell ${kind}`,
            title: `${hourLabel(h)} ${combo}: ${text}`,
            dataset: { hour: String(n), weekday: h.weekday, clock: String(h.hour), cell: combo, state: kind },
          }),
        );
      });
      rows.push(row);
    }
    map.replaceChildren(...rows);

    // Gap ranges as a list: one line per time range, naming every language/tier in it.
    const ranges = new Map();
    for (const g of report.gaps) {
      const key = `${g.start}|${g.end}|${g.hours}`;
      if (!ranges.has(key)) ranges.set(key, { ...g, cells: [] });
      ranges.get(key).cells.push(`${g.language}/${g.tier}`);
    }
    const local = (iso) => iso.slice(0, 16).replace("T", " ");
    $("coverage-gaps").replaceChildren(
      ...(ranges.size
        ? Array.from(ranges.values()).map((r) =>
            el("li", {}, el("time", { dateTime: r.start }, local(r.start)), " to ", el("time", { dateTime: r.end }, local(r.end)), ` (${r.hours} h): ${r.cells.join(", ")}`),
          )
        : [el("li", {}, "None: every hour has an open pool for every language and tier.")]),
    );

    // The same figures as a table, for screen readers and keyboard users.
    const table = $("coverage-table");
    table.tHead.replaceChildren(
      el("tr", {}, el("th", { scope: "col" }, "Hour"), ...combos.map((c) => el("th", { scope: "col", className: "num" }, c))),
    );
    table.tBodies[0].replaceChildren(
      ...report.hours.map((h, n) =>
        el(
          "tr",
          { dataset: { hour: String(n) } },
          el("th", { scope: "row" }, hourLabel(h)),
          ...combos.map((c) => {
            const gap = h.gaps.includes(c);
            return el("td", { className: gap ? "num gap" : "num", dataset: { cell: c } }, gap ? "GAP" : String(h.cells[c].capacity));
          }),
        ),
      ),
    );
  }

  // ---- Config ------------------------------------------------------------------

  function editable(doc) {
    const copy = { ...doc };
    delete copy.version; // the service versions what it stores
    return JSON.stringify(copy, null, 2);
  }

  async function loadConfig({ keepEditor = false } = {}) {
    let current, versions;
    try {
      [current, versions] = await Promise.all([api("GET", "/v1/config"), api("GET", "/v1/config/versions?limit=20")]);
    } catch (err) {
      showError("config-error", err);
      return;
    }
    state.config = current;
    if (state.pools) renderPools(state.pools); // with the pools' names now
    $("config-version").textContent = current.version;
    $("config-number").textContent = current.number === undefined ? "–" : String(current.number);
    $("config-author").textContent = current.author || "–";
    $("config-at").textContent = current.at || "–";
    if (!keepEditor) $("config-editor").value = editable(current.config);
    renderVersions(versions.versions);
  }

  function renderVersions(versions) {
    const select = $("rollback-version");
    const current = state.config && state.config.number;
    select.replaceChildren(
      ...versions
        .filter((v) => v.number !== current)
        .map((v) => el("option", { value: String(v.number) }, `${v.number} (${v.version}, ${v.at.slice(0, 19).replace("T", " ")})`)),
    );
    $("rollback").disabled = !isAdmin() || select.options.length === 0;
    $("versions-table").tBodies[0].replaceChildren(
      ...versions.map((v) => {
        const diff = el("ul", { className: "diff" }, ...v.diff.map((line) => el("li", {}, line)));
        return el(
          "tr",
          { dataset: { number: String(v.number) }, className: v.number === current ? "current" : "" },
          el("td", { className: "num" }, String(v.number)),
          el("td", {}, el("code", {}, v.version)),
          el("td", {}, v.author),
          el("td", {}, el("time", { dateTime: v.at }, v.at.slice(0, 19).replace("T", " "))),
          el("td", {}, v.source),
          el("td", {}, v.comment),
          el("td", {}, v.diff.length ? el("details", {}, el("summary", {}, `${v.diff.length} change(s)`), diff) : "–"),
        );
      }),
    );
  }

  // The editor's text as a document, or an error naming the JSON problem.
  function candidate() {
    const text = $("config-editor").value;
    try {
      const doc = JSON.parse(text);
      if (doc === null || typeof doc !== "object" || Array.isArray(doc)) throw new Error("the config must be a JSON object");
      return doc;
    } catch (err) {
      throw new ApiError(0, "config", `not valid JSON: ${err.message}`);
    }
  }

  async function withButtons(action) {
    if (state.busy) return;
    state.busy = true;
    // One change at a time: the buttons wait for the answer, then follow the scopes again.
    for (const id of ["config-preview", "config-apply", "rollback"]) $(id).disabled = true;
    try {
      await action();
    } finally {
      state.busy = false;
      applyScopes();
      if (isAdmin()) $("rollback").disabled = $("rollback-version").options.length === 0;
    }
  }

  async function previewConfig() {
    showError("config-error", null);
    $("config-status").textContent = "";
    await withButtons(async () => {
      let answer;
      try {
        answer = await api("POST", "/v1/config/preview", { body: { config: candidate(), n: 500 } });
      } catch (err) {
        showError("config-error", err);
        return;
      }
      $("preview").hidden = false;
      $("preview-summary").replaceChildren(
        el("strong", { id: "preview-changed" }, String(answer.changed)),
        ` of ${answer.tickets} recent tickets would be routed differently.`,
      );
      $("preview-diff").replaceChildren(...answer.diff.map((line) => el("li", {}, line)));
      $("preview-table").tBodies[0].replaceChildren(
        ...answer.changes.map((c) =>
          el(
            "tr",
            { dataset: { ticket: c.ticket_id } },
            el("th", { scope: "row" }, c.ticket_id),
            el("td", {}, c.old.pool),
            el("td", {}, c.new.pool),
            el("td", {}, c.old.rule),
            el("td", {}, c.new.rule),
          ),
        ),
      );
    });
  }

  async function applyConfig() {
    showError("config-error", null);
    $("config-status").textContent = "";
    await withButtons(async () => {
      const headers = {};
      // Conditional on the version this page read: a change made meanwhile answers 412.
      if (state.config && state.config.number !== undefined) headers["If-Match"] = String(state.config.number);
      let answer;
      try {
        const body = JSON.stringify(candidate());
        answer = await api("PUT", "/v1/config?comment=" + encodeURIComponent("dashboard"), { body, headers });
      } catch (err) {
        showError("config-error", err);
        return;
      }
      $("config-status").textContent = `Version ${answer.number} (${answer.version}) is in force.`;
      await loadConfig();
      loadCoverage();
    });
  }

  async function rollback(event) {
    event.preventDefault();
    showError("config-error", null);
    $("config-status").textContent = "";
    const number = Number($("rollback-version").value);
    if (!number) return;
    await withButtons(async () => {
      let answer;
      try {
        answer = await api("POST", "/v1/config/rollback", { body: { version: number } });
      } catch (err) {
        showError("config-error", err);
        return;
      }
      $("config-status").textContent = `Rolled back to version ${number}: version ${answer.number} (${answer.version}) is in force.`;
      await loadConfig();
      loadCoverage();
    });
  }

  // ---- Start -------------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", async () => {
    $("signin").addEventListener("submit", signIn);
    $("sign-out").addEventListener("click", signOut);
    $("pools-period").addEventListener("change", refreshPools);
    $("vendor-form").addEventListener("submit", loadScorecard);
    $("vendor").addEventListener("change", () => loadScorecard());
    $("coverage-form").addEventListener("submit", loadCoverage);
    $("config-preview").addEventListener("click", previewConfig);
    $("config-apply").addEventListener("click", applyConfig);
    $("config-reset").addEventListener("click", () => {
      if (state.config) $("config-editor").value = editable(state.config.config);
    });
    $("rollback-form").addEventListener("submit", rollback);
    fillZones();
    try {
      signedIn(await api("GET", "/v1/session"));
    } catch (err) {
      signedOut(null);
    }
    document.body.dataset.ready = "true";
  });
})();
