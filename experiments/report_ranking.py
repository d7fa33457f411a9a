"""Which design and theory of change does best: the cells of a grid experiment ranked per output.

A *cell* is one row of :func:`experiments.summary.summary` (a design by a theory of change, and a value of
any other listed factor), with the mean and the t-based 95% confidence interval over its replications at
the final recorded month. Cells are ranked best first in the output's better direction
(:mod:`experiments.report_labels`); the best cell is *clearly* best only where its interval does not overlap
the next best's, and otherwise there is no single best. An interval of width zero is explained: every
replication ended at the same value, and the value says why (nothing happened; the ceiling was reached).

Labels are stored text: they are escaped where they are written (HTML, plots, the terminal).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from coprod.experiments.report_labels import KEY_OUTPUTS, direction, label, ranked, value_label
from coprod.experiments.untrusted import markdown_cell, plain

WIDTH = 100  # columns the terminal summary fits in
TOP = 3  # cells per output in the terminal summary


@dataclass(frozen=True)
class Cell:
    """One design x theory cell's final value of one output: ``label`` is stored text, not yet escaped."""

    label: str
    short: str
    design: str
    n: int
    mean: float
    low: float
    high: float

    @property
    def has_interval(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)


@dataclass
class Ranking:
    """The cells of one output, best first (finite means only), and what can be said about the best."""

    output: str
    cells: list[Cell]
    left_out: int = 0  # cells whose mean is not a finite number (no done run, or a stranger's 1e308)
    clear: bool = False  # the best cell's interval does not overlap the next best's
    verdict: str = ""
    zero: list[str] = field(default_factory=list)  # why an interval is zero wide


def cell_label(cols: list[str], row: dict[str, Any], *, short: bool = False) -> str:
    """``Design / Theory of change`` (and ``key=value`` for any other factor), readable names."""
    parts = []
    for col in cols:
        if col in ("design", "theory"):
            parts.append(value_label(col, row[col], short=short))
        elif col == "scenario":
            if row[col] != row.get("design"):
                parts.append(value_label("scenario", row[col]))
        else:
            parts.append(f"{col}={value_label(col, row[col])}")
    return " / ".join(p for p in parts if p) or "all runs"


def cells(cols: list[str], rows: list[dict[str, Any]], output: str) -> list[Cell]:
    """Every summary row as a cell of ``output``, in the summary's order."""
    return [
        Cell(
            cell_label(cols, r),
            cell_label(cols, r, short=True),
            str(r.get("design", "")),
            int(r["n"]),
            float(r[f"{output}_mean"]),
            float(r[f"{output}_ci_low"]),
            float(r[f"{output}_ci_high"]),
        )
        for r in rows
    ]


def rank(cols: list[str], rows: list[dict[str, Any]], output: str) -> Ranking:
    """The cells of ``output`` ranked best first, with the verdict on the best and the zero-width notes.
    An output with no better direction keeps the summary's order and gets no verdict."""
    every = cells(cols, rows, output)
    finite = [c for c in every if math.isfinite(c.mean)]
    result = Ranking(output, finite, left_out=len(every) - len(finite), zero=zero_notes(finite))
    if not ranked(output):
        return result
    higher = direction(output) == "higher is better"
    result.cells = sorted(finite, key=lambda c: -c.mean if higher else c.mean)
    result.clear, result.verdict = _verdict(result.cells, higher)
    return result


def _verdict(ordered: list[Cell], higher: bool) -> tuple[bool, str]:
    if not ordered:
        return False, "no values to rank"
    best = ordered[0]
    if len(ordered) == 1:
        return False, f"one cell only ({best.label}): nothing to rank it against"
    second = ordered[1]
    if not (best.has_interval and second.has_interval):
        return (
            False,
            "no single best: fewer than two replications, so no confidence interval to tell them apart",
        )
    clear = best.low > second.high if higher else best.high < second.low
    if clear:
        return True, f"best: {best.label}; its 95% CI is clear of the next best's ({second.label})"
    overlapping = sum(
        1 for c in ordered[1:] if c.has_interval and (c.high >= best.low if higher else c.low <= best.high)
    )
    return False, (
        f"no single best: the leader, {best.label}, has a 95% CI that overlaps "
        f"{overlapping} other cell{'s' if overlapping != 1 else ''}"
    )


def zero_notes(cells_: list[Cell]) -> list[str]:
    """Why an interval is zero wide: every replication of the cell ended at exactly the same value. One
    note per value and replication count, naming the cells."""
    groups: dict[tuple[float, int], list[str]] = {}
    for c in cells_:
        if c.n >= 2 and c.has_interval and c.high - c.low == 0:
            groups.setdefault((c.mean, c.n), []).append(c.label)
    notes = []
    for (value, n), names in groups.items():
        if value == 0:
            why = "it stayed at 0: what it measures never happened in these runs"
        elif value == 1:
            why = "it reached its ceiling of 1 in every run"
        else:
            why = "nothing in these runs moved it from there"
        shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
        notes.append(
            f"± 0 in {len(names)} cell{'s' if len(names) > 1 else ''} ({shown}): all {n} replications gave "
            f"exactly {number(value)}; {why}"
        )
    return notes


def number(x: float) -> str:
    """Three decimals; a number too large for them (a stranger's 1e308) in scientific notation."""
    return f"{x:.3f}" if not math.isfinite(x) or abs(x) < 1e6 else f"{x:.3e}"


def interval(c: Cell) -> str:
    """``0.412 [0.390, 0.434]``, or the mean alone where there is no interval."""
    if not c.has_interval:
        return f"{number(c.mean)} (n={c.n}, no CI)"
    return f"{number(c.mean)} [{number(c.low)}, {number(c.high)}]"


def terminal_summary(
    experiment: str, cols: list[str], rows: list[dict], month: Any, width: int = WIDTH
) -> str:
    """The short ranked summary ``coprod analyze`` prints: per key output its top cells with mean and
    95% CI, and whether the best is clearly best. Every line fits in ``width`` columns; stored names are
    escaped as in the Markdown tables (:func:`experiments.untrusted.markdown_cell`: printable, no markup)."""
    reps = sorted({int(r["n"]) for r in rows})
    n = f"{reps[0]}" if len(reps) == 1 else f"{reps[0]} to {reps[-1]}"
    lines = [
        f"{markdown_cell(plain(experiment, 40))}: which design x theory of change does best, "
        f"at month {plain(month, 10)}",
        f"({len(rows)} cells, {n} replications each; mean [95% CI]; * the best is clear of the next best)",
    ]
    for output in KEY_OUTPUTS:
        r = rank(cols, rows, output)
        verdict = "clear best" if r.clear else "no single best"
        lines.append(f"{label(output)} ({direction(output)}): {verdict}")
        for i, c in enumerate(r.cells[:TOP]):
            shown = interval(c) + (" *" if i == 0 and r.clear else "  ")
            room = max(12, width - len(shown) - 7)
            name = markdown_cell(plain(c.short, 400))  # as in the Markdown tables: no markup, no control
            name = name if len(name) <= room else name[: room - 3] + "..."
            lines.append(f"  {i + 1}. {name.ljust(room)} {shown}")
    return "\n".join(line[:width] for line in lines) + "\n"


__all__ = ["Cell", "Ranking", "cell_label", "cells", "interval", "rank", "terminal_summary", "zero_notes"]
