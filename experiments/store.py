"""The results database: one SQLite file, written through sqlite-utils, readable in Datasette as it is.

Tables:

- ``meta``: ``key``, ``value`` (``schema_version``);
- ``experiments``: ``name`` (primary key), ``definition`` (JSON), ``root_seed``, ``code_version``,
  ``created``;
- ``runs``: one row per run, primary key ``(experiment, run_key)``: ``scenario``, ``params`` (every
  parameter as JSON), ``scenario_hash``, ``seed``, ``code_version``, ``status`` (``done``, ``failed``,
  ``timed_out``), ``error``, ``started``, ``finished``, ``seconds``, and where the run sits in its
  experiment's design: ``sample`` (the sample index of a sampled design, NULL for a grid) and
  ``replication`` (NULL for ``coprod run --db``'s single runs);
- ``steps``: one row per run and recorded step, primary key ``(experiment, run_key, step)``, one column per
  output named as in DESIGN.md;
- ``discoveries`` (made by the first ``coprod discover``): one row per scenario discovery, primary key
  ``(experiment, condition, month)``: ``created``, ``code_version`` and ``result``, the chosen box, the
  peeling trajectory and CART's rules as JSON (:func:`experiments.discovery.to_record`).

Views, for Datasette and plain SQL (they hold nothing of their own; see :func:`flat_view_sql`):

- ``runs_flat``: one row per run of every experiment, in plain columns: ``experiment``, ``run_key``,
  ``scenario``, ``design`` and ``theory`` (``design.kind`` and ``theory.kind`` out of ``params``),
  ``sample``, ``replication``, ``seed``, ``status``, ``final_step`` and every output at the last recorded
  step;
- ``experiment_<name>``: the same for one recorded experiment, with each of its factors as a column
  named by its dotted key (``"context.inequality"``), between ``status`` and ``final_step``.

A view per experiment, because factors differ between experiments and a column that is empty for every
other experiment's rows is noise; every other parameter is fixed by the run's base scenario (``scenario``).
The views are made with the schema and brought up to date whenever a file is opened for writing (a view
is replaced only when its SQL changed); a file opened read-only is never changed, so one written by an
older version has no views until it is next written to.

One writer: each run is written in one transaction (its steps and its run row together), so a run is
either wholly there or not at all. WAL mode lets readers (Datasette, the dashboard) open it mid-sweep; a
reader that holds a read transaction open keeps seeing the snapshot it started with.

A write that fails (the disk is full, the file is locked for longer than the busy timeout, an I/O error)
rolls its transaction back and raises :class:`StoreWriteError`: every run recorded before stays whole.
A file from another schema version (or one that lacks a table or a column this code writes) is refused
with :class:`StoreError` before anything in it is changed, WAL mode included. One migration only: a file
written before the ``sample`` and ``replication`` columns gets them, filled from its run keys (the key
names both, see :func:`experiments.design.run_key`), when it is next opened for writing; read-only, it is
read as it is (:func:`design_position` parses the key then).

Test-only fault hook: with the environment variable ``COPROD_FAULT_MAX_PAGES=<n>`` set, every connection
limits the database to ``n`` pages (``PRAGMA max_page_count``), so that a test can fill the "disk" and
check what a sweep does then; it has no other use.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import sqlite3
import stat
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlite_utils
from coprod.model import OUTPUTS, PARAMETERS
from sqlite_utils.db import quote_identifier

SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 5.0  # how long a write waits for another connection's lock (SQLite's busy timeout)
MAX_PAGES_ENV = "COPROD_FAULT_MAX_PAGES"
FLAT_VIEW = "runs_flat"  # every run in plain columns; one view per experiment adds its factors
DISCOVERIES = "discoveries"  # scenario discoveries, kept beside the runs they were found in
EXPERIMENT_VIEW = "experiment_"  # prefix of each experiment's view: experiment_<name>
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
# where a run sits in its experiment's design; added to files written before them (see _add_position)
POSITION_COLUMNS = ("sample", "replication")
COLUMNS = {
    "meta": ("key", "value"),
    "experiments": ("name", "definition", "root_seed", "code_version", "created"),
    "runs": RUN_COLUMNS,
    "steps": ("experiment", "run_key", "step", *OUTPUTS),
}


@contextmanager
def transaction(conn: sqlite3.Connection, path, what: str) -> Iterator[None]:
    """One transaction on ``conn`` (the file at ``path``); a failed write is rolled back and raised as
    :class:`StoreWriteError`, which names ``what`` could not be recorded.

    It takes the write lock first (``BEGIN IMMEDIATE``), so that a file another connection is writing is
    waited for up to SQLite's busy timeout (5 s), not refused at once. The results file's experiment tables
    (:class:`Store`) and its workshop tables (:class:`coprod.workshop.record.WorkshopRecord`) both write
    through it.
    """
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
            f"{path}: could not record {what} ({err}); nothing of it was written, and what was "
            f"recorded before is whole; {_ADVICE.get(_code(err), 'check the disk and the file')}"
        ) from None


class StoreError(Exception):
    """The file cannot be used as a results database (not one, wrong schema version, damaged): the
    user's input, exit status 2."""


