"""Profile of the full model step (cProfile, standard library): where a step's time goes, by file:line.

The same scenario as (b); after warm-up, one whole cycle of ``run.betweenness_interval`` steps runs under
cProfile. The top functions by own time
(``tottime``: time in the function itself, not in what it calls) and by cumulative time within the project's
own files are kept in ``latest.json``, and the full listing in ``benchmarks/results/profile_<N>.txt``.
cProfile adds a fixed cost per Python call, so Python-heavy code looks somewhat worse than it is; the
ranking is what counts.
"""

from __future__ import annotations

import cProfile
import io
import pstats
from pathlib import Path

from benchmarks.common import ROOT, Section, say

TOP = 15


def _where(func: tuple[str, int, str]) -> str:
    filename, line, name = func
    path = Path(filename)
    try:
        shown = str(path.resolve().relative_to(ROOT))
    except ValueError:
        parts = path.parts
        shown = "/".join(parts[parts.index("site-packages") + 1 :]) if "site-packages" in parts else filename
    return f"{shown}:{line} {name}" if line else name


def _table(stats: pstats.Stats, key: str, only_project: bool, steps: int) -> list[dict]:
    rows = []
    for func, (_cc, calls, tottime, cumtime, _callers) in stats.stats.items():
        if only_project and not func[0].startswith(str(ROOT / "model")):
            continue
        rows.append(
            {
                "where": _where(func),
                "calls_per_step": calls / steps,
                "own_ms_per_step": 1e3 * tottime / steps,
                "cumulative_ms_per_step": 1e3 * cumtime / steps,
            }
        )
    rows.sort(key=lambda r: r[key], reverse=True)
    return rows[:TOP]


def run(mode: str, out_dir: Path) -> dict:
    from benchmarks.model_step import build

    sizes = [10_000] if mode == "quick" else [10_000, 100_000]
    section = Section("profile", mode, 1)
    rows = []
    for n in sizes:
        model = build(n)
        # one whole cycle of the betweenness interval, so that its periodic step counts at its frequency
        steps = model.settings.run.betweenness_interval
        say(f"profile: {n:,} residents, {steps} steps under cProfile")
        for _ in range(3):
            model.step()
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(steps):
            model.step()
        profiler.disable()
        stats = pstats.Stats(profiler)
        total = stats.total_tt
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(40)
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(40)
        listing = out_dir / f"profile_{n}.txt"
        listing.write_text(text.getvalue())
        rows.append(
            {
                "residents": n,
                "steps": steps,
                "profiled_ms_per_step": 1e3 * total / steps,
                "top_own_time": _table(stats, "own_ms_per_step", False, steps),
                "top_cumulative_in_model": _table(stats, "cumulative_ms_per_step", True, steps),
                "listing": str(listing.relative_to(ROOT)),
            }
        )
    return section.finish(tool="cProfile", rows=rows)
