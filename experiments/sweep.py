"""Run an experiment's runs on local processes or a Dask cluster, streaming each run into the store.

- Executors (:mod:`experiments.executors`): this process for one worker without a time limit, else
  :class:`~experiments.executors.LocalPool`'s worker processes, driven by :mod:`experiments.supervisor`, or
  Dask with ``scheduler``. On Dask several runs travel in one task (a *bundle*), so that task overhead does
  not eat the cores; the local pool sends runs one at a time.
- One writer: only this process writes, one transaction per run, as results come back. A run that raises
  is recorded ``failed`` with its traceback; one slower than the experiment's ``time_limit`` is recorded
  ``timed_out`` (checked between steps; on local processes a run that does not come back within the limit
  plus a grace is stopped by killing its process, which is replaced); a local worker process that dies
  (SIGKILL, out of memory) takes only its own run with it, recorded ``failed`` with the signal; the sweep
  goes on. On Dask a lost worker's tasks are retried by Dask, then recorded ``failed``; the time limit is
  only checked between steps there.
- A write that fails (disk full, database locked) stops the sweep (:class:`SweepAborted`; exit status 1
  and a message from ``coprod sweep``); the runs recorded before are whole, and running the same command
  again resumes.
- Resuming: running the same command again runs only the runs not yet recorded; ``retry_failed`` runs
  only those recorded ``failed`` or ``timed_out``. The experiment's definition and the model's code version
  must match what the database already holds, or the sweep refuses (:func:`check_compatible`; results
  never mix); :mod:`experiments.stale` sets such a database aside.
- Seeds come from the experiment (:func:`experiments.design.run_seed`), never from order or worker count.
"""

from __future__ import annotations

import math
import sys
import time
import traceback
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from coprod.experiments import faults
from coprod.experiments.executors import InlineExecutor, LocalPool, dask_executor
from coprod.experiments.store import StoreWriteError
from coprod.experiments.supervisor import SweepAborted, drive_local
from coprod.experiments.worker import RunResult, RunTask, now, run_bundle
from coprod.model import code_version

MAX_BUNDLE = 8  # runs per task at most: keeps progress and resumption fine-grained
BUNDLES_PER_WORKER = 4  # tasks per worker at least, so that the cores stay busy to the end


@dataclass
class SweepReport:
    experiment: str
    db: Path
    planned: int
    ran: int
    counts: dict[str, int]
    seconds: float
    failures: list[tuple[str, str, str]]
    # of ``seconds``: starting the worker processes or connecting to the cluster (None: run in this process)
    startup: float | None = None

    @property
    def complete(self) -> bool:
        return self.counts.get("done", 0) == self.planned


def sweep(
    experiment,
    store,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    retry_failed: bool = False,
    progress: bool | None = None,
    out=None,
) -> SweepReport:
    """Run what ``experiment`` still needs into ``store``; see the module docstring. ``progress``: a tqdm
    bar on stderr (True), nothing (False), or by default the bar where stderr is a terminal and otherwise
    a line on ``out`` every 5% with the time elapsed and left (:mod:`experiments.report_progress`)."""
    out = out or sys.stdout
    clock = time.perf_counter()
    runs = experiment.runs
    definition = experiment.definition()
    version = code_version()
    check_compatible(store, experiment.name, definition, version)

    recorded = store.statuses(experiment.name)
    if retry_failed:
        todo = [r for r in runs if recorded.get(r.key) in ("failed", "timed_out")]
    else:
        todo = [r for r in runs if r.key not in recorded]
    already = sum(r.key in recorded for r in runs)
    hooks = faults.from_environment()
    limit = experiment.time_limit
    tasks = [RunTask(r.key, r.base, r.params, r.seed, experiment.record_every, limit, **hooks) for r in todo]

    inline = scheduler is None and workers == 1 and limit is None
    if scheduler in (None, "local"):  # never more local processes than runs to do
        workers = max(1, min(workers, len(tasks)))
    with ExitStack() as stack:
        executor = pool = None
        started = time.perf_counter()
        if not tasks:
            where = ""
        elif scheduler is not None:
            executor, slots = dask_executor(scheduler, workers, stack)
            size = _bundle_size(len(tasks), slots)
            bundles = [tasks[i : i + size] for i in range(0, len(tasks), size)]
            where = (
                f" on Dask {'LocalCluster' if scheduler == 'local' else scheduler} ({slots} workers)"
                f" ({len(bundles)} task{'s' if len(bundles) > 1 else ''})"
            )
        elif inline:
            executor, slots, bundles = InlineExecutor(), 1, [[t] for t in tasks]
            where = " on this process"
        else:
            pool = LocalPool(workers)
            stack.callback(pool.close)
            where = f" on {workers} local process{'es' if workers > 1 else ''}"
        startup = None if not tasks or inline else time.perf_counter() - started
        # recorded once the workers are there: a scheduler that cannot be reached leaves the file as it was
        try:
            store.record_experiment(experiment.name, definition, experiment.root_seed, version)
        except StoreWriteError as err:
            raise _write_failed(err) from None
        print(
            f"{experiment.name}: {len(runs)} runs, {already} already recorded, running {len(tasks)}"
            + (" failed or timed out" if retry_failed else "")
            + where
            + f" -> {store.path}",
            file=out,
            flush=True,
        )
        if tasks:
            from tqdm import tqdm

            show = sys.stderr.isatty() if progress is None else progress
            bar = stack.enter_context(
                tqdm(total=len(tasks), unit="run", desc=experiment.name, disable=not show, file=sys.stderr)
            )
            if not show and progress is None:  # no terminal to draw a bar on: a line every few percent
                from coprod.experiments.report_progress import ProgressLines

                bar = ProgressLines(experiment.name, len(tasks), out)
            record = _recorder(store, experiment.name, runs, bar)
            if pool is not None:
                drive_local(pool, tasks, limit, record)
            else:
                try:
                    _drive(executor, bundles, slots, record)
                finally:
                    _stop(executor)

    statuses = store.statuses(experiment.name)
    keys = {r.key for r in runs}
    counts: dict[str, int] = {}
    for key, status in statuses.items():
        if key in keys:
            counts[status] = counts.get(status, 0) + 1
    counts["missing"] = len(keys - set(statuses))
    failures = [
        (row["run_key"], row["status"], row["error"])
        for row in store.runs_of(experiment.name)
        if row["status"] != "done" and row["run_key"] in keys
    ]
    return SweepReport(
        experiment.name,
        store.path,
        len(runs),
        len(tasks),
        counts,
        time.perf_counter() - clock,
        failures,
        startup,
    )


