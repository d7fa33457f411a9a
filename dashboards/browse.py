"""Browse stored results: open a results file from ``coprod sweep``, read each experiment's answer to
"which design, under which theory of change, does best" (the report's ranking, with 95% intervals), pick a
run by its design, theory, city and seed, see its curves, and open it in Explore to watch it again.

The numbers and the figure are the report's own (``coprod analyze``): :func:`experiments.summary.summary`
over the done runs, ranked by :func:`experiments.report_ranking.rank`, drawn by
:func:`experiments.report_figures.forest_plot`; nothing here computes a statistic.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any, cast

import numpy as np
import solara
from coprod.dashboards import charts
from coprod.dashboards.choices import TITLES, Draft, label_of
from coprod.dashboards.discovery_view import DiscoveryView
from coprod.dashboards.results import (
    FOLDER_VARIABLE,
    ResultsError,
    ResultsFile,
    StoredRun,
    allowed_folder,
    databases,
    resolve,
)
from coprod.dashboards.session import Setup, from_stored
from coprod.dashboards.widgets import Prose, Svg
from coprod.dashboards.workshops_view import WorkshopsView
from coprod.experiments.plots import _colours, _designs
from coprod.experiments.report_figures import FOREST_ROWS, forest_plot
from coprod.experiments.report_labels import FAMILIES, direction, label, ranked, value_label
from coprod.experiments.report_ranking import Ranking, interval, rank
from coprod.experiments.store import Store, StoreError, design_position
from coprod.experiments.stored_runs import load_runs
from coprod.experiments.summary import summary
from coprod.model import CONSENSUS, DESIGN_PRESETS, MARKERS, OUTPUTS, QUALITIES, RISKS, THEORY_PRESETS

SHOWN_PARAMETERS = ("population.residents", "run.seed", "run.steps")


def open_runs(name: str):
    """(path, runs, problem): the runs stored in the file ``name`` names, or a message saying why not."""
    if not name.strip():
        return None, [], None
    try:
        path = resolve(name)
        with ResultsFile(path) as results:
            return path, results.runs(), None
    except ResultsError as err:
        return None, [], str(err)


def read_run(path: Path, run):
    """((months, series), params, problem): a stored run's curves and settings, or a message saying why
    they cannot be read."""
    try:
        with ResultsFile(path) as results:
            return results.curves(run), results.params(run), None
    except ResultsError as err:
        return (np.zeros(0), {}), {}, str(err)


def setting_line(params: dict) -> str:
    """The stored run's design, theory and a few settings, in the page's words."""
    parts = []
    if params.get("design.kind") in DESIGN_PRESETS:
        parts.append(DESIGN_PRESETS[params["design.kind"]]["label"])
    if params.get("theory.kind") in THEORY_PRESETS:
        parts.append(THEORY_PRESETS[params["theory.kind"]]["label"].lower())
    parts += [f"{label_of(key).lower()}: {params[key]}" for key in SHOWN_PARAMETERS if key in params]
    return " · ".join(parts)


# ------------------------------------------------------------------------------------- readable runs

# factors a run key names that the label already says another way
_SAID = ("design.kind", "theory.kind", "seed", "rep", "sample")


def run_label(run: StoredRun) -> str:
    """A run in words: design and theory by their names, any other factor its key names, the city, the
    replication and the seed; the status where the run did not finish."""
    parts = [
        value_label("design", run.design, short=True) if run.design else f"{run.scenario}",
        value_label("theory", run.theory) if run.theory else "",
    ]
    pieces = str(run.run_key).split("/")
    for piece in pieces[1:]:
        for pair in piece.split(","):
            key, equals, value = pair.partition("=")
            if equals and key not in _SAID:
                parts.append(f"{TITLES.get(key, key)} {value}")
    if run.city:
        parts.append(run.city)
    sample, rep = design_position(str(run.run_key))
    if sample is not None:
        parts.append(f"sample {sample}")
    if rep is not None:
        parts.append(f"replication {rep + 1}")
    parts.append(f"seed {run.seed}")
    status = "" if run.status == "done" else f" ({run.status})"
    return " · ".join(p for p in parts if p) + status


def run_labels(runs: list[StoredRun]) -> dict[str, StoredRun]:
    """Label -> run, each label once (a second run with the same words gets its number)."""
    labels: dict[str, StoredRun] = {}
    for run in runs:
        text, n = run_label(run), 1
        while text in labels:
            n += 1
            text = f"{run_label(run)} [{n}]"
        labels[text] = run
    return labels


def experiment_labels(runs: list[StoredRun]) -> dict[str, Any]:
    """Label -> experiment name, in the file's order, each with its count of runs (and its city)."""
    counts: dict[Any, int] = {}
    cities: dict[Any, str] = {}
    for run in runs:
        counts[run.experiment] = counts.get(run.experiment, 0) + 1
        cities.setdefault(run.experiment, run.city)
    labels = {}
    for name, n in counts.items():
        city = f", {cities[name]}" if cities[name] else ""
        labels[f"{name} ({n} run{'s' if n != 1 else ''}{city})"] = name
    return labels


