"""Run an experiment's runs on local processes or a Dask cluster, streaming each run into the store.

``coprod sweep EXPERIMENT [--db PATH] [--workers N] [--scheduler ADDRESS] [--retry-failed]``

- Executors: one worker runs in this process; more use a local process pool (forkserver, so that no
  thread-holding process is forked); ``--scheduler local`` starts a Dask ``LocalCluster`` (one thread per
  worker process); ``--scheduler tcp://host:8786`` sends the same tasks to a running Dask cluster, whose
  workers must have this package installed. Several runs travel in one task (a *bundle*), so that task
  overhead does not eat the cores.
- One writer: only this process writes, one transaction per run, as results come back. A run that raises
  is recorded ``failed`` with its traceback; one slower than the experiment's ``time_limit`` is recorded
  ``timed_out``; the sweep goes on.
- Resuming: running the same command again runs only the runs not yet recorded; ``--retry-failed`` runs
  only those recorded ``failed`` or ``timed_out``. The experiment's definition and the model's code version
  must match what the database already holds, or the sweep refuses (results never mix).
- Seeds come from the experiment (:func:`experiments.design.run_seed`), never from order or worker count.

Test-only fault hook: with the environment variable ``COPROD_FAULT_RUN_KEY=<text>`` set, every run whose
key contains ``<text>`` raises ``RuntimeError`` inside the worker. The tests use it to check that a failing
run is recorded and retried; it has no other use.

``coprod rerun --db PATH [--experiment NAME] RUN_KEY`` reruns one stored run from its stored parameters
and seed and says whether every stored output is reproduced exactly.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import sys
import time
import traceback
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model import OUTPUTS, Problem, Scenario, ScenarioError, code_version

FAULT_ENV = "COPROD_FAULT_RUN_KEY"
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


class RunTimedOut(Exception):
    """A run went past the experiment's time limit."""


def scenario_from_params(name: str, params: dict[str, Any]) -> Scenario:
    """Rebuild a scenario from its flat stored parameters (``Scenario.flat()``)."""
    nested: dict[str, dict[str, Any]] = {}
    for key, value in params.items():
        section, _, item = key.partition(".")
        nested.setdefault(section, {})[item] = value
    return Scenario.build({"name": name, **nested}, source=f"stored parameters of {name}")


def simulate_within(scenario: Scenario, seed: int, every: int, limit: float) -> list[dict[str, float]]:
    """:func:`model.simulate`, but stopping with :class:`RunTimedOut` once ``limit`` seconds have passed.

    It must give the same rows as ``simulate`` (a test checks it); the clock is read between steps.
    """
    from model import GovernanceModel

    start = time.perf_counter()
    steps = scenario.run.steps
    model = GovernanceModel(scenario, rng=seed)
    rows = [{"step": 0, **model.outputs}]
    for t in range(1, steps + 1):
        if time.perf_counter() - start > limit:
            raise RunTimedOut(f"time limit of {limit:g} s passed after {t - 1} of {steps} steps")
        model.step()
        if t % every == 0 or t == steps:
            rows.append({"step": t, **model.outputs})
    return rows


def execute(task: RunTask) -> RunResult:
    """Run one task; never raises for a fault of the run itself."""
    from model import simulate

    started = _now()
    clock = time.perf_counter()
    result = RunResult(task.run_key, "done", started=started, code_version=code_version())
    try:
        if task.fault and task.fault in task.run_key:
            raise RuntimeError(f"test-only fault injected by {FAULT_ENV}={task.fault!r}")
        scenario = scenario_from_params(task.scenario, task.params)
        if task.time_limit is None:
            result.rows = simulate(scenario, seed=task.seed, every=task.every)
        else:
            result.rows = simulate_within(scenario, task.seed, task.every, task.time_limit)
    except RunTimedOut as err:
        result.status, result.error = "timed_out", str(err)
    except Exception:
        result.status, result.error = "failed", traceback.format_exc()
    result.seconds = time.perf_counter() - clock
    return result


def run_bundle(tasks: list[RunTask]) -> list[RunResult]:
    """A worker's unit of work: several runs, one after another."""
    return [execute(task) for task in tasks]


def _worker_init(main_pid: int) -> None:
    """Local pool workers: leave Ctrl-C to the main process, and exit when the main process is gone.

    Without the watch, a main process killed outright (SIGKILL, out of memory) would leave its workers
    waiting forever: they hold the pool's queues open themselves.
    """
    import signal
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


def _local_pool(workers: int) -> Executor:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        # workers fork from a server that has already imported the model: no per-worker import cost
        context.set_forkserver_preload(["experiments.runner", "model"])
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_worker_init, initargs=(os.getpid(),)
    )


