"""One nomination through every step of the ladder in real Chromium, each step by its demo user:
sign in, find the task in the inbox, claim it, fill its form (the first one wrongly, to see the
error next to its field), complete it, and the next reviewer finds it in their inbox. The
commune of Hải Hậu is proposed for "Tập thể lao động xuất sắc"."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from workflows.demo.province import DEMO_PASSWORD

NOMINEE = "UBND huyện Hải Hậu"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def sign_in(page: Page, url: str, username: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_test_id("who")).to_be_visible()


def open_my_task(page: Page, url: str, task_name: str) -> None:
    """Find the task among the group's tasks and claim it."""
    page.goto(f"{url}/?view=claimable")
    row = page.get_by_test_id("tasks").locator("tr", has_text=NOMINEE).filter(has_text=task_name)
    expect(row).to_have_count(1)
    row.get_by_role("link", name=task_name).click()
    expect(page.get_by_test_id("task-name")).to_have_text(task_name)
    page.get_by_test_id("claim").click()
    expect(page.get_by_test_id("claimed-by")).not_to_have_text("chưa có")


def complete(page: Page) -> None:
    page.get_by_test_id("complete").click()
    expect(page.get_by_test_id("completed")).to_be_visible()


def answer(page: Page, field: str, value: str) -> None:
    page.locator(f'[data-field="{field}"] input[value="{value}"]').check()


def test_a_nomination_climbs_the_whole_ladder(page: Page, live_server, shoot, tmp_path):
    url = live_server.url

    # The unit's emulation officer drafts the nomination and attaches its report.
    sign_in(page, url, "tdkt.hai.hau")
    page.goto(f"{url}/nominations/new")
    page.get_by_label("Hình thức khen thưởng").select_option(label="Tập thể lao động xuất sắc")
    page.get_by_label("Đối tượng đề nghị").select_option(label=NOMINEE)
    page.get_by_role("button", name="Tạo hồ sơ").click()
    expect(page.get_by_test_id("status")).to_have_text("Đang lập hồ sơ")
    open_my_task(page, url, "Lập hồ sơ đề nghị")
    report = tmp_path / "Báo cáo thành tích.pdf"
    report.write_bytes(PDF)
    page.locator('input[type="file"]').set_input_files(str(report))
    page.get_by_role("button", name="Tải lên").click()
    expect(page.get_by_test_id("files")).to_contain_text("Báo cáo thành tích.pdf")
    page.get_by_test_id("complete").click()  # the summary is still empty
    expect(page.locator('[data-error-for="summary"]')).to_have_text("Trường này là bắt buộc.")
    shoot(page, "1-draft-validation-error")
    page.locator('[data-field="summary"] textarea').fill("Hoàn thành xuất sắc nhiệm vụ năm 2022; dẫn đầu cụm.")
    complete(page)

    # The unit head signs and sends it.
    sign_in(page, url, "ct.hai.hau")
    open_my_task(page, url, "Ký tờ trình, gửi hồ sơ")
    complete(page)

    # The head of the cluster reviews it.
    sign_in(page, url, "ct.thanh.pho")
    open_my_task(page, url, "Cụm, khối bình xét")
    answer(page, "approved", "true")
    shoot(page, "2-bloc-review")
    complete(page)

    # The board receives, then another officer appraises with the eligibility check in view.
    sign_in(page, url, "chuyen.vien.1")
    open_my_task(page, url, "Tiếp nhận hồ sơ")
    answer(page, "complete", "true")
    complete(page)
    sign_in(page, url, "chuyen.vien.2")
    open_my_task(page, url, "Thẩm định hồ sơ")
    expect(page.get_by_test_id("eligibility")).to_contain_text("đạt đủ tiêu chuẩn")
    answer(page, "recommend", "true")
    page.locator('[data-field="report"] textarea').fill("Đủ tiêu chuẩn Tập thể lao động xuất sắc.")
    shoot(page, "3-appraisal")
    complete(page)

    # The council's secretary puts it on a session and records attendance and the secret tally.
    sign_in(page, url, "truong.ban")
    page.goto(f"{url}/council")
    page.get_by_label("Thời gian họp").fill("2022-11-15T08:00")
    page.get_by_role("button", name="Lên lịch phiên họp").click()
    item = page.locator("tr[data-item]", has_text=NOMINEE)
    expect(item).to_contain_text("Không tham gia biểu quyết")  # Hải Hậu's own chairman is recused
    voters = item.locator('input[type="checkbox"]').count()
    item.locator('input[name^="yes-"]').fill(str(voters))
    item.locator('input[name^="no-"]').fill("0")
    item.locator('input[name^="abstain-"]').fill("0")
    page.get_by_test_id("record").click()
    expect(page.locator("tr[data-item]", has_text=NOMINEE).get_by_test_id("result")).to_contain_text("Đạt")
    shoot(page, "4-council-sheet")

    # The chairman signs the numbered decision; the board announces it.
    sign_in(page, url, "chu.tich")
    open_my_task(page, url, "Ký quyết định khen thưởng")  # on the merit route, signing is the decision
    complete(page)
    sign_in(page, url, "chuyen.vien.1")
    open_my_task(page, url, "Thông báo kết quả")
    complete(page)

    # Everyone with the nomination in scope sees it published with its decision number.
    sign_in(page, url, "tdkt.hai.hau")
    page.goto(f"{url}/nominations?view=started")
    page.get_by_role("link", name=NOMINEE).click()
    expect(page.get_by_test_id("status")).to_have_text("Đã công bố")
    expect(page.get_by_test_id("decision")).to_have_text(re.compile(r"^\d+/QĐ-UBND$"))
    shoot(page, "5-published")
