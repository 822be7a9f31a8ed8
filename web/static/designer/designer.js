// The process designer's editor: one tab per file of a draft, and Save / Validate / Deploy /
// Discard against the draft's JSON API. Saves name the revision the editor last saw; the server
// refuses a stale one (409) and we say so, never overwriting someone else's work.

import { node } from "./dom.js";
import { createBpmnEditor, createDmnEditor, createTextEditor, editorKind } from "./editors.js";
import { renderProblems } from "./problems.js";

const root = document.getElementById("designer");
const texts = JSON.parse(document.getElementById("designer-texts").textContent);
const config = {
  apiUrl: root.dataset.apiUrl,
  listUrl: root.dataset.listUrl,
  moddleUrl: root.dataset.moddleUrl,
  csrfToken: root.dataset.csrfToken,
  roles: JSON.parse(root.dataset.roles),
};
const statusElement = document.getElementById("designer-status");
const tabsElement = document.getElementById("designer-tabs");
const panesElement = document.getElementById("designer-panes");
const problemsElement = document.getElementById("designer-problems");
const buttons = {
  save: document.getElementById("designer-save"),
  validate: document.getElementById("designer-validate"),
  deploy: document.getElementById("designer-deploy"),
  discard: document.getElementById("designer-discard"),
};
// Why this deploy: required, kept in the operation log that auditors read.
const reasonInput = document.getElementById("designer-deploy-reason");

const state = {
  revision: null,
  files: [], // {name, kind, content, tab, pane, editor, opening, changes, savedChanges, problems}
  moddleDescriptor: null,
  busy: true, // until the draft is loaded
  closed: false, // deployed, or someone else saved first: no more saving from this page
};
const modelers = {}; // file name -> bpmn-js / dmn-js modeler, once its tab was opened
let leaving = false; // the user chose to leave (reload after a conflict, discard)

/** A UI text by key, with {name} placeholders filled from `values`. */
function t(key, values = {}) {
  const text = texts[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (match, name) => (name in values ? String(values[name]) : match));
}

// --- server -------------------------------------------------------------------------------------

/** {status, data}; status 0 when the server could not be reached. */
async function api(method, url, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") {
    headers["Content-Type"] = "application/json";
    headers["X-CSRF-Token"] = config.csrfToken;
  }
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    return { status: 0, data: null };
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  return { status: response.status, data };
}

function fileUrl(name) {
  return `${config.apiUrl}/files/${encodeURIComponent(name)}`;
}

// --- status and toolbar ---------------------------------------------------------------------------

function setStatus(message, tone = "info", extras = []) {
  statusElement.className = `designer-status ${tone}`;
  statusElement.replaceChildren(node("span", { text: message }), ...extras);
}

function updateToolbar() {
  for (const button of Object.values(buttons)) button.disabled = state.busy || state.closed;
  reasonInput.disabled = state.closed;
}

function conflict(data) {
  state.closed = true;
  const reload = node("button", { type: "button", "data-testid": "reload", text: t("reload") });
  reload.addEventListener("click", () => {
    leaving = true;
    window.location.reload();
  });
  setStatus(t("conflict", { name: data.updated_by }), "conflict", [reload]);
  updateToolbar();
}

/** Say why a request failed. A 409 naming who saved is a stale draft; without, the server says why. */
function failed(response) {
  if (response.status === 409 && response.data?.updated_by) conflict(response.data);
  else if (response.status === 0) setStatus(t("networkError"), "error");
  else setStatus(t("refused", { message: response.data?.message || `HTTP ${response.status}` }), "error");
}

/** Run one toolbar action at a time; none once the page is closed. */
async function exclusive(action) {
  if (state.busy || state.closed) return null;
  state.busy = true;
  updateToolbar();
  try {
    return await action();
  } finally {
    state.busy = false;
    updateToolbar();
  }
}

// --- files and tabs -----------------------------------------------------------------------------

const isDirty = (file) => file.changes !== file.savedChanges;

