"""The sweep runner: determinism across executors, kill and resume, failures and retries, time limits,
reruns, and refusing to mix results."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from coprod.experiments.design import load_experiment
from coprod.experiments.faults import FAULT_ENV
from coprod.experiments.store import Store
from coprod.experiments.worker import scenario_from_params
from coprod.model import OUTPUTS, load_scenario, simulate

from coprod.cli import main
from tests.support import tables

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "experiments_fixtures"
DET = FIXTURES / "det.toml"
TINY = FIXTURES / "tiny.toml"
COPROD = str(Path(sys.executable).parent / "coprod")


def sweep(*args: str) -> int:
    return main(["sweep", *map(str, args)])


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The uninterrupted sweep of det.toml on one worker (in this process)."""
    db = tmp_path_factory.mktemp("reference") / "det.db"
    assert sweep(DET, "--db", db, "--workers", "1") == 0
    return db


def test_reference_sweep_is_complete(reference):
    runs, steps = tables(reference)
    planned = load_experiment(DET).runs
    assert len(runs) == len(planned) == 36
    assert {r[7] for r in runs} == {"done"}
    assert len(steps) == 36 * 7  # steps 0, 6, ..., 36
    assert {r.seed for r in planned} == {r[5] for r in runs}


def test_two_workers_give_identical_database_contents(reference, tmp_path, capsys):
    db = tmp_path / "w2.db"
    assert sweep(DET, "--db", db, "--workers", "2") == 0
    assert tables(db) == tables(reference)
    # the pool's start-up is reported apart from the runs (benchmark (c) reads it)
    found = re.search(
        r"run now in ([0-9.]+) s \(([0-9.]+) s of it starting the workers\)", capsys.readouterr().out
    )
    assert found and 0 <= float(found.group(2)) <= float(found.group(1)), found


