"""Reviewers' pages: the inbox, a task with its form, nominations, dossier files and the council
secretary's session sheet."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, redirect, render_template, request, send_file, url_for
from flask_babel import gettext

from engine import TaskDataError
from workflows.council import queries as council_queries
from workflows.council import services as council
from workflows.errors import DomainError
from workflows.inbox import pages, queries
from workflows.nominations import services as nomination_services
from workflows.nominees import services as nominee_services
from workflows.paging import Paging
from workflows.processes import queries as process_queries
from workflows.tasks import services as tasks

from ..extensions import file_store, services
from ..i18n import nfc
from ..messages import domain_message
from ..security import current_principal, login_required
from . import forms

bp = Blueprint("inbox", __name__, template_folder="templates")


def paging_from(args, default_per_page: int = 25) -> Paging:
    try:
        return Paging(int(args.get("page", 1)), int(args.get("per_page", default_per_page)))
    except ValueError:
        raise DomainError("invalid_page", "page and per_page must be whole numbers") from None


@bp.get("/")
@login_required
def index():
    """The inbox: my tasks, claimable ones, overdue ones, with filters, sort and pages."""
    view, sort = request.args.get("view", "all"), request.args.get("sort", "due")
    page = queries.inbox(
        services(current_app),
        current_principal(),
        view,
        queries.Filters.of(nfc(request.args.to_dict())),
        sort,
        paging_from(request.args),
    )
    template = "inbox/_tasks.html" if request.headers.get("HX-Request") else "inbox/index.html"
    return render_template(
        template, page=page, view=view, sort=sort, args=request.args, completed=request.args.get("completed")
    )


@bp.get("/healthz")
def health():
    """Liveness and database check for load balancers."""
    process_queries.check_database(services(current_app))
    return {"status": "ok"}


@bp.get("/tasks/<task_id>")
@login_required
def task(task_id: str):
    """A task: its nomination, files, eligibility, history, comments and form."""
    return _task_page(task_id)


@bp.post("/tasks/<task_id>/complete")
@login_required
def complete(task_id: str):
    """Complete a task with its form; errors come back next to the fields. One transaction: the
    form is read by the task's schema, and a refused step's page is read in it too."""
    principal = current_principal()
    outcome = tasks.complete(
        services(current_app),
        principal,
        task_id,
        lambda schema: forms.parse(schema, request.form),
        refused=lambda uow: pages.task_page(uow, principal, task_id),
    )
    if isinstance(outcome, tasks.Refusal):
        error = outcome.error
        if isinstance(error, TaskDataError):
            return _render_task(outcome.page, values=request.form, errors=forms.error_messages(error), status=422)
        return _render_task(outcome.page, values=request.form, message=domain_message(error), status=422)
    return redirect(url_for("inbox.index", completed=outcome.completed.name))


@bp.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id: str):
    """Take a task from the group's queue."""
    tasks.claim(services(current_app), current_principal(), task_id)
    return redirect(url_for("inbox.task", task_id=task_id))


@bp.post("/tasks/<task_id>/unclaim")
@login_required
def unclaim(task_id: str):
    """Give a task back to the group."""
    tasks.unclaim(services(current_app), current_principal(), task_id)
    return redirect(url_for("inbox.task", task_id=task_id))


@bp.post("/tasks/<task_id>/delegate")
@login_required
def delegate(task_id: str):
    """Hand a task to a colleague of the same role, with a reason."""
    try:
        tasks.delegate(
            services(current_app),
            current_principal(),
            task_id,
            request.form.get("delegate", ""),
            nfc(request.form.get("reason", "")),
        )
    except DomainError as error:
        if error.code in ("not_found", "forbidden"):
            raise
        return _task_page(task_id, message=domain_message(error), status=422)
    return redirect(url_for("inbox.index"))


@bp.post("/tasks/<task_id>/files")
@login_required
def upload_on_task(task_id: str):
    """Attach a dossier file from a task page."""
    nomination_id = queries.task_nomination(services(current_app), current_principal(), task_id)
    if nomination_id is None:
        raise DomainError("no_nomination", f"task {task_id} belongs to no nomination")
    message = _upload(nomination_id)
    if message:
        return _task_page(task_id, message=message, status=422)
    return redirect(url_for("inbox.task", task_id=task_id))


