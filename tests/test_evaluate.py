"""`coprod.evaluate`: one run as one function call, and the EMA Workbench example that drives it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from coprod.model import OUTPUTS, Scenario, ScenarioError, simulate

from coprod import evaluate

PARAMS = {"design.kind": "citizens_assembly", "theory.kind": "incremental", "population.residents": 100}


def test_the_same_seed_gives_the_same_outputs_and_another_seed_others():
    first = evaluate(PARAMS, steps=4, seed=7)
    assert list(first) == list(OUTPUTS)
    assert all(type(v) is float and math.isfinite(v) for v in first.values())
    assert evaluate(dict(PARAMS), steps=4, seed=7) == first
    assert evaluate(PARAMS, steps=4, seed=8) != first


def test_it_gives_the_final_outputs_of_the_scenario_its_keys_describe():
    scenario = Scenario.build({"design": {"kind": "citizens_assembly"}, "theory": {"kind": "incremental"}})
    scenario = scenario.with_overrides({"population.residents": 100, "run.steps": 4, "run.seed": 7})
    final = simulate(scenario)[-1]
    assert evaluate(PARAMS, steps=4, seed=7) == {name: final[name] for name in OUTPUTS}


def test_numpy_scalars_from_a_sampler_are_taken_as_the_numbers_they_hold():
    sampled = {**PARAMS, "population.residents": np.int64(100), "context.inequality": np.float64(0.5)}
    assert evaluate(sampled, steps=2, seed=np.int64(3)) == evaluate(
        {**PARAMS, "context.inequality": 0.5}, steps=2, seed=3
    )


@pytest.mark.parametrize(
    ("params", "steps", "seed", "expected"),
    [
        (
            {"desing.kind": "citizens_assembly"},
            2,
            1,
            "evaluate: desing.kind: unknown key; did you mean design.kind?",
        ),
        ({"design.kind": "assembly"}, 2, 1, "evaluate: design.kind: unknown choice (got 'assembly'"),
        ({"population.residents": 100.0}, 2, 1, "evaluate: population.residents: wrong type (got 100.0"),
        ({"context.inequality": 1.5}, 2, 1, "evaluate: context.inequality: out of bounds (got 1.5"),
        ({"run.seed": 4}, 2, 1, "evaluate: run.seed: is evaluate's seed= argument; pass it there"),
        ({"run.steps": 4}, 2, 1, "evaluate: run.steps: is evaluate's steps= argument; pass it there"),
        ({}, 0, 1, "evaluate: run.steps: out of bounds (got 0"),
        ({}, 2, -1, "evaluate: run.seed: out of bounds (got -1"),
    ],
    ids=["unknown", "choice", "type", "bounds", "seed-in-params", "steps-in-params", "steps", "seed"],
)
def test_bad_input_is_a_scenario_error_naming_the_key(params, steps, seed, expected):
    with pytest.raises(ScenarioError) as err:
        evaluate(params, steps=steps, seed=seed)
    assert str(err.value).startswith(expected)


# ema_workbench warns at import that its optional ipyparallel evaluator is not installed
@pytest.mark.filterwarnings("ignore:ipyparallel not installed:UserWarning")
def test_the_ema_workbench_example_gives_each_outcome_per_experiment_as_the_mean_over_its_seeds():
    from examples import ema_workbench_example as example

    model = example.build(steps=3, residents=200, replications=2)
    experiments, outcomes = example.explore(model, scenarios=2, policies=2)
    assert len(experiments) == 4 and set(experiments["design"]) <= set(example.DESIGNS)
    assert list(outcomes) == list(example.OUTCOMES)
    assert all(v.shape == (4,) and np.isfinite(v).all() for v in outcomes.values())
    first = experiments.iloc[0]
    params = {key: first[key.split(".")[1]] for key in example.UNCERTAIN}
    params |= {"design.kind": first["design"], "population.residents": 200}
    seeds = [rep["seed"] for rep in model.replications]
    runs = [evaluate(params, steps=3, seed=seed) for seed in seeds]
    assert len(set(seeds)) == 2
    for name in example.OUTCOMES:
        assert outcomes[name][0] == pytest.approx(np.mean([run[name] for run in runs]), abs=1e-12)
