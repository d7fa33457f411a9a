"""A workshop read back: ``coprod analyze --workshop ID`` (coprod.workshop.report) and the dashboard's
Stored-results view of workshops (coprod.dashboards.workshops_view), each against the recorded tables."""

from __future__ import annotations

import csv
import io
import sqlite3
from contextlib import closing
from pathlib import Path

import ipyvuetify as v
import solara
from coprod.dashboards.browse import Browse
from coprod.dashboards.charts import SETUP_COLOURS
from coprod.dashboards.results import FOLDER_VARIABLE
from coprod.dashboards.workshops_view import WorkshopsView
from coprod.model import MARKERS
from coprod.workshop.report import SHOWN

from coprod.cli import main
from tests.support import recorded, texts, widgets

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = "<script>alert(1)</script> | x"


def cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def human_choices(db: Path) -> dict[str, int]:
    """Each branch's people's choices, counted in the database itself."""
    with closing(sqlite3.connect(db)) as conn:
        rows = conn.execute(
            "SELECT branch, count(*) FROM workshop_choices WHERE source = 'human' GROUP BY branch"
        ).fetchall()
    return dict(rows)


# ----------------------------------------------------------------------------------- coprod analyze


def test_analyze_writes_the_workshop_report_from_the_record(tmp_path, capsys):
    db = tmp_path / "w.db"
    w, branch = recorded(db, name="Thursday room")
    main_steps, branch_steps = w.markers("main"), w.markers(branch)
    w.close()
    before = db.read_bytes()
    out = tmp_path / "report"
    code, printed, err = cli(capsys, "analyze", "--db", db, "--workshop", w.id, "--out", out)
    assert code == 0, err
    assert db.read_bytes() == before  # read-only
    assert sorted(p.name for p in out.iterdir()) == [
        "branches.csv",
        "choices.csv",
        "markers.png",
        "workshop.md",
    ]
    assert (out / "markers.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"branch {branch}: month {branch_steps[-1]['month']}" in printed

    rows = {r["branch"]: r for r in csv.DictReader(io.StringIO((out / "branches.csv").read_text()))}
    assert set(rows) == {"main", branch}
    assert rows[branch]["parent"] == "main" and rows["main"]["parent"] == ""
    for name, steps in (("main", main_steps), (branch, branch_steps)):
        assert int(rows[name]["month"]) == steps[-1]["month"]
        for k in SHOWN:
            assert float(rows[name][k]) == round(steps[-1][k], 4)
    # the branch against main at the branch's last month (main reached it: 4 months against 2 + 3)
    at = branch_steps[-1]["month"]
    on_main = next((s for s in main_steps if s["month"] == at), None)
    for k in SHOWN:
        expected = "" if on_main is None else f"{branch_steps[-1][k] - on_main[k]:.4f}"
        assert rows[branch][f"{k}_vs_parent"] == expected
    assert rows["main"]["consensus_bias_vs_parent"] == ""

    choices = list(csv.DictReader(io.StringIO((out / "choices.csv").read_text())))
    counted = {}
    for c in choices:
        counted[c["branch"]] = counted.get(c["branch"], 0) + (c["source"] == "human")
    assert {b: n for b, n in counted.items() if n} == human_choices(db)
    assert {c["name"] for c in choices if c["source"] == "human"} == {"Ann", "Gus"}

    md = (out / "workshop.md").read_text()
    assert md.startswith(f"# Workshop Thursday room ({w.id})")
    assert "| Ann | resident |" in md and "| Gus | organiser |" in md
    assert f"## Branch {branch}, branched from main after round 1" in md
    assert "theory to structural" in md
    assert all(k in md for k in MARKERS)


def test_analyze_workshop_refusals_are_one_line_and_write_nothing(tmp_path, capsys):
    db = tmp_path / "w.db"
    w, _ = recorded(db)
    w.close()
    before = db.read_bytes()
    out = tmp_path / "out"
    cases = (
        (("--workshop", "nope", "--out", out), f"{db}: no workshop 'nope'; it holds {w.id}"),
        (("--out", out), f"no experiments recorded, but workshops {w.id}; analyse one with --workshop ID"),
        (("--workshop", w.id, "--experiment", "x", "--out", out), "a report is of one or the other"),
    )
    for args, words in cases:
        code, printed, err = cli(capsys, "analyze", "--db", db, *args)
        assert code == 2, (args, printed, err)
        assert printed == "" and len(err.strip().splitlines()) == 1 and words in err, (args, err)
    plain = tmp_path / "plain.db"  # a results file without workshop tables
    assert (
        cli(capsys, "run", ROOT / "scenarios" / "citizens_assembly.toml", "--steps", "1", "--db", plain)[0]
        == 0
    )
    code, printed, err = cli(capsys, "analyze", "--db", plain, "--workshop", "x", "--out", out)
    assert code == 2 and f"{plain}: holds no workshops" in err and len(err.strip().splitlines()) == 1
    assert db.read_bytes() == before and not out.exists()


# ------------------------------------------------------------------------------- Stored results


def markup(root) -> str:
    return "".join(getattr(w, "unsafe_innerHTML", "") or "" for w in widgets(root))


def branch_rows(root) -> dict[str, list[str]]:
    """The branch table's rows, branch name to its cells, parsed back out of the page's HTML."""
    import re

    (table,) = re.findall(r"<table class='workshop-branches'>(.*?)</table>", markup(root), re.S)
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]:
        cells = re.findall(r"<td>(.*?)</td>", row, re.S)
        rows[cells[0]] = cells
    return rows


