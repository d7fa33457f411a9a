"""Institutional designs: who takes part, how they talk, and how their decisions bind.

Each design is a point in Fung's (2006) "democracy cube" (participant selection, mode of communication,
extent of authority) and starts at a rung of Arnstein's (1969) ladder of citizen participation through the
initial governance structure it sets. A preset is plain data that the scenario loader lays under whatever a
scenario file states (:mod:`model.scenario`); the mechanisms that read these values (convening and
deciding) are in :mod:`model.convening` and :mod:`model.decisions`.
"""

from __future__ import annotations

DESIGN_PRESETS: dict[str, dict] = {
    "top_down_consultation": {
        "label": "Top-down consultation",
        "about": (
            "The council designs a plan and asks for comments. Whoever has the time turns up; officials "
            "listen politely but barely move, and little is fed back."
        ),
        "values": {
            "design": {
                "selection": "self_selection",
                "participants": 30,
                "participation_cost": 0.5,
                "stipend": 0.0,
                "facilitation": 0.1,
                "official_weight": 6.0,
                "expert_weight": 2.0,
                "official_stubbornness": 0.9,
                "decision_rule": "advisory",
                "feedback": 0.1,
                "budget_share": 0.05,
                "need_weighting": 0.0,
                "continuity": 0.0,
                "experiments": 0,
                "stages": [],
            },
            "structure": {
                "citizen_weight": 0.1,
                "agenda_setting": 0.0,
                "transparency": 0.2,
                "downward_accountability": 0.1,
                "co_financing": 0.0,
            },
        },
    },
    "citizens_assembly": {
        "label": "Citizens' assembly",
        "about": (
            "A stratified lottery picks a mini-public that mirrors the city; members are paid a stipend, "
            "hear expert evidence and deliberate with a facilitator; their advice carries real weight."
        ),
        "values": {
            "design": {
                "selection": "sortition",
                "participants": 50,
                "participation_cost": 0.3,
                "stipend": 0.8,
                "facilitation": 0.8,
                "official_weight": 1.5,
                "expert_weight": 2.5,
                "official_stubbornness": 0.5,
                "decision_rule": "advisory",
                "feedback": 0.8,
                "budget_share": 0.1,
                "need_weighting": 0.3,
                # calibrated (docs/ODD.md 6.3): posterior median 0.929, 90% 0.83-0.99, from the Irish
                # Citizens' Assembly's retention of members between meetings (data/targets/targets.toml)
                "continuity": 0.93,
                "experiments": 1,
                "stages": ["design", "analysis"],
            },
            "structure": {
                "citizen_weight": 0.35,
                "agenda_setting": 0.2,
                "transparency": 0.6,
                "downward_accountability": 0.35,
                "co_financing": 0.0,
            },
        },
    },
    "action_research_cooperative": {
        "label": "Action research cooperative (Jam and Justice)",
        "about": (
            "A mixed group from all four sectors works together for years, runs parallel experiments and "
            "keeps disagreement alive instead of forcing one answer; influence travels through the "
            "officials inside the group."
        ),
        "values": {
            "design": {
                "selection": "mixed_cooperative",
                "participants": 25,
                "participation_cost": 0.4,
                "stipend": 0.5,
                "facilitation": 0.7,
                "official_weight": 1.5,
                "expert_weight": 1.5,
                "official_stubbornness": 0.4,
                "decision_rule": "dissensus",
                "feedback": 0.9,
                "budget_share": 0.05,
                "need_weighting": 0.3,
                "continuity": 0.9,
                "experiments": 3,
                "stages": ["agenda", "design", "doing", "analysis", "sharing"],
                "official_seats": 0.2,
                "academic_seats": 0.125,
                "group_seats": 0.25,
            },
            "structure": {
                "citizen_weight": 0.3,
                "agenda_setting": 0.5,
                "transparency": 0.5,
                "downward_accountability": 0.3,
                "co_financing": 0.0,
            },
        },
    },
    "participatory_budgeting": {
        "label": "Participatory budgeting",
        "about": (
            "Open neighbourhood assemblies make proposals and vote; the vote binds a share of the budget, "
            "weighted towards the districts in greatest need."
        ),
        "values": {
            "design": {
                "selection": "open_assembly",
                "participants": 150,
                "participation_cost": 0.2,
                "stipend": 0.0,
                "facilitation": 0.5,
                "official_weight": 1.5,
                "expert_weight": 1.0,
                "official_stubbornness": 0.5,
                "decision_rule": "vote",
                "feedback": 0.7,
                "budget_share": 0.15,
                "need_weighting": 0.8,
                "continuity": 0.2,
                "experiments": 0,
                "stages": ["agenda", "design"],
            },
            "structure": {
                "citizen_weight": 0.6,
                "agenda_setting": 0.4,
                "transparency": 0.6,
                "downward_accountability": 0.4,
                "co_financing": 0.0,
            },
        },
    },
    "co_financed_partnership": {
        "label": "Co-financed partnership",
        "about": (
            "Partners who put money in sit at the table and their say follows their contribution; "
            "academics hold epistemic authority. Money arrives fast, but commitments tie it up."
        ),
        "values": {
            "design": {
                "selection": "contribution",
                "participants": 20,
                "participation_cost": 0.3,
                "stipend": 0.2,
                "facilitation": 0.4,
                "official_weight": 3.0,
                "expert_weight": 4.0,
                "official_stubbornness": 0.6,
                "decision_rule": "contribution",
                "feedback": 0.4,
                "budget_share": 0.1,
                "need_weighting": 0.1,
                "continuity": 0.8,
                "experiments": 2,
                "stages": ["design", "doing", "analysis"],
                "official_seats": 0.25,
                "academic_seats": 0.25,
            },
            "structure": {
                "citizen_weight": 0.2,
                "agenda_setting": 0.2,
                "transparency": 0.4,
                "downward_accountability": 0.2,
                "co_financing": 0.3,
            },
        },
    },
}
