"""The default province rule set as data (DOMAIN.md "Awards a province handles"), and
`install_rule_set`, which stores a rule set with its awards and DMN files."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select

from engine import BundleFile, DecisionTables, UnitOfWork

from ..errors import DomainError
from ..org.models import Jurisdiction
from .models import DECIDER_LEVELS, SUBJECTS, Award, RuleFile, RuleSet, RuleSetRevision

DMN_DIR = Path(__file__).resolve().parents[2] / "bpmn" / "decisions"


@dataclass(frozen=True)
class AwardDefinition:
    """One award as a rule set stores it; `documents` are the dossier's required parts."""

    code: str
    title: str
    subject: str  # individual | collective
    decider_level: str  # unit_head | commune_chair | province_chair | prime_minister
    documents: tuple[str, ...]
    reward_multiple: float  # times the base salary [Decree 98/2023 Art. 54]
    eligibility_decision: str
    public_notice: bool = False
    bloc_vote: bool = False


SUBMISSION = "Tờ trình đề nghị khen thưởng"
ACHIEVEMENT_REPORT = "Báo cáo thành tích"
COLLECTIVE_REPORT = "Báo cáo thành tích của tập thể"
REVIEW_MINUTES = "Biên bản họp bình xét thi đua"
INITIATIVE_PROOF = "Xác nhận sáng kiến, đề tài được công nhận"
PROVINCE_INITIATIVE_PROOF = "Xác nhận sáng kiến có phạm vi ảnh hưởng cấp tỉnh"
NATIONAL_INITIATIVE_PROOF = "Xác nhận sáng kiến có phạm vi ảnh hưởng toàn quốc"
BLOC_MINUTES = "Biên bản họp cụm, khối thi đua (kết quả suy tôn)"

# Reward multiples: LDTT 0.3, CSTDCS 1.0, TTLDXS 1.5 and CSTD_TINH 3.0 are from DOMAIN.md
# [Decree 98/2023 Art. 54]; the others are design defaults to check against the Decree.
DEFAULT_AWARDS: tuple[AwardDefinition, ...] = (
    AwardDefinition(
        "LDTT",
        "Lao động tiên tiến",
        "individual",
        "unit_head",
        (SUBMISSION, REVIEW_MINUTES),
        0.3,
        "eligibility_ldtt",
    ),
    AwardDefinition(
        "CSTDCS",
        "Chiến sĩ thi đua cơ sở",
        "individual",
        "unit_head",
        (SUBMISSION, ACHIEVEMENT_REPORT, REVIEW_MINUTES),
        1.0,
        "eligibility_cstdcs",  # HTXSNV needs no initiative
    ),
    AwardDefinition(
        "CSTD_TINH",
        "Chiến sĩ thi đua cấp tỉnh",
        "individual",
        "province_chair",
        (SUBMISSION, ACHIEVEMENT_REPORT, REVIEW_MINUTES, PROVINCE_INITIATIVE_PROOF),
        3.0,
        "eligibility_cstd_tinh",
    ),
    AwardDefinition(
        "CSTD_TQ",
        "Chiến sĩ thi đua toàn quốc",
        "individual",
        "prime_minister",
        (SUBMISSION, ACHIEVEMENT_REPORT, REVIEW_MINUTES, NATIONAL_INITIATIVE_PROOF),
        4.5,
        "eligibility_cstd_tq",
        public_notice=True,  # Decree 98/2023 Art. 46
    ),
    AwardDefinition(
        "TTLDTT",
        "Tập thể lao động tiên tiến",
        "collective",
        "unit_head",
        (SUBMISSION, COLLECTIVE_REPORT, REVIEW_MINUTES),
        0.8,
        "eligibility_ttldtt",
    ),
    AwardDefinition(
        "TTLDXS",
        "Tập thể lao động xuất sắc",
        "collective",
        "province_chair",
        (SUBMISSION, COLLECTIVE_REPORT, REVIEW_MINUTES),
        1.5,
        "eligibility_ttldxs",
    ),
    AwardDefinition(
        "CO_TINH",
        "Cờ thi đua của Ủy ban nhân dân tỉnh",
        "collective",
        "province_chair",
        (SUBMISSION, COLLECTIVE_REPORT, BLOC_MINUTES),
        8.0,
        "eligibility_co_tinh",
        bloc_vote=True,
    ),
    AwardDefinition(
        "CO_CP",
        "Cờ thi đua của Chính phủ",
        "collective",
        "prime_minister",
        (SUBMISSION, COLLECTIVE_REPORT, BLOC_MINUTES),
        12.0,
        "eligibility_co_cp",
    ),
    AwardDefinition(
        "GIAY_KHEN",
        "Giấy khen",
        "individual",
        "unit_head",
        (SUBMISSION, ACHIEVEMENT_REPORT),
        0.3,
        "eligibility_giay_khen",
    ),
    AwardDefinition(
        "BK_TINH",
        "Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh",
        "individual",
        "province_chair",
        (SUBMISSION, ACHIEVEMENT_REPORT, REVIEW_MINUTES, INITIATIVE_PROOF),
        1.0,
        "eligibility_bk_tinh",
    ),
    AwardDefinition(
        "BK_TTG",
        "Bằng khen của Thủ tướng Chính phủ",
        "individual",
        "prime_minister",
        (SUBMISSION, ACHIEVEMENT_REPORT, REVIEW_MINUTES),
        1.5,
        "eligibility_bk_ttg",
    ),
)


