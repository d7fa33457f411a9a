"""The ``coprod sweep`` and ``coprod rerun`` commands: check the options, run, and print what happened.

``coprod sweep EXPERIMENT [--db PATH] [--workers N] [--scheduler ADDRESS] [--retry-failed] [--city NAME]
[--set-aside-stale] [--allow-large]`` runs what the experiment still needs into its database
(:func:`experiments.sweep.sweep`), on all the cores here by default, with no more local workers than the
memory holds for the experiment's largest run; exit status 0 when every run is done, 1 when some failed or
timed out or the sweep stopped (the runs recorded so far are kept: running the same command again
resumes), 2 on bad input, with nothing left behind.

``coprod rerun --db PATH [--experiment NAME] RUN_KEY`` reruns one stored run from its stored parameters
and seed and says whether every stored output is reproduced exactly.
"""

from __future__ import annotations

import difflib
import json
import sys
from pathlib import Path

from coprod.experiments.executors import cores
from coprod.experiments.stale import set_aside_if_stale
from coprod.experiments.sweep import SweepAborted, sweep
from coprod.experiments.worker import RunTask, execute
from coprod.model import OUTPUTS, Problem, ScenarioError, code_version

RESULTS_DIR = Path("results")


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
    workers = args.workers or cores()
    if scheduler is None or scheduler == "local":  # a remote cluster's memory is not this machine's
        workers = _fit_in_memory(experiment, workers, getattr(args, "allow_large", False))
    if args.workers is not None and args.workers > cores() and scheduler in (None, "local"):
        print(
            f"warning: --workers {args.workers} is more than the {cores()} cores here; the runs will "
            "compete for them (at most one process per run is started)",
            file=sys.stderr,
        )
    db = Path(args.db) if args.db else RESULTS_DIR / f"{experiment.name}.db"
    if getattr(args, "set_aside_stale", False):
        set_aside_if_stale(db, experiment)
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
        f"{counts['missing']} not run; {report.ran} run now in {report.seconds:.1f} s"
        + (f" ({report.startup:.1f} s of it starting the workers)" if report.startup is not None else "")
        + f"; database {report.db}"
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


def _remove_made(made: list[Path]) -> None:
    """Remove the files and folders a sweep made before it stopped on bad input."""
    for path in reversed(made):
        for extra in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if extra.is_file():
                extra.unlink()
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()


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


__all__ = ["main_rerun", "main_sweep"]
