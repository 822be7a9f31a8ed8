"""Realistic provinces at scale for the benchmarks: real nominations driven through the product's
services, then cloned in bulk.

    prepare(url, open_tasks=100_000, history_events=1_000_000) -> Dataset

On the demo province (Nam Định) the services leave nominations at every step of the ladder (each
with its open task) and take others to publication or rejection. Further provinces get units,
blocs and users with their roles and scopes. Each real nomination is then a template: its
process_instance (snapshot included), human_task, history_event and nomination rows are copied
with new ids (the instance's, the nomination's and every workflow task's, rewritten in the
snapshot too, so a clone can be completed like the original), moved to a random province, unit
and bloc, shifted in time, re-hashed with engine.history.link_events and bulk inserted. Open
clones come first, until there are `open_tasks` open tasks, then completed ones until there are
`history_events` events. Pending timer jobs are not cloned: no escalation storm on a scheduler.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import tempfile
import time
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, MetaData, create_engine, event, func, insert, select
from sqlalchemy.types import UserDefinedType

import engine
from engine import history, queries
from engine.history import NewEvent, link_events
from engine.models import HistoryEvent, HumanTask, ProcessInstance
from web.database import upgrade_database
from workflows.bootstrap import bootstrap
from workflows.council import sessions
from workflows.council.models import ItemVoter, SessionItem
from workflows.demo import province as demo
from workflows.demo.services import load_demo
from workflows.nominations import creation, steps
from workflows.nominations.models import Campaign, Nomination
from workflows.nominees import people
from workflows.nominees.models import AchievementRecord, Initiative, PerformanceRating
from workflows.org.models import Bloc, BlocMember, Jurisdiction, RoleAssignment, Unit, User

from . import throwaway_postgres

ROOT = Path(__file__).resolve().parents[1]
START = datetime(2022, 11, 1, 2, 0, tzinfo=UTC)  # the demo province's campaign
NOW = datetime(2022, 12, 12, 2, 0, tzinfo=UTC)  # the clones' "now": two weeks before the deadline
COUNCIL, PRESENT = "HDTDKT_NAM_DINH", ["chu.tich", "pho.chu.tich", "gd.noi.vu", "truong.ban", "gd.giao.duc"]
PRESENT += ["gd.y.te", "gd.tai.chinh", "ct.thanh.pho", "ct.hai.hau"]
BATCH = 1000  # clones per insert transaction
# A token of a template that a clone rewrites: an id (uuid) or an org scope.
TOKEN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?:unit|bloc|jurisdiction):\w+")


class MovableClock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def candidate(services) -> str:
    """A nurse who meets Bằng khen của Chủ tịch UBND tỉnh: good ratings, CSTDCS twice, 2 initiatives."""
    person_id = str(uuid.uuid4())
    with services.uow() as uow:
        session = uow.session
        people.add_person(
            session, person_id=person_id, full_name="Nguyễn Văn Thử", unit_id="SO_Y_TE", recruited_on=date(2012, 9, 1)
        )
        for year in (2020, 2021, 2022):
            session.add(PerformanceRating(person_id=person_id, year=year, rating="HTXSNV"))
        for year in (2021, 2022):
            for code in ("LDTT", "CSTDCS"):
                session.add(
                    AchievementRecord(
                        subject_kind="person", subject_id=person_id, year=year, award_code=code, counts_for_merit=True
                    )
                )
            session.add(Initiative(person_id=person_id, year=year, scope="unit", title="Sáng kiến cải tiến"))
        uow.commit()
    nomination = services.in_transaction(
        creation.create_nomination,
        "tdkt.y.te",
        campaign_id=demo.CAMPAIGN,
        award_code="BK_TINH",
        nominating_unit_id="SO_Y_TE",
        year=2022,
        person_id=person_id,
    )
    return nomination.id


def step(services, nomination_id: str, element: str, actor: str, data: dict | None = None) -> None:
    """Claim the open task `element` (as a reviewer does on opening it), then complete it."""
    with services.session_factory() as session:
        instance_id = session.get(Nomination, nomination_id).instance_id
        (task,) = [t for t in queries.open_tasks(session, instance_id=instance_id) if t.element_id == element]
    services.in_transaction(engine.claim_task, task.id, actor)
    services.in_transaction(steps.complete_step, actor, task.id, data or {})


def submitted(services, clock: MovableClock, nomination_id: str) -> None:
    """Drafted by the unit officer, signed by the unit head: waiting for the bloc."""
    step(services, nomination_id, "draft_nomination", "tdkt.y.te", {"summary": "Hoàn thành xuất sắc nhiệm vụ"})
    clock.now += timedelta(hours=3)
    step(services, nomination_id, "sign_nomination", "gd.y.te")


def appraised(services, clock: MovableClock, nomination_id: str, returned: bool = False) -> None:
    """From the bloc's approval to the board's appraisal (returned once for supplement if asked)."""
    clock.now += timedelta(hours=5)
    step(services, nomination_id, "bloc_review", "gd.giao.duc", {"approved": True})
    if returned:
        step(
            services,
            nomination_id,
            "receive_nomination",
            "chuyen.vien.1",
            {"complete": False, "return_reason": "Thiếu"},
        )
        step(services, nomination_id, "supplement_nomination", "tdkt.y.te", {"supplement_note": "Đã bổ sung"})
    step(services, nomination_id, "receive_nomination", "chuyen.vien.1", {"complete": True})
    step(services, nomination_id, "appraise_nomination", "chuyen.vien.1", {"recommend": True, "report": "Đủ"})


def voted(services, clock: MovableClock, nomination_ids: list[str]) -> None:
    """A council session for these appraised nominations, each voted through 8 to 0."""
    with services.session_factory() as session:
        rule_set = session.get(Nomination, nomination_ids[0]).rule_set_id
    session_id = services.in_transaction(
        sessions.schedule_session, COUNCIL, clock.now + timedelta(days=30), rule_set, nomination_ids
    )
    services.in_transaction(sessions.record_attendance, session_id, PRESENT)
    clock.now += timedelta(days=1)
    for nomination_id in nomination_ids:
        with services.session_factory() as session:
            item = session.scalars(
                select(SessionItem).where(
                    SessionItem.session_id == session_id, SessionItem.nomination_id == nomination_id
                )
            ).one()
            voters = sorted(
                session.scalars(
                    select(ItemVoter.user_id).where(ItemVoter.item_id == item.id, ItemVoter.recused.is_(False))
                )
            )[:8]
        services.in_transaction(
            sessions.record_council_vote,
            "truong.ban",
            session_id,
            nomination_id,
            yes=8,
            no=0,
            abstain=0,
            voted_user_ids=voters,
        )


def rejected_by_bloc(services, nomination_id: str) -> None:
    step(services, nomination_id, "bloc_review", "gd.giao.duc", {"approved": False, "reason": "Chưa tiêu biểu"})


def up_the_ladder(services, clock: MovableClock) -> tuple[list[str], str]:
    """Three nominations to publication (one returned and resubmitted) and one rejected by its
    bloc; returns the instance ids and the one of a typical nomination (straight to publication)."""
    approved = [candidate(services) for _ in range(3)]
    rejected = candidate(services)
    for nomination_id in approved + [rejected]:
        submitted(services, clock, nomination_id)
    rejected_by_bloc(services, rejected)
    step(services, rejected, "notify_rejection", "chuyen.vien.2")
    for nomination_id in approved:
        appraised(services, clock, nomination_id, returned=nomination_id == approved[1])
    voted(services, clock, approved)
    for nomination_id in approved:
        step(services, nomination_id, "sign_decision", "chu.tich")
        step(services, nomination_id, "notify_result", "chuyen.vien.2")
    with services.session_factory() as session:
        ids = [session.get(Nomination, n).instance_id for n in approved + [rejected]]
    return ids, ids[0]


def open_at_every_step(services, clock: MovableClock) -> None:
    """Nominations left waiting at each step of the merit ladder, one each."""
    waiting = {name: candidate(services) for name in ("draft", "sign", "bloc", "receive", "supplement")}
    waiting |= {name: candidate(services) for name in ("appraise", "council", "decide", "notify", "rejected")}
    step(services, waiting["sign"], "draft_nomination", "tdkt.y.te", {"summary": "Đang ký"})
    for name in ("bloc", "receive", "supplement", "appraise", "council", "decide", "notify", "rejected"):
        submitted(services, clock, waiting[name])
    rejected_by_bloc(services, waiting["rejected"])
    for name in ("receive", "supplement", "appraise"):
        step(services, waiting[name], "bloc_review", "gd.giao.duc", {"approved": True})
    step(
        services,
        waiting["supplement"],
        "receive_nomination",
        "chuyen.vien.2",
        {"complete": False, "return_reason": "Thiếu"},
    )
    step(services, waiting["appraise"], "receive_nomination", "chuyen.vien.2", {"complete": True})
    for name in ("council", "decide", "notify"):
        appraised(services, clock, waiting[name])
    voted(services, clock, [waiting["decide"], waiting["notify"]])
    step(services, waiting["notify"], "sign_decision", "chu.tich")


# --- provinces ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """Where a clone lands: its province, campaign, nominating unit and that unit's bloc."""

    jurisdiction: str
    campaign: str
    unit: str
    bloc: str | None


