"""Bad scenario input: each file in tests/bad_inputs/ gives exactly its expected lines, exit 2, no output."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from model import ScenarioError, load_scenario

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
