"""The stored results' scenario discovery (issue 16, part 4), without a browser: a discovery kept by
``coprod discover`` is read back and shown in words; Explore's set-up is placed in its box input by input
and as a whole exactly as the discovery judges runs (``Limit.contains``, ``Discovery.in_box``); a stored
discovery that cannot be read is one line, its stored text shown as text; the view renders in Browse with
the page's set-up and without one.

The browser half is tests/browser/test_dashboard_discovery.py.
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import ipyvuetify as v
import numpy as np
import pandas as pd
import pytest
import solara
from coprod.dashboards.browse import Browse
from coprod.dashboards.choices import Draft
from coprod.dashboards.discovery_view import (
    NO_SETUP,
    DiscoveryView,
    Found,
    place,
    read_discoveries,
    skipped_line,
    title,
    trajectory_svg,
    verdict,
)
from coprod.dashboards.results import FOLDER_VARIABLE
from coprod.dashboards.session import Setup
from coprod.experiments.discovery import Discovery

from coprod.cli import main
from tests.support import texts, widgets
from tests.test_discovery import EXPERIMENT as DISCOVERY_SWEEP

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENT_NAME = "discovery_view"

# the sweep of tests/test_discovery.py (40 runs over two context inputs and the theory of change, 24 months,
# small cities: about 20 s here), under a name of its own
EXPERIMENT = DISCOVERY_SWEEP.replace('name = "discovery_tiny"', f'name = "{EXPERIMENT_NAME}"')


def _condition(db: Path) -> str:
    """A condition tied to both context inputs (structure follows trust, fair shares fall with inequality)
    at their medians, whatever the model's numbers are today, so that PRIM restricts inputs."""
    with closing(sqlite3.connect(db)) as conn:
        rows = conn.execute(f"SELECT structure, distributive_justice FROM experiment_{EXPERIMENT_NAME}")
        structure, fair = np.array(rows.fetchall()).T
    return f"structure > {np.median(structure):.6f} and distributive_justice > {np.median(fair):.6f}"


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    """A results folder whose file holds a tiny LHS sweep and one scenario discovery made on it."""
    folder = tmp_path_factory.mktemp("discovery_view") / "results"
    folder.mkdir()
    experiment = folder.parent / "tiny.toml"
    scenario = (ROOT / "scenarios" / "citizens_assembly.toml").as_posix()
    experiment.write_text(EXPERIMENT.format(scenario=scenario))
    db = folder / "tiny.db"
    assert main(["sweep", str(experiment), "--db", str(db), "--workers", "2"]) == 0
    out = folder.parent / "discovery"
    assert main(["discover", "--db", str(db), "--where", _condition(db), "--out", str(out)]) == 0
    return folder


@pytest.fixture(scope="module")
def found(results) -> Found:
    shelf = read_discoveries(results / "tiny.db", EXPERIMENT_NAME)
    assert not shelf.problem and not shelf.unreadable and len(shelf.found) == 1
    (one,) = shelf.found
    assert any(lim.restricted for lim in one.discovery.limits), "the fixture's box restricts nothing"
    return one


def set_ups(d: Discovery) -> tuple[Draft, Draft]:
    """A set-up inside the box (each restricted input mid-limit, or its first kept value) and one outside
    it on the first restricted input only (between the box's edge and the sampled range's)."""
    inside = Draft()
    restricted = [lim for lim in d.limits if lim.restricted]
    for lim in restricted:
        if lim.name == "theory.kind":
            inside = inside.with_theory(lim.values[0])
        else:
            inside = inside.with_value(lim.name, round((lim.low + lim.high) / 2, 4))
    first = restricted[0]
    if first.name == "theory.kind":
        outside = inside.with_theory(next(v for v in first.whole_values if v not in first.values))
    elif first.low > first.whole_low:
        outside = inside.with_value(first.name, round((first.whole_low + first.low) / 2, 4))
    else:
        outside = inside.with_value(first.name, round((first.high + first.whole_high) / 2, 4))
    return inside, outside


