"""What changed between two versions of a bundle, element by element, for review before deploy.

Semantic elements are the elements with an `id` outside diagram interchange. An element changed
when its own content differs: its attributes other than `id`, its own text, and its children that
have no id of their own (descendants with an id are elements of their own). Namespaces are compared
by URI, never by prefix; attribute order and whitespace-only differences are not changes. Form
schemas (.json) are compared as JSON, by JSON pointer."""

from __future__ import annotations

import json
import re
import textwrap
from collections import defaultdict
from dataclasses import dataclass

from lxml import etree

from .definitions import BPMN_NS, SPIFF_NS, BundleFile, parse_xml

_DI_NAMESPACE = re.compile(r"/(BPMN/\d+/DI|DD/\d+/D[CI]|DMN/\d+/(DMNDI|DC|DI))/?$")
_DMN_NAMESPACE = re.compile(r"/DMN/\d+/(MODEL/?|dmn\.xsd)$")
_XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
_XSI_TYPE = f"{{{_XSI_NS}}}type"
_PREFIXES = {SPIFF_NS: "spiffworkflow", _XSI_NS: "xsi"}
_QNAME = re.compile(r"([A-Za-z_][\w.\-]*):([A-Za-z_][\w.\-]*)")
_DI_REFERENCES = ("bpmnElement", "dmnElementRef")
# Labels of children that read better under another name in the details.
_CHILD_LABELS = {"conditionExpression": "condition"}
_SHOWN_LENGTH = 80


@dataclass(frozen=True)
class ElementChange:
    """An element added, removed or changed; `details` says what changed (changed elements only)."""

    file: str
    element_id: str
    kind: str
    name: str | None
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class BundleDiff:
    added: tuple[ElementChange, ...]
    removed: tuple[ElementChange, ...]
    changed: tuple[ElementChange, ...]
    files_added: tuple[str, ...]
    files_removed: tuple[str, ...]
    layout_changed: tuple[str, ...]

    @property
    def empty(self) -> bool:
        """True when the versions are the same in content and in layout."""
        return not (
            self.added or self.removed or self.changed or self.files_added or self.files_removed or self.layout_changed
        )


@dataclass(frozen=True)
class _Element:
    kind: str
    name: str | None
    content: dict[str, str]
    order: tuple[str, ...]  # ids of its children with ids, where their order means something (DMN)


def diff_bundles(old: list[BundleFile], new: list[BundleFile]) -> BundleDiff:
    """Compare two bundles file by file. Elements of added or removed files are not listed one by
    one (`files_added`, `files_removed` say it). Raises DefinitionError when a .bpmn or .dmn file
    present in both bundles is not well-formed XML."""
    old_files, new_files = {f.name: f for f in old}, {f.name: f for f in new}
    added: list[ElementChange] = []
    removed: list[ElementChange] = []
    changed: list[ElementChange] = []
    layout_changed: list[str] = []
    for name in sorted(old_files.keys() & new_files.keys()):
        before, after = old_files[name], new_files[name]
        if before.content == after.content:
            continue
        if name.endswith(".json"):
            details = _json_details(before.content, after.content)
            if details:
                changed.append(ElementChange(name, name, "form", None, tuple(details)))
            continue
        file_diff = _diff_documents(name, parse_xml(before), parse_xml(after))
        added += file_diff.added
        removed += file_diff.removed
        changed += file_diff.changed
        if file_diff.layout_changed:
            layout_changed.append(name)
    return BundleDiff(
        added=tuple(added),
        removed=tuple(removed),
        changed=tuple(changed),
        files_added=tuple(sorted(new_files.keys() - old_files.keys())),
        files_removed=tuple(sorted(old_files.keys() - new_files.keys())),
        layout_changed=tuple(layout_changed),
    )


def _diff_documents(file: str, old_root: etree._Element, new_root: etree._Element) -> BundleDiff:
    old_elements, old_layout = _read_document(old_root)
    new_elements, new_layout = _read_document(new_root)
    added = [
        _change(file, element_id, element)
        for element_id, element in new_elements.items()
        if element_id not in old_elements
    ]
    removed = [
        _change(file, element_id, element)
        for element_id, element in old_elements.items()
        if element_id not in new_elements
    ]
    changed = []
    for element_id, element in new_elements.items():
        before = old_elements.get(element_id)
        if before is not None:
            details = _details(before, element)
            if details:
                changed.append(_change(file, element_id, element, details))
    touched = {change.element_id for change in (*added, *removed, *changed)}
    moved = any(
        old_layout.get(key) != new_layout.get(key) and key[0] not in touched
        for key in old_layout.keys() | new_layout.keys()
    )
    return BundleDiff(tuple(added), tuple(removed), tuple(changed), (), (), (file,) if moved else ())


