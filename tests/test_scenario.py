"""The scenario schema: defaults, presets, overrides, listing and round trips."""

from __future__ import annotations

from pathlib import Path

import pytest
from coprod.model import (
    DESIGN_PRESETS,
    PARAMETERS,
    Scenario,
    ScenarioError,
    load_scenario,
    parameters,
    parse_assignment,
)
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))


def test_every_design_has_a_scenario_file_that_validates():
    kinds = set()
    for path in SCENARIOS:
        kinds.add(load_scenario(path).design.kind.value)
    assert kinds == set(DESIGN_PRESETS)


def test_required_keys_exist():
    for key in [
        "population.residents",
        "population.officials",
        "population.academics",
        "population.civil_society_groups",
        "population.marginalised_share",
        "design.kind",
        "theory.kind",
        "run.steps",
        "run.seed",
    ]:
        assert key in PARAMETERS
    assert set(PARAMETERS["design.kind"].choices) == set(DESIGN_PRESETS)
    assert set(PARAMETERS["theory.kind"].choices) == {"incremental", "structural", "knowledge", "coalition"}


def test_every_parameter_declares_default_bounds_units_and_meaning():
    specs = parameters()
    assert len(specs) == len(PARAMETERS) > 60
    for p in specs:
        assert p.meaning and p.units, p.key
        if p.numeric:
            assert p.low is not None and p.high is not None and p.low <= p.default <= p.high, p.key
        else:
            assert p.choices, p.key


def test_design_preset_fills_and_file_overrides(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[design]\nkind = "top_down_consultation"\nfacilitation = 0.9\n')
    s = load_scenario(path)
    preset = DESIGN_PRESETS["top_down_consultation"]["values"]
    assert s.design.official_weight == preset["design"]["official_weight"]
    assert s.structure.citizen_weight == preset["structure"]["citizen_weight"]
    assert s.design.facilitation == 0.9  # the file wins over the preset


def test_switching_design_reapplies_preset_but_keeps_explicit_settings():
    s = Scenario.build({"design": {"kind": "citizens_assembly", "facilitation": 0.33}})
    t = s.with_overrides({"design.kind": "participatory_budgeting", "population.residents": 500})
    assert t.design.decision_rule == "vote"
    assert t.design.facilitation == 0.33
    assert t.population.residents == 500
    assert s.population.residents == 1000  # the original is untouched


def test_scenarios_are_frozen():
    s = Scenario.build({})
    with pytest.raises(Exception, match="frozen"):
        s.population.residents = 5  # type: ignore[misc]


def test_the_stated_settings_cannot_be_changed_from_outside():
    s = load_scenario("scenarios/citizens_assembly.toml")
    s.explicit.setdefault("population", {})["residents"] = 10
    assert s.with_overrides({"run.seed": 2}).population.residents == s.population.residents


def test_toml_round_trip_is_exact(tmp_path):
    s = Scenario.build(
        {
            "design": {"kind": "co_financed_partnership"},
            "theory": {"kind": "coalition"},
            "context": {"inequality": 0.123456789},
        }
    )
    path = tmp_path / "again.toml"
    path.write_text(s.to_toml())
    assert load_scenario(path).flat() == s.flat()


@settings(max_examples=200, deadline=None)
@given(
    name=st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40),
    description=st.text(alphabet=st.characters(codec="utf-8"), max_size=80),
)
def test_any_name_and_description_read_back_exactly(name, description):
    """Text with control characters (a tab, a carriage return, U+0001, DEL) is written as TOML escapes:
    the exported scenario reads back, and as the same text."""
    import tomllib

    s = Scenario.build({"name": name, "description": description})
    back = tomllib.loads(s.to_toml())
    assert (back["name"], back["description"]) == (name, description)


def test_control_characters_are_escaped_not_written():
    s = Scenario.build({"name": "a\x01b\rc\td\x7f", "description": '\\ " \b \f \n'})
    text = s.to_toml()
    assert 'name = "a\\u0001b\\rc\\td\\u007F"' in text
    assert 'description = "\\\\ \\" \\b \\f \\n"' in text


def test_parse_assignment_reads_toml_values():
    assert parse_assignment("population.residents=500") == ("population.residents", 500)
    assert parse_assignment("design.kind=citizens_assembly") == ("design.kind", "citizens_assembly")
    assert parse_assignment('design.stages=["agenda"]') == ("design.stages", ["agenda"])
    with pytest.raises(ScenarioError, match="expected key=value"):
        parse_assignment("population.residents")


@settings(max_examples=60, deadline=None)
@given(key=st.sampled_from(sorted(k for k, p in PARAMETERS.items() if p.numeric)), data=st.data())
def test_any_in_bounds_value_loads_and_any_out_of_bounds_value_names_its_key(key, data):
    spec = PARAMETERS[key]
    base = Scenario.build({"population": {"residents": 100_000}, "design": {"participants": 10}})
    if spec.type == "int":
        inside = data.draw(st.integers(int(spec.low), int(spec.high)))
        outside = data.draw(
            st.one_of(st.integers(max_value=int(spec.low) - 1), st.integers(min_value=int(spec.high) + 1))
        )
    else:
        inside = data.draw(st.floats(spec.low, spec.high))
        outside = data.draw(
            st.one_of(
                st.floats(max_value=spec.low, exclude_max=True),
                st.floats(min_value=spec.high, exclude_min=True),
                st.just(float("nan")),
            )
        )
    try:
        assert base.with_overrides({key: inside}).get(key) == inside
    except ScenarioError as err:  # an in-bounds value may still be inconsistent with another setting
        assert all("than" in p.message or "needs" in p.message or "exist" in p.message for p in err.problems)
    with pytest.raises(ScenarioError) as err:
        base.with_overrides({key: outside})
    assert err.value.problems[0].key == key


@pytest.mark.parametrize("value", [1.5, -0.1, float("nan")])
def test_a_behaviour_parameter_out_of_bounds_is_refused_with_its_key(value):
    spec = PARAMETERS["behaviour.support_line"]
    assert (spec.low, spec.high) == (0.0, 1.0)
    with pytest.raises(ScenarioError) as err:
        Scenario.build({"behaviour": {"support_line": value}})
    assert [p.key for p in err.value.problems] == ["behaviour.support_line"]
    with pytest.raises(ScenarioError) as err:
        Scenario.build({}).with_overrides({"behaviour.support_line": value})
    assert err.value.problems[0].key == "behaviour.support_line"
    assert Scenario.build({"behaviour": {"support_line": 0.7}}).behaviour.support_line == 0.7


def test_every_parameter_names_its_source_and_coprod_params_lists_it(coprod):
    assert all(p.source for p in parameters())
    spec = PARAMETERS["behaviour.support_line"]
    listed = coprod("params")
    assert listed.returncode == 0, listed.stderr
    line = next(row for row in listed.stdout.splitlines() if row.startswith("behaviour.support_line "))
    assert spec.meaning in line and f"(source: {spec.source})" in line
    assert sum(row.startswith(("behaviour.", "design.")) for row in listed.stdout.splitlines()) == sum(
        p.key.startswith(("behaviour.", "design.")) for p in parameters()
    )
    table = coprod("params", "--markdown")
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0].endswith("| source |")
    row = next(row for row in table.stdout.splitlines() if row.startswith("| `behaviour.support_line` |"))
    assert row.rstrip().endswith(f"| {spec.source} |")