def add_provinces(services, provinces: int, units: int, blocs: int, board_officers: int) -> None:
    """Provinces P01… with `units` units in `blocs` blocs each, a campaign on the demo's rule set, a
    unit officer and a unit head per unit (the bloc's head unit's head heads the bloc), board
    officers and a decider."""
    jurisdictions, unit_rows, bloc_rows, members, campaigns, users, roles = [], [], [], [], [], [], []
    for p in range(1, provinces + 1):
        province = f"P{p:02d}"
        scope = f"jurisdiction:{province}"
        jurisdictions.append({"id": province, "name": f"Tỉnh {p}", "level": "province", "decision_suffix": "QĐ-UBND"})
        campaigns.append(
            {
                "id": f"{province}_2022",
                "jurisdiction_id": province,
                "name": "Phong trào thi đua năm 2022",
                "theme": "Thi đua",
                "year": 2022,
                "registration_deadline": date(2022, 3, 31),
                "submission_deadline": date(2022, 12, 15),
            }
        )
        for b in range(blocs):
            bloc_rows.append(
                {"id": f"{province}_K{b}", "name": f"Khối {b}", "kind": "sector", "jurisdiction_id": province}
            )
        for n in range(board_officers):
            users.append(f"{province}.cv{n}")
            roles.append((f"{province}.cv{n}", "board_officer", scope))
        users.append(f"{province}.ct")
        roles.append((f"{province}.ct", "decider", scope))
        for u in range(units):
            unit, bloc = f"{province}_U{u:03d}", f"{province}_K{u % blocs}"
            unit_rows.append({"id": unit, "name": f"Đơn vị {u}", "jurisdiction_id": province})
            members.append({"bloc_id": bloc, "unit_id": unit, "year": 2022, "is_head": u < blocs})
            users += [f"{unit}.tdkt", f"{unit}.gd"]
            roles += [(f"{unit}.tdkt", "unit_officer", f"unit:{unit}"), (f"{unit}.gd", "unit_head", f"unit:{unit}")]
            roles.append((f"{unit}.gd", demo.BLOC_MEMBER_ROLE, f"bloc:{bloc}"))
            if u < blocs:
                roles.append((f"{unit}.gd", "bloc_head", f"bloc:{bloc}"))
    user_rows = [
        {"id": user, "username": user, "full_name": f"Cán bộ {user}", "active": True, "unit_id": user.split(".")[0]}
        for user in users
    ]
    for row in user_rows:
        if row["unit_id"].count("_") == 0:
            row["unit_id"] = None  # province-level staff
    with services.database.begin() as connection:
        for model, rows in (
            (Jurisdiction, jurisdictions),
            (Unit, unit_rows),
            (Bloc, bloc_rows),
            (BlocMember, members),
            (Campaign, campaigns),
            (User, user_rows),
        ):
            connection.execute(insert(model.__table__), rows)
        connection.execute(
            insert(RoleAssignment.__table__), [{"user_id": u, "role": r, "scope": s} for u, r, s in roles]
        )


