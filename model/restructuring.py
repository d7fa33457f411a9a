"""Restructure: the theory of change moves the governance structure; inertia and backlash push back.

The structure is five levers in [0, 1]: ``citizen_weight``, ``agenda_setting``, ``transparency``,
``downward_accountability`` and ``co_financing``. When a theory's condition holds, its levers move a
share ``theory.rate`` of the way to 1; every lever drifts back to where it started at ``theory.inertia``
(institutional inertia, Streeck & Thelen 2005).

- incremental: officials on successful experiments adopt their practice; adoption spreads among officials
  by threshold contagion (Granovetter 1978; Watts 2002) and is institutionalised past
  ``theory.institutionalise_at``; until then it nudges the structure in proportion;
- structural: once the committed share (view and justice salience above ``behaviour.support_line``) passes
  ``theory.tipping_share`` (committed-minority tipping, Centola et al. 2018) rules and resources move;
  officials who oppose lose trust in residents (``theory.backlash`` x ``theory.backlash_trust``) and may roll
  the change back (``theory.rollback``, ``theory.rollback_size``);
- knowledge: an evidence base that mixes lay and expert knowledge (``4 l (1 - l)`` for the lay share ``l`` of
  the items believed in meetings and not yet stale, :attr:`People.in_evidence`) opens up transparency and
  the agenda;
- coalition: when the largest connected set of supportive actors (view above the support line) holds at least
  ``theory.coalition_share`` of the residents, of the officials *and* of the academics (a cross-sector
  coalition, not a residents' movement alone), citizen power and accountability move.

Whatever the theory, partners reinvest after successful experiments, raising co-financing where it exists.
"""

from __future__ import annotations

import numpy as np

from model.initiatives import Outcome, complementarity
from model.kinds import ACADEMIC, GROUP, OFFICIAL, RESIDENT
from model.network import largest_component_share

LEVERS = ("citizen_weight", "agenda_setting", "transparency", "downward_accountability", "co_financing")


def restructure(m, outcome: Outcome) -> None:
    st, th = m.structure, m.settings.theory
    p = m.people
    line = m.settings.behaviour.support_line

    def push(*levers: str, by: float = 1.0) -> None:
        for lever in levers:
            st[lever] += th.rate * by * (1 - st[lever])

    match th.kind.value:
        case "incremental":
            adoption = _contagion(m)
            if adoption >= th.institutionalise_at:
                push("citizen_weight", "agenda_setting", "downward_accountability")
            else:
                push(
                    "citizen_weight",
                    "agenda_setting",
                    by=th.partial_push * adoption / max(th.institutionalise_at, np.finfo(float).tiny),
                )
        case "structural":
            actors = p.kind != GROUP
            committed = float(np.mean((p.view[actors] > line) & (p.salience[actors] > line)))
            if committed >= th.tipping_share:
                push("citizen_weight", "downward_accountability", "transparency")
                officials = p.kind == OFFICIAL
                opposed = float(np.mean(p.view[officials] < line))
                loss = min(1.0, th.backlash * th.rate * opposed * th.backlash_trust)
                p.trust[officials, RESIDENT] *= 1 - loss
                if m.rng.random() < th.backlash * opposed * th.rollback:
                    for lever in ("citizen_weight", "downward_accountability"):
                        st[lever] -= min(1.0, th.rate * th.rollback_size) * st[lever]
        case "knowledge":
            push("transparency", "agenda_setting", "downward_accountability", by=evidence_quality(p))
        case "coalition":
            if _coalition(m) >= th.coalition_share:
                push("citizen_weight", "downward_accountability", "agenda_setting")
        case other:
            raise ValueError(f"unknown theory.kind {other!r}")
    if st["co_financing"] > 0 and outcome.experiments:
        push("co_financing", by=outcome.successes / outcome.experiments)
    for lever in LEVERS:
        st[lever] = float(np.clip(st[lever] + th.inertia * (m.structure0[lever] - st[lever]), 0.0, 1.0))


def evidence_quality(p) -> float:
    """Complementarity of the evidence base: ``4 l (1 - l)`` for its lay share ``l`` (0 when empty)."""
    base = p.in_evidence
    if not base.any():
        return 0.0
    return complementarity(float(p.item_lay[base].mean()))


def _contagion(m) -> float:
    """One round of threshold contagion among officials; returns the adoption share."""
    p, th = m.people, m.settings.theory
    officials = p.kind == OFFICIAL
    adj = m.adjacency
    among = adj @ (officials.astype(float))
    adopting = adj @ (p.adopted & officials).astype(float)
    share = np.divide(adopting, among, out=np.zeros(p.n), where=among > 0)
    p.adopted |= officials & (share >= th.adoption_threshold) & (among > 0) & (th.adoption_threshold > 0)
    return float(p.adopted[officials].mean())


def _coalition(m) -> float:
    """Cross-sector strength of the largest connected group of supportive actors: the smallest share of
    residents, officials and academics it holds."""
    p = m.people
    mask, _ = largest_component_share(m.adjacency, p.view > m.settings.behaviour.support_line)
    return float(min(np.mean(mask[p.kind == kind]) for kind in (RESIDENT, OFFICIAL, ACADEMIC)))
