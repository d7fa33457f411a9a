"""Stated hypotheses: what each theory of change claims, written as data and judged on an experiment's runs.

Each theory of change (docs/ODD.md 7.7) makes claims that a sweep can support or refute. They are rows of
a versioned file, ``data/hypotheses/hypotheses.toml`` (its schema is ``data/hypotheses/README.md``); this
module is the one place that file is read and checked, and where a hypothesis meets the results database.

One ``[[hypothesis]]`` table is one claim about one output of the runs whose programme (``theory.kind``)
is the hypothesis's ``theory``, in each of its ``designs``: the output's ``level`` at ``month``, its
``change`` from month 0 to ``month``, or the difference ``versus`` each of the other programmes under the
same design, compared by ``op`` (``>=`` or ``<=``) with ``threshold``. Optional ``[[hypothesis.and]]``
guards make further claims (``level`` or ``change``) on the same runs, all of which must hold too. A file
that breaks any of this is one line per problem, exit 2, as every input is.

The verdict, per cell (a design, and the value of any other factor of a grid), with the 95% interval of the
mean over replications (Student's t; for ``versus``, the Welch interval of the difference, as the patterns
of docs/ODD.md 1.2 are judged, :func:`experiments.patterns.welch`):

- **supported** when the claim's interval lies wholly on the claimed side of the threshold (for
  ``versus``, against every other programme) and so does every guard's;
- **refuted** when the claim's interval lies wholly on the other side (against any other programme), or
  a guard's does;
- **undecided** otherwise: an interval that touches the threshold (a tie cannot pass, as in 1.2), fewer
  than :data:`MIN_REPLICATIONS` replications in a compared arm (under-replicated), or a month the runs did
  not record.

``coprod hypotheses`` lists the file; ``coprod hypotheses --db FILE [--experiment NAME] [--out DIR]``
judges it (:func:`main_hypotheses`); :func:`hypotheses_report` gives the table to a report.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from coprod.model import OUTPUTS, PARAMETERS, Problem, ScenarioError, read_toml
from coprod.model.kinds import THEORIES
from coprod.model.scenario import DesignKind

ROOT = Path(__file__).resolve().parents[1]
HYPOTHESES_FILE = ROOT / "data" / "hypotheses" / "hypotheses.toml"
COMPARES = ("change", "level", "versus")  # month minus month 0; the value at month; against the rivals
GUARD_COMPARES = ("change", "level")
OPS = (">=", "<=")
OP_WORDS = {">=": "at least", "<=": "at most"}  # as a claim reads (and needs no escaping in Markdown)
ALL = "all"  # designs = "all": every design in the runs
MIN_REPLICATIONS = 3  # fewer in an arm and the verdict is undecided (under-replicated)
LEVEL = 0.95
VERDICTS = ("supported", "refuted", "undecided")
REQUIRED = ("id", "theory", "statement", "output", "month", "compare", "op", "threshold", "designs", "source")
OPTIONAL = ("and",)
GUARD_REQUIRED = ("output", "op", "threshold")
GUARD_OPTIONAL = ("month", "compare")  # defaults: the hypothesis's month, "level"
FILE_KEYS = ("version", "hypothesis")
# a result row's fields besides the cell's (design and any other factor of a grid)
RESULT_FIELDS = (
    "id",
    "theory",
    "claim",
    "n",
    "effect",
    "ci_low",
    "ci_high",
    "versus",
    "and",
    "verdict",
    "reason",
)
TEXT = ("id", "statement", "source")
MAX_MONTH = int(PARAMETERS["run.steps"].high)
DESIGNS = tuple(d.value for d in DesignKind)
# an id: lower case, digits and underscores, starting with a letter
_ID = re.compile(r"[a-z][a-z0-9_]*")
# a source names a year (a publication), the seed or the project's documents, or says it is an assumption
_SOURCED = re.compile(r"\b(19|20)\d\d\b|\bseed\b|docs/ODD\.md|DESIGN\.md|^assumption: ")


@dataclass(frozen=True)
class Claim:
    """One comparison of an output with a threshold: the hypothesis's own, or one of its guards."""

    output: str
    month: int
    compare: str
    op: str
    threshold: float

    def text(self) -> str:
        what = {
            "level": f"{self.output} at month {self.month}",
            "change": f"{self.output} change 0-{self.month}",
            "versus": f"{self.output} at month {self.month}, minus each other programme's,",
        }[self.compare]
        return f"{what} {OP_WORDS[self.op]} {self.threshold:g}"

    def verdict(self, low: float, high: float) -> str:
        """Where the interval ``[low, high]`` lies against the threshold; touching it decides nothing."""
        if math.isnan(low) or math.isnan(high):
            return "undecided"
        above, below = low > self.threshold, high < self.threshold
        match self.op:
            case ">=":
                return "supported" if above else "refuted" if below else "undecided"
            case "<=":
                return "supported" if below else "refuted" if above else "undecided"
            case other:
                raise ValueError(f"unknown op {other!r}")


