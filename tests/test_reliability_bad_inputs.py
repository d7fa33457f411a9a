"""Reliability: bad experiment files, fuzzed experiment files, and input read as data, never run.

Every file in tests/bad_inputs/experiments/ must make ``coprod sweep FILE --db PATH`` exit 2 with exactly
the lines listed for it in that folder's ``_expected.toml``, print no traceback and write nothing (no
database, no results folder). Together with the scenario files in tests/bad_inputs/ (checked by
tests/test_bad_inputs.py) the corpus holds well over 40 bad inputs.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import math
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from coprod.experiments.design import MAX_RUNS, SAMPLERS, TOP_LEVEL, ExperimentError, load_experiment
from coprod.model import OUTPUTS, PARAMETERS, ScenarioError, load_scenario, parse_assignment
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coprod.cli import main
from tests.support import no_hang

ROOT = Path(__file__).resolve().parents[1]
SCENARIO_CORPUS = ROOT / "tests" / "bad_inputs"
FOLDER = SCENARIO_CORPUS / "experiments"
EXPECTED = tomllib.loads((FOLDER / "_expected.toml").read_text())
FILES = sorted(p for p in FOLDER.glob("*.toml") if not p.name.startswith("_"))
COPROD = str(Path(sys.executable).parent / "coprod")
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))


def _expected_lines(path: Path) -> list[str]:
    return [f"{path}: {line}" for line in EXPECTED[path.name]]


# ------------------------------------------------------------------------------------------ the corpus


def test_the_corpus_has_at_least_40_bad_inputs_each_with_its_messages():
    scenario_files = [p for p in SCENARIO_CORPUS.glob("*.toml") if not p.name.startswith("_")]
    assert len(FILES) + len(scenario_files) >= 40
    assert len(FILES) >= 40
    assert sorted(p.name for p in FILES) == sorted(EXPECTED)
    assert all(EXPECTED[p.name] for p in FILES)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_sweep_refuses_each_bad_experiment_file_with_its_exact_lines(path, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the default results/ folder, and whatever an evaluated file would write
    db = tmp_path / "out.db"
    with no_hang(30):  # a design too big to plan must be refused, not planned for hours
        assert main(["sweep", str(path), "--db", str(db)]) == 2
    out, err = capsys.readouterr()
    assert err.splitlines() == _expected_lines(path)
    assert out == ""
    assert list(tmp_path.iterdir()) == []  # no database, no results/, no file made by code in the input


@pytest.mark.parametrize("path", FILES[::8], ids=lambda p: p.stem)
def test_installed_command_exits_2_without_a_traceback_or_a_database(path, tmp_path):
    db = tmp_path / "out.db"
    proc = subprocess.run(
        [COPROD, "sweep", str(path), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == _expected_lines(path)
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_a_bad_base_scenario_is_named_in_the_experiment_message():
    with pytest.raises(ExperimentError) as caught:
        load_experiment(FOLDER / "bad_base_scenario.toml")
    scenario_lines = ["zero_residents.toml" in line for line in caught.value.lines()]
    assert scenario_lines == [True]


# ----------------------------------------------------------------------------------------- fuzzing


class TomlDate:
    """A TOML date or date-time literal (tomllib returns datetime objects for them)."""

    def __init__(self, value: dt.date):
        self.value = value


def _string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped, the rest as it is."""
    body = "".join(
        "\\" + c if c in '"\\' else f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7F else c for c in text
    )
    return f'"{body}"'


