"""Rule sets, features from history and the eligibility check, end to end on each database."""

from __future__ import annotations

import shutil
from datetime import date

import pytest
from sqlalchemy import select

from engine import DefinitionError
from workflows.awards import eligibility as awards
from workflows.awards.catalogue import DMN_DIR, install_rule_set
from workflows.awards.models import Award, RuleFile
from workflows.errors import DomainError
from workflows.nominees import features, people
from workflows.nominees.models import AchievementRecord, Initiative, PerformanceRating, Person, Restriction
from workflows.org.models import Bloc, BlocMember, Jurisdiction, Unit

PROVINCE = "NAM_DINH"
RULE_SET = "ND_2024"
CHECKED_ON = date(2025, 3, 1)


@pytest.fixture
def rules_province(services):
    """A province with two units and the default rule set from 2024 on."""
    with services.uow() as uow:
        uow.session.add(Jurisdiction(id=PROVINCE, name="Tỉnh Nam Định", level="province", decision_suffix="QĐ-UBND"))
        uow.session.flush()
        uow.session.add_all(
            [
                Unit(id="SO_NOI_VU", name="Sở Nội vụ", jurisdiction_id=PROVINCE),
                Unit(id="SO_TAI_CHINH", name="Sở Tài chính", jurisdiction_id=PROVINCE),
            ]
        )
        uow.session.flush()
        install_rule_set(uow, RULE_SET, PROVINCE, "Quy định khen thưởng từ 2024", date(2024, 1, 1), None)
        uow.commit()
    return services


def add_history(services, *rows) -> None:
    """Store the rows in order; a person enters with their first employment, as people.add_person does."""
    with services.uow() as uow:
        for row in rows:
            if isinstance(row, Person):
                people.add_person(
                    uow.session,
                    person_id=row.id,
                    full_name=row.full_name,
                    unit_id=row.unit_id,
                    recruited_on=row.recruited_on,
                )
            else:
                uow.session.add(row)
            uow.session.flush()
        uow.commit()


def person(person_id: str, recruited_on: date = date(2015, 1, 1), unit_id: str = "SO_NOI_VU") -> Person:
    return Person(id=person_id, full_name=person_id, unit_id=unit_id, recruited_on=recruited_on)


def title(subject_id: str, year: int, code: str, *, kind: str = "person", merit: bool = True) -> AchievementRecord:
    return AchievementRecord(
        subject_kind=kind, subject_id=subject_id, year=year, award_code=code, counts_for_merit=merit
    )


def stricter_ldtt(dmn: str) -> str:
    """The LDTT table with 12 months of service instead of 6 (an invented rule, as data)."""
    return dmn.replace("? &gt;= 6", "? &gt;= 12").replace("? &lt; 6", "? &lt; 12")


def check(services, code: str, year: int = 2024, rule_set: str = RULE_SET, **nominee) -> awards.EligibilityReport:
    with services.uow() as uow:
        return awards.check_eligibility(
            uow, services.runtime.evaluator, rule_set, code, year=year, as_of=CHECKED_ON, **nominee
        )


def statuses(report: awards.EligibilityReport) -> dict[str, str]:
    return {c.code: c.status for c in report.criteria}


def test_install_stores_awards_and_every_dmn_file(rules_province):
    with rules_province.uow() as uow:
        awards_by_code = {a.code: a for a in uow.session.scalars(select(Award).where(Award.rule_set_id == RULE_SET))}
        rule_files = uow.session.scalars(select(RuleFile).where(RuleFile.rule_set_id == RULE_SET))
        files = {f.name: f.content for f in rule_files}
        assert len(awards_by_code) == 11
        assert awards_by_code["CSTD_TQ"].public_notice and awards_by_code["CO_TINH"].bloc_vote
        assert awards_by_code["LDTT"].reward_multiple == 0.3 and awards_by_code["CSTD_TINH"].reward_multiple == 3.0
        assert "Tờ trình đề nghị khen thưởng" in awards_by_code["CSTDCS"].documents
    on_disk = {p.name: p.read_bytes().decode("utf-8") for p in DMN_DIR.glob("*.dmn")}
    assert files == on_disk and "eligibility_ldtt.dmn" in files


def test_ldtt_is_met_failed_or_unknown_from_the_history(rules_province):
    add_history(
        rules_province,
        person("an"),
        PerformanceRating(person_id="an", year=2024, rating="HTTNV"),
        person("binh", recruited_on=date(2024, 7, 2)),
        PerformanceRating(person_id="binh", year=2024, rating="HTXSNV"),
        person("chi"),
    )
    assert check(rules_province, "LDTT", person_id="an").eligible
    late = check(rules_province, "LDTT", person_id="binh")
    assert [c.code for c in late.failing] == ["service_length"] and "5 tháng" in late.failing[0].reason
    unrated = check(rules_province, "LDTT", person_id="chi")
    assert not unrated.eligible and not unrated.failing
    assert [c.code for c in unrated.unknown] == ["performance_rating"]


