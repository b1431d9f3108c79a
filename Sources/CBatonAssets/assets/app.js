// Baton console: one hand-written ES module, no framework, no build step.
//
// Live updates come from ONE EventSource per page (/v1/events, docs/console-api.md);
// nothing polls on a timer. The stream closes when the tab is hidden and reopens with
// last_event_id when it is shown again; a `reset` refetches what the page shows.
//
// Test hooks (data-testid): run-row (data-run-id, data-status), task-row (data-task,
// data-status), run-status, cancel, retry, run-now, pause, resume, tab-tasks, tab-graph,
// tab-timeline, graph, timeline, log, log-earlier, live ("live" / "reconnecting" /
// "paused"), workflow-row (data-workflow), delivery-row, notification-row.

const RUN_STATUSES = ["queued", "running", "succeeded", "failed", "timed_out", "cancelled"];
const TASK_STATUSES = ["pending", "running", "succeeded", "failed", "timed_out", "cancelled", "skipped"];
const GLYPH = {
  queued: "○", pending: "○", running: "▶", succeeded: "✓", failed: "✗",
  timed_out: "⏱", cancelled: "⊘", skipped: "↷",
};
const TAIL_BYTES = 65536;
const LOG_CAP = 2 * 1024 * 1024;
const ROWS_SHOWN = 2000;

const main = document.getElementById("main");
const liveBadge = document.querySelector("[data-testid=live]");
let token = sessionStorage.getItem("baton.token") || "";
let view = null; // the current page: {kind, onEvent(event, data), onReset(), params}

// ---------------------------------------------------------------- helpers

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function statusBadge(status, extra = {}) {
  const word = (status || "pending").replace("_", " ");
  return el("span", { class: `status status-${status}`, ...extra }, `${GLYPH[status] || "•"} ${word}`);
}

function when(text) {
  if (!text) return "—";
  const date = new Date(text);
  return el("time", { datetime: text, title: text }, date.toLocaleString());
}

function seconds(start, end) {
  if (!start) return "—";
  const ms = (end ? new Date(end) : new Date()) - new Date(start);
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
}

function path(...parts) {
  return parts.map(encodeURIComponent).join("/");
}

class HTTPError extends Error {
  constructor(status, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status;
  }
}

async function api(target, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(target, { ...options, headers });
  if (response.status === 401) {
    document.getElementById("login").classList.add("attention");
    document.getElementById("token").focus();
  }
  if (!response.ok && response.status !== 304) {
    let detail = "";
    try { detail = (await response.json()).detail; } catch { /* not problem+json */ }
    throw new HTTPError(response.status, detail);
  }
  return response;
}

async function json(target, options) {
  return (await api(target, options)).json();
}

function showError(where, error) {
  where.replaceChildren(el("p", { class: "error", role: "alert" }, `${error.message}`));
}

// ---------------------------------------------------------------- live events

// The stream opens BEFORE a page fetches what it shows (route() waits for its `hello`), and
// the events that arrive while the page loads wait in `pending` until it is ready: a
// change made between the fetch and the stream is never lost. Events carry states, so
// handing them over after the fetch is safe.
const live = {
  source: null,
  url: null,
  lastID: null,
  pending: null,
  open(query) {
    this.close();
    this.url = "/v1/events" + (query ? `?${query}` : "");
    return this.connect();
  },
  // Resolves once the stream said hello (or failed, or after 3 s): the page may load.
  connect() {
    if (!this.url || document.hidden) return Promise.resolve();
    const params = new URLSearchParams(this.url.split("?")[1] || "");
    if (token) params.set("access_token", token);
    if (this.lastID) params.set("last_event_id", this.lastID);
    const source = new EventSource("/v1/events?" + params.toString());
    this.source = source;
    setLive("reconnecting");
    source.addEventListener("open", () => setLive("live"));
    source.addEventListener("error", () => setLive(source.readyState === 2 ? "paused" : "reconnecting"));
    const handle = (message) => {
      if (message.lastEventId) this.lastID = message.lastEventId;
      if (message.type === "hello") return;
      let data = {};
      try { data = JSON.parse(message.data || "{}"); } catch { return; }
      if (this.pending) { this.pending.push([message.type, data]); return; }
      if (message.type === "reset") { view?.onReset?.(); return; }
      view?.onEvent?.(message.type, data);
    };
    for (const type of ["hello", "run.created", "run.updated", "task.updated", "log.appended",
      "workflow.updated", "delivery.received", "notification.updated", "reset"]) {
      source.addEventListener(type, handle);
    }
    return new Promise((resolve) => {
      source.addEventListener("hello", resolve, { once: true });
      source.addEventListener("error", resolve, { once: true });
      setTimeout(resolve, 3000);
    });
  },
  close() {
    if (this.source) this.source.close();
    this.source = null;
  },
};

