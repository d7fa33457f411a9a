"""Target patterns (data/targets/targets.toml, read and checked by experiments/targets.py) and the
observables they name (model/observables.py).

The shipped file loads complete (every row cites a source and names an observable, a design and parameters
that exist); load_targets refuses each kind of bad row with its one line; every observable is finite and in
its range on a short run of each design, and every target's observable is finite from observe_runs on its
design and month; observables answer known values on hand-built states, and measuring never changes the run.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from coprod.experiments.targets import (
    BOUNDS,
    DOCUMENTED,
    LEVELS,
    REQUIRED,
    Target,
    interval_z,
    load_targets,
    observe_runs,
    row_problems,
    target_scenario,
)
from coprod.model import DESIGN_PRESETS, GovernanceModel, Scenario, ScenarioError, read_toml
from coprod.model.decisions import Decision
from coprod.model.kinds import ACADEMIC, GROUP, OFFICIAL, RESIDENT
from coprod.model.knowledge import Speech
from coprod.model.observables import (
    OBSERVABLES,
    RUNNING,
    MeetingRecord,
    ObservedModel,
    knowledge_gain,
    lab_shared_discussed,
    lab_unshared_discussed,
    marginalised_participant_share,
    marginalised_representation,
    need_spend_correlation,
    observe,
    recommendation_uptake,
    retention,
    significant_view_shift,
    simulate_observables,
    willing_share,
)
from scipy.stats import norm

TARGETS_FILE = Path(__file__).resolve().parents[1] / "data" / "targets" / "targets.toml"
ROWS = read_toml(TARGETS_FILE)["target"]
DESIGNS = sorted(DESIGN_PRESETS)


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value)  # a JSON string or number is a TOML one


def write_targets(path: Path, *rows: dict) -> Path:
    """A targets file holding ``rows``."""
    tables = ["[[target]]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in row.items()) for row in rows]
    path.write_text("\n".join(tables), encoding="utf-8")
    return path


def refusal(path: Path, *, complete: bool = True) -> list[str]:
    """The lines load_targets refuses ``path`` with, without the file's name."""
    with pytest.raises(ScenarioError) as caught:
        load_targets(path, complete=complete)
    return [line.removeprefix(f"{path}: ") for line in caught.value.lines()]


# ------------------------------------------------------------------------------------ the target file


def test_the_shipped_file_loads_complete_with_twelve_rows_at_three_levels():
    assert "Version" in TARGETS_FILE.read_text(encoding="utf-8").splitlines()[1]
    targets = load_targets(TARGETS_FILE, complete=True)
    assert len(targets) == 12 and all(isinstance(t, Target) for t in targets)
    # nine published figures, three published directions, under three designs
    assert [t.bound for t in targets].count("") == 9
    assert {t.bound for t in targets} == {"", *BOUNDS}
    assert {t.design for t in targets if t.bound} == {"participatory_budgeting", "top_down_consultation"}
    assert {t.level for t in targets} == set(LEVELS) and len(LEVELS) == 3
    assert [t.id for t in targets] == [row["id"] for row in ROWS]
    assert all(t.informs and t.note.startswith("Design: ") and t.sd > 0 for t in targets)


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_row_is_complete_and_cites_a_source(row):
    assert row_problems(row, "row", complete=True) == []
    assert set(REQUIRED) | set(DOCUMENTED) <= set(row)
    assert row["observable"] in OBSERVABLES  # every shipped target is a statistic of model.observables
    target_scenario(row)  # the scenario it names is valid


