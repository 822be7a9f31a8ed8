"""The inputs of the eligibility decision tables (bpmn/decisions/eligibility_*.dmn), computed from
the history of a person or a unit for an achievement year.

Deterministic: the same history, year and date give the same features. None means unknown (the
history is missing), which the tables report as an "unknown" criterion. Thresholds and window
lengths are not here: where the law speaks of "n consecutive years", a feature is the length of
the run ending at the achievement year and the table compares it with n. History after the
achievement year is ignored. Only achievement records that count for merit are read: ad hoc and
thematic awards do not count towards merit awards [Decree 98/2023 Art. 4].

Person features (`person_features`):
    rating                           the year's performance rating, or None
    months_employed                  whole months from recruitment to the end of the year
    ldtt_this_year                   holds LDTT (or a higher title, which presupposes it) in the year
    cstdcs_consecutive_years         run of years holding CSTDCS or higher, ending at the year
    cstdcs_years_since_cstd_tinh     that run, after the last CSTD_TINH before the year (a run
                                     already rewarded does not count twice)
    initiatives_unit                 initiatives recognised in the year, any scope (accepted
                                     research is recorded as an initiative)
    initiatives_province             province-wide or national initiatives in the years counted by
                                     cstdcs_years_since_cstd_tinh (at least the year itself)
    cstd_tinh_consecutive            CSTD_TINH titles in the CSTDCS run after the last CSTD_TQ
                                     before the year: titles won without a break
    initiatives_national             national initiatives in that run (at least the year itself)
    htxsnv_consecutive_years         run of HTXSNV ratings ending at the year; None when the year's
                                     rating is missing (a missing earlier rating ends the run)
    initiatives_in_run               initiatives, any scope, in the longer of the CSTDCS and
                                     HTXSNV runs (at least the year itself)
    holds_bk_tinh                    has a BK_TINH of the year or before
    good_rating_years_since_bk_tinh  run of HTTNV-or-better ratings ending at the year, after the
                                     last BK_TINH if any; None when the year's rating is missing
    cstdcs_since_bk_tinh             years holding CSTDCS or higher within that run
    restricted                       an open restriction on the check date

Unit features (`unit_features`) follow the unit's lineage (workflows.org.lineage: the unit and the
units it succeeds); members are the people employed in one of them during the year:
    members                 their number
    ldtt_percent            percentage of members holding LDTT or higher; None without members
    complete_tasks_percent  percentage of members rated HTNV or better; None while a member's
                            rating is missing (or without members)
    cstdcs_members          members holding CSTDCS or higher
    bloc_leader             True when the unit holds a BLOC_LEADER record for the year (written
                            when its bloc's vote chooses it); False when another unit of one of
                            its blocs that year holds one; None when no choice is recorded
    holds_co_tinh           holds CO_TINH in the year
    restricted              an open restriction on the check date
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Set
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..errors import DomainError
from ..org.lineage import lineage
from ..org.models import BlocMember, Unit
from .models import (
    INITIATIVE_SCOPES,
    SUBJECT_PERSON,
    SUBJECT_UNIT,
    AchievementRecord,
    Employment,
    Initiative,
    PerformanceRating,
    Person,
    Restriction,
)

# Titles that presuppose a lower one in the same year [Law 06/2022 Arts. 21-23].
LDTT_OR_HIGHER = frozenset({"LDTT", "CSTDCS", "CSTD_TINH", "CSTD_TQ"})
CSTDCS_OR_HIGHER = frozenset({"CSTDCS", "CSTD_TINH", "CSTD_TQ"})
CSTD_TINH, CSTD_TQ, BK_TINH, CO_TINH = "CSTD_TINH", "CSTD_TQ", "BK_TINH", "CO_TINH"
BLOC_LEADER = "BLOC_LEADER"  # the unit its bloc's vote chose as leading unit (suy tôn)
EXCELLENT = "HTXSNV"
GOOD_OR_BETTER = frozenset({"HTXSNV", "HTTNV"})
TASKS_COMPLETED = frozenset({"HTXSNV", "HTTNV", "HTNV"})


# The names each function returns: what eligibility tables may read (the designer checks them).
PERSON_FEATURES = (
    "rating",
    "months_employed",
    "ldtt_this_year",
    "cstdcs_consecutive_years",
    "cstdcs_years_since_cstd_tinh",
    "initiatives_unit",
    "initiatives_province",
    "cstd_tinh_consecutive",
    "initiatives_national",
    "htxsnv_consecutive_years",
    "initiatives_in_run",
    "holds_bk_tinh",
    "good_rating_years_since_bk_tinh",
    "cstdcs_since_bk_tinh",
    "restricted",
)
UNIT_FEATURES = (
    "members",
    "ldtt_percent",
    "complete_tasks_percent",
    "cstdcs_members",
    "bloc_leader",
    "holds_co_tinh",
    "restricted",
)


def person_features(session: Session, person_id: str, year: int, as_of: date) -> dict[str, Any]:
    """The person features of the module docstring. Raises DomainError `unknown_person`."""
    person = session.get(Person, person_id)
    if person is None:
        raise DomainError("unknown_person", f"no person {person_id!r}")
    titles = _titles(session, SUBJECT_PERSON, person_id, year)
    ratings = dict(
        session.execute(
            select(PerformanceRating.year, PerformanceRating.rating).where(
                PerformanceRating.person_id == person_id, PerformanceRating.year <= year
            )
        ).all()
    )
    initiatives = session.execute(
        select(Initiative.year, Initiative.scope).where(Initiative.person_id == person_id, Initiative.year <= year)
    ).all()

    def won(y: int) -> Set[str]:
        return titles.get(y, frozenset())

    def soldier(y: int) -> bool:
        return bool(won(y) & CSTDCS_OR_HIGHER)

    def initiatives_in(scope: str, run: int) -> int:
        scopes = INITIATIVE_SCOPES[INITIATIVE_SCOPES.index(scope) :]  # a wider effect covers the narrower
        return sum(1 for y, s in initiatives if year - max(run, 1) < y <= year and s in scopes)

    rating = ratings.get(year)
    cstdcs_run = _run(year, soldier)
    since_cstd_tinh = _run(year, soldier, after=_last(titles, CSTD_TINH, before=year))
    since_cstd_tq = _run(year, soldier, after=_last(titles, CSTD_TQ, before=year))
    htxsnv_run = None if rating is None else _run(year, lambda y: ratings.get(y) == EXCELLENT)
    last_bk_tinh = _last(titles, BK_TINH, before=year + 1)
    good_run = None if rating is None else _run(year, lambda y: ratings.get(y) in GOOD_OR_BETTER, after=last_bk_tinh)
    return {
        "rating": rating,
        "months_employed": _months_employed(person.recruited_on, year),
        "ldtt_this_year": bool(won(year) & LDTT_OR_HIGHER),
        "cstdcs_consecutive_years": cstdcs_run,
        "cstdcs_years_since_cstd_tinh": since_cstd_tinh,
        "initiatives_unit": initiatives_in("unit", 1),
        "initiatives_province": initiatives_in("province", since_cstd_tinh),
        "cstd_tinh_consecutive": sum(1 for y in range(year - since_cstd_tq + 1, year + 1) if CSTD_TINH in won(y)),
        "initiatives_national": initiatives_in("national", since_cstd_tq),
        "htxsnv_consecutive_years": htxsnv_run,
        "initiatives_in_run": initiatives_in("unit", max(cstdcs_run, htxsnv_run or 0)),
        "holds_bk_tinh": last_bk_tinh is not None,
        "good_rating_years_since_bk_tinh": good_run,
        "cstdcs_since_bk_tinh": None if good_run is None else sum(map(soldier, range(year - good_run + 1, year + 1))),
        "restricted": bool(open_restrictions(session, SUBJECT_PERSON, person_id, as_of)),
    }


def unit_features(session: Session, unit_id: str, year: int, as_of: date) -> dict[str, Any]:
    """The unit features of the module docstring. Raises DomainError `unknown_unit`."""
    if session.get(Unit, unit_id) is None:
        raise DomainError("unknown_unit", f"no unit {unit_id!r}")
    units = lineage(session, unit_id)  # a merged unit counts its predecessors' members and awards
    members = (
        select(Employment.person_id)
        .where(
            Employment.unit_id.in_(units),
            Employment.started_on <= date(year, 12, 31),
            or_(Employment.ended_on.is_(None), Employment.ended_on >= date(year, 1, 1)),
        )
        .distinct()
    )
    count = len(session.scalars(members).all())
    member_titles: dict[str, set[str]] = defaultdict(set)
    for person_id, code in session.execute(
        select(AchievementRecord.subject_id, AchievementRecord.award_code).where(
            AchievementRecord.subject_kind == SUBJECT_PERSON,
            AchievementRecord.subject_id.in_(members.scalar_subquery()),
            AchievementRecord.year == year,
            AchievementRecord.counts_for_merit.is_(True),
            AchievementRecord.revoked_on.is_(None),
        )
    ):
        member_titles[person_id].add(code)
    ratings = session.scalars(
        select(PerformanceRating.rating).where(
            PerformanceRating.person_id.in_(members.scalar_subquery()), PerformanceRating.year == year
        )
    ).all()
    ldtt = sum(1 for codes in member_titles.values() if codes & LDTT_OR_HIGHER)
    completed = sum(1 for rating in ratings if rating in TASKS_COMPLETED)
    unit_titles = _titles(session, SUBJECT_UNIT, units, year).get(year, set())
    return {
        "members": count,
        "ldtt_percent": 100 * ldtt / count if count else None,
        "complete_tasks_percent": 100 * completed / count if count and len(ratings) == count else None,
        "cstdcs_members": sum(1 for codes in member_titles.values() if codes & CSTDCS_OR_HIGHER),
        "bloc_leader": True if BLOC_LEADER in unit_titles else _other_bloc_leader(session, unit_id, year),
        "holds_co_tinh": CO_TINH in unit_titles,
        "restricted": bool(open_restrictions(session, SUBJECT_UNIT, unit_id, as_of)),
    }


def open_restrictions(session: Session, subject_kind: str, subject_id: str, on: date) -> list[Restriction]:
    """Restrictions of the subject in force on `on`: started on or before it and not ended before
    it (the end day still counts) [Decree 98/2023 Art. 4]."""
    return list(
        session.scalars(
            select(Restriction)
            .where(
                Restriction.subject_kind == subject_kind,
                Restriction.subject_id == subject_id,
                Restriction.started_on <= on,
                Restriction.ended_on.is_(None) | (Restriction.ended_on >= on),
            )
            .order_by(Restriction.started_on, Restriction.id)
        )
    )


def _titles(session: Session, subject_kind: str, subject_ids: str | set[str], year: int) -> dict[int, set[str]]:
    """Merit titles of the subject (or of a unit's lineage) by year, up to `year`."""
    ids = {subject_ids} if isinstance(subject_ids, str) else subject_ids
    titles: defaultdict[int, set[str]] = defaultdict(set)
    for record_year, code in session.execute(
        select(AchievementRecord.year, AchievementRecord.award_code).where(
            AchievementRecord.subject_kind == subject_kind,
            AchievementRecord.subject_id.in_(ids),
            AchievementRecord.year <= year,
            AchievementRecord.counts_for_merit.is_(True),
            AchievementRecord.revoked_on.is_(None),
        )
    ):
        titles[record_year].add(code)
    return dict(titles)


def _run(year: int, holds: Callable[[int], bool], after: int | None = None) -> int:
    """How many consecutive years, ending at `year` and later than `after`, satisfy `holds`."""
    length = 0
    while (after is None or year - length > after) and holds(year - length):
        length += 1
    return length


def _last(titles: dict[int, set[str]], code: str, before: int) -> int | None:
    """The last year before `before` in which the title `code` was won, or None."""
    return max((y for y, codes in titles.items() if code in codes and y < before), default=None)


def _months_employed(recruited_on: date, year: int) -> int:
    """Whole months from recruitment to the end of `year` (0 if recruited later)."""
    end = date(year + 1, 1, 1)
    months = (end.year - recruited_on.year) * 12 + end.month - recruited_on.month - (end.day < recruited_on.day)
    return max(months, 0)


def _other_bloc_leader(session: Session, unit_id: str, year: int) -> bool | None:
    """False when a bloc the unit belonged to in `year` chose another unit, else None."""
    blocs = select(BlocMember.bloc_id).where(BlocMember.unit_id == unit_id, BlocMember.year == year)
    fellows = select(BlocMember.unit_id).where(BlocMember.bloc_id.in_(blocs.scalar_subquery()), BlocMember.year == year)
    chosen = session.scalar(
        select(AchievementRecord.id)
        .where(
            AchievementRecord.subject_kind == SUBJECT_UNIT,
            AchievementRecord.subject_id.in_(fellows.scalar_subquery()),
            AchievementRecord.year == year,
            AchievementRecord.award_code == BLOC_LEADER,
            AchievementRecord.counts_for_merit.is_(True),
            AchievementRecord.revoked_on.is_(None),
        )
        .limit(1)
    )
    return False if chosen is not None else None