def places(connection) -> list[Place]:
    """Every (province, campaign, unit, bloc) a nomination can come from, demo units included."""
    rows = connection.execute(
        select(Unit.jurisdiction_id, Campaign.id, Unit.id, BlocMember.bloc_id)
        .join(Campaign, Campaign.jurisdiction_id == Unit.jurisdiction_id)
        .outerjoin(BlocMember, BlocMember.unit_id == Unit.id)
        .order_by(Unit.id)
    ).all()
    return [Place(*row) for row in rows]


def holders(connection) -> dict[tuple[str, str | None], list[str]]:
    """The users holding each (role, scope)."""
    found: dict[tuple[str, str | None], list[str]] = {}
    for user, role, scope in connection.execute(
        select(RoleAssignment.user_id, RoleAssignment.role, RoleAssignment.scope).order_by(RoleAssignment.id)
    ):
        found.setdefault((role, scope), []).append(user)
    return found


# --- cloning --------------------------------------------------------------------------------


def _split(value) -> tuple[list[str], list[str]]:
    """JSON text cut around its tokens: the text between them, and the tokens."""
    encoded = json.dumps(value)
    return TOKEN.split(encoded), TOKEN.findall(encoded)


class Template:
    """A real nomination's rows, split on the tokens a clone rewrites."""

    def __init__(self, instance, tasks, events, nomination):
        self.instance, self.tasks, self.events, self.nomination = instance, tasks, events, nomination
        self.snapshot = _split(instance["snapshot"])
        self.event_data = [_split(e["data"]) for e in events]
        self.open = [t for t in tasks if t["state"] == queries.TASK_OPEN]
        ids = {instance["id"], nomination["id"]} | {t["id"] for t in tasks}
        ids |= {token for token in self.snapshot[1] if ":" not in token}
        ids -= {nomination["person_id"]}  # the nominee stays: a real person row
        self.ids = ids
        # The moment the clone's "now" lines up with: its newest open task, or its end.
        self.anchor = max(t["created_at"] for t in self.open) if self.open else instance["ended_at"]

    def clone(self, rng: random.Random, place: Place, now: datetime, holders: dict) -> tuple[dict, list, list, dict]:
        mapping = {old: str(uuid.uuid4()) for old in self.ids}
        old_unit = self.nomination["nominating_unit_id"]
        mapping[f"unit:{old_unit}"] = f"unit:{place.unit}"
        if self.nomination["bloc_id"] and place.bloc:
            mapping[f"bloc:{self.nomination['bloc_id']}"] = f"bloc:{place.bloc}"
        mapping[f"jurisdiction:{demo.PROVINCE}"] = f"jurisdiction:{place.jurisdiction}"
        if self.open:  # waiting up to 12 days: about a third overdue
            shift = now - timedelta(minutes=rng.randrange(12 * 24 * 60)) - self.anchor
        else:
            shift = now - timedelta(minutes=rng.randrange(60 * 24 * 60)) - self.anchor

        def swap(parts: list[str], tokens: list[str]) -> str:
            out = [parts[0]]
            for token, part in zip(tokens, parts[1:], strict=True):
                out += [mapping.get(token, token), part]
            return "".join(out)

        instance_id = mapping[self.instance["id"]]
        events = [
            NewEvent(
                e["type"],
                e["actor"],
                e["occurred_at"] + shift,
                json.loads(swap(*data)),
                mapping.get(e["task_id"], e["task_id"]),
                e["element_id"],
                e["reason"],
            )
            for e, data in zip(self.events, self.event_data, strict=True)
        ]
        event_rows, (seq, head) = link_events(instance_id, (0, history.GENESIS_HASH), events)
        instance = self.instance | {
            "id": instance_id,
            "business_key": mapping[self.nomination["id"]],
            "snapshot": swap(*self.snapshot),
            "history_seq": seq,
            "history_hash": head,
            "started_at": self.instance["started_at"] + shift,
            "updated_at": self.instance["updated_at"] + shift,
            "ended_at": self.instance["ended_at"] and self.instance["ended_at"] + shift,
        }
        tasks = []
        for task in self.tasks:
            row = task | {
                "id": mapping[task["id"]],
                "instance_id": instance_id,
                "business_key": mapping[self.nomination["id"]],
                "org_scope": task["org_scope"] and mapping.get(task["org_scope"], task["org_scope"]),
                "created_at": task["created_at"] + shift,
                "due_at": task["due_at"] and task["due_at"] + shift,
                "ended_at": task["ended_at"] and task["ended_at"] + shift,
            }
            if row["state"] == queries.TASK_OPEN:
                claimers = holders.get((row["candidate_role"], row["org_scope"]))
                row["claimed_by"] = rng.choice(claimers) if claimers and rng.random() < 0.3 else None
                overdue = row["due_at"] is not None and row["due_at"] < now
                row["escalation"] = "overdue" if overdue else None
            tasks.append(row)
        officers = holders.get(("unit_officer", f"unit:{place.unit}"), [self.nomination["created_by"]])
        nomination = self.nomination | {
            "id": mapping[self.nomination["id"]],
            "instance_id": instance_id,
            "campaign_id": place.campaign,
            "nominating_unit_id": place.unit,
            "nominee_unit_id": place.unit,
            "bloc_id": self.nomination["bloc_id"] and place.bloc,
            "created_by": officers[0],
            "created_at": self.nomination["created_at"] + shift,
        }
        return instance, tasks, event_rows, nomination