@dataclass(frozen=True)
class Hypothesis:
    id: str
    theory: str
    statement: str
    claim: Claim
    designs: tuple[str, ...]  # () for "all"
    source: str
    guards: tuple[Claim, ...] = ()

    def applies_to(self, design: str) -> bool:
        return not self.designs or design in self.designs


# ------------------------------------------------------------------------------------------ reading


def load_hypotheses(path: str | Path = HYPOTHESES_FILE) -> list[Hypothesis]:
    """Read and check a hypotheses file; raise :class:`ScenarioError` with one line per problem."""
    source = str(path)
    data = read_toml(path)
    problems: list[Problem] = []
    for key in data:
        if key not in FILE_KEYS:
            problems.append(Problem(key, "unknown section; a hypotheses file holds [[hypothesis]] tables"))
    if "version" in data and not _whole(data["version"]):
        problems.append(Problem("version", "must be a whole number", data["version"]))
    rows = data.get("hypothesis")
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        problems.append(Problem("hypothesis", "no [[hypothesis]] tables", None, "one per hypothesis"))
        raise ScenarioError(problems, source)
    seen: set[str] = set()
    hypotheses = []
    for n, row in enumerate(rows, 1):
        where = f"hypothesis[{n}]" + (f" ({row['id']})" if isinstance(row.get("id"), str) else "")
        before = len(problems)
        problems += row_problems(row, where)
        if isinstance(row.get("id"), str):
            if row["id"] in seen:
                problems.append(Problem(f"{where}.id", "used twice", row["id"], "a unique id"))
            seen.add(row["id"])
        if len(problems) == before:
            hypotheses.append(_hypothesis(row))
    if problems:
        raise ScenarioError(problems, source)
    return hypotheses


def row_problems(row: Mapping[str, Any], where: str) -> list[Problem]:
    """What is wrong with one ``[[hypothesis]]`` table (empty when nothing), each keyed ``where.field``."""
    problems: list[Problem] = []

    def bad(key: str, message: str, got: Any = None, allowed: str | None = None) -> None:
        problems.append(Problem(f"{where}.{key}", message, got, allowed))

    _unknown_fields(row, REQUIRED + OPTIONAL, bad)
    for key in REQUIRED:
        if key not in row:
            bad(key, "missing")
    for key in TEXT:
        if key in row and (not isinstance(row[key], str) or not row[key].strip()):
            bad(key, "must be text", row[key], "a non-empty string")
    if isinstance(row.get("id"), str) and row["id"].strip() and not _ID.fullmatch(row["id"]):
        bad("id", "must be a lower-case identifier", row["id"], "a-z, 0-9 and _, starting with a letter")
    if "theory" in row and row["theory"] not in THEORIES:
        bad("theory", "unknown theory of change", row["theory"], ", ".join(THEORIES))
    source = row.get("source")
    if isinstance(source, str) and source.strip() and not _SOURCED.search(source):
        bad(
            "source",
            "must say where the claim comes from",
            source,
            'a publication with its year, the seed, docs/ODD.md or DESIGN.md, or "assumption: ..."',
        )
    problems += _claim_problems(row, where, COMPARES)
    designs = row.get("designs")
    if "designs" in row and designs != ALL:
        if not isinstance(designs, list) or not designs:
            bad("designs", 'must be a list of designs or "all"', designs, ", ".join(DESIGNS))
        else:
            for d in designs:
                if d not in DESIGNS:
                    bad("designs", "unknown design" + _guess(d, DESIGNS), d, ", ".join(DESIGNS))
            if len(set(map(str, designs))) < len(designs):
                bad("designs", "names a design twice", designs)
    if "and" in row:
        guards = row["and"]
        guards = [guards] if isinstance(guards, dict) else guards
        if not isinstance(guards, list) or not guards or not all(isinstance(g, dict) for g in guards):
            bad(
                "and",
                "must be [[hypothesis.and]] tables",
                row["and"],
                "output, op, threshold, month, compare",
            )
        else:
            for k, guard in enumerate(guards, 1):
                problems += _guard_problems(guard, f"{where}.and[{k}]")
    return problems