function setLive(state) {
  liveBadge.textContent = state;
  liveBadge.classList.toggle("off", state !== "live");
}

document.addEventListener("visibilitychange", () => {
  if (document.hidden) {
    live.close();
    setLive("paused");
  } else {
    live.connect();
  }
});

// ---------------------------------------------------------------- runs list

function runRow(run) {
  const row = el("tr", { "data-testid": "run-row", "data-run-id": run.id, "data-status": run.status });
  fillRunRow(row, run);
  return row;
}

function fillRunRow(row, run) {
  row.dataset.status = run.status;
  const counts = run.counts || {};
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const done = (counts.succeeded || 0) + (counts.failed || 0) + (counts.timed_out || 0)
    + (counts.cancelled || 0) + (counts.skipped || 0);
  row.replaceChildren(
    el("td", {}, el("a", { href: `#/runs/${encodeURIComponent(run.id)}` }, run.name || run.id)),
    el("td", {}, statusBadge(run.status)),
    el("td", {}, run.workflow ? el("a", { href: `#/workflows/${encodeURIComponent(run.workflow)}` }, run.workflow) : "—"),
    el("td", {}, run.trigger?.type || ""),
    el("td", { class: "num" }, total ? `${done}/${total}` : ""),
    el("td", {}, when(run.created_at)),
    el("td", { class: "num" }, seconds(run.started_at, run.finished_at)),
  );
}

// A run.updated event on a shown row (its data has no name nor workflow).
function updateRunRow(row, data) {
  row.dataset.status = data.status;
  const cells = row.children;
  cells[1].replaceChildren(statusBadge(data.status));
  if (data.counts) {
    const total = Object.values(data.counts).reduce((a, b) => a + b, 0);
    const done = total - (data.counts.pending || 0) - (data.counts.running || 0);
    cells[4].textContent = `${done}/${total}`;
  }
  cells[6].textContent = seconds(data.started_at, data.finished_at);
}

async function showRuns(params) {
  const filters = { status: params.get("status") || "", name: params.get("name") || "", workflow: params.get("workflow") || "" };
  const form = el("form", { class: "filters", role: "search" },
    el("label", {}, "Status",
      el("select", { name: "status" }, el("option", { value: "" }, "any"),
        RUN_STATUSES.map((s) => el("option", { value: s, selected: s === filters.status }, s.replace("_", " "))))),
    el("label", {}, "Name", el("input", { name: "name", value: filters.name })),
    el("label", {}, "Workflow", el("input", { name: "workflow", value: filters.workflow })),
    el("button", { type: "submit" }, "Filter"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    for (const [key, value] of new FormData(form)) if (value) query.set(key, value);
    location.hash = `#/runs${query.toString() ? "?" + query : ""}`;
  });
  const body = el("tbody");
  const table = el("table", {},
    el("caption", { class: "sr-only" }, "Runs, newest first"),
    el("thead", {}, el("tr", {}, ["Run", "Status", "Workflow", "Trigger", "Tasks done", "Created", "Duration"].map((h) => el("th", { scope: "col" }, h)))),
    body);
  const more = el("button", { type: "button", hidden: true }, "Older runs");
  main.replaceChildren(el("h2", {}, "Runs"), form, table, more);
  const rows = new Map();
  let cursor = null;

  async function load(reset) {
    const query = new URLSearchParams({ limit: "50" });
    for (const [key, value] of Object.entries(filters)) if (value) query.set(key, value);
    if (!reset && cursor) query.set("cursor", cursor);
    try {
      const page = await json(`/v1/runs?${query}`);
      if (reset) { body.replaceChildren(); rows.clear(); }
      for (const run of page.runs) {
        const row = runRow(run);
        rows.set(run.id, row);
        body.append(row);
      }
      cursor = page.next_cursor;
      more.hidden = !cursor;
      if (!page.runs.length && reset) body.append(el("tr", {}, el("td", { colspan: 7 }, "No runs yet.")));
    } catch (error) { showError(body, error); }
  }
  more.addEventListener("click", () => load(false));
  await load(true);

  const matches = (run) => (!filters.status || run.status === filters.status)
    && (!filters.name || run.name === filters.name) && (!filters.workflow || run.workflow === filters.workflow);
  // With a status filter, a run that reaches that status joins the list. run.updated does
  // not say its name or workflow, so the first page is fetched again (once per burst).
  let refetch = null;
  const refetchSoon = () => { refetch ??= setTimeout(() => { refetch = null; load(true); }, 100); };
  return {
    onEvent(type, data) {
      if (type === "run.created" && matches(data)) {
        if (rows.has(data.id)) return; // already on the page fetched while the stream opened
        if (rows.size === 0) body.replaceChildren();
        const row = runRow(data);
        rows.set(data.id, row);
        body.prepend(row);
      } else if (type === "run.updated") {
        const row = rows.get(data.id);
        if (row && filters.status && data.status !== filters.status) {
          row.remove();
          rows.delete(data.id);
          if (rows.size === 0) body.replaceChildren(el("tr", {}, el("td", { colspan: 7 }, "No runs yet.")));
        } else if (row) {
          updateRunRow(row, data);
        } else if (filters.status && data.status === filters.status) {
          refetchSoon();
        }
      }
    },
    onReset() { load(true); },
  };
}

