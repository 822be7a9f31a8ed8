"""What auditors take away: an instance's full history as JSON (every field of every event,
hashes included, with the instance's metadata) or CSV, read back and re-verified offline by
`import_history`; a nomination's path with its decision for a printed report; a campaign's
decisions as an xlsx workbook. Every export is scoped to the principal like the pages."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, datetime
from typing import Any, Callable, Mapping, Sequence

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import and_, select
from sqlalchemy.orm import aliased

from engine.history import verify_chain
from engine.models import HistoryEvent, ProcessDefinition, ProcessInstance, UTCDateTime

from ..accounts.principals import Principal
from ..awards.models import Award
from ..decisions.models import Decision
from ..errors import DomainError, NotFoundError
from ..nominations import access
from ..nominations.models import Campaign, Nomination
from ..nominations.summaries import NominationSummary, summaries_of
from ..nominees.models import Person
from ..org.models import Unit, User
from ..uow import Services
from . import records, search

FORMAT = "thidua-history"
FORMAT_VERSION = 1
EVENT_FIELDS = tuple(column.key for column in HistoryEvent.__table__.columns)
_EVENT_DATETIMES = frozenset(c.key for c in HistoryEvent.__table__.columns if isinstance(c.type, UTCDateTime))
# What identifies an instance and its chain; the snapshot itself is not history and stays out.
INSTANCE_FIELDS = (
    "id",
    "definition_id",
    "business_key",
    "status",
    "version",
    "history_seq",
    "history_hash",
    "started_by",
    "started_at",
    "updated_at",
    "ended_at",
)


class HistoryVerificationError(DomainError):
    """An imported history whose chain does not verify; `seq` names the first broken event."""

    def __init__(self, instance_id: str, seq: int, reason: str):
        self.instance_id, self.seq = instance_id, seq
        super().__init__("history_broken", f"instance {instance_id}, event {seq}: {reason}")


@dataclass(frozen=True)
class ImportedHistory:
    """An export read back: its instance metadata and its events as (unsaved) HistoryEvent rows."""

    instance: dict[str, Any]
    events: list[HistoryEvent]


def _text(value: Any) -> Any:
    return value.isoformat(timespec="microseconds") if isinstance(value, datetime) else value


def _jsonable(value: Any) -> Any:
    """Dataclasses, dates and tuples as JSON values."""
    if is_dataclass(value):
        return {field.name: _jsonable(getattr(value, field.name)) for field in fields(value)}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime):
        return _text(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def history_document(services: Services, principal: Principal, instance_id: str, exported_by: str) -> dict:
    """The export as a JSON-ready dict. NotFoundError outside the principal's scope."""
    with services.uow() as uow:
        session = uow.session
        access.require_instance_visible(session, principal, instance_id)
        instance = session.get(ProcessInstance, instance_id)
        definition = session.get(ProcessDefinition, instance.definition_id)
        events = session.scalars(
            select(HistoryEvent).where(HistoryEvent.instance_id == instance_id).order_by(HistoryEvent.seq)
        ).all()
        metadata = {name: _text(getattr(instance, name)) for name in INSTANCE_FIELDS}
        metadata |= {
            "process_id": definition.process_id,
            "process_version": definition.version,
            "content_hash": definition.content_hash,
        }
        document = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "exported_at": _text(uow.clock()),
            "exported_by": exported_by,
            "instance": metadata,
            "events": [{name: _text(getattr(event, name)) for name in EVENT_FIELDS} for event in events],
        }
        key = instance.business_key
        nomination = summaries_of(session, {key}).get(key) if key else None
        if nomination is not None:
            # Outside the hash chain, for the reader: the council's tallies and attendance (never a
            # member's choice) and the decision.
            document["nomination"] = _jsonable(nomination) | {
                "council": _jsonable(records.council_votes(session, key)),
                "decision": _jsonable(records.decision_of(session, key)),
            }
        return document


def history_json(services: Services, principal: Principal, instance_id: str, exported_by: str) -> str:
    document = history_document(services, principal, instance_id, exported_by)
    return json.dumps(document, ensure_ascii=False, indent=2)


def history_csv(services: Services, principal: Principal, instance_id: str, exported_by: str) -> str:
    """One row per event, every field; `data` as JSON text."""
    document = history_document(services, principal, instance_id, exported_by)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EVENT_FIELDS, lineterminator="\n")
    writer.writeheader()
    for event in document["events"]:
        writer.writerow(event | {"data": json.dumps(event["data"], ensure_ascii=False, sort_keys=True)})
    return out.getvalue()


