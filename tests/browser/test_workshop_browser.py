"""Workshop mode in real browsers: one server (``python -m coprod.workshop.serve``, as ``coprod workshop``
serves), one facilitator and ten participants, each in a browser context of its own (own cookies, own
Solara session), playing one city.

The room joins (mixed roles), plays three rounds, and the facilitator rewinds to round 1, which starts a
branch; the SQLite file then holds every choice made exactly once. A participant who reloads keeps their
role; a wrong join code is refused with a message; a participant's link turned into the facilitator's
address is refused. With COPROD_UPDATE_SCREENSHOTS=1 the join, participant, facilitator and projector pages
are saved as docs/img/workshop_*.png.
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from coprod.model import load_scenario
from coprod.workshop.engine import Workshop
from coprod.workshop.pages import words
from playwright.sync_api import Browser, Page, expect

from benchmarks.server import serving_workshop
from benchmarks.workshop import (  # the room the benchmark plays too, played the same way
    PHONE,
    ROOM,
    choices_for,
    fill_join,
    press_option,
)

from .conftest import ROOT, SCREENSHOTS, UPDATE_SCREENSHOTS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A workshop on a small city, served by ``python -m coprod.workshop.serve`` on a free port: (join
    address, facilitator address, projector address, database path)."""
    folder = tmp_path_factory.mktemp("workshop")
    db = folder / "workshop.db"
    scenario = load_scenario(ROOT / "scenarios" / "citizens_assembly.toml").with_overrides(
        {"population.residents": 300}, source="test"
    )
    made = Workshop.start(scenario, db, months_per_round=2, name="browser test")
    workshop_id = made.id
    made.close()
    with serving_workshop(db, workshop_id, folder / "server.log", fail=pytest.fail) as (running, fac, code):
        yield {"base": running.base, "facilitator": fac, "code": code, "db": db, "log": running.log}


def screenshot(page: Page, name: str, scratch: Path) -> None:
    """Save the page as docs/img/``name`` when COPROD_UPDATE_SCREENSHOTS=1 (else only into the scratch
    folder: an ordinary run leaves the committed pictures alone)."""
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(300)
    shot = scratch / name
    page.screenshot(path=shot, full_page=True)
    if os.environ.get(UPDATE_SCREENSHOTS) == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / name).write_bytes(shot.read_bytes())


def open_join(page: Page, base: str) -> None:
    page.goto(base + "/")
    expect(page.get_by_text(words.JOIN_TITLE)).to_be_visible(timeout=30_000)


def join(page: Page, base: str, code: str, name: str, role: str, marginalised: str | None) -> None:
    open_join(page, base)
    fill_join(page, code, name, role, marginalised)
    assert "/play?token=" in page.url


press = press_option