def test_cstd_tinh_counts_an_unbroken_run_of_merit_titles(rules_province):
    add_history(
        rules_province,
        person("dung"),
        *(title("dung", y, "CSTDCS") for y in (2022, 2023, 2024)),
        Initiative(person_id="dung", year=2023, scope="province", title="Số hóa hồ sơ khen thưởng"),
        # an ad hoc title does not count towards merit awards (Decree 98/2023 Art. 4)
        person("giang"),
        title("giang", 2022, "CSTDCS", merit=False),
        *(title("giang", y, "CSTDCS") for y in (2023, 2024)),
        Initiative(person_id="giang", year=2024, scope="national", title="Phần mềm bình xét"),
        # a run already rewarded with CSTD_TINH is not counted again
        person("ha"),
        *(title("ha", y, "CSTDCS") for y in range(2019, 2025)),
        title("ha", 2023, "CSTD_TINH"),
    )
    assert check(rules_province, "CSTD_TINH", person_id="dung").eligible
    giang = statuses(check(rules_province, "CSTD_TINH", person_id="giang"))
    assert giang == {"cstdcs_consecutive": "not_met", "province_initiative": "met", "no_restriction": "met"}
    assert statuses(check(rules_province, "CSTD_TINH", person_id="ha"))["cstdcs_consecutive"] == "not_met"
    with rules_province.uow() as uow:
        ha = features.person_features(uow.session, "ha", 2024, CHECKED_ON)
    assert (ha["cstdcs_consecutive_years"], ha["cstdcs_years_since_cstd_tinh"]) == (6, 1)


def test_person_features_read_the_whole_history(rules_province):
    add_history(
        rules_province,
        person("khanh", recruited_on=date(2017, 3, 15)),
        *(
            PerformanceRating(person_id="khanh", year=y, rating=r)
            for y, r in [
                (2018, "HTNV"),
                (2019, "HTTNV"),
                (2020, "HTXSNV"),
                (2021, "HTTNV"),
                (2022, "HTXSNV"),
                (2023, "HTXSNV"),
                (2024, "HTXSNV"),
            ]
        ),
        title("khanh", 2019, "BK_TINH"),
        title("khanh", 2024, "LDTT"),
        *(title("khanh", y, "CSTDCS") for y in (2020, 2022, 2023, 2024)),
        title("khanh", 2025, "CSTDCS"),  # after the achievement year: ignored
        Initiative(person_id="khanh", year=2023, scope="unit", title="a"),
        Initiative(person_id="khanh", year=2024, scope="province", title="b"),
    )
    with rules_province.uow() as uow:
        assert features.person_features(uow.session, "khanh", 2024, CHECKED_ON) == {
            "rating": "HTXSNV",
            "months_employed": 93,
            "ldtt_this_year": True,
            "cstdcs_consecutive_years": 3,
            "cstdcs_years_since_cstd_tinh": 3,
            "initiatives_unit": 1,
            "initiatives_province": 1,
            "cstd_tinh_consecutive": 0,
            "initiatives_national": 0,
            "htxsnv_consecutive_years": 3,
            "initiatives_in_run": 2,
            "holds_bk_tinh": True,
            "good_rating_years_since_bk_tinh": 5,
            "cstdcs_since_bk_tinh": 4,
            "restricted": False,
        }
    assert statuses(check(rules_province, "BK_TTG", person_id="khanh")) == {
        "holds_bk_tinh": "met",
        "good_rating_years": "met",
        "cstdcs_count": "met",
        "no_restriction": "met",
    }
    assert check(rules_province, "BK_TINH", person_id="khanh").eligible
    assert statuses(check(rules_province, "CSTD_TQ", person_id="khanh"))["cstd_tinh_consecutive"] == "not_met"


def test_collective_awards_read_the_members(rules_province):
    members = [person(f"m{i}") for i in range(10)]
    add_history(
        rules_province,
        *members,
        *(PerformanceRating(person_id=m.id, year=2024, rating="HTTNV") for m in members[:9]),
        *(title(m.id, 2024, "LDTT") for m in members[:6]),
        title("m6", 2024, "CSTDCS"),  # presupposes LDTT: 7 of 10
    )
    report = check(rules_province, "TTLDXS", unit_id="SO_NOI_VU")
    assert statuses(report) == {
        "members_complete_tasks": "unknown",
        "ldtt_share": "met",
        "cstdcs_member": "met",
        "no_restriction": "met",
    }
    add_history(rules_province, PerformanceRating(person_id="m9", year=2024, rating="KHT"))
    report = check(rules_province, "TTLDXS", unit_id="SO_NOI_VU")
    assert [c.code for c in report.failing] == ["members_complete_tasks"] and "90%" in report.failing[0].reason
    assert check(rules_province, "TTLDTT", unit_id="SO_NOI_VU").eligible
    assert statuses(check(rules_province, "TTLDTT", unit_id="SO_TAI_CHINH"))["ldtt_share"] == "unknown"  # no members


