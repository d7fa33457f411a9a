"""The analysis: confidence intervals, the Sobol and Morris wiring on functions with known indices, and
the report written from a real (tiny) sweep."""

from __future__ import annotations

import csv
import json
import math
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from coprod.cli import main
from experiments.analysis import Runs, mean_ci, run_info, sensitivity
from experiments.design import load_experiment
from model import MARKERS, OUTPUTS, QUALITIES

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
    assert "| design | theory | n | radical_change |" in printed
    assert f"report: {out / 'report.html'}" in printed
    assert f"database: {tiny_db}" in printed
    for name in (
        "summary.csv",
        "summary.md",
        "report.html",
        "markers_over_time.png",
        "radar_markers.png",
        "consensus_and_qualities_over_time.png",
    ):
        assert (out / name).stat().st_size > 0, name
    assert (out / "markers_over_time.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (out / "report.html").read_text()
    assert report.count("data:image/png;base64,") == 3
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
    for name in (*MARKERS, "consensus_bias", *QUALITIES):
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