ID = "target[1] (dp_omagh_knowledge_gain)"
# a change to the first shipped row (None: drop the field) and the one line load_targets refuses it with
BAD_ROWS = {
    "citation without a year": (
        {"citation": "a report, no author, no year"},
        f"{ID}.citation: must give a year (got 'a report, no author, no year', allowed authors, year, title, "
        "where)",
    ),
    "citation without an author": (
        {"citation": "report of the poll, 2007"},
        f"{ID}.citation: must name an author before the year (got 'report of the poll, 2007', "
        "allowed authors, year, title, where)",
    ),
    "empty citation": (
        {"citation": " "},
        f"{ID}.citation: must be text (got ' ', allowed a non-empty string)",
    ),
    "id not an identifier": (
        {"id": "Omagh poll"},
        "target[1] (Omagh poll).id: must be a lower-case identifier (got 'Omagh poll', "
        "allowed a-z, 0-9 and _, starting with a letter)",
    ),
    "unknown level": (
        {"level": "planet"},
        f"{ID}.level: unknown level (got 'planet', allowed individual, meeting, city)",
    ),
    "unknown observable": (
        {"observable": "knowledge_gian"},
        f"{ID}.observable: not a model output or observable; did you mean knowledge_gain? "
        "(got 'knowledge_gian')",
    ),
    "unknown design": (
        {"design": "town_hall"},
        f"{ID}.design: unknown design (got 'town_hall', allowed top_down_consultation, citizens_assembly, "
        "action_research_cooperative, participatory_budgeting, co_financed_partnership)",
    ),
    "unknown parameter": (
        {"informs": ["deliberation.mention_probability", "no.such_key"]},
        f"{ID}.informs: unknown parameter (got 'no.such_key', allowed a key of coprod params)",
    ),
    "misspelt parameter": (
        {"informs": ["deliberation.mention_probabilty"]},
        f"{ID}.informs: unknown parameter; did you mean deliberation.mention_probability? "
        "(got 'deliberation.mention_probabilty', allowed a key of coprod params)",
    ),
    "informs not a list": (
        {"informs": "design.stipend"},
        f"{ID}.informs: must be a list of parameter keys (got 'design.stipend', allowed e.g. "
        '["design.stipend"])',
    ),
    "value out of range": (
        {"value": 2.0},
        f"{ID}.value: outside knowledge_gain's range (got 2.0, allowed 0 to 1)",
    ),
    "value not a number": (
        {"value": "0.4"},
        f"{ID}.value: must be a finite number (got '0.4')",
    ),
    "empty uncertainty note": (
        {"uncertainty_note": " "},
        f"{ID}.uncertainty_note: must be text (got ' ', allowed a non-empty string)",
    ),
    "value outside its interval": (
        {"sd": None, "interval": [0.6, 0.9], "interval_level": 0.9},
        f"{ID}.value: outside its interval (got 0.359, allowed 0.6 to 0.9)",
    ),
    "interval of unknown level": (
        {"sd": None, "interval": [0.0, 0.9], "interval_level": 0.5},
        f"{ID}.interval_level: unknown level (got 0.5, allowed 0.9 or 0.95)",
    ),
    "interval without a level": (
        {"sd": None, "interval": [0.0, 0.9]},
        f"{ID}.interval_level: missing: the level of the interval (allowed 0.9 or 0.95)",
    ),
    "interval upside down": (
        {"sd": None, "interval": [0.9, 0.1], "interval_level": 0.9},
        f"{ID}.interval: must be [low, high] with low < high (got [0.9, 0.1])",
    ),
    "both sd and interval": (
        {"interval": [0.0, 0.9], "interval_level": 0.9},
        f"{ID}.sd: give sd or interval, not both",
    ),
    "a level without an interval": (
        {"interval_level": 0.9},
        f"{ID}.interval_level: without interval; an sd has no level",
    ),
    "no uncertainty": (
        {"sd": None},
        f"{ID}.sd: missing: give sd, or interval = [low, high] with interval_level",
    ),
    "negative sd": (
        {"sd": -0.1},
        f"{ID}.sd: must be a positive number (got -0.1)",
    ),
    "unknown bound": (
        {"bound": "above"},
        f'{ID}.bound: unknown bound (got \'above\', allowed "at least" or "at most")',
    ),
    "approximate not a bool": (
        {"approximate": "yes"},
        f"{ID}.approximate: must be true or false (got 'yes')",
    ),
    "month 0": (
        {"month": 0},
        f"{ID}.month: must be a whole month (got 0, allowed 1 to 600)",
    ),
    "note without its design": (
        {"note": "A poll."},
        f"{ID}.note: must start with 'Design:' and why the design fits (got 'A poll.')",
    ),
    "unknown field": (
        {"window": [1, 2]},
        f"{ID}.window: unknown field",
    ),
    "misspelt field": (
        {"url": None, "ulr": "https://example.org"},
        f"{ID}.ulr: unknown field; did you mean url?",
    ),
    "missing field": (
        {"citation": None},
        f"{ID}.citation: missing",
    ),
    "missing documentation": (
        {"informs": None},
        f"{ID}.informs: missing",
    ),
}


