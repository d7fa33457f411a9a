"""Drive a :class:`experiments.executors.LocalPool`: one run at a time to each worker process, time limits,
and worker processes that die.

The sweep's process waits on the workers' pipes and exit sentinels together, so it knows which run each
process holds. A local worker process that dies (SIGKILL, out of memory) takes only its own run with it,
recorded ``failed`` with the signal; a run that does not come back within the experiment's ``time_limit``
plus a grace is stopped by killing its process, recorded ``timed_out``; either way a fresh process takes
its place and the sweep goes on. Runs are sent one at a time (no bundles), which is what lets a killed or
stuck run take only itself down. If processes keep dying before any run finishes, the sweep stops
(:class:`SweepAborted`).
"""

from __future__ import annotations

import signal
import time
from collections import deque

from coprod.experiments.executors import LocalPool
from coprod.experiments.worker import RunResult, RunTask, now


class SweepAborted(Exception):
    """The executor broke down; what was recorded stays, and running again resumes."""


def drive_local(pool: LocalPool, tasks: list[RunTask], limit: float | None, record) -> None:
    """Local processes: hand out one run at a time, write each result, replace a process that died or
    overstayed the time limit (recording its run ``failed`` or ``timed_out``)."""
    from multiprocessing.connection import wait as wait_for

    pending = deque(tasks)
    hard = None if limit is None else limit + max(1.0, 0.1 * limit)
    deaths = 0  # in a row, with no run finished in between
    while pending or any(w.task for w in pool.workers):
        for worker in list(pool.workers):
            if worker.task is None and pending:
                task = pending.popleft()
                try:
                    worker.conn.send(task)
                except OSError:  # the process died while idle: not this run's fault
                    pending.appendleft(task)
                    pool.replace(worker)
                    continue
                worker.task, worker.started, worker.since = task, now(), time.monotonic()
        busy = [w for w in pool.workers if w.task is not None]
        timeout = None
        if hard is not None and busy:
            timeout = max(0.0, min(w.since for w in busy) + hard - time.monotonic())
        wait_for([w.conn for w in busy] + [w.process.sentinel for w in pool.workers], timeout)
        for worker in list(pool.workers):
            task, elapsed = worker.task, time.monotonic() - worker.since
            if task is not None and worker.conn.poll():
                try:
                    result = worker.conn.recv()
                except (EOFError, OSError):  # it died: its exit status comes below
                    worker.process.join(timeout=1)
                else:
                    worker.task, deaths = None, 0
                    record(result)
                    continue
            if not worker.process.is_alive():
                if task is not None:
                    deaths += 1
                    record(
                        RunResult(
                            task.run_key,
                            "failed",
                            error=_death(worker.process.exitcode),
                            started=worker.started,
                            seconds=elapsed,
                        )
                    )
                worker.task = None
                if deaths > 2 * len(pool.workers) + 2:
                    raise SweepAborted(
                        f"{deaths} worker processes in a row died before finishing a run "
                        f"({_death(worker.process.exitcode)}); the runs recorded so far are kept: "
                        "run the same command again to resume"
                    )
                pool.replace(worker)
            elif task is not None and hard is not None and elapsed > hard:
                record(
                    RunResult(
                        task.run_key,
                        "timed_out",
                        error=(
                            f"time limit of {limit:g} s passed: the run had not come back after "
                            f"{elapsed:.1f} s, so its worker process was stopped"
                        ),
                        started=worker.started,
                        seconds=elapsed,
                    )
                )
                worker.task = None
                pool.replace(worker)


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        why = "; out of memory?" if -exitcode == signal.SIGKILL else ""
        return f"the worker process running this run died (killed by {name}{why})"
    return f"the worker process running this run exited with status {exitcode} before it finished"


__all__ = ["SweepAborted", "drive_local"]
