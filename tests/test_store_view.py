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
    assert list(rows[0])[:12] == [
        "experiment",
        "run_key",
        "scenario",
        "design",
        "theory",
        "sample",
        "replication",
        "seed",
        "status",
        "theory.kind",
        "context.inequality",
        "final_step",
    ]
    assert list(rows[0])[12:] == list(OUTPUTS)
    for row in rows:
        params = json.loads(runs[row["run_key"]]["params"])
        assert (row["design"], row["theory"]) == ("citizens_assembly", params["theory.kind"])
        assert (row["theory.kind"], row["context.inequality"]) == (
            params["theory.kind"],
            params["context.inequality"],
        )
        assert row["run_key"].endswith(f"/rep={row['replication']}") and row["sample"] is None  # a grid
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


def _record(store: Store, run_key: str, steps: int = 2, params: dict | None = None, **position) -> None:
    store.record_run(
        **position,
        experiment="e",
        run_key=run_key,
        scenario="s",
        params=params or {"design.kind": "citizens_assembly", "theory.kind": "knowledge"},
        seed=3,
        code_version="v",
        status="done" if steps else "failed",
        rows=[{"step": t, **dict.fromkeys(OUTPUTS, t / 10)} for t in range(steps)],
    )


def test_sample_and_replication_are_what_the_run_was_recorded_with_and_no_steps_no_outputs(tmp_path):
    with Store(tmp_path / "r.db") as store:
        _record(store, "a/rep=12", sample=4, replication=12)
        _record(store, "b/seed=3/ab12")  # coprod run --db: neither
        _record(store, "f/rep=0", steps=0, replication=0)
    rows = {r["run_key"]: r for r in _query(tmp_path / "r.db", "SELECT * FROM runs_flat")}
    assert {k: (r["sample"], r["replication"]) for k, r in rows.items()} == {
        "a/rep=12": (4, 12),
        "b/seed=3/ab12": (None, None),
        "f/rep=0": (None, 0),
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


def test_a_file_written_before_the_position_columns_is_read_as_it_is_and_migrated_when_written(tmp_path):
    from coprod.experiments.stored_runs import load_runs

    path = tmp_path / "old.db"
    keys = ("a/sample=00012/x=1/rep=3", "b/rep=12", "b/seed=3/ab12", "c/rep=x", "d/rep=", "e/rep=1/f")
    with Store(path) as store:
        store.record_experiment("e", {}, 1, "v")
        for key in keys:
            _record(store, key)
    with closing(sqlite3.connect(path)) as conn, conn:  # as the code before the columns left it
        conn.execute("DROP VIEW runs_flat")
        conn.execute("DROP VIEW experiment_e")
        conn.execute("ALTER TABLE runs DROP COLUMN sample")
        conn.execute("ALTER TABLE runs DROP COLUMN replication")
    before = _digest(path)
    expected = {
        keys[0]: (12, 3),
        "b/rep=12": (None, 12),
        "b/seed=3/ab12": (None, None),
        "c/rep=x": (None, None),
        "d/rep=": (None, None),
        "e/rep=1/f": (None, None),
    }
    with Store.existing(path) as store:  # read as it is: the key says where each run sits
        runs = load_runs(store, "e")
    assert {r["run_key"]: (r["sample"], r["rep"]) for r in runs.info} == {
        k: (sample, rep or 0) for k, (sample, rep) in expected.items()
    }
    assert _digest(path) == before
    Store(path).close()  # opened for writing: the columns are added and filled from the keys
    rows = _query(path, "SELECT run_key, sample, replication FROM runs")
    assert {r["run_key"]: (r["sample"], r["replication"]) for r in rows} == expected


def test_a_position_that_is_not_a_whole_number_is_one_line(tmp_path):
    from coprod.experiments.store import StoreError
    from coprod.experiments.stored_runs import load_runs

    path = tmp_path / "r.db"
    with Store(path) as store:
        store.record_experiment("e", {}, 1, "v")
        _record(store, "a/rep=0", replication=0)
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE runs SET replication = 'two'")
    with Store.existing(path) as store, pytest.raises(StoreError) as err:
        load_runs(store, "e")
    assert "runs 'a/rep=0': replication is not a whole number" in str(err.value)


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