# ---------------------------------------------------------------------------------- the report's view


@dataclass(frozen=True, eq=False)
class Aggregate:
    """An experiment's summary as the report makes it: one row per cell (design x theory of change, and
    any other listed factor), with each output's mean and 95% interval over the cell's done runs."""

    cols: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    month: int | None = None
    colours: dict[str, Any] = field(default_factory=dict)
    done: int = 0
    planned: int = 0
    problem: str = ""


def aggregate(path: Path, experiment: Any) -> Aggregate:
    """The report's summary of ``experiment`` in the results file at ``path`` (read-only), or why not."""
    try:
        with Store.existing(path) as store:
            runs = load_runs(store, experiment)
    except StoreError as err:
        return Aggregate(problem=f"The summary of this experiment cannot be made: {err}")
    cols, rows = summary(runs, OUTPUTS)
    planned = runs.definition.get("runs")
    done = runs.counts.get("done", 0)
    return Aggregate(
        cols,
        rows,
        int(runs.steps[-1]) if len(runs.steps) else None,
        _colours(_designs(runs)),
        done,
        planned if isinstance(planned, int) else sum(runs.counts.values()),
    )


def ranked_outputs() -> dict[str, str]:
    """Choice -> output, for every output with a better direction, in the report's order of families."""
    return {f"{label(o)} ({direction(o)})": o for _, outputs in FAMILIES for o in outputs if ranked(o)}


def ranking_table(r: Ranking) -> str:
    """The ranked cells as an HTML table (best first, at most :data:`FOREST_ROWS`); every stored text
    escaped."""
    head = "<tr><th>#</th><th>Design / theory of change</th><th>Runs</th><th>Mean [95% CI]</th></tr>"
    body = []
    for i, c in enumerate(r.cells[:FOREST_ROWS]):
        best = " class='clear-best'" if i == 0 and r.clear else ""
        body.append(
            f"<tr{best}><td class='number'>{i + 1}</td><td title='{escape(c.label)}'>{escape(c.short)}</td>"
            f"<td class='number'>{c.n}</td><td class='number'>{escape(interval(c))}</td></tr>"
        )
    return f"<table class='readings ranking-table'>{head}{''.join(body)}</table>"


def notes(agg: Aggregate, r: Ranking) -> list[str]:
    """What a reader of the ranking must know: runs not done, cells left out or cut, zero-wide intervals."""
    out = []
    if agg.done < agg.planned:
        out.append(f"{agg.done} of {agg.planned} planned runs are done; the numbers use those only.")
    if r.left_out:
        out.append(f"{r.left_out} of {len(agg.rows)} cells have no finite value and are left out.")
    if len(r.cells) > FOREST_ROWS:
        out.append(f"The table and the plot show the best {FOREST_ROWS} of {len(r.cells)} cells.")
    out += [f"{z}." for z in r.zero]
    return out


def forest_html(agg: Aggregate | None, r: Ranking | None) -> str:
    """The report's forest plot of ``r`` as an inline image; "" where there is nothing to draw."""
    if agg is None or r is None or agg.month is None or not r.cells:
        return ""
    png = forest_plot(r, agg.month, agg.colours)
    data = base64.b64encode(png).decode()
    return f"<img alt='{escape(label(r.output))}: ranked' src='data:image/png;base64,{data}'>"


