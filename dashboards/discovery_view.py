"""A scenario discovery kept in a results file, and where Explore's set-up sits relative to its box.

``coprod discover`` keeps each result in the file's ``discoveries`` table (:mod:`experiments.discovery`):
the runs that meet a condition, the box of inputs PRIM chose, its coverage and density, and the peeling
trajectory. Here one is picked by its condition and month, in words, and shown: how many runs meet the
condition, the box in plain words, one row per input it restricts with the value of that input in the
browser session's Explore set-up and whether it lies inside, one line saying whether the set-up lies in
the box, and the trajectory as a small SVG. Whether a value lies inside a limit is the discovery's own
rule (:meth:`experiments.discovery.Limit.contains`, the rule behind :meth:`Discovery.in_box`).

Everything stored is a stranger's text: it is only ever shown through ``solara.Text``; the SVG holds
numbers only. A stored discovery that cannot be read is named in one line and skipped.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import solara
from coprod.dashboards import charts
from coprod.dashboards.choices import label_of
from coprod.dashboards.session import Setup
from coprod.dashboards.widgets import Svg
from coprod.dashboards.words import LABELS
from coprod.experiments.discovery import BASE_SCENARIO, MIN_COVERAGE, Discovery, Limit, from_record
from coprod.experiments.report_labels import value_label
from coprod.experiments.store import Store, StoreError
from coprod.experiments.untrusted import plain
from coprod.model import OUTPUTS

HEADING = "Scenario discovery"
INTRO = (
    "Boxes of inputs found by `coprod discover` (PRIM) and kept in this file: ranges of the inputs this "
    "experiment varied in which its runs met a condition more often. Coverage: the share of the runs "
    "meeting the condition that lie in the box; density: the share of the runs in the box that meet it. "
    "The box speaks of the inputs the experiment varied only: every other setting stayed at the "
    "experiment's own values, which may differ from those in Explore."
)
NO_SETUP = "Open Explore to compare a set-up with this box."
SETUP_BROKEN = (
    "The set-up in Explore has settings that cannot work together; fix them there to place it in this box."
)
# The page's own names for the two pickers (Explore's set-up panel); other inputs: their slider title or
# declared meaning (``choices.label_of``).
NAMES = {
    "design.kind": "Institutional design",
    "theory.kind": "Theory of change",
    BASE_SCENARIO: "Base scenario",
}
VALUE_COLUMNS = {"design.kind": "design", "theory.kind": "theory"}  # value_label's names for them
LONGEST_NAME = 90  # characters of an input's readable name shown
SHOWN_NAMES = 4  # a line naming inputs or discoveries names this many, then how many more


# --------------------------------------------------------------------------------------- reading


@dataclass(frozen=True, eq=False)
class Found:
    """One stored discovery that could be read: its condition and month as stored (printable text), in
    words, and the discovery."""

    title: str
    condition: str
    month: str
    discovery: Discovery


@dataclass(frozen=True, eq=False)
class Shelf:
    """An experiment's stored discoveries: those read, the titles of those that could not be, and why the
    table itself could not be read ("" if it could)."""

    found: tuple[Found, ...] = ()
    unreadable: tuple[str, ...] = ()
    problem: str = ""

    @property
    def empty(self) -> bool:
        return not (self.found or self.unreadable or self.problem)


def condition_words(condition: Any) -> str:
    """A stored condition with each output's name as its readable label, in quotes: ``'Consensus bias' <
    0.5 and 'Citizen power in the rules' > 0.6`` (as text, printable, never markup)."""

    def name(match: re.Match) -> str:
        word = match.group(0)
        return f"'{LABELS.get(word, word)}'" if word in OUTPUTS else word

    return re.sub(r"[A-Za-z_][A-Za-z0-9_]*", name, plain(condition, 300))


def title(condition: Any, month: Any) -> str:
    """A discovery in words: its condition and the month it was judged at."""
    when = plain(month, 80)
    when = f"month {when}" if when.isdigit() else (when or "an unknown month")
    return f"{condition_words(condition)} at {when}"


def readable(d: Discovery) -> bool:
    """Whether the numbers this view prints are there: runs, runs meeting, and the chosen box's coverage,
    density and counts, each finite and in range (``from_record`` checks only that they are numbers)."""
    box = d.box
    numbers = [box[k] for k in ("coverage", "density", "n", "k")]
    if not all(isinstance(x, int | float) and math.isfinite(x) for x in numbers):
        return False
    return d.n > 0 and 0 <= d.meeting <= d.n and 0 <= box["coverage"] <= 1 and 0 <= box["density"] <= 1


def read_discoveries(path: Path, experiment: Any) -> Shelf:
    """The discoveries the results file at ``path`` keeps for ``experiment`` (read-only), oldest first."""
    try:
        with Store.existing(path) as store:
            rows = store.discoveries(experiment)
    except (StoreError, sqlite3.Error) as err:
        return Shelf(problem=f"The scenario discoveries kept in this file cannot be read: {plain(err, 300)}")
    found: list[Found] = []
    unreadable: list[str] = []
    for row in rows:
        condition, month = row.get("condition"), row.get("month")
        said = title(condition, month)
        try:
            d = from_record(json.loads(row.get("result") or ""))
            if not readable(d):
                raise ValueError("its numbers are out of range")
        except (ValueError, TypeError, RecursionError):
            unreadable.append(said)
            continue
        taken = {f.title for f in found}
        shown, n = said, 1
        while shown in taken:  # two conditions that read the same once shortened
            n += 1
            shown = f"{said} [{n}]"
        found.append(Found(shown, plain(condition, 300), plain(month, 80), d))
    return Shelf(tuple(found), tuple(unreadable))


def skipped_line(unreadable: tuple[str, ...]) -> str:
    """One line naming the stored discoveries that cannot be read ("" if none)."""
    if not unreadable:
        return ""
    more = f" and {len(unreadable) - SHOWN_NAMES} more" if len(unreadable) > SHOWN_NAMES else ""
    names = "; ".join(unreadable[:SHOWN_NAMES]) + more
    one = len(unreadable) == 1
    return (
        f"{'A' if one else len(unreadable)} stored discover{'y' if one else 'ies'} cannot be read "
        f"(damaged, or written by another program) and {'is' if one else 'are'} skipped: {names}."
    )


# ------------------------------------------------------------------------------------ in words


def number(x: float) -> str:
    """An input's value or limit: three significant digits, whole numbers as they are."""
    if not math.isfinite(x):
        return "?"
    if float(x).is_integer() and abs(x) < 1e15:
        return f"{int(x):,}"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def input_name(name: str) -> str:
    """An input's readable name: the page's, else its declared meaning; a name the model does not know
    comes back as it is (printable)."""
    said = NAMES.get(name) or label_of(name)
    return plain(said, LONGEST_NAME)


