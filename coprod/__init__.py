"""The ``coprod`` command line (:mod:`coprod.cli`) and :func:`evaluate`, one run as one function call."""

from coprod.evaluate import evaluate

__all__ = ["evaluate"]
