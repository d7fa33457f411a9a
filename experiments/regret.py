"""Which theory of change wins where: the regret of each theory across sampled city contexts.

``coprod regret --db FILE [--experiment NAME] [--arm KEY] [--weight W] [--out DIR]`` reads an experiment
whose ``[cross]`` runs every arm (by default every ``theory.kind``) at every sampled point (see
:mod:`experiments.design`; ``experiments/theories_across_contexts.toml`` is one), and asks, point by point,
which arm did best:

- each run is scored at its last recorded month by a *utility*, the mean of the eight progress markers
  minus ``W`` times consensus bias (:data:`WEIGHT`): "the best markers without raising consensus bias"
  as one number. ``W`` is a value judgement, declared and changeable, and the markers' and consensus
  bias's own regrets are reported beside it so that a reader can see what it trades;
- an arm's utility at a point is the mean over that point's replications, which share their seeds
  across arms (common random numbers), so a difference between arms is not a difference of luck;
- the **regret** of an arm at a point is its shortfall against the best arm there (Savage 1951, "The
  theory of statistical decision", JASA 46: 55-67); its mean over points, with a t interval over the
  points, and its maximum (Savage's minimax criterion) say how much choosing that theory without knowing
  the city costs, as in robust decision making (Lempert, Popper and Bankes 2003, RAND MR-1626);
- where each arm wins is found by scenario discovery on the points (PRIM, :func:`experiments.discovery.
  discover`): the box of city contexts in which that arm is the best;
- a winner picked from a few noisy replications is partly luck: the **split-half agreement** (the winner
  from the even replications against the winner from the odd ones) says how much of the map is signal.

It prints a Markdown summary and writes ``regret.md``, ``regret.csv`` (one row per point) and
``regret_map.png`` into ``DIR`` (default ``results/<experiment>/regret/``). These are properties of the
model under the sampled ranges, not findings about any city.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from coprod.experiments.discovery import Discovery, discover, inputs
from coprod.experiments.store import StoreError
from coprod.experiments.stored_runs import RESULTS_DIR, Runs, load_runs
from coprod.experiments.summary import mean_ci
from coprod.experiments.theory_conditions import wilson
from coprod.experiments.untrusted import plain, safe_name, shown, text, write_files
from coprod.model import CONSENSUS, MARKERS, PARAMETERS, Problem, ScenarioError

# The utility's price of consensus bias in units of the markers' mean (an assumption, a value judgement:
# one unit of consensus bias, on its 0..1 scale, costs as much as one unit of the eight markers' mean).
WEIGHT = 1.0
ARM = "theory.kind"  # the crossed key whose values are compared, unless --arm names another
BIAS = CONSENSUS[0]
FILES = ("regret.md", "regret.csv", "regret_map.png")
# PRIM reruns on half-samples for each arm's box (fewer than coprod discover's: one box per arm)
RESAMPLES = 5


@dataclass
class Paired:
    """The points of a crossed experiment: ``markers`` and ``bias`` are (points, arms, replications),
    NaN where a run is not done; ``x`` holds the sampled inputs of each point."""

    experiment: str
    arm_key: str
    arms: list[str]
    samples: list[int]
    x: pd.DataFrame
    markers: np.ndarray
    bias: np.ndarray
    skipped: int = 0  # points left out because some arm had no done run there


@dataclass
class Regret:
    """Utilities and regrets per point and arm, and per arm the summary and the box where it wins."""

    paired: Paired
    weight: float
    utility: np.ndarray  # (points, arms), replication means
    regret: np.ndarray  # (points, arms)
    best: np.ndarray  # (points,) index of the best arm
    agreement: float  # split-half agreement of the winner; NaN with one replication
    summary: list[dict[str, Any]] = field(default_factory=list)
    boxes: dict[str, Discovery] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def paired(runs: Runs, arm_key: str = ARM) -> Paired:
    """Group the done runs by sample point and arm; a point enters only with every arm done there."""
    where = f"experiments {shown(runs.experiment)}"
    crossed = runs.definition.get("cross", [])
    keys = [c.get("key") for c in crossed if isinstance(c, dict)] if isinstance(crossed, list) else []
    if arm_key not in keys:
        raise StoreError(
            f"{where}: does not cross {shown(arm_key)} (crossed: {', '.join(map(str, keys)) or 'nothing'}); "
            "regret compares arms run at the same points: add a [cross] table to the experiment"
        )
    info = runs.info
    if not info:
        raise StoreError(f"{where}: no done runs yet")
    samples = sorted({r["sample"] for r in info if r["sample"] is not None})
    if not samples:
        raise StoreError(f"{where}: its runs have no sample points (regret needs a sampled design)")
    arms = [str(v) for v in next(c for c in crossed if c.get("key") == arm_key).get("values", [])]
    reps = max(r["rep"] for r in info) + 1
    marker_final = np.mean([runs.final(m) for m in MARKERS], axis=0)
    bias_final = runs.final(BIAS)
    row_of = {s: i for i, s in enumerate(samples)}
    markers = np.full((len(samples), len(arms), reps), np.nan)
    bias = np.full_like(markers, np.nan)
    first_run: dict[int, int] = {}
    for i, run in enumerate(info):
        arm = str(run["params"].get(arm_key))
        if run["sample"] is None or arm not in arms:
            continue
        p, a = row_of[run["sample"]], arms.index(arm)
        markers[p, a, run["rep"]] = marker_final[i]
        bias[p, a, run["rep"]] = bias_final[i]
        first_run.setdefault(p, i)
    complete = ~np.isnan(markers).all(axis=2).any(axis=1)
    x = inputs(runs, where).drop(columns=[arm_key], errors="ignore")
    x = x.iloc[[first_run[p] for p in range(len(samples)) if complete[p]]].reset_index(drop=True)
    return Paired(
        experiment=runs.experiment,
        arm_key=arm_key,
        arms=arms,
        samples=[s for s, ok in zip(samples, complete, strict=True) if ok],
        x=x,
        markers=markers[complete],
        bias=bias[complete],
        skipped=int((~complete).sum()),
    )


def regret_of(utility: np.ndarray) -> np.ndarray:
    """Savage's regret: each arm's shortfall against the best arm at the same point (rows)."""
    return utility.max(axis=1, keepdims=True) - utility


def analyse(p: Paired, weight: float = WEIGHT, *, resamples: int = RESAMPLES) -> Regret:
    """Utilities, regrets, winners, each arm's summary and the box where it wins."""
    with np.errstate(all="ignore"):
        per_rep = p.markers - weight * p.bias
        utility = np.nanmean(per_rep, axis=2)
    regret = regret_of(utility)
    best = utility.argmax(axis=1)
    agreement = _split_half(per_rep)
    n = len(best)
    summary = []
    marker_regret = regret_of(np.nanmean(p.markers, axis=2))
    bias_regret = regret_of(-np.nanmean(p.bias, axis=2))  # lower bias is better
    leader = int(np.nanmean(utility, axis=0).argmax())
    for a, arm in enumerate(p.arms):
        wins = int((best == a).sum())
        # regret is >= 0 by construction, so its interval says nothing by itself; the paired difference of
        # utility against the arm with the best mean is an effect that can be zero, with its interval
        gap = mean_ci(utility[:, a] - utility[:, leader]) if a != leader else (0.0, math.nan, math.nan)
        mean, low, high = mean_ci(regret[:, a])
        share_low, share_high = wilson(wins, n)
        summary.append(
            {
                "arm": arm,
                "mean_regret": mean,
                "ci_low": low,
                "ci_high": high,
                "max_regret": float(regret[:, a].max()),
                "wins": wins,
                "share_best": wins / n,
                "share_low": share_low,
                "share_high": share_high,
                "mean_markers": float(np.nanmean(p.markers[:, a])),
                "mean_bias": float(np.nanmean(p.bias[:, a])),
                "markers_regret": float(marker_regret[:, a].mean()),
                "bias_regret": float(bias_regret[:, a].mean()),
                "vs_leader": gap[0],
                "vs_low": gap[1],
                "vs_high": gap[2],
                "leader": p.arms[leader],
            }
        )
    result = Regret(p, weight, utility, regret, best, agreement, summary)
    for a, arm in enumerate(p.arms):
        wins = best == a
        if 0 < wins.sum() < n:
            result.boxes[arm] = discover(p.x, wins, resamples=resamples)
        else:
            result.notes.append(f"{arm} is best at {'every' if wins.all() else 'no'} point: no box to find")
    if p.skipped:
        result.notes.append(f"{p.skipped} point(s) left out: some arm had no done run there")
    return result


