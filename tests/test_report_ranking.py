"""Ranking design x theory cells: a best cell only where its interval clears the next best's; an interval
of width zero explained; the terminal summary in 100 columns, stored names made harmless."""

from __future__ import annotations

import math

from coprod.experiments.report_labels import KEY_OUTPUTS
from coprod.experiments.report_ranking import rank, terminal_summary
from coprod.model import OUTPUTS

COLS = ["design", "theory"]


def _row(design: str, theory: str, n: int = 5, **values: tuple[float, float, float]) -> dict:
    row = {"design": design, "theory": theory, "n": n}
    for name in OUTPUTS:
        mean, low, high = values.get(name, (0.5, 0.4, 0.6))
        row |= {f"{name}_mean": mean, f"{name}_ci_low": low, f"{name}_ci_high": high}
    return row


def test_the_best_cell_is_clear_only_where_its_interval_clears_the_next_best():
    clear = [
        _row("citizens_assembly", "structural", procedural_justice=(0.6, 0.55, 0.65)),
        _row("top_down_consultation", "structural", procedural_justice=(0.9, 0.85, 0.95)),
        _row("participatory_budgeting", "knowledge", procedural_justice=(0.7, 0.66, 0.74)),
    ]
    r = rank(COLS, clear, "procedural_justice")  # higher is better
    assert [c.mean for c in r.cells] == [0.9, 0.7, 0.6]
    assert r.clear and r.verdict.startswith("best: Top-down consultation / Structural change")
    clear[2]["procedural_justice_ci_high"] = 0.86  # now it overlaps the leader's interval
    r = rank(COLS, clear, "procedural_justice")
    assert not r.clear and r.verdict.startswith("no single best") and "overlaps 1 other cell" in r.verdict


def test_lower_is_better_ranks_the_smallest_first():
    rows = [
        _row("citizens_assembly", "structural", consensus_bias=(0.3, 0.28, 0.32)),
        _row("top_down_consultation", "structural", consensus_bias=(0.6, 0.58, 0.62)),
    ]
    r = rank(COLS, rows, "consensus_bias")
    assert r.cells[0].label == "Citizens' assembly / Structural change" and r.clear


def test_one_replication_gives_no_interval_and_no_single_best():
    rows = [_row("citizens_assembly", "structural", n=1), _row("top_down_consultation", "incremental", n=1)]
    for row in rows:
        row["lock_in_ci_low"] = row["lock_in_ci_high"] = math.nan
    r = rank(COLS, rows, "lock_in")
    assert not r.clear and "fewer than two replications" in r.verdict


def test_an_interval_of_width_zero_says_why():
    rows = [
        _row("co_financed_partnership", "structural", lock_in=(0.2, 0.1, 0.3)),
        _row("citizens_assembly", "structural", n=10, lock_in=(0.0, 0.0, 0.0)),
        _row("top_down_consultation", "structural", n=10, lock_in=(0.0, 0.0, 0.0)),
    ]
    (note,) = rank(COLS, rows, "lock_in").zero
    assert note.startswith("± 0 in 2 cells (Citizens' assembly / Structural change, Top-down consultation")
    assert "all 10 replications gave exactly 0.000" in note and "never happened" in note


def test_the_terminal_summary_fits_100_columns_even_with_a_strangers_long_names():
    long = "<script>" + "x" * 300 + "\x1b[2J"
    rows = [_row(long, long), _row("citizens_assembly", "knowledge"), _row("top_down_consultation", long)]
    rows[0]["consensus_bias_mean"] = 1e300  # a stranger's number, too wide for three decimals
    text = terminal_summary(long, COLS, rows, 120)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 100, max(lines, key=len)
    assert "<script" not in text and "\x1b" not in text
    assert sum(line.startswith("  1. ") for line in lines) == len(KEY_OUTPUTS)
    assert "Citizens' assembly / Knowledge-led change" in text