def changed(row: dict, change: dict) -> dict:
    out = {**row, **change}
    return {k: v for k, v in out.items() if v is not None}


@pytest.mark.parametrize(("change", "line"), BAD_ROWS.values(), ids=BAD_ROWS.keys())
def test_load_targets_refuses_a_bad_row_with_its_line(tmp_path, change, line):
    path = write_targets(tmp_path / "targets.toml", changed(ROWS[0], change))
    assert refusal(path) == [line]
    assert row_problems(changed(ROWS[0], change), ID, complete=True)  # the same check, one row


def test_a_one_sided_target_fits_any_value_on_its_side_and_counts_only_a_shortfall(tmp_path):
    at_least = changed(ROWS[0], {"bound": "at least", "value": 0.5})
    at_most = changed(ROWS[0], {"id": "ceiling", "bound": "at most", "value": 0.5})
    low, high = load_targets(write_targets(tmp_path / "targets.toml", at_least, at_most), complete=True)
    assert (low.bound, high.bound) == ("at least", "at most")
    # on the allowed side the statistic is the bound itself (distance 0); beyond it, the value (shortfall)
    assert [low.fit_statistic(v) for v in (0.9, 0.5, 0.2)] == [0.5, 0.5, 0.2]
    assert [high.fit_statistic(v) for v in (0.9, 0.5, 0.2)] == [0.9, 0.5, 0.5]
    assert [low.on_allowed_side(v) for v in (0.9, 0.5, 0.2, math.nan)] == [True, True, False, False]
    assert [high.on_allowed_side(v) for v in (0.9, 0.5, 0.2, math.nan)] == [False, True, True, False]
    (two_sided,) = load_targets(write_targets(tmp_path / "plain.toml", ROWS[0]))
    assert two_sided.bound == "" and two_sided.fit_statistic(0.9) == 0.9 and two_sided.on_allowed_side(0.9)


def test_the_documentation_is_required_only_of_a_complete_file(tmp_path):
    bare = {k: v for k, v in ROWS[0].items() if k not in DOCUMENTED}
    path = write_targets(tmp_path / "targets.toml", bare)
    (target,) = load_targets(path)
    assert target.informs == () and target.note == "" and target.approximate is False
    assert refusal(path) == [f"{ID}.{name}: missing" for name in DOCUMENTED]


def test_a_repeated_id_and_every_problem_of_a_file_are_reported(tmp_path):
    path = write_targets(tmp_path / "targets.toml", ROWS[0], changed(ROWS[0], {"level": "planet"}))
    assert refusal(path) == [
        "target[2] (dp_omagh_knowledge_gain).level: unknown level "
        "(got 'planet', allowed individual, meeting, city)",
        "target[2] (dp_omagh_knowledge_gain).id: used twice "
        "(got 'dp_omagh_knowledge_gain', allowed a unique id)",
    ]
    path.write_text('[[other]]\nid = "x"\n', encoding="utf-8")
    assert refusal(path) == [
        "other: unknown section; a targets file holds [[target]] tables",
        "target: no [[target]] tables (allowed one [[target]] table per target)",
    ]


def test_an_interval_is_read_as_a_normal_interval(tmp_path):
    assert interval_z(0.95) == pytest.approx(1.959963984540054, abs=1e-12)
    assert interval_z(0.9) == pytest.approx(norm.ppf(0.95), abs=1e-12)
    row = {**ROWS[3]}  # marginalised_representation: range 0 upwards
    rows = [
        changed(row, {"id": "by_sd", "sd": 0.1}),
        changed(
            row, {"id": "at_95", "sd": None, "interval": [0.0, 3.919927969080108], "interval_level": 0.95}
        ),
        changed(
            row, {"id": "at_90", "sd": None, "interval": [1.0, 4.289707253902945], "interval_level": 0.9}
        ),
    ]
    targets = load_targets(write_targets(tmp_path / "targets.toml", *rows), complete=True)
    assert [t.sd for t in targets] == [0.1, pytest.approx(1.0, rel=1e-12), pytest.approx(1.0, rel=1e-12)]


