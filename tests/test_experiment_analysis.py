"""The analysis: confidence intervals, the Sobol and Morris wiring on functions with known indices, and
the report written from a real (tiny) sweep."""

from __future__ import annotations

import csv
import html
import json
import math
import re
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from coprod.experiments.design import load_experiment
from coprod.experiments.report_labels import KEY_OUTPUTS, direction, label, ranked
from coprod.experiments.sensitivity import sensitivity
from coprod.experiments.stored_runs import Runs, load_runs, run_info
from coprod.experiments.summary import mean_ci
from coprod.model import CONSENSUS, MARKERS, OUTPUTS, QUALITIES, RISKS
from scipy import stats

from coprod.cli import main

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "experiments_fixtures"

# Ishigami (a = 7, b = 0.1) on [-pi, pi]^3: the analytic indices (Ishigami and Homma 1990; Sobol' 2001)
ISHIGAMI_S1 = np.array([0.3139, 0.4424, 0.0])
ISHIGAMI_ST = np.array([0.5576, 0.4424, 0.2437])


def ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def _experiment(tmp_path: Path, sampler: str, factors: list[str]) -> object:
    text = f"""
name = "known"
scenarios = "{ROOT}/scenarios/citizens_assembly.toml"
root_seed = 2024
outputs = ["consensus_bias", "lock_in"]
[sampler]
{sampler}
[factors]
""" + "\n".join(f'"{f}" = {{}}' for f in factors)
    path = tmp_path / "known.toml"
    path.write_text(text)
    return load_experiment(path)


def _runs_with(experiment, y: np.ndarray, shuffle_seed: int) -> Runs:
    """A Runs whose consensus_bias at the final step is ``y`` (lock_in constant), rows in shuffled order:
    the wiring must find each value by its run key, not by its position."""
    definition = json.loads(json.dumps(experiment.definition()))  # as stored in, and read from, SQLite
    order = np.random.default_rng(shuffle_seed).permutation(len(experiment.runs))
    info = [
        run_info(experiment.runs[i].key, experiment.runs[i].base, experiment.runs[i].params) for i in order
    ]
    values = {name: np.zeros((len(order), 1)) for name in OUTPUTS}
    values["consensus_bias"][:, 0] = y[order]
    return Runs("known", definition, info, np.array([12]), values, {"done": len(order)})


def test_sobol_wiring_recovers_the_ishigami_indices(tmp_path):
    keys = ["context.inequality", "context.baseline_trust", "context.state_capacity"]
    experiment = _experiment(tmp_path, 'kind = "sobol"\nn = 1024', keys)
    assert len(experiment.runs) == 1024 * (3 + 2)
    unit = np.array([[r.params[k] for k in keys] for r in experiment.runs])  # each factor spans [0, 1]
    y = ishigami(-np.pi + 2 * np.pi * unit)
    rows, notes = sensitivity(_runs_with(experiment, y, shuffle_seed=1))
    assert notes == ["citizens_assembly: lock_in does not vary across the sample; no indices"]
    got = {r["factor"]: r for r in rows if r["output"] == "consensus_bias"}
    assert list(got) == keys
    for key, s1, st in zip(keys, ISHIGAMI_S1, ISHIGAMI_ST, strict=True):
        r = got[key]
        assert abs(r["S1"] - s1) <= r["S1_conf"], (key, r)
        assert abs(r["ST"] - st) <= r["ST_conf"], (key, r)
        assert 0 < r["S1_conf"] < 0.1 and 0 < r["ST_conf"] < 0.1


def test_morris_wiring_ranks_a_linear_function(tmp_path):
    keys = ["design.facilitation", "context.inequality", "context.state_capacity"]
    experiment = _experiment(tmp_path, 'kind = "morris"\nn = 10\nlevels = 4', keys)
    assert len(experiment.runs) == 10 * (3 + 1)
    x = np.array([[r.params[k] for k in keys] for r in experiment.runs])
    rows, _ = sensitivity(_runs_with(experiment, 10 * x[:, 0] + 1 * x[:, 1], shuffle_seed=2))
    mu_star = [r["mu_star"] for r in rows if r["output"] == "consensus_bias"]
    sigma = [r["sigma"] for r in rows if r["output"] == "consensus_bias"]
    assert mu_star == pytest.approx([10.0, 1.0, 0.0], abs=1e-9)
    assert sigma == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)


def test_mean_ci_is_the_student_t_interval():
    x = np.array([0.2, 0.35, 0.31, 0.5, 0.44])
    mean, lo, hi = mean_ci(x)
    expected = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert mean == pytest.approx(x.mean())
    assert (lo, hi) == pytest.approx(expected)
    one = mean_ci(np.array([0.3]))
    assert one[0] == 0.3 and math.isnan(one[1]) and math.isnan(one[2])


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("analysis") / "tiny.db"
    assert main(["sweep", str(FIXTURES / "tiny.toml"), "--db", str(db), "--workers", "1"]) == 0
    return db