@bp.get("/nominations")
@login_required
def nominations():
    """Nominations I started or watch, or all I may see."""
    view, sort = request.args.get("view", "mine"), request.args.get("sort", "-created")
    page = queries.nominations(
        services(current_app),
        current_principal(),
        view,
        queries.Filters.of(nfc(request.args.to_dict())),
        sort,
        paging_from(request.args),
    )
    return render_template("inbox/nominations.html", page=page, view=view, sort=sort, args=request.args)


@bp.route("/nominations/new", methods=["GET", "POST"])
@login_required
def new_nomination():
    """A unit officer starts a nomination; it opens at its first task."""
    choices = queries.nomination_choices(services(current_app), current_principal())
    if request.method == "GET":
        return render_template("inbox/new_nomination.html", choices=choices, values=request.args)
    form = nfc(request.form.to_dict())
    kind, _, nominee = form.get("nominee", "").partition(":")
    try:
        campaign = next((c for c in choices.campaigns if c.id == form.get("campaign")), None)
        if campaign is None:
            raise DomainError("unknown_campaign", gettext("Choose a campaign."))
        nomination_id = nomination_services.create_nomination(
            services(current_app),
            current_principal(),
            campaign_id=campaign.id,
            award_code=form.get("award", ""),
            nominating_unit_id=form.get("unit", ""),
            year=campaign.year,
            person_id=nominee if kind == "person" else None,
            unit_id=nominee if kind == "unit" else None,
            route=form.get("route", "merit"),
        )
    except DomainError as error:
        return render_template(
            "inbox/new_nomination.html", choices=choices, values=form, message=domain_message(error)
        ), 422
    return redirect(url_for("inbox.nomination", nomination_id=nomination_id))


@bp.post("/people")
@login_required
def register_person():
    """A unit officer registers a person of their unit; the nomination form comes back with them chosen."""
    form = nfc(request.form.to_dict())
    try:
        try:
            recruited_on = date.fromisoformat(form.get("recruited_on", ""))
        except ValueError:
            raise DomainError("invalid_date", "recruited_on must be a date (YYYY-MM-DD)") from None
        person_id = nominee_services.register_person(
            services(current_app),
            current_principal(),
            unit_id=form.get("unit", ""),
            full_name=form.get("full_name", ""),
            recruited_on=recruited_on,
        )
    except DomainError as error:
        choices = queries.nomination_choices(services(current_app), current_principal())
        return render_template(
            "inbox/new_nomination.html", choices=choices, values={}, person=form, message=domain_message(error)
        ), 422
    return redirect(url_for("inbox.new_nomination", nominee=f"person:{person_id}"))


@bp.get("/nominations/<nomination_id>")
@login_required
def nomination(nomination_id: str):
    """A nomination: summary, open tasks, files, history and comments."""
    detail = queries.nomination_detail(services(current_app), current_principal(), nomination_id)
    return render_template("inbox/nomination.html", detail=detail)


@bp.get("/register/<any(person, unit):subject_kind>/<subject_id>")
@login_required
def register(subject_kind: str, subject_id: str):
    """The award register of a person or a collective (with what its predecessors received)."""
    found = queries.awards_received(services(current_app), current_principal(), subject_kind, subject_id)
    return render_template("inbox/register.html", register=found)


@bp.post("/nominations/<nomination_id>/comments")
@login_required
def comment(nomination_id: str):
    """Add a reviewer's comment."""
    nomination_services.add_comment(
        services(current_app), current_principal(), nomination_id, nfc(request.form.get("text", ""))
    )
    return redirect(request.form.get("back") or url_for("inbox.nomination", nomination_id=nomination_id))


@bp.post("/nominations/<nomination_id>/watch")
@login_required
def watch(nomination_id: str):
    """Follow or stop following a nomination."""
    watching = request.form.get("watching") == "true"
    nomination_services.set_watching(services(current_app), current_principal(), nomination_id, watching)
    return redirect(url_for("inbox.nomination", nomination_id=nomination_id))


@bp.post("/nominations/<nomination_id>/files")
@login_required
def upload(nomination_id: str):
    """Attach a dossier file from the nomination page."""
    message = _upload(nomination_id)
    if message:
        detail = queries.nomination_detail(services(current_app), current_principal(), nomination_id)
        return render_template("inbox/nomination.html", detail=detail, message=message), 422
    return redirect(url_for("inbox.nomination", nomination_id=nomination_id))


