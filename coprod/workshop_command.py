"""The ``coprod workshop`` commands: run a live workshop, and replay, export and rerun its branches.

``coprod workshop SCENARIO [--host H] [--port P] [--db FILE] [--months-per-round N] [--name NAME]``
starts a workshop on the scenario, recorded in the results file (default ``results/workshops.db``), and
serves its pages (:mod:`coprod.workshop.serve`, which prints the join code and the facilitator's address
with its token). ``--resume [ID]`` continues a recorded workshop (the most recent without ID) instead;
SCENARIO is then not needed (the record holds the scenario).

``coprod workshop replay FILE [--workshop ID] [--branch B]`` recomputes a branch (default ``main``) from
its record and compares every output of every month with the stored ones: "matches its recording exactly
(N months)" and exit 0, or the first difference and exit 1.

``coprod workshop export FILE [--workshop ID] [--branch B] --out DIR`` writes the branch as
``DIR/scenario.toml`` and ``DIR/choices.json`` (:mod:`coprod.workshop.replay`); ``coprod workshop rerun
DIR [--json]`` plays them again and prints the final outputs.

Bad input (a missing file, an unknown workshop or branch, a bad port) is one line naming it and what is
allowed, exit 2, with nothing written.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from coprod.model import OUTPUTS, Problem, ScenarioError, code_version, load_scenario

DEFAULT_DB = Path("results") / "workshops.db"
DEFAULT_PORT = 8766  # the dashboard's is 8765: both can run at once
SUBCOMMANDS = ("replay", "export", "rerun")
USER_ERROR = 2


def main_workshop(argv: Sequence[str]) -> int:
    """Dispatch ``coprod workshop ...`` (``argv`` after the word ``workshop``)."""
    from coprod.model.choices import ChoiceError
    from coprod.workshop.engine import WorkshopError

    argv = list(argv)
    try:
        if argv[:1] and argv[0] in SUBCOMMANDS:
            args = _subparser(argv[0]).parse_args(argv[1:])
            return {"replay": _replay, "export": _export, "rerun": _rerun}[argv[0]](args)
        return _live(_live_parser().parse_args(argv))
    except (WorkshopError, ChoiceError) as err:
        print(f"workshop: {err}", file=sys.stderr)
        return USER_ERROR


# -------------------------------------------------------------------------------------- parsers


def _live_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="coprod workshop",
        description="Serve a live workshop on a scenario; or `coprod workshop replay|export|rerun ...`.",
    )
    p.add_argument("scenario", nargs="?", metavar="SCENARIO", help="the scenario file (not with --resume)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback only)")
    p.add_argument("--port", default=str(DEFAULT_PORT), help=f"port (default {DEFAULT_PORT})")
    p.add_argument(
        "--db", default=str(DEFAULT_DB), metavar="FILE", help=f"results file (default {DEFAULT_DB})"
    )
    p.add_argument("--months-per-round", default="3", metavar="N", help="months a round plays (default 3)")
    p.add_argument("--name", help="the workshop's name (default: the scenario's)")
    p.add_argument(
        "--resume",
        nargs="?",
        const="",
        metavar="ID",
        help="continue a recorded workshop (the most recent without ID) from its last closed round",
    )
    return p


def _subparser(command: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"coprod workshop {command}")
    if command == "rerun":
        p.description = (
            "Play an exported branch (scenario.toml + choices.json) again; print its final outputs."
        )
        p.add_argument("folder", metavar="DIR")
        p.add_argument("--json", action="store_true", help="print one JSON object")
        return p
    p.add_argument("db", metavar="FILE", help="the results file holding the workshop")
    p.add_argument("--workshop", metavar="ID", help="the workshop (default: the file's only one)")
    p.add_argument("--branch", default="main", metavar="B", help="the branch (default main)")
    if command == "replay":
        p.description = "Recompute a branch from its record and compare it with the stored outputs."
    else:
        p.description = "Write a branch as scenario.toml + choices.json."
        p.add_argument("--out", required=True, metavar="DIR")
    return p


# ------------------------------------------------------------------------------------ live serving


def _live(args) -> int:
    from coprod.workshop.engine import Workshop
    from coprod.workshop.record import WorkshopRecord

    problems = []
    port = _int_option(args.port, "--port", 1, 65535, problems)
    months = _int_option(args.months_per_round, "--months-per-round", 1, 1200, problems)
    if args.resume is None and args.scenario is None:
        problems.append(Problem("SCENARIO", "missing", allowed="a scenario file, or --resume [ID]"))
    if problems:
        raise ScenarioError(problems, "command line")
    if args.resume is None:
        from coprod.model.footprint import fit_problems

        scenario = load_scenario(args.scenario)  # before anything is written
        too_big = [Problem(*p) for p in fit_problems(scenario.flat())]  # more than this machine's memory
        if too_big:
            raise ScenarioError(too_big, args.scenario)
    else:
        record = WorkshopRecord.existing(args.db)  # a missing file or workshop: nothing written
        try:
            if args.resume:
                _workshop_id(record, args.resume)
        finally:
            record.close()
        if args.scenario is not None:
            print(
                f"note: resuming; the scenario is the recorded one, {args.scenario} is not read",
                file=sys.stderr,
            )
    serve = _serve_function()
    if serve is None:
        return 1
    if args.resume is None:
        workshop = Workshop.start(scenario, Path(args.db), months_per_round=months, name=args.name)
        what = "started"
    else:
        workshop = Workshop.resume(Path(args.db), args.resume or None)
        what = f"resumed at round {workshop.state()['rounds_closed']} of branch {workshop.state()['branch']}"
    print(f"workshop {workshop.id} {what}; recorded in {args.db}", flush=True)
    try:
        serve(workshop, args.host, port)
    except KeyboardInterrupt:
        return 130
    finally:
        workshop.close()
    return 0


def _serve_function():
    """The pages' ``serve(workshop, host, port)``, or None (after saying so) if they are not installed."""
    try:
        from coprod.workshop.serve import serve
    except ModuleNotFoundError as err:
        if err.name and (err.name.startswith("coprod.workshop") or err.name.startswith("solara")):
            print(
                f"workshop: the workshop's web pages cannot be loaded ({err.name} is missing); "
                "nothing was started",
                file=sys.stderr,
            )
            return None
        raise
    return serve


