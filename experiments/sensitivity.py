"""Sobol and Morris sensitivity indices of a sampled experiment (SALib), and their table.

For Sobol and Morris experiments: SALib's first-order and total indices with their confidence intervals
(S1, ST), or Morris's mu* (with its interval) and sigma, per base scenario (per group when the factors are
grouped), for each of the experiment's ``outputs`` at the final step, replications averaged; beside them
the output's replication noise (:func:`replication_noise`), the level an index must clear to be told from
zero. The design is rebuilt from the stored definition (:func:`experiments.design.sample_matrix`). Indices
that SALib refuses to compute are left out with a note, as is a sampled design larger than the runs
recorded.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from coprod.experiments.stored_runs import Runs
from coprod.experiments.summary import _num
from coprod.experiments.untrusted import markdown_cell, plain
from coprod.model import CONSENSUS, MARKERS


def sobol_indices(problem: dict, y: np.ndarray, *, second_order: bool = False, seed: int = 0) -> dict:
    """First-order and total Sobol indices with 95% confidence intervals (SALib, Saltelli/Jansen)."""
    from SALib.analyze import sobol

    result = sobol.analyze(problem, np.asarray(y, dtype=float), calc_second_order=second_order, seed=seed)
    return {k: np.asarray(result[k], dtype=float) for k in ("S1", "S1_conf", "ST", "ST_conf")}


def morris_indices(problem: dict, x: np.ndarray, y: np.ndarray, *, levels: int = 4, seed: int = 0) -> dict:
    """Morris elementary effects: mu* with its 95% interval, mu and sigma (SALib)."""
    from SALib.analyze import morris

    result = morris.analyze(problem, x, np.asarray(y, dtype=float), num_levels=levels, seed=seed)
    return {k: np.asarray(result[k], dtype=float) for k in ("mu_star", "mu_star_conf", "mu", "sigma")}


def sample_means(runs: Runs, scenario: str, output: str, n_samples: int) -> np.ndarray | None:
    """The final value of ``output`` per sample index of one base scenario, replications averaged;
    None unless every sample has at least one done run (the estimators need the whole design)."""
    by_point = _finals_by_point(runs, scenario, output, n_samples)
    if len(by_point) < n_samples:
        return None
    return np.array([np.mean(by_point[i]) for i in range(n_samples)])


def _finals_by_point(runs: Runs, scenario: str, output: str, n_samples: int) -> dict[int, list[float]]:
    """The final values of ``output`` of one base scenario's done runs, by sample index."""
    final = runs.final(output)
    by_point: dict[int, list[float]] = {}
    for i, run in enumerate(runs.info):
        sample = run["sample"]
        if (
            run["scenario"] == scenario
            and sample is not None
            and sample < n_samples
            and not math.isnan(final[i])
        ):
            by_point.setdefault(sample, []).append(float(final[i]))
    return by_point


def replication_noise(runs: Runs, scenario: str, output: str, n_samples: int, *, levels: int = 4) -> dict:
    """How much of the sample means is replication noise, for one base scenario and output.

    ``noise_se``: the mean over sample points of the standard error of the replication mean (sd across
    replications / sqrt(R)), in output units; ``noise_mu_star``: the Morris mu* a factor with no effect at
    all would get from that noise alone (an elementary effect is a difference of two point means over the
    step delta = levels / (2 (levels - 1)), and E|N(0, s)| = s sqrt(2 / pi)); ``noise_share``: the share of
    the variance of the point means that is replication noise (mean within-point variance / R over the
    variance of the point means), which a Sobol total index carries for every factor. NaN where fewer than
    two replications of a point are done.
    """
    by_point = _finals_by_point(runs, scenario, output, n_samples)
    se2 = [np.var(v, ddof=1) / len(v) for v in by_point.values() if len(v) >= 2]
    nan = {"noise_se": math.nan, "noise_mu_star": math.nan, "noise_share": math.nan}
    if not se2:
        return nan
    se = [math.sqrt(v) for v in se2]
    means = np.array([np.mean(v) for v in by_point.values()])
    delta = levels / (2 * (levels - 1))
    total = float(np.var(means, ddof=1)) if len(means) > 1 else 0.0
    return {
        "noise_se": float(np.mean(se)),
        "noise_mu_star": float(2 / math.sqrt(math.pi) * math.sqrt(np.mean(se2)) / delta),
        "noise_share": float(np.mean(se2) / total) if total > 0 else math.nan,
    }


