"""The workshop dashboard (Solara): ``coprod dashboard`` serves this file with ``solara run``.

Three views, one per tab: explore one set-up, compare two side by side, browse stored results. Every
browser session gets its own models: they are made inside the components, never at module level.
"""

from __future__ import annotations

import warnings

import coprod.model.warm  # noqa: F401  the kernels compiled (or loaded) before the first page, not during it
import solara
import solara.server.settings
from coprod.dashboards import guard
from coprod.dashboards.browse import Browse
from coprod.dashboards.choices import Draft
from coprod.dashboards.compare import Compare
from coprod.dashboards.explore import Explore
from coprod.dashboards.session import use_setup
from coprod.dashboards.widgets import CSS

# ``coprod dashboard`` put the websocket frame guard in place already; this covers ``solara run`` by hand
# (Solara runs this file at start-up, before it accepts a connection).
guard.install()

# Solara's "This website runs on Solara" banner sits fixed over the bottom right corner of the page, where it
# covered the network's legend on a 1280x720 projector; Solara's own theme setting turns it off.
solara.server.settings.theme.show_banner = False
# Solara warns on every page load over plain http from any host but "localhost" (127.0.0.1 included) that
# it cannot set its session cookie with samesite=none, which only matters when the page is embedded in an
# iframe on another site; it then uses samesite=lax, which is right for this page. Only that warning, from
# that module, is silenced.
warnings.filterwarnings(
    "ignore",
    message=r"Cookies with samesite=none require https",
    category=UserWarning,
    module=r"solara\.server\.starlette",
)

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
