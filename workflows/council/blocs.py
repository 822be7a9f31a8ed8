"""Emulation blocs (cụm, khối thi đua) inside the caller's unit of work: each year's scoring table,
the members' score sheets and their ranking, and the secret vote for the leading unit (suy tôn)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import delete, exists, select

from engine import UnitOfWork

from ..errors import DomainError
from ..nominees.features import BLOC_LEADER
from ..nominees.models import SUBJECT_UNIT, AchievementRecord
from ..org.models import Bloc, BlocMember, bloc_scope
from .models import BlocCriterion, BlocScore, BlocVoteTally


@dataclass(frozen=True)
class RankedUnit:
    """A bloc member's peer average (scores by the other members) next to its self-score."""

    unit_id: str
    peer_average: float | None
    self_score: int | None
    self_score_gap: float | None


def _bloc_members(uow: UnitOfWork, bloc_id: str, year: int) -> set[str]:
    if uow.session.get(Bloc, bloc_id) is None:
        raise DomainError("bloc_not_found", f"no bloc {bloc_id}")
    return set(
        uow.session.scalars(select(BlocMember.unit_id).where(BlocMember.bloc_id == bloc_id, BlocMember.year == year))
    )


def _require_members(unit_ids: Iterable[str], members: set[str], bloc_id: str, year: int) -> None:
    strangers = sorted(set(unit_ids) - members)
    if strangers:
        raise DomainError("not_a_bloc_member", f"{', '.join(strangers)} not members of bloc {bloc_id} in {year}")


def set_bloc_criteria(uow: UnitOfWork, bloc_id: str, year: int, criteria: list[tuple[str, str, int]]) -> None:
    """Set the bloc's own scoring table for a year (replacing it until scoring starts)."""
    _bloc_members(uow, bloc_id, year)
    if not criteria:
        raise DomainError("invalid_criteria", "a scoring table needs at least one criterion")
    codes = [code for code, _title, _max in criteria]
    if len(set(codes)) != len(codes) or not all(codes):
        raise DomainError("invalid_criteria", "criterion codes must be present and distinct")
    for code, _title, max_score in criteria:
        if isinstance(max_score, bool) or not isinstance(max_score, int) or max_score <= 0:
            raise DomainError("invalid_criteria", f"criterion {code}: the maximum score must be a positive integer")
    if uow.session.scalar(select(exists().where(BlocScore.bloc_id == bloc_id, BlocScore.year == year))):
        raise DomainError("bloc_already_scored", f"bloc {bloc_id} has scores for {year}; its criteria are fixed")
    uow.session.execute(delete(BlocCriterion).where(BlocCriterion.bloc_id == bloc_id, BlocCriterion.year == year))
    uow.session.add_all(
        BlocCriterion(bloc_id=bloc_id, year=year, code=code, title=title, max_score=max_score)
        for code, title, max_score in criteria
    )
    uow.session.flush()


def record_bloc_scores(
    uow: UnitOfWork, bloc_id: str, year: int, scorer_unit_id: str, scores: dict[str, dict[str, int]]
) -> None:
    """Record one member unit's score sheets, one per scored unit (itself included), each
    covering every criterion. A sheet recorded again replaces the earlier one."""
    members = _bloc_members(uow, bloc_id, year)
    _require_members([scorer_unit_id, *scores], members, bloc_id, year)
    criteria = {
        criterion.code: criterion.max_score
        for criterion in uow.session.scalars(
            select(BlocCriterion).where(BlocCriterion.bloc_id == bloc_id, BlocCriterion.year == year)
        )
    }
    if not criteria:
        raise DomainError("bloc_criteria_missing", f"bloc {bloc_id} has no scoring criteria for {year}")
    if not scores:
        raise DomainError("empty_score_sheet", "no unit scored")
    for scored_unit_id, sheet in scores.items():
        if set(sheet) != set(criteria):
            unknown, missing = sorted(set(sheet) - set(criteria)), sorted(set(criteria) - set(sheet))
            raise DomainError(
                "incomplete_score_sheet",
                f"sheet for {scored_unit_id}: unknown criteria {unknown}, missing criteria {missing}",
            )
        for code, score in sheet.items():
            if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= criteria[code]:
                raise DomainError(
                    "score_out_of_range",
                    f"sheet for {scored_unit_id}: {code} must be 0..{criteria[code]}, not {score!r}",
                )
    for scored_unit_id, sheet in scores.items():
        for code, score in sheet.items():
            uow.session.merge(
                BlocScore(
                    bloc_id=bloc_id,
                    year=year,
                    scorer_unit_id=scorer_unit_id,
                    scored_unit_id=scored_unit_id,
                    criterion_code=code,
                    score=score,
                )
            )
    uow.session.flush()