def _change(file: str, element_id: str, element: _Element, details: tuple[str, ...] = ()) -> ElementChange:
    return ElementChange(file, element_id, element.kind, element.name, details)


def _is_di(element: etree._Element) -> bool:
    namespace = etree.QName(element).namespace
    return namespace is not None and _DI_NAMESPACE.search(namespace) is not None


def _read_document(root: etree._Element) -> tuple[dict[str, _Element], dict[tuple[str, str], str]]:
    """The semantic elements by id (document order), and the diagram interchange of each drawn
    element by (referenced element id, DI tag)."""
    elements: dict[str, _Element] = {}
    layout: dict[tuple[str, str], str] = {}
    pending: list[tuple[etree._Element, str | None]] = [(root, None)]
    while pending:
        element, parent = pending.pop()
        if not isinstance(element.tag, str):
            continue
        if _is_di(element):
            reference = next((element.get(a) for a in _DI_REFERENCES if element.get(a)), None)
            if reference is not None:
                layout.setdefault((reference, element.tag), _canonical(element, skip=_is_drawing))
        elif element.get("id") is not None:
            elements.setdefault(element.get("id"), _read_element(element, parent))
            parent = element.get("id")
        pending.extend((child, parent) for child in reversed(element))
    return elements, layout


def _read_element(element: etree._Element, parent: str | None) -> _Element:
    content = _content(element)
    if parent is not None:
        content["parent"] = parent  # moving an element into another (sub)process changes it
    namespace = etree.QName(element).namespace
    ordered = namespace is not None and _DMN_NAMESPACE.search(namespace) is not None
    order = tuple(child.get("id") for child in element if ordered and child.get("id") is not None)
    return _Element(etree.QName(element).localname, element.get("name") or element.get("label"), content, order)


def _is_drawing(element: etree._Element) -> bool:
    """A DI element drawing an element of its own (a shape in a plane)."""
    return any(element.get(a) for a in _DI_REFERENCES)


def _label(name: str) -> str:
    """A qualified name as shown: the local name in the BPMN and DMN namespaces, the usual prefix
    for SpiffWorkflow and XML Schema instance names, `{uri}local` otherwise."""
    qname = etree.QName(name)
    namespace = qname.namespace
    if namespace is None or namespace == BPMN_NS or _DMN_NAMESPACE.search(namespace):
        return qname.localname
    prefix = _PREFIXES.get(namespace)
    return f"{prefix}:{qname.localname}" if prefix else f"{{{namespace}}}{qname.localname}"


def _attribute_value(element: etree._Element, value: str) -> str:
    """Whitespace collapsed; a QName value (xsi:type="bpmn:tFormalExpression") by namespace, not prefix."""
    value = " ".join(value.split())
    match = _QNAME.fullmatch(value)
    if match and match.group(1) in element.nsmap:
        return _label(f"{{{element.nsmap[match.group(1)]}}}{match.group(2)}")
    return value


def _normal_text(text: str | None) -> str:
    """Text without its common indentation, trailing blanks and runs of blanks inside lines; the
    indentation of a script's lines relative to each other, which Python reads, is kept."""
    if not text or text.isspace():
        return ""
    lines = (re.sub(r"(?<=\S)\s+", " ", line.rstrip()) for line in textwrap.dedent(text).splitlines())
    return "\n".join(lines).strip("\n")


def _own_children(element: etree._Element) -> list[etree._Element]:
    """Child elements that belong to this element's own content: no id, not diagram interchange."""
    return [child for child in element if isinstance(child.tag, str) and child.get("id") is None and not _is_di(child)]


def _content(element: etree._Element) -> dict[str, str]:
    """An element's own content as labelled facts: attributes, text, and id-less children
    flattened by path (`condition`, `timeDuration@xsi:type`, `property dueWorkingDays`)."""
    content = {_label(key): _attribute_value(element, value) for key, value in element.attrib.items() if key != "id"}
    text = _normal_text(element.text)
    if text:
        content["text"] = text
    _flatten(element, "", content)
    return content


