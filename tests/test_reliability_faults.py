"""Reliability: faults during a sweep. Each ends with every finished run whole, no partial or duplicate
rows, and a state that the same command (or ``--retry-failed``) completes to exactly the rows of an
undisturbed sweep.

- a worker process SIGKILLed in the middle of a run (test-only hook ``COPROD_FAULT_KILL_RUN_KEY``);
- a run that hangs inside a step (test-only hook ``COPROD_FAULT_HANG_RUN_KEY``), stopped at its time limit;
- the disk filling up while runs are written (SQLite's page limit through the test-only
  ``COPROD_FAULT_MAX_PAGES``, and a real, small tmpfs where this machine lets us mount one);
- a reader holding a read transaction open for the whole sweep, as Datasette does;
- another connection holding the write lock past the busy timeout;
- a database written by an older schema: refused, left byte for byte as it was.

(The coordinator killed and restarted is tests/test_experiment_runner.py's kill-and-resume test.)
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from coprod.experiments.faults import HANG_ENV, KILL_ENV
from coprod.experiments.store import MAX_PAGES_ENV, Store

from coprod.cli import main
from tests.support import no_hang, tables

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "experiments_fixtures" / "tiny.toml"
STEPS_PER_RUN = 5  # tiny.toml: steps 0, 3, 6, 9, 12
COPROD = str(Path(sys.executable).parent / "coprod")


def sweep(*args) -> int:
    with no_hang(120):
        return main(["sweep", *map(str, args)])


def check_whole(conn: sqlite3.Connection, per_run: int = STEPS_PER_RUN) -> dict[str, str]:
    """Every done run has all its steps, no other run has any, no step is an orphan; {run_key: status}."""
    statuses = dict(conn.execute("SELECT run_key, status FROM runs"))
    counts = dict(conn.execute("SELECT run_key, count(*) FROM steps GROUP BY run_key"))
    for key, status in statuses.items():
        assert counts.get(key, 0) == (per_run if status == "done" else 0), (key, status, counts.get(key))
    assert set(counts) <= set(statuses), "steps without their run"
    distinct = conn.execute("SELECT count(*) FROM (SELECT DISTINCT experiment, run_key, step FROM steps)")
    assert distinct.fetchone()[0] == sum(counts.values()), "duplicate steps"
    return statuses


def whole(db: Path) -> dict[str, str]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return check_whole(conn)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """tiny.toml swept undisturbed, in this process."""
    db = tmp_path_factory.mktemp("reference") / "tiny.db"
    assert sweep(TINY, "--db", db, "--workers", "1") == 0
    return db


# ------------------------------------------------------------------------------- a worker killed


def test_a_worker_killed_mid_run_loses_only_that_run_and_retry_completes(
    reference, tmp_path, monkeypatch, capsys
):
    db = tmp_path / "killed.db"
    monkeypatch.setenv(KILL_ENV, "structural/rep=1")  # two of the twelve runs kill their process
    assert sweep(TINY, "--db", db, "--workers", "2") == 1
    err = capsys.readouterr().err
    assert "died (killed by SIGKILL; out of memory?)" in err
    assert "rerun them with --retry-failed" in err
    statuses = whole(db)
    failed = sorted(k for k, s in statuses.items() if s != "done")
    assert len(statuses) == 12
    assert failed == [
        "citizens_assembly/theory.kind=structural/rep=1",
        "top_down_consultation/theory.kind=structural/rep=1",
    ]
    with Store(db) as store:
        assert all(store.run("tiny", k)["status"] == "failed" for k in failed)

    monkeypatch.delenv(KILL_ENV)
    assert sweep(TINY, "--db", db, "--workers", "2", "--retry-failed") == 0
    assert "12 already recorded, running 2 failed or timed out" in capsys.readouterr().out
    assert tables(db) == tables(reference)


# ------------------------------------------------------------------------------- a run that hangs


def test_a_hanging_run_is_stopped_at_its_time_limit_and_the_sweep_goes_on(tmp_path, monkeypatch, capsys):
    experiment = tmp_path / "hang.toml"
    experiment.write_text(
        TINY.read_text().replace("../../", f"{ROOT}/").replace("replications = 3", "replications = 1") + "\n"
    )
    text = experiment.read_text().replace("record_every = 3", "record_every = 3\ntime_limit = 3")
    experiment.write_text(text)
    db = tmp_path / "hang.db"
    hung = "citizens_assembly/theory.kind=incremental/rep=0"
    monkeypatch.setenv(HANG_ENV, hung)
    clock = time.monotonic()
    # one worker: with a time limit it is a separate process, so that it can be stopped
    assert sweep(experiment, "--db", db, "--workers", "1") == 1
    assert time.monotonic() - clock < 60
    out, err = capsys.readouterr()
    assert "on 1 local process" in out
    assert f"timed_out: {hung}: time limit of 3 s passed: the run had not come back after" in err
    statuses = whole(db)
    assert statuses == {
        "top_down_consultation/theory.kind=incremental/rep=0": "done",
        "top_down_consultation/theory.kind=structural/rep=0": "done",
        "citizens_assembly/theory.kind=incremental/rep=0": "timed_out",
        "citizens_assembly/theory.kind=structural/rep=0": "done",
    }

    monkeypatch.delenv(HANG_ENV)
    assert sweep(experiment, "--db", db, "--workers", "1", "--retry-failed") == 0
    assert set(whole(db).values()) == {"done"}


# ------------------------------------------------------------------------------------ a full disk


def test_a_full_database_stops_the_sweep_cleanly_and_resuming_completes(
    reference, tmp_path, monkeypatch, capsys
):
    db = tmp_path / "full.db"
    monkeypatch.setenv(MAX_PAGES_ENV, "20")  # room for the schema and a few runs
    assert sweep(TINY, "--db", db, "--workers", "2") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"tiny: {db}: could not record run ")
    assert "(database or disk is full); nothing of it was written" in err[0]
    assert err[0].endswith("run the same command again to resume")
    recorded = whole(db)
    assert 1 <= len(recorded) < 12 and set(recorded.values()) == {"done"}

    monkeypatch.delenv(MAX_PAGES_ENV)
    assert sweep(TINY, "--db", db, "--workers", "2") == 0
    assert f"{len(recorded)} already recorded" in capsys.readouterr().out
    assert tables(db) == tables(reference)


@contextlib.contextmanager
def small_filesystem(where: Path, size: str):
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=True)


def test_a_really_full_filesystem_stops_the_sweep_cleanly_and_resuming_completes(reference, tmp_path):
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    with small_filesystem(tmp_path / "small", "220k") as folder:
        db = folder / "tiny.db"
        cmd = [COPROD, "sweep", str(TINY), "--db", str(db), "--workers", "2"]
        full = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert full.returncode == 1
        assert "Traceback" not in full.stderr
        assert "(database or disk is full)" in full.stderr
        assert "run the same command again to resume" in full.stderr
        recorded = whole(db)
        assert len(recorded) < 12 and set(recorded.values()) <= {"done"}

        subprocess.run(["mount", "-o", "remount,size=16m", str(folder)], check=True)
        resumed = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert resumed.returncode == 0, resumed.stderr
        assert f"{len(recorded)} already recorded" in resumed.stdout
        assert tables(db) == tables(reference)


# --------------------------------------------------------------------------------- other connections


def test_a_reader_holding_a_snapshot_neither_blocks_the_sweep_nor_sees_half_a_run(reference, tmp_path):
    db = tmp_path / "read.db"
    Store(db).close()  # the file exists, so that a reader can open it before the first run is written
    uri = f"file:{db}?mode=ro"
    cmd = [COPROD, "sweep", str(TINY), "--db", str(db), "--workers", "2"]
    with contextlib.closing(sqlite3.connect(uri, uri=True, isolation_level=None)) as held:
        held.execute("BEGIN")  # a read transaction held for the whole sweep, as a browsing session might
        before = check_whole(held)
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        seen, looks = set(), 0
        try:
            while proc.poll() is None:
                with contextlib.closing(sqlite3.connect(uri, uri=True, isolation_level=None)) as reader:
                    reader.execute("BEGIN")
                    first = check_whole(reader)
                    time.sleep(0.05)  # the writer commits meanwhile; this snapshot must not move
                    assert check_whole(reader) == first
                    reader.execute("COMMIT")
                seen.add(len(first))
                looks += 1
            err = proc.communicate(timeout=120)[1]
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, err
        assert check_whole(held) == before == {}  # the held snapshot is the one it began with
        held.execute("COMMIT")
    assert looks >= 3 and len(seen) >= 2, (looks, seen)  # it really read while runs were being written
    assert tables(db) == tables(reference)


def test_a_write_lock_held_for_a_moment_is_waited_out(reference, tmp_path):
    db = tmp_path / "busy.db"
    Store(db).close()
    locker = sqlite3.connect(db, isolation_level=None, check_same_thread=False)  # released by a timer
    with contextlib.closing(locker):
        locker.execute("BEGIN IMMEDIATE")
        release = threading.Timer(1.0, locker.execute, ["ROLLBACK"])
        release.start()
        try:
            assert sweep(TINY, "--db", db, "--workers", "2") == 0
        finally:
            release.join()
    assert tables(db) == tables(reference)


@pytest.mark.slow
def test_a_connection_holding_the_write_lock_stops_the_sweep_cleanly(reference, tmp_path, capsys):
    db = tmp_path / "locked.db"
    Store(db).close()
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as locker:
        locker.execute("BEGIN IMMEDIATE")  # as an editing tool that keeps a write transaction open
        # after SQLite's 5 s busy timeout, found when the database is opened: before any run is computed
        assert sweep(TINY, "--db", db, "--workers", "1") == 1
        locker.execute("ROLLBACK")
    err = capsys.readouterr().err
    assert "(database is locked)" in err and "run the same command again" in err
    assert "another program holds the database" in err and "running" not in err
    assert whole(db) == {}
    assert sweep(TINY, "--db", db, "--workers", "2") == 0
    assert tables(db) == tables(reference)


# ------------------------------------------------------------------------------- an older database


def _files(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _older(reference: Path, folder: Path, *changes: str) -> Path:
    """A copy of ``reference`` changed as an older version of the code would have left it."""
    folder.mkdir()
    db = folder / "old.db"
    with (
        contextlib.closing(sqlite3.connect(reference)) as src,
        contextlib.closing(sqlite3.connect(db)) as dst,
    ):
        src.backup(dst)
        # older code wrote no views (runs_flat, experiment_<name>): without them a column can be dropped
        for (view,) in dst.execute("SELECT name FROM sqlite_master WHERE type = 'view'").fetchall():
            dst.execute(f'DROP VIEW "{view}"')
        for sql in changes:
            dst.execute(sql)
        dst.commit()
        dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, as an old copy would be
    return db


OLDER = {
    "schema_version_0": (
        ["UPDATE meta SET value = '0' WHERE key = 'schema_version'"],
        "{db}: results schema version 0, this code reads version 1; write to a new --db file",
    ),
    "no_version_row": (
        ["DELETE FROM meta"],
        "{db}: results schema version 0, this code reads version 1; write to a new --db file",
    ),
    "runs_without_scenario_hash": (
        ["ALTER TABLE runs DROP COLUMN scenario_hash"],
        "{db}: table runs lacks scenario_hash: written by another version of this code "
        "(schema version 1); write to a new --db file",
    ),
    "steps_without_an_output": (
        ["ALTER TABLE steps DROP COLUMN consensus_bias"],
        "{db}: table steps lacks consensus_bias: written by another version of this code "
        "(schema version 1); write to a new --db file",
    ),
    "not_ours": (
        ["DROP TABLE meta"],
        "{db}: an SQLite file that is not a coproduction-abm results database",
    ),
}


@pytest.mark.parametrize("case", sorted(OLDER))
def test_an_older_database_is_refused_with_exit_2_and_left_untouched(case, reference, tmp_path, capsys):
    changes, message = OLDER[case]
    db = _older(reference, tmp_path / "old", *changes)
    before = _files(db.parent)
    capsys.readouterr()
    assert sweep(TINY, "--db", db, "--workers", "1") == 2
    assert capsys.readouterr().err.strip() == message.format(db=db)
    key = "citizens_assembly/theory.kind=structural/rep=1"
    assert main(["rerun", "--db", str(db), key]) == 2
    assert capsys.readouterr().err.strip() == message.format(db=db)
    assert _files(db.parent) == before  # not a byte changed, no -wal or -shm file made
