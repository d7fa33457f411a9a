"""``coprod analyze --db PATH [--experiment NAME | --workshop ID] [--out DIR]``: the report of every chosen
experiment, or of one workshop, written and summed up on the terminal.

Every chosen experiment (all of them without ``--experiment``) is read, checked and prepared in memory
(:func:`experiments.report.prepare`), every target is checked, and only then is anything written: a file
that is refused anywhere leaves nothing written. Each file is written inside the output folder (``--out``,
or ``results/``; one folder per experiment, under a safe name, when there are several), never through a
link (:mod:`experiments.untrusted`). A value in the file that is not what it must be is one line and exit 2
(:class:`experiments.store.StoreError`); the terminal shows each experiment's ranked summary (a grid
experiment) or its summary and sensitivity tables, its notes, and where the report was written.

``--workshop ID`` reads the file's workshop tables instead (:mod:`coprod.workshop.report`: workshop.md,
branches.csv, choices.csv, markers.png), into ``--out`` or ``results/workshop_<ID>/``, by the same rule:
prepared in memory, targets checked, then written.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

from coprod.experiments.report import Analysis, Prepared, prepare
from coprod.experiments.store import Store, StoreError
from coprod.experiments.stored_runs import RESULTS_DIR, _reading
from coprod.experiments.untrusted import check_targets, plain, safe_name, shown, text, write_files


def main_analyze(args) -> int:
    """``coprod analyze``: print each summary table and the paths of the report and the database."""
    if getattr(args, "workshop", None) is not None:
        if args.experiment is not None:
            raise StoreError(
                f"{args.db}: --experiment {shown(args.experiment)} and --workshop {shown(args.workshop)}: "
                "a report is of one or the other; give one"
            )
        return _analyze_workshop(args)
    with Store.existing(args.db) as store:
        return _analyze_all(store, args)


def _analyze_workshop(args) -> int:
    """One workshop's report (:func:`coprod.workshop.report.prepare`), written where ``--out`` says."""
    from coprod.workshop.record import WorkshopRecord
    from coprod.workshop.report import prepare as prepare_workshop

    record = WorkshopRecord.existing(args.db)
    try:
        prepared = prepare_workshop(record, args.workshop)
    finally:
        record.close()
    root = RESULTS_DIR if args.out is None else Path(args.out)
    out = root if args.out is not None else root / safe_name(f"workshop_{args.workshop}")
    check_targets(out, list(prepared.contents), root)
    write_files(out, prepared.contents, root)
    print(prepared.terminal)
    print(f"report: {out / 'workshop.md'}")
    print(f"tables and plot: {out}/")
    print(f"database: {args.db}")
    return 0


def _analyze_all(store, args) -> int:
    """Read, check and prepare every chosen experiment, check every target, then write: a file that is
    refused anywhere leaves nothing written."""
    with _reading(store.path):
        stored = store.experiment_names()
    names = {text(n): n for n in stored}
    if args.experiment is not None:
        if args.experiment not in names:
            guess = difflib.get_close_matches(args.experiment, list(names), n=1)
            held = ", ".join(plain(n, 60) for n in list(names)[:10]) + (", ..." if len(names) > 10 else "")
            hint = f"; did you mean {plain(guess[0], 60)}?" if guess else f"; it holds {held or 'none'}"
            raise StoreError(f"{args.db}: no experiment {shown(args.experiment)}{hint}")
        chosen = [args.experiment]
    else:
        chosen = list(names)
    if not chosen:
        singles = store.db.execute("SELECT count(*) FROM runs").fetchone()[0]
        if singles:  # `coprod run --db` records runs without an experiment definition to analyse
            raise StoreError(
                f"{args.db}: holds {singles} single run{'s' if singles > 1 else ''} recorded by `coprod run "
                "--db` and no experiment; analyze reads experiments from `coprod sweep`. Look at a single "
                f"run with `coprod rerun --db {args.db} RUN_KEY` or in the dashboard's Stored results"
            )
        from coprod.workshop.record import workshop_ids

        workshops = workshop_ids(store.db)
        if workshops:
            held = ", ".join(plain(w, 40) for w in workshops[:10]) + (", ..." if len(workshops) > 10 else "")
            raise StoreError(
                f"{args.db}: no experiments recorded, but workshops {held}; analyse one with --workshop ID"
            )
        raise StoreError(f"{args.db}: no experiments recorded (run `coprod sweep` first)")
    root = RESULTS_DIR if args.out is None else Path(args.out)
    folders: dict[str, str] = {}
    plans: list[tuple[str, Path, Prepared]] = []
    for name in chosen:
        if args.out is not None and len(chosen) == 1:
            out = root
        else:
            folder = safe_name(name)
            if folder in folders:  # only a crafted hash collision gets here
                raise StoreError(
                    f"{args.db}: experiments {shown(folders[folder])} and {shown(name)} would share the "
                    f"folder {folder}; analyse them one at a time with --experiment and --out"
                )
            folders[folder] = name
            out = root / folder
        plans.append((name, out, prepare(store, names[name])))
    for _, out, prepared in plans:
        check_targets(out, list(prepared.contents), root)
    for name, out, prepared in plans:
        files = write_files(out, prepared.contents, root)
        result = Analysis(name, out, prepared.summary_md, prepared.sensitivity_md, files, prepared.notes)
        if prepared.terminal:
            print(f"\n{prepared.terminal}")
            print(f"every output and cell: {result.out / 'summary.md'}")
        else:
            print(f"\n{plain(name)}: final-step summary (mean ± 95% CI half-width over replications)\n")
            print(result.summary_md)
        if result.sensitivity_md:
            print(f"{plain(name)}: sensitivity indices\n")
            print(result.sensitivity_md)
        for note in result.notes:
            print(f"note: {plain(note, 400)}", file=sys.stderr)
        print(f"report: {result.report}")
        print(f"tables and plots: {result.out}/")
    print(f"database: {args.db}")
    return 0
