"""Stated hypotheses (data/hypotheses/hypotheses.toml, read and judged by experiments/hypotheses.py).

The shipped file validates and states claims for every theory of change; each kind of bad row is refused
with its one line (exit 2 from the command line); on a tiny sweep run here (two programmes by two designs,
four replications), a claim true by construction is supported, an impossible one refuted, a guard that
cannot hold refutes its hypothesis, and two replications leave a claim undecided (under-replicated).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
from coprod.experiments.hypotheses import (
    HYPOTHESES_FILE,
    MIN_REPLICATIONS,
    Claim,
    hypotheses_report,
    load_hypotheses,
)
from coprod.model import OUTPUTS, ScenarioError
from coprod.model.kinds import THEORIES

from coprod.cli import main

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"

ROW = """
[[hypothesis]]
id = "{id}"
theory = "{theory}"
statement = "a claim"
output = "{output}"
month = {month}
compare = "{compare}"
op = "{op}"
threshold = {threshold}
designs = {designs}
source = "assumption: for a test"
"""
GUARD = """
[[hypothesis.and]]
output = "{output}"
compare = "{compare}"
op = "{op}"
threshold = {threshold}
"""


def row(**given) -> str:
    fields = dict(
        id="h",
        theory="incremental",
        output="consensus_bias",
        month=24,
        compare="level",
        op="<=",
        threshold=1.0,
    )
    fields["designs"] = '"all"'
    return ROW.format(**{**fields, **given})


def guard(**given) -> str:
    return GUARD.format(**{**dict(output="consensus_bias", compare="level", op="<=", threshold=1.0), **given})


def write(tmp_path: Path, text: str, name: str = "hypotheses.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# ----------------------------------------------------------------------------------------- the file


def test_the_shipped_file_states_checked_claims_for_every_theory():
    hypotheses = load_hypotheses(HYPOTHESES_FILE)
    assert len(hypotheses) >= 5
    assert {h.theory for h in hypotheses} == set(THEORIES)
    for h in hypotheses:
        assert all(c.output in OUTPUTS for c in (h.claim, *h.guards))
        assert h.source.strip() and h.statement.strip()
    # each theory has a claim that can fail beyond its own mechanism: an outcome with a guard, or consensus
    outcome = {h.theory for h in hypotheses if h.guards or h.claim.output == "consensus_bias"}
    assert outcome == set(THEORIES)


def test_the_command_lists_the_shipped_hypotheses(capsys):
    assert main(["hypotheses"]) == 0
    out = capsys.readouterr().out
    for h in load_hypotheses():
        assert f"{h.id} ({h.theory}" in out


BAD_ROWS = {
    "unknown output": (row(output="structur"), "(h).output: not a model output; did you mean structure?"),
    "unknown theory": (row(theory="radical"), "(h).theory: unknown theory of change (got 'radical'"),
    "bad op": (row(op=">"), '(h).op: unknown operator (got \'>\', allowed ">=" or "<=")'),
    "missing field": (row().replace('op = "<="\n', ""), "(h).op: missing"),
    "unknown compare": (row(compare="ratio"), "(h).compare: unknown comparison (got 'ratio'"),
    "month 0": (row(month=0), "(h).month: must be a whole month (got 0"),
    "unknown design": (row(designs='["town_hall"]'), "(h).designs: unknown design (got 'town_hall'"),
    "guard output": (row() + guard(output="bias"), "(h).and[1].output: not a model output"),
    "guard versus": (row() + guard(compare="versus"), "(h).and[1].compare: unknown comparison (got 'versus'"),
    "id twice": (row() + row(), "(h).id: used twice"),
    "no source": (row().replace("assumption: for a test", "my hunch"), "(h).source: must say where"),
}


@pytest.mark.parametrize(("text", "line"), list(BAD_ROWS.values()), ids=list(BAD_ROWS))
def test_a_bad_row_is_refused_with_its_one_line_and_exit_2(tmp_path, capsys, text, line):
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as err:
        load_hypotheses(path)
    assert len(err.value.lines()) == 1
    assert err.value.lines()[0].startswith(f"{path}: hypothesis[")
    assert line in err.value.lines()[0]
    assert main(["hypotheses", "--file", str(path)]) == 2
    assert capsys.readouterr().err.strip() == err.value.lines()[0]


@pytest.mark.parametrize(
    ("op", "low", "high", "verdict"),
    [
        (">=", 0.1, 0.3, "supported"),
        (">=", -0.3, -0.1, "refuted"),
        (">=", -0.1, 0.1, "undecided"),
        (">=", 0.0, 0.0, "undecided"),  # a tie cannot pass (docs/ODD.md 1.2)
        ("<=", -0.3, -0.1, "supported"),
        ("<=", 0.1, 0.3, "refuted"),
        ("<=", math.nan, math.nan, "undecided"),
    ],
)
def test_the_verdict_reads_where_the_interval_lies_against_the_threshold(op, low, high, verdict):
    assert Claim("structure", 12, "level", op, 0.0).verdict(low, high) == verdict


# ------------------------------------------------------------------------------- on a tiny sweep

EXPERIMENT = """
name = "{name}"
description = "stated hypotheses test"
scenarios = {scenarios}
replications = {replications}
root_seed = 5
steps = {steps}
record_every = 12

