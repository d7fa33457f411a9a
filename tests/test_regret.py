"""Crossed experiments and regret (``coprod regret``): every arm runs at every point with shared seeds,
regret is the shortfall against the best arm, the map finds where a better arm wins, and bad input is one
line with exit status 2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from coprod.experiments.design import ExperimentError, load_experiment, run_key, run_seed
from coprod.experiments.regret import Paired, analyse, regret_of

from coprod.cli import main

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = (ROOT / "scenarios" / "citizens_assembly.toml").as_posix()

CROSSED = """
name = "{name}"
scenarios = ["{scenario}"]
replications = 2
root_seed = 11
steps = 6
record_every = 3
[set]
"population.residents" = 60
[sampler]
kind = "{sampler}"
n = {n}
[factors]
"context.inequality" = {{}}
"context.baseline_trust" = {{}}
{cross}
"""
CROSS = '[cross]\n"theory.kind" = ["incremental", "structural", "knowledge"]\n'


def write(tmp_path: Path, *, name="crossed", sampler="lhs", n=8, cross=CROSS) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(CROSSED.format(name=name, scenario=SCENARIO, sampler=sampler, n=n, cross=cross))
    return path


def test_every_point_runs_in_every_arm_and_the_arms_of_a_point_share_their_seeds(tmp_path):
    e = load_experiment(write(tmp_path))
    assert e.size() == len(e.runs) == 8 * 3 * 2
    by_point: dict[tuple, list] = {}
    for r in e.runs:
        by_point.setdefault((r.sample, r.replication), []).append(r)
    for (sample, rep), runs in by_point.items():
        assert sorted(r.params["theory.kind"] for r in runs) == ["incremental", "knowledge", "structural"]
        assert len({r.seed for r in runs}) == 1  # common random numbers
        assert len({r.params["context.inequality"] for r in runs}) == 1  # the same sampled city
        # the seed is the key's without the arm: what an uncrossed experiment of the same points draws
        sampled = {k: v for k, v in runs[0].point.items() if k != "theory.kind"}
        assert runs[0].seed == run_seed(
            11, f"{run_key(runs[0].base, sampled, sample, exact=False)}/rep={rep}"
        )
    assert len({r.seed for r in e.runs}) == 8 * 2
    assert len({r.key for r in e.runs}) == len(e.runs)
    assert e.definition()["cross"] == [
        {"key": "theory.kind", "values": ["incremental", "structural", "knowledge"]}
    ]


def test_an_experiment_without_cross_keeps_its_keys_seeds_and_definition(tmp_path):
    e = load_experiment(write(tmp_path, cross=""))
    assert "cross" not in e.definition()
    assert e.arms() == [{}]
    for r in e.runs:
        stem = run_key(r.base, r.point, r.sample, exact=False)
        assert r.key == f"{stem}/rep={r.replication}" and r.seed == run_seed(11, r.key)


@pytest.mark.parametrize(
    ("sampler", "cross", "message"),
    [
        ("sobol", CROSS, "cross: cannot cross the sobol sampler's design"),
        ("lhs", '[cross]\n"theory.kind" = { low = 0, high = 1 }\n', "cross.theory.kind"),
        (
            "lhs",
            '[cross]\n"context.inequality" = [0.1, 0.9]\n',
            "cross.context.inequality: also in [factors]",
        ),
        ("lhs", '[cross]\n"theory.kinds" = ["incremental"]\n', "cross.theory.kinds: unknown parameter"),
        ("lhs", '[cross]\n"theory.kind" = ["incremental", "magic"]\n', "cross.theory.kind:"),
        ("lhs", '[cross]\n"run.seed" = [1, 2]\n', "cross.run.seed: set by the experiment's root_seed"),
    ],
)
def test_a_bad_cross_is_refused_with_its_key(tmp_path, sampler, cross, message):
    with pytest.raises(ExperimentError) as err:
        load_experiment(write(tmp_path, sampler=sampler, cross=cross))
    assert message in str(err.value)


def test_regret_is_the_shortfall_against_the_best_arm_at_the_same_point():
    utility = np.array([[0.5, 0.7, 0.6], [0.9, 0.1, 0.2]])
    np.testing.assert_allclose(regret_of(utility), [[0.2, 0.0, 0.1], [0.0, 0.8, 0.7]])


def synthetic(noise: float, reps: int = 4, seed: int = 3) -> Paired:
    """Arm "b" beats arm "a" by 0.1 where x > 0.6 and loses by 0.1 elsewhere; consensus bias equal."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"x": rng.uniform(size=300), "z": rng.uniform(size=300)})
    a = np.full(300, 0.5)
    b = np.where(x["x"] > 0.6, 0.6, 0.4)
    markers = np.stack([a, b], axis=1)[:, :, None] + noise * rng.normal(size=(300, 2, reps))
    return Paired("synthetic", "arm", ["a", "b"], list(range(300)), x, markers, np.full_like(markers, 0.2))


