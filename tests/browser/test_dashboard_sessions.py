"""Sessions both ways in a real browser (issue 14, part 5): a scenario file loaded through the page sets
every control, and so does the TOML the page exported; a stored run opened in Explore runs that set-up
there, to the values stored. The logic behind it: tests/test_dashboard_sessions.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from coprod.dashboards.words import number
from coprod.model import Scenario, simulate
from playwright.sync_api import expect

from .conftest import ROOT, Dashboard, serving

pytestmark = pytest.mark.browser

ASSEMBLY = ROOT / "scenarios" / "citizens_assembly.toml"
STORED = {  # the stored runs: design, theory, seed
    "participatory_budgeting/theory.kind=structural/rep=0": ("participatory_budgeting", "structural", 4242),
    "citizens_assembly/theory.kind=incremental/rep=0": ("citizens_assembly", "incremental", 7),
}


def stored_scenario(design: str, theory: str, seed: int) -> Scenario:
    return Scenario.build(
        {
            "name": design,
            "design": {"kind": design, "participants": 40},
            "theory": {"kind": theory},
            "population": {"residents": 150},
            "run": {"steps": 6, "seed": seed},
        }
    )


def write_results(path: Path) -> None:
    from coprod.experiments.store import Store

    with Store(path) as store:
        for key, (design, theory, seed) in STORED.items():
            scenario = stored_scenario(design, theory, seed)
            store.record_run(
                experiment="tiny",
                run_key=key,
                scenario=design,
                params=scenario.flat(),
                seed=seed,
                code_version="test",
                status="done",
                rows=simulate(scenario),
            )


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server of this module's own, whose results folder holds two stored runs."""
    folder = tmp_path_factory.mktemp("sessions")
    (folder / "results").mkdir()
    write_results(folder / "results" / "tiny.db")
    with serving(folder) as (url, _, _):
        yield url


@pytest.fixture
def dashboard(page, server) -> Dashboard:
    return Dashboard(page, server).open()


def expect_set_up(dashboard: Dashboard, running: str, seed: str, residents: str, months: int) -> None:
    """The controls and the run on screen show this set-up, at month 0."""
    view = dashboard.view()
    expect(view.locator(".running")).to_have_text(f"Running: {running}, seed {seed}")
    expect(view.locator(".seed-field input")).to_have_value(seed)
    expect(view.locator(".parameter-population-residents .slider-typed input")).to_have_value(residents)
    expect(view.locator(".card-network")).to_contain_text(f"of {residents} residents")
    expect(view.locator(".month-counter")).to_have_text(f"Month 0 of {months}")


def test_a_scenario_file_loaded_through_the_page_sets_the_controls(dashboard: Dashboard, tmp_path):
    view, page = dashboard.view(), dashboard.page
    seed = view.locator(".seed-field input")
    seed.fill("7")
    seed.press("Enter")
    dashboard.type_into("population.residents", "300")
    expect_set_up(dashboard, "Citizens' assembly, incremental experiments", "7", "300", 120)
    with page.expect_download() as download:
        view.get_by_role("button", name="Scenario (TOML)").click()
    exported = tmp_path / "exported.toml"
    download.value.save_as(exported)

    view.locator(".scenario-file").set_input_files(ASSEMBLY)  # what the file chooser does
    expect(view.locator(".loaded-from")).to_have_text("Set up from citizens_assembly.toml.")
    expect_set_up(dashboard, "Citizens' assembly, incremental experiments", "1", "1000", 120)

    view.locator(".scenario-file").set_input_files(exported)  # the page's own export comes back whole
    expect(view.locator(".loaded-from")).to_have_text("Set up from exported.toml.")
    expect_set_up(dashboard, "Citizens' assembly, incremental experiments", "7", "300", 120)

    bad = {"name": "bad.toml", "mimeType": "application/toml", "buffer": b"[population]\nresidents = 5\n"}
    view.locator(".scenario-file").set_input_files(files=[bad])
    expect(view.locator(".load-problem")).to_have_text(
        "Not loaded, nothing changed: bad.toml: population.residents: out of bounds (got 5, allowed an "
        "integer from 10 to 200_000)."
    )
    expect_set_up(dashboard, "Citizens' assembly, incremental experiments", "7", "300", 120)


def test_a_stored_run_opens_in_explore_and_runs_as_stored(dashboard: Dashboard):
    page = dashboard.page
    page.get_by_role("tab", name="Stored results").click()
    ranking = page.locator(".browse .ranking-cells")
    expect(ranking).to_contain_text("Participatory budgeting / Structural change", timeout=30_000)
    page.get_by_label("Run (2 in this experiment)").click(force=True)
    label = "Participatory budgeting · Structural change · replication 1 · seed 4242"
    page.locator(".menuable__content__active .v-list-item", has_text=label).click()
    page.get_by_role("button", name="Open this run in Explore").click()

    expect(page.get_by_role("tab", name="Explore one set-up")).to_have_attribute("aria-selected", "true")
    expect_set_up(dashboard, "Participatory budgeting, structural change", "4242", "150", 6)
    expect(dashboard.view().locator(".loaded-from")).to_have_text(f"Set up from tiny.db (tiny): {label}.")
    # to the end: the page's consensus bias is the stored run's
    dashboard.press("max")
    dashboard.press("Play")
    dashboard.expect_month(6)
    final = simulate(stored_scenario("participatory_budgeting", "structural", 4242))[-1]["consensus_bias"]
    shown = dashboard.view().locator(".card-consensus .indicator-consensus_bias .indicator-value")
    expect(shown).to_contain_text(re.compile(rf"^{re.escape(number(final))}\b"))
