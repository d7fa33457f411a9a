"""What the mechanisms hand each other, in one typed place.

:class:`model.world.People` holds the actors' state; the governance structure is
``GovernanceModel.structure``.
Everything else one mechanism leaves for another (within a month, or to the next) is a field here, so a
mechanism's inputs and outputs can be read off its signature and this class, not from loose attributes.
The outputs read these too, but never write them: measurement does not feed the dynamics.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from coprod.model.decisions import Decision
from coprod.model.initiatives import Outcome
from coprod.model.knowledge import Speech


@dataclass
class Flows:
    toc_score: np.ndarray  # recent success rate of each theory of change's experiments (learn -> learn)
    pipeline: np.ndarray  # GBP of public money committed per district, not yet delivered (act -> act)
    partner_pipeline: np.ndarray  # GBP of partners' co-financed commitments per district (act -> act)
    meeting: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # convene -> all
    weights: np.ndarray = field(default_factory=lambda: np.zeros(0))  # voice weights (deliberate -> decide)
    views_before: np.ndarray = field(default_factory=lambda: np.zeros(0))  # participants' views entering
    views_after: np.ndarray = field(default_factory=lambda: np.zeros(0))  # ... and leaving the meeting
    speech: Speech | None = None  # the meeting's knowledge exchange (deliberate -> decide)
    decision: Decision | None = None  # decide -> act, learn
    outcome: Outcome | None = None  # act -> learn
    effort: np.ndarray | None = None  # person-months each actor spent on its theory (mobilise -> next act)
    theory_effort: np.ndarray | None = None  # each theory's effort share (mobilise -> restructure, collect)
    readiness: np.ndarray | None = None  # each theory's condition (restructure -> next act, collect)
    push: np.ndarray | None = None  # each theory's push before it is spread over its levers (a record)
