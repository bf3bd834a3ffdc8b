// The page of migrate's hosted conversions: submit, watch, cancel, read
// the report, download. Plain DOM and fetch; the API is api/openapi.yaml.
"use strict";

const $ = (id) => document.getElementById(id);
// listActive and jobActive say whether the job list and the selected job
// may still change; polling goes on while either does. listSeq and jobSeq
// number the requests, so that a slow, stale answer never overwrites a
// newer one (nor stops the polling the newer one asked for).
const state = { token: sessionStorage.getItem("migrate-token") || "", adapters: [], selected: "", timer: 0,
  listActive: false, jobActive: false, listSeq: 0, listShown: 0, jobSeq: 0, jobShown: 0 };
const FINAL = new Set(["succeeded", "succeeded_with_warnings", "failed", "cancelled"]);

function headers() {
  return state.token ? { Authorization: "Bearer " + state.token } : {};
}

async function api(path, opts = {}) {
  const res = await fetch("/api/v1" + path, { ...opts, headers: { ...headers(), ...(opts.headers || {}) } });
  if (!res.ok) {
    let msg = res.status + " " + res.statusText;
    try { msg = (await res.json()).error || msg; } catch (e) { /* not JSON */ }
    const err = new Error(msg);
    err.status = res.status;
    throw err;
  }
  return res;
}

function text(el, s) { el.textContent = s == null ? "" : String(s); }

function fmtBytes(n) {
  if (!n) return "0";
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + " " + u[i];
}

function fmtCount(p) {
  if (!p) return "";
  const f = p.unit === "bytes" ? fmtBytes : (n) => n.toLocaleString();
  return p.total ? f(p.done) + " / " + f(p.total) + " " + (p.unit === "bytes" ? "" : p.unit || "") : (p.done ? f(p.done) + " " + (p.unit === "bytes" ? "" : p.unit || "") : "");
}

function stateLabel(s) { return (s || "").replace(/_/g, " "); }

async function start() {
  const info = await (await fetch("/api/v1/info")).json();
  $("token-form").hidden = !info.auth;
  $("token").value = state.token;
  $("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    state.token = $("token").value.trim();
    sessionStorage.setItem("migrate-token", state.token);
    load();
  });
  $("from").addEventListener("change", renderOptions);
  $("to").addEventListener("change", renderOptions);
  $("submit-form").addEventListener("submit", submit);
  $("refresh").addEventListener("click", refreshJobs);
  $("cancel").addEventListener("click", cancelJob);
  $("show-report").addEventListener("click", showReport);
  $("download").addEventListener("click", () => download("output"));
  $("download-report").addEventListener("click", () => download("report.json"));
  $("show-log").addEventListener("click", showLog);
  const m = location.hash.match(/job=([\w-]+)/);
  if (m) state.selected = m[1];
  if (!info.auth || state.token) load();
}

async function load() {
  try {
    state.adapters = (await (await api("/adapters")).json()).adapters;
  } catch (e) {
    text($("who"), e.status === 401 ? "Enter a valid API token." : e.message);
    return;
  }
  text($("who"), "");
  fill($("from"), state.adapters.filter((a) => a.manifest.source));
  fill($("to"), state.adapters.filter((a) => a.manifest.target));
  renderOptions();
  await refreshJobs();
  if (state.selected) selectJob(state.selected);
}

function fill(sel, list) {
  const keep = sel.value;
  sel.replaceChildren(...list.map((a) => {
    const o = document.createElement("option");
    o.value = a.manifest.name;
    o.textContent = a.manifest.title ? a.manifest.title + " (" + a.manifest.name + ")" : a.manifest.name;
    return o;
  }));
  if (keep) sel.value = keep;
}

function manifest(name) {
  const a = state.adapters.find((x) => x.manifest.name === name);
  return a ? a.manifest : null;
}

