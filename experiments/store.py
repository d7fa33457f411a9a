"""The results database: one SQLite file, written through sqlite-utils, readable in Datasette as it is.

Tables:

- ``meta``: ``key``, ``value`` (``schema_version``);
- ``experiments``: ``name`` (primary key), ``definition`` (JSON), ``root_seed``, ``code_version``,
  ``created``;
- ``runs``: one row per run, primary key ``(experiment, run_key)``: ``scenario``, ``params`` (every
  parameter as JSON), ``scenario_hash``, ``seed``, ``code_version``, ``status`` (``done``, ``failed``,
  ``timed_out``), ``error``, ``started``, ``finished``, ``seconds``;
- ``steps``: one row per run and recorded step, primary key ``(experiment, run_key, step)``, one column per
  output named as in DESIGN.md.

One writer: each run is written in one transaction (its steps and its run row together), so a run is
either wholly there or not at all. WAL mode lets readers (Datasette, the dashboard) open it mid-sweep; a
reader that holds a read transaction open keeps seeing the snapshot it started with.

A write that fails (the disk is full, the file is locked for longer than the busy timeout, an I/O error)
rolls its transaction back and raises :class:`StoreWriteError`: every run recorded before stays whole.
A file from another schema version (or one that lacks a table or a column this code writes) is refused
with :class:`StoreError` before anything in it is changed, WAL mode included; there is no migration.

Test-only fault hook: with the environment variable ``COPROD_FAULT_MAX_PAGES=<n>`` set, every connection
limits the database to ``n`` pages (``PRAGMA max_page_count``), so that a test can fill the "disk" and
check what a sweep does then; it has no other use.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from model import OUTPUTS

SCHEMA_VERSION = 1
MAX_PAGES_ENV = "COPROD_FAULT_MAX_PAGES"
RUN_COLUMNS = (
    "experiment",
    "run_key",
    "scenario",
    "params",
    "scenario_hash",
    "seed",
    "code_version",
    "status",
    "error",
    "started",
    "finished",
    "seconds",
)
COLUMNS = {
    "meta": ("key", "value"),
    "experiments": ("name", "definition", "root_seed", "code_version", "created"),
    "runs": RUN_COLUMNS,
    "steps": ("experiment", "run_key", "step", *OUTPUTS),
}


class StoreError(Exception):
    """The database cannot be used (wrong schema version, not a results file, unwritable)."""


class StoreWriteError(StoreError):
    """A write failed (disk full, locked, I/O error) and was rolled back; what was recorded before stays."""


def scenario_hash(params: dict[str, Any]) -> str:
    """A stable hash of a full parameter set."""
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]


class Store:
    """A results database at ``path`` (created with its schema if new)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)  # `--db results/new.db` on a fresh clone
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a directory, not a results database")
        try:
            self.db = sqlite_utils.Database(self.path)
        except Exception as err:  # sqlite3.OperationalError for a folder that cannot be written, ...
            raise StoreError(f"{self.path}: cannot be used as a results database ({err})") from None
        try:
            self._ensure_schema()  # before anything is changed, WAL mode included
            self.db.enable_wal()
            limit = os.environ.get(MAX_PAGES_ENV)
            if limit:
                self.db.execute(f"PRAGMA max_page_count = {int(limit)}")
        except StoreError:
            self.db.close()
            raise
        except Exception as err:  # sqlite3.DatabaseError for a file that is not a database, OSError, ...
            self.db.close()
            raise StoreError(f"{self.path}: cannot be used as a results database ({err})") from None

    @classmethod
    def existing(cls, path: str | Path) -> Store:
        """Open a results database that must already exist (reading never creates one)."""
        if not Path(path).is_file():
            raise StoreError(f"{path}: no such results database")
        return cls(path)

    def _ensure_schema(self) -> None:
        db = self.db
        if "meta" in db.table_names():
            row = next(iter(db["meta"].rows_where("key = ?", ["schema_version"])), None)
            found = int(row["value"]) if row else 0
            if found != SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path}: results schema version {found}, this code reads version {SCHEMA_VERSION}; "
                    "write to a new --db file"
                )
            for table, columns in COLUMNS.items():
                have = set(db[table].columns_dict) if table in db.table_names() else set()
                lacking = [c for c in columns if c not in have]
                if lacking:
                    what = f"lacks table {table}" if not have else f"table {table} lacks {', '.join(lacking)}"
                    raise StoreError(
                        f"{self.path}: {what}: written by another version of this code (schema version "
                        f"{found}); write to a new --db file"
                    )
            return
        if db.table_names():
            raise StoreError(f"{self.path}: an SQLite file that is not a coproduction-abm results database")
        with db.atomic():
            db["meta"].insert({"key": "schema_version", "value": str(SCHEMA_VERSION)}, pk="key")
            db["experiments"].create(
                {"name": str, "definition": str, "root_seed": int, "code_version": str, "created": str},
                pk="name",
            )
            db["runs"].create(
                {
                    "experiment": str,
                    "run_key": str,
                    "scenario": str,
                    "params": str,
                    "scenario_hash": str,
                    "seed": int,
                    "code_version": str,
                    "status": str,
                    "error": str,
                    "started": str,
                    "finished": str,
                    "seconds": float,
                },
                pk=("experiment", "run_key"),
            )
            db["steps"].create(
                {"experiment": str, "run_key": str, "step": int, **dict.fromkeys(OUTPUTS, float)},
                pk=("experiment", "run_key", "step"),
            )
            db["runs"].create_index(["experiment", "status"])

    # ------------------------------------------------------------------------------------ writing

    @contextmanager
    def _writing(self, what: str) -> Iterator[None]:
        """One transaction; a failed write is rolled back and raised as :class:`StoreWriteError`.

        It takes the write lock first (``BEGIN IMMEDIATE``), so that a file another connection is
        writing is waited for up to SQLite's busy timeout (5 s), not refused at once.
        """
        conn = self.db.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as err:
            raise StoreWriteError(
                f"{self.path}: could not record {what} ({err}); nothing of it was written, and what was "
                "recorded before is whole"
            ) from None

    def record_experiment(self, name: str, definition: dict, root_seed: int, code_version: str) -> None:
        if self._has("experiments", name):
            return
        with self._writing(f"experiment {name!r}"):
            self.db["experiments"].insert(
                {
                    "name": name,
                    "definition": json.dumps(definition, sort_keys=True),
                    "root_seed": root_seed,
                    "code_version": code_version,
                    "created": _now(),
                }
            )

    def record_run(
        self,
        *,
        experiment: str,
        run_key: str,
        scenario: str,
        params: dict[str, Any],
        seed: int,
        code_version: str,
        status: str,
        rows: list[dict[str, float]],
        error: str = "",
        started: str = "",
        seconds: float = 0.0,
    ) -> None:
        """Write one run and its steps in one transaction, replacing any earlier attempt."""
        with self._writing(f"run {run_key!r}"):  # one explicit transaction: the run and its steps, or nothing
            self.db.execute("DELETE FROM steps WHERE experiment = ? AND run_key = ?", [experiment, run_key])
            self.db["runs"].upsert(
                {
                    "experiment": experiment,
                    "run_key": run_key,
                    "scenario": scenario,
                    "params": json.dumps(params, sort_keys=True),
                    "scenario_hash": scenario_hash(params),
                    "seed": seed,
                    "code_version": code_version,
                    "status": status,
                    "error": error,
                    "started": started or _now(),
                    "finished": _now(),
                    "seconds": seconds,
                },
                pk=("experiment", "run_key"),
            )
            if rows:
                self.db["steps"].insert_all(
                    ({"experiment": experiment, "run_key": run_key, **row} for row in rows),
                    pk=("experiment", "run_key", "step"),
                )

    # ------------------------------------------------------------------------------------ reading

    def keys(self, experiment: str, status: str | None = None) -> set[str]:
        where, args = "experiment = ?", [experiment]
        if status is not None:
            where += " AND status = ?"
            args.append(status)
        return {r["run_key"] for r in self.db["runs"].rows_where(where, args, select="run_key")}

    def run(self, experiment: str, run_key: str) -> dict | None:
        rows = list(self.db["runs"].rows_where("experiment = ? AND run_key = ?", [experiment, run_key]))
        return rows[0] if rows else None

    def steps(self, experiment: str, run_key: str) -> list[dict]:
        return list(
            self.db["steps"].rows_where(
                "experiment = ? AND run_key = ?", [experiment, run_key], order_by="step"
            )
        )

    def experiment(self, name: str) -> dict | None:
        """The experiments row for ``name`` with its definition parsed, or None."""
        rows = list(self.db["experiments"].rows_where("name = ?", [name]))
        if not rows:
            return None
        return {**rows[0], "definition": json.loads(rows[0]["definition"])}

    def experiment_names(self) -> list[str]:
        return [r["name"] for r in self.db["experiments"].rows_where(order_by="created, name", select="name")]

    def statuses(self, experiment: str) -> dict[str, str]:
        """``{run_key: status}`` for every recorded run of ``experiment``."""
        rows = self.db["runs"].rows_where("experiment = ?", [experiment], select="run_key, status")
        return {r["run_key"]: r["status"] for r in rows}

    def runs_of(self, experiment: str, status: str | None = None) -> list[dict]:
        """The runs rows of ``experiment`` (optionally of one status), ordered by run key."""
        where, args = "experiment = ?", [experiment]
        if status is not None:
            where += " AND status = ?"
            args.append(status)
        return list(self.db["runs"].rows_where(where, args, order_by="run_key"))

    def steps_of(self, experiment: str) -> Iterator[dict]:
        """Every steps row of ``experiment``, ordered by run key and step."""
        return self.db["steps"].rows_where("experiment = ?", [experiment], order_by="run_key, step")

    def experiments_with_run(self, run_key: str) -> list[str]:
        rows = self.db["runs"].rows_where("run_key = ?", [run_key], select="experiment")
        return sorted(r["experiment"] for r in rows)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _has(self, table: str, pk: Any) -> bool:
        try:
            self.db[table].get(pk)
            return True
        except sqlite_utils.db.NotFoundError:
            return False


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
