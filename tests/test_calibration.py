"""`coprod calibrate`: ABC-SMC (pyabc) against target patterns, end to end on a tiny calibration.

- the posterior and the checks are written to the results database, and reported;
- the posterior does not depend on the number of workers, and a calibration killed after a generation
  resumes to exactly the posterior of an uninterrupted one;
- bad calibration files are one line per problem, exit 2, nothing written;
- parameter recovery: on synthetic targets made from known parameters, the 90% credible intervals cover
  the true values in at least 80% of parameters over 10 synthetic datasets (slow).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from coprod.experiments.calibration import _Model, calibrate, load_calibration, simulate_targets
from coprod.experiments.targets import load_targets
from coprod.model import ScenarioError

from coprod.cli import main

ROOT = Path(__file__).resolve().parents[1]
TARGETS = """
[[target]]
id = "hearing"
level = "meeting"
observable = "procedural_justice"
design = "citizens_assembly"
month = 12
value = {pj}
sd = 0.03
citation = "Synthetic targets for tests, 2026"
population = "a simulated city"
measure = "procedural justice at month 12"

[[target]]
id = "power"
level = "city"
observable = "structure"
design = "citizens_assembly"
month = 12
value = {st}
sd = 0.03
citation = "Synthetic targets for tests, 2026"
population = "a simulated city"
measure = "citizens' realised power at month 12"

[[target]]
id = "costs"
level = "individual"
observable = "transaction_costs"
design = "citizens_assembly"
month = 6
value = 0.3
sd = 0.05
citation = "Synthetic targets for tests, 2026"
population = "a simulated city"
measure = "transaction costs at month 6"

