"""Solara's server settings that both apps share: the dashboard (``dashboards/app.py``) and the workshop's
pages (``workshop/pages/app.py``). Each app calls :func:`apply` when Solara loads it, before a page is served.
"""

from __future__ import annotations

import warnings

import solara.server.settings


def apply() -> None:
    """Turn off Solara's banner and its samesite=none cookie warning over plain http (that one only)."""
    # Solara's "This website runs on Solara" banner sits fixed over the bottom right corner of the page, where
    # it covered the network's legend on a 1280x720 projector; Solara's own theme setting turns it off.
    solara.server.settings.theme.show_banner = False
    # Solara warns on every page load over plain http from any host but "localhost" (127.0.0.1 included) that
    # it cannot set its session cookie with samesite=none, which only matters when the page is embedded in an
    # iframe on another site; it then uses samesite=lax, which is right for these pages. Only that warning,
    # from that module, is silenced.
    warnings.filterwarnings(
        "ignore",
        message=r"Cookies with samesite=none require https",
        category=UserWarning,
        module=r"solara\.server\.starlette",
    )
