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

Every condition is a count over the actors or items, so :func:`readiness` and :func:`spread_adoption` are
compiled kernels (:mod:`model.jit`) equal to their plain versions (:func:`_plain_readiness`,
:func:`_plain_spread_adoption`) to the bit (tests/test_fast_mobilisation.py).
"""

from __future__ import annotations

import numpy as np
from coprod.model.initiatives import complementarity
from coprod.model.jit import kernel
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
_RESIDENT, _OFFICIAL, _ACADEMIC, _GROUP = int(RESIDENT), int(OFFICIAL), int(ACADEMIC), int(GROUP)  # kernels
_INCREMENTAL, _STRUCTURAL, _COALITION = int(INCREMENTAL), int(STRUCTURAL), int(COALITION)
_N_KINDS, _N_THEORIES = int(N_KINDS), int(N_THEORIES)


def readiness(m) -> np.ndarray:
    """Each theory's condition in [0, 1] (see the module docstring): the same as :func:`_plain_readiness`,
    the counts in one compiled pass (:func:`_readiness`) beside the coalition's component."""
    p, th = m.people, m.settings.theory
    line = float(m.settings.behaviour.support_line)
    coalition, _ = largest_component(m.edges, p.view > line)
    out, lay, heard_share = _readiness(
        p.kind,
        p.toc,
        p.view,
        p.salience,
        p.adopted,
        p.in_evidence,
        p.item_lay,
        p.knows,
        coalition,
        line,
        float(th.institutionalise_at),
        float(th.tipping_share),
        float(th.coalition_share),
    )
    out[KNOWLEDGE] = _ratio(complementarity(lay) * heard_share, th.evidence_threshold)
    return out


def _plain_readiness(m) -> np.ndarray:
    """Reference for :func:`readiness`."""
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


@kernel
def _readiness(
    kind,
    toc,
    view,
    salience,
    adopted,
    in_evidence,
    item_lay,
    knows,
    coalition,
    line,
    incremental_at,
    structural_at,
    coalition_at,
):  # pragma: no cover - compiled
    """:func:`adoption`, :func:`committed_share` and :func:`coalition_strength` (given the component's mask)
    as counts, each through :func:`_ratio` against its theory's threshold; and the evidence base's lay share
    and :func:`heard` (both 0 while it is empty), whose product :func:`readiness` takes."""
    n, k = knows.shape
    officials = adopters = actors = committed = 0
    members = np.zeros(_N_KINDS, np.int64)  # by kind: all actors, and those in the coalition
    held = np.zeros(_N_KINDS, np.int64)
    for i in range(n):
        c = kind[i]
        members[c] += 1
        held[c] += coalition[i]
        if c == _OFFICIAL:
            officials += 1
            adopters += adopted[i]
        if c != _GROUP:
            actors += 1
            committed += toc[i] == _STRUCTURAL and view[i] > line and salience[i] > line
    base = lay = 0
    for j in range(k):
        if in_evidence[j]:
            base += 1
            lay += item_lay[j]
    lay_share = heard_share = 0.0
    if base > 0:
        lay_share = lay / base
        heard = 0
        for i in range(n):
            if kind[i] == _OFFICIAL:
                for j in range(k):
                    heard += in_evidence[j] and knows[i, j]
        heard_share = heard / (officials * base)
    strength = min(held[_RESIDENT] / members[_RESIDENT], held[_OFFICIAL] / members[_OFFICIAL])
    strength = min(strength, held[_ACADEMIC] / members[_ACADEMIC])
    out = np.zeros(_N_THEORIES)
    out[_INCREMENTAL] = _ratio_kernel(adopters / officials, incremental_at)
    out[_STRUCTURAL] = _ratio_kernel(committed / actors, structural_at)
    out[_COALITION] = _ratio_kernel(strength, coalition_at)
    return out, lay_share, heard_share


@kernel
def _ratio_kernel(value, threshold):  # pragma: no cover - compiled
    """:func:`_ratio` (Python's ``min(1.0, r)`` is ``r`` only when ``r < 1.0``: NaN gives 1)."""
    if threshold <= 0:
        return 1.0
    ratio = value / threshold
    return ratio if ratio < 1.0 else 1.0


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
    """One round of threshold contagion among officials (Granovetter 1978; Watts 2002): the same as
    :func:`_plain_spread_adoption`, over officials' rows of the adjacency only (:func:`_spread`)."""
    p, adj = m.people, m.adjacency
    _spread(p.kind, p.adopted, adj.indptr, adj.indices, adj.data, float(m.settings.theory.adoption_threshold))


def _plain_spread_adoption(m) -> None:
    """Reference for :func:`spread_adoption`."""
    p, th = m.people, m.settings.theory
    officials = p.kind == OFFICIAL
    adj = m.adjacency
    among = adj @ officials.astype(float)
    adopting = adj @ (p.adopted & officials).astype(float)
    share = np.divide(adopting, among, out=np.zeros(p.n), where=among > 0)
    p.adopted |= officials & (share >= th.adoption_threshold) & (among > 0) & (th.adoption_threshold > 0)


@kernel
def _spread(kind, adopted, indptr, indices, data, threshold):  # pragma: no cover - compiled
    """Officials whose adopting official neighbours reach ``threshold`` of their official neighbours adopt,
    all at once (the products ``adj @ x`` summed in the CSR's order, as scipy sums them; terms of zero left
    out)."""
    if threshold <= 0:
        return
    now = np.zeros(kind.shape[0], np.bool_)
    for i in range(kind.shape[0]):
        if kind[i] != _OFFICIAL:
            continue
        among = adopting = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            if kind[j] == _OFFICIAL:
                among += data[e] * 1.0
                if adopted[j]:
                    adopting += data[e] * 1.0
        if among > 0 and adopting / among >= threshold:
            now[i] = True
    for i in range(kind.shape[0]):
        adopted[i] |= now[i]
