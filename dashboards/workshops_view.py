"""Stored results: the workshops a results file holds (``coprod workshop``), branch by branch.

Read-only, through :meth:`coprod.workshop.record.WorkshopRecord.existing`: who played which role, each
branch's rounds and the facilitator's institutional experiments, and consensus bias and the eight markers
over the months, one line per branch (two at a time, in the colours of the Compare tab's set-ups A and B).
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import cast

import numpy as np
import solara
from coprod.dashboards import charts
from coprod.dashboards.words import LABELS
from coprod.model import MARKERS

SHOWN = ("consensus_bias", *MARKERS)


def workshops_in(path: Path) -> dict | None:
    """Every workshop in the file (id to its name, participants, branches, rounds and steps), or ``None``
    when it holds none. Read in one go, then closed."""
    import sqlite3

    from coprod.experiments.store import StoreError
    from coprod.workshop.record import WorkshopRecord

    try:
        record = WorkshopRecord.existing(path)
    except (StoreError, sqlite3.Error):
        return None
    try:
        found = {}
        for wid in record.workshop_ids():
            row = record.workshop(wid) or {}
            branches = record.branches(wid)
            found[wid] = {
                "name": row.get("name") or wid,
                "people": record.participants(wid),
                "branches": {
                    b["branch"]: {
                        "parent": b["parent"],
                        "from_round": b["from_round"],
                        "rounds": record.rounds(wid, b["branch"]),
                        "steps": record.steps(wid, b["branch"]),
                    }
                    for b in branches
                },
            }
        return found
    finally:
        record.db.close()


def branch_trace(name: str, steps: list[dict], colour: str) -> charts.Trace:
    months = np.array([r["month"] for r in steps])
    series = {k: np.array([r[k] for r in steps], dtype=float) for k in SHOWN}
    return charts.Trace(name, months, series, colour)


@solara.component
def WorkshopsView(path: str):
    """The workshops in the results file at ``path``; nothing when it holds none."""
    found = solara.use_memo(lambda: workshops_in(Path(path)), [path])
    picked = solara.use_reactive("")
    pair = solara.use_reactive(cast(list[str], []))
    if not found:
        return
    labels = {f"{w['name']} ({wid})": wid for wid, w in found.items()}
    label = picked.value if picked.value in labels else next(iter(labels))
    w = found[labels[label]]
    branches = list(w["branches"])
    shown = [b for b in pair.value if b in branches][:2] or branches[:2]
    solara.Text("Workshops", classes=["browse-heading"])
    solara.Select(
        f"Workshop ({len(labels)} in this file)",
        values=list(labels),
        value=label,
        on_value=lambda v: (picked.set(v or ""), pair.set([])),
        classes=["workshop-select"],
    )
    people = ", ".join(f"{escape(p['name'])} ({p['role']})" for p in w["people"]) or "nobody joined"
    rows = []
    for name, b in w["branches"].items():
        origin = "" if b["parent"] is None else f"from {escape(b['parent'])} after round {b['from_round']}"
        changes = [
            f"round {r['round']}: {k} to {escape(str(r[f'redesign_{k}']))}"
            for r in b["rounds"]
            for k in ("design", "theory")
            if r.get(f"redesign_{k}")
        ]
        last = b["steps"][-1] if b["steps"] else None
        rows.append(
            f"<tr><td>{escape(name)}</td><td>{origin}</td><td>{len(b['rounds'])}</td>"
            f"<td>{last['month'] if last else 0}</td><td>{'; '.join(changes) or '-'}</td>"
            f"<td>{'' if last is None else f'{last["consensus_bias"]:.2f}'}</td></tr>"
        )
    solara.HTML(
        unsafe_innerHTML=f"<p>Played by {people}.</p><table class='workshop-branches'><tr><th>branch</th>"
        "<th>from</th><th>rounds</th><th>months</th><th>institutional experiments</th>"
        f"<th>{escape(LABELS['consensus_bias'])}</th></tr>{''.join(rows)}</table>"
    )
    solara.SelectMultiple(
        "Branches side by side (two)",
        values=shown,
        all_values=branches,
        on_value=lambda v: pair.set(list(v)[-2:]),
    )
    traces = [
        branch_trace(name, w["branches"][name]["steps"], charts.SETUP_COLOURS[i])
        for i, name in enumerate(shown)
        if w["branches"][name]["steps"]
    ]
    if not traces:
        return
    horizon = max(int(t.months[-1]) for t in traces)
    with solara.Row(style={"flex-wrap": "wrap"}):
        for key in SHOWN:
            with solara.Div(style={"width": "440px"}):
                solara.Text(LABELS[key])
                solara.HTML(unsafe_innerHTML=charts.over_time(traces, horizon, key))
