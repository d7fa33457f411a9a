"""Workshop mode: a room of participants plays one live simulated city; a facilitator steps, rewinds and
branches it.

Each participant takes over one agent (a resident of a district, an official, an academic, a group's
organiser; :mod:`coprod.model.choices`); every other agent stays simulated. The facilitator opens a round
(``months_per_round`` months, 3 by default, and an optional time limit), participants make their role's
choices, and closing the round plays its months: a participant who made no choice by then is played by the
simulation for that round, and recorded as ``simulated``. Between rounds the facilitator can change the
institutional design or theory of change (an "institutional experiment", recorded), and rewind to any
earlier round of the current branch to branch from there (the old branch is kept).

Everything is recorded as it happens (:mod:`coprod.workshop.record`), and a branch is the same city as a
replay of its record (:mod:`coprod.workshop.replay`): a rewound or resumed city is rebuilt by replaying.
Nothing here draws from the model's generator (roles go to the first untaken candidate), so playing does
not change the run beyond what the participants chose.

Every public method holds one lock (browser sessions call it from several threads at once), and every
change bumps :attr:`Workshop.version` (pages poll it). Tokens are checked here: a participant's token
reaches only that participant's agent, and the facilitator's methods take the facilitator's token.
"""

from __future__ import annotations

import functools
import hmac
import json
import math
import secrets
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from coprod.model import CONSENSUS, MARKERS, Scenario, ScenarioError, code_version, load_scenario
from coprod.model import choices as C
from coprod.workshop.record import WorkshopRecord, now_iso, payload_text, token_hash
from coprod.workshop.replay import (
    MAX_MONTHS,
    Round,
    first_difference,
    new_model,
    play_round,
    replay,
    rounds_from,
    row_of,
    scenario_from_text,
    scenario_text,
)

JOIN_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
JOIN_CODE_LENGTH = 6
MAIN = "main"
NAME_LIMIT = 40


class WorkshopError(Exception):
    """A request the workshop refuses, in one line a participant or facilitator can act on."""


@dataclass
class Participant:
    token: str
    name: str
    role: str
    agent: int
    district: int | None
    marginalised: bool | None
    joined: float


def _locked(method):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


