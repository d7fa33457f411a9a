"""Explore one set-up: pick a design, a theory of change and a city, move the sliders, Reset, then Step or
Play."""

from __future__ import annotations

from typing import cast

import solara

from dashboards import charts
from dashboards.choices import SEED_KEY, SLIDER_GROUPS, Draft, slider
from dashboards.cities import CityPicker, with_city
from dashboards.player import Clock, use_clock, use_player
from dashboards.runs import Run
from dashboards.widgets import (
    Controls,
    DesignPicker,
    Downloads,
    IndicatorSections,
    ParameterSlider,
    SeedField,
    Svg,
    TheoryMix,
    TheoryPicker,
)

FIX_FIRST = "Some settings cannot work together (see the messages in red); the run on screen is unchanged."
PENDING = "You changed the set-up: press Reset to start a new run with it."


@solara.component
def Explore():
    draft = solara.use_reactive(Draft())
    first = solara.use_memo(lambda: Run(Draft().check().scenario), [])
    run = solara.use_reactive(first)
    clock = use_clock()
    use_player(clock, run)
    checked = solara.use_memo(draft.value.check, [draft.value])
    refused = solara.use_reactive(False)

    def reset():
        if not checked.ok:
            refused.set(True)
            return
        clock.playing.set(False)
        with run.value.lock:  # wait for a step in progress, then replace the run
            run.set(Run(checked.scenario))
        refused.set(False)
        clock.redraw()

    current = run.value
    pending = checked.ok and checked.scenario.to_toml() != current.scenario.to_toml()
    note = FIX_FIRST if (refused.value and not checked.ok) else (PENDING if pending else "")

    with solara.Columns([4, 9], classes=["explore"]):
        with solara.Column(gap="10px", classes=["setup-panel"]):
            with solara.Card("Run", margin=0):
                solara.Text(
                    f"Running: {current.design}, {current.theory.lower()}, seed {current.scenario.run.seed}",
                    classes=["running"],
                )
                Controls(clock, run, reset, note)
                Downloads(lambda: run.value)
            SetupPanel(draft, checked)
        with solara.Column(gap="12px"):
            Pictures(current, clock)
            IndicatorSections(lambda: ([current.now()], [current.start()]), clock.beat)


@solara.component
def SetupPanel(draft: solara.Reactive[Draft], checked):
    d = draft.value
    problems = checked.problems
    city = solara.use_reactive(cast(str | None, None))

    def pick_city(stem: str) -> None:
        draft.set(with_city(draft.value, city.value, stem))
        city.set(stem)

    with solara.Card("Set-up", subtitle="Changes apply when you press Reset.", margin=0):
        DesignPicker("Institutional design", d.design, lambda kind: draft.set(draft.value.with_design(kind)))
        TheoryPicker("Theory of change", d.theory, lambda kind: draft.set(draft.value.with_theory(kind)))
        SeedField(d.seed, lambda text: draft.set(draft.value.with_seed(text)), problems.get(SEED_KEY))
        CityPicker(city.value, pick_city)
        shown = {SEED_KEY}
        for title, keys in SLIDER_GROUPS:
            solara.Text(title, style={"font-weight": "600", "margin-top": "8px"})
            for key in keys:
                shown.add(key)
                ParameterSlider(
                    slider(key),
                    d.setting(key, checked),
                    lambda value, key=key: draft.set(draft.value.with_value(key, value)),
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
    with solara.Columns([1, 1]):
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
