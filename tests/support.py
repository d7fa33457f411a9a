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


WORKSHOP_SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "participatory_budgeting.toml"


def tiny_workshop_city():
    """The workshop tests' small city: participatory budgeting, 150 residents, seed 11."""
    from coprod.model import load_scenario

    return load_scenario(WORKSHOP_SCENARIO).with_overrides({"population.residents": 150, "run.seed": 11})


def recorded(db: Path, name: str | None = None):
    """A workshop in ``db`` with two played rounds on main and a branch from round 1 with one more round
    (after a change of theory): the workshop and the branch's name."""
    from coprod.workshop.engine import Workshop

    w = Workshop.start(tiny_workshop_city(), db, months_per_round=2, name=name)
    a = w.join(w.join_code, "Ann", "resident", marginalised=True)
    g = w.join(w.join_code, "Gus", "organiser")
    f = w.facilitator_token
    for plan in ([(a, {"attend": "stay_away"}), (g, {"act": "experiment"})], [(a, {"view": 0.1})]):
        n = w.open_round(f)
        for p, payload in plan:
            w.submit(p.token, n, payload)
        w.close_round(f)
    branch = w.rewind(f, 1)
    w.redesign(f, theory="structural")
    n = w.open_round(f, months=3)
    w.submit(g.token, n, {"act": "mobilise"})
    w.close_round(f)
    return w, branch
