"""Human choices: a person takes over one agent, and their choices replace its simulated behaviour.

Workshop mode (``coprod workshop``, :mod:`coprod.workshop`) lets participants play agents of a live city, as
role-playing games coupled to agent-based models do in companion modelling (Barreteau et al. 2003; Étienne
2014) and participatory simulations in NetLogo HubNet (Wilensky & Stroup 1999). This module is the model's
side of it: which choices each role has, how each one maps onto the agent's state or onto one draw of a
mechanism, and what the agent would know.
Everything not chosen stays simulated: a missing key, or an agent nobody plays, follows the model's rules.

A plan (``GovernanceModel.choose(plan)``, ``{agent: {choice: value}}``) applies to every following month
until the next ``choose``. Each choice acts through the mechanism the simulated behaviour goes through, at
the point where that mechanism would have drawn it (ODD 7.10 lists them):

==========  ===========  ===========================================================================
role        choice       what it replaces
==========  ===========  ===========================================================================
resident    ``attend``   ``come``: takes part whenever it is able (capacity net of stipend against the
                         cost, fatigue below ``resources.dropout_fatigue``; :func:`model.convening.unable`):
                         a participant is always among those invited. ``stay_away``: does not take part.
resident    ``view``     its view (how much change is needed), set at the start of each month; the
                         meeting, talk and the anchor may still move it within the month
resident    ``salience`` its justice framing, likewise
resident    ``share``    which of the knowledge items it holds it brings up in the meeting: those listed
                         are said whenever it has any airtime, the others not (:func:`model.knowledge.speak`
                         draws the room's belief as for anyone)
official    ``follow``   its chance of deferring to the citizens' recommendation (simulated:
                         accountability x trust in residents; :func:`model.decisions.decide`)
official    ``publish``  its say in publishing the decision's reasons: the decision is published with
                         the officials' mean chance, each simulated official counting the structure's
                         ``transparency``, each playing one 1 (publish) or 0
official    ``agenda``   ``need``: it puts need on the officials' part of the agenda, its equal share of
                         ``1 - citizens' agenda``, where the allocation follows the decision
                         (:func:`model.decisions._allocate`; not under the vote rule, where residents'
                         votes allocate); ``usual``: as simulated
academic    ``act``      ``evidence``: takes part when able and brings up every item it holds;
                         ``facilitate``: takes part when able and facilitates: the month's
                         ``design.facilitation`` rises to ``f + (1 - f) x skill`` (its own skill);
                         ``stay_out``: does not take part
organiser   ``act``      the theory of change its group acts on with its effort this month (set at the
                         start of the month and again before it spends its effort, :mod:`model.mobilisation`):
                         ``mobilise`` members to campaign (structural), propose an ``experiment``
                         (incremental), join a ``coalition`` (coalition building)
==========  ===========  ===========================================================================

With no plan (or an empty one) nothing here runs and the model draws exactly as without this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from coprod.model.kinds import (
    ACADEMIC,
    COALITION,
    GROUP,
    INCREMENTAL,
    OFFICIAL,
    RESIDENT,
    STRUCTURAL,
    THEORIES,
)

ROLES = ("resident", "official", "academic", "organiser")
ROLE_KIND = {"resident": RESIDENT, "official": OFFICIAL, "academic": ACADEMIC, "organiser": GROUP}
KIND_ROLE = {int(kind): role for role, kind in ROLE_KIND.items()}

# each role's choices: name -> the allowed values (a tuple of words, or "0..1", "bool", "items")
CHOICES: dict[str, dict[str, Any]] = {
    "resident": {"attend": ("come", "stay_away"), "view": "0..1", "salience": "0..1", "share": "items"},
    "official": {"follow": "0..1", "publish": "bool", "agenda": ("need", "usual")},
    "academic": {"act": ("evidence", "facilitate", "stay_out")},
    "organiser": {"act": ("mobilise", "experiment", "coalition")},
}
ORGANISER_THEORY = {"mobilise": STRUCTURAL, "experiment": INCREMENTAL, "coalition": COALITION}


class ChoiceError(ValueError):
    """A choice the agent cannot make: one line naming agent, choice, value and what is allowed."""


def role_of(m, agent: int) -> str:
    """The role that plays ``agent`` (``ChoiceError`` for a row that is no actor)."""
    if not isinstance(agent, int | np.integer) or isinstance(agent, bool) or not 0 <= agent < m.people.n:
        raise ChoiceError(f"agent {agent!r} is not an actor of this city; allowed: 0 to {m.people.n - 1}")
    return KIND_ROLE[int(m.people.kind[agent])]


def candidates(m, role: str, *, marginalised: bool | None = None, district: int | None = None) -> np.ndarray:
    """The agents a participant in ``role`` can take over, in a fixed order (their rows); residents can be
    narrowed to marginalised or not and to a district."""
    if role not in ROLE_KIND:
        raise ChoiceError(f"role {role!r} is unknown; allowed: {', '.join(ROLES)}")
    p = m.people
    keep = p.kind == ROLE_KIND[role]
    if role == "resident":
        if marginalised is not None:
            keep &= p.marginalised == bool(marginalised)
        if district is not None:
            if not 0 <= int(district) < m.n_districts:
                raise ChoiceError(f"district {district!r} is unknown; allowed: 0 to {m.n_districts - 1}")
            keep &= p.district == int(district)
    return np.flatnonzero(keep)


def check(m, agent: int, payload: Mapping[str, Any]) -> dict[str, Any]:
    """``payload`` checked against the agent's role, as plain JSON values (``ChoiceError`` otherwise)."""
    role = role_of(m, agent)
    if not isinstance(payload, Mapping):
        raise ChoiceError(f"the choices for agent {agent} ({role}) must be a table of choice: value")
    allowed = CHOICES[role]
    out: dict[str, Any] = {}
    for name, value in payload.items():
        where = f"agent {agent} ({role}): {name!r} is {value!r}"
        if name not in allowed:
            raise ChoiceError(f"agent {agent} ({role}) has no choice {name!r}; allowed: {', '.join(allowed)}")
        kind = allowed[name]
        if value is None:
            continue  # left to the simulation
        if isinstance(kind, tuple):
            if value not in kind:
                raise ChoiceError(f"{where}; allowed: {', '.join(kind)}")
            out[name] = value
        elif kind == "0..1":
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ChoiceError(f"{where}; allowed: a number from 0 to 1")
            out[name] = float(value)
        elif kind == "bool":
            if not isinstance(value, bool):
                raise ChoiceError(f"{where}; allowed: true or false")
            out[name] = value
        else:  # items the agent holds
            held = set(np.flatnonzero(m.people.knows[agent]).tolist())
            if not isinstance(value, list | tuple) or not all(
                isinstance(i, int) and not isinstance(i, bool) for i in value
            ):
                raise ChoiceError(f"{where}; allowed: a list of the item numbers it holds")
            if not set(value) <= held:
                raise ChoiceError(f"{where}; allowed: items it holds ({', '.join(map(str, sorted(held)))})")
            out[name] = sorted(set(value))
    return out