// ---------------------------------------------------------------- run detail

async function showRun(id, params) {
  const tab = params.get("tab") || "tasks";
  let run;
  try {
    run = await json(`/v1/runs/${encodeURIComponent(id)}`);
  } catch (error) { showError(main, error); return null; }
  const header = el("section", { "aria-labelledby": "run-title" });
  const panel = el("section", { class: "panel", role: "tabpanel", id: "panel" });
  const tabs = el("div", { class: "tabs", role: "tablist", "aria-label": "Run views" },
    ["tasks", "graph", "timeline"].map((name) => el("button", {
      type: "button", role: "tab", "aria-selected": String(name === tab), "aria-controls": "panel",
      "data-testid": `tab-${name}`,
      onclick: () => { location.hash = `#/runs/${encodeURIComponent(id)}?tab=${name}`; },
    }, name[0].toUpperCase() + name.slice(1))));
  main.replaceChildren(header, tabs, panel);
  const state = { run, tasks: new Map() };

  function renderHeader() {
    const r = state.run;
    const ended = !["queued", "running"].includes(r.status);
    const counts = r.counts || {};
    header.replaceChildren(
      el("h2", { id: "run-title" }, `Run ${r.name} `, statusBadge(r.status, { "data-testid": "run-status" })),
      el("dl", { class: "meta" },
        el("dt", {}, "Id"), el("dd", {}, r.id),
        el("dt", {}, "Workflow"), el("dd", {}, r.workflow ? el("a", { href: `#/workflows/${encodeURIComponent(r.workflow)}` }, r.workflow) : "—"),
        el("dt", {}, "Trigger"), el("dd", {}, triggerText(r.trigger)),
        el("dt", {}, "Created"), el("dd", {}, when(r.created_at)),
        el("dt", {}, "Started"), el("dd", {}, when(r.started_at)),
        el("dt", {}, "Finished"), el("dd", {}, when(r.finished_at)),
        el("dt", {}, "Duration"), el("dd", {}, seconds(r.started_at, r.finished_at))),
      el("ul", { class: "counts", "aria-label": "Tasks per status" },
        TASK_STATUSES.filter((s) => counts[s]).map((s) => el("li", {}, statusBadge(s), ` ${counts[s]}`))),
      el("div", { class: "actions" },
        el("button", {
          type: "button", class: "danger", "data-testid": "cancel", disabled: ended,
          title: ended ? "The run has ended" : "Cancel the run (a second cancel also stops cleanup groups)",
          onclick: async (event) => {
            event.target.disabled = true;
            try { await api(`/v1/runs/${encodeURIComponent(r.id)}/cancel`, { method: "POST" }); } catch (error) { alert(error.message); }
          },
        }, r.cancel_requests ? "Stop cleanup too" : "Cancel"),
        el("button", {
          type: "button", "data-testid": "retry", disabled: !ended || r.status === "succeeded",
          title: "Re-run what did not succeed, as a new run",
          onclick: async () => {
            try {
              const retry = await json(`/v1/runs/${encodeURIComponent(r.id)}/retry`, { method: "POST" });
              location.hash = `#/runs/${encodeURIComponent(retry.id)}`;
            } catch (error) { alert(error.message); }
          },
        }, "Retry"),
        el("a", { href: `/v1/runs/${encodeURIComponent(r.id)}/graph` }, "DOT graph")),
      ...(r.notifications ? [el("section", {}, el("h3", {}, "Notifications"),
        el("table", {}, el("thead", {}, el("tr", {}, ["URL", "Status", "Attempts", "Last error"].map((h) => el("th", { scope: "col" }, h)))),
          el("tbody", {}, r.notifications.map((n) => el("tr", { "data-testid": "notification-row" },
            el("td", {}, n.url), el("td", {}, n.status), el("td", { class: "num" }, n.attempts), el("td", {}, n.last_error || "—"))))))] : []),
    );
  }
  renderHeader();

  let renderTab;
  if (tab === "graph") renderTab = await graphTab(state, panel);
  else if (tab === "timeline") renderTab = await timelineTab(state, panel);
  else renderTab = await tasksTab(state, panel);

  return {
    onEvent(type, data) {
      if (type === "run.updated" && data.id === id) {
        Object.assign(state.run, data);
        if (data.counts) state.run.counts = data.counts;
        renderHeader();
      } else if (type === "task.updated" && data.run === id) {
        state.tasks.set(data.task.name, data.task);
        renderTab?.update?.(data.task);
      } else if (type === "notification.updated" && data.run === id) {
        json(`/v1/runs/${encodeURIComponent(id)}`).then((fresh) => { state.run = fresh; renderHeader(); });
      }
    },
    onReset() { route(); },
  };
}

