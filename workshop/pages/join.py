"""The join page (``/``): join code, name, role (and for a resident: marginalised or not, district).

Joining sends the participant to ``/play?token=...``: the token in the address is their place in the
workshop, so a reload (or the same address opened again) rejoins the same role. The server also remembers
which browser joined as whom (Solara's session cookie), so a participant who closed the tab and opens the
join page again is offered their place back.
"""

from __future__ import annotations

from urllib.parse import quote

import solara

from . import live, words
from .common import Message, Notice, Options


def participant_path(token: str) -> str:
    return f"/play?token={quote(token)}"


def parse_district(text: str) -> int | None:
    """The district typed (None: empty); ValueError for anything but a whole number."""
    text = text.strip()
    if not text:
        return None
    if not text.lstrip("-").isdigit():
        raise ValueError(words.BAD_DISTRICT)
    return int(text)


@solara.component
def Join():
    router = solara.use_router()
    code, set_code = solara.use_state("")
    name, set_name = solara.use_state("")
    role, set_role = solara.use_state("resident")
    marginalised, set_marginalised = solara.use_state("any")
    district, set_district = solara.use_state("")
    problem, set_problem = solara.use_state(None)
    live.use_version(shows=lambda: live.current() is None)  # redrawn when a workshop is served or stopped
    workshop = live.current()
    session = live.session_id()

    if workshop is None:
        Notice(words.NO_WORKSHOP, "refusal")
        return

    earlier = live.remembered(session)
    earlier_participant = None
    if earlier:
        try:
            earlier_participant = live.act(workshop.rejoin, earlier)
        except live.user_errors():
            live.forget(session)

    def join() -> None:
        if not code.strip():
            set_problem(words.NEEDS_CODE)
            return
        if not name.strip():
            set_problem(words.NEEDS_NAME)
            return
        extra = {}
        if role == "resident":
            try:
                extra["district"] = parse_district(district)
            except ValueError as bad:
                set_problem(str(bad))
                return
            extra["marginalised"] = {"any": None, "yes": True, "no": False}[marginalised]
        try:
            participant = live.act(workshop.join, code.strip(), name.strip(), role, **extra)
        except live.user_errors() as refused:
            set_problem(str(refused))
            return
        set_problem(None)
        live.remember(session, participant.token)
        router.push(participant_path(participant.token))

    with solara.Column(classes=["workshop-join"], style={"max-width": "560px"}):
        solara.Text(words.JOIN_TITLE, classes=["ws-title"])
        solara.Text(words.JOIN_INTRO, classes=["ws-intro"])
        if earlier_participant is not None:
            with solara.Row(classes=["ws-welcome"]):
                solara.Text(
                    words.WELCOME_BACK.format(
                        name=earlier_participant.name, role=words.role_name(earlier_participant.role)
                    )
                )
                solara.Button(
                    words.CONTINUE.format(name=earlier_participant.name),
                    on_click=lambda: router.push(participant_path(earlier_participant.token)),
                    color="primary",
                    outlined=True,
                    classes=["ws-continue"],
                )
        solara.InputText(
            words.CODE, value=code, on_value=set_code, continuous_update=True, classes=["ws-code"]
        )
        solara.InputText(
            words.NAME, value=name, on_value=set_name, continuous_update=True, classes=["ws-name"]
        )
        solara.Text(words.ROLE, classes=["ws-question"])
        Options(words.ROLES, role, set_role, "ws-role")
        solara.Text(words.ROLE_ABOUT[role], classes=["ws-about"])
        if role == "resident":
            solara.Text(words.MARGINALISED, classes=["ws-question"])
            Options(words.MARGINALISED_CHOICES, marginalised, set_marginalised, "ws-marginalised")
            solara.InputText(
                words.DISTRICT,
                value=district,
                on_value=set_district,
                continuous_update=True,
                classes=["ws-district"],
            )
        solara.Button(words.JOIN, on_click=join, color="primary", classes=["ws-join"])
        if problem:
            Message(problem, "problem")