def _guard_problems(guard: Mapping[str, Any], where: str) -> list[Problem]:
    """What is wrong with one ``[[hypothesis.and]]`` table."""
    problems: list[Problem] = []

    def bad(key: str, message: str, got: Any = None, allowed: str | None = None) -> None:
        problems.append(Problem(f"{where}.{key}", message, got, allowed))

    _unknown_fields(guard, GUARD_REQUIRED + GUARD_OPTIONAL, bad)
    for key in GUARD_REQUIRED:
        if key not in guard:
            bad(key, "missing")
    return problems + _claim_problems(guard, where, GUARD_COMPARES)


def _claim_problems(row: Mapping[str, Any], where: str, compares: tuple[str, ...]) -> list[Problem]:
    """The fields a claim and a guard share: output, month, compare, op, threshold."""
    problems: list[Problem] = []
    if "output" in row and row["output"] not in OUTPUTS:
        hint = _guess(row["output"], OUTPUTS)
        problems.append(
            Problem(f"{where}.output", "not a model output" + hint, row["output"], "see coprod run")
        )
    month = row.get("month")
    if "month" in row and (not _whole(month) or not 1 <= month <= MAX_MONTH):
        problems.append(Problem(f"{where}.month", "must be a whole month", month, f"1 to {MAX_MONTH}"))
    if "compare" in row and row["compare"] not in compares:
        problems.append(
            Problem(f"{where}.compare", "unknown comparison", row["compare"], ", ".join(compares))
        )
    if "op" in row and row["op"] not in OPS:
        problems.append(
            Problem(f"{where}.op", "unknown operator", row["op"], " or ".join(f'"{o}"' for o in OPS))
        )
    if "threshold" in row and not _finite(row["threshold"]):
        problems.append(Problem(f"{where}.threshold", "must be a finite number", row["threshold"]))
    return problems


def _unknown_fields(row: Mapping[str, Any], known: tuple[str, ...], bad) -> None:
    for key in row:
        if key not in known:
            bad(key, "unknown field" + _guess(key, known), None, ", ".join(known))


def _guess(value: Any, known: Sequence[str]) -> str:
    guess = difflib.get_close_matches(str(value), list(known), n=1)
    return f"; did you mean {guess[0]}?" if guess else ""