def import_history(json_text: str) -> ImportedHistory:
    """Read a JSON export back and re-verify its hash chain offline against the head its
    instance metadata records. Raises DomainError `invalid_export` (not an export, naming what
    is missing or malformed) or HistoryVerificationError naming the first broken event."""
    try:
        document = json.loads(json_text)
    except ValueError as exc:
        raise DomainError("invalid_export", f"not JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise DomainError("invalid_export", f"not a {FORMAT} export")
    if document.get("format_version") != FORMAT_VERSION:
        raise DomainError("invalid_export", f"format_version {document.get('format_version')!r} is not supported")
    instance, events = document.get("instance"), document.get("events")
    if not isinstance(instance, dict) or not isinstance(events, list):
        raise DomainError("invalid_export", "instance (an object) and events (a list) are required")
    for name in ("id", "history_seq", "history_hash"):
        if name not in instance:
            raise DomainError("invalid_export", f"instance.{name} is missing")
    rows = [_event(index, event) for index, event in enumerate(events, start=1)]
    for row in rows:
        if row.instance_id != instance["id"]:
            raise DomainError("invalid_export", f"event {row.seq} belongs to instance {row.instance_id}")
    broken = verify_chain(instance["id"], rows, (instance["history_seq"], instance["history_hash"]))
    if broken is not None:
        raise HistoryVerificationError(broken.instance_id, broken.seq, broken.reason)
    return ImportedHistory(instance, rows)


def _event(index: int, fields: Any) -> HistoryEvent:
    if not isinstance(fields, dict):
        raise DomainError("invalid_export", f"event #{index} is not an object")
    missing = [name for name in EVENT_FIELDS if name not in fields]
    if missing:
        raise DomainError("invalid_export", f"event #{index} lacks {', '.join(missing)}")
    values = {name: fields[name] for name in EVENT_FIELDS}
    for name in _EVENT_DATETIMES:
        if values[name] is not None:
            try:
                values[name] = datetime.fromisoformat(values[name])
            except (TypeError, ValueError):
                raise DomainError("invalid_export", f"event #{index}: {name} is not an ISO date and time") from None
    return HistoryEvent(**values)


# --- the printed report of a nomination ---------------------------------------------------------


@dataclass(frozen=True)
class NominationReport:
    nomination: NominationSummary
    instances: list[search.InstanceDetail]  # the ladder's instance first, then e.g. its revocation
    council: list[records.CouncilVote]
    decision: records.DecisionInfo | None
    printed_at: datetime


def nomination_report(services: Services, principal: Principal, nomination_id: str) -> NominationReport:
    """A nomination's path through every instance it had, with its council votes and decision."""
    with services.uow() as uow:
        session = uow.session
        access.require_nomination(session, principal, nomination_id)
        instance_ids = session.scalars(
            select(ProcessInstance.id)
            .where(ProcessInstance.business_key == nomination_id)
            .order_by(ProcessInstance.started_at, ProcessInstance.id)
        ).all()
        nomination = summaries_of(session, {nomination_id})[nomination_id]
        council = records.council_votes(session, nomination_id)
        decision = records.decision_of(session, nomination_id)
        now = uow.clock()
    details = [search.instance_detail(services, principal, instance_id) for instance_id in instance_ids]
    return NominationReport(nomination, details, council, decision, now)


# --- a campaign's decisions ---------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionRow:
    code: str
    year: int
    number: int
    kind: str
    signed_on: date
    signed_by: str
    nomination_id: str
    nominee: str
    award_code: str
    award_title: str
    unit: str
    status: str
    revoked_by: str | None
    revocation_ground: str | None
    # The council's tally (secret ballot: counts only) and how many members were present.
    yes: int | None = None
    no: int | None = None
    abstain: int | None = None
    present: int | None = None


@dataclass(frozen=True)
class CampaignDecisions:
    campaign_id: str
    campaign_name: str
    rows: list[DecisionRow]


def campaign_decisions(services: Services, principal: Principal, campaign_id: str) -> CampaignDecisions:
    """Every decision on the campaign's nominations the principal may see, in decision order.
    NotFoundError when the campaign does not exist or lies outside the principal's scope."""
    with services.session_factory() as session:
        campaign = session.get(Campaign, campaign_id)
        visible = access.nomination_visible(principal)
        jurisdictions = {s.partition(":")[2] for s in principal.scopes if s.startswith("jurisdiction:")}
        if campaign is None or not (
            principal.unscoped
            or campaign.jurisdiction_id in jurisdictions
            or session.scalar(select(Nomination.id).where(Nomination.campaign_id == campaign_id, visible).limit(1))
        ):
            raise NotFoundError("campaign", campaign_id)
        nominee, nominee_unit, unit, signer, revocation = (
            aliased(Person),
            aliased(Unit),
            aliased(Unit),
            aliased(User),
            aliased(Decision),
        )
        rows = session.execute(
            select(
                Decision,
                signer.full_name,
                Nomination,
                nominee.full_name,
                nominee_unit.name,
                Award.title,
                unit.name,
                revocation.code,
            )
            .join(Nomination, Nomination.decision_id == Decision.id)
            .join(signer, signer.id == Decision.signed_by)
            .join(Award, and_(Award.rule_set_id == Nomination.rule_set_id, Award.code == Nomination.award_code))
            .outerjoin(nominee, nominee.id == Nomination.person_id)
            .join(nominee_unit, nominee_unit.id == Nomination.nominee_unit_id)
            .join(unit, unit.id == Nomination.nominating_unit_id)
            .outerjoin(revocation, revocation.id == Decision.revoked_by_id)
            .where(Nomination.campaign_id == campaign_id, visible)
            .order_by(Decision.year, Decision.number, Nomination.id)
        ).all()
        return CampaignDecisions(
            campaign.id,
            campaign.name,
            [
                DecisionRow(
                    code=decision.code,
                    year=decision.year,
                    number=decision.number,
                    kind=decision.kind,
                    signed_on=decision.signed_on,
                    signed_by=signer_name,
                    nomination_id=nomination.id,
                    nominee=person_name or unit_name,
                    award_code=nomination.award_code,
                    award_title=award_title,
                    unit=nominating_unit,
                    status=nomination.status,
                    revoked_by=revoked_by,
                    revocation_ground=decision.revocation_ground,
                    **_tally(session, nomination.id),
                )
                for (
                    decision,
                    signer_name,
                    nomination,
                    person_name,
                    unit_name,
                    award_title,
                    nominating_unit,
                    revoked_by,
                ) in rows
            ],
        )


def _tally(session, nomination_id: str) -> dict[str, int | None]:
    """The last tally the council recorded on the nomination, if any."""
    voted = [vote for vote in records.council_votes(session, nomination_id) if vote.yes is not None]
    if not voted:
        return {}
    vote = voted[-1]
    return {"yes": vote.yes, "no": vote.no, "abstain": vote.abstain, "present": len(vote.present)}


# The workbook's columns, in order; the caller supplies the translated headers for them.
XLSX_COLUMNS = (
    "code",
    "signed_on",
    "signed_by",
    "kind",
    "nomination_id",
    "nominee",
    "award_code",
    "award_title",
    "unit",
    "status",
    "yes",
    "no",
    "abstain",
    "present",
    "revoked_by",
    "revocation_ground",
)


def decisions_xlsx(
    decisions: CampaignDecisions,
    headers: Sequence[str],
    sheet_title: str,
    display: Mapping[str, Callable[[Any], Any]] | None = None,
) -> bytes:
    """The decisions as an xlsx workbook: a header row (`headers`, one per XLSX_COLUMNS), then a
    row per decision and nomination; dates are real dates shown dd/mm/yyyy. `display` turns a
    column's codes into words (a status code into its name in the reader's language)."""
    if len(headers) != len(XLSX_COLUMNS):
        raise ValueError(f"{len(XLSX_COLUMNS)} headers are needed, not {len(headers)}")
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title[:31]  # Excel's limit on sheet names
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    display = display or {}
    rows = [
        [display[name](getattr(row, name)) if name in display else getattr(row, name) for name in XLSX_COLUMNS]
        for row in decisions.rows
    ]
    for row in rows:
        sheet.append(row)
        sheet.cell(sheet.max_row, XLSX_COLUMNS.index("signed_on") + 1).number_format = "DD/MM/YYYY"
    sheet.freeze_panes = "A2"
    for index in range(1, len(XLSX_COLUMNS) + 1):
        width = max([len(str(headers[index - 1]))] + [len(str(row[index - 1] or "")) for row in rows])
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = min(max(width + 2, 10), 60)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
