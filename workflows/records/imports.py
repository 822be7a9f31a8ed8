"""Importing a province's records from xlsx workbooks, inside the caller's unit of work: one
template per kind (jurisdictions, units, campaigns, unit successions, people, employment periods,
ratings, initiatives, restrictions, and awards received before the register was kept here), every
row checked before anything is written, so that a file with one bad cell imports nothing and its
errors name the file, row, column and reason. Workbooks are parsed with defusedxml (openpyxl uses
it when it is installed) after their unpacked size is checked. Kinds that refer to others are
imported after them (units after jurisdictions, …)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable, Iterable, Iterator

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import case, func, insert, select, tuple_
from sqlalchemy.orm import Session

from ..errors import DomainError
from ..nominations.models import Campaign
from ..nominees.models import (
    INITIATIVE_SCOPES,
    RATINGS,
    RESTRICTION_KINDS,
    SUBJECT_PERSON,
    SUBJECT_UNIT,
    AchievementRecord,
    Employment,
    Initiative,
    PerformanceRating,
    Person,
    Restriction,
)
from ..org.models import Jurisdiction, Unit, UnitSuccession

MAX_UNCOMPRESSED_BYTES = 400 * 1024 * 1024
MAX_ROWS = 1_000_000
MIN_YEAR, MAX_YEAR = 1945, 2100
BATCH = 5000
JURISDICTION_LEVELS = ("national", "province", "commune")
GENDERS = ("female", "male")
INITIATIVE_FIELDS = ("person_id", "year", "scope", "title", "document_number", "document_date", "issued_by")


# What can be wrong with a cell or a row, by code, in English; the web layer words each code
# for the reader (web/messages.py IMPORT_PROBLEMS), with the same parameters.
PROBLEMS = {
    "wrong_header": "the header row must be {columns} (download the template)",
    "too_many_rows": "more than {limit} rows",
    "empty": "is empty",
    "too_long": "longer than {limit} characters",
    "nul_character": "contains a NUL character",
    "not_a_choice": "{value!r} is not one of {choices}",
    "not_a_date": "{value!r} is not a date (dd/mm/yyyy or yyyy-mm-dd)",
    "not_a_year": "{value!r} is not a year",
    "year_out_of_range": "{value} is not between {first} and {last}",
    "repeated": "{value} is also on row {row}",
    "already_recorded": "{value} is already recorded",
    "unknown_reference": "{value} does not exist",
    "ends_before_start": "{end} is before the start, {start}",
    "succeeds_itself": "a unit cannot succeed itself",
}
Broken = tuple[str, str, dict]  # a row rule's finding: (column, problem code, parameters)


class CellProblem(ValueError):
    def __init__(self, code: str, **params):
        super().__init__(PROBLEMS[code].format(**params))
        self.code, self.params = code, params


@dataclass(frozen=True)
class CellError:
    file: str
    row: int
    column: str
    code: str  # one of PROBLEMS
    params: dict = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return PROBLEMS[self.code].format(**self.params)

    def __str__(self) -> str:
        return f"{self.file}, row {self.row}, column {self.column}: {self.reason}"


def _text(limit: int) -> Callable[[Any], str]:
    def read(value: Any) -> str:
        text = " ".join(str(value).split())
        if len(text) > limit:
            raise CellProblem("too_long", limit=limit)
        if "\x00" in text:
            raise CellProblem("nul_character")
        return text

    return read


def _choice(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def read(value: Any) -> str:
        text = str(value).strip()
        if text not in choices and text.upper() not in choices:
            raise CellProblem("not_a_choice", value=str(value), choices=", ".join(choices))
        return text if text in choices else text.upper()

    return read


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for parse in (date.fromisoformat, lambda t: datetime.strptime(t, "%d/%m/%Y").date()):
        try:
            return parse(text)
        except ValueError:
            continue
    raise CellProblem("not_a_date", value=text)


def _year(value: Any) -> int:
    try:
        year = int(str(value).strip().removesuffix(".0"))
    except ValueError:
        raise CellProblem("not_a_year", value=str(value)) from None
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise CellProblem("year_out_of_range", value=str(year), first=MIN_YEAR, last=MAX_YEAR)
    return year


@dataclass(frozen=True)
class Column:
    name: str
    read: Callable[[Any], Any]  # the cell's value to what is stored; ValueError says what is wrong
    required: bool = True


@dataclass(frozen=True)
class Reference:
    """Column `column` names a row of `target` that must exist: in the database, or (`same_kind`)
    on an earlier row of the same file."""

    column: str
    target: Any  # the ORM column referred to
    same_kind: bool = False


@dataclass(frozen=True)
class Kind:
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # unique in the file and new to the database
    existing: Any  # the ORM columns of the key in the database
    references: tuple[Reference, ...]
    rows: Callable[[dict], list[tuple[Any, dict]]]  # (model, values) to insert for one row
    rule: Callable[[dict], Broken | None] = field(default=lambda row: None)


def _period(start: str, end: str) -> Callable[[dict], Broken | None]:
    def rule(row: dict) -> Broken | None:
        if row.get(start) and row.get(end) and row[end] < row[start]:
            return end, "ends_before_start", {"end": f"{row[end]:%d/%m/%Y}", "start": f"{row[start]:%d/%m/%Y}"}
        return None

    return rule


KINDS: dict[str, Kind] = {
    "jurisdictions": Kind(
        (
            Column("jurisdiction_id", _text(50)),
            Column("name", _text(200)),
            Column("level", _choice(JURISDICTION_LEVELS)),
            Column("parent_id", _text(50), required=False),
            Column("decision_suffix", _text(50)),
        ),
        ("jurisdiction_id",),
        (Jurisdiction.id,),
        (Reference("parent_id", Jurisdiction.id, same_kind=True),),
        lambda r: [
            (
                Jurisdiction,
                {
                    "id": r["jurisdiction_id"],
                    "name": r["name"],
                    "level": r["level"],
                    "parent_id": r["parent_id"],
                    "decision_suffix": r["decision_suffix"],
                },
            )
        ],
    ),
    "units": Kind(
        (
            Column("unit_id", _text(50)),
            Column("name", _text(300)),
            Column("jurisdiction_id", _text(50)),
            Column("parent_id", _text(50), required=False),
            Column("valid_from", _date, required=False),
            Column("valid_to", _date, required=False),
        ),
        ("unit_id",),
        (Unit.id,),
        (Reference("jurisdiction_id", Jurisdiction.id), Reference("parent_id", Unit.id, same_kind=True)),
        lambda r: [
            (
                Unit,
                {
                    "id": r["unit_id"],
                    "name": r["name"],
                    "jurisdiction_id": r["jurisdiction_id"],
                    "parent_id": r["parent_id"],
                    "valid_from": r["valid_from"],
                    "valid_to": r["valid_to"],
                },
            )
        ],
        _period("valid_from", "valid_to"),
    ),
    "campaigns": Kind(
        (
            Column("campaign_id", _text(50)),
            Column("jurisdiction_id", _text(50)),
            Column("name", _text(300)),
            Column("year", _year),
            Column("theme", _text(2000)),
            Column("registration_deadline", _date),
            Column("submission_deadline", _date, required=False),
        ),
        ("campaign_id",),
        (Campaign.id,),
        (Reference("jurisdiction_id", Jurisdiction.id),),
        lambda r: [
            (
                Campaign,
                {
                    "id": r["campaign_id"],
                    "jurisdiction_id": r["jurisdiction_id"],
                    "name": r["name"],
                    "year": r["year"],
                    "theme": r["theme"],
                    "registration_deadline": r["registration_deadline"],
                    "submission_deadline": r["submission_deadline"],
                },
            )
        ],
        _period("registration_deadline", "submission_deadline"),
    ),
    "successions": Kind(
        (Column("successor_id", _text(50)), Column("predecessor_id", _text(50)), Column("since", _date)),
        ("successor_id", "predecessor_id"),
        (UnitSuccession.successor_id, UnitSuccession.predecessor_id),
        (Reference("successor_id", Unit.id), Reference("predecessor_id", Unit.id)),
        lambda r: [
            (
                UnitSuccession,
                {"successor_id": r["successor_id"], "predecessor_id": r["predecessor_id"], "since": r["since"]},
            )
        ],
        lambda r: ("predecessor_id", "succeeds_itself", {}) if r["successor_id"] == r["predecessor_id"] else None,
    ),
    "people": Kind(
        (
            Column("person_id", _text(36)),
            Column("full_name", _text(200)),
            Column("unit_id", _text(50)),
            Column("recruited_on", _date),
            Column("position", _text(200), required=False),
            Column("gender", _choice(GENDERS), required=False),
            Column("born_on", _date, required=False),
        ),
        ("person_id",),
        (Person.id,),
        (Reference("unit_id", Unit.id),),
        lambda r: [
            (
                Person,
                {
                    "id": r["person_id"],
                    "full_name": r["full_name"],
                    "unit_id": r["unit_id"],
                    "recruited_on": r["recruited_on"],
                    "gender": r["gender"],
                    "born_on": r["born_on"],
                },
            ),
            (
                Employment,
                {
                    "person_id": r["person_id"],
                    "unit_id": r["unit_id"],
                    "position": r["position"],
                    "started_on": r["recruited_on"],
                },
            ),
        ],
    ),
    "employment": Kind(
        (
            Column("person_id", _text(36)),
            Column("unit_id", _text(50)),
            Column("position", _text(200), required=False),
            Column("started_on", _date),
            Column("ended_on", _date, required=False),
        ),
        ("person_id", "unit_id", "started_on"),
        (Employment.person_id, Employment.unit_id, Employment.started_on),
        (Reference("person_id", Person.id), Reference("unit_id", Unit.id)),
        lambda r: [
            (
                Employment,
                {
                    "person_id": r["person_id"],
                    "unit_id": r["unit_id"],
                    "position": r["position"],
                    "started_on": r["started_on"],
                    "ended_on": r["ended_on"],
                },
            )
        ],
        _period("started_on", "ended_on"),
    ),
    "ratings": Kind(
        (Column("person_id", _text(36)), Column("year", _year), Column("rating", _choice(RATINGS))),
        ("person_id", "year"),
        (PerformanceRating.person_id, PerformanceRating.year),
        (Reference("person_id", Person.id),),
        lambda r: [(PerformanceRating, {"person_id": r["person_id"], "year": r["year"], "rating": r["rating"]})],
    ),
    "initiatives": Kind(
        (
            Column("person_id", _text(36)),
            Column("year", _year),
            Column("scope", _choice(INITIATIVE_SCOPES)),
            Column("title", _text(500)),
            Column("document_number", _text(60), required=False),
            Column("document_date", _date, required=False),
            Column("issued_by", _text(200), required=False),
        ),
        ("person_id", "year", "title"),
        (Initiative.person_id, Initiative.year, Initiative.title),
        (Reference("person_id", Person.id),),
        lambda r: [(Initiative, {name: r[name] for name in INITIATIVE_FIELDS})],
    ),
    # Awards received before thidua kept the register (older decisions, other deciders).
    "awards": Kind(
        (
            Column("subject_kind", _choice((SUBJECT_PERSON, SUBJECT_UNIT))),
            Column("subject_id", _text(50)),
            Column("year", _year),
            Column("award_code", _text(30)),
            Column("decision_code", _text(60)),
            Column("decided_on", _date),
            Column("decider_level", _text(30), required=False),
            Column("counts_for_merit", _choice(("yes", "no"))),
        ),
        ("subject_kind", "subject_id", "year", "award_code"),
        (
            AchievementRecord.subject_kind,
            AchievementRecord.subject_id,
            AchievementRecord.year,
            AchievementRecord.award_code,
        ),
        (),
        lambda r: [
            (
                AchievementRecord,
                {
                    "subject_kind": r["subject_kind"],
                    "subject_id": r["subject_id"],
                    "year": r["year"],
                    "award_code": r["award_code"],
                    "decision_code": r["decision_code"],
                    "decided_on": r["decided_on"],
                    "decider_level": r["decider_level"],
                    "counts_for_merit": r["counts_for_merit"] == "yes",
                },
            )
        ],
    ),
    "restrictions": Kind(
        (
            Column("subject_kind", _choice((SUBJECT_PERSON, SUBJECT_UNIT))),
            Column("subject_id", _text(50)),
            Column("kind", _choice(RESTRICTION_KINDS)),
            Column("started_on", _date),
            Column("ended_on", _date, required=False),
            Column("severity", _text(30), required=False),
            Column("source", _text(200), required=False),
        ),
        ("subject_kind", "subject_id", "kind", "started_on"),
        (Restriction.subject_kind, Restriction.subject_id, Restriction.kind, Restriction.started_on),
        (),
        lambda r: [
            (
                Restriction,
                {
                    "subject_kind": r["subject_kind"],
                    "subject_id": r["subject_id"],
                    "kind": r["kind"],
                    "started_on": r["started_on"],
                    "ended_on": r["ended_on"],
                    "severity": r["severity"],
                    "source": r["source"],
                },
            )
        ],
        _period("started_on", "ended_on"),
    ),
}

# What each kind holds now, as rows of its template (for reading and editing offline; a people
# file's position is that of the person's open employment).
_OPEN_POSITION = (
    select(func.max(Employment.position))
    .where(Employment.person_id == Person.id, Employment.ended_on.is_(None))
    .scalar_subquery()
)
EXPORTS = {
    "jurisdictions": select(
        Jurisdiction.id, Jurisdiction.name, Jurisdiction.level, Jurisdiction.parent_id, Jurisdiction.decision_suffix
    ).order_by(Jurisdiction.id),
    "units": select(Unit.id, Unit.name, Unit.jurisdiction_id, Unit.parent_id, Unit.valid_from, Unit.valid_to).order_by(
        Unit.id
    ),
    "campaigns": select(
        Campaign.id,
        Campaign.jurisdiction_id,
        Campaign.name,
        Campaign.year,
        Campaign.theme,
        Campaign.registration_deadline,
        Campaign.submission_deadline,
    ).order_by(Campaign.id),
    "successions": select(UnitSuccession.successor_id, UnitSuccession.predecessor_id, UnitSuccession.since).order_by(
        UnitSuccession.successor_id, UnitSuccession.predecessor_id
    ),
    "people": select(
        Person.id, Person.full_name, Person.unit_id, Person.recruited_on, _OPEN_POSITION, Person.gender, Person.born_on
    ).order_by(Person.id),
    "employment": select(
        Employment.person_id, Employment.unit_id, Employment.position, Employment.started_on, Employment.ended_on
    ).order_by(Employment.person_id, Employment.started_on),
    "ratings": select(PerformanceRating.person_id, PerformanceRating.year, PerformanceRating.rating).order_by(
        PerformanceRating.person_id, PerformanceRating.year
    ),
    "initiatives": select(*(getattr(Initiative, name) for name in INITIATIVE_FIELDS)).order_by(
        Initiative.person_id, Initiative.year
    ),
    "awards": select(
        AchievementRecord.subject_kind,
        AchievementRecord.subject_id,
        AchievementRecord.year,
        AchievementRecord.award_code,
        AchievementRecord.decision_code,
        AchievementRecord.decided_on,
        AchievementRecord.decider_level,
        case((AchievementRecord.counts_for_merit.is_(True), "yes"), else_="no"),
    )
    .where(AchievementRecord.revoked_on.is_(None))
    .order_by(AchievementRecord.subject_kind, AchievementRecord.subject_id, AchievementRecord.year),
    "restrictions": select(
        Restriction.subject_kind,
        Restriction.subject_id,
        Restriction.kind,
        Restriction.started_on,
        Restriction.ended_on,
        Restriction.severity,
        Restriction.source,
    ).order_by(Restriction.subject_kind, Restriction.subject_id, Restriction.started_on),
}


def export(session: Session, kind: str) -> bytes:
    """What the database holds of `kind`, as a workbook of its template (rows streamed)."""
    header = [column.name for column in _kind(kind).columns]
    rows = session.execute(EXPORTS[kind].execution_options(yield_per=BATCH))
    return workbook(header, (list(row) for row in rows), title=kind)


@dataclass(frozen=True)
class ImportReport:
    kind: str
    file: str
    rows: int
    errors: tuple[CellError, ...]
    imported: bool


def template(kind: str) -> bytes:
    """An empty workbook of the kind: its header row."""
    return workbook([column.name for column in _kind(kind).columns], (), title=kind)


def workbook(header: list[str], rows: Iterable[list], title: str = "records") -> bytes:
    """An xlsx workbook of one sheet: `header` (bold, frozen) and then `rows` (written as they
    come, so a large file is never held as cells in memory)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.freeze_panes = "A2"
    cells = [WriteOnlyCell(sheet, value=name) for name in header]
    for cell in cells:
        cell.font = Font(bold=True)
    sheet.append(cells)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def check_and_import(session: Session, kind: str, file_name: str, content: bytes, *, dry_run: bool) -> ImportReport:
    """Read and check every row; write them all (when not a dry run and nothing is wrong) or none."""
    spec = _kind(kind)
    rows, errors = _read(file_name, content, spec.columns)
    if not errors:
        errors = _check(session, spec, file_name, rows)
    imported = not errors and not dry_run
    if imported:
        _write(session, spec, rows)
    return ImportReport(kind, file_name, len(rows), tuple(errors[:1000]), imported)


