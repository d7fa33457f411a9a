"""Issue 13, findings 3, 4, 6 and 8: the command line at its edges.

- 3: a scenario at the schema's maxima (about 86 GB) is refused before it runs, naming the parameter to
  lower; the estimate bounds a measured run's peak memory.
- 4: special files (a FIFO, a character device, a folder, a huge file), values nested too deeply,
  numbers Python cannot read, and paths that cannot be created are one line and exit 2, never a hang
  or a traceback; a results file damaged in the middle is named as damaged.
- 6: ``analyze`` and ``rerun`` only read: nothing in the database's folder changes (not even its journal
  mode), a read-only folder is fine, and an empty file is refused, not turned into a database.
- 8: the exit status says whose fault it is (a full disk or a read-only database is 1, found before any
  run is computed, and leaves no 0-byte file); two processes creating one database at once both succeed;
  a byte-order mark is accepted; names and descriptions have a length limit.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import multiprocessing
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from coprod.experiments.store import Store, StoreError, StoreFault
from coprod.model import footprint

from coprod.cli import main
from tests.support import no_hang

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "citizens_assembly.toml"
TINY = ROOT / "tests" / "experiments_fixtures" / "tiny.toml"
NOT_A_FOLDER = "part of the path is a file, not a folder"
MAXIMA = """name = "maxima"
[population]
residents = 200000
officials = 5000
academics = 1000
civil_society_groups = 5000
[network]
mean_degree = 50
[design]
participants = 100000
[run]
betweenness_samples = 10000
"""


def cli(capsys, *args) -> tuple[int, str, str]:
    with no_hang(30):
        code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file in ``folder`` with its content hash and modification time."""
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    """A small results database (the tiny experiment), closed, in rollback-journal mode: one file."""
    db = tmp_path_factory.mktemp("results") / "tiny.db"
    assert main(["sweep", str(TINY), "--db", str(db), "--workers", "1"]) == 0
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA journal_mode = DELETE")
    return db