def test_the_stored_results_view_shows_each_branch_from_the_record(tmp_path):
    db = tmp_path / "w.db"
    w, branch = recorded(db, name=HOSTILE)
    last = {b: w.markers(b)[-1] for b in ("main", branch)}
    w.close()
    box, rc = solara.render(WorkshopsView(str(db)), handle_error=False)
    try:
        rows = branch_rows(box)
        assert set(rows) == {"main", branch}
        for b, cells in rows.items():
            assert cells[3] == str(last[b]["month"])
            assert cells[5] == f"{last[b]['consensus_bias']:.2f}"
        assert rows[branch][1] == "from main after round 1"
        assert rows[branch][2] == "2" and rows["main"][2] == "2"  # rounds: 1 kept + 1 new, and 2
        assert "round 2: theory to structural" in rows[branch][4] and rows["main"][4] == "-"
        select, pair = [s for s in widgets(box) if isinstance(s, v.Select)]
        assert select.v_model == f"{HOSTILE} ({w.id})"  # a name is text in a select, never markup
        assert pair.v_model == ["main", branch]  # the two branches side by side
        page = markup(box)
        assert "<script>" not in page and "Ann (resident)" in page and "Gus (organiser)" in page
        # one chart per output, with both branches drawn
        charts = page.split("<svg")[1:]
        assert len(charts) == len(SHOWN)
        assert all(SETUP_COLOURS[0] in c and SETUP_COLOURS[1] in c for c in charts)
    finally:
        rc.close()


def test_a_file_with_only_workshops_shows_them_in_browse(tmp_path, monkeypatch):
    w, _ = recorded(tmp_path / "w.db")
    w.close()
    monkeypatch.setenv(FOLDER_VARIABLE, str(tmp_path))
    box, rc = solara.render(Browse(), handle_error=False)
    try:
        text = " ".join(texts(box))
        assert "Workshops" in text and "This file holds no runs of experiments yet." in text
        assert branch_rows(box)
    finally:
        rc.close()


def test_a_file_without_workshops_shows_no_workshop_view(tmp_path, capsys):
    plain = tmp_path / "plain.db"
    assert (
        cli(capsys, "run", ROOT / "scenarios" / "citizens_assembly.toml", "--steps", "1", "--db", plain)[0]
        == 0
    )
    box, rc = solara.render(WorkshopsView(str(plain)), handle_error=False)
    try:
        assert "workshop-branches" not in markup(box)
        assert not [s for s in widgets(box) if isinstance(s, v.Select)]
    finally:
        rc.close()
