"""Run two set-ups on the same several seeds, to the end, for the compare view's verdicts over seeds.

The seeds come from one root seed (the one typed on the page) through ``numpy.random.SeedSequence``, as
the experiments derive theirs, so the same root and count give the same seeds on any machine, and each
seed can be typed back into the page to watch that city play. Plain Python, no widgets; the view runs
:func:`run_both` in a thread and shows its progress.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from coprod.model import Scenario, simulate

COUNTS = (3, 5, 10)  # the seed counts the page offers; 5 runs both set-ups in 10-25 s on 2 busy cores
DEFAULT_COUNT = 5


def seeds(root: int, count: int) -> list[int]:
    """``count`` run seeds derived from ``root``: the first word of each spawned child's state."""
    if count < 1:
        raise ValueError(f"need at least one seed, got {count}")
    return [int(child.generate_state(1)[0]) for child in np.random.SeedSequence(root).spawn(count)]


@dataclass(frozen=True)
class Progress:
    """How far :func:`run_both` has got: runs done of all, and, once done, each set-up's final outputs
    (one dict per seed, in the order of ``seeds``)."""

    done: int
    total: int
    seeds: tuple[int, ...]
    first: tuple[dict[str, float], ...] = ()
    second: tuple[dict[str, float], ...] = ()

    @property
    def finished(self) -> bool:
        """Every run done and the outputs handed over (the last progress report carries them)."""
        return self.done == self.total and len(self.first) == len(self.second) == len(self.seeds)


def run_both(
    first: Scenario, second: Scenario, run_seeds: list[int], cancel: threading.Event | None = None
) -> Iterator[Progress]:
    """Run each scenario to its horizon on each seed (A then B, seed by seed), yielding progress after
    every run and the outputs at the end; stops early, yielding nothing more, once ``cancel`` is set."""
    total, done = 2 * len(run_seeds), 0
    finals: tuple[list[dict[str, float]], list[dict[str, float]]] = ([], [])
    for seed in run_seeds:
        for side, scenario in enumerate((first, second)):
            if cancel is not None and cancel.is_set():
                return
            rows = simulate(scenario, seed=seed, every=scenario.run.steps)
            finals[side].append({k: v for k, v in rows[-1].items() if k != "step"})
            done += 1
            yield Progress(done, total, tuple(run_seeds))
    yield Progress(done, total, tuple(run_seeds), tuple(finals[0]), tuple(finals[1]))
