"""Sessions both ways (issue 14, part 5), without a browser: a scenario file (a shipped one, or the TOML the
page exports) loaded into Explore's controls checks back to exactly the file's scenario and runs as
``coprod run FILE`` does; a bad file is one line naming file, key, value and what is allowed, and changes
nothing; stored runs carry readable labels; an experiment's ranked view has the report's numbers; and a
stored run opened in Explore reproduces what was stored.

The browser half is tests/browser/test_dashboard_sessions.py.
"""

from __future__ import annotations

import base64
import json
import math
import re
import sqlite3
import time
from pathlib import Path

import ipyvuetify as v
import numpy as np
import pytest
import solara
from coprod.dashboards.app import EXPLORE_TAB, Page
from coprod.dashboards.browse import aggregate, ranking_table, run_label, run_labels
from coprod.dashboards.choices import Draft
from coprod.dashboards.cities import with_city
from coprod.dashboards.results import FOLDER_VARIABLE, ResultsFile
from coprod.dashboards.runs import Run
from coprod.dashboards.session import FilePickerWidget, from_stored, from_upload, load_bytes, load_path
from coprod.experiments.report_ranking import rank
from coprod.model import OUTPUTS, load_scenario, simulate
from scipy import stats

from coprod.cli import main
from tests.support import texts, widgets

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))

# A hand-written file that sets keys without a slider (elite bias, a behaviour and a resources setting)
# next to slider keys: all must reach the run.
UNSLID = """
name = "unslid"
description = "keys without a slider"
[design]
kind = "participatory_budgeting"
stipend = 0.3
[theory]
kind = "coalition"
[population]
residents = 200
[context]
elite_bias = 0.2
[run]
steps = 3
seed = 11
"""


def upload(name: str, data: bytes) -> dict:
    """What the page's file picker sends for a file."""
    return {"name": name, "size": len(data), "data": base64.b64encode(data).decode()}


def same_scenario(draft: Draft, path: Path) -> bool:
    checked = draft.check()
    return checked.ok and checked.scenario.to_toml() == load_scenario(path).to_toml()


# ------------------------------------------------------------------------------------ loading a file


def test_the_shipped_scenarios_are_found():
    assert len(SCENARIOS) == 5


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_each_shipped_scenario_loads_into_a_draft_that_is_the_file(path):
    loaded = load_path(path)
    assert loaded.ok and loaded.source == path.name
    assert same_scenario(loaded.draft, path)
    # the browser's way: the bytes, base64, with the file's name
    sent = from_upload(upload(path.name, path.read_bytes()))
    assert sent.ok and sent.draft == loaded.draft


def test_an_exported_toml_loads_back_to_every_setting(tmp_path):
    """The page's own export (Downloads): moved sliders, a city and another seed all come back."""
    draft = with_city(Draft(), None, "kisumu").with_design("participatory_budgeting").with_theory("coalition")
    draft = draft.with_value("design.stipend", 0.25).with_value("population.residents", 300).with_seed("7")
    run = Run(draft.check().scenario)
    run.step(2)
    path = tmp_path / "exported.toml"
    path.write_text(run.toml())
    loaded = load_bytes("exported.toml", path.read_bytes())
    assert loaded.ok
    assert same_scenario(loaded.draft, path)
    assert loaded.draft.check().scenario.to_toml() == run.scenario.to_toml()
    assert (loaded.draft.design, loaded.draft.theory, loaded.draft.seed) == (
        "participatory_budgeting",
        "coalition",
        "7",
    )


def test_keys_without_a_slider_are_kept_in_the_draft(tmp_path):
    path = tmp_path / "unslid.toml"
    path.write_text(UNSLID)
    loaded = load_path(path)
    assert loaded.ok and same_scenario(loaded.draft, path)
    assert loaded.draft.values["context.elite_bias"] == 0.2  # no slider for it: kept all the same
    assert loaded.draft.check().scenario.get("context.elite_bias") == 0.2
    # picking another theory afterwards keeps what the file set outside the theory's section
    assert loaded.draft.with_theory("structural").check().scenario.get("context.elite_bias") == 0.2


