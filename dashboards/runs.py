"""A running model as the dashboard holds it: the model, a lock, and the network picture of this reset.

One :class:`Run` per set-up and browser session; a :class:`Pair` steps two of them together for the
compare view. Nothing here draws from the model's generator: the network sample has its own, so a run in
the dashboard gives the same numbers as ``coprod run`` on the exported scenario. Each run keeps the story of
what happened in it (:class:`coprod.story.Story`), fed at month 0 and after every step; a story only reads
the model, so keeping one changes nothing in the run.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass

import networkx as nx
import numpy as np
from coprod.model import (
    DESIGN_PRESETS,
    MARKERS,
    OUTPUTS,
    THEORY_PRESETS,
    Academic,
    GovernanceModel,
    Official,
    Resident,
    Scenario,
)

from coprod.story import Event, Story

# The network view shows every official, academic and group, and at most this many residents.
SAMPLED_RESIDENTS = 250
RESIDENT = 0
PEOPLE = (Resident, Official, Academic)


@dataclass(frozen=True)
class NetworkPicture:
    """Who is drawn and where: fixed for a run, computed once when it starts (a spring layout is slow)."""

    nodes: np.ndarray  # actor rows drawn
    xy: np.ndarray  # (len(nodes), 2) positions
    kind: np.ndarray  # kind of each node drawn (0 resident .. 3 group)
    marginalised: np.ndarray  # bool per node drawn
    residents_total: int
    residents_shown: int


def network_picture(model: GovernanceModel, residents: int = SAMPLED_RESIDENTS) -> NetworkPicture:
    """Keep every official, academic and group, add residents outwards along ties from them (so the picture
    shows who is connected to whom rather than scattered strangers), and lay it out once."""
    kind = np.asarray(model.people.kind)
    sampler = np.random.default_rng(model.settings.run.seed)  # its own stream: the model's stays untouched
    others = np.flatnonzero(kind != RESIDENT)
    resident_rows = _residents_near(others, model.edges, kind, residents, sampler)
    nodes = np.concatenate([resident_rows, others])
    graph = nx.Graph()
    graph.add_nodes_from(range(len(nodes)))
    graph.add_edges_from(_edges_among(model.edges, nodes, len(kind)).tolist())
    layout = nx.spring_layout(graph, seed=int(sampler.integers(2**31)), iterations=50)
    xy = np.array([layout[i] for i in range(len(nodes))])
    return NetworkPicture(
        nodes=nodes,
        xy=_ring_isolated(xy, np.array([graph.degree(i) == 0 for i in range(len(nodes))])),
        kind=kind[nodes],
        marginalised=np.asarray(model.people.marginalised)[nodes].astype(bool),
        residents_total=int((kind == RESIDENT).sum()),
        residents_shown=len(resident_rows),
    )


def _ring_isolated(xy: np.ndarray, isolated: np.ndarray) -> np.ndarray:
    """Actors without ties drift far off in a spring layout; set them on a ring just around the rest."""
    if not isolated.any() or isolated.all():
        return xy
    centre = xy[~isolated].mean(axis=0)
    radius = 1.08 * float(np.linalg.norm(xy[~isolated] - centre, axis=1).max())
    angles = np.linspace(0, 2 * np.pi, int(isolated.sum()), endpoint=False)
    out = xy.copy()
    out[isolated] = centre + radius * np.column_stack([np.cos(angles), np.sin(angles)])
    return out


def _residents_near(
    start: np.ndarray, edges: np.ndarray, kind: np.ndarray, wanted: int, rng: np.random.Generator
) -> np.ndarray:
    """Up to ``wanted`` residents in breadth-first order from ``start``, then at random if that runs dry."""
    n = len(kind)
    neighbours: list[list[int]] = [[] for _ in range(n)]
    for a, b in np.asarray(edges, dtype=np.int64).tolist():
        neighbours[a].append(b)
        neighbours[b].append(a)
    seen = np.zeros(n, dtype=bool)
    seen[start] = True
    frontier, chosen = list(start.tolist()), []
    while frontier and len(chosen) < wanted:
        following = []
        for node in frontier:
            for other in rng.permutation(neighbours[node]).tolist() if neighbours[node] else []:
                if not seen[other]:
                    seen[other] = True
                    following.append(other)
                    if kind[other] == RESIDENT and len(chosen) < wanted:
                        chosen.append(other)
        frontier = following
    rest = np.flatnonzero((kind == RESIDENT) & ~seen)
    if len(chosen) < wanted and len(rest):
        chosen.extend(rng.choice(rest, size=min(wanted - len(chosen), len(rest)), replace=False).tolist())
    return np.sort(np.array(chosen, dtype=np.int64))


def _edges_among(edges: np.ndarray, nodes: np.ndarray, n: int) -> np.ndarray:
    """The ties whose two ends are both drawn, renumbered to positions in ``nodes``."""
    position = np.full(n, -1)
    position[nodes] = np.arange(len(nodes))
    ends = position[np.asarray(edges, dtype=np.int64)] if len(edges) else np.zeros((0, 2), dtype=np.int64)
    return ends[(ends >= 0).all(axis=1)]


class Run:
    """One set-up running in one browser session."""

    def __init__(self, scenario: Scenario, *, sampled_residents: int = SAMPLED_RESIDENTS, story: bool = True):
        self.scenario = scenario
        self.model = GovernanceModel(scenario)
        self.lock = threading.RLock()
        self.picture = network_picture(self.model, sampled_residents)
        # the story of this run (None with ``story=False``): it reads the model at month 0 and after each step
        self.story = Story() if story else None
        if self.story is not None:
            self.story.observe(self.model)

    @property
    def design(self) -> str:
        """The design's plain name."""
        kind = self.scenario.get("design.kind")
        return DESIGN_PRESETS[kind]["label"]

    @property
    def theory(self) -> str:
        """The theory of change's plain name."""
        kind = self.scenario.get("theory.kind")
        return THEORY_PRESETS[kind]["label"]

    @property
    def steps(self) -> int:
        return int(self.model.steps)

    @property
    def horizon(self) -> int:
        """The months the set-up runs for (``run.steps``)."""
        return self.scenario.run.steps

    @property
    def finished(self) -> bool:
        return self.steps >= self.horizon

    def step(self, months: int = 1) -> int:
        """Advance up to ``months`` months, never past the horizon; returns the months done."""
        done = 0
        with self.lock:
            while done < months and not self.finished:
                self.model.step()
                if self.story is not None:
                    self.story.observe(self.model)
                done += 1
        return done

    # ----------------------------------------------------------------------------------- reading

    def now(self) -> dict[str, float]:
        with self.lock:
            return dict(self.model.outputs)

    def start(self) -> dict[str, float]:
        with self.lock:
            return {name: self.model.datacollector.model_vars[name][0] for name in OUTPUTS}

    def series(self, names: tuple[str, ...] = MARKERS) -> dict[str, np.ndarray]:
        """Each output over the months so far (month 0 first)."""
        with self.lock:
            return {name: np.array(self.model.datacollector.model_vars[name]) for name in names}

    def ties(self) -> np.ndarray:
        """Today's ties among the drawn actors (co-participants form new ones as months pass)."""
        with self.lock:
            return _edges_among(self.model.edges, self.picture.nodes, len(self.model.people.kind))

    def taking_part(self) -> np.ndarray:
        with self.lock:
            return np.asarray(self.model.people.taking_part)[self.picture.nodes].astype(bool)

    def theory_mix(self) -> dict[str, float]:
        """Share of people (residents, officials, academics) holding each theory of change now."""
        with self.lock:
            held = [agent.theory_of_change for agent in self.model.agents if isinstance(agent, PEOPLE)]
        counts = Counter(held)
        total = max(len(held), 1)
        return {name: counts[name] / total for name in counts}

    def events(self) -> list[Event]:
        """What the story has told so far, month 0 first (none without a story)."""
        with self.lock:
            return list(self.story.events) if self.story is not None else []

    def opinions(self) -> tuple[np.ndarray, np.ndarray]:
        """Views by group so far: the months (month 0 first) and the quantiles, an array (months, groups,
        quantiles) in the order of ``story.GROUPS`` and ``story.QUANTILES`` (empty without a story)."""
        with self.lock:
            if self.story is None:
                return np.zeros(0, dtype=np.int64), Story().quantiles()
            return np.array(self.story.months, dtype=np.int64), self.story.quantiles()

    # ----------------------------------------------------------------------------------- export

    def csv(self) -> str:
        """Every output, one row per month from month 0, at full precision."""
        with self.lock:
            frame = self.model.datacollector.get_model_vars_dataframe()
        frame.index.name = "step"
        return frame[list(OUTPUTS)].to_csv(lineterminator="\n")

    def toml(self) -> str:
        """The scenario as a file that ``coprod run`` turns into this same run."""
        header = (
            f"# {self.scenario.description}\n"
            f"# Exported from the workshop dashboard at month {self.steps}. `coprod run FILE` reproduces\n"
            f"# the run month by month; `coprod run FILE --steps {max(self.steps, 1)}` ends where the page\n"
            "# was.\n"
        )
        return header + self.scenario.to_toml()


class Pair:
    """Two set-ups run side by side from the same seed, stepped together."""

    def __init__(self, first: Scenario, second: Scenario):
        # Compare shows no story: its runs skip the observing (a tenth or so of a month's time)
        self.runs = (Run(first, story=False), Run(second, story=False))

    @property
    def steps(self) -> int:
        return min(run.steps for run in self.runs)

    @property
    def horizon(self) -> int:
        return min(run.horizon for run in self.runs)

    @property
    def finished(self) -> bool:
        return all(run.finished for run in self.runs)

    def step(self, months: int = 1) -> int:
        return min(run.step(months) for run in self.runs)
