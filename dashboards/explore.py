"""Explore one set-up: pick a design, a theory of change and a city, move the sliders, then Step or Play.

A change of any control starts a new run with it (once the controls rest: see ``player.use_follow``), so
Step and Play only ever advance a run that matches what the controls show. Reset starts the same set-up
again from month 0.

The first screen (1280x720, a projector) holds the controls, the eight progress markers and consensus bias
with its chart over time; the radar, the network and the other outputs follow below.
"""

from __future__ import annotations

from typing import cast

import solara
from coprod.dashboards import charts
from coprod.dashboards.choices import SEED_KEY, SLIDER_GROUPS, Draft, slider
from coprod.dashboards.cities import CityPicker, with_city
from coprod.dashboards.player import Clock, use_clock, use_follow, use_player
from coprod.dashboards.results import city_in
from coprod.dashboards.runs import Run
from coprod.dashboards.session import ScenarioLoader, Setup, use_setup
from coprod.dashboards.story_view import RunStory
from coprod.dashboards.widgets import (
    Controls,
    DesignPicker,
    Downloads,
    IndicatorSection,
    IndicatorSections,
    ParameterSlider,
    SeedField,
    Svg,
    TheoryMix,
    TheoryPicker,
    section_class,
)
from coprod.dashboards.words import SECTIONS

FIX_FIRST = (
    "Some settings cannot work together (see the messages in red). The run on screen is the last set-up "
    "that worked; Step and Play wait until the settings are fixed."
)
STARTING = "You changed the set-up: starting a new run with it…"
BELOW = ("Just coproduction", "Risks", "Theories of change at work")
MARKERS_SECTION, BIAS_SECTION = SECTIONS[0], SECTIONS[1]
# The first screen's short introductions (the sections' full ones are in words.SECTIONS).
SHORT_INTRO = {
    MARKERS_SECTION[0]: "Eight signs of a 'more just' city. Higher is more of it.",
    BIAS_SECTION[0]: "Lower is better; the average of the four parts below it.",
}
BIAS_CHART = "Consensus bias over time (lower is better)"


@solara.component
def Explore(setup: Setup | None = None):
    """``setup``: the browser session's set-up, which the page hands in so that another view can put one
    here (a stored run opened in Explore); without it the view keeps its own."""
    own = use_setup()
    setup = setup or own
    draft = setup.draft
    first = solara.use_memo(lambda: Run(_startable(draft.value)), [])
    run = solara.use_reactive(first)
    clock = use_clock()
    use_player(clock, run)
    checked = solara.use_memo(draft.value.check, [draft.value])
    current = run.value
    wanted = checked.scenario.to_toml() if checked.ok else None
    stale = use_follow(clock, run, wanted, current.scenario.to_toml(), lambda: Run(checked.scenario))

    def up_to_date() -> bool:
        now = draft.value.check()
        return now.ok and now.scenario.to_toml() == run.value.scenario.to_toml()

    def change(new: Draft) -> None:
        clock.playing.set(False)  # a run that no longer matches the controls never plays on
        draft.set(new)

    def reset():
        if not checked.ok:
            return
        clock.playing.set(False)
        with run.value.lock:  # wait for a step in progress, then replace the run
            run.set(Run(checked.scenario))
        clock.redraw()

    note, kind = (FIX_FIRST, "blocked") if not checked.ok else ((STARTING, "new-run") if stale else ("", ""))
    with solara.Div(classes=["explore", "view-grid"]):
        with solara.Div(classes=["view-side"]):
            with solara.Card(margin=0, classes=["run-card"]):
                solara.Text(
                    f"Running: {current.design}, {current.theory.lower()}, seed {current.scenario.run.seed}",
                    classes=["running"],
                )
                Controls(
                    clock,
                    run,
                    reset,
                    note,
                    current=checked.ok and not stale,
                    up_to_date=up_to_date,
                    note_kind=kind,
                )
                Downloads(lambda: run.value)
            SetupPanel(draft, checked, change, setup)
        with solara.Div(classes=["view-main"]):
            FirstScreen(current, clock)
            Pictures(current, clock)
            RunStory(current, clock)
            IndicatorSections(lambda: ([current.now()], [current.start()]), clock.beat, BELOW)


def _startable(draft: Draft):
    """The scenario the view opens with: the session's set-up where it works, else the default."""
    checked = draft.check()
    return checked.scenario if checked.ok else Draft().check().scenario