@contextlib.contextmanager
def mounted(where: Path, *options: str):
    """A tmpfs (or a read-only bind mount) at ``where``; skip where this machine does not allow it."""
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting needs root and the mount command")
    where.mkdir(exist_ok=True)
    done = subprocess.run(["mount", *options, str(where)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


@contextlib.contextmanager
def read_only_copy(folder: Path, tmp_path: Path):
    """``folder`` seen through a read-only bind mount."""
    view = tmp_path / "read_only_view"
    with mounted(view, "--bind", str(folder)):
        done = subprocess.run(["mount", "-o", "remount,bind,ro", str(view)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot remount read-only here: {done.stderr.strip()}")
        yield view


# ------------------------------------------------------------------- finding 3: resource limits


def test_a_scenario_at_the_schema_maxima_is_refused_before_it_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(footprint, "available_memory", lambda: 16e9)
    path = tmp_path / "maxima.toml"
    path.write_text(MAXIMA)
    code, out, err = cli(capsys, "validate", path)
    assert code == 2 and out == ""
    [line] = err.splitlines()
    assert line.startswith(f"{path}: run.betweenness_samples: the run needs about 18")  # about 18 GB
    assert "more than the 12.8 GB usable here" in line and "(got 10000, allowed at most 6_" in line
    db = tmp_path / "out" / "maxima.db"
    code, out, err = cli(capsys, "run", path, "--db", db)
    assert code == 2 and "run.betweenness_samples" in err and out == ""
    assert not db.parent.exists()
    code, out, err = cli(capsys, "validate", "--allow-large", path)
    assert code == 0 and "about 18" in out and err.startswith("warning: ")


def test_a_sweep_whose_largest_run_cannot_fit_is_refused_and_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(footprint, "available_memory", lambda: 16e9)
    experiment = tmp_path / "big.toml"
    text = TINY.read_text().replace('"../../scenarios/', f'"{ROOT}/scenarios/')
    big = '"population.residents" = 200000\n"design.participants" = 100000\n"run.betweenness_samples" = 10000'
    experiment.write_text(text.replace('"population.residents" = 200', big))
    db = tmp_path / "big.db"
    code, out, err = cli(capsys, "sweep", experiment, "--db", db)
    assert (code, out) == (2, ""), err
    assert "run.betweenness_samples: the run needs about" in err and ", in run " in err
    assert not db.exists()


def test_workers_are_capped_by_the_memory_each_run_needs(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(footprint, "available_memory", lambda: 0.66e9)  # 528 MB usable: 2 runs at once
    code, _, err = cli(capsys, "sweep", TINY, "--db", tmp_path / "w.db", "--workers", "8")
    assert code == 0
    assert "of memory at once (about 2" in err and "starting 2" in err


def test_the_memory_estimate_bounds_a_measured_run(tmp_path):
    """A mid-size run (20 000 residents, 10 000 participants a month, 1 000 pivots) measured in its own
    process: the estimate is above the measured peak and within a factor of 3 of it."""
    overrides = {
        "population.residents": 20_000,
        "design.participants": 10_000,
        "run.betweenness_samples": 1_000,
        "run.steps": 2,
    }
    # the probe's own peak (VmHWM), not ru_maxrss: Linux carries a parent's peak over into ru_maxrss across
    # fork and exec, so a probe started from a test session that has grown to 900 MB reads 900 MB
    probe = (
        "from pathlib import Path\n"
        "from coprod.model import load_scenario, simulate\n"
        f"simulate(load_scenario({str(SCENARIO)!r}, {overrides!r}))\n"
        "status = Path('/proc/self/status').read_text().splitlines()\n"
        "print(next(int(x.split()[1]) * 1024 for x in status if x.startswith('VmHWM:')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert done.returncode == 0, done.stderr
    measured = float(done.stdout.split()[-1])
    from coprod.model import load_scenario

    estimated = footprint.estimate(load_scenario(SCENARIO, overrides).flat()).memory
    assert measured <= estimated <= 3 * measured, (measured, estimated)


# -------------------------------------------------- finding 4: special files and odd values


def test_special_files_are_refused_without_reading_them(tmp_path, capsys):
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    huge = tmp_path / "huge.toml"
    huge.write_bytes(b"# " + b"x" * 2_000_000 + b"\n")
    cases = {
        fifo: "file: is a named pipe (FIFO), not a regular file",
        Path("/dev/zero"): "file: is a character device, not a regular file",
        tmp_path: "file: is a directory, not a TOML file",
        huge: "file: is 2_000_003 bytes; an input file may have at most 1_000_000",
    }
    for path, message in cases.items():
        for command in ("validate", "run"):
            code, out, err = cli(capsys, command, path)
            assert (code, out, err) == (2, "", f"{path}: {message}\n")
        code, out, err = cli(capsys, "sweep", path, "--db", tmp_path / "never.db")
        assert (code, out, err) == (2, "", f"{path}: {message}\n")
    assert not (tmp_path / "never.db").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x = " + "[" * 3000 + "]" * 3000, "file: nests arrays or tables too deeply to read"),
        ("x = " + "{a = " * 3000 + "1" + "}" * 3000, "file: nests arrays or tables too deeply to read"),
        (
            "[population]\nresidents = " + "9" * 5000,
            "file: holds a number that cannot be read (Exceeds the limit",
        ),
        ("name = 'x'\n[deliberation]\nconfidence = 1e400", "file: line 3: a number beyond a float's range"),
        ("\ufeffname = 'x'".encode("utf-16"), "file: is UTF-16 text; save it as UTF-8"),
    ],
    ids=["nested_arrays", "nested_tables", "5000_digits", "1e400", "utf16"],
)
def test_odd_values_are_named_in_one_line(tmp_path, capsys, text, message):
    path = tmp_path / "odd.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    code, out, err = cli(capsys, "validate", path)
    assert code == 2 and out == ""
    assert err.startswith(f"{path}: {message}") and err.count("\n") == 1, err


def test_a_byte_order_mark_is_accepted(tmp_path, capsys):
    path = tmp_path / "notepad.toml"
    path.write_bytes(b"\xef\xbb\xbf" + SCENARIO.read_bytes())
    code, out, _ = cli(capsys, "validate", path)
    assert code == 0 and out.startswith(f"{path}: ok")


def test_set_values_python_cannot_read_are_named(capsys):
    for value, message in (
        ("9" * 5000, "cannot be read as a number"),
        ("1e999", "a number beyond a float's range"),
    ):
        code, _, err = cli(capsys, "run", SCENARIO, "--set", f"population.residents={value}")
        assert code == 2 and err.startswith(f"command line: population.residents: {message}"), err


def test_paths_that_cannot_be_created_are_one_line(tmp_path, capsys, results):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    code, _, err = cli(capsys, "run", SCENARIO, "--steps", "1", "--db", blocker / "x.db")
    assert code == 2
    assert err == f"{blocker}: could not make the folder for the results database ({NOT_A_FOLDER})\n"
    code, _, err = cli(capsys, "sweep", TINY, "--db", blocker / "sub" / "x.db")
    assert code == 2 and "part of the path is a file, not a folder" in err and err.count("\n") == 1
    code, _, err = cli(capsys, "analyze", "--db", results, "--out", blocker / "out")
    assert code == 2 and "Not a directory" in err and err.count("\n") == 1
    for special in (Path("/dev/null"), tmp_path):
        code, _, err = cli(capsys, "run", SCENARIO, "--steps", "1", "--db", special)
        assert code == 2 and "not a results database" in err and err.count("\n") == 1


def test_a_results_file_damaged_in_the_middle_is_named_as_damaged(tmp_path, capsys, results):
    damaged = tmp_path / "damaged.db"
    shutil.copy(results, damaged)
    size = damaged.stat().st_size
    with damaged.open("r+b") as f:
        f.seek(size // 2)
        f.write(os.urandom(size // 4))
    for args in (("analyze", "--db", damaged, "--out", tmp_path / "out"), ("rerun", "--db", damaged, "x")):
        code, _, err = cli(capsys, *args)
        assert code == 2, err
        assert err.startswith(f"{damaged}: is damaged (") and err.count("\n") == 1, err


def test_a_disk_that_fills_during_analyze_is_one_line_and_exit_1(tmp_path, capsys, results):
    with mounted(tmp_path / "small", "-t", "tmpfs", "-o", "size=48k", "tmpfs") as small:
        code, _, err = cli(capsys, "analyze", "--db", results, "--out", small / "out")
    assert code == 1, err
    assert "No space left on device" in err and err.count("\n") == 1, err


# ------------------------------------------------------------------ finding 6: reading only reads


def test_analyze_and_rerun_change_nothing_in_the_database_folder(tmp_path, capsys, results):
    folder = tmp_path / "db"
    folder.mkdir()
    db = folder / "tiny.db"
    shutil.copy(results, db)
    before = snapshot(folder)
    key = Store.existing(db).keys("tiny").pop()
    assert cli(capsys, "analyze", "--db", db, "--out", tmp_path / "out")[0] == 0
    assert cli(capsys, "rerun", "--db", db, key)[0] == 0
    assert snapshot(folder) == before  # no -wal or -shm, no change of journal mode
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_analyze_and_rerun_work_in_a_read_only_folder(tmp_path, capsys, results):
    folder = tmp_path / "db"
    folder.mkdir()
    shutil.copy(results, folder / "tiny.db")
    with contextlib.closing(sqlite3.connect(folder / "tiny.db")) as conn:
        conn.execute("PRAGMA journal_mode = WAL")  # as a sweep leaves it: WAL needs -shm beside it
    key = Store.existing(folder / "tiny.db").keys("tiny").pop()
    with read_only_copy(folder, tmp_path) as view:
        code, _, err = cli(capsys, "analyze", "--db", view / "tiny.db", "--out", tmp_path / "out")
        assert code == 0, err
        code, out, err = cli(capsys, "rerun", "--db", view / "tiny.db", key)
        assert code == 0 and "identical" in out, (out, err)


def test_an_empty_file_is_refused_not_made_into_a_database(tmp_path, capsys):
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    for args in (("analyze", "--db", empty), ("rerun", "--db", empty, "x")):
        code, _, err = cli(capsys, *args)
        assert (code, err) == (2, f"{empty}: an empty file, not a results database\n")
    assert empty.stat().st_size == 0 and sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]


# ----------------------------------------------------------------- finding 8: honest messages


def test_a_disk_full_when_the_database_is_created_is_exit_1_and_leaves_no_file(tmp_path, capsys):
    with mounted(tmp_path / "full", "-t", "tmpfs", "-o", "size=64k", "tmpfs") as full:
        (full / "filler").write_bytes(b"\0" * 65536)  # fill it up
        for args in (("run", SCENARIO, "--steps", "1"), ("sweep", TINY)):
            code, out, err = cli(capsys, *args, "--db", full / "new.db")
            assert code == 1 and "(database or disk is full): make room" in err and err.count("\n") == 1
            assert "running" not in out + err
            assert sorted(p.name for p in full.iterdir()) == ["filler"]


def test_a_read_only_database_is_exit_1_before_any_run(tmp_path, capsys, results):
    folder = tmp_path / "db"
    folder.mkdir()
    shutil.copy(results, folder / "tiny.db")
    with read_only_copy(folder, tmp_path) as view:
        code, out, err = cli(capsys, "sweep", TINY, "--db", view / "tiny.db", "--retry-failed")
        assert code == 1 and err.count("\n") == 1, err
        assert "read-only" in err or "cannot be opened for writing" in err
        assert "make room" not in err and "running" not in out + err


def _create(path: str) -> str:
    try:
        Store(path).close()
        return "ok"
    except (StoreError, StoreFault) as err:
        return str(err)


def test_two_processes_creating_one_database_at_once_both_succeed(tmp_path):
    context = multiprocessing.get_context("fork")
    with context.Pool(6) as pool:
        for attempt in range(10):
            path = str(tmp_path / f"{attempt}.db")
            assert pool.map(_create, [path] * 6) == ["ok"] * 6


def test_names_and_descriptions_have_a_length_limit(tmp_path, capsys):
    long_name = tmp_path / "long.toml"
    long_name.write_text(f'name = "{"n" * 201}"\n')
    code, _, err = cli(capsys, "validate", long_name)
    assert code == 2 and err.startswith(f"{long_name}: name: is 201 characters long (got 'nnn")
    assert err.rstrip().endswith("allowed at most 200)")
    experiment = tmp_path / "described.toml"
    lines = TINY.read_text().replace('"../../scenarios/', f'"{ROOT}/scenarios/').splitlines()
    lines = [f'description = "{"d" * 2001}"' if line.startswith("description") else line for line in lines]
    experiment.write_text("\n".join(lines))
    db = tmp_path / "described.db"
    code, _, err = cli(capsys, "sweep", experiment, "--db", db)
    assert code == 2 and "description: is 2_001 characters long" in err and not db.exists()


def test_analyze_of_single_runs_says_what_the_file_holds(tmp_path, capsys):
    db = tmp_path / "single.db"
    assert cli(capsys, "run", SCENARIO, "--steps", "2", "--db", db)[0] == 0
    code, _, err = cli(capsys, "analyze", "--db", db)
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"{db}: holds 1 single run recorded by `coprod run --db` and no experiment")
    assert f"coprod rerun --db {db} RUN_KEY" in err


def test_a_city_where_no_district_needs_anything_cannot_be_asked_for(capsys):
    """It divided by zero in need_orientation (found by the sensitivity study): a traceback for input."""
    none = ["--set", "population.marginalised_share=0"]
    code, _, err = cli(capsys, "run", SCENARIO, "--steps", "2", "--set", "context.need_floor=0", *none)
    assert code == 2 and err == (
        "command line: context.need_floor: out of bounds (got 0, allowed a number from 0.01 to 0.9)\n"
    )
    code, out, _ = cli(
        capsys, "run", SCENARIO, "--steps", "2", "--json", "--set", "context.need_floor=0.01", *none
    )
    assert code == 0 and all(math.isfinite(v) for v in json.loads(out)["outputs"].values())