def test_analyze_writes_tables_plots_and_a_self_contained_report(tiny_db, tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["analyze", "--db", str(tiny_db), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Consensus bias (lower is better)" in printed and "  1. Citizens' assembly / " in printed
    assert f"report: {out / 'report.html'}" in printed
    assert f"database: {tiny_db}" in printed
    assert "| design | theory | n | radical_change |" in (out / "summary.md").read_text()
    for name in (
        "summary.csv",
        "summary.md",
        "report.html",
        "over_time_markers.png",
        "radar_markers.png",
        "forest_consensus_bias.png",
    ):
        assert (out / name).stat().st_size > 0, name
    assert (out / "over_time_markers.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (out / "report.html").read_text()
    ranked = len(MARKERS) + len(CONSENSUS) + len(QUALITIES) + len(RISKS)
    time_figures = 4 + 4  # the ranked families, and the theories' signatures in four groups
    assert report.count("data:image/png;base64,") == ranked + time_figures + 1  # forests, time, radar
    assert "<h1>tiny</h1>" in report and '"root_seed": 11' in report

    with (out / "summary.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [(r["design"], r["theory"]) for r in rows] == [
        ("top_down_consultation", "incremental"),
        ("top_down_consultation", "structural"),
        ("citizens_assembly", "incremental"),
        ("citizens_assembly", "structural"),
    ]
    assert {r["n"] for r in rows} == {"3"}
    for name in OUTPUTS:  # every stored output, not only the headline ones
        assert f"{name}_mean" in rows[0] and f"{name}_ci_low" in rows[0]

    # one cell, recomputed straight from the database
    with sqlite3.connect(tiny_db) as conn:
        finals = [
            v
            for (v,) in conn.execute(
                "SELECT consensus_bias FROM steps WHERE step = 12 AND run_key LIKE "
                "'citizens_assembly/theory.kind=structural/rep=%' ORDER BY run_key"
            )
        ]
    assert len(finals) == 3
    mean, lo, hi = mean_ci(np.array(finals))
    cell = rows[3]
    assert float(cell["consensus_bias_mean"]) == pytest.approx(mean)
    assert float(cell["consensus_bias_ci_low"]) == pytest.approx(lo)
    assert float(cell["consensus_bias_ci_high"]) == pytest.approx(hi)


def test_analyze_a_missing_database_or_experiment_exits_2(tiny_db, tmp_path, capsys):
    missing = tmp_path / "none.db"
    assert main(["analyze", "--db", str(missing)]) == 2
    assert f"{missing}: no such results database" in capsys.readouterr().err
    assert not missing.exists()
    assert main(["analyze", "--db", str(tiny_db), "--experiment", "tiyn"]) == 2
    assert "no experiment 'tiyn'; did you mean tiny?" in capsys.readouterr().err


def test_the_report_shows_every_output_with_which_way_is_better_and_a_forest_plot(tiny_db, tmp_path):
    out = tmp_path / "report"
    assert main(["analyze", "--db", str(tiny_db), "--out", str(out)]) == 0
    report = (out / "report.html").read_text()
    for name in OUTPUTS:  # all of them, the risks and the parts of consensus bias too, in readable words
        assert f"<code>{name}</code>" in report, name
        assert html.escape(label(name)) in report, name
        if ranked(name):
            assert f"<h3>{html.escape(label(name))}: {direction(name)}</h3>" in report, name
            assert f"alt='{html.escape(label(name))}: ranked'" in report, name
            assert (out / f"forest_{name}.png").read_bytes()[:4] == b"\x89PNG", name
    assert report.count("higher is better</h3>") + report.count("lower is better</h3>") == 19
    assert "Clearly best?" in report and "no single best" in report
    assert "alt='Progress markers over time'" in report


def test_the_time_plots_have_a_panel_per_theory_and_a_line_per_design(tiny_db, monkeypatch):
    from coprod.experiments import report_figures
    from coprod.experiments.store import Store

    drawn = []
    monkeypatch.setattr(report_figures, "_png", lambda fig, dpi=None: drawn.append(fig) or b"")
    with Store.existing(tiny_db) as store:
        runs = load_runs(store, "tiny")
    report_figures.over_time_by_theory(runs, ("consensus_bias", "lock_in"), "title")
    (fig,) = drawn
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 2 * 2  # two outputs by the tiny sweep's two theories
    assert [ax.get_title() for ax in panels[:2]] == ["Incremental experiments", "Structural change"]
    for ax in panels:  # a line and a band per design, in every panel
        assert [line.get_label() for line in ax.get_lines()] == [
            "Top-down consultation",
            "Citizens' assembly",
        ]
        assert len(ax.collections) == 2
    for ax, theory in zip(panels[:2], ("incremental", "structural"), strict=True):  # that theory's runs only
        mine = [
            i for i, r in enumerate(runs.info) if r["theory"] == theory and r["design"] == "citizens_assembly"
        ]
        assert ax.get_lines()[1].get_ydata()[-1] == pytest.approx(runs.final("consensus_bias")[mine].mean())


def test_the_terminal_summary_ranks_the_key_outputs_in_100_columns(tiny_db, tmp_path, capsys):
    assert main(["analyze", "--db", str(tiny_db), "--out", str(tmp_path / "report")]) == 0
    printed = capsys.readouterr().out
    lines = printed.split("every output and cell:")[0].splitlines()  # then the paths, as long as they are
    assert max(len(line) for line in lines) <= 100, max(lines, key=len)
    for name in KEY_OUTPUTS:
        heading = next(
            i for i, line in enumerate(lines) if line.startswith(f"{label(name)} ({direction(name)})")
        )
        ranks = lines[heading + 1 : heading + 4]
        assert [r[:5] for r in ranks] == ["  1. ", "  2. ", "  3. "], ranks
        assert all(re.search(r"\d\.\d{3} \[-?\d\.\d{3}, -?\d\.\d{3}\]", r) for r in ranks), ranks
    assert len(lines) < 70  # short: the full table is in summary.md, whose path is printed
    assert f"every output and cell: {tmp_path / 'report' / 'summary.md'}" in printed
