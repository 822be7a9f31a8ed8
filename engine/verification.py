"""Verification of the whole history: every instance chain against its events and recorded
head, the chain of days, each day's heads against the stored events (or the removal record of a
removed instance), the chain of removal records and an exported copy of the digests."""

from __future__ import annotations

import gc
import json
import json.scanner
import multiprocessing
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable, Iterator

from sqlalchemy import String, Text, cast, create_engine, select, type_coerce
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from .digests import digest_hash
from .history import (
    DIGESTS,
    EVENTS,
    GENESIS_HASH,
    INSTANCES,
    REMOVALS,
    BrokenLink,
    canonical_json,
    event_digest,
    removal_hash,
)

# Kinds of AuditProblem: the chain of days, a day's heads against the stored events, the chain of
# removal records, and an exported copy of the digests against the database.
DIGEST, HEAD, REMOVAL, EXPORT = "digest", "head", "removal", "export"


@dataclass(frozen=True)
class AuditProblem:
    """A broken link outside the instance chains, named by its day, instance and event, or removal."""

    kind: str
    reason: str
    day: date | None = None
    instance_id: str | None = None
    seq: int | None = None
    removal_id: int | None = None

    def __str__(self) -> str:
        kind = {DIGEST: "daily digest", HEAD: "daily digest", REMOVAL: "removal record", EXPORT: "exported digest"}
        parts = [" ".join([kind[self.kind], *(str(v) for v in (self.day, self.removal_id) if v is not None)])]
        if self.instance_id is not None:
            parts.append(f"instance {self.instance_id}")
        if self.seq is not None:
            parts.append(f"event {self.seq}")
        return f"{', '.join(parts)}: {self.reason}"


