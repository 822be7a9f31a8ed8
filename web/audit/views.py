"""Auditors' pages: finding instances, an instance's timeline with its diagram at any event,
replay, the history exports, a nomination's printable report and a campaign's decisions as xlsx.
Every route is a GET: nothing here writes."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from werkzeug.exceptions import BadRequest

from workflows.audit import exports, search
from workflows.errors import DomainError
from workflows.nominations.models import STATES
from workflows.paging import Paging

from ..extensions import services
from ..i18n import STATUS_NAMES, nfc
from ..security import current_principal
from .blueprint import bp

# What a reassignment or migration changed, the facts services establish and the data an
# instance starts with (form fields are labelled by their form's titles).
CHANGE_LABELS = {
    "claimed_by": lazy_gettext("Assignee"),
    "assignment": lazy_gettext("Candidates (role, scope, assignee)"),
    "version": lazy_gettext("Process version"),
    "eligible": lazy_gettext("Meets every criterion"),
    "eligibility": lazy_gettext("Eligibility check"),
    "council_passed": lazy_gettext("Passed by the council"),
    "decision_code": lazy_gettext("Decision number"),
    "revocation_decision": lazy_gettext("Revocation decision"),
    "nomination_id": lazy_gettext("Nomination"),
    "award_code": lazy_gettext("Award code"),
    "rule_set_id": lazy_gettext("Rule set"),
    "unit_scope": lazy_gettext("Unit scope"),
    "bloc_scope": lazy_gettext("Bloc scope"),
    "jurisdiction_scope": lazy_gettext("Jurisdiction scope"),
    "public_notice": lazy_gettext("Public notice required"),
}


@bp.app_template_filter("change_label")
def change_label(label: str) -> str:
    return str(CHANGE_LABELS.get(label, label))


@bp.app_template_filter("audit_value")
def audit_value(value: Any) -> str:
    """A recorded value as text: yes/no for booleans, a dash for none, JSON for structures."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _seq(required: bool = False) -> int | None:
    """The `at` query parameter: an event's sequence number."""
    text = request.args.get("at", "").strip()
    if not text:
        if required:
            raise BadRequest("at (the event's sequence number) is required")
        return None
    if not text.isdigit():
        raise BadRequest(f"at must be an event's sequence number, not {text!r}")
    return int(text)


def _paging() -> Paging:
    try:
        return Paging(int(request.args.get("page", 1)), int(request.args.get("per_page", 25)))
    except ValueError:
        raise DomainError("invalid_page", "page and per_page must be whole numbers") from None


def _download(body: bytes | str, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/")
def index():
    """Find instances by nomination, nominee, unit, award, campaign, decision, dates, actor, status."""
    app_services, principal = services(current_app), current_principal()
    args = nfc(request.args.to_dict())
    criteria = search.Criteria.of(args)
    searched = any(value.strip() for name, value in args.items() if name not in ("page", "per_page"))
    page = search.find_instances(app_services, principal, criteria, _zone(), _paging())
    return render_template(
        "audit/index.html",
        page=page,
        args=request.args,
        searched=searched,
        choices=search.search_choices(app_services, principal),
        statuses=STATES,
        instance_statuses=search.INSTANCE_STATUSES,
    )


@bp.get("/instances/<instance_id>")
def instance(instance_id: str):
    """An instance's timeline and its diagram at the event chosen on it."""
    detail = search.instance_detail(services(current_app), current_principal(), instance_id)
    return render_template("audit/instance.html", detail=detail)


@bp.get("/instances/<instance_id>/state")
def state(instance_id: str):
    """JSON: the state replay rebuilds after event `at` (completed and active elements, data)."""
    at = _seq(required=True)
    found = search.state_at(services(current_app), current_principal(), instance_id, at)
    replay = found.replay
    return jsonify(
        {
            "instance_id": replay.instance_id,
            "at": replay.at,
            "head": replay.head,
            "definition_id": found.definition_id,
            "diagram_url": url_for(".diagram", instance_id=instance_id, at=at),
            "completed": sorted(replay.states.completed),
            "active": sorted(replay.states.active),
            "data": replay.states.data,
            "ok": replay.ok,
            "mismatch": _step(replay.mismatch),
            "snapshot_matches": replay.snapshot_matches,
        }
    )


def _step(step) -> dict | None:
    if step is None:
        return None
    return {"seq": step.seq, "type": step.type, "element_id": step.element_id, "ok": step.ok, "detail": step.detail}


@bp.get("/instances/<instance_id>/diagram")
def diagram(instance_id: str):
    """The BPMN file of the version the instance ran on after event `at` (default: now)."""
    found = search.diagram_at(services(current_app), current_principal(), instance_id, _seq())
    response = Response(found.xml, mimetype="application/xml")
    response.headers["X-Definition-Id"] = str(found.definition_id)
    return response


@bp.get("/instances/<instance_id>/replay")
def replay(instance_id: str):
    """Rebuild the instance from its recorded inputs and compare each step with history."""
    replayed = search.replay_instance(services(current_app), current_principal(), instance_id, _seq())
    return render_template("audit/replay.html", replay=replayed.replay, detail=replayed.detail)


@bp.get("/instances/<instance_id>/history.json")
def history_json(instance_id: str):
    """Every field of every event, hashes included, and the instance's metadata."""
    body = exports.history_json(services(current_app), current_principal(), instance_id, current_principal().username)
    return _download(body, "application/json", f"history-{instance_id}.json")


@bp.get("/instances/<instance_id>/history.csv")
def history_csv(instance_id: str):
    """One row per event; a byte-order mark so that spreadsheets read it as UTF-8."""
    body = exports.history_csv(services(current_app), current_principal(), instance_id, current_principal().username)
    return _download(body.encode("utf-8-sig"), "text/csv", f"history-{instance_id}.csv")


@bp.get("/nominations/<nomination_id>/report")
def report(nomination_id: str):
    """A nomination's path with its council votes and decision, laid out for A4 printing."""
    found = exports.nomination_report(services(current_app), current_principal(), nomination_id)
    return render_template("audit/report.html", report=found)


@bp.get("/campaigns/<campaign_id>/decisions.xlsx")
def decisions_xlsx(campaign_id: str):
    """The campaign's decisions, one row per decision and nomination."""
    decisions = exports.campaign_decisions(services(current_app), current_principal(), campaign_id)
    headers = [
        gettext("Decision"),
        gettext("Signed on"),
        gettext("Signed by"),
        gettext("Kind"),
        gettext("Nomination"),
        gettext("Nominee"),
        gettext("Award code"),
        gettext("Award"),
        gettext("Unit"),
        gettext("Status"),
        gettext("In favour"),
        gettext("Against"),
        gettext("Abstained"),
        gettext("Members present"),
        gettext("Revoked by"),
        gettext("Revocation ground"),
    ]
    kinds = {"award": gettext("award"), "revocation": gettext("revocation")}
    body = exports.decisions_xlsx(
        decisions,
        headers,
        gettext("Decisions"),
        {"kind": lambda code: kinds.get(code, code), "status": lambda code: str(STATUS_NAMES.get(code, code))},
    )
    return _download(
        body,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        f"decisions-{campaign_id}.xlsx",
    )
