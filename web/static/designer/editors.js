// One editor per file tab: bpmn-js for .bpmn, dmn-js for .dmn, a text area for .json.
// Each editor offers: modeler (or null), content() -> Promise<text>, show(), showProblems(list),
// focus(elementId). `onChange()` is called on every edit (the designer counts them for "dirty").

import { node } from "./dom.js";
import { problemList } from "./problems.js";
import { createPropertiesPanel } from "./properties.js";

const PROBLEM_OVERLAY = "thidua-problem";

export function editorKind(name) {
  if (name.endsWith(".bpmn")) return "bpmn";
  if (name.endsWith(".dmn")) return "dmn";
  return "text";
}

function importFailure(pane, file, error, context) {
  const text = context.t("openFailed", { file: file.name, message: error.message });
  pane.prepend(node("p", { className: "error", text }));
}

/** A commandStack.changed listener: an edit, undo or redo, not the clearing of a (re)import. */
function edited(context) {
  return (event) => {
    if (event.trigger !== "clear") context.onChange();
  };
}

// --- BPMN --------------------------------------------------------------------------------------

export async function createBpmnEditor(pane, file, context) {
  const canvasElement = node("div", { className: "bpmn-canvas", "data-testid": "canvas" });
  const panelElement = node("aside", { className: "props-panel", "data-testid": "properties" });
  const layout = node("div", { className: "bpmn-layout" }, [canvasElement, panelElement]);
  pane.append(layout);

  const modeler = new window.BpmnJS({
    container: canvasElement,
    moddleExtensions: { spiffworkflow: context.moddleDescriptor },
  });
  createPropertiesPanel(modeler, panelElement, context);
  try {
    const { warnings } = await modeler.importXML(file.content);
    if (warnings.length) console.warn(file.name, warnings);
  } catch (error) {
    // Not readable as BPMN: edit the XML as text instead, so that it can be repaired.
    modeler.destroy();
    layout.remove();
    importFailure(pane, file, error, context);
    return createTextEditor(pane, file, { ...context, checkJson: false });
  }
  modeler.get("canvas").zoom("fit-viewport");
  modeler.on("commandStack.changed", edited(context));

  const canvas = modeler.get("canvas");
  const elementRegistry = modeler.get("elementRegistry");
  const overlays = modeler.get("overlays");
  let marked = [];

  // A problem may name a process that is drawn as a pool: then the pool.
  function diagramElement(id) {
    return (
      elementRegistry.get(id) ||
      elementRegistry.find((element) => element.businessObject?.processRef?.id === id) ||
      null
    );
  }

  return {
    modeler,
    content: async () => (await modeler.saveXML({ format: true })).xml,
    show: () => canvas.resized(),
    showProblems(problems) {
      for (const [id, className] of marked) canvas.removeMarker(id, className);
      overlays.remove({ type: PROBLEM_OVERLAY });
      marked = [];
      const byElement = new Map();
      for (const problem of problems) {
        const element = problem.element_id && diagramElement(problem.element_id);
        if (!element) continue;
        if (!byElement.has(element)) byElement.set(element, []);
        byElement.get(element).push(problem);
      }
      for (const [element, list] of byElement) {
        const worst = list.some((problem) => problem.severity === "error") ? "error" : "warning";
        canvas.addMarker(element, `has-${worst}`);
        marked.push([element.id, `has-${worst}`]);
        const badge = node("div", {
          className: `problem-badge ${worst}`,
          title: list.map((problem) => problem.message).join("\n"),
          text: String(list.length),
          "data-testid": "problem-badge",
        });
        overlays.add(element, PROBLEM_OVERLAY, { position: { top: -10, right: 10 }, html: badge });
      }
    },
    focus(elementId) {
      const element = elementId && diagramElement(elementId);
      if (!element) return;
      modeler.get("selection").select(element);
      if (canvas.zoom() < 0.8) canvas.zoom(1); // the whole diagram fitted is too small to read
      canvas.scrollToElement(element);
    },
  };
}

// --- DMN ---------------------------------------------------------------------------------------

/** Whether `id` names the moddle element or anything inside it (a decision's table, rules, cells). */
function containsId(moddleElement, id, seen = new Set()) {
  if (!moddleElement || typeof moddleElement !== "object" || seen.has(moddleElement)) return false;
  seen.add(moddleElement);
  if (moddleElement.id === id) return true;
  for (const key of Object.keys(moddleElement)) {
    if (key.startsWith("$")) continue;
    const value = moddleElement[key];
    const children = Array.isArray(value) ? value : [value];
    if (children.some((child) => child?.$type && containsId(child, id, seen))) return true;
  }
  return false;
}

