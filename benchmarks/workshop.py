"""(i) Workshop mode with a full room: participants' browsers and the facilitator's on one server (issue 17).

A workshop on ``scenarios/citizens_assembly.toml`` with ``population.residents`` set to 1,000 is stored in a
scratch SQLite file and served by ``python -m coprod.workshop.serve`` on a free loopback port (its own
process group, stopped at the end: :mod:`benchmarks.server`), as ``coprod workshop`` serves it. One
chromium (Debian's, through Playwright) holds the facilitator's page and one browser context per
participant (own cookies, own Solara session, a phone's viewport). Measured:

- **join-page load**: a new browser context opens the join page, and the clock stops when the join code's
  field is editable. The first opening after the server started is reported apart (it loads the app's
  modules in the server); the figure is the median over the participants' own openings, each timed as it
  opens the page to join.
- **server memory per participant**: the server's resident memory (its process and any children, psutil)
  with the facilitator's page open, and again after every participant joined and the room settled; the
  difference over the number of participants.
- **round latency**: in each round the facilitator opens the round and every participant presses their
  role's choices and "Send my choices" (the mix of roles of the browser test's room, cycled). The round is
  NOT closed by a press: the facilitator page's "close the round by itself when everyone has chosen" is on
  (its default), and its refresh thread, woken by the last choice (``coprod.workshop.pages.live``), closes
  the round once every participant has chosen; closing plays the round's months. So the clock starts when
  the LAST participant's "Send my choices" click lands (``Date.now()`` read by a capturing click listener in
  that page) and stops, page by page, when that page shows the new month: the facilitator's status line
  reads "Round r · closed · month m"; a participant's page (which shows no month number) shows "Waiting for
  the facilitator to open the next round", which it draws in the same render as the agent's state after the
  new months. Each page records the moment itself (a MutationObserver installed before the click writes
  ``Date.now()`` when the text first appears), so the figure is not the speed of the benchmark's own loop;
  all pages run on this machine, so their clocks are one clock. Per round: the largest delay over all pages
  (the figure against the goal of 1 s), the median, and the server's own part (the round's ``closed`` time
  in the record minus the click: waking the facilitator page's thread plus playing the months).
- **none lost**: after the rounds the SQLite file must hold exactly one ``human`` choice per participant
  per round, each with the payload the page sent, none doubled, and no ``simulated`` row for a participant
  who chose.

Modes: quick 10 participants and 2 rounds; default and full 50 participants and 5 rounds. Without chromium
(or Playwright) the section says so and the other parts go on.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import time
from contextlib import closing, suppress
from pathlib import Path

from benchmarks.common import ROOT, Section, cores, median, say, spread
from benchmarks.dashboard import CHROMIUM, LAUNCH_ARGS, _missing
from benchmarks.server import serving_workshop

RESIDENTS = 1_000
MONTHS_PER_ROUND = 3  # ``coprod workshop``'s default
SCENARIO = ROOT / "scenarios" / "citizens_assembly.toml"
PARTICIPANTS = {"quick": 10, "default": 50, "full": 50}
ROUNDS = {"quick": 2, "default": 5, "full": 5}
GOAL_SECONDS = 1.0
WAIT_MS = 60_000
SHOWN_SECONDS = 120  # how long a round waits for every page to show the new month
SETTLE_SECONDS = 3.0  # before each memory reading: pages drawn, sessions' threads started
PHONE = {"width": 390, "height": 844}  # participants on phones
DESKTOP = {"width": 1500, "height": 1100}
# ten participants (cycled for larger rooms): name, role button, and for residents whether they ask for a
# marginalised resident; tests/browser/test_workshop_browser.py plays this room too
ROOM = [
    ("Amara", "Resident", "Yes"),
    ("Ben", "Resident", "No"),
    ("Chen", "Resident", "Let the city decide"),
    ("Dana", "Resident", "Yes"),
    ("Eli", "Resident", "Let the city decide"),
    ("Fatima", "City official", None),
    ("Goran", "City official", None),
    ("Hana", "Academic", None),
    ("Ivo", "Community organiser", None),
    ("Jun", "Community organiser", None),
]

# Installed in every page before the last click: writes Date.now() into window.__benchShown when the page
# first holds ``text`` (in the element ``selector``, or anywhere in the page). The mutation that draws it
# calls the observer before the browser paints it.
WATCH = """([selector, text]) => {
  window.__benchShown = null;
  const holds = () => {
    const where = selector ? document.querySelector(selector) : document.body;
    return !!where && where.textContent.includes(text);
  };
  if (holds()) { return true; }
  const observer = new MutationObserver(() => {
    if (window.__benchShown === null && holds()) {
      window.__benchShown = Date.now();
      observer.disconnect();
    }
  });
  observer.observe(document.body, {childList: true, subtree: true, characterData: true});
  return false;
}"""
# In the last participant's page: the moment its "Send my choices" click lands.
CLICK = """() => {
  window.__benchClick = null;
  const mark = () => { window.__benchClick = Date.now(); };
  document.addEventListener('click', mark, {capture: true, once: true});
}"""


def choices_for(role: str, round_no: int, i: int) -> tuple[list[str], dict]:
    """The buttons participant ``i`` playing ``role`` presses in a round, and the payload that must be stored
    for it."""
    from coprod.workshop.pages import words

    if role == "Resident":
        key = ("come", "stay_away")[(i + round_no) % 2]
        return [words.ATTEND[key]], {"attend": key}
    if role == "City official":
        agenda = ("need", "usual")[(i + round_no) % 2]
        return [words.PUBLISH, words.AGENDA[agenda]], {"publish": True, "agenda": agenda}
    if role == "Academic":
        act = ("evidence", "facilitate", "stay_out")[round_no % 3]
        return [words.ACT["academic"][act]], {"act": act}
    act = ("mobilise", "experiment", "coalition")[(i + round_no) % 3]
    return [words.ACT["organiser"][act]], {"act": act}


def _rss(pid: int) -> int:
    """Resident memory of ``pid`` and all its children, in bytes."""
    import psutil

    root = psutil.Process(pid)
    total = 0
    for p in [root, *root.children(recursive=True)]:
        with suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def _cpu(processes) -> float:
    """User and system CPU seconds used so far by ``processes`` (those that have gone are left out)."""
    total = 0.0
    for p in processes:
        with suppress(Exception):
            t = p.cpu_times()
            total += t.user + t.system
    return total


def _server_and_browsers(pid: int) -> tuple[list, list]:
    """The server's processes (it and its children) and chromium's (every process named chromium here)."""
    import psutil

    root = psutil.Process(pid)
    server = [root, *root.children(recursive=True)]
    browsers = [p for p in psutil.process_iter(["name"]) if "chromium" in (p.info["name"] or "")]
    return server, browsers


def press_option(options, label: str) -> None:
    """Press an option button and wait until the page shows it chosen (the form below it may change, and a
    click aimed before the page redrew would land elsewhere). The browser tests press so too."""
    import re

    from playwright.sync_api import expect

    button = options.get_by_role("button", name=label, exact=True)
    button.click()
    expect(button).to_have_class(re.compile(r"\bws-chosen\b"), timeout=WAIT_MS)


def _open_join(browser, base: str):
    """A new participant's context and page on the join page: (context, page, seconds until the join code's
    field is editable)."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    began = time.perf_counter()
    page.goto(base + "/")
    expect(page.locator(".ws-code input")).to_be_editable(timeout=WAIT_MS)
    return context, page, time.perf_counter() - began