def value_words(name: str, value: Any) -> str:
    """A categorical input's value in words (a design's or theory's name where it is one)."""
    column = VALUE_COLUMNS.get(name)
    said = value_label(column, value, short=True) if column else value
    return plain(said, 80)


def keeps(limit: Limit) -> str:
    """What the box keeps of an input: ``0.31 to 0.7``, ``at least 0.48``, ``at most 0.59``, or the
    values of a categorical input."""
    if limit.categorical:
        values = [value_words(limit.name, v) for v in limit.values]
        return "one of: " + ", ".join(values) if values else "none of its values"
    low = not limit.low <= limit.whole_low  # the box's side lies inside the sampled range (or is unknown)
    high = not limit.high >= limit.whole_high
    if low and not high:
        return f"at least {number(limit.low)}"
    if high and not low:
        return f"at most {number(limit.high)}"
    return f"{number(limit.low)} to {number(limit.high)}"


def sampled(limit: Limit) -> str:
    """The whole range of an input over the experiment's runs."""
    if limit.categorical:
        return ", ".join(value_words(limit.name, v) for v in limit.whole_values) or "-"
    return f"{number(limit.whole_low)} to {number(limit.whole_high)}"


def setup_value(limit: Limit, flat: Mapping[str, Any]) -> Any:
    """The set-up's value of ``limit``'s input as the discovery's table holds it (a float; a choice as
    text, a list joined with ``+``), or None where the set-up has none to compare: a base scenario is a
    whole file of settings, and a name the model does not know is not one of its settings."""
    if limit.name == BASE_SCENARIO or limit.name not in flat:
        return None
    value = flat[limit.name]
    if limit.categorical:  # as experiments.discovery.inputs turns a run's setting into a category
        return "+".join(plain(v, 40) for v in value) if isinstance(value, list | tuple) else plain(value, 80)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


