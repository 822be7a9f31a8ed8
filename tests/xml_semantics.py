"""Semantic comparison of two XML documents, for BPMN interchange round trips (load → save).

`semantic_differences(original, saved)` returns one line per difference, each starting with the path of
the element concerned: `/bpmn:definitions[@id=D]/bpmn:process[@id=P]/bpmn:task[@id=T]: ...`; an element
without an id is numbered among its siblings of the same name (`di:waypoint[2]`). Path prefixes are the
conventional ones (bpmn, bpmndi, dc, di, xsi), else the original document's own.

Compared: every element and attribute, by namespace URI and local name; text; and the order of child
elements. Children are matched by name and id (without an id: by name and position among same-named
siblings), so a lost or added element is reported as such, and a parent whose children were reordered
is reported once, at the first position that differs. Order counts everywhere (Edge.waypoint is
{ordered}, the XSD fixes the order of a sequence; bpmn-js keeps the order of the semantic elements)
except among the shapes and edges of a `BPMNPlane`: there the order only says which of two overlapping
shapes is painted on top (the Diagram Definition's z-order), carries no model meaning, and bpmn-js
writes them in its own paint layers. Every shape and edge must still be there, unchanged.

Treated as neutral, and why (nothing else is):

- namespace prefixes and declarations, including unused ones such as an added `xmlns:xsi`: by
  Namespaces in XML a prefix is only a binding to a URI;
- attribute order, the XML declaration (version, encoding, standalone), comments, processing
  instructions and whitespace-only text beside child elements: none of them is information a BPMN reader
  interprets (XML attributes are unordered; BPMN's XSD gives no meaning to indentation between elements);
- `exporter` and `exporterVersion` on `definitions`: by BPMN 2.0 (tDefinitions) they name the tool that
  wrote the file, so a different writer must change them;
- an attribute absent on one side and equal to its default on the other, for the defaults declared in
  the OMG BPMN 2.0 XSD (BPMN20.xsd, Semantic.xsd, BPMNDI.xsd, DI.xsd, DC.xsd; read from the copy shipped
  with SpiffWorkflow): an absent attribute means its default (`isInterrupting`, `cancelActivity`,
  `isForCompensation`, `startQuantity`, `gatewayDirection`, `isClosed`, `processType`, ...). Defaults
  that only a tool assumes (bpmn-moddle's `messageVisibleKind="initiating"`) are not neutral;
- `xsi:type` naming the type the XSD already declares for the element (`<di:waypoint xsi:type="dc:Point">`
  against `<di:waypoint>`): by XML Schema it changes nothing;
- values of attributes and of simple-typed elements (`incoming`, `outgoing`, `flowNodeRef`...) compared in
  the value space of their XSD type: xsd:double/float/decimal as numbers (`100.0` equals `100`, not
  `100.4`), integers as integers, xsd:boolean (`1` equals `true`), non-string types with collapsed
  whitespace, xsd:QName with its prefix resolved to a namespace URI (`xsi:type` too). A QName reference
  with no prefix, or with a prefix bound to the document's targetNamespace, names an element of this
  document (how BPMN refers to its own elements); a prefix left unbound is a difference.

Attributes and elements the XSD does not declare (extensions, other namespaces) are compared as exact
strings, and so is the text of an element without children (an expression or script body, where
whitespace may matter).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from pathlib import Path

import SpiffWorkflow.bpmn.parser
from lxml import etree

XSD = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
PREFIXES = {
    BPMN: "bpmn",
    "http://www.omg.org/spec/BPMN/20100524/DI": "bpmndi",
    "http://www.omg.org/spec/DD/20100524/DC": "dc",
    "http://www.omg.org/spec/DD/20100524/DI": "di",
    XSI: "xsi",
}
SCHEMA_DIR = Path(SpiffWorkflow.bpmn.parser.__file__).parent / "schema"
PLANE = ("http://www.omg.org/spec/BPMN/20100524/DI", "BPMNPlane")
SCHEMA_FILES = ("BPMN20.xsd", "Semantic.xsd", "BPMNDI.xsd", "DI.xsd", "DC.xsd")
EXPORTER_ATTRIBUTES = {(None, "exporter"), (None, "exporterVersion")}
BUILTIN_KINDS = {
    "boolean": "boolean",
    "double": "number",
    "float": "number",
    "decimal": "number",
    "int": "integer",
    "integer": "integer",
    "long": "integer",
    "short": "integer",
    "nonNegativeInteger": "integer",
    "positiveInteger": "integer",
    "QName": "qname",
    "string": "string",
}
_PARSER = etree.XMLParser(
    remove_comments=True, remove_pis=True, resolve_entities=False, no_network=True, load_dtd=False
)


@dataclass
class _ComplexType:
    base: tuple | None = None
    attributes: dict = field(default_factory=dict)  # local name -> (type key, default or None)
    elements: dict = field(default_factory=dict)  # local element (ns, name) -> type key


@dataclass
class _Schema:
    elements: dict = field(default_factory=dict)  # global element (ns, name) -> type key
    complex_types: dict = field(default_factory=dict)  # (ns, name) -> _ComplexType
    simple_types: dict = field(default_factory=dict)  # (ns, name) -> base type key, None for a union

    def element_type(self, key: tuple, parent_type: tuple | None) -> tuple | None:
        for complex_type in self._chain(parent_type):
            if key in complex_type.elements:
                return complex_type.elements[key]
        return self.elements.get(key)

    def attributes(self, type_key: tuple | None) -> dict:
        merged = {}
        for complex_type in reversed(self._chain(type_key)):
            merged |= complex_type.attributes
        return merged

    def kind(self, type_key: tuple | None) -> str | None:
        """boolean, number, integer, qname, string or token (other simple types); None if not simple."""
        seen = set()
        while type_key in self.simple_types and type_key not in seen:
            seen.add(type_key)
            type_key = self.simple_types[type_key]
            if type_key is None:
                return "token"
        if type_key is None or type_key[0] != XSD:
            return None
        return BUILTIN_KINDS.get(type_key[1], "token")

    def _chain(self, type_key: tuple | None) -> list[_ComplexType]:
        chain = []
        while type_key in self.complex_types and len(chain) < 50:
            chain.append(self.complex_types[type_key])
            type_key = chain[-1].base
        return chain


def _type_key(node: etree._Element, value: str | None) -> tuple | None:
    if not value:
        return None
    prefix, _, local = value.rpartition(":")
    return (node.nsmap.get(prefix or None), local)


@functools.cache
def _schema() -> _Schema:
    """The element types, attribute types and defaults of the OMG BPMN 2.0 XSD."""
    schema = _Schema()
    for name in SCHEMA_FILES:
        root = etree.parse(str(SCHEMA_DIR / name)).getroot()
        tns = root.get("targetNamespace")
        for element in root.iterchildren(f"{{{XSD}}}element"):
            schema.elements[(tns, element.get("name"))] = _type_key(element, element.get("type"))
        for simple in root.iterchildren(f"{{{XSD}}}simpleType"):
            restriction = simple.find(f"{{{XSD}}}restriction")
            base = _type_key(restriction, restriction.get("base")) if restriction is not None else None
            schema.simple_types[(tns, simple.get("name"))] = base
        for complex_node in root.iterchildren(f"{{{XSD}}}complexType"):
            complex_type = _ComplexType()
            derivation = complex_node.find(f"{{{XSD}}}complexContent/*")
            if derivation is not None:
                complex_type.base = _type_key(derivation, derivation.get("base"))
            for attribute in complex_node.iter(f"{{{XSD}}}attribute"):
                if attribute.get("name"):
                    complex_type.attributes[attribute.get("name")] = (
                        _type_key(attribute, attribute.get("type")),
                        attribute.get("default"),
                    )
            for element in complex_node.iter(f"{{{XSD}}}element"):
                if element.get("name"):
                    complex_type.elements[(tns, element.get("name"))] = _type_key(element, element.get("type"))
            schema.complex_types[(tns, complex_node.get("name"))] = complex_type
    return schema


def semantic_differences(original: bytes, saved: bytes) -> list[str]:
    """Differences between two XML documents that change their meaning (see the module docstring)."""
    first = etree.fromstring(original, _PARSER)
    second = etree.fromstring(saved, _PARSER)
    differences: list[str] = []
    context = (first.get("targetNamespace"), second.get("targetNamespace"))
    if _key(first) != _key(second):
        return [f"/{_label(first)}: root element is {_name(second)} after saving"]
    _compare(first, second, f"/{_label(first)}", None, context, differences)
    return differences


def _key(element: etree._Element) -> tuple:
    qname = etree.QName(element)
    return (qname.namespace, qname.localname)


def _name(element: etree._Element) -> str:
    namespace, local = _key(element)
    prefix = PREFIXES.get(namespace) or element.prefix
    return f"{prefix}:{local}" if prefix else local


def _label(element: etree._Element, index: int | None = None) -> str:
    if element.get("id"):
        return f"{_name(element)}[@id={element.get('id')}]"
    return _name(element) if index is None else f"{_name(element)}[{index}]"


def _compare(a, b, path: str, parent_type, context, differences: list[str]) -> None:
    schema = _schema()
    type_key = schema.element_type(_key(a), parent_type)
    _compare_attributes(a, b, path, type_key, context, differences)
    kind = schema.kind(type_key)
    if len(a) == 0 and len(b) == 0:
        if kind is not None and kind != "string":
            first, second = _value(kind, a.text, a, context[0]), _value(kind, b.text, b, context[1])
        else:
            first, second = a.text or "", b.text or ""
        if first != second:
            differences.append(f"{path}: text {a.text!r} became {b.text!r}")
        return
    texts = (_texts(a), _texts(b))
    if texts[0] != texts[1]:
        differences.append(f"{path}: text {texts[0]!r} became {texts[1]!r}")
    _compare_children(a, b, path, type_key, context, differences)


def _texts(element: etree._Element) -> list[str]:
    """Non-blank text pieces beside the child elements, stripped."""
    pieces = [element.text, *(child.tail for child in element)]
    return [piece.strip() for piece in pieces if piece and piece.strip()]


def _compare_attributes(a, b, path: str, type_key, context, differences: list[str]) -> None:
    declared = _schema().attributes(type_key)
    names = {_attribute_key(name) for name in (*a.attrib, *b.attrib)} - (
        EXPORTER_ATTRIBUTES if _key(a) == (BPMN, "definitions") else set()
    )
    attributes = (
        {_attribute_key(k): v for k, v in a.attrib.items()},
        {_attribute_key(k): v for k, v in b.attrib.items()},
    )
    for name in sorted(names, key=lambda n: (n[0] or "", n[1])):
        first, second = attributes[0].get(name), attributes[1].get(name)
        if name == (XSI, "type"):  # a type name, not a reference; absent means the element's declared type
            values = [_qname(v, e, None, reference=False) if v else type_key for v, e in ((first, a), (second, b))]
        else:
            kind, default = None, None
            if name[0] is None and name[1] in declared:
                attribute_type, default = declared[name[1]]
                kind = _schema().kind(attribute_type) or "token"
            values = [
                _value(kind, value if value is not None else default, element, target_namespace)
                for value, element, target_namespace in ((first, a, context[0]), (second, b, context[1]))
            ]
        if values[0] != values[1]:
            label = _attribute_label(name, a if first is not None else b)
            if first is None:
                differences.append(f"{path}: attribute {label}={second!r} was added")
            elif second is None:
                differences.append(f"{path}: attribute {label}={first!r} was lost")
            else:
                differences.append(f"{path}: attribute {label}={first!r} became {second!r}")


def _attribute_label(name: tuple, element: etree._Element) -> str:
    if name[0] is None:
        return name[1]
    prefix = PREFIXES.get(name[0]) or next((p for p, uri in element.nsmap.items() if p and uri == name[0]), None)
    return f"{prefix}:{name[1]}" if prefix else f"{{{name[0]}}}{name[1]}"


def _attribute_key(name: str) -> tuple:
    qname = etree.QName(name)
    return (qname.namespace, qname.localname)


def _value(kind: str | None, value: str | None, element: etree._Element, target_namespace: str | None):
    """A value in the value space of its kind of XSD type (see the module docstring); None when absent."""
    if value is None or kind in (None, "string"):
        return value
    token = " ".join(value.split())
    try:
        if kind == "number":
            number = float(token)
            return "NaN" if math.isnan(number) else number
        if kind == "integer":
            return int(token)
    except ValueError:
        return token
    if kind == "boolean":
        return {"1": True, "true": True, "0": False, "false": False}.get(token, token)
    if kind == "qname":
        return _qname(token, element, target_namespace, reference=True)
    return token


def _qname(token: str, element: etree._Element, target_namespace: str | None, *, reference: bool):
    """(namespace, local name); a reference to this document's own elements has namespace None."""
    prefix, _, local = token.strip().rpartition(":")
    if not prefix:
        namespace = None if reference else element.nsmap.get(None)
    elif prefix in element.nsmap:
        namespace = element.nsmap[prefix]
    else:
        return f"unbound prefix {token}"
    if reference and namespace == target_namespace:
        namespace = None
    return (namespace, local)