def _stop(executor: Executor) -> None:
    if not isinstance(executor, InlineExecutor):
        executor.shutdown(wait=False)  # a Dask ClientExecutor: cancels what is left


def _bundle_size(n_tasks: int, slots: int) -> int:
    return max(1, min(MAX_BUNDLE, math.ceil(n_tasks / (slots * BUNDLES_PER_WORKER))))


def _recorder(store, name: str, runs, bar):
    """``record(result)``: write one run (one transaction) and move the progress bar on.

    Results from different code never mix: a run computed by other model code (a cluster worker with
    another version installed) is recorded ``failed``, with no outputs and a message naming both versions,
    so the sweep ends with exit status 1 and ``--retry-failed`` reruns it once the workers match."""
    by_key = {r.key: r for r in runs}
    here = code_version()

    def record(result: RunResult) -> None:
        spec = by_key[result.run_key]
        status, rows, error = result.status, result.rows, result.error
        if result.code_version and result.code_version != here:
            status, rows = "failed", []
            error = (
                f"results from different code never mix: its worker runs model code {result.code_version}, "
                f"this coordinator {here}; install the same commit on every worker, then run again with "
                "--retry-failed"
            )
        try:
            store.record_run(
                experiment=name,
                run_key=result.run_key,
                scenario=spec.base,
                params=spec.params,
                seed=spec.seed,
                code_version=here,
                status=status,
                rows=rows,
                error=error,
                started=result.started,
                seconds=result.seconds,
                sample=spec.sample,
                replication=spec.replication,
            )
        except StoreWriteError as err:
            raise _write_failed(err) from None
        bar.update(1)

    return record


def _write_failed(err: Exception) -> SweepAborted:
    return SweepAborted(f"{err}, then run the same command again to resume")


def _drive(executor, bundles, slots, record) -> None:
    """Dask or this process: keep every worker busy, and write each run as its bundle comes back."""
    pending = deque(bundles)
    in_flight: dict[Future, list[RunTask]] = {}
    while pending or in_flight:
        while pending and len(in_flight) < 2 * slots:
            bundle = pending.popleft()
            in_flight[executor.submit(run_bundle, bundle)] = bundle
        finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
        for future in finished:
            bundle = in_flight.pop(future)
            try:
                results = future.result()
            except Exception:
                # the task itself was lost (Dask gave up on a worker that kept dying): its runs failed
                error = traceback.format_exc()
                results = [RunResult(t.run_key, "failed", error=error, started=now()) for t in bundle]
            for result in results:
                record(result)


def check_compatible(store, name: str, definition: dict, version: str) -> None:
    """Refuse (``StoreError``) a store that holds experiment ``name`` with another definition, or runs of
    it from other model code: results never mix."""
    from coprod.experiments.store import StoreError

    existing = store.experiment(name)
    if existing is None:
        return
    if existing["definition"].get("fingerprint") != definition["fingerprint"]:
        raise StoreError(
            f"{store.path}: experiment {name!r} is already recorded there with a different definition "
            "(scenarios, city, factors, sampler, replications, seed or steps); write to another --db "
            "or give the experiment a new name"
        )
    versions = {r["code_version"] for r in store.runs_of(name, "done")}
    if versions - {version}:
        raise StoreError(
            f"{store.path}: experiment {name!r} has runs from model code version "
            f"{', '.join(sorted(versions - {version}))}, this is {version}; results from different code "
            "never mix: write to another --db or delete the file"
        )


__all__ = ["SweepAborted", "SweepReport", "check_compatible", "sweep"]
