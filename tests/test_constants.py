"""Every constant the mechanisms use is a declared parameter.

The model's code may hold bare numbers 0, 1 and 2 (identities, complements, halves of a pair) and the
documented exceptions below: numerical tolerances, validation messages, definitions that belong to a named
measure. Any other number in mechanism code is a behavioural constant hiding from `coprod params`,
sensitivity analysis and the ODD, and fails this test. Presets (institutions, theories) and the schema
itself are data, not mechanism code.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from coprod.model import PARAMETERS, Scenario, ScenarioError

ROOT = Path(__file__).resolve().parents[1]
# data and plumbing, not mechanisms: the schema and presets; reading input files (size limits); the
# measured cost of a run (model/footprint.py, fitted in benchmarks); city figures and their mappings
DATA_MODULES = {"scenario.py", "institutions.py", "theories.py", "files.py", "footprint.py", "cities.py"}
ALLOWED_NUMBERS = {0, 1, 2}
# (module, enclosing function or "<module>", value): why the number is not a behavioural constant
EXCEPTIONS: dict[tuple[str, str, float], str] = {
    ("decisions.py", "<module>", 1e-9): "TIE_BREAK: random tie-breaking far below any real difference",
    ("deliberation.py", "<module>", 1e-9): "ROW_SUM_TOLERANCE: numerical tolerance of the kernels' checks",
    ("deliberation.py", "<module>", 1e-12): "FIXED_POINT_TOLERANCE: numerical tolerance of a closed form",
    ("deliberation.py", "<module>", 1e-3): "DEFAULT_CLUSTER_GAP: how the validation counts clusters",
    ("deliberation.py", "_opinion_vector", 3): "how many bad values an error message shows",
    ("deliberation.py", "_per_agent", 3): "how many bad values an error message shows",
    ("deliberation.py", "_edge_list", 3): "how many bad values an error message shows",
    ("deliberation.py", "deffuant", 0.5): "Deffuant's convergence parameter is defined on [0, 0.5]",
    ("deliberation.py", "count_clusters", 0.01): "validation: clusters smaller than 1% are not counted",
    ("inequality.py", "total_variation", 0.5): "definition of the total variation distance",
    ("initiatives.py", "complementarity", 4): "4 l (1 - l) peaks at 1 (Jasanoff 2004)",
    ("initiatives.py", "<module>", 8): "_UNROLL: numpy's pairwise summation, reproduced by a kernel",
    ("initiatives.py", "<module>", 128): "_BLOCK: numpy's pairwise summation, reproduced by a kernel",
    ("kinds.py", "Kind", 3): "the fourth kind's code",
    ("metrics.py", "<module>", 8): "RUNGS (Arnstein's eight rungs); _UNROLL (numpy's pairwise sum)",
    ("metrics.py", "<module>", 128): "_BLOCK: numpy's pairwise summation, reproduced by a kernel",
    ("metrics.py", "measure", 0.5): "consensus_displacement is undefined when the two start equal",
    ("metrics.py", "leadership_concentration", 3): "betweenness needs at least three nodes",
    ("network.py", "betweenness", 3): "betweenness needs at least three nodes",
    ("network.py", "_plain_betweenness", 3): "betweenness needs at least three nodes",
    ("simulate.py", "code_version", 12): "length of the source hash in the code version",
    ("observables.py", "<module>", 0.05): "SIGNIFICANCE: a two-sided 5% test (Luskin, Fishkin & Jowell 2002)",
    (
        "observables.py",
        "<module>",
        3,
    ): "LAB_GROUP_SIZES: Stasser, Taylor & Hanna (1989) had groups of 3 and 6",
    (
        "observables.py",
        "<module>",
        6,
    ): "LAB_GROUP_SIZES: Stasser, Taylor & Hanna (1989) had groups of 3 and 6",
}


def bare_numbers(path: Path) -> list[tuple[str, int, float]]:
    """(enclosing function, line, value) of each numeric literal other than 0, 1, 2."""
    found = []

    def visit(node: ast.AST, where: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, ast.FunctionDef | ast.ClassDef) else where
            if (
                isinstance(child, ast.Constant)
                and type(child.value) in (int, float)
                and child.value not in ALLOWED_NUMBERS
            ):
                found.append((where, child.lineno, child.value))
            visit(child, name)

    visit(ast.parse(path.read_text()), "<module>")
    return found


def params_markdown() -> str:
    """What ``coprod params --markdown`` prints."""
    command = [sys.executable, "-m", "coprod.cli", "params", "--markdown"]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=True).stdout


def mechanism_modules() -> list[Path]:
    return [f for f in sorted((ROOT / "model").glob("*.py")) if f.name not in DATA_MODULES]


def test_mechanism_code_holds_no_undeclared_constants():
    hidden = [
        f"model/{f.name}:{line} {value!r} (in {where})"
        for f in mechanism_modules()
        for where, line, value in bare_numbers(f)
        if (f.name, where, value) not in EXCEPTIONS
    ]
    assert not hidden, "declare these in the scenario schema (or document an exception):\n" + "\n".join(
        hidden
    )


def test_every_documented_exception_is_still_there():
    present = {(f.name, where, value) for f in mechanism_modules() for where, _, value in bare_numbers(f)}
    stale = [key for key in EXCEPTIONS if key not in present]
    assert not stale, stale


def test_the_scanner_finds_a_hidden_constant(tmp_path):
    module = tmp_path / "mechanism.py"
    module.write_text("def learn(x):\n    return x + 0.2 * (1 - x)\n")
    assert bare_numbers(module) == [("learn", 2, 0.2)]


@pytest.mark.parametrize("key", sorted(PARAMETERS))
def test_every_parameter_has_a_meaning_units_and_source_and_is_read_by_the_model(key):
    spec = PARAMETERS[key]
    assert spec.meaning and spec.units and spec.source, key
    section, name = key.split(".")
    code = "\n".join(f.read_text() for f in sorted((ROOT / "model").glob("*.py")) if f.name != "scenario.py")
    if key == "design.kind":
        return  # it selects the design's preset, which the scenario loader lays under the file
    # a parameter is read as an attribute, or by name (the structure's levers are a dict of their names)
    pattern = rf"{section}\.kind\b" if name == "kind" else rf"\.{name}\b|\"{name}\""
    assert re.search(pattern, code), f"{key} is declared but no mechanism reads it"


def test_coprod_params_lists_the_behavioural_constants_with_their_sources():
    out = params_markdown()
    for key in ("behaviour.support_line", "behaviour.trust_learning", "deliberation.credibility_deficit"):
        row = next(line for line in out.splitlines() if f"`{key}`" in line)
        assert PARAMETERS[key].source in row, row


def test_the_odd_appendix_lists_every_parameter_as_coprod_params_does():
    out = params_markdown()
    odd = (ROOT / "docs" / "ODD.md").read_text()
    stale = [row for row in out.splitlines() if row.startswith("| `") and row not in odd]
    assert not stale, "regenerate ODD Appendix A from `coprod params --markdown`:\n" + "\n".join(stale[:5])


@pytest.mark.parametrize("key", sorted(k for k, s in PARAMETERS.items() if s.numeric and s.high is not None))
def test_every_numeric_parameter_refuses_a_value_above_its_bound(key):
    spec = PARAMETERS[key]
    over = spec.high + 1 if spec.type == "int" else spec.high + 0.5
    with pytest.raises(ScenarioError) as err:
        Scenario.build({}).with_overrides({key: over})
    assert any(problem.key == key for problem in err.value.problems)
