"""Reliability: reproducibility as a promise. A stored run carries what reproduces it (parameters, seed,
code version, scenario hash); ``coprod rerun`` reproduces it exactly; other code, or parameters edited after
the run, are detected and reported, and a sweep never mixes results from different code."""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from coprod.experiments.design import load_experiment
from coprod.experiments.store import Store, scenario_hash
from coprod.model import OUTPUTS, code_version

from coprod.cli import main

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "experiments" / "smoke.toml"
COPROD = str(Path(sys.executable).parent / "coprod")
KEYS = [  # a few runs of the smoke experiment: different designs, theories and replications
    "top_down_consultation/theory.kind=incremental/rep=0",
    "action_research_cooperative/theory.kind=structural/rep=1",
    "co_financed_partnership/theory.kind=incremental/rep=2",
]
STEPS = 7  # smoke.toml: steps 0, 4, ..., 24


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("smoke") / "smoke.db"
    assert main(["sweep", str(SMOKE), "--db", str(db), "--workers", "2"]) == 0
    return db


def _contents(db: Path) -> tuple[list, list]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        runs = conn.execute("SELECT * FROM runs ORDER BY run_key").fetchall()
        steps = conn.execute("SELECT * FROM steps ORDER BY run_key, step").fetchall()
    return runs, steps


def test_each_stored_run_carries_what_reproduces_it(smoke):
    planned = {r.key: r for r in load_experiment(SMOKE).runs}
    with Store(smoke) as store:
        runs = store.runs_of("smoke")
        recorded = store.experiment("smoke")
    assert len(runs) == len(planned) == 30
    for row in runs:
        params = json.loads(row["params"])
        assert row["code_version"] == code_version()
        assert row["scenario_hash"] == scenario_hash(params) and len(row["scenario_hash"]) == 16
        assert params == planned[row["run_key"]].params  # every parameter, not only the varied ones
        assert params["run.seed"] == row["seed"] == planned[row["run_key"]].seed
    assert recorded["code_version"] == code_version()
    assert recorded["definition"]["root_seed"] == 20240601
    assert recorded["definition"]["fingerprint"]


@pytest.mark.parametrize("key", KEYS)
def test_rerun_reproduces_a_smoke_run_exactly(key, smoke, capsys):
    assert main(["rerun", "--db", str(smoke), key]) == 0
    out = capsys.readouterr().out
    assert f"identical: {STEPS} stored steps x {len(OUTPUTS)} outputs reproduced exactly" in out
    assert "mismatch" not in out


def test_rerun_through_the_installed_command(smoke):
    proc = subprocess.run(
        [COPROD, "rerun", "--db", str(smoke), "--experiment", "smoke", KEYS[1]],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"stored by {code_version()}" in proc.stdout
    assert "identical: " in proc.stdout


def test_other_code_is_reported_by_rerun_and_refused_by_a_resumed_sweep(smoke, tmp_path, capsys):
    db = tmp_path / "older.db"
    shutil.copy(smoke, db)
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE runs SET code_version = '0.0.1+older' WHERE run_key = ?", [KEYS[0]])
        conn.execute("DELETE FROM steps WHERE run_key = ?", [KEYS[2]])  # a run still to do on resume
        conn.execute("DELETE FROM runs WHERE run_key = ?", [KEYS[2]])
    before = _contents(db)
    capsys.readouterr()

    assert main(["rerun", "--db", str(db), KEYS[0]]) == 0  # the outputs still agree: said so, and why
    out = capsys.readouterr().out
    assert f"code version mismatch: the run was stored by 0.0.1+older, this code is {code_version()}" in out
    assert "identical: " in out

    assert main(["sweep", str(SMOKE), "--db", str(db), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert "has runs from model code version 0.0.1+older" in err
    assert "results from different code never mix" in err
    assert _contents(db) == before  # nothing added, nothing changed


def test_parameters_edited_after_the_run_are_detected(smoke, tmp_path, capsys):
    db = tmp_path / "edited.db"
    shutil.copy(smoke, db)
    with Store(db) as store:
        params = json.loads(store.run("smoke", KEYS[1])["params"])
    params["design.facilitation"] = 0.123
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE runs SET params = ? WHERE run_key = ?", [json.dumps(params), KEYS[1]])
    capsys.readouterr()
    assert main(["rerun", "--db", str(db), KEYS[1]]) == 1
    out = capsys.readouterr().out
    assert f"scenario hash mismatch: the stored parameters hash to {scenario_hash(params)}" in out
    assert "they were changed after the run" in out

    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE runs SET params = 'not json' WHERE run_key = ?", [KEYS[1]])
    assert main(["rerun", "--db", str(db), KEYS[1]]) == 2
    assert capsys.readouterr().err.strip() == (
        f"{db}: run {KEYS[1]!r}: its stored parameters are not a JSON object"
    )