@dataclass(frozen=True)
class Placing:
    """One input of a box, in words, and the set-up's value of it; ``inside`` is None where the set-up has
    no value to compare, ``beyond`` True where its value lies outside what the experiment sampled."""

    limit: Limit
    name: str
    keeps: str
    sampled: str
    value: str
    inside: bool | None
    beyond: bool


def place(d: Discovery, flat: Mapping[str, Any] | None) -> list[Placing]:
    """Each input of the box (restricted ones first, as stored) with the set-up's value (``flat``: the
    scenario's dotted keys; None: no set-up) and whether it lies within the box's limit there."""
    placings = []
    for limit in d.limits:
        value = None if flat is None else setup_value(limit, flat)
        inside = beyond = None
        if value is not None:
            inside = bool(limit.contains(pd.Series([value]))[0])
            if limit.categorical:
                beyond = value not in limit.whole_values
            else:
                beyond = not limit.whole_low <= value <= limit.whole_high
        shown = (
            "" if value is None else (value_words(limit.name, value) if limit.categorical else number(value))
        )
        placings.append(
            Placing(limit, input_name(limit.name), keeps(limit), sampled(limit), shown, inside, bool(beyond))
        )
    return placings


def _names(placings: list[Placing]) -> str:
    names = [p.name for p in placings]
    more = f" and {len(names) - SHOWN_NAMES} more" if len(names) > SHOWN_NAMES else ""
    return ", ".join(names[:SHOWN_NAMES]) + more


def counts_line(found: Found) -> str:
    d = found.discovery
    when = f"month {found.month}" if found.month.isdigit() else (found.month or "an unknown month")
    return f"{d.meeting} of {d.n} runs ({d.meeting / d.n:.0%}) meet the condition at {when}."


def box_line(d: Discovery) -> str:
    """The chosen box's coverage and density in plain words, with the counts behind them."""
    b = d.box
    k, n = int(b["k"]), int(b["n"])
    return (
        f"The box holds {b['coverage']:.0%} of the runs that meet it ({k} of {d.meeting}); "
        f"{b['density']:.0%} of the runs in it meet it ({k} of {n})."
    )


def verdict(d: Discovery, placings: list[Placing]) -> tuple[str, str]:
    """(kind, line): whether the set-up lies in the box, in one line; kind is ``inside``, ``outside``,
    ``unplaced`` (it has no value for a restricted input) or ``everywhere`` (the box restricts nothing)."""
    restricted = [p for p in placings if p.limit.restricted]
    out = [p for p in restricted if p.inside is False]
    unknown = [p for p in restricted if p.inside is None]
    b = d.box
    if not restricted:
        return "everywhere", (
            f"This box restricts no input: it holds every run, your set-up's among them, and "
            f"{b['density']:.0%} of them met the condition."
        )
    if out:
        rest, left = d.n - int(b["n"]), d.meeting - int(b["k"])
        share = (
            f" Of the {rest} runs outside the box, {left / rest:.0%} met the condition." if rest > 0 else ""
        )
        return "outside", (
            f"Your set-up in Explore lies outside this box: it falls outside on {_names(out)}.{share}"
        )
    if unknown:
        return "unplaced", (
            f"Your set-up in Explore cannot be placed in this box: it has no value to compare for "
            f"{_names(unknown)}."
        )
    return "inside", (
        f"Your set-up in Explore lies inside this box: in the runs like it (the {int(b['n'])} runs in the "
        f"box), {b['density']:.0%} met the condition."
    )


def beyond_line(placings: list[Placing]) -> str:
    """One line naming the inputs where the set-up lies beyond what the experiment sampled ("" if none)."""
    beyond = [p for p in placings if p.beyond]
    if not beyond:
        return ""
    said = "; ".join(f"{p.name} {p.value} (sampled: {p.sampled})" for p in beyond[:SHOWN_NAMES])
    return (
        f"Your set-up lies beyond what the experiment sampled on {said}: it made no runs like yours there, "
        "so the box says little about it."
    )