def sensitivity(runs: Runs) -> tuple[list[dict], list[str]]:
    """Sobol or Morris indices per base scenario and output (per group when the factors are grouped), each
    row with the output's replication noise beside them (:func:`replication_noise`); the rows and notes on
    what was skipped."""
    from coprod.experiments.design import Factor, Sampler, group_names, problem, run_seed, sample_matrix

    definition = runs.definition
    sampler = Sampler.from_json(definition.get("sampler", {}))
    if sampler.kind not in ("sobol", "morris"):
        return [], []
    factors = tuple(Factor.from_json(f) for f in definition["factors"])
    bases = definition.get("scenarios", [])
    outputs = definition.get("outputs")
    outputs = [CONSENSUS[0], *MARKERS] if outputs is None else outputs
    # never draw a design bigger than the runs there are (a stranger's n = 10**12)
    names = group_names(factors)
    d = len(names)
    per_point = (2 * d + 2 if sampler.second_order else d + 2) if sampler.kind == "sobol" else d + 1
    if sampler.n * per_point > len(runs.info):
        return [], [f"{b['name']}: not every sample point has a done run; no indices yet" for b in bases]
    spec = problem(factors)
    try:
        x = sample_matrix(factors, sampler, definition["root_seed"])
    except (ValueError, RuntimeError) as err:  # SALib refusing a stored design
        return [], [
            f"{b['name']}: SALib could not draw the design ({plain(err, 100)}); no indices" for b in bases
        ]
    seed = run_seed(definition["root_seed"], "analysis") % 2**32
    rows, notes = [], []
    for base in bases:
        for output in outputs:
            y = sample_means(runs, base["name"], output, len(x))
            if y is None:
                notes.append(f"{base['name']}: not every sample point has a done run; no indices yet")
                break
            if np.ptp(y) == 0:
                notes.append(f"{base['name']}: {output} does not vary across the sample; no indices")
                continue
            with np.errstate(all="ignore"), warnings.catch_warnings():
                # SALib's bootstrap can divide by a zero variance in a resample of a near-constant output
                warnings.simplefilter("ignore", RuntimeWarning)
                try:
                    if sampler.kind == "sobol":
                        ind = sobol_indices(spec, y, second_order=sampler.second_order, seed=seed)
                    else:
                        ind = morris_indices(spec, x, y, levels=sampler.levels or 4, seed=seed)
                except (ValueError, RuntimeError, ZeroDivisionError) as err:  # SALib refusing these numbers
                    notes.append(f"{base['name']}: {output}: SALib computed no indices ({plain(err, 100)})")
                    continue
            noise = replication_noise(runs, base["name"], output, len(x), levels=sampler.levels or 4)
            if sampler.kind == "sobol":
                noise.pop("noise_mu_star")
            for j, name in enumerate(names):
                rows.append(
                    {"scenario": base["name"], "output": output, "factor": name}
                    | {k: float(v[j]) for k, v in ind.items()}
                    | noise
                )
    return rows, notes


NOISE_NOTE = (
    "The noise columns are the output's replication noise, the same in every row of an output: noise_se is "
    "the mean standard error of a sample point's replication mean (output units); noise_mu_star the mu* a "
    "factor with no effect would get from that noise alone (Morris); noise_share the share of the variance "
    "of the point means that is noise, which every Sobol total index ST carries. An index below its noise "
    "(mu* below noise_mu_star, ST below noise_share) is not distinguishable from zero."
)


def sensitivity_markdown(rows: list[dict]) -> str:
    if not rows:
        return ""
    numbers = [k for k in rows[0] if k not in ("scenario", "output", "factor")]
    lines = [
        "| scenario | output | factor | " + " | ".join(numbers) + " |",
        "|" + "---|" * (3 + len(numbers)),
    ]
    for r in rows:
        lines.append(
            f"| {markdown_cell(r['scenario'])} | {markdown_cell(r['output'])} | "
            f"{markdown_cell(r['factor'])} | " + " | ".join(_num(r[k]) for k in numbers) + " |"
        )
    if any(k.startswith("noise_") for k in numbers):
        lines += ["", NOISE_NOTE]
    return "\n".join(lines) + "\n"
