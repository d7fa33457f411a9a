"""Outputs measured when read (issue 18, "collection within budget"): a sweep's run measures only the months
it keeps, and keeps exactly what a model recording every month holds for those months."""

from __future__ import annotations

import coprod.model.governance as governance
import pytest
from coprod.model import GovernanceModel, Scenario, simulate

STEPS = 26  # past two betweenness intervals (12 months), so the leadership estimate is redrawn twice


def _scenario(design: str) -> Scenario:
    return Scenario.build({"population": {"residents": 300}, "design": {"kind": design, "participants": 30}})


@pytest.mark.parametrize("design", ["citizens_assembly", "participatory_budgeting"])
def test_a_run_read_every_few_months_keeps_what_a_recording_model_holds(design):
    s = _scenario(design)
    m = GovernanceModel(s, rng=4)  # record=True: Mesa's DataCollector holds every month
    for _ in range(STEPS):
        m.step()
    frame = m.datacollector.get_model_vars_dataframe()
    for every in (1, 5):
        rows = simulate(s, steps=STEPS, seed=4, every=every)
        months = [r["step"] for r in rows]
        assert months == sorted({0, STEPS, *range(0, STEPS + 1, every)})
        for row in rows:
            held = frame.iloc[row["step"]].to_dict()
            assert {k: v for k, v in row.items() if k != "step"} == held, (every, row["step"])


def test_a_run_measures_only_the_months_it_keeps(monkeypatch):
    calls = []
    inner = governance.measure

    def counting(m):
        calls.append(m.steps)
        return inner(m)

    monkeypatch.setattr(governance, "measure", counting)
    simulate(_scenario("citizens_assembly"), steps=24, seed=1, every=6)
    assert calls == [0, 6, 12, 18, 24]


def test_reading_twice_in_a_month_measures_once_and_a_new_month_measures_again(monkeypatch):
    calls = []
    inner = governance.measure
    monkeypatch.setattr(governance, "measure", lambda m: calls.append(m.steps) or inner(m))
    m = GovernanceModel(_scenario("citizens_assembly"), rng=2, record=False)
    first = m.outputs
    assert m.outputs is first and calls == [0]
    m.step()
    assert m.outputs is not first and calls == [0, 1]
