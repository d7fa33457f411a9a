"""Theories of change: which lever moves the governance structure, and how.

A preset is plain data laid under whatever a scenario states (:mod:`model.scenario`). The restructuring
mechanism that reads these values is in :mod:`model.restructuring`.
"""

from __future__ import annotations

THEORY_PRESETS: dict[str, dict] = {
    "incremental": {
        "label": "Incremental experiments",
        "about": (
            "Change grows from many small, prefigurative experiments: the ones that work spread from "
            "official to official and become the rule once enough have adopted them."
        ),
        "values": {
            "rate": 0.02,
            "experiment_success": 0.6,
            "adoption_threshold": 0.25,
            "institutionalise_at": 0.4,
            "tipping_share": 0.25,
            "backlash": 0.1,
            "evidence_attraction": 0.03,
            "coalition_share": 0.15,
            "bridging_boost": 0.0,
        },
    },
    "structural": {
        "label": "Structural change",
        "about": (
            "Change comes from rules and resources: once a committed minority is large enough it pushes the "
            "structure over, but pushing against officials can cost their trust."
        ),
        "values": {
            "rate": 0.05,
            "experiment_success": 0.4,
            "adoption_threshold": 0.3,
            "institutionalise_at": 0.5,
            "tipping_share": 0.25,
            "backlash": 0.4,
            "evidence_attraction": 0.03,
            "coalition_share": 0.15,
            "bridging_boost": 0.0,
        },
    },
    "knowledge": {
        "label": "Knowledge-led change",
        "about": (
            "Change follows evidence: knowledge produced together by residents and experts draws views "
            "towards what the city really needs and opens up the black box of policy."
        ),
        "values": {
            "rate": 0.02,
            "experiment_success": 0.5,
            "adoption_threshold": 0.3,
            "institutionalise_at": 0.5,
            "tipping_share": 0.25,
            "backlash": 0.1,
            "evidence_attraction": 0.2,
            "coalition_share": 0.15,
            "bridging_boost": 0.0,
        },
    },
    "coalition": {
        "label": "Coalition building",
        "about": (
            "Change comes from ties: bridging across sectors widens who listens to whom, and change happens "
            "when a supportive cross-sector coalition is large enough."
        ),
        "values": {
            "rate": 0.03,
            "experiment_success": 0.5,
            "adoption_threshold": 0.3,
            "institutionalise_at": 0.5,
            "tipping_share": 0.25,
            "backlash": 0.1,
            "evidence_attraction": 0.03,
            "coalition_share": 0.15,
            "bridging_boost": 2.0,
        },
    },
}