def _flatten(element: etree._Element, prefix: str, content: dict[str, str]) -> None:
    groups: dict[str, list[etree._Element]] = defaultdict(list)
    for child in _own_children(element):
        if child.tag == f"{{{BPMN_NS}}}extensionElements":
            _flatten(child, prefix, content)  # extensions read as the element's own facts
        elif child.tag == f"{{{SPIFF_NS}}}properties":
            for prop in _own_children(child):
                content[f"{prefix}property {prop.get('name')}"] = _attribute_value(prop, prop.get("value") or "")
        else:
            label = _label(child.tag)
            groups[prefix + _CHILD_LABELS.get(label, label)].append(child)
    for path, children in groups.items():
        if all(_is_leaf(child) for child in children):
            # Repeated references (incoming, outgoing, flowNodeRef) form a set: order is not meaning.
            texts = [_normal_text(child.text) for child in children]
            content[path] = ", ".join(sorted(texts)) if len(texts) > 1 else texts[0]
            for child in children:
                for key, value in child.attrib.items():
                    content[f"{path}@{_label(key)}"] = _attribute_value(child, value)
            continue
        for index, child in enumerate(children, start=1):
            child_path = path if len(children) == 1 else f"{path}[{index}]"
            for key, value in child.attrib.items():
                content[f"{child_path}@{_label(key)}"] = _attribute_value(child, value)
            text = _normal_text(child.text)
            if text:
                content[child_path] = text
            _flatten(child, f"{child_path}/", content)


def _is_leaf(element: etree._Element) -> bool:
    """A text-only child whose only attribute, if any, is its xsi:type."""
    return not _own_children(element) and all(key == _XSI_TYPE for key in element.attrib)


def _canonical(element: etree._Element, *, skip) -> str:
    """A namespace-aware serialisation of an element's subtree (for layout), without ids and
    without the descendants `skip` selects."""
    attributes = sorted((_label(k), _attribute_value(element, v)) for k, v in element.attrib.items() if k != "id")
    children = [_canonical(child, skip=skip) for child in element if isinstance(child.tag, str) and not skip(child)]
    return json.dumps([_label(element.tag), attributes, _normal_text(element.text), children])


def _details(before: _Element, after: _Element) -> tuple[str, ...]:
    """What changed in an element; empty when nothing did."""
    details = []
    if before.kind != after.kind:
        details.append(f"kind: {_shown(before.kind)} → {_shown(after.kind)}")
    for key in [*after.content, *(k for k in before.content if k not in after.content)]:
        old, new = before.content.get(key), after.content.get(key)
        if old != new:
            details.append(f"{key}: {_shown(old)} → {_shown(new)}")
    # DMN reads rules and cells by position: the same children in another order are a change.
    kept = set(before.order) & set(after.order)
    old_order, new_order = [i for i in before.order if i in kept], [i for i in after.order if i in kept]
    if old_order != new_order:
        old_moved, new_moved = _differing_middle(old_order, new_order)
        details.append(f"order: {_shown(', '.join(old_moved))} → {_shown(', '.join(new_moved))}")
    return tuple(details)


def _differing_middle(old: list[str], new: list[str]) -> tuple[list[str], list[str]]:
    """Two sequences without the start and end they share (the part that was reordered)."""
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    end = 0
    while end < min(len(old), len(new)) - start and old[-1 - end] == new[-1 - end]:
        end += 1
    return old[start : len(old) - end], new[start : len(new) - end]


def _shown(value: str | None) -> str:
    if value is None:
        return "(none)"
    value = value.replace("\n", " ⏎ ")
    return f'"{value if len(value) <= _SHOWN_LENGTH else value[: _SHOWN_LENGTH - 1] + "…"}"'


def _json_details(old: bytes, new: bytes) -> list[str]:
    try:
        before, after = json.loads(old), json.loads(new)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return ["content: not valid JSON in one of the versions"]
    details: list[str] = []
    _json_changes(before, after, "", details)
    return details


def _json_changes(old, new, pointer: str, details: list[str]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*new, *(k for k in old if k not in new)]:
            child = f"{pointer}/{_pointer_token(key)}"
            if key not in old:
                details.append(f"added {child}")
            elif key not in new:
                details.append(f"removed {child}")
            else:
                _json_changes(old[key], new[key], child, details)
    elif isinstance(old, list) and isinstance(new, list):
        for index in range(max(len(old), len(new))):
            child = f"{pointer}/{index}"
            if index >= len(old):
                details.append(f"added {child}")
            elif index >= len(new):
                details.append(f"removed {child}")
            else:
                _json_changes(old[index], new[index], child, details)
    elif old != new or type(old) is not type(new):
        details.append(f"changed {pointer or '(root)'}: {_json_shown(old)} → {_json_shown(new)}")


def _json_shown(value) -> str:
    shown = json.dumps(value, ensure_ascii=False)
    return shown if len(shown) <= _SHOWN_LENGTH else shown[: _SHOWN_LENGTH - 1] + "…"


def _pointer_token(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")