@solara.component
def FirstScreen(run: Run, clock: Clock):
    """The eight markers and consensus bias (its parts, and its chart over time), side by side."""

    def read():
        return [run.now()], [run.start()]

    (markers, _, marker_names), (bias, _, bias_names) = MARKERS_SECTION, BIAS_SECTION
    with solara.Div(classes=["first-screen"]):
        with solara.Card(markers, margin=0, classes=[section_class(markers)]):
            IndicatorSection(read, clock.beat, SHORT_INTRO[markers], marker_names)
        with solara.Card(bias, margin=0, classes=[section_class(bias), "card-consensus"]):
            IndicatorSection(read, clock.beat, SHORT_INTRO[bias], bias_names)
            BiasChart([run], clock)


@solara.component
def BiasChart(runs: list[Run], clock: Clock, names: tuple[str, ...] = ()):
    """Consensus bias over the months so far, one line per run, redrawn on the picture beat."""
    beat = clock.beat.value.picture

    def draw():
        traces = [
            charts.trace(
                names[i] if names else f"{run.design}, {run.theory.lower()}",
                run.series(("consensus_bias",)),
                charts.SETUP_COLOURS[i],
            )
            for i, run in enumerate(runs)
        ]
        return charts.over_time(traces, min(run.horizon for run in runs), "consensus_bias")

    svg = solara.use_memo(draw, [*runs, beat])
    solara.Text(BIAS_CHART, style={"font-size": "0.82rem", "font-weight": "500"})
    Svg(svg, classes=["bias-chart"])


@solara.component
def SetupPanel(draft: solara.Reactive[Draft], checked, change, setup: Setup | None = None):
    d = draft.value
    problems = checked.problems
    city = solara.use_reactive(cast(str | None, None))
    origin = setup.origin.value if setup is not None else None

    def city_of_set_up() -> None:
        """On opening, and whenever a whole set-up is put in (a file, a stored run): the picker shows the
        city whose values the set-up carries, if any."""
        now = draft.value.check()
        city.set(city_in(now.scenario.flat()) if now.ok else None)

    solara.use_effect(city_of_set_up, [origin.count if origin else 0])

    def pick_city(stem: str) -> None:
        change(with_city(draft.value, city.value, stem))
        city.set(stem)

    with solara.Card("Set-up", subtitle="A change starts a new run with it at once.", margin=0):
        if setup is not None:
            ScenarioLoader(setup.put)
            if setup.note():
                solara.Text(setup.note(), classes=["loaded-from"])
        DesignPicker("Institutional design", d.design, lambda kind: change(draft.value.with_design(kind)))
        TheoryPicker("Theory of change", d.theory, lambda kind: change(draft.value.with_theory(kind)))
        SeedField(d.seed, lambda text: change(draft.value.with_seed(text)), problems.get(SEED_KEY))
        CityPicker(city.value, pick_city)
        shown = {SEED_KEY}
        for title, keys in SLIDER_GROUPS:
            solara.Text(title, style={"font-weight": "600", "margin-top": "8px"})
            for key in keys:
                shown.add(key)
                ParameterSlider(
                    slider(key),
                    d.setting(key, checked),
                    lambda value, key=key: change(draft.value.with_value(key, value)),
                    problems.get(key),
                )
        others = [message for key, message in problems.items() if key not in shown]
        for message in others:
            solara.Text(message, classes=["field-problem"])


@solara.component
def Pictures(run: Run, clock: Clock):
    """The charts, redrawn on the clock's picture beat (a few times a second while playing)."""
    beat = clock.beat.value.picture

    def draw():
        trace = charts.trace(f"{run.design}, {run.theory.lower()}", run.series(), charts.SETUP_COLOURS[0])
        return (
            charts.radar([trace], with_start=True),
            charts.marker_lines([trace], run.horizon),
            charts.network(run.picture, run.ties(), run.taking_part()),
            run.theory_mix(),
        )

    radar, lines, network, mix = solara.use_memo(draw, [run, beat])
    picture = run.picture
    with solara.Div(classes=["two-up"]):
        with solara.Card("Progress markers: at the start and now", margin=0, classes=["card-radar"]):
            Svg(radar, classes=["radar"])
        with solara.Card("Who is connected to whom", margin=0, classes=["card-network"]):
            Svg(network, classes=["network"])
            solara.Text(
                f"All officials, academics and groups, and {picture.residents_shown} of "
                f"{picture.residents_total} residents (those nearest to them). Ties grow as people meet.",
                style={"font-size": "0.8rem", "color": "#555"},
            )
    with solara.Card("Progress markers over time", margin=0, classes=["card-lines"]):
        Svg(lines, classes=["marker-lines"])
        TheoryMix(mix, "Ideas of how change happens, held now (more colours kept = more dissensus)")
