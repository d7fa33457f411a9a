"""City contexts from cited data (issue 15, part 3): the five Urban SDG pilot cities load, validate, name a
source and a year for every number, apply in `coprod run` and `coprod sweep` between the scenario file and
the explicit overrides, and set the Explore page's context controls."""

from __future__ import annotations

import json
import sqlite3
import tomllib
from pathlib import Path

import ipyvuetify as v
import pytest
import solara
from coprod.dashboards.app import Page
from coprod.dashboards.choices import Draft
from coprod.dashboards.cities import NONE, city_names, with_city
from coprod.experiments.design import load_experiment
from coprod.model import (
    MAPPINGS,
    PARAMETERS,
    Scenario,
    ScenarioError,
    load_cities,
    load_city,
    load_scenario,
    shipped,
)
from coprod.model.cities import SCOPES

from coprod.cli import main
from tests.support import widgets

ROOT = Path(__file__).resolve().parents[1]
CITIES = ("bangalore", "cape_town", "gothenburg", "greater_manchester", "kisumu")
ASSEMBLY = ROOT / "scenarios" / "citizens_assembly.toml"
SMALL = ["--set", "population.residents=200"]

GOOD_ENTRY = """
[context.inequality]
value = 0.4
raw = 40
mapping = "percent"
indicator = "Gini coefficient of income"
source = "A statistics office, a report"
year = 2016
scope = "city"
"""


