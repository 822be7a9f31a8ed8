"""The process designer's editor in real Chromium, as the demo designer "thiet.ke": change a task's
time limit in the properties panel and deploy it as a new version that new instances start on;
break a gateway and see validation mark it and refuse the deploy; edit a decision table cell of
the rule set and deploy it; and two editors of one draft, where the later save is refused.

Assertions read test ids, classes and data attributes rather than texts, so that they hold
whatever the UI language."""

from __future__ import annotations

import json
import re
from xml.etree import ElementTree

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from engine.models import ProcessDefinition, ProcessInstance
from workflows.accounts.services import principal_of_user
from workflows.awards.models import RuleFile
from workflows.demo import province as demo
from workflows.designs import queries as design_queries
from workflows.nominations import services as nomination_services
from workflows.operations import log

DESIGNER = "thiet.ke"
DMN_NS = "{https://www.omg.org/spec/DMN/20191111/MODEL/}"
# The CSTĐCS threshold on initiatives: "at least 1" becomes "at least 2".
THRESHOLD_CELL = "eligibility_cstdcs_excellence_or_initiative_met_2_initiatives_unit"
OK, ERROR = re.compile(r"\bok\b"), re.compile(r"\berror\b")


def sign_in(page: Page, url: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Tên đăng nhập").fill(DESIGNER)
    page.get_by_label("Mật khẩu").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_test_id("who")).to_be_visible()


def open_editor(page: Page, url: str, edit_button: str) -> None:
    """From the designer's list, open (or continue) a draft; wait until the editor has loaded it."""
    page.goto(f"{url}/designer/")
    page.get_by_test_id(edit_button).click()
    expect(page.locator("#designer")).to_have_attribute("data-ready", "true")


def select_shape(page: Page, element_id: str) -> None:
    """Click an element on the canvas. nomination.bpmn draws notify_rejection right over
    appraise_nomination, so the click goes to the element's own graphics, not to a point."""
    page.locator(f'.djs-element[data-element-id="{element_id}"]').dispatch_event("click")
    expect(page.get_by_test_id("prop-id")).to_have_value(element_id)


def versions(page: Page, url: str, process_id: str) -> list[str]:
    page.goto(f"{url}/designer/")
    return [row.get_attribute("data-version") for row in page.locator(f'tr[data-process="{process_id}"]').all()]


def test_a_changed_time_limit_is_deployed_as_version_2_and_new_instances_run_it(page: Page, live_server, shoot):
    url = live_server.url
    sign_in(page, url)
    open_editor(page, url, "edit-nomination")
    expect(page.locator(".bjs-powered-by")).to_be_visible()  # bpmn.io's licence: the watermark stays
    select_shape(page, "appraise_nomination")
    due = page.get_by_test_id("prop-dueWorkingDays")
    expect(due).to_have_value("10")
    due.fill("12")
    due.press("Enter")
    expect(page.get_by_test_id("tab-nomination.bpmn")).to_have_attribute("data-dirty", "true")

    page.get_by_test_id("validate").click()
    status = page.get_by_test_id("designer-status")
    expect(status).to_have_class(OK)
    expect(page.get_by_test_id("tab-nomination.bpmn")).to_have_attribute("data-dirty", "false")
    expect(page.locator('[data-testid="problem"][data-severity="error"]')).to_have_count(0)

    # No deploy without a reason: the editor asks for one and sends nothing.
    page.get_by_test_id("deploy").click()
    expect(status).to_have_class(ERROR)
    expect(page.get_by_test_id("deploy-reason")).to_have_attribute("aria-invalid", "true")
    page.get_by_test_id("deploy-reason").fill("Thẩm định 12 ngày làm việc theo quy chế mới")
    page.get_by_test_id("deploy").click()
    expect(page.get_by_test_id("deployed-link")).to_be_visible()
    expect(status.locator("span").first).to_have_text(re.compile(r"\b2\.$"))  # "… version 2."
    shoot(page, "a-deployed")
    page.get_by_test_id("deployed-link").click()
    expect(page.locator('tr[data-process="nomination"][data-version="2"]')).to_be_visible()

    # A nomination created now starts on version 2, whose appraisal step has 12 working days.
    app_services = live_server.services
    with app_services.session_factory() as session:
        (entry,) = log.entries(session, log.Filters(subject_type="process", subject_id="nomination"), limit=10)
    assert (entry.action, entry.actor, entry.reason) == (
        log.PROCESS_DEPLOY,
        DESIGNER,
        "Thẩm định 12 ngày làm việc theo quy chế mới",
    )
    assert (entry.old["version"], entry.new["version"]) == (1, 2)
    nomination_id = nomination_services.create_nomination(
        app_services,
        principal_of_user(app_services, "tdkt.y.te"),
        campaign_id=demo.CAMPAIGN,
        award_code="LDTT",
        nominating_unit_id="SO_Y_TE",
        year=demo.YEAR,
        person_id="nv-ldtt-moi",
    )
    with app_services.session_factory() as session:
        instance = session.scalars(select(ProcessInstance).where(ProcessInstance.business_key == nomination_id)).one()
        definition = session.get(ProcessDefinition, instance.definition_id)
        assert (definition.process_id, definition.version) == ("nomination", 2)
        assert definition.task_meta["appraise_nomination"]["due_working_days"] == 12


