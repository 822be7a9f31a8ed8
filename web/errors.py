"""Maps engine and domain errors to HTTP statuses. The API answers JSON {"error": code,
"message", ...}, the message being the code's wording in the user's language followed by the
error's own detail; pages render an error page in the user's language. A hidden record is 404, a
forbidden act 403, a refused rule of the award domain 422 with its stable code; never 500 for
anything a user sent."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from engine import (
    ConcurrentUpdateError,
    DefinitionError,
    DefinitionNotFoundError,
    EngineError,
    ExpressionError,
    InstanceNotFoundError,
    InvalidStateError,
    JobNotFoundError,
    MigrationError,
    ProcessError,
    TaskDataError,
    TaskNotAllowedError,
    TaskNotFoundError,
)
from workflows.errors import DomainError, DuplicateNominationError, ForbiddenError, NotFoundError

from .messages import domain_message, engine_message

STATUS = {
    DefinitionError: 422,
    ExpressionError: 422,
    TaskDataError: 422,
    ProcessError: 422,
    MigrationError: 422,
    TaskNotAllowedError: 403,
    DefinitionNotFoundError: 404,
    InstanceNotFoundError: 404,
    TaskNotFoundError: 404,
    JobNotFoundError: 404,
    ConcurrentUpdateError: 409,
    InvalidStateError: 409,
    NotFoundError: 404,
    ForbiddenError: 403,
    DuplicateNominationError: 409,
}


def status_of(error: Exception) -> int:
    for error_type in type(error).__mro__:
        if error_type in STATUS:
            return STATUS[error_type]
    return 422 if isinstance(error, DomainError) else 400


def wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"
    )


def error_response(status: int, code: str, message: str, **extra):
    if wants_json():
        return jsonify({"error": code, "message": message, **extra}), status
    return render_template("error.html", status=status, code=code, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(EngineError)
    def engine_error(error: EngineError):
        extra = {"fields": error.errors} if isinstance(error, TaskDataError) else getattr(error, "details", {})
        return error_response(status_of(error), error.code, engine_message(error), **extra)

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        return error_response(status_of(error), error.code, domain_message(error), **getattr(error, "details", {}))

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError):
        """The database dropped the connection (a restart, a failover) or stayed locked past the
        busy timeout. The request's transaction landed whole or not at all, so it can be sent
        again: a step that did land answers that its task is no longer open."""
        app.logger.warning("database unavailable: %s", str(error.orig).splitlines()[0] if error.orig else error)
        response, status = error_response(
            503, "database_unavailable", gettext("The database is unavailable; try again in a moment.")
        )
        return response, status, {"Retry-After": "5"}

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.name.lower().replace(" ", "_")
        # Keep the exception's own headers, such as a 405's Allow; the body is ours.
        headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
        return (*error_response(error.code or 500, code, error.description or error.name), headers)
