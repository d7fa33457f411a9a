"""The compare view's answers: "Which keeps more dissensus?" on the seed on screen, and, over several
seeds, which set-up is higher on each marker and on consensus bias, with its uncertainty.

Two measures say how much dissensus a set-up keeps: the theories of change lost (``toc_attrition``) and
the views merged without evidence (``unwarranted_convergence``); lower keeps more. Each is compared on its
own, values less than :data:`SAME_WITHIN` apart counting as about the same, and the answer is:

- one set-up, when it is lower on at least one measure and not higher on the other;
- no clear answer, when each is lower on one;
- about the same, when both measures are.

``consensus_bias`` (whose average includes both) is shown beside them, and named when it points the
other way. Nothing here knows which design is which: the numbers alone decide.

Over several seeds (:func:`differences`) both set-ups run on the same seeds, so each seed gives a paired
difference A - B; its mean and 95% t interval decide: "A higher than B" when the whole interval is above
zero, "B higher than A" when below, "no clear difference" when it spans zero.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from coprod.dashboards.words import BIAS_ROW, HIGHER_IS_BETTER, LABELS, ONE_CITY, signed
from coprod.model import MARKERS

MEASURES = ("toc_attrition", "unwarranted_convergence")
BIAS = "consensus_bias"
SAME_WITHIN = 0.01  # the page shows two decimals; closer than this is "about the same"


@dataclass(frozen=True)
class Reading:
    """One measure for both set-ups, and which is lower (``None``: about the same)."""

    name: str
    title: str
    values: tuple[float, float]
    lower: int | None


@dataclass(frozen=True)
class Verdict:
    overall: str  # the answer, in one or two sentences
    readings: tuple[Reading, ...]  # the two dissensus measures, then consensus bias
    keeps: int | None  # which set-up keeps more dissensus; None when neither clearly does
    caveat: str = ONE_CITY


def read(name: str, first: dict[str, float], second: dict[str, float], title: str = "") -> Reading:
    a, b = float(first[name]), float(second[name])
    lower = None if abs(a - b) < SAME_WITHIN else (0 if a < b else 1)
    return Reading(name, title or LABELS[name], (a, b), lower)


def verdict(
    first: dict[str, float], second: dict[str, float], names: tuple[str, str], long_names=None
) -> Verdict:
    """Which set-up keeps more dissensus so far. ``names`` are short (A, B); ``long_names`` (A with its
    design, say) are used in the answer's sentence."""
    long_names = long_names or names
    measures = tuple(read(name, first, second) for name in MEASURES)
    bias = read(BIAS, first, second, BIAS_ROW)
    decided = [m for m in measures if m.lower is not None]
    tied = [m for m in measures if m.lower is None]
    winners = {m.lower for m in decided}
    keeps = winners.pop() if len(winners) == 1 else None
    if keeps is not None:
        overall = f"So far {long_names[keeps]} keeps more dissensus"
        if tied:
            overall += f": lower on '{decided[0].title}', about the same on '{tied[0].title}'."
        else:
            overall += ": lower on both measures."
        if bias.lower is not None and bias.lower != keeps:
            overall += (
                f" But consensus bias, which also counts whose views decisions follow, is lower for "
                f"{names[bias.lower]}."
            )
    elif decided:
        first_says, second_says = sorted(decided, key=lambda m: m.lower)
        overall = (
            f"No clear answer so far: {long_names[0]} keeps more dissensus on '{first_says.title}', "
            f"{long_names[1]} on '{second_says.title}'."
        )
    else:
        overall = (
            f"So far both keep about the same dissensus, on both measures ('{measures[0].title}' and "
            f"'{measures[1].title}'). Play on to see whether they part."
        )
    return Verdict(overall, (*measures, bias), keeps)


# ------------------------------------------------------------------------------ over several seeds

CONFIDENCE = 0.95
# The outputs the compare view gives a verdict on over several seeds: the eight markers and the headline.
OVER_SEEDS = (*MARKERS, BIAS)


@dataclass(frozen=True)
class Spread:
    """One output of one set-up over the seeds: the mean, and the lowest and highest value."""

    mean: float
    low: float
    high: float


@dataclass(frozen=True)
class Difference:
    """One output, A against B over the same seeds: each one's spread, the mean of the paired differences
    A - B with its interval, which is higher where the interval leaves out zero (``higher``: 0 for A, 1 for
    B, None for no clear difference), which of them that makes better (None: neither or no judgement),
    and the sentence that says so."""

    name: str
    title: str
    spreads: tuple[Spread, Spread]
    mean: float
    low: float
    high: float
    higher: int | None
    better: int | None
    sentence: str


def spread(values: np.ndarray) -> Spread:
    return Spread(float(values.mean()), float(values.min()), float(values.max()))


def interval(differences: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """The mean of ``differences`` and its two-sided t interval; with one value the interval is unknown
    (nan). Equal differences give a zero-width interval at their value."""
    from coprod.experiments.summary import mean_ci  # the report's own t interval, not a second copy

    return mean_ci(np.asarray(differences, dtype=float), confidence)


def difference(
    name: str, first: Sequence[float], second: Sequence[float], names: tuple[str, str] = ("A", "B")
) -> Difference:
    """How ``name`` differs between two set-ups run on the same seeds (``first[i]`` and ``second[i]`` come
    from seed i): paired, so that what the seeds share (the city drawn) cancels out."""
    a, b = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    if a.shape != b.shape or not len(a):
        raise ValueError(f"{name}: need the same seeds for both set-ups, got {len(a)} and {len(b)} values")
    mean, low, high = interval(a - b)
    title = LABELS[name]
    band = f"{signed(mean)} [{signed(low)}, {signed(high)}]"
    if math.isnan(low):
        higher, sentence = None, f"One seed: no interval yet (difference {signed(mean)}); run more seeds."
    elif low > 0 or high < 0:
        higher = 0 if low > 0 else 1
        tiny = ", by less than 0.01" if abs(mean) < 0.005 else ""  # two decimals would print it as 0.00
        sentence = f"{names[higher]} higher than {names[1 - higher]}{tiny}: difference {band}"
    else:
        higher, sentence = None, f"No clear difference: difference {band}"
    way = HIGHER_IS_BETTER.get(name)
    better = None if higher is None or way is None else (higher if way else 1 - higher)
    if better is not None:
        sentence += f" (better for {names[better]})"
    return Difference(name, title, (spread(a), spread(b)), mean, low, high, higher, better, sentence)


def differences(
    first: Sequence[Mapping[str, float]],
    second: Sequence[Mapping[str, float]],
    names: tuple[str, str] = ("A", "B"),
    outputs: Sequence[str] = OVER_SEEDS,
) -> tuple[Difference, ...]:
    """A verdict per output from the two set-ups' final outputs, one mapping per seed, in the same seed
    order for both."""
    return tuple(
        difference(name, [row[name] for row in first], [row[name] for row in second], names)
        for name in outputs
    )
