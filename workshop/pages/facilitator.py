"""The facilitator page (``/facilitator?token=...``): who joined, the rounds, the rules, the branches.

Only the facilitator's token opens it; any other address (a participant's link with its token changed to
``/facilitator``, or no token) shows a refusal and nothing of the workshop. Every action goes through the
engine with that token, which checks it again.

A round closes when the facilitator presses "Close round and run", or by itself: when its time is up (the
server's clock, ``live.keep_time``, whether or not this page is open) or, if ticked, when everyone has
chosen (this page's refresh thread, woken by the last choice).
"""

from __future__ import annotations

import hmac
import time
from typing import Any

import numpy as np
import solara
from coprod.dashboards import charts
from coprod.dashboards.words import LABELS, number
from coprod.model import DESIGN_PRESETS, MARKERS, THEORY_PRESETS

from . import live, words
from .common import Message, Notice, table, token_from
from .participant import seconds_left

SIDE_BY_SIDE = (*MARKERS, "consensus_bias")


def is_facilitator(workshop: Any, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(str(token).encode(), str(workshop.facilitator_token).encode())


def should_close(state: dict, everyone_chose: bool, auto_close: bool, now: float) -> bool:
    """Whether an open round closes by itself now: its time is up, or everyone chose (if asked)."""
    if not state.get("open") or state.get("paused"):
        return False
    deadline = state.get("deadline")
    if deadline is not None and now >= float(deadline):
        return True
    return auto_close and everyone_chose


def branch_ids(branches: list[dict]) -> list[str]:
    return [str(b["branch"]) for b in branches]


def branch_trace(name: str, rows: list[dict], colour: str) -> charts.Trace:
    rows = sorted(rows, key=lambda r: r["month"])
    months = np.array([r["month"] for r in rows])
    series = {k: np.array([float(r.get(k) or 0.0) for r in rows]) for k in SIDE_BY_SIDE}
    return charts.Trace(name, months, series, colour)


def branches_table(a: tuple[str, list[dict]], b: tuple[str, list[dict]]) -> str:
    """The markers and consensus bias of two branches at the same month (the last month both reached), with
    B - A, and then at each branch's own last month where that is later. A branch that has played further
    is not set against one that stopped earlier: after a rewind the new branch starts months behind the old
    one, and what the room should compare is the two at the same point (the report, ``coprod analyze
    --workshop``, compares branches the same way)."""
    (name_a, rows_a), (name_b, rows_b) = a, b
    by_a, by_b = {r["month"]: r for r in rows_a}, {r["month"]: r for r in rows_b}
    shared = sorted(set(by_a) & set(by_b))
    at = shared[-1] if shared else None
    last_a = rows_a[-1] if rows_a else {}
    last_b = rows_b[-1] if rows_b else {}

    def value(row: dict, key: str) -> str:
        return "-" if row.get(key) is None else number(row[key])

    def difference(key: str) -> str:
        x, y = by_a[at].get(key), by_b[at].get(key)
        return "-" if x is None or y is None else f"{y - x:+.2f}"

    head, columns = [""], []
    if at is not None:
        head += [f"{name_a} at month {at}", f"{name_b} at month {at}", f"{name_b} - {name_a}"]
        columns += [lambda k: value(by_a[at], k), lambda k: value(by_b[at], k), difference]
    if last_a.get("month") != at or last_b.get("month") != at:
        head += [
            f"{name_a} (month {last_a.get('month', '-')})",
            f"{name_b} (month {last_b.get('month', '-')})",
        ]
        columns += [lambda k: value(last_a, k), lambda k: value(last_b, k)]
    rows = [[LABELS[k], *(column(k) for column in columns)] for k in SIDE_BY_SIDE]
    return table(head, rows, "ws-branches-table")


@solara.component
def Facilitate():
    router = solara.use_router()
    token = token_from(router.search)
    workshop = live.current()
    allowed = workshop is not None and is_facilitator(workshop, token)
    auto_close = solara.use_reactive(True)
    problem, set_problem = solara.use_state(None)

    def tick() -> None:
        if not allowed:  # a round whose time is up is closed by the server's clock (live.keep_time)
            return
        if auto_close.value and live.act(workshop.everyone_chose):
            state = live.act(workshop.state)
            if should_close(state, True, True, time.time()):
                try:
                    live.act(workshop.close_round, token)
                except live.user_errors():
                    pass  # closed meanwhile (another facilitator tab)

    _, refresh = live.use_version(tick=tick)
    if workshop is None:
        Notice(words.NO_WORKSHOP)
        return
    if not allowed:
        Notice(words.REFUSED)
        return

    def do(call, *args, **kwargs):
        def run() -> None:
            try:
                live.act(call, token, *args, **kwargs)
            except live.user_errors() as refused:
                set_problem(str(refused))
                return
            set_problem(None)
            refresh()

        return run

    state = live.act(workshop.state)
    people = live.act(workshop.participants)
    with solara.Column(classes=["ws-facilitator"]):
        with solara.Row(style={"align-items": "baseline", "gap": "24px", "flex-wrap": "wrap"}):
            solara.Text(words.FACILITATOR, classes=["ws-title"])
            solara.Text(words.JOIN_CODE_IS.format(code=workshop.join_code), classes=["ws-code-big"])
            solara.Text(words.state_line(state), classes=["ws-status", "ws-state"])
        if problem:
            Message(problem, "problem")
        with solara.Div(classes=["ws-grid"]):
            with solara.Column():
                Rounds(workshop, token, state, people, auto_close, do)
                Rules(state, do)
                Branches(workshop, state, do)
            with solara.Column():
                People(workshop, people, state)
                SideBySide(workshop, state)


@solara.component
def Rounds(workshop, token: str, state: dict, people: list, auto_close, do):
    months = solara.use_reactive(int(getattr(workshop, "months_per_round", 3) or 3))
    seconds = solara.use_reactive(0)
    now = live.use_clock(bool(state.get("open")) and state.get("deadline") is not None)
    with solara.Card("Rounds", classes=["ws-rounds"]):
        if state.get("open"):
            chosen = int(state.get("chosen", 0))
            line = words.CHOSEN.format(chosen=chosen, total=len(people))
            left = seconds_left(state, now)
            if left is not None:
                line += " · " + words.SECONDS_LEFT.format(seconds=left)
            solara.Text(line, classes=["ws-chosen-count"])
            if people and chosen == len(people):
                Message(words.EVERYONE_CHOSE, "done")
        with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}):
            solara.InputInt(words.MONTHS, value=months, classes=["ws-months"], style={"max-width": "170px"})
            solara.InputInt(
                words.SECONDS, value=seconds, classes=["ws-seconds"], style={"max-width": "230px"}
            )
        with solara.Row(style={"flex-wrap": "wrap"}):
            solara.Button(
                words.OPEN,
                on_click=do(
                    workshop.open_round, months=int(months.value), seconds=int(seconds.value) or None
                ),
                disabled=bool(state.get("open")),
                color="primary",
                classes=["ws-open"],
            )
            solara.Button(
                words.CLOSE,
                on_click=do(workshop.close_round),
                disabled=not state.get("open"),
                color="primary",
                classes=["ws-close"],
            )
            if state.get("paused"):
                solara.Button(words.UNPAUSE, on_click=do(workshop.unpause), classes=["ws-unpause"])
            else:
                solara.Button(words.PAUSE, on_click=do(workshop.pause), classes=["ws-pause"])
        solara.Checkbox(label=words.AUTO_CLOSE, value=auto_close)


