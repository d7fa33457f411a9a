"""Helpers shared by several test files (imported as ``tests.support``; fixtures live in conftest.py)."""

from __future__ import annotations

import contextlib
import signal


class Hang(Exception):
    pass


@contextlib.contextmanager
def no_hang(seconds: float):
    """Fail, rather than hang the suite, if the block runs longer than ``seconds`` (main thread only)."""

    def stop(signum, frame):
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
