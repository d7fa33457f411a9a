"""Helpers shared by several test files (imported as ``tests.support``; fixtures live in conftest.py)."""

from __future__ import annotations

import contextlib
import signal
import sqlite3
from pathlib import Path


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


def tables(db: Path) -> tuple[list, list]:
    """A results database's runs (without timings) and steps, in key order: what must match between
    sweeps that ran differently (workers, executors, interruptions)."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        runs = conn.execute(
            "SELECT experiment, run_key, scenario, params, scenario_hash, seed, code_version, status, error "
            "FROM runs ORDER BY experiment, run_key"
        ).fetchall()
        steps = conn.execute("SELECT * FROM steps ORDER BY experiment, run_key, step").fetchall()
    return runs, steps