def test_a_room_of_ten_plays_three_rounds_rewinds_and_branches(
    browser: Browser, browser_context_args, server, tmp_path
):
    base, code = server["base"], server["code"]
    fac_context = browser.new_context(**browser_context_args)
    fac = fac_context.new_page()
    fac.goto(server["facilitator"])
    expect(fac.get_by_text(words.JOIN_CODE_IS.format(code=code))).to_be_visible(timeout=30_000)
    # the round waits for the facilitator: closed by the button, not by the last choice
    fac.get_by_text(words.AUTO_CLOSE).click()
    expect(fac.get_by_role("checkbox", name=words.AUTO_CLOSE)).not_to_be_checked()

    contexts, players = [], []
    for name, role, marginalised in ROOM:
        context = browser.new_context(**{**browser_context_args, "viewport": PHONE})
        page = context.new_page()
        if not players:  # the join page, as the first participant fills it in
            open_join(page, base)
            page.locator(".ws-code input").fill(code)
            page.locator(".ws-name input").fill(name)
            screenshot(page, "workshop_join.png", tmp_path)
        join(page, base, code, name, role, marginalised)
        contexts.append(context)
        players.append((name, role, page))
    expect(fac.locator(".ws-people")).to_contain_text(f"{words.WHO} (10)")

    made: dict[tuple[str, int], dict] = {}  # (name, round) -> the payload
    for round_no in (1, 2, 3):
        fac.get_by_role("button", name=words.OPEN, exact=True).click()
        expect(fac.locator(".ws-state")).to_contain_text(f"Round {round_no} · open")
        for i, (name, role, page) in enumerate(players):
            expect(page.get_by_role("button", name=words.SEND)).to_be_visible()
            presses, payload = choices_for(role, round_no, i)
            for label in presses:
                press(page.locator(".ws-form"), label)
            page.get_by_role("button", name=words.SEND).click()
            expect(page.locator(".ws-message.done")).to_have_text(words.STORED.format(round=round_no))
            made[(name, round_no)] = payload
        if round_no == 1:
            screenshot(players[0][2], "workshop_participant.png", tmp_path)
        expect(fac.locator(".ws-chosen-count")).to_contain_text("10 of 10 have chosen")
        fac.get_by_role("button", name=words.CLOSE, exact=True).click()
        expect(fac.locator(".ws-state")).to_contain_text(f"Round {round_no} · closed · month {2 * round_no}")
        for _, _, page in players:
            expect(page.get_by_text(words.ROUND_CLOSED)).to_be_visible()

    projector_context = browser.new_context(**browser_context_args)
    wall = projector_context.new_page()
    wall.goto(base + "/projector")
    expect(wall.locator(".ws-month")).to_have_text("The city, month 6", timeout=30_000)
    expect(wall.locator(".ws-room-row")).to_have_count(10)
    for name, _, _ in ROOM:
        expect(wall.locator(".ws-room")).to_contain_text(name)
    screenshot(wall, "workshop_projector.png", tmp_path)

    # rewind to round 1: a new branch, from month 2; the projector follows
    fac.locator(".ws-rewind-round input").fill("1")
    fac.locator(".ws-rewind-round input").press("Enter")
    fac.get_by_role("button", name=words.REWIND).click()
    expect(fac.locator(".ws-state")).to_contain_text("Round 1 · closed · month 2 · branch b2")
    expect(wall.locator(".ws-month")).to_have_text("The city, month 2")
    expect(fac.locator(".ws-branches-table")).to_contain_text("(month 6)")
    expect(fac.locator(".ws-branches-table")).to_contain_text("(month 2)")
    screenshot(fac, "workshop_facilitator.png", tmp_path)

    # every choice made is in the file exactly once, as made (branch main; the branch b2 holds its copy of
    # round 1, the history it starts from)
    agents = {p["name"]: p["agent"] for p in _participants(server["db"])}
    with closing(sqlite3.connect(server["db"])) as conn:
        rows = conn.execute(
            "SELECT branch, round, agent, payload, source FROM workshop_choices ORDER BY branch, round, agent"
        ).fetchall()
    main = [r for r in rows if r[0] == "main"]
    assert len(main) == len(made) == 30
    assert len({(r[1], r[2]) for r in main}) == 30
    assert all(r[4] == "human" for r in main)
    for (name, round_no), payload in made.items():
        (row,) = [r for r in main if r[1] == round_no and r[2] == agents[name]]
        assert json.loads(row[3]) == payload, (name, round_no)
    branch = [r for r in rows if r[0] == "b2"]
    assert sorted((r[1], r[2], r[3]) for r in branch) == sorted((r[1], r[2], r[3]) for r in main if r[1] == 1)

    # a participant who reloads keeps their place
    name, role, page = players[5]
    page.reload()
    expect(page.locator(".ws-you")).to_contain_text(f"You are {name}, playing {role.lower()}", timeout=30_000)
    # ... and one who closed the tab and opens the join page again in the same browser is offered it back
    again = contexts[0].new_page()
    open_join(again, base)
    expect(again.locator(".ws-continue")).to_contain_text(f"Continue as {players[0][0]}")
    again.locator(".ws-continue").click()
    expect(again.locator(".ws-you")).to_contain_text(f"You are {players[0][0]}", timeout=30_000)
    # a participant's address with /play turned into /facilitator is refused
    turned = page.url.replace("/play?", "/facilitator?")
    page.goto(turned)
    expect(page.get_by_text(words.REFUSED)).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name=words.OPEN)).to_have_count(0)
    page.goto(base + "/facilitator")
    expect(page.get_by_text(words.REFUSED)).to_be_visible(timeout=30_000)
    for context in [fac_context, projector_context, *contexts]:
        context.close()


def test_a_wrong_join_code_is_refused_with_a_message(page: Page, server):
    open_join(page, server["base"])
    page.locator(".ws-code input").fill("NOTIT9")
    page.locator(".ws-name input").fill("Zed")
    page.get_by_role("button", name=words.JOIN, exact=True).click()
    expect(page.locator(".ws-message.problem")).to_contain_text("that join code is not this workshop's")
    assert "/play" not in page.url
    assert "Zed" not in [p["name"] for p in _participants(server["db"])]


def _participants(db: Path) -> list[dict]:
    with closing(sqlite3.connect(db)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM workshop_participants")]
