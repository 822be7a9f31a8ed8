"""Smoke tests: Debian's chromium reaches the live server."""

from __future__ import annotations

import json

from tests.browser.conftest import screenshot


def test_healthz_reports_ok(live_server, page):
    response = page.goto(live_server.url + "/healthz")
    assert response is not None and response.status == 200
    body = page.locator("body").inner_text()
    assert '"status"' in body and "ok" in body
    assert json.loads(response.text()) == {"status": "ok"}


def test_a_visitor_to_the_start_page_lands_on_the_sign_in_page(live_server, page):
    response = page.goto(live_server.url + "/")
    assert response is not None and response.status == 200
    assert page.url.startswith(live_server.url + "/login?next=/")
    assert page.title() == "Đăng nhập · thidua"
    path = screenshot(page, "start")
    assert path.name == "smoke-start.png"
    assert path.is_file() and path.stat().st_size > 0
