"""Auditors' reports on the demo province, on SQLite and PostgreSQL: nominations of a campaign of
their own driven through the services on the test clock, so that every count, median, 90th
percentile, late share and escalation share is known; the auditor's scopes; the page, its CSV
and its refusals."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from engine.models import HumanTask
from tests.integration.conftest import ROOT, add_user, sign_in
from tests.integration.test_nomination_scenarios import add_person, bk_tinh_candidate, step
from web.extensions import services as app_services
from workflows.accounts.services import principal_of_user
from workflows.audit import reports
from workflows.awards.catalogue import install_rule_set
from workflows.demo import province as demo
from workflows.errors import DomainError
from workflows.nominations import creation
from workflows.nominations.models import Campaign, Nomination
from workflows.org.models import Jurisdiction, Unit
from workflows.processes import services as ps

CAMPAIGN = "NAM_DINH_REPORTS"  # the campaign of this file's nominations; its year is 2023
MERIT = "nomination"
DRAFT, SIGN, BLOC, RECEIVE = (
    (MERIT, "draft_nomination"),
    (MERIT, "sign_nomination"),
    (MERIT, "bloc_review"),
    (MERIT, "receive_nomination"),
)
# 09:00 on Tuesday 1 November 2022 in Hanoi, where the province fixtures leave the clock.
START = datetime(2022, 11, 1, 2, 0, tzinfo=timezone.utc)
# 22:00 on Monday 21 November 2022 in Hanoi, when build_campaign ends.
END = datetime(2022, 11, 21, 15, 0, tzinfo=timezone.utc)


def build_campaign(services, clock) -> dict[str, str]:
    """Four nominations in a campaign of their own (times in Hanoi; no public holiday in November
    2022, so only weekends are off; bloc review may take 5 working days and reception 3; a task
    is reminded at half its time and escalated 2 working days after its deadline):

    N1 BK_TINH, Health: opened Tue 01/11 09:00, drafted in 1 h, signed in 2 h; bloc review from
       Tue 12:00 (due Tue 08/11 24:00, reminder Sat 05/11 06:00) to Mon 07/11 12:00 (144 h,
       4 working days): reminded, on time. Reception opens then, due Thu 10/11 24:00: still
       open at the end, so late, and reminded, overdue and escalated.
    N3 CSTDCS, Education: drafted Tue 01/11 12:00-17:00 (5 h, 0 working days); signing open.
    N4 BK_TINH, Finance: drafted Fri 04/11 17:00-Mon 07/11 15:00 (70 h, 1 working day); signing open.
    N2 BK_TINH, Health: drafted in 3 h and signed in 4 h (Mon 07/11 15:00-22:00); bloc review
       from Mon 22:00 (due Mon 14/11 24:00) to Mon 21/11 22:00 (336 h, 10 working days): late,
       reminded, overdue and escalated to the board's head, who completes it. Reception opens.
    Timers run at Mon 07/11 12:00 and at the end.
    """
    assert clock.now == START
    with services.uow() as uow:
        uow.session.add(
            Campaign(
                id=CAMPAIGN,
                jurisdiction_id=demo.PROVINCE,
                name="Đợt xét khen thưởng 2023",
                theme="Báo cáo",
                year=2023,
                registration_deadline=date(2023, 3, 31),
                submission_deadline=None,
            )
        )
        uow.commit()
    health, other_health, education, finance = (
        bk_tinh_candidate(services),
        bk_tinh_candidate(services),  # one nomination per person, award and year
        add_person(services, "SO_GD_DT"),
        bk_tinh_candidate(services, unit="SO_TAI_CHINH"),
    )

    def advance(hours: float) -> None:
        clock.advance(hours=hours)

    n1 = nominate(services, health, "BK_TINH", "SO_Y_TE", "tdkt.y.te")
    advance(1)
    step(services, n1, "draft_nomination", "tdkt.y.te", {"summary": "Thành tích"})
    advance(2)
    step(services, n1, "sign_nomination", "gd.y.te")

    n3 = nominate(services, education, "CSTDCS", "SO_GD_DT", "tdkt.giao.duc")
    advance(5)
    step(services, n3, "draft_nomination", "tdkt.giao.duc", {"summary": "Thành tích"})

    advance(72)
    n4 = nominate(services, finance, "BK_TINH", "SO_TAI_CHINH", "tdkt.tai.chinh")
    advance(67)
    ps.run_timers(services)
    step(services, n1, "bloc_review", "gd.giao.duc", {"approved": True})
    advance(3)
    step(services, n4, "draft_nomination", "tdkt.tai.chinh", {"summary": "Thành tích"})

    n2 = nominate(services, other_health, "BK_TINH", "SO_Y_TE", "tdkt.y.te")
    advance(3)
    step(services, n2, "draft_nomination", "tdkt.y.te", {"summary": "Thành tích"})
    advance(4)
    step(services, n2, "sign_nomination", "gd.y.te")
    advance(14 * 24)
    ps.run_timers(services)
    step(services, n2, "bloc_review", "truong.ban", {"approved": True})
    assert clock.now == END
    return {"N1": n1, "N2": n2, "N3": n3, "N4": n4}


def nominate(services, person_id: str, award: str, unit: str, officer: str) -> str:
    return services.in_transaction(
        creation.create_nomination,
        officer,
        campaign_id=CAMPAIGN,
        award_code=award,
        nominating_unit_id=unit,
        year=2022,
        person_id=person_id,
    ).id


@pytest.fixture
def campaign(province, clock):
    """The demo province with build_campaign's nominations."""
    return build_campaign(province, clock)


