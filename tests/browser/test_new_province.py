"""A province enters itself, as a new administrator would, in Chromium: from a database `thidua
init` has just made (the processes deployed, a first administrator from `thidua users create`),
the administrator imports the province, its units and its campaign from xlsx files on the import
page (a bad file first: its errors by row and column, nothing imported), creates the emulation
officer of a sở on the users page, and that officer registers a newly recruited nurse and
nominates her. Screenshots in tests/browser/artifacts/new_province-*.png."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.browser.conftest import serving
from tests.conftest import FakeClock
from tests.databases import ROOT
from web import create_app
from web.extensions import services
from workflows.accounts import services as accounts
from workflows.awards.catalogue import install_rule_set
from workflows.nominations.models import Nomination
from workflows.nominees.models import Person
from workflows.processes import services as process_services
from workflows.records import imports

PASSWORD = "quan-tri-tinh-moi-2026"
OFFICER_PASSWORD = "can-bo-thi-dua-2026"


@pytest.fixture(scope="module")
def new_install(tmp_path_factory, templates):
    """The app on an empty migrated SQLite database, served on a free port."""
    data_dir = tmp_path_factory.mktemp("new-province")
    database = data_dir / "thidua.sqlite3"
    shutil.copyfile(templates.sqlite_file("migrated"), database)
    app = create_app(
        {"DATABASE_URL": f"sqlite:///{database}", "TESTING": True, "SECRET_KEY": "new", "DATA_DIR": str(data_dir)}
    )
    app_services = services(app)
    app_services.clock = FakeClock(datetime(2026, 1, 5, 2, 0, tzinfo=timezone.utc))
    bpmn = ROOT / "bpmn"
    process_services.deploy(app_services, [bpmn / "processes", bpmn / "forms"], "cli:setup")
    accounts.create_user(app_services, "cli:setup", "quantri", "Quản trị", None, PASSWORD, "Cài đặt")
    accounts.grant_role(app_services, "cli:setup", "quantri", "admin", None, "Cài đặt")
    with serving(app) as url:
        yield url, app_services, data_dir


def sign_in(page: Page, url: str, username: str, password: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def upload(page: Page, url: str, folder: Path, kind: str, header: list[str], rows: list[list], action: str) -> None:
    path = folder / f"{kind}.xlsx"
    path.write_bytes(imports.workbook(header, rows))
    page.goto(f"{url}/admin/imports")
    page.select_option("select[name=kind]", kind)
    page.set_input_files("input[name=file]", str(path))
    page.fill("input[name=reason]", "Nhập dữ liệu tỉnh")
    page.click(f"button[value={action}]")


def columns(kind: str) -> list[str]:
    return [column.name for column in imports.KINDS[kind].columns]


def test_a_new_province_is_entered_through_the_pages_and_nominates_a_new_person(new_install, page, shoot):
    url, app_services, folder = new_install
    sign_in(page, url, "quantri", PASSWORD)

    upload(page, url, folder, "units", columns("units"), [["SYT", "Sở Y tế", "NINH_BINH", None, None, None]], "check")
    report = page.get_by_test_id("import-report")
    expect(report).to_contain_text("chưa nhập dòng nào")
    expect(report).to_contain_text("không có NINH_BINH")  # the province is not entered yet
    shoot(page, "1-units-before-the-province")

    province = [["NINH_BINH", "Tỉnh Ninh Bình", "province", None, "QĐ-UBND"]]
    upload(page, url, folder, "jurisdictions", columns("jurisdictions"), province, "import")
    expect(page.get_by_test_id("import-report")).to_contain_text("Đã nhập 1 dòng")
    # The rule set comes from the designer (tested in test_designer); here it is installed directly.
    with app_services.uow() as uow:
        install_rule_set(
            uow,
            "NB_2025",
            "NINH_BINH",
            "Quy định khen thưởng",
            date(2025, 7, 1),
            None,
            dmn_dir=ROOT / "bpmn" / "decisions",
        )
        uow.commit()
    units = [
        ["SYT", "Sở Y tế", "NINH_BINH", None, date(2025, 7, 1), None],
        ["BVDK", "Bệnh viện Đa khoa tỉnh", "NINH_BINH", "SYT", date(2025, 7, 1), None],
    ]
    upload(page, url, folder, "units", columns("units"), units, "import")
    expect(page.get_by_test_id("import-report")).to_contain_text("Đã nhập 2 dòng")
    campaign = [
        ["NB_2026", "NINH_BINH", "Phong trào thi đua năm 2025", 2025, "Đoàn kết, sáng tạo", date(2025, 3, 31), None]
    ]
    upload(page, url, folder, "campaigns", columns("campaigns"), campaign, "import")
    expect(page.get_by_test_id("import-report")).to_contain_text("Đã nhập 1 dòng")
    shoot(page, "2-campaign-imported")

    page.goto(f"{url}/admin/users")
    new_user = page.locator("form[action$='/admin/users']")
    new_user.locator("input[name=username]").fill("tdkt.bvdk")
    new_user.locator("input[name=full_name]").fill("Ninh Thị Yến")
    new_user.locator("input[name=unit_id]").fill("BVDK")
    new_user.locator("input[name=password]").fill(OFFICER_PASSWORD)
    new_user.locator("input[name=reason]").fill("Cán bộ thi đua bệnh viện")
    new_user.locator("button[type=submit]").click()
    roles = page.locator("form[action$='/admin/users/roles']")
    roles.locator("select[name=username]").select_option("tdkt.bvdk")
    roles.locator("select[name=role]").select_option("unit_officer")
    roles.locator("input[name=scope]").fill("unit:BVDK")
    roles.locator("input[name=reason]").fill("Phân công")
    roles.locator("button[value=grant]").click()
    expect(page.locator("tr[data-user='tdkt.bvdk']")).to_contain_text("unit_officer @ unit:BVDK")
    shoot(page, "3-officer-created")

    page.context.clear_cookies()
    sign_in(page, url, "tdkt.bvdk", OFFICER_PASSWORD)
    page.goto(f"{url}/nominations/new")
    person = page.locator("form[action$='/people']")
    person.locator("input[name=full_name]").fill("Bùi Thị Thanh")
    person.locator("input[name=recruited_on]").fill("2024-09-03")
    person.locator("button[type=submit]").click()
    expect(page.locator("select[name=nominee] option:checked")).to_have_text("Bùi Thị Thanh")
    page.select_option("select[name=award]", "LDTT")
    shoot(page, "4-nurse-registered-and-chosen")
    page.click("text=Tạo hồ sơ")
    expect(page.locator("h1")).to_have_text("Hồ sơ đề nghị")
    shoot(page, "5-nomination-created")

    with app_services.session_factory() as session:
        (nurse,) = session.scalars(select(Person).where(Person.full_name == "Bùi Thị Thanh"))
        nomination = session.scalars(select(Nomination).where(Nomination.person_id == nurse.id)).one()
    assert (nomination.award_code, nomination.nominating_unit_id, nomination.status) == ("LDTT", "BVDK", "DRAFT")
