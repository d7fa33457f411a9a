"""A real Dask cluster: ``coprod sweep --scheduler tcp://...`` against a ``dask scheduler`` and two
``dask worker`` processes on loopback, as a study on several machines runs (issue 18).

Everything goes through the command line and plain SQLite reads, as a user's sweep would: the same rows as
the local pool, and a worker killed mid-sweep costs nothing but time (Dask reruns its runs on the other
worker; the coordinator records each run once).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "experiments" / "smoke.toml"
TINY = ROOT / "tests" / "experiments_fixtures" / "tiny.toml"  # 12 very short runs
BIN = Path(sys.executable).parent
COPROD = [sys.executable, "-m", "coprod.cli"]
DASK = str(BIN / "dask")

# Columns of ``runs`` that legitimately differ between two sweeps of one experiment (experiments/store.py):
# ``started`` and ``finished`` are wall-clock timestamps, ``seconds`` is how long the run took. Every other
# column (run key, scenario, params, scenario hash, seed, code version, status, error, sample, replication)
# must be identical, whichever executor ran it. The store keeps no worker names.
TIMING_COLUMNS = {"started", "finished", "seconds"}
# ``experiments.created`` is a timestamp too; the definition, root seed and code version must match.
EXPERIMENT_TIMING_COLUMNS = {"created"}


# ------------------------------------------------------------------------------------------ helpers


def _read(db: Path, sql: str, args: tuple = ()) -> list[tuple]:
    """Rows of ``sql`` on ``db``, opened read-only (a sweep may be writing it)."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
        return conn.execute(sql, args).fetchall()


def _columns(db: Path, table: str) -> list[str]:
    return [row[1] for row in _read(db, f"PRAGMA table_info({table})")]


def contents(db: Path) -> dict[str, list[tuple]]:
    """What two sweeps of one experiment must agree on: every table, in key order, without the timing
    columns (TIMING_COLUMNS, EXPERIMENT_TIMING_COLUMNS)."""

    def table(name: str, drop: set[str], order: str) -> list[tuple]:
        keep = [c for c in _columns(db, name) if c not in drop]
        assert keep, f"{db}: no table {name}"
        return [(tuple(keep),), *_read(db, f"SELECT {', '.join(keep)} FROM {name} ORDER BY {order}")]

    return {
        "experiments": table("experiments", EXPERIMENT_TIMING_COLUMNS, "name"),
        "runs": table("runs", TIMING_COLUMNS, "experiment, run_key"),
        "steps": table("steps", set(), "experiment, run_key, step"),
    }


def assert_same_contents(db: Path, reference: Path) -> None:
    got, want = contents(db), contents(reference)
    for name in want:
        header, rows = got[name][0], got[name][1:]
        assert header == want[name][0], f"{name}: other columns"
        assert len(rows) == len(want[name]) - 1, f"{name}: {len(rows)} rows, expected {len(want[name]) - 1}"
        differ = [(a, b) for a, b in zip(rows, want[name][1:], strict=True) if a != b]
        assert not differ, f"{name}: {len(differ)} rows differ; the first: {differ[0][0]} != {differ[0][1]}"


def _done(db: Path) -> int:
    try:
        return _read(db, "SELECT count(*) FROM runs WHERE status = 'done'")[0][0]
    except sqlite3.Error:  # not made yet, or its schema not yet written
        return 0


def _sweep(experiment: Path, db: Path, *options: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*COPROD, "sweep", str(experiment), "--db", str(db), *options],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=db.parent,
    )


def _local(experiment: Path, db: Path) -> Path:
    """The experiment on the local pool (one worker process, not Dask): the reference rows."""
    proc = _sweep(experiment, db, "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    assert "on 1 local process" in proc.stdout, proc.stdout
    n = _count(db)
    assert f": {n} of {n} runs done, 0 failed" in proc.stdout, proc.stdout
    return db


def _count(db: Path) -> int:
    """How many runs ``db`` holds (the reference sweeps hold every planned run, each done)."""
    return _read(db, "SELECT count(*) FROM runs")[0][0]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _group_alive(pgid: int) -> bool:
    """Whether any process of group ``pgid`` still runs (zombies waiting to be reaped do not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL ``proc``'s whole process group (it leads its own session): a dask worker is a nanny, its
    worker process and multiprocessing's resource tracker."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# ------------------------------------------------------------------------------------------ the cluster


@dataclass
class Cluster:
    address: str
    scheduler: subprocess.Popen
    workers: dict[str, subprocess.Popen]  # by worker name
    logs: Path
    client: Any = None  # a distributed.Client in this process, watching the cluster

    def logs_tail(self) -> str:
        return "\n".join(f"--- {p.name}\n{_tail(p)}" for p in sorted(self.logs.glob("*.log")))


def _listening(info: Path) -> str | None:
    """The address in the scheduler's file once it is written whole (the scheduler then listens)."""
    try:
        return json.loads(info.read_text())["address"]
    except (OSError, ValueError, KeyError):
        return None


def _start(args: list[str], log: Path, env: dict) -> subprocess.Popen:
    # its own session, so that one killpg takes the process and every process it starts
    with open(log, "w") as out:
        return subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            cwd=log.parent, start_new_session=True,
        )  # fmt: skip


