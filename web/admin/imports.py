"""Importing a province's records from xlsx workbooks: a template per kind to download, a check
that lists every bad cell by row and column, and the import itself, which writes the whole file or
nothing, with a reason in the operation log."""

from __future__ import annotations

from flask import Response, current_app, render_template, request
from werkzeug.exceptions import NotFound

from workflows.errors import DomainError
from workflows.records import imports
from workflows.records import services as record_services

from ..extensions import services
from ..i18n import nfc
from ..messages import domain_message, import_problem
from ..security import current_principal
from .blueprint import bp

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/imports")
def imports_page():
    return render_template("admin/imports.html", kinds=imports.KINDS, report=None, values={})


@bp.get("/imports/<kind>.xlsx")
def import_template(kind: str):
    if kind not in imports.KINDS:
        raise NotFound(f"no template {kind}")
    headers = {"Content-Disposition": f'attachment; filename="thidua-{kind}.xlsx"'}
    return Response(imports.template(kind), mimetype=XLSX, headers=headers)


@bp.get("/imports/<kind>/current.xlsx")
def export_records(kind: str):
    """What the database holds of the kind, in its template's columns."""
    if kind not in imports.KINDS:
        raise NotFound(f"no kind {kind}")
    content = record_services.export_records(services(current_app), current_principal(), kind)
    headers = {"Content-Disposition": f'attachment; filename="thidua-{kind}-hien-co.xlsx"'}
    return Response(content, mimetype=XLSX, headers=headers)


@bp.post("/imports")
def import_records():
    """Check (the "check" button) or import the uploaded workbook."""
    values = nfc(request.form.to_dict())
    upload = request.files.get("file")
    dry_run = request.form.get("action") != "import"
    try:
        if upload is None or not upload.filename:
            raise DomainError("import_file_invalid", "no file was chosen")
        report = record_services.import_records(
            services(current_app),
            current_principal(),
            values.get("kind", ""),
            upload.filename,
            upload.read(),
            dry_run=dry_run,
            reason=values.get("reason", ""),
        )
    except DomainError as error:
        page = render_template(
            "admin/imports.html", kinds=imports.KINDS, report=None, values=values, message=domain_message(error)
        )
        return page, 422
    status = 422 if report.errors else 200
    page = render_template(
        "admin/imports.html", kinds=imports.KINDS, report=report, values=values, problem=import_problem
    )
    return page, status