function triggerText(trigger) {
  if (!trigger) return "—";
  switch (trigger.type) {
    case "cron": return `cron (scheduled ${trigger.scheduled_at})`;
    case "webhook": return `webhook ${trigger.event || ""} ${trigger.delivery_id ? "delivery " + trigger.delivery_id : ""}`;
    case "retry": return el("span", {}, "retry of ", el("a", { href: `#/runs/${encodeURIComponent(trigger.original_run_id)}` }, trigger.original_run_id));
    case "task": return el("span", {}, `workflow of task ${trigger.task} (attempt ${trigger.attempt}) of run `,
      el("a", { href: `#/runs/${encodeURIComponent(trigger.run_id)}` }, trigger.run_id));
    default: return trigger.type;
  }
}

// Tasks tab: every page of /tasks, a bounded number of rows in the DOM.
async function tasksTab(state, panel) {
  const runID = state.run.id;
  const groups = new Set();
  const statusFilter = el("select", { id: "task-status" }, el("option", { value: "" }, "any"),
    TASK_STATUSES.map((s) => el("option", { value: s }, s.replace("_", " "))));
  const groupFilter = el("select", { id: "task-group" }, el("option", { value: "" }, "any"));
  const nameFilter = el("input", { id: "task-name", type: "search" });
  const body = el("tbody");
  const note = el("p", { class: "note", "aria-live": "polite" });
  const more = el("button", { type: "button", hidden: true }, "Show more tasks");
  let limit = ROWS_SHOWN;
  panel.replaceChildren(
    el("div", { class: "filters" },
      el("label", { for: "task-status" }, "Status", statusFilter),
      el("label", { for: "task-group" }, "Group", groupFilter),
      el("label", { for: "task-name" }, "Name", nameFilter)),
    el("table", {},
      el("caption", { class: "sr-only" }, "Tasks in spec order"),
      el("thead", {}, el("tr", {}, ["Task", "Group", "Status", "Attempt", "Exit", "Reason", "Duration", "Log"].map((h) => el("th", { scope: "col" }, h)))),
      body),
    more, note);

  const order = [];
  const rows = new Map();
  function row(task) {
    const tr = el("tr", { "data-testid": "task-row", "data-task": task.name, "data-status": task.status });
    fill(tr, task);
    return tr;
  }
  function fill(tr, task) {
    tr.dataset.status = task.status;
    const exit = task.exit_code !== null && task.exit_code !== undefined ? String(task.exit_code)
      : task.signal ? `signal ${task.signal}` : "—";
    tr.replaceChildren(
      el("td", {}, task.name), el("td", {}, task.group || "—"), el("td", {}, statusBadge(task.status)),
      el("td", { class: "num" }, task.attempt), el("td", { class: "num" }, exit), el("td", {}, task.reason || ""),
      el("td", { class: "num" }, task.started_at ? seconds(task.started_at, task.finished_at) : "—"),
      el("td", {}, el("a", { href: `#/runs/${encodeURIComponent(runID)}/tasks/${encodeURIComponent(task.name)}`, "aria-label": `log of ${task.name}` }, "log")));
  }
  function visible(task) {
    return (!statusFilter.value || task.status === statusFilter.value)
      && (!groupFilter.value || task.group === groupFilter.value)
      && (!nameFilter.value || task.name.includes(nameFilter.value));
  }
  function render() {
    const shown = order.map((name) => state.tasks.get(name)).filter(visible);
    const fragment = document.createDocumentFragment();
    rows.clear();
    for (const task of shown.slice(0, limit)) {
      const tr = row(task);
      rows.set(task.name, tr);
      fragment.append(tr);
    }
    body.replaceChildren(fragment);
    more.hidden = shown.length <= limit;
    note.textContent = `${Math.min(shown.length, limit)} of ${shown.length} tasks shown (${order.length} in the run).`;
  }
  for (const control of [statusFilter, groupFilter]) control.addEventListener("change", () => { limit = ROWS_SHOWN; render(); });
  nameFilter.addEventListener("input", () => { limit = ROWS_SHOWN; render(); });
  more.addEventListener("click", () => { limit += ROWS_SHOWN; render(); });

  let cursor = "";
  let first = true;
  do {
    const page = await json(`/v1/runs/${encodeURIComponent(runID)}/tasks?limit=1000${cursor ? "&cursor=" + cursor : ""}`);
    for (const task of page.tasks) {
      if (!state.tasks.has(task.name)) order.push(task.name);
      state.tasks.set(task.name, task);
      if (task.group && !groups.has(task.group)) {
        groups.add(task.group);
        groupFilter.append(el("option", { value: task.group }, task.group));
      }
    }
    cursor = page.next_cursor || "";
    if (first) { render(); first = false; await new Promise((r) => setTimeout(r, 0)); }
  } while (cursor);
  render();
  return {
    update(task) {
      const tr = rows.get(task.name);
      if (tr && visible(task)) fill(tr, task);
      else if (!tr && visible(task) && rows.size < limit) render();
    },
  };
}

