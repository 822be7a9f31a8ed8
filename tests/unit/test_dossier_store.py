"""The content-addressed blob store: what is acknowledged is stored, what fails leaves nothing behind."""

from __future__ import annotations

import hashlib
import io
import stat
from pathlib import Path

import pytest

from workflows.dossiers.sniff import check_upload
from workflows.dossiers.store import CHUNK_SIZE, BlobStore, StoredBlob
from workflows.errors import DomainError

MB = 1024 * 1024
CONTENT = "Báo cáo thành tích năm 2025".encode() * 5000  # several chunks


class FailingStream(io.RawIOBase):
    """Yields `good` bytes, then fails as a dropped connection would."""

    def __init__(self, good: int):
        self.remaining = good

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.remaining == 0:
            raise ConnectionResetError("client went away")
        size = min(len(buffer), self.remaining)
        buffer[:size] = b"x" * size
        self.remaining -= size
        return size


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


@pytest.fixture
def store(tmp_path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


def test_put_stores_content_under_its_sha256(store):
    blob, checked = store.put(io.BytesIO(CONTENT), max_bytes=MB)
    sha256 = hashlib.sha256(CONTENT).hexdigest()
    assert blob == StoredBlob(sha256=sha256, size=len(CONTENT), path=store.path_of(sha256))
    assert checked is None
    assert blob.path == store.root / sha256[:2] / sha256[2:4] / sha256
    assert blob.path.read_bytes() == CONTENT
    assert stat.S_IMODE(blob.path.stat().st_mode) == 0o640
    assert store.exists(sha256)
    with store.open(sha256) as file:
        assert file.read() == CONTENT
    assert stored_files(store.root) == [blob.path]


def test_identical_content_is_stored_once(store):
    first, _ = store.put(io.BytesIO(CONTENT), max_bytes=MB)
    second, _ = store.put(io.BytesIO(CONTENT), max_bytes=MB)
    assert first == second
    assert stored_files(store.root) == [first.path]
    assert list((store.root / "tmp").iterdir()) == []


def test_damaged_blob_of_the_wrong_size_is_replaced(store):
    blob, _ = store.put(io.BytesIO(CONTENT), max_bytes=MB)
    blob.path.write_bytes(CONTENT[:100])
    again, _ = store.put(io.BytesIO(CONTENT), max_bytes=MB)
    assert again.path.read_bytes() == CONTENT
    assert stored_files(store.root) == [blob.path]


def test_too_large_is_refused_and_leaves_nothing(store):
    with pytest.raises(DomainError) as caught:
        store.put(io.BytesIO(b"x" * (20 * MB + 1)), max_bytes=20 * MB)
    assert caught.value.code == "file_too_large"
    assert f"{20 * MB} bytes" in caught.value.message
    assert "the limit is 20 MB" in caught.value.message
    assert stored_files(store.root) == []


def test_too_large_stops_reading_once_over_the_limit(store):
    stream = io.BytesIO(b"x" * (10 * CHUNK_SIZE))
    with pytest.raises(DomainError):
        store.put(stream, max_bytes=CHUNK_SIZE)
    assert stream.tell() == 2 * CHUNK_SIZE


def test_exactly_max_bytes_is_accepted(store):
    blob, _ = store.put(io.BytesIO(CONTENT), max_bytes=len(CONTENT))
    assert blob.size == len(CONTENT)
    assert blob.path.read_bytes() == CONTENT


def test_empty_file_is_refused(store):
    with pytest.raises(DomainError) as caught:
        store.put(io.BytesIO(b""), max_bytes=MB)
    assert caught.value.code == "empty_file"
    assert stored_files(store.root) == []


def test_stream_failing_mid_read_leaves_nothing(store):
    with pytest.raises(ConnectionResetError):
        store.put(io.BufferedReader(FailingStream(good=3 * CHUNK_SIZE + 17)), max_bytes=MB)
    assert stored_files(store.root) == []


def test_check_sees_the_complete_file_before_it_is_placed(store):
    seen = []

    def check(path: Path) -> str:
        seen.append((path.parent, path.read_bytes(), stored_files(store.root)))
        return "checked"

    blob, checked = store.put(io.BytesIO(CONTENT), max_bytes=MB, check=check)
    assert checked == "checked"
    [(directory, content, files_then)] = seen
    assert directory == store.root / "tmp"
    assert content == CONTENT
    assert files_then == [directory / files_then[0].name]
    assert stored_files(store.root) == [blob.path]


def test_check_that_raises_leaves_nothing(store):
    with pytest.raises(DomainError) as caught:
        store.put(io.BytesIO(b"plain text"), max_bytes=MB, check=lambda path: check_upload("hồ sơ.pdf", path))
    assert caught.value.code == "file_type_mismatch"
    assert stored_files(store.root) == []


def test_check_upload_as_the_check_returns_the_media_type(store):
    pdf = b"%PDF-1.7\n%%EOF\n"
    blob, media_type = store.put(io.BytesIO(pdf), max_bytes=MB, check=lambda path: check_upload("tờ trình.pdf", path))
    assert media_type == "application/pdf"
    assert blob.path.read_bytes() == pdf


@pytest.mark.parametrize(
    "sha256",
    ["../x", "", "ab", "A" * 64, "g" * 64, "a" * 63, "a" * 65, "a" * 64 + "\n", "../" + "a" * 61, "ab/cd/" + "a" * 58],
)
def test_path_of_rejects_anything_but_a_lowercase_hex_digest(store, sha256):
    with pytest.raises(ValueError):
        store.path_of(sha256)


def test_open_absent_blob_raises_file_not_found(store):
    absent = hashlib.sha256(b"never stored").hexdigest()
    assert not store.exists(absent)
    with pytest.raises(FileNotFoundError):
        store.open(absent)
