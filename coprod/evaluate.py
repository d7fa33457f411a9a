"""One run as one function call, for tools that drive a model as ``f(inputs) -> outputs``.

Exploratory-modelling and optimisation tools (EMA Workbench, SALib, Optuna, a notebook's own loop) want a
plain function: parameter values in, final outputs out. :func:`evaluate` is that function; the example
``examples/ema_workbench_example.py`` drives it from EMA Workbench.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from coprod.model import OUTPUTS, Problem, Scenario, ScenarioError, simulate

# the run's length and seed are the keyword arguments, so that no caller sets them twice
_ARGUMENTS = {"run.steps": "steps", "run.seed": "seed"}


def evaluate(params: dict[str, Any], *, steps: int, seed: int) -> dict[str, float]:
    """Run the model once and return the final value of every output.

    ``params`` are flat scenario keys, as in an experiment's ``[set]`` or ``coprod run --set``:
    ``{"design.kind": "citizens_assembly", "theory.kind": "incremental", "population.residents": 300}``.
    Unnamed parameters take the schema's defaults, and ``design.kind`` and ``theory.kind`` bring their
    presets, exactly as in a scenario file (:meth:`model.Scenario.with_overrides`). Numpy scalars, as
    samplers hand them out, are taken as the Python numbers they hold.

    ``steps`` months are run from ``seed`` (the root seed of the model's generator): the same
    ``params``, ``steps`` and ``seed`` give the same outputs.

    Returns ``{name: value}`` for every name in :data:`model.OUTPUTS`, each a float, at the last step.

    Raises :class:`model.ScenarioError` for bad input (an unknown key, a value out of its bounds or of
    the wrong type, ``run.steps`` or ``run.seed`` inside ``params``), one problem per fault.
    """
    doubled = [
        Problem(key, f"is evaluate's {arg}= argument; pass it there, not in params")
        for key, arg in _ARGUMENTS.items()
        if key in params
    ]
    if doubled:
        raise ScenarioError(doubled, "evaluate")
    stated = {**params, "run.steps": steps, "run.seed": seed}
    plain = {key: value.item() if isinstance(value, np.generic) else value for key, value in stated.items()}
    scenario = Scenario.build().with_overrides(plain, source="evaluate")
    final = simulate(scenario, every=scenario.run.steps)[-1]
    return {name: float(final[name]) for name in OUTPUTS}
