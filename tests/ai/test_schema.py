"""The per-batch schema: its exact shape, tightened ids and coordinates, and agreement with
the validator — every answer the schema admits is a valid plan, and foreign ids or points
off the map fail both."""

from __future__ import annotations

import json
from typing import Any, Literal

import jsonschema  # type: ignore[import-untyped]
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from ai import ActionStep, Tier, action_names, parse_step, register_action
from ai.wire import (
    DEFAULT_ROLES,
    SIMPLE_TIER,
    AgentSnapshot,
    FieldRole,
    MapBounds,
    RejectReason,
    SeenEntity,
    TierProfile,
    ValidPlan,
    action_schema,
    batch_schema,
    parse_batch_response,
    view_of,
)
from engine import TickmindError

BOUNDS = MapBounds(0, 0, 80, 50)
VALIDATOR = jsonschema.Draft202012Validator


class Gear(BaseModel):
    kind: Literal["rope", "torch"]


class SchemaProbe(ActionStep):
    """A user action: nested model ($ref), a field called ``title``, a bounded int."""

    act: Literal["schema_probe"] = "schema_probe"
    level: int = Field(ge=0, le=3)
    title: str = Field(max_length=8)
    gear: Gear
    spot: tuple[float, float]
    friend: int | None = None


@pytest.fixture(autouse=True)
def _probe_is_registered() -> None:
    """Registered per test; the suite's conftest unregisters it after each one."""
    register_action(SchemaProbe)


PROBE_ROLES = (*DEFAULT_ROLES, FieldRole("schema_probe", "spot", "point"), FieldRole("schema_probe", "friend", "ally|object:medkit"))


def snap(agent_id: int = 1, **kwargs: Any) -> AgentSnapshot:
    return AgentSnapshot(agent_id, 0, 0, 10.0, 10.0, kwargs.pop("bounds", BOUNDS), **kwargs)


SKIRMISH = snap(
    enemies=(SeenEntity(5, 20, 10), SeenEntity(9, 30, 10), SeenEntity(11, 40, 10), SeenEntity(12, 50, 10)),
    allies=(SeenEntity(7, 11, 11),),
    objects=(SeenEntity(3, 12, 12, "cover"), SeenEntity(4, 13, 13, "medkit")),
)


def step_options(schema: dict[str, Any], agent_index: int = 0) -> dict[str, dict[str, Any]]:
    items = schema["properties"]["plans"]["prefixItems"][agent_index]["properties"]["steps"]["items"]
    return {option["properties"]["act"]["const"]: option for option in items.get("anyOf", [items])}


def walk(node: Any) -> list[tuple[str, Any]]:
    if isinstance(node, dict):
        return [(k, v) for k, v in node.items()] + [kv for v in node.values() for kv in walk(v)]
    if isinstance(node, list):
        return [kv for v in node for kv in walk(v)]
    return []


# --- shape ---------------------------------------------------------------------------------


def test_one_const_entry_per_agent_in_order_without_items_false() -> None:
    batch = [snap(30), snap(4), SKIRMISH]
    schema = batch_schema(batch, max_steps=2)
    VALIDATOR.check_schema(schema)
    plans = schema["properties"]["plans"]
    assert [e["properties"]["agent_id"] for e in plans["prefixItems"]] == [{"const": 30}, {"const": 4}, {"const": 1}]
    assert plans["minItems"] == plans["maxItems"] == 3 and "items" not in plans
    assert schema["required"] == ["plans"] and schema["additionalProperties"] is False
    steps = plans["prefixItems"][0]["properties"]["steps"]
    assert (steps["minItems"], steps["maxItems"]) == (1, 2)
    annotations = {k for k, v in walk(batch_schema([SKIRMISH])) if not isinstance(v, dict) or k.startswith("$")}
    assert not annotations & {"$ref", "$defs", "title", "default", "description"}
    for option in step_options(schema).values():
        assert option["additionalProperties"] is False
        assert option["required"] == list(option["properties"])
        assert next(iter(option["properties"])) == "act"
    assert json.dumps(batch_schema(batch, max_steps=2)) == json.dumps(schema)  # same bytes each time


