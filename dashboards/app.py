"""The workshop dashboard (Solara): ``coprod dashboard`` serves this file with ``solara run``.

Three views, one per tab: explore one set-up, compare two side by side, browse stored results. Every
browser session gets its own models: they are made inside the components, never at module level.
"""

from __future__ import annotations

import solara

from dashboards import guard
from dashboards.browse import Browse
from dashboards.compare import Compare
from dashboards.explore import Explore
from dashboards.widgets import CSS

# ``coprod dashboard`` put the websocket frame guard in place already; this covers ``solara run`` by hand
# (Solara runs this file at start-up, before it accepts a connection).
guard.install()

TITLE = "Just coproduction in the city: a workshop simulator"
INTRO = (
    "Residents, officials, academics and civil-society groups meet to change how a city is governed. "
    "Pick how they meet (the institutional design) and how you think change happens (the theory of "
    "change), press Play, and watch the eight progress markers of a more just city, the risk of a consensus "
    "that silences the less powerful, and the costs. One step is one month. Hover over (i) for what "
    "each indicator means."
)


@solara.component
def Page():
    solara.Title(TITLE)
    solara.Style(CSS)
    with solara.Column(style={"padding": "12px 18px", "max-width": "1600px"}):
        solara.Text(TITLE, style={"font-size": "1.5rem", "font-weight": "500"})
        solara.Text(INTRO, style={"color": "#444", "max-width": "1100px"})
        with solara.lab.Tabs(lazy=True):
            with solara.lab.Tab("Explore one set-up", classes=["tab-explore"]):
                Explore()
            with solara.lab.Tab("Compare two set-ups", classes=["tab-compare"]):
                Compare()
            with solara.lab.Tab("Stored results", classes=["tab-results"]):
                Browse()
