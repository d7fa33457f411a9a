"""The participant page (``/play?token=...``): what your agent knows, and this round's choices.

The token in the address is the participant's place: ``Workshop.rejoin(token)`` finds it again after a
reload. Every choice starts on "Let the simulation decide" (the key left out of the payload: the agent
behaves as simulated); what the participant sets is sent with "Send my choices". Sending again while the
round is open replaces the earlier choices (the engine keeps one row per agent and round).
"""

from __future__ import annotations

from html import escape
from typing import Any

import solara
from coprod.model import THEORY_PRESETS

from . import live, words
from .common import Message, Notice, Options, token_from

SIMULATED = "__simulated__"


def knowledge_items(agent: dict) -> list[tuple[int, str]]:
    """(item, plain description) of each knowledge item the agent holds (``what_agent_knows``)."""
    out = []
    for item in agent.get("knowledge") or []:
        kind = words.ITEM_KINDS.get(item.get("kind"), str(item.get("kind", "")).capitalize())
        out.append(
            (
                int(item["item"]),
                words.ITEM.format(kind=kind, item=item["item"], says=f"{float(item['says']):.2f}"),
            )
        )
    return out


def describe(role: str, payload: dict | None, items: dict | None = None) -> list[str]:
    """A stored choice in plain words, one line per choice made; an empty one: all simulated."""
    if not payload:
        return [words.SIMULATED]
    items = items or {}
    lines = []
    for key, value in payload.items():
        if key == "attend":
            lines.append(words.ATTEND.get(value, str(value)))
        elif key == "view":
            lines.append(f"{words.VIEW} {float(value):.2f}")
        elif key == "salience":
            lines.append(f"{words.SALIENCE} {float(value):.2f}")
        elif key == "share":
            shared = "; ".join(items.get(i, f"item {i}") for i in value) or "nothing"
            lines.append(f"{words.SHARE} {shared}")
        elif key == "follow":
            lines.append(f"{words.FOLLOW} {float(value):.2f}")
        elif key == "publish":
            lines.append(words.PUBLISH if value else "Keep the reasons internal")
        elif key == "agenda":
            lines.append(words.AGENDA.get(value, str(value)))
        elif key == "act":
            lines.append(words.ACT.get(role, {}).get(value, str(value)))
        else:
            lines.append(f"{key}: {value}")
    return lines


def seconds_left(rnd: dict, now: float) -> int | None:
    """Whole seconds left on the open round's clock (None: no clock)."""
    if rnd.get("deadline") is not None:
        return max(0, round(float(rnd["deadline"]) - now))
    if rnd.get("seconds_left") is not None:  # paused: the clock waits
        return max(0, round(float(rnd["seconds_left"])))
    return None


@solara.component
def Play():
    router = solara.use_router()
    token = token_from(router.search)
    workshop = live.current()

    def shows():  # the round, and what this participant's agent knows and has chosen
        view = live.act(workshop.view_for, token) if workshop is not None and token else None
        return live.state_shown(), view

    _, refresh = live.use_version(shows=shows)
    if workshop is None:
        Notice(words.NO_WORKSHOP)
        return
    if token is None:
        Notice(words.NO_TOKEN)
        return
    try:
        me = live.act(workshop.rejoin, token)
        view = live.act(workshop.view_for, token)
    except live.user_errors():
        Notice(words.UNKNOWN_TOKEN)
        return
    live.remember(live.session_id(), token)
    with solara.Column(classes=["ws-participant", f"ws-role-{me.role}"], style={"max-width": "680px"}):
        heading = words.YOU_PLAY.format(name=me.name, role=words.role_name(me.role).lower(), agent=me.agent)
        if me.district is not None:
            heading += words.OF_DISTRICT.format(district=me.district)
        solara.Text(heading, classes=["ws-title", "ws-you"])
        if me.marginalised:
            solara.Text(words.MARGINALISED_NOTE, classes=["ws-about"])
        Round(token, me.role, view, refresh)
        Knows(view.get("agent") or {})


