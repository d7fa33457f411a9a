"""A results file from a stranger, analysed safely (issue 13, finding 5).

``coprod analyze`` reads a results database that may come from someone else. Every text in it (experiment
names, run keys, scenario, design and factor names, the stored definition, status and error texts) and
every value can be hostile. The files below are written straight into SQLite (the schema from
:class:`experiments.store.Store`, then rows no sweep would write), without running the model.

What must hold: nothing is written outside ``--out`` (or ``results/`` without it), nothing is written
through a symbolic link, ``report.html`` carries the stranger's text as text (no tag or attribute of theirs),
the Markdown, CSV and terminal output carry no markup, formula or control sequence of theirs, and the command
exits 0 or 2 (one line) with no traceback.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import re
import sqlite3
from html.parser import HTMLParser
from pathlib import Path

import pytest
from coprod.experiments.store import Store
from coprod.model import OUTPUTS

from coprod.cli import main

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
FORMULA = "=cmd|' /C calc'!A0"
TERMINAL = "\x1b]0;pwned\x07\x1b[2J"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
# every tag analyze itself puts into report.html; anything else came from the stored data
REPORT_TAGS = {
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "code", "b", "table", "tr", "th",
    "td", "img", "pre", "dl", "dt", "dd", "details", "summary",
}  # fmt: skip
SAFE_FILE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")


# ------------------------------------------------------------------------------------------ helpers


def _values(seed: int) -> dict[str, float]:
    return {name: round(((seed * 7 + k * 3) % 10) / 10, 2) for k, name in enumerate(OUTPUTS)}


def _stranger_db(path: Path, experiments: list[dict]) -> Path:
    """A results file with the schema this code reads, holding exactly the rows given (no sweep)."""
    Store(path).close()
    conn = sqlite3.connect(path)
    with conn:
        for exp in experiments:
            conn.execute(
                "INSERT INTO experiments (name, definition, root_seed, code_version, created) "
                "VALUES (?, ?, ?, ?, ?)",
                [exp["name"], json.dumps(exp["definition"]), 1, IMG, exp["created"]],
            )
            for run in exp["runs"]:
                conn.execute(
                    "INSERT INTO runs (experiment, run_key, scenario, params, scenario_hash, seed, "
                    "code_version, status, error, started, finished, seconds) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        exp["name"],
                        run["key"],
                        run["scenario"],
                        json.dumps(run["params"]),
                        SCRIPT,
                        1,
                        SCRIPT,
                        run.get("status", "done"),
                        run.get("error", ""),
                        IMG,
                        IMG,
                        0.5,
                    ],
                )
                for step, values in run["steps"].items():
                    names = ", ".join(values)
                    conn.execute(
                        f"INSERT INTO steps (experiment, run_key, step, {names}) "
                        f"VALUES (?, ?, ?, {', '.join('?' * len(values))})",
                        [exp["name"], run["key"], step, *values.values()],
                    )
    conn.close()
    return path


def _grid(name: str, created: str, *, hostile: bool = True, extreme: bool = True) -> dict:
    """A grid experiment: hostile names and display values everywhere, or plain ones; ``extreme`` adds
    outputs of +-1e308 and a design name that is broken matplotlib mathtext (``$\\frac{$``)."""
    if not hostile:
        runs = [
            {
                "key": f"citizens_assembly/rep={r}",
                "scenario": "citizens_assembly",
                "params": {"design.kind": "citizens_assembly", "theory.kind": "structural"},
                "steps": {0: _values(r), 12: _values(r + 1)},
            }
            for r in range(2)
        ]
        definition = {"name": name, "description": "plain", "sampler": {"kind": "grid"}, "factors": []}
        return {"name": name, "created": created, "definition": definition, "runs": runs}
    base = "../../" + SCRIPT
    huge = {**_values(5), "radical_change": 1e308, "knowledge": -1e308} if extreme else _values(5)
    maths = " $\\frac{$" if extreme else ""
    runs = [
        {"key": f"{base}/{IMG}=a/rep=0", "scenario": base, "steps": {0: _values(0), 12: _values(1)},
         "params": {"design.kind": SCRIPT, "theory.kind": IMG, IMG: SCRIPT}},
        {"key": f"{base}/{IMG}=b/rep=1", "scenario": base, "steps": {0: _values(2), 12: huge},
         "params": {"design.kind": SCRIPT, "theory.kind": IMG, IMG: '=HYPERLINK("http://x")'}},
        {"key": f"{base}/{IMG}=a/rep=2", "scenario": base, "steps": {0: _values(3), 12: _values(4)},
         "params": {"design.kind": FORMULA + maths, "theory.kind": TERMINAL, IMG: SCRIPT}},
        {"key": f"{base}/{SCRIPT}/rep=3", "scenario": base, "steps": {}, "status": SCRIPT, "error": SCRIPT,
         "params": {"design.kind": SCRIPT}},
    ]  # fmt: skip
    definition = {
        "name": name,
        "description": SCRIPT,
        "replications": "<script>alert(3)</script>",
        "root_seed": IMG,
        "steps": IMG,
        "record_every": "<b>bold</b>",
        "runs": 4,
        "sampler": {"kind": "grid"},
        "factors": [{"key": IMG, "values": [SCRIPT, '=HYPERLINK("http://x")']}],
        "scenarios": [{"name": base, "path": IMG, "params": {IMG: SCRIPT}}],
        "outputs": ["consensus_bias"],
    }
    return {"name": name, "created": created, "definition": definition, "runs": runs}


def _no_steps(name: str, created: str) -> dict:
    """A run recorded as done with no steps at all."""
    run = {"key": "x/rep=0", "scenario": "x", "params": {"design.kind": "x"}, "steps": {}}
    return {"name": name, "created": created, "definition": {}, "runs": [run]}


def _sobol(name: str, created: str) -> dict:
    """A Sobol experiment whose base scenario and factor are named to escape and to inject."""
    base = "../../../" + SCRIPT
    n, d = 4, 1
    runs = [
        {
            "key": f"{base}/sample={i}/rep=0",
            "scenario": base,
            "params": {"design.kind": "citizens_assembly", "theory.kind": IMG, IMG: i / 12},
            "steps": {0: _values(i), 12: {**_values(i), "consensus_bias": (i * 5 % 12) / 12}},
        }
        for i in range(n * (d + 2))
    ]
    definition = {
        "name": name,
        "description": IMG,
        "replications": 1,
        "root_seed": 5,
        "sampler": {"kind": "sobol", "n": n, "levels": None, "second_order": False},
        "factors": [{"key": IMG, "low": 0.0, "high": 1.0}],
        "scenarios": [{"name": base, "path": SCRIPT, "params": {}}],
        "outputs": ["consensus_bias"],
        "runs": len(runs),
    }
    return {"name": name, "created": created, "definition": definition, "runs": runs}


def _tree(root: Path, *skip: Path) -> dict[str, str]:
    """Every entry under ``root`` (links not followed, the folders ``skip`` left out): its kind and content
    hash. The database's folder is always left out (its journal files are the store's business)."""
    skip = (*skip, root / "db")
    seen = {}
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = [d for d in dirs if here / d not in skip]
        for name in dirs + files:
            path = here / name
            if path.is_symlink():
                seen[str(path.relative_to(root))] = "link to " + os.readlink(path)
            elif path.is_file():
                seen[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                seen[str(path.relative_to(root))] = "folder"
    return seen


class _Report(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_data(self, data):
        self.text.append(data)


def _html_problems(text: str) -> list[str]:
    """Tags and attributes in a report that analyze does not write itself."""
    parser = _Report()
    parser.feed(text)
    parser.close()
    problems = []
    for tag, attrs in parser.tags:
        if tag not in REPORT_TAGS:
            problems.append(f"a <{tag}> element")
        for key, value in attrs:
            if key.startswith("on"):
                problems.append(f"an {key}= attribute on <{tag}>")
            if key in ("src", "href") and not (value or "").startswith("data:image/png;base64,"):
                problems.append(f"{key}={value!r} on <{tag}>")
    return problems


def _formula_cells(path: Path) -> list[str]:
    """Cells a spreadsheet would run as a formula (a negative number is not one)."""
    with path.open(newline="") as f:
        return [c for row in csv.reader(f) for c in row if c.startswith(("=", "+", "@"))]


def _report_text(text: str) -> str:
    parser = _Report()
    parser.feed(text)
    parser.close()
    return "".join(parser.text)


# -------------------------------------------------------------------------------------------- tests


class _Checks:
    """Every check of a test, reported together: one run on the old code shows each that fails."""

    def __init__(self):
        self.failed: list[str] = []

    def __call__(self, ok: bool, what: str) -> None:
        if not ok:
            self.failed.append(what)

    def done(self) -> None:
        assert not self.failed, "\n".join(self.failed)


def _analyze(*args: str) -> tuple[int | str, str, str]:
    """``coprod analyze ARGS`` in this process: the exit status (or the exception it raised, which the
    command line would have shown as a traceback), stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code: int | str = main(["analyze", *args])
        except Exception as exc:  # the finding itself: a traceback instead of one line
            code = f"raised {type(exc).__name__}: {str(exc)[:200]}"
    return code, out.getvalue(), err.getvalue()


