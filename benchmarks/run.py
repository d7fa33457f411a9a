"""Run the benchmarks of issue 6 and write ``benchmarks/results/latest.json`` and ``latest.md``.

``python -m benchmarks.run [--quick | --full] [--only NAME ...]``

- default (about 10 minutes on 2 cores, most of it the compare-designs sweep): every part;
- ``--quick`` (about 1 minute): 10^3 and 10^4 only, fewer repeats, the smoke sweep once, 24 steps for memory;
- ``--full`` (about 30 minutes): more repeats, every sweep configuration three times at both sizes.

Parts: kernel (a), step (b), sweep (c), memory (d), dashboard (e, the page in chromium against the same
model stepped headless), profile, throughput (f, runs per second per core against a numpy yardstick),
estimate (g, the cost and error of the sampled betweenness behind ``leadership_concentration``),
scaling (h, parallel efficiency at 2-16 workers; measured only on 4 cores or more), workshop (i, issue 17:
50 participants' browsers and the facilitator's on one workshop server with 1,000 residents: join-page load,
server memory per participant, last choice to every page showing the new month, no choice lost).
With ``--only``, the other parts' figures already in ``latest.json`` are kept, each with its own date,
mode and conditions.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from benchmarks import (
    dashboard,
    kernel,
    leadership_estimate,
    memory,
    model_step,
    profiling,
    report,
    scaling,
    sweep,
    throughput,
    workshop,
)
from benchmarks.common import RESULTS, say

PARTS = (
    "kernel",
    "step",
    "estimate",
    "memory",
    "profile",
    "throughput",
    "sweep",
    "scaling",
    "dashboard",
    "workshop",
)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="a short run (under 2 minutes)")
    size.add_argument("--full", action="store_true", help="more repeats, compare-designs sweep 3 times")
    p.add_argument(
        "--only", nargs="+", choices=PARTS, metavar="NAME", help=f"run only these: {', '.join(PARTS)}"
    )
    p.add_argument("--out", type=Path, default=RESULTS, help="results folder (default benchmarks/results)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    mode = "quick" if args.quick else "full" if args.full else "default"
    parts = [p for p in PARTS if p in (args.only or PARTS)]
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    latest = out / "latest.json"
    results = json.loads(latest.read_text()) if latest.exists() else {}
    clock = time.perf_counter()
    for part in parts:
        say(f"== {part} ({mode})")
        match part:
            case "kernel":
                results["kernel"] = kernel.run(mode)
            case "step":
                results["step"] = model_step.run(mode)
            case "estimate":
                results["estimate"] = leadership_estimate.run(mode)
            case "memory":
                results["memory"] = memory.run(mode)
            case "profile":
                results["profile"] = profiling.run(mode, out)
            case "throughput":
                results["throughput"] = throughput.run(mode, out)
            case "sweep":
                results["sweep"] = sweep.run(mode)
            case "scaling":
                results["scaling"] = scaling.run(mode)
            case "dashboard":
                results["dashboard"] = dashboard.run(mode, out)
            case "workshop":
                results["workshop"] = workshop.run(mode)
            case _:
                raise ValueError(f"unknown part {part!r}")
        # written after every part, so that an interrupted run keeps what it measured
        results["targets"] = report.targets(results)
        latest.write_text(json.dumps(results, indent=2) + "\n")
        (out / "latest.md").write_text(report.markdown(results))
    say(f"benchmarks: {time.perf_counter() - clock:.0f} s; wrote {latest} and {out / 'latest.md'}")
    for t in results["targets"]:
        print(f"{t['status']:>12}  {t['target']}: {t['figure']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