function updateTab(file) {
  file.tab.dataset.dirty = String(isDirty(file));
  const errors = file.problems.filter((problem) => problem.severity === "error").length;
  file.tab.classList.toggle("has-error", errors > 0);
  file.tab.classList.toggle("has-warning", !errors && file.problems.length > 0);
  file.tab.querySelector(".problem-count").textContent = file.problems.length ? String(file.problems.length) : "";
}

function addFile(name, content) {
  const index = state.files.length;
  const pane = node("section", {
    id: `designer-pane-${index}`,
    className: "pane",
    role: "tabpanel",
    "aria-labelledby": `designer-tab-${index}`,
    "data-testid": `pane-${name}`,
    hidden: true,
  });
  const tab = node(
    "button",
    {
      id: `designer-tab-${index}`,
      type: "button",
      role: "tab",
      className: "tab",
      "aria-controls": pane.id,
      "aria-selected": "false",
      "data-testid": `tab-${name}`,
    },
    [
      node("span", { text: name }),
      node("span", { className: "dirty-mark", title: t("unsaved"), text: "●" }),
      node("span", { className: "problem-count" }),
    ],
  );
  const file = { name, kind: editorKind(name), content, tab, pane, editor: null, opening: null };
  Object.assign(file, { changes: 0, savedChanges: 0, problems: [] });
  tab.addEventListener("click", () => activate(file));
  tabsElement.append(tab);
  panesElement.append(pane);
  state.files.push(file);
  updateTab(file);
}

function createEditor(file) {
  const context = {
    t,
    roles: config.roles,
    moddleDescriptor: state.moddleDescriptor,
    idPrefix: file.pane.id,
    jsonFiles: () => state.files.filter((other) => other.name.endsWith(".json")).map((other) => other.name),
    onChange: () => {
      file.changes += 1;
      updateTab(file);
    },
  };
  if (file.kind === "bpmn") return createBpmnEditor(file.pane, file, context);
  if (file.kind === "dmn") return createDmnEditor(file.pane, file, context);
  return createTextEditor(file.pane, file, { ...context, checkJson: file.name.endsWith(".json") });
}

async function openEditor(file) {
  const editor = await createEditor(file);
  file.editor = editor;
  if (editor.modeler) modelers[file.name] = editor.modeler;
  editor.showProblems(file.problems);
  return editor;
}

/** The file's editor, created the first time its tab is shown (a modeler needs a visible canvas). */
function editorOf(file) {
  file.opening ??= openEditor(file);
  return file.opening;
}

async function activate(file) {
  for (const other of state.files) {
    const current = other === file;
    other.tab.setAttribute("aria-selected", String(current));
    other.tab.classList.toggle("current", current);
    other.pane.hidden = !current;
  }
  const editor = await editorOf(file);
  editor.show();
  return editor;
}

// --- problems -----------------------------------------------------------------------------------

function showProblems(problems, empty) {
  for (const file of state.files) {
    file.problems = problems.filter((problem) => problem.file === file.name);
    file.editor?.showProblems(file.problems);
    updateTab(file);
  }
  renderProblems(problemsElement, problems, { t, empty, onSelect: focusProblem });
}

async function focusProblem(problem) {
  const file = state.files.find((candidate) => candidate.name === problem.file);
  if (!file) return;
  const editor = await activate(file);
  await editor.focus(problem.element_id);
}

// --- actions ------------------------------------------------------------------------------------

/** PUT every changed file, in order, each with the revision the previous one returned. */
async function saveChanges() {
  const dirty = state.files.filter(isDirty);
  if (!dirty.length) {
    setStatus(t("nothingToSave"));
    return true;
  }
  setStatus(t("saving"));
  for (const file of dirty) {
    const changes = file.changes; // edits made while this request runs keep the tab dirty
    let content;
    try {
      content = await file.editor.content();
    } catch (error) {
      setStatus(error.message, "error");
      activate(file);
      return false;
    }
    const response = await api("PUT", fileUrl(file.name), { content, revision: state.revision });
    if (response.status !== 200) {
      failed(response);
      return false;
    }
    state.revision = response.data.revision;
    file.content = content;
    file.savedChanges = changes;
    updateTab(file);
  }
  setStatus(t("saved", { revision: state.revision }), "ok");
  return true;
}

