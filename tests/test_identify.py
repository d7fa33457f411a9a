"""The identifiability experiment (experiments/identify.py) on a tiny configuration: it runs, its confusion
matrices count every held-out dataset once, its output does not depend on the number of workers, and bad
ranges are refused with one line, exit status 2 and nothing written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from coprod.model.kinds import THEORIES

ROOT = Path(__file__).resolve().parents[1]
TEST = 1  # held-out datasets per theory in the tiny run
TINY = ["--reference", "3", "--test", str(TEST), "--steps", "12", "--set", "population.residents=200"]


def identify(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "coprod.experiments.identify", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )


@pytest.fixture(scope="module")
def tiny() -> subprocess.CompletedProcess:
    return identify(*TINY, "--workers", "1")


def confusion_matrices(report: str) -> list[list[list[int]]]:
    """Every confusion matrix in the report, as rows of counts (true theory by predicted theory)."""
    lines = report.splitlines()
    matrices = []
    for i, line in enumerate(lines):
        if line.startswith("| true \\ predicted |"):
            rows = lines[i + 2 : i + 2 + len(THEORIES)]
            assert [row.split("|")[1].strip() for row in rows] == list(THEORIES)
            matrices.append([[int(cell) for cell in row.split("|")[2:-2]] for row in rows])
    return matrices


def test_tiny_run_prints_two_four_by_four_confusion_matrices(tiny):
    assert tiny.returncode == 0, tiny.stderr
    matrices = confusion_matrices(tiny.stdout)
    assert len(matrices) == 2  # outcomes only, all outputs
    for matrix in matrices:
        assert len(matrix) == len(THEORIES)
        assert all(len(row) == len(THEORIES) for row in matrix)
        assert all(sum(row) == TEST for row in matrix)  # each theory's held-out datasets, once each
        assert sum(map(sum, matrix)) == len(THEORIES) * TEST
    assert "out-of-bag prior error rate" in tiny.stdout
    assert re.search(r"overall accuracy: \d+ of 4 = ", tiny.stdout)


def test_the_report_does_not_depend_on_the_number_of_workers(tiny):
    two = identify(*TINY, "--workers", "2")
    assert two.returncode == 0, two.stderr
    assert two.stdout == tiny.stdout


@pytest.mark.parametrize(
    ("line", "named"),
    [
        ('"theory.rat" = [0.01, 0.05]', ["theory.rat", "unknown key"]),
        ('"theory.rate" = [0.05, 0.01]', ["theory.rate", "[0.05, 0.01]", "low <= high"]),
    ],
    ids=["unknown-key", "low-above-high"],
)
def test_a_bad_range_is_one_line_exit_2_and_nothing_written(tmp_path, line, named):
    config = tmp_path / "bad.toml"
    config.write_text(f"root_seed = 1\nreference = 3\ntest = 1\nsteps = 12\n\n[ranges]\n{line}\n")
    out = tmp_path / "report.md"
    result = identify(str(config), *TINY, "--workers", "1", "--out", str(out))
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    for text in [str(config), *named]:
        assert text in result.stderr
    assert not out.exists()
