"""Timer jobs whose attempts ran out (incidents): what failed, and a button to try again."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for

from workflows.errors import DomainError
from workflows.processes import queries as process_queries
from workflows.processes import services as process_services

from ..extensions import services
from ..i18n import nfc
from ..messages import domain_message
from ..security import current_principal
from .blueprint import bp


@bp.get("/incidents")
def incidents_page():
    return _page()


@bp.post("/incidents/<int:job_id>/retry")
def retry_incident(job_id: int):
    """Due again now with fresh attempts (it leaves the list), with the reason in the operation
    log; a job that is no longer an incident is a 404."""
    reason = nfc(request.form.get("reason", ""))
    try:
        process_services.retry_incident(services(current_app), job_id, current_principal().id, reason)
    except DomainError as error:
        return _page(error={"job_id": job_id, "message": domain_message(error)}), 400
    return redirect(url_for("admin.incidents_page"))


def _page(error: dict | None = None):
    return render_template(
        "admin/incidents.html", incidents=process_queries.incidents(services(current_app)), error=error
    )