@bp.get("/files/<file_id>")
@login_required
def download(file_id: str):
    """A dossier file, if its nomination is in the user's scope."""
    entry, path = nomination_services.file_path(
        services(current_app), file_store(current_app), current_principal(), file_id
    )
    return send_file(path, mimetype=entry.media_type, as_attachment=True, download_name=entry.filename)


@bp.get("/council")
@login_required
def council_sessions():
    """Council sessions and nominations waiting for a vote."""
    principal = current_principal()
    councils = council_queries.councils(services(current_app), principal)
    waiting = {c.id: council_queries.awaiting_council(services(current_app), principal, c.id) for c in councils}
    sessions = council_queries.council_sessions(services(current_app), principal)
    return render_template("inbox/council_sessions.html", sessions=sessions, councils=councils, waiting=waiting)


@bp.post("/council")
@login_required
def schedule_session():
    """Put nominations waiting for a vote on a new session's agenda."""
    try:
        scheduled_for = datetime.fromisoformat(request.form.get("scheduled_for", ""))
    except ValueError:
        raise DomainError("invalid_date", "scheduled_for must be a date and time (YYYY-MM-DDTHH:MM)") from None
    if scheduled_for.tzinfo is None:
        scheduled_for = scheduled_for.replace(tzinfo=ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).astimezone(
            timezone.utc
        )
    session_id = council.schedule_council_session(
        services(current_app),
        current_principal(),
        request.form.get("council", ""),
        scheduled_for,
        request.form.getlist("nominations"),
    )
    return redirect(url_for("inbox.council_session", session_id=session_id))


@bp.route("/council/sessions/<session_id>", methods=["GET", "POST"])
@login_required
def council_session(session_id: str):
    """The secretary's sheet: attendance, then the tallies of every item, recorded at once."""
    principal = current_principal()
    if request.method == "POST":
        try:
            council.record_session(
                services(current_app),
                principal,
                session_id,
                request.form.getlist("present"),
                _tallies(request.form),
            )
        except DomainError as error:
            if error.code in ("not_found", "forbidden"):
                raise
            sheet = council_queries.session_sheet(services(current_app), principal, session_id)
            return render_template(
                "inbox/council_session.html", sheet=sheet, message=domain_message(error), values=request.form
            ), 422
        return redirect(url_for("inbox.council_session", session_id=session_id))
    sheet = council_queries.session_sheet(services(current_app), principal, session_id)
    return render_template("inbox/council_session.html", sheet=sheet, values={})


def _tallies(form) -> dict[str, council.ItemTally]:
    """Tallies posted as yes-<id>, no-<id>, abstain-<id>, voted-<id> (one per member who voted);
    items whose three counts are all blank are left for later."""
    tallies = {}
    for nomination_id in form.getlist("item"):
        counts = [form.get(f"{name}-{nomination_id}", "").strip() for name in ("yes", "no", "abstain")]
        if not any(counts):
            continue
        try:
            yes, no, abstain = (int(count or 0) for count in counts)
        except ValueError:
            raise DomainError("invalid_tally", f"nomination {nomination_id}: counts must be whole numbers") from None
        tallies[nomination_id] = council.ItemTally(yes, no, abstain, form.getlist(f"voted-{nomination_id}"))
    return tallies


def _upload(nomination_id: str) -> str | None:
    """Store the posted file; returns the refusal to show, or None."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return gettext("Choose a file to attach.")
    try:
        nomination_services.attach_file(
            services(current_app),
            file_store(current_app),
            current_principal(),
            nomination_id,
            upload.filename,
            upload.stream,
            current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024,
        )
    except DomainError as error:
        if error.code in ("not_found", "forbidden"):
            raise
        return domain_message(error)
    return None


def _task_page(task_id: str, **page):
    return _render_task(queries.task_detail(services(current_app), current_principal(), task_id), **page)


def _render_task(detail, *, values=None, errors=None, message=None, status=200):
    return render_template(
        "inbox/task.html",
        detail=detail,
        fields=forms.fields_of(detail.form_schema),
        values=values or {},
        errors=errors or {},
        message=message,
    ), status
