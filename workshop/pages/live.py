"""The one live workshop every browser session of the server reads and writes, and the refresh hook.

Solara gives each browser session its own virtual kernel and its own reactive state; the workshop is not
per session. :func:`serve <coprod.workshop.serve.serve>` puts the one :class:`Workshop` here before the
server loads the app, and every page reads it through :func:`current` and changes it through :func:`act`,
one call at a time (a lock: participants' sessions run in threads of their own).

What one person does must show on everyone else's page, at once. Each page calls :func:`use_version`: a
thread per page (``solara.use_thread``; it stops when the page goes away) sleeps on :data:`_changed`, a
condition that :func:`act` notifies whenever a call moved ``workshop.version`` (the workshop bumps it on
every change); woken, the thread sets a per-session state to the new number, which re-renders that page
only. A page therefore redraws as soon as something changed, not at its next poll, and never when nothing
did. The thread also wakes every :data:`TICK_SECONDS` for its page's ``tick`` (the facilitator page closes
a round whose time is up) and runs the tick after every change too (so a round set to close when
everyone has chosen closes on the last choice).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import solara

TICK_SECONDS = 0.5  # how often a page's tick runs when nothing changes (a countdown's resolution)

T = TypeVar("T")

_lock = threading.RLock()
_changed = threading.Condition()  # notified after every call that moved the workshop's version
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
    _announce()


def current() -> Any:
    """The workshop being served, or None."""
    return _workshop


def act[T](call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``call(*args, **kwargs)`` on the workshop, one session at a time; every page is woken if it changed
    the workshop (raised or not)."""
    with _lock:
        before = version()
        try:
            return call(*args, **kwargs)
        finally:
            if version() != before:
                _announce()


def _announce() -> None:
    with _changed:
        _changed.notify_all()


def wait_for_change(seen: int, timeout: float) -> None:
    """Return when the workshop's version is no longer ``seen``, or after ``timeout`` seconds."""
    with _changed:
        if version() == seen:  # checked under the condition: a change announced after this wakes the wait
            _changed.wait(timeout)


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
    interval: float | None = None, tick: Callable[[], None] | None = None
) -> tuple[int, Callable[[], None]]:
    """The workshop's version, kept current on this page: the page re-renders as soon as it changes; and a
    function that re-reads it now (after this page changed the workshop).

    ``tick``, if given, is called after every change and at least every ``interval`` seconds (the
    facilitator page closes a round whose time is up, or whose participants have all chosen); by default
    every :data:`TICK_SECONDS`."""
    interval = TICK_SECONDS if interval is None else interval
    seen, set_seen = solara.use_state(version())
    tick_ref = solara.use_ref(tick)
    tick_ref.current = tick

    def follow(cancel: threading.Event) -> None:
        last = version()
        set_seen(last)
        while not cancel.is_set():
            wait_for_change(last, interval)
            if cancel.is_set():
                return
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

    solara.use_thread(follow, dependencies=[], intrusive_cancel=False)
    return seen, lambda: set_seen(version())


def use_clock(running: bool, interval: float = 1.0) -> float:
    """The time, renewed every ``interval`` seconds while ``running`` (a countdown on the page)."""
    now, set_now = solara.use_state(time.time())

    def tick(cancel: threading.Event) -> None:
        while running and not cancel.wait(interval):
            set_now(time.time())

    solara.use_thread(tick, dependencies=[running], intrusive_cancel=False)
    return now
