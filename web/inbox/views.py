"""Reviewers' pages. For now the start page: what is deployed and how many instances run."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from workflows.processes import services as process_services

from .. import services

bp = Blueprint("inbox", __name__, template_folder="templates")


@bp.get("/")
def index():
    """Start page: the deployed processes and their instance counts."""
    return render_template("inbox/index.html", definitions=process_services.definition_summaries(services(current_app)))


@bp.get("/healthz")
def health():
    """Liveness and database check for load balancers."""
    process_services.check_database(services(current_app))
    return {"status": "ok"}
