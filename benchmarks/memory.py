"""(d) Memory per resident, and whether 100,000 residents for 120 steps fit in 2 GB.

Each size runs in a fresh subprocess (``python -m benchmarks.memory RESIDENTS STEPS``), which reports its
resident set size (RSS) after the imports, after building the model, and its peak after running (VmHWM on
Linux, else ``ru_maxrss``; ``ru_maxrss`` is recorded too, but on Linux a child inherits its parent's peak
through fork and exec, so it reads high when the parent is big). Memory per resident = (RSS after building
- RSS after the imports) / residents, and the same with the peak after the run, which includes what the
run accumulates (new ties, the DataCollector's rows) and its transient peaks (the periodic betweenness).
The 2 GB target is checked against the whole process's peak, interpreter and libraries included.
"""

from __future__ import annotations

import importlib
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import ROOT, Section, say

LIMIT_BYTES = 2 * 10**9  # "2 GB"
STEPS = 120


def _rss_bytes() -> int:
    """Current resident set size (Linux /proc; elsewhere the peak so far)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return _peak_bytes()


def _peak_bytes() -> int:
    """Peak RSS of this process. On Linux, VmHWM: ``ru_maxrss`` would do, but Linux carries it over from
    the parent across fork and exec, so a child of a big parent starts with the parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux reports KiB, macOS bytes


def probe(residents: int, steps: int) -> dict:
    """Build and run one model in this process and report its memory (the subprocess side)."""
    importlib.import_module("model")  # the imports are the baseline, not the model's memory
    from benchmarks.model_step import build

    after_import = _rss_bytes()
    start = time.perf_counter()
    model = build(residents)
    built = time.perf_counter()
    after_build = _rss_bytes()
    for _ in range(steps):
        model.step()
    finished = time.perf_counter()
    return {
        "residents": residents,
        "agents": int(model.people.n),
        "steps": steps,
        "edges_at_end": len(model.edges),
        "rss_after_import_bytes": after_import,
        "rss_after_build_bytes": after_build,
        "rss_after_run_bytes": _rss_bytes(),
        "peak_rss_bytes": _peak_bytes(),
        "ru_maxrss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        * (1 if sys.platform == "darwin" else 1024),
        "build_seconds": built - start,
        "run_seconds": finished - built,
    }


def run(mode: str) -> dict:
    sizes = [10_000, 100_000]
    steps = 24 if mode == "quick" else STEPS
    section = Section("memory", mode, 1)
    rows = []
    for n in sizes:
        say(f"memory: {n:,} residents for {steps} steps in a subprocess")
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.memory", str(n), str(steps)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=900,
        )
        if done.returncode != 0:
            rows.append({"residents": n, "steps": steps, "error": done.stderr.strip()[-2000:]})
            continue
        row = json.loads(done.stdout.strip().splitlines()[-1])
        base = row["rss_after_import_bytes"]
        row["bytes_per_resident_built"] = (row["rss_after_build_bytes"] - base) / n
        row["bytes_per_resident_peak"] = (row["peak_rss_bytes"] - base) / n
        row["within_2gb"] = row["peak_rss_bytes"] <= LIMIT_BYTES
        rows.append(row)
    return section.finish(
        method="RSS of a fresh subprocess: after imports, after building, peak (VmHWM) after the run",
        limit_bytes=LIMIT_BYTES,
        rows=rows,
        note="" if steps == STEPS else f"quick mode: {steps} steps, not the 120 of the target",
    )


if __name__ == "__main__":
    print(json.dumps(probe(int(sys.argv[1]), int(sys.argv[2]))))