def _write(folder: Path, text: str, name: str = "somewhere.toml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def _city_file(folder: Path, entry: str = GOOD_ENTRY, name: str = "somewhere.toml") -> Path:
    return _write(folder, f'name = "Somewhere"\ncountry = "Nowhere"\n{entry}', name)


# ------------------------------------------------------------------------------------ the shipped cities


def test_the_five_pilot_cities_are_shipped():
    assert tuple(shipped()) == CITIES
    assert [c.stem for c in load_cities()] == list(CITIES)


@pytest.mark.parametrize("stem", CITIES)
def test_every_number_in_a_city_file_names_its_source_and_year(stem):
    """Read the file itself, not through the loader: every entry that sets a value cites a source and a year;
    every entry that does not says why the default stays."""
    data = tomllib.loads((ROOT / "scenarios" / "cities" / f"{stem}.toml").read_text())
    entries = {
        f"{s}.{n}": e for s, table in data.items() if isinstance(table, dict) for n, e in table.items()
    }
    assert entries
    for key, entry in entries.items():
        assert key in PARAMETERS, key
        if entry["value"] == "default":
            assert entry["note"].startswith("default: no"), key
            continue
        for field in ("source", "indicator"):
            assert isinstance(entry[field], str) and len(entry[field]) > 10, (key, field)
        assert isinstance(entry["year"], int) and 1990 <= entry["year"] <= 2025, key
        assert entry["scope"] in SCOPES, key
        assert entry["mapping"] in MAPPINGS, key
        if entry["scope"] != "city":  # a figure for a wider area says what it stands in for
            assert entry.get("note"), key


@pytest.mark.parametrize("stem", CITIES)
def test_every_city_loads_validates_and_its_values_follow_from_the_cited_figures(stem):
    city = load_city(stem)
    assert city.figures, "a city sets at least one value from a published figure"
    for f in city.figures:
        assert abs(f.value - MAPPINGS[f.mapping].convert(f.raw)) <= 0.0005, f.key
        spec = PARAMETERS[f.key]
        assert spec.low <= f.value <= spec.high
    scenario = city.apply(Scenario.build({}))
    assert {k: scenario.get(k) for k in city.overrides()} == city.overrides()
    assert set(city.overrides()).isdisjoint(city.defaults)


@pytest.mark.parametrize("stem", CITIES)
def test_a_scenario_in_every_city_runs_two_months(stem, capsys):
    code = main(["run", str(ASSEMBLY), "--city", stem, "--steps", "2", "--json", *SMALL])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    result = json.loads(out)
    assert result["steps"] == 2
    assert result["city"]["name"] == stem
    assert result["city"]["values"] == load_city(stem).overrides()


def test_coprod_cities_lists_every_city_with_its_figures_and_says_what_stands_in(capsys):
    assert main(["cities"]) == 0
    out = capsys.readouterr().out
    for city in load_cities():
        assert f"{city.stem}: {city.name}, {city.country}" in out
        for f in city.figures:
            assert f"{f.key} = {f.value:g}" in out and f.source in out
    assert "national figure stands in for the city" in out
    assert main(["cities", "kisumu", "--markdown"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("| city | parameter | value | indicator")
    assert len(table) == 2 + len(load_city("kisumu").figures) + len(load_city("kisumu").defaults)


# ----------------------------------------------------------------------------------------- bad city files


@pytest.mark.parametrize(
    ("entry", "where", "what"),
    [
        (
            GOOD_ENTRY.replace('source = "A statistics office, a report"\n', ""),
            "context.inequality.source",
            "missing",
        ),
        (GOOD_ENTRY.replace("year = 2016\n", ""), "context.inequality.year", "missing"),
        (
            GOOD_ENTRY.replace("[context.inequality]", "[context.inequalty]"),
            "context.inequalty",
            "did you mean",
        ),
        (GOOD_ENTRY.replace("value = 0.4", "value = 1.4"), "context.inequality.value", "out of bounds"),
        (GOOD_ENTRY.replace("value = 0.4", "value = 0.45"), "context.inequality.value", "does not follow"),
        (GOOD_ENTRY.replace('"percent"', '"guess"'), "context.inequality.mapping", "unknown mapping"),
        (
            GOOD_ENTRY.replace('scope = "city"', 'scope = "planet"'),
            "context.inequality.scope",
            "unknown scope",
        ),
        ('[context.inequality]\nvalue = "default"\n', "context.inequality.note", "missing"),
    ],
    ids=[
        "no-source",
        "no-year",
        "unknown-key",
        "out-of-bounds",
        "value-not-raw",
        "mapping",
        "scope",
        "no-note",
    ],
)
def test_a_bad_city_file_is_one_line_and_exit_2(tmp_path, capsys, entry, where, what):
    path = _city_file(tmp_path, entry)
    with pytest.raises(ScenarioError):
        load_city(path)
    for argv in (["cities", str(path)], ["run", str(ASSEMBLY), "--city", str(path), "--steps", "2"]):
        assert main(argv) == 2
        out, err = capsys.readouterr()
        lines = err.splitlines()
        assert out == "" and len(lines) == 1, lines
        assert lines[0].startswith(f"{path}: ") and where in lines[0] and what in lines[0], lines[0]


def test_an_unknown_city_name_suggests_the_closest(capsys):
    assert main(["run", str(ASSEMBLY), "--city", "kisumo", "--steps", "2"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("command line: --city: unknown city; did you mean kisumu?")
    assert main(["sweep", str(ROOT / "experiments" / "smoke.toml"), "--city", "Cape Twn"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "did you mean cape_town?" in line


def test_a_city_may_be_named_as_people_write_it():
    assert (
        load_city("Greater Manchester").stem == load_city("greater-manchester").stem == "greater_manchester"
    )


# ------------------------------------------------------------------------------------------------ layering


def _recorded_params(db: Path) -> dict:
    with sqlite3.connect(db) as conn:
        (params,) = conn.execute("select params from runs").fetchone()
    return json.loads(params)


def test_run_layers_scenario_file_below_city_below_set(tmp_path, capsys):
    scenario = _write(tmp_path, 'name = "mine"\n[context]\ninequality = 0.1\nelite_bias = 0.2\n', "mine.toml")
    base = ["run", str(scenario), "--steps", "1", *SMALL]

    assert main([*base, "--db", str(tmp_path / "plain.db")]) == 0
    plain = _recorded_params(tmp_path / "plain.db")
    assert plain["context.inequality"] == 0.1

    assert main([*base, "--city", "cape_town", "--db", str(tmp_path / "city.db")]) == 0
    city = _recorded_params(tmp_path / "city.db")
    assert city["context.inequality"] == 0.58  # the city over the scenario file
    assert city["context.state_capacity"] == 0.555
    assert city["context.elite_bias"] == 0.2  # what the city leaves alone stays the file's

    argv = [*base, "--city", "cape_town", "--set", "context.inequality=0.9", "--db", str(tmp_path / "set.db")]
    assert main(argv) == 0
    overridden = _recorded_params(tmp_path / "set.db")
    assert overridden["context.inequality"] == 0.9  # --set over the city
    assert overridden["context.state_capacity"] == 0.555
    capsys.readouterr()


EXPERIMENT = """
name = "cities_tiny"
scenarios = ["{scenario}"]
replications = 1
root_seed = 7
steps = 2
[set]
"population.residents" = 60
{extra}
[factors]
"theory.kind" = ["incremental", "structural"]
"""


def _experiment(folder: Path, extra: str = "") -> Path:
    return _write(folder, EXPERIMENT.format(scenario=ASSEMBLY.as_posix(), extra=extra), "tiny.toml")


def test_an_experiment_layers_the_city_below_set_and_factors(tmp_path):
    plain = load_experiment(_experiment(tmp_path))
    kisumu = load_experiment(_experiment(tmp_path), city="kisumu")
    assert "city" not in plain.definition()
    assert kisumu.definition()["city"]["name"] == "kisumu"
    assert kisumu.definition()["fingerprint"] != plain.definition()["fingerprint"]
    assert {r.params["context.inequality"] for r in kisumu.runs} == {0.404}

    fixed = load_experiment(_experiment(tmp_path, '"context.inequality" = 0.7'), city="kisumu")
    assert {r.params["context.inequality"] for r in fixed.runs} == {0.7}  # [set] over the city
    assert {r.params["population.marginalised_share"] for r in fixed.runs} == {0.49}

    text = EXPERIMENT.format(scenario=ASSEMBLY.as_posix(), extra="") + '"context.inequality" = [0.2]\n'
    varied = load_experiment(_write(tmp_path, text, "varied.toml"), city="kisumu")
    assert {r.params["context.inequality"] for r in varied.runs} == {0.2}  # a factor over the city


def test_a_sweep_records_its_city_and_refuses_a_resume_with_another(tmp_path, capsys):
    path, db = _experiment(tmp_path), tmp_path / "cities.db"
    assert main(["sweep", str(path), "--city", "gothenburg", "--db", str(db), "--workers", "1"]) == 0
    with sqlite3.connect(db) as conn:
        (definition,) = conn.execute("select definition from experiments").fetchone()
        params = [json.loads(p) for (p,) in conn.execute("select params from runs")]
    recorded = json.loads(definition)["city"]
    assert recorded["name"] == "gothenburg" and recorded["values"] == load_city("gothenburg").overrides()
    assert len(params) == 2
    assert all(p["context.inequality"] == 0.32 and p["context.state_capacity"] == 0.855 for p in params)
    capsys.readouterr()

    assert main(["sweep", str(path), "--city", "kisumu", "--db", str(db), "--workers", "1"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "different definition" in line


# ----------------------------------------------------------------------------------------------- dashboard


def test_picking_a_city_sets_the_context_and_picking_another_takes_the_first_back_out():
    default = Draft().check().scenario
    cape = with_city(Draft(), None, "cape_town")
    assert cape.check().scenario.get("context.inequality") == 0.58
    kisumu = with_city(cape, "cape_town", "kisumu")
    scenario = kisumu.check().scenario
    assert scenario.get("context.state_capacity") == 0.437
    assert scenario.get("population.marginalised_share") == 0.49
    none = with_city(kisumu, "kisumu", NONE)
    assert none.check().scenario.to_toml() == default.to_toml()
    goth = with_city(Draft(), None, "gothenburg")  # a city without a marginalised share leaves the default
    assert goth.check().scenario.get("population.marginalised_share") == default.get(
        "population.marginalised_share"
    )


def test_a_slider_moved_after_the_city_keeps_its_value_when_the_city_goes():
    moved = with_city(Draft(), None, "kisumu").with_value("context.inequality", 0.9)
    left = with_city(moved, "kisumu", NONE)
    assert left.values == {"context.inequality": 0.9}


def test_the_explore_page_has_a_city_picker_that_moves_the_context_sliders():
    box, rc = solara.render(Page(), handle_error=False)
    try:
        picker = _one(box, "city-picker", v.Autocomplete)
        assert picker.items == list(city_names().values()) and len(picker.items) == 6
        picker.v_model = "Cape Town, South Africa"
        assert _slider(box, "context.inequality").v_model == 0.58
        # the picker says what the city set (a change of any control starts a new run at once: there is
        # no "press Reset" prompt any more)
        shown = " ".join(_text(w) for w in widgets(box) if hasattr(w, "children"))
        assert "Cape Town: 3 settings from published figures" in shown and "press Reset" not in shown
        picker.v_model = city_names()[NONE]
        assert _slider(box, "context.inequality").v_model == Draft().check().scenario.get(
            "context.inequality"
        )
    finally:
        rc.close()


def test_a_scenario_file_with_a_city_loads_the_same_as_the_city_over_the_file():
    city = load_city("bangalore")
    assert (
        city.apply(load_scenario(ASSEMBLY)).to_toml() == load_scenario(ASSEMBLY, city.overrides()).to_toml()
    )


# the render helpers (the widget walk is tests/support.py's, as in tests/test_dashboard_render.py)


def _one(root, token, kind):
    found = [
        w for w in widgets(root) if isinstance(w, kind) and token in (getattr(w, "class_", "") or "").split()
    ]
    assert len(found) == 1, found
    return found[0]


def _slider(root, key):
    import ipywidgets

    (found,) = [
        w
        for w in widgets(_one(root, f"parameter-{key.replace('.', '-')}", ipywidgets.Widget))
        if isinstance(w, v.Slider)
    ]
    return found


def _text(widget) -> str:
    return "".join(c for c in widget.children if isinstance(c, str))


def _button(root, label):
    (found,) = [w for w in widgets(root) if isinstance(w, v.Btn) and label in w.children]
    return found