class StoreFault(Exception):
    """The machine refused (the disk is full, the file or its folder is read-only, another program holds
    the lock, an I/O error): not the user's input, exit status 1."""


class StoreWriteError(StoreFault):
    """A write failed (disk full, locked, I/O error) and was rolled back; what was recorded before stays."""


# SQLite's primary result codes that mean "this file is not (or no longer) a results database" (the user's
# input); every other failure is the machine's (https://www.sqlite.org/rescode.html)
_NOT_A_DATABASE = {"SQLITE_NOTADB", "SQLITE_CORRUPT", "SQLITE_FORMAT"}
_ADVICE = {
    "SQLITE_FULL": "make room",
    "SQLITE_READONLY": "the file or its folder is read-only; make it writable or use another --db",
    "SQLITE_BUSY": "another program holds the database; close it, or wait",
    "SQLITE_LOCKED": "another program holds the database; close it, or wait",
    "SQLITE_CANTOPEN": "the file or its folder cannot be opened for writing; check its permissions",
    "SQLITE_PERM": "permission denied; check the file's permissions",
    "SQLITE_IOERR": "the disk reported an input/output error",
}


def sqlite_problem(path: Path, err: sqlite3.Error, doing: str) -> StoreError | StoreFault:
    """One plain error for an SQLite failure while ``doing`` something: whose fault, and what to do."""
    code = _code(err)
    if code in _NOT_A_DATABASE or (isinstance(err, sqlite3.DatabaseError) and "not a database" in str(err)):
        what = "is damaged" if code == "SQLITE_CORRUPT" or "malformed" in str(err) else "is not a database"
        return StoreError(f"{path}: {what} ({err}); could not {doing}, nothing was written")
    advice = _ADVICE.get(code, "check the disk and the file")
    return StoreFault(f"{path}: could not {doing} ({err}): {advice}, then run the same command again")


def _code(err: sqlite3.Error) -> str:
    """SQLite's primary result code name: ``SQLITE_IOERR_WRITE`` -> ``SQLITE_IOERR``."""
    return "_".join((getattr(err, "sqlite_errorname", "") or "").split("_")[:2])


def scenario_hash(params: dict[str, Any]) -> str:
    """A stable hash of a full parameter set."""
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]


