"""An experiment's tables, plots and ``report.html``, made in memory from the results database.

``coprod analyze`` (:mod:`coprod.analyze_command`) writes, into ``DIR`` (default ``results/<experiment>/``):

- ``summary.csv`` and ``summary.md``: per design and theory of change (and per value of any other listed
  factor), the mean and the t-based 95% confidence interval over replications, at the final step, of every
  output in :data:`model.OUTPUTS` (:mod:`experiments.summary`);
- for a grid (or Latin hypercube) experiment, the question "which design, under which theory of change,
  does best?" answered: a ranked forest plot per output that has a better direction
  (``forest_OUTPUT.png``, the best cell marked where its interval clears the next best's), the outputs
  over time with one panel per theory and a line and band per design (``over_time_GROUP.png``), a radar
  of the final markers per theory (``radar_markers.png``), and on the terminal a short ranked summary of
  the key outputs in 100 columns (:mod:`experiments.report_page`, :mod:`experiments.report_ranking`,
  :mod:`experiments.report_figures`; names and directions from :mod:`experiments.report_labels`); the
  theories' hypotheses judged (:mod:`experiments.hypotheses`), the regret map of a crossed experiment
  (:mod:`experiments.regret`) and the kept discoveries (:mod:`experiments.discovery`);
- for Sobol and Morris experiments, as before: ``sensitivity.csv`` and ``sensitivity.md``
  (:mod:`experiments.sensitivity`); PNG plots of the markers over time with a 95% band per design, the
  consensus bias and the qualities over time, a radar of the final markers per design, and bar charts of
  the indices (:mod:`experiments.plots`); the headline outputs' table on the terminal;
- ``report.html``: one self-contained page (images inlined) with the tables, the plots and the experiment's
  definition.

Only runs with status ``done`` enter the numbers; the report says how many there are of how many planned.
Every stored text is escaped where it is written; the runs are read and checked by
:mod:`experiments.stored_runs`, and the files are written inside the output folder only
(:func:`experiments.untrusted.write_files`).
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coprod.experiments import report_page
from coprod.experiments.discovery import html_section as discovery_html
from coprod.experiments.hypotheses import evaluate as judge_hypotheses
from coprod.experiments.hypotheses import html_section as hypotheses_html
from coprod.experiments.hypotheses import load_hypotheses
from coprod.experiments.hypotheses import markdown as hypotheses_markdown
from coprod.experiments.plots import plot_heatmap, plot_indices, plot_over_time, plot_radar
from coprod.experiments.regret import report_parts as regret_parts
from coprod.experiments.report_ranking import terminal_summary
from coprod.experiments.sensitivity import NOISE_NOTE, sensitivity, sensitivity_markdown
from coprod.experiments.stored_runs import load_runs
from coprod.experiments.summary import SUMMARY_OUTPUTS, _num, _pm, csv_text, summary, summary_markdown
from coprod.experiments.untrusted import safe_name, text, write_files
from coprod.model import CONSENSUS, DESCRIPTIONS, MARKERS, OUTPUTS, QUALITIES


@dataclass
class Analysis:
    """What analyze wrote for one experiment: the folder, the tables it prints, the files, the notes."""

    experiment: str
    out: Path
    summary_md: str
    sensitivity_md: str
    files: list[Path]
    notes: list[str]

    @property
    def report(self) -> Path:
        return self.out / "report.html"


@dataclass
class Prepared:
    """Everything analyze writes for one experiment, in memory: ``contents`` maps file name to bytes;
    ``terminal`` is what the command line prints for it (a ranked summary for a grid experiment)."""

    experiment: str
    contents: dict[str, bytes]
    summary_md: str
    sensitivity_md: str
    notes: list[str]
    terminal: str = ""


def analyze(store, experiment: Any, out: Path, root: Path | None = None) -> Analysis:
    """Write every table, plot and the report of ``experiment`` into ``out`` (which is ``root``, or a
    folder right inside it; see :func:`write_files`)."""
    prepared = prepare(store, experiment)
    files = write_files(out, prepared.contents, root)
    return Analysis(
        prepared.experiment, out, prepared.summary_md, prepared.sensitivity_md, files, prepared.notes
    )


def prepare(store, experiment: Any) -> Prepared:
    """Read and check ``experiment``, and make its tables, plots and report, writing nothing."""
    runs = load_runs(store, experiment)
    contents: dict[str, bytes] = {}
    notes: list[str] = []
    planned = runs.definition.get("runs")
    planned = sum(runs.counts.values()) if planned is None else planned
    done = runs.counts.get("done", 0)
    if done < planned:
        notes.append(f"{done} of {planned} planned runs are done; the numbers use those only")

    kind = runs.definition.get("sampler", {}).get("kind", "grid")
    cols, rows = summary(runs, OUTPUTS)
    summary_md = summary_markdown(cols, rows, OUTPUTS)
    contents["summary.csv"] = csv_text(rows).encode()
    contents["summary.md"] = summary_md.encode()
    if kind not in ("sobol", "morris"):  # a study of designs and theories: rank them
        return _prepare_ranked(store, runs, cols, rows, contents, summary_md, notes)
    summary_md = summary_markdown(cols, rows)  # printed: the headline outputs, as before

    sens_rows, sens_notes = sensitivity(runs)
    notes += sens_notes
    sensitivity_md = sensitivity_markdown(sens_rows)
    if sens_rows:
        contents["sensitivity.csv"] = csv_text(sens_rows).encode()
        contents["sensitivity.md"] = sensitivity_md.encode()

    images: list[tuple[str, str]] = []
    if runs.info and len(runs.steps):
        plots = (
            (
                "Progress markers over time",
                "markers_over_time.png",
                lambda: plot_over_time(runs, MARKERS, "progress markers: mean and 95% band per design"),
            ),
            (
                "Consensus bias and the qualities of just coproduction over time",
                "consensus_and_qualities_over_time.png",
                lambda: plot_over_time(
                    runs,
                    (CONSENSUS[0], *QUALITIES),
                    "consensus bias and the three qualities: mean and 95% band per design",
                ),
            ),
            ("Final markers per design", "radar_markers.png", lambda: plot_radar(runs)),
        )
        for title, name, plot in plots:
            contents[name] = plot()
            images.append((title, name))
    for base in dict.fromkeys(r["scenario"] for r in sens_rows):
        name = f"indices_{safe_name(base)}.png"  # the hash in a changed name keeps two bases apart
        contents[name] = plot_indices(sens_rows, base, kind)
        images.append((f"{'Sobol' if kind == 'sobol' else 'Morris'} indices: {base}", name))
        name = f"heatmap_{safe_name(base)}.png"  # a file of its own, for docs; the report has the bars
        mine = [r for r in sens_rows if r["scenario"] == base]
        contents[name] = plot_heatmap([(f"{'Sobol' if kind == 'sobol' else 'Morris'}: {base}", mine, kind)])

    found = discovery_html(store.discoveries(runs.experiment))  # boxes kept by `coprod discover`
    page = _report_html(
        store, runs, cols, rows, sens_rows, kind, [(t, contents[n]) for t, n in images], notes, found
    )
    contents["report.html"] = page.encode()
    return Prepared(runs.experiment, contents, summary_md, sensitivity_md, notes)


def _prepare_ranked(store, runs, cols, rows, contents, summary_md, notes) -> Prepared:
    """A grid (or Latin hypercube) experiment: the ranked report (:mod:`experiments.report_page`) and the
    short ranked summary for the terminal (:mod:`experiments.report_ranking`)."""
    ranks = report_page.rankings(cols, rows)
    pngs = report_page.figures(runs, ranks)
    contents.update(pngs)
    answer = report_page.sections(runs, cols, rows, ranks, pngs)
    verdicts, verdict_notes = judge_hypotheses(runs, load_hypotheses())
    if verdicts:  # the theories' stated hypotheses, where the experiment has runs of their theories
        contents["hypotheses.md"] = hypotheses_markdown(verdicts, verdict_notes).encode()
        contents["hypotheses.csv"] = csv_text(verdicts).encode()
        answer += hypotheses_html(verdicts, verdict_notes)
    regret_files, regret_html = regret_parts(runs)  # a crossed experiment of the theories: who wins where
    contents.update(regret_files)
    answer += regret_html
    answer += discovery_html(store.discoveries(runs.experiment))  # boxes kept by `coprod discover`
    answer += report_page.glossary()
    contents["report.html"] = _report_html(store, runs, cols, rows, [], "grid", [], notes, answer).encode()
    month = int(runs.steps[-1]) if len(runs.steps) else "?"
    terminal = terminal_summary(runs.experiment, cols, rows, month) if rows else ""
    return Prepared(runs.experiment, contents, summary_md, "", notes, terminal)


def _report_html(store, runs, cols, rows, sens_rows, kind, images, notes, answer: str = "") -> str:
    """The page: the run's provenance and notes, then ``answer`` (the ranked report of a grid experiment)
    or the summary table, indices and plots, then the experiment's definition."""
    e = html.escape
    d = runs.definition
    counts = ", ".join(f"{v} {k}" for k, v in sorted(runs.counts.items())) or "no runs"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{e(runs.experiment)}: coproduction-abm report</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;"
        "color:#222}table{border-collapse:collapse;font-size:.8rem;margin:1rem 0}td,th{border:1px solid #ccc;"
        "padding:.25rem .45rem;text-align:right}th{background:#f3f3f3}td.k,th.k{text-align:left}"
        "img{max-width:100%;border:1px solid #eee;margin:.5rem 0}pre{background:#f7f7f7;padding:1rem;"
        "overflow:auto;font-size:.8rem}.note{color:#8a4b00}dt{font-weight:600}</style></head><body>",
        f"<h1>{e(runs.experiment)}</h1>",
        f"<p>{e(d.get('description', ''))}</p>",
        f"<p>Database <code>{e(str(store.path))}</code>; runs: {e(counts)}; "
        f"sampler <b>{e(kind)}</b>, {e(text(d.get('replications', '?')))} replications, root seed "
        f"{e(text(d.get('root_seed', '?')))}, {e(text(d.get('steps') or 'scenario'))} months recorded every "
        f"{e(text(d.get('record_every', 1)))}.</p>",
    ]
    parts += [f"<p class='note'>{e(n)}</p>" for n in notes]
    if answer:
        parts.append(answer)
        return _definition_html(parts, d)
    parts.append("<h2>Summary at the final step</h2>")
    parts.append("<p>Mean and 95% confidence interval (Student's t over replications) per group.</p>")
    parts.append(_summary_table(cols, rows))
    if sens_rows:
        parts.append(f"<h2>{'Sobol' if kind == 'sobol' else 'Morris'} sensitivity indices</h2>")
        parts.append(
            "<p>At the final step, replications averaged per sample point. Every run has its own seed, so "
            "run-to-run noise enters the indices as if it were interaction: total indices far above the "
            "first-order ones for every factor (and summing past 1) mean noise, not structure; more "
            "replications average it out.</p>"
        )
        parts.append(f"<p>{e(NOISE_NOTE)}</p>")
        parts.append(_sens_table(sens_rows))
    parts.append("<h2>Plots</h2>")
    for title, png in images:
        data = base64.b64encode(png).decode()
        parts.append(f"<h3>{e(title)}</h3><img alt='{e(title)}' src='data:image/png;base64,{data}'>")
    parts.append("<h2>What the outputs mean</h2><dl>")
    for name in SUMMARY_OUTPUTS:
        parts.append(f"<dt>{e(name)}</dt><dd>{e(DESCRIPTIONS.get(name, ''))}</dd>")
    parts.append("</dl>")
    return _definition_html(parts, d)