def _compare_children(a, b, path: str, type_key, context, differences: list[str]) -> None:
    children = (_keyed_children(a), _keyed_children(b))
    for key, (index, child) in children[0].items():
        if key not in children[1]:
            differences.append(f"{path}/{_label(child, index)}: element was lost")
            continue
        _compare(child, children[1][key][1], f"{path}/{_label(child, index)}", type_key, context, differences)
    for key, (index, child) in children[1].items():
        if key not in children[0]:
            differences.append(f"{path}/{_label(child, index)}: element was added")
    if _key(a) == PLANE:
        return  # the shapes' paint order, see the module docstring
    kept = [[key for key in mine if key in other] for mine, other in (children, children[::-1])]
    moved = next((i for i, (first, second) in enumerate(zip(*kept, strict=True)) if first != second), None)
    if moved is not None:
        was, now = (_label(side[kept[n][moved]][1], side[kept[n][moved]][0]) for n, side in enumerate(children))
        differences.append(f"{path}: child elements reordered, first at position {moved + 1}: {was} became {now}")


def _keyed_children(element: etree._Element) -> dict:
    """Children by (namespace, name, id) or, without an id (or with one used twice), (namespace, name,
    position among those)."""
    keyed, counts = {}, {}
    for child in element:
        key = (*_key(child), "id", child.get("id"))
        if not child.get("id") or key in keyed:
            counts[_key(child)] = counts.get(_key(child), 0) + 1
            key = (*_key(child), "#", counts[_key(child)])
        keyed[key] = (counts.get(_key(child)) if key[2] == "#" else None, child)
    return keyed