@solara.component
def Round(token: str, role: str, view: dict, refresh=None):
    rnd = view.get("round") or {}
    agent = view.get("agent") or {}
    number = int(rnd.get("round") or 0)
    is_open = bool(rnd.get("open"))
    stored = rnd.get("your_choice") if rnd.get("chosen") else None
    draft, set_draft = solara.use_state({})
    answer, set_answer = solara.use_state(None)
    editing, set_editing = solara.use_state(False)
    drafted_for, set_drafted_for = solara.use_state(number)
    now = live.use_clock(is_open and rnd.get("deadline") is not None)
    items = dict(knowledge_items(agent))
    if drafted_for != number:  # a new round: a fresh form
        set_drafted_for(number)
        set_draft({})
        set_answer(None)
        set_editing(False)

    def send() -> None:
        try:
            result = live.act(live.current().submit, token, number, dict(draft))
        except live.user_errors() as refused:
            set_answer(("problem", str(refused)))
            return
        text = words.STORED if result == "stored" else words.ALREADY
        set_answer(("done", text.format(round=number)))
        set_editing(False)
        if refresh is not None:
            refresh()  # this page shows the stored choice now, not at the next poll

    if rnd.get("paused"):
        Message(words.PAUSED, "info")
    if not is_open:
        Message(words.ROUND_CLOSED, "info")
    else:
        line = words.ROUND_OPEN.format(round=number)
        left = seconds_left(rnd, now)
        if left is not None:
            line += " " + words.SECONDS_LEFT.format(seconds=left)
        solara.Text(line, classes=["ws-status", "ws-round-line"])
    if answer is not None and is_open:
        Message(answer[1], answer[0])
    if is_open and stored is not None and not editing:
        solara.Text(words.YOUR_CHOICES.format(round=number), classes=["ws-question"])
        solara.HTML(
            tag="ul",
            unsafe_innerHTML="".join(f"<li>{escape(line)}</li>" for line in describe(role, stored, items)),
            classes=["ws-stored"],
        )

        def change() -> None:
            set_draft(dict(stored))
            set_editing(True)

        solara.Button(words.CHANGE, on_click=change, outlined=True, classes=["ws-change"])
    elif is_open:
        with solara.Column(classes=["ws-form"]):
            Form(role, agent, draft, set_draft)
            solara.Text(words.LEAVE_ALONE, classes=["ws-about"])
            solara.Button(words.SEND, on_click=send, color="primary", classes=["ws-send"])


def _set(draft: dict, key: str, value: Any) -> dict:
    new = dict(draft)
    if isinstance(value, str) and value == SIMULATED:
        new.pop(key, None)
    else:
        new[key] = value
    return new


@solara.component
def Form(role: str, agent: dict, draft: dict, set_draft):
    def put(key: str):
        return lambda value: set_draft(_set(draft, key, value))

    def pick(key: str, question: str, labels: dict[str, str]) -> None:
        """A question and one button per answer, "Let the simulation decide" last."""
        solara.Text(question, classes=["ws-question"])
        Options({**labels, SIMULATED: words.SIMULATED}, draft.get(key, SIMULATED), put(key), f"ws-{key}")

    if role == "resident":
        pick("attend", "Do you come this month?", words.ATTEND)
        Level("view", words.VIEW, words.VIEW_ENDS, draft, set_draft, _start(agent, "view"))
        Level("salience", words.SALIENCE, words.SALIENCE_ENDS, draft, set_draft, _start(agent, "salience"))
        Share(knowledge_items(agent), draft, set_draft)
    elif role == "official":
        Level("follow", words.FOLLOW, words.FOLLOW_ENDS, draft, set_draft, 0.5)
        solara.Text("The decision's reasons", classes=["ws-question"])
        Options(
            {"yes": words.PUBLISH, "no": "Keep the reasons internal", SIMULATED: words.SIMULATED},
            {True: "yes", False: "no"}.get(draft.get("publish"), SIMULATED),
            lambda value: set_draft(_set(draft, "publish", {"yes": True, "no": False}.get(value, SIMULATED))),
            "ws-publish",
        )
        pick("agenda", "The agenda", words.AGENDA)
    else:
        pick("act", words.ACT_QUESTION[role], words.ACT[role])


