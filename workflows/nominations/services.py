"""What reviewers do to a nomination, each in one transaction and within their scope: create it
(a unit officer), comment on it, watch it, attach dossier files and read them back."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import or_, select

from engine import queries
from engine.models import HumanTask, ProcessInstance

from ..accounts.principals import Principal
from ..dossiers.models import DossierFile
from ..dossiers.sniff import check_upload, safe_filename
from ..dossiers.store import BlobStore
from ..errors import DomainError, ForbiddenError
from ..uow import Services
from . import access, creation
from .files import FileEntry, file_entry
from .models import NominationWatch, ReviewComment

logger = logging.getLogger(__name__)

MAX_COMMENT_LENGTH = 4000


def create_nomination(
    services: Services,
    principal: Principal,
    *,
    campaign_id: str,
    award_code: str,
    nominating_unit_id: str,
    year: int,
    person_id: str | None = None,
    unit_id: str | None = None,
    route: str = "merit",
) -> str:
    """Create a draft nomination (the principal must be a unit officer of the nominating unit)."""
    with services.uow() as uow:
        nomination = creation.create_nomination(
            uow,
            principal.id,
            campaign_id=campaign_id,
            award_code=award_code,
            nominating_unit_id=nominating_unit_id,
            year=year,
            person_id=person_id,
            unit_id=unit_id,
            route=route,
        )
        nomination_id = nomination.id
        uow.commit()
    return nomination_id


def add_comment(services: Services, principal: Principal, nomination_id: str, text: str) -> None:
    text = _comment_text(text)
    with services.uow() as uow:
        access.require_nomination(uow.session, principal, nomination_id)
        uow.session.add(
            ReviewComment(nomination_id=nomination_id, author_id=principal.id, text=text, created_at=uow.clock())
        )
        uow.commit()


def set_watching(services: Services, principal: Principal, nomination_id: str, watching: bool) -> None:
    with services.uow() as uow:
        access.require_nomination(uow.session, principal, nomination_id)
        existing = uow.session.get(NominationWatch, (principal.id, nomination_id))
        if watching and existing is None:
            uow.session.add(NominationWatch(user_id=principal.id, nomination_id=nomination_id, created_at=uow.clock()))
        elif not watching and existing is not None:
            uow.session.delete(existing)
        uow.commit()


def attach_file(
    services: Services,
    store: BlobStore,
    principal: Principal,
    nomination_id: str,
    filename: str,
    stream: BinaryIO,
    max_bytes: int,
) -> FileEntry:
    """Store an uploaded file and attach it to the nomination. Only someone who may act on one of
    its open tasks attaches. The content is on disk (fsynced) before the row commits, so an
    acknowledged upload is never lost; a blob whose row never committed is harmless."""
    filename = safe_filename(filename)
    with services.uow() as uow:
        access.require_nomination(uow.session, principal, nomination_id)
        _require_open_task_actor(uow, principal, nomination_id)
    blob, media_type = store.put(stream, max_bytes, check=lambda path: check_upload(filename, path))
    file_id = str(uuid.uuid4())
    with services.uow() as uow:
        uow.session.add(
            DossierFile(
                id=file_id,
                nomination_id=nomination_id,
                sha256=blob.sha256,
                filename=filename,
                media_type=media_type,
                size=blob.size,
                uploaded_by=principal.id,
                uploaded_at=uow.clock(),
            )
        )
        uow.session.flush()
        entry = file_entry(uow.session, principal, file_id)
        uow.commit()
    logger.info("file %s (%d bytes) attached to nomination %s", file_id, blob.size, nomination_id)
    return entry


def file_path(services: Services, store: BlobStore, principal: Principal, file_id: str) -> tuple[FileEntry, Path]:
    """A dossier file's metadata and where its content lies, if the principal sees its nomination."""
    with services.session_factory() as session:
        entry = file_entry(session, principal, file_id)
    path = store.path_of(entry.sha256)
    if not path.exists():
        raise FileNotFoundError(f"the content of file {file_id} is missing from the store")
    return entry, path


def _require_open_task_actor(uow, principal: Principal, nomination_id: str) -> None:
    actor_task = uow.session.scalar(
        select(HumanTask.id)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(
            ProcessInstance.business_key == nomination_id,
            HumanTask.state == queries.TASK_OPEN,
            or_(
                HumanTask.claimed_by == principal.id,
                (HumanTask.claimed_by.is_(None)) & access.task_candidate(principal),
            ),
        )
        .limit(1)
    )
    if actor_task is None:
        raise ForbiddenError("only a reviewer working on one of its open tasks attaches files to a nomination")


def _comment_text(text: str | None) -> str:
    text = (text or "").strip()
    if not text:
        raise DomainError("text_required", "text must not be empty")
    if len(text) > MAX_COMMENT_LENGTH:
        raise DomainError("text_too_long", f"text is {len(text)} characters; the limit is {MAX_COMMENT_LENGTH}")
    return text