def test_co_tinh_follows_the_bloc_vote(rules_province):
    add_history(
        rules_province,
        Bloc(id="KHOI_TONG_HOP", name="Khối các cơ quan tổng hợp", kind="sector", jurisdiction_id=PROVINCE),
        BlocMember(bloc_id="KHOI_TONG_HOP", unit_id="SO_NOI_VU", year=2024, is_head=True),
        BlocMember(bloc_id="KHOI_TONG_HOP", unit_id="SO_TAI_CHINH", year=2024),
    )
    assert statuses(check(rules_province, "CO_TINH", unit_id="SO_NOI_VU"))["bloc_leader"] == "unknown"
    add_history(rules_province, title("SO_TAI_CHINH", 2024, "BLOC_LEADER", kind="unit"))
    assert check(rules_province, "CO_TINH", unit_id="SO_TAI_CHINH").eligible
    assert statuses(check(rules_province, "CO_TINH", unit_id="SO_NOI_VU"))["bloc_leader"] == "not_met"
    assert statuses(check(rules_province, "CO_CP", unit_id="SO_TAI_CHINH"))["co_tinh_this_year"] == "not_met"
    add_history(rules_province, title("SO_TAI_CHINH", 2024, "CO_TINH", kind="unit"))
    assert check(rules_province, "CO_CP", unit_id="SO_TAI_CHINH").eligible


def test_an_open_restriction_fails_every_award(rules_province):
    add_history(
        rules_province,
        person("lan"),
        PerformanceRating(person_id="lan", year=2024, rating="HTXSNV"),
        Restriction(
            subject_kind="person",
            subject_id="lan",
            kind="discipline",
            started_on=date(2024, 6, 1),
            ended_on=date(2025, 2, 28),
        ),
        Restriction(
            subject_kind="person", subject_id="lan", kind="investigation", started_on=date(2025, 3, 1), ended_on=None
        ),
        Restriction(
            subject_kind="unit",
            subject_id="SO_NOI_VU",
            kind="inspection",
            started_on=date(2025, 1, 1),
            ended_on=date(2025, 3, 1),
        ),
    )
    with rules_province.uow() as uow:
        assert [r.kind for r in awards.open_restrictions(uow, "person", "lan", CHECKED_ON)] == ["investigation"]
        assert [r.kind for r in awards.open_restrictions(uow, "person", "lan", date(2025, 2, 28))] == ["discipline"]
        assert awards.open_restrictions(uow, "unit", "SO_NOI_VU", date(2025, 3, 2)) == []
    for code in ("LDTT", "GIAY_KHEN"):
        report = check(rules_province, code, person_id="lan")
        assert [c.code for c in report.failing] == ["no_restriction"]
    assert statuses(check(rules_province, "TTLDTT", unit_id="SO_NOI_VU"))["no_restriction"] == "not_met"
    assert check(
        rules_province, "GIAY_KHEN", person_id="lan", year=2023
    ).failing  # the check date decides, not the year


def test_rule_set_in_force_is_chosen_by_achievement_year(rules_province, tmp_path):
    # The 2022-2023 rules differ from the 2024 ones only in data.
    old_rules = tmp_path / "decisions"
    shutil.copytree(DMN_DIR, old_rules)
    ldtt = old_rules / "eligibility_ldtt.dmn"
    ldtt.write_text(stricter_ldtt(ldtt.read_text(encoding="utf-8")), encoding="utf-8")
    with rules_province.uow() as uow:
        install_rule_set(
            uow, "ND_2022", PROVINCE, "Quy định 2022–2023", date(2022, 1, 1), date(2023, 12, 31), dmn_dir=old_rules
        )
        uow.commit()
    with rules_province.uow() as uow:
        assert awards.rule_set_in_force(uow, PROVINCE, 2022).id == "ND_2022"
        assert awards.rule_set_in_force(uow, PROVINCE, 2023).id == "ND_2022"
        assert awards.rule_set_in_force(uow, PROVINCE, 2024).id == RULE_SET
        assert awards.rule_set_in_force(uow, PROVINCE, 2031).id == RULE_SET
        with pytest.raises(DomainError) as caught:
            awards.rule_set_in_force(uow, PROVINCE, 2021)
        assert caught.value.code == "no_rule_set"
    add_history(
        rules_province,
        person("minh", recruited_on=date(2023, 3, 1)),
        *(PerformanceRating(person_id="minh", year=y, rating="HTTNV") for y in (2023, 2024)),
    )
    assert [c.code for c in check(rules_province, "LDTT", 2023, "ND_2022", person_id="minh").failing] == [
        "service_length"
    ]
    assert check(rules_province, "LDTT", 2023, RULE_SET, person_id="minh").eligible
    assert check(rules_province, "LDTT", 2024, "ND_2022", person_id="minh").eligible  # 22 months


