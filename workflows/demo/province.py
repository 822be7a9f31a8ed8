"""The demo province behind `thidua demo`: Nam Định's 2022 campaign (DOMAIN.md), its units,
blocs, council and staff, the award rule set, nominees whose histories make every award's
eligibility pass for someone and fail for someone else, and nominations to leave at several
steps. Demo data only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from engine import UnitOfWork

from ..accounts.passwords import hash_password
from ..awards.catalogue import install_rule_set
from ..nominations.models import Campaign
from ..nominees import people
from ..nominees.models import (
    SUBJECT_PERSON,
    SUBJECT_UNIT,
    AchievementRecord,
    Initiative,
    PerformanceRating,
    Restriction,
)
from ..org.models import (
    Bloc,
    BlocMember,
    Council,
    CouncilMember,
    Jurisdiction,
    RoleAssignment,
    Unit,
    User,
    bloc_scope,
    jurisdiction_scope,
    unit_scope,
)

DEMO_PASSWORD = "thidua-demo-2022"  # demo data only: printed by `thidua demo` and in the README
PROVINCE = "NAM_DINH"
YEAR = 2022
RULE_SET = "NAM_DINH_2022"
CAMPAIGN = "NAM_DINH_2022"

UNITS = {
    "SO_NOI_VU": "Sở Nội vụ",
    "SO_GD_DT": "Sở Giáo dục và Đào tạo",
    "SO_Y_TE": "Sở Y tế",
    "SO_VHTTDL": "Sở Văn hóa, Thể thao và Du lịch",
    "SO_TAI_CHINH": "Sở Tài chính",
    "SO_KH_DT": "Sở Kế hoạch và Đầu tư",
    "SO_NN_PTNT": "Sở Nông nghiệp và Phát triển nông thôn",
    "SO_CONG_THUONG": "Sở Công Thương",
    "TP_NAM_DINH": "UBND thành phố Nam Định",
    "HAI_HAU": "UBND huyện Hải Hậu",
    "GIAO_THUY": "UBND huyện Giao Thủy",
    "Y_YEN": "UBND huyện Ý Yên",
}
# bloc id: (name, kind, head unit, member units)
BLOCS = {
    "KHOI_VHXH": ("Khối Văn hóa – Xã hội", "sector", "SO_GD_DT", ["SO_NOI_VU", "SO_GD_DT", "SO_Y_TE", "SO_VHTTDL"]),
    "KHOI_KINH_TE": (
        "Khối Kinh tế",
        "sector",
        "SO_TAI_CHINH",
        ["SO_TAI_CHINH", "SO_KH_DT", "SO_NN_PTNT", "SO_CONG_THUONG"],
    ),
    "CUM_HUYEN": (
        "Cụm các huyện, thành phố",
        "cluster",
        "TP_NAM_DINH",
        ["TP_NAM_DINH", "HAI_HAU", "GIAO_THUY", "Y_YEN"],
    ),
}


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    unit: str
    roles: tuple[tuple[str, str | None], ...]  # (role, scope)
    council_position: str | None = None


# Fictional people only: no demo user bears the name of a real official.
J = jurisdiction_scope(PROVINCE)
USERS = [
    DemoUser("admin", "Quản trị hệ thống", "SO_NOI_VU", (("admin", J),)),
    DemoUser("thiet.ke", "Vũ Minh Đức", "SO_NOI_VU", (("designer", J),)),
    DemoUser("thanh.tra", "Đỗ Thị Hằng", "SO_NOI_VU", (("auditor", J),)),
    DemoUser("chu.tich", "Đinh Quốc Khải", "SO_NOI_VU", (("decider", J), ("council_member", J)), "chair"),
    DemoUser("pho.chu.tich", "Lương Thị Diệu Linh", "SO_NOI_VU", (("council_member", J),), "vice_chair"),
    DemoUser(
        "gd.noi.vu",
        "Ngô Thị Hoa",
        "SO_NOI_VU",
        (("unit_head", unit_scope("SO_NOI_VU")), ("council_member", J)),
        "standing_vice_chair",
    ),
    DemoUser(
        "truong.ban",
        "Lê Văn Thành",
        "SO_NOI_VU",
        (("board_head", J), ("council_secretary", J), ("council_member", J)),
        "vice_chair",
    ),
    DemoUser("chuyen.vien.1", "Nguyễn Thu Trang", "SO_NOI_VU", (("board_officer", J),)),
    DemoUser("chuyen.vien.2", "Hoàng Văn Nam", "SO_NOI_VU", (("board_officer", J),)),
    DemoUser(
        "gd.giao.duc",
        "Cao Xuân Thảo",
        "SO_GD_DT",
        (("unit_head", unit_scope("SO_GD_DT")), ("bloc_head", bloc_scope("KHOI_VHXH")), ("council_member", J)),
        "member",
    ),
    DemoUser("tdkt.giao.duc", "Mai Thị Lan", "SO_GD_DT", (("unit_officer", unit_scope("SO_GD_DT")),)),
    DemoUser(
        "gd.y.te", "Đoàn Văn Hải", "SO_Y_TE", (("unit_head", unit_scope("SO_Y_TE")), ("council_member", J)), "member"
    ),
    DemoUser("tdkt.y.te", "Vũ Thị Mến", "SO_Y_TE", (("unit_officer", unit_scope("SO_Y_TE")),)),
    DemoUser("gd.van.hoa", "Trịnh Văn Bình", "SO_VHTTDL", (("unit_head", unit_scope("SO_VHTTDL")),)),
    DemoUser("tdkt.van.hoa", "Phan Thị Yến", "SO_VHTTDL", (("unit_officer", unit_scope("SO_VHTTDL")),)),
    DemoUser(
        "gd.tai.chinh",
        "Bùi Quang Huy",
        "SO_TAI_CHINH",
        (("unit_head", unit_scope("SO_TAI_CHINH")), ("bloc_head", bloc_scope("KHOI_KINH_TE")), ("council_member", J)),
        "member",
    ),
    DemoUser("tdkt.tai.chinh", "Lưu Thị Nga", "SO_TAI_CHINH", (("unit_officer", unit_scope("SO_TAI_CHINH")),)),
    DemoUser("gd.ke.hoach", "Đinh Công Sơn", "SO_KH_DT", (("unit_head", unit_scope("SO_KH_DT")),)),
    DemoUser("tdkt.ke.hoach", "Tạ Thị Thu", "SO_KH_DT", (("unit_officer", unit_scope("SO_KH_DT")),)),
    DemoUser(
        "ct.thanh.pho",
        "Nguyễn Anh Tuấn",
        "TP_NAM_DINH",
        (("unit_head", unit_scope("TP_NAM_DINH")), ("bloc_head", bloc_scope("CUM_HUYEN")), ("council_member", J)),
        "member",
    ),
    DemoUser("tdkt.thanh.pho", "Lại Thị Hương", "TP_NAM_DINH", (("unit_officer", unit_scope("TP_NAM_DINH")),)),
    DemoUser(
        "ct.hai.hau",
        "Trần Văn Phúc",
        "HAI_HAU",
        (("unit_head", unit_scope("HAI_HAU")), ("council_member", J)),
        "member",
    ),
    DemoUser("tdkt.hai.hau", "Đặng Thị Liên", "HAI_HAU", (("unit_officer", unit_scope("HAI_HAU")),)),
    DemoUser("ct.giao.thuy", "Phạm Văn Cường", "GIAO_THUY", (("unit_head", unit_scope("GIAO_THUY")),)),
    DemoUser("tdkt.giao.thuy", "Hà Thị Nhung", "GIAO_THUY", (("unit_officer", unit_scope("GIAO_THUY")),)),
    DemoUser("ct.y.yen", "Vũ Đức Thắng", "Y_YEN", (("unit_head", unit_scope("Y_YEN")),)),
]
# Members of the other blocs' units (bloc scoring and votes).
BLOC_MEMBER_ROLE = "bloc_member"

HTXS, HTT, HT = "HTXSNV", "HTTNV", "HTNV"


@dataclass(frozen=True)
class DemoNominee:
    """A person whose history makes `award` pass (eligible) or fail for the 2022 campaign."""

    id: str
    full_name: str
    unit: str
    award: str
    eligible: bool
    ratings: dict[int, str]
    titles: dict[int, tuple[str, ...]]
    initiatives: tuple[tuple[int, str], ...] = ()
    recruited_on: date = date(2012, 9, 1)
    restricted: str | None = None


def _years(first: int, last: int, rating: str) -> dict[int, str]:
    return {year: rating for year in range(first, last + 1)}


NOMINEES = [
    DemoNominee("nv-ldtt-dat", "Trần Thị Thu Hà", "SO_Y_TE", "LDTT", True, {2022: HTT}, {}),
    DemoNominee(
        "nv-ldtt-moi", "Lê Minh Khoa", "SO_Y_TE", "LDTT", False, {2022: HTT}, {}, recruited_on=date(2022, 9, 1)
    ),
    DemoNominee("nv-cstdcs-dat", "Phạm Thị Hồng", "SO_GD_DT", "CSTDCS", True, {2022: HTXS}, {2022: ("LDTT",)}),
    DemoNominee("nv-cstdcs-chua", "Đỗ Văn Long", "SO_GD_DT", "CSTDCS", False, {2022: HTT}, {2022: ("LDTT",)}),
    DemoNominee(
        "nv-cstdt-dat",
        "Nguyễn Thị Thanh",
        "SO_GD_DT",
        "CSTD_TINH",
        True,
        _years(2020, 2022, HTXS),
        {y: ("LDTT", "CSTDCS") for y in (2020, 2021, 2022)},
        ((2022, "province"),),
    ),
    DemoNominee(
        "nv-cstdt-chua",
        "Vũ Quang Minh",
        "SO_Y_TE",
        "CSTD_TINH",
        False,
        _years(2021, 2022, HTXS),
        {y: ("LDTT", "CSTDCS") for y in (2021, 2022)},
        ((2022, "province"),),
    ),
    DemoNominee(
        "nv-cstdtq-dat",
        "Hoàng Thị Mai",
        "SO_Y_TE",
        "CSTD_TQ",
        True,
        _years(2020, 2022, HTXS),
        {2020: ("CSTDCS",), 2021: ("CSTD_TINH",), 2022: ("CSTD_TINH",)},
        ((2022, "national"),),
    ),
    DemoNominee(
        "nv-cstdtq-chua",
        "Bùi Văn Toàn",
        "SO_TAI_CHINH",
        "CSTD_TQ",
        False,
        _years(2021, 2022, HTXS),
        {2021: ("CSTDCS",), 2022: ("CSTD_TINH",)},
        ((2022, "province"),),
    ),
    DemoNominee(
        "nv-bkt-dat",
        "Đinh Thị Lan Anh",
        "SO_TAI_CHINH",
        "BK_TINH",
        True,
        _years(2021, 2022, HTXS),
        {y: ("LDTT", "CSTDCS") for y in (2021, 2022)},
        ((2021, "unit"), (2022, "unit")),
    ),
    DemoNominee(
        "nv-bkt-chua",
        "Ngô Văn Hùng",
        "SO_TAI_CHINH",
        "BK_TINH",
        False,
        _years(2021, 2022, HTXS),
        {y: ("LDTT", "CSTDCS") for y in (2021, 2022)},
        ((2022, "unit"),),
    ),
    DemoNominee(
        "nv-bkttg-dat",
        "Cao Thị Phương",
        "SO_KH_DT",
        "BK_TTG",
        True,
        _years(2016, 2022, HTT),
        {2016: ("BK_TINH",), 2018: ("CSTDCS",), 2020: ("CSTDCS",), 2022: ("CSTDCS",)},
    ),
    DemoNominee(
        "nv-bkttg-chua",
        "Lý Văn Đạt",
        "SO_KH_DT",
        "BK_TTG",
        False,
        _years(2019, 2022, HTT),
        {2018: ("BK_TINH",), 2020: ("CSTDCS",), 2022: ("CSTDCS",)},
    ),
    DemoNominee("nv-gk-dat", "Tô Thị Hạnh", "TP_NAM_DINH", "GIAY_KHEN", True, {2022: HTT}, {}),
    DemoNominee(
        "nv-gk-ky-luat", "Mạc Văn Tài", "TP_NAM_DINH", "GIAY_KHEN", False, {2022: HTT}, {}, restricted="discipline"
    ),
]
# Staff of the two communes whose collectives qualify (Hải Hậu) and do not (Giao Thủy).
UNIT_STAFF = {
    "HAI_HAU": [(HTXS, ("LDTT", "CSTDCS")), (HTT, ("LDTT",)), (HTT, ("LDTT",)), (HTT, ())],
    "GIAO_THUY": [(HTT, ("LDTT",)), (HT, ()), (HT, ()), ("KHT", ())],
}
# (unit, award, eligible): collectives and bloc-chosen flags.
UNIT_AWARDS = [
    ("HAI_HAU", "TTLDTT", True),
    ("GIAO_THUY", "TTLDTT", False),
    ("HAI_HAU", "TTLDXS", True),
    ("GIAO_THUY", "TTLDXS", False),
    ("TP_NAM_DINH", "CO_TINH", True),
    ("Y_YEN", "CO_TINH", False),
    ("SO_TAI_CHINH", "CO_CP", True),
    ("SO_KH_DT", "CO_CP", False),
]
# Unit records of 2022: the cluster chose Nam Định city as its leader; Finance holds the flag.
UNIT_RECORDS = [("TP_NAM_DINH", "BLOC_LEADER"), ("SO_TAI_CHINH", "CO_TINH")]


# Nominations left at several steps: (nominee, award, unit, officer, route), then the steps
# taken as (element, actor, form data).
_DRAFT = ("draft_nomination", None, {"summary": "Hoàn thành xuất sắc nhiệm vụ năm 2022"})
DEMO_NOMINATIONS = [
    (("nv-ldtt-dat", "LDTT", "SO_Y_TE", "tdkt.y.te", "merit"), [_DRAFT]),
    (
        ("nv-cstdcs-dat", "CSTDCS", "SO_GD_DT", "tdkt.giao.duc", "merit"),
        [_DRAFT, ("sign_nomination", "gd.giao.duc", {})],
    ),
    (
        ("nv-bkt-dat", "BK_TINH", "SO_TAI_CHINH", "tdkt.tai.chinh", "merit"),
        [
            _DRAFT,
            ("sign_nomination", "gd.tai.chinh", {}),
            ("bloc_review", "gd.tai.chinh", {"approved": True}),
            ("receive_nomination", "chuyen.vien.1", {"complete": True}),
        ],
    ),
    (
        ("nv-cstdt-dat", "CSTD_TINH", "SO_GD_DT", "tdkt.giao.duc", "merit"),
        [
            _DRAFT,
            ("sign_nomination", "gd.giao.duc", {}),
            ("bloc_review", "gd.giao.duc", {"approved": True}),
            ("receive_nomination", "chuyen.vien.2", {"complete": True}),
            ("appraise_nomination", "chuyen.vien.2", {"recommend": True, "report": "Đủ tiêu chuẩn"}),
        ],
    ),
    (
        ("nv-gk-dat", "GIAY_KHEN", "TP_NAM_DINH", "tdkt.thanh.pho", "ad_hoc"),
        [
            _DRAFT,
            ("sign_nomination", "ct.thanh.pho", {}),
            ("receive_nomination", "chuyen.vien.1", {"complete": True}),
            ("sign_decision", "chu.tich", {"granted": True}),
            ("notify_result", "chuyen.vien.1", {}),
        ],
    ),
]


def add_province(uow: UnitOfWork, decisions_dir: Path) -> None:
    """The province, its organisation, people, histories, campaign and rule set."""
    session = uow.session
    session.add(Jurisdiction(id=PROVINCE, name="Tỉnh Nam Định", level="province", decision_suffix="QĐ-UBND"))
    session.flush()
    session.add_all(Unit(id=unit_id, name=name, jurisdiction_id=PROVINCE) for unit_id, name in UNITS.items())
    session.flush()
    for bloc_id, (name, kind, head, members) in BLOCS.items():
        session.add(Bloc(id=bloc_id, name=name, kind=kind, jurisdiction_id=PROVINCE))
        session.flush()
        session.add_all(BlocMember(bloc_id=bloc_id, unit_id=unit, year=YEAR, is_head=unit == head) for unit in members)
    council = Council(
        id="HDTDKT_NAM_DINH", name="Hội đồng Thi đua – Khen thưởng tỉnh Nam Định", jurisdiction_id=PROVINCE
    )
    session.add(council)
    add_users(uow, USERS, council, BLOCS, DEMO_PASSWORD, "namdinh")
    session.add(
        Campaign(
            id=CAMPAIGN,
            jurisdiction_id=PROVINCE,
            name="Phong trào thi đua năm 2022",
            year=YEAR,
            theme="Đoàn kết, kỷ cương, chủ động thích ứng, an toàn hiệu quả, phát triển kinh tế – xã hội",
            registration_deadline=date(2022, 3, 31),
            submission_deadline=date(2022, 12, 15),
        )
    )
    session.flush()
    install_rule_set(
        uow, RULE_SET, PROVINCE, "Quy định khen thưởng tỉnh Nam Định", date(2022, 1, 1), None, dmn_dir=decisions_dir
    )
    _add_histories(uow)


def add_users(uow: UnitOfWork, users: list[DemoUser], council: Council, blocs: dict, password: str, mail: str) -> None:
    """A demo's users with their roles and council seats (each with the same password); a unit's
    head is a member of the blocs their unit belongs to."""
    session = uow.session
    password_hash = hash_password(password)
    for spec in users:
        session.add(
            User(
                id=spec.username,
                username=spec.username,
                full_name=spec.full_name,
                active=True,
                unit_id=spec.unit,
                email=f"{spec.username}@{mail}.thidua.example",
                password_hash=password_hash,
            )
        )
        session.flush()
        session.add_all(RoleAssignment(user_id=spec.username, role=role, scope=scope) for role, scope in spec.roles)
        if spec.council_position:
            session.add(
                CouncilMember(
                    council_id=council.id, user_id=spec.username, position=spec.council_position, unit_id=spec.unit
                )
            )
        for bloc_id, (_name, _kind, _head, members) in blocs.items():
            if spec.unit in members and any(role == "unit_head" for role, _ in spec.roles):
                session.add(RoleAssignment(user_id=spec.username, role=BLOC_MEMBER_ROLE, scope=bloc_scope(bloc_id)))


def _add_histories(uow: UnitOfWork) -> None:
    """Nominee histories (DOMAIN.md awards) and the staff behind the collective awards."""
    session = uow.session
    for nominee in NOMINEES:
        people.add_person(
            session,
            person_id=nominee.id,
            full_name=nominee.full_name,
            unit_id=nominee.unit,
            recruited_on=nominee.recruited_on,
        )
        session.add_all(PerformanceRating(person_id=nominee.id, year=y, rating=r) for y, r in nominee.ratings.items())
        session.add_all(
            AchievementRecord(subject_kind=SUBJECT_PERSON, subject_id=nominee.id, year=y, award_code=code)
            for y, codes in nominee.titles.items()
            for code in codes
        )
        session.add_all(
            Initiative(person_id=nominee.id, year=y, scope=scope, title="Sáng kiến cải tiến quy trình")
            for y, scope in nominee.initiatives
        )
        if nominee.restricted:
            session.add(
                Restriction(
                    subject_kind=SUBJECT_PERSON,
                    subject_id=nominee.id,
                    kind=nominee.restricted,
                    started_on=date(2022, 10, 1),
                )
            )
    for unit, staff in UNIT_STAFF.items():
        for number, (rating, titles) in enumerate(staff, start=1):
            person_id = f"cb-{unit.lower()}-{number}"
            people.add_person(
                session,
                person_id=person_id,
                full_name=f"Cán bộ {number} {UNITS[unit]}",
                unit_id=unit,
                recruited_on=date(2015, 1, 1),
            )
            session.add(PerformanceRating(person_id=person_id, year=YEAR, rating=rating))
            session.add_all(
                AchievementRecord(subject_kind=SUBJECT_PERSON, subject_id=person_id, year=YEAR, award_code=code)
                for code in titles
            )
    session.add_all(
        AchievementRecord(subject_kind=SUBJECT_UNIT, subject_id=unit, year=YEAR, award_code=code)
        for unit, code in UNIT_RECORDS
    )
    session.flush()