def test_target_scenario_is_the_base_with_the_design():
    base = Scenario.build({"population": {"residents": 300}})
    scenario = target_scenario({"design": "participatory_budgeting"}, base)
    assert scenario.design.kind == "participatory_budgeting" and scenario.population.residents == 300
    (first,) = [t for t in load_targets(TARGETS_FILE) if t.id == ROWS[0]["id"]]
    assert target_scenario(first).design.kind == ROWS[0]["design"]


# -------------------------------------------------------------------------------- observe_runs


def test_observe_runs_gives_every_target_a_finite_value():
    base = Scenario.build({"population": {"residents": 300}})
    for target in load_targets(TARGETS_FILE):
        wanted = (target.observable, target.month)
        value = observe_runs(target_scenario(target, base), [wanted])[wanted]
        o = OBSERVABLES[target.observable]
        assert math.isfinite(value) and o.low <= value <= o.high, (target.id, value)


def test_observe_runs_reads_the_same_run_as_the_plain_model():
    scenario = Scenario.build({"design": {"kind": "citizens_assembly"}, "population": {"residents": 200}})
    scenario = scenario.with_overrides({"run.seed": 13})
    wanted = [("structure", 3), ("retention", 3), ("knowledge_gain_to_date", 4), ("procedural_justice", 4)]
    values = observe_runs(scenario, wanted)
    plain = GovernanceModel(scenario, rng=13)
    observed = ObservedModel(scenario, rng=13)
    for t in range(1, 5):
        plain.step()
        observed.step()
        if t == 3:
            assert values[("structure", 3)] == plain.outputs["structure"]
            assert values[("retention", 3)] == observe(observed, ["retention"])["retention"]
    assert values[("procedural_justice", 4)] == plain.outputs["procedural_justice"]
    assert values[("knowledge_gain_to_date", 4)] == observe(observed)["knowledge_gain_to_date"]
    assert all(math.isfinite(v) for v in values.values()), values
    with pytest.raises(KeyError):
        observe_runs(scenario, [("happiness", 1)])


# ------------------------------------------------------------------------- observables on real runs


@pytest.mark.parametrize("design", DESIGNS)
def test_every_observable_finite_and_in_range_on_a_short_run(design):
    scenario = Scenario.build({"design": {"kind": design}, "population": {"residents": 200}})
    series = simulate_observables(scenario, range(0, 9), seed=7)
    assert set(series) == set(OBSERVABLES)
    for name, values in series.items():
        o = OBSERVABLES[name]
        defined = [v for v in values.values() if not math.isnan(v)]
        assert defined, f"{name} never defined under {design}"
        assert all(math.isfinite(v) and o.low <= v <= o.high for v in defined), (name, defined)


@pytest.mark.parametrize("design", ["citizens_assembly", "participatory_budgeting"])
def test_measuring_never_changes_the_run(design):
    plain = GovernanceModel(design=design, residents=300, rng=11)
    observed = ObservedModel(design=design, residents=300, rng=11)
    for _ in range(5):
        plain.step()
        observed.step()
        observe(observed)
        assert plain.outputs == observed.outputs
    assert np.array_equal(plain.people.view, observed.people.view)
    assert np.array_equal(plain.people.knows, observed.people.knows)


def test_a_plain_model_has_no_record():
    m = GovernanceModel(design="citizens_assembly", residents=200, rng=3)
    m.step()
    m.step()
    values = observe(m)
    assert all(math.isnan(values[name]) for name, o in OBSERVABLES.items() if o.needs_record)
    assert math.isfinite(values["willing_share"]) and math.isfinite(values["recommendation_uptake"])