async function validateDraft() {
  if (!(await saveChanges())) return null;
  setStatus(t("validating"));
  const response = await api("POST", `${config.apiUrl}/validate`, {});
  if (response.status !== 200) {
    failed(response);
    return null;
  }
  const { ok, problems } = response.data;
  showProblems(problems, t("valid"));
  const errors = problems.filter((problem) => problem.severity === "error").length;
  if (!problems.length) setStatus(t("valid"), "ok");
  else setStatus(t("problemsFound", { errors, warnings: problems.length - errors }), ok ? "warning" : "error");
  return response.data;
}

async function deployDraft() {
  const reason = reasonInput.value.trim();
  if (!reason) {
    reasonInput.setAttribute("aria-invalid", "true");
    setStatus(t("reasonRequired"), "error");
    reasonInput.focus();
    return null;
  }
  reasonInput.removeAttribute("aria-invalid");
  if (!(await saveChanges())) return null;
  setStatus(t("deploying"));
  const response = await api("POST", `${config.apiUrl}/deploy`, { revision: state.revision, reason });
  const data = response.data;
  if (response.status === 201) {
    // The deploy removed the draft: this page has nothing left to save.
    state.closed = true;
    showProblems([], t("valid"));
    const message =
      data.kind === "rules"
        ? t("deployedRules", { revision: data.version })
        : t("deployedProcess", { version: data.version });
    const link = node("a", { href: config.listUrl, text: t("openList"), "data-testid": "deployed-link" });
    setStatus(message, "ok", [link]);
    return data;
  }
  if (response.status === 422 && Array.isArray(data?.problems)) {
    showProblems(data.problems, t("valid"));
    setStatus(t("deployRefused"), "error");
    return data;
  }
  failed(response);
  return null;
}

async function discardDraft() {
  if (!window.confirm(t("discardConfirm"))) return;
  const response = await api("DELETE", config.apiUrl, { revision: state.revision });
  if (response.status !== 204) {
    failed(response);
    return;
  }
  leaving = true;
  window.location.assign(config.listUrl);
}

// --- start --------------------------------------------------------------------------------------

async function boot() {
  updateToolbar();
  setStatus(t("loading"));
  const [draft, descriptor] = await Promise.all([
    api("GET", config.apiUrl),
    fetch(config.moddleUrl, { credentials: "same-origin" }).then((response) => (response.ok ? response.json() : null)),
  ]);
  if (draft.status !== 200 || !descriptor) {
    if (draft.status === 200) setStatus(t("loadFailed", { message: config.moddleUrl }), "error");
    else failed(draft);
    return;
  }
  state.moddleDescriptor = descriptor;
  state.revision = draft.data.revision;
  for (const file of draft.data.files) addFile(file.name, file.content);
  renderProblems(problemsElement, [], { t, empty: t("notValidated"), onSelect: focusProblem });
  if (state.files.length) await activate(state.files[0]);
  setStatus(t("loaded", { revision: state.revision }));
  state.busy = false;
  updateToolbar();
  root.dataset.ready = "true";
}

buttons.save.addEventListener("click", () => exclusive(saveChanges));
buttons.validate.addEventListener("click", () => exclusive(validateDraft));
buttons.deploy.addEventListener("click", () => exclusive(deployDraft));
buttons.discard.addEventListener("click", () => exclusive(discardDraft));
window.addEventListener("beforeunload", (event) => {
  if (!leaving && state.files.some(isDirty)) {
    event.preventDefault();
    event.returnValue = "";
  }
});

window.thiduaDesigner = {
  save: () => exclusive(saveChanges),
  validate: () => exclusive(validateDraft),
  deploy: () => exclusive(deployDraft),
  modelers,
};

boot();
