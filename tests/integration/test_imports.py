"""Importing people and their ratings from xlsx workbooks on the demo province (SQLite and
PostgreSQL): the template reads back as the header; a clean file imports whole, with its reason in
the operation log; a file with bad cells names each by file, row, column and reason and changes
no table at all; only an administrator imports."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.integration.conftest import add_user, sign_in
from web.extensions import services as app_services
from workflows.accounts.services import principal_of_user
from workflows.errors import ForbiddenError
from workflows.models import DomainBase
from workflows.nominees.features import person_features, unit_features
from workflows.nominees.models import Employment, PerformanceRating, Person, Restriction
from workflows.operations import log
from workflows.org.lineage import lineage
from workflows.org.models import Unit
from workflows.records import imports
from workflows.records import services as record_services


def workbook(header: list[str], *rows: list) -> bytes:
    return imports.workbook(header, rows)


PEOPLE = ["person_id", "full_name", "unit_id", "recruited_on", "position", "gender", "born_on"]
RATINGS = ["person_id", "year", "rating"]


def everything(services) -> dict[str, list]:
    """Every row of every domain and engine table, to compare before and after."""
    with services.session_factory() as session:
        return {
            table.name: sorted(map(repr, session.execute(select(table)).all()))
            for table in DomainBase.metadata.sorted_tables
        }


def run(services, kind: str, content: bytes, *, dry_run=False, user="admin", reason="Nhập danh sách cán bộ 2026"):
    principal = principal_of_user(services, user)
    return record_services.import_records(
        services, principal, kind, f"{kind}.xlsx", content, dry_run=dry_run, reason=reason
    )


def test_the_template_is_the_header_row(province):
    sheet = load_workbook(io.BytesIO(imports.template("people"))).active
    assert [cell.value for cell in sheet[1]] == PEOPLE


def test_people_and_their_ratings_import_whole_with_the_reason_logged(province):
    people = workbook(
        PEOPLE,
        ["ns-1", "Nguyễn  Văn Một", "SO_Y_TE", date(2019, 3, 1), "Điều dưỡng"],
        ["ns-2", "Trần Thị Hai", "SO_GD_DT", "15/08/2020", None],
    )
    checked = run(province, "people", people, dry_run=True)
    assert (checked.rows, checked.errors, checked.imported) == (2, (), False)
    with province.session_factory() as session:
        assert session.get(Person, "ns-1") is None  # a check writes nothing

    report = run(province, "people", people)
    assert report.imported and report.rows == 2
    ratings = run(province, "ratings", workbook(RATINGS, ["ns-1", 2024, "htxsnv"], ["ns-2", "2024", "HTTNV"]))
    assert ratings.imported
    with province.session_factory() as session:
        person = session.get(Person, "ns-1")
        assert (person.full_name, person.unit_id, person.recruited_on) == (
            "Nguyễn Văn Một",
            "SO_Y_TE",
            date(2019, 3, 1),
        )
        (employment,) = session.scalars(select(Employment).where(Employment.person_id == "ns-2"))
        assert (employment.unit_id, employment.started_on, employment.ended_on) == ("SO_GD_DT", date(2020, 8, 15), None)
        assert session.get(PerformanceRating, ("ns-1", 2024)).rating == "HTXSNV"
        (entry,) = log.entries(session, log.Filters(action=log.RECORDS_IMPORT, subject_id="people"), limit=5)
        assert (entry.actor, entry.reason, entry.new["rows"]) == ("admin", "Nhập danh sách cán bộ 2026", 2)


def test_a_file_with_bad_cells_names_each_and_changes_nothing(province):
    before = everything(province)
    bad = workbook(
        PEOPLE,
        ["ns-1", "Một", "SO_Y_TE", date(2019, 3, 1), None],
        ["ns-1", "Một lần nữa", "SO_Y_TE", date(2019, 3, 1), None],
        ["ns-3", None, "KHONG_CO", "31/02/2020", None],
        ["nv-ldtt-moi", "Đã có", "SO_Y_TE", date(2019, 3, 1), None],
        ["ns-5", "Năm", "SO_Y_TE", date(2019, 3, 1), None],
    )
    report = run(province, "people", bad)
    assert not report.imported
    assert [(e.file, e.row, e.column) for e in report.errors] == [
        ("people.xlsx", 4, "full_name"),
        ("people.xlsx", 4, "recruited_on"),
    ]  # cells are checked first; the rows against the database only once every cell reads
    fixed = workbook(
        PEOPLE,
        ["ns-1", "Một", "SO_Y_TE", date(2019, 3, 1), None],
        ["ns-1", "Một lần nữa", "SO_Y_TE", date(2019, 3, 1), None],
        ["ns-3", "Ba", "KHONG_CO", "28/02/2020", None],
        ["nv-ldtt-moi", "Đã có", "SO_Y_TE", date(2019, 3, 1), None],
    )
    report = run(province, "people", fixed)
    assert [(e.row, e.column, e.reason) for e in report.errors] == [
        (3, "person_id", "ns-1 is also on row 2"),
        (4, "unit_id", "KHONG_CO does not exist"),
        (5, "person_id", "nv-ldtt-moi is already recorded"),
    ]
    assert str(report.errors[0]) == "people.xlsx, row 3, column person_id: ns-1 is also on row 2"
    assert everything(province) == before


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"not a workbook", "import_file_invalid"),
        (workbook(["name", "unit"], ["x", "y"]), None),  # a wrong header is a row-1 error
    ],
)
def test_a_file_that_is_not_the_template_is_refused(province, content, code):
    before = everything(province)
    if code:
        with pytest.raises(Exception) as refused:
            run(province, "people", content)
        assert refused.value.code == code
    else:
        report = run(province, "people", content)
        assert [(e.row, e.column) for e in report.errors] == [(1, "-")]
    assert everything(province) == before


def test_only_an_administrator_imports(province):
    with pytest.raises(ForbiddenError):
        run(province, "people", workbook(PEOPLE), user="tdkt.y.te")


def test_an_import_needs_a_reason_but_a_check_does_not(province):
    content = workbook(PEOPLE, ["ns-9", "Chín", "SO_Y_TE", date(2019, 3, 1), None])
    assert run(province, "people", content, dry_run=True, reason="").errors == ()
    with pytest.raises(Exception) as refused:
        run(province, "people", content, reason=" ")
    assert refused.value.code == "reason_required"


def test_the_admin_page_checks_then_imports_and_lists_errors_by_row(demo_app):
    client = demo_app.test_client()
    token = sign_in(client, "admin")
    template = client.get("/admin/imports/people.xlsx")
    assert template.status_code == 200 and template.data[:2] == b"PK"
    bad = workbook(PEOPLE, ["ns-1", "Một", "KHONG_CO", date(2019, 3, 1), None])
    form = {"csrf_token": token, "kind": "people", "reason": "Nhập thử", "action": "import"}
    refused = client.post("/admin/imports", data=form | {"file": (io.BytesIO(bad), "cb.xlsx")})
    assert refused.status_code == 422
    assert "chưa nhập dòng nào" in refused.get_data(as_text=True) and "không có KHONG_CO" in refused.get_data(
        as_text=True
    )
    good = workbook(PEOPLE, ["ns-1", "Một", "SO_Y_TE", date(2019, 3, 1), None])
    done = client.post("/admin/imports", data=form | {"file": (io.BytesIO(good), "cb.xlsx")})
    assert done.status_code == 200 and "Đã nhập 1 dòng" in done.get_data(as_text=True)
    with app_services(demo_app).session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Person).where(Person.id == "ns-1")) == 1
    sign_in(client, "tdkt.y.te")
    assert client.get("/admin/imports").status_code == 403


def test_a_province_is_entered_into_an_empty_database_one_import_per_kind(services):
    """Ninh Bình after the 2025 merger: the province and a ward; a sở with a hospital under it, the
    ward that succeeds an older one; people, a transfer, ratings, an initiative, a discipline and
    awards from before, each kind from its own file, in that order."""
    add_user(services, "admin", "admin", None)
    files = {
        "jurisdictions": (
            ["jurisdiction_id", "name", "level", "parent_id", "decision_suffix"],
            ["NINH_BINH", "Tỉnh Ninh Bình", "province", None, "QĐ-UBND"],
            ["HOA_LU", "Phường Hoa Lư", "commune", "NINH_BINH", "QĐ-UBND"],
        ),
        "units": (
            ["unit_id", "name", "jurisdiction_id", "parent_id", "valid_from", "valid_to"],
            ["SYT", "Sở Y tế", "NINH_BINH", None, None, None],
            ["BV_TINH", "Bệnh viện Đa khoa tỉnh", "NINH_BINH", "SYT", None, None],
            ["P_NAM_THANH", "Phường Nam Thành (cũ)", "HOA_LU", None, None, date(2025, 6, 30)],
            ["P_HOA_LU", "Phường Hoa Lư", "HOA_LU", None, date(2025, 7, 1), None],
        ),
        "successions": (
            ["successor_id", "predecessor_id", "since"],
            ["P_HOA_LU", "P_NAM_THANH", date(2025, 7, 1)],
        ),
        "people": (
            PEOPLE,
            ["nb-1", "Phan Thị Lan", "BV_TINH", date(2015, 9, 1), "Bác sĩ", "female", date(1988, 4, 2)],
            ["nb-2", "Vũ Đức Long", "P_NAM_THANH", date(2012, 1, 1), "Công chức", "male", None],
        ),
        "employment": (
            ["person_id", "unit_id", "position", "started_on", "ended_on"],
            ["nb-2", "P_HOA_LU", "Công chức", date(2025, 7, 1), None],
        ),
        "ratings": (RATINGS, ["nb-1", 2024, "HTXSNV"], ["nb-1", 2025, "HTXSNV"], ["nb-2", 2025, "HTTNV"]),
        "initiatives": (
            ["person_id", "year", "scope", "title", "document_number", "document_date", "issued_by"],
            ["nb-1", 2025, "province", "Quy trình cấp cứu", "45/QĐ-SYT", date(2025, 10, 2), "Sở Y tế"],
        ),
        "restrictions": (
            ["subject_kind", "subject_id", "kind", "started_on", "ended_on", "severity", "source"],
            ["person", "nb-2", "discipline", date(2025, 3, 1), date(2025, 9, 1), "khiển trách", "12/QĐ-UBND"],
        ),
        "awards": (
            ["subject_kind", "subject_id", "year", "award_code", "decision_code", "decided_on", "decider_level"]
            + ["counts_for_merit"],
            ["person", "nb-1", 2023, "BK_TINH", "1234/QĐ-UBND", date(2024, 1, 15), "province_chair", "yes"],
            ["unit", "P_NAM_THANH", 2024, "CO_TINH", "88/QĐ-UBND", date(2025, 2, 1), "province_chair", "yes"],
        ),
    }
    for kind, (header, *rows) in files.items():
        report = run(services, kind, workbook(header, *rows))
        assert report.imported and not report.errors, (kind, report.errors)
    with services.session_factory() as session:
        assert session.get(Unit, "BV_TINH").parent_id == "SYT"
        assert lineage(session, "P_HOA_LU") == {"P_HOA_LU", "P_NAM_THANH"}
        units_of_nb2 = sorted(session.scalars(select(Employment.unit_id).where(Employment.person_id == "nb-2")))
        assert units_of_nb2 == ["P_HOA_LU", "P_NAM_THANH"]
        (restriction,) = session.scalars(select(Restriction))
        assert (restriction.severity, restriction.source) == ("khiển trách", "12/QĐ-UBND")
        assert (session.get(Person, "nb-1").gender, session.get(Person, "nb-1").born_on) == ("female", date(1988, 4, 2))
        assert person_features(session, "nb-1", 2025, date(2025, 12, 1))["holds_bk_tinh"]
        assert unit_features(session, "P_HOA_LU", 2024, date(2025, 12, 1))["holds_co_tinh"]  # its predecessor's Cờ
    again = run(services, "units", workbook(files["units"][0], ["X", "X", "NO_SUCH_PLACE", "NOT_A_UNIT", None, None]))
    assert [(e.row, e.column, e.reason) for e in again.errors] == [
        (2, "jurisdiction_id", "NO_SUCH_PLACE does not exist"),
        (2, "parent_id", "NOT_A_UNIT does not exist"),
    ]


@pytest.mark.parametrize("kind", list(imports.KINDS))
def test_what_is_recorded_exports_in_the_template_of_its_kind(province, kind):
    content = record_services.export_records(province, principal_of_user(province, "admin"), kind)
    sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == [column.name for column in imports.KINDS[kind].columns]
    if kind == "people":
        (nurse,) = [row for row in rows if row[0] == "nv-ldtt-moi"]
        assert nurse[2] == "SO_Y_TE"


def test_an_exported_people_file_reads_back_as_its_kind(province):
    """Every cell of the demo's exported people reads back; only the rows exist already."""
    content = record_services.export_records(province, principal_of_user(province, "admin"), "people")
    report = run(province, "people", content, dry_run=True)
    assert report.rows > 20 and {error.code for error in report.errors} == {"already_recorded"}


def test_only_an_administrator_exports(province):
    with pytest.raises(ForbiddenError):
        record_services.export_records(province, principal_of_user(province, "tdkt.y.te"), "people")
