"""Process designers' pages under /designer: processes and rule sets with their versions, the
editor (bpmn-js, dmn-js, form schemas), version diffs and instance migration. Every page needs
a signed-in user holding the designer role; the editor's script calls /api/v1/designer."""

from __future__ import annotations

from flask import Blueprint
from werkzeug.exceptions import Forbidden

from ..security import current_principal, login_required

DESIGNER_ROLE = "designer"

bp = Blueprint("designer", __name__, template_folder="templates", url_prefix="/designer")


@bp.before_request
@login_required
def require_designer():
    """Visitors go to the sign-in page; signed-in users without the designer role get 403."""
    if DESIGNER_ROLE not in current_principal().roles:
        raise Forbidden("only a process designer may open the designer")
