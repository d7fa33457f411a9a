"""The story of the run in the Explore view, in a real browser at 1280x720 (issue 14, part 3): the "What
happened" panel tells the run's events as ``coprod.story`` does, the newest in view, and the views chart
draws every group with the two marked ones marked."""

from __future__ import annotations

import os
import re
import time

import pytest
from coprod.dashboards.choices import Draft
from coprod.dashboards.story_view import LOG_HEIGHT, NOTHING_YET, story_lines
from playwright.sync_api import expect

from coprod import story as st

from .conftest import SCREENSHOTS, UPDATE_SCREENSHOTS, Dashboard

pytestmark = pytest.mark.browser

PROJECTOR = {"width": 1280, "height": 720}
AT_LEAST = 40  # months to play at least (the counter's pattern below): the log's box then scrolls


@pytest.fixture
def projector(browser, browser_context_args, dashboard_url) -> Dashboard:
    context = browser.new_context(**{**browser_context_args, "viewport": PROJECTOR})
    try:
        yield Dashboard(context.new_page(), dashboard_url).open()
    finally:
        context.close()


def settled_month(dashboard: Dashboard) -> int:
    """The month once Pause has taken hold (a step under way when it was pressed still finishes)."""
    expect(dashboard.view().get_by_role("button", name="Play", exact=True)).to_be_visible()
    month = dashboard.month()
    while True:
        time.sleep(0.4)
        again = dashboard.month()
        if again == month:
            return month
        month = again


def test_what_happened_tells_the_runs_events_and_the_views_chart_marks_two_groups(
    projector: Dashboard, tmp_path
):
    scenario = Draft().check().scenario  # the set-up the page opens with
    _, told = st.tell(scenario, steps=AT_LEAST)
    first = next(e for e in told.events if e.kind not in st.RECURRING)  # told on a line of its own
    view = projector.view()
    log = view.locator(".story-log")
    expect(log).to_contain_text(NOTHING_YET)

    projector.press("20")
    projector.press("Play")
    expect(view.locator(".month-counter")).to_have_text(re.compile(r"^Month ([4-9]\d|1\d\d) "))
    projector.press("Pause")
    month = settled_month(projector)
    expected = story_lines(st.tell(scenario, steps=month)[1].events)
    log.scroll_into_view_if_needed()
    expect(log.locator(".story-line")).to_have_text(expected)  # the same words, oldest first
    expect(log).to_contain_text(f"month {first.month}: {first.text}")

    # a box of fixed height that scrolls, opened at the newest line
    box = log.bounding_box()
    assert abs(box["height"] - LOG_HEIGHT) < 2 and box["x"] + box["width"] <= PROJECTOR["width"], box
    assert log.evaluate("e => e.scrollHeight > e.clientHeight")
    newest = log.locator(".story-line").last.bounding_box()
    assert box["y"] <= newest["y"] and newest["y"] + newest["height"] <= box["y"] + box["height"] + 1

    chart = view.locator(".opinion-chart svg")
    expect(chart.locator("g.opinion-series")).to_have_count(len(st.GROUPS))
    expect(chart.locator("g.opinion-series.marked polyline")).to_have_count(len(st.MARKED))
    for name in st.MARKED:
        expect(chart.locator(f"g.opinion-{name}.marked polyline")).to_be_attached()
    expect(chart).to_contain_text("Marginalised residents")
    chart.scroll_into_view_if_needed()
    expect(chart).to_be_in_viewport(ratio=1)  # the whole chart fits on a 1280x720 screen
    # the README's picture of the story (written only when missing or with COPROD_UPDATE_SCREENSHOTS=1)
    shot = tmp_path / "story.png"
    view.locator(".run-story").screenshot(path=shot)
    target = SCREENSHOTS / "story.png"
    if os.environ.get(UPDATE_SCREENSHOTS) == "1" or not target.exists():
        target.write_bytes(shot.read_bytes())