class Store:
    """A results database at ``path``, opened for writing and created with its schema if new;
    :meth:`existing` opens one read-only."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.read_only = False
        existed = self.path.exists()
        if existed:
            _check_regular(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)  # `--db results/new.db` on a fresh clone
        except OSError as err:
            raise os_problem(self.path.parent, err, "make the folder for the results database") from None
        try:
            self.db = sqlite_utils.Database(sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S))
        except sqlite3.Error as err:  # a folder that cannot be written, ...
            raise sqlite_problem(self.path, err, "open the results database") from None
        try:
            self._ensure_schema()  # in one write transaction, before anything is changed, WAL mode included
            self._enable_wal()
            limit = os.environ.get(MAX_PAGES_ENV)
            if limit:
                self.db.execute(f"PRAGMA max_page_count = {int(limit)}")
        except (StoreError, StoreFault):
            self._abandon(existed)
            raise
        except sqlite3.Error as err:
            self._abandon(existed)
            raise sqlite_problem(self.path, err, "set up the results database") from None
        except OSError as err:
            self._abandon(existed)
            raise os_problem(self.path, err, "set up the results database") from None

    def _enable_wal(self) -> None:
        """Switch to WAL mode (readers never block the writer). Changing the journal mode needs the file
        to itself, and SQLite answers "locked" at once, without its busy timeout, while another process
        is opening the same new file; so it is retried for up to the busy timeout."""
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                self.db.enable_wal()
                return
            except sqlite3.OperationalError as err:
                if _code(err) not in ("SQLITE_BUSY", "SQLITE_LOCKED") or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _abandon(self, existed: bool) -> None:
        """Close; a file this call created and could not set up is removed (no 0-byte file is left),
        unless another process has meanwhile put tables in it."""
        self.db.close()
        if existed or not self.path.is_file():
            return
        if self.path.stat().st_size == 0 or not _has_results(self.path):
            for suffix in ("", "-wal", "-shm", "-journal"):
                self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)

    @classmethod
    def existing(cls, path: str | Path) -> Store:
        """Open an existing results database read-only, for commands that only read (``analyze``,
        ``rerun``): nothing is created or changed, not even its journal mode, so a read-only folder or a
        file from someone else is fine. Reading never creates a file, and an empty file is refused."""
        store = cls.__new__(cls)
        store.path, store.read_only = Path(path), True
        if not store.path.exists():
            raise StoreError(f"{path}: no such results database")
        size = _check_regular(store.path)
        if size == 0:
            raise StoreError(f"{path}: an empty file, not a results database")
        uri = f"file:{quote(str(store.path.resolve()))}?mode=ro"
        try:
            store.db = sqlite_utils.Database(sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S))
            store._check_schema()
        except sqlite3.OperationalError as err:
            if getattr(err, "sqlite_errorname", "") != "SQLITE_CANTOPEN" or not hasattr(store, "db"):
                raise sqlite_problem(store.path, err, "read the results database") from None
            # a WAL file in a folder this process cannot write (no -shm beside it): read the file as it
            # is; nothing can be writing it from here, as a writer needs that folder too (a -wal file
            # left there by a writer that died is not read: its last transactions are not seen)
            store.db.close()
            store.db = sqlite_utils.Database(
                sqlite3.connect(f"{uri}&immutable=1", uri=True, timeout=BUSY_TIMEOUT_S)
            )
            try:
                store._check_schema()
            except sqlite3.Error as err2:
                store.db.close()
                raise sqlite_problem(store.path, err2, "read the results database") from None
        except sqlite3.Error as err:
            if hasattr(store, "db"):
                store.db.close()
            raise sqlite_problem(store.path, err, "read the results database") from None
        except StoreError:
            store.db.close()
            raise
        return store

    def _check_schema(self) -> bool:
        """Refuse a file of another schema version or that lacks a table or column this code uses.

        True when the file holds the schema, False when it holds no tables at all.
        """
        db = self.db
        tables = db.table_names()
        if "meta" not in tables:
            if tables:
                raise StoreError(
                    f"{self.path}: an SQLite file that is not a coproduction-abm results database"
                )
            if self.read_only:
                raise StoreError(
                    f"{self.path}: an SQLite file with no results in it (not a results database)"
                )
            return False
        row = next(iter(db["meta"].rows_where("key = ?", ["schema_version"])), None)
        try:
            found = int(row["value"]) if row else 0
        except (TypeError, ValueError):
            found = 0
        if found != SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: results schema version {found}, this code reads version {SCHEMA_VERSION}; "
                "write to a new --db file"
            )
        for table, columns in COLUMNS.items():
            have = set(db[table].columns_dict) if table in tables else set()
            lacking = [c for c in columns if c not in have]
            if lacking:
                what = f"lacks table {table}" if not have else f"table {table} lacks {', '.join(lacking)}"
                raise StoreError(
                    f"{self.path}: {what}: written by another version of this code (schema version "
                    f"{found}); write to a new --db file"
                )
        return True

    def _ensure_schema(self) -> None:
        """Check the schema, or create it in a new file, in one write transaction (``BEGIN IMMEDIATE``).

        Taking the write lock first makes two processes creating one new database at once take turns:
        the second waits (busy timeout), then finds the schema the first made.
        """
        conn = self.db.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            if not self._check_schema():
                self._create_schema()
            self._add_position()
            # a write that changes nothing: a read-only file is found now, before any run is computed
            conn.execute("UPDATE meta SET value = value WHERE key = 'schema_version'")
            self._make_views()
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _add_position(self) -> None:
        """Give a file written before them the ``sample`` and ``replication`` columns, filled from the run
        keys (inside :meth:`_ensure_schema`'s transaction)."""
        have = set(self.db["runs"].columns_dict)
        missing = [c for c in POSITION_COLUMNS if c not in have]
        if not missing:
            return
        for column in missing:
            self.db.execute(f"ALTER TABLE runs ADD COLUMN {column} INTEGER")
        rows = self.db.execute("SELECT rowid, run_key FROM runs").fetchall()
        self.db.conn.executemany(
            "UPDATE runs SET sample = ?, replication = ? WHERE rowid = ?",
            [(*design_position(str(key)), rowid) for rowid, key in rows],
        )

    def _create_schema(self) -> None:
        db = self.db
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
                "sample": int,
                "replication": int,
            },
            pk=("experiment", "run_key"),
        )
        db["steps"].create(
            {"experiment": str, "run_key": str, "step": int, **dict.fromkeys(OUTPUTS, float)},
            pk=("experiment", "run_key", "step"),
        )
        db["runs"].create_index(["experiment", "status"])

    def _make_views(self) -> None:
        """Create ``runs_flat`` and each recorded experiment's view, or replace one whose SQL changed."""
        self._make_view(FLAT_VIEW, flat_view_sql())
        for row in self.db["experiments"].rows_where(select="name, definition"):
            if isinstance(row["name"], str) and "\x00" not in row["name"]:  # SQL text cannot hold a NUL
                self._make_experiment_view(row["name"], row["definition"])

    def _make_experiment_view(self, name: str, definition: str) -> None:
        try:
            data = json.loads(definition)
            # the crossed values (the arms of a paired design) are columns too
            keys = [f.get("key") for f in [*data.get("cross", []), *data.get("factors", [])]]
        except (TypeError, ValueError, AttributeError):  # a stranger's definition: no factor columns
            keys = []
        # only keys the schema declares reach the SQL, whoever wrote the stored definition
        factors = [k for k in keys if isinstance(k, str) and k in PARAMETERS]
        self._make_view(f"{EXPERIMENT_VIEW}{name}", flat_view_sql(name, factors))

    def _make_view(self, name: str, sql: str) -> None:
        if name not in self.db.table_names():  # a stranger's table of that name is left alone
            self.db.create_view(name, sql, replace=True)

    # ------------------------------------------------------------------------------------ writing

    def _writing(self, what: str):
        """One transaction of this file (:func:`transaction`)."""
        return transaction(self.db.conn, self.path, what)

    def record_experiment(self, name: str, definition: dict, root_seed: int, code_version: str) -> None:
        if self._has("experiments", name):
            return
        text = json.dumps(definition, sort_keys=True)
        with self._writing(f"experiment {name!r}"):
            self.db["experiments"].insert(
                {
                    "name": name,
                    "definition": text,
                    "root_seed": root_seed,
                    "code_version": code_version,
                    "created": _now(),
                }
            )
            self._make_experiment_view(name, text)

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
        sample: int | None = None,
        replication: int | None = None,
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
                    "sample": sample,
                    "replication": replication,
                },
                pk=("experiment", "run_key"),
            )
            if rows:
                self.db["steps"].insert_all(
                    ({"experiment": experiment, "run_key": run_key, **row} for row in rows),
                    pk=("experiment", "run_key", "step"),
                )

    def record_discovery(
        self, experiment: str, condition: str, month: str, result: dict[str, Any], code_version: str
    ) -> None:
        """Keep one scenario discovery; a discovery of the same experiment, condition and month is
        replaced. ``result`` must be JSON without NaN (None in its place)."""
        row = {
            "experiment": experiment,
            "condition": condition,
            "month": month,
            "created": _now(),
            "code_version": code_version,
            "result": json.dumps(result, sort_keys=True, allow_nan=False),
        }
        with self._writing(f"discovery {condition!r}"):
            self.db[DISCOVERIES].upsert(row, pk=("experiment", "condition", "month"))

    def discoveries(self, experiment: str) -> list[dict]:
        """The stored discoveries of ``experiment``, oldest first (none in a file without the table)."""
        if DISCOVERIES not in self.db.table_names():
            return []
        return list(self.db[DISCOVERIES].rows_where("experiment = ?", [experiment], order_by="created"))

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


