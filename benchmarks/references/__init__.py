"""Reference implementations of the Deffuant model, kept apart from ``model/`` on purpose.

- :mod:`benchmarks.references.numpy_deffuant`: bare numpy, vectorised, no checks, no extensions;
- :mod:`benchmarks.references.mesa_deffuant`: plain Mesa, one agent object per resident, ``shuffle_do``.

``tests/test_benchmark_references.py`` checks that both agree with :func:`model.deliberation.deffuant` on
macro outputs (cluster counts, dispersion).
"""
