"""The JSON API under /api/v1 for scripts and integrations: the services the pages call, within
the caller's scope. A request is identified by an API token (`Authorization: Bearer`) or the
browser's session (see web.security); its body and query are NFC-normalised and validated by
web.api.schemas, and a mismatch answers 400 naming the field. The OpenAPI document is built from
the same schemas (web.api.openapi)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, send_file, url_for
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from workflows.accounts import services as accounts
from workflows.errors import DomainError
from workflows.inbox import queries
from workflows.nominations import services as nomination_services
from workflows.notifications import queries as notification_queries
from workflows.notifications import services as notifications
from workflows.paging import Paging
from workflows.processes import queries as process_queries
from workflows.tasks import services as tasks

from ..errors import error_response
from ..extensions import file_store, services
from ..i18n import nfc
from ..messages import domain_message
from ..security import current_principal, login_policy
from . import openapi
from . import schemas as s

bp = Blueprint("api", __name__, url_prefix="/api/v1", template_folder="templates")

PUBLIC_ENDPOINTS = frozenset({"api.docs", "api.show_openapi", "api.issue_token"})


@bp.before_request
def require_principal():
    """Every endpoint but the documentation and the token exchange needs a token or a session."""
    if request.endpoint in PUBLIC_ENDPOINTS or current_principal() is not None:
        return None
    response, status = error_response(401, "unauthorized", "send Authorization: Bearer <API token>, or sign in")
    response.headers["WWW-Authenticate"] = "Bearer"
    return response, status


@bp.errorhandler(ValidationError)
def invalid_request(error: ValidationError):
    """A body, query or form that does not match its schema: 400 naming each wrong field."""
    return error_response(
        400, "invalid_request", "the request does not match its schema", fields=error.normalized_messages()
    )


def json_body(schema: Schema) -> dict:
    """The JSON body, NFC-normalised and loaded by `schema`."""
    try:
        body = nfc(request.get_json(silent=True))
    except RecursionError:
        raise ValidationError("The body is nested too deeply.", "_schema") from None
    if body is None:
        raise ValidationError("The body must be JSON, sent as Content-Type: application/json.", "_schema")
    return schema.load(body)


def _query(schema: Schema) -> dict:
    return schema.load(nfc(request.args.to_dict()))


def _multipart() -> dict:
    """The form's fields and files; a part whose name Werkzeug could not read is the field ''."""
    return {name or "": value for name, value in [*request.form.items(), *request.files.items()]}


def _too_large() -> tuple:
    limit = current_app.config["MAX_UPLOAD_MB"]
    return error_response(413, "file_too_large", f"the file is larger than the {limit} MB limit")


# --- documentation and tokens -----------------------------------------------------------------


@bp.get("/openapi.json")
def show_openapi():
    """The OpenAPI 3.0.3 document of this API."""
    return openapi.document()


@bp.get("/docs")
def docs():
    """The API's documentation page (Swagger UI, served from this site)."""
    return render_template("api/docs.html", spec_url=url_for("api.show_openapi"))


@bp.post("/auth/token")
def issue_token():
    """Exchange a username and password for a new API token; its secret is returned once."""
    body = json_body(s.instance(s.TokenRequestSchema))
    try:
        principal = accounts.authenticate(
            services(current_app), body["username"], body["password"], login_policy(current_app)
        )
    except DomainError as error:
        return error_response(429 if error.code == "account_locked" else 401, error.code, domain_message(error))
    raw, info = accounts.issue_api_token(
        services(current_app), principal.id, body["name"], current_app.config["API_TOKEN_DAYS"]
    )
    return s.instance(s.NewTokenSchema).dump({**vars(info), "token": raw}), 201


@bp.get("/auth/tokens")
def list_tokens():
    """The caller's API tokens, newest first, without their secrets."""
    return s.instance(s.TokenSchema, many=True).dump(accounts.api_tokens(services(current_app), current_principal()))


@bp.delete("/auth/tokens/<int(max=2147483647):token_id>")
def revoke_token(token_id: int):
    """Revoke one of the caller's API tokens."""
    return s.instance(s.TokenSchema).dump(
        accounts.revoke_api_token(services(current_app), current_principal(), token_id)
    )


@bp.get("/users/me")
def show_user():
    """The caller with their roles and scopes."""
    return s.instance(s.UserSchema).dump(current_principal())


# --- tasks ----------------------------------------------------------------------------------------


@bp.get("/tasks")
def list_tasks():
    """The inbox: open tasks of one view, filtered, sorted and paged, with counts per view."""
    query = _query(s.instance(s.TaskQuerySchema))
    page = queries.inbox(
        services(current_app),
        current_principal(),
        query["view"],
        queries.Filters.of(query),
        query["sort"],
        Paging(query["page"], query["per_page"]),
    )
    return s.instance(s.TaskPageSchema).dump(page)


@bp.get("/tasks/<uuid:task_id>")
def show_task(task_id):
    """A task with its form schema, nomination, eligibility and whom it can be delegated to."""
    return s.instance(s.TaskDetailSchema).dump(
        queries.task_detail(services(current_app), current_principal(), str(task_id))
    )


@bp.post("/tasks/<uuid:task_id>/claim")
def claim(task_id):
    """Take a task from the group's queue."""
    return s.instance(s.TaskSchema).dump(tasks.claim(services(current_app), current_principal(), str(task_id)))