def flat_view_sql(experiment: str | None = None, factors: Sequence[str] = ()) -> str:
    """The ``SELECT`` behind ``runs_flat`` (all experiments) or behind one experiment's view, with a
    column per factor in ``factors`` (dotted keys the scenario schema declares)."""
    param = "json_extract(r.params, '$.\"{}\"')".format
    columns = [
        "r.experiment",
        "r.run_key",
        "r.scenario",
        f"{param('design.kind')} AS design",
        f"{param('theory.kind')} AS theory",
        "r.sample",
        "r.replication",
        "r.seed",
        "r.status",
        *(f"{param(key)} AS {quote_identifier(key)}" for key in factors),
        "s.step AS final_step",
        *(f"s.{quote_identifier(name)}" for name in OUTPUTS),
    ]
    where = "" if experiment is None else f"\nWHERE r.experiment = {_literal(experiment)}"
    return (
        "SELECT\n  " + ",\n  ".join(columns) + "\nFROM runs AS r\n"
        "LEFT JOIN steps AS s ON s.experiment = r.experiment AND s.run_key = r.run_key AND s.step = (\n"
        "  SELECT max(step) FROM steps WHERE experiment = r.experiment AND run_key = r.run_key)"
        f"{where}\nORDER BY r.experiment, r.run_key"
    )


