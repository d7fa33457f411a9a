"""The report of where each theory of change works (experiments/theory_conditions.py), on made-up runs."""

from __future__ import annotations

import pytest
from coprod.experiments.theory_conditions import report, wilson
from coprod.model.kinds import THEORIES


def test_wilson_interval_known_values():
    # Wilson (1927) score interval at 95%: 5 of 10 gives [0.2366, 0.7634]; 0 of 10 gives [0, 0.2775]
    assert wilson(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson(0, 0) == (0.0, 1.0)


def test_a_theory_fails_where_it_works_under_half_and_works_where_over_half():
    # incremental works only where the factor is in its top third; the others always work
    records = []
    for theory in THEORIES:
        for i in range(30):
            x = i / 29
            records.append(
                {"theory": theory, "params": {"k": x}, "worked": theory != "incremental" or x > 0.7}
            )
    rows = {
        line.split(" | ")[0].strip("| "): line for line in report(records, {"k": (0.0, 1.0)}).splitlines()
    }
    assert "k low, k middle | k high |" in rows["incremental"]
    assert "| nowhere | k low, k middle, k high |" in rows["structural"]
