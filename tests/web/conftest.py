"""Browser tests: the workspace served by uvicorn on loopback, driven by Chromium.

Playwright (Python) drives Debian's Chromium (``/usr/bin/chromium``, or
``GLIA_CHROMIUM``); ``playwright install`` is not needed. Without a Chromium
the tests are skipped with the reason. Screenshots of each page are written
to ``screenshots/`` at the repository root (or ``GLIA_SCREENSHOTS``) and kept.

The server runs on SQLite: the API tests cover PostgreSQL; here the page is
what is under test.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from glia.api import create_app
from glia.store import Store

from ..api.conftest import PASSWORD, World, build_world
from conftest import ROOT

CHROMIUM = os.environ.get("GLIA_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(os.environ.get("GLIA_SCREENSHOTS") or ROOT / "screenshots")


@dataclass
class Live:
    url: str
    world: World


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    """The test world served on a free loopback port."""
    store = Store.open(f"sqlite:///{tmp_path / 'glia.db'}")
    world = build_world(store, web=True)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(store), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield Live(f"http://127.0.0.1:{port}", world)
    finally:
        server.should_exit = True
        thread.join(10)
        store.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"browser tests skipped: no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"],
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: object, live: Live) -> Iterator[object]:
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live.url)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    yield opened
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def sign_in(page: object, username: str = "ben", password: str = PASSWORD) -> None:
    """Sign in through the login form, as a person would."""
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def shot(page: object, name: str) -> Path:
    """Keep a full-page screenshot as ``screenshots/NAME.png``."""
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
