"""The readback guard: every output is measured from what agents did, so it moves.

Over the five designs by the four theories of change (shipped scenario files, a few seeds, 120 months), an
output that is constant from month 12 to month 120 in any cell, or identically zero in more than one
design, is a copy of a preset (or a switch that is off by construction), not a measurement.

Two kinds of stillness are results, not readbacks, and are allowed only when the run shows why: a lever
that stays put when no theory working it worked in that run (no one moved it: "this theory did not work
here"), and a theory's condition that stays at 0 (never met) or at 1 (met and held) throughout.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest
from coprod.experiments.patterns import DESIGNS
from coprod.model import OUTPUTS, load_scenario, simulate
from coprod.model.conditions import TIPPING
from coprod.model.kinds import THEORIES, THEORY_INDEX
from coprod.model.theories import THEORY_LEVERS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SEEDS = (11, 12)
FROM, STEPS = 12, 120
FLAT = 1e-9  # a series whose range is below this is constant


@cache
def series(design: str, theory: str) -> dict[str, np.ndarray]:
    """Each output from month FROM to STEPS, one row per seed."""
    scenario = load_scenario(ROOT / "scenarios" / f"{design}.toml", {"theory.kind": theory})
    runs = [simulate(scenario, steps=STEPS, seed=seed)[FROM:] for seed in SEEDS]
    return {name: np.array([[row[name] for row in rows] for rows in runs]) for name in OUTPUTS}


def constant_cells() -> list[str]:
    found = []
    for design in DESIGNS:
        for theory in THEORIES:
            for name, values in series(design, theory).items():
                flat = np.ptp(values, axis=1) < FLAT
                for row in np.flatnonzero(flat):
                    if not still_for_a_reason(design, theory, name, row):
                        found.append(f"{name} in {design}/{theory} (seed {SEEDS[row]})")
    return found


def still_for_a_reason(design: str, theory: str, name: str, row: int) -> bool:
    """A lever no working theory pushed, or a condition never met or met throughout (see the docstring)."""
    runs = series(design, theory)
    if name.startswith("condition_"):
        value = runs[name][row, 0]
        return value == 0.0 or value == 1.0
    if name.startswith("lever_"):
        lever = name.removeprefix("lever_")
        for held, levers in THEORY_LEVERS.items():
            condition = runs[f"condition_{held}"][row]
            worked = (condition >= 1).any() if THEORY_INDEX[held] in TIPPING else (condition > 0).any()
            if lever in levers and worked:
                return False
        return True
    return False


def test_no_output_is_constant_from_month_12_in_any_design_and_theory():
    found = constant_cells()
    assert not found, f"{len(found)} constant series: " + "; ".join(found[:20])


def test_no_output_is_identically_zero_in_more_than_one_design():
    zero = {
        name: [d for d in DESIGNS if all(not series(d, t)[name].any() for t in THEORIES)] for name in OUTPUTS
    }
    bad = {name: designs for name, designs in zero.items() if len(designs) > 1}
    assert not bad, bad
