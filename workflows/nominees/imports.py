"""Importing a province's people from xlsx workbooks, inside the caller's unit of work: one
template per kind (people with their unit and recruitment; yearly ratings), every row checked
before anything is written, so that a file with one bad cell imports nothing and its errors name
the file, row, column and reason. Workbooks are parsed with defusedxml (openpyxl uses it when it
is installed) after their uncompressed size is checked."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Iterator

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ..errors import DomainError
from ..org.models import Unit
from .models import RATINGS, Employment, PerformanceRating, Person

MAX_UNCOMPRESSED_BYTES = 400 * 1024 * 1024
MAX_ROWS = 1_000_000
MIN_YEAR, MAX_YEAR = 1945, 2100
BATCH = 5000


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    read: Callable[[Any], Any]  # the cell's value to what is stored; ValueError names what is wrong


@dataclass(frozen=True)
class CellError:
    file: str
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}, row {self.row}, column {self.column}: {self.reason}"


def _text(limit: int) -> Callable[[Any], str]:
    def read(value: Any) -> str:
        text = " ".join(str(value).split())
        if len(text) > limit:
            raise ValueError(f"longer than {limit} characters")
        if "\x00" in text:
            raise ValueError("contains a NUL character")
        return text

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
    raise ValueError(f"{text!r} is not a date (dd/mm/yyyy or yyyy-mm-dd)")


def _year(value: Any) -> int:
    try:
        year = int(str(value).strip().removesuffix(".0"))
    except ValueError:
        raise ValueError(f"{value!r} is not a year") from None
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"{year} is not between {MIN_YEAR} and {MAX_YEAR}")
    return year


def _rating(value: Any) -> str:
    rating = str(value).strip().upper()
    if rating not in RATINGS:
        raise ValueError(f"{value!r} is not one of {', '.join(RATINGS)}")
    return rating


KINDS: dict[str, tuple[Column, ...]] = {
    "people": (
        Column("person_id", True, _text(36)),
        Column("full_name", True, _text(200)),
        Column("unit_id", True, _text(50)),
        Column("recruited_on", True, _date),
        Column("position", False, _text(200)),
    ),
    "ratings": (
        Column("person_id", True, _text(36)),
        Column("year", True, _year),
        Column("rating", True, _rating),
    ),
}


@dataclass(frozen=True)
class ImportReport:
    kind: str
    file: str
    rows: int
    errors: tuple[CellError, ...]
    imported: bool


def template(kind: str) -> bytes:
    """An empty workbook of the kind: its header row, bold and frozen."""
    columns = _columns(kind)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = kind
    sheet.append([column.name for column in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def check_and_import(session: Session, kind: str, file_name: str, content: bytes, *, dry_run: bool) -> ImportReport:
    """Read and check every row; write them all (when not a dry run and nothing is wrong) or none."""
    columns = _columns(kind)
    rows, errors = _read(file_name, content, columns)
    if not errors:
        errors = CHECKS[kind](session, file_name, rows)
    imported = not errors and not dry_run
    if imported:
        WRITERS[kind](session, rows)
    return ImportReport(kind, file_name, len(rows), tuple(errors[:1000]), imported)


def _columns(kind: str) -> tuple[Column, ...]:
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
        reason = f"the header row must be {', '.join(expected)} (download the template)"
        return [], [CellError(file_name, 1, "-", reason)]
    rows, errors = [], []
    for number, line in enumerate(lines, start=2):
        if number > MAX_ROWS + 1:
            errors.append(CellError(file_name, number, "-", f"more than {MAX_ROWS} rows"))
            break
        cells = list(line[: len(columns)]) + [None] * (len(columns) - len(line))
        if all(cell is None or str(cell).strip() == "" for cell in cells):
            continue
        row = {"_row": number}
        for column, cell in zip(columns, cells, strict=True):
            if cell is None or str(cell).strip() == "":
                if column.required:
                    errors.append(CellError(file_name, number, column.name, "is empty"))
                row[column.name] = None
                continue
            try:
                row[column.name] = column.read(cell)
            except ValueError as exc:
                errors.append(CellError(file_name, number, column.name, str(exc)))
        rows.append(row)
    return rows, errors


def _existing(session: Session, column, values: set[str]) -> set[str]:
    found: set[str] = set()
    ordered = sorted(values)
    for start in range(0, len(ordered), BATCH):
        found |= set(session.scalars(select(column).where(column.in_(ordered[start : start + BATCH]))))
    return found


def _check_people(session: Session, file_name: str, rows: list[dict]) -> list[CellError]:
    errors, seen = [], {}
    units = set(session.scalars(select(Unit.id)))
    known = _existing(session, Person.id, {row["person_id"] for row in rows})
    for row in rows:
        number, person_id = row["_row"], row["person_id"]
        if person_id in seen:
            errors.append(CellError(file_name, number, "person_id", f"{person_id} is also on row {seen[person_id]}"))
        elif person_id in known:
            errors.append(CellError(file_name, number, "person_id", f"{person_id} is already registered"))
        seen.setdefault(person_id, number)
        if row["unit_id"] not in units:
            errors.append(CellError(file_name, number, "unit_id", f"no unit {row['unit_id']}"))
    return errors


def _write_people(session: Session, rows: list[dict]) -> None:
    people = [
        {"id": r["person_id"], "full_name": r["full_name"], "unit_id": r["unit_id"], "recruited_on": r["recruited_on"]}
        for r in rows
    ]
    employment = [
        {
            "person_id": r["person_id"],
            "unit_id": r["unit_id"],
            "position": r["position"],
            "started_on": r["recruited_on"],
        }
        for r in rows
    ]
    for start in range(0, len(rows), BATCH):
        session.execute(insert(Person), people[start : start + BATCH])
        session.execute(insert(Employment), employment[start : start + BATCH])


def _check_ratings(session: Session, file_name: str, rows: list[dict]) -> list[CellError]:
    errors, seen = [], {}
    people = _existing(session, Person.id, {row["person_id"] for row in rows})
    known, rated = sorted(people), set()
    for start in range(0, len(known), BATCH):
        rated |= {
            (person_id, year)
            for person_id, year in session.execute(
                select(PerformanceRating.person_id, PerformanceRating.year).where(
                    PerformanceRating.person_id.in_(known[start : start + BATCH])
                )
            )
        }
    for row in rows:
        number, key = row["_row"], (row["person_id"], row["year"])
        if row["person_id"] not in people:
            errors.append(CellError(file_name, number, "person_id", f"no person {row['person_id']}"))
        if key in seen:
            errors.append(CellError(file_name, number, "year", f"{key[0]} {key[1]} is also on row {seen[key]}"))
        elif key in rated:
            errors.append(CellError(file_name, number, "year", f"{key[0]} is already rated for {key[1]}"))
        seen.setdefault(key, number)
    return errors


def _write_ratings(session: Session, rows: list[dict]) -> None:
    ratings = [{"person_id": r["person_id"], "year": r["year"], "rating": r["rating"]} for r in rows]
    for start in range(0, len(ratings), BATCH):
        session.execute(insert(PerformanceRating), ratings[start : start + BATCH])


CHECKS = {"people": _check_people, "ratings": _check_ratings}
WRITERS = {"people": _write_people, "ratings": _write_ratings}