def test_a_strangers_results_file_is_analysed_inside_out_with_its_text_escaped(tmp_path, coprod):
    """Four experiments, named ``../../escaped``, ``..``, an absolute path and a terminal control sequence,
    with hostile names, values and HTML everywhere: analysed into --out only, every report free of the
    stranger's markup, nothing of theirs run by a spreadsheet, a Markdown viewer or the terminal."""
    absolute = tmp_path / "absolute"
    db = _stranger_db(
        tmp_path / "db" / "stranger.db",
        [
            _grid("../../escaped", "2024-01-01"),
            _grid("..", "2024-01-02"),
            _no_steps(TERMINAL + "no steps", "2024-01-03"),
            _sobol(str(absolute), "2024-01-04"),
        ],
    )
    work = tmp_path / "work"
    out = work / "out"
    out.mkdir(parents=True)
    before = _tree(tmp_path, out)

    proc = coprod("analyze", "--db", str(db), "--out", str(out), cwd=work)

    check = _Checks()
    check("Traceback" not in proc.stderr, f"a traceback on stderr: {proc.stderr[-600:]}")
    check(proc.returncode == 0, f"exit {proc.returncode}, not 0: {proc.stderr[-300:]}")
    after = _tree(tmp_path, out)
    check(after == before, f"written outside --out: {sorted(set(after.items()) ^ set(before.items()))}")
    check(not absolute.exists(), f"{absolute} written")
    written = sorted(p for p in out.rglob("*"))
    for path in written:
        rel = path.relative_to(out)
        check(all(SAFE_FILE.fullmatch(part) for part in rel.parts), f"unsafe file name {str(rel)!r}")
    reports = {p.read_text() for p in out.rglob("report.html")}
    check(len(reports) == 4, f"{len(reports)} reports, not 4: {[str(p.relative_to(out)) for p in written]}")
    for report in reports:
        problems = _html_problems(report)
        check(not problems, f"stored markup in report.html: {problems}")
    hostile = [r for r in reports if "<h1>../../escaped</h1>" in r]
    check(len(hostile) == 1, "no report headed ../../escaped")
    for report in hostile:
        check(
            "&lt;script&gt;alert(3)&lt;/script&gt; replications" in report, "the replications are not escaped"
        )
        check("recorded every &lt;b&gt;bold&lt;/b&gt;." in report, "the stored record_every is not escaped")
        # positive controls (they hold on the old code too): the stranger's text is shown, as text
        check(ESCAPED_SCRIPT in report, "the stored <script> is not shown escaped")
        text = _report_text(report)
        check(SCRIPT in text and IMG in text, "the stranger's text is not shown as text")
    sobol = [r for r in reports if "Sobol" in r and "indices" in r]
    check(len(sobol) == 1 and sobol[0].count("data:image/png;base64,") == 4, "no Sobol report with 4 plots")
    for md in out.rglob("*.md"):
        body = md.read_text()
        check("<script" not in body and "<img" not in body, f"markup in {md.name}: {body[:300]!r}")
        check("\x1b" not in body, f"a control sequence in {md.name}")
    for table in out.rglob("*.csv"):
        check(not _formula_cells(table), f"formula cells in {table.name}: {_formula_cells(table)}")
    for stream, name in ((proc.stdout, "stdout"), (proc.stderr, "stderr")):
        check("\x1b" not in stream and "\x07" not in stream, f"a terminal control sequence on {name}")
        check("<script" not in stream, f"a <script> on {name}")
    check("RuntimeWarning" not in proc.stderr, f"a warning on stderr: {proc.stderr[-300:]}")
    check.done()


