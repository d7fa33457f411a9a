"""The one live workshop every browser session of the server reads and writes, and the refresh hook.

Solara gives each browser session its own virtual kernel and its own reactive state; the workshop is not
per session. :func:`serve <coprod.workshop.serve.serve>` puts the one :class:`Workshop` here before the
server loads the app, and every page reads it through :func:`current` and changes it through :func:`act`,
one call at a time (a lock: participants' sessions run in threads of their own).

What one person does must show on everyone else's page, at once. Each page calls :func:`use_version`: a
thread per page (``solara.use_thread``; it stops when the page goes away) sleeps on :data:`_changed`, a
condition that :func:`act` notifies whenever a call moved ``workshop.version`` (the workshop bumps it on
every change); woken, the thread sets a per-session state to the new number if what that page shows changed
(its ``shows``), which re-renders that page only. A page therefore redraws as soon as something it shows
changed, not at its next poll, and not when nothing it shows did. The thread also wakes every
:data:`TICK_SECONDS` for its page's ``tick`` and runs the tick after every change too (the facilitator page
closes a round set to close when everyone has chosen on the last choice). A round whose time limit has
passed is closed by the server's own clock (:func:`keep_time`), whether or not a page is open.
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


def keep_time(stop: threading.Event, interval: float | None = None) -> threading.Thread:
    """The server's own clock: a thread that, every ``interval`` seconds (default :data:`TICK_SECONDS`)
    until ``stop`` is set, closes the open round if its time limit has passed, whether or not any page is
    open (the facilitator's laptop may sleep). Started by :func:`coprod.workshop.serve.serve`."""
    every = TICK_SECONDS if interval is None else interval

    def run() -> None:
        while not stop.wait(every):
            workshop = _workshop
            if workshop is None:
                continue
            try:
                act(workshop.close_if_due)
            except Exception:  # the clock must go on; the reason goes to the server log
                import logging

                logging.getLogger("coprod.workshop").exception("the workshop's clock could not close a round")

    thread = threading.Thread(target=run, name="workshop-clock", daemon=True)
    thread.start()
    return thread


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
    interval: float | None = None,
    tick: Callable[[], None] | None = None,
    shows: Callable[[], Any] | None = None,
) -> tuple[int, Callable[[], None]]:
    """The workshop's version, kept current on this page: the page re-renders as soon as what it shows
    changed; and a function that re-reads it now (after this page changed the workshop).

    ``shows``, if given, returns what the page draws from (compared with ``==``): a change of the workshop
    that leaves it equal does not redraw the page. In a room of fifty, a participant's page has nothing to
    redraw when another participant chooses, and fifty pages redrawn for nothing on every choice delayed
    the redraw that matters, at the round's close (measured in ``benchmarks/workshop.py``). Without it,
    every change redraws the page (the facilitator's, which counts the choices).

    ``tick``, if given, is called after every change and at least every ``interval`` seconds (the
    facilitator page closes a round whose participants have all chosen); by default every
    :data:`TICK_SECONDS`."""
    interval = TICK_SECONDS if interval is None else interval
    seen, set_seen = solara.use_state(version())
    tick_ref = solara.use_ref(tick)
    tick_ref.current = tick
    shows_ref = solara.use_ref(shows)
    shows_ref.current = shows

    def drawn() -> Any:
        return version() if shows_ref.current is None else shows_ref.current()

    def follow(cancel: threading.Event) -> None:
        last, last_drawn = version(), drawn()
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
            if now == last:
                continue
            last = now
            try:
                now_drawn = drawn()
            except Exception:  # the page itself shows what went wrong
                now_drawn = object()
            if now_drawn != last_drawn:
                last_drawn = now_drawn
                set_seen(now)

    solara.use_thread(follow, dependencies=[], intrusive_cancel=False)
    return seen, lambda: set_seen(version())


NOT_SHOWN = ("version", "chosen", "chosen_agents")  # only the facilitator's page shows who has chosen


def state_shown() -> dict[str, Any]:
    """The workshop's state as a participant's page and the projector show it: not the version (which moves
    on every change), nor who has chosen so far."""
    workshop = _workshop
    if workshop is None:
        return {}
    return {k: v for k, v in act(workshop.state).items() if k not in NOT_SHOWN}


def use_clock(running: bool, interval: float = 1.0) -> float:
    """The time, renewed every ``interval`` seconds while ``running`` (a countdown on the page)."""
    now, set_now = solara.use_state(time.time())

    def tick(cancel: threading.Event) -> None:
        while running and not cancel.wait(interval):
            set_now(time.time())

    solara.use_thread(tick, dependencies=[running], intrusive_cancel=False)
    return now
