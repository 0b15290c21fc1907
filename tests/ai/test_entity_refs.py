"""An action field typed as an entity reference is offered and checked as exactly the ids
the agent saw, with no ``FieldRole`` configured: a custom action is validated by default."""

from __future__ import annotations

import json
from typing import Annotated, ClassVar, Literal

import pytest

from ai import FULL_TIER, ActionStep, EntityRef, FieldRole, Refers, register_action
from ai.wire import (
    AgentSnapshot,
    MapBounds,
    Rejection,
    RejectReason,
    SeenEntity,
    SnapshotConfig,
    ValidPlan,
    batch_schema,
    lines_grammar,
    validate_plan,
    view_of,
)
from engine import TickmindError

BOUNDS = MapBounds(0, 0, 40, 40)


class Forage(ActionStep):
    act: Literal["forage"] = "forage"
    food: Annotated[int, Refers("object:food")]
    summary: ClassVar[str] = "walk to food `food` and pick it up"


class Greet(ActionStep):
    act: Literal["greet"] = "greet"
    who: EntityRef | None = None
    summary: ClassVar[str] = "wave at `who` (default: nobody in particular)"


@pytest.fixture(autouse=True)
def actions() -> None:
    register_action(Forage)
    register_action(Greet)


def forager() -> AgentSnapshot:
    return AgentSnapshot(
        1, 0, 0, 10.0, 10.0, BOUNDS,
        enemies=(SeenEntity(7, 20, 10),),
        allies=(SeenEntity(2, 11, 10),),
        objects=(SeenEntity(4, 12, 12, "food"), SeenEntity(5, 13, 13, "rock"), SeenEntity(6, 14, 14, "food")),
        allowed=("forage", "greet", "wait"),
    )


def test_a_plan_naming_an_entity_the_agent_did_not_see_is_rejected() -> None:
    for bad in (999, 5):  # nobody, and an object of another kind
        verdict = validate_plan([{"act": "forage", "food": bad}], forager())
        assert isinstance(verdict, Rejection), bad
        assert verdict.reason_code is RejectReason.TARGET_NOT_VISIBLE
        assert verdict.detail == f"step 1: forage.food = {bad} is not listed for this agent"
    assert validate_plan([{"act": "forage", "food": 6}], forager()) == ValidPlan(1, (Forage(food=6),))


def test_an_any_entity_reference_takes_whatever_the_agent_saw_and_its_default() -> None:
    for seen in (7, 2, 4, 5, None):
        entry = [{"act": "greet", "who": seen}] if seen is not None else [{"act": "greet"}]
        assert isinstance(validate_plan(entry, forager()), ValidPlan), seen
    assert isinstance(validate_plan([{"act": "greet", "who": 3}], forager()), Rejection)


def test_the_schema_and_grammar_offer_exactly_the_seen_ids() -> None:
    schema = json.dumps(batch_schema([forager()]))
    assert '"food": {"enum": [4, 6]}' in schema
    assert '"who": {"enum": [7, 2, 4, 5, 6, null]}' in schema
    grammar = lines_grammar([view_of(forager(), FULL_TIER)], max_steps=3)
    assert 'a0-forage-food ::= "4" | "6"\n' in grammar
    assert 'a0-greet-who ::= "7" | "2" | "4" | "5" | "6" | "-"\n' in grammar


def test_an_agent_that_sees_no_food_is_not_offered_forage() -> None:
    hungry = AgentSnapshot(1, 0, 0, 10.0, 10.0, BOUNDS, allowed=("forage", "wait"))
    assert view_of(hungry, FULL_TIER).actions == ("wait",)


def test_a_game_role_overrides_the_declared_one() -> None:
    narrower = SnapshotConfig(bounds=BOUNDS, roles=(FieldRole("greet", "who", "ally"),))
    snap = AgentSnapshot(**{**forager().__dict__, "roles": narrower.roles})
    assert isinstance(validate_plan([{"act": "greet", "who": 2}], snap), ValidPlan)
    assert isinstance(validate_plan([{"act": "greet", "who": 7}], snap), Rejection)


def test_a_bad_reference_declaration_fails_when_the_action_is_declared() -> None:
    with pytest.raises(TickmindError, match="unknown pool 'foods'"):
        Refers("foods")

    class Misplaced(ActionStep):
        act: Literal["misplaced"] = "misplaced"
        where: Annotated[float, Refers("object")]

    with pytest.raises(TickmindError, match="Misplaced.where: Refers marks an int field"):
        register_action(Misplaced)
