"""Administrators' pages under /admin; every one of them needs a signed-in user with the admin role."""

from __future__ import annotations

from flask import Blueprint
from werkzeug.exceptions import Forbidden

from ..security import current_principal, login_required

ADMIN_ROLE = "admin"

bp = Blueprint("admin", __name__, template_folder="templates", url_prefix="/admin")


@bp.before_request
@login_required
def require_admin():
    """Visitors go to the sign-in page; signed-in users without the admin role get 403."""
    if ADMIN_ROLE not in current_principal().roles:
        raise Forbidden("only an administrator may open the admin pages")
