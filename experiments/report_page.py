"""The part of ``report.html`` that answers a grid experiment's question: which institutional design,
under which theory of change, does best on each output.

It holds, in this order: the answer at a glance (per ranked output, the best cell, whether it is clearly
best, the runner-up); a section per output with a better direction (its heading says which way is better;
the verdict; why an interval is zero wide; the ranked forest plot; the output over time, one panel per
theory); the theories of change at work over time (outputs that are neither better nor worse); the final
markers per theory; and every output of :data:`model.OUTPUTS` for every cell in tables. The figures are
made here too, so that the page and the files it shows cannot drift apart.

Every stored text is escaped with :func:`html.escape` where it is written; the only tags are the ones the
rest of the report uses (see ``tests/test_hostile_results.py``).
"""

from __future__ import annotations

import base64
import html
import math
from typing import Any

from coprod.experiments.plots import _colours, _designs
from coprod.experiments.report_figures import FOREST_ROWS, forest_plot, over_time_by_theory, radar_by_theory
from coprod.experiments.report_labels import (
    FAMILIES,
    REASONS,
    column_label,
    direction,
    label,
    ranked,
    value_label,
)
from coprod.experiments.report_ranking import Ranking, interval, number, rank
from coprod.experiments.stored_runs import Runs
from coprod.experiments.untrusted import text
from coprod.model import CONSENSUS, DESCRIPTIONS, MARKERS, OUTPUTS, QUALITIES, RISKS, SIGNATURES

e = html.escape

SIGNATURE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("levers", tuple(o for o in SIGNATURES if o.startswith("lever_"))),
    ("holders", tuple(o for o in SIGNATURES if o.startswith("holders_"))),
    ("conditions", tuple(o for o in SIGNATURES if o.startswith("condition_"))),
    (
        "effort_and_diversity",
        tuple(o for o in SIGNATURES if not o.startswith(("lever_", "holders_", "condition_"))),
    ),
)
# the time figures: one per family of ranked outputs, and the signatures in four groups
TIME_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("markers", MARKERS),
    ("consensus", CONSENSUS),
    ("qualities", QUALITIES),
    ("risks", RISKS),
    *SIGNATURE_GROUPS,
)


def rankings(cols: list[str], rows: list[dict[str, Any]]) -> dict[str, Ranking]:
    """Every output's cells, ranked where the output has a better direction."""
    return {o: rank(cols, rows, o) for o in OUTPUTS}


def figures(runs: Runs, ranks: dict[str, Ranking]) -> dict[str, bytes]:
    """Every figure of the page, by file name: ``forest_OUTPUT.png`` per ranked output,
    ``over_time_GROUP.png`` per group of :data:`TIME_GROUPS` (a row per output, a panel per theory),
    ``radar_markers.png`` (one radar per theory)."""
    if not runs.info or not len(runs.steps):
        return {}
    month = int(runs.steps[-1])
    colours = _colours(_designs(runs))
    out: dict[str, bytes] = {}
    for output, r in ranks.items():
        if ranked(output) and r.cells:
            out[f"forest_{output}.png"] = forest_plot(r, month, colours)
    for group, outputs in TIME_GROUPS:
        title = (
            "neither better nor worse" if outputs[0] in SIGNATURES else "the headings say which way is better"
        )
        out[f"over_time_{group}.png"] = over_time_by_theory(
            runs, outputs, f"Over time: mean and 95% band per design, one panel per theory ({title})"
        )
    out["radar_markers.png"] = radar_by_theory(runs)
    return out


def _img(title: str, png: bytes | None) -> str:
    if png is None:
        return ""
    data = base64.b64encode(png).decode()
    return f"<img alt='{e(title)}' src='data:image/png;base64,{data}'>"


def _pm(mean: float, low: float, high: float, n: int) -> str:
    if not math.isfinite(mean):
        return "–"
    if not (math.isfinite(low) and math.isfinite(high)):
        return number(mean)
    half = (high - low) / 2
    return f"{number(mean)} ± 0*" if half == 0 and n >= 2 else f"{number(mean)} ± {number(half)}"


def glance(ranks: dict[str, Ranking]) -> str:
    """One table row per ranked output: the best cell, whether it is clearly best, the runner-up."""
    head = "".join(
        f"<th class='k'>{h}</th>"
        for h in ("Output", "Which way is better", "Leader: mean [95% CI]", "Clearly best?", "Next best")
    )
    body = []
    for output, r in ranks.items():
        if not ranked(output):
            continue
        best = f"{r.cells[0].label}: {interval(r.cells[0])}" if r.cells else "–"
        second = f"{r.cells[1].label}: {interval(r.cells[1])}" if len(r.cells) > 1 else "–"
        clear = "<b>yes</b>" if r.clear else "no single best"
        body.append(
            f"<tr><td class='k'>{e(label(output))}</td><td class='k'>{e(direction(output))}</td>"
            f"<td class='k'>{e(best)}</td><td class='k'>{clear}</td><td class='k'>{e(second)}</td></tr>"
        )
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def output_section(output: str, r: Ranking, pngs: dict[str, bytes], cells: int) -> list[str]:
    parts = [
        f"<h3>{e(label(output))}: {e(direction(output))}</h3>",
        f"<p>{e(DESCRIPTIONS.get(output, ''))} <code>{e(output)}</code>; {e(direction(output))}: "
        f"{e(REASONS[output])}.</p>",
        f"<p><b>{e(r.verdict[:1].upper() + r.verdict[1:])}.</b></p>" if r.verdict else "",
    ]
    if r.left_out:
        parts.append(
            f"<p class='note'>{r.left_out} of {cells} cells have no finite value and are left out.</p>"
        )
    if len(r.cells) > FOREST_ROWS:
        parts.append(f"<p class='note'>The plot shows the best {FOREST_ROWS} of {len(r.cells)} cells.</p>")
    parts += [f"<p class='note'>{e(z)}.</p>" for z in r.zero]
    parts.append(_img(f"{label(output)}: ranked", pngs.get(f"forest_{output}.png")))
    return parts


