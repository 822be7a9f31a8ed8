"""The auditor's timeline in real Chromium, as the demo auditor "thanh.tra": find the demo's decided
nomination (the ad hoc Giấy khen, decision 1/QĐ-UBND), open it, move along its timeline by a click
on an event, the next button and the slider, and see the diagram marked with the state replay
rebuilds at each event: the steps done and the one waiting. Screenshots are kept.

Assertions read test ids, classes and data attributes rather than texts, so that they hold
whatever the UI language."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from workflows.demo import province as demo

AUDITOR = "thanh.tra"
DECIDED = "1/QĐ-UBND"
# The ad hoc route's events: 1 started, 2 drafted, 3 signed, 4 received, 5 decision signed,
# 6 result notified, 7 finished.
HEAD = 7
COMPLETED = re.compile(r"\baudit-completed\b")
ACTIVE = re.compile(r"\baudit-active\b")


def sign_in(page: Page, url: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Tên đăng nhập").fill(AUDITOR)
    page.get_by_label("Mật khẩu").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_test_id("who")).to_be_visible()


def shape(page: Page, element_id: str) -> Locator:
    return page.locator(f'#audit-diagram .djs-element[data-element-id="{element_id}"]')


def expect_state_at(page: Page, seq: int, done: list[str], waiting: list[str], not_yet: list[str]) -> None:
    """The diagram shows event `seq`: `done` marked completed, `waiting` marked active, `not_yet`
    unmarked; the timeline marks that event as the current one."""
    diagram = page.get_by_test_id("audit-diagram")
    expect(diagram).to_have_attribute("data-at", str(seq))
    expect(diagram).to_have_attribute("data-loading", "false")
    for element_id in done:
        expect(shape(page, element_id)).to_have_class(COMPLETED)
    for element_id in waiting:
        expect(shape(page, element_id)).to_have_class(ACTIVE)
    for element_id in not_yet:
        expect(shape(page, element_id)).not_to_have_class(COMPLETED)
        expect(shape(page, element_id)).not_to_have_class(ACTIVE)
    expect(diagram).to_have_attribute("data-active", " ".join(sorted(waiting)))
    expect(page.locator(f'ol.timeline > li[data-seq="{seq}"]')).to_have_attribute("aria-current", "step")
    expect(page.get_by_test_id("slider")).to_have_value(str(seq))


def test_an_auditor_moves_along_a_decided_nominations_timeline(page: Page, live_server, shoot):
    url = live_server.url
    sign_in(page, url)
    page.get_by_test_id("audit-link").click()
    search = page.get_by_test_id("audit-search")
    search.locator('input[name="decision"]').fill(DECIDED)
    search.locator('button[type="submit"]').click()
    rows = page.locator('[data-testid="instances"] tbody tr[data-instance]')
    expect(rows).to_have_count(1)
    rows.first.locator("a").first.click()

    expect(page.get_by_test_id("decision-code")).to_have_text(DECIDED)
    expect(page.locator("#audit-diagram .bjs-powered-by")).to_be_visible()  # bpmn.io's licence: the watermark stays
    # Opened at the last event: the whole path is done, nothing waits.
    expect_state_at(
        page,
        HEAD,
        done=["draft_nomination", "sign_nomination", "receive_nomination", "sign_decision", "notify_result"],
        waiting=[],
        not_yet=["supplement_nomination", "notify_rejection"],
    )
    expect(page.locator("#audit-diagram .djs-connection.audit-path")).not_to_have_count(0)
    shoot(page, "a-decided-at-the-end")

    page.get_by_test_id("pick-2").click()
    expect_state_at(
        page,
        2,
        done=["draft_nomination"],
        waiting=["sign_nomination"],
        not_yet=["receive_nomination", "sign_decision", "notify_result"],
    )
    shoot(page, "b-after-the-draft")

    page.get_by_test_id("next").click()
    expect_state_at(
        page,
        3,
        done=["draft_nomination", "sign_nomination"],
        waiting=["receive_nomination"],
        not_yet=["sign_decision", "notify_result"],
    )

    slider = page.get_by_test_id("slider")
    slider.fill("5")  # sets the range input's value and fires its change event
    expect_state_at(
        page,
        5,
        done=["draft_nomination", "sign_nomination", "receive_nomination", "sign_decision"],
        waiting=["notify_result"],
        not_yet=["notify_rejection"],
    )
    expect(page.locator('ol.timeline > li[data-seq="6"]')).to_have_class(re.compile(r"\bafter\b"))
    shoot(page, "c-decision-signed")

    page.get_by_test_id("prev").click()
    expect_state_at(
        page,
        4,
        done=["draft_nomination", "sign_nomination", "receive_nomination"],
        waiting=["sign_decision"],
        not_yet=["notify_result"],
    )
