"""Play, pause, step and speed: the clock of one view, and the loop that plays it.

Stepping is cheap (about 5 ms a month at 1,000 residents) but redrawing the page is not, so the loop
steps at the chosen speed and tells the page to redraw on two separate beats: the month counter and the
indicator bars at most ten times a second, the charts at most four times a second. Whoever reads
``clock.beat`` re-renders on each beat; the charts are redrawn only when ``beat.picture`` moved.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import reacton.core
import solara

FRAME_SECONDS = 0.1
PICTURE_SECONDS = 0.25
SPEEDS: dict[str, float | None] = {
    "1": 1.0,
    "2": 2.0,
    "5": 5.0,
    "10": 10.0,
    "20": 20.0,
    "max": None,
}
DEFAULT_SPEED = "10"
# A change of set-up starts a new run once the controls have rested this long, so that dragging a slider
# builds one run at the end rather than one per position passed (building one takes about half a second).
SETTLE_SECONDS = 0.3


class Beat(NamedTuple):
    """How many times the page was told to redraw: the light parts (frame) and the charts (picture)."""

    frame: int
    picture: int


@dataclass(frozen=True)
class Clock:
    """One view's play state, as reactive values local to that view (so to one browser session).

    Each render pass walks the page's whole widget tree, so a tick must cost one pass: both beats live
    in one reactive value, and the tick holds the render context while it sets it (Solara would otherwise
    render once for each component that reads the beat)."""

    playing: solara.Reactive[bool]
    speed: solara.Reactive[str]
    beat: solara.Reactive[Beat]
    render_context: Any

    def tick(self, *, picture: bool) -> None:
        frame, drawn = self.beat.value
        with self.render_context:  # one render pass when the block ends
            self.beat.value = Beat(frame + 1, drawn + 1 if picture else drawn)

    def redraw(self) -> None:
        self.tick(picture=True)


def use_clock() -> Clock:
    return Clock(
        playing=solara.use_reactive(False),
        speed=solara.use_reactive(DEFAULT_SPEED),
        beat=solara.use_reactive(Beat(0, 0)),
        render_context=reacton.core.get_render_context(),
    )


def use_player(clock: Clock, target: solara.Reactive) -> None:
    """Run the play loop in a thread while ``clock.playing`` is on; ``target.value`` is stepped."""

    def play(cancel: threading.Event) -> None:
        if clock.playing.value:
            _play(clock, target, cancel)

    # intrusive_cancel would trace every line the model runs (sys.settrace) and slow it several times over;
    # the loop checks the event itself instead.
    solara.use_thread(play, dependencies=[clock.playing.value], intrusive_cancel=False)


def _play(clock: Clock, target: solara.Reactive, cancel: threading.Event) -> None:
    speed_name, started, done = clock.speed.value, time.perf_counter(), 0
    last_frame = last_picture = started
    while not cancel.is_set() and clock.playing.value:
        run = target.value
        if run.finished:
            break
        run.step(1)
        done += 1
        now = time.perf_counter()
        if now - last_picture >= PICTURE_SECONDS:
            clock.tick(picture=True)
            last_frame = last_picture = time.perf_counter()
        elif now - last_frame >= FRAME_SECONDS:
            clock.tick(picture=False)
            last_frame = time.perf_counter()
        if clock.speed.value != speed_name:  # a new speed: count from here
            speed_name, started, done = clock.speed.value, time.perf_counter(), 0
        rate = SPEEDS.get(speed_name)
        if rate:
            cancel.wait(max(0.0, started + done / rate - time.perf_counter()))
    if not cancel.is_set():
        clock.playing.value = False
    clock.redraw()


def step_once(clock: Clock, target: solara.Reactive) -> None:
    if not clock.playing.value:
        target.value.step(1)
        clock.redraw()


def use_follow(
    clock: Clock, target: solara.Reactive, wanted: str | None, running: str, build: Callable[[], Any]
) -> bool:
    """Keep the run on screen matching the controls: whenever ``wanted`` (the set-up the controls describe,
    as text; None while they describe none that works) differs from ``running`` (the run's), stop playing
    and, once the controls have rested :data:`SETTLE_SECONDS`, put ``build()`` in ``target``. Returns
    whether the run on screen is out of date (Step and Play must wait)."""
    stale = wanted is not None and wanted != running

    def follow(cancel: threading.Event) -> None:
        if not stale:
            return
        clock.playing.value = False
        if cancel.wait(SETTLE_SECONDS):  # the controls moved again: a newer call takes over
            return
        fresh = build()
        if cancel.is_set():
            return
        target.value = fresh
        clock.redraw()

    solara.use_thread(follow, dependencies=[wanted, running], intrusive_cancel=False)
    return stale
