"""Entering a province's records from xlsx workbooks, each file in one transaction (see
workflows.records.imports for the kinds and the checks)."""

from __future__ import annotations

import hashlib

from ..accounts.principals import Principal
from ..errors import ForbiddenError
from ..operations import log
from ..uow import Services
from . import imports

ADMIN_ROLE = "admin"


def import_records(
    services: Services, principal: Principal, kind: str, file_name: str, content: bytes, *, dry_run: bool, reason: str
) -> imports.ImportReport:
    """An administrator imports a workbook of `kind` (records.imports.KINDS): a dry run only
    checks it; otherwise a file without errors is written whole, with the reason and the file's
    SHA-256 in the operation log, and a file with any error writes nothing."""
    if ADMIN_ROLE not in principal.roles:
        raise ForbiddenError("only an administrator imports records")
    if not dry_run:
        reason = log.require_reason(reason, log.RECORDS_IMPORT)
    with services.uow() as uow:
        report = imports.check_and_import(uow.session, kind, file_name, content, dry_run=dry_run)
        if report.imported:
            log.record(
                uow.session,
                actor=principal.id,
                action=log.RECORDS_IMPORT,
                subject_type="records",
                subject_id=kind,
                reason=reason,
                new={"file": file_name, "rows": report.rows, "sha256": hashlib.sha256(content).hexdigest()},
                at=uow.clock(),
            )
            uow.commit()
    return report


def export_records(services: Services, principal: Principal, kind: str) -> bytes:
    """An administrator downloads what the database holds of `kind`, in its template's columns."""
    if ADMIN_ROLE not in principal.roles:
        raise ForbiddenError("only an administrator exports records")
    with services.session_factory() as session:
        return imports.export(session, kind)
