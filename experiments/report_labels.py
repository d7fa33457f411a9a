"""How the report names each output and which way is good news.

The short readable names and the direction (higher better, lower better, or neither) are the dashboard's
(:mod:`dashboards.words`: declared there once, read here, never typed again). What this file adds is why
each direction holds, in DESIGN.md's words, so that a reader of the report can check the ranking's premise;
``tests/test_report_labels.py`` checks that every name in :data:`model.OUTPUTS` has all three.
"""

from __future__ import annotations

from typing import Any

from coprod.dashboards.words import HIGHER_IS_BETTER, LABELS
from coprod.experiments.untrusted import text
from coprod.model import (
    CONSENSUS,
    DESIGN_PRESETS,
    MARKERS,
    OUTPUTS,
    QUALITIES,
    RISKS,
    SIGNATURES,
    THEORY_PRESETS,
)

_MARKER = "a progress marker for a 'more just' city (DESIGN.md, Outputs): more of it is progress"
_QUALITY = "a quality of just coproduction (DESIGN.md, Outputs): more of it is more just"
_PART = "a part of consensus bias: more of it is agreement reached by dropping the less powerful's views"
_SIGNATURE = (
    "a signature of the theories of change at work (who holds which theory, whether its condition holds, "
    "the levers): it shows how the mechanism ran, not an outcome to rank"
)

# Why higher (or lower) is better, or why neither: one line per output, from DESIGN.md's definitions.
REASONS: dict[str, str] = {
    **dict.fromkeys(MARKERS, _MARKER),
    "consensus_bias": "the headline: how far agreement was reached by dropping the views of the less "
    "powerful rather than by evidence (DESIGN.md); less of it is more just",
    "consensus_displacement": "where decisions landed between marginalised residents' starting view (0) "
    "and officials' (1); " + _PART + " (decisions pulled towards officials)",
    "marginalised_influence": "the marginalised's share of the say over their share of the people: 1 is "
    "a fair share; its shortfall below 1 is a part of consensus bias, so more is better",
    "toc_attrition": "theories of change lost among those taking part; the cooperative's aim is to keep "
    "dissensus (DESIGN.md, Patterns), so less lost is better",
    "unwarranted_convergence": "diversity lost without getting closer to the truth; " + _PART,
    **dict.fromkeys(QUALITIES, _QUALITY),
    "transaction_costs": "a risk (DESIGN.md, Outputs): time, money and emotional labour spent relative to "
    "capacity; the same result at lower cost is better",
    "leadership_concentration": "a risk (DESIGN.md, Outputs): brokerage held by a few go-betweens makes "
    "the arrangement fragile and less open",
    "lock_in": "a risk (DESIGN.md, Outputs): money tied in earlier or co-financed commitments cannot follow "
    "this month's decision",
    **dict.fromkeys(SIGNATURES, _SIGNATURE),
}

FAMILIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Progress markers", MARKERS),
    ("Consensus bias and its parts", CONSENSUS),
    ("Qualities of just coproduction", QUALITIES),
    ("Risks", RISKS),
    ("Theories of change at work", SIGNATURES),
)

# The outputs the terminal ranks, headline first: consensus bias, the three qualities, the eight markers.
KEY_OUTPUTS: tuple[str, ...] = (CONSENSUS[0], *QUALITIES, *MARKERS)

COLUMNS = {"design": "Design", "theory": "Theory of change", "scenario": "Base scenario"}


def label(name: str) -> str:
    """The readable name of an output (its stored name if it has none)."""
    return LABELS.get(name, name)


def direction(name: str) -> str:
    """``"higher is better"``, ``"lower is better"``, or ``"neither better nor worse"``."""
    higher = HIGHER_IS_BETTER.get(name)
    if higher is None:
        return "neither better nor worse"
    return "higher is better" if higher else "lower is better"


def ranked(name: str) -> bool:
    """Whether the output has a better direction, so that its cells can be ranked."""
    return HIGHER_IS_BETTER.get(name) is not None


def value_label(column: str, value: Any, *, short: bool = False) -> str:
    """A readable name for a design, a theory or another factor's value; a stored name that is not a
    preset comes back as it is (as text, still to be escaped where it is written). ``short`` drops a
    design's parenthesis ("Action research cooperative")."""
    presets = {"design": DESIGN_PRESETS, "theory": THEORY_PRESETS}.get(column, {})
    preset = presets.get(value) if isinstance(value, str) else None
    if preset is None:
        return text(value)
    name = str(preset.get("label", value))
    return name.split(" (")[0] if short else name


def column_label(column: str) -> str:
    return COLUMNS.get(column, column)


__all__ = [
    "FAMILIES",
    "KEY_OUTPUTS",
    "OUTPUTS",
    "REASONS",
    "column_label",
    "direction",
    "label",
    "ranked",
    "value_label",
]