@dataclass(frozen=True)
class VerificationReport:
    """`broken`: the first broken link of each broken instance chain; `problems`: the first broken
    link of the chain of days, of the removal records and of an exported file, and the first
    digest head of each instance that does not match its stored event or removal record."""

    instances: int
    events: int
    broken: tuple[BrokenLink, ...]
    days: int = 0
    removals: int = 0
    problems: tuple[AuditProblem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.broken and not self.problems


_PARTITION_ROWS = 5000


def verify_all(session: Session, *, exported: Iterable[Any] | None = None, workers: int = 1) -> VerificationReport:
    """Re-check every instance's chain against its events and its recorded head, the chain of days,
    each day's heads against the stored events (or, for a removed instance, its removal record),
    the chain of removal records and, when given, the lines of an exported digest file (parsed
    JSON) against the database. Events are read in one pass in stored order. With `workers` > 1
    (a file or server database only) the instances are split by id across that many processes,
    each reading its own snapshot, and `session` only gives the database's address."""
    url = session.get_bind().url
    if workers > 1 and not (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")):
        address = url.render_as_string(hide_password=False)
        with _reading(address) as connection:
            return _verify(connection, exported, workers, address)
    return _verify(session.connection(**_snapshot(session)), exported, 1, None)


def _verify(connection: Connection, exported: Iterable[Any] | None, workers: int, url: str | None):
    digests = connection.execute(select(DIGESTS).order_by(DIGESTS.c.day)).all()
    problems = _check_days(digests)
    if exported is not None:
        problems += _check_export(exported, digests)
    wanted: dict[tuple[str, int], list] = {}
    for digest in digests:
        for instance_id, seq, head_hash in digest.heads:
            wanted.setdefault((instance_id, seq), []).append((digest.day, head_hash))
    if workers > 1:
        results = _verify_in_processes(connection, url, workers, wanted)
        connection.rollback()  # a new snapshot for the removal records: see below
    else:
        results = [_verify_range(connection, None, None, wanted)]

    # Read after the scan: a removal made meanwhile explains the heads the scan could not find.
    removals = connection.execute(select(REMOVALS).order_by(REMOVALS.c.id)).all()
    problems += _check_removals(removals, digests)
    removed = {row.instance_id: row for row in removals}
    heads: dict[str, AuditProblem] = {}
    for result in results:
        for problem in result.problems:
            heads.setdefault(problem.instance_id, problem)
        for (instance_id, seq), expected in result.unseen.items():
            for day, head_hash in expected:
                problem = _unseen_head(removed.get(instance_id), instance_id, seq, day, head_hash)
                if problem and (instance_id not in heads or problem.day < heads[instance_id].day):
                    heads[instance_id] = problem
    problems += sorted(heads.values(), key=lambda problem: (problem.day, problem.instance_id))
    broken = sorted((link for result in results for link in result.broken), key=lambda link: link.instance_id)
    return VerificationReport(
        instances=sum(result.instances for result in results),
        events=sum(result.events for result in results),
        broken=tuple(broken),
        days=len(digests),
        removals=len(removals),
        problems=tuple(problems),
    )


def _snapshot(session: Session) -> dict:
    """On PostgreSQL, read everything from one snapshot: a chain appended to while it is read
    would otherwise look broken."""
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        return {"execution_options": {"isolation_level": "REPEATABLE READ"}}
    return {}


def _check_days(digests: list) -> list[AuditProblem]:
    """The first broken link of the chain of days: a missing day, a wrong link or edited content."""
    prev_hash, prev_day = GENESIS_HASH, None
    for digest in digests:
        day = digest.day
        if prev_day is not None and day != prev_day + timedelta(days=1):
            return [
                AuditProblem(DIGEST, f"missing (deleted): {prev_day} is followed by {day}", prev_day + timedelta(1))
            ]
        if digest.prev_hash != prev_hash:
            if prev_day is None:
                return [
                    AuditProblem(
                        DIGEST, "missing (deleted): the first digest links to an earlier day", day - timedelta(1)
                    )
                ]
            return [AuditProblem(DIGEST, "does not link to the previous day's digest", day)]
        if digest_hash(day, digest.heads, digest.events, digest.removal, digest.prev_hash) != digest.hash:
            return [AuditProblem(DIGEST, "content does not match its hash (edited)", day)]
        if digest.instances != len(digest.heads):
            return [AuditProblem(DIGEST, f"counts {digest.instances} instances for {len(digest.heads)} heads", day)]
        prev_hash, prev_day = digest.hash, day
    return []


def _check_export(lines: Iterable[Any], digests: list) -> list[AuditProblem]:
    """The first exported day that the database lost or changed, or that the file itself garbles."""
    stored = {digest.day: digest for digest in digests}
    for number, line in enumerate(lines, 1):
        try:
            day = date.fromisoformat(line["day"])
            expected = digest_hash(day, line["heads"], line["events"], line["removal"], line["prev_hash"])
            file_hash = line["hash"]
        except (TypeError, KeyError, ValueError, AttributeError):
            return [AuditProblem(EXPORT, f"line {number} of the file is not a digest")]
        if expected != file_hash:
            return [AuditProblem(EXPORT, f"line {number} of the file does not match its hash (damaged)", day)]
        digest = stored.get(day)
        if digest is None:
            return [AuditProblem(EXPORT, "in the exported file but not in the database (deleted)", day)]
        if digest.hash != file_hash:
            return [AuditProblem(EXPORT, "the database's digest differs from the exported one (changed)", day)]
    return []


def _check_removals(removals: list, digests: list) -> list[AuditProblem]:
    """The first broken link of the chain of removal records, and the first day whose last
    removal record is missing or changed."""
    problems = []
    prev_hash = GENESIS_HASH
    for row in removals:
        if row.prev_hash != prev_hash:
            problems.append(_removal_problem(row, "does not link to the previous removal record (one was deleted)"))
            break
        if removal_hash(row._mapping) != row.hash:
            problems.append(_removal_problem(row, "content does not match its hash (edited)"))
            break
        prev_hash = row.hash
    by_id = {row.id: row for row in removals}
    for digest in digests:
        if digest.removal is None:
            continue
        removal_id, removal_hash_ = digest.removal
        row = by_id.get(removal_id)
        if row is None or row.hash != removal_hash_:
            state = "missing (deleted)" if row is None else "changed since that day"
            problems.append(
                AuditProblem(REMOVAL, f"the day's last removal record is {state}", digest.day, None, None, removal_id)
            )
            break
    return problems


def _removal_problem(row, reason: str) -> AuditProblem:
    return AuditProblem(REMOVAL, reason, instance_id=row.instance_id, removal_id=row.id)


def _unseen_head(removal, instance_id: str, seq: int, day: date, head_hash: str) -> AuditProblem | None:
    """A digest head whose event the scan did not find: fine if retention removed the instance
    with at least that event (and, for its last event, that very hash); a problem otherwise."""
    if removal is None:
        return AuditProblem(HEAD, "the event is missing (deleted)", day, instance_id, seq)
    if seq > removal.last_seq:
        return AuditProblem(HEAD, f"the removal record ends at event {removal.last_seq}", day, instance_id, seq)
    if seq == removal.last_seq and head_hash != removal.last_hash:
        return AuditProblem(HEAD, "the removal record's last hash differs from the day's digest", day, instance_id, seq)
    return None


@dataclass
class _RangeResult:
    instances: int
    events: int
    broken: list[BrokenLink]
    problems: list[AuditProblem]  # digest heads whose stored event differs
    unseen: dict[tuple[str, int], list]  # digest heads in this range whose events were not found


def _in_range(column, lo: str | None, hi: str | None) -> list:
    return ([column >= lo] if lo is not None else []) + ([column < hi] if hi is not None else [])


def _sqlite_iso(raw: str) -> str:
    """The isoformat of a UTC time as SQLAlchemy stores it on SQLite (YYYY-MM-DD HH:MM:SS.ffffff),
    without building a datetime."""
    if len(raw) == 26 and raw[10] == " ":
        return f"{raw[:10]}T{raw[11:]}+00:00"
    value = datetime.fromisoformat(raw)
    value = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    return value.isoformat(timespec="microseconds")


_SCAN = json.scanner.make_scanner(json.JSONDecoder())


def _decode(scan, text: str):
    """json.loads for text json.dumps wrote (no surrounding blanks)."""
    try:
        value, end = scan(text, 0)
    except StopIteration:
        return json.loads(text)  # raises the usual error
    return value if end == len(text) else json.loads(text)


def _datetime_iso(value: datetime) -> str:
    return value.isoformat(timespec="microseconds")


def _verify_range(connection: Connection, lo: str | None, hi: str | None, wanted: dict) -> _RangeResult:
    """Verify the chains of the instances whose ids are in [lo, hi) in one pass over their events in
    stored (id) order, checking the digest heads in `wanted` ({(instance, seq): [(day, hash)]}, the
    heads of these instances; consumed) on the way."""
    heads = {
        row.id: (row.history_seq, row.history_hash)
        for row in connection.execute(
            select(INSTANCES.c.id, INSTANCES.c.history_seq, INSTANCES.c.history_hash).where(
                *_in_range(INSTANCES.c.id, lo, hi)
            )
        )
    }
    sqlite = connection.dialect.name == "sqlite"
    occurred = type_coerce(EVENTS.c.occurred_at, String) if sqlite else EVENTS.c.occurred_at
    iso = _sqlite_iso if sqlite else _datetime_iso
    # The data as stored, decoded here with the C scanner: a third of the cost of json.loads.
    data_text = type_coerce(EVENTS.c.data, Text) if sqlite else cast(EVENTS.c.data, Text)
    query = (
        select(
            EVENTS.c.instance_id,
            EVENTS.c.seq,
            EVENTS.c.type,
            EVENTS.c.actor,
            EVENTS.c.task_id,
            EVENTS.c.element_id,
            data_text,
            EVENTS.c.reason,
            occurred,
            EVENTS.c.prev_hash,
            EVENTS.c.hash,
        )
        .where(*_in_range(EVENTS.c.instance_id, lo, hi))
        .order_by(EVENTS.c.id)
    )
    chains: dict[str, tuple[int, str]] = {}  # instance: (next seq, hash so far) of an intact chain
    failed: dict[str, BrokenLink] = {}
    problems: list[AuditProblem] = []
    events = 0
    # The scan allocates a tuple or two per event and no cycles: the collector would only walk
    # the growing maps again and again (a tenth of the time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        for rows in connection.execution_options(yield_per=_PARTITION_ROWS).execute(query).partitions():
            events += len(rows)
            _check_events(rows, iso, wanted, chains, failed, problems)
    finally:
        if collecting:
            gc.enable()
    broken = []
    for instance_id, head in heads.items():
        if instance_id in failed:
            broken.append(failed[instance_id])
            continue
        next_seq, chain_hash = chains.get(instance_id) or (1, GENESIS_HASH)
        if head != (next_seq - 1, chain_hash):
            reason = f"chain ends before the instance's last event {head[0]} (deleted)"
            broken.append(BrokenLink(instance_id, next_seq, reason))
    return _RangeResult(len(heads), events, broken, problems, wanted)  # what is left of `wanted` was not seen


def _check_events(rows, iso, wanted: dict, chains: dict, failed: dict, problems: list) -> None:
    """Check events (in stored order) against their chains so far and the digest heads wanted."""
    digest, decode, scan, encode = event_digest, _decode, _SCAN, canonical_json
    for instance_id, seq, type_, actor, task_id, element_id, data, reason, at, prev_hash, stored in rows:
        expected = wanted.pop((instance_id, seq), None)
        if expected is not None:
            for day, head_hash in expected:
                if head_hash != stored:
                    reason_ = "the stored event's hash differs from the day's digest"
                    problems.append(AuditProblem(HEAD, reason_, day, instance_id, seq))
        if instance_id in failed:
            continue
        next_seq, chain_hash = chains.get(instance_id) or (1, GENESIS_HASH)
        if seq != next_seq:
            link = BrokenLink(instance_id, seq, f"expected event {next_seq} here (deleted or reordered)")
        elif prev_hash != chain_hash:
            link = BrokenLink(instance_id, seq, "does not link to the previous event's hash")
        else:
            # Many events carry no data ({}): their canonical text is the stored one.
            data = data if data == "{}" else encode(decode(scan, data))
            if digest(instance_id, seq, type_, actor, task_id, element_id, data, reason, iso(at), prev_hash) == stored:
                chains[instance_id] = (seq + 1, stored)
                continue
            link = BrokenLink(instance_id, seq, "content does not match its hash (edited)")
        failed[instance_id] = link


def _verify_in_processes(connection: Connection, url: str, workers: int, wanted: dict) -> list[_RangeResult]:
    """Split the instances at their id quantiles and verify each part in its own process."""
    ids = connection.scalars(select(INSTANCES.c.id).order_by(INSTANCES.c.id)).all()
    bounds = sorted({ids[len(ids) * n // workers] for n in range(1, workers)}) if ids else []
    ranges = list(zip([None, *bounds], [*bounds, None], strict=True))
    tasks = [
        (
            url,
            lo,
            hi,
            {
                key: heads
                for key, heads in wanted.items()
                if (lo is None or key[0] >= lo) and (hi is None or key[0] < hi)
            },
        )
        for lo, hi in ranges
    ]
    # Forked: no imports to repeat, and no main module run again. The children open their own
    # connections and leave the parent's alone (they end with os._exit, closing nothing).
    with multiprocessing.get_context("fork").Pool(len(tasks)) as pool:
        return pool.starmap(_verify_range_at, tasks)


@contextmanager
def _reading(url: str) -> Iterator[Connection]:
    """A connection of its own to `url`, for long reads (its engine disposed afterwards)."""
    database = _reader(url)
    try:
        with database.connect() as connection:
            yield connection
    finally:
        database.dispose()


def _reader(url: str):
    """An engine for long reads that takes no write lock: one snapshot per transaction."""
    database = create_engine(url, poolclass=NullPool)
    if database.dialect.name != "sqlite":
        return database.execution_options(isolation_level="REPEATABLE READ")

    @sqlalchemy_event.listens_for(database, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # SQLAlchemy's begin below, not pysqlite's

    @sqlalchemy_event.listens_for(database, "begin")
    def on_begin(connection):
        connection.exec_driver_sql("BEGIN")  # deferred: a read snapshot, no write lock

    return database


def _verify_range_at(url: str, lo: str | None, hi: str | None, wanted: dict) -> _RangeResult:
    """`_verify_range` in a worker process, on its own connection and snapshot."""
    with _reading(url) as connection:
        return _verify_range(connection, lo, hi, wanted)
