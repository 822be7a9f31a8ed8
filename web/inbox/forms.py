"""Task forms from their JSON Schema: the fields to render, the posted values turned back into
typed JSON, and the server's validation errors worded for reviewers. The schema stays the one
judge (the engine validates with it); this only renders and parses."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext
from werkzeug.datastructures import MultiDict

from engine import TaskDataError

from ..i18n import nfc

LONG_TEXT = 200  # strings allowed to be longer than this get a textarea


@dataclass(frozen=True)
class Field:
    name: str
    title: str
    kind: str  # text | textarea | boolean | choice | integer | number
    required: bool
    choices: tuple = ()
    max_length: int | None = None


def fields_of(schema: dict | None) -> list[Field]:
    if not schema:
        return []
    required = set(schema.get("required", []))
    fields = []
    for name, spec in schema.get("properties", {}).items():
        kind = {"boolean": "boolean", "integer": "integer", "number": "number"}.get(spec.get("type"), "text")
        if "enum" in spec:
            kind = "choice"
        elif kind == "text" and spec.get("maxLength", LONG_TEXT + 1) > LONG_TEXT:
            kind = "textarea"
        fields.append(
            Field(
                name,
                spec.get("title", name),
                kind,
                name in required,
                tuple(spec.get("enum", ())),
                spec.get("maxLength"),
            )
        )
    return fields


def parse(schema: dict | None, form: MultiDict) -> dict:
    """Typed data from the posted form. Blank fields are left out, so that `required` speaks;
    a value that does not parse is kept as text, so that `type` speaks."""
    data = {}
    for field in fields_of(schema):
        raw = nfc(form.get(field.name, "")).strip()
        if raw == "":
            continue
        if field.kind == "boolean":
            data[field.name] = {"true": True, "false": False}.get(raw, raw)
        elif field.kind in ("integer", "number"):
            try:
                data[field.name] = int(raw) if field.kind == "integer" else float(raw)
            except ValueError:
                data[field.name] = raw
        else:
            data[field.name] = raw
    return data


def error_messages(error: TaskDataError) -> dict[str, str]:
    """Field name → a message in the user's language."""
    worded = {
        "required": gettext("This field is required."),
        "minLength": gettext("This field must not be empty."),
        "maxLength": gettext("This text is too long."),
        "type": gettext("This value has the wrong type."),
        "enum": gettext("Choose one of the listed values."),
        "additionalProperties": gettext("This form does not have such a field."),
    }
    return {path: worded.get(error.kinds.get(path, ""), message) for path, message in error.errors.items()}