// Graph tab: the server lays the DAG out; events only swap classes.
async function graphTab(state, panel, collapse = "auto") {
  const holder = el("div", { class: "graph", "data-testid": "graph" });
  const toggle = el("button", { type: "button", hidden: true }, "Draw every task");
  panel.replaceChildren(el("div", { class: "actions" }, toggle), holder,
    el("p", { class: "note" }, "Nodes show the status as a glyph and a word. Select a task to open its log."));
  const response = await api(`/v1/runs/${encodeURIComponent(state.run.id)}/graph.svg?collapse=${collapse}`);
  holder.innerHTML = await response.text();
  if (response.headers.get("X-Graph-Collapsed") === "true") {
    toggle.hidden = false;
    toggle.addEventListener("click", () => graphTab(state, panel, "none").catch((error) => showError(holder, error)));
  }
  const open = (node) => {
    const name = node.getAttribute("data-task");
    if (name) location.hash = `#/runs/${encodeURIComponent(state.run.id)}/tasks/${encodeURIComponent(name)}`;
  };
  holder.addEventListener("click", (event) => { const node = event.target.closest("[data-task]"); if (node) open(node); });
  holder.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { const node = event.target.closest("[data-task]"); if (node) open(node); }
  });
  return {
    update(task) {
      const node = holder.querySelector(`[data-task="${CSS.escape(task.name)}"]`);
      if (!node) return;
      node.setAttribute("class", node.getAttribute("class").replace(/status-[a-z_]+/, `status-${task.status}`));
      const state = node.querySelector("text.state");
      if (state) state.textContent = `${GLYPH[task.status]} ${task.status.replace("_", " ")}`;
      const title = node.querySelector("title");
      if (title) title.textContent = `${task.name}: ${task.status}`;
    },
  };
}

// Timeline tab: one row per task, one bar per attempt, queue time lighter; only the rows
// in view are in the DOM.
async function timelineTab(state, panel) {
  const data = await json(`/v1/runs/${encodeURIComponent(state.run.id)}/timeline`);
  const ROW = 20;
  const LABEL = 184;
  const holder = el("div", { class: "timeline", "data-testid": "timeline", tabindex: "0", role: "region", "aria-label": "Timeline of task attempts" });
  const rows = el("div", { class: "rows" });
  holder.append(rows);
  panel.replaceChildren(holder, el("p", { class: "note" }, "Lighter: waiting for a slot (ready → started). One bar per attempt."));
  const times = [];
  for (const task of data.tasks) {
    for (const a of task.attempts) {
      times.push(new Date(a.queued_at || a.started_at).getTime());
      if (a.finished_at) times.push(new Date(a.finished_at).getTime());
    }
  }
  const start = times.length ? Math.min(...times) : Date.now();
  let end = times.length ? Math.max(...times) : start + 1000;
  if (["queued", "running"].includes(data.run.status)) end = Math.max(end, Date.now());
  rows.style.height = `${data.tasks.length * ROW}px`;
  rows.style.minWidth = "800px";

  function draw() {
    const width = Math.max(400, holder.clientWidth - LABEL - 16);
    const scale = width / Math.max(1, end - start);
    const x = (text) => LABEL + (new Date(text).getTime() - start) * scale;
    const first = Math.max(0, Math.floor(holder.scrollTop / ROW) - 10);
    const last = Math.min(data.tasks.length, first + Math.ceil(holder.clientHeight / ROW) + 20);
    const fragment = document.createDocumentFragment();
    for (let i = first; i < last; i++) {
      const task = data.tasks[i];
      const row = el("div", { class: "row" }, el("span", { class: "label", title: task.name }, task.name));
      row.style.top = `${i * ROW}px`;
      for (const a of task.attempts) {
        if (a.queued_at && a.queued_at < a.started_at) {
          const queue = el("span", { class: "queue", title: `${task.name} #${a.attempt} queued ${seconds(a.queued_at, a.started_at)}` });
          queue.style.left = `${x(a.queued_at)}px`;
          queue.style.width = `${Math.max(2, x(a.started_at) - x(a.queued_at))}px`;
          row.append(queue);
        }
        const finished = a.finished_at || new Date(end).toISOString();
        const bar = el("span", {
          class: `bar status-${a.status}`,
          title: `${task.name} attempt ${a.attempt}: ${a.status}, ${seconds(a.started_at, a.finished_at)}`,
        });
        bar.style.left = `${x(a.started_at)}px`;
        bar.style.width = `${Math.max(2, x(finished) - x(a.started_at))}px`;
        row.append(bar);
      }
      fragment.append(row);
    }
    rows.replaceChildren(fragment);
  }
  let pending = false;
  holder.addEventListener("scroll", () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; draw(); });
  });
  draw();
  return {};
}