def _kind(kind: str) -> Kind:
    if kind not in KINDS:
        raise DomainError("unknown_import_kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    return KINDS[kind]


def _sheet_rows(file_name: str, content: bytes) -> Iterator[tuple]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        if sum(info.file_size for info in archive.infolist()) > MAX_UNCOMPRESSED_BYTES:
            raise DomainError(
                "import_file_invalid", f"{file_name}: larger than {MAX_UNCOMPRESSED_BYTES} bytes unpacked"
            )
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise DomainError("import_file_invalid", f"{file_name}: not an xlsx workbook ({exc})") from None
    try:
        yield from workbook.worksheets[0].iter_rows(values_only=True)
    finally:
        workbook.close()


def _read(file_name: str, content: bytes, columns: tuple[Column, ...]) -> tuple[list[dict], list[CellError]]:
    """The rows as dicts by column name, or the errors of every bad cell (the header's first)."""
    lines = _sheet_rows(file_name, content)
    header = [str(cell).strip() if cell is not None else "" for cell in next(lines, ())]
    expected = [column.name for column in columns]
    if header[: len(expected)] != expected:
        return [], [CellError(file_name, 1, "-", "wrong_header", {"columns": ", ".join(expected)})]
    rows, errors = [], []
    for number, line in enumerate(lines, start=2):
        if number > MAX_ROWS + 1:
            errors.append(CellError(file_name, number, "-", "too_many_rows", {"limit": MAX_ROWS}))
            break
        cells = list(line[: len(columns)]) + [None] * (len(columns) - len(line))
        if all(cell is None or str(cell).strip() == "" for cell in cells):
            continue
        row = {"_row": number}
        for column, cell in zip(columns, cells, strict=True):
            if cell is None or str(cell).strip() == "":
                if column.required:
                    errors.append(CellError(file_name, number, column.name, "empty"))
                row[column.name] = None
                continue
            try:
                row[column.name] = column.read(cell)
            except CellProblem as exc:
                errors.append(CellError(file_name, number, column.name, exc.code, exc.params))
        rows.append(row)
    return rows, errors


def _existing(session: Session, columns: tuple, values: set[tuple]) -> set[tuple]:
    """Which of `values` (tuples over `columns`) are in the database, a batch at a time."""
    found: set[tuple] = set()
    ordered = sorted(values, key=repr)
    key = columns[0] if len(columns) == 1 else tuple_(*columns)
    for start in range(0, len(ordered), BATCH):
        batch = ordered[start : start + BATCH]
        wanted = [value[0] for value in batch] if len(columns) == 1 else batch
        found |= {tuple(row) for row in session.execute(select(*columns).where(key.in_(wanted)))}
    return found


def _check(session: Session, spec: Kind, file_name: str, rows: list[dict]) -> list[CellError]:
    errors: list[CellError] = []
    keys = {tuple(row[name] for name in spec.key) for row in rows}
    known = _existing(session, spec.existing, keys)
    targets = {
        reference.column: _existing(
            session, (reference.target,), {(row[reference.column],) for row in rows if row[reference.column]}
        )
        for reference in spec.references
    }
    subjects = _subjects(session, rows) if "subject_kind" in {c.name for c in spec.columns} else set()
    seen: dict[tuple, int] = {}
    created: set[str] = set()
    for row in rows:
        number, key = row["_row"], tuple(row[name] for name in spec.key)
        label = " ".join(str(part) for part in key)
        if key in seen:
            errors.append(CellError(file_name, number, spec.key[-1], "repeated", {"value": label, "row": seen[key]}))
        elif key in known:
            errors.append(CellError(file_name, number, spec.key[-1], "already_recorded", {"value": label}))
        seen.setdefault(key, number)
        for reference in spec.references:
            value = row[reference.column]
            if value and (value,) not in targets[reference.column] and not (reference.same_kind and value in created):
                errors.append(CellError(file_name, number, reference.column, "unknown_reference", {"value": value}))
        if subjects and (row["subject_kind"], row["subject_id"]) not in subjects:
            errors.append(CellError(file_name, number, "subject_id", "unknown_reference", {"value": row["subject_id"]}))
        if broken := spec.rule(row):
            column, code, params = broken
            errors.append(CellError(file_name, number, column, code, params))
        created.add(str(key[0]))
    return errors


def _subjects(session: Session, rows: list[dict]) -> set[tuple[str, str]]:
    """The (person | unit, id) pairs of restriction rows that exist."""
    people = _existing(session, (Person.id,), {(r["subject_id"],) for r in rows if r["subject_kind"] == SUBJECT_PERSON})
    units = _existing(session, (Unit.id,), {(r["subject_id"],) for r in rows if r["subject_kind"] == SUBJECT_UNIT})
    return {(SUBJECT_PERSON, p) for (p,) in people} | {(SUBJECT_UNIT, u) for (u,) in units}


def _write(session: Session, spec: Kind, rows: list[dict]) -> None:
    """Insert in file order, a batch at a time per model (a row may refer to an earlier one)."""
    pending: dict[Any, list[dict]] = {}
    for row in rows:
        for model, values in spec.rows(row):
            pending.setdefault(model, []).append(values)
        if sum(map(len, pending.values())) >= BATCH:
            _flush(session, pending)
    _flush(session, pending)


def _flush(session: Session, pending: dict[Any, list[dict]]) -> None:
    for model, values in pending.items():
        if values:
            session.execute(insert(model), values)
    pending.clear()
