"""What runs in a worker process: one run of the model from plain data, back as plain data.

A :class:`RunTask` holds everything one run needs (the scenario's flat parameters, the seed, the recording
interval, the time limit and the test-only fault hooks of :mod:`experiments.faults`), so that it pickles
for any executor; :func:`execute` runs it and returns a :class:`RunResult`, and never raises for a fault of
the run itself: a run that raises comes back ``failed`` with its traceback, one slower than the time limit
``timed_out`` (checked between steps). :func:`run_bundle` is a Dask task's unit of work, several runs one
after another. ``coprod rerun`` and the dashboard rebuild a stored run's scenario with
:func:`scenario_from_params`.
"""

from __future__ import annotations

import os
import signal
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from coprod.experiments.faults import FAULT_ENV
from coprod.model import Scenario, code_version


@dataclass(frozen=True)
class RunTask:
    """What a worker needs for one run: plain data, so it pickles for any executor."""

    run_key: str
    scenario: str
    params: dict[str, Any]
    seed: int
    every: int
    time_limit: float | None = None
    fault: str | None = None
    kill: str | None = None
    hang: str | None = None


@dataclass
class RunResult:
    run_key: str
    status: str
    rows: list[dict[str, float]] = field(default_factory=list)
    error: str = ""
    started: str = ""
    seconds: float = 0.0
    code_version: str = ""


def scenario_from_params(name: str, params: dict[str, Any]) -> Scenario:
    """Rebuild a scenario from its flat stored parameters (``Scenario.flat()``)."""
    nested: dict[str, dict[str, Any]] = {}
    for key, value in params.items():
        section, _, item = key.partition(".")
        nested.setdefault(section, {})[item] = value
    return Scenario.build({"name": name, **nested}, source=f"stored parameters of {name}")


def execute(task: RunTask) -> RunResult:
    """Run one task; never raises for a fault of the run itself."""
    from coprod.model.simulate import TimeLimitExceeded, simulate

    started = now()
    clock = time.perf_counter()
    result = RunResult(task.run_key, "done", started=started, code_version=code_version())
    if task.kill and task.kill in task.run_key:
        os.kill(os.getpid(), signal.SIGKILL)
    while task.hang and task.hang in task.run_key:
        time.sleep(3600)
    try:
        if task.fault and task.fault in task.run_key:
            raise RuntimeError(f"test-only fault injected by {FAULT_ENV}={task.fault!r}")
        scenario = scenario_from_params(task.scenario, task.params)
        result.rows = simulate(scenario, seed=task.seed, every=task.every, time_limit=task.time_limit)
    except TimeLimitExceeded as err:
        result.status, result.error = "timed_out", str(err)
    except Exception:
        result.status, result.error = "failed", traceback.format_exc()
    result.seconds = time.perf_counter() - clock
    return result


def run_bundle(tasks: list[RunTask]) -> list[RunResult]:
    """A worker's unit of work: several runs, one after another."""
    return [execute(task) for task in tasks]


def now() -> str:
    """The local time, as a run's ``started`` is stored."""
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


__all__ = ["RunResult", "RunTask", "execute", "now", "run_bundle", "scenario_from_params"]
