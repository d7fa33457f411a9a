"""The workshop's pages rendered without a browser (``solara.render``), on a real workshop of a small city.

Several pages rendered here at once stand for several browser sessions of one server: they share the one
workshop in ``coprod.workshop.pages.live``, and what one page does shows on the others by their refresh
threads (``live.use_version``). The browser half is tests/browser/test_workshop_browser.py.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from html import unescape
from pathlib import Path

import ipyvuetify as v
import pytest
import solara
from coprod.model import load_scenario
from coprod.workshop.engine import Workshop
from coprod.workshop.pages import app, live, words
from coprod.workshop.pages.common import token_from
from coprod.workshop.pages.facilitator import SIDE_BY_SIDE, branches_table, should_close
from coprod.workshop.pages.join import parse_district
from coprod.workshop.pages.participant import describe, knowledge_items
from coprod.workshop.pages.projector import room_rows
from solara.autorouting import RenderPage
from solara.widgets import Navigator

from tests.support import texts, widgets

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def workshop(tmp_path):
    scenario = load_scenario(ROOT / "scenarios" / "citizens_assembly.toml").with_overrides(
        {"population.residents": 200}, source="test"
    )
    shop = Workshop.start(scenario, tmp_path / "workshop.db", months_per_round=2, name="test")
    live.set_workshop(shop)
    yield shop
    live.set_workshop(None)
    shop.close()


@pytest.fixture
def pages():
    """Open pages (render contexts) at an address, each with its own refresh thread; closed after."""
    opened = []

    def open_page(path: str):
        box, rc = solara.render(
            solara.RoutingProvider(children=[RenderPage()], routes=app.routes, pathname=path),
            handle_error=False,
        )
        opened.append(rc)
        return box

    yield open_page
    for rc in opened:
        rc.close()


def eventually(check, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the page did not get there in time"
        time.sleep(0.05)


def one(root, kind: type, **attributes):
    """The one widget of ``kind`` with these attributes (a button: ``label`` among its children); waits for
    it a little, as a page's refresh thread may be redrawing it while the test looks."""
    label = attributes.pop("label_in", None)
    found: list = []

    def single() -> bool:
        found[:] = [
            w
            for w in widgets(root)
            if isinstance(w, kind)
            and all(getattr(w, k, None) == want for k, want in attributes.items())
            and (label is None or label in w.children)
        ]
        return len(found) == 1

    eventually(single, seconds=5)
    return found[0]


def button(root, label: str) -> v.Btn:
    return one(root, v.Btn, label_in=label)


def has_button(root, label: str) -> bool:
    return any(isinstance(w, v.Btn) and label in w.children for w in widgets(root))


def field(root, label: str) -> v.TextField:
    return one(root, v.TextField, label=label)


def typed(box: v.TextField, value: str) -> None:
    """Type into a text field and press Enter."""
    box.v_model = value
    box.fire_event("keyup.enter", None)


def page_text(root) -> str:
    html = unescape(" ".join(getattr(w, "unsafe_innerHTML", "") or "" for w in widgets(root)))
    return " ".join(texts(root)) + " " + html


def location(root) -> str:
    (nav,) = [w for w in widgets(root) if isinstance(w, Navigator)]
    return nav.location


def join(root, code: str, name: str, role_label: str = "Resident") -> None:
    field(root, words.CODE).v_model = code
    field(root, words.NAME).v_model = name
    button(root, role_label).click()
    button(root, words.JOIN).click()


def human_choices(db: Path) -> list[tuple]:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(
            "SELECT branch, round, agent, payload FROM workshop_choices WHERE source = 'human' "
            "ORDER BY branch, round, agent"
        ).fetchall()


# ------------------------------------------------------------------------------------------ plain helpers


def test_helpers_read_the_address_and_the_form():
    assert token_from("token=abc&x=1") == "abc"
    assert token_from("x=1") is None
    assert token_from(None) is None
    assert parse_district("  ") is None
    assert parse_district("2") == 2
    with pytest.raises(ValueError, match="whole number"):
        parse_district("two")
    items = knowledge_items({"knowledge": [{"item": 4, "kind": "lay", "says": 0.25}]})
    assert items == [(4, "Local knowledge (item 4): it says 0.25")]
    assert describe("resident", {}) == [words.SIMULATED]
    assert describe("resident", {"attend": "stay_away", "share": [4]}, dict(items)) == [
        "Stay away",
        f"{words.SHARE} Local knowledge (item 4): it says 0.25",
    ]
    assert describe("organiser", {"act": "coalition"}) == ["Join a coalition"]
    assert should_close({"open": True, "deadline": 10.0}, False, False, now=11.0)
    assert not should_close({"open": True, "deadline": 10.0, "paused": True}, False, False, now=11.0)
    assert should_close({"open": True, "deadline": None}, True, True, now=0.0)
    assert not should_close({"open": True, "deadline": None}, True, False, now=0.0)
    assert not should_close({"open": False, "deadline": 1.0}, True, True, now=5.0)


