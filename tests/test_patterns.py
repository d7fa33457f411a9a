"""The patterns of DESIGN.md, each an effect with a 95% confidence interval over 30 replications.

The patterns and their arms are data in :mod:`experiments.patterns` (shipped scenario files, 120 months,
common seeds from one root seed). A pattern passes when the interval of its effect lies wholly on the
predicted side of zero against every rival: never a tie, never a readback. Patterns that do not emerge are
strict expected failures with their measured numbers (also in docs/ODD.md 1.2); if a change makes one
emerge, the xfail turns into a failure and the note must be updated.
"""

from __future__ import annotations

import numpy as np
import pytest
from coprod.experiments.patterns import PATTERNS, REPLICATIONS, Pattern, welch

pytestmark = pytest.mark.slow

NOT_EMERGING = {
    "the action research cooperative keeps the most dissensus (lowest toc_attrition)": (
        "does not emerge (30 replications, month 120): the cooperative's toc_attrition is below "
        "participatory budgeting's (-0.255 [-0.293, -0.217]) but above top-down consultation's "
        "(+0.321 [+0.247, +0.396]), the citizens' assembly's (+0.398 [+0.359, +0.438]) and the "
        "partnership's (+0.049 [+0.001, +0.098]): conformity acts inside its experiment teams, and a "
        "long-standing group of 25 loses theories of change that a changing room keeps"
    ),
    "the action research cooperative builds the most capacity": (
        "does not emerge: capacity_networks at month 120 is lower under the cooperative than under "
        "participatory budgeting (-0.110 [-0.118, -0.103]), a citizens' assembly (-0.046 [-0.052, -0.040]) "
        "and top-down consultation (-0.012 [-0.020, -0.005]), above the partnership (+0.007 [+0.001, "
        "+0.013]); the cooperative trains few people deeply and the marker counts the whole city"
    ),
    "more co-financing raises capacity fast (month 24)": (
        "does not emerge: co-financing 0.6 against 0.05 moves capacity_networks at month 24 by +0.002 "
        "[-0.005, +0.009]; faster skills reach only the partners' few participants"
    ),
}


def _case(pattern: Pattern):
    reason = NOT_EMERGING.get(pattern.name)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(pattern, id=pattern.name.replace(" ", "_")[:60], marks=marks)


@pytest.mark.parametrize("pattern", [_case(p) for p in PATTERNS])
def test_pattern_emerges_with_a_confidence_interval_clear_of_zero(pattern: Pattern):
    effects = pattern.effects((), REPLICATIONS)
    assert pattern.holds(effects), "; ".join(e.text() for e in effects)


def test_every_not_emerging_note_names_a_pattern():
    assert set(NOT_EMERGING) <= {p.name for p in PATTERNS}


def test_welch_interval_known_values():
    # two samples of 4 with means 1 and 0 and variance 2/3: se = sqrt(1/3), dof = 6, t(0.975, 6) = 2.4469
    a, b = np.array([0.0, 1.0, 1.0, 2.0]), np.array([-1.0, 0.0, 0.0, 1.0])
    effect = welch(a, b, "b")
    assert effect.difference == pytest.approx(1.0)
    assert effect.high - 1.0 == pytest.approx(2.4469 * np.sqrt(1 / 3), rel=1e-4)
    assert welch(np.ones(3), np.zeros(3), "b").low == 1.0  # no spread: the interval is the point
