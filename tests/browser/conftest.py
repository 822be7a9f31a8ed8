"""Browser tests: Debian's chromium (/usr/bin/chromium) driven by Playwright, against a live server.

Never `playwright install`: Playwright only drives the system browser (`executable_path`).
`make test` installs the chromium package when it is missing and we are root.

Fixtures: `live_server` (module scope; `.url`, `.app`, `.clock`, `.services`), `browser` (module
scope), `page` (per test; vi-VN, Asia/Ho_Chi_Minh, 1280x900, 10 s timeouts) and `shoot` (a
`screenshot` bound to the test module). `screenshot(page, name)` writes
tests/browser/artifacts/<module>-<name>.png, where <module> is the test module without `test_`.
"""

from __future__ import annotations

import os
import shutil
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

from tests.conftest import FakeClock
from tests.databases import DEMO_NOW
from web import create_app
from web.extensions import services
from workflows.uow import Services

CHROMIUM = Path("/usr/bin/chromium")
HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
DEFAULT_TIMEOUT_MS = 10_000
MISSING_CHROMIUM = "Debian's chromium is not installed: make test installs it as root"


def pytest_collection_modifyitems(config, items):
    """Every test under tests/browser is a browser test (this hook sees the whole session)."""
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


def pytest_runtest_setup(item):
    """Before any fixture (the live server loads the demo): skip without chromium, fail under CI."""
    if item.get_closest_marker("browser") and not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{MISSING_CHROMIUM} (CI is set, so this fails instead of skipping)", pytrace=False)
        pytest.skip(MISSING_CHROMIUM)


@dataclass
class LiveServer:
    url: str
    app: Flask
    clock: FakeClock
    services: Services


@pytest.fixture(scope="module")
def live_server(tmp_path_factory, templates) -> LiveServer:
    """The app on a SQLite copy of the demo province, served on 127.0.0.1:<free port>.

    The clock starts at 2022-11-01 02:00 UTC; move it with `live_server.clock.now = ...` or
    `.advance(days=1)` (every unit of work reads it)."""
    data_dir = tmp_path_factory.mktemp("browser-data")
    database = data_dir / "thidua.sqlite3"
    shutil.copyfile(templates.sqlite_file("demo"), database)
    url = f"sqlite:///{database}"
    app = create_app({"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "browser-tests", "DATA_DIR": str(data_dir)})
    clock = FakeClock(DEMO_NOW)
    app_services = services(app)
    app_services.clock = clock

    with serving(app) as url:
        yield LiveServer(url=url, app=app, clock=clock, services=app_services)


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """`app` served on 127.0.0.1:<free port> in a thread; yields its URL. Disposes its services."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="browser-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        services(app).dispose()


@pytest.fixture(scope="module")
def browser() -> Browser:
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    except BaseException:
        playwright.stop()
        raise
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()


@pytest.fixture
def page(browser) -> Page:
    context = browser.new_context(
        locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def _module_label(module: str) -> str:
    stem = Path(module).stem
    return stem.removeprefix("test_")


def screenshot(page: Page, name: str, module: str | None = None) -> Path:
    """Full-page PNG at tests/browser/artifacts/<module>-<name>.png; returns its path.

    `module` defaults to the running test's module (test_smoke.py -> "smoke")."""
    if module is None:
        current = os.environ.get("PYTEST_CURRENT_TEST", "browser::")
        module = current.split("::", 1)[0]
    path = ARTIFACTS / f"{_module_label(module)}-{name}.png"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def shoot(request):
    """`shoot(page, name)`: `screenshot` for the requesting test's module."""
    module = request.module.__name__.rsplit(".", 1)[-1]

    def take(page: Page, name: str) -> Path:
        return screenshot(page, name, module=module)

    return take
