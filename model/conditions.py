"""When each theory of change works: its condition in the context, read from the model's state.

Each theory's *readiness* lies in [0, 1]; 1 means its mechanism's condition holds (the theory *works*).
None holds by construction: each needs something that must first form.

- incremental: officials' adoption of practices from successful experiments, as a share of
  ``theory.institutionalise_at`` (institutionalisation; adoption spreads by threshold contagion, Granovetter
  1978, :func:`spread_adoption`);
- structural: the committed minority (holders of the structural theory who back change and frame the city's
  problems as justice, view and salience above ``behaviour.support_line``) as a share of
  ``theory.tipping_share`` (committed-minority tipping, Centola et al. 2018);
- knowledge: the evidence base's mix, ``4 l (1 - l)`` for its lay share ``l`` (0 while it holds expert items
  only), times the share of it officials hold, as a share of ``theory.evidence_threshold``: evidence must be
  produced and heard;
- coalition: the largest connected set of backing actors, by the smallest share of residents, officials
  and academics it holds, as a share of ``theory.coalition_share`` (a cross-sector coalition, not a
  residents' movement alone).

Structural and coalition change *tip*: their levers move only at readiness 1. Incremental and knowledge
change move in proportion. Experiments fit their team's theory by the same readiness
(:mod:`model.initiatives`).
"""

from __future__ import annotations

import numpy as np
from coprod.model.initiatives import complementarity
from coprod.model.kinds import (
    ACADEMIC,
    COALITION,
    GROUP,
    INCREMENTAL,
    KNOWLEDGE,
    N_KINDS,
    N_THEORIES,
    OFFICIAL,
    RESIDENT,
    STRUCTURAL,
)
from coprod.model.network import largest_component

TIPPING = (STRUCTURAL, COALITION)
SECTORS = np.array([RESIDENT, OFFICIAL, ACADEMIC])  # the kinds a coalition must span


def readiness(m) -> np.ndarray:
    """Each theory's condition in [0, 1] (see the module docstring)."""
    th = m.settings.theory
    out = np.zeros(N_THEORIES)
    out[INCREMENTAL] = _ratio(adoption(m), th.institutionalise_at)
    out[STRUCTURAL] = _ratio(committed_share(m), th.tipping_share)
    out[KNOWLEDGE] = _ratio(evidence_quality(m.people) * heard(m), th.evidence_threshold)
    out[COALITION] = _ratio(coalition_strength(m), th.coalition_share)
    return out


def _ratio(value: float, threshold: float) -> float:
    """``value / threshold`` capped at 1; a zero threshold is always met."""
    return 1.0 if threshold <= 0 else min(1.0, value / threshold)


def adoption(m) -> float:
    p = m.people
    return float(p.adopted[p.kind == OFFICIAL].mean())


def committed_share(m) -> float:
    """Share of actors (not groups) who hold the structural theory, back change and frame it as justice."""
    p = m.people
    line = m.settings.behaviour.support_line
    actors = p.kind != GROUP
    committed = (p.toc == STRUCTURAL) & (p.view > line) & (p.salience > line)
    return float(committed[actors].mean())


def evidence_quality(p) -> float:
    """Complementarity of the evidence base: ``4 l (1 - l)`` for its lay share ``l`` (0 when empty)."""
    base = p.in_evidence
    if not base.any():
        return 0.0
    return complementarity(float(p.item_lay[base].mean()))


def heard(m) -> float:
    """How far the evidence base is heard where decisions are implemented: officials' mean share of its items
    they hold (they learn lay items only by hearing them believed in meetings, :mod:`model.knowledge`)."""
    p = m.people
    base = p.in_evidence
    if not base.any():
        return 0.0
    return float(p.knows[p.kind == OFFICIAL][:, base].mean())


def coalition_strength(m) -> float:
    """The smallest share of residents, officials and academics held by the largest connected set of
    actors backing change."""
    p = m.people
    mask, _ = largest_component(m.edges, p.view > m.settings.behaviour.support_line)
    held = np.bincount(p.kind[mask], minlength=N_KINDS)[SECTORS]  # each sector's share of its actors in it
    return float((held / np.bincount(p.kind, minlength=N_KINDS)[SECTORS]).min())


def spread_adoption(m) -> None:
    """One round of threshold contagion among officials (Granovetter 1978; Watts 2002)."""
    p, th = m.people, m.settings.theory
    officials = p.kind == OFFICIAL
    adj = m.adjacency
    among = adj @ officials.astype(float)
    adopting = adj @ (p.adopted & officials).astype(float)
    share = np.divide(adopting, among, out=np.zeros(p.n), where=among > 0)
    p.adopted |= officials & (share >= th.adoption_threshold) & (among > 0) & (th.adoption_threshold > 0)
