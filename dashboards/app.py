"""The workshop dashboard (Solara): ``coprod dashboard`` serves this file with ``solara run``.

Three views, one per tab: explore one set-up, compare two side by side, browse stored results. Every
browser session gets its own models: they are made inside the components, never at module level.
"""

from __future__ import annotations

import coprod.model.warm  # noqa: F401  the kernels compiled (or loaded) before the first page, not during it
import solara
from coprod.dashboards import guard, solara_settings
from coprod.dashboards.browse import Browse
from coprod.dashboards.choices import Draft
from coprod.dashboards.compare import Compare
from coprod.dashboards.explore import Explore
from coprod.dashboards.session import use_setup
from coprod.dashboards.widgets import CSS

# ``coprod dashboard`` put the websocket frame guard in place already; this covers ``solara run`` by hand
# (Solara runs this file at start-up, before it accepts a connection).
guard.install()

solara_settings.apply()

TITLE = "Just coproduction in the city: a workshop simulator"
INTRO = (
    "Residents, officials, academics and civil-society groups meet to change how a city is governed. "
    "Pick how they meet (the institutional design) and how you think change happens (the theory of "
    "change), press Play, and watch the eight progress markers of a more just city, the risk of a consensus "
    "that silences the less powerful, and the costs. One step is one month. Hover over (i) for what "
    "each indicator means."
)


EXPLORE_TAB = 0


@solara.component
def Page():
    # Per browser session (Page is rendered once per session): which tab is open, and Explore's set-up,
    # held here so that "Open this run in Explore" on the results tab can put a set-up into Explore and
    # switch to it, and so that a stored scenario discovery can say where Explore's set-up sits in its box.
    # The tabs are lazy: a view not shown is not rendered, and Explore builds its run from this set-up when
    # it is shown again.
    tab = solara.use_reactive(EXPLORE_TAB)
    setup = use_setup()

    def open_in_explore(draft: Draft, source: str) -> None:
        setup.put(draft, source)
        tab.set(EXPLORE_TAB)

    solara.Title(TITLE)
    solara.Style(CSS)
    with solara.Column(gap="4px", style={"padding": "8px 18px", "max-width": "1800px"}):
        solara.Text(TITLE, classes=["page-title"])
        solara.Text(INTRO, classes=["page-intro"])
        with solara.Div(classes=["page-tabs"]), solara.lab.Tabs(value=tab, lazy=True):
            with solara.lab.Tab("Explore one set-up", classes=["tab-explore"]):
                Explore(setup)
            with solara.lab.Tab("Compare two set-ups", classes=["tab-compare"]):
                Compare()
            with solara.lab.Tab("Stored results", classes=["tab-results"]):
                Browse(on_open=open_in_explore, setup=setup)
