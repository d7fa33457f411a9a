"""The results file's views show each run in plain columns (design, theory, replication, factors, final
outputs), so that Datasette needs no ``json_extract``."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from coprod.experiments.store import Store
from coprod.model import OUTPUTS

from coprod.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENT = """
name = "views"
scenarios = ["{scenario}"]
replications = 2
root_seed = 5
steps = 3
record_every = 2

[set]
"population.residents" = 100

[sampler]
kind = "grid"
levels = 2

[factors]
"theory.kind" = ["incremental", "structural"]
"context.inequality" = {{ low = 0.2, high = 0.4 }}
"""


def _query(path: Path, sql: str, args: tuple = ()) -> list[dict]:
    with closing(sqlite3.connect(path)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(sql, args)]


def _views(path: Path) -> set[str]:
    return {r["name"] for r in _query(path, "SELECT name FROM sqlite_master WHERE type = 'view'")}


@pytest.fixture(scope="module")
def swept(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("views")
    scenario = (ROOT / "scenarios" / "citizens_assembly.toml").as_posix()
    (folder / "views.toml").write_text(EXPERIMENT.format(scenario=scenario))
    db = folder / "views.db"
    assert main(["sweep", str(folder / "views.toml"), "--db", str(db), "--workers", "1"]) == 0
    return db


def test_a_sweeps_view_has_design_theory_replication_and_each_factor_as_plain_columns(swept):
    rows = _query(swept, "SELECT * FROM experiment_views")
    runs = {r["run_key"]: r for r in _query(swept, "SELECT run_key, params, seed FROM runs")}
    assert len(rows) == len(runs) == 8
    assert list(rows[0])[:11] == [
        "experiment",
        "run_key",
        "scenario",
        "design",
        "theory",
        "replication",
        "seed",
        "status",
        "theory.kind",
        "context.inequality",
        "final_step",
    ]
    assert list(rows[0])[11:] == list(OUTPUTS)
    for row in rows:
        params = json.loads(runs[row["run_key"]]["params"])
        assert (row["design"], row["theory"]) == ("citizens_assembly", params["theory.kind"])
        assert (row["theory.kind"], row["context.inequality"]) == (
            params["theory.kind"],
            params["context.inequality"],
        )
        assert row["run_key"].endswith(f"/rep={row['replication']}")
        assert (row["seed"], row["status"], row["final_step"]) == (runs[row["run_key"]]["seed"], "done", 3)
    assert {r["theory"] for r in rows} == {"incremental", "structural"}
    assert {r["replication"] for r in rows} == {0, 1}
    assert {r["context.inequality"] for r in rows} == {0.2, 0.4}


def test_the_views_final_outputs_are_the_last_recorded_step(swept):
    rows = _query(swept, "SELECT * FROM runs_flat")
    assert len(rows) == 8 and "context.inequality" not in rows[0]  # factors only in the experiment's view
    for row in rows:
        last = _query(
            swept, "SELECT * FROM steps WHERE run_key = ? ORDER BY step DESC LIMIT 1", (row["run_key"],)
        )[0]
        assert {name: row[name] for name in OUTPUTS} == {name: last[name] for name in OUTPUTS}
        assert row["final_step"] == last["step"]


def _record(store: Store, run_key: str, steps: int = 2, params: dict | None = None) -> None:
    store.record_run(
        experiment="e",
        run_key=run_key,
        scenario="s",
        params=params or {"design.kind": "citizens_assembly", "theory.kind": "knowledge"},
        seed=3,
        code_version="v",
        status="done" if steps else "failed",
        rows=[{"step": t, **dict.fromkeys(OUTPUTS, t / 10)} for t in range(steps)],
    )


def test_replication_comes_from_the_keys_last_part_and_a_run_without_steps_has_no_outputs(tmp_path):
    with Store(tmp_path / "r.db") as store:
        for key in ("a/rep=12", "b/seed=3/ab12", "c/rep=x", "d/rep=", "e/rep=1/f"):
            _record(store, key)
        _record(store, "f/rep=0", steps=0)
    rows = {r["run_key"]: r for r in _query(tmp_path / "r.db", "SELECT * FROM runs_flat")}
    assert {k: r["replication"] for k, r in rows.items()} == {
        "a/rep=12": 12,
        "b/seed=3/ab12": None,
        "c/rep=x": None,
        "d/rep=": None,
        "e/rep=1/f": None,
        "f/rep=0": 0,
    }
    assert (rows["a/rep=12"]["theory"], rows["a/rep=12"]["consensus_bias"]) == ("knowledge", 0.1)
    assert rows["f/rep=0"]["final_step"] is None and rows["f/rep=0"]["consensus_bias"] is None


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_older_file_gets_its_views_when_opened_for_writing_never_when_read(tmp_path):
    path = tmp_path / "old.db"
    with Store(path) as store:
        store.record_experiment("old.one", {"factors": [{"key": "context.inequality"}]}, 1, "v")
        _record(store, "a/rep=0")
    with closing(sqlite3.connect(path)) as conn, conn:  # as a file written before there were views
        conn.execute("DROP VIEW runs_flat")
        conn.execute('DROP VIEW "experiment_old.one"')
    before = _digest(path)
    with Store.existing(path) as store:
        assert store.keys("e") == {"a/rep=0"}
    assert (_views(path), _digest(path)) == (set(), before)
    Store(path).close()
    assert _views(path) == {"runs_flat", "experiment_old.one"}
    columns = [r["name"] for r in _query(path, "SELECT name FROM pragma_table_info('experiment_old.one')")]
    assert "context.inequality" in columns


def test_only_declared_parameters_from_a_stored_definition_become_columns(tmp_path):
    path = tmp_path / "r.db"
    hostile = 'a" FROM runs; DROP TABLE runs; --'
    with Store(path) as store:
        store.record_experiment("x", {"factors": [{"key": hostile}, {"key": "context.inequality"}]}, 1, "v")
        store.db["experiment_taken"].insert({"a": 1})  # someone's own table, named like a view
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("INSERT INTO experiments (name, definition) VALUES ('y', '[1, 2]'), ('taken', '{}')")
        conn.execute("INSERT INTO experiments (name, definition) VALUES (?, NULL), (NULL, '{}')", ["z\x00"])
    Store(path).close()
    columns = [r["name"] for r in _query(path, "SELECT name FROM pragma_table_info('experiment_x')")]
    assert "context.inequality" in columns and hostile not in columns
    assert "runs" in {r["name"] for r in _query(path, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert _views(path) == {"runs_flat", "experiment_x", "experiment_y"}
