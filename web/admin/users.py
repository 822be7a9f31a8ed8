"""Users and their roles: create a user, grant and revoke a role within a scope, disable and
enable, reset a password. Every change needs a reason and goes to the operation log."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for

from workflows.accounts import queries as account_queries
from workflows.accounts import services as accounts
from workflows.errors import DomainError
from workflows.org.models import ROLES

from ..extensions import services
from ..i18n import nfc
from ..messages import domain_message
from ..security import current_principal
from .blueprint import bp


@bp.get("/users")
def users_page():
    return _page()


@bp.post("/users")
def create_user():
    form = nfc(request.form.to_dict())
    return _change(
        lambda app_services, actor: accounts.create_user(
            app_services,
            actor,
            form.get("username", ""),
            form.get("full_name", ""),
            form.get("unit_id") or None,
            request.form.get("password", ""),  # as typed: a password is not normalised
            form.get("reason", ""),
        )
    )


@bp.post("/users/roles")
def change_role():
    """Grant (action=grant) or revoke a role within a scope."""
    form = nfc(request.form.to_dict())
    change = accounts.grant_role if form.get("action") == "grant" else accounts.revoke_role
    return _change(
        lambda app_services, actor: change(
            app_services,
            actor,
            form.get("username", ""),
            form.get("role", ""),
            form.get("scope") or None,
            form.get("reason", ""),
        )
    )


@bp.post("/users/active")
def set_active():
    """Enable (action=enable) or disable a user."""
    form = nfc(request.form.to_dict())
    return _change(
        lambda app_services, actor: accounts.set_user_active(
            app_services, actor, form.get("username", ""), form.get("action") == "enable", form.get("reason", "")
        )
    )


@bp.post("/users/password")
def reset_password():
    form = nfc(request.form.to_dict())
    return _change(
        lambda app_services, actor: accounts.reset_password(
            app_services, actor, form.get("username", ""), request.form.get("password", ""), form.get("reason", "")
        )
    )


def _change(change):
    """Run one change as the signed-in administrator; a refusal comes back on the page (422)."""
    try:
        changed = change(services(current_app), current_principal().id)
    except DomainError as error:
        status = 404 if error.code == "not_found" else 422
        return _page(message=domain_message(error)), status
    return redirect(url_for("admin.users_page", changed=changed.username))


def _page(message: str | None = None):
    return render_template(
        "admin/users.html",
        users=account_queries.users(services(current_app)),
        roles=ROLES,
        message=message,
        changed=request.args.get("changed"),
    )