[[target]]
id = "floor"
level = "meeting"
observable = "procedural_justice"
design = "participatory_budgeting"
month = 6
value = 0.2
bound = "at least"
sd = 0.05
citation = "Synthetic targets for tests, 2026"
population = "a simulated city"
measure = "procedural justice at month 6 is at least 0.2 (one-sided)"
"""
CALIBRATION = """
name = "tiny_calibration"
targets = "targets.toml"
held_out = ["costs", "floor"]
root_seed = 5
replications = 1
[set]
"population.residents" = 200
[priors]
"design.facilitation" = [0.0, 1.0]
"design.official_stubbornness" = [0.0, 1.0]
[abc]
population_size = {particles}
generations = {generations}
posterior_predictive = 5
"""


def write(folder: Path, particles: int = 8, generations: int = 2, pj: float = 0.6, st: float = 0.4) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "targets.toml").write_text(TARGETS.format(pj=pj, st=st))
    path = folder / "calibration.toml"
    path.write_text(CALIBRATION.format(particles=particles, generations=generations))
    return path


def posterior(db: Path) -> list:
    with sqlite3.connect(db) as conn:
        (result,) = conn.execute("SELECT result FROM calibrations WHERE status = 'done'").fetchone()
    return json.loads(result)["posterior"]


def test_a_tiny_calibration_runs_end_to_end_and_stores_its_posterior(tmp_path, capsys):
    path = write(tmp_path)
    db = tmp_path / "results.db"
    out_dir = tmp_path / "out"
    assert main(["calibrate", str(path), "--db", str(db), "--workers", "1", "--out", str(out_dir)]) == 0
    out = capsys.readouterr().out
    assert "| `design.facilitation` | 0 to 1 |" in out and "| costs | individual |" in out
    assert "held out" in out and "| identified |" in out
    # the one-sided target of another design is checked after the fit, against its side
    assert "| floor | meeting | `procedural_justice` (participatory_budgeting, 6) | ≥ 0.2 ± 0.05 |" in out
    assert "of draws) |" in out and "A one-sided target" in out
    rows = posterior(db)
    assert [r["parameter"] for r in rows] == ["design.facilitation", "design.official_stubbornness"]
    for r in rows:
        assert 0 <= r["low"] <= r["median"] <= r["high"] <= 1
    with sqlite3.connect(db) as conn:  # pyabc's generations are in the same file, beside the results schema
        tables = {t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"meta", "runs", "steps", "calibrations", "populations", "particles"} <= tables
    assert (tmp_path / "out" / "calibration.md").is_file()


def test_the_posterior_does_not_depend_on_the_number_of_workers_or_the_executor(tmp_path):
    calibration = load_calibration(write(tmp_path))
    one = calibrate(calibration, tmp_path / "one.db", workers=1)
    two = calibrate(calibration, tmp_path / "two.db", workers=2)
    dask = calibrate(calibration, tmp_path / "dask.db", workers=2, scheduler="local")
    assert one.posterior == two.posterior == dask.posterior and one.checks == two.checks == dask.checks


def test_a_killed_calibration_resumes_to_the_uninterrupted_posterior(tmp_path):
    path = write(tmp_path, particles=8, generations=3)
    reference = tmp_path / "reference.db"
    calibrate(load_calibration(path), reference, workers=1)
    db = tmp_path / "killed.db"
    command = [sys.executable, "-m", "coprod.cli", "calibrate", str(path), "--db", str(db), "--workers", "1"]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # kill it once the first generation is stored
        time.sleep(0.2)
        try:
            with sqlite3.connect(db, timeout=1) as conn:
                if conn.execute("SELECT count(*) FROM populations WHERE t >= 0").fetchone()[0] >= 1:
                    break
        except sqlite3.Error:
            continue
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT count(*) FROM populations WHERE t >= 0").fetchone()[0]
        status = conn.execute("SELECT status FROM calibrations").fetchone()[0]
    assert status == "running" and 1 <= stored < 3
    resumed = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"generation {stored + 1} of 3" in resumed.stderr
    assert posterior(db) == posterior(reference)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('"design.facilitation" = [0.0, 1.0]', '"design.facilitaton" = [0.0, 1.0]'),
            "priors.design.facilitaton: unknown parameter; did you mean design.facilitation?",
        ),
        (
            ('"design.facilitation" = [0.0, 1.0]', '"design.facilitation" = [0.0, 2.0]'),
            "priors.design.facilitation: outside the parameter's bounds",
        ),
        (('held_out = ["costs", "floor"]', 'held_out = ["cost"]'), "held_out: no such target; did you mean"),
        (
            ('held_out = ["costs", "floor"]', 'held_out = ["costs", "hearing", "power", "floor"]'),
            "held_out: holds out every target",
        ),
        (("population_size = 8", "population_size = 0"), "abc.population_size: must be at least 4 (got 0"),
        (('targets = "targets.toml"', 'targets = "missing.toml"'), "missing.toml: file: no such file"),
    ],
    ids=[
        "unknown_parameter",
        "out_of_bounds",
        "unknown_held_out",
        "nothing_to_fit",
        "no_particles",
        "no_targets",
    ],
)
def test_a_bad_calibration_file_is_one_line_and_writes_nothing(tmp_path, capsys, change, message):
    path = write(tmp_path)
    path.write_text(path.read_text().replace(*change))
    db = tmp_path / "never.db"
    assert main(["calibrate", str(path), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err, err
    assert not db.exists()


def test_a_fitted_one_sided_target_scores_only_its_shortfall(tmp_path):
    """What the sampler compares with a one-sided target is the simulated value clipped at the bound."""
    write(tmp_path)
    targets = tmp_path / "targets.toml"
    floor = "[[target]]" + TARGETS.split("[[target]]")[-1]
    ceiling = floor.replace('"floor"', '"ceiling"').replace('"at least"', '"at most"')
    targets.write_text(targets.read_text() + ceiling.replace("value = 0.2", "value = 0.3"))
    calibration = load_calibration(tmp_path / "calibration.toml")
    one_sided = tuple(t for t in calibration.targets if t.bound)
    assert [(t.id, t.bound) for t in one_sided] == [("floor", "at least"), ("ceiling", "at most")]
    params = {"design.facilitation": 0.5, "design.official_stubbornness": 0.5}
    np.random.seed(3)  # noqa: NPY002 (the sampler's stream, as in a task)
    scored = _Model(calibration, one_sided)(params)
    np.random.seed(3)  # noqa: NPY002
    seed = int(np.random.randint(0, 2**63 - 1, dtype=np.int64))  # noqa: NPY002
    raw = simulate_targets(params, seed, one_sided, calibration.fixed, calibration.replications)
    assert raw["floor"] > 0.3 and raw["ceiling"] == raw["floor"]  # same observable, design and month
    # above a floor: no distance (the bound itself); above a ceiling: the whole value
    assert scored == {"floor": 0.2, "ceiling": raw["floor"]}


def test_a_bad_target_row_is_named(tmp_path):
    write(tmp_path)
    targets = tmp_path / "targets.toml"
    text = targets.read_text().replace(
        'citation = "Synthetic targets for tests, 2026"', 'citation = "no year"', 1
    )
    targets.write_text(text.replace('observable = "structure"', 'observable = "structur"'))
    with pytest.raises(ScenarioError) as caught:
        load_targets(targets)
    lines = caught.value.lines()
    assert any("target[1] (hearing).citation: must give a year" in line for line in lines)
    wrong = "target[2] (power).observable: not a model output or observable; did you mean structure?"
    assert any(wrong in line for line in lines)


@pytest.mark.slow
def test_parameter_recovery_covers_the_truth_in_at_least_80_percent(tmp_path):
    """Synthetic targets from known parameters: 10 datasets x 2 parameters, 90% intervals."""
    rng = np.random.default_rng(20261203)
    covered = total = 0
    for dataset in range(10):
        truth = {
            key: rng.uniform(0.1, 0.9) for key in ("design.facilitation", "design.official_stubbornness")
        }
        targets = load_targets(write(tmp_path / f"probe{dataset}").parent / "targets.toml")
        seed = int(rng.integers(2**62))
        simulated = simulate_targets(truth, seed, targets, {"population.residents": 200}, 1)
        folder = tmp_path / f"d{dataset}"
        path = write(folder, particles=30, generations=3, pj=simulated["hearing"], st=simulated["power"])
        outcome = calibrate(load_calibration(path), tmp_path / f"d{dataset}.db", workers=2)
        for row in outcome.posterior:
            total += 1
            covered += row["low"] <= truth[row["parameter"]] <= row["high"]
    assert covered / total >= 0.8, f"{covered} of {total} intervals cover the truth"