def _split_half(per_rep: np.ndarray) -> float:
    """The share of points whose winner from the even replications is the winner from the odd ones."""
    if per_rep.shape[2] < 2:
        return math.nan
    with np.errstate(all="ignore"):
        even = np.nanmean(per_rep[:, :, 0::2], axis=2)
        odd = np.nanmean(per_rep[:, :, 1::2], axis=2)
    ok = ~(np.isnan(even).any(axis=1) | np.isnan(odd).any(axis=1))
    return float((even[ok].argmax(axis=1) == odd[ok].argmax(axis=1)).mean()) if ok.any() else math.nan


# ------------------------------------------------------------------------------------------ output


def _f(x: float, digits: int = 3) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _limit(lim) -> str:
    """A restricted limit with its quasi-p-value (the smaller of its two sides'): a limit with qp above
    0.05 barely raises the box's density and is weak evidence of where the arm wins."""
    qps = [q for q in (lim.qp_low, lim.qp_high) if not math.isnan(q)]
    return plain(lim.describe(), 120) + (f" (qp {min(qps):.2g})" if qps else "")


def _vs(s: dict[str, Any]) -> str:
    if s["arm"] == s["leader"]:
        return "(best mean)"
    return f"{s['vs_leader']:+.3f} [{s['vs_low']:+.3f}, {s['vs_high']:+.3f}]"