# ----------------------------------------------------------------------------------------------- join


def test_a_wrong_join_code_says_so_and_joins_no_one(workshop, pages):
    page = pages("/")
    join(page, "WRONG1", "Ana")
    assert "that join code is not this workshop's" in page_text(page)
    assert workshop.participants() == []
    assert location(page) == "/"


def test_joining_opens_the_participant_page_with_the_token_in_the_address(workshop, pages):
    page = pages("/")
    join(page, workshop.join_code.lower(), "Ana", "Academic")
    eventually(lambda: location(page).startswith("/play?token="))
    (ana,) = workshop.participants()
    assert (ana.name, ana.role) == ("Ana", "academic")
    token = token_from(location(page).split("?", 1)[1])
    assert workshop.rejoin(token).agent == ana.agent
    eventually(lambda: "You are Ana, playing academic" in page_text(page))
    # the same address again (a reload, or the link opened later) is the same participant
    again = pages(location(page))
    eventually(lambda: "You are Ana, playing academic" in page_text(again))
    assert len(workshop.participants()) == 1


def test_a_resident_can_ask_for_a_marginalised_resident(workshop, pages):
    page = pages("/")
    field(page, words.CODE).v_model = workshop.join_code
    field(page, words.NAME).v_model = "Bo"
    button(page, "Yes").click()
    button(page, words.JOIN).click()
    eventually(lambda: location(page).startswith("/play?token="))
    (bo,) = workshop.participants()
    assert bo.role == "resident" and bo.marginalised is True
    eventually(lambda: words.MARGINALISED_NOTE in page_text(page))


def test_a_participant_page_without_a_known_token_refuses(workshop, pages):
    assert words.NO_TOKEN in page_text(pages("/play"))
    assert words.UNKNOWN_TOKEN in page_text(pages("/play?token=not-a-token"))


# ----------------------------------------------------------------------------------- the facilitator


@pytest.mark.parametrize("address", ["/facilitator", "/facilitator?token=guess", "/facilitator?token="])
def test_the_facilitator_page_refuses_without_the_facilitators_token(workshop, pages, address):
    page = pages(address)
    assert words.REFUSED in page_text(page)
    assert not has_button(page, words.OPEN)
    assert workshop.join_code not in page_text(page)


def test_a_participants_link_does_not_open_the_facilitator_page(workshop, pages):
    ana = workshop.join(workshop.join_code, "Ana", "official")
    page = pages(f"/facilitator?token={ana.token}")
    assert words.REFUSED in page_text(page)
    assert not has_button(page, words.OPEN)


def test_a_round_played_across_pages(workshop, pages):
    """The facilitator opens a round; the participant's page, open before, shows the form by itself; the
    choice sent is in the record once; closing the round plays its months and the projector shows them."""
    ana = workshop.join(workshop.join_code, "Ana", "resident")
    ola = workshop.join(workshop.join_code, "Ola", "official")
    fac = pages(f"/facilitator?token={workshop.facilitator_token}")
    mine = pages(f"/play?token={ana.token}")
    theirs = pages(f"/play?token={ola.token}")
    wall = pages("/projector")
    assert words.ROUND_CLOSED in page_text(mine)
    assert "Ana" in page_text(fac) and "Ola" in page_text(fac)
    # auto-close off: the round waits for the facilitator
    one(fac, v.Checkbox, label=words.AUTO_CLOSE).v_model = False
    button(fac, words.OPEN).click()
    assert workshop.state()["open"]
    eventually(lambda: has_button(mine, words.SEND))  # the refresh thread brought the round to the page
    button(mine, "Stay away").click()
    # the first "Let the simulation decide" box of a resident's form is the view's
    sim = next(w for w in widgets(mine) if isinstance(w, v.Checkbox) and w.label == words.SIMULATED)
    sim.v_model = False  # take over the view slider: it starts at the agent's own view
    button(mine, words.SEND).click()
    eventually(lambda: words.STORED.format(round=1) in page_text(mine))
    eventually(lambda: "1 of 2 have chosen" in page_text(fac))
    eventually(lambda: has_button(theirs, words.SEND))
    button(theirs, "Publish the reasons for the decision").click()
    button(theirs, words.SEND).click()
    eventually(lambda: "2 of 2 have chosen" in page_text(fac))
    assert workshop.state()["open"]  # nobody closed it
    button(fac, words.CLOSE).click()
    assert not workshop.state()["open"] and workshop.state()["month"] == 2
    eventually(lambda: "The city, month 2" in page_text(wall))
    eventually(lambda: words.ROUND_CLOSED in page_text(mine))
    rows = human_choices(workshop.record.path)
    assert [(b, r, a) for b, r, a, _ in rows] == sorted([("main", 1, ana.agent), ("main", 1, ola.agent)])
    payloads = {a: p for _, _, a, p in rows}
    assert '"attend": "stay_away"' in payloads[ana.agent] and '"view"' in payloads[ana.agent]
    assert '"publish": true' in payloads[ola.agent]