def fill_join(page, code: str, name: str, role: str, marginalised: str | None) -> None:
    """Fill in the join page (code, name, role and, for a resident, marginalised or not), press Join and
    wait for the participant's page. The browser tests join so too."""
    from coprod.workshop.pages import words
    from playwright.sync_api import expect

    page.locator(".ws-code input").fill(code)
    page.locator(".ws-name input").fill(name)
    press_option(page.locator(".ws-role"), role)
    if marginalised is not None:
        press_option(page.locator(".ws-marginalised"), marginalised)
    page.get_by_role("button", name=words.JOIN, exact=True).click()
    expect(page.locator(".ws-you")).to_contain_text(f"You are {name}, playing", timeout=WAIT_MS)


def _choose(page, presses: list[str], before_send=None) -> None:
    """Press the choices and "Send my choices", and wait until the page says they are stored; with
    ``before_send``, call it just before the send and do not wait (the last participant's)."""
    from coprod.workshop.pages import words
    from playwright.sync_api import expect

    expect(page.get_by_role("button", name=words.SEND)).to_be_visible(timeout=WAIT_MS)
    for label in presses:
        press_option(page.locator(".ws-form"), label)
    send = page.get_by_role("button", name=words.SEND)
    if before_send is not None:
        before_send()
        page.evaluate(CLICK)
        send.click()
        return
    send.click()
    expect(page.locator(".ws-message.done")).to_be_visible(timeout=WAIT_MS)


