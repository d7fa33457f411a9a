"""The dashboard in a real browser (Debian's chromium driven by Playwright), against ``coprod dashboard``."""

from __future__ import annotations

import csv
import io
import re

import pytest
from coprod.dashboards.choices import Draft
from coprod.dashboards.words import LABELS
from coprod.model import MARKERS, OUTPUTS, GovernanceModel, load_scenario
from playwright.sync_api import expect

from .conftest import Dashboard

pytestmark = pytest.mark.browser


def test_the_page_renders_the_markers(dashboard: Dashboard, tmp_path):
    rows = dashboard.view().locator(".section-progress-markers .indicator-row")
    expect(rows).to_have_count(len(MARKERS))
    for marker in MARKERS:
        expect(dashboard.view().locator(f".indicator-{marker} .indicator-name")).to_have_text(LABELS[marker])
    expect(dashboard.view().locator(".radar svg polygon[stroke-width='2']")).to_have_count(2)  # start, now
    expect(dashboard.view().locator(".network svg circle").first).to_be_visible()
    # a picture of a run under way, for the README
    dashboard.press("20")
    dashboard.press("Play")
    expect(dashboard.view().locator(".month-counter")).to_have_text(re.compile(r"^Month ([3-9]\d|1\d\d) "))
    dashboard.press("Pause")
    dashboard.page.wait_for_timeout(600)  # the charts' last redraw
    assert dashboard.screenshot("dashboard.png", tmp_path).stat().st_size > 10_000


def test_step_advances_the_month_and_changes_a_plot(dashboard: Dashboard):
    lines = ".explore .marker-lines"
    before = dashboard.page.inner_html(lines)
    dashboard.press("Step")
    dashboard.expect_month(1)
    dashboard.page.wait_for_function(
        "([selector, before]) => document.querySelector(selector).innerHTML !== before", arg=[lines, before]
    )
    dashboard.press("Step")
    dashboard.expect_month(2)


def test_a_slider_change_starts_a_new_run_at_once(dashboard: Dashboard):
    dashboard.press("Step")
    dashboard.expect_month(1)
    track = dashboard.view().locator(".parameter-population-residents .v-slider")
    track.scroll_into_view_if_needed()
    box = track.bounding_box()
    dashboard.page.mouse.click(box["x"] + box["width"] * 0.1, box["y"] + box["height"] / 2)
    chosen = dashboard.view().locator(".parameter-population-residents .slider-typed input")
    expect(chosen).not_to_have_value("1000")
    residents = int(chosen.input_value())
    expect(dashboard.view().locator(".card-network")).to_contain_text(f"of {residents} residents")
    dashboard.expect_month(0)


def test_compare_mode_shows_two_set_ups(dashboard: Dashboard, tmp_path):
    view = dashboard.compare()
    expect(view.locator(".side-A")).to_contain_text("Top-down consultation")
    expect(view.locator(".side-B")).to_contain_text("Action research cooperative")
    expect(view.locator(".side-A .network svg")).to_be_visible()
    expect(view.locator(".side-B .network svg")).to_be_visible()
    expect(view.locator(".radar svg polygon[stroke-width='2']")).to_have_count(2)  # A and B overlaid
    expect(view.locator(".marker-lines svg polyline")).to_have_count(2 * len(MARKERS))
    dashboard.press("Step", "compare")
    dashboard.expect_month(1, "compare")
    dashboard.press("20", "compare")
    dashboard.press("Play", "compare")
    expect(view.locator(".month-counter")).to_have_text(re.compile(r"^Month ([4-9]\d|1\d\d) "))
    dashboard.press("Pause", "compare")
    expect(view.locator(".verdict")).to_contain_text("dissensus")
    for name in ("toc_attrition", "unwarranted_convergence", "consensus_bias"):
        expect(view.locator(f".readings .reading-{name} td.number")).to_have_count(2)  # A and B
    expect(view.locator(".verdict-caveat")).to_contain_text("one seed")
    # the README's picture: the end of the run, where seed 1 gives a clear answer
    dashboard.press("max", "compare")
    dashboard.press("Play", "compare")
    expect(view.locator(".month-counter")).to_have_text("Month 120 of 120", timeout=60_000)
    dashboard.page.wait_for_timeout(600)
    assert dashboard.screenshot("compare.png", tmp_path).stat().st_size > 10_000


