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


def test_start_page_loads(live_server, page):
    response = page.goto(live_server.url + "/")
    assert response is not None
    # The start page, or the sign-in page it redirects to (Playwright follows redirects).
    assert response.status < 400, f"{response.url} answered {response.status}"
    assert page.locator("head > title").count() == 1
    assert page.title().strip()
    path = screenshot(page, "start")
    assert path.name == "smoke-start.png"
    assert path.is_file() and path.stat().st_size > 0
