"""`coprod run` on good input: every design file with every theory, the JSON object, the table, --db."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import pytest
from coprod.model import OUTPUTS, THEORY_PRESETS, load_scenario, simulate

from coprod.cli import main

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))


@pytest.mark.parametrize("theory", sorted(THEORY_PRESETS))
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_design_file_runs_with_every_theory(path, theory, capsys):
    code = main(["run", str(path), "--steps", "3", "--seed", "1", "--set", f"theory.kind={theory}", "--json"])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    result = json.loads(out)
    assert list(result) == ["scenario", "seed", "steps", "outputs"]
    assert (result["scenario"], result["seed"], result["steps"]) == (path.stem, 1, 3)
    assert list(result["outputs"]) == list(OUTPUTS)
    assert all(math.isfinite(v) for v in result["outputs"].values())
    expected = simulate(load_scenario(path, {"theory.kind": theory, "run.steps": 3, "run.seed": 1}))[-1]
    assert result["outputs"] == {k: expected[k] for k in OUTPUTS}


def test_table_shows_the_seed_and_every_output_at_start_and_end(capsys):
    path = ROOT / "scenarios" / "citizens_assembly.toml"
    assert main(["run", str(path), "--steps", "4", "--seed", "7"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "seed 7, 4 months" in lines[0]
    assert lines[1].split() == ["output", "start", "month", "1", "month", "4"]
    final = simulate(load_scenario(path, {"run.steps": 4, "run.seed": 7}))[-1]
    shown = {line.split()[0]: float(line.split()[-1]) for line in lines[2:]}
    assert list(shown) == list(OUTPUTS)
    assert all(shown[k] == pytest.approx(final[k], abs=5e-4) for k in OUTPUTS)


def test_db_appends_one_run_with_its_steps_and_timings(tmp_path, capsys):
    db = tmp_path / "runs.db"
    path = ROOT / "scenarios" / "top_down_consultation.toml"
    for seed in ("1", "2", "1"):  # the same run again replaces itself
        assert main(["run", str(path), "--steps", "5", "--seed", seed, "--db", str(db)]) == 0
    assert f"recorded in {db}" in capsys.readouterr().out
    with sqlite3.connect(db) as conn:
        runs = conn.execute(
            "SELECT seed, status, seconds, started, finished FROM runs ORDER BY seed"
        ).fetchall()
        steps = conn.execute("SELECT COUNT(*), COUNT(DISTINCT run_key) FROM steps").fetchone()
    conn.close()
    assert [(r[0], r[1]) for r in runs] == [(1, "done"), (2, "done")]
    assert all(r[2] > 0 and r[3] <= r[4] for r in runs)
    assert steps == (2 * 6, 2)  # months 0 to 5, per run
