"""marshmallow schemas of the JSON API: what a request may carry (unknown fields are refused)
and the shape of every answer. The OpenAPI document is generated from these same classes."""

from __future__ import annotations

import functools
import math
from dataclasses import asdict
from datetime import datetime, timezone

from marshmallow import Schema, ValidationError, fields, pre_dump, validate
from werkzeug.datastructures import FileStorage

from workflows.inbox import pages, queries
from workflows.nominations.creation import PROCESS_OF_ROUTE
from workflows.operations.log import MAX_REASON_LENGTH
from workflows.paging import MAX_PER_PAGE

from ..i18n import storable
from ..notifications.texts import notification_text


@functools.cache
def instance(schema: type[Schema], many: bool = False) -> Schema:
    """The one instance of a schema (per `many`): a schema keeps no state between calls, and
    building one deep-copies its fields, a cost that showed on every request."""
    return schema(many=many)


MAX_ID_LENGTH = 200
MAX_PAGE = 100_000
MAX_INTEGER_ID = 2**31 - 1
MIN_YEAR, MAX_YEAR = 1945, 2100
NO_NUL = r"^[^\x00]*$"  # no database stores NUL characters
TEXT_ERROR = "Must be text without NUL characters or unpaired surrogates."


class Text(fields.String):
    """A string without NUL characters or lone surrogates."""

    def __init__(self, **kwargs):
        super().__init__(**{**kwargs, "metadata": {"pattern": NO_NUL, **kwargs.get("metadata", {})}})

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not storable(text):
            raise ValidationError(TEXT_ERROR)
        return text


class FormValue(fields.Raw):
    """One answer of a task's form: text (as Text), a finite number or true/false (the kinds of
    field a form has; the form's own JSON Schema then judges the answers)."""

    def __init__(self, **kwargs):
        choices = [{"type": "string", "pattern": NO_NUL}, {"type": "number"}, {"type": "boolean"}]
        super().__init__(**{**kwargs, "metadata": {"anyOf": choices, **kwargs.get("metadata", {})}})

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and storable(value):
            return value
        if isinstance(value, bool | int) or (isinstance(value, float) and math.isfinite(value)):
            return value
        raise ValidationError(f"{TEXT_ERROR[:-1]}, a finite number or true/false.")


class UTCDateTime(fields.DateTime):
    """ISO 8601 in UTC."""

    def _serialize(self, value: datetime | None, attr, obj, **kwargs):
        return super()._serialize(value.astimezone(timezone.utc) if value else value, attr, obj, **kwargs)


