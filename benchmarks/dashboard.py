"""(e) Dashboard steps per second while playing, in a browser: a placeholder that reads another's figures.

The dashboard's author measures this in the browser; their figures go in ``benchmarks/results/dashboard.json``
and are carried into ``latest.json`` and the table when the file is there. Expected shape (any extra keys
are kept)::

    {"rows": [{"residents": 1000, "steps_per_second": 12.5, "repeats": 5}, ...],
     "machine": "...", "load_average": [...], "method": "..."}
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.common import Section

SOURCE = "benchmarks/results/dashboard.json"


def run(mode: str, out_dir: Path) -> dict:
    section = Section("dashboard", mode, 0)
    path = out_dir / "dashboard.json"
    if not path.exists():
        return section.finish(
            placeholder=True,
            note=f"PLACEHOLDER: not measured by this suite; the dashboard author's figures go in {SOURCE}",
            rows=[],
        )
    try:
        measured = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        return section.finish(placeholder=True, note=f"{SOURCE} could not be read: {err}", rows=[])
    return section.finish(placeholder=False, source=SOURCE, measured=measured, rows=measured.get("rows", []))
