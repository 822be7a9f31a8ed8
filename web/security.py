"""Who is asking, and is the request theirs. A browser carries a random session secret in an
HttpOnly cookie (only its hash is stored, so signing out or revoking ends it in every worker);
a script sends an API token as `Authorization: Bearer`. Every state-changing request made with
a cookie must carry the CSRF token (form field `csrf_token` or header `X-CSRF-Token`), an HMAC of
the cookie's secret under the app's key; bearer requests need none, as no browser sends them
by itself. Auditors only read: their write requests are refused (see READ_ONLY_WRITES)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import wraps

from flask import Flask, current_app, g, redirect, request, url_for
from werkzeug.exceptions import Forbidden

from workflows.accounts import services as accounts
from workflows.accounts.models import API, SESSION
from workflows.accounts.principals import Principal
from workflows.accounts.services import LoginPolicy

from .extensions import services

SESSION_COOKIE = "thidua_session"
# Before sign-in the sign-in form itself is protected with a random pre-session secret.
ANONYMOUS_COOKIE = "thidua_anon"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# Auditors only read. A principal whose roles are all here is refused every write request
# (POST, PUT, PATCH, DELETE) with 403 before any view runs, except the endpoints below: none of
# them changes a record of the product, only the caller's own access and preferences.
READ_ONLY_ROLES = frozenset({"auditor"})
READ_ONLY_WRITES = frozenset(
    {
        "auth.login",  # signing in (again) as anyone
        "auth.logout",  # ending their own session
        "auth.language",  # the interface language: a cookie, nothing stored
        "auth.tokens",  # creating their own API token, to read the API from scripts
        "auth.revoke_token",  # revoking their own API token
        "api.issue_token",  # the API's token exchange (username and password)
        "api.revoke_token",  # revoking their own API token through the API
    }
)


class CSRFError(Forbidden):
    description = "the form or request carries no valid CSRF token; reload the page and try again"


class ReadOnlyError(Forbidden):
    description = "auditors only read: this request would change something"


def login_policy(app: Flask) -> LoginPolicy:
    return LoginPolicy(
        max_failures=app.config["LOGIN_MAX_FAILURES"],
        lock_minutes=app.config["LOGIN_LOCK_MINUTES"],
        session_hours=app.config["SESSION_HOURS"],
    )


def current_principal() -> Principal | None:
    return g.get("principal")


def csrf_token() -> str:
    """The token a page embeds in its forms (and htmx sends as a header)."""
    secret = g.get("csrf_secret")
    if secret is None:
        secret = g.csrf_secret = g.new_anonymous_secret = secrets.token_urlsafe(32)
    return _sign(secret)


def login_required(view):
    """Pages: send a visitor who is not signed in to the sign-in page."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_principal() is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper


def start_session(response, raw: str) -> None:
    response.set_cookie(SESSION_COOKIE, raw, **_cookie_options())
    response.delete_cookie(ANONYMOUS_COOKIE)


def end_session(response) -> None:
    response.delete_cookie(SESSION_COOKIE)


def init_app(app: Flask) -> None:
    @app.before_request
    def identify():
        g.principal, g.csrf_secret, via_cookie = None, None, False
        bearer = request.headers.get("Authorization", "")
        if bearer.startswith("Bearer "):
            g.principal = accounts.principal_for(services(app), bearer[len("Bearer ") :].strip(), API)
            return None
        raw = request.cookies.get(SESSION_COOKIE)
        if raw:
            g.principal = accounts.principal_for(services(app), raw, SESSION)
            if g.principal is not None:
                g.csrf_secret, via_cookie = raw, True
        if g.csrf_secret is None:
            g.csrf_secret = request.cookies.get(ANONYMOUS_COOKIE)
        if request.method not in SAFE_METHODS and (via_cookie or not request.path.startswith("/api/")):
            _check_csrf()
        return None

    @app.before_request
    def refuse_writes_of_readers():
        """403 for a write by a principal holding only read-only roles (auditors), before the
        view (or a 404 or 405 for a path or method that has none) is looked at."""
        principal = g.principal
        if request.method in SAFE_METHODS or principal is None or not principal.roles:
            return None
        if principal.roles <= READ_ONLY_ROLES and request.endpoint not in READ_ONLY_WRITES:
            raise ReadOnlyError()
        return None

    @app.after_request
    def remember_anonymous_secret(response):
        secret = g.get("new_anonymous_secret")
        if secret and g.get("principal") is None:
            response.set_cookie(ANONYMOUS_COOKIE, secret, **_cookie_options())
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["current_principal"] = current_principal


def _check_csrf() -> None:
    sent = request.headers.get(CSRF_HEADER) or request.form.get("csrf_token", "")
    secret = g.get("csrf_secret")
    if not secret or not sent or not hmac.compare_digest(sent, _sign(secret)):
        raise CSRFError()


def _sign(secret: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def _cookie_options() -> dict:
    return {
        "httponly": True,
        "samesite": "Lax",
        "secure": current_app.config["SESSION_COOKIE_SECURE"],
        "path": "/",
    }