class Workshop:
    """One live workshop over one results file. Make it with :meth:`start` or :meth:`resume`."""

    def __init__(self, record: WorkshopRecord, row: dict[str, Any], facilitator_token: str):
        self._lock = threading.RLock()
        self.record = record
        self.id: str = row["id"]
        self.name: str = row["name"]
        self.join_code: str = row["join_code"]
        self.facilitator_token = facilitator_token
        self.months_per_round: int = int(row["months_per_round"])
        self.scenario: Scenario = scenario_from_text(row["scenario"], f"workshop {self.id}")
        self.version = 0
        self._branch: str = row["current_branch"]
        self._rounds: list[Round] = []  # the closed rounds of the current branch
        self._open: dict[str, Any] | None = None  # the open round: round, months, opened, deadline
        self._remaining: float | None = None  # seconds left on the open round's clock while paused
        self._paused = False
        self._pending: dict[str, Any] = {}  # the redesign waiting for the next round: design, theory, note
        self._choices: dict[int, dict[str, Any]] = {}  # the open round's choices, by agent
        self._people: dict[str, Participant] = {}  # by token hash
        self.model = new_model(self.scenario)

    # ---------------------------------------------------------------------------------- making

    @classmethod
    def start(
        cls, scenario: str | Path | Scenario, db: Path, *, months_per_round: int = 3, name: str | None = None
    ) -> Workshop:
        """A new workshop on ``scenario`` (a scenario file or a :class:`Scenario`), recorded in ``db``."""
        scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        months_per_round = _months(months_per_round, "months_per_round")
        text = scenario_text(scenario)  # before anything is written
        record = WorkshopRecord(db)
        token = secrets.token_urlsafe(24)
        row = {
            "id": secrets.token_hex(4),
            "name": _name(name if name is not None else scenario.name, "workshop name"),
            "scenario": text,
            "seed": int(scenario.run.seed),
            "months_per_round": months_per_round,
            "join_code": "".join(secrets.choice(JOIN_ALPHABET) for _ in range(JOIN_CODE_LENGTH)),
            "facilitator_hash": token_hash(token),
            "current_branch": MAIN,
            "created": now_iso(),
            "code_version": code_version(),
        }
        workshop = cls(record, row, token)
        record.add_workshop(row, row_of(workshop.model))
        return workshop

    @classmethod
    def resume(cls, db: Path, workshop_id: str | None = None) -> Workshop:
        """Continue a recorded workshop (the most recent one without ``workshop_id``) from its last closed
        round, rebuilt by replaying its record; a round left open stays open with its stored choices. The
        facilitator gets a new token (only its hash was stored)."""
        record = WorkshopRecord(db)
        held = record.workshop_ids()
        if not held:
            raise WorkshopError(
                f"{db}: holds no workshop to resume; start one with `coprod workshop SCENARIO`"
            )
        if workshop_id is None:
            workshop_id = held[0]
        row = record.workshop(workshop_id)
        if row is None:
            raise WorkshopError(f"{db}: no workshop {workshop_id!r}; it holds {', '.join(held[:10])}")
        token = secrets.token_urlsafe(24)
        record.set_workshop(workshop_id, facilitator_hash=token_hash(token))
        workshop = cls(record, row, token)
        for p in record.participants(workshop_id):
            marginalised = None if p["marginalised"] is None else bool(p["marginalised"])
            workshop._people[p["token_hash"]] = Participant(
                "", p["name"], p["role"], int(p["agent"]), p["district"], marginalised, float(p["joined"])
            )
        workshop._load_branch(row["current_branch"])
        return workshop

    def _load_branch(self, branch: str) -> None:
        """Make ``branch`` current: its closed rounds replayed (and checked against its record), a round
        left open reopened with its stored choices, a redesign waiting restored."""
        rows = self.record.rounds(self.id, branch)
        choices = self.record.choices(self.id, branch)
        rounds = rounds_from(rows, choices)
        model, replayed = replay(self.scenario, rounds)
        difference = first_difference(self.record.steps(self.id, branch), replayed)
        if difference is not None:
            raise WorkshopError(
                f"workshop {self.id} branch {branch}: the record does not replay exactly ({difference}); "
                "it was made by other model code"
            )
        self.model, self._branch, self._rounds = model, branch, rounds
        self._open, self._pending, self._choices = None, {}, {}
        self._paused, self._remaining = False, None
        waiting = [r for r in rows if r["closed"] is None]
        if waiting:
            r = waiting[0]
            self._pending = {
                k: v
                for k, v in (
                    ("design", r["redesign_design"]),
                    ("theory", r["redesign_theory"]),
                    ("note", r["note"]),
                )
                if v
            }
            if r["opened"] is not None:
                self._open = {
                    "round": r["round"],
                    "months": r["months"],
                    "opened": r["opened"],
                    "deadline": r["deadline"],
                }
                self._choices = {
                    int(c["agent"]): json.loads(c["payload"])
                    for c in choices
                    if c["round"] == r["round"] and c["source"] == "human"
                }

    def close(self) -> None:
        """Close the record's connection."""
        with self._lock:
            self.record.close()

    # ----------------------------------------------------------------------------- participants

    @_locked
    def join(
        self,
        code: str,
        name: str,
        role: str,
        *,
        marginalised: bool | None = None,
        district: int | None = None,
    ) -> Participant:
        """Take over the first agent of ``role`` nobody plays yet (residents narrowed to marginalised or not
        and to a district); the returned token is the participant's key, kept by their browser."""
        given = str(code).strip().upper()
        if not hmac.compare_digest(given.encode(), self.join_code.encode()):
            raise WorkshopError("that join code is not this workshop's; check the code on the room's screen")
        name = _name(name, "name")
        if role not in C.ROLES:
            raise WorkshopError(f"role {role!r} is unknown; allowed: {', '.join(C.ROLES)}")
        if role != "resident" and (marginalised is not None or district is not None):
            raise WorkshopError("district and marginalised apply to residents only")
        if district is not None and (isinstance(district, bool) or not isinstance(district, int)):
            raise WorkshopError(f"district {district!r} is not a district number")
        try:
            pool = C.candidates(self.model, role, marginalised=marginalised, district=district)
        except C.ChoiceError as err:
            raise WorkshopError(str(err)) from None
        taken = {p.agent for p in self._people.values()}
        free = [int(a) for a in pool.tolist() if int(a) not in taken]
        if not free:
            wanted = role + (f" in district {district}" if district is not None else "")
            wanted += {True: " (marginalised)", False: " (not marginalised)"}.get(marginalised, "")
            raise WorkshopError(f"every {wanted} is already played ({len(pool)} in this city); pick another")
        agent = free[0]
        people = self.model.people
        resident = role == "resident"
        participant = Participant(
            token=secrets.token_urlsafe(24),
            name=name,
            role=role,
            agent=agent,
            district=int(people.district[agent]) if resident else None,
            marginalised=bool(people.marginalised[agent]) if resident else None,
            joined=time.time(),
        )
        self.record.add_participant(
            {
                "workshop": self.id,
                "token_hash": token_hash(participant.token),
                "name": participant.name,
                "role": role,
                "agent": agent,
                "district": participant.district,
                "marginalised": None if participant.marginalised is None else int(participant.marginalised),
                "joined": participant.joined,
            }
        )
        self._people[token_hash(participant.token)] = replace(participant, token="")
        self.version += 1
        return participant

    @_locked
    def rejoin(self, token: str) -> Participant:
        """The participant holding ``token`` (after a reload, a closed tab, a lost network, a restart)."""
        return replace(self._participant(token), token=token)

    @_locked
    def participants(self) -> list[Participant]:
        """Everyone who joined, in the order they joined; tokens left out (each is its participant's own)."""
        return sorted(self._people.values(), key=lambda p: (p.joined, p.agent))

    def _participant(self, token: str) -> Participant:
        found = self._people.get(token_hash(token)) if isinstance(token, str) and token else None
        if found is None:
            raise WorkshopError("this link's participant is not in the workshop; join again with the code")
        return found

    @_locked
    def view_for(self, token: str) -> dict[str, Any]:
        """What the participant holding ``token`` sees: their agent's information, what they can choose, and
        the round (open?, deadline, the choice they stored)."""
        p = self._participant(token)
        stored = self._choices.get(p.agent) if self._open else None
        return {
            "participant": {
                "name": p.name,
                "role": p.role,
                "agent": p.agent,
                "district": p.district,
                "marginalised": p.marginalised,
            },
            "agent": C.what_agent_knows(self.model, p.agent),
            "choices": {k: list(v) if isinstance(v, tuple) else v for k, v in C.CHOICES[p.role].items()},
            "round": {**self._round_state(), "your_choice": stored, "chosen": stored is not None},
        }

    @_locked
    def submit(self, token: str, round_no: int, payload: dict[str, Any]) -> str:
        """Store the participant's choices for the open round: ``"stored"``, or ``"already stored"`` when the
        same choices were stored before (a changed choice replaces the earlier one). Raises
        :class:`WorkshopError` for a round that is not open and :class:`coprod.model.choices.ChoiceError` for
        a value not allowed."""
        p = self._participant(token)
        open_ = self._open
        if open_ is None:
            raise WorkshopError(
                f"round {round_no} is closed: no round is open; wait for the facilitator to open the next one"
            )
        if round_no != open_["round"]:
            when = "is closed" if round_no < open_["round"] else "is not open yet"
            raise WorkshopError(f"round {round_no} {when}; the open round is {open_['round']}")
        if self._expired():
            raise WorkshopError(
                f"round {round_no}'s time is up; your agent follows its simulated behaviour this round"
            )
        checked = C.check(self.model, p.agent, payload)
        if self._choices.get(p.agent) == checked:
            return "already stored"
        self.record.put_choice(
            {
                "workshop": self.id,
                "branch": self._branch,
                "round": open_["round"],
                "agent": p.agent,
                "participant": token_hash(token),
                "payload": payload_text(checked),
                "source": "human",
                "at": time.time(),
            }
        )
        self._choices[p.agent] = checked
        self.version += 1
        return "stored"

    @_locked
    def everyone_chose(self) -> bool:
        """A round is open, someone has joined, and every participant has stored a choice for it."""
        return (
            self._open is not None
            and bool(self._people)
            and all(p.agent in self._choices for p in self._people.values())
        )

    # ------------------------------------------------------------------------------ facilitator

    def _facilitator(self, token: str) -> None:
        if not (
            isinstance(token, str) and hmac.compare_digest(token.encode(), self.facilitator_token.encode())
        ):
            raise WorkshopError("only the facilitator can do that (this link has no facilitator's token)")

    @_locked
    def open_round(self, token: str, *, months: int | None = None, seconds: float | None = None) -> int:
        """Open the next round of ``months`` months (default ``months_per_round``), with a time limit of
        ``seconds`` if given; its number."""
        self._facilitator(token)
        if self._open is not None:
            raise WorkshopError(f"round {self._open['round']} is already open; close it first")
        months = self.months_per_round if months is None else _months(months, "months")
        if seconds is not None and (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not math.isfinite(seconds)
            or seconds <= 0
        ):
            raise WorkshopError(
                f"seconds {seconds!r} is not a time limit; allowed: a number above 0, or none"
            )
        now = time.time()
        number = len(self._rounds) + 1
        deadline = None
        if seconds is not None:
            if self._paused:
                self._remaining = float(seconds)
            else:
                deadline = now + float(seconds)
        design, theory = self._kinds_next()
        self.record.put_round(
            {
                "workshop": self.id,
                "branch": self._branch,
                "round": number,
                "months": months,
                "design": design,
                "theory": theory,
                "redesign_design": self._pending.get("design"),
                "redesign_theory": self._pending.get("theory"),
                "note": self._pending.get("note"),
                "opened": now,
                "deadline": deadline,
                "closed": None,
            }
        )
        self._open = {"round": number, "months": months, "opened": now, "deadline": deadline}
        self._choices = {}
        self.version += 1
        return number

    @_locked
    def close_round(self, token: str) -> None:
        """Close the open round: apply the choices stored (those missing are recorded as ``simulated``),
        play its months and record the outputs of every month."""
        self._facilitator(token)
        self._close_round()

    @_locked
    def close_if_due(self) -> bool:
        """Close the open round if its time limit has passed (not while paused); whether it closed. For the
        server's clock (``live.keep_time``): it does only what the facilitator's time limit asked for."""
        if self._open is None or not self._expired():
            return False
        self._close_round()
        return True

    def _close_round(self) -> None:
        if self._open is None:
            raise WorkshopError("no round is open; open one first")
        if self._paused:
            raise WorkshopError("the workshop is paused; unpause it before closing the round")
        open_ = self._open
        played = Round(
            open_["round"],
            open_["months"],
            {a: dict(p) for a, p in sorted(self._choices.items()) if p},
            self._pending.get("design"),
            self._pending.get("theory"),
        )
        try:
            rows = play_round(self.model, played)
        except Exception:
            self._load_branch_keeping_open()
            raise
        now = time.time()
        simulated = [
            {
                "workshop": self.id,
                "branch": self._branch,
                "round": open_["round"],
                "agent": p.agent,
                "participant": h,
                "payload": "{}",
                "source": "simulated",
                "at": now,
            }
            for h, p in sorted(self._people.items(), key=lambda kv: kv[1].agent)
            if p.agent not in self._choices
        ]
        try:
            self.record.close_round((self.id, self._branch, open_["round"]), now, simulated, rows)
        except Exception:
            self._load_branch_keeping_open()  # the city as recorded: the round still open
            raise
        self._rounds.append(played)
        self._open, self._choices, self._pending = None, {}, {}
        self._remaining = None
        self.version += 1

    def _load_branch_keeping_open(self) -> None:
        paused, remaining = self._paused, self._remaining
        self._load_branch(self._branch)
        self._paused, self._remaining = paused, remaining

    @_locked
    def pause(self, token: str) -> None:
        """Stop the clock (the open round's time limit waits) and the city (no round closes)."""
        self._facilitator(token)
        if self._paused:
            return
        if self._open is not None and self._open["deadline"] is not None:
            self._remaining = max(0.0, self._open["deadline"] - time.time())
            self._open["deadline"] = None
        self._paused = True
        self.version += 1

    @_locked
    def unpause(self, token: str) -> None:
        self._facilitator(token)
        if not self._paused:
            return
        self._paused = False
        if self._open is not None and self._remaining is not None:
            self._open["deadline"] = time.time() + self._remaining
            self.record.put_round(
                {
                    "workshop": self.id,
                    "branch": self._branch,
                    "round": self._open["round"],
                    "deadline": self._open["deadline"],
                }
            )
        self._remaining = None
        self.version += 1

    @_locked
    def redesign(
        self, token: str, *, design: str | None = None, theory: str | None = None, note: str | None = None
    ) -> None:
        """An institutional experiment: from the next round the city runs under ``design`` and/or ``theory``
        (recorded with the round, and with ``note`` if given). Only between rounds."""
        self._facilitator(token)
        if self._open is not None:
            raise WorkshopError(
                f"round {self._open['round']} is open; change the design or theory between rounds"
            )
        if design is None and theory is None:
            raise WorkshopError("name a design or a theory of change to change to")
        changes = {f"{k}.kind": v for k, v in (("design", design), ("theory", theory)) if v is not None}
        try:
            self.model.settings.with_overrides(changes, source="redesign")
        except ScenarioError as err:
            raise WorkshopError(err.lines()[0]) from None
        pending = dict(self._pending)
        pending.update({k: v for k, v in (("design", design), ("theory", theory)) if v is not None})
        if note is not None:
            pending["note"] = _note(note)
        number = len(self._rounds) + 1
        after = self.model.settings.with_overrides(
            {f"{k}.kind": pending[k] for k in ("design", "theory") if k in pending}, source="redesign"
        )
        self.record.put_round(
            {
                "workshop": self.id,
                "branch": self._branch,
                "round": number,
                "months": self.months_per_round,
                "design": after.design.kind.value,
                "theory": after.theory.kind.value,
                "redesign_design": pending.get("design"),
                "redesign_theory": pending.get("theory"),
                "note": pending.get("note"),
                "opened": None,
                "deadline": None,
                "closed": None,
            }
        )
        self._pending = pending
        self.version += 1

    @_locked
    def rewind(self, token: str, round_no: int) -> str:
        """A new branch from the city after round ``round_no`` of the current branch (0: the start), made
        current; the old branch is kept as it is. Returns the new branch's id."""
        self._facilitator(token)
        if self._open is not None:
            raise WorkshopError(f"round {self._open['round']} is open; close it before rewinding")
        done = len(self._rounds)
        if isinstance(round_no, bool) or not isinstance(round_no, int) or not 0 <= round_no <= done:
            raise WorkshopError(
                f"branch {self._branch} has no round {round_no!r} to rewind to; "
                f"allowed: 0 (the start) to {done}"
            )
        names = {b["branch"] for b in self.record.branches(self.id)}
        n = len(names) + 1
        while f"b{n}" in names:
            n += 1
        branch = f"b{n}"
        self.record.add_branch(self.id, branch, self._branch, round_no)
        self._load_branch(branch)
        self.version += 1
        return branch

    @_locked
    def switch_branch(self, token: str, branch: str) -> None:
        """Make another branch current, at its last closed round."""
        self._facilitator(token)
        if self._open is not None:
            raise WorkshopError(f"round {self._open['round']} is open; close it before switching branch")
        self._known_branch(branch)
        self.record.set_workshop(self.id, current_branch=branch)
        self._load_branch(branch)
        self.version += 1

    def _known_branch(self, branch: str) -> None:
        names = [b["branch"] for b in self.record.branches(self.id)]
        if branch not in names:
            raise WorkshopError(f"no branch {branch!r}; allowed: {', '.join(names)}")

    # ---------------------------------------------------------------------------------- reading

    @_locked
    def branches(self) -> list[dict[str, Any]]:
        """Every branch: ``branch``, ``parent``, ``from_round``, ``created``, ``rounds`` (closed), ``month``
        (its last) and ``current``."""
        out = []
        for b in self.record.branches(self.id):
            rounds = [r for r in self.record.rounds(self.id, b["branch"]) if r["closed"] is not None]
            out.append(
                {
                    "branch": b["branch"],
                    "parent": b["parent"],
                    "from_round": b["from_round"],
                    "created": b["created"],
                    "rounds": len(rounds),
                    "month": sum(r["months"] for r in rounds),
                    "current": b["branch"] == self._branch,
                }
            )
        return out

    @_locked
    def markers(self, branch: str | None = None) -> list[dict[str, Any]]:
        """The recorded outputs of a branch (default: the current one), one dict per month from month 0:
        ``month`` and every output."""
        branch = self._branch if branch is None else branch
        self._known_branch(branch)
        return self.record.steps(self.id, branch)

    @_locked
    def projector(self) -> dict[str, Any]:
        """For the room's screen: the month, the eight progress markers, consensus bias and its components,
        and the played agents in the last meeting with their players' display names and roles."""
        out = self.model.outputs
        people = sorted(self._people.values(), key=lambda p: (p.joined, p.agent))
        room = C.room(self.model, [p.agent for p in people])
        for entry, p in zip(room, people, strict=True):
            entry["name"], entry["role"] = p.name, p.role
        return {
            "month": int(self.model.steps),
            "round": len(self._rounds),
            "branch": self._branch,
            "markers": {k: out[k] for k in MARKERS},
            "consensus_bias": out["consensus_bias"],
            "consensus": {k: out[k] for k in CONSENSUS if k != "consensus_bias"},
            "room": room,
        }

    @_locked
    def state(self) -> dict[str, Any]:
        """Round number, open?, deadline, paused, current branch, design, theory, month, and the version."""
        design, theory = self._kinds_now()
        next_design, next_theory = self._kinds_next()
        return {
            "workshop": self.id,
            "name": self.name,
            **self._round_state(),
            "branch": self._branch,
            "design": design,
            "theory": theory,
            "next_design": next_design,
            "next_theory": next_theory,
            "redesign_note": self._pending.get("note"),
            "month": int(self.model.steps),
            "months_per_round": self.months_per_round,
            "participants": len(self._people),
            "chosen": len(self._choices) if self._open else 0,
            "chosen_agents": sorted(self._choices) if self._open else [],
            "version": self.version,
        }

    def _round_state(self) -> dict[str, Any]:
        open_ = self._open
        deadline = open_["deadline"] if open_ else None
        left = None
        if open_ is not None:
            if self._paused and self._remaining is not None:
                left = self._remaining
            elif deadline is not None:
                left = max(0.0, deadline - time.time())
        return {
            "round": open_["round"] if open_ else len(self._rounds),
            "rounds_closed": len(self._rounds),
            "open": open_ is not None,
            "months": open_["months"] if open_ else self.months_per_round,
            "deadline": deadline,
            "seconds_left": left,
            "paused": self._paused,
        }

    def _expired(self) -> bool:
        deadline = self._open["deadline"] if self._open else None
        return not self._paused and deadline is not None and time.time() >= deadline

    def _kinds_now(self) -> tuple[str, str]:
        s = self.model.settings
        return s.design.kind.value, s.theory.kind.value

    def _kinds_next(self) -> tuple[str, str]:
        design, theory = self._kinds_now()
        return self._pending.get("design", design), self._pending.get("theory", theory)


def _months(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_MONTHS:
        raise WorkshopError(f"{what} {value!r} is not a number of months; allowed: 1 to {MAX_MONTHS}")
    return value


def _name(value: Any, what: str) -> str:
    text = " ".join(str(value).split()) if isinstance(value, str) else ""
    if not text or len(text) > NAME_LIMIT or not text.isprintable():
        raise WorkshopError(
            f"{what} {value!r} is not a display name; allowed: 1 to {NAME_LIMIT} printable characters"
        )
    return text


def _note(value: Any) -> str:
    text = " ".join(str(value).split())
    return text[:500]