def setup_flat(setup: Setup | None) -> tuple[Mapping[str, Any] | None, str]:
    """(the set-up's settings by dotted key, or None; why there are none to compare, or "")."""
    if setup is None:
        return None, NO_SETUP
    checked = setup.draft.value.check()
    if not checked.ok:
        return None, SETUP_BROKEN
    return checked.scenario.flat(), ""


# ---------------------------------------------------------------------------------- the picture


def trajectory_svg(d: Discovery) -> str:
    """PRIM's peeling trajectory, coverage against density, one point per box, the chosen one ringed.
    Numbers only: nothing stored as text is written into it."""
    width, height, pad_l, pad_r, pad_t, pad_b = 360, 250, 40, 12, 10, 38
    plot_w, plot_h = width - pad_l - pad_r, height - pad_t - pad_b
    grid = charts.GRID

    def x(coverage: float) -> float:
        return pad_l + plot_w * min(max(coverage, 0.0), 1.0)

    def y(density: float) -> float:
        return pad_t + plot_h * (1 - min(max(density, 0.0), 1.0))

    body = [f'<rect x="{pad_l}" y="{pad_t}" width="{plot_w}" height="{plot_h}" fill="none" stroke="{grid}"/>']
    for level in (0.0, 0.25, 0.5, 0.75, 1.0):
        body.append(
            f'<line x1="{pad_l}" y1="{y(level):.1f}" x2="{pad_l + plot_w}" y2="{y(level):.1f}" '
            f'stroke="{grid}" stroke-dasharray="2,3"/>'
            f'<text x="{pad_l - 4}" y="{y(level) + 3:.1f}" font-size="9" fill="#999" text-anchor="end">'
            f"{level:.0%}</text>"
            f'<text x="{x(level):.1f}" y="{pad_t + plot_h + 12}" font-size="9" fill="#999" '
            f'text-anchor="middle">{level:.0%}</text>'
        )
    body.append(
        f'<text x="{pad_l + plot_w / 2:.1f}" y="{height - 6}" font-size="10" fill="#555" '
        'text-anchor="middle">coverage: share of the runs meeting it that are in the box</text>'
        f'<text x="10" y="{pad_t + plot_h / 2:.1f}" font-size="10" fill="#555" text-anchor="middle" '
        f'transform="rotate(-90 10 {pad_t + plot_h / 2:.1f})">density: share of the box meeting it</text>'
    )
    t = d.trajectory
    points = [
        (i, float(c), float(s), int(r))
        for i, (c, s, r) in enumerate(zip(t["coverage"], t["density"], t["res_dim"], strict=True))
        if math.isfinite(c) and math.isfinite(s)
    ]
    if points:
        line = " ".join(f"{x(c):.1f},{y(s):.1f}" for _, c, s, _ in points)
        body.append(f'<polyline points="{line}" fill="none" stroke="#9ab" stroke-width="1"/>')
    for i, c, s, r in points:
        body.append(
            f'<circle cx="{x(c):.1f}" cy="{y(s):.1f}" r="3" fill="{charts.SETUP_COLOURS[0]}">'
            f"<title>box {i}: coverage {c:.0%}, density {s:.0%}, {r} input{'s' if r != 1 else ''} "
            "restricted</title></circle>"
        )
    b = d.box
    cx, cy = x(float(b["coverage"])), y(float(b["density"]))
    anchor, dx = ("end", -10) if cx > pad_l + plot_w * 0.6 else ("start", 10)
    body.append(
        f'<circle class="chosen-box" cx="{cx:.1f}" cy="{cy:.1f}" r="8" fill="none" '
        f'stroke="{charts.SETUP_COLOURS[1]}" stroke-width="2"/>'
        f'<text x="{cx + dx:.1f}" y="{cy + 16:.1f}" font-size="10" fill="{charts.SETUP_COLOURS[1]}" '
        f'text-anchor="{anchor}">chosen: box {d.chosen}</text>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Peeling trajectory" style="width:100%;max-width:{width}px;height:auto;{charts.FONT}">'
        + "".join(body)
        + "</svg>"
    )


# ------------------------------------------------------------------------------------- the views