// renderOptions shows one field per option the chosen adapters declare.
function renderOptions() {
  const box = $("adapter-options");
  box.replaceChildren();
  for (const [role, name] of [["source", $("from").value], ["target", $("to").value]]) {
    const m = manifest(name);
    if (!m || !m.options) continue;
    for (const o of m.options) {
      if (o.role && o.role !== role) continue;
      const label = document.createElement("label");
      const input = document.createElement("input");
      input.dataset.role = role;
      input.dataset.name = o.name;
      input.dataset.type = o.type;
      if (o.type === "bool") {
        input.type = "checkbox";
        input.checked = o.default === true;
      } else if (o.default != null) {
        input.placeholder = String(o.default);
      }
      label.title = o.description || "";
      label.append(o.name + " [" + m.name + "]", input);
      box.append(label);
    }
  }
}

function collectSpec() {
  const spec = { from: $("from").value, to: $("to").value };
  const urls = $("urls").value.split(/\s+/).filter(Boolean);
  if (urls.length) spec.urls = urls;
  if ($("output-name").value.trim()) spec.output_name = $("output-name").value.trim();
  if ($("admin").value.trim()) spec.admin = $("admin").value.trim();
  const notify = $("notify").value.split(/[\s,;]+/).filter(Boolean);
  if (notify.length) spec.notify = notify;
  if ($("webhook").value.trim()) spec.webhook = $("webhook").value.trim();
  for (const input of $("adapter-options").querySelectorAll("input")) {
    const key = input.dataset.role + "_options";
    let v;
    if (input.dataset.type === "bool") {
      if (!input.checked) continue;
      v = true;
    } else {
      if (!input.value.trim()) continue;
      v = input.value.trim();
    }
    spec[key] = spec[key] || {};
    spec[key][input.dataset.name] = v;
  }
  return spec;
}

function submit(e) {
  e.preventDefault();
  text($("submit-error"), "");
  const fd = new FormData();
  fd.append("spec", JSON.stringify(collectSpec()));
  if ($("passphrase").value) fd.append("passphrase", $("passphrase").value);
  if ($("output-passphrase").value) fd.append("output_passphrase", $("output-passphrase").value);
  for (const f of $("files").files) fd.append("input", f, f.name);
  // XMLHttpRequest, not fetch, for the upload's progress.
  const xhr = new XMLHttpRequest();
  xhr.open("POST", "/api/v1/jobs");
  if (state.token) xhr.setRequestHeader("Authorization", "Bearer " + state.token);
  const bar = $("upload-progress");
  bar.hidden = false;
  bar.value = 0;
  $("submit").disabled = true;
  xhr.upload.onprogress = (ev) => { if (ev.lengthComputable) bar.value = ev.loaded / ev.total; };
  xhr.onloadend = () => {
    $("submit").disabled = false;
    bar.hidden = true;
    let body = {};
    try { body = JSON.parse(xhr.responseText); } catch (err) { /* not JSON */ }
    if (xhr.status !== 201) {
      text($("submit-error"), body.error || "The server answered " + xhr.status);
      return;
    }
    $("passphrase").value = "";
    $("output-passphrase").value = "";
    $("files").value = "";
    selectJob(body.id);
    refreshJobs();
  };
  xhr.send(fd);
}

async function refreshJobs() {
  const seq = ++state.listSeq;
  let list;
  try {
    list = (await (await api("/jobs?limit=100")).json()).jobs;
  } catch (e) {
    text($("who"), e.message);
    schedule(); // try again: a job may still be running
    return;
  }
  if (seq < state.listShown) return;
  state.listShown = seq;
  const rows = list.map((j) => {
    const tr = document.createElement("tr");
    tr.dataset.id = j.id;
    if (j.id === state.selected) tr.className = "selected";
    const cells = [j.id, j.spec.from + " → " + j.spec.to, stateLabel(j.state), j.progress && !FINAL.has(j.state) ? j.progress.step : "", new Date(j.created_at).toLocaleString()];
    for (const c of cells) {
      const td = document.createElement("td");
      td.textContent = c;
      tr.append(td);
    }
    tr.children[2].className = "state-" + j.state;
    tr.addEventListener("click", () => selectJob(j.id));
    return tr;
  });
  $("jobs").tBodies[0].replaceChildren(...rows);
  state.listActive = list.some((j) => !FINAL.has(j.state));
  schedule();
}