@bp.post("/tasks/<uuid:task_id>/unclaim")
def unclaim(task_id):
    """Give a claimed task back to the group."""
    return s.instance(s.TaskSchema).dump(tasks.unclaim(services(current_app), current_principal(), str(task_id)))


@bp.post("/tasks/<uuid:task_id>/delegate")
def delegate(task_id):
    """Hand a task to a colleague of the same role and scope, with a reason."""
    body = json_body(s.instance(s.DelegateSchema))
    view = tasks.delegate(services(current_app), current_principal(), str(task_id), body["to"], body["reason"])
    return s.instance(s.TaskSchema).dump(view)


@bp.post("/tasks/<uuid:task_id>/complete")
def complete(task_id):
    """Complete a task with its form's data; a refused field answers 422 with `fields`."""
    body = json_body(s.instance(s.CompleteSchema))
    result = tasks.complete(services(current_app), current_principal(), str(task_id), body["data"])
    return s.instance(s.StepResultSchema).dump(result)


# --- notifications --------------------------------------------------------------------------------


@bp.get("/notifications")
def list_notifications():
    """The caller's notifications, newest first, with how many are unread."""
    query = _query(s.instance(s.NotificationQuerySchema))
    page = notification_queries.notification_page(
        services(current_app), current_principal().id, query["page"], query["per_page"]
    )
    return s.instance(s.NotificationPageSchema).dump(page)


@bp.post("/notifications/read")
def mark_notifications_read():
    """Mark the caller's notifications read: those in `ids`, or all of them when `ids` is left out."""
    body = json_body(s.instance(s.MarkReadSchema))
    result = notifications.mark_notifications_read(services(current_app), current_principal().id, body.get("ids"))
    return s.instance(s.ReadResultSchema).dump(result)


# --- nominations and files ------------------------------------------------------------------------


@bp.get("/nominations")
def list_nominations():
    """Nominations the caller started, watches, either (mine) or may see (visible)."""
    query = _query(s.instance(s.NominationQuerySchema))
    page = queries.nominations(
        services(current_app),
        current_principal(),
        query["view"],
        queries.Filters.of(query),
        query["sort"],
        Paging(query["page"], query["per_page"]),
    )
    return s.instance(s.NominationPageSchema).dump(page)


@bp.post("/nominations")
def create_nomination():
    """Start a nomination as a unit officer of the nominating unit; it opens at its draft task."""
    nomination_id = nomination_services.create_nomination(
        services(current_app), current_principal(), **json_body(s.instance(s.NominationRequestSchema))
    )
    detail = queries.nomination_detail(services(current_app), current_principal(), nomination_id)
    location = url_for("api.show_nomination", nomination_id=nomination_id)
    return s.instance(s.NominationDetailSchema).dump(detail), 201, {"Location": location}


@bp.get("/nominations/<uuid:nomination_id>")
def show_nomination(nomination_id):
    """A nomination with its open tasks, files, history, comments and whether the caller watches it."""
    detail = queries.nomination_detail(services(current_app), current_principal(), str(nomination_id))
    return s.instance(s.NominationDetailSchema).dump(detail)


@bp.get("/nominations/<uuid:nomination_id>/files")
def list_files(nomination_id):
    """The dossier files of a nomination."""
    detail = queries.nomination_detail(services(current_app), current_principal(), str(nomination_id))
    return s.instance(s.FileSchema, many=True).dump(detail.files)


@bp.post("/nominations/<uuid:nomination_id>/files")
def upload_file(nomination_id):
    """Attach a dossier file (multipart field `file`) while working on one of the nomination's tasks."""
    try:
        upload = s.instance(s.UploadSchema).load(_multipart())["file"]
        entry = nomination_services.attach_file(
            services(current_app),
            file_store(current_app),
            current_principal(),
            str(nomination_id),
            upload.filename,
            upload.stream,
            current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024,
        )
    except RequestEntityTooLarge:
        return _too_large()
    except DomainError as error:
        if error.code != "file_too_large":
            raise
        return _too_large()
    return s.instance(s.FileSchema).dump(entry), 201


@bp.get("/files/<uuid:file_id>")
def download_file(file_id):
    """A dossier file's content as an attachment, if its nomination is in the caller's scope."""
    entry, path = nomination_services.file_path(
        services(current_app), file_store(current_app), current_principal(), str(file_id)
    )
    return send_file(path, mimetype=entry.media_type, as_attachment=True, download_name=entry.filename)


# --- processes ------------------------------------------------------------------------------------


@bp.get("/definitions")
def list_definitions():
    """Deployed process versions with the number of instances of each."""
    return s.instance(s.DefinitionSchema, many=True).dump(process_queries.definition_summaries(services(current_app)))


@bp.get("/register/<any(person, unit):subject_kind>/<subject_id>")
def register(subject_kind: str, subject_id: str):
    """What the award register says a person or a collective received."""
    found = queries.awards_received(services(current_app), current_principal(), subject_kind, subject_id)
    return s.instance(s.RegisterSchema).dump(found)


@bp.get("/instances/<uuid:instance_id>/history")
def show_history(instance_id):
    """The history of a process instance whose nomination the caller may see."""
    entries = queries.instance_history(services(current_app), current_principal(), str(instance_id))
    return s.instance(s.HistoryEntrySchema, many=True).dump(entries)