_SAMPLE = re.compile(r"/sample=([0-9]{1,9})(/|$)")
_REP = re.compile(r"/rep=([0-9]{1,9})$")


def design_position(run_key: str) -> tuple[int | None, int | None]:
    """``(sample, replication)`` read off a run key, for files written before the columns held them:
    ``base/sample=00012/.../rep=3`` gives ``(12, 3)``; a part the key lacks is None."""
    sample, rep = _SAMPLE.search(run_key), _REP.search(run_key)
    return (int(sample.group(1)) if sample else None, int(rep.group(1)) if rep else None)


def _literal(text: str) -> str:
    """``text`` as an SQL string literal (a view's SQL cannot take parameters)."""
    return "'" + text.replace("'", "''") + "'"


def _check_regular(path: Path) -> int:
    """The size of ``path``, which must be a regular file (never a FIFO, a device or a folder)."""
    from coprod.model.files import kind_of

    try:
        info = path.stat()
    except OSError as err:
        raise os_problem(path, err, "look at the results database") from None
    if not stat.S_ISREG(info.st_mode):
        raise StoreError(f"{path}: is {kind_of(info.st_mode)}, not a results database")
    return info.st_size


def _has_results(path: Path) -> bool:
    """Whether ``path`` already holds tables (then a failed set-up leaves it alone)."""
    try:
        with sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True) as conn:
            return bool(conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0])
    except sqlite3.Error:
        return True  # unreadable: not ours to delete


# errno values that are the machine's state (exit 1), not a mistake in what the user typed (exit 2)
MACHINE_ERRNOS = {errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.ENOMEM, errno.EROFS}


def os_problem(path: Path, err: OSError, doing: str) -> StoreError | StoreFault:
    """One plain error for an operating-system failure while ``doing`` something with ``path``."""
    reason = err.strerror or str(err)
    if err.errno in (errno.EEXIST, errno.ENOTDIR):  # mkdir where a file stands, or a file as a folder
        reason = "part of the path is a file, not a folder"
    text = f"{path}: could not {doing} ({reason})"
    return StoreFault(text) if err.errno in MACHINE_ERRNOS else StoreError(text)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
