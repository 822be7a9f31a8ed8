"""The demo on today's map (`thidua demo --province ninh-binh-2026`, what `make run` loads): Ninh
Bình after the 1/7/2025 merger of Nam Định, Hà Nam and Ninh Bình, with two tiers of local
government (the province; communes and wards). Its sở have units under them, its new wards and
sở succeed the old ones, and its people's 2023–2025 records come from the award register. The
2026 campaign reviews the achievements of 2025. Every person and user here is fictional.

The rule set is the default catalogue (workflows.awards.catalogue), valid from 1/7/2025; it still
cites Decree 98/2023, which Decree 152/2025/NĐ-CP replaced on that date: the rules are to be
checked against the decree in force (see the README)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select

from engine import UnitOfWork

from ..awards.catalogue import install_rule_set
from ..nominations.models import Campaign
from ..nominees import people
from ..nominees.models import (
    SUBJECT_PERSON,
    SUBJECT_UNIT,
    AchievementRecord,
    Employment,
    Initiative,
    PerformanceRating,
    Person,
)
from ..org.models import (
    Bloc,
    BlocMember,
    Council,
    Jurisdiction,
    Unit,
    UnitSuccession,
    bloc_scope,
    jurisdiction_scope,
    unit_scope,
)
from .province import DemoUser, add_users

DEMO_PASSWORD = "thidua-demo-2026"  # demo data only: printed by `thidua demo` and in the README
PROVINCE = "NINH_BINH"
YEAR = 2025  # the achievement year the 2026 campaign reviews
CAMPAIGN = "NINH_BINH_2026"
RULE_SET = "NINH_BINH_2025"
MERGED_ON = date(2025, 7, 1)

# The communes and wards of the demo (the second tier since 1/7/2025): id: name
COMMUNES = {"P_HOA_LU": "Phường Hoa Lư", "P_NAM_DINH": "Phường Nam Định", "X_HAI_HAU": "Xã Hải Hậu"}
# unit id: (name, jurisdiction, parent unit)
UNITS = {
    "SYT_NB": ("Sở Y tế", PROVINCE, None),
    "BVDK_NB": ("Bệnh viện Đa khoa tỉnh", PROVINCE, "SYT_NB"),
    "SGD_NB": ("Sở Giáo dục và Đào tạo", PROVINCE, None),
    "THPT_LVT": ("Trường THPT Lương Văn Tụy", PROVINCE, "SGD_NB"),
    "SNV_NB": ("Sở Nội vụ", PROVINCE, None),
    "UB_HOA_LU": ("UBND phường Hoa Lư", "P_HOA_LU", None),
    "UB_NAM_DINH": ("UBND phường Nam Định", "P_NAM_DINH", None),
    "UB_HAI_HAU": ("UBND xã Hải Hậu", "X_HAI_HAU", None),
}
# Units of the three provinces before the merger, ended on 30/6/2025: unit id: (name, successor)
PREDECESSORS = {
    "SYT_ND_CU": ("Sở Y tế tỉnh Nam Định (cũ)", "SYT_NB"),
    "SYT_HN_CU": ("Sở Y tế tỉnh Hà Nam (cũ)", "SYT_NB"),
    "SYT_NB_CU": ("Sở Y tế tỉnh Ninh Bình (cũ)", "SYT_NB"),
    "UB_TP_ND_CU": ("UBND thành phố Nam Định (cũ)", "UB_NAM_DINH"),
}
# bloc id: (name, kind, head unit, members)
BLOCS = {
    "KHOI_VHXH_NB": ("Khối Văn hóa – Xã hội", "sector", "SGD_NB", ["SYT_NB", "SGD_NB", "SNV_NB"]),
    "CUM_XA_PHUONG": ("Cụm các xã, phường", "cluster", "UB_HOA_LU", ["UB_HOA_LU", "UB_NAM_DINH", "UB_HAI_HAU"]),
}


J = jurisdiction_scope(PROVINCE)
USERS = [
    DemoUser("quantri", "Quản trị hệ thống", "SNV_NB", (("admin", J),)),
    DemoUser("chutich", "Hà Minh Quân", "SNV_NB", (("decider", J), ("council_member", J)), "chair"),
    DemoUser(
        "truongban",
        "Trịnh Thu Hà",
        "SNV_NB",
        (("board_head", J), ("council_secretary", J), ("council_member", J)),
        "vice_chair",
    ),
    DemoUser("chuyenvien", "Mai Đức Toàn", "SNV_NB", (("board_officer", J),)),
    DemoUser("thanhtra", "Kiều Thị Nga", "SNV_NB", (("auditor", J),)),
    DemoUser(
        "gd.syt", "Lại Văn Bình", "SYT_NB", (("unit_head", unit_scope("SYT_NB")), ("council_member", J)), "member"
    ),
    DemoUser("tdkt.syt", "Tạ Thị Hồng", "SYT_NB", (("unit_officer", unit_scope("SYT_NB")),)),
    DemoUser("gd.bvdk", "Quách Minh Tuấn", "BVDK_NB", (("unit_head", unit_scope("BVDK_NB")),)),
    DemoUser("tdkt.bvdk", "Ninh Thị Yến", "BVDK_NB", (("unit_officer", unit_scope("BVDK_NB")),)),
    DemoUser(
        "gd.sgd",
        "Đàm Quốc Việt",
        "SGD_NB",
        (("unit_head", unit_scope("SGD_NB")), ("bloc_head", bloc_scope("KHOI_VHXH_NB")), ("council_member", J)),
        "member",
    ),
    DemoUser("tdkt.sgd", "Phùng Thị Lý", "SGD_NB", (("unit_officer", unit_scope("SGD_NB")),)),
    DemoUser("ht.lvt", "Lưu Văn Khánh", "THPT_LVT", (("unit_head", unit_scope("THPT_LVT")),)),
    DemoUser("tdkt.lvt", "Hứa Thị Ngân", "THPT_LVT", (("unit_officer", unit_scope("THPT_LVT")),)),
    DemoUser(
        "ct.hoalu",
        "Tống Văn Sơn",
        "UB_HOA_LU",
        (("unit_head", unit_scope("UB_HOA_LU")), ("bloc_head", bloc_scope("CUM_XA_PHUONG"))),
    ),
    DemoUser("tdkt.hoalu", "Lã Thị Phương", "UB_HOA_LU", (("unit_officer", unit_scope("UB_HOA_LU")),)),
    DemoUser("ct.namdinh", "Cù Văn Hải", "UB_NAM_DINH", (("unit_head", unit_scope("UB_NAM_DINH")),)),
]

HTXS, HTT = "HTXSNV", "HTTNV"


@dataclass(frozen=True)
class DemoPerson:
    id: str
    full_name: str
    unit: str
    since: date
    ratings: dict[int, str]
    awards: tuple[tuple[int, str, str], ...] = ()  # (year, award code, decision number) from the register
    initiative: int | None = None  # the year of a recognised initiative
    earlier_unit: str | None = None  # worked there until the merger


PEOPLE = [
    DemoPerson(
        "nb-dieu-duong-an",
        "Bạch Thị An",
        "BVDK_NB",
        date(2016, 8, 1),
        {2023: HTXS, 2024: HTXS, 2025: HTXS},
        ((2023, "LDTT", "15/QĐ-BV"), (2024, "LDTT", "12/QĐ-BV"), (2024, "CSTDCS", "13/QĐ-BV")),
        initiative=2025,
    ),
    DemoPerson(
        "nb-bac-si-cuong",
        "Văn Đức Cường",
        "BVDK_NB",
        date(2012, 3, 1),
        {2023: HTT, 2024: HTT, 2025: HTT},
        ((2023, "LDTT", "15/QĐ-BV"), (2024, "LDTT", "12/QĐ-BV")),
    ),
    DemoPerson(
        "nb-giao-vien-dung",
        "Chu Thị Dung",
        "THPT_LVT",
        date(2014, 9, 5),
        {2023: HTXS, 2024: HTXS, 2025: HTXS},
        ((2023, "LDTT", "21/QĐ-THPT"), (2023, "CSTDCS", "22/QĐ-SGDĐT"), (2024, "LDTT", "19/QĐ-THPT")),
        initiative=2024,
    ),
    DemoPerson(
        "nb-cong-chuc-giang",
        "Lò Văn Giang",
        "UB_NAM_DINH",
        date(2010, 1, 4),
        {2023: HTT, 2024: HTT, 2025: HTXS},
        ((2023, "LDTT", "30/QĐ-UBND"), (2024, "LDTT", "28/QĐ-UBND")),
        earlier_unit="UB_TP_ND_CU",
    ),
    DemoPerson("nb-chuyen-vien-hoa", "Âu Thị Hoa", "SYT_NB", date(2019, 6, 1), {2024: HTT, 2025: HTT}),
]
UNIT_AWARDS = [("UB_TP_ND_CU", 2024, "TTLDXS", "120/QĐ-UBND"), ("SYT_NB_CU", 2024, "TTLDTT", "98/QĐ-UBND")]

DEMO_NOMINATIONS = [
    (("nb-dieu-duong-an", "CSTDCS", "BVDK_NB", "tdkt.bvdk", "merit"), []),
    (
        ("nb-giao-vien-dung", "LDTT", "THPT_LVT", "tdkt.lvt", "merit"),
        [("draft_nomination", None, {"summary": "Hoàn thành xuất sắc nhiệm vụ năm học 2024–2025"})],
    ),
]


def add_province(uow: UnitOfWork, decisions_dir: Path) -> None:
    """The province, its communes and wards, units with their history, blocs, council, users,
    people with their records, the 2026 campaign and the rule set."""
    session = uow.session
    session.add(Jurisdiction(id=PROVINCE, name="Tỉnh Ninh Bình", level="province", decision_suffix="QĐ-UBND"))
    session.flush()
    session.add_all(
        Jurisdiction(id=jid, name=name, level="commune", parent_id=PROVINCE, decision_suffix="QĐ-UBND")
        for jid, name in COMMUNES.items()
    )
    session.flush()
    for unit_id, (name, jurisdiction, parent) in UNITS.items():
        session.add(Unit(id=unit_id, name=name, jurisdiction_id=jurisdiction, parent_id=parent, valid_from=MERGED_ON))
        session.flush()
    for unit_id, (name, successor) in PREDECESSORS.items():
        session.add(Unit(id=unit_id, name=name, jurisdiction_id=PROVINCE, valid_to=date(2025, 6, 30)))
        session.flush()
        session.add(UnitSuccession(successor_id=successor, predecessor_id=unit_id, since=MERGED_ON))
    for bloc_id, (name, kind, head, members) in BLOCS.items():
        session.add(Bloc(id=bloc_id, name=name, kind=kind, jurisdiction_id=PROVINCE))
        session.flush()
        session.add_all(BlocMember(bloc_id=bloc_id, unit_id=unit, year=YEAR, is_head=unit == head) for unit in members)
    council = Council(
        id="HDTDKT_NINH_BINH", name="Hội đồng Thi đua – Khen thưởng tỉnh Ninh Bình", jurisdiction_id=PROVINCE
    )
    session.add(council)
    add_users(uow, USERS, council, BLOCS, DEMO_PASSWORD, "ninhbinh")
    session.add(
        Campaign(
            id=CAMPAIGN,
            jurisdiction_id=PROVINCE,
            name="Phong trào thi đua năm 2025 (xét khen thưởng năm 2026)",
            year=YEAR,
            theme="Đoàn kết, sáng tạo, xây dựng tỉnh Ninh Bình mới sau hợp nhất",
            registration_deadline=date(2025, 3, 31),
            submission_deadline=date(2026, 1, 15),
        )
    )
    session.flush()
    install_rule_set(
        uow,
        RULE_SET,
        PROVINCE,
        "Quy định khen thưởng tỉnh Ninh Bình (mẫu; chưa đối chiếu Nghị định 152/2025/NĐ-CP)",
        MERGED_ON,
        None,
        dmn_dir=decisions_dir,
    )
    _add_people(uow)


def _add_people(uow: UnitOfWork) -> None:
    session = uow.session
    for person in PEOPLE:
        first_unit = person.earlier_unit or person.unit
        people.add_person(
            session, person_id=person.id, full_name=person.full_name, unit_id=first_unit, recruited_on=person.since
        )
        if person.earlier_unit:  # moved with the merger: the old unit until 30/6/2025, the new one since
            session.flush()
            (first,) = session.scalars(select(Employment).where(Employment.person_id == person.id))
            first.ended_on = date(2025, 6, 30)
            session.add(Employment(person_id=person.id, unit_id=person.unit, started_on=MERGED_ON))
            session.get(Person, person.id).unit_id = person.unit  # where they work now
        session.add_all(PerformanceRating(person_id=person.id, year=y, rating=r) for y, r in person.ratings.items())
        session.add_all(
            AchievementRecord(
                subject_kind=SUBJECT_PERSON,
                subject_id=person.id,
                year=year,
                award_code=code,
                decision_code=number,
                decided_on=date(year + 1, 1, 20),
                counts_for_merit=True,
            )
            for year, code, number in person.awards
        )
        if person.initiative:
            session.add(
                Initiative(
                    person_id=person.id,
                    year=person.initiative,
                    scope="unit",
                    title="Sáng kiến cải tiến quy trình chuyên môn",
                    document_number=f"{person.initiative % 100}/QĐ-HĐSK",
                    document_date=date(person.initiative, 11, 30),
                    issued_by="Hội đồng sáng kiến cơ sở",
                )
            )
    session.add_all(
        AchievementRecord(
            subject_kind=SUBJECT_UNIT,
            subject_id=unit,
            year=year,
            award_code=code,
            decision_code=number,
            decided_on=date(year + 1, 2, 10),
            decider_level="province_chair",
            counts_for_merit=True,
        )
        for unit, year, code, number in UNIT_AWARDS
    )
    session.flush()
