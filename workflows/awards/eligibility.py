"""The award rules inside the caller's unit of work: the rule set in force for an achievement
year, its awards and decision tables, open restrictions, and the eligibility check that runs an
award's decision table over the nominee's history."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from engine import BundleFile, DecisionTables, Evaluator, UnitOfWork

from ..errors import DomainError
from ..nominees import features
from ..nominees.models import Restriction
from .models import Award, RuleFile, RuleSet

MET, NOT_MET, UNKNOWN = "met", "not_met", "unknown"
STATUSES = (MET, NOT_MET, UNKNOWN)
# Every award checks it: nothing is proposed or awarded while the nominee is under discipline,
# investigation, inspection or complaint verification [Decree 98/2023 Art. 4].
NO_RESTRICTION = "no_restriction"

# Decision tables by rule set: (digest of its files, tables). Rule files are data and can be
# edited; a changed file changes the digest, which rebuilds the tables.
_tables: dict[str, tuple[str, DecisionTables]] = {}


@dataclass(frozen=True)
class Criterion:
    code: str
    status: str  # met | not_met | unknown
    reason: str


@dataclass(frozen=True)
class EligibilityReport:
    award_code: str
    criteria: tuple[Criterion, ...]

    @property
    def eligible(self) -> bool:
        """Every criterion is met."""
        return bool(self.criteria) and all(c.status == MET for c in self.criteria)

    @property
    def failing(self) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if c.status == NOT_MET)

    @property
    def unknown(self) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if c.status == UNKNOWN)


def rule_set_in_force(uow: UnitOfWork, jurisdiction_id: str, year: int) -> RuleSet:
    """The jurisdiction's rule set whose period covers 31/12 of the achievement year: a
    nomination is judged by the rules of its achievement period. Raises DomainError `no_rule_set`."""
    year_end = date(year, 12, 31)
    rule_set = uow.session.scalars(
        select(RuleSet)
        .where(
            RuleSet.jurisdiction_id == jurisdiction_id,
            RuleSet.valid_from <= year_end,
            RuleSet.valid_to.is_(None) | (RuleSet.valid_to >= year_end),
        )
        .order_by(RuleSet.valid_from.desc())
    ).first()
    if rule_set is None:
        raise DomainError("no_rule_set", f"no rule set of {jurisdiction_id} is in force on {year_end:%d/%m/%Y}")
    return rule_set


def award_of(uow: UnitOfWork, rule_set_id: str, code: str) -> Award:
    """Raises DomainError `unknown_award`."""
    award = uow.session.get(Award, (rule_set_id, code))
    if award is None:
        raise DomainError("unknown_award", f"rule set {rule_set_id} has no award {code!r}")
    return award


def open_restrictions(uow: UnitOfWork, subject_kind: str, subject_id: str, on: date) -> list[Restriction]:
    """Discipline, investigation, inspection or complaint verification of a person or unit in
    force on `on` (the end day still counts) [Decree 98/2023 Art. 4]."""
    return features.open_restrictions(uow.session, subject_kind, subject_id, on)


def check_eligibility(
    uow: UnitOfWork,
    evaluator: Evaluator,
    rule_set_id: str,
    award_code: str,
    *,
    person_id: str | None = None,
    unit_id: str | None = None,
    year: int,
    as_of: date,
) -> EligibilityReport:
    """Run the award's eligibility decision over the nominee's features for the achievement year
    (restrictions as of `as_of`). Individual awards take a person, collective ones a unit.

    Raises DomainError `unknown_award`, `wrong_subject`, `unknown_person`, `unknown_unit`, or
    `invalid_rule_set` when the table's rows are malformed (a status outside met / not_met /
    unknown, a criterion twice, no `no_restriction`); DefinitionError when a rule file does not
    parse; ProcessError when a cell fails on the features."""
    award = award_of(uow, rule_set_id, award_code)
    if award.subject == "individual":
        if person_id is None or unit_id is not None:
            raise DomainError("wrong_subject", f"{award_code} is an individual award: it needs a person, not a unit")
        data = features.person_features(uow.session, person_id, year, as_of)
    else:
        if unit_id is None or person_id is not None:
            raise DomainError("wrong_subject", f"{award_code} is a collective award: it needs a unit, not a person")
        data = features.unit_features(uow.session, unit_id, year, as_of)
    rows = decision_tables(uow, evaluator, rule_set_id).decide(award.eligibility_decision, data)
    criteria = tuple(Criterion(row.get("criterion"), row.get("status"), row.get("reason") or "") for row in rows)
    _check_rows(rule_set_id, award.eligibility_decision, criteria)
    return EligibilityReport(award.code, criteria)


def decision_tables(uow: UnitOfWork, evaluator: Evaluator, rule_set_id: str) -> DecisionTables:
    """The decision tables of a rule set's files, cached while the files are unchanged."""
    files = [
        BundleFile(name, content.encode("utf-8"))
        for name, content in uow.session.execute(
            select(RuleFile.name, RuleFile.content).where(RuleFile.rule_set_id == rule_set_id).order_by(RuleFile.name)
        )
    ]
    digest = hashlib.sha256()
    for file in files:
        digest.update(f"{file.name}\0{len(file.content)}\0".encode())
        digest.update(file.content)
    cached = _tables.get(rule_set_id)
    if cached is not None and cached[0] == digest.hexdigest():
        return cached[1]
    tables = DecisionTables(files, evaluator)
    _tables[rule_set_id] = (digest.hexdigest(), tables)
    return tables


def _check_rows(rule_set_id: str, decision_id: str, criteria: tuple[Criterion, ...]) -> None:
    where = f"decision {decision_id} of rule set {rule_set_id}"
    codes = [c.code for c in criteria]
    for criterion in criteria:
        if not isinstance(criterion.code, str) or criterion.status not in STATUSES:
            raise DomainError("invalid_rule_set", f"{where}: row {criterion} needs a criterion and a status")
    duplicates = sorted({code for code in codes if codes.count(code) > 1})
    if duplicates:
        raise DomainError("invalid_rule_set", f"{where}: criteria {duplicates} matched more than one rule")
    if NO_RESTRICTION not in codes:
        raise DomainError("invalid_rule_set", f"{where}: no {NO_RESTRICTION!r} criterion [Decree 98/2023 Art. 4]")
