"""Bad scenario input: each file in tests/bad_inputs/ gives exactly its expected lines, exit 2, no output."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from coprod.model import ScenarioError, load_scenario

from coprod.cli import main

FOLDER = Path(__file__).resolve().parent / "bad_inputs"
EXPECTED = tomllib.loads((FOLDER / "_expected.toml").read_text())
FILES = sorted(p for p in FOLDER.glob("*.toml") if not p.name.startswith("_"))


def test_the_corpus_is_complete():
    assert len(FILES) >= 20
    assert sorted(p.name for p in FILES) == sorted(EXPECTED)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_each_bad_file_gives_its_exact_message(path):
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert err.value.lines() == [f"{path}: {line}" for line in EXPECTED[path.name]]


@pytest.mark.parametrize("path", FILES[::3], ids=lambda p: p.stem)
def test_cli_exits_2_with_one_line_per_problem_and_writes_nothing(path, coprod, tmp_path):
    db = tmp_path / "results.db"
    result = coprod("run", str(path), "--db", str(db))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [f"{path}: {line}" for line in EXPECTED[path.name]]
    assert result.stdout == ""
    assert not db.exists()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_validate_command_gives_each_file_its_exact_lines(path, capsys):
    # in-process (the installed command is covered above): every file through `coprod validate`
    assert main(["validate", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [f"{path}: {line}" for line in EXPECTED[path.name]]


def test_validate_accepts_good_and_reports_each_bad_file(coprod):
    good = sorted(str(p) for p in (FOLDER.parents[1] / "scenarios").glob("*.toml"))
    ok = coprod("validate", *good)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.count(": ok (") == len(good)
    bad = coprod("validate", good[0], str(FILES[0]), str(FILES[1]))
    assert bad.returncode == 2
    assert len(bad.stderr.splitlines()) == len(EXPECTED[FILES[0].name]) + len(EXPECTED[FILES[1].name])


def test_missing_file_and_bad_set_are_user_errors(coprod, tmp_path):
    missing = coprod("run", str(tmp_path / "nope.toml"))
    assert missing.returncode == 2 and missing.stderr.strip().endswith("file: no such file")
    bad_set = coprod("run", "scenarios/citizens_assembly.toml", "--set", "design.facilitation=lots")
    assert bad_set.returncode == 2
    assert "design.facilitation: wrong type (got 'lots'" in bad_set.stderr
    unknown = coprod("run", "scenarios/citizens_assembly.toml", "--set", "design.facilitaton=0.5")
    assert "did you mean design.facilitation?" in unknown.stderr
    assert "Traceback" not in missing.stderr + bad_set.stderr + unknown.stderr


def test_command_line_mistakes_are_named_as_the_command_lines_all_at_once(capsys):
    flags = ["--steps", "abc", "--seed", "-1", "--set", "population=3", "--set", "population.residnets=5"]
    code = main(["run", "scenarios/citizens_assembly.toml", *flags])
    assert code == 2
    assert capsys.readouterr().err.splitlines() == [
        "command line: population: is a section, not a setting (allowed one of its keys, population.<key>)",
        "command line: population.residnets: unknown key; did you mean population.residents?",
        "command line: run.steps: wrong type (got 'abc', allowed an integer from 1 to 100_000)",
        "command line: run.seed: out of bounds (got -1, allowed an integer from 0 to "
        "9_223_372_036_854_775_807)",
    ]


def test_a_closed_pipe_ends_quietly():
    # `coprod params | true`: the reader is gone before the first write; no BrokenPipeError traceback
    done = subprocess.run(
        f"'{sys.executable}' -m coprod.cli params | true",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=FOLDER.parents[1],
    )
    assert done.stderr == ""
