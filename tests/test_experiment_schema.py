"""The experiment file's schema (experiments/experiment_schema.py): one declaration of what an experiment
file may hold, whose refusals are the one-line messages of a scenario (exit 2, FILE: key: what is wrong
(got X, allowed Y)), and which exports as a JSON schema."""

from __future__ import annotations

import json
from pathlib import Path

import annotated_types
import pytest
from coprod.experiments.design import MAX_REPLICATIONS, MAX_SEED, TOP_LEVEL, ExperimentError, load_experiment
from coprod.experiments.experiment_schema import ExperimentFile, check, json_schema

from coprod.cli import main

ROOT = Path(__file__).resolve().parents[1]
GOOD = f"""
name = "schema_check"
scenarios = "{ROOT / "scenarios" / "citizens_assembly.toml"}"
root_seed = 3
replications = 2
steps = 2
[sampler]
kind = "lhs"
n = 4
[factors]
"design.facilitation" = {{ low = 0.2, high = 0.8 }}
"""


def _sweep(tmp_path: Path, capsys, text: str) -> tuple[Path, list[str]]:
    """``coprod sweep`` of an experiment file with ``text``: its exit status must be 2 and nothing written."""
    path = tmp_path / "exp.toml"
    path.write_text(text)
    db = tmp_path / "out.db"
    assert main(["sweep", str(path), "--db", str(db)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and not db.exists()
    return path, err.splitlines()


def test_the_good_file_loads(tmp_path):
    """The base of the bad files below: each differs from it in one setting only."""
    path = tmp_path / "good.toml"
    path.write_text(GOOD)
    experiment = load_experiment(path)
    assert len(experiment.runs) == 4 * 2 and experiment.factors[0].low == 0.2


def test_an_unknown_top_level_key_is_one_line_naming_file_and_key(tmp_path, capsys):
    path, lines = _sweep(tmp_path, capsys, GOOD.replace("replications = 2", "replicatons = 2"))
    assert lines == [f"{path}: replicatons: unknown setting; did you mean replications?"]


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        (
            "replications = 2",
            'replications = "2"',
            "replications: must be an integer (got '2', allowed an integer from 1 to 1000000)",
        ),
        (
            "steps = 2",
            "steps = 2.5",
            "steps: must be an integer (got 2.5, allowed an integer from 1 to 100000)",
        ),
        (
            "steps = 2",
            "steps = 2\ntime_limit = true",
            "time_limit: must be a positive number of seconds (got true, allowed above 0, at most "
            "10_000_000)",
        ),
        (
            "n = 4",
            "n = 4.5",
            "sampler.n: not a valid sample size (got 4.5, allowed an integer of at least 2)",
        ),
        (
            "low = 0.2",
            'low = "0.2"',
            "factors.design.facilitation.low: must be a finite number (got '0.2', allowed a number from 0 "
            "to 1)",
        ),
        (
            'kind = "lhs"',
            "kind = 3",
            "sampler.kind: unknown sampler (got 3, allowed one of grid, lhs, sobol, morris)",
        ),
        (
            "n = 4",
            "n = 4\nsecond_order = 1",
            "sampler.second_order: must be true or false (got 1, allowed true, false)",
        ),
    ],
)
def test_a_wrong_type_is_one_line_naming_file_key_value_and_what_is_allowed(tmp_path, capsys, old, new, line):
    assert old in GOOD
    path, lines = _sweep(tmp_path, capsys, GOOD.replace(old, new))
    assert lines == [f"{path}: {line}"]


@pytest.mark.parametrize(
    ("value", "line"),
    [
        (0, "replications: must be at least 1 (got 0, allowed an integer from 1 to 1000000)"),
        (
            MAX_REPLICATIONS + 1,
            "replications: must be at most 1000000 (got 1000001, allowed an integer from 1 to 1000000)",
        ),
    ],
)
def test_replications_out_of_bounds_is_one_line_naming_file_key_value_and_bounds(
    tmp_path, capsys, value, line
):
    path, lines = _sweep(tmp_path, capsys, GOOD.replace("replications = 2", f"replications = {value}"))
    assert lines == [f"{path}: {line}"]


def test_an_unknown_key_in_a_table_is_refused_by_the_schema(tmp_path, capsys):
    path, lines = _sweep(tmp_path, capsys, GOOD.replace("n = 4", "n = 4\nlevel = 2"))
    assert lines == [f"{path}: sampler.level: unknown sampler setting; did you mean levels?"]
    path, lines = _sweep(tmp_path, capsys, GOOD.replace("high = 0.8", "hihg = 0.8"))
    assert lines == [
        f"{path}: factors.design.facilitation.hihg: unknown range setting (allowed low, high, group)"
    ]


def test_a_misspelt_factor_is_named_once_even_when_its_value_is_also_wrong(tmp_path, capsys):
    """A factor nobody knows is reported by its name alone: what its value should be is moot."""
    text = GOOD.replace('"design.facilitation" = { low = 0.2, high = 0.8 }', '"design.facilitaton" = 0.5')
    path, lines = _sweep(tmp_path, capsys, text)
    assert lines == [
        f"{path}: factors.design.facilitaton: unknown parameter; did you mean design.facilitation?"
    ]


def test_every_fault_of_a_file_shows_at_once(tmp_path):
    """The schema's problems and the checks against the model's parameters come in one error."""
    text = GOOD.replace("replications = 2", "replications = 0\ncolour = 1").replace(
        "high = 0.8", "high = 1.5"
    )
    path = tmp_path / "many.toml"
    path.write_text(text)
    with pytest.raises(ExperimentError) as caught:
        load_experiment(path)
    assert [p.key for p in caught.value.problems] == [
        "colour",
        "replications",
        "factors.design.facilitation.high",
    ]


def test_the_schema_declares_the_bounds_with_the_constants():
    def bounds(name):
        metadata = ExperimentFile.model_fields[name].metadata
        low = next(m.ge for m in metadata if isinstance(m, annotated_types.Ge))
        high = next(m.le for m in metadata if isinstance(m, annotated_types.Le))
        return low, high

    assert bounds("replications") == (1, MAX_REPLICATIONS)
    assert bounds("root_seed") == (0, MAX_SEED)
    assert tuple(f.alias or n for n, f in ExperimentFile.model_fields.items()) == TOP_LEVEL
    assert ExperimentFile.model_config["extra"] == "forbid"


def test_check_gives_the_file_less_its_faults():
    checked = check({"name": "x", "root_seed": 1, "scenarios": "a.toml", "replications": -1, "steps": 4})
    assert [p.key for p in checked.problems] == ["replications"]
    assert checked.refused == {"replications"}
    assert checked.file is not None and checked.file.steps == 4 and checked.file.replications == 1


def test_a_json_schema_is_produced():
    schema = json_schema()
    json.dumps(schema)  # plain data
    assert set(schema["properties"]) == set(TOP_LEVEL)
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"name", "root_seed", "scenarios"}
    assert schema["properties"]["replications"]["maximum"] == MAX_REPLICATIONS
