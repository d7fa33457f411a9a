"""The one live workshop every browser session of the server reads and writes, and the refresh hook.

Solara gives each browser session its own virtual kernel and its own reactive state; the workshop is not
per session. :func:`serve <coprod.workshop.serve.serve>` puts the one :class:`Workshop` here before the
server loads the app, and every page reads it through :func:`current` and changes it through :func:`act`,
one call at a time (a lock: participants' sessions run in threads of their own).

What one person does must show on everyone else's page. Each page calls :func:`use_version`: a thread per
page (``solara.use_thread``; it stops when the page goes away) reads ``workshop.version`` every
:data:`POLL_SECONDS` and, when it moved, sets a per-session state to the new number, which re-renders
that page only. The workshop bumps ``version`` on every change, so a page re-reads the workshop only when
something changed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import solara

POLL_SECONDS = 0.5

T = TypeVar("T")

_lock = threading.RLock()
_workshop: Any = None
# browser session (Solara's session cookie) -> the participant token it joined with: a participant who
# closed the tab and opens the join page again in the same browser is offered their place back
_sessions: dict[str, str] = {}


def set_workshop(workshop: Any) -> None:
    """Serve ``workshop`` (None: none); forgets which browser joined as whom."""
    global _workshop
    with _lock:
        _workshop = workshop
        _sessions.clear()


def current() -> Any:
    """The workshop being served, or None."""
    return _workshop


def act[T](call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``call(*args, **kwargs)`` on the workshop, one session at a time."""
    with _lock:
        return call(*args, **kwargs)


def version() -> int:
    workshop = _workshop
    return -1 if workshop is None else int(workshop.version)


def user_errors() -> tuple[type[Exception], ...]:
    """The errors whose message a page shows to the person (one line each): the workshop's and a bad
    choice's; anything else is a bug and goes to the server log."""
    from coprod.model.choices import ChoiceError

    from ..engine import WorkshopError

    return (WorkshopError, ChoiceError)


def remember(session: str | None, token: str) -> None:
    if session:
        with _lock:
            _sessions[session] = token


def remembered(session: str | None) -> str | None:
    return _sessions.get(session) if session else None


def forget(session: str | None) -> None:
    if session:
        with _lock:
            _sessions.pop(session, None)


def session_id() -> str | None:
    """This browser's Solara session id (its cookie), or None outside a server (solara.render in tests)."""
    try:
        return solara.get_session_id()
    except Exception:  # no kernel context: rendered in a test
        return None


def use_version(
    interval: float = POLL_SECONDS, tick: Callable[[], None] | None = None
) -> tuple[int, Callable[[], None]]:
    """The workshop's version, kept current on this page: the page re-renders when it changes; and a
    function that re-reads it now (after this page changed the workshop, not to wait for the next poll).

    ``tick``, if given, is called at every poll (the facilitator page closes a round whose time is up)."""
    seen, set_seen = solara.use_state(version())
    tick_ref = solara.use_ref(tick)
    tick_ref.current = tick

    def poll(cancel: threading.Event) -> None:
        last = version()
        set_seen(last)
        while not cancel.wait(interval):
            if tick_ref.current is not None:
                try:
                    tick_ref.current()
                except Exception:  # a tick must never stop the refresh
                    import logging

                    logging.getLogger("coprod.workshop").exception("workshop page tick failed")
            now = version()
            if now != last:
                last = now
                set_seen(now)

    solara.use_thread(poll, dependencies=[], intrusive_cancel=False)
    return seen, lambda: set_seen(version())


def use_clock(running: bool, interval: float = 1.0) -> float:
    """The time, renewed every ``interval`` seconds while ``running`` (a countdown on the page)."""
    now, set_now = solara.use_state(time.time())

    def tick(cancel: threading.Event) -> None:
        while running and not cancel.wait(interval):
            set_now(time.time())

    solara.use_thread(tick, dependencies=[running], intrusive_cancel=False)
    return now