def templates(connection) -> list[Template]:
    """Every nomination with an instance: on a database prepare() has not cloned into, the real ones."""
    found = []
    nomination_rows = Nomination.__table__
    for nomination in connection.execute(
        select(nomination_rows).where(nomination_rows.c.instance_id.is_not(None)).order_by(nomination_rows.c.created_at)
    ).mappings():
        instance_id = nomination["instance_id"]
        instance = (
            connection.execute(select(ProcessInstance.__table__).where(ProcessInstance.id == instance_id))
            .mappings()
            .one()
        )
        tasks = connection.execute(select(HumanTask.__table__).where(HumanTask.instance_id == instance_id)).mappings()
        events = connection.execute(
            select(HistoryEvent.__table__).where(HistoryEvent.instance_id == instance_id).order_by(HistoryEvent.seq)
        ).mappings()
        found.append(Template(dict(instance), [dict(t) for t in tasks], [dict(e) for e in events], dict(nomination)))
    return found


class JSONText(UserDefinedType):
    """The snapshot column written from the JSON text the clone rewrote, without encoding it
    again; compressed on SQLite, as engine.models.SnapshotJSON stores it there."""

    cache_ok = True

    def get_col_spec(self, **_kw) -> str:
        return "JSON"

    def bind_processor(self, dialect):
        if dialect.name == "sqlite":
            return lambda text: zlib.compress(text.encode(), 1)
        return None