@dataclass
class Plan:
    """A checked plan, arranged by the mechanism each choice acts in."""

    choices: dict[int, dict[str, Any]]
    view: tuple[np.ndarray, np.ndarray] = field(init=False)
    salience: tuple[np.ndarray, np.ndarray] = field(init=False)
    come: np.ndarray = field(init=False)  # take part when able (come, evidence, facilitate)
    away: np.ndarray = field(init=False)  # do not take part
    share: dict[int, np.ndarray] = field(init=False)  # items each brings up (academics' evidence: all)
    follow: dict[int, float] = field(init=False)
    publish: dict[int, bool] = field(init=False)
    agenda_need: np.ndarray = field(init=False)
    facilitators: np.ndarray = field(init=False)
    theory: tuple[np.ndarray, np.ndarray] = field(init=False)

    def __post_init__(self) -> None:
        c = self.choices

        def rows(name, value=None):
            chosen = [a for a in sorted(c) if name in c[a] and (value is None or c[a][name] == value)]
            return np.array(chosen, dtype=np.int64)

        def values(name):
            agents = rows(name)
            return agents, np.array([c[a][name] for a in agents.tolist()], dtype=float)

        self.view, self.salience = values("view"), values("salience")
        attending = [a for a in sorted(c) if c[a].get("attend") == "come" or c[a].get("act") in _ACADEMIC_IN]
        self.come = np.array(attending, dtype=np.int64)
        self.away = np.array(
            [a for a in sorted(c) if c[a].get("attend") == "stay_away" or c[a].get("act") == "stay_out"],
            dtype=np.int64,
        )
        self.share = {a: np.array(c[a]["share"], dtype=np.int64) for a in sorted(c) if "share" in c[a]}
        self.evidence = rows("act", "evidence")
        self.follow = {a: c[a]["follow"] for a in sorted(c) if "follow" in c[a]}
        self.publish = {a: c[a]["publish"] for a in sorted(c) if "publish" in c[a]}
        self.agenda_need = rows("agenda", "need")
        self.facilitators = rows("act", "facilitate")
        organisers = [a for a in sorted(c) if c[a].get("act") in ORGANISER_THEORY]
        self.theory = (
            np.array(organisers, dtype=np.int64),
            np.array([ORGANISER_THEORY[c[a]["act"]] for a in organisers], dtype=np.int8),
        )

    # -- the hooks, in the order of the month ----------------------------------------------------------

    def start_month(self, m) -> None:
        """Views, framing and the groups' theories stand as chosen when the month begins."""
        p = m.people
        agents, values = self.view
        p.view[agents] = values
        agents, values = self.salience
        p.salience[agents] = values
        self.act_on_theories(m)

    def attend(self, m) -> None:
        """After the design has convened the room: who comes or stays away by choice (when able)."""
        from coprod.model.convening import unable

        p = m.people
        if len(self.come):
            burnt_out, short = unable(m)
            p.taking_part[self.come] = ~(burnt_out[self.come] | short[self.come])
        p.taking_part[self.away] = False

    def facilitate(self, m, base) -> None:
        """An academic who facilitates and is in the room raises the month's facilitation by its skill."""
        present = self.facilitators[m.people.taking_part[self.facilitators]]
        if len(present) == 0:
            return
        f = base.design.facilitation
        skill = float(m.people.skill[present].max())
        m.settings = base.with_overrides({"design.facilitation": f + (1 - f) * skill}, source="<workshop>")

    def mentions(self, knows: np.ndarray, idx: np.ndarray, held: np.ndarray, said_draws: np.ndarray) -> None:
        """Set the mention draws of the items the players present chose to bring up (0: said whenever it has
        airtime) or to keep back (1: never said), in the order :func:`model.knowledge.speak` draws them."""
        if not self.share and not len(self.evidence):
            return
        offsets = np.concatenate([[0], np.cumsum(held)])
        for r, agent in enumerate(idx.tolist()):
            chosen = self.share.get(agent)
            if chosen is None and agent not in self.evidence:
                continue
            items = np.flatnonzero(knows[agent])
            said = np.ones(len(items), bool) if chosen is None else np.isin(items, chosen)
            said_draws[offsets[r] : offsets[r + 1]] = np.where(said, 0.0, 1.0)

    def deference(self, officials: np.ndarray, chance: np.ndarray) -> np.ndarray:
        """Officials' chances of deferring, with the players' own."""
        if not self.follow:
            return chance
        chance = chance.copy()
        for o, agent in enumerate(officials.tolist()):
            if agent in self.follow:
                chance[o] = self.follow[agent]
        return chance

    def publish_chance(self, officials: np.ndarray, transparency: float) -> float:
        """The chance the decision's reasons are published: the officials' mean say (simulated ones at the
        structure's transparency)."""
        if not self.publish:
            return transparency
        says = [float(self.publish[a]) if a in self.publish else transparency for a in officials.tolist()]
        return sum(says) / len(says)

    def agenda(self, m, citizens: float) -> float:
        """The agenda's weight on need: the citizens' part, plus each official player's equal share of the
        officials' part when it puts need first."""
        if not len(self.agenda_need):
            return citizens
        n_officials = int(np.count_nonzero(m.people.kind == OFFICIAL))
        return citizens + (1 - citizens) * len(self.agenda_need) / n_officials

    def act_on_theories(self, m) -> None:
        """The groups played act on the theory their organiser chose."""
        agents, theories = self.theory
        m.people.toc[agents] = theories


_ACADEMIC_IN = ("evidence", "facilitate")


def plan(m, choices: Mapping[int, Mapping[str, Any]]) -> Plan | None:
    """Check every agent's choices; ``None`` when nobody chose anything (the model runs as simulated)."""
    checked = {}
    for agent, payload in choices.items():
        row = agent if isinstance(agent, int) else _agent_key(agent)
        out = check(m, row, payload)
        if out:
            checked[int(row)] = out
    return Plan(checked) if checked else None


def _agent_key(agent: Any) -> int:
    try:
        return int(agent)
    except (TypeError, ValueError):
        raise ChoiceError(f"agent {agent!r} is not an actor's number") from None


# -- what a player sees --------------------------------------------------------------------------------


def what_agent_knows(m, agent: int) -> dict[str, Any]:
    """What the agent would know, and nothing else (a participant's screen): its own state, its district's
    need and spending, the knowledge items it holds, and the last decision with who was in the room."""
    role = role_of(m, agent)
    p, s = m.people, m.settings
    items = np.flatnonzero(p.knows[agent])
    out: dict[str, Any] = {
        "agent": int(agent),
        "role": role,
        "month": int(m.steps),
        "view": float(p.view[agent]),
        "salience": float(p.salience[agent]),
        "theory": THEORIES[int(p.toc[agent])],
        "capacity": float(p.capacity[agent]),
        "fatigue": float(p.fatigue[agent]),
        "dropout_fatigue": float(s.resources.dropout_fatigue),
        "trust": {r: float(p.trust[agent, int(k)]) for r, k in ROLE_KIND.items()},
        "knowledge": [
            {"item": int(k), "kind": "lay" if p.item_lay[k] else "expert", "says": float(p.item_value[k])}
            for k in items.tolist()
        ],
        "took_part": bool(p.taking_part[agent]),
    }
    if role == "resident":
        d = int(p.district[agent])
        out.update(
            district=d,
            marginalised=bool(p.marginalised[agent]),
            district_need=float(m.need[d]),
            benefits=float(p.benefits[agent]),
            fair_share=float(m.fair_per_head[d]),
            group=int(p.group_of[agent]),
        )
    if role == "official":
        out["accountability"] = float(p.accountability[agent])
    if role == "organiser":
        out["members"] = int(np.count_nonzero(p.group_of[: m.n_residents] == agent - p.first_group))
        out["mobilisation"] = float(p.mobilisation[agent])
    decision = m.flows.decision
    if decision is not None:
        room = m.flows.meeting
        kinds = np.bincount(p.kind[room], minlength=len(ROLES))
        last: dict[str, Any] = {
            "position": float(decision.position),
            "published": bool(decision.published),
            "in_the_room": {role_name: int(kinds[int(k)]) for role_name, k in ROLE_KIND.items()},
            "marginalised_in_the_room": int(np.count_nonzero(p.marginalised[room])),
            "you_were_there": bool(np.isin(agent, room)),
            "your_view_dropped": bool(np.isin(agent, decision.dropped)),
        }
        if role == "resident":
            last["district_share"] = float(decision.allocation[out["district"]])
        out["last_decision"] = last
    return out


def room(m, agents: Sequence[int]) -> list[dict[str, Any]]:
    """For the room's screen: each played agent's view against the last decision, marginalised residents
    marked, and whether the decision dropped its view (:func:`model.decisions.decide`)."""
    p, flows = m.people, m.flows
    decision = flows.decision
    seat = {int(a): i for i, a in enumerate(flows.meeting.tolist())}
    dropped = set() if decision is None else set(decision.dropped.tolist())
    position = None if decision is None else float(decision.position)
    out = []
    for a in agents:
        # a participant's view as the decision met it (leaving the meeting), else as it stands
        in_room = int(a) in seat and len(flows.views_after) == len(seat)
        view = float(flows.views_after[seat[int(a)]]) if in_room else float(p.view[a])
        out.append(
            {
                "agent": int(a),
                "role": role_of(m, int(a)),
                "view": view,
                "marginalised": bool(p.marginalised[a]),
                "in_room": in_room,
                "dropped": int(a) in dropped,
                "position": position,
                "distance": None if position is None else abs(view - position),
            }
        )
    return out
