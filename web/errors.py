"""Maps engine and domain errors to HTTP statuses and a JSON body {"error", "message"}; a domain
refusal (a rule of the award domain) is 422 with its stable code."""

from __future__ import annotations

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from engine import (
    ConcurrentUpdateError,
    DefinitionError,
    DefinitionNotFoundError,
    EngineError,
    ExpressionError,
    InstanceNotFoundError,
    InvalidStateError,
    ProcessError,
    TaskDataError,
    TaskNotAllowedError,
    TaskNotFoundError,
)
from workflows.errors import DomainError

STATUS = {
    DefinitionError: 422,
    ExpressionError: 422,
    TaskDataError: 422,
    ProcessError: 422,
    TaskNotAllowedError: 403,
    DefinitionNotFoundError: 404,
    InstanceNotFoundError: 404,
    TaskNotFoundError: 404,
    ConcurrentUpdateError: 409,
    InvalidStateError: 409,
}


def status_of(error: EngineError) -> int:
    for error_type in type(error).__mro__:
        if error_type in STATUS:
            return STATUS[error_type]
    return 400


def init_app(app: Flask) -> None:
    @app.errorhandler(EngineError)
    def engine_error(error: EngineError):
        body = {"error": error.code, "message": str(error)}
        if isinstance(error, TaskDataError):
            body["fields"] = error.errors
        return jsonify(body), status_of(error)

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        return jsonify({"error": error.code, "message": error.message}), 422

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return jsonify({"error": error.name.lower().replace(" ", "_"), "message": error.description}), error.code
