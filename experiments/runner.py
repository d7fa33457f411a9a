"""Run an experiment's runs on local processes or a Dask cluster, streaming each run into the store.

``coprod sweep EXPERIMENT [--db PATH] [--workers N] [--scheduler ADDRESS] [--retry-failed]``

- Executors: one worker runs in this process (unless the experiment has a ``time_limit``: then one worker
  process, so that a stuck run can be stopped); more use :class:`LocalPool`, worker processes started by a
  forkserver (so that no thread-holding process is forked), one run at a time each, watched by this
  process; ``--scheduler local`` starts a Dask ``LocalCluster`` (one thread per worker process, workers
  forked from a server that has imported the model);
  ``--scheduler tcp://host:8786`` sends the runs to a running Dask cluster, whose workers must have this
  package installed. On Dask several runs travel in one task (a *bundle*), so that task overhead does not
  eat the cores.
- One writer: only this process writes, one transaction per run, as results come back. A run that raises
  is recorded ``failed`` with its traceback; one slower than the experiment's ``time_limit`` is recorded
  ``timed_out`` (checked between steps; on local processes a run that does not come back within the limit
  plus a grace is stopped by killing its process, which is replaced); a local worker process that dies
  (SIGKILL, out of memory) takes only its own run with it, recorded ``failed`` with the signal; the sweep
  goes on. On Dask a lost worker's tasks are retried by Dask, then recorded ``failed``; the time limit is
  only checked between steps there.
- A write that fails (disk full, database locked) stops the sweep with exit status 1 and a message; the
  runs recorded before are whole, and running the same command again resumes.
- Resuming: running the same command again runs only the runs not yet recorded; ``--retry-failed`` runs
  only those recorded ``failed`` or ``timed_out``. The experiment's definition and the model's code version
  must match what the database already holds, or the sweep refuses (results never mix); with
  ``--set-aside-stale`` such a database is renamed ``NAME.<its code version>.db`` (kept, never deleted) and
  the sweep starts a new one, which is what ``make run`` does after the model changed.
- Bundles: on the local pool each worker process lives for the whole sweep (started once, from a server
  that has already imported the model), so a run costs one message each way and no start-up; runs are
  therefore sent one at a time, which also lets a killed or stuck run take only itself down. Bundling is
  used on Dask, where each task has scheduler overhead.
- Seeds come from the experiment (:func:`experiments.design.run_seed`), never from order or worker count.

Test-only fault hooks, read by the sweep from the environment and applied inside the worker to every run
whose key contains ``<text>``; the tests use them to check what a sweep does under faults, they have no
other use:

- ``COPROD_FAULT_RUN_KEY=<text>``: the run raises ``RuntimeError``;
- ``COPROD_FAULT_KILL_RUN_KEY=<text>``: the process running the run kills itself with SIGKILL (as the
  out-of-memory killer would; with one worker and no time limit that process is the sweep itself);
- ``COPROD_FAULT_HANG_RUN_KEY=<text>``: the run sleeps for ever (as a run stuck inside a step would).

``coprod rerun --db PATH [--experiment NAME] RUN_KEY`` reruns one stored run from its stored parameters
and seed and says whether every stored output is reproduced exactly.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import signal
import sys
import time
import traceback
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coprod.experiments.store import StoreWriteError
from coprod.model import OUTPUTS, Problem, Scenario, ScenarioError, code_version

FAULT_ENV = "COPROD_FAULT_RUN_KEY"
KILL_ENV = "COPROD_FAULT_KILL_RUN_KEY"
HANG_ENV = "COPROD_FAULT_HANG_RUN_KEY"
_FAULTS = {"fault": FAULT_ENV, "kill": KILL_ENV, "hang": HANG_ENV}
RESULTS_DIR = Path("results")
MAX_BUNDLE = 8  # runs per task at most: keeps progress and resumption fine-grained
BUNDLES_PER_WORKER = 4  # tasks per worker at least, so that the cores stay busy to the end


# --------------------------------------------------------------------------------------- the worker


@dataclass(frozen=True)
class RunTask:
    """What a worker needs for one run: plain data, so it pickles for any executor."""

    run_key: str
    scenario: str
    params: dict[str, Any]
    seed: int
    every: int
    time_limit: float | None = None
    fault: str | None = None
    kill: str | None = None
    hang: str | None = None


@dataclass
class RunResult:
    run_key: str
    status: str
    rows: list[dict[str, float]] = field(default_factory=list)
    error: str = ""
    started: str = ""
    seconds: float = 0.0
    code_version: str = ""


class SweepAborted(Exception):
    """The executor broke down; what was recorded stays, and running again resumes."""


def scenario_from_params(name: str, params: dict[str, Any]) -> Scenario:
    """Rebuild a scenario from its flat stored parameters (``Scenario.flat()``)."""
    nested: dict[str, dict[str, Any]] = {}
    for key, value in params.items():
        section, _, item = key.partition(".")
        nested.setdefault(section, {})[item] = value
    return Scenario.build({"name": name, **nested}, source=f"stored parameters of {name}")


def execute(task: RunTask) -> RunResult:
    """Run one task; never raises for a fault of the run itself."""
    from coprod.model.simulate import TimeLimitExceeded, simulate

    started = _now()
    clock = time.perf_counter()
    result = RunResult(task.run_key, "done", started=started, code_version=code_version())
    if task.kill and task.kill in task.run_key:
        os.kill(os.getpid(), signal.SIGKILL)
    while task.hang and task.hang in task.run_key:
        time.sleep(3600)
    try:
        if task.fault and task.fault in task.run_key:
            raise RuntimeError(f"test-only fault injected by {FAULT_ENV}={task.fault!r}")
        scenario = scenario_from_params(task.scenario, task.params)
        result.rows = simulate(scenario, seed=task.seed, every=task.every, time_limit=task.time_limit)
    except TimeLimitExceeded as err:
        result.status, result.error = "timed_out", str(err)
    except Exception:
        result.status, result.error = "failed", traceback.format_exc()
    result.seconds = time.perf_counter() - clock
    return result


def run_bundle(tasks: list[RunTask]) -> list[RunResult]:
    """A worker's unit of work: several runs, one after another."""
    return [execute(task) for task in tasks]


