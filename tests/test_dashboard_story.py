"""The story of a run in the Explore view, without a browser: each dashboard run keeps the story
``coprod.story.tell`` tells of the same set-up, keeping it changes nothing in the run, and the views chart
draws one series per group with the marked groups marked (issue 14, part 3)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import ipywidgets
import numpy as np
import pytest
import solara
from coprod.dashboards import opinion_chart as oc
from coprod.dashboards.choices import Draft
from coprod.dashboards.player import use_clock
from coprod.dashboards.runs import Run
from coprod.dashboards.story_view import NOTHING_YET, RunStory, story_lines
from coprod.model import OUTPUTS, load_scenario

from coprod import story as st

ROOT = Path(__file__).resolve().parents[1]
SVG = "{http://www.w3.org/2000/svg}"
MONTHS = 40
# Step and Play as the page makes them: one month, then a few, then the rest (Run.step is all they call).
CHUNKS = (1, 7, MONTHS - 8)


def default_scenario():
    return Draft().check().scenario  # the set-up the page opens with


def top_down_scenario():  # recurring events (participants stopping, a forced consensus): merged log lines
    return load_scenario(ROOT / "scenarios" / "top_down_consultation.toml", {"population.residents": 400})


def stepped(scenario, **kwargs) -> Run:
    run = Run(scenario, sampled_residents=30, **kwargs)
    for months in CHUNKS:
        assert run.step(months) == months
    return run


@pytest.mark.parametrize("scenario", [default_scenario, top_down_scenario], ids=["default", "top-down"])
def test_a_run_keeps_the_story_coprod_story_tells_of_the_same_set_up_and_seed(scenario):
    scenario = scenario()
    run = stepped(scenario)
    rows, told = st.tell(scenario, steps=MONTHS, seed=scenario.run.seed)
    assert told.events, "the set-up must have something to tell in this many months"
    assert run.events() == told.events
    months, quantiles = run.opinions()
    assert months.tolist() == told.months == list(range(MONTHS + 1))  # month 0 and every month after
    np.testing.assert_array_equal(quantiles, told.quantiles())
    assert story_lines(run.events()) == told.log(limit=len(told.events) + 1)  # every event, none left out
    series = run.series(OUTPUTS)  # and the same run as the one told
    for name in OUTPUTS:
        assert series[name].tolist() == [row[name] for row in rows], name


def test_keeping_a_story_changes_nothing_in_the_run():
    scenario = default_scenario()
    watched, plain = stepped(scenario), stepped(scenario, story=False)
    assert watched.events() and plain.events() == []
    assert watched.csv() == plain.csv()
    assert np.array_equal(watched.model.people.view, plain.model.people.view)
    assert watched.model.rng.bit_generator.state == plain.model.rng.bit_generator.state
    assert watched.model.random.getstate() == plain.model.random.getstate()


def test_a_new_run_for_reset_starts_a_new_story_at_month_0():
    scenario = default_scenario()
    old = stepped(scenario)
    fresh = Run(scenario, sampled_residents=30)  # what Reset and a change of set-up build
    assert old.story is not fresh.story
    assert fresh.events() == [] and fresh.opinions()[0].tolist() == [0]
    fresh.step(MONTHS)
    assert fresh.events() == old.events()


# ------------------------------------------------------------------------------------- the chart


def chart(months, quantiles, horizon=120) -> ET.Element:
    return ET.fromstring(oc.opinion_chart(np.asarray(months), np.asarray(quantiles), horizon))


def series(svg: ET.Element) -> list[ET.Element]:
    return [g for g in svg.iter(f"{SVG}g") if "opinion-series" in g.get("class", "").split()]


def points(element: ET.Element) -> np.ndarray:
    return np.array([[float(v) for v in p.split(",")] for p in element.get("points").split()])


def test_the_views_chart_draws_one_series_per_group_and_marks_the_marked_ones():
    run = stepped(default_scenario())
    months, quantiles = run.opinions()
    svg = chart(months, quantiles, run.horizon)
    found = series(svg)
    assert [g.get("data-group") for g in found] == [
        *(n for n in st.GROUPS if n not in st.MARKED),
        *(n for n in st.GROUPS if n in st.MARKED),  # the marked groups drawn last, on top
    ]
    assert {g.get("data-group") for g in found if "marked" in g.get("class").split()} == set(st.MARKED)
    widths = {}
    for g in found:
        name = g.get("data-group")
        (line,) = g.iter(f"{SVG}polyline")
        (band,) = g.iter(f"{SVG}polygon")
        median, middle_half = points(line), points(band)
        assert len(median) == len(months) and len(middle_half) == 2 * len(months)
        # the line is this group's median, month by month, on the chart's scale
        q = quantiles[:, st.GROUPS.index(name), oc.MEDIAN]
        np.testing.assert_allclose(median[:, 1], oc.PAD_T + oc.PLOT_H * (1 - q), atol=0.06)
        assert median[0, 0] == oc.PAD_L and median[-1, 0] < oc.WIDTH - oc.PAD_R  # month 0 on; not yet the end
        widths[name] = float(line.get("stroke-width"))
    assert min(widths[n] for n in st.MARKED) > max(w for n, w in widths.items() if n not in st.MARKED)
    legend = [g for g in svg.iter(f"{SVG}g") if "opinion-legend" in g.get("class", "").split()]
    bold = {"".join(t.itertext()) for g in legend for t in g.iter(f"{SVG}text") if t.get("font-weight")}
    assert bold == {oc.GROUP_NAMES[n] for n in st.MARKED}
    words = " ".join(t for e in svg.iter() if e.tag in (f"{SVG}text", f"{SVG}title") for t in e.itertext())
    assert not re.search(r"\w_\w", words), words  # no snake_case a reader would see


def test_the_views_chart_at_month_0_and_with_an_empty_group():
    q = np.full((1, len(st.GROUPS), len(st.QUANTILES)), 0.5)
    q[0, st.GROUPS.index("academics")] = np.nan  # a set-up without academics
    svg = chart([0], q)
    found = {g.get("data-group"): g for g in series(svg)}
    assert set(found) == set(st.GROUPS)
    assert list(found["academics"]) == []  # kept, empty
    assert len(list(found["officials"].iter(f"{SVG}circle"))) == 1  # a single month is a dot
    texts = " ".join("".join(t.itertext()) for t in svg.iter(f"{SVG}text"))
    assert "Academics (none in this run)" in texts
    assert len(series(chart(np.zeros(0), np.zeros((0, len(st.GROUPS), len(st.QUANTILES)))))) == len(st.GROUPS)


# ------------------------------------------------------------------------------- the component


def story_html(root) -> str:
    found = [
        w
        for w in _widgets(root)
        if "story-log" in ((getattr(w, "attributes", None) or {}).get("class", "") or "").split()
    ]
    assert len(found) == 1
    return found[0].unsafe_innerHTML


def _widgets(root):
    if isinstance(root, ipywidgets.Widget):
        yield root
        yield from _widgets(getattr(root, "children", None) or [])
    elif isinstance(root, (list, tuple)):
        for child in root:
            yield from _widgets(child)


def test_the_story_panel_follows_the_run_on_the_picture_beat():
    run = Run(default_scenario(), sampled_residents=30)
    clocks = []

    @solara.component
    def Harness():
        clock = use_clock()
        clocks.append(clock)
        RunStory(run, clock)

    box, rc = solara.render(Harness(), handle_error=False)
    try:
        assert NOTHING_YET in story_html(box)
        run.step(MONTHS)
        assert NOTHING_YET in story_html(box)  # nothing redrawn until the beat
        clocks[-1].redraw()
        shown = story_html(box)
        lines = story_lines(run.events())
        assert lines and NOTHING_YET not in shown
        positions = [shown.index(line.replace("'", "&#x27;")) for line in lines]
        assert positions == sorted(positions)  # oldest first, the newest last
    finally:
        rc.close()


def test_a_long_runs_chart_draws_at_most_one_month_per_pixel_across_first_and_last_kept():
    rng = np.random.default_rng(4)
    months = np.arange(1201)
    quantiles = np.sort(rng.uniform(size=(1201, len(st.GROUPS), len(st.QUANTILES))), axis=2)
    svg = ET.fromstring(oc.opinion_chart(months, quantiles, 1200))
    plot_w = oc.WIDTH - oc.PAD_L - oc.PAD_R
    for line in svg.iter(f"{SVG}polyline"):
        if "opinion-median" not in (line.get("class") or ""):
            continue
        xy = points(line)
        assert 2 <= len(xy) <= plot_w
        assert xy[0, 0] == pytest.approx(oc.PAD_L) and xy[-1, 0] == pytest.approx(oc.PAD_L + plot_w, abs=0.1)
    assert list(oc.thinned(5, 10)) == [0, 1, 2, 3, 4]
