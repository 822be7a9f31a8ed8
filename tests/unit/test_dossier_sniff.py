"""Dossier uploads: type read from content, extension agreeing with it, safe file names."""

from __future__ import annotations

import struct
import unicodedata
import zipfile
import zlib
from pathlib import Path

import pytest

from workflows.dossiers.sniff import ALLOWED, check_upload, media_type_of, safe_filename
from workflows.errors import DomainError

PDF = ALLOWED["pdf"]
DOCX = ALLOWED["docx"]
XLSX = ALLOWED["xlsx"]


def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def png_bytes() -> bytes:
    """A real 1x1 grey PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b"")
    )


def jpeg_bytes() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def zip_bytes(tmp_path: Path, members: list[str]) -> bytes:
    archive_path = tmp_path / "archive.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        for member in members:
            archive.writestr(member, "<x/>")
    data = archive_path.read_bytes()
    archive_path.unlink()
    return data


def docx_bytes(tmp_path: Path) -> bytes:
    return zip_bytes(tmp_path, ["[Content_Types].xml", "_rels/.rels", "word/document.xml"])


def xlsx_bytes(tmp_path: Path) -> bytes:
    return zip_bytes(tmp_path, ["[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/worksheets/sheet1.xml"])


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def check_fails(filename: str, path: Path, code: str) -> str:
    with pytest.raises(DomainError) as caught:
        check_upload(filename, path)
    assert caught.value.code == code
    assert filename in caught.value.message
    return caught.value.message


@pytest.mark.parametrize(
    ("filename", "make", "media_type"),
    [
        ("Tờ trình.pdf", lambda tmp: pdf_bytes(), "application/pdf"),
        ("ảnh.png", lambda tmp: png_bytes(), "image/png"),
        ("ảnh.jpg", lambda tmp: jpeg_bytes(), "image/jpeg"),
        ("ẢNH.JPEG", lambda tmp: jpeg_bytes(), "image/jpeg"),
        ("Báo cáo thành tích.docx", docx_bytes, DOCX),
        ("Danh sách.xlsx", xlsx_bytes, XLSX),
    ],
)
def test_each_allowed_type_is_recognised(tmp_path, filename, make, media_type):
    path = write(tmp_path, "upload", make(tmp_path))
    assert media_type_of(path) == media_type
    assert check_upload(filename, path) == media_type


@pytest.mark.parametrize(
    ("make", "label"),
    [
        (lambda tmp: b"just some text, not a pdf\n", None),
        (lambda tmp: b"", None),
        (lambda tmp: zip_bytes(tmp, ["notes.txt", "photo.png"]), None),
        (lambda tmp: zip_bytes(tmp, ["word/document.xml"]), None),
        (lambda tmp: zip_bytes(tmp, ["[Content_Types].xml", "word/document.xml", "xl/workbook.xml"]), None),
        (lambda tmp: docx_bytes(tmp)[:60], None),
        (lambda tmp: docx_bytes(tmp)[:-10] + b"\x00" * 10, None),
        (lambda tmp: b"MZ\x90\x00" + docx_bytes(tmp), None),
        (lambda tmp: png_bytes(), "png"),
        (lambda tmp: docx_bytes(tmp), "docx"),
    ],
    ids=[
        "text",
        "empty",
        "plain-zip",
        "zip-without-content-types",
        "zip-both-docx-and-xlsx",
        "truncated-zip",
        "corrupt-zip",
        "exe-with-appended-docx",
        "png",
        "docx",
    ],
)
def test_pdf_name_with_other_content_is_a_mismatch(tmp_path, make, label):
    path = write(tmp_path, "upload", make(tmp_path))
    message = check_fails("hồ sơ.pdf", path, "file_type_mismatch")
    expected = label or "not a pdf, docx, xlsx, jpg or png file"
    assert message == f"hồ sơ.pdf is named as pdf but its content is {expected}"


def test_docx_renamed_xlsx_is_a_mismatch(tmp_path):
    path = write(tmp_path, "upload", docx_bytes(tmp_path))
    message = check_fails("bang-diem.xlsx", path, "file_type_mismatch")
    assert message == "bang-diem.xlsx is named as xlsx but its content is docx"


def bad_central_directory_magic(data: bytearray) -> None:
    data[data.rfind(b"PK\x01\x02")] = ord("X")


def invalid_utf8_member_name(data: bytearray) -> None:
    entry = data.rfind(b"PK\x01\x02")
    data[entry + 8 : entry + 10] = (0x800).to_bytes(2, "little")  # "names are UTF-8"
    data[entry + 46] = 0xFF


@pytest.mark.parametrize("damage", [bad_central_directory_magic, invalid_utf8_member_name])
def test_corrupt_zip_is_no_type_and_raises_nothing(tmp_path, damage):
    data = bytearray(docx_bytes(tmp_path))
    damage(data)
    path = write(tmp_path, "upload", bytes(data))
    assert zipfile.is_zipfile(path)
    assert media_type_of(path) is None


@pytest.mark.parametrize("filename", ["setup.exe", "README", "archive.zip", "trailing-dot.", "photo.png.exe"])
def test_unsupported_extension(tmp_path, filename):
    path = write(tmp_path, "upload", pdf_bytes())
    message = check_fails(filename, path, "unsupported_file_type")
    assert "pdf, docx, xlsx, jpg, jpeg, png" in message


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\x\\y.pdf", "y.pdf"),
        ("/a\\b/c.docx", "c.docx"),
        ("  Bằng khen  2025.pdf \n", "Bằng khen  2025.pdf"),
        ("bad\x00na\x1fme\x7f.pdf", "badname.pdf"),
        ("photo\u202egpj.exe", "photogpj.exe"),
        ("Quyết định khen thưởng.pdf", "Quyết định khen thưởng.pdf"),
    ],
)
def test_safe_filename(given, expected):
    assert safe_filename(given) == expected


def test_safe_filename_returns_nfc():
    decomposed = unicodedata.normalize("NFD", "Nguyễn Văn An.pdf")
    assert decomposed != "Nguyễn Văn An.pdf"
    assert safe_filename(decomposed) == unicodedata.normalize("NFC", "Nguyễn Văn An.pdf")


def test_safe_filename_limits_length_and_keeps_extension():
    name = safe_filename("ễ" * 300 + ".docx")
    assert len(name) == 255
    assert name == "ễ" * 250 + ".docx"


def test_safe_filename_limits_length_without_extension():
    assert safe_filename("a" * 300) == "a" * 255


@pytest.mark.parametrize("given", ["", "   ", "\x00\x01", "dir/", "C:\\dir\\", "..", "../.."])
def test_safe_filename_rejects_empty(given):
    with pytest.raises(DomainError) as caught:
        safe_filename(given)
    assert caught.value.code == "invalid_filename"