def _toml(value) -> str:
    """A TOML value as inline text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, TomlDate):
        return value.value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_string(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def _document(data: dict) -> str:
    return "\n".join(f"{_string(k)} = {_toml(v)}" for k, v in data.items()) + "\n"


KEYS = sorted(PARAMETERS)


def texts(max_size: int):
    return st.text(st.characters(codec="utf-8"), max_size=max_size)  # no lone surrogates: TOML refuses them


PATHS = [str(p) for p in SCENARIOS] + [str(SCENARIO_CORPUS / "zero_residents.toml"), "nope.toml", ""]
numbers = st.one_of(
    st.integers(-3, 40),
    st.integers(-(2**70), 2**70),
    st.sampled_from([2**63, 2**64, 10**400, -(10**400)]),  # TOML integers have no size limit in tomllib
    st.floats(allow_nan=True, allow_infinity=True),
)
leaves = st.one_of(
    numbers,
    st.booleans(),
    texts(12),
    st.sampled_from(PATHS),
    st.sampled_from(["incremental", "structural", "citizens_assembly", "grid", "sobol"]),
    st.builds(TomlDate, st.one_of(st.dates(), st.datetimes())),
)
anything = st.recursive(
    leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts(8), inner, max_size=3)),
    max_leaves=10,
)
factor_entry = st.one_of(
    st.lists(leaves, max_size=4),
    st.fixed_dictionaries({}, optional={"low": numbers, "high": numbers}),
    anything,
)
parameter_keys = st.one_of(st.sampled_from(KEYS), texts(16))
samplers = st.one_of(
    st.sampled_from([*SAMPLERS, "montecarlo"]),
    st.fixed_dictionaries(
        {},
        optional={
            "kind": st.sampled_from([*SAMPLERS, "x"]),
            "n": st.one_of(st.integers(-2, 40), st.sampled_from([8, 16, 64, 2**14]), st.integers(-2, 2**41)),
            "levels": st.one_of(st.integers(-2, 12), st.integers(-2, 10**6), anything),
            "second_order": st.one_of(st.booleans(), anything),
        },
    ),
    anything,
)
# mostly well-formed: the planning (samplers, factor values, combinations, sizes) gets exercised
plausible = st.fixed_dictionaries(
    {
        "root_seed": st.integers(0, 2**63 - 1),
        "scenarios": st.lists(st.sampled_from([str(p) for p in SCENARIOS]), min_size=1, max_size=2),
        "steps": st.integers(1, 24),
    },
    optional={
        "replications": st.one_of(st.integers(1, 4), st.integers(-1, 2**21)),
        "record_every": st.integers(-1, 30),
        "time_limit": numbers,
        "sampler": samplers,
        "factors": st.dictionaries(st.sampled_from(KEYS), factor_entry, max_size=3),
        "set": st.dictionaries(st.sampled_from(KEYS), leaves, max_size=2),
    },
)
# anything goes, in every setting
wild = st.fixed_dictionaries(
    {
        "root_seed": st.one_of(st.integers(-5, 2**64), anything),
        "scenarios": st.one_of(
            st.sampled_from(PATHS), st.lists(st.sampled_from(PATHS), max_size=3), anything
        ),
    },
    optional={
        "name": st.one_of(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,8}", fullmatch=True), anything),
        "description": anything,
        "replications": st.one_of(st.integers(-2, 2**22), anything),
        "steps": st.one_of(st.integers(-2, 300), anything),
        "record_every": st.one_of(st.integers(-2, 300), anything),
        "time_limit": st.one_of(numbers, anything),
        "outputs": st.one_of(st.lists(st.sampled_from(OUTPUTS) | texts(8), max_size=3), anything),
        "sampler": samplers,
        "factors": st.one_of(st.dictionaries(parameter_keys, factor_entry, max_size=3), anything),
        "set": st.one_of(st.dictionaries(parameter_keys, leaves, max_size=3), anything),
        "extra": anything,
    },
)
experiments = st.one_of(plausible, wild)
FUZZ = settings(
    max_examples=300, deadline=dt.timedelta(seconds=10), suppress_health_check=[HealthCheck.too_slow]
)


def _loads_or_refuses(path: Path) -> None:
    """The loader's contract: a usable experiment, or ExperimentError with one line per problem."""
    try:
        experiment = load_experiment(path)
    except ExperimentError as err:
        assert err.lines() and all(line.startswith(f"{path}: ") for line in err.lines())
        return
    assert 0 < len(experiment.runs) <= MAX_RUNS
    json.dumps(experiment.definition())  # what the sweep stores: plain data only
    assert all(isinstance(r.params, dict) and isinstance(r.seed, int) for r in experiment.runs[:5])


@FUZZ
@given(data=experiments)
def test_fuzzed_experiment_files_load_or_are_refused_cleanly(data, tmp_path_factory):
    assert set(TOP_LEVEL) >= {k for k in data if k != "extra"}
    path = tmp_path_factory.mktemp("fuzz") / "exp.toml"
    path.write_text(_document(data), encoding="utf-8")
    _loads_or_refuses(path)


@FUZZ
@given(raw=st.one_of(st.binary(max_size=300), texts(300).map(str.encode)))
def test_arbitrary_bytes_as_an_experiment_file_are_refused_cleanly(raw, tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "junk.toml"
    path.write_bytes(raw)
    _loads_or_refuses(path)


# ------------------------------------------------------------------------- data, never evaluated


def test_a_scenario_or_experiment_written_in_python_is_refused_and_never_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sentinel = tmp_path / "pwned"
    code = [
        f"import os\nos.system('touch {sentinel}')\n",
        f"__import__('os').system('touch {sentinel}')\n",
        f"exec(\"open('{sentinel}', 'w')\")\n",
        f"name = __import__('os').system('touch {sentinel}')\n",
    ]
    for i, text in enumerate(code):
        path = tmp_path / f"code{i}.toml"
        path.write_text(text)
        for load in (load_scenario, load_experiment):
            with pytest.raises(ScenarioError) as caught:
                load(path)
            assert caught.value.lines()[0].startswith(f"{path}: file: is not valid TOML: ")
    assert not sentinel.exists()


def test_python_in_string_values_stays_text(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sentinel = tmp_path / "pwned"
    payload = f"__import__('os').system('touch {sentinel}')"
    scenario = tmp_path / "s.toml"
    scenario.write_text(f"name = {json.dumps(payload)}\ndescription = {json.dumps(payload)}\n")
    loaded = load_scenario(scenario)
    assert loaded.name == payload and loaded.description == payload  # just text
    with pytest.raises(ScenarioError) as caught:
        load_scenario(scenario, {"design.kind": payload})
    assert caught.value.problems[0].key == "design.kind"
    key, value = parse_assignment(f"design.facilitation={payload}")
    assert (key, value) == ("design.facilitation", payload)  # --set reads a TOML value, else text
    assert main(["run", str(scenario), "--set", f"design.facilitation={payload}", "--steps", "1"]) == 2
    assert not sentinel.exists()


CODE_RUNNERS = {"eval", "exec", "compile", "__import__", "execfile"}
UNSAFE_LOADERS = {("pickle", "load"), ("pickle", "loads"), ("marshal", "loads"), ("yaml", "load")}


def test_no_code_path_evaluates_input():
    """A guard against a later change: no eval/exec/compile/__import__ or unsafe deserialiser anywhere
    in the code that reads scenario and experiment files (model, experiments, the CLI, the dashboard)."""
    found = []
    for folder in ("model", "experiments", "coprod", "dashboards"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if not isinstance(node, ast.Call):
                    continue
                f = node.func
                if isinstance(f, ast.Name) and f.id in CODE_RUNNERS:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {f.id}()")
                if (
                    isinstance(f, ast.Attribute)
                    and isinstance(f.value, ast.Name)
                    and (f.value.id, f.attr) in UNSAFE_LOADERS
                ):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {f.value.id}.{f.attr}()")
    assert found == []
