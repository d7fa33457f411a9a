"""Test-only fault hooks for sweeps, read from the environment.

The sweep reads them (:func:`from_environment`) and hands them to the worker with each run
(:class:`experiments.worker.RunTask`), which applies them to every run whose key contains ``<text>``; the
tests use them to check what a sweep does under faults, they have no other use:

- ``COPROD_FAULT_RUN_KEY=<text>``: the run raises ``RuntimeError``;
- ``COPROD_FAULT_KILL_RUN_KEY=<text>``: the process running the run kills itself with SIGKILL (as the
  out-of-memory killer would; with one worker and no time limit that process is the sweep itself);
- ``COPROD_FAULT_HANG_RUN_KEY=<text>``: the run sleeps for ever (as a run stuck inside a step would).
"""

from __future__ import annotations

import os

FAULT_ENV = "COPROD_FAULT_RUN_KEY"
KILL_ENV = "COPROD_FAULT_KILL_RUN_KEY"
HANG_ENV = "COPROD_FAULT_HANG_RUN_KEY"
_FAULTS = {"fault": FAULT_ENV, "kill": KILL_ENV, "hang": HANG_ENV}


def from_environment() -> dict[str, str | None]:
    """The hooks set in the environment, as :class:`experiments.worker.RunTask`'s ``fault``, ``kill`` and
    ``hang`` (None where unset or empty)."""
    return {name: os.environ.get(env) or None for name, env in _FAULTS.items()}


__all__ = ["FAULT_ENV", "HANG_ENV", "KILL_ENV", "from_environment"]