def test_ids_are_enums_of_listed_entities_and_coordinates_are_bounded() -> None:
    options = step_options(batch_schema([SKIRMISH]))
    assert options["attack"]["properties"]["target"] == {"enum": [5, 9, 11, 12]}
    assert options["approach"]["properties"]["target"] == {"enum": [5, 9, 11, 12]}
    assert options["retreat"]["properties"]["target"] == {"enum": [5, 9, 11, 12, None]}
    assert options["take_cover"]["properties"]["cover"] == {"enum": [3, None]}
    assert options["move_to"]["properties"]["x"] == {"type": "integer", "minimum": 0, "maximum": 80}
    assert options["move_to"]["properties"]["y"] == {"type": "integer", "minimum": 0, "maximum": 50}
    point = options["patrol"]["properties"]["points"]
    assert (point["minItems"], point["maxItems"]) == (1, 8)
    assert point["items"]["prefixItems"][1] == {"type": "integer", "minimum": 0, "maximum": 50}
    assert options["wait"]["properties"]["ticks"] == {"type": "integer", "minimum": 1, "maximum": 600}
    fractional = step_options(batch_schema([snap(bounds=MapBounds(0.5, 0, 80.25, 50))]))
    assert fractional["move_to"]["properties"]["x"] == {"type": "integer", "minimum": 1, "maximum": 80}
    exact = step_options(batch_schema([SKIRMISH], tier=TierProfile(Tier.LLM, integer_coords=False)))
    assert exact["move_to"]["properties"]["x"] == {"type": "number", "minimum": 0, "maximum": 80}


def test_actions_needing_an_unseen_target_are_left_out() -> None:
    options = step_options(batch_schema([snap()]))
    assert "attack" not in options and "approach" not in options
    # An optional id field needs a candidate too: "retreat from the nearest enemy" with no
    # enemy in sight, or "the nearest cover" with none, is a plan that does nothing or fails.
    assert "retreat" not in options and "take_cover" not in options
    assert set(options) == set(action_names()) - {"attack", "approach", "retreat", "take_cover"}


def test_simple_tier_offers_fewer_actions_and_lists_fewer_ids() -> None:
    options = step_options(batch_schema([SKIRMISH], tier=Tier.SIMPLE_LLM))
    assert set(options) == set(SIMPLE_TIER.actions or ())
    assert options["attack"]["properties"]["target"] == {"enum": [5, 9, 11]}
    steps = batch_schema([SKIRMISH], tier=Tier.SIMPLE_LLM)["properties"]["plans"]["prefixItems"][0]
    assert steps["properties"]["steps"]["maxItems"] == SIMPLE_TIER.max_steps


def test_game_restrictions_narrow_the_union() -> None:
    options = step_options(batch_schema([snap(enemies=SKIRMISH.enemies, allowed=("attack", "wait"))]))
    assert list(options) == ["attack", "wait"]
    single = batch_schema([snap(allowed=("scan",))])["properties"]["plans"]["prefixItems"][0]
    assert single["properties"]["steps"]["items"]["properties"]["act"] == {"const": "scan"}  # no anyOf of one