def test_an_edited_rule_file_takes_effect(rules_province):
    add_history(
        rules_province,
        person("nga", recruited_on=date(2024, 3, 1)),
        PerformanceRating(person_id="nga", year=2024, rating="HTTNV"),
    )
    assert check(rules_province, "LDTT", person_id="nga").eligible
    with rules_province.uow() as uow:
        rule_file = uow.session.get(RuleFile, (RULE_SET, "eligibility_ldtt.dmn"))
        rule_file.content = stricter_ldtt(rule_file.content)
        uow.commit()
    assert [c.code for c in check(rules_province, "LDTT", person_id="nga").failing] == ["service_length"]


@pytest.mark.parametrize(
    ("valid_from", "valid_to"),
    [(date(2023, 6, 1), date(2024, 6, 30)), (date(2026, 1, 1), None), (date(2020, 1, 1), None)],
)
def test_overlapping_rule_sets_are_refused(rules_province, valid_from, valid_to):
    with rules_province.uow() as uow, pytest.raises(DomainError) as caught:
        install_rule_set(uow, "ND_OTHER", PROVINCE, "Trùng thời gian", valid_from, valid_to)
    assert caught.value.code == "overlapping_rule_set"


def test_adjacent_rule_sets_and_other_jurisdictions_do_not_overlap(rules_province):
    with rules_province.uow() as uow:
        uow.session.add(
            Jurisdiction(id="GIA_NGHIA", name="Thành phố Gia Nghĩa", level="city", decision_suffix="QĐ-UBND")
        )
        uow.session.flush()
        install_rule_set(uow, "ND_2023", PROVINCE, "Năm 2023", date(2023, 1, 1), date(2023, 12, 31))
        install_rule_set(uow, "GN_2024", "GIA_NGHIA", "Gia Nghĩa", date(2024, 1, 1), None)
        uow.commit()
    with rules_province.uow() as uow:
        assert awards.rule_set_in_force(uow, "GIA_NGHIA", 2024).id == "GN_2024"


def test_rule_files_that_do_not_parse_are_refused(rules_province, tmp_path):
    shutil.copytree(DMN_DIR, tmp_path / "decisions")
    (tmp_path / "decisions" / "eligibility_ldtt.dmn").write_text("<definitions", encoding="utf-8")
    with rules_province.uow() as uow, pytest.raises(DefinitionError) as caught:
        install_rule_set(
            uow, "ND_2020", PROVINCE, "Hỏng", date(2020, 1, 1), date(2020, 12, 31), dmn_dir=tmp_path / "decisions"
        )
    assert caught.value.file == "eligibility_ldtt.dmn"


def test_the_nominee_must_match_the_award_subject(rules_province):
    add_history(rules_province, person("oanh"))
    for code, nominee in [
        ("LDTT", {"unit_id": "SO_NOI_VU"}),
        ("TTLDTT", {"person_id": "oanh"}),
        ("LDTT", {"person_id": "oanh", "unit_id": "SO_NOI_VU"}),
    ]:
        with pytest.raises(DomainError) as caught:
            check(rules_province, code, **nominee)
        assert caught.value.code == "wrong_subject"
    with pytest.raises(DomainError) as caught:
        check(rules_province, "HUAN_CHUONG", person_id="oanh")
    assert caught.value.code == "unknown_award"
    with pytest.raises(DomainError) as caught:
        check(rules_province, "LDTT", person_id="nobody")
    assert caught.value.code == "unknown_person"


def test_feature_names_are_what_the_feature_functions_return(rules_province):
    """The designer checks the tables' inputs against these names: they must not drift."""
    add_history(rules_province, person("featured"))
    with rules_province.uow() as uow:
        assert tuple(features.person_features(uow.session, "featured", 2024, CHECKED_ON)) == features.PERSON_FEATURES
        assert tuple(features.unit_features(uow.session, "SO_NOI_VU", 2024, CHECKED_ON)) == features.UNIT_FEATURES
