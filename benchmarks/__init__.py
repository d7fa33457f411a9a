"""Benchmarks of coproduction-abm against reference implementations (issue 6).

Speed is measured here, never asserted in tests: ``python -m benchmarks.run [--quick] [--only NAME ...]``
writes ``benchmarks/results/latest.json`` and ``benchmarks/results/latest.md``.
"""
