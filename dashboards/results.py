"""Browse a results database written by ``coprod sweep`` (or ``coprod run --db``), read-only.

The page only opens files inside one folder: ``results/`` under the directory the server started in, or
the folder named by the environment variable ``COPROD_RESULTS_DIR``. A name typed on the page that
leads outside it (``../``, an absolute path, a symbolic link pointing out) is refused with a message.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import numpy as np
import sqlite_utils

from model import OUTPUTS

FOLDER_VARIABLE = "COPROD_RESULTS_DIR"
SUFFIXES = (".db", ".sqlite", ".sqlite3")
MOST_RUNS = 5000  # a sweep can hold far more; the list shows the first ones


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
    path = (folder / name).resolve()
    if not path.is_relative_to(folder):
        raise ResultsError(f"Only files inside {folder} can be opened here.")
    if path.suffix not in SUFFIXES:
        raise ResultsError(f"A results file ends in {', '.join(SUFFIXES)} (got {name!r}).")
    if not path.is_file():
        raise ResultsError(f"There is no file {name!r} in {folder}.")
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

    @property
    def title(self) -> str:
        return f"{self.experiment} · {self.run_key} ({self.status})"


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
        except sqlite3.DatabaseError as err:
            raise ResultsError(f"{path.name} cannot be read as a database ({err}).") from None
        if not {"runs", "steps"} <= tables:
            self.close()
            raise ResultsError(f"{path.name} is not a results file from coprod (it has no runs and steps).")

    def close(self) -> None:
        self.db.conn.close()

    def __enter__(self) -> ResultsFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def runs(self) -> list[StoredRun]:
        rows = self.db.query(
            "SELECT experiment, run_key, scenario, seed, status FROM runs "
            "ORDER BY experiment, run_key LIMIT ?",
            [MOST_RUNS],
        )
        return [StoredRun(**row) for row in rows]

    def params(self, run: StoredRun) -> dict:
        row = next(
            self.db.query(
                "SELECT params FROM runs WHERE experiment = ? AND run_key = ?", [run.experiment, run.run_key]
            ),
            None,
        )
        return json.loads(row["params"]) if row and row["params"] else {}

    def curves(self, run: StoredRun) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The run's recorded months and each output at those months."""
        columns = [c for c in OUTPUTS if c in self.db["steps"].columns_dict]
        select = ", ".join(f'"{c}"' for c in ["step", *columns])
        rows = list(
            self.db.query(
                f"SELECT {select} FROM steps WHERE experiment = ? AND run_key = ? ORDER BY step",
                [run.experiment, run.run_key],
            )
        )
        months = np.array([row["step"] for row in rows], dtype=float)
        return months, {c: np.array([row[c] for row in rows], dtype=float) for c in columns}