def _dask(scheduler: str, workers: int, stack: ExitStack) -> tuple[Executor, int]:
    import logging

    from distributed import Client, LocalCluster

    if scheduler == "local":
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
    """Run what ``experiment`` still needs into ``store``; see the module docstring."""
    out = out or sys.stdout
    clock = time.perf_counter()
    runs = experiment.runs
    definition = experiment.definition()
    version = code_version()
    _check_compatible(store, experiment.name, definition, version)
    store.record_experiment(experiment.name, definition, experiment.root_seed, version)

    recorded = store.statuses(experiment.name)
    if retry_failed:
        todo = [r for r in runs if recorded.get(r.key) in ("failed", "timed_out")]
    else:
        todo = [r for r in runs if r.key not in recorded]
    already = sum(r.key in recorded for r in runs)
    fault = os.environ.get(FAULT_ENV) or None
    tasks = [
        RunTask(r.key, r.base, r.params, r.seed, experiment.record_every, experiment.time_limit, fault)
        for r in todo
    ]

    where = "this process" if scheduler is None and workers == 1 else None
    with ExitStack() as stack:
        if not tasks:
            executor, slots = None, workers
        elif scheduler is not None:
            executor, slots = _dask(scheduler, workers, stack)
            where = f"Dask {'LocalCluster' if scheduler == 'local' else scheduler} ({slots} workers)"
        elif workers == 1:
            executor, slots = InlineExecutor(), 1
        else:
            executor, slots = _local_pool(workers), workers
            where = f"{workers} local processes"
        size = 1 if workers == 1 and scheduler is None else _bundle_size(len(tasks), slots)
        bundles = [tasks[i : i + size] for i in range(0, len(tasks), size)]
        print(
            f"{experiment.name}: {len(runs)} runs, {already} already recorded, running {len(tasks)}"
            + (" failed or timed out" if retry_failed else "")
            + (f" on {where} ({len(bundles)} task{'s' if len(bundles) > 1 else ''})" if tasks else "")
            + f" -> {store.path}",
            file=out,
            flush=True,
        )
        if tasks:
            try:
                _drive(executor, bundles, slots, store, experiment.name, runs, progress)
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
    from concurrent.futures import ProcessPoolExecutor

    if isinstance(executor, ProcessPoolExecutor):
        executor.shutdown(wait=False, cancel_futures=True)
    elif not isinstance(executor, InlineExecutor):
        executor.shutdown(wait=False)  # a Dask ClientExecutor: cancels what is left


def _bundle_size(n_tasks: int, slots: int) -> int:
    return max(1, min(MAX_BUNDLE, math.ceil(n_tasks / (slots * BUNDLES_PER_WORKER))))


def _drive(executor, bundles, slots, store, name, runs, progress) -> None:
    """Keep every worker busy, and write each run as its bundle comes back."""
    from tqdm import tqdm

    by_key = {r.key: r for r in runs}
    show = sys.stderr.isatty() if progress is None else progress
    pending = deque(bundles)
    in_flight: dict[Future, list[RunTask]] = {}
    with tqdm(total=sum(map(len, bundles)), unit="run", desc=name, disable=not show, file=sys.stderr) as bar:
        while pending or in_flight:
            while pending and len(in_flight) < 2 * slots:
                bundle = pending.popleft()
                in_flight[executor.submit(run_bundle, bundle)] = bundle
            finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in finished:
                bundle = in_flight.pop(future)
                try:
                    results = future.result()
                except BrokenProcessPool:
                    raise SweepAborted(
                        "a worker process died (out of memory?); the runs recorded so far are kept: "
                        "run the same command again to resume"
                    ) from None
                except Exception:
                    # the task itself was lost (a worker died, the cluster went away): the runs failed
                    error = traceback.format_exc()
                    results = [RunResult(t.run_key, "failed", error=error, started=_now()) for t in bundle]
                for result in results:
                    spec = by_key[result.run_key]
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
                    )
                    bar.update(1)


def _check_compatible(store, name: str, definition: dict, version: str) -> None:
    from experiments.store import StoreError

    existing = store.experiment(name)
    if existing is None:
        return
    if existing["definition"].get("fingerprint") != definition["fingerprint"]:
        raise StoreError(
            f"{store.path}: experiment {name!r} is already recorded there with a different definition "
            "(scenarios, factors, sampler, replications, seed or steps); write to another --db "
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
    from experiments.design import load_experiment
    from experiments.store import Store

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
    experiment = load_experiment(args.experiment)
    workers = args.workers or _cores()
    db = Path(args.db) if args.db else RESULTS_DIR / f"{experiment.name}.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    store = Store(db)
    try:
        report = sweep(
            experiment, store, workers=workers, scheduler=scheduler, retry_failed=args.retry_failed
        )
    except SweepAborted as err:
        print(f"{experiment.name}: {err}", file=sys.stderr)
        return 1
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


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return os.cpu_count() or 1


def main_rerun(args) -> int:
    """``coprod rerun``: 0 when the stored outputs are reproduced exactly, 1 when they differ."""
    from experiments.store import Store

    with Store.existing(args.db) as store:
        return _rerun(store, args)


def _rerun(store, args) -> int:
    from experiments.store import StoreError

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
    params = json.loads(row["params"])
    now = code_version()
    print(
        f"{experiment} / {key}: seed {row['seed']}, status {row['status']}, stored by {row['code_version']}"
    )
    if row["code_version"] != now:
        print(
            f"code version mismatch: the run was stored by {row['code_version']}, this code is {now}; "
            "a difference below may come from the code change, not from chance"
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
        return 0
    print(f"different: {len(differences)} stored values not reproduced; the first:")
    for step, name, a, b in differences[:10]:
        print(f"  step {step} {name}: stored {a!r}, now {b!r}")
    return 1


__all__ = [
    "FAULT_ENV",
    "RunResult",
    "RunTask",
    "SweepReport",
    "execute",
    "main_rerun",
    "main_sweep",
    "run_bundle",
    "scenario_from_params",
    "simulate_within",
    "sweep",
]
