"""A workshop's record: new tables in the same SQLite results file as sweeps, written through sqlite-utils.

The file is opened as a results database first (:class:`experiments.store.Store`: its schema is checked,
or created in a new file, and WAL mode is set), so a sweep's file can hold workshops and a workshop's file
can take sweeps; the sweep tables (``meta``, ``experiments``, ``runs``, ``steps``, ``discoveries``) are
never changed here, except that ``meta`` gains the row ``workshop_schema_version``. A file whose
workshop tables are of another version is refused (:class:`experiments.store.StoreError`) before
anything is written.

Tables (times: ``created`` as ISO 8601 text, every other time in seconds since the epoch):

- ``workshops``: one row per workshop, primary key ``id``: ``name``, ``scenario`` (the scenario as the TOML
  text of the settings it states; :func:`coprod.workshop.replay.scenario_text`), ``seed``,
  ``months_per_round``, ``join_code`` (kept **plain**: it is shown on the room's screen and is no secret
  beyond the room), ``facilitator_hash`` (SHA-256 of the facilitator's token; the token itself is never
  stored, and a resumed workshop gets a new one), ``current_branch``, ``created``, ``code_version``;
- ``workshop_participants``: primary key ``(workshop, token_hash)``: ``token_hash`` (SHA-256 of the
  participant's token, never the token), ``name`` (the display name they typed; no other personal data),
  ``role``, ``agent`` (the row of the agent they play), ``district`` and ``marginalised`` (the agent's, for
  residents), ``joined``;
- ``workshop_branches``: primary key ``(workshop, branch)``: ``parent`` (NULL for the first branch,
  ``main``), ``from_round`` (the round of the parent it starts after; 0 for ``main``), ``created``;
- ``workshop_rounds``: primary key ``(workshop, branch, round)`` (rounds count from 1): ``months``,
  ``design`` and ``theory`` (the kinds in force during the round), ``redesign_design`` and
  ``redesign_theory`` (what the facilitator changed before the round, NULL when nothing; an
  "institutional experiment", applied with ``GovernanceModel.redesign`` before the round's months),
  ``note`` (the facilitator's words on it), ``opened``, ``deadline``, ``closed`` (NULL while the round is
  open; a row with ``opened`` NULL is a redesign waiting for its round to open);
- ``workshop_choices``: primary key ``(workshop, branch, round, agent)``: ``participant`` (the token hash
  of who played the agent), ``payload`` (the checked choices as JSON, :func:`coprod.model.choices.check`;
  ``{}`` when simulated), ``source`` (``human``, or ``simulated`` for a participant who made no choice by
  the close of the round), ``at``;
- ``workshop_steps``: primary key ``(workshop, branch, month)``, one column per output
  (:data:`coprod.model.OUTPUTS`) as in the sweeps' ``steps`` table; month 0 is the city before the first
  round.

A branch made by rewinding holds its whole history: the rows of its parent's rounds up to ``from_round``
(rounds, choices and steps) are copied into it, so a branch is replayed from its own rows alone
(:mod:`coprod.workshop.replay`), and the parent's rows are never touched.

Each write is one transaction (``BEGIN IMMEDIATE``); a failed write is rolled back and raised as
:class:`experiments.store.StoreWriteError`. The connection may be used from several threads: the
:class:`coprod.workshop.engine.Workshop` serialises every call with its lock.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlite_utils
from coprod.experiments.store import BUSY_TIMEOUT_S, Store, StoreError, sqlite_problem, transaction
from coprod.model import OUTPUTS

WORKSHOP_SCHEMA_VERSION = 1
META_KEY = "workshop_schema_version"
TABLES: dict[str, tuple[dict[str, type], tuple[str, ...]]] = {
    "workshops": (
        {
            "id": str,
            "name": str,
            "scenario": str,
            "seed": int,
            "months_per_round": int,
            "join_code": str,
            "facilitator_hash": str,
            "current_branch": str,
            "created": str,
            "code_version": str,
        },
        ("id",),
    ),
    "workshop_participants": (
        {
            "workshop": str,
            "token_hash": str,
            "name": str,
            "role": str,
            "agent": int,
            "district": int,
            "marginalised": int,
            "joined": float,
        },
        ("workshop", "token_hash"),
    ),
    "workshop_branches": (
        {"workshop": str, "branch": str, "parent": str, "from_round": int, "created": str},
        ("workshop", "branch"),
    ),
    "workshop_rounds": (
        {
            "workshop": str,
            "branch": str,
            "round": int,
            "months": int,
            "design": str,
            "theory": str,
            "redesign_design": str,
            "redesign_theory": str,
            "note": str,
            "opened": float,
            "deadline": float,
            "closed": float,
        },
        ("workshop", "branch", "round"),
    ),
    "workshop_choices": (
        {
            "workshop": str,
            "branch": str,
            "round": int,
            "agent": int,
            "participant": str,
            "payload": str,
            "source": str,
            "at": float,
        },
        ("workshop", "branch", "round", "agent"),
    ),
    "workshop_steps": (
        {"workshop": str, "branch": str, "month": int, **dict.fromkeys(OUTPUTS, float)},
        ("workshop", "branch", "month"),
    ),
}
# tables copied into a branch made by rewinding, with the column that says how far
_BRANCH_COPIED = (("workshop_rounds", "round"), ("workshop_choices", "round"), ("workshop_steps", "month"))


def token_hash(token: str) -> str:
    """What is stored for a token: its SHA-256 (tokens are long random strings, so no salt is needed)."""
    return hashlib.sha256(str(token).encode()).hexdigest()


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def workshop_ids(db: sqlite_utils.Database) -> list[str]:
    """The workshops of the results file open as ``db``, the most recent first; none without the tables."""
    if "workshops" not in db.table_names():
        return []
    return [r[0] for r in db.execute("SELECT id FROM workshops ORDER BY created DESC, rowid DESC")]


class WorkshopRecord:
    """The workshop tables of one results file. ``WorkshopRecord(path)`` opens it for writing (creating the
    file and its tables if needed); :meth:`existing` opens it read-only (``coprod workshop replay``)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.read_only = False
        Store(self.path).close()  # the results database's own schema, checked or made, and WAL mode
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
            self.db = sqlite_utils.Database(conn)
            self._ensure_tables()
        except sqlite3.Error as err:
            raise sqlite_problem(self.path, err, "set up the workshop tables") from None

    @classmethod
    def existing(cls, path: str | Path) -> WorkshopRecord:
        """Open a results file read-only; :class:`StoreError` if it is none or holds no workshops."""
        store = Store.existing(path)  # refuses a missing, empty or foreign file with one line
        store.close()
        record = cls.__new__(cls)
        record.path, record.read_only = Path(path), True
        uri = f"file:{quote(str(record.path.resolve()))}?mode=ro"
        try:
            record.db = sqlite_utils.Database(
                sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
            )
            if "workshops" not in record.db.table_names():
                record.db.close()
                raise StoreError(f"{path}: holds no workshops (record one with `coprod workshop SCENARIO`)")
            record._check_version()
        except sqlite3.Error as err:
            raise sqlite_problem(record.path, err, "read the workshop record") from None
        return record

    # ---------------------------------------------------------------------------------- schema

    def _check_version(self) -> None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [META_KEY]).fetchone()
        found = int(row[0]) if row and str(row[0]).isdigit() else 0
        if found != WORKSHOP_SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: workshop tables of schema version {found}, this code reads version "
                f"{WORKSHOP_SCHEMA_VERSION}; use another --db file"
            )
        for table, (columns, _) in TABLES.items():
            have = set(self.db[table].columns_dict) if table in self.db.table_names() else set()
            lacking = [c for c in columns if c not in have]
            if lacking:
                raise StoreError(
                    f"{self.path}: table {table} lacks {', '.join(lacking)}: written by another version of "
                    "this code; use another --db file"
                )

    def _ensure_tables(self) -> None:
        """Check the workshop tables, or make them, in one write transaction."""
        with self._writing("the workshop tables"):
            if "workshops" in self.db.table_names():
                self._check_version()
                return
            stranger = [t for t in TABLES if t in self.db.table_names()]
            if stranger:
                raise StoreError(f"{self.path}: has a table {stranger[0]} that this code did not make")
            for table, (columns, pk) in TABLES.items():
                self.db[table].create(columns, pk=pk if len(pk) > 1 else pk[0])
            self.db["meta"].insert({"key": META_KEY, "value": str(WORKSHOP_SCHEMA_VERSION)}, pk="key")

    def _writing(self, what: str):
        """One transaction (:func:`coprod.experiments.store.transaction`); refused when read-only."""
        if self.read_only:
            raise StoreError(f"{self.path}: opened read-only; cannot record {what}")
        return transaction(self.db.conn, self.path, what)

    def close(self) -> None:
        self.db.close()

    # --------------------------------------------------------------------------------- writing

    def add_workshop(self, row: dict[str, Any], steps0: dict[str, float]) -> None:
        """A new workshop, its first branch ``main`` and the city's month 0, together."""
        with self._writing(f"workshop {row['id']!r}"):
            self.db["workshops"].insert(row)
            self.db["workshop_branches"].insert(
                {
                    "workshop": row["id"],
                    "branch": row["current_branch"],
                    "parent": None,
                    "from_round": 0,
                    "created": now_iso(),
                }
            )
            self._insert_steps(row["id"], row["current_branch"], [{"month": 0, **steps0}])

    def set_workshop(self, workshop: str, **values: Any) -> None:
        with self._writing(f"workshop {workshop!r}"):
            self.db["workshops"].update(workshop, values)

    def add_participant(self, row: dict[str, Any]) -> None:
        with self._writing(f"participant {row['name']!r}"):
            self.db["workshop_participants"].insert(row)

    def put_round(self, row: dict[str, Any]) -> None:
        """Make or update a round's row (a redesign waiting for its round, an opened round)."""
        with self._writing(f"round {row['round']}"):
            self.db["workshop_rounds"].upsert(row, pk=TABLES["workshop_rounds"][1])

    def put_choice(self, row: dict[str, Any]) -> None:
        """A participant's choice for an open round, replacing their earlier one."""
        with self._writing(f"a choice for round {row['round']}"):
            self.db["workshop_choices"].upsert(row, pk=TABLES["workshop_choices"][1])

    def close_round(
        self, key: tuple[str, str, int], closed: float, simulated: list[dict], steps: list[dict]
    ) -> None:
        """A closed round: its close time, the 'simulated' rows of those who made no choice and the outputs
        of each of its months, in one transaction."""
        workshop, branch, round_no = key
        with self._writing(f"round {round_no}"):
            self.db["workshop_rounds"].update(key, {"closed": closed})
            if simulated:
                self.db["workshop_choices"].insert_all(simulated)
            self._insert_steps(workshop, branch, steps)

    def add_branch(self, workshop: str, branch: str, parent: str, from_round: int) -> None:
        """A branch from ``parent`` after ``from_round``: the parent's rows up to it are copied into it."""
        with self._writing(f"branch {branch!r}"):
            self.db["workshop_branches"].insert(
                {
                    "workshop": workshop,
                    "branch": branch,
                    "parent": parent,
                    "from_round": from_round,
                    "created": now_iso(),
                }
            )
            last_month = self.db.execute(
                "SELECT coalesce(sum(months), 0) FROM workshop_rounds "
                "WHERE workshop = ? AND branch = ? AND round <= ? AND closed IS NOT NULL",
                [workshop, parent, from_round],
            ).fetchone()[0]
            for table, column in _BRANCH_COPIED:
                limit = last_month if column == "month" else from_round
                extra = " AND closed IS NOT NULL" if table == "workshop_rounds" else ""
                rows = [
                    {**r, "branch": branch}
                    for r in self.db[table].rows_where(
                        f"workshop = ? AND branch = ? AND {column} <= ?{extra}", [workshop, parent, limit]
                    )
                ]
                if rows:
                    self.db[table].insert_all(rows)
            self.db["workshops"].update(workshop, {"current_branch": branch})

    def _insert_steps(self, workshop: str, branch: str, rows: list[dict]) -> None:
        self.db["workshop_steps"].insert_all(
            {"workshop": workshop, "branch": branch, **{k: row[k] for k in ("month", *OUTPUTS)}}
            for row in rows
        )

    # --------------------------------------------------------------------------------- reading

    def workshop(self, workshop: str) -> dict | None:
        rows = list(self.db["workshops"].rows_where("id = ?", [workshop]))
        return rows[0] if rows else None

    def workshop_ids(self) -> list[str]:
        """Every workshop, the most recent first."""
        return workshop_ids(self.db)

    def participants(self, workshop: str) -> list[dict]:
        return list(self.db["workshop_participants"].rows_where("workshop = ?", [workshop], order_by="rowid"))

    def branches(self, workshop: str) -> list[dict]:
        return list(self.db["workshop_branches"].rows_where("workshop = ?", [workshop], order_by="rowid"))

    def rounds(self, workshop: str, branch: str) -> list[dict]:
        return list(
            self.db["workshop_rounds"].rows_where(
                "workshop = ? AND branch = ?", [workshop, branch], order_by="round"
            )
        )

    def choices(self, workshop: str, branch: str, round_no: int | None = None) -> list[dict]:
        where, params = "workshop = ? AND branch = ?", [workshop, branch]
        if round_no is not None:
            where, params = where + " AND round = ?", [*params, round_no]
        return list(self.db["workshop_choices"].rows_where(where, params, order_by="round, agent"))

    def steps(self, workshop: str, branch: str) -> list[dict]:
        return [
            {k: r[k] for k in ("month", *OUTPUTS)}
            for r in self.db["workshop_steps"].rows_where(
                "workshop = ? AND branch = ?", [workshop, branch], order_by="month"
            )
        ]


def payload_text(payload: dict[str, Any]) -> str:
    """A checked payload as stored: JSON with sorted keys (the same choice is the same text)."""
    return json.dumps(payload, sort_keys=True)