def markdown(r: Regret) -> str:
    p = r.paired
    reps = p.markers.shape[2]
    lines = [
        f"# Which {p.arm_key} wins where: {plain(p.experiment, 80)}",
        "",
        f"{len(p.samples)} sampled points x {len(p.arms)} arms x {reps} replications (common random numbers "
        f"across arms). Utility = mean of the eight markers - {r.weight:g} x {BIAS} at the last recorded "
        "month; regret = shortfall against the best arm at the same point (Savage 1951).",
        "",
        "| arm | mean regret [95% CI] | max regret | best at (share [95% CI]) | utility vs "
        f"{plain(r.summary[0]['leader'], 40)} [95% CI] | markers | consensus bias | markers' regret "
        "| bias's regret |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s in sorted(r.summary, key=lambda s: s["mean_regret"]):
        lines.append(
            f"| {plain(s['arm'], 40)} | {_f(s['mean_regret'])} [{_f(s['ci_low'])}, {_f(s['ci_high'])}] "
            f"| {_f(s['max_regret'])} | {s['wins']} ({_f(s['share_best'], 2)} [{_f(s['share_low'], 2)}, "
            f"{_f(s['share_high'], 2)}]) | {_vs(s)} | {_f(s['mean_markers'])} | {_f(s['mean_bias'])} "
            f"| {_f(s['markers_regret'])} | {_f(s['bias_regret'])} |"
        )
    robust = min(r.summary, key=lambda s: s["max_regret"])
    lines += [
        "",
        f"Minimax regret (Savage): **{plain(robust['arm'], 40)}**, whose worst shortfall is "
        f"{_f(robust['max_regret'])}. Split-half agreement of the winner: {_f(r.agreement, 2)} "
        "(the share of points where the even and the odd replications name the same winner; with "
        f"{len(p.arms)} arms, chance alone gives about {1 / len(p.arms):.2f}). Regret is never negative, "
        "and noise alone makes it positive (the best of noisy means is too high), so compare arms by the "
        "paired difference of utility, whose interval can hold zero.",
        "",
        "## Where each arm is best (PRIM on the sampled points)",
        "",
    ]
    for arm, d in r.boxes.items():
        box = d.box
        limits = "; ".join(_limit(lim) for lim in d.limits if lim.restricted)
        lines.append(
            f"- **{plain(arm, 40)}** (best at {d.meeting} of {d.n}): coverage {_f(box['coverage'], 2)}, "
            f"density {_f(box['density'], 2)}; box: {limits or 'the whole space'}"
        )
    lines.append(
        "- qp: the quasi-p-value of a limit (Bryant and Lempert 2010); above 0.05 a limit is weak evidence."
    )
    lines += [f"- note: {plain(n, 300)}" for n in r.notes]
    lines += [
        "",
        "These are properties of the model under the sampled ranges, not findings about any city.",
    ]
    return "\n".join(lines) + "\n"


def table_csv(r: Regret) -> str:
    p = r.paired
    out = io.StringIO()
    writer = csv.writer(out)
    numeric = [c for c in p.x.columns if PARAMETERS.get(c) and PARAMETERS[c].type in ("float", "int")]
    header = ["sample", *p.x.columns, "best"]
    header += [f"utility_{a}" for a in p.arms] + [f"regret_{a}" for a in p.arms]
    writer.writerow(header)
    for i, sample in enumerate(p.samples):
        row = [sample]
        row += [f"{p.x[c].iloc[i]:.6g}" if c in numeric else str(p.x[c].iloc[i]) for c in p.x.columns]
        row += [p.arms[r.best[i]], *(f"{u:.6f}" for u in r.utility[i]), *(f"{g:.6f}" for g in r.regret[i])]
        writer.writerow(row)
    return out.getvalue()


def map_axes(r: Regret) -> list[str]:
    """The two numeric inputs the winning boxes restrict most often (then the first numeric inputs)."""
    numeric = [c for c in r.paired.x.columns if pd.api.types.is_numeric_dtype(r.paired.x[c])]
    counts = {c: 0 for c in numeric}
    for d in r.boxes.values():
        for lim in d.limits:
            if lim.restricted and lim.name in counts:
                counts[lim.name] += 1
    return sorted(numeric, key=lambda c: (-counts[c], numeric.index(c)))[:2]


def map_category(r: Regret) -> str | None:
    """The categorical input that the winning boxes restrict with the strongest evidence (the smallest
    quasi-p-value, below 0.05), if any: then the map is drawn per category."""
    best: tuple[float, str] | None = None
    for d in r.boxes.values():
        for lim in d.limits:
            qps = [q for q in (lim.qp_low, lim.qp_high) if not math.isnan(q)]
            sure = lim.categorical and lim.restricted and qps and min(qps) < 0.05
            if sure and (best is None or min(qps) < best[0]):
                best = (min(qps), lim.name)
    return best[1] if best else None


def plot(r: Regret) -> bytes:
    """Left: which arm wins, per category of the categorical input the boxes restrict most surely (a
    stacked bar per category), else at each point on the two most restricted numeric inputs. Right: each
    arm's regret over the points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = r.paired
    axes_keys = map_axes(r)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.4), dpi=110)
    colours = plt.get_cmap("tab10")
    category = map_category(r)
    if category is not None:
        values = [str(v) for v in p.x[category].astype(str)]
        kinds = sorted(set(values))
        bottom = np.zeros(len(kinds))
        for a, arm in enumerate(p.arms):
            share = np.array(
                [np.mean([r.best[i] == a for i, v in enumerate(values) if v == k]) for k in kinds]
            )
            left.barh(kinds, share, left=bottom, color=colours(a), label=arm)
            bottom += share
        left.set_xlabel("share of the sampled points where the arm is best")
        left.set_xlim(0, 1)
        left.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=len(p.arms))
        left.set_title(f"Which arm is best, by {category}", fontsize=10)
    elif len(axes_keys) == 2:
        for a, arm in enumerate(p.arms):
            won = r.best == a
            left.scatter(
                p.x[axes_keys[0]][won], p.x[axes_keys[1]][won], s=18, color=colours(a), label=arm, alpha=0.85
            )
        left.set_xlabel(axes_keys[0])
        left.set_ylabel(axes_keys[1])
        left.legend(title="best", fontsize=8, title_fontsize=8, loc="best")
        left.set_title("Which arm is best at each sampled point", fontsize=10)
    else:
        left.set_axis_off()
    right.boxplot([r.regret[:, a] for a in range(len(p.arms))], tick_labels=p.arms, showmeans=True)
    right.set_ylabel(f"regret (utility = markers - {r.weight:g} x consensus bias)")
    right.set_title("Regret against the best arm at the same point", fontsize=10)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def html_section(r: Regret, png: bytes) -> str:
    """The regret map as a section of ``report.html``: every stored text escaped, numbers computed here."""
    import base64
    import html

    e = html.escape
    p = r.paired
    head = ["theory", "mean regret [95% CI]", "max regret", "best at", "utility vs best mean [95% CI]"]
    parts = [
        f"<h2>Which {e(p.arm_key)} wins where: regret across the sampled contexts</h2>",
        f"<p>{len(p.samples)} sampled points, each run in every arm with shared seeds. Utility = mean of "
        f"the eight markers &minus; {r.weight:g} &times; consensus bias at the last month (an assumption: "
        "<code>coprod regret --weight</code>); regret = the shortfall against the best arm at the same point "
        "(Savage 1951). Regret is never negative and noise makes it positive: compare arms by the paired "
        f"difference. Split-half agreement of the winner: {_f(r.agreement, 2)} (chance: "
        f"{1 / len(p.arms):.2f}).</p>",
        "<table><tr>" + "".join(f"<th class='k'>{e(h)}</th>" for h in head) + "</tr>",
    ]
    for s in sorted(r.summary, key=lambda s: s["mean_regret"]):
        cells = [
            e(plain(s["arm"], 40)),
            f"{_f(s['mean_regret'])} [{_f(s['ci_low'])}, {_f(s['ci_high'])}]",
            _f(s["max_regret"]),
            f"{s['wins']} of {len(p.samples)}",
            e(_vs(s)),
        ]
        parts.append("<tr>" + "".join(f"<td class='k'>{c}</td>" for c in cells) + "</tr>")
    parts.append("</table><ul>")
    for arm, d in r.boxes.items():
        limits = "; ".join(plain(lim.describe(), 120) for lim in d.limits if lim.restricted)
        parts.append(
            f"<li><b>{e(plain(arm, 40))}</b> is best at {d.meeting} of {d.n} points; PRIM's box "
            f"(coverage {_f(d.box['coverage'], 2)}, density {_f(d.box['density'], 2)}): "
            f"{e(limits or 'the whole space')}</li>"
        )
    parts.append("</ul>")
    parts += [f"<p class='note'>{e(plain(n, 300))}</p>" for n in r.notes]
    data = base64.b64encode(png).decode()
    parts.append(f"<img alt='regret map' src='data:image/png;base64,{data}'>")
    return "".join(parts)


def report_parts(runs: Runs) -> tuple[dict[str, bytes], str]:
    """For ``coprod analyze``: the regret files and the report section of a crossed experiment whose arm
    is the theory of change; nothing for any other experiment, or when too few points are done."""
    crossed = runs.definition.get("cross", [])
    if not (isinstance(crossed, list) and any(isinstance(c, dict) and c.get("key") == ARM for c in crossed)):
        return {}, ""
    p = paired(runs, ARM)
    if len(p.samples) < 2:
        return {}, ""
    r = analyse(p)
    png = plot(r)
    files = {"regret.md": markdown(r).encode(), "regret.csv": table_csv(r).encode(), "regret_map.png": png}
    return files, html_section(r, png)


def main_regret(args) -> int:
    """``coprod regret``: read, pair, analyse, write and print."""
    from coprod.experiments.discovery import _experiment
    from coprod.experiments.store import Store

    weight = WEIGHT if args.weight is None else args.weight
    arm = ARM if args.arm is None else args.arm
    if not (math.isfinite(weight) and 0 <= weight <= 100):
        raise ScenarioError(
            [Problem("--weight", "must be a finite number from 0 to 100", weight, "0..100")], "command line"
        )
    if arm not in PARAMETERS:
        raise ScenarioError([Problem("--arm", "not a parameter of the model", arm)], "command line")
    with Store.existing(args.db) as store:
        names = {text(n): n for n in store.experiment_names()}
        experiment = _experiment(store, names, args.experiment)
        runs = load_runs(store, names[experiment])
    r = analyse(paired(runs, arm), weight)
    out = RESULTS_DIR / safe_name(experiment) / "regret" if args.out is None else Path(args.out)
    summary = markdown(r)
    written = write_files(
        out,
        {"regret.md": summary.encode(), "regret.csv": table_csv(r).encode(), "regret_map.png": plot(r)},
    )
    print(summary)
    print(f"files: {', '.join(p.name for p in written)} in {out}/")
    return 0


__all__ = [
    "ARM",
    "FILES",
    "WEIGHT",
    "Paired",
    "Regret",
    "analyse",
    "html_section",
    "main_regret",
    "paired",
    "regret_of",
    "report_parts",
]
