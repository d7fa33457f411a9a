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
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Route, WebSocketRoute, expect

import benchmarks.server
from benchmarks.dashboard import CHROMIUM, LAUNCH_ARGS  # one list of flags for both

ROOT = Path(__file__).resolve().parents[2]
SERVER_START_SECONDS = benchmarks.server.START_SECONDS
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


@contextmanager
def serving(folder: Path, env: dict[str, str] | None = None) -> Iterator[tuple[str, subprocess.Popen, Path]]:
    """``coprod dashboard`` on a free port in its own process group, with an empty results folder under
    ``folder`` and ``env`` added to the environment: (address, server process, log file); stopped after."""
    (folder / "results").mkdir(exist_ok=True)
    with benchmarks.server.serving(
        [sys.executable, "-m", "coprod.cli", "dashboard", "--port", "{port}"],
        folder / "server.log",
        env={"COPROD_RESULTS_DIR": str(folder / "results"), **(env or {})},
        what="the dashboard",
        start_seconds=SERVER_START_SECONDS,
        fail=pytest.fail,
    ) as running:
        yield running.url, running.process, running.log


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
