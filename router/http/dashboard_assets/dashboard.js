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
    simulating: false, // a POST /v1/simulate is on its way
    whatif: null, // its last report
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

  // ---- What-if -----------------------------------------------------------------

  const SVG = "http://www.w3.org/2000/svg";

  // An SVG element with its attributes (values as text), children appended.
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    for (const child of children) node.append(child);
    return node;
  }

  fmt.minutes = (m) => (m === null || m === undefined ? "–" : Number(m).toFixed(1));
  fmt.hours = (h) => (h === null || h === undefined ? "–" : Number(h).toLocaleString("en-US", { maximumFractionDigits: 1 }));
  fmt.signed = (x, digits, scale = 1, unit = "") =>
    x === null || x === undefined ? "–" : `${x * scale >= 0 ? "+" : "−"}${Math.abs(x * scale).toFixed(digits)}${unit}`;

  // The request body from the form; the candidate (the editor's JSON) when comparing.
  function whatIfBody(compare) {
    const source = $("whatif-source-recent").checked ? "recent" : "generate";
    const body = {
      source,
      target_level: Number($("whatif-level").value) / 100,
      target_wait_minutes: Number($("whatif-wait").value),
      seed: Number($("whatif-seed").value),
      tz: "UTC",
    };
    if (source === "generate") body.generate = { volume: Number($("whatif-volume").value) };
    if ($("whatif-week").value) body.week = $("whatif-week").value;
    if (compare) {
      body.config = candidate();
      body.compare = true;
    }
    return body;
  }

  async function runWhatIf(event, compare = false) {
    if (event) event.preventDefault();
    if (state.simulating) return;
    showError("whatif-error", null);
    let body;
    try {
      body = whatIfBody(compare);
    } catch (err) {
      showError("whatif-error", err);
      return;
    }
    state.simulating = true;
    $("whatif-run").disabled = true;
    $("whatif-compare").disabled = true;
    $("whatif-status").textContent = compare ? "Simulating the config in force and the candidate…" : "Simulating the config in force…";
    try {
      const report = await api("POST", "/v1/simulate", { body });
      state.whatif = report;
      renderWhatIf(report);
    } catch (err) {
      $("whatif-status").textContent = "";
      showError("whatif-error", err);
    } finally {
      state.simulating = false;
      $("whatif-run").disabled = false;
      $("whatif-compare").disabled = false;
    }
  }

  const runName = (run) => (run.label === "a" ? "In force" : run.label === "b" ? "Candidate" : "In force");

  function renderWhatIf(report) {
    $("whatif-result").hidden = false;
    const runs = report.runs;
    $("whatif-runs").replaceChildren(...runs.map((run) => runTable(run, report)));
    const diff = report.difference;
    $("whatif-difference").hidden = !diff;
    if (diff) renderDifference(diff);
    // The chart's choices: every run, every pool; the worst-staffed pool first shown.
    const runSelect = $("whatif-chart-run");
    runSelect.replaceChildren(...runs.map((run, i) => el("option", { value: String(i) }, `${runName(run)} (${run.config.version.slice(0, 12)})`)));
    runSelect.value = String(runs.length - 1);
    fillChartPools(true);
    // The live region speaks the totals only, not the tables.
    const last = runs[runs.length - 1];
    const t = last.totals;
    const target = last.staffing.target;
    let text =
      `Simulated ${fmt.int(report.arrivals)} tickets in the week of ${report.week.start.slice(0, 10)} (${report.source.kind}). ` +
      `${runName(last)}: service level ${fmt.pct(t.service_level)} within ${target.wait_minutes} min ` +
      `(target ${fmt.pct(target.service_level)}), cost ${fmt.money(t.cost)}, ` +
      `${fmt.int(last.staffing.short.length)} pool-hour(s) short of Erlang C.`;
    if (diff) text += ` Candidate minus in force: service level ${fmt.signed(diff.totals.service_level, 1, 100, "%")}, cost ${fmt.signed(diff.totals.cost, 2)}.`;
    $("whatif-status").textContent = text;
  }

  function poolRow(id, t, pool) {
    const short = t.hours_short !== undefined && t.hours_short > 0;
    return el(
      "tr",
      { dataset: { pool: id }, className: short ? "short" : "" },
      el("th", { scope: "row" }, id, pool ? el("span", { className: "sub" }, `capacity ${pool.capacity}, ${pool.kind === "outsourced" ? "outsourced" : "in-house"}`) : null),
      el("td", { className: "num", dataset: { k: "tickets" } }, fmt.int(t.tickets)),
      el("td", { className: "num", dataset: { k: "service_level" } }, fmt.pct(t.service_level)),
      el("td", { className: "num", dataset: { k: "p50" } }, fmt.minutes(t.wait_minutes.p50)),
      el("td", { className: "num", dataset: { k: "p90" } }, fmt.minutes(t.wait_minutes.p90)),
      el("td", { className: "num", dataset: { k: "utilisation" } }, fmt.pct(t.utilisation)),
      el("td", { className: "num", dataset: { k: "cost" } }, fmt.money(t.cost)),
      el("td", { className: "num", dataset: { k: "escalations" } }, `${fmt.int(t.escalated_out)}/${fmt.int(t.escalated_in)}`),
      el("td", { className: "num", dataset: { k: "expiries" } }, fmt.int(t.expiries)),
      el("td", { className: "num", dataset: { k: "agent_hours_configured" } }, pool ? fmt.hours(t.agent_hours_configured) : ""),
      el("td", { className: "num", dataset: { k: "agent_hours_recommended" } }, pool ? fmt.hours(t.agent_hours_recommended) : ""),
      el("td", { className: short ? "num short" : "num", dataset: { k: "hours_short" } }, pool ? fmt.int(t.hours_short) : ""),
    );
  }

  const RUN_COLUMNS = [
    "Pool", "Tickets", "Service level", "Wait p50 (min)", "Wait p90 (min)", "Utilisation", "Cost",
    "Escalated out/in", "Lease expiries", "Agent-hours configured", "Agent-hours Erlang C", "Hours short",
  ];

  function runTable(run, report) {
    const target = run.staffing.target;
    const caption = `${runName(run)}: ${run.config.source}, version ${run.config.version}; ` +
      `service level = accepted within ${target.wait_minutes} min; Erlang C staffs for ${fmt.pct(target.service_level)}`;
    const table = el(
      "table",
      { className: "whatif-run", dataset: { run: run.label || "a" } },
      el("caption", {}, caption),
      el("thead", {}, el("tr", {}, ...RUN_COLUMNS.map((c, i) => el("th", { scope: "col", className: i ? "num" : "" }, c)))),
      el("tbody", {}, ...run.pools.map((p) => poolRow(p.id, p.totals, p))),
      el("tfoot", {}, poolRow("all", run.totals, null)),
    );
    return el("div", { className: "scroll" }, el("h3", {}, `${runName(run)} (${fmt.int(report.arrivals)} tickets)`), table);
  }

  function renderDifference(diff) {
    const t = diff.totals;
    $("whatif-difference-summary").textContent =
      `Service level ${fmt.signed(t.service_level, 1, 100, "%")}, wait p90 ${fmt.signed(t.wait_minutes.p90, 1, 1, " min")}, ` +
      `cost ${fmt.signed(t.cost, 2)}; ${fmt.int(diff.routing_changed)} ticket(s) routed to another pool first` +
      (diff.changes.length ? ` (${diff.changes.slice(0, 3).map((c) => `${c.from} → ${c.to}: ${fmt.int(c.tickets)}`).join(", ")})` : "") + ".";
    $("whatif-difference-table").tBodies[0].replaceChildren(
      ...Object.entries(diff.pools).map(([id, d]) =>
        el(
          "tr",
          { dataset: { pool: id } },
          el("th", { scope: "row" }, id),
          el("td", { className: "num", dataset: { k: "unserved" } }, fmt.signed(d.unserved, 0)),
          el("td", { className: "num", dataset: { k: "service_level" } }, fmt.signed(d.service_level, 1, 100, "%")),
          el("td", { className: "num", dataset: { k: "p90" } }, fmt.signed(d.wait_minutes && d.wait_minutes.p90, 1)),
          el("td", { className: "num", dataset: { k: "utilisation" } }, fmt.signed(d.utilisation, 1, 100, "%")),
          el("td", { className: "num", dataset: { k: "cost" } }, fmt.signed(d.cost, 2)),
        ),
      ),
    );
  }

  function fillChartPools(pickWorst) {
    const run = state.whatif.runs[Number($("whatif-chart-run").value)];
    const select = $("whatif-chart-pool");
    const chosen = select.value;
    select.replaceChildren(...run.pools.map((p) => el("option", { value: p.id }, p.id)));
    const ids = run.pools.map((p) => p.id);
    if (pickWorst) {
      const worst = run.pools.slice().sort((a, b) => b.totals.agent_hours_short - a.totals.agent_hours_short)[0];
      select.value = worst ? worst.id : ids[0];
    } else if (ids.includes(chosen)) {
      select.value = chosen;
    }
    renderChart();
  }

  const hourName = (iso) => {
    const d = new Date(iso);
    return `${["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][d.getUTCDay()]} ${iso.slice(11, 13)}:00`;
  };

  // Bars of the agents Erlang C asks for per hour (red where the config has fewer),
  // and a step line of the config's capacity while the pool is open.
  function renderChart() {
    const report = state.whatif;
    const run = report.runs[Number($("whatif-chart-run").value)];
    const pool = run.pools.find((p) => p.id === $("whatif-chart-pool").value);
    if (!pool) return;
    const hours = pool.hours.map((h) => ({ ...h, at: run.hours[h.hour].start }));
    const top = Math.max(1, ...hours.map((h) => Math.max(h.staffing.recommended, h.staffing.configured)));
    const W = 6, H = 140, PAD = 18;
    const width = hours.length * W;
    const y = (v) => PAD + H - (v / top) * H;
    const chart = svg("svg", { viewBox: `0 0 ${width + 40} ${H + PAD + 16}`, width: width + 40, height: H + PAD + 16, class: "whatif-svg", "aria-hidden": "true" });
    chart.append(svg("line", { x1: 0, x2: width, y1: y(0), y2: y(0), class: "axis" }));
    chart.append(svg("text", { x: width + 4, y: y(top) + 4, class: "tick" }, document.createTextNode(String(top))));
    chart.append(svg("text", { x: width + 4, y: y(0) + 4, class: "tick" }, document.createTextNode("0")));
    hours.forEach((h, i) => {
      if (i % 24 === 0) {
        chart.append(svg("line", { x1: i * W, x2: i * W, y1: PAD, y2: y(0) + 4, class: "day" }));
        chart.append(svg("text", { x: i * W + 2, y: y(0) + 14, class: "tick" }, document.createTextNode(hourName(h.at).slice(0, 3))));
      }
      const s = h.staffing;
      if (s.recommended > 0) {
        const bar = svg("rect", {
          x: i * W, y: y(s.recommended), width: W - 1, height: y(0) - y(s.recommended),
          class: s.gap > 0 ? "bar short" : "bar", "data-hour": h.hour,
        });
        bar.append(svg("title", {}, document.createTextNode(`${hourName(h.at)}: ${s.offered} tickets, recommended ${s.recommended}, configured ${s.configured}`)));
        chart.append(bar);
      }
    });
    let path = "";
    hours.forEach((h, i) => {
      const v = y(h.staffing.configured);
      path += `${i ? "L" : "M"}${i * W},${v}L${(i + 1) * W},${v}`;
    });
    chart.append(svg("path", { d: path, class: "capacity" }));
    $("whatif-chart").replaceChildren(chart);
    const short = hours.filter((h) => h.staffing.gap > 0);
    $("whatif-chart-summary").textContent =
      `${pool.id} (${runName(run)}): Erlang C recommends up to ${Math.max(0, ...hours.map((h) => h.staffing.recommended))} agents in an hour, ` +
      `the config has ${pool.capacity} while open; short in ${short.length} hour(s)` +
      (short.length ? `, most by ${Math.max(...short.map((h) => h.staffing.gap))} agent(s).` : ".");
    $("whatif-hours-caption").textContent = `${pool.id} (${runName(run)}), per hour of the week (UTC)`;
    $("whatif-hours").tBodies[0].replaceChildren(
      ...hours
        .filter((h) => h.staffing.open_minutes > 0 || h.tickets > 0)
        .map((h) =>
          el(
            "tr",
            { dataset: { hour: String(h.hour) }, className: h.staffing.gap > 0 ? "short" : "" },
            el("th", { scope: "row" }, el("time", { dateTime: h.at }, `${hourName(h.at)} (${h.at.slice(0, 10)})`)),
            el("td", { className: "num", dataset: { k: "offered" } }, fmt.int(h.staffing.offered)),
            el("td", { className: "num", dataset: { k: "traffic" } }, String(h.staffing.traffic)),
            el("td", { className: "num", dataset: { k: "configured" } }, fmt.int(h.staffing.configured)),
            el("td", { className: "num", dataset: { k: "recommended" } }, fmt.int(h.staffing.recommended)),
            el("td", { className: h.staffing.gap > 0 ? "num short" : "num", dataset: { k: "gap" } }, h.staffing.gap > 0 ? `+${h.staffing.gap}` : "–"),
            el("td", { className: "num", dataset: { k: "service_level" } }, fmt.pct(h.service_level)),
          ),
        ),
    );
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
    $("whatif-form").addEventListener("submit", (e) => runWhatIf(e, false));
    $("whatif-compare").addEventListener("click", () => runWhatIf(null, true));
    $("whatif-chart-run").addEventListener("change", () => fillChartPools(false));
    $("whatif-chart-pool").addEventListener("change", renderChart);
    fillZones();
    try {
      signedIn(await api("GET", "/v1/session"));
    } catch (err) {
      signedOut(null);
    }
    document.body.dataset.ready = "true";
  });
})();
