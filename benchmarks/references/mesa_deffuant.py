"""Plain-Mesa reference of the Deffuant model: the way a Mesa user would write it, one object per resident.

Deffuant, Neau, Amblard & Weisbuch (2000), *Advances in Complex Systems* 3, 87-98: in an encounter of i
and j, if ``|x_i - x_j| < d`` both move toward each other by ``mu * (x_j - x_i)``. Here every resident is
a :class:`mesa.Agent`; one model step is ``agents.shuffle_do("step")``, and each resident, in its turn,
meets one partner drawn uniformly from everyone else (complete mixing) and the pair updates at once, as
in the paper. A model step is therefore n encounters: each agent takes part in two, on average.

All randomness comes from the model's own generators (``model.random`` for the partner, Mesa's
``shuffle_do`` for the order), so a seed fixes the run.
"""

from __future__ import annotations

from collections.abc import Sequence

import mesa
import numpy as np


class Resident(mesa.Agent):
    """One resident. State: ``opinion`` in [0, 1] (view scale)."""

    def __init__(self, model: DeffuantModel, opinion: float):
        super().__init__(model)
        self.opinion = opinion

    def step(self) -> None:
        """Meet a random other resident; if close enough in opinion, both move toward each other."""
        model = self.model
        partner = model.residents[model.random.randrange(model.n - 1)]
        if partner is self:  # drawing from n - 1 and swapping self for the last one keeps it uniform
            partner = model.residents[-1]
        gap = partner.opinion - self.opinion
        if abs(gap) < model.threshold:
            self.opinion += model.mu * gap
            partner.opinion -= model.mu * gap


class DeffuantModel(mesa.Model):
    """``DeffuantModel(opinions, threshold=d, mu=mu, rng=seed)``; ``step()`` is n encounters."""

    def __init__(self, opinions: Sequence[float], *, threshold: float, mu: float, rng=None):
        super().__init__(rng=rng)
        self.threshold = float(threshold)
        self.mu = float(mu)
        self.residents = [Resident(self, float(x)) for x in opinions]
        self.n = len(self.residents)

    def step(self) -> None:
        self.agents.shuffle_do("step")

    def opinions(self) -> np.ndarray:
        return np.array([r.opinion for r in self.residents])


def deffuant(opinions: Sequence[float], threshold: float, mu: float, steps: int, seed: int) -> np.ndarray:
    """Opinions after ``steps`` model steps (``steps * n`` encounters)."""
    model = DeffuantModel(opinions, threshold=threshold, mu=mu, rng=seed)
    for _ in range(steps):
        model.step()
    return model.opinions()
