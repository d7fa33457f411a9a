"""(e) Dashboard months (steps) per second while playing at speed "max", in a real browser.

Starts ``coprod dashboard`` on a free loopback port (its own process group, stopped at the end), opens it
in Debian's chromium through Playwright (the flags of ``tests/browser/conftest.py``), and for 1,000 and
5,000 residents sets ``run.steps`` to 1,200, presses Reset, picks the speed "max" and Play. After a short
settling time the month counter is read at the moment it changes, again at the first change after the
window, and the rate is months over seconds between those two changes (the counter is redrawn at most ten
times a second, so reading it at its changes removes that rounding). The same set-up is then stepped
headless in this process (``GovernanceModel.step`` in a loop, the same settling time and window) and the
ratio browser / headless is taken within each repeat. Sizes and the two ways alternate from repeat to
repeat; figures are medians.

Before that, the time to a usable page: a new browser context opens the page and the clock stops when
the month counter shows "Month 0 of 120" (the model built, the page drawn). The first opening after the
server started is reported apart (it loads the app's modules in the server's kernel); the later ones are
what a workshop participant opening a tab sees.

Without chromium (or Playwright) the section says so and the other parts go on.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import Section, interleave, median, say, spread
from benchmarks.server import serving

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [  # Debian's chromium on these machines (PLATFORM.md); tests/browser uses these too
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RESIDENTS = (1_000, 5_000)
HORIZON = 1_200
SETTLE_SECONDS = 0.5
# windows short enough that 250 months/s (1,000 residents here, unloaded) stays within the 1,200 months
WINDOW_SECONDS = {"quick": 2.0, "default": 3.0, "full": 3.5}
REPEATS = {"quick": 2, "default": 3, "full": 7}
SERVER_START_SECONDS = 90
WAIT_MS = 60_000
WAYS = ("browser", "headless")


def _serving(folder: Path):
    """``coprod dashboard`` on a free port, with an empty results folder, in its own process group."""
    (folder / "results").mkdir()
    return serving(
        [sys.executable, "-m", "coprod.cli", "dashboard", "--port", "{port}"],
        folder / "server.log",
        env={"COPROD_RESULTS_DIR": str(folder / "results")},
        what="the dashboard",
        start_seconds=SERVER_START_SECONDS,
    )


def _time_to_page(browser, url: str) -> float:
    """Seconds from opening the page in a new context to the month counter being drawn."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    try:
        page = context.new_page()
        began = time.perf_counter()
        page.goto(url)
        expect(page.locator(".explore .month-counter")).to_have_text("Month 0 of 120", timeout=WAIT_MS)
        return time.perf_counter() - began
    finally:
        context.close()


class _Page:
    """The explore view, with the moves the measurement makes."""

    def __init__(self, page, url: str):
        from playwright.sync_api import expect

        self.page, self.expect = page, expect
        page.goto(url)
        expect(self._counter()).to_have_text("Month 0 of 120", timeout=WAIT_MS)
        self._type("run.steps", str(HORIZON))

    def _view(self):
        return self.page.locator(".explore")

    def _counter(self):
        return self._view().locator(".month-counter")

    def _type(self, key: str, value: str) -> None:
        box = self._view().locator(f".parameter-{key.replace('.', '-')} .slider-typed input")
        box.fill(value)
        box.press("Enter")

    def press(self, label: str) -> None:
        self._view().get_by_role("button", name=label, exact=True).click()

    def reset_to(self, residents: int) -> None:
        self._type("population.residents", str(residents))
        self.press("Reset")
        caption = self._view().locator(".card-network")
        self.expect(caption).to_contain_text(f"of {residents} residents", timeout=WAIT_MS)
        self.expect(self._counter()).to_have_text(f"Month 0 of {HORIZON}", timeout=WAIT_MS)

    def month(self) -> int:
        return int(re.search(r"Month (\d+) of", self._counter().inner_text()).group(1))

    def next_change(self, limit: float = 10.0) -> tuple[int, float]:
        """(month, time) at the next redraw of the month counter."""
        before, began = self.month(), time.perf_counter()
        while True:
            now = self.month()
            if now != before or time.perf_counter() - began > limit:
                return now, time.perf_counter()
            time.sleep(0.005)

    def play_rate(self, window: float) -> tuple[float, int]:
        """Months per second while playing at "max": (rate, the month the window ended at)."""
        self.press("Play")
        time.sleep(SETTLE_SECONDS)
        first, start = self.next_change()
        time.sleep(window)
        last, end = self.next_change()
        self.press("Pause")
        self.expect(self._view().get_by_role("button", name="Play", exact=True)).to_be_visible()
        return (last - first) / (end - start), last