def test_to_date_is_the_mean_of_the_months_so_far():
    scenario = Scenario.build({"design": {"kind": "citizens_assembly"}, "population": {"residents": 200}})
    series = simulate_observables(scenario, range(1, 7), seed=5)
    for name in RUNNING:
        monthly = [series[name][t] for t in range(1, 7)]
        for t in range(1, 7):
            defined = [v for v in monthly[:t] if not math.isnan(v)]
            expected = float(np.mean(defined)) if defined else math.nan
            assert series[f"{name}_to_date"][t] == pytest.approx(expected, nan_ok=True), (name, t)


def test_months_are_checked():
    with pytest.raises(ValueError):
        simulate_observables(Scenario.build({}), [])
    with pytest.raises(ValueError):
        simulate_observables(Scenario.build({}), [-1, 2])


# ----------------------------------------------------------------- known answers on hand-built states


def tiny(kinds, marginalised=None, **extra):
    """A hand-built model: ``kinds`` per actor (residents first), the default scenario's settings."""
    kinds = np.array(kinds, dtype=np.int8)
    n = len(kinds)
    people = SimpleNamespace(
        kind=kinds,
        marginalised=np.zeros(n, bool) if marginalised is None else np.array(marginalised, bool),
        taking_part=np.zeros(n, bool),
    )
    flows = SimpleNamespace(
        meeting=np.zeros(0, np.int64), speech=None, views_before=np.zeros(0), views_after=np.zeros(0)
    )
    flows.decision = None
    model = SimpleNamespace(
        people=people, flows=flows, n_residents=int((kinds == RESIDENT).sum()), settings=Scenario.build({})
    )
    for key, value in extra.items():
        setattr(model, key, value)
    return model


def test_knowledge_gain_known_answer():
    m = tiny([RESIDENT, RESIDENT, OFFICIAL])
    m.flows.meeting = np.array([0, 1, 2])
    m.flows.speech = Speech(
        held=np.zeros(3, np.int64),
        said=np.zeros(3, np.int64),
        believed_said=np.zeros(3, np.int64),
        lay_held=np.zeros(2, bool),
        believed=np.array([True, True, False, False]),
    )
    before = np.array([[1, 0, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1]], bool)
    # resident 0 learns item 1 of the three it lacked, resident 1 items 0 and 1 of four; the official is
    # not a resident
    assert knowledge_gain(m, MeetingRecord(knows_before=before)) == pytest.approx((1 / 3 + 2 / 4) / 2)
    assert math.isnan(knowledge_gain(m, None))
    assert math.isnan(knowledge_gain(m, MeetingRecord(knows_before=None)))
    m.flows.meeting = np.array([0])
    assert math.isnan(knowledge_gain(m, MeetingRecord(knows_before=before[:1])))


def test_retention_known_answer():
    m = tiny([RESIDENT] * 5 + [OFFICIAL])
    m.people.taking_part[[2, 3, 4, 5]] = True
    record = MeetingRecord(previous_meeting=np.array([0, 1, 2, 3, 5]))
    assert retention(m, record) == pytest.approx(2 / 4)  # the official does not count
    assert math.isnan(retention(m, MeetingRecord()))
    assert math.isnan(retention(m, None))


def test_willing_share_known_answer():
    m = tiny([RESIDENT] * 4 + [OFFICIAL])
    s = m.settings  # top-down defaults: cost 0.5 x (1 - stipend 0), floor 0.5, burn-out at fatigue 0.8
    cost = s.design.participation_cost * (1 - s.design.stipend)
    m.people.capacity = np.array([cost + 0.1, cost + 0.1, cost - 0.1, 1.0, 1.0])
    m.people.fatigue = np.array([0.0, 0.0, 0.0, 0.9, 0.0])  # resident 3 is burnt out
    trust = np.zeros((5, 4))
    trust[:, OFFICIAL] = [1.0, 0.0, 1.0, 1.0, 0.0]
    m.people.trust = trust
    floor = s.behaviour.willingness_floor
    # able: residents 0 and 1; willing with chance 1 and floor
    assert willing_share(m) == pytest.approx((1.0 + floor) / 4)