def cell_table(cols: list[str], rows: list[dict[str, Any]], outputs: tuple[str, ...]) -> str:
    """Rows: the cells; columns: ``outputs`` under their readable names, with which way is better."""
    head = "".join(f"<th class='k'>{e(column_label(c))}</th>" for c in cols) + "<th>n</th>"
    for o in outputs:
        arrow = (
            {"higher is better": " (higher better)", "lower is better": " (lower better)"}[direction(o)]
            if ranked(o)
            else ""
        )
        head += f"<th>{e(label(o) + arrow)}</th>"
    body = []
    for row in rows:
        cells = "".join(f"<td class='k'>{e(value_label(c, row[c]))}</td>" for c in cols)
        cells += f"<td>{e(text(row['n']))}</td>"
        cells += "".join(
            f"<td>{e(_pm(row[f'{o}_mean'], row[f'{o}_ci_low'], row[f'{o}_ci_high'], row['n']))}</td>"
            for o in outputs
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def sections(
    runs: Runs, cols: list[str], rows: list[dict[str, Any]], ranks: dict[str, Ranking], pngs: dict[str, bytes]
) -> str:
    """The page's answer, as HTML, from the summary rows, their rankings and the figures."""
    month = int(runs.steps[-1]) if len(runs.steps) else 0
    parts = [
        "<h2>Which design, under which theory of change, does best?</h2>",
        f"<p>Each cell is one design under one theory of change ({len(rows)} cells). Numbers are the "
        f"value at month {month}, the mean over a cell's replications with its 95% confidence interval "
        "(Student's t). A cell is <b>clearly best</b> only where its interval does not overlap the next "
        "best's; otherwise there is no single best, and the leader is only a leader. Every heading says "
        "which way is better.</p>",
        glance(ranks),
    ]
    groups = dict(TIME_GROUPS)
    for family, outputs in FAMILIES:
        if outputs == SIGNATURES:
            continue
        parts.append(f"<h2>{e(family)}</h2>")
        for output in outputs:
            parts += output_section(output, ranks[output], pngs, len(rows))
        group = next(g for g, members in groups.items() if members == outputs)
        parts.append(f"<h3>{e(family)} over time, one panel per theory of change</h3>")
        parts.append(_img(f"{family} over time", pngs.get(f"over_time_{group}.png")))
    parts.append("<h2>Theories of change at work (neither better nor worse)</h2>")
    parts.append(f"<p>These outputs {e(REASONS[SIGNATURES[0]].split(': ', 1)[1])}; they are not ranked.</p>")
    for group, _ in SIGNATURE_GROUPS:
        parts.append(_img(f"Theories of change at work: {group}", pngs.get(f"over_time_{group}.png")))
    for output in SIGNATURES:
        parts += [f"<p class='note'>{e(label(output))}: {e(z)}.</p>" for z in ranks[output].zero]
    parts.append("<h2>Progress markers at the final month, per theory</h2>")
    parts.append(_img("Progress markers per theory", pngs.get("radar_markers.png")))
    parts.append("<h2>Every output, every cell</h2>")
    parts.append(
        "<p>Mean ± half-width of the 95% confidence interval. <b>± 0*</b>: every replication of that cell "
        "ended at exactly the same value, so the interval has no width (the notes under each output say "
        "which value and why); a value alone: one replication, no interval.</p>"
    )
    for family, outputs in FAMILIES:
        parts.append(f"<h3>{e(family)}</h3>")
        parts.append(cell_table(cols, rows, outputs))
    return "\n".join(p for p in parts if p)


def glossary() -> str:
    """Every output: its readable name, stored name, meaning, which way is better and why."""
    parts = ["<h2>What the outputs mean</h2><dl>"]
    for name in OUTPUTS:
        parts.append(
            f"<dt>{e(label(name))} (<code>{e(name)}</code>): {e(direction(name))}</dt>"
            f"<dd>{e(DESCRIPTIONS.get(name, ''))} Why: {e(REASONS[name])}.</dd>"
        )
    parts.append("</dl>")
    return "".join(parts)


__all__ = ["cell_table", "figures", "glance", "glossary", "rankings", "sections"]
