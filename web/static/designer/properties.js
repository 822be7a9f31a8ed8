// Our properties panel for bpmn-js: plain DOM, every change through a modeling command (undo/redo).
// Extension properties live in <bpmn:extensionElements><spiffworkflow:properties>
// <spiffworkflow:property name value/>; engine/definitions.py reads them at deploy.

import { node } from "./dom.js";

const PROPERTIES_TYPE = "spiffworkflow:Properties";
const PROPERTY_TYPE = "spiffworkflow:Property";
const REASSIGN_TARGETS = ["supervisor", "board", "none"];
const TIMER_KINDS = ["timeDate", "timeDuration", "timeCycle"];

// --- reading and writing spiffworkflow properties -------------------------------------------

function propertiesContainer(bo) {
  return (bo.extensionElements?.values || []).find((value) => value.$type === PROPERTIES_TYPE);
}

/** name -> value of the element's spiffworkflow properties (the last one wins, as in the engine). */
export function readProperties(bo) {
  const values = {};
  for (const property of propertiesContainer(bo)?.properties || []) {
    if (property.name) values[property.name] = property.value ?? "";
  }
  return values;
}

/**
 * Set (or, with an empty value, remove) one spiffworkflow property of `bo` in one command.
 * `element` is the diagram element told about the change (a participant for its process).
 * Empty containers go too; every other extension element is kept as it is.
 */
export function setProperty(modeler, element, bo, name, value) {
  const modeling = modeler.get("modeling");
  const moddle = modeler.get("moddle");
  const extension = bo.extensionElements;
  const container = propertiesContainer(bo);
  const named = (container?.properties || []).filter((property) => property.name === name);

  if (!value) {
    if (!named.length) return;
    const kept = container.properties.filter((property) => property.name !== name);
    if (kept.length) {
      modeling.updateModdleProperties(element, container, { properties: kept });
    } else if (extension.values.length > 1) {
      modeling.updateModdleProperties(element, extension, { values: extension.values.filter((v) => v !== container) });
    } else {
      modeling.updateModdleProperties(element, bo, { extensionElements: undefined });
    }
    return;
  }
  if (named.length) {
    modeling.updateModdleProperties(element, named[named.length - 1], { value });
    return;
  }
  const property = moddle.create(PROPERTY_TYPE, { name, value });
  if (container) {
    property.$parent = container;
    modeling.updateModdleProperties(element, container, { properties: [...container.properties, property] });
    return;
  }
  const newContainer = moddle.create(PROPERTIES_TYPE, { properties: [property] });
  property.$parent = newContainer;
  if (extension) {
    newContainer.$parent = extension;
    modeling.updateModdleProperties(element, extension, { values: [...(extension.values || []), newContainer] });
    return;
  }
  const newExtension = moddle.create("bpmn:ExtensionElements", { values: [newContainer] });
  newContainer.$parent = newExtension;
  newExtension.$parent = bo;
  modeling.updateModdleProperties(element, bo, { extensionElements: newExtension });
}

// --- helpers ------------------------------------------------------------------------------------

/** Options [value, label]; the current value is kept as an option even when it is not a known one. */
function selectOptions(options, current) {
  const known = options.some(([value]) => value === current);
  return known || !current ? options : [...options, [current, current]];
}

function elementLabel(bo) {
  return bo.name ? `${bo.name} (${bo.id})` : bo.id;
}

function processOf(bo) {
  let parent = bo.$parent;
  while (parent && parent.$type !== "bpmn:Process") parent = parent.$parent;
  return parent;
}

// --- the panel ----------------------------------------------------------------------------------

/**
 * The panel beside one modeler's canvas. `context`: t (texts), roles ([code, label] pairs),
 * jsonFiles() (the draft's .json file names), idPrefix (unique per file: input ids).
 */
