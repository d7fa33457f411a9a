"""Progress of a long command as plain lines, for when no one watches a terminal.

``coprod sweep`` shows a tqdm bar on a terminal. Piped into a log (``make run | tee log``, a cluster job),
the bar is off, and a sweep of a few minutes would say nothing between its first line and its last; these
lines say how far it is every few percent, with the time elapsed and an estimate of the time left.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TextIO

EVERY = 5  # percent between two lines


def duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``1 h 02 min``."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


class ProgressLines:
    """``update(n)`` as tqdm's; prints ``NAME: DONE of TOTAL runs (P%), T elapsed, about T left`` each time
    another ``every`` percent is done, and at the end."""

    def __init__(
        self,
        name: str,
        total: int,
        out: TextIO,
        *,
        every: int = EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name, self.total, self.out, self.every, self.clock = name, total, out, every, clock
        self.done = 0
        self.start = clock()
        self.next = every

    def update(self, n: int = 1) -> None:
        self.done += n
        percent = math.floor(100 * self.done / self.total) if self.total else 100
        if percent < self.next and self.done < self.total:
            return
        self.next = (percent // self.every + 1) * self.every
        elapsed = self.clock() - self.start
        left = elapsed / self.done * (self.total - self.done) if self.done else math.nan
        eta = "" if math.isnan(left) else f", about {duration(left)} left"
        print(
            f"{self.name}: {self.done} of {self.total} runs ({percent}%), {duration(elapsed)} elapsed{eta}",
            file=self.out,
            flush=True,
        )


__all__ = ["EVERY", "ProgressLines", "duration"]
