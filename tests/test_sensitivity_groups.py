"""Grouped sensitivity studies (SALib groups), the replication noise beside the indices, and the "*"
factor that stands for every numeric parameter of the schema."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from coprod.experiments.design import ExperimentError, every_numeric, group_names, load_experiment
from coprod.experiments.sensitivity import replication_noise, sensitivity, sensitivity_markdown
from coprod.experiments.stored_runs import Runs, run_info
from coprod.model import OUTPUTS, PARAMETERS

ROOT = Path(__file__).resolve().parents[1]

GROUPED = f"""
name = "grouped"
scenarios = "{ROOT}/scenarios/citizens_assembly.toml"
root_seed = 7
replications = 2
outputs = ["consensus_bias", "structure"]
[sampler]
kind = "morris"
n = 6
levels = 4
[factors]
"context.inequality" = {{ group = "context" }}
"context.baseline_trust" = {{}}
"design.facilitation" = {{}}
"design.stipend" = {{}}
"structure.citizen_weight" = {{}}
[groups]
"context.baseline_trust" = "context"
"design.facilitation" = "design"
"design.stipend" = "design"
"""


def _load(tmp_path: Path, text: str):
    path = tmp_path / "exp.toml"
    path.write_text(text)
    return load_experiment(path)


def _runs(experiment, y: np.ndarray) -> Runs:
    """A Runs whose consensus_bias at the final step is ``y`` per run (structure constant)."""
    definition = json.loads(json.dumps(experiment.definition()))
    info = [run_info(r.key, r.base, r.params) for r in experiment.runs]
    values = {name: np.zeros((len(info), 1)) for name in OUTPUTS}
    values["consensus_bias"][:, 0] = y
    return Runs(experiment.name, definition, info, np.array([12]), values, {"done": len(info)})


def test_grouped_morris_plans_n_times_groups_plus_one_and_reports_one_row_per_group(tmp_path):
    experiment = _load(tmp_path, GROUPED)
    # a factor named in no group is a group of its own
    assert group_names(experiment.factors) == ["context", "design", "structure.citizen_weight"]
    assert experiment.problem()["groups"] == [
        "context",
        "context",
        "design",
        "design",
        "structure.citizen_weight",
    ]
    assert experiment.size() == len(experiment.runs) == 6 * (3 + 1) * 2
    x = {k: np.array([r.params[k] for r in experiment.runs]) for k in experiment.keys}
    y = 10 * x["design.facilitation"] + 1 * x["context.inequality"]  # replications agree: no noise
    rows, notes = sensitivity(_runs(experiment, y))
    assert notes == ["citizens_assembly: structure does not vary across the sample; no indices"]
    assert [(r["output"], r["factor"]) for r in rows] == [
        ("consensus_bias", "context"),
        ("consensus_bias", "design"),
        ("consensus_bias", "structure.citizen_weight"),
    ]
    mu = {r["factor"]: r["mu_star"] for r in rows}
    assert mu["design"] > mu["context"] > mu["structure.citizen_weight"] == 0
    assert all(r["noise_se"] == 0 and r["noise_mu_star"] == 0 for r in rows)


def test_grouped_sobol_plans_n_times_groups_plus_two(tmp_path):
    text = GROUPED.replace('kind = "morris"\nn = 6\nlevels = 4', 'kind = "sobol"\nn = 8')
    experiment = _load(tmp_path, text)
    assert experiment.size() == len(experiment.runs) == 8 * (3 + 2) * 2


def test_groups_by_section(tmp_path):
    text = GROUPED.split("[groups]")[0].replace("root_seed = 7", 'root_seed = 7\ngroups = "section"')
    experiment = _load(tmp_path, text)
    assert [f.group for f in experiment.factors] == ["context", "context", "design", "design", "structure"]


def test_a_bad_group_is_refused(tmp_path):
    with pytest.raises(ExperimentError, match=r"groups\.context\.elite_bias: not a factor"):
        _load(tmp_path, GROUPED + '"context.elite_bias" = "context"\n')


def test_replication_noise_on_a_hand_made_table(tmp_path):
    experiment = _load(tmp_path, GROUPED)
    y = np.zeros(len(experiment.runs))
    # point means 0, 1, 2, ...; replications 0 and 1 at mean -/+ (sample + 1) / 10: sd = (sample+1)/10*sqrt 2
    for i, r in enumerate(experiment.runs):
        y[i] = r.sample + (1 if r.replication else -1) * (r.sample + 1) / 10
    points = 6 * 4
    se = np.array([(s + 1) / 10 * math.sqrt(2) / math.sqrt(2) for s in range(points)])  # sd / sqrt(R)
    means = np.arange(points, dtype=float)
    noise = replication_noise(_runs(experiment, y), "citizens_assembly", "consensus_bias", points, levels=4)
    assert noise["noise_se"] == pytest.approx(se.mean())
    assert noise["noise_share"] == pytest.approx(np.mean(se**2) / np.var(means, ddof=1))
    delta = 4 / (2 * 3)
    assert noise["noise_mu_star"] == pytest.approx(2 / math.sqrt(math.pi) * math.sqrt(np.mean(se**2)) / delta)
    rows, _ = sensitivity(_runs(experiment, y))
    noise_se = [r["noise_se"] for r in rows if r["output"] == "consensus_bias"]
    assert noise_se == pytest.approx([se.mean()] * 3)
    assert "not distinguishable from zero" in sensitivity_markdown(rows)


def test_one_replication_has_no_noise_estimate(tmp_path):
    experiment = _load(tmp_path, GROUPED.replace("replications = 2", "replications = 1"))
    noise = replication_noise(
        _runs(experiment, np.arange(len(experiment.runs), dtype=float)),
        "citizens_assembly",
        "consensus_bias",
        24,
    )
    assert all(math.isnan(v) for v in noise.values())


def test_star_expands_to_every_numeric_parameter(tmp_path):
    text = f"""
