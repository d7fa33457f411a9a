"""``--workers`` has a cap: never more local processes than runs to do, and a warning above the cores."""

from __future__ import annotations

from pathlib import Path

from coprod.experiments.executors import cores

from coprod.cli import main

SMOKE = Path(__file__).resolve().parents[1] / "experiments" / "smoke.toml"


def test_a_thousand_workers_for_thirty_runs_start_thirty_processes_with_a_warning(tmp_path, capsys):
    assert main(["sweep", str(SMOKE), "--db", str(tmp_path / "smoke.db"), "--workers", "1000"]) == 0
    captured = capsys.readouterr()
    assert "running 30 on 30 local processes" in captured.out
    assert f"warning: --workers 1000 is more than the {cores()} cores here" in captured.err
    assert len(captured.err.strip().splitlines()) == 1


def test_workers_within_the_cores_give_no_warning(tmp_path, capsys):
    assert main(["sweep", str(SMOKE), "--db", str(tmp_path / "smoke.db"), "--workers", "1"]) == 0
    assert "warning" not in capsys.readouterr().err