@pytest.mark.slow
def test_dask_local_cluster_gives_identical_database_contents(reference, tmp_path):
    # a subprocess, as a user runs it: the cluster's worker processes and log threads stay out of pytest
    db = tmp_path / "dask.db"
    proc = subprocess.run(
        [COPROD, "sweep", str(DET), "--db", str(db), "--scheduler", "local", "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Dask LocalCluster" in proc.stdout
    assert tables(db) == tables(reference)


def _done(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT count(*) FROM runs WHERE status = 'done'").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_killed_sweep_resumes_to_exactly_the_uninterrupted_rows(reference, tmp_path):
    db = tmp_path / "killed.db"
    cmd = [COPROD, "sweep", str(DET), "--db", str(db), "--workers", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while _done(db) < 3 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        # the whole session: the sweep and its worker processes, as a crash or a power cut would
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the sweep ended before it could be killed part way"
    runs, steps = tables(db)
    assert 3 <= len(runs) < 36, len(runs)
    per_run = {}
    for row in steps:
        per_run[row[1]] = per_run.get(row[1], 0) + 1
    assert all(per_run.get(r[1]) == 7 for r in runs)  # every recorded run is whole
    assert set(per_run) == {r[1] for r in runs}

    resumed = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(runs)} already recorded" in resumed.stdout
    assert tables(db) == tables(reference)


def test_resume_runs_exactly_the_missing_runs_wherever_they_are(reference, tmp_path, capsys):
    db = tmp_path / "holes.db"
    shutil.copy(reference, db)
    with sqlite3.connect(db) as conn:  # runs missing all over the plan, as after a crash
        for table in ("runs", "steps"):
            conn.execute(f"DELETE FROM {table} WHERE run_key LIKE '%/rep=1' OR run_key LIKE 'top_down%rep=4'")
    capsys.readouterr()
    assert sweep(DET, "--db", db, "--workers", "1") == 0
    assert "28 already recorded, running 8" in capsys.readouterr().out
    assert tables(db) == tables(reference)


def test_failed_run_is_recorded_and_retry_failed_fixes_it(tmp_path, monkeypatch, capsys):
    db = tmp_path / "tiny.db"
    bad = "citizens_assembly/theory.kind=structural/rep=1"
    monkeypatch.setenv(FAULT_ENV, bad)
    assert sweep(TINY, "--db", db, "--workers", "2") == 1
    assert "--retry-failed" in capsys.readouterr().err
    with Store(db) as store:
        statuses = store.statuses("tiny")
        failed = store.run("tiny", bad)
        assert store.steps("tiny", bad) == []
    assert len(statuses) == 12
    assert [k for k, s in statuses.items() if s != "done"] == [bad]
    assert failed["status"] == "failed"
    assert "Traceback (most recent call last)" in failed["error"]
    assert f"test-only fault injected by {FAULT_ENV}" in failed["error"]

    monkeypatch.delenv(FAULT_ENV)
    assert sweep(TINY, "--db", db, "--workers", "1") == 1  # a plain resume leaves recorded failures alone
    with Store(db) as store:
        assert store.run("tiny", bad)["status"] == "failed"
    capsys.readouterr()

    assert sweep(TINY, "--db", db, "--workers", "1", "--retry-failed") == 0
    assert "12 already recorded, running 1 failed or timed out on this process" in capsys.readouterr().out
    with Store(db) as store:
        assert set(store.statuses("tiny").values()) == {"done"}
        fixed = store.run("tiny", bad)
        stored = store.steps("tiny", bad)
    assert fixed["error"] == ""
    scenario = scenario_from_params(fixed["scenario"], json.loads(fixed["params"]))
    expected = simulate(scenario, seed=fixed["seed"], every=3)
    assert [{k: r[k] for k in ("step", *OUTPUTS)} for r in stored] == expected


def test_run_over_its_time_limit_is_recorded_timed_out(tmp_path, capsys):
    db = tmp_path / "timeout.db"
    assert sweep(FIXTURES / "timeout.toml", "--db", db, "--workers", "1") == 1
    with Store(db) as store:
        runs = store.runs_of("timeout")
        assert store.steps("timeout", runs[0]["run_key"]) == []
    assert [r["status"] for r in runs] == ["timed_out", "timed_out"]
    assert all("time limit of 1e-06 s passed" in r["error"] for r in runs)
    assert "timed_out" in capsys.readouterr().err


def test_a_time_limit_changes_nothing_within_it_and_stops_the_run_past_it():
    from coprod.model.simulate import TimeLimitExceeded

    scenario = load_scenario(ROOT / "scenarios" / "participatory_budgeting.toml").with_overrides(
        {"population.residents": 150, "run.steps": 10}
    )
    assert simulate(scenario, seed=42, every=3, time_limit=600.0) == simulate(scenario, seed=42, every=3)
    with pytest.raises(TimeLimitExceeded, match="time limit of 1e-09 s passed after 0 of 10 steps"):
        simulate(scenario, seed=42, every=3, time_limit=1e-9)


def test_recorded_steps_do_not_depend_on_the_recording_interval():
    # reruns compare a run recorded every k steps with one recorded every step
    scenario = load_scenario(ROOT / "scenarios" / "citizens_assembly.toml").with_overrides(
        {"population.residents": 150, "run.steps": 12}
    )
    every = {r["step"]: r for r in simulate(scenario, seed=5, every=1)}
    for row in simulate(scenario, seed=5, every=4):
        assert row == every[row["step"]]


def test_stored_params_rebuild_the_scenario(reference):
    with Store(reference) as store:
        run = store.runs_of("det")[0]
    params = json.loads(run["params"])
    assert scenario_from_params(run["scenario"], params).flat() == params


def test_rerun_reproduces_a_stored_run_and_spots_changes(reference, tmp_path, capsys):
    db = tmp_path / "copy.db"
    shutil.copy(reference, db)
    key = "citizens_assembly/theory.kind=structural/rep=2"
    assert main(["rerun", "--db", str(db), key]) == 0
    assert f"identical: 7 stored steps x {len(OUTPUTS)} outputs reproduced exactly" in capsys.readouterr().out

    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE steps SET consensus_bias = consensus_bias + 1e-9 WHERE run_key = ? AND step = 36", [key]
        )
        conn.execute("UPDATE runs SET code_version = '0.0.0+not-this-code' WHERE run_key = ?", [key])
    assert main(["rerun", "--db", str(db), "--experiment", "det", key]) == 1
    out = capsys.readouterr().out
    assert "code version mismatch: the run was stored by 0.0.0+not-this-code" in out
    assert "different: 1 stored values not reproduced" in out
    assert "step 36 consensus_bias" in out


def test_rerun_of_an_unknown_key_exits_2(reference, capsys):
    assert main(["rerun", "--db", str(reference), "citizens_assembly/theory.kind=structural/rep=22"]) == 2
    assert "did you mean citizens_assembly/theory.kind=structural/rep=2" in capsys.readouterr().err


def test_resume_refuses_a_changed_definition_or_other_code(tmp_path, capsys):
    db = tmp_path / "tiny.db"
    assert sweep(TINY, "--db", db, "--workers", "1") == 0
    changed = tmp_path / "tiny.toml"
    changed.write_text(
        TINY.read_text().replace("replications = 3", "replications = 4").replace("../../", f"{ROOT}/")
    )
    capsys.readouterr()
    assert sweep(changed, "--db", db) == 2
    assert "already recorded there with a different definition" in capsys.readouterr().err

    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET code_version = '0.0.0+older'")
    assert sweep(TINY, "--db", db) == 2
    assert "results from different code never mix" in capsys.readouterr().err
    with Store(db) as store:
        assert len(store.statuses("tiny")) == 12  # nothing was added or changed


def test_set_aside_stale_keeps_the_old_database_and_starts_a_new_one(tmp_path, capsys):
    db = tmp_path / "tiny.db"
    assert sweep(TINY, "--db", db, "--workers", "1") == 0
    conn = sqlite3.connect(db)  # left open: its write-ahead log must move with the file
    with conn:
        conn.execute("UPDATE runs SET code_version = '0.0.0+older'")
    capsys.readouterr()
    assert sweep(TINY, "--db", db, "--set-aside-stale") == 0
    conn.close()
    kept = tmp_path / "tiny.0.0.0-older.db"
    assert f"kept as {kept}" in capsys.readouterr().err
    with Store(kept) as old, Store(db) as new:
        assert len(old.statuses("tiny")) == len(new.statuses("tiny")) == 12
        assert {r["code_version"] for r in old.runs_of("tiny")} == {"0.0.0+older"}
        assert "0.0.0+older" not in {r["code_version"] for r in new.runs_of("tiny")}
    # a database from this code is resumed, not set aside
    assert sweep(TINY, "--db", db, "--set-aside-stale") == 0
    assert "12 already recorded, running 0" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.glob("*.db")) == ["tiny.0.0.0-older.db", "tiny.db"]


def test_unreachable_scheduler_leaves_no_database_and_an_existing_one_as_it_was(tmp_path, capsys):
    db = tmp_path / "new" / "a.db"
    assert sweep(TINY, "--db", db, "--scheduler", "tcp://127.0.0.1:1") == 2
    assert "--scheduler: cannot reach the Dask scheduler" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()
    existing = tmp_path / "old.db"
    Store(existing).close()
    assert sweep(TINY, "--db", existing, "--scheduler", "tcp://127.0.0.1:1") == 2
    with Store(existing) as store:
        assert store.experiment_names() == [] and tables(existing) == ([], [])


def test_bad_worker_count_or_scheduler_exits_2(tmp_path, capsys):
    assert sweep(TINY, "--db", tmp_path / "a.db", "--workers", "0") == 2
    assert "command line: --workers: must be at least 1" in capsys.readouterr().err
    assert sweep(TINY, "--db", tmp_path / "a.db", "--scheduler", "nowhere") == 2
    assert "--scheduler: not a scheduler address" in capsys.readouterr().err
    assert not (tmp_path / "a.db").exists()
