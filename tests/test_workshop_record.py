"""Workshop mode's record (coprod.workshop.record) in the sweeps' results file, and its command line:
`coprod workshop replay|export|rerun` and the bad inputs of `coprod workshop`."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from coprod.experiments.store import Store, StoreError
from coprod.model import OUTPUTS, Scenario, load_scenario
from coprod.workshop.engine import Workshop
from coprod.workshop.record import WorkshopRecord, token_hash
from coprod.workshop.replay import first_difference, load_recording, replay, scenario_from_text, scenario_text

from coprod import workshop_command
from coprod.cli import main
from tests.support import WORKSHOP_SCENARIO as SCENARIO
from tests.support import recorded
from tests.support import tiny_workshop_city as tiny

ROOT = Path(__file__).resolve().parents[1]
SWEEP_TABLES = ("meta", "experiments", "runs", "steps")


def dump(db: Path, tables=SWEEP_TABLES) -> dict:
    conn = sqlite3.connect(db)
    try:
        out = {}
        for t in tables:
            out[t] = (
                conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", [t]).fetchone(),
                conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall(),
            )
        return out
    finally:
        conn.close()


def cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------------------------------ record


def test_workshop_tables_join_a_sweeps_file_and_leave_its_tables_untouched(tmp_path, capsys):
    db = tmp_path / "results.db"
    assert (
        cli(capsys, "run", SCENARIO, "--steps", "2", "--set", "population.residents=150", "--db", db)[0] == 0
    )
    before = dump(db)
    w, _ = recorded(db)
    w.close()
    assert dump(db) == {
        **before,
        "meta": (before["meta"][0], [*before["meta"][1], ("workshop_schema_version", "1")]),
    }
    with Store(db) as store:  # still a results database, for sweeps and for reading
        assert len(store.runs_of("single_runs")) == 1
    code, out, _ = cli(capsys, "rerun", "--db", db, Store.existing(db).runs_of("single_runs")[0]["run_key"])
    assert code == 0 and "identical" in out
    record = WorkshopRecord(db)  # opened again: nothing made twice
    assert record.workshop_ids() == [w.id]
    record.close()


def test_tokens_are_stored_only_as_hashes(tmp_path):
    db = tmp_path / "w.db"
    w = Workshop.start(tiny(), db)
    p = w.join(w.join_code, "Ann", "resident")
    n = w.open_round(w.facilitator_token)
    w.submit(p.token, n, {"attend": "come"})
    w.close()
    raw = b"".join(path.read_bytes() for path in tmp_path.iterdir())
    assert p.token.encode() not in raw and w.facilitator_token.encode() not in raw
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT token_hash, name FROM workshop_participants").fetchall() == [
        (token_hash(p.token), "Ann")
    ]
    assert conn.execute("SELECT participant, source FROM workshop_choices").fetchall() == [
        (token_hash(p.token), "human")
    ]
    assert conn.execute("SELECT facilitator_hash FROM workshops").fetchone()[0] == token_hash(
        w.facilitator_token
    )


def test_a_file_with_workshop_tables_of_another_version_is_refused_unchanged(tmp_path):
    db = tmp_path / "w.db"
    Workshop.start(tiny(), db).close()
    conn = sqlite3.connect(db)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'workshop_schema_version'")
    conn.commit()
    conn.close()
    before = dump(db, ("meta", "workshops"))
    with pytest.raises(StoreError, match="workshop tables of schema version 99"):
        WorkshopRecord(db)
    with pytest.raises(StoreError, match="schema version 99"):
        WorkshopRecord.existing(db)
    assert dump(db, ("meta", "workshops")) == before


def test_the_scenario_is_kept_as_the_settings_it_states(tmp_path):
    s = tiny()
    text = scenario_text(s)
    assert scenario_from_text(text) == s
    assert "[structure]" not in text  # presets stay presets: a redesign re-applies its own
    w = Workshop.start(SCENARIO, tmp_path / "w.db")
    assert w.record.workshop(w.id)["scenario"] == scenario_text(load_scenario(SCENARIO))


def test_a_city_named_in_any_text_is_recorded_and_replayed(tmp_path):
    """A name beyond the Basic Multilingual Plane (JSON would write it as a surrogate pair, which TOML
    refuses) and control characters survive the record: the workshop starts and its branch replays."""
    s = tiny()
    odd = Scenario.build(
        {**s.explicit, "name": "Café 😀 \x01\r", "description": "tab\there, DEL\x7f"}, source="test"
    )
    assert scenario_from_text(scenario_text(odd)) == odd
    w = Workshop.start(odd, tmp_path / "w.db", months_per_round=1, name="Odd city")
    w.open_round(w.facilitator_token)
    w.close_round(w.facilitator_token)
    w.close()
    record = WorkshopRecord.existing(tmp_path / "w.db")
    try:
        recording = load_recording(record, w.id, "main")
    finally:
        record.close()
    assert recording.scenario.name == "Café 😀 \x01\r"
    _, replayed = replay(recording.scenario, recording.rounds)
    assert first_difference(recording.steps, replayed) is None


def test_a_branch_holds_its_whole_history_and_the_old_one_is_untouched(tmp_path):
    w, branch = recorded(tmp_path / "w.db")
    record = w.record
    main_rounds = record.rounds(w.id, "main")
    new_rounds = record.rounds(w.id, branch)
    assert [r["round"] for r in main_rounds] == [1, 2] and [r["round"] for r in new_rounds] == [1, 2]
    assert new_rounds[0] | {"branch": "main"} == main_rounds[0]
    assert new_rounds[1]["redesign_theory"] == "structural" and new_rounds[1]["months"] == 3
    assert sorted(c["source"] for c in record.choices(w.id, branch, 2)) == ["human", "simulated"]
    assert [s["month"] for s in record.steps(w.id, "main")] == [0, 1, 2, 3, 4]
    assert [s["month"] for s in record.steps(w.id, branch)] == [0, 1, 2, 3, 4, 5]
    assert record.branches(w.id)[1]["parent"] == "main" and record.branches(w.id)[1]["from_round"] == 1


# ---------------------------------------------------------------------------------- command line


def test_replay_matches_each_branch_and_finds_a_changed_value(tmp_path, capsys):
    db = tmp_path / "w.db"
    w, branch = recorded(db)
    w.close()
    for b, months in (("main", 4), (branch, 5)):
        code, out, err = cli(capsys, "workshop", "replay", db, "--workshop", w.id, "--branch", b)
        assert code == 0, err
        assert out.strip().endswith(f"matches its recording exactly ({months} months, 2 rounds)")
    conn = sqlite3.connect(db)
    conn.execute(
        "UPDATE workshop_steps SET distribution = distribution + 1e-12 WHERE branch = ? AND month = 5",
        [branch],
    )
    conn.commit()
    conn.close()
    code, out, _ = cli(capsys, "workshop", "replay", db, "--branch", branch)  # the file's only workshop
    assert code == 1 and "month 5: distribution recorded" in out
    assert cli(capsys, "workshop", "replay", db, "--branch", "main")[0] == 0  # the other branch is whole


def test_replay_runs_as_the_installed_command(tmp_path, coprod):
    db = tmp_path / "w.db"
    w, _ = recorded(db)
    w.close()
    result = coprod("workshop", "replay", str(db), "--workshop", w.id, "--branch", "main")
    assert result.returncode == 0, result.stderr
    assert "matches its recording exactly (4 months" in result.stdout


def test_unknown_workshop_branch_or_file_is_one_line_and_exit_2(tmp_path, capsys):
    db = tmp_path / "w.db"
    w, _ = recorded(db)
    w.close()
    before = db.read_bytes()
    cases = (
        (("replay", db, "--workshop", "nope"), f"{db}: --workshop: no workshop 'nope' (allowed: {w.id})"),
        (("replay", db, "--branch", "nope"), f"{db}: --branch: workshop {w.id} has no branch 'nope'"),
        (("export", db, "--workshop", "nope", "--out", tmp_path / "out"), "no workshop 'nope'"),
        (("replay", tmp_path / "missing.db"), f"{tmp_path / 'missing.db'}: no such results database"),
        (("rerun", tmp_path / "nothing"), "no such folder"),
        ((SCENARIO, "--port", "70000", "--db", tmp_path / "new.db"), "--port: not allowed (got '70000'"),
        ((SCENARIO, "--months-per-round", "0", "--db", tmp_path / "new.db"), "--months-per-round"),
        ((tmp_path / "none.toml", "--db", tmp_path / "new.db"), "none.toml: file: no such file"),
        (("--resume", "nope", "--db", db), "no workshop 'nope'"),
        (("--resume", "--db", tmp_path / "new.db"), "new.db: no such results database"),
    )
    for args, words in cases:
        code, out, err = cli(capsys, "workshop", *args)
        assert code == 2, (args, out, err)
        assert out == "" and len(err.strip().splitlines()) == 1 and words in err, (args, err)
    assert db.read_bytes() == before
    assert not (tmp_path / "out").exists() and not (tmp_path / "new.db").exists()
    assert not (tmp_path / "missing.db").exists()


def test_export_and_rerun_give_the_same_final_outputs(tmp_path, capsys):
    db = tmp_path / "w.db"
    w, branch = recorded(db)
    last = w.markers(branch)[-1]
    w.close()
    out_dir = tmp_path / "exported"
    code, out, err = cli(capsys, "workshop", "export", db, "--branch", branch, "--out", out_dir)
    assert code == 0, err
    data = json.loads((out_dir / "choices.json").read_text())
    assert [r["months"] for r in data["rounds"]] == [2, 3]
    assert data["rounds"][1]["redesign"] == {"design": None, "theory": "structural"}
    code, out, err = cli(capsys, "workshop", "rerun", out_dir, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["months"] == 5
    assert result["outputs"] == {k: last[k] for k in OUTPUTS}
    assert cli(capsys, "workshop", "rerun", out_dir)[1].count("\n") == len(OUTPUTS) + 2
    # a choice the city refuses, in the exported file: one line naming the round
    data["rounds"][0]["plan"] = {"0": {"attend": "maybe"}}
    (out_dir / "choices.json").write_text(json.dumps(data))
    code, out, err = cli(capsys, "workshop", "rerun", out_dir)
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and "rounds[0].plan" in err


def test_the_live_command_records_a_workshop_and_hands_it_to_the_pages(tmp_path, capsys, monkeypatch):
    served = []
    monkeypatch.setattr(
        workshop_command, "_serve_function", lambda: lambda w, host, port: served.append((w.id, host, port))
    )
    db = tmp_path / "w.db"
    code, out, err = cli(
        capsys, "workshop", SCENARIO, "--db", db, "--port", "9001", "--months-per-round", "4"
    )
    assert code == 0, err
    (workshop_id, host, port) = served[0]
    assert (host, port) == ("127.0.0.1", 9001) and f"workshop {workshop_id} started" in out
    record = WorkshopRecord.existing(db)
    assert record.workshop(workshop_id)["months_per_round"] == 4
    record.close()
    code, out, err = cli(capsys, "workshop", "--resume", "--db", db)
    assert code == 0, err
    assert served[1][0] == workshop_id and "resumed at round 0 of branch main" in out