def report_for(services, username: str, **filters) -> reports.Report:
    return reports.report(services, principal_of_user(services, username), reports.ReportFilters(**filters))


def counts(report: reports.Report, dimension: str) -> dict:
    return {count.key: count.count for count in report.counts[dimension]}


def times(report: reports.Report) -> dict:
    return {(s.process_id, s.element_id): s for s in report.step_times}


def rates(report: reports.Report) -> dict:
    return {
        (s.process_id, s.element_id): (s.tasks, s.late, s.reminded, s.overdue, s.escalated) for s in report.step_rates
    }


def test_counts_of_a_campaign_by_every_dimension(campaign, province):
    report = report_for(province, "thanh.tra", campaign=CAMPAIGN)
    assert report.total == 4
    assert counts(report, "campaign") == {CAMPAIGN: 4}
    assert report.counts["campaign"][0].label == "Đợt xét khen thưởng 2023"
    assert counts(report, "award") == {"BK_TINH": 3, "CSTDCS": 1}
    assert counts(report, "unit") == {"SO_Y_TE": 2, "SO_GD_DT": 1, "SO_TAI_CHINH": 1}
    assert [c.label for c in report.counts["unit"]][0] == "Sở Y tế"
    assert counts(report, "bloc") == {"KHOI_VHXH": 3, "KHOI_KINH_TE": 1}
    assert [(c.key, c.count) for c in report.counts["status"]] == [("DRAFT", 2), ("SUBMITTED", 2)]
    assert counts(report, "process") == {"running": 4}


def test_time_spent_per_step_in_hours_and_working_days(campaign, province):
    report = report_for(province, "thanh.tra", campaign=CAMPAIGN)
    # In the order the steps first opened; reception has no completed task.
    assert [(s.process_id, s.element_id) for s in report.step_times] == [DRAFT, SIGN, BLOC]
    figures = {
        key: (s.count, s.median_hours, s.p90_hours, s.median_working_days, s.p90_working_days)
        for key, s in times(report).items()
    }
    # Drafts took 1, 3, 5 and 70 hours; 0, 0, 0 and 1 working days (Friday to Monday).
    assert figures[DRAFT] == (4, 4.0, pytest.approx(50.5), 0.0, pytest.approx(0.7))
    assert figures[SIGN] == (2, 3.0, pytest.approx(3.8), 0.0, 0.0)
    assert figures[BLOC] == (2, 240.0, pytest.approx(316.8), 7.0, pytest.approx(9.4))
    assert times(report)[BLOC].name == "Cụm, khối bình xét"
    assert times(report)[BLOC].process == "Xét đề nghị khen thưởng"


