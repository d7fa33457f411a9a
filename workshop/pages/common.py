"""Pieces the workshop pages share: the style sheet, messages, option buttons, the token in the address."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from urllib.parse import parse_qs

import solara

CSS = """
.ws-page { padding: 10px 16px; max-width: 1500px; }
.ws-title { font-size: 1.3rem; font-weight: 500; }
.ws-intro, .ws-about { color: #444; font-size: 0.9rem; line-height: 1.35; }
.ws-question { font-weight: 500; font-size: 0.95rem; margin-top: 8px; }
.ws-options { gap: 6px !important; }
.ws-options .v-btn { text-transform: none !important; letter-spacing: normal !important; margin: 2px 0; }
.ws-message { padding: 6px 10px; border-radius: 3px; font-size: 0.95rem; }
.ws-message.problem, .ws-message.refusal { color: #8a1c1c; background: #fdecea; font-weight: 500; }
.ws-message.done { color: #1b5e20; background: #e8f5e9; }
.ws-message.info { color: #0d3c61; background: #e8f4fd; }
.ws-status { font-size: 1.05rem; font-weight: 500; }
.ws-table { border-collapse: collapse; font-size: 0.9rem; }
.ws-table th, .ws-table td { border-bottom: 1px solid #e0e0e0; padding: 3px 8px; text-align: left; }
.ws-table td.num { text-align: right; font-variant-numeric: tabular-nums; }
.ws-track { position: relative; width: 260px; height: 14px; background: #eeeeee; border-radius: 3px; }
.ws-track .dot { position: absolute; top: 1px; width: 12px; height: 12px; border-radius: 6px;
  margin-left: -6px; }
.ws-track .line { position: absolute; top: -3px; width: 2px; height: 20px; background: #333;
  margin-left: -1px; }
.ws-flag { color: #c62828; font-weight: 700; }
.ws-mark { color: #1f4e8c; font-weight: 500; }
.ws-grid { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 14px; }
.ws-code-big { font-size: 2.2rem; font-weight: 700; letter-spacing: 0.15em; }
.ws-projector .indicator-name { flex-basis: 340px; font-size: 1.05rem; }
.ws-projector .indicator-value { font-size: 1rem; }
.ws-projector .indicator-bars .bar { height: 16px; }
.ws-projector .ws-room { font-size: 1.05rem; }
@media (max-width: 800px) { .ws-grid { grid-template-columns: minmax(0, 1fr); } .ws-track { width: 150px; } }
"""


def token_from(search: str | None) -> str | None:
    """The ``token`` in the address's query string (``token=...``), or None."""
    if not search:
        return None
    tokens = parse_qs(search).get("token")
    return tokens[0] if tokens and tokens[0] else None


@solara.component
def Message(text: str, kind: str = "info"):
    """One line for the person: ``problem``, ``refusal``, ``done`` or ``info``."""
    solara.HTML(tag="div", unsafe_innerHTML=escape(text), classes=["ws-message", kind])


@solara.component
def Notice(text: str, kind: str = "refusal"):
    """A page that shows nothing but this message (and a way to the join page)."""
    with solara.Column(classes=["ws-notice"], style={"max-width": "620px"}):
        Message(text, kind)
        with solara.Link("/"):
            solara.Button("Go to the join page", text=True)


@solara.component
def Options(labels: dict, value, on_value: Callable, classes: str = "", disabled: bool = False):
    """One button per option, the chosen one filled: big enough to tap on a phone."""
    with solara.Row(classes=["ws-options", classes], style={"flex-wrap": "wrap"}):
        for key, label in labels.items():
            chosen = key == value
            solara.Button(
                label,
                on_click=lambda key=key: on_value(key),
                color="primary" if chosen else None,
                outlined=not chosen,
                disabled=disabled,
                classes=["ws-option", "ws-chosen" if chosen else "ws-not-chosen"],
            )


def table(head: list[str], rows: list[list[str]], classes: str = "") -> str:
    """An HTML table; cells are escaped here, except those given as ``("html", text)``."""

    def cell(value) -> str:
        if isinstance(value, tuple) and value and value[0] == "html":
            return value[1]
        return escape(str(value))

    head_html = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return (
        f'<table class="ws-table {escape(classes)}"><thead><tr>{head_html}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )
