"""The four kinds of actors, as Mesa agents.

The numeric state every step touches lives in model-level numpy arrays (one entry per actor, see
:class:`model.world.People`); an agent is a view onto its row, exposed as properties, so that no
mechanism loops over agents in Python while Mesa's AgentSet still selects and groups actors
(``model.agents_by_type[Resident]``). All views are on a 0-1 scale of "how much change is needed".
"""

from __future__ import annotations

import mesa
import numpy as np
from coprod.model.kinds import THEORIES


class Actor(mesa.Agent):
    """State shared by every actor (units in brackets).

    - ``index``: row in the model's arrays
    - ``view`` [0-1]: how much change this actor thinks is needed (``x_rad``)
    - ``initial_view`` [0-1]: the view held at the start (the Friedkin-Johnsen anchor)
    - ``salience`` [0-1]: how strongly the actor frames the city's problems as matters of justice
    - ``theory_of_change`` [name]: which of the four theories the actor holds
    - ``capacity`` [share of a month]: time and energy available for taking part
    - ``fatigue`` [0-1]: accumulated emotional labour; taking part above ``resources.dropout_fatigue`` stops
    - ``skill`` [0-1]: capability stock built by taking part
    - ``trust`` [0-1 per kind]: trust in residents, officials, academics and civil-society groups
      (residents' trust in officials: whether they accept an invitation; in academics: how far evidence
      pulls them; in groups: whether they come through a group; officials' trust in residents: stubbornness
      and deferring to citizens)
    - ``knowledge`` [item ids]: the knowledge items this actor holds
    """

    def __init__(self, model, index: int):
        super().__init__(model)
        self.index = index

    @property
    def _p(self):
        return self.model.people

    view = property(lambda self: float(self._p.view[self.index]))
    initial_view = property(lambda self: float(self._p.view0[self.index]))
    salience = property(lambda self: float(self._p.salience[self.index]))
    theory_of_change = property(lambda self: THEORIES[int(self._p.toc[self.index])])
    capacity = property(lambda self: float(self._p.capacity[self.index]))
    fatigue = property(lambda self: float(self._p.fatigue[self.index]))
    skill = property(lambda self: float(self._p.skill[self.index]))
    trust = property(lambda self: self._p.trust[self.index].copy())
    knowledge = property(lambda self: np.flatnonzero(self._p.knows[self.index]))
    district = property(lambda self: int(self._p.district[self.index]))
    taking_part = property(lambda self: bool(self._p.taking_part[self.index]))


class Resident(Actor):
    """A resident. Beyond :class:`Actor`:

    - ``marginalised`` [bool]: belongs to the deprived share of the population
    - ``benefits`` [GBP this month]: public spending and experiment benefits received (drives trust)
    - ``group`` [group index or -1]: the civil-society group the resident belongs to
    Residents hold lay and community knowledge items.
    """

    marginalised = property(lambda self: bool(self._p.marginalised[self.index]))
    benefits = property(lambda self: float(self._p.benefits[self.index]))
    group = property(lambda self: int(self._p.group_of[self.index]))


class Official(Actor):
    """A local-government official. Beyond :class:`Actor`:

    - ``authority`` [x a resident]: speaking and persuasive weight (``design.official_weight``)
    - ``accountability`` [0-1]: orientation downward to citizens (1) or upward to hierarchy (0); with trust in
      residents, the chance of deferring to the citizens' recommendation in a decision; follows the
      structure's ``downward_accountability`` at ``behaviour.accountability_learning``
    - ``adopted`` [bool]: has adopted the practices of successful experiments (incremental theory)
    Officials hold expert and technical knowledge items.
    """

    authority = property(lambda self: float(self.model.settings.design.official_weight))
    accountability = property(lambda self: float(self._p.accountability[self.index]))
    adopted = property(lambda self: bool(self._p.adopted[self.index]))


class Academic(Actor):
    """An academic. Beyond :class:`Actor`:

    - ``positionality`` [0-1]: detached (0) or engaged (1); fixed over a run; engaged academics hold
      their view less firmly in meetings (stubbornness
      ``behaviour.detached_stubbornness (1 - positionality)``)
    - ``epistemic_authority`` [x a resident]: weight of their word (``design.expert_weight``)
    Academics, like officials, hold expert knowledge items (``deliberation.expert_holding_professional``);
    new items replace stale ones each month (:func:`model.knowledge.renew_knowledge`), which is how new
    studies enter. Academics have no evidence-production state of their own.
    """

    positionality = property(lambda self: float(self._p.positionality[self.index]))
    epistemic_authority = property(lambda self: float(self.model.settings.design.expert_weight))


class CivilSocietyGroup(Actor):
    """A civil-society group: a collective actor with resident members. Beyond :class:`Actor`:

    - ``members`` [resident indices]: residents who belong to it
    - ``mobilisation`` [0-1]: capacity to bring members to meetings and to co-finance
    Its view is its members' mean view; groups broker between residents and officials in the network.
    """

    @property
    def members(self) -> np.ndarray:
        return np.flatnonzero(self._p.group_of == self.index - self._p.first_group)

    mobilisation = property(lambda self: float(self._p.mobilisation[self.index]))


KINDS: tuple[type[Actor], ...] = (Resident, Official, Academic, CivilSocietyGroup)
