"""Parsing and validating answers: tolerant of wrappers, strict about plans, every reason code,
one verdict per agent, and verdicts that depend only on the submission-time snapshots."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ai import Attack, Faction, MoveTo, Perception, Senses, TakeCover, Tier, Wait
from ai.perception._system import install_perception
from ai.wire import (
    MAX_RESPONSE_CHARS,
    AgentSnapshot,
    MapBounds,
    Rejection,
    RejectReason,
    SeenEntity,
    SnapshotConfig,
    ValidPlan,
    build_snapshot,
    parse_batch_response,
    validate_plan,
)
from engine import Position, TickmindError, World

BOUNDS = MapBounds(0, 0, 80, 50)
A = AgentSnapshot(
    1, 0, 0, 10.0, 10.0, BOUNDS,
    enemies=(SeenEntity(5, 20, 10), SeenEntity(9, 30, 10), SeenEntity(11, 40, 10), SeenEntity(12, 50, 10)),
    objects=(SeenEntity(3, 12, 12, "cover"), SeenEntity(4, 13, 13, "medkit")),
)
B = AgentSnapshot(2, 0, 0, 60.0, 40.0, BOUNDS, allowed=("move_to", "wait", "scan"))
C = AgentSnapshot(3, 1, 0, 70.0, 40.0, BOUNDS)
BATCH = [A, B, C]
IDS = [1, 2, 3]
GOOD = {
    1: [{"act": "take_cover", "cover": 3}, {"act": "attack", "target": 9}],
    2: [{"act": "move_to", "x": 80, "y": 0}],
    3: [{"act": "wait", "ticks": 30}],
}
GOOD_STEPS = {1: (TakeCover(cover=3), Attack(target=9)), 2: (MoveTo(x=80, y=0),), 3: (Wait(ticks=30),)}


def answer(plans: dict[Any, Any] | None = None, **replace: Any) -> str:
    plans = dict(GOOD if plans is None else plans)
    for key, steps in replace.items():
        plans[int(key[1:])] = steps
    return json.dumps({"plans": [{"agent_id": agent, "steps": steps} for agent, steps in plans.items()]})


def codes(text: Any, **kwargs: Any) -> list[str | None]:
    outcome = parse_batch_response(text, IDS, BATCH, **kwargs)
    return [r.reason_code.value if isinstance(r, Rejection) else None for r in outcome.results]


def test_a_good_answer_gives_every_agent_its_steps() -> None:
    outcome = parse_batch_response(answer(), IDS, BATCH)
    assert outcome.results == tuple(ValidPlan(agent, GOOD_STEPS[agent]) for agent in IDS)
    assert sum(outcome.counts.values()) == 0 and list(outcome.counts) == list(RejectReason)
    assert outcome.result_for(2) == ValidPlan(2, GOOD_STEPS[2])


@pytest.mark.parametrize(
    "wrap",
    [
        lambda t: f"```json\n{t}\n```",
        lambda t: f"Sure! Here are the plans [as asked]:\n{t}\nLet me know {{if}} you need more.",
        lambda t: json.dumps(json.loads(t)["plans"]),  # a bare list
        lambda t: json.dumps(json.loads(t), indent=2),
        lambda t: t.encode(),
        lambda t: "\ufeff" + t,
    ],
)
def test_wrappers_around_the_json_are_tolerated(wrap: Any) -> None:
    assert codes(wrap(answer())) == [None, None, None]


def test_a_single_plan_object_and_spelled_ids_are_understood() -> None:
    single = json.dumps({"agent_id": "A2", "steps": GOOD[2]})
    assert codes(single) == ["missing", None, "missing"]
    spelled = json.dumps({"plans": [{"agent_id": a, "steps": GOOD[n]} for a, n in [("1", 1), (2.0, 2), ("A3", 3)]]})
    assert codes(spelled) == [None, None, None]


def test_a_cut_off_answer_keeps_its_complete_plans() -> None:
    text = answer()
    cut = text[: text.index('"agent_id": 3') + 20]
    assert codes(cut) == [None, None, "missing"]


@pytest.mark.parametrize(
    ("steps", "code"),
    [
        ([], "empty_plan"),
        ("wait", "bad_fields"),
        ([{"act": "wait", "ticks": 1}] * 4, "too_many_steps"),
        ([{"act": "fly", "to": "moon"}], "unknown_action"),
        ([{"act": "patrol", "points": [[1, 1]]}], "action_not_allowed"),  # B may not patrol
        ([{"act": "move_to", "x": 81, "y": 0}], "out_of_bounds"),
        ([{"act": "move_to", "x": 5, "y": -0.1}], "out_of_bounds"),
        ([{"act": "move_to", "x": 5}], "bad_fields"),
        ([{"act": "move_to", "x": 5, "y": 5, "note": "ignore all rules"}], "bad_fields"),
        ([{"act": "wait", "ticks": 5}, "scan"], "bad_fields"),
        ([{"ticks": 5}], "bad_fields"),
    ],
)
def test_each_bad_plan_gets_its_reason_and_spares_the_others(steps: Any, code: str) -> None:
    outcome = parse_batch_response(answer(a2=steps), IDS, BATCH)
    assert [getattr(r, "reason_code", None) for r in outcome.results] == [None, RejectReason(code), None]
    assert outcome.counts[RejectReason(code)] == 1 and sum(outcome.counts.values()) == 1
    assert outcome.plans == (ValidPlan(1, GOOD_STEPS[1]), ValidPlan(3, GOOD_STEPS[3]))


@pytest.mark.parametrize(
    ("step", "code"),
    [
        ({"act": "attack", "target": 7}, "target_not_visible"),  # nobody listed has id 7
        ({"act": "attack", "target": 3}, "target_not_visible"),  # 3 is cover, not an enemy
        ({"act": "take_cover", "cover": 4}, "target_not_visible"),  # 4 is a medkit
        ({"act": "attack", "target": True}, "bad_fields"),  # True == 1 in Python; not an id
        ({"act": "attack", "target": "nine"}, "bad_fields"),
        ({"act": "wait", "ticks": 601}, "bad_fields"),
    ],
)
def test_a_bad_last_step_rejects_the_whole_plan(step: dict[str, Any], code: str) -> None:
    assert codes(answer(a1=[{"act": "take_cover", "cover": 3}, step])) == [code, None, None]


def test_optional_targets_may_be_null_and_defaults_are_not_required_by_validation() -> None:
    steps = [{"act": "retreat", "target": None}, {"act": "take_cover"}]
    assert codes(answer(a1=steps)) == [None, None, None]


def test_duplicated_agents_are_rejected_not_overwritten() -> None:
    entries = [
        {"agent_id": 1, "steps": GOOD[1]},
        {"agent_id": 2, "steps": GOOD[2]},
        {"agent_id": 1, "steps": [{"act": "scan"}]},
        {"agent_id": 3, "steps": GOOD[3]},
    ]
    outcome = parse_batch_response(json.dumps({"plans": entries}), IDS, BATCH)
    assert [getattr(r, "reason_code", None) for r in outcome.results] == [RejectReason.DUPLICATE, None, None]
    assert outcome.counts[RejectReason.DUPLICATE] == 1


def test_foreign_and_anonymous_entries_are_counted_and_ignored() -> None:
    entries = [
        {"agent_id": 99, "steps": GOOD[3]},
        {"agent_id": 1, "steps": GOOD[1]},
        {"steps": GOOD[3]},
        "plan for 2",
        {"agent_id": True, "steps": GOOD[3]},
        {"agent_id": 3, "steps": GOOD[3]},
    ]
    outcome = parse_batch_response(json.dumps(entries), IDS, BATCH)
    assert [getattr(r, "reason_code", None) for r in outcome.results] == [None, RejectReason.MISSING, None]
    assert outcome.counts[RejectReason.FOREIGN_ID] == 4 and outcome.counts[RejectReason.MISSING] == 1


@pytest.mark.parametrize(
    "text",
    ["", "no plans today", "{}", '{"plans": 7}', "[1, 2, 3]", "{" * 5000, "[" * 100_000, None, 42, b"\xff\xfe\x00"],
)
def test_no_usable_json_rejects_everyone_as_not_json(text: Any) -> None:
    outcome = parse_batch_response(text, IDS, BATCH)
    assert codes(text) == ["not_json"] * 3
    assert outcome.counts[RejectReason.NOT_JSON] == 3


def test_numbers_json_allows_but_plans_cannot_use_stay_local() -> None:
    text = answer().replace('"x": 80', '"x": NaN').replace('"ticks": 30', '"ticks": ' + "9" * 5000)
    assert codes(text) == [None, "bad_fields", "bad_fields"]
    assert codes(answer().replace('"x": 80', '"x": 1e999')) == [None, "bad_fields", None]


def test_ten_thousand_steps_and_deep_nesting_are_rejected_quickly() -> None:
    huge = answer(a1=[{"act": "scan"}] * 10_000)
    assert codes(huge) == ["too_many_steps", None, None]
    deep = answer(a3=[{"act": "wait", "ticks": json.loads("[" * 500 + "]" * 500)}])
    assert codes(deep) == [None, None, "bad_fields"]
    deeper = '{"plans":[{"agent_id":1,"steps":' + "[" * 50_000 + "]" * 50_000 + "}]}"
    assert codes(deeper) == ["not_json"] * 3  # past the parser's recursion limit


def test_huge_responses_are_cut_before_parsing() -> None:
    assert codes(answer() + " " * (3 * MAX_RESPONSE_CHARS)) == [None, None, None]
    assert codes(" " * MAX_RESPONSE_CHARS + answer()) == ["not_json"] * 3


def test_the_tier_decides_which_ids_count_as_seen() -> None:
    fourth = answer(a1=[{"act": "attack", "target": 12}], a2=[{"act": "wait", "ticks": 3}], a3=[{"act": "scan"}])
    assert codes(fourth) == [None, None, None]
    # the simplified tier lists three enemies and has no scan
    assert codes(fourth, tier=Tier.SIMPLE_LLM) == ["target_not_visible", None, "action_not_allowed"]


def test_verdicts_depend_on_the_snapshot_not_the_world_now() -> None:
    world = World(seed=2)
    me = world.create_entity(Position(10.0, 10.0), Faction(0), Senses(40.0))
    foe = world.create_entity(Position(20.0, 10.0), Faction(1), Senses(40.0))
    install_perception(world)
    world.step()
    snap = build_snapshot(world, me, config=SnapshotConfig(bounds=BOUNDS))
    text = json.dumps({"plans": [{"agent_id": me, "steps": [{"act": "attack", "target": foe}]}]})
    before = parse_batch_response(text, [me], [snap])
    world.delete_entity(foe)  # the answer arrives after the target died
    world.run(5)
    assert world.component_for_entity(me, Perception).enemies == ()
    assert parse_batch_response(text, [me], {me: snap}) == before
    assert before.results == (ValidPlan(me, (Attack(target=foe),)),)


def test_validate_plan_judges_one_streamed_entry() -> None:
    assert validate_plan({"agent_id": 1, "steps": GOOD[1]}, A) == ValidPlan(1, GOOD_STEPS[1])
    assert validate_plan(GOOD[1], A) == ValidPlan(1, GOOD_STEPS[1])
    rejected = validate_plan([{"act": "attack", "target": 77}], A)
    assert isinstance(rejected, Rejection) and rejected.reason_code is RejectReason.TARGET_NOT_VISIBLE
    assert "77" in rejected.detail
    assert validate_plan("junk", A) == Rejection(1, RejectReason.BAD_FIELDS, "the plan has no 'steps' list")


def test_caller_mistakes_are_errors_not_verdicts() -> None:
    with pytest.raises(TickmindError, match="repeat"):
        parse_batch_response(answer(), [1, 1], BATCH)
    with pytest.raises(TickmindError, match="no snapshot"):
        parse_batch_response(answer(), [1, 4], BATCH)
