"""Experiment files: validation (exit 2, the exact key, nothing written), run keys, seeds and samplers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from coprod.experiments.design import ExperimentError, load_experiment, run_seed
from coprod.model import PARAMETERS, ScenarioError

from coprod.cli import main

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "experiments_fixtures"
BAD = FIXTURES / "bad"
SCENARIOS = ROOT / "scenarios"

# file -> (the key the message must name, a phrase it must contain)
BAD_FILES = {
    "unknown_factor": ("factors.design.facilitaton", "did you mean design.facilitation?"),
    "range_outside_bounds": ("factors.design.facilitation.high", "outside the schema's bounds (got 1.5"),
    "unknown_sampler": ("sampler.kind", "unknown sampler (got 'montecarlo', allowed one of grid, lhs"),
    "zero_replications": ("replications", "must be at least 1 (got 0"),
    "not_toml": ("file", "is not valid TOML"),
    "missing_scenario": ("scenarios", "no_such_design.toml: no such file"),
    "sobol_n_not_power_of_two": ("sampler.n", "a power of 2"),
    "missing_root_seed": ("root_seed", "missing"),
    "range_on_choice": ("factors.design.kind", "a range needs a numeric parameter"),
    "impossible_combination": ("design.participants", "more participants than residents"),
    "unknown_setting": ("replicatons", "did you mean replications?"),
    "seed_as_factor": ("factors.run.seed", "root_seed"),
    "unknown_choice": ("factors.theory.kind", "unknown choice (got 'radical'"),
    "morris_with_values": ("sampler.kind", "need ranges"),
    "bad_set": ("set.population.residents", "out of bounds (got -5"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_experiment_file_exits_2_naming_the_key_and_writes_nothing(name, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default database would go to results/ here
    path = BAD / f"{name}.toml"
    db = tmp_path / "out.db"
    key, phrase = BAD_FILES[name]
    assert main(["sweep", str(path), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    line = next((li for li in err.splitlines() if li.startswith(f"{path}: {key}: ")), None)
    assert line is not None, err
    assert phrase in line, err
    assert not db.exists()
    assert not (tmp_path / "results").exists()


def test_bad_experiment_file_exit_code_through_the_installed_command(tmp_path):
    db = tmp_path / "out.db"
    path = BAD / "unknown_factor.toml"
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "coprod"), "sweep", str(path), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"{path}: factors.design.facilitaton: unknown parameter; did you mean design.facilitation?"
    )
    assert "Traceback" not in proc.stderr
    assert not db.exists()


def test_missing_experiment_file(tmp_path, capsys):
    assert main(["sweep", str(tmp_path / "nope.toml"), "--db", str(tmp_path / "x.db")]) == 2
    assert f"{tmp_path / 'nope.toml'}: file: no such file" in capsys.readouterr().err
    assert not (tmp_path / "x.db").exists()


def test_experiment_error_is_a_scenario_error():
    with pytest.raises(ScenarioError) as caught:
        load_experiment(BAD / "zero_replications.toml")
    assert isinstance(caught.value, ExperimentError)
    assert [p.key for p in caught.value.problems] == ["replications"]


def test_shipped_experiments_are_valid():
    sizes = {}
    for name in ("smoke", "compare_designs", "sobol_consensus", "morris_context"):
        sizes[name] = len(load_experiment(ROOT / "experiments" / f"{name}.toml").runs)
    assert sizes["smoke"] <= 40
    assert sizes["compare_designs"] % (5 * 4) == 0
    assert sizes["sobol_consensus"] == 128 * (6 + 2)
    assert sizes["morris_context"] == 20 * (7 + 1)


# --------------------------------------------------------------------------------- keys and seeds


def test_run_seed_depends_on_root_seed_and_key_only():
    a = run_seed(7, "citizens_assembly/theory.kind=structural/rep=0")
    assert a == run_seed(7, "citizens_assembly/theory.kind=structural/rep=0")
    assert a != run_seed(8, "citizens_assembly/theory.kind=structural/rep=0")
    assert a != run_seed(7, "citizens_assembly/theory.kind=structural/rep=1")
    assert 0 <= a < 2**63


def _write(tmp_path: Path, text: str, name: str = "exp.toml") -> Path:
    path = tmp_path / name
    path.write_text(text.replace("@SCEN@", str(SCENARIOS)))
    return path


GRID = """
name = "g"
scenarios = ["@SCEN@/citizens_assembly.toml", "@SCEN@/top_down_consultation.toml"]
replications = 2
root_seed = 5
steps = 6
[set]
"population.residents" = 100
[factors]
"theory.kind" = @THEORIES@
"design.facilitation" = [0.25, 0.75]
"""


def test_grid_keys_are_readable_unique_and_seeds_ignore_order(tmp_path):
    forward = load_experiment(
        _write(tmp_path, GRID.replace("@THEORIES@", '["incremental", "coalition"]'), "a.toml")
    )
    backward = load_experiment(
        _write(tmp_path, GRID.replace("@THEORIES@", '["coalition", "incremental"]'), "b.toml")
    )
    assert len(forward.runs) == 2 * 2 * 2 * 2
    keys = [r.key for r in forward.runs]
    assert len(set(keys)) == len(keys)
    assert "citizens_assembly/theory.kind=coalition,design.facilitation=0.75/rep=1" in keys
    seeds_f = {r.key: r.seed for r in forward.runs}
    seeds_b = {r.key: r.seed for r in backward.runs}
    assert seeds_f == seeds_b  # the same run gets the same seed wherever it sits in the plan
    run = next(r for r in forward.runs if r.key.endswith("coalition,design.facilitation=0.75/rep=1"))
    assert run.params["theory.kind"] == "coalition"
    assert run.params["design.facilitation"] == 0.75
    assert run.params["run.seed"] == run.seed
    assert run.params["run.steps"] == 6
    assert run.params["population.residents"] == 100


SAMPLED = """
name = "s"
scenarios = "@SCEN@/citizens_assembly.toml"
root_seed = 9
replications = @REPS@
[sampler]
kind = "@KIND@"
n = @N@
[factors]
"design.facilitation" = { low = 0.1, high = 0.9 }
"design.experiments" = { low = 0, high = 5 }
"deliberation.confidence" = {}
"""


@pytest.mark.parametrize(
    ("kind", "n", "reps", "expected"),
    [("lhs", 10, 2, 10 * 2), ("sobol", 16, 1, 16 * (3 + 2)), ("morris", 4, 1, 4 * (3 + 1))],
)
def test_sampled_designs_have_the_right_size_and_stay_in_bounds(tmp_path, kind, n, reps, expected):
    text = SAMPLED.replace("@KIND@", kind).replace("@N@", str(n)).replace("@REPS@", str(reps))
    experiment = load_experiment(_write(tmp_path, text))
    runs = experiment.runs
    assert len(runs) == expected
    assert len({r.key for r in runs}) == len(runs)
    conf = PARAMETERS["deliberation.confidence"]
    for r in runs:
        assert 0.1 <= r.params["design.facilitation"] <= 0.9
        assert isinstance(r.params["design.experiments"], int)
        assert 0 <= r.params["design.experiments"] <= 5
        assert conf.low <= r.params["deliberation.confidence"] <= conf.high
        assert f"/sample={r.sample:05d}/" in r.key
    again = load_experiment(_write(tmp_path, text, "again.toml"))
    assert [r.params for r in again.runs] == [r.params for r in runs]  # the sample is reproducible


def test_a_range_defaults_to_the_schema_bounds(tmp_path):
    experiment = load_experiment(
        _write(tmp_path, SAMPLED.replace("@KIND@", "lhs").replace("@N@", "4").replace("@REPS@", "1"))
    )
    factor = next(f for f in experiment.factors if f.key == "deliberation.confidence")
    spec = PARAMETERS["deliberation.confidence"]
    assert (factor.low, factor.high) == (spec.low, spec.high)


def test_lhs_samples_each_stratum_once(tmp_path):
    text = SAMPLED.replace("@KIND@", "lhs").replace("@N@", "20").replace("@REPS@", "1")
    runs = load_experiment(_write(tmp_path, text)).runs
    x = np.array([r.params["design.facilitation"] for r in runs])
    strata = np.floor((x - 0.1) / 0.8 * 20).astype(int)
    assert sorted(strata.tolist()) == list(range(20))


def test_grid_range_takes_evenly_spaced_levels(tmp_path):
    text = """
name = "r"
scenarios = "@SCEN@/citizens_assembly.toml"
root_seed = 1
[sampler]
kind = "grid"
levels = 5
[factors]
"design.facilitation" = { low = 0.0, high = 1.0 }
"""
    runs = load_experiment(_write(tmp_path, text)).runs
    assert [r.params["design.facilitation"] for r in runs] == [0.0, 0.25, 0.5, 0.75, 1.0]