def test_a_loaded_file_runs_as_coprod_run_does(tmp_path, coprod):
    path = tmp_path / "unslid.toml"
    path.write_text(UNSLID)
    run = Run(load_bytes(path.name, path.read_bytes()).draft.check().scenario)
    run.step(3)
    done = coprod("run", str(path), "--json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert (answer["seed"], answer["steps"]) == (11, 3)
    assert answer["outputs"] == run.now()


BAD = {
    # file contents -> what the one line must name (besides the file): key, value, what is allowed
    "not TOML": (b"this is not = = toml", ("file", "is not valid TOML")),
    "unknown key": (b"[population]\nresidentz = 300\n", ("population.residentz", "unknown key", "residents")),
    "out of range": (
        b"[population]\nresidents = 5\n",
        ("population.residents", "got 5", "from 10 to 200_000"),
    ),
    "wrong kind": (b'[design]\nkind = "lottery"\n', ("design.kind", "'lottery'", "one of")),
    "beyond the page": (
        b"[population]\nresidents = 50000\n",
        ("population.residents", "got 50000", "20_000"),
    ),
    "not UTF-8": ("name = 'Göteborg'".encode("latin-1"), ("file", "not UTF-8")),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_a_bad_file_is_one_line_naming_file_key_value_and_what_is_allowed(case):
    data, named = BAD[case]
    loaded = from_upload(upload("my set-up.toml", data))
    assert not loaded.ok and loaded.draft is None
    line = loaded.problem
    assert "\n" not in line and "Traceback" not in line
    assert line.startswith("Not loaded, nothing changed: my set-up.toml: ")
    for part in named:
        assert part in line, (part, line)


def test_a_file_too_large_is_refused_before_it_is_sent():
    loaded = from_upload({"name": "huge.toml", "size": 5_000_000})
    assert not loaded.ok and "huge.toml: file: is 5_000_000 bytes" in loaded.problem


@pytest.mark.parametrize("message", [None, "text", {"name": "x.toml"}, {"name": "x.toml", "data": "!!"}])
def test_a_message_the_browser_would_not_send_is_one_line_too(message):
    loaded = from_upload(message)
    assert not loaded.ok and loaded.problem and "\n" not in loaded.problem


# --------------------------------------------------------------------------- the page, without a browser


def classed(root, token: str) -> list:
    return [w for w in widgets(root) if token in (getattr(w, "class_", "") or "").split()]


def eventually(check, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the page did not get there in time"
        time.sleep(0.05)


def running(root) -> str:
    return next(t for t in texts(root) if t.startswith("Running: "))


def test_a_file_loaded_on_the_page_sets_the_controls_and_a_bad_one_changes_nothing(tmp_path):
    path = tmp_path / "unslid.toml"
    path.write_text(UNSLID)
    box, rc = solara.render(Page(), handle_error=False)
    try:
        (picker,) = [w for w in widgets(box) if isinstance(w, FilePickerWidget)]
        picker.vue_scenario_file(upload("unslid.toml", path.read_bytes()))
        eventually(lambda: running(box) == "Running: Participatory budgeting, coalition building, seed 11")
        (seed,) = [w for w in classed(box, "seed-field") if isinstance(w, v.TextField)]
        assert seed.v_model == "11"
        design, theory = [w.v_model for w in widgets(box) if isinstance(w, v.Select)][:2]
        assert (design, theory) == ("Participatory budgeting", "Coalition building")
        assert "Set up from unslid.toml." in texts(box)
        # a bad file: one line under the button, and the controls and the run stay as they were
        (picker,) = [w for w in widgets(box) if isinstance(w, FilePickerWidget)]
        picker.vue_scenario_file(upload("bad.toml", b"[population]\nresidents = 5\n"))
        eventually(lambda: any(t.startswith("Not loaded") for t in texts(box)))
        (problem,) = [t for t in texts(box) if t.startswith("Not loaded")]
        assert "bad.toml: population.residents: out of bounds (got 5" in problem
        assert seed.v_model == "11" and running(box).endswith("seed 11")
        assert "Set up from unslid.toml." in texts(box)
    finally:
        rc.close()


# ------------------------------------------------------------------------------------- stored results

EXPERIMENT = """
name = "tiny"
scenarios = ["{root}/scenarios/citizens_assembly.toml", "{root}/scenarios/participatory_budgeting.toml"]
replications = 2
root_seed = 5
steps = 3
[set]
"population.residents" = 100
"design.participants" = 40
[factors]
"theory.kind" = ["incremental", "structural"]
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    """A results folder with one tiny grid experiment swept in Kisumu: 2 designs x 2 theories x 2 runs."""
    folder = tmp_path_factory.mktemp("sessions") / "results"
    folder.mkdir()
    experiment = folder.parent / "tiny.toml"
    experiment.write_text(EXPERIMENT.format(root=ROOT.as_posix()))
    db = folder / "tiny.db"
    assert main(["sweep", str(experiment), "--city", "kisumu", "--db", str(db), "--workers", "1"]) == 0
    return folder


def stored_runs(folder: Path):
    with ResultsFile(folder / "tiny.db") as results:
        return results.runs(), {r.run_key: results.params(r) for r in results.runs()}


def test_stored_runs_are_listed_in_words(results, capsys):
    capsys.readouterr()
    runs, _ = stored_runs(results)
    assert len(runs) == 8
    labels = run_labels(runs)
    assert len(labels) == 8  # one label each
    for label, run in labels.items():
        assert label == run_label(run)
        design = (
            "Citizens' assembly" if run.run_key.startswith("citizens_assembly") else "Participatory budgeting"
        )
        theory = "Structural change" if "structural" in run.run_key else "Incremental experiments"
        rep = int(re.search(r"rep=(\d+)", run.run_key).group(1)) + 1
        assert label == f"{design} · {theory} · Kisumu · replication {rep} · seed {run.seed}"


def test_a_city_is_recognised_in_a_single_runs_settings(tmp_path):
    """``coprod run --city X --db`` records no experiment definition: the city is read off the values."""
    db = tmp_path / "single.db"
    args = ["run", str(ROOT / "scenarios" / "citizens_assembly.toml"), "--city", "cape_town"]
    assert main([*args, "--set", "population.residents=60", "--steps", "1", "--db", str(db)]) == 0
    with ResultsFile(db) as results:
        (run,) = results.runs()
    assert run.city == "Cape Town"
    assert run_label(run) == f"Citizens' assembly · Incremental experiments · Cape Town · seed {run.seed}"


def finals(db: Path, output: str) -> dict[tuple[str, str], list[float]]:
    """Each cell's final values of ``output``, read straight from the file."""
    cells: dict[tuple[str, str], list[float]] = {}
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            f"SELECT r.params, s.{output} FROM runs r JOIN steps s USING (experiment, run_key) "
            "WHERE s.step = (SELECT max(step) FROM steps t WHERE t.run_key = r.run_key)"
        ).fetchall()
    for params, value in rows:
        p = json.loads(params)
        cells.setdefault((p["design.kind"], p["theory.kind"]), []).append(value)
    return cells


CELL_NAMES = {
    "citizens_assembly": "Citizens' assembly",
    "participatory_budgeting": "Participatory budgeting",
    "incremental": "Incremental experiments",
    "structural": "Structural change",
}


@pytest.mark.parametrize("output", ["consensus_bias", "structure", "procedural_justice"])
def test_the_ranked_view_has_the_reports_numbers(results, output):
    agg = aggregate(results / "tiny.db", "tiny")
    assert not agg.problem and agg.cols == ["design", "theory"] and agg.month == 3
    assert (agg.done, agg.planned) == (8, 8)
    ranking = rank(agg.cols, agg.rows, output)
    assert len(ranking.cells) == 4
    expected = finals(results / "tiny.db", output)
    by_label = {c.label: c for c in ranking.cells}
    table = ranking_table(ranking)
    for (design, theory), values in expected.items():
        cell = by_label[f"{CELL_NAMES[design]} / {CELL_NAMES[theory]}"]
        mean = float(np.mean(values))
        half = stats.t.ppf(0.975, len(values) - 1) * np.std(values, ddof=1) / math.sqrt(len(values))
        assert cell.n == 2 and cell.mean == pytest.approx(mean, abs=1e-12)
        assert (cell.low, cell.high) == (
            pytest.approx(mean - half, abs=1e-12),
            pytest.approx(mean + half, abs=1e-12),
        )
        assert f"{mean:.3f}" in table
    higher = output != "consensus_bias"
    means = [c.mean for c in ranking.cells]
    assert means == sorted(means, reverse=higher)  # best first


def test_stored_text_in_the_ranked_view_is_escaped_and_a_bad_value_is_one_line(results, tmp_path):
    db = tmp_path / "results" / "hostile.db"
    db.parent.mkdir()
    db.write_bytes((results / "tiny.db").read_bytes())
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE runs SET params = json_set(params, '$.\"design.kind\"', '<script>alert(1)</script>') "
            "WHERE run_key LIKE 'citizens_assembly%'"
        )
    agg = aggregate(db, "tiny")
    table = ranking_table(rank(agg.cols, agg.rows, "consensus_bias"))
    assert "<script>" not in table and "&lt;script&gt;alert(1)&lt;/script&gt;" in table
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE steps SET consensus_bias = 'abc' WHERE step = 3")
    agg = aggregate(db, "tiny")
    assert agg.problem.startswith("The summary of this experiment cannot be made: ")
    assert "output consensus_bias is not a number (got 'abc')" in agg.problem and "\n" not in agg.problem


def test_a_stored_run_opened_in_explore_reproduces_what_was_stored(results):
    runs, params = stored_runs(results)
    for run in runs[::3]:
        loaded = from_stored(run, params[run.run_key], "tiny.db")
        assert loaded.ok, loaded.problem
        scenario = loaded.draft.check().scenario
        assert scenario.run.seed == run.seed and loaded.draft.seed == str(run.seed)
        assert scenario.flat() == {**params[run.run_key], "run.seed": run.seed}
        with sqlite3.connect(results / "tiny.db") as conn:
            conn.row_factory = sqlite3.Row
            stored = conn.execute(
                "SELECT * FROM steps WHERE run_key = ? ORDER BY step DESC LIMIT 1", [run.run_key]
            ).fetchone()
        last = simulate(scenario)[-1]
        assert last["step"] == stored["step"] == 3
        assert {k: last[k] for k in OUTPUTS} == {k: stored[k] for k in OUTPUTS}


def test_a_stored_run_the_page_cannot_hold_is_refused_in_one_line(results):
    runs, params = stored_runs(results)
    too_big = {**params[runs[0].run_key], "population.residents": 50_000}
    loaded = from_stored(runs[0], too_big, "tiny.db")
    assert not loaded.ok and "population.residents" in loaded.problem and "\n" not in loaded.problem
    unknown = {**params[runs[0].run_key], "context.gone": 1}
    loaded = from_stored(runs[0], unknown, "tiny.db")
    assert not loaded.ok and "context.gone: unknown key" in loaded.problem


def test_open_this_run_in_explore_switches_tabs_and_runs_it(results, monkeypatch):
    monkeypatch.setenv(FOLDER_VARIABLE, str(results))
    box, rc = solara.render(Page(), handle_error=False)
    try:
        (tabs,) = [w for w in widgets(box) if isinstance(w, v.Tabs)]
        tabs.v_model = 2
        eventually(lambda: "Run (8 in this experiment)" in labels(box))
        eventually(lambda: html_with(box, "ranking-cells") != "")  # the experiment's ranked view
        assert "Participatory budgeting / Structural change" in html_with(box, "ranking-cells")
        (select,) = [w for w in widgets(box) if isinstance(w, v.Select) and w.label.startswith("Run (")]
        chosen = next(i for i in select.items if i.startswith("Participatory budgeting · Structural"))
        select.v_model = chosen
        seed = chosen.rsplit("seed ", 1)[1]
        eventually(lambda: len(buttons(box, "Open this run in Explore")) == 1)
        buttons(box, "Open this run in Explore")[0].click()
        assert tabs.v_model == EXPLORE_TAB
        eventually(
            lambda: running(box) == f"Running: Participatory budgeting, structural change, seed {seed}"
        )
        assert any(
            t.startswith("Set up from tiny.db (tiny): Participatory budgeting · Structural")
            for t in texts(box)
        )
        assert "Month 0 of 3" in texts(box)
    finally:
        rc.close()


def labels(box) -> list[str]:
    return [w.label for w in widgets(box) if isinstance(w, v.Select)]


def buttons(box, text: str) -> list:
    return [w for w in widgets(box) if isinstance(w, v.Btn) and text in w.children]


def html_with(box, token: str) -> str:
    return "".join(
        w.unsafe_innerHTML
        for w in widgets(box)
        if token in (getattr(w, "attributes", None) or {}).get("class", "").split()
    )