def bloc_ranking(uow: UnitOfWork, bloc_id: str, year: int) -> list[RankedUnit]:
    """Members ranked by the average total given by the OTHER members; a unit's score of itself
    is shown beside it for cross-checking, never counted (Separation of duties 4). Units nobody
    else scored come last with no average."""
    members = _bloc_members(uow, bloc_id, year)
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for score in uow.session.scalars(select(BlocScore).where(BlocScore.bloc_id == bloc_id, BlocScore.year == year)):
        totals[score.scorer_unit_id, score.scored_unit_id] += score.score
    ranking = []
    for unit_id in members:
        peers = [total for (scorer, scored), total in totals.items() if scored == unit_id and scorer != unit_id]
        peer_average = sum(peers) / len(peers) if peers else None
        self_score = totals.get((unit_id, unit_id))
        gap = self_score - peer_average if self_score is not None and peer_average is not None else None
        ranking.append(RankedUnit(unit_id, peer_average, self_score, gap))
    return sorted(ranking, key=lambda unit: (unit.peer_average is None, -(unit.peer_average or 0), unit.unit_id))


def record_bloc_vote(uow: UnitOfWork, bloc_id: str, year: int, tallies: dict[str, int]) -> str | None:
    """Record the bloc's secret vote for its leading unit (suy tôn) as votes per unit; returns
    the unit with strictly the most votes, or None on a tie."""
    members = _bloc_members(uow, bloc_id, year)
    if not tallies:
        raise DomainError("empty_bloc_vote", "the vote names no unit")
    _require_members(tallies, members, bloc_id, year)
    for unit_id, votes in tallies.items():
        if isinstance(votes, bool) or not isinstance(votes, int) or votes < 0:
            raise DomainError("invalid_tally", f"votes for {unit_id} must be a whole number, not {votes!r}")
    if uow.session.scalar(select(exists().where(BlocVoteTally.bloc_id == bloc_id, BlocVoteTally.year == year))):
        raise DomainError("bloc_vote_already_recorded", f"bloc {bloc_id} already voted for {year}")
    uow.session.add_all(
        BlocVoteTally(bloc_id=bloc_id, year=year, unit_id=unit_id, votes=votes) for unit_id, votes in tallies.items()
    )
    uow.session.flush()
    ordered = sorted(tallies.items(), key=lambda entry: entry[1], reverse=True)
    top_unit, top_votes = ordered[0]
    if top_votes == 0 or (len(ordered) > 1 and ordered[1][1] == top_votes):
        return None
    return top_unit


def choose_bloc_leader(uow: UnitOfWork, actor: str, bloc_id: str, year: int, tallies: dict[str, int]) -> str | None:
    """Record the bloc's secret vote for its leading unit (suy tôn) as counts per unit; the
    leader gets a BLOC_LEADER record, which the CO_TINH eligibility table reads."""
    if not uow.directory.is_candidate(uow.session, actor, "bloc_head", bloc_scope(bloc_id)):
        raise DomainError("not_bloc_head", f"{actor} is not the head of bloc {bloc_id}")
    leader = record_bloc_vote(uow, bloc_id, year, tallies)
    if leader is not None:
        uow.session.add(
            AchievementRecord(
                subject_kind=SUBJECT_UNIT, subject_id=leader, year=year, award_code=BLOC_LEADER, counts_for_merit=True
            )
        )
        uow.session.flush()
    return leader
