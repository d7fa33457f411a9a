"""Scenario discovery (``coprod discover``): PRIM recovers a known box, its numbers are the direct counts,
the chosen box follows the declared rule, and the command runs end to end on a tiny sweep."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from coprod.experiments.discovery import FILES, MIN_COVERAGE, Limit, choose_box, discover

from coprod.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def known_box():
    """1000 points uniform in [0, 1]^3; the condition holds where x1 > 0.6 and x2 < 0.3."""
    rng = np.random.default_rng(16)
    x = pd.DataFrame(rng.uniform(size=(1000, 3)), columns=["x1", "x2", "x3"])
    y = ((x["x1"] > 0.6) & (x["x2"] < 0.3)).to_numpy()
    return x, y, discover(x, y, resamples=0)


def test_prim_recovers_a_known_box_within_a_tenth(known_box):
    _, _, d = known_box
    limits = {lim.name: lim for lim in d.limits}
    assert limits["x1"].restricted and limits["x2"].restricted and not limits["x3"].restricted
    assert limits["x1"].low == pytest.approx(0.6, abs=0.1)
    assert limits["x2"].high == pytest.approx(0.3, abs=0.1)
    assert d.box["coverage"] >= MIN_COVERAGE and d.box["density"] > 0.9
    # each restricted side with a quasi-p-value far below 5%, the side left open with none
    assert limits["x1"].qp_low < 1e-6 and np.isnan(limits["x1"].qp_high)
    assert limits["x2"].qp_high < 1e-6 and np.isnan(limits["x2"].qp_low)


def test_coverage_and_density_are_the_direct_counts_of_runs_in_the_chosen_box(known_box):
    x, y, d = known_box
    inside = d.in_box(x)
    assert (d.n, d.meeting) == (1000, int(y.sum()))
    assert d.box["n"] == inside.sum() and d.box["k"] == (inside & y).sum()
    assert d.box["coverage"] == pytest.approx((inside & y).sum() / y.sum())
    assert d.box["density"] == pytest.approx((inside & y).sum() / inside.sum())
    assert d.trajectory.iloc[0][["coverage", "density", "mass"]].tolist() == pytest.approx([1, y.mean(), 1])
    # both ends of a limit are inside, as in EMA's own counts
    edge = Limit("x1", categorical=False, restricted=True, low=0.2, high=0.6)
    assert edge.contains(pd.Series([0.1999, 0.2, 0.6, 0.6001])).tolist() == [False, True, True, False]


def test_the_chosen_box_is_the_densest_with_at_least_the_declared_coverage(known_box):
    _, _, d = known_box
    t = d.trajectory
    eligible = t[t["coverage"] >= MIN_COVERAGE]
    assert d.chosen == choose_box(t)
    assert t.loc[d.chosen, "density"] == eligible["density"].max()
    ties = pd.DataFrame(
        {"coverage": [1, 0.8, 0.6, 0.4], "density": [0.3, 0.9, 0.9, 1.0], "res_dim": [0, 1, 2, 2]}
    )
    assert choose_box(ties) == 1  # equal density: the higher coverage; 0.4 coverage is below the rule


def test_a_categorical_input_is_peeled_to_the_values_that_matter():
    rng = np.random.default_rng(5)
    x = pd.DataFrame({"x1": rng.uniform(size=600)})
    x["theory.kind"] = pd.Categorical(rng.choice(["incremental", "structural", "knowledge"], 600))
    y = ((x["x1"] > 0.5) & (x["theory.kind"] == "structural")).to_numpy()
    d = discover(x, y, resamples=0)
    kind = next(lim for lim in d.limits if lim.name == "theory.kind")
    assert kind.categorical and kind.restricted and kind.values == ("structural",)
    assert kind.whole_values == ("incremental", "knowledge", "structural")
    assert any("theory.kind is structural" in r["rule"] for r in d.rules if r["density"] > 0.9)
    inside = d.in_box(x)
    assert d.box["density"] == pytest.approx((inside & y).sum() / inside.sum())


def test_the_cart_rules_count_every_run_once():
    rng = np.random.default_rng(2)
    x = pd.DataFrame(rng.uniform(size=(300, 2)), columns=["a", "b"])
    y = (x["a"] > 0.7).to_numpy()
    d = discover(x, y, resamples=0)
    assert sum(r["n"] for r in d.rules) == 300 and sum(r["k"] for r in d.rules) == y.sum()
    rule = d.rules[0]["rule"]
    assert rule.startswith("a > ") and float(rule.split()[2]) == pytest.approx(0.7, abs=0.01)
    assert d.rules[0]["density"] == 1


# ------------------------------------------------------------------------------- end to end

EXPERIMENT = """
name = "discovery_tiny"
scenarios = ["{scenario}"]
replications = 1
root_seed = 7
steps = 24
record_every = 6

[set]
"population.residents" = 200

[sampler]
kind = "lhs"
n = 40