# ----------------------------------------------------------------------------------------- the views

WIDE = {"flex": "1 1 0", "min-width": "0"}  # a field sharing its row equally


@solara.component
def Browse(on_open: Callable[[Draft, str], None] | None = None, setup: Setup | None = None):
    """``on_open`` (the page's): put a draft into Explore and switch to it; without it, no Open button.
    ``setup`` (the page's): Explore's set-up, placed in a stored scenario discovery's box; without it the
    discovery says to open Explore."""
    folder = allowed_folder()
    refresh = solara.use_reactive(0)
    files = solara.use_memo(lambda: databases(folder), [str(folder), refresh.value])
    name = solara.use_reactive(files[0] if len(files) == 1 else "")
    path, runs, problem = solara.use_memo(lambda: open_runs(name.value), [name.value, refresh.value])
    chosen = solara.use_reactive("")
    experiment = solara.use_reactive(cast(Any, None))
    experiments = solara.use_memo(lambda: experiment_labels(runs), [runs])
    names = list(experiments.values())
    current = experiment.value if experiment.value in names else (names[0] if names else None)
    mine = [run for run in runs if run.experiment == current]
    titles = solara.use_memo(lambda: run_labels(mine), [runs, current])
    output = solara.use_reactive(CONSENSUS[0])

    def pick_file(n: str | None) -> None:
        name.set(n or "")
        chosen.set("")
        experiment.set(None)

    with solara.Card("Stored results", margin=0, classes=["browse"]):
        Prose(
            [
                "Results files written by <code>coprod sweep</code> or <code>coprod run --db</code> are "
                f"read, never changed, from <code>{escape(str(folder))}</code> (set "
                f"<code>{FOLDER_VARIABLE}</code> before starting the dashboard to use another folder)."
            ]
        )
        with solara.Row(style={"align-items": "center"}):
            if files:
                with solara.Div(style=WIDE):
                    solara.Select(
                        "Results file",
                        values=files,
                        value=name.value if name.value in files else None,
                        on_value=pick_file,
                    )
            with solara.Div(style=WIDE):
                solara.InputText(
                    "…or type the file's name inside that folder",
                    value=name.value,
                    on_value=pick_file,
                    error=problem or False,
                    continuous_update=False,
                    classes=["results-name"],
                )
            solara.Button(
                "Look again",
                on_click=lambda: refresh.set(refresh.value + 1),
                text=True,
                icon_name="mdi-refresh",
            )
        if not files and not name.value:
            solara.Text("No results files there yet. `coprod sweep EXPERIMENT` writes one.")
        if path is None:
            return
        WorkshopsView(str(path))
        if not runs:
            solara.Text("This file holds no runs of experiments yet.")
            return
        shown = next(k for k, v in experiments.items() if v == current)
        choices = ranked_outputs()
        with solara.Row(style={"align-items": "center"}):
            with solara.Div(style=WIDE):
                solara.Select(
                    f"Experiment ({len(experiments)} in this file)",
                    values=list(experiments),
                    value=shown,
                    on_value=lambda label: (experiment.set(experiments.get(label)), chosen.set("")),
                    classes=["experiment-select"],
                )
            with solara.Div(style=WIDE):
                solara.Select(
                    "Output to rank",
                    values=list(choices),
                    value=next(k for k, v in choices.items() if v == output.value),
                    on_value=lambda c: c in choices and output.set(choices[c]),
                    classes=["output-select"],
                )
        ExperimentView(str(path), current, output.value)
        DiscoveryView(str(path), current, setup)
        solara.Text("One run", classes=["browse-heading"])
        solara.Select(
            f"Run ({len(mine)} in this experiment)",
            values=list(titles),
            value=chosen.value if chosen.value in titles else None,
            on_value=lambda t: chosen.set(t or ""),
            classes=["run-select"],
        )
        if chosen.value in titles:
            StoredRunView(str(path), titles[chosen.value], on_open, name.value)


