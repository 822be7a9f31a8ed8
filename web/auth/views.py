"""Signing in and out, the language menu, and a user's API tokens."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext

from workflows.accounts import services as accounts
from workflows.errors import DomainError

from .. import security
from ..extensions import services
from ..i18n import LANGUAGE_COOKIE, LANGUAGES, nfc
from ..messages import domain_message

bp = Blueprint("auth", __name__, template_folder="templates")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign-in form; on success a new session cookie and back to where the user was going."""
    target = _safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("auth/login.html", next=target)
    username = nfc(request.form.get("username", ""))
    try:
        principal = accounts.authenticate(
            services(current_app), username, nfc(request.form.get("password", "")), security.login_policy(current_app)
        )
    except DomainError as error:
        status = 429 if error.code == "account_locked" else 401
        return render_template("auth/login.html", next=target, username=username, error=domain_message(error)), status
    raw = accounts.open_session(services(current_app), principal.id, security.login_policy(current_app))
    response = redirect(target)
    security.start_session(response, raw)
    return response


@bp.post("/logout")
def logout():
    """Sign out: the session ends on the server too."""
    raw = request.cookies.get(security.SESSION_COOKIE)
    if raw:
        accounts.end_session(services(current_app), raw)
    response = redirect(url_for("auth.login"))
    security.end_session(response)
    return response


@bp.post("/language")
def language():
    """Switch the interface language (a cookie; Vietnamese unless English is chosen)."""
    chosen = request.form.get("language")
    response = redirect(_safe_next(request.form.get("next")))
    if chosen in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, chosen, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response


@bp.route("/account/tokens", methods=["GET", "POST"])
@security.login_required
def tokens():
    """The user's API tokens; a new token's secret is shown once."""
    principal = security.current_principal()
    created = None
    if request.method == "POST":
        name = nfc(request.form.get("name", "")).strip()[:100] or gettext("API token")
        created, _ = accounts.issue_api_token(
            services(current_app), principal.id, name, current_app.config["API_TOKEN_DAYS"]
        )
    return render_template(
        "auth/tokens.html", tokens=accounts.api_tokens(services(current_app), principal), created=created
    )


@bp.post("/account/tokens/<int:token_id>/revoke")
@security.login_required
def revoke_token(token_id: int):
    """Revoke one of the user's API tokens."""
    accounts.revoke_api_token(services(current_app), security.current_principal(), token_id)
    return redirect(url_for("auth.tokens"))


def _safe_next(target: str | None) -> str:
    """Only a path on this site: an open redirect would make the sign-in page a phishing aid."""
    if not target:
        return url_for("inbox.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("inbox.index")
    return target