def _watch(page, selector: str | None, text: str) -> None:
    """Install WATCH in ``page``; the page must not show ``text`` yet."""
    if page.evaluate(WATCH, [selector, text]):
        raise RuntimeError(f"a page showed {text!r} before the round closed")


def _shown_times(pages: list, limit: float) -> list[int | None]:
    """Each page's ``__benchShown`` once every page has one, or as they are after ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while True:
        shown = [p.evaluate("window.__benchShown") for p in pages]
        if all(s is not None for s in shown) or time.monotonic() > deadline:
            return shown
        time.sleep(0.5)


def _stored(db: Path, workshop_id: str, made: dict[tuple[str, int], dict]) -> dict:
    """What the record holds of the choices made: counts, and what is lost, doubled or altered."""
    with closing(sqlite3.connect(db)) as conn:
        agents = dict(
            conn.execute("SELECT name, agent FROM workshop_participants WHERE workshop = ?", (workshop_id,))
        )
        rows = conn.execute(
            "SELECT round, agent, payload, source FROM workshop_choices "
            "WHERE workshop = ? AND branch = 'main'",
            (workshop_id,),
        ).fetchall()
    human = [r for r in rows if r[3] == "human"]
    simulated = [r for r in rows if r[3] == "simulated"]
    keys = [(r[0], r[1]) for r in human]
    by_key = {(r[0], r[1]): json.loads(r[2]) for r in human}
    expected = {(round_no, agents.get(name)): payload for (name, round_no), payload in made.items()}
    lost = [k for k in expected if k not in by_key]
    altered = [k for k, payload in expected.items() if k in by_key and by_key[k] != payload]
    chose = set(expected)
    return {
        "choices_made": len(made),
        "human_rows": len(human),
        "distinct_human": len(set(keys)),
        "doubled": len(keys) - len(set(keys)),
        "lost": len(lost),
        "altered": len(altered),
        "unexpected_human": len([k for k in set(keys) if k not in expected]),
        "simulated_for_a_chooser": len([r for r in simulated if (r[0], r[1]) in chose]),
        "simulated_rows": len(simulated),
        "participants_recorded": len(agents),
    }


def run(mode: str) -> dict:
    n, rounds = PARTICIPANTS[mode], ROUNDS[mode]
    section = Section("workshop", mode, rounds)
    conditions = {
        "residents": RESIDENTS,
        "participants": n,
        "rounds": rounds,
        "months_per_round": MONTHS_PER_ROUND,
        "cores": cores(),
        "scenario": SCENARIO.relative_to(ROOT).as_posix(),
        "goal_seconds": GOAL_SECONDS,
    }
    method = (
        "one server (python -m coprod.workshop.serve), one chromium: the facilitator's page and a browser "
        "context per participant (phone viewport); the round closes by itself once everyone has chosen (the "
        "facilitator page's refresh thread, woken by the last choice); latency from the last participant's "
        "'Send my choices' click to each page drawing the closed round (facilitator: 'Round r · closed · "
        "month m'; participants: 'Waiting for the facilitator ...'), timed inside each page with Date.now()"
    )
    if problem := _missing():
        say(f"workshop: {problem}")
        return section.finish(skipped=problem, method=method, **conditions, rows=[])

    from coprod.model import load_scenario
    from coprod.workshop.engine import Workshop
    from coprod.workshop.pages import words
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect, sync_playwright

    room = [
        (f"{name} {i // len(ROOM) + 1}", role, m) for i, (name, role, m) in enumerate(ROOM * -(-n // 10))
    ][:n]
    made: dict[tuple[str, int], dict] = {}
    rows: list[dict] = []
    try:
        with tempfile.TemporaryDirectory(prefix="coprod-bench-workshop-") as folder:
            db = Path(folder) / "workshop.db"
            scenario = load_scenario(SCENARIO).with_overrides(
                {"population.residents": RESIDENTS}, source="benchmark"
            )
            started = Workshop.start(scenario, db, months_per_round=MONTHS_PER_ROUND, name="benchmark")
            workshop_id = started.id
            started.close()
            log_path = Path(folder) / "server.log"
            with (
                serving_workshop(db, workshop_id, log_path) as (server, fac_url, code),
                sync_playwright() as playwright,
            ):
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
                try:
                    version = browser.version
                    first_context, _, first_open = _open_join(browser, server.base)
                    first_context.close()
                    say(
                        f"workshop: join page usable after {first_open:.2f} s (the first after the "
                        "server started)"
                    )

                    fac = browser.new_context(viewport=DESKTOP).new_page()
                    fac.goto(fac_url)
                    expect(fac.get_by_text(words.JOIN_CODE_IS.format(code=code))).to_be_visible(
                        timeout=WAIT_MS
                    )
                    expect(fac.get_by_role("checkbox", name=words.AUTO_CLOSE)).to_be_checked()
                    time.sleep(SETTLE_SECONDS)
                    rss_before = _rss(server.process.pid)

                    opens, players = [], []
                    join_began = time.perf_counter()
                    for name, role, marginalised in room:
                        _, page, seconds = _open_join(browser, server.base)
                        opens.append(seconds)
                        fill_join(page, code, name, role, marginalised)
                        players.append((name, role, page))
                    join_seconds = time.perf_counter() - join_began
                    expect(fac.locator(".ws-people")).to_contain_text(f"{words.WHO} ({n})", timeout=WAIT_MS)
                    time.sleep(SETTLE_SECONDS)
                    rss_after = _rss(server.process.pid)
                    say(
                        f"workshop: {n} joined in {join_seconds:.0f} s; join page {median(opens):.2f} s "
                        f"(median); server RSS {rss_before / 2**20:.0f} -> {rss_after / 2**20:.0f} MiB"
                    )

                    pages = [fac] + [p for _, _, p in players]
                    for round_no in range(1, rounds + 1):
                        fac.get_by_role("button", name=words.OPEN, exact=True).click()
                        expect(fac.locator(".ws-state")).to_contain_text(
                            f"Round {round_no} · open", timeout=WAIT_MS
                        )
                        choose_began = time.perf_counter()
                        who: list = []  # the server's and the browsers' processes, and their CPU time,
                        cpu: list = []  # read just before the last click
                        for i, (name, role, page) in enumerate(players):
                            presses, payload = choices_for(role, round_no, i)
                            watch = None
                            if i == len(players) - 1:  # every page watches before the last click

                                def watch(round_no=round_no, who=who, cpu=cpu) -> None:
                                    month = round_no * MONTHS_PER_ROUND
                                    _watch(fac, ".ws-state", f"Round {round_no} · closed · month {month}")
                                    for _, _, p in players:
                                        _watch(p, None, words.ROUND_CLOSED)
                                    who[:] = _server_and_browsers(server.process.pid)
                                    cpu[:] = [_cpu(who[0]), _cpu(who[1])]

                            _choose(page, presses, watch)
                            made[(name, round_no)] = payload
                        choosing = time.perf_counter() - choose_began
                        clicked = players[-1][2].evaluate("window.__benchClick")
                        shown = _shown_times(pages, SHOWN_SECONDS)
                        server_cpu = _cpu(who[0]) - cpu[0]
                        browsers_cpu = _cpu(who[1]) - cpu[1]
                        delays = [
                            None if s is None or clicked is None else (s - clicked) / 1000 for s in shown
                        ]
                        seen = [d for d in delays if d is not None]
                        rows.append(
                            {
                                "round": round_no,
                                "pages": len(pages),
                                "pages_shown": len(seen),
                                "max_seconds": round(max(seen), 3) if seen else None,
                                "median_seconds": round(median(seen), 3) if seen else None,
                                "facilitator_seconds": None if delays[0] is None else round(delays[0], 3),
                                "choosing_seconds": round(choosing, 1),
                                "server_cpu_seconds": round(server_cpu, 2),
                                "browsers_cpu_seconds": round(browsers_cpu, 2),
                                "_clicked_ms": clicked,
                            }
                        )
                        say(
                            f"workshop: round {round_no}: {len(seen)} of {len(pages)} pages showed month "
                            f"{round_no * MONTHS_PER_ROUND}; slowest {rows[-1]['max_seconds']} s, median "
                            f"{rows[-1]['median_seconds']} s after the last click (choosing took "
                            f"{choosing:.0f} s)"
                        )
                finally:
                    browser.close()
            log = log_path.read_text(errors="replace")
            stored = _stored(db, workshop_id, made)
            with closing(sqlite3.connect(db)) as conn:
                closed_at = dict(
                    conn.execute(
                        "SELECT round, closed FROM workshop_rounds WHERE workshop = ? AND branch = 'main'",
                        (workshop_id,),
                    )
                )
    except (PlaywrightError, RuntimeError, OSError, AssertionError) as err:
        note = f"not measured: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
        say(f"workshop: {note}")
        return section.finish(skipped=note, method=method, **conditions, rows=rows)

    for r in rows:
        clicked = r.pop("_clicked_ms")
        closed = closed_at.get(r["round"])
        r["server_close_seconds"] = (
            None if closed is None or clicked is None else round(float(closed) - clicked / 1000, 3)
        )
    maxima = [r["max_seconds"] for r in rows if r["max_seconds"] is not None]
    all_shown = all(r["pages_shown"] == r["pages"] for r in rows)
    none_lost = (
        stored["lost"] == 0
        and stored["doubled"] == 0
        and stored["altered"] == 0
        and stored["unexpected_human"] == 0
        and stored["simulated_for_a_chooser"] == 0
        and stored["human_rows"] == n * rounds
    )
    say(
        f"workshop: median of the rounds' slowest page {median(maxima) if maxima else float('nan'):.2f} s; "
        f"choices {stored['human_rows']} stored of {n * rounds} made, {stored['lost']} lost; "
        f"{(rss_after - rss_before) / n / 2**20:.1f} MiB per participant"
    )
    return section.finish(
        method=method,
        browser=f"chromium {version} ({CHROMIUM}), headless, through Playwright",
        **conditions,
        closes_by="itself once everyone has chosen (the facilitator page's refresh thread, woken by the last "
        "choice); no press",
        join_page_seconds_first=round(first_open, 2),
        join_page_seconds=round(median(opens), 2),
        join_page_seconds_spread=[round(v, 2) for v in spread(opens)],
        join_all_seconds=round(join_seconds, 1),
        server_rss_before_bytes=rss_before,
        server_rss_after_bytes=rss_after,
        server_bytes_per_participant=round((rss_after - rss_before) / n),
        rows=rows,
        max_seconds_median=round(median(maxima), 3) if maxima else None,
        max_seconds_worst=round(max(maxima), 3) if maxima else None,
        all_pages_shown=all_shown,
        goal_met=bool(maxima) and all_shown and median(maxima) < GOAL_SECONDS,
        stored=stored,
        none_lost=none_lost,
        server_errors="Traceback" in log,
        server_tracebacks=log.count("Traceback"),
        server_first_traceback=_first_traceback(log),
    )


def _first_traceback(log: str) -> str | None:
    """The server log's first traceback, to its exception's line (at most 3,000 characters), or None."""
    lines = log.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Traceback")), None)
    if start is None:
        return None
    end = start + 1
    while end < len(lines) and (lines[end].startswith((" ", "\t")) or not lines[end].strip()):
        end += 1
    return "\n".join(lines[max(0, start - 1) : end + 1])[-3000:]