def _definition_html(parts: list[str], d: dict) -> str:
    e = html.escape
    parts.append("<h2>Experiment definition</h2>")
    listed = {k: v for k, v in d.items() if k != "scenarios"}
    listed["scenarios"] = [{"name": s["name"], "path": s.get("path")} for s in d.get("scenarios", [])]
    parts.append(f"<pre>{e(json.dumps(listed, indent=2, sort_keys=True), quote=False)}</pre>")
    for s in d.get("scenarios", []):
        parts.append(f"<details><summary>Parameters of base scenario {e(text(s['name']))}</summary>")
        parts.append(f"<pre>{e(json.dumps(s.get('params', {}), indent=2), quote=False)}</pre></details>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _summary_table(cols, rows) -> str:
    e = html.escape
    head = "".join(f"<th class='k'>{e(c)}</th>" for c in cols) + "<th>n</th>"
    head += "".join(f"<th>{e(o)}</th>" for o in SUMMARY_OUTPUTS)
    body = []
    for r in rows:
        cells = "".join(f"<td class='k'>{e(text(r[c]))}</td>" for c in cols) + f"<td>{e(text(r['n']))}</td>"
        cells += "".join(
            f"<td>{e(_pm(r[f'{o}_mean'], r[f'{o}_ci_low'], r[f'{o}_ci_high']))}</td>" for o in SUMMARY_OUTPUTS
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _sens_table(rows) -> str:
    e = html.escape
    numbers = [k for k in rows[0] if k not in ("scenario", "output", "factor")]
    head = "".join(f"<th class='k'>{e(k)}</th>" for k in ("scenario", "output", "factor"))
    head += "".join(f"<th>{e(k)}</th>" for k in numbers)
    body = [
        "<tr>"
        + "".join(f"<td class='k'>{e(text(r[k]))}</td>" for k in ("scenario", "output", "factor"))
        + "".join(f"<td>{_num(r[k])}</td>" for k in numbers)
        + "</tr>"
        for r in rows
    ]
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"
