"""numba's ``np.random.Generator`` inside a compiled kernel draws what numpy draws (issue 18's route on).

The kernels of :mod:`model.jit` take their random numbers as arrays drawn beforehand, so that compiling a
mechanism never changed a run; what is left of a month is largely those numpy calls. A kernel may instead
take the model's generator itself and draw inside: for every method the model uses but ``choice`` (which
numba does not type), numba 0.68 gives the same numbers and leaves the generator in the same state, so a
fused kernel would keep every run as it is. These tests pin that, for whoever fuses the draws.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

DRAWS = {
    "random": lambda r: r.random(50),
    "standard_normal": lambda r: r.standard_normal(50),
    "integers": lambda r: r.integers(0, 37, size=50),
    "permutation": lambda r: r.permutation(50),
    "poisson": lambda r: r.poisson(3.0, size=50),
    "uniform": lambda r: r.uniform(0.2, 0.9, size=50),
    "beta": lambda r: r.beta(2.0, 5.0, size=50),
    "one at a time": lambda r: np.array([r.random() for _ in range(50)]),
}


@pytest.mark.parametrize("name", DRAWS)
def test_a_kernel_draws_what_numpy_draws(name):
    compiled, plain = np.random.default_rng(11), np.random.default_rng(11)
    assert np.array_equal(numba.njit(DRAWS[name])(compiled), DRAWS[name](plain))
    assert compiled.bit_generator.state == plain.bit_generator.state  # the stream goes on alike


def test_choice_is_not_typed_in_a_kernel():
    """``rng.choice`` (five calls in the model) would need numpy's algorithm written out in the kernel."""
    with pytest.raises(numba.core.errors.TypingError):
        numba.njit(lambda r: r.choice(50, 10, replace=False))(np.random.default_rng(1))
