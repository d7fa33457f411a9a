"""Correctness at scale (timing belongs to benchmarks/)."""

from __future__ import annotations

import numpy as np
import pytest
from coprod.model import OUTPUTS, GovernanceModel, Scenario

pytestmark = pytest.mark.slow


def test_ten_thousand_residents_for_120_months():
    s = Scenario.build(
        {
            "population": {
                "residents": 10_000,
                "officials": 200,
                "academics": 40,
                "civil_society_groups": 100,
                "districts": 20,
            },
            "design": {"kind": "participatory_budgeting", "participants": 600},
        }
    )
    m = GovernanceModel(s, rng=5)
    for _ in range(120):
        m.step()
    frame = m.datacollector.get_model_vars_dataframe()
    assert frame.shape == (121, len(OUTPUTS))
    assert np.isfinite(frame.to_numpy()).all()
    assert m.people.n == 10_340 and m.steps == 120
    assert (m.people.turns[: m.n_residents] > 0).mean() > 0.5  # most residents took part at some point
