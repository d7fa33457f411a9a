"""What every benchmark shares: the machine's description, load, interleaved repeats and medians.

These machines are small and shared, so a figure is only as good as the conditions it was taken in: each
section of ``latest.json`` carries the machine, the versions, the load average before and after, and the
number of repeats. Alternatives are timed *interleaved* (A B C, B C A, C A B, ...) so that a burst of load
from elsewhere hits all of them alike, and ratios are taken within a repeat before the median is taken.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def cores() -> int:
    """CPU cores this process may use (its affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return os.cpu_count() or 1


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, Any]:
    """The machine and the versions that shape the figures."""
    return {
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "usable_cores": cores(),
        "memory_gib": _memory_gib(),
        "python": sys.version.split()[0],
        "numpy": _version("numpy"),
        "mesa": _version("mesa"),
        "dask": _version("distributed"),
    }


def code() -> dict[str, str]:
    """Which model code was measured: the model's own version hash, and the git commit (+ "dirty")."""
    from coprod.model import code_version

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "model"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit, dirty = "", ""
    return {
        "model_code_version": code_version(),
        "git_commit": commit + (" (model/ modified)" if dirty else ""),
    }


def load_average() -> list[float]:
    """1, 5 and 15 minute load averages (the number of runnable processes; compare with the cores)."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return []


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def interleave(names: Sequence[str], repeat: int) -> list[str]:
    """The order of the alternatives in repeat ``repeat``: rotated, so none always goes first."""
    k = repeat % len(names)
    return list(names[k:]) + list(names[:k])


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def spread(values: Sequence[float]) -> list[float]:
    """Smallest and largest value: how noisy the repeats were."""
    return [float(min(values)), float(max(values))]


class Section:
    """One benchmark's record: machine, load before and after, repeats, and its figures."""

    def __init__(self, name: str, mode: str, repeats: int):
        self.data: dict[str, Any] = {
            "name": name,
            "mode": mode,
            "started": now(),
            "machine": machine(),
            "code": code(),
            "load_average_before": load_average(),
            "repeats": repeats,
        }
        self._clock = time.perf_counter()

    def finish(self, **figures: Any) -> dict[str, Any]:
        self.data.update(figures)
        self.data["load_average_after"] = load_average()
        self.data["seconds"] = round(time.perf_counter() - self._clock, 1)
        return self.data


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def timed(fn: Callable[[], Any]) -> float:
    """Seconds one call of ``fn`` takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start
