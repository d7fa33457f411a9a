"""Drive the model from EMA Workbench: uncertain city contexts, the institutional design as the lever.

The model function is :func:`coprod.evaluate` (one run, final outputs); EMA declares the rest. The
uncertainties and their ranges are read from the scenario schema, never typed again; replication is EMA's
own (a ``ReplicatorModel`` whose replications each carry a seed, all drawn from one recorded root seed, the
same seeds for every experiment); each outcome is the mean over the replications.

Run it with ``.venv/bin/python examples/ema_workbench_example.py`` (about 15 s: 4 contexts by the five
designs, 2 replications, 30 months, 200 residents).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from coprod.model import PARAMETERS
from ema_workbench import (
    CategoricalParameter,
    Constant,
    Policy,
    RealParameter,
    ReplicatorModel,
    ScalarOutcome,
    SequentialEvaluator,
    perform_experiments,
)

from coprod import evaluate

UNCERTAIN = ("context.inequality", "context.baseline_trust", "context.civil_society_density")
DESIGNS = PARAMETERS["design.kind"].choices
OUTCOMES = ("consensus_bias", "procedural_justice", "structure")
ROOT_SEED = 20240601


def coproduction(steps: int, seed: int, residents: int, **params) -> dict[str, float]:
    """The model as EMA calls it: every value a keyword, sampled ones under their scenario keys
    (each parameter's ``variable_name``), the constants and the replication's seed by their own names."""
    return evaluate({**params, "population.residents": residents}, steps=steps, seed=seed)


def build(*, steps: int = 30, residents: int = 200, replications: int = 2) -> ReplicatorModel:
    """The EMA model: the uncertainties, the design lever, the outcomes, the constants and the seeds."""
    model = ReplicatorModel("coproduction", function=coproduction)
    model.uncertainties = [
        RealParameter(key.split(".")[1], PARAMETERS[key].low, PARAMETERS[key].high, variable_name=key)
        for key in UNCERTAIN
    ]
    model.levers = [CategoricalParameter("design", DESIGNS, variable_name="design.kind")]
    model.outcomes = [ScalarOutcome(name, function=np.mean) for name in OUTCOMES]
    model.constants = [Constant("steps", steps), Constant("residents", residents)]
    seeds = np.random.SeedSequence(ROOT_SEED).generate_state(replications).tolist()
    model.replications = [{"seed": seed} for seed in seeds]
    return model


def explore(
    model: ReplicatorModel, *, scenarios: int = 4, policies: int | list[Policy] | None = None
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """``scenarios`` sampled contexts (Latin hypercube) by ``policies`` (default: every design), run one
    after another in this process."""
    if policies is None:
        policies = [Policy(design, design=design) for design in DESIGNS]
    with SequentialEvaluator(model) as evaluator:
        return perform_experiments(model, scenarios=scenarios, policies=policies, evaluator=evaluator)


if __name__ == "__main__":
    experiments, outcomes = explore(build())
    table = experiments[["design", *(key.split(".")[1] for key in UNCERTAIN)]].join(pd.DataFrame(outcomes))
    print(table.groupby("design")[list(OUTCOMES)].mean().round(3).to_string())
