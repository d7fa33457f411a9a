"""Deliberate: the month's meeting, then everyday talk along ties.

In the meeting (participants ``idx``): power-weighted, facilitated bounded-confidence exchange with
stubbornness (Deffuant et al. 2000 with weights and Friedkin-Johnsen anchors, :mod:`model.deliberation`);
knowledge sharing with the hidden-profile bias (:mod:`model.knowledge`); the truth-seeking pull of believed
evidence (Hegselmann & Krause 2006); justice framing (one DeGroot step). Then everyone talks along ties
(unweighted Deffuant), everyone keeps a monthly hold on where they started (Friedkin-Johnsen prejudice),
knowledge goes stale, and groups speak for their members.
"""

from __future__ import annotations

import numpy as np
from coprod.model.convening import stubbornness, voice_weights
from coprod.model.deliberation import deffuant
from coprod.model.jit import kernel
from coprod.model.kinds import ACADEMIC
from coprod.model.knowledge import Speech, renew_knowledge, share_knowledge


def deliberate(m) -> None:
    """Fill ``m.flows`` with the meeting's weights, speech and views before and after."""
    p, s, flows = m.people, m.settings, m.flows
    idx, d, dl = flows.meeting, s.design, s.deliberation
    weights = voice_weights(m, idx)
    speech = Speech.silent(len(idx), p.item_lay)
    flows.views_before = p.view[idx].copy()
    if len(idx) >= 2:
        stubborn = stubbornness(m, idx)
        per_round = 1 - (1 - stubborn) ** (1 / dl.rounds)
        p.view[idx] = deffuant(
            p.view[idx],
            threshold=min(1.0, dl.confidence * (1 + d.facilitation)),
            convergence=dl.convergence,
            interactions=dl.rounds * len(idx) // 2,
            rng=m.rng,
            weights=weights,
            stubbornness=per_round,
            anchors=p.view0[idx],
        )
        speech = share_knowledge(m, idx, weights)
        if speech.believed.any():
            weigh_evidence(m, idx, speech.believed, stubborn)
        frame(m, idx, weights, speech)
    flows.weights, flows.speech = weights, speech
    flows.views_after = p.view[idx].copy()
    talks = int(s.network.talk_rate * p.n / 2)
    if talks and len(m.edges):
        p.view[:] = deffuant(
            p.view,
            threshold=dl.confidence,
            convergence=dl.convergence,
            interactions=talks,
            rng=m.rng,
            edges=m.edges,
        )
    hold = dl.stubbornness
    p.view += hold * (p.view0 - p.view)
    p.salience += hold * (p.salience0 - p.salience)
    renew_knowledge(m)
    speak_for_members(m)


def weigh_evidence(m, idx: np.ndarray, believed: np.ndarray, stubborn: np.ndarray | None = None) -> None:
    """Truth-seeking pull of believed evidence on participants (Hegselmann & Krause 2006), resisted in
    proportion to each participant's stubbornness (``stubborn``, :func:`stubbornness` if not given) and
    scaled by their trust in academics, who stand behind evidence (``behaviour.evidence_trust``: 0 ignores
    trust, 1 in proportion). Compiled; :func:`_plain_weigh_evidence` is the numpy version."""
    p, s = m.people, m.settings
    evidence = float(p.item_value[believed].mean())
    pull = min(1.0, s.theory.evidence_attraction * (1 + ("analysis" in s.design.stages)))
    _pull_kernel(
        p.view,
        p.trust,
        np.asarray(idx, dtype=np.int64),
        stubbornness(m, idx) if stubborn is None else stubborn,
        evidence,
        pull,
        s.behaviour.evidence_trust,
    )


@kernel
def _pull_kernel(view, trust, idx, stubborn, evidence, pull, evidence_trust):
    """:func:`_plain_weigh_evidence`'s update, participant by participant in its order of operations."""
    for r in range(idx.size):
        i = idx[r]
        belief = min(max(1 - evidence_trust * (1 - trust[i, ACADEMIC]), 0.0), 1.0)
        view[i] += pull * belief * (1 - stubborn[r]) * (evidence - view[i])


def _plain_weigh_evidence(
    m, idx: np.ndarray, believed: np.ndarray, stubborn: np.ndarray | None = None
) -> None:
    """:func:`weigh_evidence` in numpy."""
    p, s = m.people, m.settings
    evidence = float(p.item_value[believed].mean())
    pull = min(1.0, s.theory.evidence_attraction * (1 + ("analysis" in s.design.stages)))
    trust = p.trust[idx, ACADEMIC]
    belief = np.clip(1 - s.behaviour.evidence_trust * (1 - trust), 0.0, 1.0)
    stubborn = stubbornness(m, idx) if stubborn is None else stubborn
    p.view[idx] += pull * belief * (1 - stubborn) * (evidence - p.view[idx])


def frame(m, idx: np.ndarray, weights: np.ndarray, speech: Speech) -> None:
    """Justice framing spreads in the meeting: one DeGroot step toward the voice-weighted mean salience,
    raised by the share of the lay knowledge present that was believed (``behaviour.lay_framing``)."""
    p = m.people
    target = float(weights @ p.salience[idx] / weights.sum())
    lay_present = speech.lay_held.sum()
    lay_heard = (
        float((speech.believed[p.item_lay] & speech.lay_held).sum() / lay_present) if lay_present else 0.0
    )
    p.salience[idx] += m.settings.deliberation.convergence * (
        np.clip(target + m.settings.behaviour.lay_framing * lay_heard, 0, 1) - p.salience[idx]
    )


def speak_for_members(m) -> None:
    """A group's view and framing are its members' means. Compiled; :func:`_plain_speak_for_members` is the
    numpy version."""
    p = m.people
    _members_mean_kernel(p.view, p.salience, p.group_of, p.first_group, m.n_groups)


@kernel
def _members_mean_kernel(view, salience, group_of, first_group, n_groups):
    """Sums in the order of the members, as ``np.bincount`` adds them; groups without members keep theirs."""
    counts = np.zeros(n_groups, dtype=np.int64)
    view_sums = np.zeros(n_groups)
    salience_sums = np.zeros(n_groups)
    for i in range(group_of.size):
        g = group_of[i]
        if g >= 0:
            counts[g] += 1
            view_sums[g] += view[i]
            salience_sums[g] += salience[i]
    for g in range(n_groups):
        if counts[g] > 0:
            view[first_group + g] = view_sums[g] / counts[g]
            salience[first_group + g] = salience_sums[g] / counts[g]


def _plain_speak_for_members(m) -> None:
    """:func:`speak_for_members` in numpy."""
    p = m.people
    members = np.flatnonzero(p.group_of >= 0)
    if len(members) == 0:
        return
    g = p.group_of[members]
    counts = np.bincount(g, minlength=m.n_groups)
    has = np.flatnonzero(counts > 0)
    for attr in ("view", "salience"):
        sums = np.bincount(g, weights=getattr(p, attr)[members], minlength=m.n_groups)
        getattr(p, attr)[p.first_group + has] = sums[has] / counts[has]