[set]
"population.residents" = 200

[sampler]
kind = "grid"

[factors]
"theory.kind" = {theories}
"""


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory) -> Path:
    """Two programmes by two designs, four replications, 24 months (``grid``); and two replications of one
    cell, 12 months (``pair``), in one database."""
    where = tmp_path_factory.mktemp("hypotheses")
    db = where / "results.db"
    two = [str(SCENARIOS / "top_down_consultation.toml"), str(SCENARIOS / "citizens_assembly.toml")]
    grid = EXPERIMENT.format(
        name="grid", scenarios=two, replications=4, steps=24, theories='["incremental", "structural"]'
    )
    pair = EXPERIMENT.format(
        name="pair", scenarios=two[1:], replications=2, steps=12, theories='["incremental"]'
    )
    for name, text in (("grid", grid), ("pair", pair)):
        assert (
            main(["sweep", str(write(where, text, f"{name}.toml")), "--db", str(db), "--workers", "2"]) == 0
        )
    return db


CLAIMS = (
    # true by construction: consensus_bias lies in [0, 1]
    row(id="bounded", threshold=1.0)
    # impossible: above its upper bound
    + row(id="impossible", op=">=", threshold=2.0)
    # a difference of two values in [0, 1] is above -1
    + row(id="versus_bounded", compare="versus", op=">=", threshold=-1.0)
    # true claim, impossible guard
    + row(id="guarded", threshold=1.0)
    + guard(op=">=", threshold=2.0)
    # the runs end at month 24
    + row(id="too_late", month=36)
    # no run of this programme in the experiment
    + row(id="absent", theory="coalition")
)


def test_claims_true_by_construction_are_supported_and_impossible_ones_refuted(tiny_db, tmp_path):
    path = write(tmp_path, CLAIMS)
    text, rows = hypotheses_report(tiny_db, "grid", load_hypotheses(path))
    verdicts = {(r["id"], r["design"]): r["verdict"] for r in rows}
    for design in ("top_down_consultation", "citizens_assembly"):
        assert verdicts[("bounded", design)] == "supported"
        assert verdicts[("impossible", design)] == "refuted"
        assert verdicts[("versus_bounded", design)] == "supported"
        assert verdicts[("guarded", design)] == "refuted"
        assert verdicts[("too_late", design)] == "undecided"
    assert {r["n"] for r in rows if r["id"] != "too_late"} == {4}
    versus = next(r for r in rows if r["id"] == "versus_bounded")
    assert versus["versus"] == "structural" and versus["ci_low"] <= versus["effect"] <= versus["ci_high"]
    guarded = next(r for r in rows if r["id"] == "guarded")
    assert "guard consensus_bias" in guarded["reason"]
    assert "month 36 not reached" in next(r for r in rows if r["id"] == "too_late")["reason"]
    assert not any(r["id"] == "absent" for r in rows)
    assert "absent: not evaluated: no runs of the coalition programme" in text


def test_two_replications_leave_a_claim_undecided(tiny_db, tmp_path):
    path = write(
        tmp_path, row(id="bounded", month=12) + row(id="impossible", month=12, op=">=", threshold=2.0)
    )
    _, rows = hypotheses_report(tiny_db, "pair", load_hypotheses(path))
    assert [r["verdict"] for r in rows] == ["undecided", "undecided"]
    assert all(r["n"] == 2 < MIN_REPLICATIONS for r in rows)
    assert all(r["reason"].startswith("under-replicated") for r in rows)


def test_the_command_judges_a_database_and_writes_markdown_and_csv(tiny_db, tmp_path, capsys):
    path, out = write(tmp_path, CLAIMS), tmp_path / "out"
    args = [
        "hypotheses",
        "--file",
        str(path),
        "--db",
        str(tiny_db),
        "--experiment",
        "grid",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "| `bounded` | top_down_consultation |" in printed and "**refuted**" in printed
    with (out / "hypotheses.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert {r["experiment"] for r in rows} == {"grid"}
    assert {r["verdict"] for r in rows if r["id"] == "bounded"} == {"supported"}
    assert "| hypothesis | design | claim |" in (out / "hypotheses.md").read_text()
    assert main(["hypotheses", "--db", str(tiny_db), "--experiment", "gird"]) == 2
    assert "no experiment 'gird'; did you mean grid?" in capsys.readouterr().err


def test_the_report_of_a_grid_experiment_judges_the_shipped_hypotheses(tiny_db, tmp_path):
    out = tmp_path / "report"
    assert main(["analyze", "--db", str(tiny_db), "--experiment", "grid", "--out", str(out)]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Stated hypotheses of the theories of change" in page
    table = (out / "hypotheses.md").read_text(encoding="utf-8")
    # the shipped incremental and structural hypotheses, judged per design (the other two theories are absent)
    assert "`structural_power`" in table and "`incremental_capacity`" in table
    assert "coalition_voice: not evaluated" in table
    assert (out / "hypotheses.csv").read_text(encoding="utf-8").startswith("id,")