def test_user_actions_keep_their_pydantic_schema_unless_given_roles() -> None:
    plain = action_schema("schema_probe", view_of(SKIRMISH, Tier.LLM))["properties"]
    assert plain["level"] == {"type": "integer", "minimum": 0, "maximum": 3}
    assert plain["title"] == {"type": "string", "maxLength": 8}  # a field named "title" survives
    assert plain["gear"]["properties"]["kind"] == {"enum": ["rope", "torch"], "type": "string"}
    assert plain["friend"] == {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    roled = snap(allies=SKIRMISH.allies, objects=SKIRMISH.objects, roles=PROBE_ROLES)
    tight = action_schema("schema_probe", view_of(roled, Tier.LLM))["properties"]
    assert tight["friend"] == {"enum": [7, 4, None]}
    assert tight["spot"]["prefixItems"][0] == {"type": "integer", "minimum": 0, "maximum": 80}


def test_impossible_requests_are_refused() -> None:
    with pytest.raises(TickmindError, match="no action it can take"):
        batch_schema([snap(allowed=("attack",))])
    with pytest.raises(TickmindError, match="does not have"):
        batch_schema([snap(roles=(*DEFAULT_ROLES, FieldRole("wait", "seconds", "x")))])
    for bad in ([], [snap(1), snap(1)]):
        with pytest.raises(TickmindError):
            batch_schema(bad)
    with pytest.raises(TickmindError):
        batch_schema([snap()], max_steps=0)


# --- the schema and the validator agree ----------------------------------------------------


def instances(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values of the JSON-schema subset batch_schema emits."""
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of([instances(option) for option in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "integer":
        return st.integers(schema.get("minimum", -99), schema.get("maximum", 99))
    if kind == "number":
        return st.floats(schema.get("minimum", -99), schema.get("maximum", 99))
    if kind == "string":
        return st.text(max_size=schema.get("maxLength", 8))
    if kind == "array" and "prefixItems" in schema:
        return st.tuples(*(instances(item) for item in schema["prefixItems"])).map(list)
    if kind == "array":
        return st.lists(instances(schema["items"]), min_size=schema.get("minItems", 0), max_size=schema.get("maxItems", 3))
    assert kind == "object", schema
    return st.fixed_dictionaries({key: instances(value) for key, value in schema["properties"].items()})


KINDS = ("cover", "medkit", "crate")


@st.composite
def snapshots(draw: st.DrawFn, agent_id: int, width: int, height: int) -> AgentSnapshot:
    ids = draw(st.lists(st.integers(2, 400), unique=True, max_size=14))
    cut1, cut2 = sorted(draw(st.tuples(st.integers(0, len(ids)), st.integers(0, len(ids)))))
    x, y = st.integers(0, width), st.integers(0, height)

    def seen(group: list[int], kinds: bool) -> tuple[SeenEntity, ...]:
        return tuple(SeenEntity(i, draw(x), draw(y), draw(st.sampled_from(KINDS)) if kinds else "") for i in group)

    allowed = draw(st.sets(st.sampled_from(action_names()))) | {"wait"}
    return AgentSnapshot(
        agent_id, 0, 0, float(draw(x)), float(draw(y)), MapBounds(0, 0, width, height),
        enemies=seen(ids[:cut1], False), allies=seen(ids[cut1:cut2], False), objects=seen(ids[cut2:], True),
        allowed=tuple(a for a in action_names() if a in allowed), roles=PROBE_ROLES,
    )


@st.composite
def batches(draw: st.DrawFn) -> list[AgentSnapshot]:
    """One to three agents of one world (so one map)."""
    width, height = draw(st.integers(5, 200)), draw(st.integers(5, 200))
    return [draw(snapshots(1000 + i, width, height)) for i in range(draw(st.integers(1, 3)))]



tiers = st.sampled_from([Tier.LLM, Tier.SIMPLE_LLM, TierProfile(Tier.LLM, max_listed=2, integer_coords=False)])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches(), tiers, st.data())
def test_every_answer_the_schema_admits_validates(
    batch: list[AgentSnapshot], tier: Tier | TierProfile, data: st.DataObject
) -> None:
    schema = batch_schema(batch, tier=tier)
    answer = data.draw(instances(schema))
    VALIDATOR(schema).validate(answer)
    outcome = parse_batch_response(json.dumps(answer), [s.agent_id for s in batch], batch, tier=tier)
    assert outcome.rejections == ()
    for result, entry in zip(outcome.results, answer["plans"], strict=True):
        assert isinstance(result, ValidPlan)
        assert result.steps == tuple(parse_step(step) for step in entry["steps"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches(), st.data())
def test_foreign_ids_and_points_off_the_map_fail_both(batch: list[AgentSnapshot], data: st.DataObject) -> None:
    schema = batch_schema(batch)
    answer = data.draw(instances(schema))
    victim = data.draw(st.integers(0, len(batch) - 1))
    shown = view_of(batch[victim], Tier.LLM)
    bounds = batch[victim].bounds
    how = data.draw(st.sampled_from(["foreign", "off_map"]))
    if how == "foreign":
        listed = {e.id for e in (*shown.enemies, *shown.allies, *shown.objects)}
        stranger = data.draw(st.integers(1, 10_000).filter(lambda i: i not in listed))
        act = "retreat" if "retreat" in shown.permitted and "attack" not in shown.permitted else "attack"
        bad = {"act": act, "target": stranger}
        reason = RejectReason.TARGET_NOT_VISIBLE if act in shown.permitted else RejectReason.ACTION_NOT_ALLOWED
    else:
        off = data.draw(st.sampled_from([(-1, 0), (0, -1), (bounds.x_max + 1, 0), (0, bounds.y_max + 0.5)]))
        bad = {"act": "move_to", "x": off[0], "y": off[1]}
        reason = RejectReason.OUT_OF_BOUNDS if "move_to" in shown.permitted else RejectReason.ACTION_NOT_ALLOWED
    answer["plans"][victim]["steps"][-1] = bad
    assert not VALIDATOR(schema).is_valid(answer)
    outcome = parse_batch_response(json.dumps(answer), [s.agent_id for s in batch], batch)
    rejected = outcome.results[victim]
    assert getattr(rejected, "reason_code", None) is reason
    assert all(isinstance(r, ValidPlan) for i, r in enumerate(outcome.results) if i != victim)


def test_answers_out_of_order_or_too_long_fail_the_schema_but_not_all_of_validation() -> None:
    batch = [snap(1), snap(2)]
    schema = batch_schema(batch, max_steps=1)
    wait = {"act": "wait", "ticks": 5}
    swapped = {"plans": [{"agent_id": 2, "steps": [wait]}, {"agent_id": 1, "steps": [wait]}]}
    assert not VALIDATOR(schema).is_valid(swapped)
    # The grammar forbids reordering; without a grammar the validator still matches by id.
    assert len(parse_batch_response(json.dumps(swapped), [1, 2], batch, max_steps=1).plans) == 2
    long = {"plans": [{"agent_id": 1, "steps": [wait, wait]}, {"agent_id": 2, "steps": [wait]}]}
    assert not VALIDATOR(schema).is_valid(long)
    outcome = parse_batch_response(json.dumps(long), [1, 2], batch, max_steps=1)
    assert [getattr(r, "reason_code", None) for r in outcome.results] == [RejectReason.TOO_MANY_STEPS, None]