def test_the_csv_export_ends_with_the_models_outputs(dashboard: Dashboard, tmp_path):
    for month in (1, 2, 3):
        dashboard.press("Step")
        dashboard.expect_month(month)
    with dashboard.page.expect_download() as download:
        dashboard.press("Outputs (CSV)")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    expected = GovernanceModel(Draft().check().scenario)
    for _ in range(3):
        expected.step()
    assert len(rows) == 4 and rows[-1]["step"] == "3"
    assert {name: float(rows[-1][name]) for name in OUTPUTS} == expected.outputs

    with dashboard.page.expect_download() as download:
        dashboard.press("Scenario (TOML)")
    toml = tmp_path / download.value.suggested_filename
    download.value.save_as(toml)
    assert load_scenario(toml).to_toml() == Draft().check().scenario.to_toml()


def test_two_browser_contexts_do_not_share_a_model(browser, browser_context_args, dashboard_url):
    first = Dashboard(browser.new_context(**browser_context_args).new_page(), dashboard_url).open()
    second = Dashboard(browser.new_context(**browser_context_args).new_page(), dashboard_url).open()
    try:
        for month in (1, 2):
            first.press("Step")
            first.expect_month(month)
        second.expect_month(0)
        second.press("Step")
        second.expect_month(1)
        first.expect_month(2)
    finally:
        first.page.context.close()
        second.page.context.close()


def test_an_invalid_seed_shows_a_message_and_leaves_the_run_alone(dashboard: Dashboard):
    dashboard.press("Step")
    dashboard.expect_month(1)
    seed = dashboard.view().locator(".seed-field")
    seed.locator("input").fill("forty-two")
    seed.locator("input").press("Enter")
    expect(seed).to_contain_text("The seed must be a whole number")
    dashboard.press("Reset")
    expect(dashboard.view().get_by_text("cannot work together")).to_be_visible()
    dashboard.expect_month(1)
    assert "Traceback" not in dashboard.page.locator("body").inner_text()


def test_play_advances_the_month_and_pause_stops_it(dashboard: Dashboard):
    """That Play plays and Pause stops; how fast it plays is measured by ``benchmarks/dashboard.py``."""
    dashboard.press("20")
    dashboard.press("Play")
    counter = dashboard.view().locator(".month-counter")
    expect(counter).to_have_text(re.compile(r"^Month ([3-9]|\d\d+) of 120"))
    dashboard.press("Pause")
    expect(dashboard.view().get_by_role("button", name="Play", exact=True)).to_be_visible()
    # the month once it has held for 0.4 s (a step under way when Pause was pressed still finishes and
    # is drawn, later on a busy machine); had Play gone on, it would move until month 120
    stopped = dashboard.month()
    while True:
        dashboard.page.wait_for_timeout(400)
        if dashboard.month() == stopped:
            break
        stopped = dashboard.month()
    dashboard.page.wait_for_timeout(1500)  # 30 months at this speed, had it not stopped
    assert dashboard.month() == stopped < 120


def test_a_request_beyond_this_machine_is_stopped_and_recorded(dashboard: Dashboard, off_machine):
    """The guard every test here runs under (``keep_local`` in conftest): the page works with no network
    only if a request that tried to leave would have been seen."""
    outcome = dashboard.page.evaluate(
        """async () => {
            const fetched = await fetch("http://example.com/asset.js")
                .then(() => "answered", () => "stopped");
            const socket = await new Promise(done => {
                const ws = new WebSocket("ws://example.com/socket");
                ws.onopen = () => done("answered");
                ws.onerror = ws.onclose = () => done("stopped");
            });
            return [fetched, socket];
        }"""
    )
    assert outcome == ["stopped", "stopped"]
    assert off_machine == ["http://example.com/asset.js", "ws://example.com/socket"]
    off_machine.clear()  # asked for here; the check after each test is for requests nobody asked for
