"""The compiled kernels with numba's bounds checks on: an index past an array's end raises instead of
reading whatever lies in memory there (which a compiled kernel otherwise does, silently).

In a subprocess with ``NUMBA_BOUNDSCHECK=1`` and its own ``NUMBA_CACHE_DIR`` (so the checked machine code
never replaces the cached fast one): the agreement tests of every kernel (``tests/test_fast_*.py``) and
runs of every design under every theory of change at two sizes. About two minutes, most of it compiling.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

RUNS = """
from coprod.model import Scenario, simulate
from coprod.model.kinds import THEORIES
from coprod.model.scenario import DesignKind

for kind in DesignKind:
    for theory in THEORIES:
        for residents in (150, 1000):
            settings = {"design": {"kind": kind.value}, "theory": {"kind": theory}}
            settings["population"] = {"residents": residents}
            simulate(Scenario.build(settings), seed=3, steps=36, every=6)
print("runs done")
"""


@pytest.mark.slow
def test_every_kernel_stays_within_its_arrays(tmp_path):
    env = {**os.environ, "NUMBA_BOUNDSCHECK": "1", "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    fast = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_fast_*.py"))
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *fast],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=900,
    )
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    runs = subprocess.run(
        [sys.executable, "-c", RUNS], capture_output=True, text=True, cwd=ROOT, env=env, timeout=900
    )
    assert runs.returncode == 0 and "runs done" in runs.stdout, runs.stderr[-3000:]