def test_overdue_and_escalation_rates_per_step_and_overall(campaign, province):
    report = report_for(province, "thanh.tra", campaign=CAMPAIGN)
    assert report.at == END
    # (tasks with a deadline, late, reminded, overdue, escalated); drafting and signing have no deadline.
    assert rates(report) == {BLOC: (2, 1, 2, 1, 1), RECEIVE: (2, 1, 1, 1, 1)}
    overall = report.overall
    assert (overall.tasks, overall.late, overall.reminded, overall.overdue, overall.escalated) == (4, 2, 3, 2, 2)
    assert [overall.rate(m) for m in ("late", "reminded", "overdue", "escalated")] == [0.5, 0.75, 0.5, 0.5]
    # The open reception of N1 is late by the clock, and by its escalation stage.
    with province.session_factory() as session:
        open_receptions = session.execute(
            select(HumanTask.escalation, HumanTask.due_at)
            .join(Nomination, Nomination.instance_id == HumanTask.instance_id)
            .where(Nomination.id == campaign["N1"], HumanTask.element_id == "receive_nomination")
        ).all()
    assert open_receptions == [("escalated", datetime(2022, 11, 10, 17, 0, tzinfo=timezone.utc))]


def test_year_filter_and_all_campaigns(campaign, province):
    by_year = report_for(province, "thanh.tra", year=2023)
    assert (by_year.total, rates(by_year), by_year.overall.late) == (
        4,
        rates(report_for(province, "thanh.tra", campaign=CAMPAIGN)),
        2,
    )
    demo_year = report_for(province, "thanh.tra", year=2022)
    assert counts(demo_year, "campaign") == {demo.CAMPAIGN: len(demo.DEMO_NOMINATIONS)}
    everything = report_for(province, "thanh.tra")
    assert counts(everything, "campaign") == {demo.CAMPAIGN: len(demo.DEMO_NOMINATIONS), CAMPAIGN: 4}
    assert times(everything)[DRAFT].count == 4 + len(demo.DEMO_NOMINATIONS) - 1  # one demo draft is ad hoc
    empty = report_for(province, "thanh.tra", year=2030)
    assert (empty.total, empty.step_times, empty.step_rates, empty.overall.tasks) == (0, [], [], 0)
    assert report_for(province, "thanh.tra", campaign=CAMPAIGN, year=2022).total == 0
    assert [(c.id, c.year) for c in reports.campaigns(province, principal_of_user(province, "thanh.tra"))] == [
        (CAMPAIGN, 2023),
        (demo.CAMPAIGN, 2022),
    ]


def add_other_province(services, clock) -> str:
    """Hà Nam with one nomination drafted in 2 hours; returns its campaign."""
    with services.uow() as uow:
        session = uow.session
        session.add(Jurisdiction(id="HA_NAM", name="Tỉnh Hà Nam", level="province", decision_suffix="QĐ-UBND"))
        session.flush()
        session.add(Unit(id="HN_SO_Y_TE", name="Sở Y tế Hà Nam", jurisdiction_id="HA_NAM"))
        session.add(
            Campaign(
                id="HA_NAM_2022",
                jurisdiction_id="HA_NAM",
                name="Phong trào thi đua Hà Nam 2022",
                theme="Thi đua",
                year=2022,
                registration_deadline=date(2022, 3, 31),
                submission_deadline=None,
            )
        )
        session.flush()
        install_rule_set(
            uow, "HA_NAM_2022", "HA_NAM", "Quy định Hà Nam", date(2022, 1, 1), None, dmn_dir=ROOT / "bpmn/decisions"
        )
        uow.commit()
    add_user(services, "tdkt.ha.nam", "unit_officer", "unit:HN_SO_Y_TE")
    person = add_person(services, "HN_SO_Y_TE", ratings={2022: "HTTNV"})
    nomination = services.in_transaction(
        creation.create_nomination,
        "tdkt.ha.nam",
        campaign_id="HA_NAM_2022",
        award_code="LDTT",
        nominating_unit_id="HN_SO_Y_TE",
        year=2022,
        person_id=person,
    )
    clock.advance(hours=2)
    step(services, nomination.id, "draft_nomination", "tdkt.ha.nam", {"summary": "Thành tích"})
    return "HA_NAM_2022"