@solara.component
def Rules(state: dict, do):
    workshop = live.current()
    designs = {kind: preset["label"] for kind, preset in DESIGN_PRESETS.items()}
    theories = {kind: preset["label"] for kind, preset in THEORY_PRESETS.items()}
    design = solara.use_reactive(designs.get(state.get("design"), next(iter(designs.values()))))
    theory = solara.use_reactive(theories.get(state.get("theory"), next(iter(theories.values()))))
    back_design = {label: kind for kind, label in designs.items()}
    back_theory = {label: kind for kind, label in theories.items()}
    with solara.Card(words.REDESIGN, classes=["ws-rules"]):
        solara.Text(
            f"Now: {designs.get(state.get('design'), state.get('design'))}; "
            f"{theories.get(state.get('theory'), state.get('theory'))}",
            classes=["ws-about", "ws-rules-now"],
        )
        solara.Select(words.DESIGN, values=list(designs.values()), value=design, classes=["ws-design"])
        solara.Select(words.THEORY, values=list(theories.values()), value=theory, classes=["ws-theory"])
        solara.Button(
            "Apply between rounds",
            on_click=do(
                workshop.redesign, design=back_design[design.value], theory=back_theory[theory.value]
            ),
            disabled=bool(state.get("open")),
            classes=["ws-redesign"],
        )