[factors]
"context.baseline_trust" = {{}}
"context.inequality" = {{}}
"theory.kind" = ["incremental", "structural", "knowledge", "coalition"]
"""


@pytest.fixture(scope="module")
def swept(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("discovery")
    scenario = (ROOT / "scenarios" / "citizens_assembly.toml").as_posix()
    (folder / "tiny.toml").write_text(EXPERIMENT.format(scenario=scenario))
    db = folder / "tiny.db"
    assert main(["sweep", str(folder / "tiny.toml"), "--db", str(db), "--workers", "2"]) == 0
    return db


def _median_condition(db: Path) -> str:
    """A condition about half the runs meet, whatever the model's numbers are today."""
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(db)) as conn:
        values = [r[0] for r in conn.execute("SELECT structure FROM experiment_discovery_tiny")]
    return f"structure > {float(np.median(values)):.6f}"


def test_discover_on_a_tiny_sweep_prints_the_box_and_writes_its_files(swept, tmp_path, capsys):
    out = tmp_path / "out"
    where = _median_condition(swept)
    assert main(["discover", "--db", str(swept), "--where", where, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "runs: 40; meeting the condition: 20 (50.0%)" in printed
    assert "inputs: context.baseline_trust, context.inequality, theory.kind" in printed
    assert "PRIM peeling trajectory" in printed and "<- chosen" in printed and "CART rules" in printed
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    assert (out / "trajectory.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = list(csv.DictReader((out / "box.csv").read_text().splitlines()))
    assert {r["input"] for r in rows} == {"context.baseline_trust", "context.inequality", "theory.kind"}
    report = (out / "discovery.md").read_text()
    assert f"`{where}` at month 24" in report and "## Chosen box" in report
    assert "rules, densest first" in (out / "tree.txt").read_text()


def test_discover_at_a_month_that_was_not_recorded_is_one_line_and_writes_nothing(swept, tmp_path, capsys):
    out = tmp_path / "out"
    assert (
        main(["discover", "--db", str(swept), "--where", "structure > 0", "--month", "5", "--out", str(out)])
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "command line: --month: not a recorded month of this experiment (got 5, allowed 0, 6, 12, 18, 24)"
    ]
    assert not out.exists()


@pytest.mark.parametrize(
    ("where", "says"),
    [
        ("__import__('os').system('x')", "command line: --where: unexpected character"),
        ("consensus_bias < 0.2; import os", "command line: --where: unexpected character ';'"),
        ("consensus_bais < 0.2", "command line: --where: unknown output 'consensus_bais'"),
        ("structure > (", "command line: --where: expected a number"),
        ("", "command line: --where: empty condition"),
        ("structure > 5", "command line: --where: no run meets the condition at month 24 (0 of 40 done runs"),
        (
            "structure < 5",
            "command line: --where: every run meets the condition at month 24 (40 of 40 done runs",
        ),
    ],
)
def test_a_bad_or_useless_condition_is_one_line_exit_2_and_writes_nothing(
    swept, tmp_path, capsys, where, says
):
    out = tmp_path / "out"
    assert main(["discover", "--db", str(swept), "--where", where, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(says), lines
    assert "Traceback" not in captured.err and captured.out == ""
    assert not out.exists()


# ------------------------------------------------------------------------------- kept in the database


def test_a_discovery_is_kept_in_the_results_file_read_back_whole_and_replaced_when_found_again(
    swept, tmp_path, capsys
):
    import json
    import sqlite3
    from contextlib import closing

    from coprod.experiments.discovery import from_record

    where = _median_condition(swept)
    for run in ("first", "again"):
        assert main(["discover", "--db", str(swept), "--where", where, "--out", str(tmp_path / run)]) == 0
    printed = capsys.readouterr().out
    with closing(sqlite3.connect(swept)) as conn:
        rows = conn.execute(
            "SELECT experiment, condition, month, result FROM discoveries WHERE condition = ?", [where]
        ).fetchall()
    assert [(e, c, m) for e, c, m, _ in rows] == [("discovery_tiny", where, "24")]  # replaced, not added
    d = from_record(json.loads(rows[0][3]))
    assert d.n == 40 and d.meeting == 20
    box = {r["input"]: r for r in csv.DictReader((tmp_path / "again" / "box.csv").read_text().splitlines())}
    for lim in d.limits:  # the same box as the files say
        assert lim.restricted == (box[lim.name]["restricted"] == "True")
        assert lim.describe() in printed or not lim.restricted


def test_coprod_analyze_shows_the_kept_discoveries_and_names_one_it_cannot_read(swept, tmp_path):
    import sqlite3
    from contextlib import closing

    where = _median_condition(swept)
    assert main(["discover", "--db", str(swept), "--where", where, "--out", str(tmp_path / "d")]) == 0
    out = tmp_path / "report"
    assert main(["analyze", "--db", str(swept), "--out", str(out)]) == 0
    page = (out / "report.html").read_text()
    assert "<h2>Scenario discovery</h2>" in page and f"{where} at month 24" in page.replace("&gt;", ">")
    assert "alt='peeling trajectory" in page
    copy = tmp_path / "copy.db"
    copy.write_bytes(swept.read_bytes())
    with closing(sqlite3.connect(copy)) as conn, conn:
        conn.execute('UPDATE discoveries SET result = \'{"n": "<script>"}\'')
    out = tmp_path / "report2"
    assert main(["analyze", "--db", str(copy), "--out", str(out)]) == 0
    page = (out / "report.html").read_text()
    assert "cannot be read; skipped" in page and "<script>" not in page
