"""Auditors' pages under /audit: finding instances, an instance's timeline and diagram at any
event, replay, exports, reports and the operation log. Every page needs a signed-in user holding
the auditor role, and nothing here writes."""

from __future__ import annotations

from flask import Blueprint
from werkzeug.exceptions import Forbidden

from ..security import current_principal, login_required

AUDITOR_ROLE = "auditor"

bp = Blueprint("audit", __name__, template_folder="templates", url_prefix="/audit")


@bp.before_request
@login_required
def require_auditor():
    """Visitors go to the sign-in page; signed-in users without the auditor role get 403."""
    if AUDITOR_ROLE not in current_principal().roles:
        raise Forbidden("only an auditor may open the audit pages")
