"""The projector page (``/projector``): what the room sees on the wall.

The current month, the eight progress markers, consensus bias with its four parts (the dashboard's bars and
plain names, ``coprod.dashboards.charts.indicator_rows``), and "whose views were dropped": each
participant's view against the position the room decided, marginalised residents marked, views the decision
dropped flagged. No tokens and no join code beyond the room's: anyone in the room may open it.
"""

from __future__ import annotations

from html import escape

import solara
from coprod.dashboards import charts
from coprod.dashboards.words import KINDS, MARGINALISED_COLOUR
from coprod.model import CONSENSUS, MARKERS

from . import live, words
from .common import Notice

ROLE_COLOURS = dict(
    zip(("resident", "official", "academic", "organiser"), (c for _, c in KINDS), strict=True)
)


def _fraction(value) -> float | None:
    try:
        return min(max(float(value), 0.0), 1.0)
    except (TypeError, ValueError):
        return None


def room_rows(room: list[dict]) -> str:
    """One table row per participant: name and role, their view against the decided position, marks."""
    rows = []
    for person in room:
        view = _fraction(person.get("view"))
        position = _fraction(person.get("position"))
        colour = (
            MARGINALISED_COLOUR
            if person.get("marginalised")
            else ROLE_COLOURS.get(person.get("role"), "#777")
        )
        track = '<div class="ws-track">'
        if position is not None:
            track += f'<div class="line" style="left:{100 * position:.1f}%" title="decided position"></div>'
        if view is not None:
            track += (
                f'<div class="dot" style="left:{100 * view:.1f}%;background:{colour}" '
                f'title="view {view:.2f}"></div>'
            )
        track += "</div>"
        marks = []
        if person.get("marginalised"):
            marks.append(f'<span class="ws-mark">{escape(words.MARGINALISED_MARK)}</span>')
        if person.get("dropped"):
            marks.append(f'<span class="ws-flag">{escape(words.DROPPED)}</span>')
        if person.get("in_room") is False:
            marks.append(escape(words.NOT_IN_ROOM))
        classes = "ws-room-row" + (" dropped" if person.get("dropped") else "")
        shown = "-" if view is None else f"{view:.2f}"
        rows.append(
            f'<tr class="{classes}"><td>{escape(str(person.get("name", "")))}</td>'
            f"<td>{escape(words.role_name(str(person.get('role', ''))))}</td>"
            f"<td>{track}</td><td class='num'>{shown}</td><td>{' '.join(marks)}</td></tr>"
        )
    head = "".join(
        f"<th>{h}</th>" for h in ("name", "role", "view (dot) and decided position (line)", "view", "")
    )
    body = "".join(rows)
    return f'<table class="ws-table ws-room"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


@solara.component
def Project():
    workshop = live.current()
    live.use_version(shows=lambda: (live.state_shown(), workshop and live.act(workshop.projector)))
    if workshop is None:
        Notice(words.NO_WORKSHOP)
        return
    shown = live.act(workshop.projector)
    state = live.act(workshop.state)
    outputs = {**(shown.get("markers") or {}), **(shown.get("consensus") or {})}
    if shown.get("consensus_bias") is not None:
        outputs["consensus_bias"] = shown["consensus_bias"]
    outputs = {k: float(v) for k, v in outputs.items() if v is not None}
    room = shown.get("room") or []
    positions = [p.get("position") for p in room if p.get("position") is not None]
    with solara.Column(classes=["ws-projector"]):
        with solara.Row(style={"align-items": "baseline", "gap": "24px", "flex-wrap": "wrap"}):
            solara.Text(
                words.PROJECTOR.format(month=shown.get("month", state.get("month", 0))),
                classes=["ws-title", "ws-month"],
            )
            solara.Text(words.state_line(state), classes=["ws-status"])
            solara.Text(words.JOIN_CODE_IS.format(code=workshop.join_code), classes=["ws-status"])
        with solara.Div(classes=["ws-grid"]):
            with solara.Card(words.MARKERS, classes=["ws-markers"]):
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=charts.indicator_rows([outputs], [k for k in MARKERS if k in outputs]),
                )
            with solara.Card(words.CONSENSUS, classes=["ws-consensus"]):
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=charts.indicator_rows([outputs], [k for k in CONSENSUS if k in outputs]),
                )
        with solara.Card(words.ROOM, classes=["ws-room-card"]):
            solara.Div(children=[words.ROOM_ABOUT], classes=["ws-about"])
            if positions:
                solara.Div(
                    children=[words.POSITION.format(position=f"{float(positions[0]):.2f}")],
                    classes=["ws-status", "ws-position"],
                )
            solara.HTML(tag="div", unsafe_innerHTML=room_rows(room))
