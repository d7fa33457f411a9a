"""Knowledge in meetings: who speaks, who is believed, and the evidence base it leaves behind.

Collective information sampling (Stasser & Titus 1985, 1987): each holder present brings an item up with
probability ``q = mention_probability x discount x airtime``, so an item held by many surfaces far more
often than one held by few (the hidden-profile effect). Items few in the room hold are discounted further by
``deliberation.hidden_profile_bias``; facilitation reduces that discount (structured elicitation, Stasser et
al. 1995). Airtime follows voice: a participant speaks in proportion to their voice weight relative to the
loudest in the room (status characteristics, Berger et al. 1972). What a marginalised speaker says is
believed with their credibility (testimonial injustice, Fricker 2007; :func:`model.credibility.credibility`),
what others say always. Believed items are learnt by everyone present and enter the evidence base
(``People.in_evidence``) until they go stale.

Every draw is recorded in a :class:`Speech`, which is what the outputs measure (who spoke, was heard and was
believed), never the closed-form chances.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from coprod.model.credibility import credibility
from coprod.model.jit import kernel
from coprod.model.world import holding_probability, item_values


@dataclass
class Speech:
    """What happened in one meeting's knowledge exchange (participants in the order of ``idx``)."""

    held: np.ndarray  # int per participant: items they held
    said: np.ndarray  # int per participant: items they brought up
    believed_said: np.ndarray  # int per participant: of those, believed by the room
    lay_held: np.ndarray  # bool (K,): lay items someone present held
    believed: np.ndarray  # bool (K,): items brought up and believed (the meeting's evidence)

    @classmethod
    def silent(cls, participants: int, item_lay: np.ndarray) -> Speech:
        """A meeting where nobody spoke (fewer than two present)."""
        nothing = np.zeros(participants, dtype=np.int64)
        return cls(
            nothing,
            nothing,
            nothing,
            np.zeros(int(item_lay.sum()), dtype=bool),
            np.zeros(len(item_lay), dtype=bool),
        )


def mention_probabilities(
    holders_marginalised: np.ndarray,
    holders_other: np.ndarray,
    present: int,
    *,
    mention: float,
    bias: float,
    credibility: float,
) -> np.ndarray:
    """Closed form: the chance each item is brought up and believed when every holder has full airtime,
    ``1 - (1 - q c)^h_m (1 - q)^h_o``. :func:`speak` draws the same events per holder (a test compares)."""
    share = (holders_marginalised + holders_other) / max(present, 1)
    discount = 1.0 - bias * (1.0 - share)
    q_m = np.clip(mention * discount * credibility, 0.0, 1.0)
    q_o = np.clip(mention * discount, 0.0, 1.0)
    return 1.0 - (1.0 - q_m) ** holders_marginalised * (1.0 - q_o) ** holders_other


def speak(m, idx: np.ndarray, weights: np.ndarray, rng: np.random.Generator) -> Speech:
    """Draw who brings up which item and whether the room believes it; changes no state. Compiled:
    :func:`_plain_speak` is the numpy version (the same draws, the same speech)."""
    p, s = m.people, m.settings
    idx = np.asarray(idx, dtype=np.int64)
    held, holders = _holdings_kernel(p.knows, idx)
    mentions = int(held.sum())  # one draw of each kind per item held, in the order of np.nonzero
    said_draws = rng.random(mentions)
    belief_draws = rng.random(mentions)
    human = getattr(m, "human", None)
    if human:  # what the players present chose to bring up (:mod:`model.choices`)
        human.mentions(p.knows, idx, held, said_draws)
    said, believed_said, lay_held, believed = _speak_kernel(
        p.knows,
        idx,
        holders,
        np.asarray(weights, dtype=np.float64),
        p.marginalised,
        p.item_lay,
        said_draws,
        belief_draws,
        s.deliberation.mention_probability,
        s.deliberation.hidden_profile_bias * (1.0 - s.design.facilitation),
        credibility(s),
    )
    return Speech(held, said, believed_said, lay_held, believed)


@kernel
def _holdings_kernel(knows, idx):
    """Items each participant holds, and holders present of each item."""
    held = np.zeros(idx.size, dtype=np.int64)
    holders = np.zeros(knows.shape[1], dtype=np.int64)
    for r in range(idx.size):
        row = knows[idx[r]]
        for k in range(row.size):
            if row[k]:
                held[r] += 1
                holders[k] += 1
    return held, holders


@kernel
def _speak_kernel(
    knows, idx, holders, weights, marginalised, item_lay, said_draws, belief_draws, mention, bias, cred
):
    """:func:`_plain_speak`'s draws and counts, holder by holder in the order of ``np.nonzero``; ``bias`` is
    ``hidden_profile_bias x (1 - facilitation)``."""
    n, items = idx.size, knows.shape[1]
    discount = np.empty(items)
    for k in range(items):
        discount[k] = 1.0 - bias * (1.0 - holders[k] / max(n, 1))
    loudest = 0.0  # only a positive loudest voice matters
    for r in range(n):
        loudest = max(loudest, weights[r])
    said = np.zeros(n, dtype=np.int64)
    believed_said = np.zeros(n, dtype=np.int64)
    believed = np.zeros(items, dtype=np.bool_)
    draw = 0
    for r in range(n):
        airtime = weights[r] / loudest if loudest > 0 else 0.0  # a fully silenced room says nothing
        trusted = cred if marginalised[idx[r]] else 1.0
        row = knows[idx[r]]
        for k in range(items):
            if row[k]:
                if said_draws[draw] < mention * discount[k] * airtime:
                    said[r] += 1
                    if belief_draws[draw] < trusted:
                        believed_said[r] += 1
                        believed[k] = True
                draw += 1
    lay_held = np.zeros(items, dtype=np.bool_)
    column = 0
    for k in range(items):
        if item_lay[k]:
            lay_held[column] = holders[k] > 0
            column += 1
    return said, believed_said, lay_held[:column], believed


