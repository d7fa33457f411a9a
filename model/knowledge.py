"""Knowledge sharing in meetings: the hidden-profile bias and the evidence it leaves behind.

Collective information sampling (Stasser & Titus 1985, 1987): an item is brought up if at least one holder
present mentions it, so an item held by ``h`` people surfaces with probability ``1 - (1 - q)^h``: shared
items dominate and unshared ones (often lay and community knowledge) stay hidden. Beyond that, items few
hold are discounted by ``deliberation.hidden_profile_bias``, and marginalised holders' items by their
credibility deficit; facilitation reduces both (structured elicitation, Stasser et al. 1995).
"""

from __future__ import annotations

import numpy as np

from model.world import holding_probability


def mention_probabilities(
    holders_marginalised: np.ndarray,
    holders_other: np.ndarray,
    present: int,
    *,
    mention: float,
    bias: float,
    credibility: float,
) -> np.ndarray:
    """Probability each item is brought up in a meeting of ``present`` people."""
    share = (holders_marginalised + holders_other) / max(present, 1)
    discount = 1.0 - bias * (1.0 - share)
    q_m = np.clip(mention * discount * credibility, 0.0, 1.0)
    q_o = np.clip(mention * discount, 0.0, 1.0)
    return 1.0 - (1.0 - q_m) ** holders_marginalised * (1.0 - q_o) ** holders_other


def share_knowledge(m, idx: np.ndarray) -> np.ndarray:
    """Items mentioned in this month's meeting (bool over items); everyone present learns them."""
    p, s = m.people, m.scenario
    fac = s.design.facilitation
    known = p.knows[idx]
    marg = p.marginalised[idx]
    prob = mention_probabilities(
        known[marg].sum(axis=0),
        known[~marg].sum(axis=0),
        len(idx),
        mention=s.deliberation.mention_probability,
        bias=s.deliberation.hidden_profile_bias * (1.0 - fac),
        credibility=(1.0 - 0.5 * s.context.inequality) ** (1.0 - fac),
    )
    mentioned = m.rng.random(len(prob)) < prob
    if len(idx):
        p.knows[np.ix_(idx, np.flatnonzero(mentioned))] = True
    return mentioned


def renew_knowledge(m) -> None:
    """Knowledge goes stale: each month a share ``deliberation.knowledge_turnover`` of items is replaced by
    new ones (new local experience, new studies), held afresh as at the start, so hidden profiles persist."""
    p, s = m.people, m.scenario
    renew = np.flatnonzero(m.rng.random(len(p.item_lay)) < s.deliberation.knowledge_turnover)
    if len(renew) == 0:
        return
    chance = holding_probability(p.kind, p.marginalised, p.item_lay[renew])
    p.knows[:, renew] = m.rng.random(chance.shape) < chance
    dl = s.deliberation
    noise = np.where(p.item_lay[renew], dl.evidence_noise, 0.5 * dl.evidence_noise)
    bias = np.where(p.item_lay[renew], 0.0, dl.expert_bias)
    p.item_value[renew] = np.clip(
        s.context.needed_change - bias + noise * m.rng.standard_normal(len(renew)), 0, 1
    )


def publish(m, mentioned: np.ndarray) -> None:
    """A decision published with its rationale carries the evidence behind it to residents: each resident
    learns each item heard with probability 0.02, five times that when citizens take part in the
    ``sharing`` stage (information symmetry, the transparency marker)."""
    p = m.people
    items = np.flatnonzero(mentioned)
    if len(items) == 0:
        return
    chance = 0.02 * (1 + 4 * ("sharing" in m.scenario.design.stages))
    r = m.n_residents
    p.knows[:r, items] |= m.rng.random((r, len(items))) < chance
