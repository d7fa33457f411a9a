"""Theories of change: what each theory is, and which levers of the structure its holders work.

A theory's *preset* is plain data (its label and description; the rates are shared by all four theories,
declared once in the ``theory`` section, so comparisons compare mechanisms, not speeds). ``theory.kind``
names the programme's theory: the one the convening organisation funds. Every actor holds a theory of its
own (:attr:`model.world.People.toc`) and acts on it (:mod:`model.mobilisation`); the structure moves only
through that effort (:mod:`model.restructuring`).

``THEORY_LEVERS`` says which levers each theory's success moves. Each theory works two or three levers and
each lever is worked by two theories, so every lever can move under any mix of theories held and no single
theory owns a lever (an assumption drawn from the seed's four theories; DESIGN.md "Theories of change"):

- incremental experiments change practice: who sets the agenda, officials answering to participants, and
  partners reinvesting in what worked;
- structural change rewrites rules: citizens' formal say and disclosure;
- knowledge-led change opens the black box: disclosure and the agenda;
- coalitions bring allies: citizens' say, accountability, and partners' money.
"""

from __future__ import annotations

THEORY_LEVERS: dict[str, tuple[str, ...]] = {
    "incremental": ("agenda_setting", "downward_accountability", "co_financing"),
    "structural": ("citizen_weight", "transparency"),
    "knowledge": ("transparency", "agenda_setting"),
    "coalition": ("citizen_weight", "downward_accountability", "co_financing"),
}

THEORY_PRESETS: dict[str, dict] = {
    "incremental": {
        "label": "Incremental experiments",
        "about": (
            "Change grows from many small, prefigurative experiments: the ones that work spread from "
            "official to official and become the rule once enough have adopted them."
        ),
        "values": {},
    },
    "structural": {
        "label": "Structural change",
        "about": (
            "Change comes from rules and resources: once a committed minority is large enough it pushes the "
            "structure over, but pushing against officials can cost their trust."
        ),
        "values": {},
    },
    "knowledge": {
        "label": "Knowledge-led change",
        "about": (
            "Change follows evidence: knowledge produced together by residents and experts, once heard, "
            "opens up the black box of policy and the agenda."
        ),
        "values": {},
    },
    "coalition": {
        "label": "Coalition building",
        "about": (
            "Change comes from ties: coalition builders bridge sectors, and change happens when a "
            "supportive cross-sector coalition is large enough."
        ),
        "values": {},
    },
}