def bulk_tables():
    """Insert targets: the snapshot goes in as the JSON text the clone rewrote."""
    instance = ProcessInstance.__table__.to_metadata(MetaData())
    instance.c.snapshot.type = JSONText()
    return instance, HumanTask.__table__, HistoryEvent.__table__, Nomination.__table__


def fast_loading(database: Engine) -> None:
    """A throw-away database: load without waiting for the disk."""

    @event.listens_for(database, "connect")
    def on_connect(dbapi_connection, _record):
        if database.dialect.name == "sqlite":
            dbapi_connection.execute("PRAGMA synchronous=OFF")
        else:
            dbapi_connection.execute("SET synchronous_commit = off")
            dbapi_connection.commit()


def clone(url: str, open_tasks: int, history_events: int, seed: int = 1) -> dict:
    """Clone the real nominations until there are `open_tasks` open tasks (open ones first) and
    `history_events` history events (completed ones then); returns what was added. Every
    nomination present is a template: call it on a database prepare() has not cloned into."""
    database = create_engine(url)
    fast_loading(database)
    rng = random.Random(seed)
    with database.connect() as connection:
        found, where, users = templates(connection), places(connection), holders(connection)
        open_count = connection.scalar(select(func.count()).where(HumanTask.state == queries.TASK_OPEN))
        events = connection.scalar(select(func.count()).select_from(HistoryEvent))
    waiting, done = [t for t in found if t.open], [t for t in found if not t.open]
    targets = bulk_tables()
    clones, began = 0, time.perf_counter()
    while open_count < open_tasks or events < history_events:
        batch: tuple[list, list, list, list] = ([], [], [], [])
        for _ in range(BATCH):
            template = rng.choice(waiting if open_count < open_tasks else done)
            instance, tasks, event_rows, nomination = template.clone(rng, rng.choice(where), NOW, users)
            batch[0].append(instance)
            batch[1].extend(tasks)
            batch[2].extend(event_rows)
            batch[3].append(nomination)
            open_count += len(template.open)
            events += len(event_rows)
            clones += 1
            if open_count >= open_tasks and events >= history_events:
                break
        with database.begin() as connection:
            for table, rows in zip(targets, batch, strict=True):
                connection.execute(insert(table), rows)
    seconds = time.perf_counter() - began
    # As autovacuum would on a live server: statistics, and the visibility map index-only scans need.
    with database.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE" if database.dialect.name == "postgresql" else "ANALYZE")
    database.dispose()
    return {"templates": len(found), "clones": clones, "open_tasks": open_count, "events": events, "seconds": seconds}