function schedule() {
  clearTimeout(state.timer);
  if (state.listActive || state.jobActive) state.timer = setTimeout(() => { refreshJobs(); if (state.selected) selectJob(state.selected, true); }, 1000);
}

async function selectJob(id, quiet) {
  state.selected = id;
  if (!quiet) {
    history.replaceState(null, "", "#job=" + id);
    $("report").hidden = true;
    $("log").hidden = true;
  }
  const seq = ++state.jobSeq;
  let j;
  try {
    j = await (await api("/jobs/" + encodeURIComponent(id))).json();
  } catch (e) {
    text($("job-error"), e.message);
    schedule(); // try again while the job may still be running
    return;
  }
  if (seq < state.jobShown || id !== state.selected) return;
  state.jobShown = seq;
  for (const tr of $("jobs").tBodies[0].rows) tr.classList.toggle("selected", tr.dataset.id === id);
  $("job").hidden = false;
  text($("job-id"), j.id);
  text($("job-state"), stateLabel(j.state) + (j.cancel_requested && !FINAL.has(j.state) ? " (cancelling…)" : ""));
  $("job-state").className = "state-" + j.state;
  const p = j.progress;
  text($("job-step"), p ? p.step : (j.state === "queued" ? "waiting for a worker" : ""));
  $("job-progress").value = p && p.total ? p.done / p.total : (FINAL.has(j.state) ? 1 : 0);
  text($("job-count"), fmtCount(p));
  text($("job-inputs"), (j.inputs || []).map((i) => i.name + (i.size ? " (" + fmtBytes(i.size) + ")" : "") + (i.url ? " ← " + i.url : "")).join(", "));
  text($("job-attempts"), j.attempts);
  text($("job-notified"), j.notified || "");
  text($("job-error"), j.error || "");
  const final = FINAL.has(j.state);
  const purged = !!j.purged_at;
  $("cancel").disabled = final;
  $("show-report").disabled = !(j.result && j.result.report) || purged;
  $("download-report").disabled = $("show-report").disabled;
  $("download").disabled = !(j.result && j.result.output) || purged;
  $("download").textContent = j.result && j.result.output ? "Download " + j.result.output + " (" + fmtBytes(j.result.output_size) + ")" : "Download output";
  state.jobActive = !final;
  schedule();
}

async function cancelJob() {
  try {
    await api("/jobs/" + encodeURIComponent(state.selected) + "/cancel", { method: "POST" });
  } catch (e) {
    text($("job-error"), e.message);
  }
  selectJob(state.selected, true);
  refreshJobs();
}

async function showReport() {
  try {
    const html = await (await api("/jobs/" + encodeURIComponent(state.selected) + "/report?format=html")).text();
    const frame = $("report");
    if (frame.dataset.url) URL.revokeObjectURL(frame.dataset.url);
    frame.dataset.url = URL.createObjectURL(new Blob([html], { type: "text/html" }));
    frame.src = frame.dataset.url;
    frame.hidden = false;
  } catch (e) {
    text($("job-error"), e.message);
  }
}

async function showLog() {
  try {
    text($("log"), await (await api("/jobs/" + encodeURIComponent(state.selected) + "/log")).text());
    $("log").hidden = false;
  } catch (e) {
    text($("job-error"), e.message);
  }
}

// download asks for a short-lived signed link (the token never goes into
// a URL) and lets the browser stream the file to disk.
async function download(file) {
  try {
    const link = await (await api("/jobs/" + encodeURIComponent(state.selected) + "/link?file=" + file, { method: "POST" })).json();
    const a = document.createElement("a");
    a.href = link.url;
    a.download = "";
    document.body.append(a);
    a.click();
    a.remove();
  } catch (e) {
    text($("job-error"), e.message);
  }
}

start();