def test_the_report_shows_the_strangers_text_as_text(tmp_path):
    """One hostile experiment into --out: every stored text in report.html is escaped, none of it is markup;
    the Markdown and CSV tables and the terminal carry no markup, formula or control sequence of theirs."""
    db = _stranger_db(tmp_path / "db" / "s.db", [_grid("../../escaped", "2024-01-01", extreme=False)])
    out = tmp_path / "out"
    code, printed, err = _analyze("--db", str(db), "--experiment", "../../escaped", "--out", str(out))
    assert code == 0, err
    report = (out / "report.html").read_text()
    summary_md = (out / "summary.md").read_text()
    check = _Checks()
    check(not _html_problems(report), f"stored markup in report.html: {_html_problems(report)}")
    check("&lt;script&gt;alert(3)&lt;/script&gt; replications" in report, "the replications are not escaped")
    check("root seed &quot;&gt;&lt;img src=x" in report, "the stored root seed is not escaped")
    check("recorded every &lt;b&gt;bold&lt;/b&gt;." in report, "the stored record_every is not escaped")
    check("onerror=alert(1)>" not in report, "the stored onerror= reaches the page as a tag")
    check("<script" not in summary_md, "a <script> in summary.md")
    check("\x1b" not in summary_md, "a terminal control sequence in summary.md")
    check("\x1b" not in printed, "a terminal control sequence on stdout")
    check(not _formula_cells(out / "summary.csv"), f"formula cells: {_formula_cells(out / 'summary.csv')}")
    # positive controls (they hold on the old code too): the stranger's text is shown, as text
    check(ESCAPED_SCRIPT in report, "the stored <script> is not shown escaped")
    check(SCRIPT in _report_text(report) and IMG in _report_text(report), "the stored text is not shown")
    check.done()


