"""A sweep says how far it is when no terminal shows its bar: a line every 5%, with elapsed time and ETA."""

from __future__ import annotations

import io
import re
from pathlib import Path

from coprod.experiments.report_progress import ProgressLines, duration

from coprod.cli import main

TINY = Path(__file__).resolve().parent / "experiments_fixtures" / "tiny.toml"


def test_a_line_every_five_percent_with_the_time_elapsed_and_left():
    out, now = io.StringIO(), [0.0]
    lines = ProgressLines("x", 200, out, clock=lambda: now[0])
    for _ in range(200):
        now[0] += 1.0
        lines.update(1)
    printed = out.getvalue().splitlines()
    assert len(printed) == 20  # 5%, 10%, ... 100%
    assert printed[0] == "x: 10 of 200 runs (5%), 10 s elapsed, about 3 min 10 s left"
    assert printed[-1] == "x: 200 of 200 runs (100%), 3 min 20 s elapsed, about 0 s left"
    assert duration(3725) == "1 h 02 min"


def test_a_sweep_prints_progress_lines_when_its_output_is_not_a_terminal(tmp_path, capsys):
    assert main(["sweep", str(TINY), "--db", str(tmp_path / "tiny.db"), "--workers", "1"]) == 0
    out = capsys.readouterr().out  # captured: not a terminal, so no bar
    progress = re.findall(r"^tiny: (\d+) of 12 runs \((\d+)%\), .* elapsed, about .* left$", out, re.M)
    assert len(progress) == 12  # each of 12 runs is more than 5%
    assert progress[-1] == ("12", "100")
