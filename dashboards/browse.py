"""Browse stored results: open a results file from ``coprod sweep``, pick a run, see its curves."""

from __future__ import annotations

from html import escape
from pathlib import Path

import numpy as np
import solara
from coprod.dashboards import charts
from coprod.dashboards.choices import label_of
from coprod.dashboards.results import (
    FOLDER_VARIABLE,
    ResultsError,
    ResultsFile,
    allowed_folder,
    databases,
    resolve,
)
from coprod.dashboards.widgets import Prose, Svg
from coprod.model import CONSENSUS, DESIGN_PRESETS, MARKERS, QUALITIES, RISKS, THEORY_PRESETS

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


@solara.component
def Browse():
    folder = allowed_folder()
    refresh = solara.use_reactive(0)
    files = solara.use_memo(lambda: databases(folder), [str(folder), refresh.value])
    name = solara.use_reactive(files[0] if len(files) == 1 else "")
    path, runs, problem = solara.use_memo(lambda: open_runs(name.value), [name.value, refresh.value])
    chosen = solara.use_reactive("")

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
                solara.Select(
                    "Results file",
                    values=files,
                    value=name.value if name.value in files else None,
                    on_value=lambda n: (name.set(n or ""), chosen.set("")),
                )
            solara.Button(
                "Look again",
                on_click=lambda: refresh.set(refresh.value + 1),
                text=True,
                icon_name="mdi-refresh",
            )
        solara.InputText(
            "…or type the file's name inside that folder",
            value=name.value,
            on_value=lambda n: (name.set(n), chosen.set("")),
            error=problem or False,
            continuous_update=False,
            classes=["results-name"],
        )
        if not files and not name.value:
            solara.Text("No results files there yet. `coprod sweep EXPERIMENT` writes one.")
        if path is not None:
            titles = {run.title: run for run in runs}
            solara.Select(
                f"Run ({len(runs)} in this file)",
                values=list(titles),
                value=chosen.value or None,
                on_value=lambda t: chosen.set(t or ""),
            )
            if chosen.value in titles:
                StoredRunView(str(path), titles[chosen.value])


@solara.component
def StoredRunView(path: str, run):
    (months, series), params, problem = solara.use_memo(lambda: read_run(Path(path), run), [path, run])
    if problem:
        solara.Text(problem, classes=["field-problem", "stored-problem"])
        return
    if len(months) == 0:
        solara.Text("This run has no recorded months (it may have failed).")
        return
    trace = charts.Trace(run.scenario, months, series, charts.SETUP_COLOURS[0])
    horizon = int(months.max())
    solara.Text(setting_line(params), style={"font-size": "0.85rem", "color": "#444"})
    solara.Text("Progress markers", style={"font-weight": "600"})
    Svg(charts.marker_lines([trace], horizon, MARKERS), classes=["stored-markers"])
    solara.Text("Consensus bias, just coproduction and risks", style={"font-weight": "600"})
    Svg(charts.marker_lines([trace], horizon, CONSENSUS + QUALITIES + RISKS), classes=["stored-others"])