def _hypothesis(row: Mapping[str, Any]) -> Hypothesis:
    """A checked row as a :class:`Hypothesis`."""
    month = row["month"]
    guards = row.get("and", ())
    guards = [guards] if isinstance(guards, dict) else guards
    return Hypothesis(
        id=row["id"],
        theory=row["theory"],
        statement=row["statement"],
        claim=Claim(row["output"], month, row["compare"], row["op"], float(row["threshold"])),
        designs=() if row["designs"] == ALL else tuple(row["designs"]),
        source=row["source"],
        guards=tuple(
            Claim(
                g["output"], g.get("month", month), g.get("compare", "level"), g["op"], float(g["threshold"])
            )
            for g in guards
        ),
    )


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def listing(hypotheses: Sequence[Hypothesis], *, markdown: bool = False) -> str:
    """The hypotheses as ``coprod hypotheses`` prints them: plain lines, or a Markdown table."""
    lines = []
    if markdown:
        lines += [
            "| id | theory | designs | claim | and | statement | source |",
            "|---|---|---|---|---|---|---|",
        ]
    for h in hypotheses:
        designs = ", ".join(h.designs) or ALL
        guards = "; ".join(g.text() for g in h.guards)
        if markdown:
            cells = (f"`{h.id}`", h.theory, designs, h.claim.text(), guards, h.statement, h.source)
            lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
            continue
        lines.append(f"{h.id} ({h.theory}; designs: {designs})")
        lines.append(f"    claim: {h.claim.text()}" + (f"; and {guards}" if guards else ""))
        lines.append(f"    {h.statement}")
        lines.append(f"    source: {h.source}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------- evaluating


@dataclass(frozen=True)
class Estimate:
    """A claim measured in one cell: the mean (or, for ``versus``, the difference from the rival named)
    over ``n`` replications with its 95% interval, and where that interval lies."""

    n: int
    effect: float
    low: float
    high: float
    verdict: str
    versus: str = ""
    missing: str = ""  # why there is nothing to measure ("" when there is)

    def text(self) -> str:
        if self.missing:
            return self.missing
        if math.isnan(self.effect):
            return "–"
        if math.isnan(self.low):
            return f"{self.effect:+.3f} (n={self.n})"
        return f"{self.effect:+.3f} [{self.low:+.3f}, {self.high:+.3f}]"


def evaluate(runs, hypotheses: Sequence[Hypothesis]) -> tuple[list[dict[str, Any]], list[str]]:
    """Judge each hypothesis in each cell of ``runs`` (an :class:`experiments.stored_runs.Runs`) in which its
    theory is the programme and which lies in its designs: one row per hypothesis and cell, and a note for
    each hypothesis that had no such cell."""
    from coprod.experiments.summary import _cell, group_columns

    cols = [c for c in group_columns(runs) if c != "theory"]
    cells: dict[tuple, dict[str, list[int]]] = {}
    for i, run in enumerate(runs.info):
        key = tuple(_cell(run, c) for c in cols)
        cells.setdefault(key, {}).setdefault(run["theory"], []).append(i)
    order = {d: i for i, d in enumerate(DESIGNS)}
    design_at = cols.index("design")

    def sort_key(key: tuple) -> tuple:
        return (order.get(key[design_at], len(order)), tuple(str(v) for v in key))

    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for h in hypotheses:
        judged = 0
        for key in sorted(cells, key=sort_key):
            arms = cells[key]
            if h.theory not in arms or not h.applies_to(key[design_at]):
                continue
            judged += 1
            rows.append(_judge(runs, h, dict(zip(cols, key, strict=True)), arms))
        if not judged:
            where = ", ".join(h.designs) if h.designs else "any design"
            notes.append(f"{h.id}: not evaluated: no runs of the {h.theory} programme in {where}")
    return rows, notes


def _judge(runs, h: Hypothesis, cell: dict[str, Any], arms: dict[str, list[int]]) -> dict[str, Any]:
    main = _estimate(runs, h.claim, arms, h.theory)
    guards = [_estimate(runs, g, arms, h.theory) for g in h.guards]
    verdict, reason = _verdict(h, main, guards)
    return {
        "id": h.id,
        "theory": h.theory,
        **cell,
        "claim": h.claim.text(),
        "n": main.n,
        "effect": main.effect,
        "ci_low": main.low,
        "ci_high": main.high,
        "versus": main.versus,
        "and": "; ".join(
            f"{g.text()}: {e.text()} {e.verdict}" for g, e in zip(h.guards, guards, strict=True)
        ),
        "verdict": verdict,
        "reason": reason,
    }


def _verdict(h: Hypothesis, main: Estimate, guards: list[Estimate]) -> tuple[str, str]:
    every = [main, *guards]
    missing = next((e.missing for e in every if e.missing), "")
    if missing:
        return "undecided", missing
    fewest = min(e.n for e in every)
    if fewest < MIN_REPLICATIONS:
        return "undecided", f"under-replicated ({fewest} < {MIN_REPLICATIONS} replications)"
    if main.verdict == "refuted":
        return "refuted", "the claim's interval lies wholly on the wrong side"
    for g, e in zip(h.guards, guards, strict=True):
        if e.verdict == "refuted":
            return "refuted", f"its guard {g.output} lies wholly on the wrong side"
    if main.verdict == "supported" and all(e.verdict == "supported" for e in guards):
        return "supported", ""
    if main.verdict != "supported":
        return "undecided", "the claim's interval touches the threshold"
    g = next(g for g, e in zip(h.guards, guards, strict=True) if e.verdict != "supported")
    return "undecided", f"its guard {g.output}'s interval touches the threshold"


def _estimate(runs, claim: Claim, arms: dict[str, list[int]], theory: str) -> Estimate:
    """The claim measured on the programme's runs in one cell (for ``versus``, against each rival)."""
    from coprod.experiments.summary import mean_ci

    mine = _values(runs, arms[theory], claim.output, claim.month, claim.compare)
    if mine is None:
        last = int(runs.steps.max()) if runs.steps.size else 0
        return Estimate(0, math.nan, math.nan, math.nan, "undecided", missing=_unrecorded(claim.month, last))
    if claim.compare != "versus":
        mean, low, high = mean_ci(mine, LEVEL)
        return Estimate(len(mine), mean, low, high, claim.verdict(low, high))
    rivals = [t for t in THEORIES if t != theory and t in arms]
    rivals += sorted(t for t in arms if t != theory and t not in THEORIES)
    if not rivals:
        missing = "no other programme under this design in the runs"
        return Estimate(len(mine), math.nan, math.nan, math.nan, "undecided", missing=missing)
    found = []
    for rival in rivals:
        theirs = _values(runs, arms[rival], claim.output, claim.month, "level")
        found.append(_difference(mine, theirs, rival, claim))
    # the row shows the rival least favourable to the claim: any refuting one first, then undecided
    severity = {"refuted": 0, "undecided": 1, "supported": 2}
    sign = 1 if claim.op == ">=" else -1
    worst = min(found, key=lambda e: (severity[e.verdict], sign * _finite_or(e.low if sign > 0 else e.high)))
    return Estimate(min(e.n for e in found), worst.effect, worst.low, worst.high, worst.verdict, worst.versus)


def _difference(mine: np.ndarray, theirs: np.ndarray, rival: str, claim: Claim) -> Estimate:
    from coprod.experiments.patterns import welch

    n = min(len(mine), len(theirs))
    if n == 0:
        return Estimate(0, math.nan, math.nan, math.nan, "undecided", rival)
    if n < 2:
        diff = float(mine.mean() - theirs.mean())
        return Estimate(n, diff, math.nan, math.nan, "undecided", rival)
    e = welch(mine, theirs, rival)
    return Estimate(n, e.difference, e.low, e.high, claim.verdict(e.low, e.high), rival)


def _values(runs, idx: list[int], output: str, month: int, compare: str) -> np.ndarray | None:
    """Each run's value of ``output`` at ``month`` (minus month 0's for ``change``), runs that did not
    record it left out; None when no run recorded that month."""
    at = np.flatnonzero(runs.steps == month)
    start = np.flatnonzero(runs.steps == 0)
    if not at.size or (compare == "change" and not start.size):
        return None
    v = runs.values[output][idx, at[0]]
    if compare == "change":
        v = v - runs.values[output][idx, start[0]]
    return v[~np.isnan(v)]


def _unrecorded(month: int, last: int) -> str:
    if month > last:
        return f"month {month} not reached: runs recorded to month {last}"
    return f"month {month} not recorded (see the experiment's record_every)"


def _finite_or(x: float, default: float = math.inf) -> float:
    return x if math.isfinite(x) else default


# ---------------------------------------------------------------------------------------- reporting


def markdown(rows: Sequence[Mapping[str, Any]], notes: Sequence[str] = ()) -> str:
    """The verdicts as a Markdown table, every stored text escaped (:mod:`experiments.untrusted`)."""
    from coprod.experiments.untrusted import markdown_cell

    cell_cols = [k for k in (rows[0] if rows else {}) if k not in RESULT_FIELDS]
    head = ["hypothesis", *cell_cols, "claim", "n", "effect [95% CI]", "and", "verdict"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        # the claim, the guards and the numbers are checked or computed here; the cell and the rival's
        # name come from the database and are escaped
        effect = Estimate(r["n"], r["effect"], r["ci_low"], r["ci_high"], r["verdict"]).text()
        if r["versus"]:
            effect += f" vs {markdown_cell(r['versus'])}"
        verdict = f"**{r['verdict']}**" + (f" ({r['reason']})" if r["reason"] else "")
        cells = [f"`{r['id']}`", *(markdown_cell(r[c]) for c in cell_cols), r["claim"], str(r["n"])]
        cells += [effect, r["and"], verdict]
        lines.append("| " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    if notes:
        text += "\n" + "\n".join(f"- {markdown_cell(n)}" for n in notes) + "\n"
    return text


def html_section(rows: Sequence[Mapping[str, Any]], notes: Sequence[str] = ()) -> str:
    """The verdicts as a section of ``report.html``: every stored text escaped, numbers computed here."""
    import html

    e = html.escape
    cell_cols = [k for k in (rows[0] if rows else {}) if k not in RESULT_FIELDS]
    head = ["hypothesis", *cell_cols, "claim", "n", "effect [95% CI]", "and", "verdict"]
    parts = [
        "<h2>Stated hypotheses of the theories of change</h2>",
        "<p>Each theory's claims as data (<code>data/hypotheses/hypotheses.toml</code>, "
        "<code>coprod hypotheses</code>), judged on the runs whose programme is that theory: "
        "<b>supported</b> when the 95% interval (and every guard's) lies wholly on the claimed side, "
        "<b>refuted</b> when it (or a guard's) lies wholly on the other side, <b>undecided</b> otherwise or "
        "with fewer than 3 replications.</p>",
        "<table><tr>" + "".join(f"<th class='k'>{e(h)}</th>" for h in head) + "</tr>",
    ]
    for r in rows:
        effect = Estimate(r["n"], r["effect"], r["ci_low"], r["ci_high"], r["verdict"]).text()
        if r["versus"]:
            effect += f" vs {r['versus']}"
        verdict = f"<b>{e(r['verdict'])}</b>" + (f" ({e(r['reason'])})" if r["reason"] else "")
        cells = [f"<code>{e(str(r['id']))}</code>", *(e(str(r[c])) for c in cell_cols)]
        cells += [e(str(r["claim"])), e(str(r["n"])), e(effect), e(str(r["and"])), verdict]
        parts.append("<tr>" + "".join(f"<td class='k'>{c}</td>" for c in cells) + "</tr>")
    parts.append("</table>")
    parts += [f"<p class='note'>{e(str(n))}</p>" for n in notes]
    return "".join(parts)


def hypotheses_report(
    db, experiment: str, hypotheses: Sequence[Hypothesis] | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """The verdicts of ``hypotheses`` (default: the shipped file) on ``experiment`` in ``db`` (a path or
    an open :class:`experiments.store.Store`): the Markdown table, and one row per hypothesis and cell."""
    from coprod.experiments.store import Store
    from coprod.experiments.stored_runs import load_runs

    hypotheses = load_hypotheses() if hypotheses is None else hypotheses
    if isinstance(db, Store):
        runs = load_runs(db, experiment)
    else:
        with Store.existing(db) as store:
            runs = load_runs(store, experiment)
    rows, notes = evaluate(runs, hypotheses)
    return markdown(rows, notes), rows


# -------------------------------------------------------------------------------------- entry point


def main_hypotheses(args) -> int:
    """``coprod hypotheses [--file FILE] [--markdown] [--db PATH [--experiment NAME] [--out DIR]]``."""
    hypotheses = load_hypotheses(args.file or HYPOTHESES_FILE)
    if args.db is None:
        if args.experiment or args.out:
            from coprod.experiments.store import StoreError

            raise StoreError("hypotheses: --experiment and --out need --db (the results database)")
        print(listing(hypotheses, markdown=args.markdown))
        return 0
    from coprod.experiments.store import Store
    from coprod.experiments.summary import csv_text
    from coprod.experiments.untrusted import check_targets, plain, write_files

    with Store.existing(args.db) as store:
        names = _chosen(store, args)
        all_rows: list[dict[str, Any]] = []
        parts = []
        for name in names:
            text, rows = hypotheses_report(store, name, hypotheses)
            all_rows += [{"experiment": name, **r} for r in rows]
            parts.append(f"## {plain(name)}\n\n{text}")
    report = "# Stated hypotheses\n\n" + "\n".join(parts)
    if args.out is not None:
        out = Path(args.out)
        contents = {"hypotheses.md": report.encode(), "hypotheses.csv": csv_text(all_rows).encode()}
        check_targets(out, list(contents))
        write_files(out, contents)
    print(report)
    counts = {v: sum(r["verdict"] == v for r in all_rows) for v in VERDICTS}
    print(", ".join(f"{n} {v}" for v, n in counts.items()) + f" (of {len(all_rows)} cells)")
    if args.out is not None:
        print(f"written: {Path(args.out) / 'hypotheses.md'}, {Path(args.out) / 'hypotheses.csv'}")
    return 0


def _chosen(store, args) -> list[str]:
    """The experiments to judge: the one named, or every one in the database."""
    from coprod.experiments.store import StoreError
    from coprod.experiments.untrusted import plain, shown

    names = store.experiment_names()
    if args.experiment is None:
        if not names:
            raise StoreError(f"{args.db}: no experiments recorded (run `coprod sweep` first)")
        return names
    if args.experiment not in names:
        guess = difflib.get_close_matches(args.experiment, names, n=1)
        held = ", ".join(plain(n, 60) for n in names[:10]) + (", ..." if len(names) > 10 else "")
        hint = f"; did you mean {plain(guess[0], 60)}?" if guess else f"; it holds {held or 'none'}"
        raise StoreError(f"{args.db}: no experiment {shown(args.experiment)}{hint}")
    return [args.experiment]


__all__ = [
    "HYPOTHESES_FILE",
    "MIN_REPLICATIONS",
    "Claim",
    "Estimate",
    "Hypothesis",
    "evaluate",
    "hypotheses_report",
    "listing",
    "load_hypotheses",
    "main_hypotheses",
    "markdown",
    "row_problems",
]