scenarios = "{ROOT}/scenarios/citizens_assembly.toml"
root_seed = 7
groups = "section"
[set]
"population.residents" = 500
[sampler]
kind = "morris"
n = 2
[factors]
"*" = {{}}
"population.officials" = {{ low = 10, high = 80 }}
"population.civil_society_groups" = {{ low = 5, high = 60 }}
"population.districts" = {{ low = 2, high = 20 }}
"context.civil_society_density" = {{ low = 0.05 }}
"network.mean_degree" = {{ low = 4, high = 16 }}
"design.participants" = {{ low = 20, high = 100 }}
"""
    experiment = _load(tmp_path, text)
    expected = [
        k
        for k, p in PARAMETERS.items()
        if p.numeric and not k.startswith("run.") and k != "population.residents"
    ]
    assert experiment.keys == expected  # every numeric parameter, in schema order, [set] left out
    assert len(expected) > 100 and "context.inequality" in expected and "design.kind" not in expected
    officials = next(f for f in experiment.factors if f.key == "population.officials")
    assert (officials.low, officials.high, officials.group) == (
        10,
        80,
        "population",
    )  # named on its own: kept
    trust = next(f for f in experiment.factors if f.key == "context.baseline_trust")
    spec = PARAMETERS["context.baseline_trust"]
    assert (trust.low, trust.high) == (spec.low, spec.high)
    assert every_numeric("theory") == [k for k in expected if k.startswith("theory.")]
    assert experiment.size() == 2 * (9 + 1)


def test_a_section_star_and_a_bad_one(tmp_path):
    base = f"""
scenarios = "{ROOT}/scenarios/citizens_assembly.toml"
root_seed = 7
[sampler]
kind = "morris"
n = 2
[factors]
"""
    experiment = _load(tmp_path, base + '"structure.*" = {}\n')
    assert experiment.keys == every_numeric("structure")
    with pytest.raises(ExperimentError, match="unknown section"):
        _load(tmp_path, base + '"nowhere.*" = {}\n')
    with pytest.raises(ExperimentError, match="whole schema ranges"):
        _load(tmp_path, base + '"*" = { low = 0.1 }\n')


def test_the_shipped_study_loads():
    experiment = load_experiment(ROOT / "experiments" / "morris_all.toml")
    assert group_names(experiment.factors) == [
        "population",
        "context",
        "network",
        "design",
        "structure",
        "theory",
        "deliberation",
        "resources",
        "behaviour",
    ]
    assert len(experiment.factors) == len(every_numeric()) - 1  # all but the residents, fixed in [set]
