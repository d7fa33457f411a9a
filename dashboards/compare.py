"""Compare two set-ups: each with its own design, theory of change and design sliders, in the same city.

The pair on screen plays side by side from one seed; "Run N seeds" runs both set-ups to the end on the same
N seeds (derived from the typed seed, ``dashboards/seeds.py``) and gives a verdict with its uncertainty on
every progress marker and on consensus bias (``dashboards/verdict.py``). As in Explore, a change of any
control starts the pair again with it at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from html import escape
from types import MappingProxyType

import solara
from coprod.dashboards import charts
from coprod.dashboards.choices import SEED_KEY, SLIDER_GROUPS, Checked, Draft, parse_seed, slider
from coprod.dashboards.explore import BiasChart
from coprod.dashboards.player import Clock, use_clock, use_follow, use_player
from coprod.dashboards.runs import Pair, Run
from coprod.dashboards.seeds import COUNTS, DEFAULT_COUNT, Progress, run_both, seeds
from coprod.dashboards.verdict import Difference, Verdict, differences, verdict
from coprod.dashboards.widgets import (
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
from coprod.dashboards.words import DISSENSUS, LOWER_HEADING, SAME, number

SHARED = (*dict(SLIDER_GROUPS)["The city"], *dict(SLIDER_GROUPS)["The run"])
OWN = tuple(key for _, keys in SLIDER_GROUPS for key in keys if key not in SHARED)  # each set-up's own
NAMES = ("A", "B")
DEFAULT_KINDS = (("top_down_consultation", "incremental"), ("action_research_cooperative", "incremental"))


def _own(design: str, theory: str) -> Draft:
    return Draft(design=design, theory=theory)


@dataclass(frozen=True)
class Sides:
    """The two set-ups being compared: each one's design, theory and own sliders (``sides``), and the
    city, seed and run length they share (``city``: its seed and values)."""

    city: Draft = field(default_factory=Draft)
    sides: tuple[Draft, Draft] = field(default_factory=lambda: tuple(_own(*k) for k in DEFAULT_KINDS))

    def drafts(self) -> tuple[Draft, Draft]:
        shared = {k: v for k, v in self.city.values.items() if k not in OWN}
        return tuple(
            replace(side, seed=self.city.seed, values=MappingProxyType({**side.values, **shared}))
            for side in self.sides
        )

    def check(self) -> tuple[Checked, Checked]:
        return tuple(draft.check() for draft in self.drafts())

    def with_side(self, i: int, side: Draft) -> Sides:
        return replace(self, sides=tuple(side if j == i else s for j, s in enumerate(self.sides)))


def _key(checked: tuple[Checked, Checked]) -> str | None:
    """The pair the controls describe, as text (None when either set-up does not work)."""
    if not all(c.ok for c in checked):
        return None
    return "\n".join(c.scenario.to_toml() for c in checked)


@solara.component
def Compare():
    sides = solara.use_reactive(Sides())
    first = solara.use_memo(lambda: Pair(*(c.scenario for c in Sides().check())), [])
    pair = solara.use_reactive(first)
    clock = use_clock()
    use_player(clock, pair)
    checked = solara.use_memo(sides.value.check, [sides.value])
    ok = all(c.ok for c in checked)
    wanted = _key(checked)
    running = "\n".join(run.scenario.to_toml() for run in pair.value.runs)
    stale = use_follow(clock, pair, wanted, running, lambda: Pair(*(c.scenario for c in checked)))

    def up_to_date() -> bool:
        return _key(sides.value.check()) == "\n".join(run.scenario.to_toml() for run in pair.value.runs)

    def change(new: Sides) -> None:
        clock.playing.set(False)
        sides.set(new)

    def reset():
        if not ok:
            return
        clock.playing.set(False)
        pair.set(Pair(*(c.scenario for c in checked)))
        clock.redraw()

    note, kind = (
        (
            "Some settings cannot work together (see the messages in red). The runs on screen are the last "
            "set-ups that worked; Step and Play wait until the settings are fixed.",
            "blocked",
        )
        if not ok
        else (("You changed the set-ups: starting them again…", "new-run") if stale else ("", ""))
    )
    runs = pair.value.runs
    with solara.Div(classes=["compare", "view-grid"]):
        with solara.Div(classes=["view-side"]):
            with solara.Card(margin=0, classes=["run-card"]):
                solara.Text(
                    "Running: "
                    + " and ".join(
                        f"{NAMES[i]}: {run.design}, {run.theory.lower()}" for i, run in enumerate(runs)
                    )
                    + f"; seed {runs[0].scenario.run.seed}",
                    classes=["running"],
                )
                Controls(
                    clock, pair, reset, note, current=ok and not stale, up_to_date=up_to_date, note_kind=kind
                )
                for i in range(2):
                    Downloads(_getter(pair.value, i), prefix=f"{NAMES[i]} ")
            ComparePanel(sides, checked, change)
        with solara.Div(classes=["view-main"]):
            OverSeeds(sides.value, checked)
            SideBySide(pair.value, clock)
            IndicatorSections(lambda: ([run.now() for run in runs], []), clock.beat)


@solara.component
def ComparePanel(sides: solara.Reactive[Sides], checked, change):
    s = sides.value
    problems: dict[str, str] = {}
    sides_with: dict[str, list[str]] = {}  # which set-ups a problem belongs to
    for name, c in zip(NAMES, checked, strict=True):
        for key, message in c.problems.items():
            problems.setdefault(key, message)
            sides_with.setdefault(key, []).append(name)
    for i, side in enumerate(s.sides):
        with solara.Card(
            f"Set-up {NAMES[i]}",
            margin=0,
            classes=[f"setup-{NAMES[i]}"],
            style={"border-left": f"4px solid {charts.SETUP_COLOURS[i]}"},
        ):
            DesignPicker(
                f"Design {NAMES[i]}",
                side.design,
                lambda kind, i=i: change(sides.value.with_side(i, sides.value.sides[i].with_design(kind))),
            )
            TheoryPicker(
                f"Theory of change {NAMES[i]}",
                side.theory,
                lambda kind, i=i: change(sides.value.with_side(i, sides.value.sides[i].with_theory(kind))),
            )
            with solara.Details(f"Sliders of set-up {NAMES[i]}"):
                for key in OWN:
                    ParameterSlider(
                        slider(key),
                        side.setting(key, checked[i]),
                        lambda value, key=key, i=i: change(
                            sides.value.with_side(i, sides.value.sides[i].with_value(key, value))
                        ),
                        checked[i].problems.get(key),
                    )
    with solara.Card(
        "The city and the run (shared)", subtitle="A change starts both again at once.", margin=0
    ):
        SeedField(
            s.city.seed,
            lambda text: change(replace(sides.value, city=sides.value.city.with_seed(text))),
            problems.get(SEED_KEY),
        )
        for key in SHARED:
            ParameterSlider(
                slider(key),
                s.city.setting(key, checked[0]),
                lambda value, key=key: change(
                    replace(sides.value, city=sides.value.city.with_value(key, value))
                ),
                problems.get(key),
            )
        for key, message in problems.items():
            if key not in SHARED and key != SEED_KEY:
                solara.Text(f"Set-up {' and '.join(sides_with[key])}: {message}", classes=["field-problem"])


@solara.component
def OverSeeds(sides: Sides, checked):
    """Both set-ups run to the end on the same N seeds, in a thread: the page stays live meanwhile."""
    count = solara.use_reactive(DEFAULT_COUNT)
    asked = solara.use_reactive(None)  # (the pair's key, the seeds) when Run was pressed
    key = _key(checked)
    root = parse_seed(sides.city.seed)

    def work(cancel):
        if asked.value is None:
            return
        scenarios = tuple(c.scenario for c in checked)
        yield from run_both(*scenarios, list(asked.value[1]), cancel)

    result = solara.use_thread(work, dependencies=[asked.value], intrusive_cancel=False)
    progress: Progress | None = result.value if asked.value is not None else None
    current = asked.value is not None and asked.value[0] == key
    with solara.Card("Over several seeds: which set-up is higher?", margin=0, classes=["card-seeds"]):
        with solara.Row(gap="8px", style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.Text("Seeds:", style={"font-size": "0.85rem"})
            solara.ToggleButtonsSingle(
                value=count.value, values=list(COUNTS), on_value=count.set, dense=True, classes=["seed-count"]
            )
            solara.Button(
                f"Run {count.value} seeds",
                on_click=lambda: asked.set((key, tuple(seeds(root, count.value)))),
                disabled=key is None or isinstance(root, str),
                color="primary",
                icon_name="mdi-dice-multiple",
                classes=["run-seeds"],
            )
        if asked.value is None:
            solara.Text(
                "One seed is one possible city. Run both set-ups to the end on several seeds (the same ones "
                "for A and B) to see which differences hold.",
                classes=["section-intro"],
            )
        elif progress is None or not progress.finished:
            done = 0 if progress is None else progress.done
            solara.Text(
                f"Running: {done} of {2 * len(asked.value[1])} runs done…", classes=["seeds-progress"]
            )
        else:
            if not current:
                solara.Text(
                    "These are for the set-ups as they were when you pressed Run; press it again for these.",
                    classes=["run-note", "blocked"],
                )
            DifferenceTable(differences(progress.first, progress.second, NAMES), progress.seeds, root)


@solara.component
def DifferenceTable(rows: tuple[Difference, ...], run_seeds: tuple[int, ...], root):
    def cell(spread) -> str:
        return f"{number(spread.mean)} [{number(spread.low)}, {number(spread.high)}]"

    body = "".join(
        f"<tr class='difference-{d.name}'><td>{escape(d.title)}</td>"
        f"<td class='number'>{cell(d.spreads[0])}</td><td class='number'>{cell(d.spreads[1])}</td>"
        f"<td class='{'clear' if d.higher is not None else 'unclear'}'>{escape(d.sentence)}</td></tr>"
        for d in rows
    )
    head = "".join(
        f"<th>{h}</th>" for h in ("", "A: mean [lowest, highest]", "B: mean [lowest, highest]", "Verdict")
    )
    solara.HTML(tag="table", unsafe_innerHTML=f"<tr>{head}</tr>{body}", classes=["readings", "differences"])
    solara.Text(
        f"{len(run_seeds)} seeds from root seed {root} (numpy SeedSequence): "
        f"{', '.join(map(str, run_seeds))}. "
        "Difference is A − B at the last month, averaged over the seeds, with its 95% interval (paired: "
        "A and B share each seed); 'no clear difference' when the interval includes zero.",
        classes=["section-intro"],
    )


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
    with solara.Div(classes=["two-up"]):
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
        BiasChart(
            list(pair.runs), clock, tuple(f"{NAMES[i]}: {run.design}" for i, run in enumerate(pair.runs))
        )
    with solara.Div(classes=["two-up", "sides"]):
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
        + "".join(f"<td class='number'>{number(value)}</td>" for value in r.values)
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
