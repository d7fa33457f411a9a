"""``make workshop`` end to end in a real browser: the command a facilitator types starts the server, its
printed facilitator link and join code are all the room needs, and what the room plays is recorded so that
``coprod workshop replay`` recomputes it exactly.

The bigger room (ten participants, three rounds, a rewind) is tests/browser/test_workshop_browser.py, on a
workshop the test stores first; this one goes through the Makefile and the ``coprod workshop`` command."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing

import pytest
from coprod.model import load_scenario
from coprod.workshop.pages import words
from coprod.workshop.replay import scenario_text
from playwright.sync_api import Browser, expect

from benchmarks.server import serving

from .conftest import ROOT
from .test_workshop_browser import PHONE, join, press

pytestmark = pytest.mark.browser


def test_make_workshop_serves_a_room_that_plays_a_round_and_replays_exactly(
    browser: Browser, browser_context_args, tmp_path, coprod
):
    city = tmp_path / "city.toml"
    small = {"population.residents": 200, "run.seed": 5}
    city.write_text(
        scenario_text(load_scenario(ROOT / "scenarios" / "citizens_assembly.toml").with_overrides(small))
    )
    db, log = tmp_path / "w.db", tmp_path / "make.log"
    command = ["make", "--no-print-directory", "workshop", f"SCENARIO={city}", "PORT={port}", f"DB={db}"]
    with serving(command, log, what="make workshop", fail=pytest.fail) as server:
        printed = log.read_text()
        facilitator = re.search(r"facilitator:\s+(\S+)", printed).group(1)
        code = re.search(r"join code (\w+)", printed).group(1)
        assert facilitator.startswith(f"{server.base}/facilitator?token=")
        assert server.base.startswith("http://127.0.0.1:")  # loopback unless --host says otherwise

        contexts = [browser.new_context(**browser_context_args)]
        fac = contexts[0].new_page()
        fac.goto(facilitator)
        expect(fac.get_by_text(words.JOIN_CODE_IS.format(code=code))).to_be_visible(timeout=30_000)
        room = []
        for name, role, marginalised in (("Amara", "Resident", "Yes"), ("Fatima", "City official", None)):
            contexts.append(browser.new_context(**{**browser_context_args, "viewport": PHONE}))
            page = contexts[-1].new_page()
            join(page, server.base, code, name, role, marginalised)
            room.append(page)
        expect(fac.locator(".ws-people")).to_contain_text(f"{words.WHO} (2)")
        fac.get_by_role("button", name=words.OPEN, exact=True).click()
        expect(fac.locator(".ws-state")).to_contain_text("Round 1 · open")
        for page, label in zip(room, (words.ATTEND["stay_away"], words.PUBLISH), strict=True):
            press(page.locator(".ws-form"), label)
            page.get_by_role("button", name=words.SEND).click()
            if page is room[0]:  # the last choice closes the round at once: its page goes to "waiting"
                expect(page.locator(".ws-message.done")).to_have_text(words.STORED.format(round=1))
        # everyone chose: the round closes by itself and the city moves on three months
        expect(fac.locator(".ws-state")).to_contain_text("Round 1 · closed · month 3", timeout=30_000)
        for page in room:
            expect(page.get_by_text(words.ROUND_CLOSED)).to_be_visible()
        for context in contexts:
            context.close()

    with closing(sqlite3.connect(db)) as conn:
        (workshop,) = [r[0] for r in conn.execute("SELECT id FROM workshops")]
        stored = conn.execute("SELECT payload, source FROM workshop_choices ORDER BY agent").fetchall()
        months = conn.execute("SELECT max(month) FROM workshop_steps").fetchone()[0]
    assert sorted(stored) == sorted([('{"attend": "stay_away"}', "human"), ('{"publish": true}', "human")])
    assert months == 3
    replay = coprod("workshop", "replay", str(db), "--workshop", workshop)
    assert replay.returncode == 0, replay.stderr
    assert "matches its recording exactly (3 months, 1 rounds)" in replay.stdout
