"""Shared test helpers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import coprod.model.warm  # the model's kernels compiled once, before any test's subprocess needs them
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def coprod():
    """Run the ``coprod`` command line in a subprocess; returns a CompletedProcess with text output."""

    def run(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 300):
        return subprocess.run(
            [sys.executable, "-m", "coprod.cli", *args],
            capture_output=True,
            text=True,
            cwd=cwd or ROOT,
            timeout=timeout,
            env={**os.environ, **(env or {})},
        )

    return run
