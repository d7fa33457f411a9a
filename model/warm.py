"""Importing this module compiles the model's kernels (:mod:`model.jit`), or loads them from numba's cache.

A sweep's worker server (the local pool's forkserver, a Dask LocalCluster's) imports it before forking its
workers, so that they start with the machine code in memory instead of each compiling it on its first run
(seconds per kernel, once per machine after a change; see :mod:`model.jit`). One month of the default city
under every design reaches every kernel, the yearly betweenness estimate included (it runs at month 0).
"""

from __future__ import annotations

from coprod.model.governance import GovernanceModel
from coprod.model.scenario import DesignKind, Scenario


def warm_up() -> None:
    """One month of the default city under every design, measured once: every kernel called."""
    for kind in DesignKind:
        model = GovernanceModel(Scenario.build({"design": {"kind": kind.value}}), record=False)
        model.step()
        _ = model.outputs


warm_up()
