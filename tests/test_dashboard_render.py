"""The dashboard rendered without a browser (``solara.render``): the widgets are driven as a click would."""

from __future__ import annotations

import re
import time

import ipyvuetify as v
import ipywidgets
import pytest
import solara
from coprod.dashboards.app import Page
from coprod.dashboards.browse import Browse
from coprod.dashboards.results import FOLDER_VARIABLE
from coprod.model import Scenario, simulate

from tests.support import widgets


def with_class(root, token: str, kind: type = ipywidgets.Widget) -> list:
    return [
        w for w in widgets(root) if isinstance(w, kind) and token in (getattr(w, "class_", "") or "").split()
    ]


def one(root, token: str, kind: type = ipywidgets.Widget):
    found = with_class(root, token, kind)
    assert len(found) == 1, f"{len(found)} widgets with class {token!r}"
    return found[0]


def text(widget) -> str:
    return "".join(c for c in widget.children if isinstance(c, str))


def button(root, label: str) -> v.Btn:
    (found,) = [w for w in widgets(root) if isinstance(w, v.Btn) and label in w.children]
    return found


def html(root, token: str) -> str:
    """The HTML (or SVG) of the HTML widgets with class ``token``, one after the other."""
    found = [
        w for w in widgets(root) if token in (getattr(w, "attributes", None) or {}).get("class", "").split()
    ]
    assert found, f"no HTML widget with class {token!r}"
    return "".join(w.unsafe_innerHTML for w in found)


def slider(root, key: str) -> v.Slider:
    (found,) = [
        w for w in widgets(one(root, f"parameter-{key.replace('.', '-')}")) if isinstance(w, v.Slider)
    ]
    return found


def typed(field: v.TextField, value: str) -> None:
    """Type into a text field and press Enter."""
    field.v_model = value
    field.fire_event("keyup.enter", None)


def residents_in_picture(root) -> int:
    """How many residents the running model has, as the network picture's caption says."""
    match = re.search(
        r"of (\d+) residents", " ".join(text(w) for w in widgets(root) if isinstance(w, v.Html))
    )
    assert match
    return int(match.group(1))


