"""The one way the model compiles a kernel (numba; issue 18).

A month at 1,000 residents is a few thousand Python-level calls into numpy and scipy on small arrays, and
their fixed cost, not the arithmetic, is most of its time. The hot loops are compiled with :func:`kernel`;
each compiled kernel sits beside the plain numpy version that documents its maths, and a test checks
that the two agree. Kernels take their random numbers as arrays drawn beforehand from the model's
generator, so compiling a mechanism never changes its random stream.

Settings, the same for every kernel:

- ``cache=True``: the machine code is kept in ``__pycache__`` beside the module, so only the first process
  after a change pays the compilation (a few seconds in all); a sweep's workers and later runs load it.
- ``nogil=True``: kernels release the GIL (threads of a Dask worker can run them side by side).
- no ``fastmath``: IEEE arithmetic, so that the compiled and plain versions agree to rounding and a run is
  the same on every machine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba

SETTINGS: dict[str, Any] = {"cache": True, "nogil": True}


def kernel(fn: Callable) -> Callable:
    """Compile ``fn`` in nopython mode with the model's settings (:data:`SETTINGS`)."""
    return numba.njit(**SETTINGS)(fn)
