"""Upload checks for dossier files: the type is read from the content, the name's extension must agree with it,
and the name itself is made safe to store and show."""

from __future__ import annotations

import unicodedata
import zipfile
from pathlib import Path

from ..errors import DomainError

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JPEG = "image/jpeg"
PNG = "image/png"

ALLOWED = {"pdf": PDF, "docx": DOCX, "xlsx": XLSX, "jpg": JPEG, "jpeg": JPEG, "png": PNG}
"""Accepted extension -> the media type its content must show."""

# The name used for a media type in messages ("its content is png").
_LABELS = {PDF: "pdf", DOCX: "docx", XLSX: "xlsx", JPEG: "jpg", PNG: "png"}

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_ZIP_LOCAL_HEADER = b"PK\x03\x04"
_OOXML_MAIN_PARTS = {"word/document.xml": DOCX, "xl/workbook.xml": XLSX}

# Control, format (bidi overrides that disguise an extension, zero-width characters) and lone surrogates.
_STRIPPED_CATEGORIES = {"Cc", "Cf", "Cs"}
MAX_FILENAME_LENGTH = 255


def media_type_of(path: Path) -> str | None:
    """The media type the file's bytes show, or None when it is none of the allowed types."""
    with open(path, "rb") as file:
        head = file.read(8)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(_PNG_SIGNATURE):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(_ZIP_LOCAL_HEADER):
        return _office_type_of(path)
    return None


def _office_type_of(path: Path) -> str | None:
    """DOCX or XLSX by the archive's member names; members are never read, so a zip bomb costs nothing."""
    if not zipfile.is_zipfile(path):
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    found = {media_type for part, media_type in _OOXML_MAIN_PARTS.items() if part in names}
    return found.pop() if len(found) == 1 else None


def extension_of(filename: str) -> str:
    """Lower-cased text after the last dot; '' when the name has no dot."""
    _, dot, extension = filename.rpartition(".")
    return extension.lower() if dot else ""


def check_upload(filename: str, path: Path) -> str:
    """The media type of the uploaded file at `path`, once its content is allowed and agrees with `filename`."""
    extension = extension_of(filename)
    if extension not in ALLOWED:
        allowed = ", ".join(ALLOWED)
        what = f"files of type .{extension} are" if extension else "files without an extension are"
        raise DomainError("unsupported_file_type", f"{filename}: {what} not accepted; allowed: {allowed}")
    actual = media_type_of(path)
    if actual != ALLOWED[extension]:
        content = _LABELS[actual] if actual else "not a pdf, docx, xlsx, jpg or png file"
        raise DomainError("file_type_mismatch", f"{filename} is named as {extension} but its content is {content}")
    return actual


def safe_filename(filename: str) -> str:
    """The name to store and show: last path component only, no control characters, NFC, trimmed,
    at most 255 characters with the extension kept; Vietnamese diacritics stay."""
    cleaned = "".join(c for c in filename if unicodedata.category(c) not in _STRIPPED_CATEGORIES)
    name = unicodedata.normalize("NFC", cleaned).replace("\\", "/").rsplit("/", 1)[-1].strip()
    if name in ("", ".", ".."):
        raise DomainError("invalid_filename", f"{filename!r} is not a usable file name")
    if len(name) <= MAX_FILENAME_LENGTH:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) + 1 >= MAX_FILENAME_LENGTH:
        return name[:MAX_FILENAME_LENGTH]
    return stem[: MAX_FILENAME_LENGTH - len(extension) - 1] + dot + extension