def eventually(check, seconds: float = 30.0) -> None:
    """Wait until ``check()`` is true: a change of set-up starts its new run in a thread, once the controls
    rest (``dashboards.player.SETTLE_SECONDS``)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the page did not get there in time"
        time.sleep(0.05)


@pytest.fixture
def dashboard():
    box, rc = solara.render(Page(), handle_error=False)
    yield box
    rc.close()


def explore(box):
    return one(box, "explore")


def month(view) -> str:
    return text(one(view, "month-counter"))


def test_the_page_shows_month_zero_and_every_progress_marker(dashboard):
    view = explore(dashboard)
    assert month(view) == "Month 0 of 120"
    rows = html(view, "indicators")
    assert "Sense that radical change is needed" in rows and "Lay and community knowledge used" in rows
    assert "<svg" in html(view, "radar") and "<svg" in html(view, "network")


def test_step_advances_the_month_and_redraws_the_charts(dashboard):
    view = explore(dashboard)
    lines = html(view, "marker-lines")
    button(view, "Step").click()
    eventually(lambda: month(view) == "Month 1 of 120")
    assert html(view, "marker-lines") != lines


def test_reset_starts_again_from_month_zero(dashboard):
    view = explore(dashboard)
    for _ in range(3):
        button(view, "Step").click()
    assert month(view) == "Month 3 of 120"
    button(view, "Reset").click()
    assert month(view) == "Month 0 of 120"


def test_a_slider_change_starts_a_new_run_at_once(dashboard):
    view = explore(dashboard)
    button(view, "Step").click()
    slider(view, "population.residents").v_model = 400
    assert button(view, "Step").disabled and button(view, "Play").disabled  # the old run waits
    eventually(
        lambda: (
            residents_in_picture(view) == 400
            and month(view) == "Month 0 of 120"
            and not button(view, "Step").disabled
        )
    )
    button(view, "Step").click()
    eventually(lambda: month(view) == "Month 1 of 120")


def test_switching_design_and_theory_loads_their_settings(dashboard):
    view = explore(dashboard)
    design, theory = [w for w in widgets(view) if isinstance(w, v.Select)]
    design.v_model = "Top-down consultation"
    theory.v_model = "Coalition building"
    top_down = Scenario.build({"design": {"kind": "top_down_consultation"}})
    assert slider(view, "design.facilitation").v_model == top_down.design.facilitation
    assert any(
        text(w).startswith("The council designs a plan") for w in widgets(view) if isinstance(w, v.Html)
    )
    eventually(
        lambda: text(one(view, "running")).startswith("Running: Top-down consultation, coalition building")
    )


def test_a_seed_that_is_not_a_number_is_named_and_leaves_the_run_alone(dashboard):
    view = explore(dashboard)
    button(view, "Step").click()
    seed = one(view, "seed-field", v.TextField)
    typed(seed, "forty-two")
    assert seed.error and "whole number" in " ".join(seed.messages)
    button(view, "Reset").click()
    assert month(view) == "Month 1 of 120"  # the running model is untouched
    assert any("cannot work together" in text(w) for w in widgets(view) if isinstance(w, v.Html))
    assert button(view, "Step").disabled  # the run on screen no longer matches the controls
    typed(seed, "7")
    assert not seed.error
    eventually(lambda: text(one(view, "running")).endswith("seed 7") and month(view) == "Month 0 of 120")


def test_an_impossible_combination_is_named_next_to_the_field(dashboard):
    view = explore(dashboard)
    typed(one(one(view, "parameter-population-residents"), "slider-typed", v.TextField), "20")
    participants = one(view, "parameter-design-participants")
    problems = [text(w) for w in with_class(participants, "field-problem")]
    assert problems and "More participants than residents" in problems[0]
    button(view, "Reset").click()
    assert residents_in_picture(view) == 1000


def test_play_runs_on_its_own_and_pause_stops_it(dashboard):
    view = explore(dashboard)
    button(view, "max").click()
    button(view, "Play").click()
    deadline = time.time() + 20
    while month(view) == "Month 0 of 120" and time.time() < deadline:
        time.sleep(0.05)
    button(view, "Pause").click()
    time.sleep(0.3)
    stopped = month(view)
    time.sleep(0.5)
    assert stopped == month(view) != "Month 0 of 120"


KINDS = ("top_down_consultation", "action_research_cooperative")


def test_compare_steps_both_set_ups_from_the_same_seed(dashboard):
    tabs = next(w for w in widgets(dashboard) if isinstance(w, v.Tabs))
    tabs.v_model = 1
    view = one(dashboard, "compare")
    assert month(view) == "Month 0 of 120"
    for _ in range(2):
        button(view, "Step").click()
    assert month(view) == "Month 2 of 120"
    running = text(one(view, "running"))
    assert "A: Top-down consultation" in running and "B: Action research cooperative" in running
    a, b = (simulate(Scenario.build({"design": {"kind": kind}}), steps=2)[-1] for kind in KINDS)
    answer = text(one(view, "verdict"))
    assert "dissensus" in answer and "A (Top-down consultation)" in answer
    readings = html(view, "readings")
    for name in ("toc_attrition", "unwarranted_convergence", "consensus_bias"):
        row = re.search(rf"reading-{name}'>(.*?)</tr>", readings).group(1)
        assert re.findall(r"class='number'>([^<]*)<", row) == [f"{a[name]:.2f}", f"{b[name]:.2f}"], name
    assert "one seed" in text(one(view, "verdict-caveat"))
    rows = html(view, "indicators")
    for name in ("structure", "consensus_displacement", "procedural_justice", "transaction_costs"):
        shown = re.search(rf'indicator-{name}".*?indicator-value">([^<]*)<', rows).group(1)
        assert shown == f"{a[name]:.2f} vs {b[name]:.2f}", name


def test_compare_says_which_set_up_a_problem_belongs_to(dashboard):
    tabs = next(w for w in widgets(dashboard) if isinstance(w, v.Tabs))
    tabs.v_model = 1
    view = one(dashboard, "compare")
    # 28 residents: too few for top-down consultation's 30 participants (A), enough for the cooperative's 25
    typed(one(one(view, "parameter-population-residents"), "slider-typed", v.TextField), "28")
    problems = [text(w) for w in with_class(view, "field-problem")]
    # named for A under the shared sliders, and next to A's own participants slider; never for B
    assert [p for p in problems if p.startswith("Set-up")] == [problems[-1]]
    assert problems[-1].startswith("Set-up A: More participants than residents")
    assert len(problems) == 2 and problems[0] == problems[-1].removeprefix("Set-up A: ")


def test_stored_results_can_be_browsed(tmp_path, monkeypatch):
    folder = tmp_path / "results"
    folder.mkdir()
    _stored_run(folder / "sweep.db", steps=3)
    monkeypatch.setenv(FOLDER_VARIABLE, str(folder))
    box, rc = solara.render(Browse(), handle_error=False)
    try:
        run_select = next(w for w in widgets(box) if isinstance(w, v.Select) and w.label.startswith("Run"))
        run_select.v_model = run_select.items[0]
        assert "<svg" in html(box, "stored-markers")
        name = one(box, "results-name", v.TextField)
        typed(name, "../../etc/passwd")
        assert name.error and "Only files inside" in " ".join(name.messages)
    finally:
        rc.close()


def _stored_run(path, steps: int = 2) -> None:
    """A results file with one finished run of a small scenario."""
    from coprod.experiments.store import Store

    scenario = Scenario.build({"population": {"residents": 200}})
    Store(path).record_run(
        experiment="demo",
        run_key="run-1",
        scenario=scenario.name,
        params=scenario.flat(),
        seed=1,
        code_version="test",
        status="done",
        rows=simulate(scenario, steps=steps),
    )


@pytest.mark.parametrize("name", ["../outside.db", "sub/../../outside.db", "{outside}", "link.db"])
def test_a_name_typed_on_the_browse_page_that_leaves_the_folder_opens_nothing(tmp_path, monkeypatch, name):
    """A real results file just outside the folder, reached by ``..``, an absolute path or a link inside
    pointing out: the page names the folder it keeps to and lists no run."""
    folder = tmp_path / "results"
    (folder / "sub").mkdir(parents=True)
    outside = tmp_path / "outside.db"
    _stored_run(outside)
    (folder / "link.db").symlink_to(outside)
    monkeypatch.setenv(FOLDER_VARIABLE, str(folder))
    box, rc = solara.render(Browse(), handle_error=False)
    try:
        field = one(box, "results-name", v.TextField)
        typed(field, name.format(outside=outside))
        assert field.error and f"Only files inside {folder.resolve()}" in " ".join(field.messages)
        assert not [w for w in widgets(box) if isinstance(w, v.Select) and w.label.startswith("Run")]
    finally:
        rc.close()
