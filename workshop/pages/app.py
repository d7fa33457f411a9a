"""The workshop's Solara app: ``solara run coprod.workshop.pages.app`` (started by
:func:`coprod.workshop.serve.serve`, which first puts the live workshop in :mod:`.live`).

The routes have no navigation between them: a participant never sees a link to the facilitator's page,
and that page refuses anyone without the facilitator's token.
"""

from __future__ import annotations

import solara
from coprod.dashboards import solara_settings
from coprod.dashboards.widgets import CSS as DASHBOARD_CSS

from .common import CSS
from .facilitator import Facilitate
from .join import Join
from .participant import Play
from .projector import Project

TITLE = "Workshop: just coproduction in the city"

solara_settings.apply()  # as in the dashboard: no banner, no samesite warning over plain http


@solara.component
def Layout(children=[]):  # noqa: B006  Solara's layout signature
    solara.Title(TITLE)
    solara.Style(DASHBOARD_CSS + CSS)  # the dashboard's indicator bars and tips, then the workshop's own
    solara.Column(children=children, classes=["ws-page"])


@solara.component
def JoinPage():
    Join()


@solara.component
def PlayPage():
    Play()


@solara.component
def FacilitatorPage():
    Facilitate()


@solara.component
def ProjectorPage():
    Project()


routes = [
    solara.Route(path="/", component=JoinPage, label="Join", layout=Layout),
    solara.Route(path="play", component=PlayPage, label="Play"),
    solara.Route(path="facilitator", component=FacilitatorPage, label="Facilitator"),
    solara.Route(path="projector", component=ProjectorPage, label="Projector"),
]