@solara.component
def Branches(workshop, state: dict, do):
    branches = live.act(workshop.branches)
    ids = branch_ids(branches)
    to_round = solara.use_reactive(1)
    chosen = solara.use_reactive(str(state.get("branch")))
    if chosen.value not in ids and ids:
        chosen.set(ids[0])
    with solara.Card("Rewind and branches", classes=["ws-branches"]):
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.InputInt(
                words.REWIND_TO, value=to_round, classes=["ws-rewind-round"], style={"max-width": "230px"}
            )
            solara.Button(
                words.REWIND,
                on_click=do(workshop.rewind, int(to_round.value)),
                disabled=bool(state.get("open")),
                classes=["ws-rewind"],
            )
        rows = [
            [
                b_id,
                str(b.get("parent") or ""),
                "" if b.get("parent") is None else str(b.get("from_round", "")),
                str(b.get("rounds", "")),
                str(b.get("month", "")),
                "playing now" if b.get("current") else "",
            ]
            for b_id, b in zip(ids, branches, strict=True)
        ]
        solara.HTML(
            tag="div",
            unsafe_innerHTML=table(["branch", "from", "after round", "rounds", "month", ""], rows),
            classes=["ws-branch-list"],
        )
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.Select(words.BRANCH, values=ids, value=chosen, classes=["ws-branch-pick"])
            solara.Button(
                words.SWITCH,
                on_click=do(workshop.switch_branch, chosen.value),
                disabled=bool(state.get("open")),
                classes=["ws-switch"],
            )


@solara.component
def People(workshop, people: list, state: dict):
    rows = []
    chosen_agents = set(state.get("chosen_agents") or [])
    for p in people:
        chose = (p.agent in chosen_agents) if state.get("open") else None
        rows.append(
            [
                p.name,
                words.role_name(p.role),
                str(p.agent),
                "" if p.district is None else str(p.district),
                "yes" if p.marginalised else "",
                "" if chose is None else ("chosen" if chose else "not yet"),
            ]
        )
    with solara.Card(f"{words.WHO} ({len(people)})", classes=["ws-people"]):
        solara.HTML(
            tag="div",
            unsafe_innerHTML=table(["name", "role", "agent", "district", "marginalised", "this round"], rows),
        )


@solara.component
def SideBySide(workshop, state: dict):
    ids = branch_ids(live.act(workshop.branches))
    current = str(state.get("branch"))
    first = solara.use_reactive(ids[0] if ids else current)
    second = solara.use_reactive(current)
    if first.value not in ids and ids:
        first.set(ids[0])
    if second.value not in ids and ids:
        second.set(ids[-1])
    with solara.Card(words.SIDE_BY_SIDE, classes=["ws-side-by-side"]):
        with solara.Row():
            solara.Select("Branch A", values=ids, value=first, classes=["ws-branch-a"])
            solara.Select("Branch B", values=ids, value=second, classes=["ws-branch-b"])
        rows_a = sorted(live.act(workshop.markers, first.value), key=lambda r: r["month"])
        rows_b = sorted(live.act(workshop.markers, second.value), key=lambda r: r["month"])
        solara.HTML(tag="div", unsafe_innerHTML=branches_table((first.value, rows_a), (second.value, rows_b)))
        horizon = max([r["month"] for r in rows_a + rows_b] or [1])
        traces = [
            branch_trace(f"A: {first.value}", rows_a, charts.SETUP_COLOURS[0]),
            branch_trace(f"B: {second.value}", rows_b, charts.SETUP_COLOURS[1]),
        ]
        solara.HTML(
            tag="div",
            unsafe_innerHTML=charts.marker_lines(traces, horizon, SIDE_BY_SIDE),
            classes=["svg-chart", "ws-branch-chart"],
        )