@solara.component
def ExperimentView(path: str, experiment: Any, output: str = CONSENSUS[0]):
    """The report's answer for one experiment and one output: the ranked cells with their 95% intervals,
    as a table and as the report's forest plot, and the verdict on the best. Reading the runs and drawing
    the plot take a moment (the first time, seconds): both run in a thread, the page says so meanwhile."""
    reading = solara.use_thread(
        lambda: aggregate(Path(path), experiment), dependencies=[path, experiment], intrusive_cancel=False
    )
    agg = reading.value if reading.state == solara.ResultState.FINISHED else None
    ranking = solara.use_memo(
        lambda: rank(agg.cols, agg.rows, output) if agg and not agg.problem else None,
        [agg, output],
    )
    drawing = solara.use_thread(
        lambda: forest_html(agg, ranking), dependencies=[agg, output], intrusive_cancel=False
    )
    solara.Text(
        f"Which design, under which theory of change, does best on {label(output).lower()}?",
        classes=["browse-heading"],
    )
    if reading.state == solara.ResultState.ERROR:
        solara.Text(
            f"The summary of this experiment cannot be made: {reading.error}",
            classes=["field-problem", "aggregate-problem"],
        )
        return
    if agg is None or ranking is None:
        if agg is not None and agg.problem:
            solara.Text(agg.problem, classes=["field-problem", "aggregate-problem"])
        else:
            solara.Text("Reading the experiment's runs…", classes=["section-intro", "aggregate-reading"])
        return
    month = f"month {agg.month}" if agg.month is not None else "the last month"
    solara.Text(
        f"{label(output)}, {direction(output)}: each cell's mean over its done runs at {month} with its 95% "
        "confidence interval (Student's t), best first. A cell is clearly best only where its interval "
        "clears the next best's. The numbers of the report `coprod analyze` writes.",
        classes=["section-intro"],
    )
    verdict = ranking.verdict[:1].upper() + ranking.verdict[1:]
    solara.Text(f"{verdict}.", classes=["ranking-verdict"])
    with solara.Div(classes=["ranking"]):
        solara.HTML(tag="div", unsafe_innerHTML=ranking_table(ranking), classes=["ranking-cells"])
        if drawing.state == solara.ResultState.FINISHED and drawing.value:
            solara.HTML(tag="div", unsafe_innerHTML=drawing.value, classes=["forest"])
        elif drawing.state != solara.ResultState.FINISHED:
            solara.Text("Drawing the plot…", classes=["section-intro"])
    for note in notes(agg, ranking):
        solara.Text(note, classes=["ranking-note"])


@solara.component
def StoredRunView(
    path: str, run: StoredRun, on_open: Callable[[Draft, str], None] | None = None, where: str = ""
):
    (months, series), params, problem = solara.use_memo(lambda: read_run(Path(path), run), [path, run])
    refused = solara.use_reactive("")

    def open_run() -> None:
        source = f"{where or Path(path).name} ({run.experiment}): {run_label(run)}"
        loaded = from_stored(run, params, source)
        refused.set(loaded.problem)
        if loaded.ok and on_open is not None:
            on_open(loaded.draft, loaded.source)

    if problem:
        solara.Text(problem, classes=["field-problem", "stored-problem"])
        return
    solara.Text(setting_line(params), style={"font-size": "0.85rem", "color": "#444"})
    if on_open is not None:
        with solara.Row(gap="8px", style={"align-items": "center"}):
            solara.Button(
                "Open this run in Explore",
                on_click=open_run,
                color="primary",
                outlined=True,
                icon_name="mdi-open-in-app",
                classes=["open-in-explore"],
            )
            solara.Text(
                "Explore then runs this set-up with this seed, month by month, as it was computed.",
                classes=["slider-hint"],
            )
        if refused.value:
            solara.Text(refused.value, classes=["field-problem", "open-problem"])
    if len(months) == 0:
        solara.Text("This run has no recorded months (it may have failed).")
        return
    trace = charts.Trace(run.scenario, months, series, charts.SETUP_COLOURS[0])
    horizon = int(months.max())
    solara.Text("Progress markers", style={"font-weight": "600"})
    Svg(charts.marker_lines([trace], horizon, MARKERS), classes=["stored-markers"])
    solara.Text("Consensus bias, just coproduction and risks", style={"font-weight": "600"})
    Svg(charts.marker_lines([trace], horizon, CONSENSUS + QUALITIES + RISKS), classes=["stored-others"])