export function createPropertiesPanel(modeler, container, context) {
  const { t, roles, jsonFiles, idPrefix } = context;
  const eventBus = modeler.get("eventBus");
  const elementRegistry = modeler.get("elementRegistry");
  const canvas = modeler.get("canvas");
  const modeling = modeler.get("modeling");
  const moddle = modeler.get("moddle");
  let current = null; // the element shown, or the selection's length when several are selected
  let renderQueued = false;

  const roleLabel = (code) => roles.find(([value]) => value === code)?.[1] || code;

  /** One labelled control; commit(value) runs on "change" unless the input is invalid. */
  function field(key, label, control, commit, hint) {
    const id = `${idPrefix}-prop-${key}`;
    control.id = id;
    control.dataset.testid = `prop-${key}`;
    const message = node("span", { id: `${id}-error`, className: "field-error", "data-error-for": key });
    const help = hint ? node("small", { id: `${id}-hint`, className: "hint", text: hint }) : null;
    control.setAttribute("aria-describedby", help ? `${help.id} ${message.id}` : message.id);
    if (commit) {
      control.addEventListener("change", () => {
        if (!control.checkValidity()) {
          message.textContent = control.validationMessage;
          return;
        }
        message.textContent = "";
        commit(control.value.trim());
      });
    }
    return node("div", { className: "prop" }, [node("label", { for: id, text: label }), control, help, message]);
  }

  function textInput(value, attributes = {}) {
    return node("input", { type: "text", value: value ?? "", autocomplete: "off", ...attributes });
  }

  function numberInput(value, attributes) {
    return node("input", { type: "number", value: value ?? "", inputmode: "decimal", ...attributes });
  }

  function select(options, value) {
    const control = node("select");
    for (const [optionValue, label] of selectOptions(options, value || "")) {
      control.append(node("option", { value: optionValue, text: label, selected: optionValue === (value || "") }));
    }
    return control;
  }

  function section(title, children) {
    return node("fieldset", { className: "props-section" }, [node("legend", { text: title }), ...children]);
  }

  /** A field for one spiffworkflow property of `bo`; its label is the text named like the property. */
  function propertyField(key, control, element, bo, hint) {
    return field(key, t(key), control, (value) => setProperty(modeler, element, bo, key, value), hint);
  }

  // -- sections

  function general(element, bo) {
    const isRoot = element === canvas.getRootElement();
    const rename = (value) => {
      if (isRoot) modeling.updateProperties(element, { name: value || undefined });
      else modeling.updateLabel(element, value || null);
    };
    return section(t("general"), [
      field("type", t("type"), textInput(bo.$type, { readonly: true })),
      field("id", t("id"), textInput(bo.id, { readonly: true })),
      field("name", t("name"), textInput(bo.name), rename),
    ]);
  }

  function escalation(element, bo, inherited) {
    const values = readProperties(bo);
    const emptyLabel = inherited
      ? t("inheritReassign", { value: inherited.escalationReassign || t("notSet") })
      : t("notSet");
    const reassignOptions = [["", emptyLabel], ...REASSIGN_TARGETS.map((target) => [target, t(`reassign_${target}`)])];
    const placeholder = (key) => inherited?.[key] || undefined;
    const reminder = numberInput(values.escalationReminder, {
      min: "0.01",
      max: "0.99",
      step: "0.01",
      placeholder: placeholder("escalationReminder"),
    });
    const grace = numberInput(values.escalationGraceDays, {
      min: "0",
      step: "0.5",
      placeholder: placeholder("escalationGraceDays"),
    });
    return section(inherited ? t("escalation") : t("escalationDefaults"), [
      propertyField("escalationReminder", reminder, element, bo),
      propertyField("escalationGraceDays", grace, element, bo),
      propertyField("escalationReassign", select(reassignOptions, values.escalationReassign), element, bo),
      inherited ? node("p", { className: "hint", text: t("taskOverrides") }) : null,
    ]);
  }

  function laneOf(bo) {
    const lanes = elementRegistry.filter(
      (candidate) =>
        candidate.type === "bpmn:Lane" &&
        (candidate.businessObject.flowNodeRef || []).includes(bo) &&
        !candidate.businessObject.childLaneSet?.lanes?.length,
    );
    return lanes[0]?.businessObject;
  }

  function userTask(element, bo) {
    const values = readProperties(bo);
    const lane = laneOf(bo);
    const laneRole = lane ? readProperties(lane).candidateRole || lane.id : null;
    const roleOptions = [
      ["", laneRole ? t("laneRole", { role: roleLabel(laneRole) }) : t("noLane")],
      ...roles,
    ];
    const otherTasks = elementRegistry
      .filter((candidate) => candidate.type === "bpmn:UserTask" && candidate.id !== element.id)
      .map((candidate) => [candidate.id, elementLabel(candidate.businessObject)]);
    const forms = jsonFiles().map((name) => [name, name]);
    const owner = processOf(bo);
    return [
      section(t("userTask"), [
        propertyField("candidateRole", select(roleOptions, values.candidateRole), element, bo),
        propertyField("orgScope", textInput(values.orgScope), element, bo, t("orgScopeHint")),
        propertyField("dueWorkingDays", numberInput(values.dueWorkingDays, { min: "0", step: "0.5" }), element, bo),
        propertyField("fourEyes", select([["", t("none")], ...otherTasks], values.fourEyes), element, bo),
        propertyField("formSchema", select([["", t("none")], ...forms], values.formSchema), element, bo),
      ]),
      escalation(element, bo, owner ? readProperties(owner) : {}),
    ];
  }

  function lane(element, bo) {
    const values = readProperties(bo);
    const options = [["", t("laneIdRole", { id: bo.id })], ...roles];
    return [
      section(t("lane"), [propertyField("candidateRole", select(options, values.candidateRole), element, bo)]),
    ];
  }

  function process(element, processBo) {
    return [
      section(t("process"), [field("processId", t("processId"), textInput(processBo.id, { readonly: true }))]),
      escalation(element, processBo, null),
    ];
  }

  function gateway(element, bo) {
    const flows = (bo.outgoing || []).map((flow) => [flow.id, elementLabel(flow)]);
    const commit = (value) => {
      const flow = value ? elementRegistry.get(value) : undefined;
      modeling.updateProperties(element, { default: flow?.businessObject });
    };
    return [
      section(t("gateway"), [
        field("default", t("defaultFlow"), select([["", t("none")], ...flows], bo.default?.id), commit),
      ]),
    ];
  }

  function sequenceFlow(element, bo) {
    const expression = bo.conditionExpression;
    const commit = (value) => {
      if (!value) {
        modeling.updateProperties(element, { conditionExpression: undefined });
      } else if (expression) {
        modeling.updateModdleProperties(element, expression, { body: value });
      } else {
        const created = moddle.create("bpmn:FormalExpression", { body: value });
        modeling.updateProperties(element, { conditionExpression: created });
      }
    };
    return [
      section(t("sequenceFlow"), [
        field("condition", t("condition"), textInput(expression?.body), commit, t("conditionHint")),
      ]),
    ];
  }

  // A timer has one of date, duration or cycle: setting one clears the others.
  function timer(element, definition) {
    const fields = TIMER_KINDS.map((kind) => {
      const commit = (value) => {
        if (!value) {
          if (definition[kind]) modeling.updateModdleProperties(element, definition, { [kind]: undefined });
          return;
        }
        const properties = Object.fromEntries(TIMER_KINDS.map((other) => [other, undefined]));
        properties[kind] = moddle.create("bpmn:FormalExpression", { body: value });
        modeling.updateModdleProperties(element, definition, properties);
      };
      return field(kind, t(kind), textInput(definition[kind]?.body), commit);
    });
    return [section(t("timer"), [...fields, node("p", { className: "hint", text: t("timerHint") })])];
  }

  function specific(element, bo) {
    if (bo.$type === "bpmn:UserTask") return userTask(element, bo);
    if (bo.$type === "bpmn:Lane") return lane(element, bo);
    if (bo.$type === "bpmn:Process") return process(element, bo);
    if (bo.$type === "bpmn:Participant" && bo.processRef) return process(element, bo.processRef);
    if (bo.$type === "bpmn:ExclusiveGateway" || bo.$type === "bpmn:InclusiveGateway") return gateway(element, bo);
    if (bo.$type === "bpmn:SequenceFlow") return sequenceFlow(element, bo);
    const timerDefinition = (bo.eventDefinitions || []).find((d) => d.$type === "bpmn:TimerEventDefinition");
    if (timerDefinition) return timer(element, timerDefinition);
    if (bo.$type === "bpmn:Collaboration") return [node("p", { className: "hint", text: t("selectPool") })];
    return [];
  }

  function render() {
    renderQueued = false;
    // Keep the focus on the same field across a re-render (a change re-renders the panel).
    const focused = container.contains(document.activeElement) ? document.activeElement.dataset.testid : null;
    const heading = node("h3", { text: t("properties") });
    if (typeof current === "number") {
      const hint = node("p", { className: "hint", text: t("multiSelected", { count: current }) });
      container.replaceChildren(heading, hint);
      return;
    }
    const shown = current?.labelTarget || current;
    // The shown element may have been deleted meanwhile: then the diagram's root.
    const element = (shown && elementRegistry.get(shown.id)) || canvas.getRootElement();
    if (!element?.businessObject) {
      container.replaceChildren(heading);
      return;
    }
    const bo = element.businessObject;
    container.replaceChildren(heading, general(element, bo), ...specific(element, bo));
    if (focused) container.querySelector(`[data-testid="${focused}"]`)?.focus();
  }

  // Deferred, so that a field losing focus on Tab gives its focus to the next field first.
  function queueRender() {
    if (renderQueued) return;
    renderQueued = true;
    setTimeout(render);
  }

  eventBus.on("selection.changed", ({ newSelection }) => {
    current = newSelection.length > 1 ? newSelection.length : newSelection[0] || null;
    queueRender();
  });
  eventBus.on("elements.changed", queueRender);
  eventBus.on("import.done", () => {
    current = null;
    queueRender();
  });
}