@pytest.fixture
def cluster(tmp_path) -> Iterator[Cluster]:
    """``dask scheduler`` on 127.0.0.1 (a free port, no dashboard) and two ``dask worker`` processes of one
    thread each, from this virtual environment; every process group is killed afterwards, whatever
    happened."""
    with _cluster(tmp_path, {"w0": {}, "w1": {}}) as started:
        yield started


@contextlib.contextmanager
def _cluster(tmp_path: Path, workers_env: dict[str, dict[str, str]]) -> Iterator[Cluster]:
    """A scheduler and one ``dask worker`` per name in ``workers_env``, each with those extra environment
    variables; see :func:`cluster`."""
    from distributed import Client

    logs = tmp_path / "cluster"
    logs.mkdir()
    # the scheduler's scratch folder (it has no --local-directory) stays in the test's folder too
    env = {**os.environ, "DASK_TEMPORARY_DIRECTORY": str(logs)}
    procs: list[subprocess.Popen] = []
    client = None
    try:
        for _attempt in range(3):  # the free port may be taken between choosing and binding it
            port = _free_port()
            info = logs / "scheduler.json"
            scheduler = _start(
                [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                 # --no-dashboard still serves HTTP (health, metrics) on the dashboard address: loopback,
                 # any free port, never the fixed 8787
                 "--no-dashboard", "--dashboard-address", "127.0.0.1:0",
                 "--scheduler-file", str(info),
                 # one left behind by a test process killed outright (no teardown) leaves when idle
                 "--idle-timeout", "300"],
                logs / "scheduler.log", env,
            )  # fmt: skip
            procs.append(scheduler)
            deadline = time.monotonic() + 60
            while not _listening(info) and scheduler.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            if _listening(info):
                break
            _kill_group(scheduler)
        else:
            pytest.fail(f"dask scheduler did not start:\n{_tail(logs / 'scheduler.log')}")
        address = f"tcp://127.0.0.1:{port}"
        assert _listening(info) == address
        workers = {}
        for name, extra in workers_env.items():
            workers[name] = _start(
                [DASK, "worker", address, "--nworkers", "1", "--nthreads", "1", "--name", name,
                 "--host", "127.0.0.1", "--no-dashboard", "--dashboard-address", "127.0.0.1:0",
                 "--local-directory", str(logs / name),
                 # a worker left behind by a test process killed outright leaves once the scheduler is gone
                 "--death-timeout", "60"],
                logs / f"{name}.log", {**env, **extra},
            )  # fmt: skip
            procs.append(workers[name])
        client = Client(address, timeout="30s")
        try:
            client.wait_for_workers(len(workers), timeout=90)
        except TimeoutError:
            joined = Cluster(address, scheduler, workers, logs)
            pytest.fail(f"the dask workers did not all join:\n{joined.logs_tail()}")
        yield Cluster(address, scheduler, workers, logs, client)
    finally:
        if client is not None:
            with contextlib.suppress(Exception):  # nothing may stop the kills below
                client.close(timeout=10)
        for proc in reversed(procs):
            _kill_group(proc)
        deadline = time.monotonic() + 10
        while any(_group_alive(p.pid) for p in procs) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [p.pid for p in procs if _group_alive(p.pid)]
        assert not left, f"processes of groups {left} outlived the test"


# ------------------------------------------------------------------------------------------ the tests


@pytest.fixture(scope="module")
def smoke_local(tmp_path_factory) -> Path:
    return _local(SMOKE, tmp_path_factory.mktemp("local") / "smoke.db")


@pytest.mark.slow
def test_tcp_cluster_gives_the_local_pools_rows(smoke_local, cluster, tmp_path):
    db = tmp_path / "tcp.db"
    proc = _sweep(SMOKE, db, "--scheduler", cluster.address)
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}\n{cluster.logs_tail()}"
    assert f"on Dask {cluster.address} (2 workers)" in proc.stdout, proc.stdout
    planned = _count(smoke_local)
    assert planned == 30
    assert f"{planned} of {planned} runs done, 0 failed" in proc.stdout
    assert _read(db, "SELECT count(*), count(DISTINCT run_key) FROM runs WHERE status = 'done'") == [
        (planned, planned)
    ]
    # both workers took part (each counts the state transitions of the tasks it was given)
    transitions = cluster.client.run(lambda dask_worker: dask_worker.state.transition_counter)
    assert len(transitions) == 2 and all(transitions.values()), transitions
    assert_same_contents(db, smoke_local)


