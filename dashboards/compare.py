"""Compare two set-ups side by side: the same city and seed, two designs (or theories), stepped together."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from html import escape

import solara

from dashboards import charts
from dashboards.choices import SEED_KEY, SLIDER_GROUPS, Checked, Draft, slider
from dashboards.player import Clock, use_clock, use_player
from dashboards.runs import Pair, Run
from dashboards.verdict import Verdict, verdict
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
from dashboards.words import DISSENSUS, LOWER_HEADING, SAME

SHARED = (*dict(SLIDER_GROUPS)["The city"], *dict(SLIDER_GROUPS)["The run"])
NAMES = ("A", "B")


@dataclass(frozen=True)
class Sides:
    """The two set-ups being compared, and the city (seed and city sliders) they share."""

    city: Draft = field(default_factory=Draft)
    first: tuple[str, str] = ("top_down_consultation", "incremental")
    second: tuple[str, str] = ("action_research_cooperative", "incremental")

    def drafts(self) -> tuple[Draft, Draft]:
        return tuple(self.city.with_design(d).with_theory(t) for d, t in (self.first, self.second))

    def check(self) -> tuple[Checked, Checked]:
        return tuple(draft.check() for draft in self.drafts())


@solara.component
def Compare():
    sides = solara.use_reactive(Sides())
    first = solara.use_memo(lambda: Pair(*(c.scenario for c in Sides().check())), [])
    pair = solara.use_reactive(first)
    clock = use_clock()
    use_player(clock, pair)
    checked = solara.use_memo(sides.value.check, [sides.value])
    ok = all(c.ok for c in checked)
    refused = solara.use_reactive(False)

    def reset():
        if not ok:
            refused.set(True)
            return
        clock.playing.set(False)
        pair.set(Pair(*(c.scenario for c in checked)))
        refused.set(False)
        clock.redraw()

    running = tuple(run.scenario.to_toml() for run in pair.value.runs)
    pending = ok and tuple(c.scenario.to_toml() for c in checked) != running
    note = (
        "Some settings cannot work together (see the messages in red); the runs on screen are unchanged."
        if refused.value and not ok
        else ("You changed the set-ups: press Reset to run them." if pending else "")
    )
    runs = pair.value.runs
    with solara.Columns([4, 9], classes=["compare"]):
        with solara.Column(gap="10px"):
            with solara.Card("Run both", margin=0):
                solara.Text(
                    "Running: "
                    + " and ".join(
                        f"{NAMES[i]}: {run.design}, {run.theory.lower()}" for i, run in enumerate(runs)
                    )
                    + f"; seed {runs[0].scenario.run.seed}",
                    classes=["running"],
                )
                Controls(clock, pair, reset, note)
                for i in range(2):
                    Downloads(_getter(pair.value, i), prefix=f"{NAMES[i]} ")
            ComparePanel(sides, checked)
        with solara.Column(gap="12px"):
            SideBySide(pair.value, clock)
            IndicatorSections(lambda: ([run.now() for run in runs], []), clock.beat)


@solara.component
def ComparePanel(sides: solara.Reactive[Sides], checked):
    s = sides.value
    problems: dict[str, str] = {}
    sides_with: dict[str, list[str]] = {}  # which set-ups a problem belongs to
    for name, c in zip(NAMES, checked, strict=True):
        for key, message in c.problems.items():
            problems.setdefault(key, message)
            sides_with.setdefault(key, []).append(name)
    with solara.Card(
        "Two set-ups", subtitle="Same city, same seed. Changes apply when you press Reset.", margin=0
    ):
        for i, attr in enumerate(("first", "second")):
            design, theory = getattr(s, attr)
            solara.Text(f"Set-up {NAMES[i]}", style={"font-weight": "600", "color": charts.SETUP_COLOURS[i]})
            DesignPicker(
                f"Design {NAMES[i]}",
                design,
                lambda kind, attr=attr: sides.set(
                    replace(sides.value, **{attr: (kind, getattr(sides.value, attr)[1])})
                ),
            )
            TheoryPicker(
                f"Theory of change {NAMES[i]}",
                theory,
                lambda kind, attr=attr: sides.set(
                    replace(sides.value, **{attr: (getattr(sides.value, attr)[0], kind)})
                ),
            )
        solara.Text("The city and the run (shared)", style={"font-weight": "600", "margin-top": "8px"})
        SeedField(
            s.city.seed,
            lambda text: sides.set(replace(sides.value, city=sides.value.city.with_seed(text))),
            problems.get(SEED_KEY),
        )
        for key in SHARED:
            ParameterSlider(
                slider(key),
                s.city.setting(key, checked[0]),
                lambda value, key=key: sides.set(
                    replace(sides.value, city=sides.value.city.with_value(key, value))
                ),
                problems.get(key),
            )
        for key, message in problems.items():
            if key not in SHARED and key != SEED_KEY:
                solara.Text(f"Set-up {' and '.join(sides_with[key])}: {message}", classes=["field-problem"])


@solara.component
def SideBySide(pair: Pair, clock: Clock):
    """What changes as the pair plays, redrawn on the clock's picture beat."""
    beat = clock.beat.value.picture

    def draw():
        traces = [
            charts.trace(f"{NAMES[i]}: {run.design}", run.series(), charts.SETUP_COLOURS[i])
            for i, run in enumerate(pair.runs)
        ]
        return (
            charts.radar(traces, with_start=False),
            charts.marker_lines(traces, pair.horizon),
            [charts.network(run.picture, run.ties(), run.taking_part()) for run in pair.runs],
            [run.theory_mix() for run in pair.runs],
            [run.now() for run in pair.runs],
        )

    radar, lines, networks, mixes, now = solara.use_memo(draw, [pair, beat])
    with solara.Columns([1, 1]):
        with solara.Card("Which keeps more dissensus?", margin=0, classes=["card-dissensus"]):
            designs = tuple(f"{NAMES[i]} ({run.design})" for i, run in enumerate(pair.runs))
            VerdictPanel(verdict(now[0], now[1], NAMES, designs))
            for i in range(len(pair.runs)):
                TheoryMix(mixes[i], f"{NAMES[i]}: ideas of how change happens, held now")
            solara.Text(DISSENSUS, style={"font-size": "0.85rem", "color": "#444"})
        with solara.Card("Progress markers now: A and B overlaid", margin=0, classes=["card-radar"]):
            Svg(radar, classes=["radar"])
    with solara.Card("Progress markers over time", margin=0, classes=["card-lines"]):
        Svg(lines, classes=["marker-lines"])
    with solara.Columns([1, 1], classes=["sides"]):
        for i, run in enumerate(pair.runs):
            with solara.Card(
                f"{NAMES[i]}: {run.design}",
                subtitle=f"with {run.theory.lower()}",
                margin=0,
                classes=[f"side-{NAMES[i]}"],
            ):
                Svg(networks[i], classes=["network"])


@solara.component
def VerdictPanel(answer: Verdict):
    """The answer, the numbers it comes from (A and B side by side), and why one seed is not enough."""
    solara.Text(answer.overall, classes=["verdict"])
    rows = "".join(
        f"<tr class='reading-{r.name}'><td>{escape(r.title)}</td>"
        + "".join(f"<td class='number'>{value:.2f}</td>" for value in r.values)
        + f"<td>{SAME if r.lower is None else NAMES[r.lower]}</td></tr>"
        for r in answer.readings
    )
    head = "".join(f"<th>{h}</th>" for h in ("", *NAMES, escape(LOWER_HEADING)))
    solara.HTML(tag="table", unsafe_innerHTML=f"<tr>{head}</tr>{rows}", classes=["readings"])
    solara.Text(answer.caveat, classes=["verdict-caveat"])


def _getter(pair: Pair, i: int):
    def get() -> Run:
        return pair.runs[i]

    return get
