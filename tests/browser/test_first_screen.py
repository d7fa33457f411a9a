"""The dashboard on a projector (1280x720): what the first screen holds, what covers what, whether a change
of set-up can step the old run, and whether the page or the server reaches for the network (issue 14)."""

from __future__ import annotations

import re
from itertools import combinations

import pytest
from coprod.model import MARKERS
from playwright.sync_api import Page, expect

from .conftest import Dashboard, serving

pytestmark = pytest.mark.browser

PROJECTOR = {"width": 1280, "height": 720}
# What the server console must never say: a fetch from a CDN (KaTeX, for solara.Markdown) and the cookie
# warning it printed on every page load over http.
SERVER_NOISE = ("Could not load URL", "samesite", "Traceback")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server of this module's own, so that its console (the log) can be read."""
    with serving(tmp_path_factory.mktemp("first-screen")) as (url, _, log):
        yield url, log


@pytest.fixture
def projector(browser, browser_context_args, server) -> Dashboard:
    context = browser.new_context(**{**browser_context_args, "viewport": PROJECTOR})
    try:
        yield Dashboard(context.new_page(), server[0]).open()
    finally:
        context.close()


def boxes(page: Page, selectors: dict[str, str]) -> dict[str, dict]:
    return {name: page.locator(selector).bounding_box() for name, selector in selectors.items()}


def overlap(a: dict, b: dict) -> float:
    """The area two boxes share (0 when they only touch)."""
    w = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
    h = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
    return max(w, 0) * max(h, 0)


def test_the_first_screen_shows_the_markers_consensus_bias_its_chart_and_the_controls(projector: Dashboard):
    view = projector.view()
    in_view = [
        *(f".first-screen .indicator-{marker}" for marker in MARKERS),
        ".card-consensus .indicator-consensus_bias",
        ".card-consensus .bias-chart svg",
        ".run-card .month-counter",
    ]
    for selector in in_view:
        expect(projector.page.locator(f".explore {selector}")).to_be_in_viewport(ratio=1)
    for label in ("Reset", "Step", "Play", "1", "max"):
        expect(view.get_by_role("button", name=label, exact=True)).to_be_in_viewport(ratio=1)
    expect(view.get_by_label("Institutional design")).to_be_in_viewport(ratio=1)
    expect(view.get_by_label("Theory of change")).to_be_in_viewport(ratio=1)
    # nothing clipped: the fastest speed sits wholly inside the run card
    card, fastest = (
        projector.page.locator(s).bounding_box()
        for s in (".explore .run-card", ".explore .speed button:last-child")
    )
    assert fastest["x"] + fastest["width"] <= card["x"] + card["width"] - 4, (fastest, card)


def test_no_key_element_overlaps_another(projector: Dashboard):
    page = projector.page
    found = boxes(
        page,
        {
            "markers": ".explore .first-screen .section-progress-markers",
            "consensus bias": ".explore .card-consensus",
            "consensus chart": ".explore .bias-chart",
            "run controls": ".explore .run-card",
            "set-up": ".explore .view-side > .v-card:nth-child(2)",
            "network": ".explore .card-network",
            "radar": ".explore .card-radar",
        },
    )
    nested = {("consensus bias", "consensus chart")}
    for (a, box_a), (b, box_b) in combinations(found.items(), 2):
        if (a, b) not in nested:
            assert overlap(box_a, box_b) == 0, f"{a} overlaps {b}: {box_a} {box_b}"
    # the network's legend is on top where it is drawn (Solara's banner used to sit over it)
    legend = page.locator(".explore .network svg text", has_text="Taking part this month")
    legend.scroll_into_view_if_needed()
    box = legend.bounding_box()
    on_top = page.evaluate(
        "([x, y]) => { const e = document.elementFromPoint(x, y); return e && !!e.closest('.network'); }",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert on_top, "something covers the network's legend"
    expect(page.get_by_text("This website runs on")).to_have_count(0)


def pick(dashboard: Dashboard, label: str, option: str) -> None:
    dashboard.view().get_by_label(label).click(force=True)
    dashboard.page.locator(".menuable__content__active .v-list-item", has_text=option).first.click()


def test_a_design_change_never_steps_the_old_run(projector: Dashboard):
    """Step and Play switch off the moment the controls no longer match the run, and come back on the new
    run (a click that races the change is ignored on the server: ``Controls``' ``up_to_date``)."""
    projector.press("Step")
    projector.expect_month(1)
    step = projector.view().get_by_role("button", name="Step", exact=True)
    running = projector.view().locator(".running")
    pick(projector, "Institutional design", "Top-down consultation")
    expect(step).to_be_disabled()
    expect(running).to_contain_text("Running: Top-down consultation")
    projector.expect_month(0)
    expect(step).to_be_enabled()
    projector.press("Step")
    projector.expect_month(1)
    expect(running).to_contain_text("Running: Top-down consultation")


def test_the_page_and_the_server_reach_for_nothing_beyond_this_machine(browser, browser_context_args, server):
    url, log = server
    context = browser.new_context(**{**browser_context_args, "viewport": PROJECTOR})
    messages, failed, outside = [], [], []
    page = context.new_page()
    page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.on(
        "request",
        lambda r: None if re.match(r"^(https?|wss?)://127\.0\.0\.1[:/]", r.url) else outside.append(r.url),
    )
    try:
        dashboard = Dashboard(page, url).open()
        # what used to load KaTeX from a CDN: the explanations, a city's sources and the results page
        dashboard.view().get_by_text("What do these mean?").first.click()
        expect(dashboard.view().locator(".prose").first).to_be_visible()
        page.get_by_role("tab", name="Compare two set-ups").click()
        expect(dashboard.view("compare").locator(".month-counter")).to_have_text(
            "Month 0 of 120", timeout=30_000
        )
        page.get_by_role("tab", name="Stored results").click()
        expect(page.locator(".browse .prose")).to_be_visible()
        page.wait_for_timeout(1500)
    finally:
        context.close()
    assert not outside, f"the page asked for addresses beyond this machine: {outside}"
    assert not failed, f"requests failed: {failed}"
    errors = [m for m in messages if m.startswith("error") or "Failed to load" in m]
    assert not errors, errors
    console = log.read_text()
    assert not [word for word in SERVER_NOISE if word in console], console[-3000:]
