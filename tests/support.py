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


def widgets(root):
    """Every widget under ``root`` in page order (reacton's finder stops at the first match): the render
    tests' walk of a Solara page's widget tree."""
    import ipywidgets

    if isinstance(root, ipywidgets.Widget):
        yield root
        for slot in getattr(root, "v_slots", None) or []:
            yield from widgets(slot.get("children") or [])
        yield from widgets(getattr(root, "children", None) or [])
    elif isinstance(root, (list, tuple)):
        for child in root:
            yield from widgets(child)


def texts(root) -> list[str]:
    """The strings of every ``v.Html`` under ``root``, in page order."""
    import ipyvuetify as v

    return [c for w in widgets(root) if isinstance(w, v.Html) for c in w.children if isinstance(c, str)]