def test_who_is_in_the_room_known_answer():
    m = tiny([RESIDENT] * 6 + [OFFICIAL, GROUP], marginalised=[1, 1, 0, 0, 0, 0, 0, 0])
    m.flows.meeting = np.array([0, 2, 3, 6, 7])
    assert marginalised_participant_share(m) == pytest.approx(1 / 3)
    assert marginalised_representation(m) == pytest.approx((1 / 3) / (2 / 6))
    m.flows.meeting = np.array([6, 7])
    assert math.isnan(marginalised_participant_share(m))
    assert math.isnan(marginalised_representation(m))


def test_hidden_profile_replica_known_answer():
    m = tiny([RESIDENT])
    m.settings = Scenario.build({"deliberation": {"mention_probability": 0.3, "hidden_profile_bias": 0.6}})
    assert lab_shared_discussed(m) == pytest.approx(((1 - 0.7**3) + (1 - 0.7**6)) / 2)
    assert lab_unshared_discussed(m) == pytest.approx((0.3 * (1 - 0.6 * 2 / 3) + 0.3 * (1 - 0.6 * 5 / 6)) / 2)
    m.settings = Scenario.build({"deliberation": {"mention_probability": 0.3, "hidden_profile_bias": 0.0}})
    assert lab_unshared_discussed(m) == pytest.approx(0.3)
    m.settings = Scenario.build({"deliberation": {"mention_probability": 1.0, "hidden_profile_bias": 0.6}})
    assert lab_shared_discussed(m) == pytest.approx(1.0)


def test_significant_view_shift_known_answer():
    m = tiny([RESIDENT] * 4 + [OFFICIAL])
    m.flows.meeting = np.arange(5)
    m.flows.views_before = np.array([0.2, 0.3, 0.4, 0.5, 0.3])
    m.flows.views_after = m.flows.views_before + np.array([0.10, 0.11, 0.09, 0.10, -0.5])
    assert significant_view_shift(m) == 1.0  # a steady move of 0.1; the official's fall is not counted
    m.flows.views_after = m.flows.views_before + np.array([0.1, -0.1, 0.1, -0.1, 0.0])
    assert significant_view_shift(m) == 0.0  # mean zero
    m.flows.views_after = m.flows.views_before.copy()
    assert significant_view_shift(m) == 0.0  # nobody moved
    m.flows.views_after = m.flows.views_before + 0.05
    assert significant_view_shift(m) == 1.0  # everyone moved the same
    # 0.1 +- 0.3: t = 0.1 / (0.3464 / 2) = 0.58, not significant
    m.flows.views_after = m.flows.views_before + np.array([0.4, -0.2, 0.4, -0.2, 0.0])
    assert significant_view_shift(m) == 0.0
    m.flows.meeting = np.array([0, 4])
    m.flows.views_before, m.flows.views_after = np.zeros(2), np.ones(2)
    assert math.isnan(significant_view_shift(m))  # one resident


def decision(power_idx, power, allocation):
    return Decision(
        position=0.5,
        power_idx=np.array(power_idx),
        power=np.array(power, dtype=float),
        allocation=np.array(allocation, dtype=float),
    )


def test_recommendation_uptake_known_answer():
    m = tiny([RESIDENT, RESIDENT, OFFICIAL, OFFICIAL, ACADEMIC])
    assert math.isnan(recommendation_uptake(m))
    m.flows.decision = decision([0, 1, 2, 3, 4], [0.1, 0.2, 0.3, 0.3, 0.1], [1.0])
    assert recommendation_uptake(m) == pytest.approx(0.4)


def test_need_spend_correlation_known_answer():
    m = tiny([RESIDENT], need=np.array([0.2, 0.5, 0.8]), district_population=np.array([100, 100, 200]))
    assert math.isnan(need_spend_correlation(m))
    # money per head proportional to need: correlation 1
    m.flows.decision = decision([0], [1.0], np.array([0.2, 0.5, 1.6]) / 2.3)
    assert need_spend_correlation(m) == pytest.approx(1.0)
    # per head 0.8, 0.5, 0.2 (reversed): correlation -1
    m.flows.decision = decision([0], [1.0], np.array([80.0, 50.0, 40.0]) / 170)
    assert need_spend_correlation(m) == pytest.approx(-1.0)
    m.flows.decision = decision([0], [1.0], np.array([0.25, 0.25, 0.5]))  # equal per head
    assert math.isnan(need_spend_correlation(m))
