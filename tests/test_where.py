"""The ``--where`` condition of ``coprod discover`` is a small grammar read by hand, never run as Python:
comparisons of outputs with numbers, joined by and, or, not and parentheses."""

from __future__ import annotations

import numpy as np
import pytest
from coprod.experiments.where import MAX_DEPTH, WhereError, parse
from coprod.model import OUTPUTS, ScenarioError

# four runs; each output a column of four values
VALUES = {
    "structure": np.array([0.1, 0.5, 0.7, 0.9]),
    "consensus_bias": np.array([0.1, 0.3, 0.1, 0.5]),
    "lock_in": np.array([0.0, 1.0, 0.0, 1.0]),
}


def holds(text: str) -> list[bool]:
    return parse(text).holds(VALUES).tolist()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("structure < 0.5", [True, False, False, False]),
        ("structure <= 0.5", [True, True, False, False]),
        ("structure > 0.7", [False, False, False, True]),
        ("structure >= 0.7", [False, False, True, True]),
        ("lock_in == 1", [False, True, False, True]),
        ("lock_in != 1", [True, False, True, False]),
        ("structure>-1e-3", [True, True, True, True]),
        ("structure < .2", [True, False, False, False]),
    ],
)
def test_every_operator_compares_an_output_with_a_number_per_run(text, expected):
    assert holds(text) == expected


def test_and_binds_tighter_than_or():
    # a or b and c  ==  a or (b and c), not (a or b) and c
    text = "structure < 0.2 or lock_in == 1 and consensus_bias > 0.4"
    assert holds(text) == [True, False, False, True]
    assert holds("(structure < 0.2 or lock_in == 1) and consensus_bias > 0.4") == [False, False, False, True]


def test_not_binds_tightest_and_parentheses_regroup():
    assert holds("not lock_in == 1 and structure > 0.6") == [False, False, True, False]
    assert holds("not (lock_in == 1 and structure > 0.6)") == [True, True, True, False]
    assert holds("not not structure < 0.2") == [True, False, False, False]
    assert holds("((structure > 0.6))") == [False, False, True, True]


def test_a_condition_reads_back_as_an_equivalent_condition():
    for text in (
        "structure < 0.2 or lock_in == 1 and consensus_bias > 0.4",
        "(structure < 0.2 or lock_in == 1) and not (consensus_bias > 0.4 or lock_in != 0)",
    ):
        again = parse(str(parse(text)))
        assert again.holds(VALUES).tolist() == holds(text)
    assert str(parse("(structure<0.2 or lock_in==1) and not consensus_bias>.4")) == (
        "(structure < 0.2 or lock_in == 1) and not (consensus_bias > 0.4)"
    )
    assert str(parse("structure<0.2 or (lock_in==1 and structure>0)")) == (
        "structure < 0.2 or lock_in == 1 and structure > 0"
    )
    assert parse("(structure < 0.2 or lock_in == 1) and structure > 0").outputs() == ("structure", "lock_in")


def test_a_nan_output_meets_no_ordering_comparison():
    values = {"structure": np.array([np.nan, 0.4])}
    assert parse("structure < 1 or structure >= 1").holds(values).tolist() == [False, True]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("__import__('os').system('x')", 'unexpected character "\'" at character 12'),
        ("consensus_bias < 0.2; import os", "unexpected character ';' at character 21"),
        (
            "consensus_bais < 0.2",
            "unknown output 'consensus_bais' at character 1; did you mean consensus_bias?",
        ),
        ("structure >", "expected a number after structure > at character 12, found the end"),
        ("structure < 0.2 lock_in > 0", "expected 'and', 'or' or the end at character 17, found 'lock_in'"),
        ("(structure < 0.2", "expected ')' at character 17, found the end"),
        ("structure < 0.2)", "expected 'and', 'or' or the end at character 16, found ')'"),
        ("0.2 > structure", "expected an output name at character 1, found '0.2'"),
        ("structure < nan", "expected a number after structure < at character 13, found 'nan'"),
        ("structure = 1", "unexpected character '=' at character 11"),
        ("structure < 1 AND lock_in > 0", "found 'AND'"),
        ("and", "expected an output name at character 1, found 'and'"),
        ("", "empty condition"),
        ("   ", "empty condition"),
        (
            "(" * (MAX_DEPTH + 1) + "structure < 1" + ")" * (MAX_DEPTH + 1),
            f"nests more than {MAX_DEPTH} levels",
        ),
        ("structure < 1 and " * 200 + "structure < 1", "longer than 2000 characters"),
    ],
)
def test_anything_outside_the_grammar_is_one_line_naming_the_option_the_text_and_what_is_allowed(text, says):
    with pytest.raises(WhereError) as err:
        parse(text)
    assert isinstance(err.value, ScenarioError)  # the command line's exit status 2
    [line] = err.value.lines()
    assert line.startswith("command line: --where: ")
    assert says in line
    assert "allowed " in line
    assert "\n" not in line


def test_an_unknown_output_lists_the_outputs_allowed():
    with pytest.raises(WhereError) as err:
        parse("structur > 0")
    [line] = err.value.lines()
    assert "did you mean structure?" in line
    assert all(name in line for name in OUTPUTS)


def test_the_parser_never_runs_python(monkeypatch):
    import builtins

    def refuse(*args, **kwargs):
        raise AssertionError("eval or exec was called")

    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    assert holds("structure > 0.6 and not lock_in == 1") == [False, False, True, False]
    with pytest.raises(WhereError):
        parse("__import__('os').system('x')")