def _start(agent: dict, key: str) -> float:
    """Where a slider starts when the participant takes it over: the agent's own value, else the middle."""
    try:
        return round(min(max(float(agent.get(key, 0.5)), 0.0), 1.0), 2)
    except (TypeError, ValueError):
        return 0.5


@solara.component
def Level(key: str, question: str, ends: tuple[str, str], draft: dict, set_draft, start: float):
    """A 0..1 choice: "Let the simulation decide" ticked, or a slider."""
    simulated = key not in draft
    with solara.Column(classes=["ws-level", f"ws-{key}"], gap="0px"):
        solara.Text(question, classes=["ws-question"])
        solara.Checkbox(
            label=words.SIMULATED,
            value=simulated,
            on_value=lambda tick: set_draft(_set(draft, key, SIMULATED if tick else start)),
        )
        if not simulated:
            solara.SliderFloat(
                f"{ends[0]} … {ends[1]}",
                value=float(draft[key]),
                min=0.0,
                max=1.0,
                step=0.05,
                on_value=lambda value: set_draft(_set(draft, key, round(float(value), 2))),
            )


@solara.component
def Share(items: list[tuple[int, str]], draft: dict, set_draft):
    simulated = "share" not in draft
    with solara.Column(classes=["ws-share"], gap="0px"):
        solara.Text(words.SHARE, classes=["ws-question"])
        if not items:
            solara.Text(words.NO_KNOWLEDGE, classes=["ws-about"])
            return
        solara.Checkbox(
            label=words.SIMULATED,
            value=simulated,
            on_value=lambda tick: set_draft(_set(draft, "share", SIMULATED if tick else [])),
        )
        if not simulated:
            chosen = list(draft["share"])
            for ident, about in items:

                def flip(tick: bool, ident=ident) -> None:
                    now = [i for i in chosen if i != ident] + ([ident] if tick else [])
                    set_draft(_set(draft, "share", sorted(now)))

                solara.Checkbox(label=about, value=ident in chosen, on_value=flip)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return words.YES_NO[value]
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def knows_rows(agent: dict) -> list[tuple[str, str]]:
    """The agent's private information as (plain label, value) rows, in a fixed order."""
    rows = []
    for key, label in words.KNOWS.items():
        if key not in agent:
            continue
        value = agent[key]
        if key == "theory":
            value = THEORY_PRESETS.get(value, {}).get("label", value)
        if key == "group" and value is not None and int(value) < 0:
            value = words.NO_GROUP
        rows.append((label, _shown(value)))
    for role, trust in (agent.get("trust") or {}).items():
        rows.append((words.TRUST.format(role=words.role_name(role).lower()), _shown(float(trust))))
    return rows


@solara.component
def Knows(agent: dict):
    """The agent's private information (``what_agent_knows``): its state, its knowledge, the last decision."""
    if not agent:
        return
    rows = "".join(
        f"<tr><td>{escape(k)}</td><td class='num'>{escape(v)}</td></tr>" for k, v in knows_rows(agent)
    )
    with solara.Column(classes=["ws-knows"], gap="2px"):
        solara.Text(words.WHAT_YOU_KNOW, classes=["ws-question"])
        solara.HTML(tag="table", unsafe_innerHTML=rows, classes=["ws-table"])
        items = knowledge_items(agent)
        if items:
            solara.HTML(tag="ul", unsafe_innerHTML="".join(f"<li>{escape(a)}</li>" for _, a in items))
        last = agent.get("last_decision")
        if last:
            solara.Text(words.LAST, classes=["ws-question"])
            lines = [f"{words.LAST_DECISION[k]}: {_shown(last[k])}" for k in words.LAST_DECISION if k in last]
            who = last.get("in_the_room") or {}
            if who:
                lines.append(
                    words.IN_THE_ROOM.format(
                        who=", ".join(f"{n} {words.role_name(r).lower()}s" for r, n in who.items())
                    )
                )
            solara.HTML(
                tag="ul",
                unsafe_innerHTML="".join(f"<li>{escape(x)}</li>" for x in lines),
                classes=["ws-last"],
            )