@dataclass(frozen=True)
class Dataset:
    """A prepared database: its URL, the moment its due dates are relative to (give the services
    a clock at `now`), the real nominations' instance ids and what was built."""

    url: str
    now: datetime
    real_instances: list[str]
    typical_instance: str  # a nomination taken straight to publication
    figures: dict


def prepare(
    url: str,
    open_tasks: int = 100_000,
    history_events: int = 1_000_000,
    provinces: int = 8,
    units: int = 40,
    seed: int = 1,
) -> Dataset:
    """Build a province-scale database at `url` (empty; SQLite or PostgreSQL): the demo province
    and its real nominations, `provinces` more provinces of `units` units each, then clones until
    there are `open_tasks` open tasks and `history_events` history events."""
    clock = MovableClock(START)
    services = bootstrap(url, clock=clock)
    upgrade_database(services.database)
    began = time.perf_counter()
    load_demo(services, ROOT / "bpmn")
    _ladder, typical = up_the_ladder(services, clock)
    open_at_every_step(services, clock)
    add_provinces(services, provinces, units, blocs=4, board_officers=4)
    with services.session_factory() as session:
        real = list(session.scalars(select(ProcessInstance.id).order_by(ProcessInstance.started_at)))
    services.dispose()
    setup = time.perf_counter() - began
    figures = clone(url, open_tasks, history_events, seed)
    figures |= {"services_seconds": round(setup, 1), "seconds": round(figures["seconds"], 1)}
    return Dataset(url, NOW, real, typical, figures)


@contextlib.contextmanager
def empty_database(kind: str) -> Iterator[str]:
    """The URL of a new, empty database for one run: "sqlite" (a temporary folder) or "postgres"."""
    if kind == "postgres":
        with throwaway_postgres() as url:
            yield url
    else:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.sqlite3"
