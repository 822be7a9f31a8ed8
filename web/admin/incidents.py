"""Timer jobs whose attempts ran out (incidents): what failed, and a button to try again."""

from __future__ import annotations

from flask import current_app, redirect, render_template, url_for

from workflows.processes import services as process_services

from .. import services
from ..security import current_principal
from . import bp


@bp.get("/incidents")
def incidents_page():
    return render_template("admin/incidents.html", incidents=process_services.incidents(services(current_app)))


@bp.post("/incidents/<int:job_id>/retry")
def retry_incident(job_id: int):
    """Due again now with fresh attempts (it leaves the list); a job that is no longer an
    incident is a 404."""
    process_services.retry_incident(services(current_app), job_id, current_principal().id)
    return redirect(url_for("admin.incidents_page"))
