"""A nomination's dossier files as reviewers see them: name, type, size, digest and who uploaded them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ..accounts.principals import Principal
from ..dossiers.models import DossierFile
from ..errors import NotFoundError
from ..org.models import User
from . import access


@dataclass(frozen=True)
class FileEntry:
    id: str
    filename: str
    media_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_by_name: str
    uploaded_at: datetime


def files_query() -> Select:
    return (
        select(DossierFile, User.full_name)
        .join(User, User.id == DossierFile.uploaded_by)
        .order_by(DossierFile.uploaded_at, DossierFile.filename)
    )


def file_from(row) -> FileEntry:
    file, uploader = row
    return FileEntry(
        file.id, file.filename, file.media_type, file.size, file.sha256, file.uploaded_by, uploader, file.uploaded_at
    )


def file_entry(session: Session, principal: Principal, file_id: str) -> FileEntry:
    """A dossier file's metadata, if the principal sees its nomination; NotFoundError otherwise."""
    row = session.execute(files_query().where(DossierFile.id == file_id)).one_or_none()
    if row is None:
        raise NotFoundError("file", file_id)
    access.require_nomination(session, principal, row[0].nomination_id)
    return file_from(row)
