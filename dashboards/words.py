"""The dashboard's plain words: short names for the outputs and the actors, and the panel headings.

The one- or two-sentence explanation of each output is the model's own (``model.DESCRIPTIONS``, written
to agree with the formulas in docs/ODD.md, section 7.9); only the short names a workshop reads at a glance
live here.
"""

from __future__ import annotations

from coprod.model import CONSENSUS, DESCRIPTIONS, MARKERS, QUALITIES, RISKS, SIGNATURES

# Short names, in the seed's words where it has them (its Table 3 and its "Reflection" slide).
LABELS: dict[str, str] = {
    "radical_change": "Sense that radical change is needed",
    "distribution": "Fair distribution",
    "discourse": "Justice in public talk",
    "coordination": "Initiatives linked up",
    "capacity_networks": "Capacity and networks",
    "transparency": "Transparency",
    "structure": "Citizen power in the rules",
    "knowledge": "Lay and community knowledge used",
    "consensus_bias": "Consensus bias",
    "consensus_displacement": "Decisions pulled towards officials",
    "marginalised_influence": "Say of marginalised residents",
    "toc_attrition": "Ideas of how change happens lost",
    "unwarranted_convergence": "Disagreement removed without reason",
    "procedural_justice": "Fair process",
    "epistemic_justice": "Fair hearing for all knowledge",
    "distributive_justice": "Fair shares of benefits and costs",
    "transaction_costs": "Cost of taking part",
    "leadership_concentration": "Leadership in few hands",
    "lock_in": "Money locked in",
    "lever_citizen_weight": "Rule: citizens' formal say",
    "lever_agenda_setting": "Rule: citizens set the agenda",
    "lever_transparency": "Rule: decisions published",
    "lever_downward_accountability": "Rule: officials answer to citizens",
    "lever_co_financing": "Partners' money in the pot",
    "holders_incremental": "Hold 'incremental experiments'",
    "holders_structural": "Hold 'structural change'",
    "holders_knowledge": "Hold 'knowledge-led change'",
    "holders_coalition": "Hold 'coalition building'",
    "condition_incremental": "Incremental change works here",
    "condition_structural": "Structural change has tipped",
    "condition_knowledge": "Knowledge-led change works here",
    "condition_coalition": "Coalition large enough",
    "programme_effort": "Effort on the programme's theory",
    "theory_diversity": "Variety of theories held",
}

# Short names for the radar's spokes, where the full name would not fit.
SPOKES: dict[str, str] = {
    "radical_change": "Radical\nchange",
    "distribution": "Distribution",
    "discourse": "Discourse",
    "coordination": "Coordination",
    "capacity_networks": "Capacity &\nnetworks",
    "transparency": "Transparency",
    "structure": "Structure",
    "knowledge": "Knowledge",
}

# Whether more of the thing is good news (None: neither, it describes); never changes the numbers. Declared
# here once: the arrows' colours and the compare verdicts read it, and ``experiments/report_labels.py``
# imports it for the report's rankings.
HIGHER_IS_BETTER: dict[str, bool | None] = {
    **dict.fromkeys(MARKERS, True),
    **dict.fromkeys(QUALITIES, True),
    **dict.fromkeys(RISKS, False),
    **dict.fromkeys(CONSENSUS, False),
    "marginalised_influence": True,
    **dict.fromkeys(SIGNATURES, None),
}

SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "Progress markers",
        "Eight signs of a 'more just' city (Perry et al., Realising Just Cities). Higher is more of it.",
        MARKERS,
    ),
    (
        "Consensus bias",
        "Did agreement come from evidence, or from dropping the views of the less powerful? "
        "Lower is better; it is the average of the four parts below (the say of marginalised residents "
        "counted as how far it falls short of a fair share).",
        CONSENSUS,
    ),
    (
        "Just coproduction",
        "The three qualities of just coproduction: fair process, fair hearing for knowledge, fair shares.",
        QUALITIES,
    ),
    (
        "Risks",
        "What coproduction can cost: time and emotional labour, leadership held by a few, money tied up.",
        RISKS,
    ),
    (
        "Theories of change at work",
        "Who holds which idea of how change happens, whether each idea's condition holds in this city "
        "(1: it works here), and the five rules of the game, which move only when people act on a theory "
        "that works.",
        SIGNATURES,
    ),
)

# The compare view's "Which keeps more dissensus?" (dashboards/verdict.py builds its sentences).
DISSENSUS = (
    "Dissensus means different views, and different ideas of how change happens, staying alive instead of "
    "being ironed out. Lower 'Ideas of how change happens lost' and 'Disagreement removed without reason' "
    "(under Consensus bias, below) mean more dissensus kept; so do more colours in the bars here."
)
BIAS_ROW = "Consensus bias (the average of four parts, these two among them)"
LOWER_HEADING = "Lower (better)"
SAME = "about the same"
ONE_CITY = (
    "This is one seed: one possible city. Before you conclude, press 'Run seeds' above to run both on "
    "several, or type another seed under 'The city and the run' (or press Reset) and see whether the "
    "answer holds."
)

# The four kinds of actor, in the order of ``GovernanceModel.people.kind`` (0 to 3), with their colours.
KINDS: tuple[tuple[str, str], ...] = (
    ("Residents", "#4c9be8"),
    ("Officials", "#d9534f"),
    ("Academics", "#f0ad4e"),
    ("Civil-society groups", "#5cb85c"),
)
MARGINALISED_COLOUR = "#1f4e8c"


# Every output is shown with two decimals, everywhere on the page (bars, tables, verdicts, chart axes).
DECIMALS = 2
CHANGE_WITHIN = 0.005  # a change smaller than this shows as "→": it would print as 0.00


def number(value: float) -> str:
    """An output's value as the page prints it: two decimals."""
    return f"{value:.{DECIMALS}f}"


def signed(value: float) -> str:
    """A difference as the page prints it: two decimals with its sign."""
    return f"{value:+.{DECIMALS}f}"


def good_news(name: str, change: float) -> bool | None:
    """Whether ``change`` in ``name`` is good news (True), bad news (False), or neither (None: no change
    worth showing, or an output that describes rather than judges)."""
    higher = HIGHER_IS_BETTER.get(name)
    if higher is None or abs(change) < CHANGE_WITHIN:
        return None
    return (change > 0) == higher


def label(name: str) -> str:
    """The short plain name of an output."""
    return LABELS[name]


def explain(name: str) -> str:
    """The plain-language explanation of an output, for its info tip."""
    return DESCRIPTIONS[name]