def as_run(d: Discovery, flat: dict) -> pd.DataFrame:
    """The set-up as one row of the discovery's inputs, as ``experiments.discovery.inputs`` makes a run's."""
    row = {}
    for lim in d.limits:
        value = flat[lim.name]
        row[lim.name] = pd.Categorical([value]) if lim.categorical else np.array([float(value)])
    return pd.DataFrame(row)


# ------------------------------------------------------------------------------------------ logic


def test_the_set_up_is_placed_in_the_box_as_the_discovery_judges_runs(found):
    d = found.discovery
    inside, outside = set_ups(d)
    for draft, expected in ((inside, "inside"), (outside, "outside")):
        flat = draft.check().scenario.flat()
        placings = place(d, flat)
        assert [p.limit.name for p in placings] == [lim.name for lim in d.limits]
        for p in placings:  # each input: the discovery's own rule, on the set-up's own value
            assert p.inside == bool(p.limit.contains(pd.Series([flat[p.limit.name]]))[0]), p.name
        kind, line = verdict(d, placings)
        assert kind == expected
        assert (kind == "inside") == bool(d.in_box(as_run(d, flat))[0])  # the whole box: in_box
        if kind == "inside":
            assert line == (
                "Your set-up in Explore lies inside this box: in the runs like it (the "
                f"{int(d.box['n'])} runs in the box), {d.box['density']:.0%} met the condition."
            )
        else:
            out = [p.name for p in placings if p.inside is False]
            assert len(out) == 1
            assert line.startswith(
                f"Your set-up in Explore lies outside this box: it falls outside on {out[0]}."
            )


def test_the_default_set_up_and_no_set_up(found):
    d = found.discovery
    flat = Draft().check().scenario.flat()
    kind, _ = verdict(d, place(d, flat))
    assert kind == ("inside" if d.in_box(as_run(d, flat))[0] else "outside")
    placings = place(d, None)
    assert all(p.inside is None and p.value == "" for p in placings)
    assert verdict(d, placings)[0] == "unplaced"


def test_the_discovery_reads_in_words(found, results):
    d = found.discovery
    with closing(sqlite3.connect(results / "tiny.db")) as conn:
        (condition,) = conn.execute("SELECT condition FROM discoveries").fetchone()
    assert found.title == title(condition, "24")
    assert found.title.startswith("'Citizen power in the rules' > 0.") and found.title.endswith(
        " at month 24"
    )
    assert " and 'Fair shares of benefits and costs' > 0." in found.title
    svg = trajectory_svg(d)
    assert svg.count("<circle") == len(d.trajectory) + 1  # a point per box, and the ring
    assert f"chosen: box {d.chosen}" in svg


# ------------------------------------------------------------------------------------- hostile files


def hostile_copy(results: Path, tmp_path: Path) -> Path:
    """A copy of the results file with stored discoveries that cannot be read, beside the good one."""
    folder = tmp_path / "results"
    folder.mkdir()
    db = folder / "tiny.db"
    db.write_bytes((results / "tiny.db").read_bytes())
    bad = [
        ("<script>alert(1)</script> < 1", "24", '{"n": "<script>"}'),
        ("structure > 0.1", "12", "not json"),
        ("structure > 0.2", "12", json.dumps({"n": 0})),
    ]
    with closing(sqlite3.connect(db)) as conn, conn:
        for condition, month, result in bad:
            conn.execute(
                "INSERT INTO discoveries (experiment, condition, month, created, code_version, result) "
                "VALUES (?, ?, ?, '0', 'x', ?)",
                [EXPERIMENT_NAME, condition, month, result],
            )
        # the good one with nothing in its box: a run count of 0 cannot be shown
        (good,) = conn.execute("SELECT result FROM discoveries WHERE code_version != 'x'").fetchone()
        zero = json.loads(good)
        zero["n"] = 0
        conn.execute(
            "INSERT INTO discoveries (experiment, condition, month, created, code_version, result) "
            "VALUES (?, 'lock_in > 0.5', '24', '1', 'x', ?)",
            [EXPERIMENT_NAME, json.dumps(zero)],
        )
    return db


