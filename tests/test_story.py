"""The story of a run (coprod/story.py): events found from the model's state, and views by group."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from coprod.model import GovernanceModel, load_scenario, simulate
from coprod.model.kinds import THEORIES

from coprod import story as st
from coprod.cli import main

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
SHORT = {"population.residents": 300, "run.steps": 60}
MONTHS = 40

# a city where nothing changes: every reading a detector uses, held flat
FLAT = {
    **{f"condition_{t}": 0.5 for t in THEORIES},
    **{f"lever_{lever}": 0.3 for lever in st.LEVERS},
    "trust_residents_officials": 0.55,
    "trust_officials_residents": 0.45,
    "consensus_bias": 0.5,
    "citizen_rung": 3.5,
    "adopted": 0,
    "officials": 40,
    "experiments": 2,
    "successes": 1,
    "dropped": 0,
    "dropped_marginalised": 0,
    "burnt_out": 0,
    "short_of_time": 0,
    "holders_incremental": 0.4,
    "holders_structural": 0.2,
    "holders_knowledge": 0.2,
    "holders_coalition": 0.2,
    **{f"median_{g}": 0.5 for g in st.GROUPS},
    "median_marginalised": 0.7,
    "median_officials": 0.35,
}


def readings(**changes) -> list[dict[str, float]]:
    """``MONTHS`` months of the flat city; ``changes`` maps a reading to a function month -> value."""
    return [{**FLAT, **{k: f(t) for k, f in changes.items()}} for t in range(MONTHS)]


def tell_months(detect, months: list[dict[str, float]]) -> list[st.Event]:
    """Feed ``detect`` the history month by month, as :class:`Story` does, and collect its events."""
    history, events = st.History(), []
    for reading in months:
        history.add(reading)
        if len(history) > 1:
            events.extend(detect(history))
    return events


def step(at: float, before: float, after: float):
    return lambda t: after if t >= at else before


def ramp(start: int, stop: int, base: float, rate: float):
    return lambda t: base + rate * (min(max(t, start), stop) - start)


@pytest.mark.parametrize("detector", st.DETECTORS, ids=lambda d: d.name)
def test_every_detector_stays_silent_while_the_city_stands_still(detector):
    assert tell_months(detector.detect, readings()) == []


def test_a_condition_met_is_told_once_it_holds_and_lapses_once_it_has_stayed_down():
    events = tell_months(st.conditions, readings(condition_structural=lambda t: 1.0 if 10 <= t < 20 else 0.5))
    assert [(e.month, e.kind) for e in events] == [(12, "condition_met"), (25, "condition_lapsed")]
    assert "committed minority" in events[0].text and "structural" in events[1].text


def test_a_condition_met_from_the_start_that_dips_for_a_month_at_a_time_is_not_news():
    flicker = readings(condition_coalition=lambda t: 0.5 if t % 4 == 3 else 1.0)
    assert tell_months(st.conditions, flicker) == []


def test_a_lever_rising_then_levelling_off_is_told_at_each_turn():
    events = tell_months(st.levers, readings(lever_citizen_weight=ramp(10, 20, 0.3, 0.011)))
    assert [(e.month, e.kind) for e in events] == [(13, "lever_rise"), (31, "lever_steady")]
    assert events[0].text.startswith("citizens' formal say in decisions began to rise")


def test_a_lever_falling_back_is_told():
    events = tell_months(st.levers, readings(lever_transparency=ramp(5, 30, 0.6, -0.011)))
    assert [e.kind for e in events] == ["lever_fall"]
    assert events[0].month == 8 and events[0].magnitude < 0


def test_citizens_say_reaching_a_rung_is_told_after_it_has_stood_there():
    events = tell_months(st.citizen_say, readings(citizen_rung=step(10, 3.5, 4.2)))
    assert [(e.month, e.kind) for e in events] == [(15, "say_rose")]
    assert "rung 4" in events[0].text and "consultation" in events[0].text


def test_views_coming_together_name_the_levels_and_who_moved():
    events = tell_months(st.view_gap, readings(median_officials=step(10, 0.35, 0.55)))
    assert [(e.month, e.kind) for e in events] == [(15, "views_closer"), (15, "views_closer")]
    assert "within 0.30" in events[0].text and "within 0.20" in events[1].text
    assert "moved +0.00, +0.20" in events[0].text


def test_marginalised_participants_stopping_are_told_from_the_threshold_up():
    events = tell_months(st.stopped_coming, readings(burnt_out=step(10, 0, 2), short_of_time=step(20, 0, 1)))
    assert [e.month for e in events] == list(range(20, MONTHS))
    assert events[0].text.startswith("3 marginalised participants stopped coming (2 burnt out, 1 short")


def test_a_forced_consensus_dropping_participants_is_told():
    events = tell_months(
        st.dropped, readings(dropped=lambda t: 4 if t == 10 else 0, dropped_marginalised=step(0, 2, 2))
    )
    assert [(e.month, e.magnitude) for e in events] == [(10, 4)]
    assert "(2 marginalised)" in events[0].text


def test_trust_crossing_a_level_is_told_in_both_directions():
    events = tell_months(
        st.trust, readings(trust_residents_officials=lambda t: 0.65 if 10 <= t < 20 else 0.55)
    )
    assert [(e.month, e.kind) for e in events] == [(10, "trust_rose"), (20, "trust_fell")]
    assert events[0].text == "residents' trust in officials rose past 0.6"


def test_consensus_bias_turning_is_told_once_per_turn():
    events = tell_months(st.consensus_bias, readings(consensus_bias=ramp(5, 25, 0.5, 0.01)))
    assert [(e.month, e.kind) for e in events] == [(10, "bias_turned")]
    assert "began to rise" in events[0].text


def test_officials_adopting_practice_is_told_at_the_first_half_and_all():
    counts = {5: 1, 10: 20, 15: 40}
    events = tell_months(
        st.adoption, readings(adopted=lambda t: max([0] + [v for k, v in counts.items() if t >= k]))
    )
    assert [e.month for e in events] == [5, 10, 15]
    assert events[0].text.startswith("the first official adopted") and "every official" in events[2].text


def test_experiments_first_success_drought_and_its_end_are_told():
    won = readings(successes=lambda t: 1 if t in (3, 35) else 0)
    events = tell_months(st.experiments, won)
    assert [(e.month, e.kind) for e in events] == [
        (3, "experiment_first"),
        (27, "experiment_drought"),
        (35, "experiment_again"),
    ]
    assert "after 31 months" in events[2].text


def test_a_new_most_held_theory_and_a_theory_nearly_gone_are_told():
    events = tell_months(
        st.theories,
        readings(
            holders_incremental=step(10, 0.4, 0.17),
            holders_structural=step(10, 0.2, 0.5),
            holders_knowledge=step(10, 0.2, 0.03),
            holders_coalition=step(10, 0.2, 0.3),
        ),
    )
    assert sorted((e.month, e.kind) for e in events) == [(10, "theory_rare"), (12, "theory_leads")]
    leads = next(e for e in events if e.kind == "theory_leads")
    assert leads.text.startswith("structural change is now the theory most held (50%")


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_the_story_names_at_least_one_event_in_every_shipped_scenario(path):
    rows, story = st.tell(load_scenario(path, SHORT))
    assert story.events and len(rows) == 61
    assert all(0 < e.month <= 60 and e.text for e in story.events)
    assert 0 < len(story.log()) <= st.MAX_LINES + 1
    assert all(line.startswith(("month ", "months ", "(")) for line in story.log())


def test_observing_never_changes_the_run():
    scenario = load_scenario(ROOT / "scenarios" / "participatory_budgeting.toml", SHORT)
    plain, watched, story = GovernanceModel(scenario, rng=3), GovernanceModel(scenario, rng=3), st.Story()
    story.observe(watched)
    for _ in range(30):
        plain.step()
        watched.step()
        story.observe(watched)
        assert watched.outputs == plain.outputs
    assert np.array_equal(watched.people.view, plain.people.view)
    assert story.events  # the story did look
    assert st.tell(scenario, steps=30, seed=3)[0] == simulate(scenario, steps=30, seed=3)


def test_a_story_must_be_fed_every_month_in_order():
    model, story = GovernanceModel(population__residents=200), st.Story()
    story.observe(model)
    model.step()
    model.step()
    with pytest.raises(ValueError, match="got month 2 after 0"):
        story.observe(model)


def test_view_quantiles_are_ordered_and_within_the_view_scale():
    _, story = st.tell(load_scenario(ROOT / "scenarios" / "co_financed_partnership.toml", SHORT))
    q = story.quantiles()
    assert q.shape == (61, len(st.GROUPS), len(st.QUANTILES))
    assert not np.isnan(q).any()  # every shipped group has members
    assert (np.diff(q, axis=2) >= 0).all()
    assert ((q >= 0) & (q <= 1)).all()
    marked = [st.GROUPS.index(g) for g in st.MARKED]
    assert q[0, marked[0], 2] > q[0, marked[1], 2]  # marginalised residents start wanting more change


def test_coprod_run_story_prints_the_usual_table_then_month_lines_within_100_columns(tmp_path, capsys):
    args = ["run", str(ROOT / "scenarios" / "citizens_assembly.toml"), "--steps", "36"]
    args += ["--set", "population.residents=300"]
    assert main(args) == 0
    plain = capsys.readouterr().out
    out_file = tmp_path / "story.json"
    assert main([*args, "--story", "--story-out", str(out_file)]) == 0
    told = capsys.readouterr().out
    assert told.startswith(plain)
    story_lines = told[len(plain) :].splitlines()
    assert any(line.startswith("month ") for line in story_lines)
    assert all(len(line) <= 100 for line in story_lines)
    assert any(line.startswith("* officials") for line in story_lines)
    written = json.loads(out_file.read_text())
    assert written["events"] and set(written["events"][0]) == {"month", "kind", "text", "magnitude", "rank"}
    assert written["opinions"]["months"] == list(range(37))
    assert set(written["opinions"]["values"]) == set(st.GROUPS)


def test_the_log_merges_recurring_events_and_says_how_many_were_left_out():
    events = [st.Event(m, "stopped_coming", "x", 3, st.NOTABLE) for m in range(1, 20)]
    events += [st.Event(m, "trust_rose", f"minor {m}", 0.5, st.DETAIL) for m in range(1, 60)]
    events += [st.Event(40, "condition_met", "headline", 1.0, st.HEADLINE)]
    lines = st.log_lines(events, limit=10)
    assert len(lines) == 10
    assert "months 1-19: in 19 months 57 marginalised participants stopped coming" in lines[0]
    assert "month 40: headline" in lines
    assert lines[-1].startswith("(52 minor events left out")


# ------------------------------------------------------------- observing costs the same every month


def cycle(t: int) -> dict[str, float]:
    """A city that goes round a 50-month cycle in which every detector has something to tell."""
    phase = t % 50
    wave = 0.5 + 0.45 * np.sin(2 * np.pi * phase / 50)
    return {
        **FLAT,
        **{f"condition_{theory}": 1.0 if phase < 20 else 0.4 for theory in THEORIES},
        **{f"lever_{lever}": 0.2 + 0.3 * wave for lever in st.LEVERS},
        "trust_residents_officials": wave,
        "trust_officials_residents": 1 - wave,
        "consensus_bias": wave,
        "citizen_rung": 8 * wave,
        "adopted": 40 if phase >= 25 else 0,
        "successes": 1 if phase == 10 else 0,
        "dropped": 4 if phase == 5 else 0,
        "burnt_out": 3 if phase == 7 else 0,
        "holders_incremental": 0.55 - 0.5 * wave,
        "holders_structural": 0.05 + 0.5 * wave,
        "holders_knowledge": 0.2,
        "holders_coalition": 0.2,
        "median_officials": 0.7 - 0.6 * wave,
    }


def test_a_month_reads_as_much_of_the_history_in_month_450_as_in_month_50():
    # the detectors keep running state instead of rereading the history: a month reads a fixed number of
    # entries (History.reads counts every entry handed out), however many months came before it
    history, per_month, events = st.History(), [], []
    for t in range(500):
        history.add(cycle(t))
        before = history.reads
        events.append(sorted((e.kind, e.text) for d in st.DETECTORS for e in d.detect(history)))
        per_month.append(history.reads - before)
    told = {kind for month in events for kind, _ in month}
    assert {"condition_met", "lever_rise", "say_rose", "views_closer", "trust_fell", "bias_turned"} <= told
    assert {"adopted", "experiment_drought", "experiment_again", "theory_leads", "dropped"} <= told
    assert events[400:] == events[50:150]  # the same month of the cycle tells the same
    assert per_month[400:] == per_month[50:150]  # and reads as many entries of the history


def held_from_scratch(mask: np.ndarray, months: int, before: bool | None) -> bool:
    """Whether ``mask`` held in each of its last ``months`` entries, months before the first as ``before``
    (by default as the first month): the definition, read from the whole series."""
    pad = mask[0] if before is None else before
    return bool(np.concatenate([np.full(months, pad), mask])[-months:].all())


def switched_from_scratch(on: np.ndarray, off: np.ndarray) -> int:
    """+1 if a switch turned on by ``on`` and off by ``off`` (off wins a tie) turned on in the last month,
    -1 if it turned off, 0 otherwise: the definition, read from the whole series."""

    def latched(on, off):
        on_at, off_at = np.flatnonzero(on), np.flatnonzero(off)
        return (on_at[-1] if len(on_at) else -1) > (off_at[-1] if len(off_at) else -1)

    return 0 if len(on) < 2 else int(latched(on, off)) - int(latched(on[:-1], off[:-1]))


@pytest.mark.parametrize("seed", range(6))
def test_the_running_state_equals_a_recomputation_from_the_whole_series(seed):
    rng = np.random.default_rng(seed)
    months, share = int(rng.integers(1, 8)), rng.uniform(0.2, 0.9)
    before = (None, False, True)[seed % 3]
    mask, on, off = rng.random((3, 300)) < share
    state = st.State()
    for t in range(300):
        assert state.held("m", mask[t], months, before=before) == held_from_scratch(
            mask[: t + 1], months, before
        )
        assert state.switched("s", on[t], off[t]) == switched_from_scratch(on[: t + 1], off[: t + 1])


@pytest.mark.parametrize("detector", st.DETECTORS, ids=lambda d: d.name)
def test_a_detector_asked_now_and_then_tells_what_it_would_have_told_asked_every_month(detector):
    every, sometimes = st.History(), st.History()
    for t in range(300):
        every.add(cycle(t))
        sometimes.add(cycle(t))
        told = detector.detect(every) if t else []
        if t % 7 == 3 or t == 299:
            assert detector.detect(sometimes) == told
            assert detector.detect(sometimes) == told  # asking twice in a month tells the same