class Upload(fields.Raw):
    """A file part of a multipart/form-data request."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, FileStorage) or not value.filename:
            raise ValidationError("Must be a file with a name.")
        return value


def _identifier(**kwargs) -> Text:
    return Text(validate=validate.Length(min=1, max=MAX_ID_LENGTH), **kwargs)


def _choice(values, **kwargs) -> Text:
    return Text(validate=validate.OneOf(list(values)), **kwargs)


# --- requests --------------------------------------------------------------------------------


class TokenRequestSchema(Schema):
    username = Text(required=True, validate=validate.Length(min=1, max=150))
    password = Text(required=True, validate=validate.Length(min=1, max=1024))
    name = Text(load_default="API token", validate=validate.Length(min=1, max=100))


class DelegateSchema(Schema):
    to = _identifier(required=True, metadata={"description": "The id of the colleague who takes the task."})
    reason = Text(required=True, validate=validate.Length(min=1, max=MAX_REASON_LENGTH))


class CompleteSchema(Schema):
    data = fields.Dict(
        keys=Text(),
        values=FormValue(),
        load_default=dict,
        metadata={"description": "The task's form, valid under its form_schema (GET /tasks/{task_id})."},
    )


class NominationRequestSchema(Schema):
    campaign_id = _identifier(required=True)
    award_code = _identifier(required=True)
    nominating_unit_id = _identifier(required=True)
    year = fields.Integer(required=True, strict=True, validate=validate.Range(min=MIN_YEAR, max=MAX_YEAR))
    person_id = _identifier(load_default=None, allow_none=True, metadata={"description": "An individual nominee."})
    unit_id = _identifier(load_default=None, allow_none=True, metadata={"description": "A collective nominee."})
    route = _choice(PROCESS_OF_ROUTE, load_default="merit")


class UploadSchema(Schema):
    file = Upload(required=True, metadata={"type": "string", "format": "binary"})


class _ListQuerySchema(Schema):
    campaign = _identifier()
    award = _identifier()
    unit = _identifier(metadata={"description": "The nominating unit."})
    bloc = _identifier()
    status = _identifier(metadata={"description": "The nomination's status, e.g. SUBMITTED."})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=25, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class TaskQuerySchema(_ListQuerySchema):
    view = _choice(queries.TASK_VIEWS, load_default="all")
    sort = _choice(queries.TASK_SORTS, load_default="due")
    due = _choice(queries.DUE_FILTERS)


class NominationQuerySchema(_ListQuerySchema):
    view = _choice(queries.NOMINATION_VIEWS, load_default="mine")
    sort = _choice(queries.NOMINATION_SORTS, load_default="-created")


class NotificationQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=25, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class MarkReadSchema(Schema):
    ids = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_INTEGER_ID)),
        validate=validate.Length(max=MAX_PER_PAGE),
        metadata={"description": "The notifications to mark read; leave it out to mark all of them."},
    )


# --- responses -------------------------------------------------------------------------------


class ErrorSchema(Schema):
    error = fields.String(required=True, metadata={"description": "A stable code, e.g. not_found."})
    message = fields.String(required=True)
    field_errors = fields.Dict(
        data_key="fields",
        keys=fields.String(),
        values=fields.Raw(),
        metadata={"description": "Per field: what is wrong with it (bad requests and task data)."},
    )
    nomination_id = fields.String(
        metadata={"description": "With duplicate_nomination: the nominee's open nomination for that award and year."}
    )


class TokenSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    created_at = UTCDateTime(required=True)
    expires_at = UTCDateTime(allow_none=True)
    last_used_at = UTCDateTime(allow_none=True)
    revoked_at = UTCDateTime(allow_none=True)


class NewTokenSchema(TokenSchema):
    token = fields.String(required=True, metadata={"description": "The secret: shown once, send as a Bearer token."})


class RoleSchema(Schema):
    role = fields.String(required=True)
    scope = fields.String(allow_none=True, metadata={"description": "unit:…, bloc:… or jurisdiction:…; null: all"})


class UserSchema(Schema):
    id = fields.String(required=True)
    username = fields.String(required=True)
    full_name = fields.String(required=True)
    unit_id = fields.String(allow_none=True)
    roles = fields.List(fields.Nested(RoleSchema), required=True)

    @pre_dump
    def _roles(self, principal, **kwargs):
        roles = [{"role": role, "scope": scope} for role, scope in principal.assignments]
        return {**vars(principal), "roles": roles}


class TaskSchema(Schema):
    id = fields.String(required=True)
    instance_id = fields.String(required=True)
    element_id = fields.String(required=True)
    name = fields.String(required=True)
    lane = fields.String(allow_none=True)
    candidate_role = fields.String(allow_none=True)
    org_scope = fields.String(allow_none=True)
    form = fields.String(allow_none=True)
    state = fields.String(required=True)
    claimed_by = fields.String(allow_none=True)
    created_at = UTCDateTime(required=True)
    due_at = UTCDateTime(allow_none=True)


class NominationSchema(Schema):
    id = fields.String(required=True)
    status = fields.String(required=True)
    award_code = fields.String(required=True)
    award_title = fields.String(required=True)
    nominee_name = fields.String(required=True)
    nominating_unit_id = fields.String(required=True)
    nominating_unit_name = fields.String(required=True)
    bloc_id = fields.String(allow_none=True)
    campaign_id = fields.String(required=True)
    campaign_name = fields.String(required=True)
    achievement_year = fields.Integer(required=True)
    route = fields.String(required=True)
    summary = fields.String(required=True)
    created_by = fields.String(required=True)
    created_at = UTCDateTime(required=True)
    instance_id = fields.String(allow_none=True)
    rejection_reason = fields.String(allow_none=True)
    decision_code = fields.String(allow_none=True)


class FileSchema(Schema):
    id = fields.String(required=True)
    filename = fields.String(required=True)
    media_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    uploaded_by = fields.String(required=True)
    uploaded_by_name = fields.String(required=True)
    uploaded_at = UTCDateTime(required=True)


class RegisterEntrySchema(Schema):
    year = fields.Integer(required=True)
    award_code = fields.String(required=True)
    award_title = fields.String(allow_none=True)
    decision_code = fields.String(allow_none=True, metadata={"description": "None: an imported or earlier record."})
    decided_on = fields.Date(allow_none=True)
    decider_level = fields.String(allow_none=True)
    counts_for_merit = fields.Boolean(required=True)
    revoked_on = fields.Date(allow_none=True)
    revoked_by = fields.String(allow_none=True, metadata={"description": "The revoking decision's number."})
    received_by = fields.String(
        required=True, metadata={"description": "The subject, or the predecessor unit the award came with."}
    )
    received_by_name = fields.String(required=True)


class RegisterSchema(Schema):
    subject_kind = fields.String(required=True)
    subject_id = fields.String(required=True)
    name = fields.String(required=True)
    entries = fields.List(fields.Nested(RegisterEntrySchema), required=True)


class HistoryEntrySchema(Schema):
    seq = fields.Integer(required=True)
    type = fields.String(required=True)
    at = UTCDateTime(required=True)
    actor = fields.String(allow_none=True)
    actor_name = fields.String(allow_none=True)
    element_id = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    data = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True)


class CommentSchema(Schema):
    kind = fields.String(required=True, metadata={"description": "review or notice (public notice)"})
    text = fields.String(required=True)
    author_name = fields.String(allow_none=True)
    at = UTCDateTime(required=True)
    resolution = fields.String(allow_none=True)


class NominationDetailSchema(NominationSchema):
    open_tasks = fields.List(fields.Nested(TaskSchema), required=True)
    files = fields.List(fields.Nested(FileSchema), required=True)
    history = fields.List(fields.Nested(HistoryEntrySchema), required=True)
    comments = fields.List(fields.Nested(CommentSchema), required=True)
    watching = fields.Boolean(required=True)

    @pre_dump
    def _flatten(self, detail: pages.NominationDetail, **kwargs):
        """The summary's fields at the top, beside the detail's lists."""
        return {**vars(detail), **vars(detail.nomination)}


class CriterionSchema(Schema):
    code = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "met, not_met or unknown"})
    reason = fields.String(required=True)


class EligibilitySchema(Schema):
    award_code = fields.String(required=True)
    eligible = fields.Boolean(required=True)
    criteria = fields.List(fields.Nested(CriterionSchema), required=True)


class ColleagueSchema(Schema):
    id = fields.String(required=True)
    full_name = fields.String(required=True)


class TaskDetailSchema(Schema):
    task = fields.Nested(TaskSchema, required=True)
    form_schema = fields.Dict(
        allow_none=True, metadata={"description": "The JSON Schema that the data of /complete must satisfy."}
    )
    nomination = fields.Nested(NominationDetailSchema, allow_none=True)
    eligibility = fields.Nested(EligibilitySchema, allow_none=True)
    can_act = fields.Boolean(required=True, metadata={"description": "The caller may claim or complete it now."})
    system_step = fields.Boolean(required=True, metadata={"description": "Completed by the council's tally."})
    colleagues = fields.List(fields.Nested(ColleagueSchema), required=True)
    working_days_left = fields.Integer(allow_none=True)
    overdue = fields.Boolean(required=True)


class InboxItemSchema(Schema):
    task = fields.Nested(TaskSchema, required=True)
    nomination = fields.Nested(NominationSchema, allow_none=True)
    working_days_left = fields.Integer(allow_none=True, metadata={"description": "Negative when overdue."})
    overdue = fields.Boolean(required=True)


class _PageSchema(Schema):
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class TaskPageSchema(_PageSchema):
    items = fields.List(fields.Nested(InboxItemSchema), required=True)
    counts = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "Tasks per view and nominations started or watched, under the same filters."},
    )


class NominationPageSchema(_PageSchema):
    items = fields.List(fields.Nested(NominationSchema), required=True)


class StepResultSchema(Schema):
    instance_id = fields.String(required=True)
    status = fields.String(required=True)
    opened = fields.List(fields.Nested(TaskSchema), required=True)
    closed = fields.List(fields.String(), required=True, metadata={"description": "Ids of the tasks it closed."})
    ended = fields.Boolean(required=True)


class DefinitionSchema(Schema):
    process_id = fields.String(required=True)
    name = fields.String(required=True)
    version = fields.Integer(required=True)
    instances = fields.Integer(required=True)


class NotificationSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(
        required=True, metadata={"description": "task_reminder, task_due, task_overdue, task_escalated or digest"}
    )
    text = fields.String(required=True, metadata={"description": "What it says, in the caller's language."})
    task_id = fields.String(allow_none=True)
    instance_id = fields.String(allow_none=True)
    data = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True)
    created_at = UTCDateTime(required=True)
    read_at = UTCDateTime(allow_none=True)

    @pre_dump
    def _text(self, notification, **kwargs):
        return {**vars(notification), "text": notification_text(notification)}


class NotificationPageSchema(_PageSchema):
    items = fields.List(fields.Nested(NotificationSchema), required=True)
    unread_count = fields.Integer(required=True)


class ReadResultSchema(Schema):
    marked = fields.Integer(required=True, metadata={"description": "How many were unread and now are read."})
    unread_count = fields.Integer(required=True)


# --- process design ---------------------------------------------------------------------------


class OpenDraftSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(("process", "rules")))
    subject = Text(required=True, validate=validate.Length(min=1, max=MAX_ID_LENGTH))


class SaveFileSchema(Schema):
    content = fields.String(required=True, metadata={"description": "The file's text (UTF-8)."})
    revision = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_INTEGER_ID),
        metadata={"description": "The draft revision the editor last saw; another one answers 409."},
    )


class RevisionSchema(Schema):
    revision = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_INTEGER_ID))


class DeploySchema(RevisionSchema):
    reason = Text(
        required=True,
        validate=validate.Length(min=1, max=MAX_REASON_LENGTH),
        metadata={"description": "Why the process or rules change; kept in the operation log auditors read."},
    )


class MigrationRequestSchema(Schema):
    instance_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(min=1, max=1000))
    target_version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_INTEGER_ID))
    dry_run = fields.Boolean(load_default=True, metadata={"description": "Only say which can move (default)."})
    reason = Text(load_default="", validate=validate.Length(max=MAX_REASON_LENGTH))


class DraftFileSchema(Schema):
    name = fields.String(required=True)
    content = fields.String(required=True)


class DraftSchema(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True)
    subject = fields.String(required=True)
    title = fields.String(required=True)
    revision = fields.Integer(required=True)
    base_version = fields.Integer(allow_none=True, metadata={"description": "Version or revision it started from."})
    updated_by = fields.String(required=True)
    updated_at = UTCDateTime(required=True)
    files = fields.List(fields.Nested(DraftFileSchema), required=True, metadata={"description": "In display order."})

    @pre_dump
    def _file_list(self, draft, **_kwargs) -> dict:
        return {**asdict(draft), "files": [{"name": name, "content": text} for name, text in draft.files.items()]}


class ProblemSchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    file = fields.String(allow_none=True)
    element_id = fields.String(allow_none=True)
    severity = fields.String(required=True, metadata={"enum": ["error", "warning"]})


class ValidationResultSchema(Schema):
    ok = fields.Boolean(required=True, metadata={"description": "No errors (warnings do not block a deploy)."})
    problems = fields.List(fields.Nested(ProblemSchema), required=True)


class DeploymentSchema(Schema):
    kind = fields.String(required=True)
    subject = fields.String(required=True)
    version = fields.Integer(required=True, metadata={"description": "The process version or rule set revision."})


class MigrationCheckSchema(Schema):
    instance_id = fields.String(required=True)
    business_key = fields.String(allow_none=True)
    status = fields.String(required=True)
    from_version = fields.Integer(required=True)
    to_version = fields.Integer(required=True)
    movable = fields.Boolean(required=True)
    reasons = fields.List(fields.String(), required=True, metadata={"description": "Why it cannot move."})
    changes = fields.List(fields.String(), required=True, metadata={"description": "What a move changes for it."})


class MigrationOutcomeSchema(Schema):
    instance_id = fields.String(required=True)
    moved = fields.Boolean(required=True)
    reasons = fields.List(fields.String(), required=True)
