"""A workshop's report (``coprod analyze --db FILE --workshop ID``): what the room did and what came of it.

Read from the workshop tables alone (:mod:`coprod.workshop.record`), in memory, before anything is written:

- ``workshop.md``: who played which role; per branch, its rounds (months, the design and theory in force,
  the facilitator's institutional experiments, how many choices were people's and how many fell back to the
  simulation), and the eight progress markers and consensus bias at its last month;
- ``branches.csv``: those final values, one row per branch, and each branch's difference from the one it
  was branched from (measured at the same month where both reached it);
- ``markers.png``: the markers and consensus bias over the months, one line per branch;
- ``choices.csv``: every choice as recorded (round, agent, role, source, the choice), display names only.

A branch is one run of the model with people's choices in it, not a replicated experiment: differences
between branches are what happened in this room, with no confidence interval (``coprod workshop replay``
shows they are exactly reproducible, not that they are typical).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from coprod.experiments.plots import _figure, _png
from coprod.experiments.untrusted import plain, plot_label
from coprod.model import MARKERS

SHOWN = (*MARKERS, "consensus_bias")


@dataclass
class WorkshopReport:
    """Everything the report writes, as file name to bytes, and what the terminal prints."""

    contents: dict[str, bytes]
    terminal: str


def prepare(record, workshop: str) -> WorkshopReport:
    """The report of ``workshop`` in ``record`` (a :class:`coprod.workshop.record.WorkshopRecord`)."""
    row = record.workshop(workshop)
    if row is None:
        from coprod.experiments.store import StoreError

        held = ", ".join(record.workshop_ids()[:10]) or "none"
        raise StoreError(f"{record.path}: no workshop {workshop!r}; it holds {held}")
    people = record.participants(workshop)
    who = {p["token_hash"]: p for p in people}
    branches = record.branches(workshop)
    steps = {b["branch"]: record.steps(workshop, b["branch"]) for b in branches}
    lines = [
        f"# Workshop {plain(row['name'] or workshop)} ({workshop})",
        "",
        f"Seed {row['seed']}, {row['months_per_round']} months a round, created {row['created']}, "
        f"model code {row['code_version']}.",
        "",
        "## Who played",
        "",
        "| name | role | agent | district | marginalised |",
        "|---|---|---|---|---|",
    ]
    for p in people:
        marg = "" if p["marginalised"] is None else ("yes" if p["marginalised"] else "no")
        district = "" if p["district"] is None else p["district"]
        lines.append(f"| {_cell(p['name'])} | {p['role']} | {p['agent']} | {district} | {marg} |")
    choice_rows = []
    final_rows = []
    for b in branches:
        name = b["branch"]
        origin = "" if b["parent"] is None else f", branched from {b['parent']} after round {b['from_round']}"
        lines += ["", f"## Branch {name}{origin}", ""]
        lines += ["| round | months | design | theory | changed before it | people's choices | simulated |"]
        lines += ["|---|---|---|---|---|---|---|"]
        for r in record.rounds(workshop, name):
            made = record.choices(workshop, name, r["round"])
            human = sum(c["source"] == "human" for c in made)
            changed = ", ".join(
                f"{k} to {r[f'redesign_{k}']}" for k in ("design", "theory") if r.get(f"redesign_{k}")
            )
            lines.append(
                f"| {r['round']} | {r['months']} | {r['design']} | {r['theory']} | {changed or '-'} | "
                f"{human} | {len(made) - human} |"
            )
            for c in made:
                p = who.get(c["participant"], {})
                role, shown = p.get("role", ""), plain(p.get("name", ""), 60)
                choice_rows.append([name, r["round"], c["agent"], role, shown, c["source"], c["payload"]])
        last = steps[name][-1] if steps[name] else None
        if last is not None:
            lines += ["", f"At month {last['month']}:", ""]
            lines += ["| " + " | ".join(SHOWN) + " |", "|" + "---|" * len(SHOWN)]
            lines.append("| " + " | ".join(f"{last[k]:.3f}" for k in SHOWN) + " |")
            final_rows.append((name, b["parent"], last))
    by_name = {name: last for name, _, last in final_rows}
    table = io.StringIO()
    out = csv.writer(table)
    out.writerow(["branch", "parent", "month", *SHOWN, *(f"{k}_vs_parent" for k in SHOWN)])
    for name, parent, last in final_rows:
        base = _at_month(steps.get(parent, []), last["month"]) if parent else None
        diffs = [f"{last[k] - base[k]:.4f}" if base else "" for k in SHOWN]
        out.writerow([name, parent or "", last["month"], *(f"{last[k]:.4f}" for k in SHOWN), *diffs])
    choices = io.StringIO()
    writer = csv.writer(choices)
    writer.writerow(["branch", "round", "agent", "role", "name", "source", "choice"])
    writer.writerows(choice_rows)
    contents = {
        "workshop.md": ("\n".join(lines) + "\n").encode(),
        "branches.csv": table.getvalue().encode(),
        "choices.csv": choices.getvalue().encode(),
        "markers.png": _plot(steps),
    }
    terminal = "\n".join(
        f"branch {name}: month {last['month']}, consensus bias {last['consensus_bias']:.3f}, markers "
        + ", ".join(f"{k} {last[k]:.2f}" for k in MARKERS)
        for name, last in by_name.items()
    )
    return WorkshopReport(contents, terminal)


def _at_month(rows: list[dict], month: int) -> dict | None:
    return next((r for r in rows if r["month"] == month), None)


def _cell(text: str) -> str:
    return plain(text, 60).replace("|", "/")


def _plot(steps: dict[str, list[dict]]) -> bytes:
    fig = _figure(12, 7)
    axes = fig.subplots(3, 3, sharex=True)
    for ax, key in zip(axes.flat, SHOWN, strict=True):
        for branch, rows in steps.items():
            ax.plot([r["month"] for r in rows], [r[key] for r in rows], label=plot_label(branch))
        ax.set_title(key.replace("_", " "), fontsize=9)
        ax.set_ylim(0, 1)
    axes.flat[0].legend(fontsize=7, title="branch", title_fontsize=7)
    for ax in axes[-1]:
        ax.set_xlabel("month")
    return _png(fig)
