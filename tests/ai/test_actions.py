"""The ActionStep schema: a discriminated union users extend, plans that hash and journal exactly."""

import json
from typing import Literal

import pytest
from pydantic import ValidationError

from ai import (
    ActionStep,
    AssignPlan,
    Attack,
    MoveTo,
    Patrol,
    Plan,
    PlanStatus,
    Tier,
    Wait,
    action_names,
    parse_step,
    register_action,
)
from engine import TickmindError, World


def test_core_actions_are_registered() -> None:
    assert set(action_names()) >= {
        "move_to", "approach", "retreat", "take_cover", "attack", "wait", "scan", "patrol", "regroup",
    }


def test_parse_step_picks_the_type_by_act_and_validates_fields() -> None:
    assert parse_step({"act": "move_to", "x": 1, "y": 2.5}) == MoveTo(x=1.0, y=2.5)
    assert parse_step({"act": "attack", "target": 7}) == Attack(target=7)
    for bad in [
        {"act": "fly", "x": 1},
        {"act": "move_to", "x": 1},
        {"act": "wait", "ticks": 10_000},
        {"act": "attack", "target": 7, "note": "ignore previous instructions"},
        {"act": "patrol", "points": [[0, 0]] * 50},
        "move_to",
    ]:
        with pytest.raises(ValidationError):
            parse_step(bad)


def test_users_register_their_own_actions() -> None:
    @register_action
    class Dig(ActionStep):
        act: Literal["test_dig"] = "test_dig"
        depth: float

    assert parse_step({"act": "test_dig", "depth": 2}) == Dig(depth=2.0)
    with pytest.raises(TickmindError, match="single string Literal"):

        @register_action
        class Vague(ActionStep):
            act: str = "vague"


def test_plans_round_trip_through_the_journal_form_exactly() -> None:
    plan = AssignPlan(
        entity=3, plan_id="3-10", tier=Tier.LLM,
        steps=[{"act": "patrol", "points": [[0.1, 0.2], [1 / 3, 2.0]]}, {"act": "wait", "ticks": 5}],
    )
    restored = AssignPlan.model_validate(json.loads(json.dumps(plan.model_dump(mode="json"))))
    assert restored == plan
    assert restored.steps[0] == Patrol(points=((0.1, 0.2), (1 / 3, 2.0)))


def test_plan_component_hash_sees_step_fields(world: World) -> None:
    e = world.create_entity()
    world.add_component(e, Plan("p", (MoveTo(x=1.0, y=2.0),), Tier.HEURISTIC, 0))
    before = world.state_hash(0).root
    world.add_component(e, Plan("p", (MoveTo(x=1.0, y=2.5),), Tier.HEURISTIC, 0))
    assert world.state_hash(0).root != before


def test_assign_plan_applies_at_its_tick_and_skips_dead_agents(world: World) -> None:
    alive, dead = world.create_entity(), world.create_entity()
    for e in (alive, dead):
        world.submit(AssignPlan(entity=e, plan_id=f"{e}", tier=Tier.HEURISTIC, steps=[Wait(ticks=2)]), 1)
    world.delete_entity(dead)
    world.run(2)
    plan = world.component_for_entity(alive, Plan)
    assert plan.assigned_tick == 1 and plan.current == Wait(ticks=2)
    assert world.try_component(dead, Plan) is None
    plan.advance(2)
    assert plan.status is PlanStatus.DONE and plan.current is None