def test_the_map_finds_where_the_better_arm_wins_and_noise_free_winners_agree_across_halves():
    r = analyse(synthetic(noise=0.0), resamples=0)
    wins_b = r.best == 1
    np.testing.assert_array_equal(wins_b, (r.paired.x["x"] > 0.6).to_numpy())
    assert r.agreement == 1.0
    box = {lim.name: lim for lim in r.boxes["b"].limits}
    assert box["x"].restricted and box["x"].low == pytest.approx(0.6, abs=0.05)
    assert not box["z"].restricted
    s = {row["arm"]: row for row in r.summary}
    # regret: 0.1 where the other arm wins, 0 where it wins itself
    assert s["b"]["mean_regret"] == pytest.approx(0.1 * (~wins_b).mean())
    assert s["a"]["mean_regret"] == pytest.approx(0.1 * wins_b.mean())
    assert s["a"]["max_regret"] == pytest.approx(0.1) and s["b"]["max_regret"] == pytest.approx(0.1)


def test_noise_alone_makes_winners_disagree_and_the_paired_difference_holds_zero():
    p = synthetic(noise=0.05)
    p.markers[:, 1] = p.markers[:, 0].mean(axis=1, keepdims=True) + 0.05 * np.random.default_rng(9).normal(
        size=p.markers[:, 1].shape
    )  # arm b is arm a's mean plus its own noise: no real difference anywhere
    r = analyse(p, resamples=0)
    assert 0.3 < r.agreement < 0.7  # about chance (0.5 with two arms)
    row = next(s for s in r.summary if s["arm"] != s["leader"])
    assert row["vs_low"] < 0 < row["vs_high"]
    assert all(s["mean_regret"] > 0 for s in r.summary)  # regret is positive under noise alone


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    folder = tmp_path_factory.mktemp("regret")
    path = write(folder, n=10)
    db = folder / "crossed.db"
    assert main(["sweep", str(path), "--db", str(db), "--workers", "2"]) == 0
    plain = write(folder, name="plain", cross="")
    assert main(["sweep", str(plain), "--db", str(folder / "plain.db"), "--workers", "2"]) == 0
    return folder


def test_coprod_regret_on_a_tiny_crossed_sweep_prints_the_table_and_writes_its_files(swept, capsys):
    out = swept / "out"
    assert main(["regret", "--db", str(swept / "crossed.db"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "10 sampled points x 3 arms x 2 replications" in printed
    for arm in ("incremental", "structural", "knowledge"):
        assert f"| {arm} |" in printed
    assert sorted(p.name for p in out.iterdir()) == ["regret.csv", "regret.md", "regret_map.png"]
    rows = (out / "regret.csv").read_text().splitlines()
    assert len(rows) == 11 and rows[0].startswith("sample,context.inequality,context.baseline_trust,best")


def test_coprod_regret_on_an_experiment_without_cross_is_one_line_and_exit_2(swept, capsys):
    out = swept / "nothing"
    assert main(["regret", "--db", str(swept / "plain.db"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not cross 'theory.kind'" in err[0] and "[cross]" in err[0]
    assert not out.exists()


@pytest.mark.parametrize(("option", "value"), [("--weight", "-1"), ("--weight", "nan"), ("--arm", "x.y")])
def test_a_bad_option_is_one_line_and_exit_2(swept, capsys, option, value):
    assert main(["regret", "--db", str(swept / "crossed.db"), option, value]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and option in err[0]


def test_the_crossed_key_is_a_column_of_the_experiments_view_and_an_input_of_discovery(swept):
    import sqlite3

    with sqlite3.connect(swept / "crossed.db") as conn:
        arms = {r[0] for r in conn.execute('SELECT "theory.kind" FROM experiment_crossed')}
        position = conn.execute("SELECT run_key, sample, replication FROM runs").fetchall()
    assert arms == {"incremental", "structural", "knowledge"}
    # the sweep records where each run sits in the design
    spec = {r.key: (r.sample, r.replication) for r in load_experiment(swept / "crossed.toml").runs}
    assert {key: (sample, rep) for key, sample, rep in position} == spec
    from coprod.experiments.discovery import inputs
    from coprod.experiments.store import Store
    from coprod.experiments.stored_runs import load_runs

    with Store.existing(swept / "crossed.db") as store:
        x = inputs(load_runs(store, "crossed"), "here")
    assert list(x.columns) == ["context.inequality", "context.baseline_trust", "theory.kind"]


def test_coprod_analyze_puts_the_regret_map_in_the_report_of_a_crossed_experiment_only(swept):
    crossed, plain = swept / "analysed_crossed", swept / "analysed_plain"
    assert main(["analyze", "--db", str(swept / "crossed.db"), "--out", str(crossed)]) == 0
    assert main(["analyze", "--db", str(swept / "plain.db"), "--out", str(plain)]) == 0
    assert {"regret.md", "regret.csv", "regret_map.png"} <= {p.name for p in crossed.iterdir()}
    page = (crossed / "report.html").read_text()
    assert "Which theory.kind wins where" in page and "alt='regret map'" in page
    assert not (plain / "regret.md").exists()
    assert "wins where" not in (plain / "report.html").read_text()


def test_a_winner_decided_by_a_category_is_mapped_per_category():
    from coprod.experiments.regret import map_category, plot

    p = synthetic(noise=0.0)
    kind = np.where(p.x["x"] > 0.6, "cooperative", "consultation")
    p.x = p.x.assign(kind=pd.Categorical(kind, categories=["consultation", "cooperative"]), x=0.5)
    r = analyse(p, resamples=0)
    assert map_category(r) == "kind"
    assert plot(r)[:8] == b"\x89PNG\r\n\x1a\n"
    assert map_category(analyse(synthetic(noise=0.0), resamples=0)) is None  # numbers only: the scatter