COLUMNS = ("Input", "The box keeps", "Sampled in the experiment", "Your set-up", "In the box?")
INSIDE_WORDS = {True: "inside", False: "outside", None: "-"}
INSIDE_CLASS = {True: "limit-in", False: "limit-out", None: "limit-unknown"}


@solara.component
def DiscoveryView(path: str, experiment: Any, setup: Setup | None = None):
    """The stored discoveries of ``experiment`` in the file at ``path``: nothing where there are none.
    ``setup``: the browser session's Explore set-up, placed in the chosen box (without it, a line saying
    to open Explore)."""
    shelf = solara.use_memo(lambda: read_discoveries(Path(path), experiment), [path, experiment])
    chosen = solara.use_reactive("")
    draft = setup.draft.value if setup is not None else None
    flat, why_not = solara.use_memo(lambda: setup_flat(setup), [draft, setup is None])
    with solara.Div(classes=["discoveries"]):
        if shelf.empty:
            return
        solara.Text(HEADING, classes=["browse-heading", "discovery-heading"])
        solara.Text(INTRO, classes=["section-intro"])
        if shelf.problem:
            solara.Text(shelf.problem, classes=["field-problem", "discovery-problem"])
            return
        if shelf.unreadable:
            solara.Text(skipped_line(shelf.unreadable), classes=["field-problem", "discovery-skipped"])
        if not shelf.found:
            return
        titles = {f.title: f for f in shelf.found}
        current = chosen.value if chosen.value in titles else shelf.found[-1].title  # the newest
        solara.Select(
            f"Condition ({len(titles)} kept for this experiment)",
            values=list(titles),
            value=current,
            on_value=lambda t: chosen.set(t or ""),
            classes=["discovery-select"],
        )
        FoundView(titles[current], flat, why_not)


@solara.component
def FoundView(found: Found, flat: Mapping[str, Any] | None, why_not: str = ""):
    """One discovery: its counts, its box input by input with the set-up's place in it, its trajectory."""
    d = found.discovery
    placings = solara.use_memo(lambda: place(d, flat), [found, flat])
    svg = solara.use_memo(lambda: trajectory_svg(d), [found])
    restricted = [p for p in placings if p.limit.restricted]
    free = [p for p in placings if not p.limit.restricted]
    solara.Text(counts_line(found), classes=["discovery-counts"])
    solara.Text(box_line(d), classes=["discovery-box"])
    if flat is None:
        solara.Text(why_not, classes=["discovery-verdict", "unplaced"])
    else:
        kind, line = verdict(d, placings)
        solara.Text(line, classes=["discovery-verdict", kind])
        beyond = beyond_line(placings)
        if beyond:
            solara.Text(beyond, classes=["discovery-beyond"])
    with solara.Div(classes=["discovery"]):
        with solara.Div(classes=["box-limits"]):
            for column in COLUMNS:
                solara.Text(column, classes=["box-head"])
            for p in restricted:
                with solara.Div(classes=["box-input"]):
                    solara.Text(p.name)
                    if p.name != p.limit.name:
                        solara.Text(plain(p.limit.name, 80), classes=["box-key"])
                solara.Text(p.keeps, classes=["box-keeps"])
                solara.Text(p.sampled, classes=["box-sampled"])
                solara.Text(p.value or "-", classes=["box-value"])
                solara.Text(INSIDE_WORDS[p.inside], classes=["box-inside", INSIDE_CLASS[p.inside]])
        with solara.Div(classes=["trajectory"]):
            Svg(svg, classes=["trajectory-chart"])
            solara.Text(
                f"PRIM's peeling trajectory: each point a box, from all the runs (coverage 100%) to the "
                f"smallest; the ring marks the chosen one, box {d.chosen} (the densest that keeps at least "
                f"{MIN_COVERAGE:.0%} of the runs meeting the condition).",
                classes=["slider-hint"],
            )
    if not restricted:
        solara.Text("The box restricts no input.", classes=["discovery-free"])
    if free:
        solara.Text(f"Not restricted: {', '.join(p.name for p in free)}.", classes=["discovery-free"])
    for note in d.notes:
        solara.Text(f"Note: {plain(note, 300)}", classes=["discovery-note"])