def _int_option(text: str, key: str, low: int, high: int, problems: list) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        problems.append(Problem(key, "not allowed", text, f"an integer from {low} to {high}"))
        return low
    return value


# ------------------------------------------------------------------------------ replay, export, rerun


def _workshop_id(record, wanted: str | None) -> str:
    from coprod.experiments.store import StoreError

    held = record.workshop_ids()
    listed = ", ".join(held[:10]) + (", ..." if len(held) > 10 else "")
    if wanted is None:
        if len(held) == 1:
            return held[0]
        raise StoreError(
            f"{record.path}: --workshop: missing; the file holds {len(held)} workshops ({listed})"
        )
    if wanted not in held:
        raise StoreError(f"{record.path}: --workshop: no workshop {wanted!r} (allowed: {listed or 'none'})")
    return wanted


def _recording(args):
    from coprod.workshop.record import WorkshopRecord
    from coprod.workshop.replay import load_recording

    record = WorkshopRecord.existing(args.db)
    try:
        return load_recording(record, _workshop_id(record, args.workshop), args.branch)
    finally:
        record.close()


def _replay(args) -> int:
    from coprod.workshop.replay import first_difference, replay

    recording = _recording(args)
    head = f"workshop {recording.workshop['id']} branch {recording.branch}"
    stored_by = recording.workshop["code_version"]
    if stored_by != code_version():
        print(
            f"code version mismatch: recorded by {stored_by}, this code is {code_version()}; a difference "
            "below may come from the code change"
        )
    _, rows = replay(recording.scenario, recording.rounds)
    difference = first_difference(recording.steps, rows)
    months = rows[-1]["month"]
    if difference is None:
        print(f"{head}: matches its recording exactly ({months} months, {len(recording.rounds)} rounds)")
        return 0
    print(f"{head}: differs from its recording: {difference}")
    return 1


def _export(args) -> int:
    from coprod.workshop.replay import export

    recording = _recording(args)  # an unknown workshop or branch: nothing written
    files = export(recording, Path(args.out))
    print(
        f"workshop {recording.workshop['id']} branch {recording.branch}: {len(recording.rounds)} rounds "
        f"written to {files[0]} and {files[1]}; rerun with `coprod workshop rerun {args.out}`"
    )
    return 0


def _rerun(args) -> int:
    from coprod.workshop.replay import rerun_folder

    folder = Path(args.folder)
    rows = rerun_folder(folder)
    final = {k: rows[-1][k] for k in OUTPUTS}
    months = rows[-1]["month"]
    if args.json:
        print(json.dumps({"folder": str(folder), "months": months, "outputs": final}))
        return 0
    print(f"{folder}: {months} months replayed")
    print(f"{'output':<26}{f'month {months}':>12}")
    for k in OUTPUTS:
        print(f"{k:<26}{final[k]:>12.6f}")
    return 0


__all__ = ["main_workshop"]
