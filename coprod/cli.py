"""The ``coprod`` command line: validate, params, cities, hypotheses, run, sweep, analyze, discover, regret,
calibrate, rerun, dashboard, workshop.

Bad input (a scenario, an experiment file, a ``--set``, a results file) exits with status 2 and one line
per problem, ``FILE: key: what is wrong (got VALUE, allowed RANGE)``, writing nothing. A fault of the
machine (a full disk, a read-only folder, a lock held elsewhere, an I/O error, no memory left) exits with
status 1 and one line. No traceback reaches the user for either.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence

from coprod.model import (
    MAPPINGS,
    OUTPUTS,
    Problem,
    ScenarioError,
    code_version,
    load_cities,
    load_city,
    load_scenario,
    parameters,
    parse_assignment,
    simulate,
)
from coprod.model.footprint import estimate

USER_ERROR = 2
MACHINE_FAULT = 1
ALLOW_LARGE = "warn instead of refusing a run estimated to need more memory than this machine has"
CITY_HELP = (
    "a city context (a shipped city such as cape_town, see `coprod cities`, or a city file) over the "
    "scenario file; --set still wins"
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["workshop"]:  # its own parser: `coprod workshop SCENARIO` or `coprod workshop replay ...`
        args = argparse.Namespace(command="workshop", rest=argv[1:], handler=_workshop)
    else:
        args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except ScenarioError as err:
        for line in err.lines():
            print(line, file=sys.stderr)
        return USER_ERROR
    except _user_errors() as err:
        print(str(err), file=sys.stderr)
        return USER_ERROR
    except _machine_faults() as err:
        print(str(err), file=sys.stderr)
        return MACHINE_FAULT
    except _sqlite_errors() as err:  # a results file damaged in the middle, found while reading it
        return _sqlite_line(args, err)
    except BrokenPipeError:
        # the reader went away (``coprod params | head``): stop quietly, as other tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as err:  # a file or folder the command had to write or read at its boundary
        print(_os_line(err), file=sys.stderr)
        return MACHINE_FAULT if err.errno in _machine_errnos() else USER_ERROR
    except MemoryError:
        print(f"{args.command}: ran out of memory; try fewer residents, steps or workers", file=sys.stderr)
        return MACHINE_FAULT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _user_errors() -> tuple[type[BaseException], ...]:
    from coprod.experiments.store import StoreError

    return (StoreError,)


def _machine_faults() -> tuple[type[BaseException], ...]:
    from coprod.experiments.store import StoreFault

    return (StoreFault,)


def _sqlite_errors() -> tuple[type[BaseException], ...]:
    import sqlite3

    return (sqlite3.Error,)


def _sqlite_line(args, err) -> int:
    """An SQLite failure that no narrower handler caught: say whose it is, in one line."""
    from pathlib import Path

    from coprod.experiments.store import StoreError, sqlite_problem

    where = Path(getattr(args, "db", None) or "results database")
    problem = sqlite_problem(where, err, f"finish {args.command}")
    print(str(problem), file=sys.stderr)
    return USER_ERROR if isinstance(problem, StoreError) else MACHINE_FAULT


def _machine_errnos() -> set[int]:
    from coprod.experiments.store import MACHINE_ERRNOS

    return MACHINE_ERRNOS


def _os_line(err: OSError) -> str:
    """``PATH: what the operating system said``: one line, the path shortened if it is very long."""
    import errno

    where = str(err.filename) if err.filename is not None else "coprod"
    if len(where) > 120:
        where = where[:80] + "..." + where[-30:]
    reason = err.strerror or str(err)
    if err.errno in (errno.EEXIST, errno.ENOTDIR):
        reason += " (part of the path is a file, not a folder)"
    return f"{where}: {reason}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coprod", description="Agent-based model of just coproduction.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check scenario files; exit 2 with one line per problem")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--allow-large", action="store_true", help=ALLOW_LARGE)
    p.set_defaults(handler=_validate)

    p = sub.add_parser("params", help="list every parameter with its bounds, units, meaning and source")
    p.add_argument("--markdown", action="store_true", help="as a Markdown table")
    p.set_defaults(handler=_params)

    p = sub.add_parser("cities", help="list the shipped city contexts with their figures and sources")
    p.add_argument("names", nargs="*", metavar="CITY", help="a shipped city or a city file (default: all)")
    p.add_argument("--markdown", action="store_true", help="as a Markdown table")
    p.set_defaults(handler=_cities)

    p = sub.add_parser("hypotheses", help="list the theories' stated hypotheses, or judge them on a database")
    p.add_argument(
        "--file", metavar="FILE", help="a hypotheses file (default: data/hypotheses/hypotheses.toml)"
    )
    p.add_argument("--markdown", action="store_true", help="list as a Markdown table")
    p.add_argument("--db", metavar="PATH", help="judge each hypothesis on this results database")
    p.add_argument("--experiment", metavar="NAME", help="only this experiment (default: every one)")
    p.add_argument("--out", metavar="DIR", help="write hypotheses.md and hypotheses.csv here")
    p.set_defaults(handler=_hypotheses)

    p = sub.add_parser("run", help="run one scenario and print its outputs")
    p.add_argument("scenario", metavar="SCENARIO")
    # --steps and --seed are checked by the scenario schema, like any --set (one line naming run.steps)
    p.add_argument("--steps", help="months to run (default: run.steps)")
    p.add_argument("--seed", help="root seed (default: run.seed)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a parameter")
    p.add_argument("--city", metavar="NAME", help=CITY_HELP)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--db", metavar="PATH", help="append the run to a results database")
    p.add_argument("--allow-large", action="store_true", help=ALLOW_LARGE)
    p.add_argument(
        "--story",
        action="store_true",
        help="also tell the run's story: what happened, month by month, and how views moved by group",
    )
    p.add_argument("--story-out", metavar="FILE", help="write the story's events and view quantiles as JSON")
    p.set_defaults(handler=_run)

    p = sub.add_parser("sweep", help="run an experiment file into a results database")
    p.add_argument("experiment", metavar="EXPERIMENT")
    p.add_argument("--db", metavar="PATH", help="results database (default: results/<experiment>.db)")
    p.add_argument("--workers", type=int, help="local worker processes (default: all cores)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler tcp://host:port, or 'local'")
    p.add_argument("--retry-failed", action="store_true", help="rerun only the runs recorded as failed")
    p.add_argument("--city", metavar="NAME", help=CITY_HELP + "; applies to every base scenario")
    p.add_argument("--allow-large", action="store_true", help=ALLOW_LARGE)
    p.add_argument(
        "--set-aside-stale",
        action="store_true",
        help="if the database holds this experiment from other model code or another definition, "
        "rename it to NAME.<its code version>.db and start a new one (make run uses this)",
    )
    p.set_defaults(handler=_sweep)

    p = sub.add_parser("analyze", help="summaries, sensitivity indices, plots and report.html")
    p.add_argument("--db", required=True, metavar="PATH")
    p.add_argument("--experiment", metavar="NAME")
    p.add_argument(
        "--workshop", metavar="ID", help="a workshop's report: who played, each branch's rounds and markers"
    )
    p.add_argument("--out", metavar="DIR")
    p.set_defaults(handler=_analyze)

    p = sub.add_parser("discover", help="scenario discovery: the input ranges (PRIM, CART) behind an outcome")
    p.add_argument("--db", required=True, metavar="PATH")
    p.add_argument(
        "--where", required=True, metavar="CONDITION", help="e.g. 'consensus_bias < 0.2 and structure > 0.6'"
    )
    p.add_argument("--experiment", metavar="NAME", help="default: the database's only experiment")
    p.add_argument(
        "--month", metavar="N", help="the recorded month the condition is judged at (default: the last)"
    )
    p.add_argument("--out", metavar="DIR", help="default: results/<experiment>/discovery/")
    p.set_defaults(handler=_discover)

    p = sub.add_parser("regret", help="which theory of change wins where: regret across sampled contexts")
    p.add_argument("--db", required=True, metavar="PATH")
    p.add_argument("--experiment", metavar="NAME", help="default: the database's only experiment")
    p.add_argument("--arm", metavar="KEY", help="the crossed key compared (default: theory.kind)")
    p.add_argument(
        "--weight", type=float, metavar="W", help="utility = markers' mean - W x consensus bias (default 1)"
    )
    p.add_argument("--out", metavar="DIR", help="default: results/<experiment>/regret/")
    p.set_defaults(handler=_regret)

    p = sub.add_parser("calibrate", help="fit parameters to target patterns by ABC-SMC (pyabc)")
    p.add_argument("calibration", metavar="CALIBRATION", help="a calibration file (priors, settings)")
    p.add_argument("--targets", metavar="FILE", help="targets file (default: the one the file names)")
    p.add_argument("--db", metavar="PATH", help="results database (default: results/<name>.db)")
    p.add_argument("--out", metavar="DIR", help="where calibration.md goes (default: results/<name>/)")
    p.add_argument("--workers", type=int, help="local worker processes (default: all cores)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler tcp://host:port, or 'local'")
    p.set_defaults(handler=_calibrate)

    p = sub.add_parser("rerun", help="rerun a stored run and compare its outputs")
    p.add_argument("--db", required=True, metavar="PATH")
    p.add_argument("--experiment", metavar="NAME")
    p.add_argument("run_key", metavar="RUN_KEY")
    p.set_defaults(handler=_rerun)

    p = sub.add_parser("dashboard", help="serve the workshop dashboard on 127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback only)")
    p.set_defaults(handler=_dashboard)

    p = sub.add_parser(
        "workshop",
        add_help=False,
        help="a live workshop: participants play agents of one city (SCENARIO), or replay|export|rerun one",
    )
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(handler=_workshop)
    return parser


# ------------------------------------------------------------------------------------------- handlers


def _validate(args) -> int:
    problems: list[str] = []
    for path in args.files:
        try:
            s = load_scenario(path)
        except ScenarioError as err:
            problems.extend(err.lines())
            continue
        too_big = fits(s, path, args.allow_large)
        if too_big:
            problems.extend(too_big)
            continue
        print(
            f"{path}: ok ({s.design.kind.value} design, {s.theory.kind.value} theory, "
            f"{s.population.residents} residents, {s.run.steps} months; {estimate(s.flat()).describe()})"
        )
    for line in problems:
        print(line, file=sys.stderr)
    return USER_ERROR if problems else 0


def _params(args) -> int:
    specs = parameters()
    if args.markdown:
        print("| key | type | default | allowed | units | meaning | source |")
        print("|---|---|---|---|---|---|---|")
        for p in specs:
            cells = (f"`{p.key}`", p.type, p.default, p.allowed(), p.units, p.meaning, p.source)
            print("| " + " | ".join(str(c) for c in cells) + " |")
        return 0
    width = max(len(p.key) for p in specs)
    for p in specs:
        print(f"{p.key:<{width}}  {p.allowed():<48} [{p.units}] {p.meaning} (source: {p.source})")
    return 0


def _scenario_from(args):
    overrides = dict(parse_assignment(text) for text in args.set)
    for key, value in (("run.steps", args.steps), ("run.seed", args.seed)):
        if value is not None:
            overrides[key] = parse_assignment(f"{key}={value}")[1]
    city = load_city(args.city) if getattr(args, "city", None) else None
    scenario = load_scenario(args.scenario)
    if city is not None:  # scenario file < city < --set
        scenario = city.apply(scenario)
    # a mistake in an override is the command line's, not the file's
    return scenario.with_overrides(overrides, source="command line") if overrides else scenario


def _cities(args) -> int:
    cities = [load_city(name) for name in args.names] if args.names else load_cities()
    if args.markdown:
        print("| city | parameter | value | indicator | figure | source | year | scope |")
        print("|---|---|---|---|---|---|---|---|")
    for city in cities:
        if not args.markdown:
            print(f"{city.stem}: {city.name}, {city.country} ({city.path})")
        for f in city.figures:
            scope = f.scope + (", national figure stands in for the city" if f.stands_in else "")
            if args.markdown:
                source = f"[{f.source}]({f.url})" if f.url else f.source
                cells = (
                    city.name,
                    f"`{f.key}`",
                    f"{f.value:g}",
                    f.indicator,
                    f"{f.raw} ({f.mapping})",
                    source,
                    f.year,
                    scope,
                )
                print("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
            else:
                print(f"  {f.key} = {f.value:g}  ({f.raw} by {f.mapping}; {f.indicator}; {scope})")
                print(f"      source: {f.source}, {f.year}")
        for key, note in city.defaults.items():
            if args.markdown:
                print(f"| {city.name} | `{key}` | default | {note.replace('|', '/')} | | | | |")
            else:
                print(f"  {key}: {note}")
    if not args.markdown:
        print("mappings (assumption): " + "; ".join(f"{m.name}: {m.rule}" for m in MAPPINGS.values()))
    return 0


def fits(scenario, source, allow_large: bool) -> list[str]:
    """The lines refusing a scenario too big for this machine's memory (a warning with --allow-large)."""
    from coprod.model.footprint import fit_problems

    lines = [Problem(*p).render(str(source)) for p in fit_problems(scenario.flat())]
    if allow_large:
        for line in lines:
            print(f"warning: {line}", file=sys.stderr)
        return []
    return lines


