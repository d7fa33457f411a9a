"""The stored results' scenario discovery in a real browser (issue 16, part 4): the Stored results tab shows a
discovery kept in the results file, its box, and where the session's Explore set-up sits in it; a change
of theory in Explore moves the verdict. The logic behind it: tests/test_dashboard_discovery.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from coprod.experiments.discovery import Table, discover, to_record
from coprod.model import Scenario, simulate
from playwright.sync_api import expect

from .conftest import Dashboard, serving

pytestmark = pytest.mark.browser

CONDITION = "structure > 0.5 and consensus_bias < 0.4"  # stored as text; the box below is made to fit it


def write_results(path: Path) -> None:
    """One stored run of experiment ``tiny`` (so that the page lists it) and one discovery kept for it,
    made by PRIM on 300 made-up runs that meet the condition where inequality is at most about 0.6 and the
    theory of change is structural or knowledge-led: the page's default set-up (incremental, inequality
    0.5) lies outside the box on the theory of change only."""
    from coprod.experiments.store import Store

    rng = np.random.default_rng(3)
    x = pd.DataFrame({"context.inequality": rng.uniform(size=300)})
    x["theory.kind"] = pd.Categorical(
        rng.choice(["incremental", "structural", "knowledge", "coalition"], 300)
    )
    y = ((x["context.inequality"] < 0.6) & x["theory.kind"].isin(["structural", "knowledge"])).to_numpy()
    d = discover(x, y, resamples=0)
    scenario = Scenario.build({"population": {"residents": 60}, "run": {"steps": 2, "seed": 3}})
    with Store(path) as store:
        store.record_run(
            experiment="tiny",
            run_key="citizens_assembly/rep=0",
            scenario="citizens_assembly",
            params=scenario.flat(),
            seed=3,
            code_version="test",
            status="done",
            rows=simulate(scenario),
        )
        store.record_discovery("tiny", CONDITION, "24", to_record(Table("tiny", x, y, "24", 0), d), "test")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("discovery")
    (folder / "results").mkdir()
    write_results(folder / "results" / "tiny.db")
    with serving(folder) as (url, _, _):
        yield url


def test_the_stored_discovery_shows_its_box_and_where_the_set_up_sits(page, server):
    dashboard = Dashboard(page, server).open()
    page.get_by_role("tab", name="Stored results").click()
    part = page.locator(".browse .discoveries")
    expect(part.locator(".discovery-heading")).to_have_text("Scenario discovery", timeout=30_000)
    expect(part.locator(".discovery-select")).to_contain_text(
        "'Citizen power in the rules' > 0.5 and 'Consensus bias' < 0.4 at month 24"
    )
    expect(part.locator(".discovery-box")).to_contain_text("The box holds ")
    verdict = part.locator(".discovery-verdict")
    expect(verdict).to_contain_text(
        "Your set-up in Explore lies outside this box: it falls outside on Theory of change."
    )
    limits = part.locator(".box-limits")
    expect(limits).to_contain_text("Structural change")
    expect(limits.locator(".limit-out")).to_have_count(1)
    expect(part.locator(".trajectory-chart svg .chosen-box")).to_have_count(1)

    # the same session's Explore: another theory of change, and the verdict follows
    page.get_by_role("tab", name="Explore one set-up").click()
    expect(dashboard.view().locator(".month-counter")).to_be_visible(timeout=15_000)
    page.evaluate("window.scrollTo(0, 0)")
    # the tabs slide in: until the slide has ended the picker lies beside the viewport and cannot be clicked
    picker = dashboard.view().get_by_label("Theory of change")
    expect(picker).to_be_in_viewport()
    picker.click(force=True)
    page.locator(".menuable__content__active .v-list-item", has_text="Structural change").first.click()
    expect(dashboard.view().locator(".running")).to_contain_text("structural change")
    page.get_by_role("tab", name="Stored results").click()
    expect(verdict).to_contain_text("Your set-up in Explore lies inside this box: in the runs like it")
    expect(limits.locator(".limit-out")).to_have_count(0)
