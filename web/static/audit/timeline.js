// The audit timeline's diagram: a bpmn-js viewer (read-only) of the version the instance ran on,
// marked with the state replay rebuilds after the event chosen on the timeline (a click on an
// event, the slider, or the previous/next buttons). The state comes from
// GET <state-url>?at=SEQ as {completed, active, definition_id, diagram_url, data, mismatch}.
// The chosen event and the marked elements are mirrored on the container's data attributes
// (data-at, data-completed, data-active) for tests and assistive tools.

const root = document.getElementById("audit-diagram");
const texts = JSON.parse(document.getElementById("audit-texts").textContent);
const slider = document.getElementById("audit-slider");
const statusLine = document.getElementById("audit-status");
const dataView = document.getElementById("audit-data");
const head = Number(root.dataset.head);
const events = [...document.querySelectorAll("ol.timeline > li[data-seq]")];

const viewer = new window.BpmnJS({ container: root.querySelector(".audit-canvas") });
let definitionId = null;
let marked = [];
let latest = 0; // the newest request: answers to older ones are dropped

function t(key, values = {}) {
  return texts[key].replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

function say(text, mismatch = false) {
  statusLine.textContent = text;
  statusLine.classList.toggle("mismatch", mismatch);
}

async function loadDiagram(url, id) {
  const response = await fetch(url, { headers: { Accept: "application/xml" } });
  if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
  try {
    await viewer.importXML(await response.text());
  } catch (error) {
    throw new Error(t("diagramFailed", { message: error.message }));
  }
  viewer.get("canvas").zoom("fit-viewport");
  definitionId = id;
  marked = [];
}

function mark(completed, active) {
  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  for (const [id, className] of marked) canvas.removeMarker(id, className);
  marked = [];
  const add = (id, className) => {
    if (!registry.get(id)) return;
    canvas.addMarker(id, className);
    marked.push([id, className]);
  };
  for (const id of completed) add(id, "audit-completed");
  for (const id of active) add(id, "audit-active");
  // A flow is on the path when it leaves a completed element for a completed or waiting one.
  for (const flow of registry.filter((element) => element.waypoints && element.source && element.target)) {
    if (completed.has(flow.source.id) && (completed.has(flow.target.id) || active.has(flow.target.id))) {
      add(flow.id, "audit-path");
    }
  }
}

function choose(seq) {
  slider.value = String(seq);
  for (const item of events) {
    const itemSeq = Number(item.dataset.seq);
    if (itemSeq === seq) item.setAttribute("aria-current", "step");
    else item.removeAttribute("aria-current");
    item.classList.toggle("after", itemSeq > seq);
  }
  document.getElementById("audit-prev").disabled = seq <= 1;
  document.getElementById("audit-next").disabled = seq >= head;
}

async function show(seq) {
  seq = Math.min(Math.max(seq, 1), head);
  const request = ++latest;
  choose(seq);
  root.dataset.loading = "true";
  say(t("loading", { seq }));
  try {
    const url = new URL(root.dataset.stateUrl, window.location.href);
    url.searchParams.set("at", String(seq));
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    const state = await response.json();
    if (!response.ok) throw new Error(state.message || response.statusText);
    if (request !== latest) return;
    if (state.definition_id !== definitionId) await loadDiagram(state.diagram_url, state.definition_id);
    if (request !== latest) return;
    const completed = new Set(state.completed);
    const active = new Set(state.active);
    mark(completed, active);
    root.dataset.at = String(state.at);
    root.dataset.completed = state.completed.join(" ");
    root.dataset.active = state.active.join(" ");
    dataView.textContent = JSON.stringify(state.data, null, 2);
    if (state.mismatch) {
      say(t("mismatch", { seq: state.mismatch.seq, detail: state.mismatch.detail || "" }), true);
    } else {
      say(t("shown", { seq: state.at, head: state.head, completed: completed.size, active: active.size }));
    }
  } catch (error) {
    if (request === latest) say(t("failed", { message: error.message }), true);
  } finally {
    if (request === latest) root.dataset.loading = "false";
  }
}

slider.addEventListener("change", () => show(Number(slider.value)));
document.getElementById("audit-prev").addEventListener("click", () => show(Number(slider.value) - 1));
document.getElementById("audit-next").addEventListener("click", () => show(Number(slider.value) + 1));
for (const button of document.querySelectorAll("ol.timeline button.pick")) {
  button.addEventListener("click", () => show(Number(button.dataset.seq)));
}

// A link to #event-N opens the diagram at that event; otherwise at the last one.
const linked = /^#event-(\d+)$/.exec(window.location.hash);
if (head > 0) show(linked ? Number(linked[1]) : head);
