"""A story of the run under the Explore view's pictures: what happened, in plain words; whose views moved.

Both are read from the run's story (:class:`coprod.story.Story`, which ``dashboards/runs.py`` feeds at month 0
and after every step) and redrawn on the clock's picture beat, like the other pictures. The log is the one
``coprod run --story`` prints (recurring events close together share a line), oldest first: it reads as a
story, and its box opens scrolled to the bottom, so the newest line is the one in view.
"""

from __future__ import annotations

from html import escape

import solara
from coprod.dashboards.opinion_chart import opinion_chart
from coprod.dashboards.player import Clock
from coprod.dashboards.runs import Run
from coprod.dashboards.widgets import Svg

from coprod.story import Event, log_lines

WHAT_HAPPENED = "What happened"
WHAT_HAPPENED_INTRO = "The run told month by month, oldest first; the newest line is at the bottom."
NOTHING_YET = "Nothing worth telling yet. Press Step or Play."
VIEWS_MOVED = "Whose views moved"
VIEWS_INTRO = (
    "How much change each group thinks is needed (0: none, 1: radical). The line is a group's middle view, "
    "the shading its middle half. Thick lines: marginalised residents and officials, the two groups "
    "consensus bias compares."
)
# The log's box: a fixed height in pixels, so the page does not grow as the story does (about a dozen
# lines at 1280x720, as tall as the views chart beside it), scrolled inside. Its column runs bottom-up,
# which opens it at the newest (last) line.
LOG_HEIGHT = 300
LOG_STYLE = (
    f"height: {LOG_HEIGHT}px; overflow-y: auto; display: flex; flex-direction: column-reverse; "
    "font-size: 0.85rem; line-height: 1.35; border: 1px solid #eeeeee; border-radius: 3px; padding: 4px 8px;"
)
LINE_STYLE = "padding: 2px 0; border-bottom: 1px solid #f3f3f3;"


def story_lines(events: list[Event]) -> list[str]:
    """Every event told so far, as ``month N: ...`` lines in order of months (none left out)."""
    return log_lines(events, limit=len(events) + 1)


def log_html(lines: list[str]) -> str:
    """The log's lines as HTML (escaped), or a line saying there is nothing yet."""
    if not lines:
        return f'<div class="story-empty" style="color: #777">{escape(NOTHING_YET)}</div>'
    rows = "".join(f'<div class="story-line" style="{LINE_STYLE}">{escape(line)}</div>' for line in lines)
    return f"<div>{rows}</div>"


@solara.component
def RunStory(run: Run, clock: Clock):
    """The log of events and the views by group, side by side, redrawn on the clock's picture beat."""
    beat = clock.beat.value.picture

    def draw():
        months, quantiles = run.opinions()
        return log_html(story_lines(run.events())), opinion_chart(months, quantiles, run.horizon)

    log, chart = solara.use_memo(draw, [run, beat])
    with solara.Div(classes=["two-up", "run-story"]):
        with solara.Card(WHAT_HAPPENED, margin=0, classes=["card-story"]):
            solara.Text(WHAT_HAPPENED_INTRO, classes=["section-intro"])
            solara.HTML(tag="div", unsafe_innerHTML=log, style=LOG_STYLE, classes=["story-log"])
        with solara.Card(VIEWS_MOVED, margin=0, classes=["card-views"]):
            solara.Text(VIEWS_INTRO, classes=["section-intro"])
            Svg(chart, classes=["opinion-chart"])
