"""Browse a results database written by ``coprod sweep`` (or ``coprod run --db``), read-only.

The page only opens files inside one folder: ``results/`` under the directory the server started in, or
the folder named by the environment variable ``COPROD_RESULTS_DIR``. A name typed on the page that
leads outside it (``../``, an absolute path, a symbolic link pointing out) is refused with a message.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import sqlite_utils
from coprod.model import OUTPUTS, load_cities

FOLDER_VARIABLE = "COPROD_RESULTS_DIR"
SUFFIXES = (".db", ".sqlite", ".sqlite3")
MOST_RUNS = 5000  # a sweep can hold far more; the list shows the first ones
# The columns the page reads; ``experiments.store`` writes them (and more).
REQUIRED = {
    "runs": ("experiment", "run_key", "scenario", "seed", "status", "params"),
    "steps": ("experiment", "run_key", "step", *OUTPUTS),
}


class ResultsError(Exception):
    """A file the page cannot open; the message is meant for the person who typed the name."""


def allowed_folder() -> Path:
    """The one folder results files are opened from."""
    configured = os.environ.get(FOLDER_VARIABLE)
    return Path(configured).expanduser().resolve() if configured else (Path.cwd() / "results").resolve()


def resolve(name: str, folder: Path | None = None) -> Path:
    """The file ``name`` names inside the allowed folder; anything else raises :class:`ResultsError`."""
    folder = (folder or allowed_folder()).resolve()
    name = name.strip()
    if not name:
        raise ResultsError("Pick or type the name of a results file.")
    if "\x00" in name:
        raise ResultsError("That name contains a character that file names cannot have.")
    shown = name if len(name) <= 80 else name[:77] + "..."
    try:  # the operating system may refuse the name itself (too long, a component over 255 bytes)
        path = (folder / name).resolve()
        if not path.is_relative_to(folder):
            raise ResultsError(f"Only files inside {folder} can be opened here.")
        if path.suffix not in SUFFIXES:
            raise ResultsError(f"A results file ends in {', '.join(SUFFIXES)} (got {shown!r}).")
        if not path.is_file():
            raise ResultsError(f"There is no file {shown!r} in {folder}.")
    except OSError as err:
        raise ResultsError(f"{shown!r} cannot be a file name here ({err.strerror or err}).") from None
    return path


def databases(folder: Path | None = None) -> list[str]:
    """Results files in the allowed folder and its subfolders, as names relative to it."""
    folder = (folder or allowed_folder()).resolve()
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.rglob("*")):
        if path.suffix in SUFFIXES and path.is_file() and path.resolve().is_relative_to(folder):
            found.append(path.relative_to(folder).as_posix())
    return found


@dataclass(frozen=True)
class StoredRun:
    experiment: str
    run_key: str
    scenario: str
    seed: int
    status: str
    design: str = ""  # ``design.kind`` and ``theory.kind`` as its stored settings say ("" where they do not)
    theory: str = ""
    city: str = ""  # the city context's name: recorded with the experiment, or recognised in the settings

    @property
    def title(self) -> str:
        return f"{self.experiment} · {self.run_key} ({self.status})"


@cache
def _cities() -> dict[str, tuple[str, dict[str, Any]]]:
    """The shipped cities: stem -> (name, the values each sets)."""
    try:
        return {c.stem: (c.name, c.overrides()) for c in load_cities()}
    except (OSError, ValueError):  # a damaged city file names itself elsewhere (``coprod cities``)
        return {}


def city_in(values: Mapping[str, Any]) -> str | None:
    """The shipped city whose every value ``values`` carries (a run or file made with ``--city``, or the
    page's city picker), by file stem; None if none."""
    for stem, (_, overrides) in _cities().items():
        if overrides and all(values.get(k) == v for k, v in overrides.items()):
            return stem
    return None


def city_name(stem: str) -> str:
    return _cities()[stem][0] if stem in _cities() else stem


def _loads(raw: Any) -> Any:
    """Stored JSON, or None where it is not JSON (the file may come from anyone)."""
    try:
        return json.loads(raw) if isinstance(raw, (str, bytes)) else None
    except (ValueError, RecursionError):
        return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _some(names: list[str], shown: int = 4) -> str:
    """The first few names, and how many more."""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


class ResultsFile:
    """One results database, opened read-only."""

    def __init__(self, path: Path):
        self.path = path
        try:
            connection = sqlite3.connect(
                f"file:{quote(str(path))}?mode=ro", uri=True, check_same_thread=False
            )
            self.db = sqlite_utils.Database(connection)
            tables = set(self.db.table_names())
            lacking = {
                table: [c for c in columns if c not in self.db[table].columns_dict]
                for table, columns in REQUIRED.items()
                if table in tables
            }
        except sqlite3.Error as err:
            if hasattr(self, "db"):
                self.close()
            raise ResultsError(f"{path.name} cannot be read as a database ({err}).") from None
        if not set(REQUIRED) <= tables:
            self.close()
            raise ResultsError(f"{path.name} is not a results file from coprod (it has no runs and steps).")
        if any(lacking.values()):
            self.close()
            missing = "; ".join(f"its {t} table lacks {_some(c)}" for t, c in lacking.items() if c)
            raise ResultsError(
                f"{path.name} is not a results file this version of coprod can read: {missing}."
            )

    def close(self) -> None:
        self.db.conn.close()

    def __enter__(self) -> ResultsFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """Any failure to read (a damaged file, a value of the wrong kind) as one plain message."""
        try:
            yield
        except (sqlite3.Error, ValueError, TypeError, RecursionError) as err:
            raise ResultsError(
                f"{self.path.name} could not be read: it may be damaged, or written by another program "
                f"({err})."
            ) from None

    def runs(self) -> list[StoredRun]:
        """The runs (the first :data:`MOST_RUNS`), each with its design, theory and city where known."""
        recorded = self.recorded_cities()
        with self._reading():
            rows = self.db.query(
                "SELECT experiment, run_key, scenario, seed, status, params FROM runs "
                "ORDER BY experiment, run_key LIMIT ?",
                [MOST_RUNS],
            )
            found = []
            for row in rows:
                params = _loads(row.pop("params"))
                params = params if isinstance(params, dict) else {}
                city = recorded.get(row["experiment"]) or city_name(city_in(params) or "")
                design, theory = _text(params.get("design.kind")), _text(params.get("theory.kind"))
                found.append(StoredRun(**row, design=design, theory=theory, city=city))
            return found

    def recorded_cities(self) -> dict[str, str]:
        """Experiment -> the name of the city its definition records (``coprod sweep --city``)."""
        cities = {}
        try:  # only labels depend on it: a file without it (or with an odd one) still opens
            rows = list(self.db.query("SELECT name, definition FROM experiments"))
        except sqlite3.Error:
            return {}
        for row in rows:
            city = _loads(row.get("definition"))
            city = city.get("city") if isinstance(city, dict) else None
            if isinstance(city, dict):
                stem = _text(city.get("name"))
                cities[row["name"]] = city_name(stem) if stem in _cities() else _text(city.get("title"))
        return cities

    def params(self, run: StoredRun) -> dict:
        with self._reading():
            row = next(
                self.db.query(
                    "SELECT params FROM runs WHERE experiment = ? AND run_key = ?",
                    [run.experiment, run.run_key],
                ),
                None,
            )
            params = json.loads(row["params"]) if row and row["params"] else {}
            if not isinstance(params, dict):
                raise ValueError("the run's settings are not a table of names and values")
            return params

    def curves(self, run: StoredRun) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The run's recorded months and each output at those months."""
        select = ", ".join(f'"{c}"' for c in REQUIRED["steps"][2:])
        with self._reading():
            rows = list(
                self.db.query(
                    f"SELECT {select} FROM steps WHERE experiment = ? AND run_key = ? ORDER BY step",
                    [run.experiment, run.run_key],
                )
            )
            months = np.array([row["step"] for row in rows], dtype=float)
            return months, {c: np.array([row[c] for row in rows], dtype=float) for c in OUTPUTS}
