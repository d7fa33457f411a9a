"""Real-browser tests of the dashboard: one ``coprod dashboard`` server for the session, Debian's chromium.

Playwright cannot download its own browsers here, so pytest-playwright's launch arguments are overridden
to use ``/usr/bin/chromium`` (``apt-get install -y chromium chromium-driver``) with the flags PLATFORM.md
lists. Run only these with ``pytest -m browser``; leave them out with ``-m "not browser"``.

The page must work with no network: every browser context these tests open lets requests (and websockets)
to this machine through and stops any other, recording its address; a test during which one was tried
fails at its teardown, naming them.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Route, WebSocketRoute, expect

from benchmarks.dashboard import CHROMIUM, LAUNCH_ARGS  # one list of flags for both

ROOT = Path(__file__).resolve().parents[2]
SERVER_START_SECONDS = 90
VIEWPORT = {"width": 1500, "height": 1100}
SCREENSHOTS = ROOT / "docs" / "img"
UPDATE_SCREENSHOTS = "COPROD_UPDATE_SCREENSHOTS"
# How long an expectation waits for the page (Playwright's default is 5 s). On two cores shared with other
# test processes a redraw after a tab switch took longer than that in a fresh-clone run; an expectation
# that holds returns as soon as it does, so only a failure waits this long.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        pytest.fail(f"no chromium at {CHROMIUM}: apt-get install -y chromium chromium-driver")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": LAUNCH_ARGS}


# Any address that is not this machine (127.0.0.1, localhost, [::1]) over http(s) or ws(s).
OFF_MACHINE = re.compile(r"^(?!(https?|wss?)://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(/|$))")


@pytest.fixture(scope="session")
def off_machine() -> list[str]:
    """The addresses beyond this machine that a page tried to reach during the current test."""
    return []


def keep_local(context: BrowserContext, tried: list[str]) -> BrowserContext:
    """Stop, and record, every request and websocket of ``context`` that would leave this machine."""

    def stop(route: Route) -> None:
        tried.append(route.request.url)
        route.abort("blockedbyclient")

    def stop_socket(socket: WebSocketRoute) -> None:
        tried.append(socket.url)
        socket.close()

    context.route(OFF_MACHINE, stop)
    context.route_web_socket(OFF_MACHINE, stop_socket)
    return context


@pytest.fixture(scope="session")
def browser(browser: Browser, off_machine: list[str]) -> Browser:
    """pytest-playwright's browser, whose every new context (its own ``page`` fixture's and those the
    tests open themselves) keeps to this machine."""
    opened = browser.new_context

    def new_context(**kwargs) -> BrowserContext:
        return keep_local(opened(**kwargs), off_machine)

    browser.new_context = new_context
    return browser


@pytest.fixture(autouse=True)
def no_network(off_machine: list[str]) -> Iterator[None]:
    """Fail the test if its pages tried to reach anything beyond this machine."""
    off_machine.clear()
    yield
    tried = list(off_machine)
    off_machine.clear()
    assert not tried, f"the page tried to reach beyond this machine: {tried}"


@pytest.fixture(scope="session")
def base_url():
    """Replaces pytest-playwright 0.10's fallback ``base_url``, a session fixture written as a method,
    which pytest 9 deprecates (PytestRemovedIn10Warning, an error under filterwarnings=error). The tests
    pass full addresses, so it is not needed."""
    return None


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": VIEWPORT, "accept_downloads": True}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(folder: Path, env: dict[str, str] | None = None) -> Iterator[tuple[str, subprocess.Popen, Path]]:
    """``coprod dashboard`` on a free port in its own process group, with an empty results folder under
    ``folder`` and ``env`` added to the environment: (address, server process, log file); stopped after."""
    (folder / "results").mkdir(exist_ok=True)
    port = _free_port()
    log_path = folder / "server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "coprod.cli", "dashboard", "--port", str(port)],
            cwd=ROOT,
            env={**os.environ, "COPROD_RESULTS_DIR": str(folder / "results"), **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: solara runs as a child of coprod
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the dashboard did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.3)
        yield url, server, log_path
    finally:
        try:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=15)


@pytest.fixture(scope="session")
def dashboard_url(tmp_path_factory):
    """``coprod dashboard`` on a free port, with an empty results folder of its own; stopped at the end."""
    with serving(tmp_path_factory.mktemp("dashboard")) as (url, _, _):
        yield url


class Dashboard:
    """The page, with the few moves the tests make."""

    def __init__(self, page: Page, url: str):
        self.page = page
        self.url = url

    def open(self) -> Dashboard:
        self.page.goto(self.url)
        expect(self.page.locator(".explore .month-counter")).to_have_text("Month 0 of 120", timeout=30_000)
        return self

    def view(self, name: str = "explore") -> Locator:
        return self.page.locator(f".{name}")

    def compare(self) -> Locator:
        self.page.get_by_role("tab", name="Compare two set-ups").click()
        expect(self.view("compare").locator(".month-counter")).to_have_text("Month 0 of 120", timeout=15_000)
        return self.view("compare")

    def press(self, label: str, view: str = "explore") -> None:
        self.view(view).get_by_role("button", name=label, exact=True).click()

    def month(self, view: str = "explore") -> int:
        return int(self.view(view).locator(".month-counter").inner_text().split()[1])

    def expect_month(self, month: int, view: str = "explore") -> None:
        expect(self.view(view).locator(".month-counter")).to_have_text(re.compile(rf"^Month {month} of "))

    def residents_running(self) -> int:
        caption = self.view().locator(".card-network").inner_text()
        return int(re.search(r"of (\d+) residents", caption).group(1))

    def screenshot(self, name: str, scratch: Path) -> Path:
        """Take a picture of the page for the README: into ``docs/img/`` when it has none yet, or when
        COPROD_UPDATE_SCREENSHOTS=1 (so an ordinary test run leaves the committed pictures alone)."""
        shot = scratch / name
        self.page.evaluate("window.scrollTo(0, 0)")  # the top of the page, whatever a click scrolled to
        self.page.wait_for_timeout(200)
        self.page.screenshot(path=shot)
        target = SCREENSHOTS / name
        if os.environ.get(UPDATE_SCREENSHOTS) == "1" or not target.exists():
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            target.write_bytes(shot.read_bytes())
        return shot

    def type_into(self, key: str, value: str) -> None:
        box = self.view().locator(f".parameter-{key.replace('.', '-')} .slider-typed input")
        box.fill(value)
        box.press("Enter")


@pytest.fixture
def dashboard(page: Page, dashboard_url: str) -> Dashboard:
    return Dashboard(page, dashboard_url).open()