def test_the_servers_clock_closes_a_round_at_its_time_limit_with_no_page_open(workshop):
    import threading

    workshop.join(workshop.join_code, "Ana", "academic")
    stop = threading.Event()
    clock = live.keep_time(stop, interval=0.05)
    try:
        workshop.open_round(workshop.facilitator_token, seconds=0.5)
        time.sleep(0.2)
        assert workshop.state()["open"]  # not before its time
        eventually(lambda: not workshop.state()["open"], seconds=5)
    finally:
        stop.set()
        clock.join(timeout=5)
    assert not clock.is_alive() and workshop.state()["month"] == 2
    with closing(sqlite3.connect(workshop.record.path)) as conn:
        (source,) = conn.execute("SELECT source FROM workshop_choices").fetchone()
    assert source == "simulated"  # nobody chose: the academic fell back to the simulation


def test_the_round_closes_itself_when_everyone_has_chosen(workshop, pages):
    ana = workshop.join(workshop.join_code, "Ana", "organiser")
    fac = pages(f"/facilitator?token={workshop.facilitator_token}")
    button(fac, words.OPEN).click()
    workshop.submit(ana.token, 1, {"act": "mobilise"})
    eventually(lambda: not workshop.state()["open"])


def test_a_change_reaches_every_page_at_once_not_at_the_next_tick(workshop, pages, monkeypatch):
    """With the pages' ticks 60 s apart, a round opened on one page is on the others, and the last choice
    closes the round (everyone has chosen), within a couple of seconds: pages are woken by the change."""
    monkeypatch.setattr(live, "TICK_SECONDS", 60.0)
    ana = workshop.join(workshop.join_code, "Ana", "resident")
    ola = workshop.join(workshop.join_code, "Ola", "academic")
    fac = pages(f"/facilitator?token={workshop.facilitator_token}")
    mine = pages(f"/play?token={ana.token}")
    wall = pages("/projector")
    time.sleep(0.5)  # the pages' threads are waiting
    live.act(workshop.open_round, workshop.facilitator_token)
    eventually(lambda: has_button(mine, words.SEND), seconds=3)
    live.act(workshop.submit, ana.token, 1, {"attend": "come"})
    eventually(lambda: "1 of 2 have chosen" in page_text(fac), seconds=3)
    live.act(workshop.submit, ola.token, 1, {"act": "evidence"})
    eventually(lambda: not workshop.state()["open"], seconds=3)  # closed by the facilitator page's tick
    eventually(lambda: "The city, month 2" in page_text(wall), seconds=3)
    eventually(lambda: words.ROUND_CLOSED in page_text(mine), seconds=3)


def test_a_participants_page_is_not_redrawn_when_another_participant_chooses(workshop, pages, monkeypatch):
    """Fifty pages redrawn on every choice slowed the redraw at the round's close: a participant's page
    redraws when the round or its own agent changed, not when someone else chose."""
    ana = workshop.join(workshop.join_code, "Ana", "resident")
    ola = workshop.join(workshop.join_code, "Ola", "academic")
    live.act(workshop.open_round, workshop.facilitator_token)
    drawn = []  # the participant page asks who it plays (rejoin) on every render, and nowhere else
    rejoin = workshop.rejoin
    monkeypatch.setattr(workshop, "rejoin", lambda token: drawn.append(token) or rejoin(token))
    mine = pages(f"/play?token={ana.token}")
    eventually(lambda: has_button(mine, words.SEND))
    time.sleep(0.5)
    before = len(drawn)
    live.act(workshop.submit, ola.token, 1, {"act": "evidence"})
    time.sleep(1.0)
    assert len(drawn) == before  # Ola's choice changed nothing Ana's page shows
    live.act(workshop.close_round, workshop.facilitator_token)
    eventually(lambda: words.ROUND_CLOSED in page_text(mine), seconds=3)
    assert len(drawn) > before


