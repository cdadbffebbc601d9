/* global document, Node */
// The ops dashboard: polls /ops/api/summary every few seconds and renders it with DOM calls
// only (textContent, never innerHTML). No framework, no build step.
"use strict";

const POLL_MS = 3000;
const $ = (id) => document.getElementById(id);

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function row(cells, className) {
  const tr = el("tr", null, className);
  for (const cell of cells) {
    if (cell instanceof Node) { const td = el("td"); td.append(cell); tr.append(td); } else tr.append(el("td", cell));
  }
  return tr;
}

function replace(container, nodes) {
  container.replaceChildren(...nodes);
}

function ms(v) {
  if (v === null || v === undefined) return "–";
  if (v >= 1000) return `${Number((v / 1000).toFixed(1))} s`;
  return v < 10 ? `${v.toFixed(1)} ms` : `${Math.round(v)} ms`;
}
const age = (s) => (s === null || s === undefined ? "–" : s < 120 ? `${s} s` : `${Math.round(s / 60)} min`);
const time = (iso) => new Date(iso).toLocaleTimeString();
const STATUS_CLASS = { ok: "ok", idle: "idle", backlog: "warn", breach: "bad", dead_letters: "bad" };
const badge = (status) => el("span", status.replace("_", " "), `pill ${STATUS_CLASS[status] || ""}`);

function renderCrisis(crisis) {
  $("crisis-target").textContent = `(target ${crisis.targetMs} ms)`;
  $("crisis-activations").textContent = crisis.activations;
  $("crisis-resolves").textContent = crisis.resolves;
  $("crisis-calls").textContent = crisis.calls;
  $("crisis-p95").textContent = ms(crisis.latency.p95);
  const breaches = $("crisis-breaches");
  breaches.textContent = crisis.breaches;
  breaches.className = `value ${crisis.breaches > 0 ? "bad" : "ok"}`;
  const most = Math.max(1, ...crisis.histogram.map((b) => b.count));
  const cells = [];
  for (const bucket of crisis.histogram) {
    const bar = el("div", null, `bar${bucket.fromMs >= crisis.targetMs ? " over" : ""}`);
    bar.style.width = `${(100 * bucket.count) / most}%`;
    cells.push(el("span", bucket.label), bar, el("span", bucket.count));
  }
  replace($("crisis-histogram"), cells);
  replace($("crisis-recent-breaches"), crisis.recentBreaches.map((b) =>
    el("li", `${time(b.time)} ${b.action} ${ms(b.latencyMs)} (${b.outcome}) [${b.entry}]`, "bad")));
}

function renderLanes(lanes) {
  replace($("lanes-body"), lanes.map((lane) => row([
    lane.lane,
    lane.queue.visible + lane.queue.delayed,
    lane.queue.inFlight,
    age(lane.queue.oldestAgeSeconds),
    el("span", lane.dlq.visible, lane.dlq.visible >= lane.dlqAlarmThreshold ? "bad" : ""),
    age(lane.dlq.oldestAgeSeconds),
    badge(lane.status),
  ])));
}

function renderApply(apply) {
  replace($("apply-body"), apply.map((r) => row([
    `${r.priority} ${r.name}`,
    r.targetMs === null ? "none" : ms(r.targetMs),
    r.latency.count,
    ms(r.latency.p50),
    ms(r.latency.p95),
    ms(r.latency.max),
    el("span", r.breaches, r.breaches > 0 ? "bad" : ""),
    badge(r.status),
  ])));
}

function renderUsers(users) {
  const rows = Object.entries(users.byTier).map(([tier, n]) => row([tier.replace("_", " "), n]));
  rows.push(row(["in grace, ending within 24 h", users.graceEndingWithin24h]));
  replace($("users-body"), rows);
  $("users-note").textContent = `${users.withPaymentState} users with a payment state${users.truncated ? " (read capped: lower bound)" : ""}; users who never paid are free.`;
}

function renderWebhooks(webhooks) {
  const intake = Object.entries(webhooks.intake).map(([outcome, n]) => `${outcome} ${n}`).join(" · ");
  $("webhooks-intake").textContent = `intake: ${intake || "none"} — processed: ${webhooks.processed}`;
  replace($("webhooks-body"), webhooks.byType.map((t) => row([
    t.type, t.count, Object.entries(t.outcomes).map(([o, n]) => `${o} ${n}`).join(", "),
  ])));
  replace($("webhooks-recent"), webhooks.recent.map((w) =>
    el("li", `${time(w.time)} ${w.type} → ${w.outcome}${w.latencyMs === null ? "" : ` (${ms(w.latencyMs)})`}`)));
}

function renderAudit(audit) {
  const status = $("audit-status");
  status.textContent = audit.intact ? "intact" : "BROKEN";
  status.className = `pill ${audit.intact ? "ok" : "bad"}`;
  const days = audit.days.length === 0 ? "no entries yet" : audit.days.join(", ");
  $("audit-detail").textContent = `${audit.entries} entries verified in ${audit.chains} chains (${days})`;
  replace($("audit-broken"), audit.broken.map((b) => el("li", `chain ${b.chain}: broken at seq ${b.brokenAt} (${b.reason})`, "bad")));
}

function setStatus(text, className) {
  const status = $("status");
  status.textContent = text;
  status.className = `pill ${className}`;
}

let timer;
async function refresh() {
  clearTimeout(timer);
  try {
    const response = await fetch(`/ops/api/summary?window=${encodeURIComponent($("window").value)}`, { credentials: "same-origin" });
    if (response.status === 401) {
      setStatus("signed out: open /ops?token=…", "bad");
      return;
    }
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const summary = await response.json();
    renderCrisis(summary.crisis);
    renderLanes(summary.lanes);
    renderApply(summary.apply);
    renderUsers(summary.users);
    renderWebhooks(summary.webhooks);
    renderAudit(summary.audit);
    setStatus("live", "ok");
    $("updated").textContent = `updated ${time(summary.generatedAt)}`;
    document.body.dataset.generatedAt = summary.generatedAt;
  } catch (error) {
    setStatus(`stale: ${error.message}`, "warn");
  }
  timer = setTimeout(refresh, POLL_MS);
}

$("window").addEventListener("change", refresh);
refresh();