@pytest.mark.slow
def test_a_worker_killed_mid_sweep_costs_nothing_but_time(smoke_local, cluster, tmp_path):
    db = tmp_path / "killed.db"
    planned = _count(smoke_local)
    out, err = tmp_path / "sweep.out", tmp_path / "sweep.err"
    with open(out, "w") as o, open(err, "w") as e:
        sweep = subprocess.Popen(
            [*COPROD, "sweep", str(SMOKE), "--db", str(db), "--scheduler", cluster.address],
            stdout=o, stderr=e, cwd=tmp_path, start_new_session=True,
        )  # fmt: skip
    try:
        # wait until some runs are recorded, not all, and a worker is busy with more
        victim, lost = None, ()
        deadline = time.monotonic() + 120
        while victim is None and sweep.poll() is None and time.monotonic() < deadline:
            if _done(db) >= 1:
                names = {a: w["name"] for a, w in cluster.client.scheduler_info()["workers"].items()}
                busy = [
                    (names[a], keys) for a, keys in cluster.client.processing().items() if keys and a in names
                ]
                victim, lost = busy[0] if busy else (None, ())
            if victim is None:
                time.sleep(0.01)
        done_at_kill = _done(db)
        assert victim is not None and sweep.poll() is None, (
            f"no worker busy part way (the sweep exited {sweep.poll()}, {done_at_kill} runs done)"
        )
        assert 1 <= done_at_kill < planned
        _kill_group(cluster.workers[victim])  # nanny and worker process: no restart, as a machine lost
        assert not _group_alive(cluster.workers[victim].pid)
        sweep.wait(timeout=180)
    finally:
        if sweep.poll() is None:  # only on a failure above: the sweep has no processes of its own on tcp
            _kill_group(sweep)
    stdout, stderr = out.read_text(), err.read_text()
    assert sweep.returncode == 0, f"{stdout}\n{stderr}\n{cluster.logs_tail()}"
    assert f"{planned} of {planned} runs done, 0 failed" in stdout, stdout
    # every run there once, all done
    rows = _read(db, "SELECT run_key, status FROM runs")
    assert len(rows) == planned and len({key for key, _ in rows}) == planned
    assert {status for _, status in rows} == {"done"}
    # the scheduler lost the victim; the other worker finished the sweep
    names = {w["name"] for w in cluster.client.scheduler_info()["workers"].values()}
    assert names == {"w0", "w1"} - {victim}
    # the victim's tasks (bundles of runs) were sent out again: the scheduler's transition log has one of them
    # taken into ``processing`` twice, and each of them ended in ``memory`` (its results came back)
    story = cluster.client.run_on_scheduler(
        lambda keys, dask_scheduler: [tuple(t[:3]) for t in dask_scheduler.story(*keys)], list(lost)
    )
    processed = {key: sum(1 for k, _, finish in story if k == key and finish == "processing") for key in lost}
    assert max(processed.values()) >= 2, story
    assert all((key, "processing", "memory") in story for key in lost), story
    assert_same_contents(db, smoke_local)


@pytest.mark.slow
def test_a_worker_with_other_model_code_has_its_runs_refused(tmp_path):
    """A worker whose model code differs from the coordinator's (another version installed on that
    machine): results from different code never mix. Its runs are recorded failed, with no outputs and
    both versions named; the sweep exits 1; nothing of the other code is stored as done."""
    # this package with one model file changed, first on the worker's path (before the editable install)
    other = tmp_path / "other_code"
    copy = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "coprod", other / "coprod", ignore=copy)
    for folder in ("model", "experiments"):
        shutil.copytree(ROOT / folder, other / "coprod" / folder, ignore=copy)
    with open(other / "coprod" / "model" / "simulate.py", "a") as f:
        f.write("\n# another version of the model\n")
    db = tmp_path / "tiny.db"
    with _cluster(tmp_path, {"other": {"PYTHONPATH": str(other)}}) as cluster:
        proc = _sweep(TINY, db, "--scheduler", cluster.address)
    said = f"{proc.stdout}\n{proc.stderr}"
    assert proc.returncode == 1, said
    [(ours,)] = _read(db, "SELECT code_version FROM experiments")
    assert _read(db, "SELECT DISTINCT code_version FROM runs") == [(ours,)]
    refused = _read(db, "SELECT error FROM runs WHERE status = 'failed'")
    assert refused, said  # the other worker computed some of the runs
    assert all("results from different code never mix" in e for (e,) in refused)
    [(stored,)] = _read(
        db, "SELECT count(*) FROM steps WHERE run_key IN (SELECT run_key FROM runs WHERE status = 'failed')"
    )
    assert stored == 0
