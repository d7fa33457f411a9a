"""The results store keeps each run whole: its row and its steps are written together or not at all."""

from __future__ import annotations

import sqlite3

import pytest
import sqlite_utils
from coprod.experiments.store import Store
from coprod.model import OUTPUTS


class Crash(Exception):
    pass


def _record(store: Store, status: str, value: float) -> None:
    rows = [{"step": t, **dict.fromkeys(OUTPUTS, value)} for t in (0, 1, 2)]
    store.record_run(
        experiment="e",
        run_key="k",
        scenario="s",
        params={"a": 1},
        seed=3,
        code_version="v",
        status=status,
        rows=rows,
    )


def _contents(path) -> tuple[list, list]:
    with sqlite3.connect(path) as conn:
        runs = conn.execute("SELECT run_key, status FROM runs").fetchall()
        steps = conn.execute("SELECT step, consensus_bias FROM steps ORDER BY step").fetchall()
    return runs, steps


def _die_while_writing_steps(monkeypatch) -> None:
    """From now on, writing a run's steps raises, as if the process died between its run row and its steps."""
    original = sqlite_utils.db.Table.insert_all

    def crash_on_steps(self, records, *args, **kwargs):
        if self.name == "steps":
            raise Crash("the process died here")
        return original(self, records, *args, **kwargs)

    monkeypatch.setattr(sqlite_utils.db.Table, "insert_all", crash_on_steps)


def test_a_run_that_dies_while_its_steps_are_written_leaves_nothing(tmp_path, monkeypatch):
    path = tmp_path / "r.db"
    with Store(path) as store:
        _die_while_writing_steps(monkeypatch)
        with pytest.raises(Crash):
            _record(store, "done", 0.5)
    assert _contents(path) == ([], [])


def test_a_rerecorded_run_that_dies_keeps_the_earlier_attempt_whole(tmp_path, monkeypatch):
    path = tmp_path / "r.db"
    with Store(path) as store:
        _record(store, "done", 0.25)
        _die_while_writing_steps(monkeypatch)
        with pytest.raises(Crash):
            _record(store, "failed", 0.75)
    assert _contents(path) == ([("k", "done")], [(0, 0.25), (1, 0.25), (2, 0.25)])