def test_a_stored_discovery_that_cannot_be_read_is_named_in_one_line(results, tmp_path):
    db = hostile_copy(results, tmp_path)
    shelf = read_discoveries(db, EXPERIMENT_NAME)
    assert len(shelf.found) == 1 and len(shelf.unreadable) == 4 and not shelf.problem
    line = skipped_line(shelf.unreadable)
    assert "\n" not in line and line.startswith("4 stored discoveries cannot be read")
    assert "<script>alert(1)</script> < 1 at month 24" in line  # named, as text
    assert "'Money locked in' > 0.5 at month 24" in line
    with closing(sqlite3.connect(db)) as conn, conn:  # a table this code did not write
        conn.execute("DROP TABLE discoveries")
        conn.execute("CREATE TABLE discoveries (something)")
    shelf = read_discoveries(db, EXPERIMENT_NAME)
    assert not shelf.found and shelf.problem.startswith("The scenario discoveries kept in this file cannot")
    assert "\n" not in shelf.problem


# ------------------------------------------------------------------------------------------ views


def markup(root) -> str:
    """Every piece of HTML the page was handed to insert as it is."""
    return "".join(getattr(w, "unsafe_innerHTML", "") or "" for w in widgets(root))


def eventually(check, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the page did not get there in time"
        time.sleep(0.05)


def verdict_line(box) -> str:
    return next((t for t in texts(box) if t.startswith(("Your set-up in Explore", NO_SETUP))), "")


def test_the_view_places_the_set_up_and_follows_it(results, found):
    inside, outside = set_ups(found.discovery)
    setup = Setup(solara.reactive(inside), solara.reactive(None))
    box, rc = solara.render(
        DiscoveryView(str(results / "tiny.db"), EXPERIMENT_NAME, setup), handle_error=False
    )
    try:
        shown = texts(box)
        assert "Scenario discovery" in shown
        assert f"{found.discovery.meeting} of 40 runs" in " ".join(shown)
        assert verdict_line(box).startswith("Your set-up in Explore lies inside this box")
        (select,) = [w for w in widgets(box) if isinstance(w, v.Select)]
        assert select.v_model == found.title and select.items == [found.title]
        assert "chosen: box" in markup(box)
        setup.draft.set(outside)  # a change in Explore moves the verdict
        eventually(lambda: verdict_line(box).startswith("Your set-up in Explore lies outside this box"))
        assert "outside" in texts(box)
    finally:
        rc.close()


def test_browse_alone_says_to_open_explore_and_hostile_text_stays_text(results, tmp_path, monkeypatch):
    db = hostile_copy(results, tmp_path)
    monkeypatch.setenv(FOLDER_VARIABLE, str(db.parent))
    box, rc = solara.render(Browse(), handle_error=False)
    try:
        eventually(lambda: verdict_line(box) != "")
        assert verdict_line(box) == NO_SETUP
        (skipped,) = [t for t in texts(box) if "cannot be read" in t and "discover" in t]
        assert "<script>alert(1)</script> < 1 at month 24" in skipped
        assert "<script>" not in markup(box) and "alert(1)" not in markup(box)
    finally:
        rc.close()


def test_browse_with_the_pages_set_up_places_it(results, monkeypatch):
    monkeypatch.setenv(FOLDER_VARIABLE, str(results))
    setup = Setup(solara.reactive(Draft()), solara.reactive(None))
    box, rc = solara.render(Browse(setup=setup), handle_error=False)
    try:
        eventually(lambda: verdict_line(box) != "")
        assert verdict_line(box).startswith("Your set-up in Explore lies ")
    finally:
        rc.close()