def test_b_a_gateway_without_default_is_marked_and_its_deploy_refused(page: Page, live_server, shoot):
    url = live_server.url
    sign_in(page, url)
    before = versions(page, url, "nomination")
    open_editor(page, url, "edit-nomination")
    select_shape(page, "intake_outcome")
    default = page.get_by_test_id("prop-default")
    expect(default).to_have_value("returned_for_supplement")
    default.select_option("")

    page.get_by_test_id("validate").click()
    problem = page.locator('[data-testid="problem"][data-code="gateway_default"]')
    expect(problem).to_have_attribute("data-element-id", "intake_outcome")
    expect(page.locator('.djs-shape[data-element-id="intake_outcome"]')).to_have_class(re.compile(r"\bhas-error\b"))
    expect(page.get_by_test_id("tab-nomination.bpmn")).to_have_class(re.compile(r"\bhas-error\b"))
    shoot(page, "b-gateway-error")

    page.get_by_test_id("deploy-reason").fill("Bỏ luồng mặc định")
    with page.expect_response(re.compile(r"/deploy$")) as deploy:
        page.get_by_test_id("deploy").click()
    assert deploy.value.status == 422
    expect(page.get_by_test_id("designer-status")).to_have_class(ERROR)
    expect(problem).to_be_visible()
    assert versions(page, url, "nomination") == before


def test_c_a_decision_table_threshold_is_deployed_to_the_rule_set(page: Page, live_server):
    url = live_server.url
    sign_in(page, url)
    open_editor(page, url, f"edit-rules-{demo.RULE_SET}")
    page.get_by_test_id("tab-eligibility_cstdcs.dmn").click()
    pane = page.get_by_test_id("pane-eligibility_cstdcs.dmn")
    cell = pane.locator(f'td[data-element-id="{THRESHOLD_CELL}"]')
    expect(cell).to_have_text("? is not None and ? >= 1")
    cell.click()
    editor = cell.locator(".cm-content")  # dmn-js edits a cell in a CodeMirror editor
    editor.press("End")
    editor.press("Backspace")
    editor.type("2")
    expect(page.get_by_test_id("tab-eligibility_cstdcs.dmn")).to_have_attribute("data-dirty", "true")

    status = page.get_by_test_id("designer-status")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("tab-eligibility_cstdcs.dmn")).to_have_attribute("data-dirty", "false")
    page.get_by_test_id("validate").click()
    expect(status).to_have_class(OK)
    page.get_by_test_id("deploy-reason").fill("Nâng ngưỡng sáng kiến lên 2")
    page.get_by_test_id("deploy").click()
    expect(page.get_by_test_id("deployed-link")).to_be_visible()

    with live_server.services.session_factory() as session:
        stored = session.get(RuleFile, (demo.RULE_SET, "eligibility_cstdcs.dmn")).content
    cells = {entry.get("id"): entry.findtext(f"{DMN_NS}text") for entry in ElementTree.fromstring(stored).iter()}
    assert cells[THRESHOLD_CELL].strip() == "? is not None and ? >= 2"


def test_d_a_save_on_a_stale_draft_is_refused_and_loses_nothing(page: Page, browser: Browser, live_server):
    url = live_server.url
    other = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", viewport={"width": 1280, "height": 900})
    other.set_default_timeout(10_000)
    try:
        second = other.new_page()
        for each in (page, second):
            sign_in(each, url)
            open_editor(each, url, "edit-revocation")
        assert page.url == second.url  # one draft, two editors

        # The first edits a form schema: a syntax error is shown with its place and blocks saving.
        page.get_by_test_id("tab-sign_revocation.json").click()
        text = page.get_by_test_id("pane-sign_revocation.json").get_by_test_id("text-editor")
        schema = json.loads(text.input_value())
        text.fill('{\n  "type": "object",\n}')
        syntax = page.get_by_test_id("pane-sign_revocation.json").get_by_test_id("json-syntax")
        expect(syntax).to_have_class(ERROR)
        expect(syntax).to_have_attribute("data-place", "3:1")  # line:column of the brace after the stray comma
        page.get_by_test_id("save").click()
        expect(page.get_by_test_id("designer-status")).to_have_class(ERROR)
        schema["title"] = "Ký quyết định hủy khen thưởng (sửa)"
        text.fill(json.dumps(schema, ensure_ascii=False, indent=2))
        expect(syntax).to_have_class(OK)
        page.get_by_test_id("save").click()
        expect(page.get_by_test_id("tab-sign_revocation.json")).to_have_attribute("data-dirty", "false")

        # The second, still at the revision it opened, edits another form and saves: refused.
        second.get_by_test_id("tab-prepare_revocation.json").click()
        other_text = second.get_by_test_id("pane-prepare_revocation.json").get_by_test_id("text-editor")
        other_text.fill(other_text.input_value().replace("{", '{"description": "mine",', 1))
        second.get_by_test_id("save").click()
        status = second.get_by_test_id("designer-status")
        expect(status).to_have_class(re.compile(r"\bconflict\b"))
        expect(status).to_contain_text(DESIGNER)
        expect(second.get_by_test_id("save")).to_be_disabled()

        draft_id = page.url.rsplit("/", 1)[-1]
        files = design_queries.draft(live_server.services, draft_id).files
        assert json.loads(files["sign_revocation.json"])["title"] == schema["title"]
        assert "mine" not in files["prepare_revocation.json"]

        # Reloading shows the first one's version.
        second.get_by_test_id("reload").click()
        expect(second.locator("#designer")).to_have_attribute("data-ready", "true")
        second.get_by_test_id("tab-sign_revocation.json").click()
        reloaded = second.get_by_test_id("pane-sign_revocation.json").get_by_test_id("text-editor")
        assert json.loads(reloaded.input_value())["title"] == schema["title"]
    finally:
        other.close()