// ---------------------------------------------------------------- log pane

async function showLog(runID, taskName) {
  const base = `/v1/runs/${encodeURIComponent(runID)}/tasks/${encodeURIComponent(taskName)}/log`;
  const pre = el("pre", { class: "log", "data-testid": "log", tabindex: "0", "aria-label": `Output of ${taskName}` });
  const earlier = el("button", { type: "button", "data-testid": "log-earlier", hidden: true }, "Load earlier output");
  const note = el("p", { class: "note" });
  const attemptPicker = el("select", { id: "attempt" });
  const state = { attempt: null, start: 0, end: 0, text: "", complete: false, loading: false };
  main.replaceChildren(
    el("h2", {}, "Log of ", el("a", { href: `#/runs/${encodeURIComponent(runID)}` }, "run"), ` / ${taskName}`),
    el("div", { class: "actions" },
      el("label", { for: "attempt" }, "Attempt "), attemptPicker,
      el("a", { href: base, target: "_blank", rel: "noopener" }, "raw log")),
    earlier, pre, note);

  const decoder = () => new TextDecoder("utf-8", { fatal: false });
  async function fetchRange(offset) {
    const query = new URLSearchParams({ offset: String(offset) });
    if (state.attempt) query.set("attempt", state.attempt);
    const response = await api(`${base}?${query}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    return {
      bytes,
      size: Number(response.headers.get("X-Log-Size") || 0),
      complete: response.headers.get("X-Log-Complete") === "true",
    };
  }
  function setText(text) {
    if (text.length > LOG_CAP) {
      const cut = text.length - LOG_CAP;
      state.start += new TextEncoder().encode(text.slice(0, cut)).length;
      text = text.slice(cut);
    }
    state.text = text;
    const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 40;
    pre.textContent = text;
    if (atBottom) pre.scrollTop = pre.scrollHeight;
    earlier.hidden = state.start === 0;
    note.textContent = `${state.end} bytes` + (state.start ? ` — showing from byte ${state.start}; use "raw log" for everything` : "")
      + (state.complete ? " (complete)" : " (following)");
  }
  async function openAttempt() {
    const probe = await fetchRange(Number.MAX_SAFE_INTEGER);
    state.start = Math.max(0, probe.size - TAIL_BYTES);
    const tail = await fetchRange(state.start);
    state.end = state.start + tail.bytes.length;
    state.complete = tail.complete;
    setText(decoder().decode(tail.bytes));
    pre.scrollTop = pre.scrollHeight;
  }
  async function follow() {
    if (state.loading || state.complete) return;
    state.loading = true;
    try {
      const next = await fetchRange(state.end);
      state.end += next.bytes.length;
      state.complete = next.complete;
      if (next.bytes.length) setText(state.text + decoder().decode(next.bytes));
      else setText(state.text);
    } finally { state.loading = false; }
  }
  earlier.addEventListener("click", async () => {
    const from = Math.max(0, state.start - TAIL_BYTES);
    const query = new URLSearchParams({ offset: String(from) });
    if (state.attempt) query.set("attempt", state.attempt);
    const response = await api(`${base}?${query}`);
    const bytes = new Uint8Array(await response.arrayBuffer()).slice(0, state.start - from);
    state.start = from;
    const before = pre.scrollHeight;
    state.text = decoder().decode(bytes) + state.text;
    pre.textContent = state.text;
    pre.scrollTop = pre.scrollHeight - before;
    earlier.hidden = state.start === 0;
  });
  try {
    const task = (await json(`/v1/runs/${encodeURIComponent(runID)}/tasks?limit=1000`)).tasks.find((t) => t.name === taskName);
    const attempts = Math.max(1, task?.attempt || 1);
    for (let n = attempts; n >= 1; n--) attemptPicker.append(el("option", { value: String(n) }, `#${n}`));
    state.attempt = String(attempts);
    attemptPicker.addEventListener("change", () => { state.attempt = attemptPicker.value; openAttempt(); });
    await openAttempt();
  } catch (error) { showError(pre, error); }
  return {
    onEvent(type, data) {
      if (type === "log.appended" && data.task === taskName && String(data.attempt) === state.attempt) {
        if (data.size > state.end || data.complete) follow();
      } else if (type === "task.updated" && data.task.name === taskName && String(data.task.attempt) !== state.attempt
        && data.task.status === "running") {
        attemptPicker.prepend(el("option", { value: String(data.task.attempt) }, `#${data.task.attempt}`));
        attemptPicker.value = String(data.task.attempt);
        state.attempt = String(data.task.attempt);
        openAttempt();
      }
    },
    onReset() { openAttempt(); },
  };
}

// ---------------------------------------------------------------- workflows

function scheduleText(schedule) {
  if (!schedule) return "—";
  const rule = schedule.cron ? `cron ${schedule.cron}` : schedule.every ? `every ${schedule.every}` : JSON.stringify(schedule);
  return `${rule}${schedule.timezone ? " (" + schedule.timezone + ")" : ""}`;
}

function nextRuns(times, count = 5) {
  if (!times || !times.length) return "—";
  return el("ul", { class: "counts" }, times.slice(0, count).map((t) => el("li", {}, when(t))));
}

async function showWorkflows() {
  const body = el("tbody");
  main.replaceChildren(el("h2", {}, "Workflows"),
    el("table", {},
      el("caption", { class: "sr-only" }, "Stored workflows"),
      el("thead", {}, el("tr", {}, ["Workflow", "State", "Schedule", "Next fires", "Last status", "Webhook"].map((h) => el("th", { scope: "col" }, h)))),
      body));
  async function load() {
    try {
      const list = await json("/v1/workflows");
      body.replaceChildren(...list.workflows.map((w) => el("tr", { "data-testid": "workflow-row", "data-workflow": w.name },
        el("td", {}, el("a", { href: `#/workflows/${encodeURIComponent(w.name)}` }, w.name)),
        el("td", {}, w.state),
        el("td", {}, scheduleText(w.schedule)),
        el("td", {}, nextRuns(w.next_runs, 3)),
        el("td", {}, w.last_status ? statusBadge(w.last_status) : "—"),
        el("td", {}, w.webhook ? "on" : "off"))));
      if (!list.workflows.length) body.append(el("tr", {}, el("td", { colspan: 6 }, "No stored workflows.")));
    } catch (error) { showError(body, error); }
  }
  await load();
  return { onEvent(type) { if (type === "workflow.updated") load(); }, onReset: load };
}

async function showWorkflow(name) {
  const section = el("section");
  let shownRuns = new Set();
  main.replaceChildren(section);
  async function load() {
    let w;
    try { w = await json(`/v1/workflows/${encodeURIComponent(name)}`); } catch (error) { showError(section, error); return; }
    const runs = await json(`/v1/runs?workflow=${encodeURIComponent(name)}&limit=20`).catch(() => ({ runs: [] }));
    const deliveries = await json(`/v1/workflows/${encodeURIComponent(name)}/deliveries`).catch(() => ({ deliveries: [] }));
    shownRuns = new Set(runs.runs.map((r) => r.id));
    const paused = w.state === "paused";
    const act = (what) => async () => {
      try {
        const answer = await json(`/v1/workflows/${encodeURIComponent(name)}/${what}`, { method: "POST" });
        if (what === "runs") location.hash = `#/runs/${encodeURIComponent(answer.id)}`;
        else load();
      } catch (error) { alert(error.message); }
    };
    section.replaceChildren(
      el("h2", {}, `Workflow ${w.name}`),
      el("dl", { class: "meta" },
        el("dt", {}, "State"), el("dd", {}, w.state),
        el("dt", {}, "Schedule"), el("dd", {}, scheduleText(w.schedule)),
        el("dt", {}, "Next fires"), el("dd", {}, nextRuns(w.next_runs)),
        el("dt", {}, "Last fire"), el("dd", {}, when(w.last_fire_at)),
        el("dt", {}, "Last status"), el("dd", {}, w.last_status ? statusBadge(w.last_status) : "—"),
        el("dt", {}, "Webhook"), el("dd", {}, w.webhook ? `POST /v1/hooks/${w.name}` : "off")),
      el("div", { class: "actions" },
        el("button", { type: "button", "data-testid": "run-now", onclick: act("runs") }, "Run now"),
        el("button", { type: "button", "data-testid": "pause", disabled: paused, onclick: act("pause") }, "Pause"),
        el("button", { type: "button", "data-testid": "resume", disabled: !paused, onclick: act("resume") }, "Resume")),
      el("h3", {}, "Recent runs"),
      el("table", {}, el("thead", {}, el("tr", {}, ["Run", "Status", "Workflow", "Trigger", "Tasks done", "Created", "Duration"].map((h) => el("th", { scope: "col" }, h)))),
        el("tbody", {}, runs.runs.map(runRow))),
      el("h3", {}, "Webhook deliveries (since the server started)"),
      deliveries.deliveries.length ? el("table", {},
        el("thead", {}, el("tr", {}, ["Received", "Delivery", "Event", "Result", "Run"].map((h) => el("th", { scope: "col" }, h)))),
        el("tbody", {}, deliveries.deliveries.map((d) => el("tr", { "data-testid": "delivery-row" },
          el("td", {}, when(d.at)), el("td", {}, d.delivery || "—"), el("td", {}, d.event || "—"), el("td", {}, d.result),
          el("td", {}, d.run ? el("a", { href: `#/runs/${encodeURIComponent(d.run)}` }, d.run) : "—"))))) : el("p", { class: "note" }, "None."),
    );
  }
  await load();
  return {
    onEvent(type, data) {
      if ((type === "workflow.updated" && data.name === name) || (type === "delivery.received" && data.workflow === name)
        || (type === "run.created" && data.workflow === name)) load();
      else if (type === "run.updated" && shownRuns.has(data.id)) {
        // A listed run moved on: its row now, the last status once it has ended.
        const row = section.querySelector(`[data-testid=run-row][data-run-id="${CSS.escape(data.id)}"]`);
        if (row) updateRunRow(row, data);
        if (!["queued", "running"].includes(data.status)) load();
      }
    },
    onReset: load,
  };
}

// ---------------------------------------------------------------- routing

let routing = 0; // counts route() calls: only the latest one installs its page

async function route() {
  const [pathPart, queryPart] = (location.hash.slice(1) || "/runs").split("?");
  const params = new URLSearchParams(queryPart || "");
  const parts = pathPart.split("/").filter(Boolean).map(decodeURIComponent);
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === parts[0]) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const generation = ++routing;
  view = null;
  live.lastID = null;
  live.pending = [];
  let query = "";
  if (parts[0] === "runs" && parts[1]) {
    query = `run=${encodeURIComponent(parts[1])}`;
    if (parts[2] === "tasks" && parts[3]) query += `&logs=${encodeURIComponent(parts[3])}`;
  }
  let next = null;
  try {
    await live.open(query);
    if (parts[0] === "workflows" && parts[1]) next = await showWorkflow(parts[1]);
    else if (parts[0] === "workflows") next = await showWorkflows();
    else if (parts[0] === "runs" && parts[1] && parts[2] === "tasks" && parts[3]) next = await showLog(parts[1], parts[3]);
    else if (parts[0] === "runs" && parts[1]) next = await showRun(parts[1], params);
    else next = await showRuns(params);
  } catch (error) {
    if (generation === routing) showError(main, error);
  }
  if (generation !== routing) return; // a newer page took over meanwhile
  view = next;
  const missed = live.pending;
  live.pending = null;
  for (const [type, data] of missed) {
    if (type === "reset") view?.onReset?.();
    else view?.onEvent?.(type, data);
  }
}

document.getElementById("login").addEventListener("submit", (event) => {
  event.preventDefault();
  token = document.getElementById("token").value.trim();
  sessionStorage.setItem("baton.token", token);
  document.getElementById("login").classList.remove("attention");
  route();
});
if (token) document.getElementById("token").value = token;

const themeButton = document.getElementById("theme");
function applyTheme(theme) {
  if (theme) document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
  const dark = theme ? theme === "dark" : matchMedia("(prefers-color-scheme: dark)").matches;
  themeButton.setAttribute("aria-pressed", String(dark));
  themeButton.textContent = dark ? "Light mode" : "Dark mode";
}
applyTheme(localStorage.getItem("baton.theme"));
themeButton.addEventListener("click", () => {
  const dark = themeButton.getAttribute("aria-pressed") === "true";
  const next = dark ? "light" : "dark";
  localStorage.setItem("baton.theme", next);
  applyTheme(next);
});

window.addEventListener("hashchange", route);
route();
