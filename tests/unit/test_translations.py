"""The Vietnamese catalogue covers every string of the interface, with the same placeholders,
and the interface speaks Vietnamese unless English is chosen."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "web" / "translations" / "vi" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdf]")


def interface_strings() -> set[str]:
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    found = set()
    for _, _, message, _, _ in extract_from_dir(ROOT / "web", method_map, keywords=KEYWORDS):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def catalog() -> dict[str, str]:
    with CATALOG.open("rb") as handle:
        entries = read_po(handle)
    return {
        (m.id[0] if isinstance(m.id, tuple) else m.id): (m.string[0] if isinstance(m.string, tuple) else m.string)
        for m in entries
        if m.id and not m.fuzzy
    }


def test_every_interface_string_has_a_vietnamese_translation():
    translated = catalog()
    missing = sorted(text for text in interface_strings() if not translated.get(text))
    assert missing == []


def test_translations_keep_their_placeholders():
    for source, target in catalog().items():
        assert sorted(PLACEHOLDER.findall(source)) == sorted(PLACEHOLDER.findall(target)), source


def test_translations_are_nfc():
    for target in catalog().values():
        assert unicodedata.is_normalized("NFC", target)