def _headless_rate(residents: int, window: float) -> float:
    """Steps per second of the same set-up's model, stepped in this process."""
    from coprod.dashboards.choices import Draft
    from coprod.model import GovernanceModel

    scenario = (
        Draft()
        .with_value("population.residents", residents)
        .with_value("run.steps", HORIZON)
        .check()
        .scenario
    )
    model = GovernanceModel(scenario)
    settle = time.perf_counter() + SETTLE_SECONDS
    while time.perf_counter() < settle:
        model.step()
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < window:
        model.step()
        done += 1
    return done / elapsed


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"not measured: no chromium at {CHROMIUM} (apt-get install -y chromium chromium-driver)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as err:
        return f"not measured: Playwright is not installed ({err})"
    return None


def run(mode: str, out_dir: Path) -> dict:
    repeats, window = REPEATS[mode], WINDOW_SECONDS[mode]
    section = Section("dashboard", mode, repeats)
    method = (
        f'speed "max", run.steps {HORIZON}, Reset before each repeat; {SETTLE_SECONDS} s to settle, then '
        f"months counted between two redraws of the month counter {window:g} s apart; headless: the same "
        "set-up's GovernanceModel stepped in the benchmark process, same settling time and window; sizes "
        "and ways alternate from repeat to repeat"
    )
    if problem := _missing():
        say(f"dashboard: {problem}")
        return section.finish(skipped=problem, method=method, rows=[])

    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    browser_rates: dict[int, list[float]] = {n: [] for n in RESIDENTS}
    headless_rates: dict[int, list[float]] = {n: [] for n in RESIDENTS}
    ratios: dict[int, list[float]] = {n: [] for n in RESIDENTS}
    reached: dict[int, int] = dict.fromkeys(RESIDENTS, 0)
    try:
        with tempfile.TemporaryDirectory(prefix="coprod-bench-dashboard-") as folder:
            with _serving(Path(folder)) as server, sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
                try:
                    first_open = _time_to_page(browser, server.url)
                    opens = [_time_to_page(browser, server.url) for _ in range(repeats)]
                    say(f"dashboard: page usable after {first_open:.2f} s (first), then {opens}")
                    context = browser.new_context(viewport={"width": 1500, "height": 1100})
                    page = _Page(context.new_page(), server.url)
                    page.press("max")
                    version = browser.version
                    for r in range(repeats):
                        for n in interleave(RESIDENTS, r):
                            rate = {}
                            for way in interleave(WAYS, r):
                                if way == "browser":
                                    page.reset_to(n)
                                    rate[way], last = page.play_rate(window)
                                    reached[n] = max(reached[n], last)
                                else:
                                    rate[way] = _headless_rate(n, window)
                            browser_rates[n].append(rate["browser"])
                            headless_rates[n].append(rate["headless"])
                            ratios[n].append(rate["browser"] / rate["headless"])
                            say(
                                f"dashboard: {n:,} residents, repeat {r + 1}: browser "
                                f"{rate['browser']:.1f} months/s, headless {rate['headless']:.1f} steps/s"
                            )
                finally:
                    browser.close()
            log = server.log.read_text(errors="replace")
    except (PlaywrightError, RuntimeError, OSError) as err:
        note = f"not measured: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
        say(f"dashboard: {note}")
        return section.finish(skipped=note, method=method, rows=[])

    rows = [
        {
            "residents": n,
            "steps_per_second": round(median(browser_rates[n]), 1),
            "steps_per_second_spread": [round(v, 1) for v in spread(browser_rates[n])],
            "headless_steps_per_second": round(median(headless_rates[n]), 1),
            "browser_over_headless": round(median(ratios[n]), 3),
            "repeats": repeats,
            "last_month_reached": reached[n],
            "horizon_reached": reached[n] >= HORIZON,  # then the window was cut short: the rate is low
        }
        for n in RESIDENTS
    ]
    return section.finish(
        method=method,
        browser=f"chromium {version} ({CHROMIUM}), headless, through Playwright",
        window_seconds=window,
        page_seconds_first=round(first_open, 2),
        page_seconds=round(median(opens), 2),
        page_seconds_spread=[round(v, 2) for v in spread(opens)],
        server_errors="Traceback" in log,
        rows=rows,
    )