def _serve(conn, main_pid: int) -> None:
    """A local worker process: run each task that comes down the pipe and send its result back."""
    _worker_init(main_pid)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        result = execute(task)
        try:
            conn.send(result)
        except OSError:
            return


def _worker_init(main_pid: int) -> None:
    """Local workers: leave Ctrl-C to the main process, and exit when the main process is gone.

    Without the watch, a main process killed outright (SIGKILL, out of memory) would leave a worker in a
    long run running on for nothing.
    """
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while _alive(main_pid):
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="main-process-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed process stays a zombie until its parent reaps it
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


# ---------------------------------------------------------------------------------------- executors


class InlineExecutor(Executor):
    """Runs each task at once in this process (one worker: nothing to start, easiest to debug)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as err:
            future.set_exception(err)
        return future


@dataclass
class _Worker:
    process: Any
    conn: Any
    task: RunTask | None = None
    started: str = ""
    since: float = 0.0


class LocalPool:
    """Worker processes on this machine, one run at a time each, watched by the coordinator.

    Unlike a ``ProcessPoolExecutor``, whose pending tasks all fail once any of its workers dies, the
    coordinator knows which run each process holds: a process that dies takes only its own run with it,
    and a process whose run overstays the time limit can be killed without touching the others. Either
    way the process is replaced and the sweep goes on.
    """

    def __init__(self, size: int):
        import multiprocessing

        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        self.context = multiprocessing.get_context(method)
        if method == "forkserver":
            # workers fork from a server that has already imported the model: no per-worker import cost
            self.context.set_forkserver_preload(["coprod.experiments.runner", "coprod.model"])
        self.workers: list[_Worker] = []
        for _ in range(size):
            self.workers.append(self._start())

    def _start(self) -> _Worker:
        parent, child = self.context.Pipe()
        process = self.context.Process(
            target=_serve, args=(child, os.getpid()), name="coprod-worker", daemon=True
        )
        process.start()
        child.close()
        return _Worker(process, parent)

    def replace(self, worker: _Worker) -> None:
        """Stop ``worker`` (killing it if it still runs) and start a fresh process in its place."""
        self._end(worker, kill=True)
        self.workers[self.workers.index(worker)] = self._start()

    def close(self) -> None:
        """Let idle workers leave, and kill any that still hold a run (on an abort or Ctrl-C)."""
        for worker in self.workers:
            if worker.task is None:
                with suppress(OSError):
                    worker.conn.send(None)
        for worker in self.workers:
            self._end(worker, kill=worker.task is not None)

    @staticmethod
    def _end(worker: _Worker, *, kill: bool) -> None:
        if kill and worker.process.is_alive():
            worker.process.kill()
        worker.process.join(timeout=5)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.conn.close()


def _local_cluster_settings() -> dict:
    """Dask settings for the LocalCluster this process starts (a remote cluster keeps its own).

    - Dask's statistical profiler samples every worker thread's stack every 10 ms under the GIL, and no one
      reads it here (there is no dashboard): CPU that the runs need on a small machine.
    - Workers are forked from a server that has already imported the model, as the local pool's are,
      instead of each being spawned fresh and importing it on its first task (about 2 s of CPU per worker
      on the 2-core machine of the benchmarks, README "Performance").
    - Dask's nannies set ``MALLOC_TRIM_THRESHOLD_=65536`` for their workers, so that long-lived workers hand
      memory back to the system; setting it also stops glibc's mmap threshold from adapting (mallopt(3)),
      and the model's many short-lived arrays then cost system calls: local-pool runs with that variable
      took 10% longer (0.310 -> 0.344, 0.321 -> 0.356, 0.338 -> 0.372 s a run, compare-designs runs,
      interleaved). A sweep's runs are short and small, so the variable is left out (the thread limits of
      the same setting stay).
    """
    import multiprocessing

    import dask

    settings: dict = {
        "distributed.worker.profile.enabled": False,
        "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,  # None: not set at all
    }
    if "forkserver" in multiprocessing.get_all_start_methods():
        settings["distributed.worker.multiprocessing-method"] = "forkserver"
        with dask.config.set(settings):
            from distributed.utils import get_mp_context

            preload = ["distributed", "coprod.experiments.runner", "coprod.model"]
            get_mp_context().set_forkserver_preload(preload)
    return settings


def _dask(scheduler: str, workers: int, stack: ExitStack) -> tuple[Executor, int]:
    import logging

    import dask
    from distributed import Client, LocalCluster

    if scheduler == "local":
        stack.enter_context(dask.config.set(_local_cluster_settings()))
        cluster = stack.enter_context(
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                # the scheduler's HTTP endpoints still bind a port: any free one, never a fixed 8787
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                silence_logs=logging.CRITICAL,
            )
        )
        client = stack.enter_context(Client(cluster))
    else:
        try:
            client = stack.enter_context(Client(scheduler, timeout="15s"))
        except (OSError, TimeoutError) as err:
            raise ScenarioError(
                [Problem("--scheduler", f"cannot reach the Dask scheduler ({err})", scheduler)],
                "command line",
            ) from None
    slots = sum(client.nthreads().values()) or workers
    return client.get_executor(pure=False), slots


# -------------------------------------------------------------------------------------------- sweep


@dataclass
class SweepReport:
    experiment: str
    db: Path
    planned: int
    ran: int
    counts: dict[str, int]
    seconds: float
    failures: list[tuple[str, str, str]]

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
    _check_compatible(store, experiment.name, definition, version)

    recorded = store.statuses(experiment.name)
    if retry_failed:
        todo = [r for r in runs if recorded.get(r.key) in ("failed", "timed_out")]
    else:
        todo = [r for r in runs if r.key not in recorded]
    already = sum(r.key in recorded for r in runs)
    faults = {name: os.environ.get(env) or None for name, env in _FAULTS.items()}
    limit = experiment.time_limit
    tasks = [RunTask(r.key, r.base, r.params, r.seed, experiment.record_every, limit, **faults) for r in todo]

    inline = scheduler is None and workers == 1 and limit is None
    if scheduler in (None, "local"):  # never more local processes than runs to do
        workers = max(1, min(workers, len(tasks)))
    with ExitStack() as stack:
        executor = pool = None
        if not tasks:
            where = ""
        elif scheduler is not None:
            executor, slots = _dask(scheduler, workers, stack)
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
                _drive_local(pool, tasks, limit, record)
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
        experiment.name, store.path, len(runs), len(tasks), counts, time.perf_counter() - clock, failures
    )


def _stop(executor: Executor) -> None:
    if not isinstance(executor, InlineExecutor):
        executor.shutdown(wait=False)  # a Dask ClientExecutor: cancels what is left


def _bundle_size(n_tasks: int, slots: int) -> int:
    return max(1, min(MAX_BUNDLE, math.ceil(n_tasks / (slots * BUNDLES_PER_WORKER))))


def _recorder(store, name: str, runs, bar):
    """``record(result)``: write one run (one transaction) and move the progress bar on."""
    by_key = {r.key: r for r in runs}

    def record(result: RunResult) -> None:
        spec = by_key[result.run_key]
        try:
            store.record_run(
                experiment=name,
                run_key=result.run_key,
                scenario=spec.base,
                params=spec.params,
                seed=spec.seed,
                code_version=result.code_version or code_version(),
                status=result.status,
                rows=result.rows,
                error=result.error,
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
                results = [RunResult(t.run_key, "failed", error=error, started=_now()) for t in bundle]
            for result in results:
                record(result)


def _drive_local(pool: LocalPool, tasks: list[RunTask], limit: float | None, record) -> None:
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
                worker.task, worker.started, worker.since = task, _now(), time.monotonic()
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


def _check_compatible(store, name: str, definition: dict, version: str) -> None:
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


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


# --------------------------------------------------------------------------------------- entry points


def main_sweep(args) -> int:
    """``coprod sweep``: 0 when every run is done, 1 when some failed or timed out."""
    from coprod.experiments.design import load_experiment
    from coprod.experiments.store import Store, StoreError, StoreFault

    problems = []
    if args.workers is not None and args.workers < 1:
        problems.append(Problem("--workers", "must be at least 1", args.workers, "1 or more"))
    scheduler = args.scheduler
    if scheduler is not None and scheduler != "local" and "://" not in scheduler and ":" not in scheduler:
        problems.append(
            Problem("--scheduler", "not a scheduler address", scheduler, "'local' or tcp://host:port")
        )
    if problems:
        raise ScenarioError(problems, "command line")
    experiment = load_experiment(args.experiment, city=getattr(args, "city", None))
    workers = args.workers or _cores()
    if scheduler is None or scheduler == "local":  # a remote cluster's memory is not this machine's
        workers = _fit_in_memory(experiment, workers, getattr(args, "allow_large", False))
    if args.workers is not None and args.workers > _cores() and scheduler in (None, "local"):
        print(
            f"warning: --workers {args.workers} is more than the {_cores()} cores here; the runs will "
            "compete for them (at most one process per run is started)",
            file=sys.stderr,
        )
    db = Path(args.db) if args.db else RESULTS_DIR / f"{experiment.name}.db"
    if getattr(args, "set_aside_stale", False):
        _set_aside_if_stale(db, experiment)
    made = [d for d in (*reversed(db.parents), db) if not d.exists()]
    try:
        store = Store(db)
    except (StoreError, StoreFault):  # nothing recorded: leave no folder behind either
        _remove_made(made)
        raise
    try:
        report = sweep(
            experiment, store, workers=workers, scheduler=scheduler, retry_failed=args.retry_failed
        )
    except SweepAborted as err:  # an operational fault (disk full, workers dying), not bad input
        print(f"{experiment.name}: {err}", file=sys.stderr)
        return 1
    except ScenarioError:  # found before any run (an unreachable scheduler): leave nothing behind
        store.close()
        _remove_made(made)
        raise
    except KeyboardInterrupt:
        print(
            f"{experiment.name}: the runs recorded so far are kept; run the same command again to resume",
            file=sys.stderr,
        )
        raise
    finally:
        store.close()
    counts = report.counts
    print(
        f"{report.experiment}: {counts.get('done', 0)} of {report.planned} runs done, "
        f"{counts.get('failed', 0)} failed, {counts.get('timed_out', 0)} timed out, "
        f"{counts['missing']} not run; {report.ran} run now in {report.seconds:.1f} s; database {report.db}"
    )
    for key, status, error in report.failures[:5]:
        last = error.strip().splitlines()[-1] if error.strip() else status
        print(f"  {status}: {key}: {last}", file=sys.stderr)
    if report.failures:
        print(
            f"  {len(report.failures)} runs not done; the error column of the runs table has the full "
            "traceback; rerun them with --retry-failed",
            file=sys.stderr,
        )
    return 0 if report.complete else 1


def _fit_in_memory(experiment, workers: int, allow_large: bool) -> int:
    """Refuse an experiment whose largest run would not fit in memory here (a warning with
    --allow-large), and start no more workers than the memory holds at once."""
    from coprod.model.footprint import USABLE_SHARE, available_memory, estimate, fit_problems, size

    runs = experiment.runs
    if not runs:
        return workers
    biggest = max(runs, key=lambda r: estimate(r.params).memory)
    available = available_memory()
    problems = [
        Problem(key, f"{what}, in run {biggest.key}", got, allowed)
        for key, what, got, allowed in fit_problems(biggest.params, available)
    ]
    if problems and not allow_large:
        raise ScenarioError(problems, experiment.source)
    for p in problems:
        print(f"warning: {p.render(experiment.source)}", file=sys.stderr)
    each = estimate(biggest.params).memory
    most = max(1, int(USABLE_SHARE * available // each))
    wanted = min(workers, len(runs))  # never more local processes than runs: see sweep()
    if wanted > most:
        print(
            f"warning: {wanted} workers would need {size(wanted * each)} of memory at once (about "
            f"{size(each)} each); starting {most}",
            file=sys.stderr,
        )
        return most
    return workers


def _set_aside_if_stale(db: Path, experiment) -> None:
    """Rename ``db`` to ``NAME.<code version>.db`` if it holds ``experiment`` from other code or setup."""
    from coprod.experiments.store import Store, StoreError

    if not db.is_file():
        return
    with Store.existing(db) as store:
        try:
            _check_compatible(store, experiment.name, experiment.definition(), code_version())
            return
        except StoreError:
            versions = sorted({r["code_version"] for r in store.runs_of(experiment.name, "done")})
    tag = (versions[-1] if len(versions) == 1 else time.strftime("%Y%m%dT%H%M%S")).replace("+", "-")
    target = db.with_name(f"{db.stem}.{tag}{db.suffix}")
    n = 1
    while target.exists():
        n += 1
        target = db.with_name(f"{db.stem}.{tag}-{n}{db.suffix}")
    for suffix in ("-wal", "-shm", ""):  # a write-ahead log left by another connection goes with it
        extra = db.with_name(db.name + suffix)
        if extra.exists():
            extra.rename(target.with_name(target.name + suffix))
    print(
        f"{db}: held {experiment.name!r} from other model code or another definition; "
        f"kept as {target}, starting a new database",
        file=sys.stderr,
    )


def _remove_made(made: list[Path]) -> None:
    """Remove the files and folders a sweep made before it stopped on bad input."""
    for path in reversed(made):
        for extra in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if extra.is_file():
                extra.unlink()
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return os.cpu_count() or 1


def main_rerun(args) -> int:
    """``coprod rerun``: 0 when the stored outputs are reproduced exactly, 1 when they differ."""
    from coprod.experiments.store import Store

    with Store.existing(args.db) as store:
        return _rerun(store, args)


def _rerun(store, args) -> int:
    from coprod.experiments.store import StoreError, scenario_hash

    key = args.run_key
    experiment = args.experiment
    if experiment is None:
        found = store.experiments_with_run(key)
        if len(found) > 1:
            raise StoreError(
                f"{args.db}: run {key!r} is in experiments {', '.join(found)}; pass --experiment"
            )
        experiment = found[0] if found else None
    row = store.run(experiment, key) if experiment else None
    if row is None:
        keys = store.keys(experiment) if experiment else {r["run_key"] for r in store.db["runs"].rows}
        guess = difflib.get_close_matches(key, sorted(keys), n=1, cutoff=0.5)
        hint = f"; did you mean {guess[0]}?" if guess else ""
        where = f" in experiment {experiment!r}" if experiment else ""
        raise StoreError(f"{args.db}: no run {key!r}{where}{hint}")
    stored = store.steps(experiment, key)
    try:
        params = json.loads(row["params"])
    except (TypeError, ValueError):
        params = None
    if not isinstance(params, dict):
        raise StoreError(f"{args.db}: run {key!r}: its stored parameters are not a JSON object")
    now = code_version()
    print(
        f"{experiment} / {key}: seed {row['seed']}, status {row['status']}, stored by {row['code_version']}"
    )
    if row["code_version"] != now:
        print(
            f"code version mismatch: the run was stored by {row['code_version']}, this code is {now}; "
            "a difference below may come from the code change, not from chance"
        )
    edited = row["scenario_hash"] != scenario_hash(params)
    if edited:
        print(
            f"scenario hash mismatch: the stored parameters hash to {scenario_hash(params)}, the run "
            f"recorded {row['scenario_hash']}: they were changed after the run"
        )
    result = execute(RunTask(key, row["scenario"], params, row["seed"], every=1))
    if result.status != "done":
        print(f"different: the rerun {result.status}:\n{result.error}")
        return 1
    if not stored:
        print(
            f"different: nothing stored to compare with (stored status {row['status']}); the rerun finished"
        )
        return 1
    fresh = {r["step"]: r for r in result.rows}
    differences = []
    for old in stored:
        new = fresh.get(old["step"])
        if new is None:
            differences.append((old["step"], "step", "stored", "missing"))
            continue
        for name in OUTPUTS:
            a, b = old[name], new[name]
            if not (a == b or (a is None and b != b)):  # SQLite stores NaN as NULL
                differences.append((old["step"], name, a, b))
    if not differences:
        print(f"identical: {len(stored)} stored steps x {len(OUTPUTS)} outputs reproduced exactly")
        return 1 if edited else 0
    print(f"different: {len(differences)} stored values not reproduced; the first:")
    for step, name, a, b in differences[:10]:
        print(f"  step {step} {name}: stored {a!r}, now {b!r}")
    return 1


__all__ = [
    "FAULT_ENV",
    "HANG_ENV",
    "KILL_ENV",
    "LocalPool",
    "RunResult",
    "RunTask",
    "SweepReport",
    "execute",
    "main_rerun",
    "main_sweep",
    "run_bundle",
    "scenario_from_params",
    "sweep",
]