def test_an_auditor_counts_only_what_their_scopes_show(campaign, province, clock):
    other = add_other_province(province, clock)
    add_user(province, "thanh.tra.ha.nam", "auditor", "jurisdiction:HA_NAM")
    add_user(province, "thanh.tra.y.te", "auditor", "unit:SO_Y_TE")
    add_user(province, "thanh.tra.trung.uong", "auditor", None)

    nam_dinh = report_for(province, "thanh.tra")
    assert counts(nam_dinh, "campaign") == {demo.CAMPAIGN: len(demo.DEMO_NOMINATIONS), CAMPAIGN: 4}
    assert other not in {c.id for c in reports.campaigns(province, principal_of_user(province, "thanh.tra"))}
    with pytest.raises(DomainError) as refused:
        report_for(province, "thanh.tra", campaign=other)
    assert refused.value.code == "unknown_campaign"

    ha_nam = report_for(province, "thanh.tra.ha.nam")
    assert (ha_nam.total, counts(ha_nam, "campaign"), counts(ha_nam, "unit")) == (1, {other: 1}, {"HN_SO_Y_TE": 1})
    assert [(s.element_id, s.count, s.median_hours) for s in ha_nam.step_times] == [("draft_nomination", 1, 2.0)]
    assert [c.id for c in reports.campaigns(province, principal_of_user(province, "thanh.tra.ha.nam"))] == [other]

    health = report_for(province, "thanh.tra.y.te", campaign=CAMPAIGN)
    assert (health.total, counts(health, "unit")) == (2, {"SO_Y_TE": 2})
    assert times(health)[BLOC].count == 2 and times(health)[DRAFT].count == 2
    assert rates(health) == {BLOC: (2, 1, 2, 1, 1), RECEIVE: (2, 1, 1, 1, 1)}

    everywhere = report_for(province, "thanh.tra.trung.uong")
    assert everywhere.total == len(demo.DEMO_NOMINATIONS) + 4 + 1


def test_percentiles_interpolate_between_ranks_as_percentile_cont():
    assert reports.percentile([7.0], 0.9) == 7.0
    assert reports.percentile([1, 3, 5, 70], 0.5) == 4.0
    assert reports.percentile([70, 5, 3, 1], 0.9) == pytest.approx(50.5)
    assert reports.percentile([0, 10], 0.9) == pytest.approx(9.0)


def test_filters_from_a_query_string():
    assert reports.ReportFilters.of({"campaign": " X ", "year": "2023"}) == reports.ReportFilters("X", 2023)
    assert reports.ReportFilters.of({"campaign": "", "year": ""}) == reports.ReportFilters()
    for bad in ("abc", "20.5", "-2022", "1800", "99999999999999999999999", "２０２２"):
        with pytest.raises(DomainError) as refused:
            reports.ReportFilters.of({"year": bad})
        assert refused.value.code == "invalid_year"


# --- the page -------------------------------------------------------------------------------


@pytest.fixture
def app_campaign(demo_app, clock):
    build_campaign(app_services(demo_app), clock)
    return demo_app


def cells(page: str, table: str, step_key: str) -> dict[str, str]:
    """The data-value of each cell of a step's row of a table, by the cell's data-testid."""
    body = re.search(rf'<table data-testid="{table}">(.*?)</table>', page, re.S).group(1)
    row = re.search(rf'<tr data-step="{re.escape(step_key)}"[^>]*>(.*?)</tr>', body, re.S).group(1)
    return dict(re.findall(r'data-testid="([\w-]+)" data-value="([^"]*)"', row))