def test_without_out_nothing_is_written_outside_results(tmp_path, monkeypatch):
    db = _stranger_db(tmp_path / "db" / "stranger.db", [_grid("../../escaped", "2024-01-01", extreme=False)])
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    before = _tree(tmp_path, work / "results")
    code, printed, err = _analyze("--db", str(db))
    check = _Checks()
    after = _tree(tmp_path, work / "results")
    check(after == before, f"written outside results/: {sorted(set(after.items()) ^ set(before.items()))}")
    check(code == 0, f"exit {code}: {err}")
    folders = sorted((work / "results").iterdir()) if (work / "results").is_dir() else []
    check(
        [f.name[:8] for f in folders] == ["escaped-"] and all(SAFE_FILE.fullmatch(f.name) for f in folders),
        f"not one safely named folder in results/: {[f.name for f in folders]}",
    )
    for folder in folders:
        check((folder / "report.html").is_file(), f"no report in {folder.name}")
        check(
            f"report: {Path('results') / folder.name / 'report.html'}" in printed,
            "the report's path not shown",
        )
    check.done()


@pytest.mark.parametrize("link", ["file", "folder", "hard"])
def test_a_link_in_out_is_not_written_through(tmp_path, link):
    """A symbolic link named like a file analyze writes (or like an experiment's folder) is refused, exit 2,
    nothing written; a hard link is replaced by a new file, its other name left as it was."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "victim.html").write_text("untouched")
    out = tmp_path / "out"
    out.mkdir()
    if link == "file":
        db = _stranger_db(tmp_path / "db" / "s.db", [_grid("../../escaped", "2024-01-01", extreme=False)])
        (out / "report.html").symlink_to(elsewhere / "victim.html")
        (out / "summary.csv").symlink_to(elsewhere / "victim.csv")  # dangling: would be created there
    elif link == "folder":
        db = _stranger_db(
            tmp_path / "db" / "s.db",
            [_grid("plain", "2024-01-01", hostile=False), _grid("other", "2024-01-02", hostile=False)],
        )
        (out / "other").symlink_to(elsewhere, target_is_directory=True)  # the second: nothing of the first
    else:
        db = _stranger_db(tmp_path / "db" / "s.db", [_grid("../../escaped", "2024-01-01", extreme=False)])
        os.link(elsewhere / "victim.html", out / "report.html")
    before = _tree(tmp_path, out)
    code, _, err = _analyze("--db", str(db), "--out", str(out))
    check = _Checks()
    after = _tree(tmp_path, out)
    check(after == before, f"written through the link: {sorted(set(after.items()) ^ set(before.items()))}")
    check((elsewhere / "victim.html").read_text() == "untouched", "the link's target was overwritten")
    if link == "hard":
        check(code == 0, f"exit {code}: {err}")
        check("<h1>../../escaped</h1>" in (out / "report.html").read_text(), "no new report.html in --out")
    else:
        check(code == 2, f"exit {code}, not 2: {err}")
        check(len(err.splitlines()) == 1 and "symbolic link" in err, f"not one line naming the link: {err!r}")
        left = sorted(p.name for p in out.iterdir())
        check(left == (["report.html", "summary.csv"] if link == "file" else ["other"]), f"written: {left}")
    check.done()


# a plain experiment, then one corruption of the stored rows: the analysis refuses it in one line
CORRUPTIONS = {
    "text_in_an_output": (
        "UPDATE steps SET consensus_bias = '<script>' WHERE step = 12",
        "runs 'citizens_assembly/rep=0': output consensus_bias is not a number (got '<script>')",
    ),
    "bytes_in_an_output": ("UPDATE steps SET lock_in = x'00ff'", "output lock_in is not a number (got b'"),
    "infinity_in_an_output": (
        "UPDATE steps SET knowledge = 9e999",
        "output knowledge is not a finite number",
    ),
    "text_as_step": (
        "UPDATE steps SET step = 'late' WHERE step = 12",
        "step is not a whole number from 0 to 100000 (got 'late')",
    ),
    "params_not_json": ("UPDATE runs SET params = '{oops'", "params is not a JSON object"),
    "params_a_list": ("UPDATE runs SET params = '[1]'", "params is not a JSON object"),
    "definition_not_json": ("UPDATE experiments SET definition = '<script>'", "definition is not JSON"),
    "definition_shape": (
        'UPDATE experiments SET definition = \'{"factors": "<script>"}\'',
        "definition: factors: is not a list (got '<script>')",
    ),
    "definition_runs_text": (
        'UPDATE experiments SET definition = \'{"runs": "many"}\'',
        "definition: runs: is not a whole number",
    ),
    "unknown_output": (
        'UPDATE experiments SET definition = \'{"outputs": ["<script>"], "sampler": {"kind": "sobol", '
        '"n": 2}, "factors": [{"key": "x", "low": 0, "high": 1}], "root_seed": 1}\'',
        "definition: outputs: not an output of the model (got '<script>')",
    ),
    "not_utf8": ("UPDATE runs SET scenario = CAST(x'ff' AS TEXT)", "cannot be read"),
}


def test_a_name_made_safe_is_plain_short_and_its_own():
    from coprod.experiments.untrusted import safe_name

    hostile = ["../../escaped", "..", ".", "", "/etc/passwd", SCRIPT, IMG, TERMINAL, "a" * 500, "-rf", "_x"]
    hostile += ["a b", "a_b", "a/b", "a\\b", "é", "e", "x-0123456789", "con", "tiny.2024"]
    slugs = [safe_name(n) for n in hostile]
    assert len(set(slugs)) == len(slugs)  # no two names share a file
    for name, slug in zip(hostile, slugs, strict=True):
        assert SAFE_FILE.fullmatch(slug) and slug[0].isalnum() and len(slug) <= 91, (name, slug)
    assert [safe_name(n) for n in ("tiny", "smoke_test", "sobol-consensus", "tiny.2024")] == [
        "tiny", "smoke_test", "sobol-consensus", "tiny.2024",
    ]  # fmt: skip
    assert safe_name("x-0123456789") != "x-0123456789"  # a name that ends like a hash gets one of its own


@pytest.mark.parametrize("case", sorted(CORRUPTIONS))
def test_a_corrupt_value_is_one_line_exit_2_and_writes_nothing(tmp_path, case):
    sql, expected = CORRUPTIONS[case]
    db = _stranger_db(tmp_path / "db" / "s.db", [_grid("plain", "2024-01-01", hostile=False)])
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(sql)
    conn.close()
    out = tmp_path / "out"
    code, _, err = _analyze("--db", str(db), "--out", str(out))
    check = _Checks()
    check(code == 2, f"exit {code}, not 2")
    check(len(err.splitlines()) == 1 and err.startswith(f"{db}: "), f"not one line naming the file: {err!r}")
    check(expected in err, f"{expected!r} not said: {err!r}")
    written = sorted(p.name for p in out.iterdir()) if out.exists() else []
    check(not written, f"written: {written}")
    check.done()
