"""Run a scenario to the end and hand back its outputs: the one entry point batch work and the CLI share."""

from __future__ import annotations

import hashlib
import time
from functools import cache
from pathlib import Path

from coprod.model.governance import GovernanceModel
from coprod.model.metrics import OUTPUTS
from coprod.model.scenario import Scenario


class TimeLimitExceeded(Exception):
    """A run went past its ``time_limit`` (a sweep records it as ``timed_out``)."""


def simulate(
    scenario: Scenario,
    *,
    steps: int | None = None,
    seed: int | None = None,
    every: int = 1,
    time_limit: float | None = None,
) -> list[dict[str, float]]:
    """Run ``scenario`` and return one row per recorded step: ``{"step": t, output: value, ...}``.

    ``steps`` and ``seed`` default to the scenario's ``run`` section; step 0 (the start) and the last step
    are always recorded, and every ``every``-th step in between. With ``time_limit`` (seconds of wall
    time, read between steps) a run that passes it raises :class:`TimeLimitExceeded`.
    """
    steps = scenario.run.steps if steps is None else steps
    seed = scenario.run.seed if seed is None else seed
    start = time.perf_counter()
    model = GovernanceModel(scenario, rng=seed, record=False)
    rows = [{"step": 0, **model.outputs}]
    for t in range(1, steps + 1):
        if time_limit is not None and time.perf_counter() - start > time_limit:
            raise TimeLimitExceeded(f"time limit of {time_limit:g} s passed after {t - 1} of {steps} steps")
        model.step()
        if t % every == 0 or t == steps:
            rows.append({"step": t, **model.outputs})
    return rows


@cache
def code_version() -> str:
    """Package version plus a hash of the model's source: runs from different model code never mix.

    Taken once, when this module is imported (below), so it names the code this process loaded, not
    what is on disk later: a sweep's workers, forked from a server that imported the model, carry the
    coordinator's version even if a file changes during the sweep."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("coproduction-abm")
    except PackageNotFoundError:
        release = "0+unknown"
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return f"{release}+{digest.hexdigest()[:12]}"


code_version()  # the code loaded now

__all__ = ["OUTPUTS", "code_version", "simulate"]