def _plain_speak(m, idx: np.ndarray, weights: np.ndarray, rng: np.random.Generator) -> Speech:
    """:func:`speak` in numpy."""
    p, s = m.people, m.settings
    fac = s.design.facilitation
    known = p.knows[idx]
    rows, items = np.nonzero(known)
    share = known.sum(axis=0) / max(len(idx), 1)
    discount = 1.0 - s.deliberation.hidden_profile_bias * (1.0 - fac) * (1.0 - share)
    loudest = weights.max() if len(weights) else 0.0
    airtime = (
        weights / loudest if loudest > 0 else np.zeros(len(weights))
    )  # a fully silenced room says nothing
    said = rng.random(len(rows)) < s.deliberation.mention_probability * discount[items] * airtime[rows]
    trusted = np.where(p.marginalised[idx], credibility(s), 1.0)
    believed = said & (rng.random(len(rows)) < trusted[rows])
    n = len(idx)
    return Speech(
        held=np.bincount(rows, minlength=n),
        said=np.bincount(rows, weights=said, minlength=n).astype(np.int64),
        believed_said=np.bincount(rows, weights=believed, minlength=n).astype(np.int64),
        lay_held=known[:, p.item_lay].any(axis=0) if n else np.zeros(p.item_lay.sum(), dtype=bool),
        believed=np.bincount(items[believed], minlength=len(p.item_lay)) > 0,
    )


def share_knowledge(m, idx: np.ndarray, weights: np.ndarray) -> Speech:
    """This month's exchange: everyone present learns what was believed; it joins the evidence base.
    Compiled; :func:`_plain_share_knowledge` is the numpy version."""
    p = m.people
    speech = speak(m, idx, weights, m.rng)
    _learn_kernel(p.knows, p.in_evidence, np.asarray(idx, dtype=np.int64), speech.believed)
    return speech


@kernel
def _learn_kernel(knows, in_evidence, idx, believed):
    for k in range(believed.size):
        if believed[k]:
            in_evidence[k] = True
            for r in range(idx.size):
                knows[idx[r], k] = True


def _plain_share_knowledge(m, idx: np.ndarray, weights: np.ndarray) -> Speech:
    """:func:`share_knowledge` in numpy."""
    p = m.people
    speech = _plain_speak(m, idx, weights, m.rng)
    if len(idx):
        p.knows[np.ix_(idx, np.flatnonzero(speech.believed))] = True
    p.in_evidence |= speech.believed
    return speech


def renew_knowledge(m) -> None:
    """Knowledge goes stale: each month a share ``deliberation.knowledge_turnover`` of items is replaced by
    new ones (new local experience, new studies), held afresh as at the start and out of the evidence base
    until believed in a meeting, so hidden profiles persist."""
    p, s = m.people, m.settings
    renew = np.flatnonzero(m.rng.random(len(p.item_lay)) < s.deliberation.knowledge_turnover)
    if len(renew) == 0:
        return
    chance = holding_probability(s, p.kind, p.marginalised, p.item_lay[renew])
    p.knows[:, renew] = m.rng.random(chance.shape) < chance
    p.item_value[renew] = item_values(s, p.item_lay[renew], m.rng)
    p.in_evidence[renew] = False


def publish(m, believed: np.ndarray) -> None:
    """A decision published with its rationale carries the evidence behind it to residents: each resident
    learns each believed item with probability ``behaviour.publish_reach``, ``behaviour.sharing_boost`` times
    that when citizens take part in the ``sharing`` stage (information symmetry, the transparency marker).
    Compiled; :func:`_plain_publish` is the numpy version."""
    p, b = m.people, m.settings.behaviour
    items = np.flatnonzero(believed)
    if len(items) == 0:
        return
    chance = b.publish_reach * (b.sharing_boost if "sharing" in m.settings.design.stages else 1.0)
    _reach_kernel(p.knows, items, m.rng.random((m.n_residents, len(items))), chance)


@kernel
def _reach_kernel(knows, items, draws, chance):
    """Resident ``r`` learns ``items[c]`` if ``draws[r, c] < chance``."""
    for r in range(draws.shape[0]):
        for c in range(items.size):
            if draws[r, c] < chance:
                knows[r, items[c]] = True


def _plain_publish(m, believed: np.ndarray) -> None:
    """:func:`publish` in numpy."""
    p, b = m.people, m.settings.behaviour
    items = np.flatnonzero(believed)
    if len(items) == 0:
        return
    chance = b.publish_reach * (b.sharing_boost if "sharing" in m.settings.design.stages else 1.0)
    r = m.n_residents
    p.knows[:r, items] |= m.rng.random((r, len(items))) < chance
