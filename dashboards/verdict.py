"""The compare view's answer to "Which keeps more dissensus?", from the model's own measures.

Two measures say how much dissensus a set-up keeps: the theories of change lost (``toc_attrition``) and
the views merged without evidence (``unwarranted_convergence``); lower keeps more. Each is compared on its
own, values less than :data:`SAME_WITHIN` apart counting as about the same, and the answer is:

- one set-up, when it is lower on at least one measure and not higher on the other;
- no clear answer, when each is lower on one;
- about the same, when both measures are.

``consensus_bias`` (whose average includes both) is shown beside them, and named when it points the
other way. Nothing here knows which design is which: the numbers alone decide.
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboards.words import BIAS_ROW, LABELS, ONE_CITY

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
