"""The dashboard's plain-Python parts: set-up checking, runs, exports, charts and the results folder.

No widgets here (see test_dashboard_render.py) and no browser (see tests/browser/).
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from coprod.dashboards import charts
from coprod.dashboards.browse import open_runs, read_run
from coprod.dashboards.choices import (
    MAIN_PARAMETERS,
    PAGE_LIMITS,
    SEED_KEY,
    Draft,
    parse_seed,
    parse_whole,
    slider,
)
from coprod.dashboards.results import (
    FOLDER_VARIABLE,
    ResultsError,
    ResultsFile,
    allowed_folder,
    databases,
    resolve,
)
from coprod.dashboards.runs import Pair, Run
from coprod.dashboards.seeds import run_both, seeds
from coprod.dashboards.serve import APP, command
from coprod.dashboards.verdict import OVER_SEEDS, difference, differences, verdict
from coprod.dashboards.words import HIGHER_IS_BETTER, LABELS, SPOKES
from coprod.model import (
    DESCRIPTIONS,
    MARKERS,
    OUTPUTS,
    PARAMETERS,
    GovernanceModel,
    Scenario,
    load_scenario,
    simulate,
)

SMALL = {"population.residents": 200, "run.steps": 12}


def small_draft(**changes) -> Draft:
    draft = Draft()
    for key, value in {**SMALL, **changes}.items():
        draft = draft.with_value(key, value)
    return draft


# ------------------------------------------------------------------------------------------ words


def test_every_output_has_a_short_name_and_an_explanation():
    assert set(LABELS) == set(OUTPUTS) == set(DESCRIPTIONS) == set(HIGHER_IS_BETTER)
    assert set(SPOKES) == set(MARKERS)


# ------------------------------------------------------------------------------------------ choices


@pytest.mark.parametrize("key", MAIN_PARAMETERS)
def test_sliders_read_their_limits_and_meaning_from_the_schema(key):
    spec, s = PARAMETERS[key], slider(key)
    assert s.low == spec.low
    assert s.high == min(spec.high, PAGE_LIMITS.get(key, spec.high))
    assert spec.low < s.high <= spec.high
    assert s.meaning.lower() == spec.meaning.lower()
    assert s.units == spec.units
    assert s.integer == (spec.type == "int")


def test_the_default_draft_is_the_citizens_assembly_scenario():
    checked = Draft().check()
    assert checked.ok and not checked.problems
    assert (
        checked.scenario.flat() | {"run.seed": 1}
        == Scenario.build({"design": {"kind": "citizens_assembly"}, "theory": {"kind": "incremental"}}).flat()
    )


@pytest.mark.parametrize("text", ["abc", "1.5", "", "4 2", "0x10"])
def test_a_seed_that_is_not_a_whole_number_is_named_next_to_the_seed(text):
    checked = Draft().with_seed(text).check()
    assert not checked.ok
    assert "whole number" in checked.problems[SEED_KEY]


def test_a_negative_seed_is_refused_with_its_range():
    message = parse_seed("-3")
    assert isinstance(message, str) and "from 0" in message
    assert parse_seed(" 1_000 ") == 1000


def test_more_participants_than_residents_is_named_next_to_participants():
    checked = Draft().with_value("population.residents", 20).check()
    assert not checked.ok
    message = checked.problems["design.participants"]
    assert "More participants than residents" in message
    assert "population.residents" not in message  # parameter keys are replaced by their titles
    assert "Residents in the city" in message


def test_typed_whole_numbers_are_checked_against_the_slider():
    s = slider("population.residents")
    assert parse_whole("5,000", s) == 5000
    assert "whole number" in parse_whole("lots", s)
    assert "whole number" in parse_whole(str(int(s.high) + 1), s)


def test_picking_a_design_brings_its_own_values_but_keeps_the_city():
    draft = Draft().with_value("design.facilitation", 0.95).with_value("population.residents", 300)
    switched = draft.with_design("top_down_consultation")
    checked = switched.check()
    assert (
        checked.scenario.design.facilitation
        == Scenario.build({"design": {"kind": "top_down_consultation"}}).design.facilitation
    )
    assert checked.scenario.population.residents == 300
    assert switched.setting("design.facilitation", checked) == checked.scenario.design.facilitation


def test_picking_a_theory_sets_the_theory():
    checked = Draft().with_theory("coalition").check()
    assert checked.scenario.theory.kind == "coalition"


# ------------------------------------------------------------------------------------------ runs


def test_a_dashboard_run_matches_coprod_run_month_by_month():
    """The network picture draws from its own generator, so the dashboard changes nothing in the model."""
    scenario = small_draft().check().scenario
    run = Run(scenario)
    run.step(5)
    rows = simulate(scenario, steps=5)
    frame = list(csv.DictReader(io.StringIO(run.csv())))
    assert len(frame) == 6
    for row, expected in zip(frame, rows, strict=True):
        assert int(row["step"]) == expected["step"]
        for name in OUTPUTS:
            assert float(row[name]) == expected[name], name


def test_the_csv_ends_with_the_models_outputs_now():
    run = Run(small_draft().check().scenario)
    run.step(3)
    last = list(csv.DictReader(io.StringIO(run.csv())))[-1]
    assert int(last["step"]) == 3
    assert {name: float(last[name]) for name in OUTPUTS} == run.now()


def test_the_exported_toml_loads_back_to_the_same_scenario(tmp_path):
    scenario = small_draft(**{"design.stipend": 0.25}).with_design("participatory_budgeting").check().scenario
    run = Run(scenario)
    run.step(2)
    path = tmp_path / "exported.toml"
    path.write_text(run.toml())
    assert load_scenario(path).flat() == scenario.flat()
    assert load_scenario(path).to_toml() == scenario.to_toml()


def test_the_exported_toml_reproduces_the_run_exactly_with_coprod_run(tmp_path, coprod):
    """End to end: a set-up made as the page makes it, stepped, exported, then ``coprod run`` on the file
    in another process ends on exactly the page's last row."""
    draft = small_draft(**{"design.stipend": 0.25}).with_seed("7")
    run = Run(draft.with_design("participatory_budgeting").with_theory("coalition").check().scenario)
    run.step(5)
    path = tmp_path / "from the page.toml"
    path.write_text(run.toml())
    done = coprod("run", str(path), "--steps", "5", "--json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert (answer["seed"], answer["steps"]) == (7, 5)
    last = list(csv.DictReader(io.StringIO(run.csv())))[-1]
    assert int(last["step"]) == 5
    assert answer["outputs"] == {name: float(last[name]) for name in OUTPUTS} == run.now()


def test_a_run_stops_at_its_horizon():
    run = Run(small_draft(**{"run.steps": 3}).check().scenario)
    assert run.step(10) == 3
    assert run.finished and run.steps == 3
    assert run.step() == 0


def test_the_network_picture_is_laid_out_once_and_keeps_its_places():
    run = Run(small_draft(**{"population.residents": 600}).check().scenario, sampled_residents=100)
    picture = run.picture
    people = run.model.people
    assert picture.residents_shown == 100 and picture.residents_total == 600
    assert (picture.kind != 0).sum() == (np.asarray(people.kind) != 0).sum()  # every non-resident drawn
    before = picture.xy.copy()
    run.step(4)
    assert run.picture is picture and np.array_equal(run.picture.xy, before)
    ties = run.ties()
    assert ties.min() >= 0 and ties.max() < len(picture.nodes)


def test_two_runs_share_no_state():
    scenario = small_draft().check().scenario
    first, second = Run(scenario), Run(scenario)
    first.step(4)
    assert second.steps == 0 and first.model is not second.model
    second.step(4)
    assert first.now() == second.now()


def test_a_pair_steps_together_from_the_same_seed():
    a = small_draft().with_design("top_down_consultation").check().scenario
    b = small_draft().with_design("action_research_cooperative").check().scenario
    pair = Pair(a, b)
    pair.step(3)
    assert [run.steps for run in pair.runs] == [3, 3]
    assert pair.runs[0].scenario.run.seed == pair.runs[1].scenario.run.seed
    alone = GovernanceModel(b)
    for _ in range(3):
        alone.step()
    assert pair.runs[1].now() == alone.outputs


def test_the_theory_mix_adds_up():
    mix = Run(small_draft().check().scenario).theory_mix()
    assert set(mix) <= {"incremental", "structural", "knowledge", "coalition"}
    assert sum(mix.values()) == pytest.approx(1.0)


TOC, MERGED = LABELS["toc_attrition"], LABELS["unwarranted_convergence"]


def _outputs(toc: float, merged: float, bias: float = 0.5) -> dict[str, float]:
    return dict.fromkeys(OUTPUTS, 0.5) | {
        "toc_attrition": toc,
        "unwarranted_convergence": merged,
        "consensus_bias": bias,
    }


@pytest.mark.parametrize(
    ("first", "second", "keeps", "says"),
    [
        (
            (0.5, 0.3),
            (0.0, 0.3),
            1,
            f"So far B keeps more dissensus: lower on '{TOC}', about the same on '{MERGED}'.",
        ),
        (
            (0.25, 0.2),
            (0.25, 0.6),
            0,
            f"So far A keeps more dissensus: lower on '{MERGED}', about the same on '{TOC}'.",
        ),
        ((0.25, 0.5), (0.0, 0.1), 1, "So far B keeps more dissensus: lower on both measures."),
        (
            (0.0, 0.6),
            (0.25, 0.2),
            None,
            f"No clear answer so far: A keeps more dissensus on '{TOC}', B on '{MERGED}'.",
        ),
        (
            (0.25, 0.304),
            (0.25, 0.300),
            None,
            f"So far both keep about the same dissensus, on both measures ('{TOC}' and '{MERGED}').",
        ),
    ],
)
def test_the_verdict_weighs_both_measures_and_names_each_tie(first, second, keeps, says):
    """The old verdict looked at the second measure only when the first tied, and then named the first."""
    answer = verdict(_outputs(*first), _outputs(*second), ("A", "B"))
    assert answer.keeps == keeps
    assert answer.overall.startswith(says)
    shown = {r.name: r.values for r in answer.readings}
    assert list(shown) == ["toc_attrition", "unwarranted_convergence", "consensus_bias"]
    assert shown["toc_attrition"] == (first[0], second[0])
    assert shown["unwarranted_convergence"] == (first[1], second[1])
    assert "one seed" in answer.caveat and "press Reset" in answer.caveat


def test_the_verdict_names_consensus_bias_when_it_points_the_other_way():
    answer = verdict(
        _outputs(0.0, 0.3, bias=0.6), _outputs(0.25, 0.4, bias=0.4), ("A", "B"), ("A (x)", "B (y)")
    )
    assert answer.overall.startswith("So far A (x) keeps more dissensus: lower on both measures.")
    assert answer.overall.endswith(
        "consensus bias, which also counts whose views decisions follow, is lower for B."
    )
    assert [r.lower for r in answer.readings] == [0, 0, 1]
    same_way = verdict(_outputs(0.0, 0.3, bias=0.4), _outputs(0.25, 0.4, bias=0.6), ("A", "B"))
    assert "consensus bias" not in same_way.overall


def test_the_verdict_comes_from_the_numbers_not_the_side():
    """Swapping the two set-ups swaps the answer, for any numbers: nothing favours A, B or a design."""
    rng = np.random.default_rng(5)
    for _ in range(500):
        a, b = (_outputs(rng.choice([0, 0.25, 0.5]), rng.random(), rng.random()) for _ in range(2))
        here, swapped = verdict(a, b, ("A", "B")), verdict(b, a, ("A", "B"))
        assert (here.keeps, swapped.keeps) in {(None, None), (0, 1), (1, 0)}
        assert [r.lower for r in here.readings] == [
            None if r.lower is None else 1 - r.lower for r in swapped.readings
        ]


# ------------------------------------------------------------------------------------------ charts


def test_the_charts_are_well_formed_svg():
    run = Run(small_draft().check().scenario)
    run.step(3)
    trace = charts.trace("A", run.series(OUTPUTS), charts.SETUP_COLOURS[0])
    other = charts.trace("B <&>", run.series(), charts.SETUP_COLOURS[1])
    for svg in (
        charts.radar([trace], with_start=True),
        charts.radar([trace, other], with_start=False),
        charts.marker_lines([trace, other], run.horizon),
        charts.marker_lines([trace], run.horizon, ("consensus_bias", "lock_in")),
        charts.network(run.picture, run.ties(), run.taking_part()),
    ):
        root = ET.fromstring(svg)
        assert root.tag.endswith("svg")
    lines = ET.fromstring(charts.marker_lines([trace], run.horizon))
    assert len([e for e in lines.iter() if e.tag.endswith("polyline")]) == len(MARKERS)


def test_the_indicator_rows_show_every_value_and_its_explanation():
    outputs = dict.fromkeys(OUTPUTS, 0.25) | {"marginalised_influence": 1.7}
    html = charts.indicator_rows([outputs], OUTPUTS, [dict.fromkeys(OUTPUTS, 0.0)])
    ET.fromstring(f"<div>{html}</div>")  # well formed
    for name in OUTPUTS:
        assert f"indicator-{name}" in html
    assert "width:100.0%" in html  # a ratio above 1 fills its bar, never overflows it
    assert '1.70 (<span class="change better" title="better (higher is better)">↑</span> from 0.00)' in html


# ------------------------------------------------------------------------------------------ results


@pytest.fixture
def results_folder(tmp_path, monkeypatch):
    folder = tmp_path / "results"
    folder.mkdir()
    monkeypatch.setenv(FOLDER_VARIABLE, str(folder))
    return folder


def _write_results(path: Path) -> None:
    from coprod.experiments.store import Store

    scenario = small_draft().check().scenario
    with Store(path) as store:  # closed, so that everything is in the file itself (no -wal beside it)
        store.record_run(
            experiment="single_runs",
            run_key="citizens_assembly/seed=1",
            scenario=scenario.name,
            params=scenario.flat(),
            seed=1,
            code_version="test",
            status="done",
            rows=simulate(scenario, steps=4),
        )


def test_the_results_folder_comes_from_the_environment(results_folder, monkeypatch):
    assert allowed_folder() == results_folder.resolve()
    monkeypatch.delenv(FOLDER_VARIABLE)
    assert allowed_folder() == (Path.cwd() / "results").resolve()


def test_a_stored_run_can_be_listed_and_read(results_folder):
    _write_results(results_folder / "sweep.db")
    assert databases() == ["sweep.db"]
    with ResultsFile(resolve("sweep.db")) as results:
        (run,) = results.runs()
        months, series = results.curves(run)
        assert run.run_key == "citizens_assembly/seed=1" and run.status == "done"
        assert list(months) == [0, 1, 2, 3, 4]
        assert set(series) == set(OUTPUTS)
        assert results.params(run)["population.residents"] == 200


def test_the_results_file_is_opened_read_only(results_folder):
    path = results_folder / "sweep.db"
    _write_results(path)
    with ResultsFile(resolve("sweep.db")) as results, pytest.raises(sqlite3.OperationalError):
        results.db.execute("DELETE FROM runs")


@pytest.mark.parametrize(
    "name",
    ["../outside.db", "/etc/passwd", "sub/../../outside.db", "..", "", "notes.txt", "missing.db", "a\x00.db"],
)
def test_names_that_leave_the_folder_or_name_nothing_are_refused(results_folder, name):
    (results_folder.parent / "outside.db").write_bytes(b"")
    (results_folder / "notes.txt").write_text("not a database")
    with pytest.raises(ResultsError):
        resolve(name)


def test_a_link_pointing_out_of_the_folder_is_refused(results_folder):
    outside = results_folder.parent / "outside.db"
    _write_results(outside)
    os.symlink(outside, results_folder / "link.db")
    with pytest.raises(ResultsError, match="Only files inside"):
        resolve("link.db")
    assert databases() == []


def test_a_file_that_is_not_a_results_database_is_refused(results_folder):
    (results_folder / "junk.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ResultsError):
        ResultsFile(resolve("junk.db"))
    sqlite3.connect(results_folder / "other.db").execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(ResultsError, match="not a results file"):
        ResultsFile(resolve("other.db"))


def _plain(message: str | None) -> str:
    """A message for the page: present, one line, and naming no Python error."""
    assert message
    for word in ("Traceback", "OperationalError", "DatabaseError", "KeyError", "Error:"):
        assert word not in message
    assert "\n" not in message
    return message


def test_a_database_with_other_columns_is_refused_with_a_message(results_folder):
    """``runs`` and ``steps`` tables, but not coprod's: named on the page instead of ``no such column``."""
    db = sqlite3.connect(results_folder / "other.db")
    db.execute("CREATE TABLE runs (id INTEGER, name TEXT)")
    db.execute("CREATE TABLE steps (id INTEGER, value REAL)")
    db.execute("INSERT INTO runs VALUES (1, 'x')")
    db.commit()
    db.close()
    with pytest.raises(ResultsError, match="its runs table lacks experiment, run_key"):
        ResultsFile(resolve("other.db"))
    path, runs, problem = open_runs("other.db")
    assert path is None and runs == []
    assert "not a results file this version of coprod can read" in _plain(problem)


def test_a_database_missing_an_output_column_is_refused_with_a_message(results_folder):
    path = results_folder / "old.db"
    _write_results(path)
    db = sqlite3.connect(path)
    db.execute("DROP VIEW IF EXISTS runs_flat")  # a view over every column would stop the drop
    db.execute("ALTER TABLE steps DROP COLUMN lock_in")
    db.commit()
    db.close()
    _, runs, problem = open_runs("old.db")
    assert runs == []
    assert _plain(problem).endswith("its steps table lacks lock_in.")


@pytest.mark.parametrize("table", ["runs", "steps"])
def test_a_damaged_results_file_gives_a_message_not_a_traceback(results_folder, table):
    """The file opens (its list of tables is intact) but the pages of one table are overwritten."""
    path = results_folder / "damaged.db"
    _write_results(path)
    db = sqlite3.connect(path)
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    (root,) = db.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", [table]).fetchone()
    db.close()
    data = bytearray(path.read_bytes())
    data[(root - 1) * page_size : root * page_size] = b"\xff" * page_size
    path.write_bytes(bytes(data))
    opened, runs, problem = open_runs("damaged.db")
    if table == "runs":
        assert opened is None and runs == []
    else:  # the run list reads; its curves do not
        assert problem is None and len(runs) == 1
        (months, series), params, problem = read_run(opened, runs[0])
        assert len(months) == 0 and series == {} and params == {}
    assert "damaged.db could not be read: it may be damaged" in _plain(problem)


# ------------------------------------------------------------------------------------------ serving


def test_the_server_command_finds_the_app_whatever_the_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = command("127.0.0.1", 8765)
    assert Path(line[line.index("run") + 1]) == APP and APP.is_file()
    assert line[-2:] == ["--no-open", "--production"]
    assert line[line.index("--host") + 1] == "127.0.0.1" and line[line.index("--port") + 1] == "8765"


def test_a_port_out_of_range_is_refused_without_starting_a_server(capsys):
    from argparse import Namespace

    from coprod.dashboards.serve import main_dashboard

    assert main_dashboard(Namespace(port=70000, host="127.0.0.1")) == 2
    assert "--port must be from 1 to 65535" in capsys.readouterr().err


@pytest.mark.parametrize(("given", "bound"), [([], "127.0.0.1"), (["--host", "0.0.0.0"], "0.0.0.0")])
def test_coprod_dashboard_binds_loopback_unless_host_says_otherwise(monkeypatch, capsys, given, bound):
    """``coprod dashboard`` starts ``solara run --host 127.0.0.1``; only ``--host`` binds wider."""
    import subprocess

    from coprod.cli import main

    started = []
    monkeypatch.setattr(subprocess, "call", lambda line: started.append(line) or 0)
    assert main(["dashboard", "--port", "8765", *given]) == 0
    (line,) = started
    assert line[line.index("--host") + 1] == bound and line[line.index("--port") + 1] == "8765"
    assert f"http://{bound}:8765/" in capsys.readouterr().out


# ------------------------------------------------------------------------------ over several seeds


def _seeds_outputs(values: list[float]) -> list[dict[str, float]]:
    return [dict.fromkeys(OVER_SEEDS, v) for v in values]


def test_a_known_difference_over_seeds_says_which_is_higher_with_its_interval():
    first = _seeds_outputs([0.60, 0.70, 0.65, 0.62, 0.68])
    second = [
        {k: v - d for k, v in row.items()}
        for row, d in zip(first, [0.10, 0.12, 0.14, 0.11, 0.13], strict=True)
    ]
    answers = {d.name: d for d in differences(first, second)}
    assert set(answers) == {*MARKERS, "consensus_bias"}
    bias = answers["consensus_bias"]
    assert bias.higher == 0 and bias.mean == pytest.approx(0.12)
    # the paired t interval, by hand: mean 0.12, sd 0.0158, t(0.975, 4) = 2.776
    assert (bias.low, bias.high) == pytest.approx((0.12 - 0.0196, 0.12 + 0.0196), abs=2e-4)
    assert bias.sentence == "A higher than B: difference +0.12 [+0.10, +0.14] (better for B)"
    assert answers["structure"].sentence.endswith("(better for A)")  # higher is better for a marker
    assert (bias.spreads[0].low, bias.spreads[0].high) == (0.60, 0.70)
    swapped = difference(
        "consensus_bias", [r["consensus_bias"] for r in second], [0.60, 0.70, 0.65, 0.62, 0.68]
    )
    assert swapped.higher == 1 and swapped.sentence.startswith("B higher than A: difference -0.12")


def test_no_difference_over_seeds_is_no_clear_difference():
    same = _seeds_outputs([0.3, 0.5, 0.4])
    for answer in differences(same, same):
        assert answer.higher is None and answer.better is None
        assert answer.sentence == "No clear difference: difference +0.00 [+0.00, +0.00]"
    noisy = difference("structure", [0.5, 0.6, 0.4], [0.55, 0.5, 0.45])  # differences -0.05, +0.1, -0.05
    assert noisy.higher is None and noisy.low < 0 < noisy.high
    assert noisy.sentence.startswith("No clear difference")


def test_one_seed_gives_no_interval_and_unequal_seeds_are_refused():
    one_seed = difference("structure", [0.7], [0.2])
    assert one_seed.higher is None and "run more seeds" in one_seed.sentence
    with pytest.raises(ValueError, match="same seeds"):
        difference("structure", [0.1, 0.2], [0.1])


def test_the_seeds_come_from_the_root_seed_and_are_the_same_for_both_set_ups():
    assert seeds(1, 5) == seeds(1, 5) != seeds(2, 5)
    assert seeds(1, 3) == [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(1).spawn(3)]
    assert seeds(1, 5)[:3] == seeds(1, 3)  # more seeds keep the first ones
    scenario = small_draft().check().scenario.with_overrides({"run.steps": 2}, source="test")
    *_, last = run_both(scenario, scenario, seeds(7, 2))
    assert last.finished and last.first == last.second  # the same scenario on the same seeds: identical
    assert last.first[0]["structure"] == simulate(scenario, seed=seeds(7, 2)[0])[-1]["structure"]


def test_an_arrow_is_coloured_by_whether_the_change_is_good_news():
    up = charts.change_arrow("structure", 0.2)  # a marker: higher is better
    assert "↑" in up and "better" in up
    bias_up = charts.change_arrow("consensus_bias", 0.2)  # lower is better
    assert "↑" in bias_up and "worse" in bias_up
    assert "better" in charts.change_arrow("unwarranted_convergence", -0.2)
    assert "neutral" in charts.change_arrow("structure", 0.001)
    assert "neutral" in charts.change_arrow("programme_effort", 0.3)  # describes, does not judge