def test_two_branches_are_compared_at_the_same_month():
    """After a rewind the new branch is months behind: the table sets the two side by side at the last
    month both reached, with the difference, and shows each one's own last month apart."""
    import re

    def rows(months, level):
        return [{"month": m, **{k: level + m / 100 for k in SIDE_BY_SIDE}} for m in months]

    html = branches_table(("main", rows(range(7), 0.2)), ("b2", rows(range(3), 0.5)))
    head = re.findall(r"<th>(.*?)</th>", html)
    assert head == ["", "main at month 2", "b2 at month 2", "b2 - main", "main (month 6)", "b2 (month 2)"]
    first = re.findall(r"<td>(.*?)</td>", html)[:6]
    assert first[1:] == ["0.22", "0.52", "+0.30", "0.26", "0.52"]
    # both at the same month: no second pair of columns
    html = branches_table(("main", rows(range(5), 0.2)), ("b2", rows(range(5), 0.1)))
    assert re.findall(r"<th>(.*?)</th>", html) == ["", "main at month 4", "b2 at month 4", "b2 - main"]
    assert re.findall(r"<td>(.*?)</td>", html)[3] == "-0.10"


def test_rewind_branches_and_the_two_branches_show_side_by_side(workshop, pages):
    fac = pages(f"/facilitator?token={workshop.facilitator_token}")
    for _ in range(2):
        button(fac, words.OPEN).click()
        button(fac, words.CLOSE).click()
    assert workshop.state()["month"] == 4
    typed(field(fac, words.REWIND_TO), "1")
    button(fac, words.REWIND).click()
    state = workshop.state()
    assert state["branch"] == "b2" and state["month"] == 2
    eventually(lambda: "branch b2" in page_text(fac))
    text = page_text(fac)
    assert "<td>b2</td><td>main</td><td>1</td>" in text
    assert "Outputs over time" in text  # the side-by-side chart
    assert "(month 4)" in text and "(month 2)" in text  # main at month 4, b2 at month 2
    # and back
    one(fac, v.Select, label=words.BRANCH).v_model = "main"
    button(fac, words.SWITCH).click()
    assert workshop.state()["branch"] == "main"


def test_redesign_between_rounds(workshop, pages):
    fac = pages(f"/facilitator?token={workshop.facilitator_token}")
    design = one(fac, v.Select, label=words.DESIGN)
    design.v_model = "Top-down consultation" if "Top-down consultation" in design.items else design.items[0]
    button(fac, "Apply between rounds").click()
    assert workshop.state()["next_design"] == "top_down_consultation"


def test_the_projector_shows_markers_bias_and_whose_views_were_dropped(workshop, pages):
    people = [workshop.join(workshop.join_code, f"P{i}", "resident") for i in range(3)]
    workshop.open_round(workshop.facilitator_token)
    for p in people:
        workshop.submit(p.token, 1, {"attend": "come", "view": 1.0})
    workshop.close_round(workshop.facilitator_token)
    wall = pages("/projector")
    text = page_text(wall)
    assert "The city, month 2" in text
    for label in ("Fair distribution", "Consensus bias", "Say of marginalised residents"):
        assert label in text
    for p in people:
        assert f"<td>{p.name}</td>" in text
    room = workshop.projector()["room"]
    assert text.count('class="ws-room-row dropped"') == sum(bool(r["dropped"]) for r in room)
    assert text.count('class="ws-mark"') == sum(bool(r["marginalised"]) for r in room)


def test_the_room_table_marks_marginalised_and_flags_dropped_views():
    html = room_rows(
        [
            {
                "name": "Ana",
                "role": "resident",
                "view": 0.9,
                "marginalised": True,
                "in_room": True,
                "dropped": True,
                "position": 0.3,
            },
            {
                "name": "Ola",
                "role": "official",
                "view": 0.35,
                "marginalised": False,
                "in_room": True,
                "dropped": False,
                "position": 0.3,
            },
            {
                "name": "<b>Eve</b>",
                "role": "resident",
                "view": 0.5,
                "marginalised": False,
                "in_room": False,
                "dropped": False,
                "position": 0.3,
            },
        ]
    )
    rows = html.split("<tr")[2:]  # after the heading's row
    assert 'class="ws-room-row dropped"' in rows[0] and words.DROPPED in rows[0] and "marginalised" in rows[0]
    assert "left:90.0%" in rows[0] and "left:30.0%" in rows[0]  # the view's dot, the decided position's line
    assert "dropped" not in rows[1] and "marginalised" not in rows[1] and "City official" in rows[1]
    assert words.NOT_IN_ROOM in rows[2] and "&lt;b&gt;Eve&lt;/b&gt;" in rows[2]  # names are escaped