def test_the_demo_auditor_sees_the_figures_tables_and_charts(app_campaign):
    client = app_campaign.test_client()
    sign_in(client, "thanh.tra")
    response = client.get(f"/audit/reports?campaign={CAMPAIGN}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert re.search(r'data-testid="total">4\b', page)
    assert f'<option value="{CAMPAIGN}" selected>' in page
    assert re.search(r'<tr data-key="BK_TINH"><td>[^<]+</td><td class="num" data-value="3">', page)
    assert cells(page, "step-times", "nomination:draft_nomination") == {
        "completed": "4",
        "median-hours": "4.00",
        "p90-hours": "50.50",
        "median-days": "0.00",
        "p90-days": "0.70",
    }
    assert cells(page, "step-times", "nomination:bloc_review")["p90-hours"] == "316.80"
    assert cells(page, "step-rates", "nomination:bloc_review")["late"] == "1"
    assert cells(page, "step-rates", "all") == {
        "tasks": "4",
        "late": "2",
        "reminded": "3",
        "overdue": "2",
        "escalated": "2",
    }
    for chart in ("campaign", "award", "unit", "bloc", "status", "process", "times", "rates"):
        assert f'data-testid="chart-{chart}"' in page
    times_chart = re.search(r'data-testid="chart-times">(.*?)</svg>', page, re.S).group(1)
    assert times_chart.count("<rect") == 3 * 2  # three steps, median and 90th percentile
    assert "<script" not in page.split("<main>")[1]  # the charts are drawn on the server

    download = client.get(f"/audit/reports/times.csv?campaign={CAMPAIGN}")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert f'filename="report-times-{CAMPAIGN}.csv"' in download.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(download.get_data().decode("utf-8-sig"))))
    bloc = next(row for row in rows if row["step"] == "bloc_review")
    assert (bloc["completed"], bloc["median_hours"], bloc["p90_hours"]) == ("2", "240.0", "316.8")
    assert (bloc["median_working_days"], bloc["p90_working_days"]) == ("7.0", "9.4")
    rates_csv = client.get("/audit/reports/rates.csv?year=2023").get_data().decode("utf-8-sig")
    overall = next(row for row in csv.DictReader(io.StringIO(rates_csv)) if row["step"] == "all")
    assert (overall["tasks_with_deadline"], overall["reminded"], overall["reminded_rate"]) == ("4", "3", "0.7500")
    counts_csv = client.get("/audit/reports/counts.csv").get_data().decode("utf-8-sig")
    assert {"campaign", CAMPAIGN, "Đợt xét khen thưởng 2023", "4"} <= set(
        next(row for row in csv.reader(io.StringIO(counts_csv)) if row[1] == CAMPAIGN)
    )


def test_someone_without_the_auditor_role_is_refused(demo_app):
    client = demo_app.test_client()
    sign_in(client, "chuyen.vien.1")
    assert client.get("/audit/reports").status_code == 403
    assert client.get("/audit/reports/counts.csv").status_code == 403
    assert demo_app.test_client().get("/audit/reports").status_code == 302  # to the sign-in page


def test_bad_filter_values_are_a_400_naming_the_filter(demo_app):
    client = demo_app.test_client()
    sign_in(client, "thanh.tra")
    for name, value in [
        ("year", "abc"),
        ("year", "1800"),
        ("year", "2022.5"),
        ("year", "9" * 30),
        ("campaign", "NO_SUCH_CAMPAIGN"),
    ]:
        response = client.get("/audit/reports", query_string={name: value})
        assert response.status_code == 400, (name, value)
        page = response.get_data(as_text=True)
        assert f'data-error-for="{name}"' in page
        assert value in page  # the message quotes the value
        assert '<select name="campaign"' in page  # the filters stay on the page to correct
        download = client.get("/audit/reports/counts.csv", query_string={name: value})
        assert download.status_code == 400
        assert value in download.get_data(as_text=True)
    assert client.get("/audit/reports/nothing.csv").status_code == 404
