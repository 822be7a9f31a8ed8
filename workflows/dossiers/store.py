"""Content-addressed storage for dossier file contents on the filesystem, outside the database.

A blob lives at `root/ab/cd/abcd...` named by the SHA-256 of its bytes. Uploads are written to `root/tmp`,
fsynced, and only then renamed into place, so a file is never lost once its upload was acknowledged and a
failed or interrupted upload leaves nothing behind. Identical contents are stored once."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar

from ..errors import DomainError

CHUNK_SIZE = 64 * 1024
BLOB_MODE = 0o640
_MIB = 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")

T = TypeVar("T")


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    path: Path


class BlobStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.tmp_dir = self.root / "tmp"

    def put(
        self, stream: BinaryIO, max_bytes: int, check: Callable[[Path], T] | None = None
    ) -> tuple[StoredBlob, T | None]:
        """Store the stream's bytes and return the blob with what `check` returned (None without a check).

        `check` is called with the temporary file's path once it is fully written and fsynced, before the blob
        is moved into place (e.g. to check the content type); if it raises, nothing is stored and the exception
        propagates. Raises DomainError `empty_file`, or `file_too_large` as soon as more than `max_bytes` arrive."""
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.tmp_dir, prefix="upload-", suffix=".part")
        tmp = Path(name)
        placed = False
        try:
            digest = hashlib.sha256()
            size = 0
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK_SIZE):
                    size += len(chunk)
                    if size > max_bytes:
                        limit = f"{max_bytes / _MIB:.4g} MB"
                        raise DomainError(
                            "file_too_large", f"the file is larger than {max_bytes} bytes limit (the limit is {limit})"
                        )
                    digest.update(chunk)
                    out.write(chunk)
                if size == 0:
                    raise DomainError("empty_file", "the file is empty")
                os.fchmod(out.fileno(), BLOB_MODE)
                out.flush()
                os.fsync(out.fileno())
            result = check(tmp) if check is not None else None
            sha256 = digest.hexdigest()
            blob = StoredBlob(sha256, size, self.path_of(sha256))
            if not _has_size(blob.path, size):
                self._place(tmp, blob.path)
                placed = True
            return blob, result
        finally:
            if not placed:
                tmp.unlink(missing_ok=True)

    def _place(self, tmp: Path, final: Path) -> None:
        """Rename `tmp` to `final`, then fsync every directory whose entries changed."""
        changed = {final.parent}
        for directory in (final.parent.parent, final.parent):
            if not directory.is_dir():
                directory.mkdir(exist_ok=True)
                changed.add(directory.parent)
        os.replace(tmp, final)
        for directory in changed:
            _fsync_directory(directory)

    def path_of(self, sha256: str) -> Path:
        if not _SHA256.fullmatch(sha256):
            raise ValueError(f"not a lowercase hex SHA-256 digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def open(self, sha256: str) -> BinaryIO:
        """The blob opened for reading; FileNotFoundError when it is not stored."""
        return open(self.path_of(sha256), "rb")

    def exists(self, sha256: str) -> bool:
        return self.path_of(sha256).is_file()


def _has_size(path: Path, size: int) -> bool:
    """Whether a blob of this size is already there; a different size means a damaged blob to be replaced."""
    try:
        return path.stat().st_size == size
    except FileNotFoundError:
        return False


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