def install_rule_set(
    uow: UnitOfWork,
    rule_set_id: str,
    jurisdiction_id: str,
    name: str,
    valid_from: date,
    valid_to: date | None,
    awards: tuple[AwardDefinition, ...] = DEFAULT_AWARDS,
    dmn_dir: str | Path = DMN_DIR,
    actor: str = "system",
) -> RuleSet:
    """Store a rule set, its awards and every .dmn file of `dmn_dir` (content verbatim).

    Raises DomainError when the id is taken, the jurisdiction is unknown, the period is empty or
    overlaps another rule set of the jurisdiction, an award is malformed or its eligibility
    decision is in no file, or there are no .dmn files; DefinitionError (naming the file and
    element) when a file does not parse or a cell is refused."""
    session = uow.session
    if session.get(RuleSet, rule_set_id) is not None:
        raise DomainError("duplicate_rule_set", f"rule set {rule_set_id!r} exists")
    if session.get(Jurisdiction, jurisdiction_id) is None:
        raise DomainError("unknown_jurisdiction", f"no jurisdiction {jurisdiction_id!r}")
    if valid_to is not None and valid_to < valid_from:
        raise DomainError("invalid_period", f"rule set {rule_set_id} ends ({valid_to}) before it starts ({valid_from})")
    # Periods include both ends; no valid_to runs forever. One rule set per achievement period.
    overlapping = session.scalars(
        select(RuleSet).where(
            RuleSet.jurisdiction_id == jurisdiction_id,
            RuleSet.valid_to.is_(None) | (RuleSet.valid_to >= valid_from),
            *([RuleSet.valid_from <= valid_to] if valid_to is not None else []),
        )
    ).first()
    if overlapping is not None:
        raise DomainError(
            "overlapping_rule_set",
            f"rule set {rule_set_id} overlaps {overlapping.id} "
            f"({overlapping.valid_from} to {overlapping.valid_to or 'open'}) in {jurisdiction_id}",
        )
    files = _dmn_files(Path(dmn_dir))
    decisions = DecisionTables(files, uow.runtime.evaluator).ids
    codes = [award.code for award in awards]
    if len(set(codes)) != len(codes):
        raise DomainError("invalid_award", f"award codes appear twice in {codes}")
    for award in awards:
        if award.subject not in SUBJECTS or award.decider_level not in DECIDER_LEVELS:
            raise DomainError(
                "invalid_award", f"award {award.code}: subject {award.subject!r}, decider {award.decider_level!r}"
            )
        if award.eligibility_decision not in decisions:
            raise DomainError(
                "unknown_decision", f"award {award.code}: no decision {award.eligibility_decision!r} in {dmn_dir}"
            )
    rule_set = RuleSet(
        id=rule_set_id, jurisdiction_id=jurisdiction_id, name=name, valid_from=valid_from, valid_to=valid_to
    )
    session.add(rule_set)
    session.flush()
    for award in awards:
        session.add(Award(rule_set_id=rule_set_id, **{**asdict(award), "documents": list(award.documents)}))
    contents = {file.name: file.content.decode("utf-8") for file in files}
    session.add_all(RuleFile(rule_set_id=rule_set_id, name=name, content=text) for name, text in contents.items())
    session.add(
        RuleSetRevision(rule_set_id=rule_set_id, revision=1, files=contents, deployed_at=uow.clock(), deployed_by=actor)
    )
    session.flush()
    return rule_set


def _dmn_files(directory: Path) -> list[BundleFile]:
    paths = sorted(directory.glob("*.dmn"))
    if not paths:
        raise DomainError("no_rule_files", f"no .dmn files in {directory}")
    return [BundleFile(path.name, path.read_bytes()) for path in paths]