export async function createDmnEditor(pane, file, context) {
  const { t } = context;
  const chooser = node("select", { id: `${context.idPrefix}-view`, "data-testid": "dmn-view" });
  const bar = node("div", { className: "dmn-bar" }, [node("label", { for: chooser.id, text: t("view") }), chooser]);
  const canvasElement = node("div", { className: "dmn-canvas", "data-testid": "canvas" });
  const problemsElement = problemList("file-problems");
  pane.append(bar, canvasElement, problemsElement);

  // Every cell edit is a command at once (no 300 ms debounce that a quick Save would miss).
  const modeler = new window.DmnJS({ container: canvasElement, common: { debounceInput: false } });
  modeler.on("viewer.created", ({ viewer }) => viewer.on("commandStack.changed", edited(context)));

  const viewLabel = (view) => `${view.name || view.id} · ${t(`view_${view.type}`)}`;
  modeler.on("views.changed", ({ views, activeView }) => {
    chooser.replaceChildren(
      ...views.map((view, index) =>
        node("option", { value: String(index), text: viewLabel(view), selected: view === activeView }),
      ),
    );
  });
  chooser.addEventListener("change", () => modeler.open(modeler.getViews()[Number(chooser.value)]));

  try {
    await modeler.importXML(file.content, { open: false });
    const views = modeler.getViews();
    await modeler.open(views.find((view) => view.type === "decisionTable") || views[0]);
  } catch (error) {
    modeler.destroy();
    pane.replaceChildren();
    importFailure(pane, file, error, context);
    return createTextEditor(pane, file, { ...context, checkJson: false });
  }

  let marks = []; // [element id, marker class] of the file's problems
  // In a decision table, the cells (or rows, columns) a problem names get its class, after every render.
  function cellSelector(id) {
    const quoted = CSS.escape(id);
    return `[data-element-id="${quoted}"], [data-row-id="${quoted}"], [data-col-id="${quoted}"]`;
  }
  function markCells() {
    for (const cell of canvasElement.querySelectorAll(".has-error, .has-warning")) {
      cell.classList.remove("has-error", "has-warning");
    }
    for (const [id, className] of marks) {
      for (const cell of canvasElement.querySelectorAll(cellSelector(id))) cell.classList.add(className);
    }
  }
  modeler.on("import.render.complete", markCells);

  return {
    modeler,
    content: async () => (await modeler.saveXML({ format: true })).xml,
    show() {
      const viewer = modeler.getActiveViewer();
      if (modeler.getActiveView()?.type === "drd") viewer.get("canvas").resized();
    },
    showProblems(problems) {
      marks = problems
        .filter((problem) => problem.element_id)
        .map((problem) => [problem.element_id, problem.severity === "error" ? "has-error" : "has-warning"]);
      problemsElement.replaceChildren(...problems.map((problem) => node("li", { text: problem.message })));
      markCells();
    },
    async focus(elementId) {
      if (!elementId) return;
      const views = modeler.getViews();
      const view =
        views.find((candidate) => candidate.id === elementId) ||
        views.find((candidate) => candidate.type !== "drd" && containsId(candidate.element, elementId));
      if (view && view.element !== modeler.getActiveView()?.element) await modeler.open(view);
      const cell = canvasElement.querySelector(cellSelector(elementId));
      cell?.scrollIntoView({ block: "center" });
    },
  };
}

// --- JSON (and any file shown as text) -----------------------------------------------------------

/** The line and column (1-based) of a JSON.parse error, from its position or its own line/column. */
function jsonErrorPlace(text, error) {
  const lineColumn = /line (\d+) column (\d+)/.exec(error.message);
  if (lineColumn) return { line: Number(lineColumn[1]), column: Number(lineColumn[2]) };
  const position = /position (\d+)/.exec(error.message);
  const offset = position ? Number(position[1]) : text.length;
  const before = text.slice(0, offset);
  return { line: before.split("\n").length, column: offset - before.lastIndexOf("\n") };
}

export function createTextEditor(pane, file, context) {
  const { t } = context;
  const checkJson = context.checkJson !== false;
  const id = `${context.idPrefix}-text`;
  const area = node("textarea", {
    id,
    className: "text-editor",
    spellcheck: "false",
    "data-testid": "text-editor",
    "aria-label": t("fileContent", { file: file.name }),
  });
  area.value = file.content;
  const syntax = node("p", { className: "json-syntax", "data-testid": "json-syntax", "aria-live": "polite" });
  const problemsElement = problemList("file-problems");
  pane.append(area, syntax, problemsElement);

  let syntaxError = null;
  function check() {
    if (!checkJson) return;
    try {
      JSON.parse(area.value);
      syntaxError = null;
      syntax.className = "json-syntax ok";
      syntax.textContent = t("jsonOk");
      syntax.dataset.place = "";
    } catch (error) {
      const { line, column } = jsonErrorPlace(area.value, error);
      syntaxError = t("jsonError", { line, column, message: error.message });
      syntax.className = "json-syntax error";
      syntax.textContent = syntaxError;
      syntax.dataset.place = `${line}:${column}`;
    }
  }
  check();
  area.addEventListener("input", () => {
    check();
    context.onChange();
  });

  return {
    modeler: null,
    async content() {
      if (syntaxError) throw new Error(t("fixJsonFirst", { file: file.name }));
      return area.value;
    },
    show() {},
    showProblems(problems) {
      problemsElement.replaceChildren(...problems.map((problem) => node("li", { text: problem.message })));
    },
    focus() {
      area.focus();
    },
  };
}
