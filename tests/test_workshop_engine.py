"""Workshop mode's engine (coprod.workshop.engine): joining, roles, tokens, rounds, choices, rewinding into
branches and resuming; every branch equals a replay of its record."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from coprod.model import OUTPUTS, load_scenario
from coprod.model import choices as C
from coprod.model.choices import ChoiceError
from coprod.model.governance import GovernanceModel
from coprod.workshop.engine import Workshop, WorkshopError
from coprod.workshop.record import WorkshopRecord
from coprod.workshop.replay import first_difference, load_recording, replay

ROOT = Path(__file__).resolve().parents[1]


def tiny(residents=160, seed=3):
    return load_scenario(ROOT / "scenarios" / "citizens_assembly.toml").with_overrides(
        {"population.residents": residents, "run.seed": seed}
    )


@pytest.fixture
def ws(tmp_path):
    return Workshop.start(tiny(), tmp_path / "w.db", months_per_round=2)


def rows(w, sql, params=()):
    return w.record.db.execute(sql, list(params)).fetchall()


def replays_exactly(w, branch):
    record = WorkshopRecord.existing(w.record.path)
    try:
        recording = load_recording(record, w.id, branch)
    finally:
        record.close()
    _, replayed = replay(recording.scenario, recording.rounds)
    assert len(recording.steps) == len(replayed)
    for old, new in zip(recording.steps, replayed, strict=True):
        for k in ("month", *OUTPUTS):
            assert old[k] == new[k] or (old[k] is None and new[k] != new[k]), (new["month"], k)
    assert first_difference(recording.steps, replayed) is None
    return recording


# ---------------------------------------------------------------------------------------- joining


def test_a_wrong_join_code_is_refused(ws):
    wrong = "ZZZZZZ" if ws.join_code != "ZZZZZZ" else "YYYYYY"
    with pytest.raises(WorkshopError, match="join code"):
        ws.join(wrong, "Ann", "resident")
    assert ws.participants() == []
    assert ws.join(f" {ws.join_code.lower()} ", "Ann", "resident").role == "resident"  # typed loosely


def test_roles_go_to_the_first_untaken_candidate_without_touching_the_generator(tmp_path):
    taken = []
    for i in range(2):
        w = Workshop.start(tiny(), tmp_path / f"w{i}.db")
        before = w.model.rng.bit_generator.state
        people = [
            w.join(w.join_code, "A", "resident", marginalised=True),
            w.join(w.join_code, "B", "resident", marginalised=True),
            w.join(w.join_code, "C", "official"),
            w.join(w.join_code, "D", "academic"),
            w.join(w.join_code, "E", "organiser"),
            w.join(w.join_code, "F", "resident", district=1),
        ]
        assert w.model.rng.bit_generator.state == before
        m = w.model
        marginalised = C.candidates(m, "resident", marginalised=True)
        assert [p.agent for p in people[:2]] == marginalised[:2].tolist()
        assert people[0].marginalised is True and people[0].district == int(
            m.people.district[people[0].agent]
        )
        assert people[2].agent == int(C.candidates(m, "official")[0]) and people[2].district is None
        assert people[3].agent == int(C.candidates(m, "academic")[0])
        assert people[4].agent == int(C.candidates(m, "organiser")[0])
        in_one = [a for a in C.candidates(m, "resident", district=1).tolist() if a not in marginalised[:2]]
        assert people[5].agent == in_one[0] and people[5].district == 1
        taken.append([p.agent for p in people])
    assert taken[0] == taken[1]


def test_bad_join_requests_are_one_line(ws):
    for args, kwargs, words in (
        (("Ann", "mayor"), {}, "role 'mayor' is unknown"),
        (("", "resident"), {}, "display name"),
        (("Bob", "official"), {"district": 1}, "residents only"),
        (("Cy", "resident"), {"district": 999}, "district 999"),
    ):
        with pytest.raises(WorkshopError, match=words) as err:
            ws.join(ws.join_code, *args, **kwargs)
        assert "\n" not in str(err.value)


def test_rejoin_returns_the_same_agent_and_an_unknown_token_is_refused(ws):
    p = ws.join(ws.join_code, "Ann", "official")
    again = ws.rejoin(p.token)
    assert (again.agent, again.role, again.name, again.token) == (p.agent, p.role, p.name, p.token)
    with pytest.raises(WorkshopError, match="join again"):
        ws.rejoin("not-a-token")
    assert all(q.token == "" for q in ws.participants())  # nobody's token handed around


# ---------------------------------------------------------------------------------------- choices


def test_the_same_choice_twice_is_stored_once_and_a_changed_one_replaces_it(ws):
    p = ws.join(ws.join_code, "Ann", "resident")
    n = ws.open_round(ws.facilitator_token)
    assert ws.submit(p.token, n, {"attend": "stay_away", "view": 0.5}) == "stored"
    assert ws.submit(p.token, n, {"view": 0.5, "attend": "stay_away"}) == "already stored"
    count = "SELECT count(*), max(payload) FROM workshop_choices WHERE workshop = ? AND round = ?"
    assert rows(ws, count, (ws.id, n)) == [(1, '{"attend": "stay_away", "view": 0.5}')]
    assert ws.submit(p.token, n, {"attend": "come"}) == "stored"
    assert rows(ws, count, (ws.id, n)) == [(1, '{"attend": "come"}')]
    assert ws.view_for(p.token)["round"]["your_choice"] == {"attend": "come"}
    with pytest.raises(ChoiceError, match="allowed"):
        ws.submit(p.token, n, {"attend": "maybe"})


def test_a_closed_or_unknown_round_refuses_choices_clearly(ws):
    p = ws.join(ws.join_code, "Ann", "resident")
    f = ws.facilitator_token
    with pytest.raises(WorkshopError, match="no round is open"):
        ws.submit(p.token, 1, {"attend": "come"})
    n = ws.open_round(f)
    with pytest.raises(WorkshopError, match=f"round {n + 1} is not open yet"):
        ws.submit(p.token, n + 1, {"attend": "come"})
    ws.close_round(f)
    with pytest.raises(WorkshopError, match=f"round {n} is closed"):
        ws.submit(p.token, n, {"attend": "come"})
    ws.open_round(f)
    with pytest.raises(WorkshopError, match=f"round {n} is closed; the open round is {n + 1}"):
        ws.submit(p.token, n, {"attend": "come"})


def test_a_participant_token_cannot_use_the_facilitator_methods(ws):
    p = ws.join(ws.join_code, "Ann", "resident")
    f = ws.facilitator_token
    for call in (
        lambda t: ws.open_round(t),
        lambda t: ws.close_round(t),
        lambda t: ws.pause(t),
        lambda t: ws.unpause(t),
        lambda t: ws.redesign(t, theory="structural"),
        lambda t: ws.rewind(t, 0),
        lambda t: ws.switch_branch(t, "main"),
    ):
        for token in (p.token, "", None, f + "x"):
            with pytest.raises(WorkshopError, match="only the facilitator"):
                call(token)
    assert ws.state()["rounds_closed"] == 0 and not ws.state()["open"]


def test_view_for_shows_only_that_participants_agent(ws):
    a = ws.join(ws.join_code, "Ann", "resident")
    b = ws.join(ws.join_code, "Bea", "official")
    view = ws.view_for(a.token)
    assert view["participant"]["agent"] == a.agent and view["agent"]["agent"] == a.agent
    assert view["agent"] == C.what_agent_knows(ws.model, a.agent)
    assert "Bea" not in repr(view) and b.token not in repr(view)
    assert set(view["choices"]) == set(C.CHOICES["resident"])
    assert ws.view_for(b.token)["agent"]["role"] == "official"
    with pytest.raises(WorkshopError):
        ws.view_for(b.token[:-1])


# ----------------------------------------------------------------------------------------- rounds


def test_a_round_with_no_choices_is_simulated_and_every_month_is_recorded(ws):
    a = ws.join(ws.join_code, "Ann", "resident")
    b = ws.join(ws.join_code, "Bea", "academic")
    f = ws.facilitator_token
    for _ in range(2):
        ws.open_round(f)
        assert not ws.everyone_chose()
        ws.close_round(f)
    recorded = rows(ws, "SELECT round, agent, source, payload FROM workshop_choices ORDER BY round, agent")
    assert recorded == [(r, agent, "simulated", "{}") for r in (1, 2) for agent in sorted((a.agent, b.agent))]
    # nobody chose: the months are the plain simulation's, month by month
    plain = GovernanceModel(tiny(), record=False)
    expected = [{"month": 0, **plain.outputs}]
    for _ in range(4):
        plain.step()
        expected.append({"month": plain.steps, **plain.outputs})
    assert ws.markers() == expected
    assert ws.state()["month"] == 4 and ws.projector()["month"] == 4


def test_a_resident_who_stays_away_is_not_in_the_room_and_the_choice_is_recorded(ws):
    p = ws.join(ws.join_code, "Ann", "resident", marginalised=True)
    f = ws.facilitator_token
    n = ws.open_round(f)
    ws.submit(p.token, n, {"attend": "stay_away"})
    assert ws.everyone_chose()
    ws.close_round(f)
    assert ws.view_for(p.token)["agent"]["took_part"] is False
    (entry,) = ws.projector()["room"]
    assert entry["agent"] == p.agent and entry["name"] == "Ann" and entry["in_room"] is False
    assert rows(ws, "SELECT source, payload FROM workshop_choices") == [("human", '{"attend": "stay_away"}')]
    replays_exactly(ws, "main")


def test_a_time_limit_closes_choices_and_the_round_falls_back_to_the_simulation(ws):
    p = ws.join(ws.join_code, "Ann", "official")
    f = ws.facilitator_token
    n = ws.open_round(f, seconds=0.05)
    assert ws.state()["deadline"] is not None
    time.sleep(0.1)
    with pytest.raises(WorkshopError, match="time is up"):
        ws.submit(p.token, n, {"follow": 1.0})
    assert ws.close_if_due() is True
    assert rows(ws, "SELECT source FROM workshop_choices") == [("simulated",)]


def test_pause_stops_the_clock_and_the_city(ws):
    f = ws.facilitator_token
    ws.open_round(f, seconds=0.05)
    ws.pause(f)
    time.sleep(0.1)
    assert ws.close_if_due() is False and ws.state()["paused"]
    with pytest.raises(WorkshopError, match="paused"):
        ws.close_round(f)
    ws.unpause(f)
    assert 0 < ws.state()["seconds_left"] <= 0.05
    ws.close_round(f)
    assert ws.state()["month"] == 2


def test_a_redesign_between_rounds_is_recorded_and_replayed(ws):
    f = ws.facilitator_token
    ws.open_round(f)
    with pytest.raises(WorkshopError, match="between rounds"):
        ws.redesign(f, theory="structural")
    ws.close_round(f)
    with pytest.raises(WorkshopError, match=r"theory\.kind"):
        ws.redesign(f, theory="magic")
    ws.redesign(f, theory="structural", note="fund the campaigners")
    assert ws.state()["next_theory"] == "structural" and ws.state()["theory"] == "incremental"
    ws.open_round(f)
    ws.close_round(f)
    assert ws.state()["theory"] == "structural"
    got = rows(ws, "SELECT round, theory, redesign_theory, note FROM workshop_rounds ORDER BY round")
    assert got == [(1, "incremental", None, None), (2, "structural", "structural", "fund the campaigners")]
    replays_exactly(ws, "main")


# ------------------------------------------------------------------------------ branches, resuming


def play(w, plans, months=None):
    """Rounds with the given choices: each plan is [(participant, payload), ...]."""
    for plan in plans:
        n = w.open_round(w.facilitator_token, months=months)
        for p, payload in plan:
            w.submit(p.token, n, payload)
        w.close_round(w.facilitator_token)


def test_rewind_branches_keeping_the_old_branch_and_each_replays_exactly(ws):
    a = ws.join(ws.join_code, "Ann", "resident", marginalised=True)
    o = ws.join(ws.join_code, "Obi", "official")
    f = ws.facilitator_token
    play(ws, [[(a, {"attend": "come", "view": 0.9})], [(o, {"follow": 1.0, "publish": True})]])
    main_rows = {
        t: rows(ws, f"SELECT * FROM {t} WHERE branch = 'main' ORDER BY 1, 2, 3")
        for t in ("workshop_rounds", "workshop_choices", "workshop_steps")
    }
    main_markers = ws.markers("main")
    after_one = main_markers[2]  # months_per_round 2: month 2 ends round 1
    branch = ws.rewind(f, 1)
    assert ws.state()["branch"] == branch and ws.state()["month"] == 2 and ws.state()["rounds_closed"] == 1
    assert ws.model.outputs == {k: after_one[k] for k in OUTPUTS}
    play(ws, [[(a, {"attend": "stay_away"}), (o, {"follow": 0.0})]])
    assert [b["branch"] for b in ws.branches()] == ["main", branch]
    assert ws.branches()[1] | {"created": None} == {
        "branch": branch,
        "parent": "main",
        "from_round": 1,
        "created": None,
        "rounds": 2,
        "month": 4,
        "current": True,
    }
    for t, before in main_rows.items():
        assert rows(ws, f"SELECT * FROM {t} WHERE branch = 'main' ORDER BY 1, 2, 3") == before
    assert ws.markers("main") == main_markers
    assert ws.markers(branch)[:3] == main_markers[:3]
    assert ws.markers(branch)[3:] != main_markers[3:]  # the choices differ after round 1
    for b in ("main", branch):
        replays_exactly(ws, b)
    with pytest.raises(WorkshopError, match="allowed: 0"):
        ws.rewind(f, 5)
    ws.switch_branch(f, "main")
    assert ws.state()["month"] == 4 and ws.model.outputs == {k: main_markers[-1][k] for k in OUTPUTS}
    with pytest.raises(WorkshopError, match="no branch 'nope'"):
        ws.markers("nope")


def test_rewind_to_the_start_and_a_rewind_during_a_round_is_refused(ws):
    f = ws.facilitator_token
    play(ws, [[]])
    ws.open_round(f)
    with pytest.raises(WorkshopError, match="close it before rewinding"):
        ws.rewind(f, 0)
    ws.close_round(f)
    branch = ws.rewind(f, 0)
    assert ws.state()["month"] == 0 and ws.markers(branch) == ws.markers("main")[:1]
    replays_exactly(ws, branch)


def test_resume_after_a_restart_continues_as_if_uninterrupted(tmp_path):
    def first_half(db):
        w = Workshop.start(tiny(), db, months_per_round=2)
        a = w.join(w.join_code, "Ann", "resident")
        o = w.join(w.join_code, "Obi", "organiser")
        play(w, [[(a, {"attend": "stay_away"}), (o, {"act": "mobilise"})], [(a, {"view": 0.2})]])
        return w, a, o

    def second_half(w, a, o):
        w.redesign(w.facilitator_token, design="participatory_budgeting")
        play(w, [[(o, {"act": "coalition"})], []])

    steady, a, o = first_half(tmp_path / "steady.db")
    second_half(steady, a, o)

    broken, a2, o2 = first_half(tmp_path / "restart.db")
    old_facilitator = broken.facilitator_token
    broken.close()
    resumed = Workshop.resume(tmp_path / "restart.db")
    assert resumed.id == broken.id and resumed.state()["rounds_closed"] == 2 and resumed.state()["month"] == 4
    assert resumed.facilitator_token != old_facilitator
    with pytest.raises(WorkshopError, match="only the facilitator"):
        resumed.open_round(old_facilitator)
    assert resumed.rejoin(a2.token).agent == a2.agent  # participants keep their links
    second_half(resumed, resumed.rejoin(a2.token), resumed.rejoin(o2.token))
    assert resumed.state()["design"] == steady.state()["design"] == "participatory_budgeting"
    assert resumed.markers() == steady.markers()
    assert resumed.model.outputs == steady.model.outputs
    replays_exactly(resumed, "main")


def test_resume_keeps_an_open_round_and_its_choices(tmp_path):
    w = Workshop.start(tiny(), tmp_path / "w.db")
    a = w.join(w.join_code, "Ann", "resident")
    n = w.open_round(w.facilitator_token)
    w.submit(a.token, n, {"attend": "stay_away"})
    w.close()
    again = Workshop.resume(tmp_path / "w.db", w.id)
    assert again.state()["open"] and again.state()["round"] == n
    assert again.view_for(a.token)["round"]["your_choice"] == {"attend": "stay_away"}
    assert again.submit(a.token, n, {"attend": "stay_away"}) == "already stored"
    again.close_round(again.facilitator_token)
    assert again.record.db.execute("SELECT source FROM workshop_choices").fetchall() == [("human",)]
    with pytest.raises(WorkshopError, match="no workshop 'nope'"):
        Workshop.resume(tmp_path / "w.db", "nope")


def test_many_sessions_at_once(ws):
    people = [ws.join(ws.join_code, f"P{i}", "resident") for i in range(12)]
    n = ws.open_round(ws.facilitator_token)
    errors = []

    def session(p, i):
        try:
            for _ in range(5):
                ws.view_for(p.token)
                ws.submit(p.token, n, {"view": (i % 10) / 10})
                ws.state()
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=session, args=(p, i)) for i, p in enumerate(people)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert ws.everyone_chose()
    assert rows(ws, "SELECT count(*) FROM workshop_choices")[0][0] == 12
    ws.close_round(ws.facilitator_token)
    replays_exactly(ws, "main")


def test_every_role_plays_its_choices_and_the_branch_replays_exactly(ws):
    r = ws.join(ws.join_code, "Res", "resident", marginalised=True)
    o = ws.join(ws.join_code, "Off", "official")
    a = ws.join(ws.join_code, "Aca", "academic")
    g = ws.join(ws.join_code, "Org", "organiser")
    items = [k["item"] for k in ws.view_for(r.token)["agent"]["knowledge"]]
    plans = [
        [
            (r, {"attend": "come", "view": 1.0, "salience": 1.0, "share": items[:1]}),
            (o, {"follow": 1.0, "publish": True, "agenda": "need"}),
            (a, {"act": "facilitate"}),
            (g, {"act": "mobilise"}),
        ],
        [(a, {"act": "evidence"}), (g, {"act": "experiment"}), (o, {"agenda": "usual"})],
        [(a, {"act": "stay_out"}), (r, {"attend": "stay_away"})],
    ]
    play(ws, plans)
    recording = replays_exactly(ws, "main")
    assert [sorted(rd.plan) for rd in recording.rounds] == [
        sorted((r.agent, o.agent, a.agent, g.agent)),
        sorted((o.agent, a.agent, g.agent)),
        sorted((r.agent, a.agent)),
    ]
    simulated = GovernanceModel(tiny(), record=False)
    for _ in range(6):
        simulated.step()
    assert ws.model.outputs != simulated.outputs  # the choices changed the city