def _run(args) -> int:
    scenario = _scenario_from(args)
    too_big = fits(scenario, args.scenario, args.allow_large)
    if too_big:
        for line in too_big:
            print(line, file=sys.stderr)
        return USER_ERROR
    store = None
    if args.db:
        from coprod.experiments.store import Store

        store = Store(args.db)
    seed, steps = scenario.run.seed, scenario.run.steps
    started, clock = time.strftime("%Y-%m-%dT%H:%M:%S%z"), time.perf_counter()
    story = None
    if args.story or args.story_out:
        from coprod.story import tell

        rows, story = tell(scenario)
    else:
        rows = simulate(scenario)
    seconds = time.perf_counter() - clock
    if store is not None:
        from coprod.experiments.store import scenario_hash

        params = scenario.flat()
        store.record_run(
            experiment="single_runs",
            run_key=f"{scenario.name}/seed={seed}/{scenario_hash(params)}",
            scenario=scenario.name,
            params=params,
            seed=seed,
            code_version=code_version(),
            status="done",
            rows=rows,
            started=started,
            seconds=seconds,
        )
    final = {k: rows[-1][k] for k in OUTPUTS}
    city = load_city(args.city) if getattr(args, "city", None) else None
    if args.json:
        head = {"scenario": scenario.name, "seed": seed, "steps": steps}
        if city is not None:
            head["city"] = city.to_json()
        told = {"story": story.to_json()} if args.story else {}
        print(json.dumps({**head, "outputs": final, **told}))
        _write_story(story, args.story_out)
        return 0
    first = rows[1] if len(rows) > 1 else rows[0]
    where = f" in {city.name} (city context {city.path})" if city is not None else ""
    print(
        f"scenario {scenario.name}{where}: {scenario.design.kind.value} design, {scenario.theory.kind.value} "
        f"theory, {scenario.population.residents} residents, seed {seed}, {steps} months"
    )
    print(f"{'output':<26}{'start':>10}{'month 1':>10}{f'month {steps}':>12}")
    for k in OUTPUTS:
        print(f"{k:<26}{rows[0][k]:>10.3f}{first[k]:>10.3f}{final[k]:>12.3f}")
    if store is not None:
        print(f"recorded in {args.db}")
    if args.story:
        print()
        print("\n".join(story.log()))
        print()
        print("\n".join(story.opinion_lines()))
    _write_story(story, args.story_out)
    return 0


def _write_story(story, path: str | None) -> None:
    if path:
        story.write(path)


def _sweep(args) -> int:
    from coprod.sweep_command import main_sweep

    return main_sweep(args)


def _analyze(args) -> int:
    from coprod.analyze_command import main_analyze

    return main_analyze(args)


def _discover(args) -> int:
    from coprod.experiments.discovery import main_discover

    return main_discover(args)


def _calibrate(args) -> int:
    from coprod.experiments.calibration import main_calibrate

    return main_calibrate(args)


def _regret(args) -> int:
    from coprod.experiments.regret import main_regret

    return main_regret(args)


def _hypotheses(args) -> int:
    from coprod.experiments.hypotheses import main_hypotheses

    return main_hypotheses(args)


def _rerun(args) -> int:
    from coprod.sweep_command import main_rerun

    return main_rerun(args)


def _dashboard(args) -> int:
    from coprod.dashboards.serve import main_dashboard

    return main_dashboard(args)


def _workshop(args) -> int:
    from coprod.workshop_command import main_workshop

    return main_workshop(args.rest)


if __name__ == "__main__":
    sys.exit(main())
