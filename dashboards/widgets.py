"""Small Solara components the views share: info tips, sliders, indicator bars, controls, downloads."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from typing import Any, cast

import solara
from coprod.dashboards import charts
from coprod.dashboards.choices import Slider, designs, parse_whole, theories
from coprod.dashboards.player import SPEEDS, Clock, step_once
from coprod.dashboards.words import LABELS, SECTIONS, explain, number
from coprod.model import DESIGN_PRESETS, THEORY_PRESETS
from solara.alias import rv

CSS = """
/* The first screen must hold the controls, the eight markers and consensus bias with its chart at 1280x720
   (a projector) without scrolling: tests/browser/test_first_screen.py checks it. */
.page-title { font-size: 1.25rem; font-weight: 500; }
.page-intro { color: #444; font-size: 0.85rem; line-height: 1.3; max-width: 1200px; }
.page-tabs .v-tabs-bar { height: 38px !important; }
.view-grid { display: grid; grid-template-columns: 310px minmax(0, 1fr); gap: 12px; align-items: start; }
.view-side { display: flex; flex-direction: column; gap: 10px; min-width: 0; }
.view-main { display: flex; flex-direction: column; gap: 12px; min-width: 0; }
.first-screen { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 12px; }
.two-up { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 12px; }
.view-grid .v-card__title { font-size: 1.05rem; padding: 8px 12px 4px 12px; line-height: 1.4; }
.view-grid .v-card__subtitle { padding: 0 12px 4px 12px; margin-top: 0 !important; }
.view-grid .v-card__text { padding: 4px 12px 10px 12px; }
.month-counter { font-size: 1.15rem; font-weight: 500; }
.running { font-size: 0.8rem; color: #555; line-height: 1.3; }
.speed .v-btn { min-width: 40px !important; padding: 0 6px !important; height: 30px !important; }
.downloads { flex-wrap: wrap; }
.downloads .v-btn { font-size: 0.7rem !important; padding: 0 6px !important; height: 28px !important; }
.downloads .v-btn .v-icon { font-size: 16px !important; }
.run-note { font-size: 0.85rem; line-height: 1.3; padding: 4px 8px; border-radius: 3px; }
.run-note.new-run { color: #1b5e20; background: #e8f5e9; }
.run-note.blocked { color: #8a1c1c; background: #fdecea; font-weight: 500; }
.field-problem { color: #b00020; font-size: 0.85rem; margin: -4px 0 8px 0; }
.slider-title { font-weight: 500; font-size: 0.9rem; }
.slider-hint { color: #666; font-size: 0.78rem; margin-top: -2px; }
.about-kind { font-size: 0.8rem; color: #444; line-height: 1.3; }
.indicator-row { display: flex; align-items: center; gap: 8px; margin: 3px 0; }
.indicator-name { flex: 0 0 270px; font-size: 0.88rem; }
.indicator-bars { flex: 1 1 auto; min-width: 60px; display: flex; flex-direction: column; gap: 2px; }
.indicator-bars .bar { height: 10px; background: #eeeeee; border-radius: 2px; }
.indicator-bars .bar > div { height: 100%; border-radius: 2px; }
.indicator-value { flex: 0 0 140px; font-size: 0.82rem; color: #444; font-variant-numeric: tabular-nums; }
.first-screen .indicator-row { margin: 1px 0; gap: 6px; }
.first-screen .indicator-name { flex-basis: 44%; font-size: 0.82rem; line-height: 1.2; }
.first-screen .indicator-value { flex-basis: 120px; font-size: 0.8rem; }
.change { font-weight: 700; }
.change.better { color: #1b7e28; }
.change.worse { color: #c62828; }
.change.neutral { color: #777777; }
.tip { position: relative; cursor: help; color: #777; margin-left: 5px; }
.tip:hover::after {
  content: attr(data-tip); position: absolute; left: 0; top: 1.5em; z-index: 20; width: 360px;
  background: #424242; color: #fff; padding: 6px 8px; border-radius: 4px; font-size: 0.8rem;
  line-height: 1.35; white-space: normal; font-weight: 400;
}
.section-intro { color: #555; font-size: 0.82rem; margin-bottom: 4px; line-height: 1.3; }
.bias-chart { margin-top: 4px; }
.verdict {
  display: block; font-size: 1.05rem; background: #f3f7fb; border-left: 4px solid #1f77b4; padding: 8px 12px;
}
.readings { border-collapse: collapse; font-size: 0.85rem; margin: 6px 0 4px 0; width: 100%; }
.readings th { text-align: left; font-weight: 500; color: #555; padding: 2px 6px; }
.readings td { padding: 2px 6px; border-top: 1px solid #eeeeee; }
.readings td.number { font-variant-numeric: tabular-nums; text-align: right; white-space: nowrap; }
.readings td.clear { font-weight: 500; }
.verdict-caveat { display: block; font-size: 0.85rem; color: #7a4b00; margin-bottom: 6px; }
.mix { display: flex; height: 18px; border-radius: 3px; overflow: hidden; margin: 2px 0 6px 0; }
.mix > div { height: 100%; }
.prose p { margin: 0 0 6px 0; font-size: 0.85rem; }
.prose ul { margin: 0 0 6px 0; font-size: 0.85rem; }
.v-tooltip__content { max-width: 420px; }
.scenario-load { margin: 0 0 2px 0; }
.loaded-from {
  display: block; font-size: 0.8rem; line-height: 1.3; color: #1b5e20; background: #e8f5e9; padding: 3px 6px;
  border-radius: 3px; margin-bottom: 6px; overflow-wrap: anywhere;
}
.load-problem, .open-problem { overflow-wrap: anywhere; margin-top: 2px; }
.browse-heading { display: block; font-weight: 600; font-size: 1rem; margin-top: 12px; }
.ranking {
  display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 12px; align-items: start;
}
.ranking .forest img { max-width: 100%; height: auto; }
.ranking-table td { overflow-wrap: anywhere; }
.ranking-table tr.clear-best td { font-weight: 600; }
.ranking-verdict { display: block; font-weight: 500; font-size: 0.9rem; margin: 2px 0 4px 0; }
.ranking-note { display: block; font-size: 0.8rem; color: #555; }
.discovery-counts, .discovery-box { display: block; font-size: 0.9rem; }
.discovery-verdict {
  display: block; font-size: 0.95rem; font-weight: 500; padding: 6px 10px; margin: 6px 0 4px 0;
  border-left: 4px solid #888; background: #f5f5f5; overflow-wrap: anywhere;
}
.discovery-verdict.inside { border-left-color: #1b7e28; background: #e8f5e9; }
.discovery-verdict.outside { border-left-color: #c62828; background: #fdecea; }
.discovery-beyond, .discovery-note, .discovery-free { display: block; font-size: 0.8rem; color: #555; }
.discovery-skipped, .discovery-problem { display: block; overflow-wrap: anywhere; margin: 4px 0; }
.discovery {
  display: grid; grid-template-columns: minmax(0, 1.6fr) minmax(0, 1fr); gap: 12px; align-items: start;
}
.box-limits {
  display: grid; grid-template-columns: minmax(0, 1.4fr) minmax(0, 1fr) minmax(0, 1fr) auto auto;
  font-size: 0.85rem; margin: 6px 0 4px 0;
}
.box-limits > * { padding: 3px 6px; border-top: 1px solid #eeeeee; overflow-wrap: anywhere; }
.box-limits .box-head { font-weight: 500; color: #555; border-top: none; }
.box-input { display: flex; flex-direction: column; }
.box-key { font-size: 0.72rem; color: #888; }
.box-value { font-variant-numeric: tabular-nums; }
.box-inside.limit-in { color: #1b7e28; font-weight: 500; }
.box-inside.limit-out { color: #c62828; font-weight: 500; }
.trajectory .svg-chart { max-width: 360px; }
"""

THEORY_COLOURS = {
    "incremental": "#8dd3c7",
    "structural": "#fb8072",
    "knowledge": "#80b1d3",
    "coalition": "#fdb462",
}


@solara.component
def InfoTip(text: str):
    """An (i) icon that explains what it sits next to when hovered."""
    with solara.Tooltip(text):
        rv.Icon(children=["mdi-information-outline"], small=True, color="grey darken-1", class_="info-tip")


@solara.component
def ParameterSlider(slider: Slider, value: Any, on_value: Callable[[Any], None], problem: str | None):
    """A slider with its title, its declared meaning, units and limits, and any problem right under it."""
    shown = number(value) if isinstance(value, float) else f"{value}"  # every slider's step is >= 0.01
    typed_problem = solara.use_reactive(cast(str | None, None))

    def typed(text: str) -> None:
        number = parse_whole(text, slider)
        typed_problem.set(number if isinstance(number, str) else None)
        if not isinstance(number, str):
            on_value(number)

    with solara.Column(gap="0px", classes=["parameter", f"parameter-{slider.key.replace('.', '-')}"]):
        with solara.Row(gap="4px", style={"align-items": "center"}):
            solara.Text(slider.title, classes=["slider-title"])
            low, high = (f"{x:g}" if slider.integer else number(x) for x in (slider.low, slider.high))
            InfoTip(f"{slider.meaning} ({slider.units}); from {low} to {high}.")
            if slider.typed:  # too many positions to hit one with the mouse: a box to type it in
                with solara.Div(style={"margin-left": "auto", "width": "90px"}):
                    solara.InputText(
                        "",
                        value=shown,
                        on_value=typed,
                        continuous_update=False,
                        dense=True,
                        classes=["slider-typed"],
                    )
            else:
                solara.Text(
                    shown, classes=["slider-value"], style={"margin-left": "auto", "font-size": "0.9rem"}
                )
        kind = solara.SliderInt if slider.integer else solara.SliderFloat
        kind(
            label="",
            value=value,
            min=slider.low,
            max=slider.high,
            step=slider.step,
            on_value=on_value,
            thumb_label=False,
        )
        solara.Text(f"{slider.meaning} ({slider.units})", classes=["slider-hint"])
        for message in (typed_problem.value, problem):
            if message:
                solara.Text(message, classes=["field-problem"])


@solara.component
def DesignPicker(label: str, design: str, on_design: Callable[[str], None]):
    _KindPicker(label, designs(), design, on_design, _about_design(design))


@solara.component
def TheoryPicker(label: str, theory: str, on_theory: Callable[[str], None]):
    _KindPicker(label, theories(), theory, on_theory, _about_theory(theory))


@solara.component
def _KindPicker(label: str, names: dict[str, str], kind: str, on_kind: Callable[[str], None], about: str):
    """A choice among kinds shown by their plain names (``names``: kind -> name), with a sentence on it."""
    kinds = {name: k for k, name in names.items()}
    solara.Select(
        label=label,
        values=list(names.values()),
        value=names[kind],
        on_value=lambda n: n in kinds and on_kind(kinds[n]),
    )
    solara.Text(about, classes=["about-kind"])


def _about_design(kind: str) -> str:
    return DESIGN_PRESETS[kind]["about"]


def _about_theory(kind: str) -> str:
    return THEORY_PRESETS[kind]["about"]


@solara.component
def SeedField(text: str, on_text: Callable[[str], None], problem: str | None):
    solara.InputText(
        "Seed (the same seed and set-up give the same run)",
        value=text,
        on_value=on_text,
        error=problem or False,
        continuous_update=False,
        classes=["seed-field"],
    )


@solara.component
def MonthCounter(target: solara.Reactive, clock: Clock):
    clock.beat.value  # noqa: B018  (subscribe: the counter follows each beat)
    run = target.value
    solara.Text(f"Month {run.steps} of {run.horizon}", classes=["month-counter"])


@solara.component
def Controls(
    clock: Clock,
    target: solara.Reactive,
    on_reset: Callable[[], None],
    note: str = "",
    *,
    current: bool = True,
    up_to_date: Callable[[], bool] = lambda: True,
    note_kind: str = "",
):
    """Reset / Step / Play / Pause, the speed, and the month counter.

    ``current`` says whether the run on screen is the one the controls describe: when it is not (a new run
    is being built, or the settings cannot work together), Step and Play are off, so they never step a run
    that no longer matches the controls; ``up_to_date`` asks the same when a click arrives (a click can race
    a change of set-up). ``note`` says why, in the style ``note_kind`` names."""
    clock.beat.value.picture  # noqa: B018  (subscribe: Step and Play switch off at the horizon)
    run = target.value
    playing = clock.playing.value

    def step() -> None:
        if up_to_date():
            step_once(clock, target)

    def play() -> None:
        if up_to_date():
            clock.playing.set(True)

    with solara.Column(gap="4px"):
        MonthCounter(target, clock)
        with solara.Row(gap="6px"):
            solara.Button("Reset", on_click=on_reset, color="primary", outlined=True, icon_name="mdi-restart")
            solara.Button(
                "Step",
                on_click=step,
                disabled=playing or run.finished or not current,
                color="primary",
                outlined=True,
                icon_name="mdi-step-forward",
            )
            if playing:
                solara.Button(
                    "Pause", on_click=lambda: clock.playing.set(False), color="primary", icon_name="mdi-pause"
                )
            else:
                solara.Button(
                    "Play",
                    on_click=play,
                    disabled=run.finished or not current,
                    color="primary",
                    icon_name="mdi-play",
                )
        solara.Text("Speed, in months a second:", style={"font-size": "0.8rem"})
        with solara.Row(gap="6px", style={"align-items": "center"}):
            solara.ToggleButtonsSingle(
                value=clock.speed.value,
                values=list(SPEEDS),
                on_value=clock.speed.set,
                dense=True,
                classes=["speed"],
            )
        if run.finished:
            solara.Text(f"The run has reached month {run.horizon}. Press Reset to start again.")
        if note:
            solara.Text(note, classes=["run-note", note_kind])


@solara.component
def IndicatorSections(
    read: Callable[[], tuple[list[dict], list[dict]]],
    beat: solara.Reactive,
    titles: Sequence[str] | None = None,
):
    """Every output under its heading (or the sections named in ``titles``). The headings and explanations
    are drawn once; the bars follow ``beat`` (``read`` returns the outputs now, one dict per set-up, and
    where they started)."""
    for title, intro, names in SECTIONS:
        if titles is not None and title not in titles:
            continue
        with solara.Card(title, margin=0, classes=[section_class(title)]):
            IndicatorSection(read, beat, intro, names)


def section_class(title: str) -> str:
    return f"section-{title.lower().replace(' ', '-')}"


@solara.component
def IndicatorSection(
    read: Callable[[], tuple[list[dict], list[dict]]], beat: solara.Reactive, intro: str, names: Sequence[str]
):
    """One section's bars, its introduction above them and what each means below, folded."""
    if intro:
        solara.Text(intro, classes=["section-intro"])
    SectionBars(read, names, beat)
    with solara.Details("What do these mean?"):
        Prose([f"<b>{escape(LABELS[name])}</b>: {escape(explain(name))}" for name in names])


@solara.component
def Prose(paragraphs: Sequence[str], bullets: bool = False):
    """Paragraphs (or a bulleted list) of HTML that the caller escaped. Used instead of
    ``solara.Markdown``, whose front-end loads KaTeX for maths from a CDN: the server then tries to fetch
    it from the network, which a workshop room may not have, and logs each failure."""
    body = (
        "<ul>" + "".join(f"<li>{p}</li>" for p in paragraphs) + "</ul>"
        if bullets
        else "".join(f"<p>{p}</p>" for p in paragraphs)
    )
    solara.HTML(tag="div", unsafe_innerHTML=body, classes=["prose"])


@solara.component
def SectionBars(
    read: Callable[[], tuple[list[dict], list[dict]]], names: Sequence[str], beat: solara.Reactive
):
    beat.value  # noqa: B018  (subscribe: redraw on each beat)
    outputs, starts = read()
    solara.HTML(
        tag="div", unsafe_innerHTML=charts.indicator_rows(outputs, names, starts), classes=["indicators"]
    )


@solara.component
def TheoryMix(mix: dict[str, float], title: str = ""):
    """Who holds which theory of change now, as one stacked bar: dissensus you can see."""
    names = theories()
    parts = "".join(
        f'<div title="{names[k]}: {share:.0%}" '
        f'style="width:{100 * share:.2f}%;background:{THEORY_COLOURS[k]}"></div>'
        for k, share in sorted(mix.items(), key=lambda kv: list(THEORY_COLOURS).index(kv[0]))
        if share > 0
    )
    held = sum(1 for share in mix.values() if share >= 0.05)
    if title:
        solara.Text(title, style={"font-weight": "500", "font-size": "0.9rem"})
    solara.HTML(tag="div", unsafe_innerHTML=parts, classes=["mix"])
    solara.Text(
        " · ".join(f"{names[k]} {mix.get(k, 0):.0%}" for k in THEORY_COLOURS)
        + f" — {held} of 4 ideas held by at least 5% of people",
        style={"font-size": "0.8rem", "color": "#444"},
    )


@solara.component
def Svg(svg: str, classes: Sequence[str] = ()):
    solara.HTML(tag="div", unsafe_innerHTML=svg, classes=["svg-chart", *classes])


@solara.component
def Downloads(run_getter: Callable[[], Any], prefix: str = ""):
    """The run's outputs as CSV and its scenario as TOML; both are made when the button is pressed."""
    run = run_getter()
    with solara.Row(gap="6px", classes=["downloads"]):
        solara.FileDownload(
            lambda: run_getter().csv(),
            filename=f"{prefix}{run.scenario.name}-seed{run.scenario.run.seed}.csv",
            label=f"{prefix}Outputs (CSV)",
            mime_type="text/csv",
        )
        solara.FileDownload(
            lambda: run_getter().toml(),
            filename=f"{prefix}{run.scenario.name}-seed{run.scenario.run.seed}.toml",
            label=f"{prefix}Scenario (TOML)",
            mime_type="application/toml",
        )
